"""Error fixtures, misses and strict mode, as the openai SDK's exception classes see them."""

from __future__ import annotations

import openai
import pytest

MODEL = "gpt-4o-mini"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_rate_limit_fixture_raises_rate_limit_error_with_retry_after(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=user("[rate-limit] hi"))

    err = info.value
    assert err.status_code == 429
    assert "Rate limit reached for requests" in err.message
    assert err.code == "rate_limit_exceeded"
    assert err.type == "rate_limit_error"
    assert err.body == {
        "message": "Rate limit reached for requests",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    headers = err.response.headers
    assert headers.get("retry-after") == "2"
    assert headers.get("x-ratelimit-remaining-requests") == "0"
    assert "x-ratelimit-limit-requests" in headers
    assert headers.get("content-type", "").startswith("application/json")


def test_rate_limit_on_a_streamed_request_raises_before_any_chunk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=user("[rate-limit] hi"), stream=True)

    assert info.value.response.headers.get("retry-after") == "2"


def test_rate_limit_fixture_also_applies_to_the_responses_api(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.responses.create(model=MODEL, input="[rate-limit] hi")

    assert info.value.code == "rate_limit_exceeded"


def test_server_error_fixture_raises_internal_server_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=MODEL, messages=user("[server-error] hi"))

    err = info.value
    assert err.status_code == 500
    assert "The server had an error while processing your request." in err.message
    assert err.type == "server_error"
    assert err.code == "internal_error"


def test_bad_request_fixture_raises_bad_request_error_with_its_param(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=MODEL, messages=user("[bad-request] hi"))

    err = info.value
    assert err.status_code == 400
    assert err.param == "temperature"
    assert err.code == "invalid_value"
    assert err.type == "invalid_request_error"


def test_miss_raises_not_found_error_naming_the_closest_fixture(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model=MODEL, messages=user("Tell me a joke about pinguins"))

    err = info.value
    assert err.status_code == 404
    assert err.code == "no_fixture_match"
    assert err.type == "invalid_request_error"
    assert isinstance(err.body, dict) and err.body.get("param") is None
    assert "No fixture matched" in err.message
    assert "Tell me a joke about penguins" in err.message, "the miss message names the closest fixture"


def test_miss_on_the_responses_api_raises_not_found_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.create(model=MODEL, input="nothing matches this request at all")

    assert info.value.code == "no_fixture_match"


def test_strict_header_turns_a_miss_into_a_503(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(
            model=MODEL,
            messages=user("nothing matches this request at all"),
            extra_headers={"X-AIMock-Strict": "true"},
        )

    err = info.value
    assert err.status_code == 503
    assert err.code == "no_fixture_match"
    assert "Strict mode" in err.message


def test_strict_server_turns_a_miss_into_a_503_but_still_serves_fixtures(start_aimock, make_client) -> None:  # type: ignore[no-untyped-def]
    server = start_aimock(args=["--strict"])
    strict_client = make_client(server.url)

    ok = strict_client.chat.completions.create(model=MODEL, messages=user("[plain] still works"))
    assert ok.choices[0].message.content == "Hello from aimock! This reply came from a fixture file."

    with pytest.raises(openai.InternalServerError) as info:
        strict_client.chat.completions.create(model=MODEL, messages=user("nothing matches this request at all"))
    assert info.value.status_code == 503
    assert info.value.code == "no_fixture_match"

    with pytest.raises(openai.InternalServerError) as info:
        strict_client.embeddings.create(model="text-embedding-3-small", input="no fixture for this text")
    assert info.value.status_code == 503


def test_malformed_json_body_gets_a_400_invalid_json_error(aimock) -> None:  # type: ignore[no-untyped-def]
    r = aimock.request(
        "POST",
        "/v1/chat/completions",
        raw=b'{"model": "gpt-4o-mini", "messages": [',
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
    )

    assert r.status == 400
    assert r.json()["error"]["code"] == "invalid_json"
