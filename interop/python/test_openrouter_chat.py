"""OpenRouter through the official ``openai`` SDK (``base_url=<aimock>/api/v1``).

The SDK validates every body and chunk strictly (see conftest); OpenRouter's own fields
(``provider``, ``native_finish_reason``, ``message.reasoning``, usage ``cost``...) are extras the
SDK keeps in ``model_extra``.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import openai
import pytest

from conftest import (
    API_KEY,
    FIXTURES_DIR,
    REQUEST_TIMEOUT_S,
    AimockServer,
    start_server,
    stop_server,
    strict_validation,
)

OPENROUTER_FIXTURES = FIXTURES_DIR / "openrouter"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def router() -> Iterator[AimockServer]:
    server = start_server([OPENROUTER_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def orc(router: AimockServer) -> Iterator[openai.OpenAI]:
    router.reset_journal()
    c = openai.OpenAI(
        base_url=router.url + "/api/v1",
        api_key=API_KEY,
        max_retries=0,
        timeout=REQUEST_TIMEOUT_S,
        _strict_response_validation=strict_validation(),
        default_headers={"HTTP-Referer": "https://example.test", "X-Title": "aimock interop"},
    )
    yield c
    c.close()


def extra(obj: Any, key: str) -> Any:
    return (obj.model_extra or {}).get(key)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_a_plain_completion_has_openrouters_fields(orc: openai.OpenAI) -> None:
    r = orc.chat.completions.create(model="openai/gpt-4o", messages=user("[or-plain]"))
    assert r.choices[0].message.content == "Hello from OpenRouter on aimock."
    assert r.id.startswith("gen-")
    assert r.model == "openai/gpt-4o"
    assert r.object == "chat.completion"
    assert r.system_fingerprint is None
    assert r.service_tier is None
    assert extra(r, "provider") == "openai"
    choice = r.choices[0]
    assert choice.finish_reason == "stop"
    assert extra(choice, "native_finish_reason") == "stop"
    assert extra(choice.message, "reasoning") is None
    assert r.usage is not None and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_the_request_reaches_the_openrouter_path(orc: openai.OpenAI, router: AimockServer) -> None:
    orc.chat.completions.create(model="openai/gpt-4o", messages=user("[or-plain]"))
    entry = router.journal()[-1]
    assert entry["path"] == "/api/v1/chat/completions"
    assert entry["response"]["status"] == 200


def test_usage_extras_and_overrides_come_from_the_fixture(orc: openai.OpenAI) -> None:
    r = orc.chat.completions.create(model="openai/gpt-4o", messages=user("[or-cost]"))
    assert extra(r, "provider") == "OpenAI"
    assert extra(r.choices[0], "native_finish_reason") == "completed"
    assert r.choices[0].finish_reason == "stop"
    u = r.usage
    assert u is not None
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (12, 5, 17)
    assert extra(u, "cost") == pytest.approx(0.00042)
    assert extra(u, "cost_details") == {
        "upstream_inference_cost": 0,
        "upstream_inference_prompt_cost": 0,
        "upstream_inference_completions_cost": 0,
    }
    assert extra(u, "is_byok") is False
    assert u.prompt_tokens_details is not None and u.prompt_tokens_details.cached_tokens == 4
    assert u.completion_tokens_details is not None and u.completion_tokens_details.reasoning_tokens == 0


def test_a_stream_carries_role_on_content_deltas_and_ends_with_usage(orc: openai.OpenAI) -> None:
    # No stream_options: OpenRouter sends the usage chunk anyway.
    chunks = list(orc.chat.completions.create(model="openai/gpt-4o", messages=user("[or-stream]"), stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streaming through the router, one chunk at a time."
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("gen-")
    for c in chunks:
        assert extra(c, "provider") == "openai"
        for choice in c.choices:
            if isinstance(choice.delta.content, str):
                assert choice.delta.role == "assistant"
    finishes = [c.choices[0] for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [f.finish_reason for f in finishes] == ["stop"]
    assert extra(finishes[0], "native_finish_reason") == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.total_tokens > 0


def test_the_stream_helper_accumulates_the_message(orc: openai.OpenAI) -> None:
    with orc.chat.completions.stream(model="openai/gpt-4o", messages=user("[or-stream]")) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.content == "Streaming through the router, one chunk at a time."
    assert final.usage is not None


def test_the_processing_comment_is_skipped_by_the_sdk(orc: openai.OpenAI, router: AimockServer) -> None:
    chunks = list(orc.chat.completions.create(model="openai/gpt-4o", messages=user("[or-processing]"), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Processed."
    raw = router.request(
        "POST",
        "/api/v1/chat/completions",
        {"model": "openai/gpt-4o", "stream": True, "messages": user("[or-processing]")},
    )
    assert raw.body.startswith(b": OPENROUTER PROCESSING\n\n")


def test_a_tool_call_and_the_tool_loop(orc: openai.OpenAI) -> None:
    messages: list[Any] = user("[or-tool] weather in Paris?")
    r = orc.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert extra(choice, "native_finish_reason") == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.id == "call_or_weather_1"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 18})})
    r2 = orc.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    assert r2.choices[0].message.content == "It is 18°C and sunny in Paris."
    assert r2.choices[0].finish_reason == "stop"


def test_a_streamed_tool_call_accumulates(orc: openai.OpenAI) -> None:
    with orc.chat.completions.stream(
        model="openai/gpt-4o", messages=user("[or-tool]"), tools=[WEATHER_TOOL]
    ) as s:
        final = s.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].id == "call_or_weather_1"
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_reasoning_is_served_as_message_reasoning(orc: openai.OpenAI) -> None:
    r = orc.chat.completions.create(
        model="anthropic/claude-sonnet-4",
        messages=user("[or-think]"),
        extra_body={"reasoning": {"effort": "high"}},
    )
    msg = r.choices[0].message
    assert msg.content == "42"
    assert extra(msg, "reasoning") == "The user wants a number. 6 times 7 is 42."
    details = extra(msg, "reasoning_details")
    assert details and details[0]["type"] == "reasoning.text"
    assert details[0]["text"] == "The user wants a number. 6 times 7 is 42."
    chunks = list(
        orc.chat.completions.create(model="anthropic/claude-sonnet-4", messages=user("[or-think]"), stream=True)
    )
    reasoning = "".join(extra(c.choices[0].delta, "reasoning") or "" for c in chunks if c.choices)
    assert reasoning == "The user wants a number. 6 times 7 is 42."


def test_strict_mode_drops_reasoning_for_a_model_that_does_not_reason(orc: openai.OpenAI) -> None:
    r = orc.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=user("[or-think]"),
        extra_headers={"X-AIMock-Strict": "true"},
    )
    assert r.choices[0].message.content == "42"
    assert extra(r.choices[0].message, "reasoning") is None


def test_an_error_raises_the_typed_error_with_openrouters_body(orc: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        orc.chat.completions.create(model="openai/gpt-4o", messages=user("[or-rate-limit]"))
    err = info.value
    assert err.status_code == 429
    assert err.response.headers["retry-after"] == "1"
    assert err.body == {
        "code": 429,
        "message": "Rate limit exceeded upstream",
        "metadata": {"provider_name": "OpenAI", "raw": "429"},
    }


def test_a_miss_is_a_not_found_error(orc: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        orc.chat.completions.create(model="openai/gpt-4o", messages=user("nothing matches this"))
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == 404


def test_models_fail_over_to_the_next_candidate(orc: openai.OpenAI) -> None:
    r = orc.chat.completions.create(
        model="openai/gpt-4o",
        messages=user("[or-failover]"),
        extra_body={"models": ["anthropic/claude-sonnet-4"]},
    )
    assert r.model == "anthropic/claude-sonnet-4"
    assert extra(r, "provider") == "anthropic"
    assert r.choices[0].message.content == "Answered by the fallback model."


def test_without_fallbacks_the_primary_error_is_served(orc: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        orc.chat.completions.create(
            model="openai/gpt-4o",
            messages=user("[or-failover]"),
            extra_body={"models": ["anthropic/claude-sonnet-4"], "provider": {"allow_fallbacks": False}},
        )
    assert info.value.status_code == 503
    assert info.value.body == {"code": 503, "message": "Provider returned error"}


def test_an_error_fixture_with_fallthrough_false_stops_fail_over(orc: openai.OpenAI) -> None:
    with pytest.raises(openai.PermissionDeniedError):
        orc.chat.completions.create(
            model="openai/gpt-4o",
            messages=user("[or-terminal]"),
            extra_body={"models": ["anthropic/claude-sonnet-4"]},
        )


def test_a_fail_over_stream_names_the_winner(orc: openai.OpenAI) -> None:
    chunks = list(
        orc.chat.completions.create(
            model="openai/gpt-4o",
            messages=user("[or-failover]"),
            extra_body={"models": ["anthropic/claude-sonnet-4"]},
            stream=True,
        )
    )
    assert {c.model for c in chunks} == {"anthropic/claude-sonnet-4"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Answered by the fallback model."


def test_the_model_catalog_lists_fixture_models(router: AimockServer) -> None:
    # OpenRouter's model objects have no `object`/`owned_by`, which the SDK's strict `Model` type
    # requires (as against the real OpenRouter), so this client validates leniently.
    lenient = openai.OpenAI(base_url=router.url + "/api/v1", api_key=API_KEY, max_retries=0, timeout=REQUEST_TIMEOUT_S)
    page = lenient.models.list()
    lenient.close()
    ids = [m.id for m in page.data]
    assert ids == ["openai/gpt-4o", "anthropic/claude-sonnet-4"]
    assert extra(page.data[0], "pricing")["prompt"] == "0"


def test_key_and_credits_answer(router: AimockServer) -> None:
    key = router.request("GET", "/api/v1/key")
    assert key.status == 200 and key.json()["data"]["limit"] is None
    credits = router.request("GET", "/api/v1/credits")
    assert credits.status == 200 and credits.json() == {"data": {"total_credits": 0, "total_usage": 0}}
