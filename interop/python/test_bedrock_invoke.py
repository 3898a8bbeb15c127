"""AWS Bedrock InvokeModel and InvokeModelWithResponseStream (Anthropic Messages bodies) through the
official ``boto3`` ``bedrock-runtime`` client: the JSON reply is an Anthropic message; the stream's
``chunk`` events carry each Anthropic event as base64 ``bytes`` (botocore decodes them), read through
botocore's own event-stream parser.

Every test starts its own server on ``interop/fixtures/bedrock`` (``start_aimock``).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer

BEDROCK_FIXTURES = FIXTURES_DIR / "bedrock"
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME_TOOL: dict[str, Any] = {
    "name": "get_time",
    "input_schema": {"type": "object", "properties": {"timezone": {"type": "string"}}},
}


@pytest.fixture
def bedrock(start_aimock: Callable[..., AimockServer]) -> AimockServer:
    return start_aimock([BEDROCK_FIXTURES])


@pytest.fixture
def client(bedrock: AimockServer) -> Iterator[Any]:
    c = boto3.client(
        "bedrock-runtime",
        endpoint_url=bedrock.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=REQUEST_TIMEOUT_S,
            read_timeout=REQUEST_TIMEOUT_S,
        ),
    )
    yield c
    c.close()


def anthropic_body(messages: list[dict[str, Any]] | str, **extra: Any) -> str:
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 512, "messages": messages, **extra}
    return json.dumps(body)


def invoke(client: Any, body: str) -> dict[str, Any]:
    r = client.invoke_model(modelId=MODEL, body=body, contentType="application/json", accept="application/json")
    assert r["contentType"] == "application/json"
    return json.loads(r["body"].read())


def invoke_stream(client: Any, body: str) -> list[dict[str, Any]]:
    r = client.invoke_model_with_response_stream(modelId=MODEL, body=body, contentType="application/json")
    assert r["contentType"] == "application/json"
    events = []
    for event in r["body"]:
        assert list(event) == ["chunk"], event
        raw = event["chunk"]["bytes"]
        assert isinstance(raw, bytes)
        events.append(json.loads(raw))
    return events


def test_invoke_model_returns_an_anthropic_message(client: Any, bedrock: AimockServer) -> None:
    msg = invoke(client, anthropic_body("[br-hello]"))

    assert msg["type"] == "message"
    assert msg["role"] == "assistant"
    assert msg["content"] == [{"type": "text", "text": "Hello from the Bedrock mock!"}]
    assert msg["stop_reason"] == "end_turn"
    assert msg["usage"]["input_tokens"] > 0 and msg["usage"]["output_tokens"] > 0
    assert msg["id"]
    entry = bedrock.journal()[-1]
    assert entry["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"
    assert entry["body"]["model"] == MODEL


def test_invoke_model_system_prompt_is_matched(client: Any) -> None:
    msg = invoke(client, anthropic_body("[br-system] hi", system="You are a pirate."))

    assert msg["content"] == [{"type": "text", "text": "Arr, matey!"}]


def test_invoke_stream_decodes_to_the_anthropic_events_in_order(client: Any) -> None:
    events = invoke_stream(client, anthropic_body("[br-stream]"))

    types = [e["type"] for e in events]
    assert types[0] == "message_start"
    assert types[1] == "content_block_start"
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[0]["message"]["role"] == "assistant"
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "The quick brown fox jumps over the lazy dog."
    assert len([e for e in events if e["type"] == "content_block_delta"]) == 6
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] > 0
    assert metrics["outputTokenCount"] == events[-2]["usage"]["output_tokens"]


def test_invoke_stream_carries_thinking_with_its_signature(client: Any) -> None:
    events = invoke_stream(
        client, anthropic_body("[br-think] 6 x 7?", thinking={"type": "enabled", "budget_tokens": 1024})
    )

    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    thinking = "".join(d.get("thinking", "") for d in deltas if d["type"] == "thinking_delta")
    assert thinking == "Six times seven is forty-two."
    assert [d["signature"] for d in deltas if d["type"] == "signature_delta"] == ["sig-bedrock-1"]
    text = "".join(d["text"] for d in deltas if d["type"] == "text_delta")
    assert text == "The answer is 42."


def test_invoke_model_tool_call_is_a_tool_use_block(client: Any) -> None:
    msg = invoke(client, anthropic_body("[br-tool] weather in Paris?", tools=[WEATHER_TOOL]))

    assert msg["stop_reason"] == "tool_use"
    (block,) = msg["content"]
    assert block["type"] == "tool_use"
    assert block["name"] == "get_weather"
    assert block["input"] == {"city": "Paris", "unit": "celsius"}
    assert block["id"]


def test_invoke_multi_turn_tool_loop_answers_the_tool_result_by_its_id(client: Any) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "[br-tool-loop] time in Berlin?"}]
    first = invoke(client, anthropic_body(messages, tools=[TIME_TOOL]))
    (tool_use,) = first["content"]
    assert tool_use["id"] == "tooluse_loop_berlin_1"

    messages.append({"role": "assistant", "content": first["content"]})
    messages.append(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "14:05"}]}
    )
    second = invoke(client, anthropic_body(messages, tools=[TIME_TOOL]))

    assert second["content"] == [{"type": "text", "text": "It is 14:05 in Berlin."}]
    assert second["stop_reason"] == "end_turn"


def test_invoke_stream_tool_call_streams_the_input_json(client: Any) -> None:
    events = invoke_stream(client, anthropic_body("[br-tool] weather in Paris?", tools=[WEATHER_TOOL]))

    start = next(e for e in events if e["type"] == "content_block_start")
    assert start["content_block"]["type"] == "tool_use"
    assert start["content_block"]["name"] == "get_weather"
    partial = "".join(
        e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"
    )
    assert json.loads(partial) == {"city": "Paris", "unit": "celsius"}
    assert next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"] == "tool_use"
