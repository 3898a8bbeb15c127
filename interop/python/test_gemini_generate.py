"""Gemini Developer API through the official ``google-genai`` SDK: generate_content, streaming,
function calls and tool loops, thinking, JSON mode, embeddings, countTokens and typed errors.

Every test starts its own server on ``interop/fixtures/gemini`` (``start_aimock``). The SDK calls
``/v1`` by default; one test checks ``/v1beta`` as well.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from google import genai
from google.genai import errors, types

from conftest import FIXTURES_DIR, AimockServer

GEMINI_FIXTURES = FIXTURES_DIR / "gemini"
MODEL = "gemini-2.5-flash"

WEATHER_DECL = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
)
TIME_DECL = types.FunctionDeclaration(
    name="get_time",
    description="Current time in a timezone",
    parameters_json_schema={"type": "object", "properties": {"timezone": {"type": "string"}}},
)
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


@pytest.fixture
def gemini(start_aimock: Callable[..., AimockServer]) -> AimockServer:
    return start_aimock([GEMINI_FIXTURES])


def make_client(server: AimockServer, **http: Any) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=server.url, timeout=20_000, **http))


@pytest.fixture
def client(gemini: AimockServer) -> genai.Client:
    return make_client(gemini)


def test_generate_content_returns_the_fixture_text_with_stop_and_usage(client: genai.Client, gemini: AimockServer) -> None:
    r = client.models.generate_content(model=MODEL, contents="[gemini-hello]")

    assert r.text == "Hello from the Gemini mock! How can I help?"
    cand = r.candidates[0]
    assert cand.finish_reason == types.FinishReason.STOP
    assert cand.content.role == "model"
    assert r.model_version == MODEL
    assert r.response_id
    usage = r.usage_metadata
    assert usage.prompt_token_count > 0 and usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert usage.thoughts_token_count is None
    entry = gemini.journal()[-1]
    assert entry["path"] == f"/v1/models/{MODEL}:generateContent"
    assert entry["response"]["status"] == 200


def test_the_v1beta_api_version_is_served_too(gemini: AimockServer) -> None:
    client = make_client(gemini, api_version="v1beta")
    r = client.models.generate_content(model=MODEL, contents="[gemini-hello]")

    assert r.text == "Hello from the Gemini mock! How can I help?"
    assert gemini.journal()[-1]["path"] == f"/v1beta/models/{MODEL}:generateContent"


def test_generate_content_stream_delivers_text_slices_with_the_finish_reason_last(
    client: genai.Client, gemini: AimockServer
) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="[gemini-stream]"))

    texts = [c.text for c in chunks]
    assert "".join(texts) == "Streaming replies arrive one slice at a time."
    assert len(chunks) == 5  # chunkSize 10
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count > 0
    assert len({c.response_id for c in chunks}) == 1
    entry = gemini.journal()[-1]
    assert entry["path"] == f"/v1/models/{MODEL}:streamGenerateContent?alt=sse"
    assert entry["body"]["stream"] is True


def test_chat_sessions_send_the_history_and_get_the_reply(client: genai.Client) -> None:
    chat = client.chats.create(model=MODEL)
    assert chat.send_message("[gemini-hello]").text == "Hello from the Gemini mock! How can I help?"
    assert chat.send_message("[gemini-stream] again").text == "Streaming replies arrive one slice at a time."
    assert len(chat.get_history()) == 4


def test_a_function_call_has_an_id_name_and_object_args_and_finishes_stop(client: genai.Client, gemini: AimockServer) -> None:
    r = client.models.generate_content(
        model=MODEL,
        contents="[gemini-tool] What's the weather in Paris?",
        config=types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER_DECL])], automatic_function_calling=NO_AFC),
    )

    calls = r.function_calls or []
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert calls[0].args == {"city": "Paris", "unit": "celsius"}
    assert calls[0].id == "call_gemini_get_weather_0"
    # Gemini has no FUNCTION_CALL finish reason: a function-call turn finishes STOP.
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.text is None
    assert gemini.journal()[-1]["body"]["tools"][0]["function"]["name"] == "get_weather"


def test_a_streamed_function_call_arrives_whole_in_the_last_chunk(client: genai.Client) -> None:
    chunks = list(
        client.models.generate_content_stream(
            model=MODEL,
            contents="[gemini-tool] weather?",
            config=types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER_DECL])], automatic_function_calling=NO_AFC),
        )
    )

    assert len(chunks) == 1
    call = chunks[0].function_calls[0]
    assert (call.name, call.args) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    assert chunks[0].candidates[0].finish_reason == types.FinishReason.STOP


def test_a_tool_loop_is_matched_by_the_function_call_id_sent_back(client: genai.Client, gemini: AimockServer) -> None:
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[TIME_DECL])], automatic_function_calling=NO_AFC)
    history: list[types.Content] = [types.Content(role="user", parts=[types.Part.from_text(text="[gemini-loop] time in Berlin?")])]
    first = client.models.generate_content(model=MODEL, contents=history, config=config)
    call = first.function_calls[0]
    assert call.id == "call_gemini_loop_1"
    assert call.args == {"timezone": "Europe/Berlin"}

    history.append(first.candidates[0].content)
    history.append(
        types.Content(
            role="user",
            parts=[types.Part(function_response=types.FunctionResponse(id=call.id, name=call.name, response={"time": "14:05"}))],
        )
    )
    final = client.models.generate_content(model=MODEL, contents=history, config=config)

    assert final.text == "It is 14:05 in Berlin."
    body = gemini.journal()[-1]["body"]
    assert body["messages"][-1] == {"role": "tool", "content": '{"time":"14:05"}', "tool_call_id": "call_gemini_loop_1"}


def test_a_tool_loop_without_ids_is_matched_by_has_tool_result(client: genai.Client, gemini: AimockServer) -> None:
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER_DECL])], automatic_function_calling=NO_AFC)
    first = client.models.generate_content(model=MODEL, contents="[gemini-loop-noid] Paris?", config=config)
    call = first.function_calls[0]
    history = [
        types.Content(role="user", parts=[types.Part.from_text(text="[gemini-loop-noid] Paris?")]),
        # A client that drops ids: the call and its response carry only the name.
        types.Content(role="model", parts=[types.Part.from_function_call(name=call.name, args=call.args)]),
        types.Content(role="user", parts=[types.Part.from_function_response(name=call.name, response={"sky": "sunny"})]),
    ]
    final = client.models.generate_content(model=MODEL, contents=history, config=config)

    assert final.text == "Paris is sunny, 21 degrees."
    # The response is tied to the call by name, with the id we would have generated.
    tool_msg = gemini.journal()[-1]["body"]["messages"][-1]
    assert tool_msg["tool_call_id"] == "call_gemini_get_weather_0"


def test_automatic_function_calling_runs_the_whole_loop_through_the_sdk(client: genai.Client) -> None:
    seen: list[str] = []

    def get_weather(city: str) -> dict:
        """Current weather for a city."""
        seen.append(city)
        return {"sky": "sunny", "temp": 21}

    chat = client.chats.create(model=MODEL, config=types.GenerateContentConfig(tools=[get_weather]))
    r = chat.send_message("[gemini-loop-noid] What's the weather in Paris?")

    assert seen == ["Paris"]
    assert r.text == "Paris is sunny, 21 degrees."


def test_thought_parts_come_first_when_thoughts_are_included(client: genai.Client) -> None:
    r = client.models.generate_content(
        model=MODEL,
        contents="[gemini-think] six times seven?",
        config=types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True)),
    )

    parts = r.candidates[0].content.parts
    assert parts[0].thought is True
    assert parts[0].text == "The user wants a number. Six times seven is forty-two."
    assert parts[1].thought is None and parts[1].text == "42"
    assert r.text == "42"
    assert r.usage_metadata.thoughts_token_count > 0


def test_streamed_thoughts_arrive_before_the_answer(client: genai.Client) -> None:
    chunks = list(
        client.models.generate_content_stream(
            model=MODEL,
            contents="[gemini-think]",
            config=types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True)),
        )
    )

    parts = [p for c in chunks for p in c.candidates[0].content.parts]
    thoughts = [p.text for p in parts if p.thought]
    answer = [p.text for p in parts if not p.thought]
    assert "".join(thoughts) == "The user wants a number. Six times seven is forty-two."
    assert len(thoughts) > 1  # chunkSize 16
    assert answer == ["42"]
    assert parts[-1].text == "42"


def test_thoughts_are_left_out_when_the_request_excludes_them(client: genai.Client) -> None:
    r = client.models.generate_content(
        model=MODEL,
        contents="[gemini-think]",
        config=types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=False)),
    )

    assert [p.text for p in r.candidates[0].content.parts] == ["42"]
    assert r.usage_metadata.thoughts_token_count > 0


def test_a_non_reasoning_model_gets_no_thoughts_under_strict_mode(client: genai.Client) -> None:
    r = client.models.generate_content(
        model="gemini-1.5-flash",
        contents="[gemini-think]",
        config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(include_thoughts=True),
            http_options=types.HttpOptions(headers={"x-aimock-strict": "true"}),
        ),
    )

    assert [p.text for p in r.candidates[0].content.parts] == ["42"]
    assert r.usage_metadata.thoughts_token_count is None


def test_json_mode_matches_a_json_object_response_format(client: genai.Client) -> None:
    r = client.models.generate_content(
        model=MODEL,
        contents="[gemini-json]",
        config=types.GenerateContentConfig(response_mime_type="application/json"),
    )

    assert r.parsed is None or r.parsed == {"answer": 42}
    assert r.text == '{"answer": 42}'


def test_a_length_finish_reason_is_max_tokens_with_the_fixture_usage(client: genai.Client) -> None:
    r = client.models.generate_content(model=MODEL, contents="[gemini-length]")

    assert r.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert r.usage_metadata.prompt_token_count == 11
    assert r.usage_metadata.candidates_token_count == 5
    assert r.usage_metadata.total_token_count == 16


def test_embed_content_returns_one_vector_per_input_through_batch_embed_contents(
    client: genai.Client, gemini: AimockServer
) -> None:
    fixture = client.models.embed_content(model="gemini-embedding-001", contents=["[gemini-vector] a", "b"])
    assert [e.values for e in fixture.embeddings] == [[0.25, -0.5, 0.75, 1.0]] * 2
    assert gemini.journal()[-1]["path"] == "/v1/models/gemini-embedding-001:batchEmbedContents"

    fallback = client.models.embed_content(model="gemini-embedding-001", contents=["some text", "other text"])
    assert [len(e.values) for e in fallback.embeddings] == [768, 768]
    assert fallback.embeddings[0].values != fallback.embeddings[1].values
    again = client.models.embed_content(model="gemini-embedding-001", contents="some text")
    assert again.embeddings[0].values == fallback.embeddings[0].values

    small = client.models.embed_content(
        model="gemini-embedding-001", contents="some text", config=types.EmbedContentConfig(output_dimensionality=8)
    )
    assert small.embeddings[0].values == fallback.embeddings[0].values[:8]


def test_count_tokens_estimates_the_prompt(client: genai.Client) -> None:
    r = client.models.count_tokens(model=MODEL, contents="twelve chars")
    assert r.total_tokens == 3


def test_a_rate_limit_fixture_raises_client_error_429_with_retry_after(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_content(model=MODEL, contents="[gemini-rate-limit]")

    err = exc.value
    assert err.code == 429
    assert err.status == "RESOURCE_EXHAUSTED"
    assert err.message == "Quota exceeded for requests per minute."
    assert err.response.headers["retry-after"] == "3"
    assert err.details["error"]["details"][0]["retryDelay"] == "3s"


def test_a_rate_limit_on_a_stream_raises_before_any_chunk(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as exc:
        list(client.models.generate_content_stream(model=MODEL, contents="[gemini-rate-limit]"))
    assert exc.value.code == 429


def test_a_miss_raises_client_error_404_not_found(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_content(model=MODEL, contents="nothing matches this")

    assert exc.value.code == 404
    assert exc.value.status == "NOT_FOUND"
    assert exc.value.message.startswith("No fixture matched")


def test_a_strict_miss_raises_server_error_503_unavailable(gemini: AimockServer) -> None:
    client = make_client(gemini, headers={"x-aimock-strict": "true"})
    with pytest.raises(errors.ServerError) as exc:
        client.models.generate_content(model=MODEL, contents="nothing matches this")

    assert exc.value.code == 503
    assert exc.value.status == "UNAVAILABLE"
