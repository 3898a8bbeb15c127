"""The Gemini Interactions API through google-genai's `client.interactions`: create (plain and
streamed step events), chaining stored turns with `previous_interaction_id` (told apart by
`turnIndex` and `toolCallId` fixtures), get / delete / cancel, `store: false`, and typed errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import base64

import pytest
from google import genai
from media_support import TINY_PNG, png_size
from google.genai import _interactions_errors as ierrors
from google.genai import types

MODEL = "gemini-2.5-flash"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}

FIXTURES = {
    "fixtures": [
        {"match": {"userMessage": "[ia] hello"}, "response": {"content": "Hello from the Interactions API."}},
        {"match": {"userMessage": "[ia] count", "turnIndex": 0}, "response": {"content": "first turn"}},
        {"match": {"userMessage": "[ia] count", "turnIndex": 1}, "response": {"content": "second turn"}},
        {
            "match": {"userMessage": "[ia] weather", "toolCallId": "call_w1"},
            "response": {"content": "It is 20C in Paris."},
        },
        {
            "match": {"userMessage": "[ia] weather"},
            "response": {"toolCalls": [{"id": "call_w1", "name": "get_weather", "arguments": '{"city":"Paris"}'}]},
        },
        {
            "match": {"userMessage": "[ia] think"},
            "response": {"content": "42.", "reasoning": "Six times seven.", "usage": {"input_tokens": 7, "output_tokens": 2}},
        },
        {"match": {"systemMessage": "pirate", "userMessage": "[ia] greet"}, "response": {"content": "Ahoy!"}},
        {"match": {"userMessage": "[ia] draw", "endpoint": "image"}, "response": {"image": {"b64Json": TINY_PNG}, "content": "A lighthouse."}},
        {"match": {"userMessage": "[ia] paint"}, "response": {"image": {"url": "https://x/y.png"}}},
        {
            "match": {"userMessage": "[ia] refused"},
            "response": {"error": {"message": "The prompt was blocked.", "type": "invalid_request"}, "status": 400},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "interactions.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture
def client(server: Any) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=server.url, timeout=20_000))


def test_create_answers_with_a_model_output_step_and_usage(client: genai.Client, server: Any) -> None:
    i = client.interactions.create(model=MODEL, input="[ia] hello")
    assert i.status == "completed"
    assert i.id and i.model == MODEL
    assert i.output_text == "Hello from the Interactions API."
    assert [s.type for s in i.steps or []] == ["model_output"]
    assert i.usage is not None and i.usage.total_tokens == (i.usage.total_input_tokens or 0) + (i.usage.total_output_tokens or 0)
    entry = server.journal()[-1]
    assert entry["path"].endswith("/interactions") and entry["response"]["status"] == 200


def test_every_input_form_is_matched(client: genai.Client) -> None:
    forms: list[Any] = [
        "[ia] hello",
        {"type": "text", "text": "[ia] hello"},
        [{"type": "text", "text": "[ia] "}, {"type": "text", "text": "hello"}],
        [{"type": "user_input", "content": [{"type": "text", "text": "[ia] hello"}]}],
    ]
    for form in forms:
        assert client.interactions.create(model=MODEL, input=form).output_text == "Hello from the Interactions API.", form
    greeted = client.interactions.create(model=MODEL, input="[ia] greet", system_instruction="Talk like a pirate.")
    assert greeted.output_text == "Ahoy!"
    assert client.interactions.create(agent="deep-research-pro-preview-12-2025", input="[ia] hello").agent


def test_streamed_events_are_steps_as_the_sdk_parses_them(client: genai.Client) -> None:
    events = list(client.interactions.create(model=MODEL, input="[ia] hello", stream=True))
    kinds = [e.event_type for e in events]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"
    assert {"step.start", "step.delta", "step.stop"} <= set(kinds)
    text = "".join(e.delta.text for e in events if e.event_type == "step.delta" and e.delta.type == "text")
    assert text == "Hello from the Interactions API."
    done = events[-1]
    assert done.interaction.status == "completed" and done.interaction.usage is not None
    assert events[0].interaction.id == done.interaction.id


def test_reasoning_is_a_thought_step_plain_and_streamed(client: genai.Client) -> None:
    i = client.interactions.create(model=MODEL, input="[ia] think")
    assert [s.type for s in i.steps or []] == ["thought", "model_output"]
    assert i.steps[0].summary[0].text == "Six times seven."
    assert i.output_text == "42."
    assert i.usage.total_input_tokens == 7 and i.usage.total_output_tokens == 2 and i.usage.total_thought_tokens
    events = list(client.interactions.create(model=MODEL, input="[ia] think", stream=True))
    thought = [e.delta.content.text for e in events if e.event_type == "step.delta" and e.delta.type == "thought_summary"]
    assert "".join(thought) == "Six times seven."


def test_a_chain_of_stored_turns_matches_by_turn_index(client: genai.Client) -> None:
    first = client.interactions.create(model=MODEL, input="[ia] count")
    assert first.output_text == "first turn"
    second = client.interactions.create(model=MODEL, input="[ia] count", previous_interaction_id=first.id)
    assert second.output_text == "second turn"
    assert second.previous_interaction_id == first.id
    # Without the chain the same input is a first turn again.
    assert client.interactions.create(model=MODEL, input="[ia] count").output_text == "first turn"


def test_a_tool_call_then_its_result_as_the_only_new_turn(client: genai.Client) -> None:
    call = client.interactions.create(model=MODEL, input="[ia] weather", tools=[WEATHER])
    assert call.status == "requires_action"
    step = (call.steps or [])[0]
    assert step.type == "function_call" and step.name == "get_weather" and step.arguments == {"city": "Paris"}
    answer = client.interactions.create(
        model=MODEL,
        previous_interaction_id=call.id,
        input=[{"type": "function_result", "call_id": step.id, "name": "get_weather", "result": "20C"}],
        tools=[WEATHER],
    )
    assert answer.status == "completed" and answer.output_text == "It is 20C in Paris."
    streamed = list(client.interactions.create(model=MODEL, input="[ia] weather", tools=[WEATHER], stream=True))
    start = next(e for e in streamed if e.event_type == "step.start")
    assert start.step.type == "function_call" and start.step.id == "call_w1"
    args = "".join(e.delta.arguments for e in streamed if e.event_type == "step.delta" and e.delta.type == "arguments_delta")
    assert json.loads(args) == {"city": "Paris"}
    assert streamed[-1].interaction.status == "requires_action"


def test_get_and_delete_and_store_false(client: genai.Client, server: Any) -> None:
    i = client.interactions.create(model=MODEL, input="[ia] hello")
    got = client.interactions.get(i.id)
    assert got.id == i.id and got.output_text == "Hello from the Interactions API."
    streamed = list(client.interactions.create(model=MODEL, input="[ia] hello", stream=True))
    assert client.interactions.get(streamed[0].interaction.id).output_text == "Hello from the Interactions API."
    client.interactions.delete(i.id)
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.get(i.id)
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.delete(i.id)
    journaled = [(e["method"], e["response"]["status"]) for e in server.journal() if "/interactions/" in e["path"]]
    assert journaled[-3:] == [("DELETE", 200), ("GET", 404), ("DELETE", 404)]
    unstored = client.interactions.create(model=MODEL, input="[ia] hello", store=False)
    assert unstored.output_text == "Hello from the Interactions API."
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.get(unstored.id)
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.create(model=MODEL, input="[ia] count", previous_interaction_id=unstored.id)


def test_a_background_interaction_is_running_until_read_and_can_be_cancelled(client: genai.Client) -> None:
    bg = client.interactions.create(model=MODEL, input="[ia] hello", background=True)
    assert bg.status == "in_progress" and not bg.steps
    assert client.interactions.get(bg.id).status == "completed"
    with pytest.raises(ierrors.BadRequestError):
        client.interactions.cancel(bg.id)
    other = client.interactions.create(model=MODEL, input="[ia] hello", background=True)
    cancelled = client.interactions.cancel(other.id)
    assert cancelled.status == "cancelled"
    assert client.interactions.get(other.id).status == "cancelled"


def test_errors_are_typed(client: genai.Client, server: Any) -> None:
    with pytest.raises(ierrors.NotFoundError) as e:
        client.interactions.get("v1_unknown")
    assert "v1_unknown" in str(e.value)
    with pytest.raises(ierrors.BadRequestError) as e:
        client.interactions.create(model=MODEL, input="[ia] refused")
    assert "blocked" in str(e.value)
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.create(model=MODEL, input="[ia] nothing matches this")
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.create(model=MODEL, input="[ia] hello", previous_interaction_id="v1_gone")
    # State is cleared by a reset.
    i = client.interactions.create(model=MODEL, input="[ia] hello")
    assert server.request("POST", "/__aimock/reset").status == 200
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.get(i.id)


def test_image_output_is_an_image_content_plain_and_streamed(client: genai.Client) -> None:
    i = client.interactions.create(model="gemini-2.5-flash-image", input="[ia] draw", response_modalities=["text", "image"])
    assert i.output_text == "A lighthouse."
    assert i.output_image is not None and i.output_image.mime_type == "image/png"
    assert base64.b64decode(i.output_image.data) == base64.b64decode(TINY_PNG)
    made = client.interactions.create(
        model="gemini-2.5-flash-image", input="[ia] paint", response_format={"type": "image", "aspect_ratio": "16:9"}
    )
    assert png_size(base64.b64decode(made.output_image.data)) == (1344, 768)
    contents = [c for st in made.steps or [] for c in (st.content or [])]
    assert [c.type for c in contents] == ["image"], "no empty text beside the picture"
    events = list(
        client.interactions.create(
            model="gemini-2.5-flash-image", input="[ia] draw", response_format=[{"type": "text"}, {"type": "image"}], stream=True
        )
    )
    pictures = [e.delta for e in events if e.event_type == "step.delta" and e.delta.type == "image"]
    assert len(pictures) == 1 and base64.b64decode(pictures[0].data) == base64.b64decode(TINY_PNG)
    # An `endpoint: image` fixture does not answer a text request.
    with pytest.raises(ierrors.NotFoundError):
        client.interactions.create(model=MODEL, input="[ia] draw")
