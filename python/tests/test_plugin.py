"""Every fixture and client method of the plugin, driven by the official openai and anthropic
clients (aimock-pytest's surface: on_message, on_embedding, on_system_message, add_fixture,
load_fixtures, get_journal, get_last_request, next_error, clear_fixtures, reset, reset_journal,
reset_fixtures, url, base_url; the aimock and aimock_session fixtures)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from conftest import anthropic_client, openai_client, user

from aimock_rs import MATCH_LEVEL_OPT_KEYS, ControlAPIError

MODEL = "gpt-4o-mini"
CLAUDE = "claude-sonnet-4-6"


def chat(client: openai.OpenAI, text: str, **kw: Any) -> str:
    r = client.chat.completions.create(model=kw.pop("model", MODEL), messages=user(text), **kw)
    return r.choices[0].message.content or ""


# ── the fixtures ─────────────────────────────────────────────────────────

_session_url: str | None = None
_function_url: str | None = None


def test_aimock_session_starts_a_server(aimock_session: Any) -> None:
    global _session_url
    aimock_session.reset()
    aimock_session.on_message("session hello", {"content": "from the session"})
    _session_url = aimock_session.base_url
    with openai_client(aimock_session) as c:
        assert chat(c, "session hello") == "from the session"


def test_aimock_session_is_the_same_server_with_its_state(aimock_session: Any) -> None:
    assert _session_url is not None and aimock_session.base_url == _session_url
    with openai_client(aimock_session) as c:
        # The fixture of the previous test is still there: one server, state kept.
        assert chat(c, "session hello") == "from the session"
    assert any(e["path"] == "/v1/chat/completions" for e in aimock_session.get_journal())
    aimock_session.reset()


def test_aimock_function_fixture_is_a_fresh_server(aimock: Any, oai: openai.OpenAI) -> None:
    global _function_url
    _function_url = aimock.url
    assert aimock.url != _session_url
    aimock.on_message("only here", {"content": "first test"})
    assert chat(oai, "only here") == "first test"


def test_aimock_function_fixture_does_not_keep_the_last_tests_state(aimock: Any, oai: openai.OpenAI) -> None:
    assert _function_url is not None and aimock.url != _function_url
    assert aimock.get_journal() == []
    with pytest.raises(openai.NotFoundError):
        chat(oai, "only here")


def test_url_and_base_url(aimock: Any) -> None:
    assert aimock.url == aimock.base_url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", aimock.url)
    import urllib.request

    with urllib.request.urlopen(f"{aimock.url}/health", timeout=5) as r:
        assert json.loads(r.read())["status"] == "ok"


# ── adding fixtures ──────────────────────────────────────────────────────


def test_on_message_with_openai_plain_and_streamed(aimock: Any, oai: openai.OpenAI) -> None:
    assert aimock.on_message("hello", {"content": "Hi there!"}) is aimock
    assert chat(oai, "well hello you") == "Hi there!"
    stream = oai.chat.completions.create(model=MODEL, messages=user("hello again"), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hi there!"


def test_on_message_with_anthropic_plain_and_streamed(aimock: Any, claude: anthropic.Anthropic) -> None:
    aimock.on_message("bonjour", {"content": "Salut !"})
    msg = claude.messages.create(model=CLAUDE, max_tokens=64, messages=user("bonjour"))
    assert [b.text for b in msg.content if b.type == "text"] == ["Salut !"]
    with claude.messages.stream(model=CLAUDE, max_tokens=64, messages=user("bonjour")) as s:
        assert "".join(s.text_stream) == "Salut !"


def test_on_message_tool_calls_reach_both_sdks(aimock: Any, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    aimock.on_message("weather", {"toolCalls": [{"name": "get_weather", "arguments": '{"city":"Paris"}'}]})
    r = oai.chat.completions.create(model=MODEL, messages=user("weather?"))
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    msg = claude.messages.create(model=CLAUDE, max_tokens=64, messages=user("weather?"))
    tool = [b for b in msg.content if b.type == "tool_use"][0]
    assert tool.name == "get_weather" and tool.input == {"city": "Paris"}


def test_on_message_regex_pattern(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message({"regex": "^order #\\d+$"}, {"content": "found it"})
    assert chat(oai, "order #42") == "found it"
    with pytest.raises(openai.NotFoundError):
        chat(oai, "order #x")


def test_on_embedding(aimock: Any, oai: openai.OpenAI) -> None:
    assert aimock.on_embedding("kittens", {"embedding": [0.25, -0.5, 1.0]}) is aimock
    r = oai.embeddings.create(model="text-embedding-3-small", input="about kittens", encoding_format="float")
    assert r.data[0].embedding == [0.25, -0.5, 1.0]
    # The SDK's default asks for base64 and decodes it (its types say floats, so not strict).
    with openai_client(aimock, _strict_response_validation=False) as c:
        assert c.embeddings.create(model="text-embedding-3-small", input="kittens").data[0].embedding == [0.25, -0.5, 1.0]


def test_on_system_message_string_and_user_message(aimock: Any, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    aimock.on_system_message("name=Atai", {"content": "hi Atai"}, user_message="who am I")
    r = oai.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "ctx: name=Atai"}, {"role": "user", "content": "who am I"}],
    )
    assert r.choices[0].message.content == "hi Atai"
    msg = claude.messages.create(model=CLAUDE, max_tokens=64, system="ctx: name=Atai", messages=user("who am I"))
    assert msg.content[0].text == "hi Atai"
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.create(model=CLAUDE, max_tokens=64, system="ctx: name=Alem", messages=user("who am I"))
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.create(model=CLAUDE, max_tokens=64, system="ctx: name=Atai", messages=user("where am I"))


def test_on_system_message_list_needs_every_part(aimock: Any, claude: anthropic.Anthropic) -> None:
    aimock.on_system_message(["name=Atai", "tz=PST"], {"content": "defaults"})
    msg = claude.messages.create(model=CLAUDE, max_tokens=64, system="name=Atai\ntz=PST", messages=user("plan"))
    assert msg.content[0].text == "defaults"
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.create(model=CLAUDE, max_tokens=64, system="name=Atai\ntz=EST", messages=user("plan"))


def test_add_fixture_routes_match_level_options_under_match(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.add_fixture({"userMessage": "joke"}, {"content": "first"}, sequenceIndex=0)
    aimock.add_fixture({"userMessage": "joke"}, {"content": "second"}, sequenceIndex=1)
    aimock.add_fixture({"userMessage": "joke"}, {"content": "for gpt-4.1 only"}, model="gpt-4.1")
    assert chat(oai, "joke") == "first"
    assert chat(oai, "joke") == "second"
    assert chat(oai, "joke", model="gpt-4.1") == "for gpt-4.1 only"
    with pytest.raises(openai.NotFoundError):
        chat(oai, "joke")  # no third in sequence, and the model-gated one is not for this model
    listed = aimock._control_request("GET", "/fixtures", params={"include": "fixtures"}).json()["fixtures"]
    assert [f["match"].get("sequenceIndex") for f in listed] == [0, 1, None]
    assert listed[2]["match"]["model"] == "gpt-4.1"


def test_add_fixture_puts_entry_options_on_the_fixture(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.add_fixture({"userMessage": "chunks"}, {"content": "abcdefgh"}, chunkSize=2)
    stream = oai.chat.completions.create(model=MODEL, messages=user("chunks"), stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert pieces == ["ab", "cd", "ef", "gh"]


def test_add_fixture_with_a_bad_response_raises_with_the_servers_reason(aimock: Any) -> None:
    with pytest.raises(ControlAPIError) as e:
        aimock.add_fixture({"userMessage": "x"}, {"contnet": "typo"})
    assert e.value.status == 400
    assert "contnet" in str(e.value)
    with pytest.raises(ControlAPIError, match="chunkSiz"):
        aimock.add_fixture({"userMessage": "x"}, {"content": "y"}, chunkSiz=3)


def test_match_level_keys_are_the_servers(aimock: Any) -> None:
    # Drift guard: the plugin routes exactly the server's match fields under `match`.
    fields = Path(__file__).resolve().parents[2] / "crates" / "aimock" / "src" / "fixture" / "fields.rs"
    source = fields.read_text(encoding="utf-8")
    block = source[source.index("MATCH_FIELDS") :]
    block = block[: block.index("];")]
    assert set(re.findall(r'"(\w+)"', block)) == set(MATCH_LEVEL_OPT_KEYS)


# ── load_fixtures ────────────────────────────────────────────────────────


def test_load_fixtures_accepts_the_three_file_shapes(aimock: Any, oai: openai.OpenAI, tmp_path: Path) -> None:
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"fixtures": [{"match": {"userMessage": "one"}, "response": {"content": "1"}}]}))
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"match": {"userMessage": "two"}, "response": {"content": "2"}}]))
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"match": {"userMessage": "three"}, "response": {"content": "3"}}))
    for f in (wrapped, listed, single):
        assert aimock.load_fixtures(f) is aimock
    assert [chat(oai, t) for t in ("one", "two", "three")] == ["1", "2", "3"]


def test_load_fixtures_rejection_names_the_file_and_every_problem(aimock: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "fixtures": [
                    {"match": {"userMessage": "a"}, "response": {"contnet": "x"}},
                    {"match": {"usrMessage": "b"}, "response": {"content": "y"}},
                ]
            }
        )
    )
    with pytest.raises(ControlAPIError) as e:
        aimock.load_fixtures(bad)
    text = str(e.value)
    assert str(bad) in text and "contnet" in text and "usrMessage" in text
    assert len(e.value.payload["details"]) >= 2
    assert aimock._control_request("GET", "/fixtures").json()["count"] == 0  # nothing added


def test_load_fixtures_refuses_what_it_cannot_serve(aimock: Any, tmp_path: Path) -> None:
    fakes = tmp_path / "fakes.json"
    fakes.write_text(json.dumps({"mcpFakes": [{"tool": "search"}]}))
    with pytest.raises(RuntimeError, match="mcpFakes"):
        aimock.load_fixtures(fakes)
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42")
    with pytest.raises(ValueError, match="expected a JSON object or array"):
        aimock.load_fixtures(scalar)


# ── journal ──────────────────────────────────────────────────────────────


def test_get_journal_and_get_last_request(aimock: Any, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    assert aimock.get_journal() == []
    assert aimock.get_last_request() is None
    aimock.on_message("log me", {"content": "logged"})
    chat(oai, "log me")
    claude.messages.create(model=CLAUDE, max_tokens=32, messages=user("log me"))
    journal = aimock.get_journal()
    assert [e["path"] for e in journal] == ["/v1/chat/completions", "/v1/messages"]
    assert journal[0]["body"]["messages"] == [{"role": "user", "content": "log me"}]
    assert all(e["response"]["status"] == 200 for e in journal)
    last = aimock.get_last_request()
    assert last is not None and last["path"] == "/v1/messages" and last["body"]["model"] == CLAUDE
    assert [e["path"] for e in aimock.get_journal(path="/v1/messages")] == ["/v1/messages"]


def test_unmatched_requests_are_journaled_as_404(aimock: Any, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        chat(oai, "nothing matches this")
    assert aimock.get_last_request()["response"]["status"] == 404


# ── errors ───────────────────────────────────────────────────────────────


def test_next_error_fails_the_next_request_once(aimock: Any, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    aimock.on_message("hi", {"content": "fine"})
    assert aimock.next_error(429, {"message": "Rate limited", "type": "rate_limit_error"}) is aimock
    with pytest.raises(openai.RateLimitError) as e:
        chat(oai, "hi")
    assert e.value.status_code == 429 and "Rate limited" in e.value.message
    assert chat(oai, "hi") == "fine"
    aimock.next_error(503, {"message": "overloaded"})
    with pytest.raises(anthropic.InternalServerError) as ae:
        claude.messages.create(model=CLAUDE, max_tokens=32, messages=user("hi"))
    assert ae.value.status_code == 503 and "overloaded" in str(ae.value)
    assert claude.messages.create(model=CLAUDE, max_tokens=32, messages=user("hi")).content[0].text == "fine"


def test_next_error_without_a_body(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message("hi", {"content": "fine"})
    aimock.next_error(500)
    with pytest.raises(openai.InternalServerError):
        chat(oai, "hi")
    with pytest.raises(ControlAPIError, match="status"):
        aimock.next_error(42)


# ── resets ───────────────────────────────────────────────────────────────


def _count(aimock: Any) -> int:
    return aimock._control_request("GET", "/fixtures").json()["count"]


def test_clear_fixtures_keeps_the_journal(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message("hi", {"content": "fine"})
    chat(oai, "hi")
    assert aimock.clear_fixtures() is aimock
    assert _count(aimock) == 0
    assert len(aimock.get_journal()) == 1
    with pytest.raises(openai.NotFoundError):
        chat(oai, "hi")


def test_reset_journal_keeps_the_fixtures(aimock: Any, oai: openai.OpenAI) -> None:
    aimock.on_message("hi", {"content": "fine"})
    chat(oai, "hi")
    assert aimock.reset_journal() is aimock
    assert aimock.get_journal() == []
    assert chat(oai, "hi") == "fine"


@pytest.mark.parametrize("method", ["reset", "reset_fixtures"])
def test_reset_and_reset_fixtures_clear_everything(aimock: Any, oai: openai.OpenAI, method: str) -> None:
    aimock.on_message("seq", {"content": "a"}, sequenceIndex=0)
    aimock.on_message("seq", {"content": "b"}, sequenceIndex=1)
    assert chat(oai, "seq") == "a"
    aimock.next_error(500)
    assert getattr(aimock, method)() is aimock
    assert _count(aimock) == 0 and aimock.get_journal() == []
    # Sequence counts and the queued error are gone too: the same fixtures start over.
    aimock.on_message("seq", {"content": "a"}, sequenceIndex=0)
    assert chat(oai, "seq") == "a"
