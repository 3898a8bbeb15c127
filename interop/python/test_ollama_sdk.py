"""The official ``ollama`` Python SDK (0.6.3) against aimock's Ollama API.

One server on ``interop/fixtures/ollama``: chat (plain and streamed), tool calls and a multi-turn tool
loop (the SDK drops call ids, so fixtures match with ``hasToolResult`` or the derived
``call_ollama_<name>_<index>`` ids), thinking, generate, embed and a typed error.
"""

from __future__ import annotations

from typing import Any, Iterator

import ollama
import pytest

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server

MODEL = "llama3.2"

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
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


@pytest.fixture(scope="module")
def ollama_server() -> Iterator[AimockServer]:
    server = start_server([FIXTURES_DIR / "ollama"])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def client(ollama_server: AimockServer) -> Iterator[ollama.Client]:
    c = ollama.Client(host=ollama_server.url, timeout=REQUEST_TIMEOUT_S)
    yield c
    c.close()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_chat_returns_the_fixture_reply_with_done_and_metrics(client: ollama.Client) -> None:
    r = client.chat(model=MODEL, messages=user("[ollama-plain] hi"))
    assert r.message.role == "assistant"
    assert r.message.content == "Hello from aimock, answering as Ollama."
    assert r.done is True
    assert r.done_reason == "stop"
    assert r.model == MODEL
    assert r.created_at and r.created_at.endswith("Z")
    assert r.eval_count and r.eval_count > 0
    assert r.prompt_eval_count and r.prompt_eval_count > 0


def test_chat_stream_yields_slices_then_a_done_chunk(client: ollama.Client) -> None:
    parts = list(client.chat(model=MODEL, messages=user("[ollama-stream] go"), stream=True))
    assert len(parts) > 3
    assert "".join(p.message.content or "" for p in parts) == "Streaming works line by line over NDJSON."
    assert all(p.done is False for p in parts[:-1])
    assert parts[-1].done is True
    assert parts[-1].done_reason == "stop"


def test_chat_with_tools_returns_a_tool_call_with_object_arguments(client: ollama.Client) -> None:
    r = client.chat(model=MODEL, messages=user("[ollama-tool] weather in Paris?"), tools=[WEATHER_TOOL])
    calls = r.message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].function.arguments == {"city": "Paris"}


def test_a_multi_turn_tool_loop_ends_with_the_final_answer(client: ollama.Client, ollama_server: AimockServer) -> None:
    messages: list[Any] = user("[ollama-tool] weather in Paris?")
    first = client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    call = (first.message.tool_calls or [])[0]
    messages.append(first.message)
    messages.append({"role": "tool", "content": '{"temp_c": 18, "sky": "sunny"}', "tool_name": call.function.name})
    final = client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert final.message.content == "It is 18 degrees and sunny in Paris."
    assert not final.message.tool_calls
    body = ollama_server.journal()[-1]["body"]
    assert body["messages"][-1]["role"] == "tool"
    assert body["messages"][-1]["tool_call_id"] == "call_ollama_get_weather_0"


def test_a_two_tool_loop_matches_the_second_results_derived_call_id(client: ollama.Client) -> None:
    messages: list[Any] = user("[ollama-two-tools] weather in Paris and time in Tokyo")
    first = client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL])
    calls = first.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    messages.append(first.message)
    messages.append({"role": "tool", "content": "sunny", "tool_name": "get_weather"})
    messages.append({"role": "tool", "content": "12:00", "tool_name": "get_time"})
    final = client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL])
    assert final.message.content == "Paris is sunny and it is noon in Tokyo."


def test_thinking_arrives_in_message_thinking(client: ollama.Client) -> None:
    r = client.chat(model="qwen3", messages=user("[ollama-think] 6*7?"), think=True)
    assert r.message.thinking == "The user wants a number; 6 times 7 is 42."
    assert r.message.content == "42"
    parts = list(client.chat(model="qwen3", messages=user("[ollama-think] 6*7?"), think=True, stream=True))
    assert "".join(p.message.thinking or "" for p in parts) == "The user wants a number; 6 times 7 is 42."
    assert "".join(p.message.content or "" for p in parts) == "42"


def test_generate_plain_and_streamed(client: ollama.Client) -> None:
    r = client.generate(model=MODEL, prompt="[ollama-generate] write", system="be brief")
    assert r.response == "Generated text from the prompt."
    assert r.done is True
    parts = list(client.generate(model=MODEL, prompt="[ollama-generate] write", stream=True))
    assert "".join(p.response or "" for p in parts) == "Generated text from the prompt."
    assert parts[-1].done is True


def test_embed_with_two_inputs_gives_two_vectors(client: ollama.Client) -> None:
    r = client.embed(model="nomic-embed-text", input=["first text", "second text"])
    assert len(r.embeddings) == 2
    assert len(r.embeddings[0]) == 1536
    assert r.embeddings[0] != r.embeddings[1]
    again = client.embed(model="nomic-embed-text", input="first text")
    assert list(again.embeddings[0]) == list(r.embeddings[0])
    fixed = client.embed(model="nomic-embed-text", input="[ollama-embed-fixture]")
    assert [list(e) for e in fixed.embeddings] == [[0.25, -0.5, 0.75]]
    legacy = client.embeddings(model="nomic-embed-text", prompt="[ollama-embed-fixture]")
    assert list(legacy.embedding) == [0.25, -0.5, 0.75]


def test_list_and_show_parse(client: ollama.Client) -> None:
    models = client.list().models
    assert models and all(m.model for m in models)
    shown = client.show(MODEL)
    assert shown.details is not None and shown.details.family
    assert shown.modelinfo


def test_an_error_fixture_raises_response_error_with_status(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model=MODEL, messages=user("[ollama-error] hi"))
    assert info.value.status_code == 503
    assert info.value.error == "model 'llama3.2' is overloaded"
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.chat(model=MODEL, messages=user("[ollama-error] hi"), stream=True))
    assert streamed.value.status_code == 503
