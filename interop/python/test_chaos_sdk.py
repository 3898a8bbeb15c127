"""Chaos through the official SDKs: each injected failure must surface as the error the SDK
raises for the real thing.

* drop -> ``InternalServerError`` (a 500 in the provider's own envelope)
* rate limit -> ``RateLimitError`` with ``retry-after``
* malformed -> the SDK's JSON decode error (``json.JSONDecodeError`` in openai 3.57 and anthropic)
* disconnect -> ``APIConnectionError`` (no answer at all; journal status 0)
* a stream cut after N events (fixture ``truncateAfterChunks``) -> an error while iterating, after
  the first events arrived

Rates come from CLI flags (``--chaos-*``, ``--chaos-seed``), request headers
(``x-aimock-chaos-*``), a fixture's ``chaos`` block, and the run-time control API
(``POST /__aimock/chaos``, scoped per ``X-Test-Id``).
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterator

import anthropic
import httpx
import openai
import pytest

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server

CHAOS_FIXTURES = FIXTURES_DIR / "chaos"
MODEL = "gpt-4o"
CLAUDE = "claude-sonnet-4-6"


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def chaos_server() -> Iterator[AimockServer]:
    server = start_server([CHAOS_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(autouse=True)
def _fresh(chaos_server: AimockServer) -> None:
    chaos_server.reset_journal()


@pytest.fixture
def oa(chaos_server: AimockServer, make_client: Callable[..., openai.OpenAI]) -> openai.OpenAI:
    return make_client(chaos_server.url)


@pytest.fixture
def claude(chaos_server: AimockServer) -> Iterator[anthropic.Anthropic]:
    c = anthropic.Anthropic(base_url=chaos_server.url, api_key="sk-ant-test", max_retries=0, timeout=REQUEST_TIMEOUT_S)
    yield c
    c.close()


def transport_errors() -> tuple[type[BaseException], ...]:
    """What a cut connection may surface as: the SDK's own connection error, or the HTTP
    library's transport error while a stream is being read (anthropic ships httpx as httpx2)."""
    errors: list[type[BaseException]] = [openai.APIConnectionError, anthropic.APIConnectionError, httpx.TransportError]
    try:
        import httpx2  # type: ignore[import-not-found]

        errors.append(httpx2.TransportError)
    except ImportError:
        pass
    return tuple(errors)


# --------------------------------------------------------------------------- openai


def test_openai_a_drop_raises_internal_server_error(oa: openai.OpenAI, chaos_server: AimockServer) -> None:
    with pytest.raises(openai.InternalServerError) as exc:
        oa.chat.completions.create(model=MODEL, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-drop": "1"})
    assert exc.value.status_code == 500
    body: Any = exc.value.body
    assert body["code"] == "chaos_drop"
    assert body["message"] == "Chaos: request dropped"
    [entry] = chaos_server.journal()
    assert entry["response"]["chaosAction"] == "drop"
    assert entry["response"]["source"] == "fixture"


def test_openai_a_fixtures_own_chaos_drops_its_requests(oa: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        oa.chat.completions.create(model=MODEL, messages=ask("[fragile]"))
    reply = oa.chat.completions.create(model=MODEL, messages=ask("[calm]"))
    assert reply.choices[0].message.content == "Nothing went wrong this time."


def test_openai_a_rate_limit_raises_rate_limit_error_with_retry_after(oa: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as exc:
        oa.chat.completions.create(model=MODEL, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-ratelimit": "1"})
    assert exc.value.status_code == 429
    assert exc.value.response.headers["retry-after"] == "1"
    assert exc.value.response.headers["x-ratelimit-remaining-requests"] == "0"


def test_openai_malformed_raises_the_json_decode_error(oa: openai.OpenAI, chaos_server: AimockServer) -> None:
    with pytest.raises(json.JSONDecodeError):
        oa.chat.completions.create(model=MODEL, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-malformed": "1"})
    [entry] = chaos_server.journal()
    assert entry["response"]["status"] == 200
    assert entry["response"]["chaosAction"] == "malformed"


def test_openai_a_disconnect_raises_api_connection_error(oa: openai.OpenAI, chaos_server: AimockServer) -> None:
    with pytest.raises(openai.APIConnectionError):
        oa.chat.completions.create(model=MODEL, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-disconnect": "1"})
    with pytest.raises(openai.APIConnectionError):
        stream = oa.chat.completions.create(
            model=MODEL, messages=ask("[calm]"), stream=True, extra_headers={"x-aimock-chaos-disconnect": "1"}
        )
        list(stream)
    entries = chaos_server.journal()
    assert [e["response"]["status"] for e in entries] == [0, 0]
    assert all(e["response"]["chaosAction"] == "disconnect" for e in entries)


def test_openai_a_stream_cut_mid_way_raises_while_iterating(oa: openai.OpenAI, chaos_server: AimockServer) -> None:
    got: list[str] = []
    stream = oa.chat.completions.create(model=MODEL, messages=ask("[cut stream]"), stream=True)
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    assert got, "the first events arrived before the cut"
    assert "".join(got) != "This reply is cut after its fifth chunk and never finishes."
    [entry] = chaos_server.journal()
    assert entry["response"]["interrupted"] is True
    assert entry["response"]["interruptReason"] == "truncateAfterChunks"


def test_latency_from_a_header_and_from_a_fixture_delays_the_reply(oa: openai.OpenAI) -> None:
    t = time.monotonic()
    oa.chat.completions.create(model=MODEL, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-latency": "400"})
    assert time.monotonic() - t >= 0.4
    t = time.monotonic()
    reply = oa.chat.completions.create(model=MODEL, messages=ask("[slow]"))
    assert time.monotonic() - t >= 0.4
    assert reply.choices[0].message.content == "Late, but here."


def test_a_run_time_override_applies_to_its_test_id_only(
    chaos_server: AimockServer, make_client: Callable[..., openai.OpenAI]
) -> None:
    r = chaos_server.request("POST", "/__aimock/chaos", {"rateLimitRate": 1}, headers={"X-Test-Id": "sdk-t1"})
    assert r.status == 200, r
    assert r.json() == {"chaos": {"rateLimitRate": 1.0}}
    try:
        limited = make_client(chaos_server.url, default_headers={"X-Test-Id": "sdk-t1"})
        other = make_client(chaos_server.url, default_headers={"X-Test-Id": "sdk-t2"})
        with pytest.raises(openai.RateLimitError):
            limited.chat.completions.create(model=MODEL, messages=ask("[calm]"))
        assert other.chat.completions.create(model=MODEL, messages=ask("[calm]")).choices[0].message.content
        bad = chaos_server.request("POST", "/__aimock/chaos", {"dropRat": 1}, headers={"X-Test-Id": "sdk-t1"})
        assert (bad.status, bad.json()) == (400, {"error": "Unknown chaos field: 'dropRat'"})
    finally:
        r = chaos_server.request("DELETE", "/__aimock/chaos", headers={"X-Test-Id": "sdk-t1"})
        assert r.json() == {"chaos": {}}


def test_cli_flags_set_the_server_rates(make_client: Callable[..., openai.OpenAI]) -> None:
    server = start_server([CHAOS_FIXTURES], ["--chaos-drop", "1"])
    try:
        c = make_client(server.url)
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model=MODEL, messages=ask("[calm]"))
        reply = c.chat.completions.create(
            model=MODEL, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-drop": "0"}
        )
        assert reply.choices[0].message.content == "Nothing went wrong this time."
    finally:
        stop_server(server)


def _seeded_outcomes(seed: int, make_client: Callable[..., openai.OpenAI]) -> list[str]:
    server = start_server(
        [CHAOS_FIXTURES],
        ["--chaos-seed", str(seed), "--chaos-drop", "0.3", "--chaos-ratelimit", "0.3", "--chaos-disconnect", "0.3"],
    )
    try:
        c = make_client(server.url)
        out: list[str] = []
        for _ in range(24):
            try:
                c.chat.completions.create(model=MODEL, messages=ask("[calm]"))
                out.append("ok")
            except openai.InternalServerError:
                out.append("drop")
            except openai.RateLimitError:
                out.append("rateLimit")
            except openai.APIConnectionError:
                out.append("disconnect")
        return out
    finally:
        stop_server(server)


def test_the_same_seed_replays_the_same_failures(make_client: Callable[..., openai.OpenAI]) -> None:
    a = _seeded_outcomes(2024, make_client)
    b = _seeded_outcomes(2024, make_client)
    c = _seeded_outcomes(2025, make_client)
    assert a == b
    assert a != c
    assert {"ok", "drop", "rateLimit", "disconnect"} <= set(a), a


# --------------------------------------------------------------------------- anthropic


def test_anthropic_a_drop_raises_internal_server_error(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.InternalServerError) as exc:
        claude.messages.create(model=CLAUDE, max_tokens=64, messages=ask("[fragile]"))
    assert exc.value.status_code == 500
    assert "Chaos: request dropped" in str(exc.value)


def test_anthropic_a_rate_limit_raises_rate_limit_error_with_retry_after(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as exc:
        claude.messages.create(
            model=CLAUDE, max_tokens=64, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-ratelimit": "1"}
        )
    assert exc.value.response.headers["retry-after"] == "1"


def test_anthropic_malformed_raises_the_json_decode_error(claude: anthropic.Anthropic) -> None:
    with pytest.raises(json.JSONDecodeError):
        claude.messages.create(
            model=CLAUDE, max_tokens=64, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-malformed": "1"}
        )


def test_anthropic_a_disconnect_raises_api_connection_error(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.APIConnectionError):
        claude.messages.create(
            model=CLAUDE, max_tokens=64, messages=ask("[calm]"), extra_headers={"x-aimock-chaos-disconnect": "1"}
        )


def test_anthropic_a_stream_cut_mid_way_raises_while_iterating(claude: anthropic.Anthropic) -> None:
    got: list[str] = []
    with pytest.raises(transport_errors()):
        with claude.messages.stream(model=CLAUDE, max_tokens=64, messages=ask("[cut stream]")) as stream:
            for text in stream.text_stream:
                got.append(text)
    assert "".join(got) != "This reply is cut after its fifth chunk and never finishes."
