"""Chat Completions through the official openai SDK: plain, streamed, matchers, overrides."""

from __future__ import annotations

import json
import math
import time

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

MODEL = "gpt-4o-mini"
PLAIN_TEXT = "Hello from aimock! This reply came from a fixture file."
STREAM_TEXT = "Streaming works: the quick brown fox jumps over the lazy dog, one chunk at a time."
DEFAULT_CHUNK_SIZE = 20


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def content_deltas(chunks: list[ChatCompletionChunk]) -> list[str]:
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


def test_plain_chat_completion_returns_the_fixture_content(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=user("[plain] Say hello."))

    assert isinstance(completion, ChatCompletion)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    assert abs(completion.created - time.time()) < 3600
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == PLAIN_TEXT
    assert not choice.message.tool_calls
    assert completion.usage is not None
    assert completion.usage.prompt_tokens >= 1
    assert completion.usage.completion_tokens >= 1
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_streamed_chat_starts_with_the_assistant_role_and_joins_to_the_fixture_text(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=user("[stream] Tell me something."), stream=True)
    chunks = list(stream)

    assert chunks, "no chunks received"
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1, "every chunk of one stream carries the same id"
    assert all(c.model == MODEL for c in chunks)

    first = chunks[0]
    assert first.choices[0].delta.role == "assistant"
    roles = [c.choices[0].delta.role for c in chunks if c.choices and c.choices[0].delta.role]
    assert roles == ["assistant"], "role is sent once, in the first chunk"

    deltas = content_deltas(chunks)
    assert "".join(deltas) == STREAM_TEXT
    assert len(deltas) == math.ceil(len(STREAM_TEXT) / DEFAULT_CHUNK_SIZE)
    assert all(len(d) <= DEFAULT_CHUNK_SIZE for d in deltas)

    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[-1].choices[0].finish_reason == "stop", "finish chunk is the last chunk with a choice"
    assert all(c.usage is None for c in chunks), "no usage chunk unless stream_options.include_usage"


def test_streamed_chat_with_include_usage_ends_with_a_usage_chunk_without_choices(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=user("[stream] Tell me something."),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens >= 1
    assert last.usage.prompt_tokens >= 1
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(content_deltas(chunks)) == STREAM_TEXT
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_stream_helper_accumulates_the_fixture_text_into_a_final_completion(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model=MODEL, messages=user("[stream] Tell me something.")) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()

    assert "".join(deltas) == STREAM_TEXT
    assert final.choices[0].message.content == STREAM_TEXT
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].finish_reason == "stop"


def test_raw_chat_stream_is_sse_framed_and_ends_with_done(aimock) -> None:  # type: ignore[no-untyped-def]
    r = aimock.request(
        "POST",
        "/v1/chat/completions",
        body={"model": MODEL, "messages": user("[stream] raw"), "stream": True},
        headers={"Authorization": "Bearer sk-test"},
    )
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    text = r.body.decode("utf-8")
    events = [e for e in text.split("\n\n") if e.strip()]
    assert all(e.startswith("data: ") for e in events), events[:3]
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(e[len("data: ") :]) for e in events[:-1]]
    assert payloads[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p["choices"]) == STREAM_TEXT


def test_server_chunk_size_flag_controls_the_size_of_streamed_deltas(start_aimock, make_client) -> None:  # type: ignore[no-untyped-def]
    server = start_aimock(args=["--chunk-size", "5"])
    c = make_client(server.url)
    chunks = list(c.chat.completions.create(model=MODEL, messages=user("[stream] small chunks"), stream=True))

    deltas = content_deltas(chunks)
    assert "".join(deltas) == STREAM_TEXT
    assert len(deltas) == math.ceil(len(STREAM_TEXT) / 5)
    assert all(len(d) == 5 for d in deltas[:-1])


def test_fixture_chunk_size_overrides_the_server_default(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=user("[chunky]"), stream=True))

    assert content_deltas(chunks) == ["abcd", "efgh", "ijkl", "mnop", "q"]


def test_fixture_overrides_set_id_created_model_fingerprint_usage_and_finish_reason(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=user("[override]"))

    assert completion.id == "chatcmpl-fixed-override-0001"
    assert completion.created == 1700000000
    assert completion.model == "gpt-4o-2024-08-06"
    assert completion.system_fingerprint == "fp_aimock_test"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7)
    assert completion.usage.total_tokens == 18
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "Overrides applied."


def test_model_matcher_is_exact_or_a_dated_variant_but_not_a_longer_name(client: openai.OpenAI) -> None:
    def ask(model: str) -> str | None:
        return client.chat.completions.create(model=model, messages=user("[model-match]")).choices[0].message.content

    assert ask("gpt-4o") == "answered by the gpt-4o fixture"
    assert ask("gpt-4o-2024-08-06") == "answered by the gpt-4o fixture"
    assert ask("gpt-4o-mini") == "answered by the any-model fixture"


def test_system_message_matcher_selects_the_fixture_for_that_system_prompt(client: openai.OpenAI) -> None:
    pirate = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a pirate. Stay in character."},
            {"role": "user", "content": "[system] greet me"},
        ],
    )
    plain = client.chat.completions.create(model=MODEL, messages=user("[system] greet me"))

    assert pirate.choices[0].message.content == "Arr, matey!"
    assert plain.choices[0].message.content == "Hello, landlubber."


def test_regex_user_message_matcher_honours_the_case_insensitive_flag(client: openai.OpenAI) -> None:
    hit = client.chat.completions.create(model=MODEL, messages=user("[REGEX] Order #12345"))
    assert hit.choices[0].message.content == "regex fixture matched"

    try:
        client.chat.completions.create(model=MODEL, messages=user("[regex] order #12x"))
    except openai.NotFoundError as err:
        assert err.code == "no_fixture_match"
    else:
        raise AssertionError("a text that does not fit the regex must not match")


def test_last_user_message_is_the_one_matched_in_a_multi_turn_conversation(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "[stream] an earlier turn"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "[plain] the latest turn"},
        ],
    )
    assert completion.choices[0].message.content == PLAIN_TEXT


def test_reasoning_fixture_sends_reasoning_content_beside_the_answer(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="o3-mini", messages=user("[reasoning] Why is the sky blue?"))

    message = completion.choices[0].message
    assert message.content == "The sky is blue."
    extra = message.model_extra or {}
    assert extra.get("reasoning_content") == "The sky scatters short wavelengths most, so it looks blue."
