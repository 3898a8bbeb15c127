"""Journal and control API (/__aimock/*), observed around official-SDK calls."""

from __future__ import annotations

import json
import uuid

import openai
import pytest

MODEL = "gpt-4o-mini"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_journal_records_the_chat_request_with_the_authorization_header_redacted(aimock, client: openai.OpenAI) -> None:  # type: ignore[no-untyped-def]
    client.chat.completions.create(model=MODEL, messages=user("[journal] remember me"))

    entries = aimock.journal()
    assert len(entries) == 1, "the journal was reset before the test"
    entry = entries[0]
    assert entry["id"]
    assert isinstance(entry["timestamp"], (int, float))
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/chat/completions"

    headers = {k.lower(): v for k, v in entry["headers"].items()}
    assert "authorization" in headers
    assert "sk-test" not in headers["authorization"]
    assert "sk-test" not in json.dumps(entry), "the API key appears nowhere in the entry"
    assert headers.get("user-agent", "").startswith("OpenAI/Python")

    assert entry["body"]["model"] == MODEL
    assert entry["body"]["messages"][-1]["content"] == "[journal] remember me"
    assert entry["response"]["status"] == 200
    fixture = entry["response"]["fixture"]
    assert fixture is not None
    assert fixture["match"]["userMessage"] == "[journal]"
    assert fixture["response"]["content"] == "journal entry recorded"


def test_journal_records_a_miss_with_status_404_and_no_fixture(aimock, client: openai.OpenAI) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=MODEL, messages=user("nothing matches this request at all"))

    entries = aimock.journal()
    assert len(entries) == 1
    assert entries[0]["response"]["status"] == 404
    assert entries[0]["response"]["fixture"] is None


def test_journal_keeps_requests_in_order_and_reset_journal_empties_it(aimock, client: openai.OpenAI) -> None:  # type: ignore[no-untyped-def]
    client.chat.completions.create(model=MODEL, messages=user("[plain] one"))
    client.embeddings.create(model="text-embedding-3-small", input="journal ordering", encoding_format="float")
    client.responses.create(model=MODEL, input="[resp-text] three")

    paths = [e["path"] for e in aimock.journal()]
    assert paths == ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"]

    aimock.reset_journal()
    assert aimock.journal() == []


def test_health_endpoint_reports_ok(aimock) -> None:  # type: ignore[no-untyped-def]
    r = aimock.request("GET", "/__aimock/health")
    assert r.status == 200
    assert r.json()["status"] == "ok"


def test_fixtures_added_through_the_control_api_are_served_until_cleared(start_aimock, make_client) -> None:  # type: ignore[no-untyped-def]
    server = start_aimock()
    c = make_client(server.url)
    tag = f"[runtime-{uuid.uuid4().hex[:8]}]"

    added = server.add_fixtures([{"match": {"userMessage": tag}, "response": {"content": "added at runtime"}}])
    assert added.status == 200, added
    assert added.json()["added"] == 1
    assert c.chat.completions.create(model=MODEL, messages=user(tag)).choices[0].message.content == "added at runtime"

    cleared = server.clear_fixtures()
    assert cleared.status == 200, cleared
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model=MODEL, messages=user(tag))
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model=MODEL, messages=user("[plain] file fixtures are cleared too"))


def test_control_api_rejects_an_invalid_fixture_with_400(start_aimock) -> None:  # type: ignore[no-untyped-def]
    server = start_aimock()
    r = server.add_fixtures([{"match": {"userMessage": "bad"}, "response": {"neither": "content nor toolCalls"}}])

    assert r.status == 400, r
    assert r.json()["error"] == "Validation failed"


def test_full_reset_restarts_sequences_for_fixtures_loaded_through_the_control_api(start_aimock, make_client) -> None:  # type: ignore[no-untyped-def]
    server = start_aimock()
    c = make_client(server.url)
    fixtures = [
        {"match": {"userMessage": "[rt-seq]", "sequenceIndex": 0}, "response": {"content": "rt first"}},
        {"match": {"userMessage": "[rt-seq]", "sequenceIndex": 1}, "response": {"content": "rt second"}},
    ]

    def ask() -> str | None:
        return c.chat.completions.create(
            model=MODEL, messages=user("[rt-seq]"), extra_headers={"X-Test-Id": "rt"}
        ).choices[0].message.content

    assert server.add_fixtures(fixtures).status == 200
    assert ask() == "rt first"
    assert ask() == "rt second"

    server.reset()  # fixtures, journal and sequence counters
    assert server.journal() == []
    with pytest.raises(openai.NotFoundError):
        ask()
    assert server.add_fixtures(fixtures).status == 200
    assert ask() == "rt first"


def test_injected_error_is_served_once_then_normal_responses_resume(start_aimock, make_client) -> None:  # type: ignore[no-untyped-def]
    server = start_aimock()
    c = make_client(server.url)

    r = server.request(
        "POST", "/__aimock/error", {"status": 503, "body": {"message": "Injected outage", "type": "server_error"}}
    )
    assert r.status == 200, r

    with pytest.raises(openai.InternalServerError) as info:
        c.chat.completions.create(model=MODEL, messages=user("[plain] first try"))
    assert info.value.status_code == 503
    assert "Injected outage" in info.value.message

    ok = c.chat.completions.create(model=MODEL, messages=user("[plain] second try"))
    assert ok.choices[0].message.content == "Hello from aimock! This reply came from a fixture file."
