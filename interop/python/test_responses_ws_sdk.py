"""The Responses API over WebSocket, driven by the pinned ``openai`` SDK's own WebSocket client
(``client.responses.connect()`` and its async twin): the events the SDK parses are its typed
models, the text and tool call are the fixture's, a tool round trip continues through
``previous_response_id`` on the same socket, and a message of another type gets the API's
``error`` event without closing the socket."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from conftest import API_KEY, FIXTURES_DIR, http_request

FIXTURES = FIXTURES_DIR / "responses_ws"


@pytest.fixture
def server(start_aimock):
    return start_aimock([FIXTURES])


def collect(conn, until: str = "response.completed"):
    events = []
    for ev in conn:
        events.append(ev)
        if ev.type in (until, "error"):
            break
    return events


def test_text_events_are_the_sdks_typed_models_and_carry_the_fixture_text(server):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
    with client.responses.connect() as conn:
        conn.send({"type": "response.create", "model": "gpt-4o", "input": "hello over the socket"})
        events = collect(conn)
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1, "chunkSize 5 splits the text"
    assert "".join(d.delta for d in deltas) == "Hello from the Responses socket!"
    # Typed, not a fallback: the SDK's own classes for these event types.
    assert type(events[0]).__name__ == "ResponseWsCreated"
    assert type(deltas[0]).__name__ == "ResponseTextWsDelta"
    done = events[-1]
    assert done.response.output[0].content[0].text == "Hello from the Responses socket!"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_a_tool_call_round_trip_continues_on_the_same_socket(server):
    async def run():
        client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
        async with client.responses.connect() as conn:
            await conn.send(
                {
                    "type": "response.create",
                    "model": "gpt-4o",
                    "input": "weather in Paris",
                    "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
                }
            )
            first = []
            async for ev in conn:
                first.append(ev)
                if ev.type in ("response.completed", "error"):
                    break
            call = first[-1].response.output[0]
            assert call.type == "function_call"
            assert call.name == "get_weather"
            assert json.loads(call.arguments) == {"city": "Paris"}
            args = "".join(e.delta for e in first if e.type == "response.function_call_arguments.delta")
            assert json.loads(args) == {"city": "Paris"}
            await conn.send(
                {
                    "type": "response.create",
                    "model": "gpt-4o",
                    "previous_response_id": first[-1].response.id,
                    "input": [{"type": "function_call_output", "call_id": call.call_id, "output": "21C, sunny"}],
                }
            )
            second = []
            async for ev in conn:
                second.append(ev)
                if ev.type in ("response.completed", "error"):
                    break
            return second

    second = asyncio.run(run())
    text = "".join(e.delta for e in second if e.type == "response.output_text.delta")
    assert text == "It is 21 degrees and sunny in Paris."


def test_another_message_type_gets_the_error_event_and_the_socket_stays_open(server):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
    with client.responses.connect() as conn:
        conn.send({"type": "response.steer", "input": "faster"})
        err = conn.recv()
        assert err.type == "error"
        assert type(err).__name__ == "ResponseWsError"
        assert err.error.code == "invalid_message_type"
        assert err.status == 400
        conn.send({"type": "response.create", "model": "gpt-4o", "input": "hello over the socket"})
        events = collect(conn)
    assert events[-1].type == "response.completed"
    journal = http_request("GET", server.url + "/__aimock/journal").json()
    entries = journal if isinstance(journal, list) else journal.get("entries", journal)
    ws = [e for e in entries if e["method"] == "WS"]
    assert len(ws) == 1, "only the response.create is a turn"
    assert ws[0]["path"] == "/v1/responses"


def test_record_then_replay_over_the_socket_with_the_upstream_stopped(start_aimock, tmp_path):
    """A recording server (``--record --provider-openai <upstream>``, no fixtures of its own)
    relays each missed turn to an upstream aimock over its own socket and saves it; a fresh server
    on the recordings alone then answers the same turns, the upstream stopped."""
    from conftest import stop_server

    upstream = start_aimock([FIXTURES])
    empty = tmp_path / "fixtures"
    empty.mkdir()
    recorder = start_aimock([empty], args=["--record", "--provider-openai", upstream.url])

    def turn(url: str, text: str):
        client = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0)
        with client.responses.connect() as conn:
            conn.send({"type": "response.create", "model": "gpt-4o", "input": text})
            events = collect(conn)
        done = events[-1]
        assert done.type == "response.completed", done
        return [(item.type, getattr(item, "name", None), getattr(item, "arguments", None),
                 item.content[0].text if item.type == "message" else None) for item in done.response.output]

    live = [turn(recorder.url, "hello over the socket"), turn(recorder.url, "weather in Paris")]
    assert live[0] == [("message", None, None, "Hello from the Responses socket!")]
    assert live[1][0][:2] == ("function_call", "get_weather")
    recorded = sorted((empty / "recorded").glob("*.json"))
    assert len(recorded) == 2, recorded
    for f in recorded:
        body = json.loads(f.read_text())
        assert body["fixtures"][0]["match"]["userMessage"]["equals"] in ("hello over the socket", "weather in Paris")

    stop_server(recorder)
    stop_server(upstream)
    replay = start_aimock([empty / "recorded"])
    assert [turn(replay.url, "hello over the socket"), turn(replay.url, "weather in Paris")] == live
