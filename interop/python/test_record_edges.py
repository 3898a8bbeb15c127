"""Record mode's edge cases, through the real binary and the official SDKs.

* Strict mode wins over recording: a miss is a 503 and never reaches the upstream.
* An upstream that is down gives 502 with a message naming the failure; each SDK raises its own
  error class for it, and nothing is saved.
* ``--proxy-only`` relays the upstream's answer and saves nothing: every call goes upstream.
* A streamed request whose caller leaves after the first chunk leaves no fixture, and the next
  identical request goes upstream again.
* With ``X-Test-Id`` the recording lands in ``recorded/<slug>/<provider>.json``, the header is not
  forwarded upstream, and the recording replays after a restart.
* A recorded stream replays at its recorded pace; ``--replay-speed`` divides it.
* The server's own keys replace a placeholder key (and a Bedrock SigV4 signature); no key is saved.
* An upstream 429 reaches each SDK as its rate-limit error and is not recorded; a 400 is recorded
  and replays as the same SDK error.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import anthropic
import httpx
import ollama
import openai
import pytest
from botocore.exceptions import ClientError
from cohere.core.api_error import ApiError
from cohere.errors import TooManyRequestsError
from google.genai import errors as gerrors

from conftest import AimockServer, new_client, start_server, stop_server
from record_support import (
    SECRET,
    UPSTREAM_FIXTURES,
    all_files,
    anthropic_call,
    cohere_chat,
    converse,
    dead_url,
    files_containing,
    gemini_call,
    json_files,
    oai,
    ollama_chat,
    openai_chat,
    provider_flags,
    upstream_count,
    wire_body,
    wire_upstream,
)

MODEL = "gpt-4o"
# The upstream port is closed: the message must say the connection was refused.
FAILURE_WORDS = re.compile(r"connect|refused", re.IGNORECASE)


@pytest.fixture(scope="module")
def upstream() -> Iterator[AimockServer]:
    server = start_server([UPSTREAM_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def servers() -> Iterator[Callable[..., AimockServer]]:
    started: list[AimockServer] = []

    def _start(fixtures: list[Path], args: list[str]) -> AimockServer:
        s = start_server(fixtures, args)
        started.append(s)
        return s

    yield _start
    for s in started:
        stop_server(s)


def chat_body(text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], "stream": stream}


# --------------------------------------------------------------------------- strict


def test_strict_mode_wins_over_recording_with_a_503_and_no_upstream_call(
    upstream: AimockServer, servers: Callable[..., AimockServer], tmp_path: Path
) -> None:
    # --strict refuses to start without a fixture, so the dir holds one that never matches.
    (tmp_path / "other.json").write_text(json.dumps({"fixtures": [{"match": {"userMessage": "zzz-never"}, "response": {"content": "x"}}]}))
    rec = servers([tmp_path], ["--strict", "--record", *provider_flags(upstream.url)])
    before = upstream_count(upstream)

    with oai(rec.url) as c:
        with pytest.raises(openai.InternalServerError) as exc:
            c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[rec-edge-plain]"}])
    assert exc.value.status_code == 503
    with pytest.raises(anthropic.InternalServerError) as aexc:
        anthropic_call("[rec-anthropic-plain]")(rec.url)
    assert aexc.value.status_code == 503

    assert upstream_count(upstream) == before, "strict mode let a miss through to the upstream"
    assert json_files(tmp_path / "recorded") == []


def test_a_per_request_strict_header_also_wins_over_recording(
    upstream: AimockServer, servers: Callable[..., AimockServer], tmp_path: Path
) -> None:
    rec = servers([tmp_path], ["--record", *provider_flags(upstream.url)])
    before = upstream_count(upstream)

    r = rec.request("POST", "/v1/chat/completions", chat_body("[rec-edge-plain]"), headers={"X-AIMock-Strict": "true"})

    assert r.status == 503, r
    assert upstream_count(upstream) == before
    assert json_files(tmp_path / "recorded") == []


# --------------------------------------------------------------------------- upstream down


def _openai_down(url: str) -> None:
    with pytest.raises(openai.InternalServerError) as exc:
        openai_chat("[rec-edge-plain]")(url)
    assert exc.value.status_code == 502
    assert FAILURE_WORDS.search(str(exc.value)), str(exc.value)


def _openai_stream_down(url: str) -> None:
    with pytest.raises(openai.InternalServerError) as exc:
        openai_chat("[rec-edge-plain]", stream=True)(url)
    assert exc.value.status_code == 502


def _anthropic_down(url: str) -> None:
    with pytest.raises(anthropic.InternalServerError) as exc:
        anthropic_call("[rec-anthropic-plain]")(url)
    assert exc.value.status_code == 502
    assert FAILURE_WORDS.search(str(exc.value)), str(exc.value)


def _gemini_down(url: str) -> None:
    with pytest.raises(gerrors.ServerError) as exc:
        gemini_call("[rec-gemini-plain]")(url)
    assert exc.value.code == 502


def _bedrock_down(url: str) -> None:
    with pytest.raises(ClientError) as exc:
        converse("[rec-bedrock-plain]")(url)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502


def _ollama_down(url: str) -> None:
    with pytest.raises(ollama.ResponseError) as exc:
        ollama_chat("[rec-ollama-plain]")(url)
    assert exc.value.status_code == 502


def _cohere_down(url: str) -> None:
    with pytest.raises(ApiError) as exc:
        cohere_chat("[rec-cohere-plain]")(url)
    assert exc.value.status_code == 502


DOWN_CASES = {
    "openai": _openai_down,
    "openai-stream": _openai_stream_down,
    "anthropic": _anthropic_down,
    "gemini": _gemini_down,
    "bedrock": _bedrock_down,
    "ollama": _ollama_down,
    "cohere": _cohere_down,
}


@pytest.fixture(scope="module")
def down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AimockServer, Path]]:
    d = tmp_path_factory.mktemp("record-down")
    server = start_server([d], ["--record", *provider_flags(dead_url())])
    try:
        yield server, d
    finally:
        stop_server(server)


@pytest.mark.parametrize("sdk", list(DOWN_CASES))
def test_an_upstream_that_is_down_gives_502_and_the_sdks_own_error(down_server: tuple[AimockServer, Path], sdk: str) -> None:
    server, d = down_server
    DOWN_CASES[sdk](server.url)
    assert json_files(d / "recorded") == [], "a failed upstream call left a recording"


def test_the_502_body_says_the_proxy_to_the_upstream_failed(down_server: tuple[AimockServer, Path]) -> None:
    server, _ = down_server
    r = server.request("POST", "/v1/chat/completions", chat_body("[rec-edge-plain]"))
    assert r.status == 502, r
    message = r.json()["error"]["message"]
    assert FAILURE_WORDS.search(message), message
    entry = server.journal()[-1]
    assert entry["path"] == "/v1/chat/completions"


# --------------------------------------------------------------------------- proxy-only


def test_proxy_only_relays_every_call_upstream_and_saves_nothing(
    upstream: AimockServer, servers: Callable[..., AimockServer], tmp_path: Path
) -> None:
    proxy = servers([tmp_path], ["--proxy-only", *provider_flags(upstream.url)])
    direct = openai_chat("[rec-openai-stream]", stream=True)(upstream.url)
    before = upstream_count(upstream)

    first = openai_chat("[rec-openai-stream]", stream=True)(proxy.url)
    second = openai_chat("[rec-openai-stream]", stream=True)(proxy.url)
    plain = anthropic_call("[rec-anthropic-plain]")(proxy.url)

    assert first == second == direct
    assert plain["blocks"] == [{"type": "text", "text": "Recorded plain reply from the Anthropic upstream."}]
    assert upstream_count(upstream) - before == 3, "proxy-only must send every call upstream"
    assert all_files(tmp_path) == [], f"proxy-only wrote {all_files(tmp_path)}"


# --------------------------------------------------------------------------- caller leaves mid-stream


def test_a_caller_that_leaves_after_the_first_chunk_leaves_no_fixture(
    upstream: AimockServer, servers: Callable[..., AimockServer], tmp_path: Path
) -> None:
    # The upstream fixture streams 16 chunks 150 ms apart (about 2.4 s).
    rec = servers([tmp_path], ["--record", *provider_flags(upstream.url)])
    before = upstream_count(upstream)
    headers = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(timeout=10) as h:
        with h.stream("POST", rec.url + "/v1/chat/completions", json=chat_body("[rec-slow-stream]", stream=True), headers=headers) as r:
            assert r.status_code == 200
            first = next(r.iter_raw())
            assert b"data:" in first
        # leaving the block closes the connection after one chunk
    assert upstream_count(upstream) - before == 1
    time.sleep(3.0)  # past the end of the upstream's stream

    assert json_files(tmp_path / "recorded") == [], "an abandoned stream was saved"

    # Nothing was registered either: the same request goes upstream again.
    again = openai_chat("[rec-slow-stream]")(rec.url)
    assert again["text"] == "This stream is slow on purpose so the caller can leave early."
    assert upstream_count(upstream) - before == 2


# --------------------------------------------------------------------------- X-Test-Id


def test_a_test_id_recording_goes_to_its_own_file_and_replays_after_a_restart(
    upstream: AimockServer, tmp_path: Path
) -> None:
    test_id = "record_edges.py > Record Edge > saves per test"
    headers = {"X-Test-Id": test_id}
    rec = start_server([tmp_path], ["--record", *provider_flags(upstream.url)])
    try:
        with new_client(rec.url, api_key=SECRET, default_headers=headers) as c:
            r = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[rec-edge-plain]"}])
            upstream_headers = {k.lower() for k in upstream.journal()[-1]["headers"]}
            c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[rec-openai-plain]"}])
        recorded_text = r.choices[0].message.content
    finally:
        stop_server(rec)

    assert recorded_text == "Edge case reply."
    assert "x-test-id" not in upstream_headers, "X-Test-Id was forwarded upstream"
    files = json_files(tmp_path / "recorded")
    assert len(files) == 1, files
    assert files[0].name == "openai.json"
    assert files[0].parent.parent == tmp_path / "recorded"
    assert re.fullmatch(r"[a-z0-9_-]+", files[0].parent.name), files[0].parent.name
    # Both recordings of the test went into its one file.
    assert len(json.loads(files[0].read_text())["fixtures"]) == 2

    replay = start_server([tmp_path / "recorded"])
    try:
        with new_client(replay.url, api_key=SECRET, default_headers=headers) as c:
            again = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[rec-edge-plain]"}])
    finally:
        stop_server(replay)
    assert again.choices[0].message.content == recorded_text


# --------------------------------------------------------------------------- recorded timings


def _timed_stream(url: str) -> tuple[str, float, float]:
    """The streamed text, the time to the first chunk and the time to the end, in seconds."""
    start = time.monotonic()
    first = None
    text = []
    with oai(url) as c:
        for chunk in c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[rec-timed-stream]"}], stream=True):
            if first is None:
                first = time.monotonic() - start
            text += [ch.delta.content or "" for ch in chunk.choices]
    assert first is not None
    return "".join(text), first, time.monotonic() - start


def test_a_recorded_stream_replays_at_its_recorded_pace_and_replay_speed_divides_it(
    upstream: AimockServer, tmp_path: Path
) -> None:
    # Upstream: 150 ms before every event.
    rec = start_server([tmp_path], ["--record", *provider_flags(upstream.url)])
    try:
        text, _, recorded_total = _timed_stream(rec.url)
    finally:
        stop_server(rec)
    assert text == "four slow chunks arrive!"
    assert recorded_total > 0.5, f"the upstream stream took only {recorded_total:.2f}s"
    (fixture,) = [fx for p in json_files(tmp_path / "recorded") for fx in json.loads(p.read_text())["fixtures"]]
    timings = fixture.get("recordedTimings")
    assert timings, f"no recordedTimings in {fixture}"
    assert 100 <= timings["ttftMs"] <= 1000, timings
    assert timings["interChunkDelaysMs"] and max(timings["interChunkDelaysMs"]) >= 100, timings

    replay = start_server([tmp_path / "recorded"])
    try:
        replayed_text, ttft, total = _timed_stream(replay.url)
    finally:
        stop_server(replay)
    fast = start_server([tmp_path / "recorded"], ["--replay-speed", "10"])
    try:
        fast_text, fast_ttft, fast_total = _timed_stream(fast.url)
    finally:
        stop_server(fast)

    assert replayed_text == fast_text == text
    recorded_ttft = timings["ttftMs"] / 1000
    assert ttft >= 0.8 * recorded_ttft, f"first chunk after {ttft:.3f}s, recorded {recorded_ttft:.3f}s"
    assert total >= ttft + 0.1, f"the replay did not keep the recorded gaps ({total:.3f}s in all)"
    # Relative bounds only: a loaded CI machine delays both replays alike, never the fast one alone.
    assert fast_ttft < ttft, f"--replay-speed 10: first chunk after {fast_ttft:.3f}s, at speed 1 {ttft:.3f}s"
    assert fast_total <= 0.5 * total, f"--replay-speed 10 took {fast_total:.3f}s against {total:.3f}s"


# --------------------------------------------------------------------------- server-held keys


def test_a_placeholder_key_is_replaced_by_the_servers_own_key_which_is_never_saved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIMOCK_PROVIDER_OPENAI_KEY", "sk-server-OWNKEY456")
    with wire_upstream() as up:
        up.set_body(wire_body("openai-chat-text.json"), "application/json")
        rec = start_server([tmp_path], ["--record", *provider_flags(up.url)])
        try:
            placeholder = openai_chat("[edge-placeholder]", client=lambda u: new_client(u, api_key="sk-aimock-placeholder"))(rec.url)
            real = openai_chat("[edge-real-key]")(rec.url)
            journal = json.dumps(rec.journal())
        finally:
            stop_server(rec)
        sent = [r.headers.get("authorization") for r in up.seen]

    assert placeholder["text"] == real["text"] == "Hello! How can I help you today?"
    assert sent == ["Bearer sk-server-OWNKEY456", f"Bearer {SECRET}"]
    assert all_files(tmp_path), "nothing was recorded"
    for needle in ("OWNKEY456", "SECRET123", "sk-aimock-placeholder"):
        assert files_containing(tmp_path, needle) == [], needle
        assert needle not in journal, needle



def test_a_bedrock_sigv4_signature_is_replaced_by_the_servers_bedrock_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A SigV4 signature covers the host, so it cannot be forwarded to another one: the server's
    # own Bedrock API key goes instead, as a bearer token, and the signing headers are dropped.
    monkeypatch.setenv("AIMOCK_PROVIDER_BEDROCK_KEY", "bedrock-OWNKEY789")
    with wire_upstream() as up:
        up.set_body(wire_body("bedrock-converse.json"), "application/json")
        rec = start_server([tmp_path], ["--record", *provider_flags(up.url)])
        try:
            answer = converse("[edge-bedrock-key]", tools=True)(rec.url)
            journal = json.dumps(rec.journal())
        finally:
            stop_server(rec)
        (seen,) = up.seen

    assert answer["stop_reason"] == "tool_use"
    assert seen.headers.get("authorization") == "Bearer bedrock-OWNKEY789"
    assert not [h for h in seen.headers if h.startswith("x-amz-")], seen.headers
    assert all_files(tmp_path), "nothing was recorded"
    for needle in ("OWNKEY789", "SECRET123"):
        assert files_containing(tmp_path, needle) == [], needle
        assert needle not in journal, needle

# --------------------------------------------------------------------------- registration race


def test_an_identical_request_sent_the_moment_a_recorded_stream_ends_is_replayed(tmp_path: Path) -> None:
    attempts = 30
    with wire_upstream(chunks=8, pause=0.005) as up:
        up.set_body(wire_body("bedrock-converse-text.bin"), "application/vnd.amazon.eventstream")
        rec = start_server([tmp_path], ["--record", *provider_flags(up.url)])
        try:
            for i in range(attempts):
                first = converse(f"[race {i}]", stream=True)(rec.url)
                again = converse(f"[race {i}]", stream=True)(rec.url)
                assert again == first
        finally:
            stop_server(rec)
        upstream_calls = len(up.seen)
    assert upstream_calls == attempts, f"{upstream_calls - attempts} of {attempts} repeats went upstream"


# --------------------------------------------------------------------------- upstream errors


def _rate_limit_cases() -> dict[str, tuple[str, Callable[[str], None]]]:
    def openai_429(url: str) -> None:
        with pytest.raises(openai.RateLimitError) as exc:
            openai_chat("[edge-429-openai]")(url)
        assert exc.value.status_code == 429
        assert exc.value.response.headers.get("retry-after") == "7"

    def anthropic_429(url: str) -> None:
        with pytest.raises(anthropic.RateLimitError) as exc:
            anthropic_call("[edge-429-anthropic]")(url)
        assert exc.value.status_code == 429
        assert exc.value.response.headers.get("retry-after") == "7"

    def gemini_429(url: str) -> None:
        with pytest.raises(gerrors.ClientError) as exc:
            gemini_call("[edge-429-gemini]")(url)
        assert exc.value.code == 429
        assert exc.value.status == "RESOURCE_EXHAUSTED"

    def cohere_429(url: str) -> None:
        with pytest.raises(TooManyRequestsError):
            cohere_chat("[edge-429-cohere]")(url)

    return {
        "openai": ("openai-error-429.json", openai_429),
        "anthropic": ("anthropic-error-429.json", anthropic_429),
        "gemini": ("gemini-error-429.json", gemini_429),
        "cohere": ("cohere-error-429.json", cohere_429),
    }


RATE_LIMITS = _rate_limit_cases()


@pytest.mark.parametrize("sdk", list(RATE_LIMITS))
def test_an_upstream_429_reaches_the_sdk_as_its_rate_limit_error_and_is_not_recorded(sdk: str, tmp_path: Path) -> None:
    wire, check = RATE_LIMITS[sdk]
    with wire_upstream() as up:
        up.set_body(wire_body(wire), "application/json", status=429, extra_headers={"Retry-After": "7"})
        rec = start_server([tmp_path], ["--record", *provider_flags(up.url)])
        try:
            check(rec.url)
            check(rec.url)  # not recorded, so it goes upstream again
        finally:
            stop_server(rec)
        assert len(up.seen) == 2
    assert json_files(tmp_path) == []


def test_an_upstream_400_is_recorded_and_replays_as_the_same_sdk_error(tmp_path: Path) -> None:
    body = {
        "error": {
            "message": "Invalid value for 'temperature': must be at most 2.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_value",
        }
    }

    def call(url: str) -> openai.BadRequestError:
        with oai(url) as c:
            with pytest.raises(openai.BadRequestError) as exc:
                c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[edge-400]"}], temperature=2)
        return exc.value

    with wire_upstream() as up:
        up.set_body(json.dumps(body).encode(), "application/json", status=400)
        rec = start_server([tmp_path], ["--record", *provider_flags(up.url)])
        try:
            recorded = call(rec.url)
        finally:
            stop_server(rec)
    assert recorded.status_code == 400
    assert "must be at most 2" in recorded.message
    assert len(json_files(tmp_path / "recorded")) == 1

    replay = start_server([tmp_path / "recorded"])
    try:
        replayed = call(replay.url)
    finally:
        stop_server(replay)
    assert replayed.status_code == 400
    assert replayed.message == recorded.message
    assert isinstance(replayed.body, dict) and replayed.body.get("type") == "invalid_request_error"
