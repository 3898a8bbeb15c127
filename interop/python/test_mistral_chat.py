"""Mistral through the official ``mistralai`` SDK (``Mistral(server_url=<aimock>)``).

The SDK posts to ``/v1/chat/completions`` (OpenAI's path, served by the OpenAI chat handler) and
validates every body and chunk against its own pydantic models.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from mistralai.client import Mistral, errors

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server

MISTRAL_FIXTURES = FIXTURES_DIR / "mistral"
MODEL = "mistral-large-latest"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def mistral_server() -> Iterator[AimockServer]:
    server = start_server([MISTRAL_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def mistral(mistral_server: AimockServer) -> Iterator[Mistral]:
    mistral_server.reset_journal()
    with Mistral(api_key="x", server_url=mistral_server.url, timeout_ms=int(REQUEST_TIMEOUT_S * 1000)) as m:
        yield m


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_chat_complete_returns_the_fixture_text(mistral: Mistral, mistral_server: AimockServer) -> None:
    r = mistral.chat.complete(model=MODEL, messages=user("[mistral-plain]"))
    assert r.model == MODEL
    assert r.object == "chat.completion"
    assert r.id
    choice = r.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message is not None
    assert choice.message.content == "Bonjour from aimock, speaking Mistral."
    assert r.usage.total_tokens == (r.usage.prompt_tokens or 0) + (r.usage.completion_tokens or 0)
    entry = mistral_server.journal()[-1]
    assert entry["path"] == "/v1/chat/completions"
    assert entry["headers"]["user-agent"].startswith("mistral-client-python/")


def test_chat_stream_yields_the_text_in_chunks(mistral: Mistral) -> None:
    events = list(mistral.chat.stream(model=MODEL, messages=user("[mistral-stream]")))
    chunks = [e.data for e in events]
    assert len(chunks) > 2
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and isinstance(c.choices[0].delta.content, str))
    assert text == "Le vent se lève, il faut tenter de vivre."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert len({c.id for c in chunks}) == 1


def test_a_tool_call_and_the_tool_loop(mistral: Mistral) -> None:
    messages: list[Any] = user("[mistral-tool] weather in Lyon?")
    r = mistral.chat.complete(model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto")
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message is not None and choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.id == "call_mistral_1"
    assert call.function.name == "get_weather"
    args = call.function.arguments
    assert (json.loads(args) if isinstance(args, str) else args) == {"city": "Lyon"}
    messages.append(choice.message)
    messages.append({"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": '{"temp_c": 21}'})
    r2 = mistral.chat.complete(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert r2.choices[0].message is not None
    assert r2.choices[0].message.content == "It is 21°C in Lyon."


def test_a_streamed_tool_call_arrives_whole(mistral: Mistral) -> None:
    events = list(mistral.chat.stream(model=MODEL, messages=user("[mistral-tool]"), tools=[WEATHER_TOOL]))
    calls = [tc for e in events if e.data.choices for tc in (e.data.choices[0].delta.tool_calls or [])]
    assert calls and calls[0].function.name == "get_weather"


def test_an_error_status_raises_sdk_error_with_the_body(mistral: Mistral) -> None:
    with pytest.raises(errors.SDKError) as info:
        mistral.chat.complete(model=MODEL, messages=user("[mistral-error]"))
    err = info.value
    assert err.status_code == 429
    assert "Service tier capacity exceeded" in err.body
    with pytest.raises(errors.SDKError) as info:
        mistral.chat.complete(model=MODEL, messages=user("[mistral-bad]"))
    assert info.value.status_code == 400
    assert json.loads(info.value.body)["error"]["message"] == "Invalid model: nope"


def test_a_miss_raises_sdk_error_404(mistral: Mistral) -> None:
    with pytest.raises(errors.SDKError) as info:
        mistral.chat.complete(model=MODEL, messages=user("no fixture for this"))
    assert info.value.status_code == 404
