"""GPT-Live (``/v1/live/sessions``) and Realtime translations (``/v1/realtime/translations``),
driven by the pinned ``openai`` SDK's own WebSocket clients (``client.live.connect()`` and
``client.realtime.translations.connect(model=...)``): the events are the SDK's typed models, and
what they carry is the fixture's (``interop/fixtures/openai_live``): spoken transcripts with their
audio (silent PCM16 as long as the words take, or the fixture's bytes), delegations and their
results, the Responses delegation's nested stream with a tool round trip, translations of input
utterances. Session limits end a session with ``session.closed`` (``expired``), and bad input gets
the API's ``error`` event while the session goes on."""

from __future__ import annotations

import asyncio
import base64
import json
import struct

import openai
import pytest

from conftest import API_KEY, FIXTURES_DIR, http_request

FIXTURES = FIXTURES_DIR / "openai_live"
FIXTURE_AUDIO = bytes(range(1, 17))


@pytest.fixture
def server(start_aimock):
    return start_aimock([FIXTURES])


def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)


def tone(ms: int, rate: int = 24000) -> str:
    """Base64 PCM16 that is not silence (a square wave)."""
    samples = [8000 if i % 2 else -8000 for i in range(rate * ms // 1000)]
    return base64.b64encode(struct.pack(f"<{len(samples)}h", *samples)).decode()


def silence(ms: int, rate: int = 24000) -> str:
    return base64.b64encode(bytes(rate * ms // 1000 * 2)).decode()


def until(conn, kind: str):
    """Events up to and including the first of `kind` (or an error)."""
    events = []
    for ev in conn:
        events.append(ev)
        if ev.type in (kind, "error"):
            break
    return events


def started(conn, **session):
    conn.session.start(session={"model": "gpt-live-1", **session})
    ev = conn.recv()
    assert ev.type == "session.started", ev
    return ev


def spoken(events):
    text = "".join(e.delta for e in events if e.type == "session.output_transcript.delta")
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "session.output_audio.delta")
    return text, audio


# -- GPT-Live -------------------------------------------------------------------------------


def test_live_session_starts_with_a_live_id_and_closes_as_requested_with_usage(server):
    with client(server).live.connect() as conn:
        conn.session.start(session={"model": "gpt-live-1", "instructions": "Be brief."}, event_id="evt_start")
        ev = conn.recv()
        assert type(ev).__name__ == "SessionStartedEvent"
        assert ev.client_event_id == "evt_start"
        assert ev.session.id.startswith("live_")
        assert ev.session.model == "gpt-live-1"
        assert ev.session.status == "active"
        assert ev.session.instructions == "Be brief."
        assert ev.session.audio.output.voice == "marin"
        assert ev.session.audio.format.type == "audio/pcm" and ev.session.audio.format.rate == 24000
        assert ev.session.delegation.type == "client"
        assert ev.session.expires_at > 0
        conn.session.close(event_id="evt_close")
        closed = conn.recv()
        assert type(closed).__name__ == "SessionClosedEvent"
        assert closed.reason == "close_requested"
        assert closed.client_event_id == "evt_close"
        assert closed.session.id == ev.session.id
        assert closed.usage.seconds >= 0
        assert list(conn) == [], "the server closes the socket after session.closed"


def test_commentary_is_spoken_as_the_fixtures_transcript_with_silent_pcm16(server):
    with client(server).live.connect() as conn:
        started(conn)
        conn.session.commentary.append(content="greet the caller", delegation_id=None, event_id="evt_c")
        events = until(conn, "session.usage.updated")
    assert type(events[0]).__name__ == "CommentaryAppendedEvent"
    assert events[0].client_event_id == "evt_c"
    deltas = [e for e in events if e.type == "session.output_transcript.delta"]
    assert len(deltas) > 1, "chunkSize 8 splits the transcript"
    assert type(deltas[0]).__name__ == "OutputTranscriptDeltaEvent"
    assert all(d.end_ms >= d.start_ms for d in deltas)
    assert type([e for e in events if e.type == "session.output_audio.delta"][0]).__name__ == "OutputAudioDeltaEvent"
    text, audio = spoken(events)
    assert text == "Hello! How can I help you today?"
    # 24 kHz PCM16 silence, 60 ms per character of the transcript.
    assert len(audio) == 48 * 60 * len(text)
    assert set(audio) == {0}
    assert type(events[-1]).__name__ == "SessionUsageUpdatedEvent"


def test_an_utterance_of_input_audio_is_a_turn_answered_with_the_fixtures_audio(server):
    with client(server).live.connect() as conn:
        started(conn, model="gpt-live-1.1")
        conn.session.input_audio.append(audio=tone(200))
        conn.session.input_audio.append(audio=silence(300))
        conn.session.input_audio.append(audio=silence(300))
        events = until(conn, "session.usage.updated")
    text, audio = spoken(events)
    assert text == "I heard you."
    assert audio == FIXTURE_AUDIO, "the deltas decode to the fixture's bytes"


def test_a_client_delegation_round_trip_through_commentary(server):
    with client(server).live.connect() as conn:
        started(conn)
        conn.session.commentary.append(content="book a table", delegation_id=None)
        first = until(conn, "session.usage.updated")
        delegated = [e for e in first if e.type == "session.delegation.created"]
        assert len(delegated) == 1
        assert type(delegated[0]).__name__ == "DelegationCreatedEvent"
        assert delegated[0].delegation.target == "client"
        assert spoken(first)[0] == "Let me book that."
        conn.session.commentary.append(content="booked: 2 people at 8pm", delegation_id=delegated[0].delegation.id)
        second = until(conn, "session.usage.updated")
    assert spoken(second)[0] == "Your table for two is booked."


def test_responses_delegation_streams_nested_responses_events_with_a_tool_round_trip(server):
    async def run():
        c = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
        async with c.live.connect() as conn:
            await conn.session.start(
                session={
                    "model": "gpt-live-1",
                    "delegation": {
                        "type": "responses",
                        "responses": {
                            "model": "gpt-5.5",
                            "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
                        },
                    },
                }
            )
            ev = await conn.recv()
            assert ev.type == "session.started" and ev.session.delegation.type == "responses"

            async def turn():
                out = []
                async for e in conn:
                    out.append(e)
                    if e.type == "error" or (e.type == "response.event" and e.event["type"] == "response.completed"):
                        return out

            await conn.response.item.create(
                item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather in Paris"}]}
            )
            await conn.response.create()
            first = await turn()
            assert all(type(e).__name__ == "ResponseEvent" for e in first), first
            kinds = [e.event["type"] for e in first]
            assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
            calls = [e.event["item"] for e in first if e.event["type"] == "response.output_item.done"]
            assert calls[0]["type"] == "function_call" and calls[0]["name"] == "get_weather"
            assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
            assert first[-1].event["response"]["output"] == [], "lifecycle snapshots are trimmed"
            await conn.response.item.create(
                item={"type": "function_call_output", "call_id": calls[0]["call_id"], "output": "21C, sunny"}
            )
            await conn.response.create()
            return await turn()

    second = asyncio.run(run())
    text = "".join(e.event["delta"] for e in second if e.event["type"] == "response.output_text.delta")
    assert text == "It is 21 degrees and sunny in Paris."
    assert sum(1 for e in second if e.event["type"] == "response.output_text.delta") > 1


def test_response_create_without_responses_delegation_is_refused(server):
    with client(server).live.connect() as conn:
        started(conn)
        conn.response.create(event_id="evt_r")
        err = conn.recv()
    assert type(err).__name__ == "ErrorEvent"
    assert err.error.code == "invalid_request" and err.client_event_id == "evt_r"


def test_an_error_fixture_reaches_the_sdk_as_the_live_error_event(server):
    with client(server).live.connect() as conn:
        started(conn)
        conn.session.commentary.append(content="trigger an error", delegation_id=None)
        events = until(conn, "error")
    err = events[-1]
    assert type(err).__name__ == "ErrorEvent"
    assert err.error.code == "overloaded" and err.error.type == "server_error"
    assert err.error.message == "The voice backend is overloaded."


def test_a_mute_mid_turn_is_acknowledged_at_once_and_a_close_mid_turn_stops_it(server):
    story = "Once upon a time there was a mock server that spoke."
    with client(server).live.connect() as conn:
        started(conn)
        conn.session.commentary.append(content="tell a long story", delegation_id=None)
        events = until(conn, "session.output_transcript.delta")
        conn.session.input_audio.mute(event_id="m1")
        while events[-1].type != "session.input_audio.muted":
            events.append(conn.recv())
        assert events[-1].client_event_id == "m1"
        conn.session.close()
        events += until(conn, "session.closed")
        assert list(conn) == []
    assert events[-1].type == "session.closed" and events[-1].reason == "close_requested"
    text = spoken(events)[0]
    assert text and story.startswith(text) and text != story, "the turn stopped part way"


def test_the_turn_limit_ends_the_session_as_expired(server):
    with client(server).live.connect(extra_headers={"x-aimock-live-max-turns": "1"}) as conn:
        started(conn)
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        assert spoken(until(conn, "session.usage.updated"))[0] == "Hello! How can I help you today?"
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        rest = until(conn, "session.closed")
        assert rest[-1].type == "session.closed"
        assert type(rest[-1]).__name__ == "SessionClosedEvent"
        assert rest[-1].reason == "expired"
        assert list(conn) == []


def test_the_duration_limit_expires_an_idle_session(server):
    with client(server).live.connect(extra_headers={"x-aimock-live-max-duration-ms": "300"}) as conn:
        ev = started(conn)
        assert ev.session.expires_at >= 1
        closed = conn.recv()
        assert closed.type == "session.closed" and closed.reason == "expired"
        assert closed.usage.seconds >= 0
        assert list(conn) == []


def test_bad_input_gets_the_live_error_event_and_the_session_goes_on(server):
    with client(server).live.connect() as conn:
        conn.session.commentary.append(content="greet the caller", delegation_id=None, event_id="early")
        err = conn.recv()
        assert type(err).__name__ == "ErrorEvent"
        assert (err.error.code, err.client_event_id) == ("session_not_started", "early")
        conn.send_raw("this is not json")
        assert conn.recv().error.code == "invalid_json"
        conn.send_raw(b"\x00\x01\x02")
        assert conn.recv().error.code == "invalid_message"
        conn.send_raw(json.dumps({"type": "session.dance"}))
        err = conn.recv()
        assert (err.error.code, err.error.param) == ("invalid_value", "type")
        conn.send_raw(json.dumps({"type": "session.start", "session": {"instructions": "no model"}}))
        err = conn.recv()
        assert (err.error.code, err.error.param) == ("missing_required_parameter", "session.model")
        conn.send_raw(json.dumps({"type": "session.start", "session": {"model": "gpt-live-1", "voice": "marin"}}))
        err = conn.recv()
        assert (err.error.code, err.error.param) == ("unknown_parameter", "session.voice")
        conn.send_raw(json.dumps({"type": "session.start", "session": {"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcm", "rate": 44100}}}}))
        assert conn.recv().error.param == "session.audio.format.rate"
        started(conn)
        conn.session.start(session={"model": "gpt-live-1"})
        assert conn.recv().error.code == "session_already_started"
        conn.session.input_audio.append(audio="%%% not base64")
        err = conn.recv()
        assert (err.error.code, err.error.param) == ("invalid_value", "audio")
        conn.session.update(session={"delegation": {"type": "responses", "responses": {"model": "x"}}})
        assert conn.recv().error.param == "session.delegation.type"
        conn.session.commentary.append(content="x", delegation_id="dlg_nope")
        assert conn.recv().error.param == "delegation_id"
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        events = until(conn, "session.usage.updated")
        assert spoken(events)[0] == "Hello! How can I help you today?"
    assert http_request("GET", server.url + "/health").status == 200


def test_mute_update_instructions_and_fixture_audio_are_acknowledged(server):
    with client(server).live.connect() as conn:
        started(conn)
        conn.session.input_audio.mute()
        assert type(conn.recv()).__name__ == "InputAudioMutedEvent"
        conn.session.input_audio.unmute()
        assert type(conn.recv()).__name__ == "InputAudioUnmutedEvent"
        conn.session.instructions.append(content="Speak slowly.", delegation_id=None)
        assert type(conn.recv()).__name__ == "InstructionsAppendedEvent"
        conn.session.thinking.append(content="Checking the calendar.", delegation_id=None)
        assert type(conn.recv()).__name__ == "ThinkingAppendedEvent"
        conn.session.update(session={"delegation": {"type": "client", "acknowledgement_delay_ms": 200}})
        up = conn.recv()
        assert type(up).__name__ == "SessionUpdatedEvent"
        assert up.session.delegation.acknowledgement_delay_ms == 200
        conn.session.output_audio.fixture.play(audio=silence(100))
        assert [conn.recv().type, conn.recv().type] == [
            "session.output_audio.fixture.playing",
            "session.output_audio.fixture.played",
        ]


# -- Realtime translations ------------------------------------------------------------------


def test_translation_session_translates_each_utterance(server):
    with client(server).realtime.translations.connect(model="gpt-realtime-translate") as conn:
        created = conn.recv()
        assert type(created).__name__ == "RealtimeTranslationSessionCreatedEvent"
        assert created.session.type == "translation"
        assert created.session.model == "gpt-realtime-translate"
        assert created.session.id.startswith("sess_")
        conn.session.update(session={"audio": {"output": {"language": "es"}}})
        updated = conn.recv()
        assert type(updated).__name__ == "RealtimeTranslationSessionUpdatedEvent"
        assert updated.session.audio.output.language == "es"
        conn.session.input_audio_buffer.append(audio=tone(400))
        conn.session.input_audio_buffer.append(audio=silence(600))
        first = []
        while len([e for e in first if e.type == "session.output_audio.delta"]) < 3:
            first.append(conn.recv())
        conn.session.input_audio_buffer.append(audio=tone(200))
        conn.session.input_audio_buffer.append(audio=silence(600))
        second = [conn.recv(), conn.recv()]
        conn.session.close()
        closed = conn.recv()
    kinds = {type(e).__name__ for e in first}
    assert kinds == {"RealtimeTranslationOutputTranscriptDeltaEvent", "RealtimeTranslationOutputAudioDeltaEvent"}
    text = "".join(e.delta for e in first if e.type == "session.output_transcript.delta")
    assert text == "Hola, ¿cómo estás?"
    audio = [e for e in first if e.type == "session.output_audio.delta"]
    assert audio[0].sample_rate == 24000 and audio[0].format == "pcm16" and audio[0].channels == 1
    pcm = b"".join(base64.b64decode(e.delta) for e in audio)
    assert len(pcm) == 48 * 60 * len(text) and set(pcm) == {0}
    assert first[0].elapsed_ms == 1000, "on the input audio's timeline"
    assert second[0].delta == "Adiós."
    assert base64.b64decode(second[1].delta) == FIXTURE_AUDIO
    assert type(closed).__name__ == "RealtimeTranslationSessionClosedEvent"


def test_closing_a_translation_session_flushes_the_pending_utterance(server):
    with client(server).realtime.translations.connect(model="gpt-realtime-translate") as conn:
        conn.recv()
        conn.session.input_audio_buffer.append(audio=tone(200))
        conn.session.close()
        events = list(conn)
    assert events[-1].type == "session.closed"
    text = "".join(e.delta for e in events if e.type == "session.output_transcript.delta")
    assert text == "Hola, ¿cómo estás?"


def test_translation_bad_input_gets_the_realtime_error_event(server):
    with client(server).realtime.translations.connect(model="gpt-realtime-translate") as conn:
        conn.recv()
        conn.send_raw("{not json")
        err = conn.recv()
        assert type(err).__name__ == "RealtimeErrorEvent" and err.error.code == "invalid_json"
        conn.send_raw(b"\xff\xfe")
        assert conn.recv().error.code == "invalid_message"
        conn.send_raw(json.dumps({"type": "response.create", "event_id": "e7"}))
        err = conn.recv()
        assert (err.error.code, err.error.param, err.error.event_id) == ("invalid_value", "type", "e7")
        conn.session.input_audio_buffer.append(audio="AA==")
        assert conn.recv().error.param == "audio"
        conn.send_raw(json.dumps({"type": "session.update", "session": {"model": "other"}}))
        assert conn.recv().error.param == "session.model"
        conn.session.update(session={"audio": {"input": {"noise_reduction": {"type": "loud"}}}})
        assert conn.recv().error.param == "session.audio.input.noise_reduction.type"
        # The refused updates changed nothing.
        conn.session.update(session={})
        assert conn.recv().session.audio.output.language is None


def test_a_translation_socket_without_a_model_is_refused_and_closed(server):
    from websockets.sync.client import connect

    url = server.url.replace("http", "ws", 1) + "/v1/realtime/translations"
    with connect(url, additional_headers={"Authorization": f"Bearer {API_KEY}"}) as ws:
        err = json.loads(ws.recv())
        assert err["type"] == "error" and err["error"]["param"] == "model"
        with pytest.raises(Exception) as closed:
            ws.recv()
    assert getattr(closed.value, "rcvd", None) is not None and closed.value.rcvd.code == 1008


def test_live_and_translation_turns_are_journaled_as_ws(server):
    with client(server).live.connect() as conn:
        started(conn)
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        until(conn, "session.usage.updated")
        conn.session.close()
        until(conn, "session.closed")
    with client(server).realtime.translations.connect(model="gpt-realtime-translate") as conn:
        conn.recv()
        conn.session.input_audio_buffer.append(audio=tone(200))
        conn.session.close()
        list(conn)
    entries = http_request("GET", server.url + "/__aimock/journal?method=WS").json()
    entries = entries if isinstance(entries, list) else entries.get("entries", entries)
    paths = [e["path"] for e in entries]
    assert paths.count("/v1/live/sessions") == 1, "session.start and session.close are not turns"
    # The journal keeps the path as sent, query included (as for HTTP requests).
    assert paths.count("/v1/realtime/translations?model=gpt-realtime-translate") == 1
    assert all(e["method"] == "WS" for e in entries)


# -- Chaos on the sockets -------------------------------------------------------------------


def test_chaos_rolls_once_per_live_turn(server):
    c = client(server)
    with c.live.connect(extra_headers={"x-aimock-chaos-drop": "1"}) as conn:
        started(conn)
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        err = conn.recv()
        assert err.type == "session.commentary.appended"
        err = conn.recv()
        assert type(err).__name__ == "ErrorEvent"
        conn.session.close()
        assert conn.recv().type == "session.closed", "the session goes on after a dropped turn"
    with c.live.connect(extra_headers={"x-aimock-chaos-malformed": "1"}) as conn:
        started(conn)
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        conn.recv()
        raw = conn.recv_bytes()
        with pytest.raises(ValueError):
            json.loads(raw)
    from websockets.exceptions import ConnectionClosedError

    with c.live.connect(extra_headers={"x-aimock-chaos-disconnect": "1"}) as conn:
        started(conn)
        conn.session.commentary.append(content="greet the caller", delegation_id=None)
        conn.recv()
        with pytest.raises(ConnectionClosedError):
            conn.recv()


def test_chaos_drops_a_translation_turn_with_the_realtime_error_event(server):
    c = client(server)
    with c.realtime.translations.connect(
        model="gpt-realtime-translate", extra_headers={"x-aimock-chaos-drop": "1"}
    ) as conn:
        conn.recv()
        conn.session.input_audio_buffer.append(audio=tone(200))
        conn.session.input_audio_buffer.append(audio=silence(600))
        err = conn.recv()
        assert type(err).__name__ == "RealtimeErrorEvent"
        conn.session.close()
        assert conn.recv().type == "session.closed"


# -- aimock's onLive fixtures: a recorded session replayed ------------------------------------

REPLAY = FIXTURES_DIR / "openai_live_replay"
SESSION = {"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcm", "rate": 24000}}, "delegation": {"type": "client"}}


@pytest.fixture
def replaying(start_aimock):
    return start_aimock([REPLAY])


def test_an_onlive_fixture_replays_the_recorded_session_to_the_sdk(replaying):
    recorded = json.loads((REPLAY / "recorded-session.json").read_text())["fixtures"][0]["response"]["live"]
    server_events = [e["event"] for e in recorded["entries"] if e["direction"] == "server"]
    with client(replaying).live.connect() as conn:
        conn.session.start(session=SESSION, event_id="my_start")
        ev = conn.recv()
        assert type(ev).__name__ == "SessionStartedEvent"
        assert ev.client_event_id == "my_start", "the client's id is bound into the recorded event"
        assert ev.session.id.startswith("aimock-"), "a defined id is minted fresh"
        assert ev.session.model == "gpt-live-1"
        # The recorded 8 bytes of input audio, in other chunk sizes.
        conn.session.input_audio.append(audio=base64.b64encode(bytes([1, 0, 2, 0])).decode())
        conn.session.input_audio.append(audio=base64.b64encode(bytes([3, 0, 4, 0])).decode())
        delta, audio = conn.recv(), conn.recv()
        assert type(delta).__name__ == "OutputTranscriptDeltaEvent"
        assert delta.delta == server_events[1]["delta"]
        assert base64.b64decode(audio.delta) == base64.b64decode(server_events[2]["delta"])
        conn.session.close()
        closed = conn.recv()
        assert type(closed).__name__ == "SessionClosedEvent"
        assert closed.reason == "close_requested" and closed.usage.seconds == 2
        assert closed.session.id == ev.session.id, "a referenced id is the one defined before"
        assert list(conn) == []
    entries = http_request("GET", replaying.url + "/__aimock/journal?method=WS").json()
    entries = entries if isinstance(entries, list) else entries.get("entries", entries)
    assert len(entries) == 1 and entries[0]["path"] == "/v1/live/sessions", "the session is one turn"


def test_a_command_the_recording_does_not_have_ends_the_replay_with_aimock_error(replaying):
    from websockets.exceptions import ConnectionClosedError

    with client(replaying).live.connect() as conn:
        conn.session.start(session=SESSION, event_id="s1")
        assert conn.recv().type == "session.started"
        conn.session.commentary.append(content="not in the recording", delegation_id=None)
        err = json.loads(conn.recv_bytes())
        assert err["type"] == "aimock.error" and err["error"]["category"] == "fixture-mismatch"
        with pytest.raises(ConnectionClosedError) as closed:
            conn.recv()
    assert closed.value.rcvd.code == 1008


def test_a_replay_waiting_too_long_for_recorded_input_ends_with_aimock_error(replaying):
    from websockets.exceptions import ConnectionClosedError

    headers = {"x-aimock-live-mismatch-timeout-ms": "200"}
    with client(replaying).live.connect(extra_headers=headers) as conn:
        conn.session.start(session=SESSION, event_id="s1")
        assert conn.recv().type == "session.started"
        # The recording expects input audio next; none comes.
        err = json.loads(conn.recv_bytes())
        assert err == {
            "type": "aimock.error",
            "error": {"category": "fixture-mismatch", "message": "expected client input deadline exceeded"},
        }
        with pytest.raises(ConnectionClosedError) as closed:
            conn.recv()
    assert closed.value.rcvd.code == 1008


# -- record mode ------------------------------------------------------------------------------


def recording_servers(start_aimock, tmp_path):
    """An upstream on the Live fixtures, and a recorder (no fixtures of its own) in front of it."""
    upstream = start_aimock([FIXTURES])
    empty = tmp_path / "fixtures"
    empty.mkdir()
    recorder = start_aimock([empty], args=["--record", "--provider-openai", upstream.url])
    return upstream, recorder, empty


def ws_sources(server):
    return [e["response"]["source"] for e in server.journal() if e["method"] == "WS"]


def test_record_then_replay_a_live_session_with_the_upstream_stopped(start_aimock, tmp_path):
    """A recording server relays each missed GPT-Live turn (commentary, a delegation and its
    result, an utterance of input audio) to an upstream aimock over one socket per client socket
    and saves it; a server on the recordings alone then answers the same sessions, the upstream
    stopped: the same transcripts, delegation and audio."""
    from conftest import stop_server

    upstream, recorder, empty = recording_servers(start_aimock, tmp_path)

    def turn(conn):
        events = until(conn, "session.usage.updated")
        kinds = [e.type for e in events]
        assert kinds[-1] == "session.usage.updated", kinds
        # The upstream's acknowledgements of what it was sent are not relayed.
        assert "session.started" not in kinds and kinds.count("session.commentary.appended") <= 1, kinds
        return events

    def session(url: str):
        c = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0)
        with c.live.connect() as conn:
            started(conn, instructions="Be brief.")
            conn.session.commentary.append(content="greet the caller", delegation_id=None)
            greet = turn(conn)
            conn.session.commentary.append(content="book a table", delegation_id=None)
            first = turn(conn)
            delegated = [e for e in first if e.type == "session.delegation.created"]
            assert len(delegated) == 1, [e.type for e in first]
            conn.session.commentary.append(content="booked: 2 people at 8pm", delegation_id=delegated[0].delegation.id)
            second = turn(conn)
        with c.live.connect() as conn:
            started(conn, model="gpt-live-1.1")
            conn.session.input_audio.append(audio=tone(200))
            conn.session.input_audio.append(audio=silence(300))
            conn.session.input_audio.append(audio=silence(300))
            heard = turn(conn)
        return {
            "greet": spoken(greet),
            "delegation": (delegated[0].delegation.id, delegated[0].delegation.target, spoken(first)[0]),
            "booked": spoken(second)[0],
            "heard": spoken(heard),
        }

    live = session(recorder.url)
    assert live["greet"][0] == "Hello! How can I help you today?"
    assert len(live["greet"][1]) == 48 * 60 * len(live["greet"][0])
    assert live["delegation"][1:] == ("client", "Let me book that.")
    assert live["booked"] == "Your table for two is booked."
    assert live["heard"] == ("I heard you.", FIXTURE_AUDIO)
    # The upstream answered every turn; the recorder journaled them as proxied.
    assert [e["path"] for e in upstream.journal() if e["method"] == "WS"] == ["/v1/live/sessions"] * 4
    assert ws_sources(recorder) == ["proxy"] * 4
    recorded = sorted((empty / "recorded").glob("*.json"))
    assert len(recorded) == 4, recorded
    saved = [json.loads(f.read_text())["fixtures"][0] for f in recorded]
    assert all(f["match"]["endpoint"] == "openai-live" for f in saved), saved
    calls = [f["response"]["toolCalls"] for f in saved if "toolCalls" in f["response"]]
    assert [c[0]["id"] for c in calls] == [live["delegation"][0]], "the delegation is saved as a tool call"

    stop_server(recorder)
    stop_server(upstream)
    replay = start_aimock([empty / "recorded"])
    assert session(replay.url) == live
    assert ws_sources(replay) == ["fixture"] * 4


def test_record_then_replay_a_translation_session_with_the_upstream_stopped(start_aimock, tmp_path):
    """Each utterance of a translation session no fixture answers is translated by the upstream
    over one socket, relayed and saved; the recordings alone replay both translations (the
    second with its audio) to the SDK, the upstream stopped."""
    from conftest import stop_server

    upstream, recorder, empty = recording_servers(start_aimock, tmp_path)

    def translated(conn, text_len_audio):
        text, pcm, kinds = "", b"", []
        want_text, want_audio = text_len_audio
        while text != want_text or len(pcm) < want_audio:
            ev = conn.recv()
            kinds.append(ev.type)
            assert ev.type in ("session.output_transcript.delta", "session.output_audio.delta"), kinds
            if ev.type == "session.output_transcript.delta":
                text += ev.delta
            else:
                pcm += base64.b64decode(ev.delta)
        return text, pcm

    def session(url: str):
        c = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0)
        with c.realtime.translations.connect(model="gpt-realtime-translate") as conn:
            assert conn.recv().type == "session.created"
            conn.session.update(session={"audio": {"output": {"language": "es"}}})
            assert conn.recv().type == "session.updated"
            conn.session.input_audio_buffer.append(audio=tone(400))
            conn.session.input_audio_buffer.append(audio=silence(600))
            first = translated(conn, ("Hola, ¿cómo estás?", 48 * 60 * len("Hola, ¿cómo estás?")))
            conn.session.input_audio_buffer.append(audio=tone(200))
            conn.session.input_audio_buffer.append(audio=silence(600))
            second = translated(conn, ("Adiós.", len(FIXTURE_AUDIO)))
            conn.session.close()
            assert conn.recv().type == "session.closed"
        return first, second

    first, second = session(recorder.url)
    assert set(first[1]) == {0}
    assert second == ("Adiós.", FIXTURE_AUDIO)
    up = [e for e in upstream.journal() if e["method"] == "WS"]
    assert [e["path"] for e in up] == ["/v1/realtime/translations?model=gpt-realtime-translate"] * 2
    assert ws_sources(recorder) == ["proxy"] * 2
    recorded = sorted((empty / "recorded").glob("*.json"))
    saved = sorted((json.loads(f.read_text())["fixtures"][0] for f in recorded), key=lambda f: f["match"]["turnIndex"])
    assert [f["match"]["endpoint"] for f in saved] == ["realtime-translation"] * 2
    assert [f["response"]["content"] for f in saved] == ["Hola, ¿cómo estás?", "Adiós."]
    assert base64.b64decode(saved[1]["response"]["audio"]) == FIXTURE_AUDIO

    stop_server(recorder)
    stop_server(upstream)
    replay = start_aimock([empty / "recorded"])
    assert session(replay.url) == (first, second)
    assert ws_sources(replay) == ["fixture"] * 2
