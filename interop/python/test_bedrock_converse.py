"""AWS Bedrock Converse and ConverseStream through the official ``boto3`` ``bedrock-runtime`` client:
plain replies, the EventStream read through botocore's own event-stream parser, reasoning, tool
calls and a multi-turn tool loop driven by a ``toolCallId`` fixture.

Every test starts its own server on ``interop/fixtures/bedrock`` (``start_aimock``). The client signs
with fake SigV4 credentials, which the server accepts and never checks; the model id's ``:`` reaches
the server as ``%3A``.
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
NON_REASONING_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"

WEATHER_TOOL: dict[str, Any] = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "inputSchema": {
            "json": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["city"],
            }
        },
    }
}
TIME_TOOL: dict[str, Any] = {
    "toolSpec": {
        "name": "get_time",
        "description": "Current time in a timezone",
        "inputSchema": {"json": {"type": "object", "properties": {"timezone": {"type": "string"}}}},
    }
}
ORDER_TOOL: dict[str, Any] = {
    "toolSpec": {
        "name": "lookup_order",
        "inputSchema": {"json": {"type": "object", "properties": {"order_id": {"type": "string"}}}},
    }
}


def make_client(server: AimockServer) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=REQUEST_TIMEOUT_S,
            read_timeout=REQUEST_TIMEOUT_S,
        ),
    )


@pytest.fixture
def bedrock(start_aimock: Callable[..., AimockServer]) -> AimockServer:
    return start_aimock([BEDROCK_FIXTURES])


@pytest.fixture
def client(bedrock: AimockServer) -> Iterator[Any]:
    c = make_client(bedrock)
    yield c
    c.close()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def stream_events(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Every event of a ConverseStream, as botocore parsed it (one key per event)."""
    events = list(response["stream"])
    for e in events:
        assert len(e) == 1, e
    return events


def event_names(events: list[dict[str, Any]]) -> list[str]:
    return [next(iter(e)) for e in events]


def test_converse_returns_the_fixture_text_with_stop_reason_usage_and_metrics(client: Any, bedrock: AimockServer) -> None:
    r = client.converse(modelId=MODEL, messages=user("[br-hello]"), inferenceConfig={"maxTokens": 256})

    assert r["output"]["message"] == {"role": "assistant", "content": [{"text": "Hello from the Bedrock mock!"}]}
    assert r["stopReason"] == "end_turn"
    usage = r["usage"]
    assert usage["inputTokens"] > 0 and usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert r["metrics"]["latencyMs"] >= 0
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["ResponseMetadata"]["RequestId"]

    entry = bedrock.journal()[-1]
    assert entry["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    # The SigV4 signature was sent (the journal redacts it) and accepted unchecked.
    assert "authorization" in entry["headers"]
    assert "x-amz-date" in entry["headers"]
    assert entry["body"]["model"] == MODEL


def test_converse_system_prompt_is_matched(client: Any) -> None:
    r = client.converse(
        modelId=MODEL, system=[{"text": "You are a pirate."}], messages=user("[br-system] hello")
    )

    assert r["output"]["message"]["content"] == [{"text": "Arr, matey!"}]


def test_converse_usage_and_finish_reason_overrides_are_served_in_bedrock_names(client: Any) -> None:
    r = client.converse(modelId=MODEL, messages=user("[br-usage]"))

    assert r["stopReason"] == "max_tokens"
    assert r["usage"] == {"inputTokens": 12, "outputTokens": 2, "totalTokens": 14}


def test_converse_stream_is_read_through_the_sdk_event_stream(client: Any) -> None:
    r = client.converse_stream(modelId=MODEL, messages=user("[br-stream]"))
    events = stream_events(r)

    names = event_names(events)
    assert names[0] == "messageStart"
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert names[-2:] == ["messageStop", "metadata"]
    # AWS sends no contentBlockStart for a text block.
    assert "contentBlockStart" not in names
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    assert len(deltas) == 6  # 44 characters in chunks of 8
    assert all(d["contentBlockIndex"] == 0 for d in deltas)
    assert "".join(d["delta"]["text"] for d in deltas) == "The quick brown fox jumps over the lazy dog."
    assert {"contentBlockStop": {"contentBlockIndex": 0}} in events
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    meta = events[-1]["metadata"]
    assert meta["usage"]["totalTokens"] == meta["usage"]["inputTokens"] + meta["usage"]["outputTokens"]
    assert "latencyMs" in meta["metrics"]


def test_converse_returns_reasoning_first_with_its_signature(client: Any) -> None:
    r = client.converse(modelId=MODEL, messages=user("[br-think] what is 6 x 7?"))

    content = r["output"]["message"]["content"]
    assert content[0] == {
        "reasoningContent": {"reasoningText": {"text": "Six times seven is forty-two.", "signature": "sig-bedrock-1"}}
    }
    assert content[1] == {"text": "The answer is 42."}


def test_converse_stream_reasoning_arrives_as_reasoning_deltas_then_the_signature(client: Any) -> None:
    events = stream_events(client.converse_stream(modelId=MODEL, messages=user("[br-think] what is 6 x 7?")))

    reasoning = [
        e["contentBlockDelta"]["delta"]["reasoningContent"]
        for e in events
        if "reasoningContent" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert "".join(r.get("text", "") for r in reasoning) == "Six times seven is forty-two."
    assert reasoning[-1] == {"signature": "sig-bedrock-1"}
    text = "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )
    assert text == "The answer is 42."
    indexes = sorted({e["contentBlockDelta"]["contentBlockIndex"] for e in events if "contentBlockDelta" in e})
    assert indexes == [0, 1]


def test_a_model_that_does_not_reason_gets_no_reasoning_in_strict_mode(start_aimock: Callable[..., AimockServer]) -> None:
    server = start_aimock([BEDROCK_FIXTURES], args=["--strict"])
    c = make_client(server)
    r = c.converse(modelId=NON_REASONING_MODEL, messages=user("[br-think]"))

    assert r["output"]["message"]["content"] == [{"text": "The answer is 42."}]


def test_converse_tool_call_has_a_tool_use_block_with_the_input_as_a_document(client: Any) -> None:
    r = client.converse(
        modelId=MODEL,
        messages=user("[br-tool] What's the weather in Paris?"),
        toolConfig={"tools": [WEATHER_TOOL]},
    )

    assert r["stopReason"] == "tool_use"
    content = r["output"]["message"]["content"]
    assert len(content) == 1
    tool_use = content[0]["toolUse"]
    assert tool_use["name"] == "get_weather"
    assert tool_use["input"] == {"city": "Paris", "unit": "celsius"}
    assert tool_use["toolUseId"].startswith("tooluse_")


def test_converse_stream_tool_call_opens_the_block_then_streams_its_input(client: Any) -> None:
    events = stream_events(
        client.converse_stream(
            modelId=MODEL, messages=user("[br-tool-with-text] where is my order?"), toolConfig={"tools": [ORDER_TOOL]}
        )
    )

    starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert len(starts) == 1
    assert starts[0]["contentBlockIndex"] == 1
    tool = starts[0]["start"]["toolUse"]
    assert tool["name"] == "lookup_order"
    assert tool["toolUseId"].startswith("tooluse_")
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    text = "".join(d["delta"].get("text", "") for d in deltas if d["contentBlockIndex"] == 0)
    assert text == "Let me look that order up."
    tool_input = "".join(d["delta"]["toolUse"]["input"] for d in deltas if d["contentBlockIndex"] == 1)
    assert len([d for d in deltas if d["contentBlockIndex"] == 1]) > 1
    assert json.loads(tool_input) == {"order_id": "A-17"}
    assert [e["contentBlockStop"]["contentBlockIndex"] for e in events if "contentBlockStop" in e] == [0, 1]
    assert next(e for e in events if "messageStop" in e)["messageStop"]["stopReason"] == "tool_use"


def test_a_multi_turn_tool_loop_answers_the_tool_result_by_its_tool_use_id(client: Any, bedrock: AimockServer) -> None:
    messages = user("[br-tool-loop] What time is it in Berlin?")
    first = client.converse(modelId=MODEL, messages=messages, toolConfig={"tools": [TIME_TOOL]})

    assert first["stopReason"] == "tool_use"
    tool_use = first["output"]["message"]["content"][0]["toolUse"]
    assert tool_use == {
        "toolUseId": "tooluse_loop_berlin_1",
        "name": "get_time",
        "input": {"timezone": "Europe/Berlin"},
    }

    messages.append(first["output"]["message"])
    messages.append(
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": tool_use["toolUseId"],
                        "content": [{"json": {"time": "14:05", "timezone": "Europe/Berlin"}}],
                        "status": "success",
                    }
                }
            ],
        }
    )
    second = client.converse(modelId=MODEL, messages=messages, toolConfig={"tools": [TIME_TOOL]})

    assert second["stopReason"] == "end_turn"
    assert second["output"]["message"]["content"] == [{"text": "It is 14:05 in Berlin."}]
    last = bedrock.journal()[-1]["body"]["messages"][-1]
    assert last["role"] == "tool"
    assert last["tool_call_id"] == "tooluse_loop_berlin_1"


def test_a_multi_turn_tool_loop_also_works_through_converse_stream(client: Any) -> None:
    messages = user("[br-tool-loop] What time is it in Berlin?")
    events = stream_events(client.converse_stream(modelId=MODEL, messages=messages, toolConfig={"tools": [TIME_TOOL]}))
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    tool_id = start["start"]["toolUse"]["toolUseId"]
    tool_input = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e
    )
    messages.append(
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": tool_id, "name": "get_time", "input": json.loads(tool_input)}}]}
    )
    messages.append(
        {"role": "user", "content": [{"toolResult": {"toolUseId": tool_id, "content": [{"text": "14:05"}]}}]}
    )

    events = stream_events(client.converse_stream(modelId=MODEL, messages=messages, toolConfig={"tools": [TIME_TOOL]}))

    text = "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)
    assert text == "It is 14:05 in Berlin."
