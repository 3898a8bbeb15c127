"""Tool calling through Chat Completions: single, parallel, streamed, and a multi-turn loop."""

from __future__ import annotations

import json
from typing import Any

import openai
from openai.types.chat import ChatCompletionChunk

MODEL = "gpt-4o-mini"

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a timezone",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
    },
}
ORDER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    },
}

PARIS = {"city": "Paris", "unit": "celsius"}
TOKYO = {"timezone": "Asia/Tokyo"}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def accumulate_tool_calls(chunks: list[ChatCompletionChunk]) -> dict[int, dict[str, Any]]:
    """Merge streamed tool-call deltas by index, the way an SDK consumer does."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                acc = calls.setdefault(tc.index, {"ids": [], "type": None, "name": "", "arguments": "", "deltas": 0})
                acc["deltas"] += 1
                if tc.id:
                    acc["ids"].append(tc.id)
                if tc.type:
                    acc["type"] = tc.type
                if tc.function is not None:
                    acc["name"] += tc.function.name or ""
                    acc["arguments"] += tc.function.arguments or ""
    return calls


def test_chat_with_tools_returns_a_tool_call_with_parsed_arguments(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=user("[tool-single] What's the weather in Paris?"), tools=[WEATHER_TOOL]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.role == "assistant"
    assert not choice.message.content
    calls = choice.message.tool_calls or []
    assert len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == PARIS


def test_tool_name_matcher_needs_the_tool_to_be_declared(client: openai.OpenAI) -> None:
    try:
        client.chat.completions.create(model=MODEL, messages=user("[tool-single] no tools declared"))
    except openai.NotFoundError as err:
        assert err.status_code == 404
    else:
        raise AssertionError("toolName fixture must not match a request without that tool")


def test_parallel_tool_calls_come_back_as_two_calls_with_distinct_ids(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=user("[tool-parallel] Paris weather and Tokyo time"), tools=[WEATHER_TOOL, TIME_TOOL]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c.function.arguments) for c in calls] == [PARIS, TOKYO]
    ids = [c.id for c in calls]
    assert all(ids) and len(set(ids)) == 2


def test_streamed_parallel_tool_calls_accumulate_by_index_zero_and_one(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=user("[tool-parallel] Paris weather and Tokyo time"),
            tools=[WEATHER_TOOL, TIME_TOOL],
            stream=True,
        )
    )

    assert chunks[0].choices[0].delta.role == "assistant"
    calls = accumulate_tool_calls(chunks)
    assert sorted(calls) == [0, 1]
    for index, (name, args) in enumerate([("get_weather", PARIS), ("get_time", TOKYO)]):
        acc = calls[index]
        assert acc["type"] == "function"
        assert acc["name"] == name, "the function name is sent once, on the first delta of the call"
        assert len(acc["ids"]) == 1 and acc["ids"][0], "the call id is sent once, on the first delta of the call"
        assert json.loads(acc["arguments"]) == args
    assert calls[0]["ids"][0] != calls[1]["ids"][0]

    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]


def test_stream_helper_rebuilds_parallel_tool_calls_in_the_final_completion(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=user("[tool-parallel] Paris weather and Tokyo time"), tools=[WEATHER_TOOL, TIME_TOOL]
    ) as stream:
        arg_events = [e for e in stream if e.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()

    calls = final.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c.function.arguments) for c in calls] == [PARIS, TOKYO]
    assert final.choices[0].finish_reason == "tool_calls"
    assert {e.index for e in arg_events} == {0, 1}


def test_content_and_tool_calls_from_one_fixture_arrive_together(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=user("[tool-with-text] where is order A-17?"), tools=[ORDER_TOOL]
    )

    message = completion.choices[0].message
    assert message.content == "Let me look that order up."
    calls = message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].function.name == "lookup_order"
    assert json.loads(calls[0].function.arguments) == {"order_id": "A-17"}
    assert completion.choices[0].finish_reason == "tool_calls"


def test_multi_turn_tool_loop_matches_the_tool_result_by_tool_call_id(client: openai.OpenAI) -> None:
    messages: list[dict[str, Any]] = user("[tool-loop] What time is it in Berlin?")
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[TIME_TOOL])

    calls = first.choices[0].message.tool_calls or []
    assert len(calls) == 1
    call = calls[0]
    assert call.id == "call_loop_berlin_1", "the fixture's id is used verbatim"
    assert call.function.name == "get_time"
    assert json.loads(call.function.arguments) == {"timezone": "Europe/Berlin"}

    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "14:05"})
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[TIME_TOOL])

    assert second.choices[0].message.content == "It is 14:05 in Berlin."
    assert second.choices[0].finish_reason == "stop"
    assert not second.choices[0].message.tool_calls


def test_stream_helper_keeps_the_fixture_tool_call_id_intact(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=user("[tool-loop] What time is it in Berlin?"), tools=[TIME_TOOL]
    ) as stream:
        final = stream.get_final_completion()

    calls = final.choices[0].message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].id == "call_loop_berlin_1"
    assert calls[0].type == "function"
    assert calls[0].function.name == "get_time"
    assert json.loads(calls[0].function.arguments) == {"timezone": "Europe/Berlin"}
