"""Anthropic Messages through the official ``anthropic`` SDK: plain and streamed replies, tool
calls, multi-turn tool loops, extended thinking, typed errors, count_tokens, and Anthropic models
on Vertex AI (``AnthropicVertex``).

One server on ``interop/fixtures/anthropic`` serves the whole module.
"""

from __future__ import annotations

from typing import Any, Iterator

import anthropic
import pytest
from anthropic.types import Message, TextBlock, ThinkingBlock, ToolUseBlock

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server, strict_validation

ANTHROPIC_FIXTURES = FIXTURES_DIR / "anthropic"
MODEL = "claude-sonnet-4-6"
API_KEY = "sk-ant-test"

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
    },
}
TIME_TOOL: dict[str, Any] = {
    "name": "get_time",
    "description": "Current time in a timezone",
    "input_schema": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
}
ORDER_TOOL: dict[str, Any] = {
    "name": "lookup_order",
    "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
}
THINKING = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[AimockServer]:
    server = start_server([ANTHROPIC_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def client(anthropic_server: AimockServer) -> Iterator[anthropic.Anthropic]:
    anthropic_server.reset_journal()
    c = anthropic.Anthropic(
        base_url=anthropic_server.url,
        api_key=API_KEY,
        max_retries=0,
        timeout=REQUEST_TIMEOUT_S,
        _strict_response_validation=strict_validation(),
    )
    yield c
    c.close()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_a_plain_message_returns_the_fixture_text(client: anthropic.Anthropic, anthropic_server: AimockServer) -> None:
    msg = client.messages.create(model=MODEL, max_tokens=256, messages=user("[plain] hi"))
    assert isinstance(msg, Message)
    assert msg.id.startswith("msg_")
    assert msg._request_id and msg._request_id.startswith("req_")
    assert msg.role == "assistant"
    assert msg.model == MODEL
    assert msg.stop_reason == "end_turn"
    assert msg.stop_sequence is None
    assert len(msg.content) == 1
    block = msg.content[0]
    assert isinstance(block, TextBlock)
    assert block.text == "Hello from the Anthropic mock."
    assert msg.usage.input_tokens > 0
    assert msg.usage.output_tokens > 0
    assert msg.usage.cache_read_input_tokens == 0

    # The SDK sends its key as a Bearer token and its own anthropic-version; both are accepted.
    entry = anthropic_server.journal()[-1]
    assert entry["path"] == "/v1/messages"
    assert entry["response"]["status"] == 200


def test_messages_stream_delivers_the_text_through_the_sdk_stream(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=256, messages=user("[stream] count")) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "One, two, three, four, five."
    assert len(pieces) == 6  # chunkSize 5
    assert final.stop_reason == "end_turn"
    assert isinstance(final.content[0], TextBlock)
    assert final.content[0].text == "One, two, three, four, five."
    assert final.usage.output_tokens > 0


def test_raw_stream_events_arrive_in_the_api_order(client: anthropic.Anthropic) -> None:
    events = list(client.messages.create(model=MODEL, max_tokens=256, messages=user("[plain]"), stream=True))
    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[1] == "content_block_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    assert "content_block_stop" in types


def test_a_tool_call_is_a_tool_use_block(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model=MODEL, max_tokens=256, tools=[WEATHER_TOOL], messages=user("[tool-single] weather in Paris?")
    )
    assert msg.stop_reason == "tool_use"
    (block,) = msg.content
    assert isinstance(block, ToolUseBlock)
    assert block.id.startswith("toolu_")
    assert block.name == "get_weather"
    assert block.input == {"city": "Paris", "unit": "celsius"}


def test_a_streamed_tool_call_is_reassembled_by_the_sdk(client: anthropic.Anthropic) -> None:
    partials: list[str] = []
    with client.messages.stream(
        model=MODEL, max_tokens=256, tools=[WEATHER_TOOL], messages=user("[tool-single] weather in Paris?")
    ) as stream:
        for event in stream:
            if event.type == "input_json":
                partials.append(event.partial_json)
        final = stream.get_final_message()
    assert len([p for p in partials if p]) > 1  # chunkSize 6: the input arrives in pieces
    (block,) = final.content
    assert isinstance(block, ToolUseBlock)
    assert block.input == {"city": "Paris", "unit": "celsius"}
    assert final.stop_reason == "tool_use"


def test_a_multi_turn_tool_loop_by_tool_call_id_ends_with_the_final_answer(client: anthropic.Anthropic) -> None:
    messages: list[Any] = user("[tool-loop] what time is it in Berlin?")
    first = client.messages.create(model=MODEL, max_tokens=256, tools=[TIME_TOOL], messages=messages)
    assert first.stop_reason == "tool_use"
    assert isinstance(first.content[0], TextBlock)
    assert first.content[0].text == "Let me check the time."
    call = first.content[1]
    assert isinstance(call, ToolUseBlock)
    assert call.id == "toolu_loop_berlin_1"
    assert call.input == {"timezone": "Europe/Berlin"}

    messages = [
        *messages,
        first.to_param(),
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "14:05"}]},
    ]
    final = client.messages.create(model=MODEL, max_tokens=256, tools=[TIME_TOOL], messages=messages)
    assert final.stop_reason == "end_turn"
    assert isinstance(final.content[0], TextBlock)
    assert final.content[0].text == "It is 14:05 in Berlin."


def test_a_streamed_tool_loop_driven_by_has_tool_result(client: anthropic.Anthropic) -> None:
    messages: list[Any] = user("[tool-result-loop] where is order A-17?")
    with client.messages.stream(model=MODEL, max_tokens=256, tools=[ORDER_TOOL], messages=messages) as stream:
        first = stream.get_final_message()
    call = first.content[0]
    assert isinstance(call, ToolUseBlock)
    assert call.name == "lookup_order"
    assert call.input == {"order_id": "A-17"}

    messages = [
        *messages,
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": [{"type": "text", "text": "shipped"}]}],
        },
    ]
    with client.messages.stream(model=MODEL, max_tokens=256, tools=[ORDER_TOOL], messages=messages) as stream:
        text = "".join(stream.text_stream)
    assert text == "The order ships tomorrow."


def test_extended_thinking_returns_a_signed_thinking_block_first(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model=MODEL, max_tokens=2048, thinking=THINKING, messages=user("[thinking] what is six times seven?")
    )
    thinking, text = msg.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == "Six times seven: six sevens are forty-two."
    assert thinking.signature == "EqQBCgIYAhIM-recorded-signature"
    assert isinstance(text, TextBlock)
    assert text.text == "42"


def test_streamed_thinking_sends_thinking_then_signature_events(client: anthropic.Anthropic) -> None:
    thinking: list[str] = []
    signatures: list[str] = []
    with client.messages.stream(
        model=MODEL, max_tokens=2048, thinking=THINKING, messages=user("[thinking] what is six times seven?")
    ) as stream:
        for event in stream:
            if event.type == "thinking":
                thinking.append(event.thinking)
            elif event.type == "signature":
                signatures.append(event.signature)
        final = stream.get_final_message()
    assert len(thinking) > 1  # chunkSize 8
    assert "".join(thinking) == "Six times seven: six sevens are forty-two."
    assert signatures == ["EqQBCgIYAhIM-recorded-signature"]
    block = final.content[0]
    assert isinstance(block, ThinkingBlock)
    assert block.signature == "EqQBCgIYAhIM-recorded-signature"


def test_a_thinking_tool_loop_passes_the_signed_block_back(client: anthropic.Anthropic) -> None:
    strict = {"x-aimock-strict": "true"}
    messages: list[Any] = user("[thinking-tool] weather in Rome?")
    first = client.messages.create(
        model=MODEL, max_tokens=2048, thinking=THINKING, tools=[WEATHER_TOOL], messages=messages, extra_headers=strict
    )
    thinking, call = first.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.signature == "sig-think-1"
    assert isinstance(call, ToolUseBlock)
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "21C, sunny"}]}

    final = client.messages.create(
        model=MODEL,
        max_tokens=2048,
        thinking=THINKING,
        tools=[WEATHER_TOOL],
        messages=[*messages, first.to_param(), result],
        extra_headers=strict,
    )
    assert isinstance(final.content[-1], TextBlock)
    assert final.content[-1].text == "It is 21 degrees and sunny in Rome."

    # Dropping the thinking block is what the real API rejects; strict mode does too.
    with pytest.raises(anthropic.BadRequestError) as err:
        client.messages.create(
            model=MODEL,
            max_tokens=2048,
            thinking=THINKING,
            tools=[WEATHER_TOOL],
            messages=[*messages, {"role": "assistant", "content": [call]}, result],
            extra_headers=strict,
        )
    assert err.value.status_code == 400
    assert isinstance(err.value.body, dict)
    assert err.value.body["error"]["type"] == "invalid_request_error"
    assert "thinking" in err.value.body["error"]["message"]


def test_a_rate_limit_fixture_raises_rate_limit_error(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as err:
        client.messages.create(model=MODEL, max_tokens=256, messages=user("[rate-limit]"))
    e = err.value
    assert e.status_code == 429
    assert e.response.headers["retry-after"] == "3"
    assert e.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert e.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"},
        "request_id": e.request_id,
    }
    assert e.request_id and e.request_id.startswith("req_")


def test_a_rate_limit_on_a_stream_raises_before_any_event(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError):
        with client.messages.stream(model=MODEL, max_tokens=256, messages=user("[rate-limit]")) as stream:
            list(stream.text_stream)


def test_server_errors_raise_typed_errors(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.InternalServerError) as err:
        client.messages.create(model=MODEL, max_tokens=256, messages=user("[server-error]"))
    assert err.value.status_code == 500
    assert isinstance(err.value.body, dict)
    assert err.value.body["error"]["type"] == "api_error"
    with pytest.raises(anthropic.OverloadedError) as over:
        client.messages.create(model=MODEL, max_tokens=256, messages=user("[overloaded]"))
    assert over.value.status_code == 529


def test_a_miss_raises_not_found_error(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as err:
        client.messages.create(model=MODEL, max_tokens=256, messages=user("nothing matches this"))
    assert err.value.status_code == 404
    assert isinstance(err.value.body, dict)
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == "not_found_error"
    assert err.value.body["error"]["message"].startswith("No fixture matched")


def test_count_tokens_returns_an_estimate(client: anthropic.Anthropic) -> None:
    count = client.messages.count_tokens(
        model=MODEL, system="Be brief.", messages=user("[plain] hi"), tools=[WEATHER_TOOL]
    )
    assert count.input_tokens > 0


def test_anthropic_vertex_raw_predict_and_stream_raw_predict(anthropic_server: AimockServer) -> None:
    anthropic_server.reset_journal()
    vertex = anthropic.AnthropicVertex(
        region="us-east5",
        project_id="my-project",
        access_token="ya29.test-token",
        base_url=anthropic_server.url + "/v1",
        max_retries=0,
        timeout=REQUEST_TIMEOUT_S,
        _strict_response_validation=strict_validation(),
    )
    try:
        model = "claude-haiku-4-5@20251001"
        msg = vertex.messages.create(model=model, max_tokens=256, messages=user("[plain] hi"))
        assert isinstance(msg.content[0], TextBlock)
        assert msg.content[0].text == "Hello from the Anthropic mock."
        assert msg.model == model

        with vertex.messages.stream(model=model, max_tokens=256, messages=user("[stream] count")) as stream:
            text = "".join(stream.text_stream)
        assert text == "One, two, three, four, five."

        with pytest.raises(anthropic.RateLimitError):
            vertex.messages.create(model=model, max_tokens=256, messages=user("[rate-limit]"))

        paths = [e["path"] for e in anthropic_server.journal()]
        base = "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/"
        assert paths[0].startswith(base) and paths[0].endswith(":rawPredict"), paths
        assert paths[1].startswith(base) and paths[1].endswith(":streamRawPredict"), paths
    finally:
        vertex.close()
