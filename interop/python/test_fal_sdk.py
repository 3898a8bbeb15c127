"""fal.ai through the official fal-client: the queue (submit, status with logs through
IN_QUEUE -> IN_PROGRESS -> COMPLETED, result, cancel), subscribe, the sync run and the typed errors;
then aimock's x-fal-target-host proxy convention and the legacy audio paths with plain httpx
(no SDK speaks those), each journaled, the state per server and forgotten by reset.

fal-client builds its URLs as https://{FAL_RUN_HOST}/ and https://{FAL_QUEUE_RUN_HOST}/ (module
constants computed from those environment variables at import). The server speaks plain HTTP, so
the tests set the two constants to the server's /fal/fal.run/ and /fal/queue.fal.run/ bases; every
later URL (status, result, cancel) is the one the server's submit answer gives."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import fal_client
import fal_client.client as fal_module
import httpx
import pytest

WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt fake audio bytes").decode()
IMAGE = {"url": "https://v3.fal.media/files/lighthouse.png", "width": 1024, "height": 768, "content_type": "image/png"}

FIXTURES = {
    "fixtures": [
        {
            "match": {"endpoint": "fal", "model": "fal-ai/flux/dev", "userMessage": "a lighthouse"},
            "response": {
                "json": {"images": [IMAGE], "seed": 42, "has_nsfw_concepts": [False], "prompt": "a lighthouse"},
                "billableUnits": 2,
                "falQueue": {"pollsBeforeInProgress": 2, "pollsBeforeCompleted": 4},
            },
        },
        {"match": {"endpoint": "fal", "userMessage": "queued forever"}, "response": {"json": {"never": True}, "falQueue": {"pollsBeforeInProgress": 1000}}},
        {
            "match": {"endpoint": "fal", "userMessage": "[refused]"},
            "response": {"error": {"message": "NSFW content detected in the prompt.", "type": "content_policy_violation"}, "status": 422},
        },
        {"match": {"endpoint": "fal", "model": "fal-ai/fast-sdxl"}, "response": {"json": {"images": [IMAGE], "seed": 7}}},
        {"match": {"endpoint": "fal-audio", "userMessage": "hello audio"}, "response": {"audio": WAV, "format": "wav"}},
        # A chat fixture never answers fal.
        {"match": {"userMessage": "[chat only]"}, "response": {"content": "words"}},
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "fal.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture(autouse=True)
def fal(server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """fal-client pointed at the server, with a key."""
    monkeypatch.setenv("FAL_KEY", "fal-test-key")
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", f"{server.url}/fal/queue.fal.run/")
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", f"{server.url}/fal/fal.run/")
    yield


def test_submit_status_progression_and_result(server: Any) -> None:
    handle = fal_client.submit("fal-ai/flux/dev", arguments={"prompt": "a lighthouse"})
    # The queue's URLs lead back to this server, without the model's subpath (as fal's do).
    assert handle.status_url == f"{server.url}/fal/queue.fal.run/fal-ai/flux/requests/{handle.request_id}/status"
    first = handle.status(with_logs=True)
    assert isinstance(first, fal_client.Queued) and first.position == 1
    second = handle.status(with_logs=True)
    assert isinstance(second, fal_client.InProgress)
    assert second.logs is not None and [log["message"] for log in second.logs] == ["Job enqueued.", "Job started processing."]
    third = handle.status(with_logs=False)
    assert isinstance(third, fal_client.InProgress) and third.logs is None
    done = handle.status(with_logs=True)
    assert isinstance(done, fal_client.Completed) and done.error is None
    assert done.logs is not None and done.logs[-1]["message"] == "Job completed." and done.logs[-1]["level"] == "INFO"
    assert done.metrics["inference_time"] >= 0
    result = handle.get()
    assert result["images"][0] == IMAGE and result["seed"] == 42
    # The completed result carries the request id and the fixture's billable units.
    raw = httpx.get(handle.response_url, headers={"Authorization": "Key fal-test-key"})
    assert raw.headers["x-fal-request-id"] == handle.request_id and raw.headers["x-fal-billable-units"] == "2"
    # The module-level status / result find it by application and id.
    assert isinstance(fal_client.status("fal-ai/flux/dev", handle.request_id), fal_client.Completed)
    assert fal_client.result("fal-ai/flux/dev", handle.request_id)["seed"] == 42


def test_subscribe_reports_each_update_and_returns_the_result() -> None:
    updates: list[Any] = []
    enqueued: list[str] = []
    result = fal_client.subscribe(
        "fal-ai/flux/dev",
        arguments={"prompt": "a lighthouse"},
        with_logs=True,
        interval=0.01,
        on_enqueue=enqueued.append,
        on_queue_update=updates.append,
    )
    assert result["images"][0]["url"] == IMAGE["url"]
    assert len(enqueued) == 1
    kinds = [type(u).__name__ for u in updates]
    assert kinds == ["Queued", "InProgress", "InProgress", "Completed"]
    # Without falQueue thresholds a request is done at submit.
    quick: list[Any] = []
    r = fal_client.subscribe("fal-ai/fast-sdxl", arguments={"prompt": "quick"}, on_queue_update=quick.append)
    assert r["seed"] == 7 and [type(u).__name__ for u in quick] == ["Completed"]


def test_run_answers_at_once() -> None:
    r = fal_client.run("fal-ai/fast-sdxl", arguments={"prompt": "quick"})
    assert r == {"images": [IMAGE], "seed": 7}


def test_cancel_a_queued_request_and_a_finished_one() -> None:
    handle = fal_client.submit("fal-ai/flux/schnell", arguments={"prompt": "queued forever"})
    assert isinstance(handle.status(), fal_client.Queued)
    handle.cancel()
    status = handle.status(with_logs=True)
    assert isinstance(status, fal_client.Completed) and status.error == "Request was cancelled."
    assert status.logs is not None and status.logs[-1]["message"] == "Job cancelled."
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        handle.get()
    assert e.value.status_code == 400 and e.value.error_type == "request_cancelled"
    # A finished request cannot be cancelled.
    done = fal_client.submit("fal-ai/fast-sdxl", arguments={"prompt": "quick"})
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        done.cancel()
    assert e.value.status_code == 400 and json.loads(e.value.message) == {"status": "ALREADY_COMPLETED"}
    assert e.value.response_headers["x-fal-request-id"] == done.request_id


def test_unknown_requests_errors_and_misses() -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        fal_client.status("fal-ai/flux/dev", "no-such-request")
    assert e.value.status_code == 404 and e.value.message == "Request no-such-request not found"
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        fal_client.cancel("fal-ai/flux/dev", "no-such-request")
    assert e.value.status_code == 404 and json.loads(e.value.message) == {"status": "NOT_FOUND"}
    # An error fixture, in fal's {"detail": ...}.
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        fal_client.run("fal-ai/flux/dev", arguments={"prompt": "[refused]"})
    assert e.value.status_code == 422 and e.value.message == "NSFW content detected in the prompt."
    # A chat fixture never answers a fal request: a miss.
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        fal_client.submit("fal-ai/flux/dev", arguments={"prompt": "[chat only]"})
    assert e.value.status_code == 404


def test_the_proxy_convention_keeps_aimocks_shape(server: Any) -> None:
    queue = {"x-fal-target-host": "queue.fal.run", "Authorization": "Key k"}
    with httpx.Client(base_url=server.url) as c:
        sub = c.post("/fal/fal-ai/flux/dev", headers=queue, json={"prompt": "a lighthouse"})
        assert sub.status_code == 200, sub.text
        env = sub.json()
        rid = env["request_id"]
        assert sub.headers["x-fal-request-id"] == rid
        assert env["status"] == "IN_QUEUE" and env["queue_position"] == 2
        assert env["response_url"] == f"https://queue.fal.run/fal-ai/flux/dev/requests/{rid}"
        assert env["status_url"] == env["response_url"] + "/status" and env["cancel_url"] == env["response_url"] + "/cancel"
        seen = [c.get(f"/fal/fal-ai/flux/dev/requests/{rid}/status?logs=1", headers=queue).json()["status"] for _ in range(3)]
        assert seen == ["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS"]
        # The fourth poll, a result request, completes it.
        res = c.get(f"/fal/fal-ai/flux/dev/requests/{rid}", headers=queue)
        assert res.status_code == 200 and res.json()["seed"] == 42 and res.headers["x-fal-billable-units"] == "2"
        assert c.put(f"/fal/fal-ai/flux/dev/requests/{rid}/cancel", headers=queue).json() == {"status": "ALREADY_COMPLETED"}
        # Another test id does not see it.
        other = c.get(f"/fal/fal-ai/flux/dev/requests/{rid}/status", headers={**queue, "X-Test-Id": "other"})
        assert other.status_code == 404
        run = c.post("/fal/fal-ai/fast-sdxl", headers={"x-fal-target-host": "fal.run"}, json={"prompt": "quick"})
        assert run.status_code == 200 and run.json()["seed"] == 7
        # Without the header (and not a legacy path) the path is not a fal endpoint.
        assert c.post("/fal/fal-ai/fast-sdxl", json={"prompt": "quick"}).status_code == 404
        assert c.post("/fal/fal-ai/fast-sdxl", headers=queue, content=b"{not json").status_code == 400


def test_the_legacy_audio_paths(server: Any) -> None:
    with httpx.Client(base_url=server.url) as c:
        sub = c.post("/fal/queue/submit/fal-ai/kokoro", json={"text": "hello audio"})
        assert sub.status_code == 200, sub.text
        env = sub.json()
        assert env["status_url"] == f"{server.url}/fal/queue/requests/{env['request_id']}/status"
        # fal-client's request handle follows the URLs the legacy submit gave.
        handle = fal_client.SyncRequestHandle(
            request_id=env["request_id"], response_url=env["response_url"], status_url=env["status_url"], cancel_url=env["cancel_url"], client=c
        )
        assert isinstance(handle.status(), fal_client.Completed)
        audio = handle.get()["audio"]
        assert audio["content_type"] == "audio/wav" and audio["file_name"] == "generated_audio.wav"
        assert audio["file_size"] == len(base64.b64decode(WAV))
        assert c.put(env["cancel_url"]).status_code == 400
        run = c.post("/fal/run/fal-ai/kokoro", json={"text": "hello audio"})
        assert run.status_code == 200 and run.json()["audio"]["content_type"] == "audio/wav"
        # A legacy body must be an object; the general fal fixtures are not fal-audio's.
        assert c.post("/fal/run/fal-ai/kokoro", json=[1]).status_code == 400
        assert c.post("/fal/run/fal-ai/fast-sdxl", json={"prompt": "quick"}).status_code == 404
        assert c.get("/fal/queue/requests/nope/status").json() == {"detail": "Request nope not found"}


def test_journaled_and_forgotten_by_reset(server: Any) -> None:
    handle = fal_client.submit("fal-ai/fast-sdxl", arguments={"prompt": "quick"})
    assert isinstance(handle.status(), fal_client.Completed)
    entries = [e for e in server.journal() if e["path"].startswith("/fal/")]
    submit = [e for e in entries if e["path"] == "/fal/queue.fal.run/fal-ai/fast-sdxl"][0]
    assert submit["body"]["_endpointType"] == "fal" and submit["body"]["model"] == "fal-ai/fast-sdxl"
    assert submit["body"]["messages"] == [{"role": "user", "content": "quick"}]
    assert any(f"/requests/{handle.request_id}/status" in e["path"] and e["response"]["status"] == 200 for e in entries)
    server.reset()
    with pytest.raises(fal_client.FalClientHTTPError) as e:
        handle.status()
    assert e.value.status_code == 404


def test_chaos_reaches_the_queue_polls_before_they_move_the_request_on(server: Any) -> None:
    handle = fal_client.submit("fal-ai/flux/dev", arguments={"prompt": "a lighthouse"})
    dropped = httpx.get(handle.status_url, headers={"Authorization": "Key fal-test-key", "x-aimock-chaos-drop": "1"})
    assert dropped.status_code == 500
    # The dropped poll did not count: the next one is still the first.
    first = handle.status()
    assert isinstance(first, fal_client.Queued) and first.position == 1
    entry = [e for e in server.journal() if e["path"].endswith("/status")][0]
    assert (entry["response"]["status"], entry["response"]["chaosAction"]) == (500, "drop")
