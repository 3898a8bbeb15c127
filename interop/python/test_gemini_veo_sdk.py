"""Veo on Vertex AI through google-genai's `models.generate_videos` (3.6.1 speaks it on Vertex only):
the operation is polled with `operations.get` (`:fetchPredictOperation`) until done, by the
fixture's progression; the videos are the fixture's uri or bytes, or a placeholder MP4 made by the
server; a failed job is an operation with an error; bad requests and misses are typed errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from google import genai
from google.genai import errors, types
from media_support import mp4_summary

MODEL = "veo-3.0-generate-001"
CLIP = b"\x00\x00\x00\x18ftypisom veo fixture bytes"

FIXTURES = {
    "fixtures": [
        {
            "match": {"userMessage": "[veo] a stored clip", "endpoint": "video"},
            "response": {"video": {"status": "completed", "url": "gs://bucket/clip.mp4", "pollsBeforeInProgress": 1}},
        },
        {
            "match": {"userMessage": "[veo] bytes", "endpoint": "video"},
            "response": {"video": {"status": "completed", "b64": base64.b64encode(CLIP).decode()}},
        },
        {"match": {"userMessage": "[veo] made here", "endpoint": "video"}, "response": {"video": {"status": "completed"}}},
        {
            "match": {"userMessage": "[veo] doomed", "endpoint": "video"},
            "response": {"video": {"status": "failed", "pollsBeforeCompleted": 2, "error": "Blocked by safety filters."}},
        },
        {
            "match": {"userMessage": "[veo] refused"},
            "response": {"error": {"message": "Quota exceeded.", "type": "RESOURCE_EXHAUSTED"}, "status": 429},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "veo.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture
def vertex(server: Any) -> genai.Client:
    return genai.Client(vertexai=True, api_key="test-key", http_options=types.HttpOptions(base_url=server.url, timeout=20_000))


def generate(client: genai.Client, prompt: str, **config: Any) -> types.GenerateVideosOperation:
    return client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt=prompt),
        config=types.GenerateVideosConfig(**config) if config else None,
    )


def test_the_operation_is_polled_until_done(server: Any, vertex: genai.Client) -> None:
    op = generate(vertex, "[veo] a stored clip", number_of_videos=2)
    assert op.name and "/operations/" in op.name and not op.done
    polls = []
    while not op.done:
        op = vertex.operations.get(op)
        polls.append(op.done)
        assert len(polls) < 5
    assert polls == [False, True]
    assert op.error is None and op.result is not None and op.result.generated_videos is not None
    videos = op.result.generated_videos
    assert len(videos) == 2
    assert videos[0].video is not None and videos[0].video.uri == "gs://bucket/clip.mp4"
    assert videos[0].video.mime_type == "video/mp4"
    # The submit was matched and journaled with its prompt.
    entry = [e for e in server.journal() if e["path"].endswith(":predictLongRunning")][-1]
    assert entry["response"]["status"] == 200 and "[veo] a stored clip" in json.dumps(entry["body"])


def test_the_fixtures_bytes_come_back_as_video_bytes(vertex: genai.Client) -> None:
    op = generate(vertex, "[veo] bytes")
    op = vertex.operations.get(op)
    assert op.done and op.result is not None and op.result.generated_videos
    video = op.result.generated_videos[0].video
    assert video is not None and video.video_bytes == CLIP


def test_without_a_uri_or_bytes_the_server_makes_an_mp4(vertex: genai.Client) -> None:
    op = vertex.operations.get(generate(vertex, "[veo] made here", duration_seconds=6, aspect_ratio="9:16"))
    assert op.done and op.result is not None and op.result.generated_videos
    video = op.result.generated_videos[0].video
    assert video is not None and video.video_bytes is not None
    m = mp4_summary(video.video_bytes)
    assert m["boxes"] == ["ftyp", "moov", "mdat"] and m["seconds"] == 6.0 and m["frame_in_mdat"]
    w, h = m["size"]  # type: ignore[misc]
    assert h > w


def test_a_failed_job_is_an_operation_with_an_error(vertex: genai.Client) -> None:
    op = generate(vertex, "[veo] doomed")
    op = vertex.operations.get(op)
    assert not op.done
    op = vertex.operations.get(op)
    assert op.done and op.error == {"code": 3, "message": "Blocked by safety filters."}
    assert op.result is None


def test_errors_are_typed(vertex: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as e:
        generate(vertex, "[veo] refused")
    assert e.value.code == 429
    with pytest.raises(errors.ClientError) as e:
        generate(vertex, "[veo] nothing matches")
    assert e.value.code == 404
    with pytest.raises(errors.ClientError) as e:
        generate(vertex, "[veo] made here", number_of_videos=9)
    assert e.value.code == 400
    ghost = types.GenerateVideosOperation(name=f"publishers/google/models/{MODEL}/operations/nope")
    with pytest.raises(errors.ClientError) as e:
        vertex.operations.get(ghost)
    assert e.value.code == 404
