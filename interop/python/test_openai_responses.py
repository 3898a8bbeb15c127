"""Responses API through the official openai SDK: text, typed SSE stream, function calls."""

from __future__ import annotations

import json
from typing import Any

import openai
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseTextDeltaEvent,
)

MODEL = "gpt-4o-mini"
TEXT = "Responses API says hello."
STREAM_TEXT = "The Responses stream delivers typed events, one delta at a time."
OSLO = {"city": "Oslo"}
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": False,
}


def assert_sequence_numbers_increase(events: list[Any]) -> None:
    numbers = [e.sequence_number for e in events]
    assert all(isinstance(n, int) for n in numbers), numbers
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers


def test_responses_create_returns_the_fixture_text_as_output_text(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="[resp-text] hello")

    assert isinstance(response, Response)
    assert response.object == "response"
    assert response.id
    assert response.status == "completed"
    assert response.model == MODEL
    assert response.output_text == TEXT
    messages = [item for item in response.output if item.type == "message"]
    assert len(messages) == 1
    message = messages[0]
    assert isinstance(message, ResponseOutputMessage)
    assert message.role == "assistant"
    assert [part.type for part in message.content] == ["output_text"]


def test_responses_instructions_are_matched_as_the_system_message(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, instructions="Answer in French, please.", input="[resp-sys] Say hello"
    )

    assert response.output_text == "Bonjour !"


def test_responses_accepts_a_list_of_message_items_as_input(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "[resp-text] hello as parts"}]},
        ],
    )

    assert response.output_text == TEXT


def test_responses_stream_helper_collects_text_deltas_and_a_completed_event(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="[resp-stream] stream please") as stream:
        events = list(stream)
        final = stream.get_final_response()

    types = [e.type for e in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    for expected in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert expected in types, f"missing {expected} in {types}"
    assert types.index("response.output_item.added") < types.index("response.output_text.delta")
    assert types.index("response.output_text.done") < types.index("response.completed")

    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == STREAM_TEXT
    assert len(deltas) > 1
    done = [e for e in events if e.type == "response.output_text.done"]
    assert len(done) == 1 and done[0].text == STREAM_TEXT
    assert_sequence_numbers_increase(events)

    assert final.output_text == STREAM_TEXT
    assert final.status == "completed"
    created = next(e for e in events if e.type == "response.created")
    assert final.id == created.response.id


def test_responses_create_with_stream_true_yields_typed_events(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model=MODEL, input="[resp-stream] stream please", stream=True))

    assert isinstance(events[0], ResponseCreatedEvent)
    assert isinstance(events[-1], ResponseCompletedEvent)
    deltas = [e for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert "".join(d.delta for d in deltas) == STREAM_TEXT
    assert len({d.item_id for d in deltas}) == 1
    assert all(d.output_index == deltas[0].output_index and d.content_index == 0 for d in deltas)
    completed = events[-1].response
    assert completed.output_text == STREAM_TEXT
    assert completed.id == events[0].response.id


def test_responses_function_call_is_an_output_item_with_name_arguments_and_call_id(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="[resp-tool] weather in Oslo?", tools=[WEATHER_TOOL])

    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather"
    assert call.call_id == "call_resp_oslo_1"
    assert json.loads(call.arguments) == OSLO
    assert response.output_text == ""


def test_streamed_responses_function_call_accumulates_argument_deltas(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="[resp-tool] weather in Oslo?", tools=[WEATHER_TOOL]) as stream:
        events = list(stream)
        final = stream.get_final_response()

    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    added = [e for e in events if e.type == "response.output_item.added"]
    assert len(added) == 1 and added[0].item.type == "function_call"
    assert added[0].item.name == "get_weather"
    assert added[0].item.call_id == "call_resp_oslo_1"

    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert json.loads("".join(deltas)) == OSLO
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(done) == 1 and json.loads(done[0].arguments) == OSLO
    assert_sequence_numbers_increase(events)

    calls = [item for item in final.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].call_id == "call_resp_oslo_1"
    assert calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == OSLO


def test_responses_tool_loop_matches_the_function_call_output_by_call_id(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL,
        tools=[WEATHER_TOOL],
        input=[
            {"role": "user", "content": "[resp-tool] weather in Oslo?"},
            {
                "type": "function_call",
                "call_id": "call_resp_oslo_1",
                "name": "get_weather",
                "arguments": json.dumps(OSLO),
            },
            {"type": "function_call_output", "call_id": "call_resp_oslo_1", "output": "3C, cloudy"},
        ],
    )

    assert response.output_text == "It is 3 degrees in Oslo."
    assert not [item for item in response.output if item.type == "function_call"]
