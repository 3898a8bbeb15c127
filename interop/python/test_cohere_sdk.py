"""The official ``cohere`` Python SDK (7.3.1, ``ClientV2``) against aimock's Cohere v2 API.

One server on ``interop/fixtures/cohere``: chat, chat_stream read through the SDK's typed events,
a tool call (tool plan plus tool calls), a multi-turn tool loop matched by ``toolCallId``,
thinking content, embed, and errors raising the SDK's typed exceptions.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import cohere
import pytest
from cohere.errors import BadRequestError, NotFoundError, TooManyRequestsError

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server

MODEL = "command-a-03-2025"
NO_RETRIES: Any = {"max_retries": 0}

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def cohere_server() -> Iterator[AimockServer]:
    server = start_server([FIXTURES_DIR / "cohere"])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def co(cohere_server: AimockServer) -> cohere.ClientV2:
    return cohere.ClientV2(api_key="co-test", base_url=cohere_server.url, timeout=REQUEST_TIMEOUT_S)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def texts_of(content: Any) -> str:
    return "".join(getattr(c, "text", "") or "" for c in content or [] if c.type == "text")


def test_chat_returns_text_content_finish_reason_and_usage(co: cohere.ClientV2) -> None:
    r = co.chat(model=MODEL, messages=user("[cohere-plain] hi"), request_options=NO_RETRIES)
    assert r.id
    assert r.finish_reason == "COMPLETE"
    assert r.message.role == "assistant"
    assert texts_of(r.message.content) == "Hello from aimock, answering as Cohere."
    assert r.usage is not None and r.usage.billed_units is not None and r.usage.tokens is not None
    assert (r.usage.tokens.output_tokens or 0) > 0


def test_chat_stream_yields_typed_events_in_order(co: cohere.ClientV2) -> None:
    events = list(co.chat_stream(model=MODEL, messages=user("[cohere-stream] go"), request_options=NO_RETRIES))
    kinds = [e.type for e in events]
    assert kinds[0] == "message-start"
    assert kinds[1] == "content-start"
    assert kinds[-2] == "content-end"
    assert kinds[-1] == "message-end"
    assert kinds.count("content-delta") > 3
    text = "".join(e.delta.message.content.text for e in events if e.type == "content-delta")
    assert text == "Streaming works with typed server-sent events."
    end = events[-1]
    assert end.delta.finish_reason == "COMPLETE"
    assert end.delta.usage.tokens.output_tokens > 0


def test_chat_with_tools_returns_a_tool_plan_and_tool_calls(co: cohere.ClientV2) -> None:
    r = co.chat(model=MODEL, messages=user("[cohere-tool] weather in Paris?"), tools=[WEATHER_TOOL], request_options=NO_RETRIES)
    assert r.finish_reason == "TOOL_CALL"
    assert r.message.tool_plan == "I will look up the weather in Paris."
    calls = r.message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].id == "get_weather_paris01"
    assert calls[0].type == "function"
    assert calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}


def test_streamed_tool_calls_assemble_from_start_and_delta_events(co: cohere.ClientV2) -> None:
    events = list(
        co.chat_stream(model=MODEL, messages=user("[cohere-tool] weather in Paris?"), tools=[WEATHER_TOOL], request_options=NO_RETRIES)
    )
    plan = "".join(e.delta.message.tool_plan for e in events if e.type == "tool-plan-delta")
    assert plan == "I will look up the weather in Paris."
    start = next(e for e in events if e.type == "tool-call-start")
    assert start.index == 0
    assert start.delta.message.tool_calls.id == "get_weather_paris01"
    assert start.delta.message.tool_calls.function.name == "get_weather"
    args = "".join(e.delta.message.tool_calls.function.arguments for e in events if e.type == "tool-call-delta")
    assert json.loads(args) == {"city": "Paris"}
    assert any(e.type == "tool-call-end" for e in events)
    assert events[-1].delta.finish_reason == "TOOL_CALL"


def test_a_multi_turn_tool_loop_ends_with_the_final_answer(co: cohere.ClientV2) -> None:
    messages: list[Any] = user("[cohere-tool] weather in Paris?")
    first = co.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL], request_options=NO_RETRIES)
    messages.append(first.message)
    for call in first.message.tool_calls or []:
        messages.append(
            {
                "role": "tool",
                "tool_call_id": call.id,
                "content": [{"type": "document", "document": {"data": json.dumps({"temp_c": 18, "sky": "sunny"})}}],
            }
        )
    final = co.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL], request_options=NO_RETRIES)
    assert final.finish_reason == "COMPLETE"
    assert texts_of(final.message.content) == "It is 18 degrees and sunny in Paris."


def test_thinking_is_a_typed_content_item(co: cohere.ClientV2) -> None:
    r = co.chat(model=MODEL, messages=user("[cohere-think] 6*7?"), request_options=NO_RETRIES)
    content = r.message.content or []
    assert [c.type for c in content] == ["thinking", "text"]
    assert content[0].thinking == "6 times 7 is 42."
    events = list(co.chat_stream(model=MODEL, messages=user("[cohere-think] 6*7?"), request_options=NO_RETRIES))
    thinking = "".join(e.delta.message.content.thinking or "" for e in events if e.type == "content-delta" and e.index == 0)
    assert thinking == "6 times 7 is 42."


def test_embed_gives_one_float_vector_per_text(co: cohere.ClientV2) -> None:
    r = co.embed(
        model="embed-v4.0",
        texts=["first text", "second text"],
        input_type="search_document",
        embedding_types=["float"],
        request_options=NO_RETRIES,
    )
    floats = r.embeddings.float_
    assert floats is not None and len(floats) == 2
    assert len(floats[0]) == 1024
    assert floats[0] != floats[1]
    assert r.texts == ["first text", "second text"]
    fixed = co.embed(
        model="embed-v4.0", texts=["[cohere-embed-fixture]"], input_type="search_query", embedding_types=["float", "int8"],
        request_options=NO_RETRIES,
    )
    assert fixed.embeddings.float_ == [[0.25, -0.5, 0.75]]
    assert fixed.embeddings.int8 is not None and len(fixed.embeddings.int8[0]) == 3


def test_an_error_fixture_raises_the_sdks_typed_error(co: cohere.ClientV2) -> None:
    with pytest.raises(TooManyRequestsError) as info:
        co.chat(model=MODEL, messages=user("[cohere-limit] hi"), request_options=NO_RETRIES)
    assert info.value.status_code == 429
    assert info.value.body["message"] == "You are past the rate limit"
    with pytest.raises(TooManyRequestsError):
        list(co.chat_stream(model=MODEL, messages=user("[cohere-limit] hi"), request_options=NO_RETRIES))


def test_bad_requests_and_misses_raise_bad_request_and_not_found(co: cohere.ClientV2) -> None:
    with pytest.raises(BadRequestError):
        co.chat(model="", messages=user("[cohere-plain] hi"), request_options=NO_RETRIES)
    with pytest.raises(NotFoundError):
        co.chat(model=MODEL, messages=user("nothing matches this"), request_options=NO_RETRIES)
