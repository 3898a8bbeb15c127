"""The video job APIs with no pinned official SDK, driven over HTTP with httpx as their documented
wire formats (and aimock 1.43) have them: OpenRouter `/api/v1/videos`, xAI Grok Imagine
`/v1/videos/generations` (whose request ids share `GET /v1/videos/{id}` with Sora), BytePlus Ark
`/api/v3/contents/generations/tasks`, and Veo on the Gemini API (`:predictLongRunning` polled with
`GET /v1beta/{name}`), which google-genai 3.6.1 only speaks on Vertex AI."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from media_support import mp4_summary

CLIP = b"\x00\x00\x00\x18ftypisom router clip"
ARK_TASK = {
    "id": "cgt-recorded",
    "model": "seedance-1-0-pro-250528",
    "status": "succeeded",
    "content": {"video_url": "https://ark.example/video.mp4"},
    "usage": {"completion_tokens": 108900, "total_tokens": 108900},
    "created_at": 1743414619,
    "updated_at": 1743414673,
    "seed": 10,
    "framespersecond": 24,
}

FIXTURES = {
    "fixtures": [
        {
            "match": {"userMessage": "[or] a river", "model": "bytedance/seedance-2.0", "endpoint": "video"},
            "response": {
                "video": {
                    "status": "completed",
                    "b64": base64.b64encode(CLIP).decode(),
                    "cost": 0.42,
                    "pollsBeforeInProgress": 1,
                }
            },
        },
        {
            "match": {"userMessage": "[or] made here", "model": "openai/sora-2", "endpoint": "video"},
            "response": {"video": {"status": "completed"}},
        },
        {
            "match": {"userMessage": "[or] doomed", "endpoint": "video"},
            "response": {"video": {"status": "failed", "error": "Content policy violation"}},
        },
        {
            "match": {"userMessage": "[grok] a comet", "endpoint": "video"},
            "response": {
                "video": {
                    "status": "completed",
                    "url": "https://vidgen.x.ai/comet.mp4",
                    "duration": 6,
                    "cost": 0.05,
                    "pollsBeforeCompleted": 2,
                }
            },
        },
        {
            "match": {"userMessage": "[grok] doomed", "endpoint": "video"},
            "response": {"video": {"status": "failed", "error": "Rejected by moderation"}},
        },
        {
            "match": {"userMessage": "[ark] a guitar\n[media: ]", "endpoint": "video"},
            "response": {"json": ARK_TASK},
        },
        {
            "match": {"userMessage": "[ark] from a frame", "endpoint": "video"},
            "response": {"video": {"status": "completed", "url": "https://ark.example/frame.mp4", "pollsBeforeInProgress": 0}},
        },
        {
            "match": {"userMessage": "[veo] a meadow", "endpoint": "video"},
            "response": {"video": {"status": "completed", "url": "https://generativelanguage.googleapis.com/v1beta/files/abc", "pollsBeforeCompleted": 1}},
        },
        {
            "match": {"userMessage": "[video] throttled", "endpoint": "video"},
            "response": {"error": {"message": "Slow down.", "type": "rate_limit_exceeded"}, "status": 429},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "video-apis.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture
def http(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"}, timeout=20) as c:
        yield c


# -- OpenRouter -------------------------------------------------------------------------------


def test_openrouter_submit_poll_and_download(server: Any, http: httpx.Client) -> None:
    r = http.post("/api/v1/videos", json={"prompt": "[or] a river"})
    assert r.status_code == 200
    job = r.json()
    assert job["status"] == "pending" and job["polling_url"] == f"{server.url}/api/v1/videos/{job['id']}"
    statuses = []
    while True:
        p = httpx.get(job["polling_url"]).json()
        statuses.append(p["status"])
        if p["status"] in ("completed", "failed"):
            break
        assert len(statuses) < 5
    assert statuses == ["in_progress", "completed"]
    assert p["usage"] == {"cost": 0.42}
    (url,) = p["unsigned_urls"]
    assert url == f"{server.url}/api/v1/videos/{job['id']}/content?index=0"
    c = http.get(url)
    assert c.status_code == 200 and c.headers["content-type"] == "video/mp4" and c.content == CLIP
    # The content needs a bearer token.
    anon = httpx.get(url)
    assert anon.status_code == 401 and anon.json() == {"error": {"code": 401, "message": "No auth credentials found"}}


def test_openrouter_placeholder_failure_and_errors(http: httpx.Client) -> None:
    job = http.post("/api/v1/videos", json={"prompt": "[or] made here", "model": "openai/sora-2", "duration": 8}).json()
    assert http.get(f"/api/v1/videos/{job['id']}").json()["status"] == "completed"
    m = mp4_summary(http.get(f"/api/v1/videos/{job['id']}/content").content)
    assert m["seconds"] == 8.0 and m["frame_in_mdat"]
    failed = http.post("/api/v1/videos", json={"prompt": "[or] doomed"}).json()
    p = http.get(f"/api/v1/videos/{failed['id']}").json()
    assert (p["status"], p["error"]) == ("failed", "Content policy violation")
    assert http.get(f"/api/v1/videos/{failed['id']}/content").status_code == 400
    unknown = http.get("/api/v1/videos/nope")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404
    assert http.post("/api/v1/videos", json={"model": "x"}).status_code == 400
    assert http.post("/api/v1/videos", content=b"{not json").status_code == 400
    assert http.post("/api/v1/videos", json={"prompt": "[or] nothing matches"}).status_code == 404
    limited = http.post("/api/v1/videos", json={"prompt": "[video] throttled"})
    assert limited.status_code == 429 and limited.json()["error"]["message"] == "Slow down."


def test_openrouter_video_models_come_from_the_video_fixtures(http: httpx.Client) -> None:
    ids = [m["id"] for m in http.get("/api/v1/videos/models").json()["data"]]
    assert ids == ["bytedance/seedance-2.0", "openai/sora-2"]


# -- Grok Imagine -----------------------------------------------------------------------------


def test_grok_submit_and_poll_by_request_id(http: httpx.Client) -> None:
    r = http.post("/v1/videos/generations", json={"model": "grok-imagine-video", "prompt": "[grok] a comet"})
    assert r.status_code == 200
    rid = r.json()["request_id"]
    first = http.get(f"/v1/videos/{rid}").json()
    assert (first["status"], first["progress"]) == ("pending", 50) and "video" not in first
    done = http.get(f"/v1/videos/{rid}").json()
    assert done["status"] == "done" and done["progress"] == 100
    assert done["video"] == {"url": "https://vidgen.x.ai/comet.mp4", "duration": 6, "respect_moderation": True}
    assert done["usage"] == {"cost_in_usd_ticks": 500000000}
    assert done["model"] == "grok-imagine-video"


def test_grok_failures_and_errors(http: httpx.Client) -> None:
    rid = http.post("/v1/videos/generations", json={"prompt": "[grok] doomed"}).json()["request_id"]
    p = http.get(f"/v1/videos/{rid}").json()
    assert (p["status"], p["code"], p["error"]) == ("failed", "generation_failed", "Rejected by moderation")
    multipart = http.post("/v1/videos/generations", files={"prompt": (None, "[grok] a comet")})
    assert multipart.status_code == 400 and multipart.json()["code"] == "invalid_request"
    missing = http.post("/v1/videos/generations", json={})
    assert missing.status_code == 400 and "prompt" in missing.json()["error"]
    # An id that names no Grok request is Sora's unknown video.
    assert http.get("/v1/videos/00000000-0000-4000-8000-000000000000").status_code == 404


# -- BytePlus Ark -----------------------------------------------------------------------------

TASKS = "/api/v3/contents/generations/tasks"


def test_ark_replays_the_recorded_task_envelope(http: httpx.Client) -> None:
    r = http.post(TASKS, json={"model": "seedance-1-0-pro-250528", "content": [{"type": "text", "text": "[ark] a guitar"}]})
    assert r.status_code == 200
    tid = r.json()["id"]
    assert tid.startswith("cgt-")
    task = http.get(f"{TASKS}/{tid}").json()
    assert task == {**ARK_TASK, "id": tid}


def test_ark_progression_from_a_video_fixture(http: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "[ark] from a frame"},
        {"type": "image_url", "image_url": {"url": "https://img.example/first.png"}, "role": "first_frame"},
    ]
    tid = http.post(TASKS, json={"model": "seedance-1-0-lite-i2v", "content": content}).json()["id"]
    running = http.get(f"{TASKS}/{tid}").json()
    assert (running["id"], running["status"], running["model"]) == (tid, "running", "seedance-1-0-lite-i2v")
    assert "content" not in running
    done = http.get(f"{TASKS}/{tid}").json()
    assert done["status"] == "succeeded" and done["content"] == {"video_url": "https://ark.example/frame.mp4"}


def test_ark_errors(http: httpx.Client) -> None:
    assert http.get(f"{TASKS}/cgt-unknown").status_code == 404
    assert http.get(f"{TASKS}/cgt-unknown").json()["error"]["code"] == "ResourceNotFound"
    no_model = http.post(TASKS, json={"content": [{"type": "text", "text": "x"}]})
    assert no_model.status_code == 400 and "model" in no_model.json()["error"]["message"]
    assert http.post(TASKS, json={"model": "m", "content": []}).status_code == 400
    assert http.post(TASKS, json={"model": "m", "content": [{"type": "text", "text": "[ark] nothing"}]}).status_code == 404


# -- Veo on the Gemini API ----------------------------------------------------------------------


def test_veo_on_the_gemini_api(http: httpx.Client) -> None:
    r = http.post(
        "/v1beta/models/veo-2.0-generate-001:predictLongRunning",
        json={"instances": [{"prompt": "[veo] a meadow"}], "parameters": {"sampleCount": 1}},
        headers={"x-goog-api-key": "k"},
    )
    assert r.status_code == 200
    name = r.json()["name"]
    assert name.startswith("models/veo-2.0-generate-001/operations/")
    assert http.get(f"/v1beta/{name}").json() == {"name": name, "done": False}
    done = http.get(f"/v1beta/operations/{name.rsplit('/', 1)[1]}").json()
    assert done["done"] is True
    samples = done["response"]["generateVideoResponse"]["generatedSamples"]
    assert samples == [{"video": {"uri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}]
    missing = http.get("/v1beta/operations/nope")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    bad = http.post("/v1beta/models/veo-2.0-generate-001:predictLongRunning", json={"instances": []})
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_jobs_are_forgotten_by_reset(server: Any, http: httpx.Client) -> None:
    job = http.post("/api/v1/videos", json={"prompt": "[or] made here", "model": "openai/sora-2"}).json()
    server.reset()
    assert http.get(f"/api/v1/videos/{job['id']}").status_code == 404
