"""Server-side state of the Responses API through the official openai SDK: `previous_response_id`
chains the stored turns into the matching history, and `responses.retrieve`, `input_items.list`
and `delete` read and forget what the server kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import openai
import pytest

MODEL = "gpt-4o-mini"

# The same user text at three turns: only the history tells them apart (turnIndex counts the
# assistant turns before the request).
FIXTURES = {
    "fixtures": [
        {"match": {"userMessage": "[state] again", "turnIndex": 0}, "response": {"content": "first"}},
        {"match": {"userMessage": "[state] again", "turnIndex": 1}, "response": {"content": "second"}},
        {"match": {"userMessage": "[state] again", "turnIndex": 2}, "response": {"content": "third"}},
        # The tool loop's second leg first: with the stored history its request also ends with
        # the user's "[state] weather" (as a chat client resending the whole history would).
        {"match": {"toolCallId": "call_state_1"}, "response": {"content": "Cold in Oslo."}},
        {
            "match": {"userMessage": "[state] weather"},
            "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}", "id": "call_state_1"}]},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "state.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


def test_previous_response_id_chains_the_stored_turns_into_the_match(sdk: openai.OpenAI) -> None:
    one = sdk.responses.create(model=MODEL, input="[state] again")
    two = sdk.responses.create(model=MODEL, input="[state] again", previous_response_id=one.id)
    three = sdk.responses.create(model=MODEL, input="[state] again", previous_response_id=two.id)
    assert [one.output_text, two.output_text, three.output_text] == ["first", "second", "third"]
    assert three.previous_response_id == two.id
    # Without the chain the same text is the first turn again.
    assert sdk.responses.create(model=MODEL, input="[state] again").output_text == "first"
    # A streamed turn is stored too, and chains the same way.
    with sdk.responses.stream(model=MODEL, input="[state] again", previous_response_id=one.id) as s:
        streamed = s.get_final_response()
    assert streamed.output_text == "second"
    assert sdk.responses.create(model=MODEL, input="[state] again", previous_response_id=streamed.id).output_text == "third"


def test_a_tool_result_sent_alone_is_answered_with_the_stored_call(sdk: openai.OpenAI) -> None:
    call = sdk.responses.create(model=MODEL, input="[state] weather")
    fc = [i for i in call.output if i.type == "function_call"][0]
    assert fc.call_id == "call_state_1"
    answer = sdk.responses.create(
        model=MODEL,
        previous_response_id=call.id,
        input=[{"type": "function_call_output", "call_id": fc.call_id, "output": "{\"temp\": -3}"}],
    )
    assert answer.output_text == "Cold in Oslo."


def test_retrieve_input_items_and_delete(sdk: openai.OpenAI) -> None:
    created = sdk.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "[state] context"},
            {"role": "user", "content": [{"type": "input_text", "text": "[state] again"}]},
        ],
    )
    got = sdk.responses.retrieve(created.id)
    assert got.id == created.id
    assert got.output_text == created.output_text == "first"
    items = sdk.responses.input_items.list(created.id)
    # Newest first by default.
    texts = [i.content[0].text for i in items.data]
    assert texts == ["[state] again", "[state] context"]
    assert all(i.id.startswith("msg_") for i in items.data)
    asc = sdk.responses.input_items.list(created.id, order="asc", limit=1)
    assert [i.content[0].text for i in asc.data] == ["[state] context"]
    assert asc.has_more is True
    rest = sdk.responses.input_items.list(created.id, order="asc", after=asc.data[0].id)
    assert [i.content[0].text for i in rest.data] == ["[state] again"]
    assert rest.has_more is False
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError) as e:
        sdk.responses.retrieve(created.id)
    assert created.id in str(e.value)


def test_unknown_ids_and_store_false_get_the_apis_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        sdk.responses.create(model=MODEL, input="[state] again", previous_response_id="resp_nope")
    assert e.value.code == "previous_response_not_found"
    assert "resp_nope" in e.value.message
    with pytest.raises(openai.NotFoundError):
        sdk.responses.input_items.list("resp_nope")
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete("resp_nope")
    unstored = sdk.responses.create(model=MODEL, input="[state] again", store=False)
    assert unstored.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(unstored.id)
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model=MODEL, input="[state] again", previous_response_id=unstored.id)


def test_a_reset_forgets_the_stored_responses(server: Any, sdk: openai.OpenAI) -> None:
    kept = sdk.responses.create(model=MODEL, input="[state] again")
    assert server.request("POST", "/__aimock/reset").status == 200
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(kept.id)


def test_a_conversation_is_the_history_and_keeps_every_turn(sdk: openai.OpenAI) -> None:
    conv = sdk.conversations.create(
        items=[{"type": "message", "role": "user", "content": "[state] context"}],
        metadata={"topic": "trip"},
    )
    assert conv.id.startswith("conv_")
    assert conv.metadata == {"topic": "trip"}
    answers = []
    for _ in range(3):
        r = sdk.responses.create(model=MODEL, input="[state] again", conversation=conv.id)
        assert r.conversation is not None and r.conversation.id == conv.id
        answers.append(r.output_text)
    # Each turn was matched with the conversation so far: turnIndex 0, 1, 2.
    assert answers == ["first", "second", "third"]
    items = sdk.conversations.items.list(conv.id, order="asc", limit=100)
    said = [(i.role, i.content[0].text) for i in items.data if i.type == "message"]
    assert said == [
        ("user", "[state] context"),
        ("user", "[state] again"),
        ("assistant", "first"),
        ("user", "[state] again"),
        ("assistant", "second"),
        ("user", "[state] again"),
        ("assistant", "third"),
    ]
    newest = sdk.conversations.items.list(conv.id, limit=1)
    assert newest.data[0].content[0].text == "third" and newest.has_more is True
    first = items.data[0]
    assert sdk.conversations.items.retrieve(first.id, conversation_id=conv.id).id == first.id
    added = sdk.conversations.items.create(
        conv.id, items=[{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "[state] more"}]}]
    )
    assert [i.content[0].text for i in added.data] == ["[state] more"]
    assert sdk.conversations.items.delete(first.id, conversation_id=conv.id).id == conv.id
    with pytest.raises(openai.NotFoundError):
        sdk.conversations.items.retrieve(first.id, conversation_id=conv.id)
    assert sdk.conversations.update(conv.id, metadata={"topic": "home"}).metadata == {"topic": "home"}
    assert sdk.conversations.retrieve(conv.id).metadata == {"topic": "home"}
    deleted = sdk.conversations.delete(conv.id)
    assert deleted.deleted is True and deleted.id == conv.id
    with pytest.raises(openai.NotFoundError):
        sdk.conversations.retrieve(conv.id)


def test_conversation_errors_are_the_apis(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as e:
        sdk.responses.create(model=MODEL, input="[state] again", conversation="conv_nope")
    assert "conv_nope" in e.value.message
    conv = sdk.conversations.create()
    first = sdk.responses.create(model=MODEL, input="[state] again")
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.responses.create(model=MODEL, input="[state] again", conversation=conv.id, previous_response_id=first.id)
    assert bad.value.code == "mutually_exclusive_parameters"
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.conversations.items.create(conv.id, items=[{"type": "message", "role": "robot", "content": "x"}])
    assert bad.value.param == "items[0].role"
    with pytest.raises(openai.NotFoundError):
        sdk.conversations.items.list("conv_nope")
