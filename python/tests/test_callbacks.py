"""Python functions as fixture responses (the callback contract): the plugin serves them on a
loopback endpoint and registers fixtures whose response is a `callback`; the server POSTs the
matched request there and renders the answer. Plain and streamed replies through the openai and
anthropic clients, what the function is given, a slow function (504 callback_timeout), a
failing one (502 callback_failed in the provider's envelope), and concurrency."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from conftest import openai_client, user

from aimock_rs import CallbackRequest

MODEL = "gpt-4o-mini"
CLAUDE = "claude-sonnet-4-6"


def chat(client: openai.OpenAI, text: str, **kw: Any) -> str:
    r = client.chat.completions.create(model=kw.pop("model", MODEL), messages=user(text), **kw)
    return r.choices[0].message.content or ""


def streamed(client: openai.OpenAI, text: str) -> str:
    stream = client.chat.completions.create(model=MODEL, messages=user(text), stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


# ── plain and streamed ───────────────────────────────────────────────────


def test_on_message_with_a_function_answers_from_it(aimock: Any, oai: openai.OpenAI) -> None:
    seen: list[CallbackRequest] = []

    def weather(req: CallbackRequest) -> dict[str, Any]:
        seen.append(req)
        city = req["messages"][-1]["content"].rsplit(" ", 1)[-1]
        return {"content": f"sunny in {city}"}

    aimock.on_message("weather in", weather)
    assert chat(oai, "weather in Paris") == "sunny in Paris"
    assert chat(oai, "weather in Oslo") == "sunny in Oslo"
    assert len(seen) == 2
    req = seen[0]
    assert req["model"] == MODEL
    assert req["messages"][-1] == {"role": "user", "content": "weather in Paris"}
    assert (req.kind, req.provider, req.endpoint, req.path, req.stream) == (
        "llm",
        "openai",
        "chat",
        "/v1/chat/completions",
        False,
    )
    assert req.test_id == "__default__"
    # The Responses API renders the same function's answer.
    r = oai.responses.create(model=MODEL, input="weather in Rome")
    assert r.output_text == "sunny in Rome"
    assert (seen[-1].endpoint, seen[-1].path) != ("chat", "/v1/chat/completions")


def test_a_function_answer_is_streamed_when_the_client_streams(aimock: Any, oai: openai.OpenAI) -> None:
    streams: list[bool] = []

    def story(req: CallbackRequest) -> dict[str, Any]:
        streams.append(req.stream)
        return {"content": "once upon a time, in a mock server far away"}

    aimock.on_message("story", story, chunkSize=5)
    stream = oai.chat.completions.create(model=MODEL, messages=user("a story"), stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "once upon a time, in a mock server far away"
    assert len(pieces) > 1 and all(len(p) <= 5 for p in pieces)
    assert streams == [True]


def test_anthropic_plain_and_streamed_tool_calls_from_a_function(aimock: Any, claude: anthropic.Anthropic) -> None:
    providers: list[str | None] = []

    def tool(req: CallbackRequest) -> dict[str, Any]:
        providers.append(req.provider)
        assert req.path == "/v1/messages"
        return {"toolCalls": [{"name": "lookup", "arguments": json.dumps({"q": req["model"]})}]}

    aimock.on_message("look it up", tool)
    msg = claude.messages.create(model=CLAUDE, max_tokens=64, messages=user("look it up"))
    block = [b for b in msg.content if b.type == "tool_use"][0]
    assert block.name == "lookup" and block.input == {"q": CLAUDE}
    with claude.messages.stream(model=CLAUDE, max_tokens=64, messages=user("look it up")) as s:
        final = s.get_final_message()
    block = [b for b in final.content if b.type == "tool_use"][0]
    assert block.name == "lookup" and block.input == {"q": CLAUDE}
    assert providers == ["anthropic", "anthropic"]


def test_a_string_return_is_the_content_and_add_fixture_takes_a_function(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.add_fixture({"userMessage": "echo"}, lambda req: req["messages"][-1]["content"].upper())
    assert chat(oai, "echo me") == "ECHO ME"
    assert streamed(oai, "echo me") == "ECHO ME"


def test_on_system_message_takes_a_function(aimock: Any, claude: anthropic.Anthropic) -> None:
    aimock.on_system_message("persona", lambda req: {"content": f"{req.provider} persona"}, user_message="hi")
    msg = claude.messages.create(model=CLAUDE, max_tokens=32, system="the persona", messages=user("hi"))
    assert msg.content[0].text == "anthropic persona"


def test_on_embedding_refuses_a_function(aimock: Any, oai: openai.OpenAI) -> None:
    # The server renders callbacks for chat replies only: an embedding fixture stays literal.
    with pytest.raises(TypeError, match="chat replies only"):
        aimock.on_embedding("vec", lambda req: {"embedding": [0.5]})
    aimock.on_embedding("vec", {"embedding": [0.5, 1.5]})
    r = oai.embeddings.create(model="text-embedding-3-small", input="vec", encoding_format="float")
    assert r.data[0].embedding == [0.5, 1.5]


def test_a_function_can_return_an_error_response(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message("limit", lambda req: {"error": {"message": "slow down", "type": "rate_limit_error"}, "status": 429})
    with pytest.raises(openai.RateLimitError) as e:
        chat(oai, "limit")
    assert "slow down" in e.value.message


def test_a_callback_in_a_fixture_file(aimock: Any, oai: openai.OpenAI, tmp_path: Path) -> None:
    # aimock.callback(fn) is the response that names fn: usable in any fixture, file or not.
    spec = aimock.callback(lambda req: {"content": "from the file's callback"}, timeout_ms=3000)
    assert spec["callback"]["timeoutMs"] == 3000 and spec["callback"]["url"].startswith("http://127.0.0.1:")
    f = tmp_path / "fixtures.json"
    f.write_text(json.dumps({"fixtures": [{"match": {"userMessage": "file"}, "response": spec}]}))
    aimock.load_fixtures(f)
    assert chat(oai, "file") == "from the file's callback"


def test_callback_answers_are_journaled(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message("journal", lambda req: {"content": "noted"})
    chat(oai, "journal")
    last = aimock.get_last_request()
    assert last is not None and last["path"] == "/v1/chat/completions"
    assert last["response"]["status"] == 200


def test_callbacks_with_the_session_server(aimock_session: Any) -> None:
    aimock_session.reset()
    aimock_session.on_message("session callback", lambda req: {"content": "session ok"})
    with openai_client(aimock_session) as c:
        assert chat(c, "session callback") == "session ok"
    aimock_session.reset()


# ── timeouts and failures ────────────────────────────────────────────────


def test_a_slow_function_is_a_504_callback_timeout(aimock: Any, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    release = threading.Event()

    def slow(req: CallbackRequest) -> dict[str, Any]:
        release.wait(5)
        return {"content": "too late"}

    aimock.on_message("slow", slow, callback_timeout_ms=300)
    t0 = time.monotonic()
    with pytest.raises(openai.APIStatusError) as e:
        chat(oai, "slow")
    elapsed = time.monotonic() - t0
    assert e.value.status_code == 504
    assert e.value.body["code"] == "callback_timeout"  # openai's envelope: {"error": {...}}
    assert 0.25 <= elapsed < 3, elapsed
    with pytest.raises(anthropic.APIStatusError) as ae:
        claude.messages.create(model=CLAUDE, max_tokens=32, messages=user("slow"))
    assert ae.value.status_code == 504
    assert ae.value.body["type"] == "error"  # anthropic's envelope
    release.set()


def test_a_failing_function_is_a_502_callback_failed_that_says_why(aimock: Any, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    def broken(req: CallbackRequest) -> dict[str, Any]:
        raise ValueError("the weather service is down")

    aimock.on_message("broken", broken)
    with pytest.raises(openai.APIStatusError) as e:
        chat(oai, "broken")
    assert e.value.status_code == 502
    assert e.value.body["code"] == "callback_failed"
    assert "the weather service is down" in e.value.message
    with pytest.raises(openai.APIStatusError) as se:
        streamed(oai, "broken")
    assert se.value.status_code == 502
    with pytest.raises(anthropic.APIStatusError) as ae:
        claude.messages.create(model=CLAUDE, max_tokens=32, messages=user("broken"))
    assert ae.value.status_code == 502 and "the weather service is down" in str(ae.value)


def test_a_function_that_returns_no_response_is_a_502(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message("nothing", lambda req: None)
    aimock.on_message("bogus", lambda req: {"contnet": "typo"})
    with pytest.raises(openai.APIStatusError) as e:
        chat(oai, "nothing")
    assert e.value.status_code == 502 and "NoneType" in e.value.message
    with pytest.raises(openai.APIStatusError) as e:
        chat(oai, "bogus")
    assert e.value.status_code == 502 and e.value.body["code"] == "callback_failed"


def test_callback_timeout_ms_is_only_for_functions(aimock: Any) -> None:
    with pytest.raises(TypeError, match="callback_timeout_ms"):
        aimock.on_message("x", {"content": "y"}, callback_timeout_ms=100)


# ── concurrency ──────────────────────────────────────────────────────────


def test_slow_functions_run_concurrently(aimock: Any) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(req: CallbackRequest) -> dict[str, Any]:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(1.0)
        with lock:
            in_flight -= 1
        return {"content": req["messages"][-1]["content"]}

    aimock.on_message("parallel", slow)
    clients = [openai_client(aimock) for _ in range(6)]
    t0 = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: chat(clients[i], f"parallel {i}"), range(6)))
    elapsed = time.monotonic() - t0
    assert answers == [f"parallel {i}" for i in range(6)]
    assert peak == 6
    assert elapsed < 4.0, elapsed  # one after another would take 6 s
    for c in clients:
        c.close()


def test_a_slow_function_does_not_block_other_requests(aimock: Any, oai: openai.OpenAI) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(req: CallbackRequest) -> dict[str, Any]:
        started.set()
        release.wait(10)
        return {"content": "slow done"}

    aimock.on_message("slow one", slow)
    aimock.on_message("fast literal", {"content": "fast"})
    aimock.on_message("fast function", lambda req: {"content": "fast too"})
    with ThreadPoolExecutor(1) as pool, openai_client(aimock) as other:
        pending = pool.submit(chat, other, "slow one")
        assert started.wait(5)
        t0 = time.monotonic()
        assert chat(oai, "fast literal") == "fast"
        assert chat(oai, "fast function") == "fast too"
        assert time.monotonic() - t0 < 2.0
        assert not pending.done()  # the slow one is still waiting, and the others were answered
        release.set()
        assert pending.result(timeout=10) == "slow done"
