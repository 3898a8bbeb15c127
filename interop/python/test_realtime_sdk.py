"""OpenAI Realtime (GA) over WebSocket, driven by the pinned ``openai`` SDK's own client
(``client.realtime.connect()`` and its async twin).

Every server event is read as bytes, validated against the SDK's ``RealtimeServerEvent`` union
with pydantic (so a missing required field fails), and parsed by the SDK into its typed model:
the tests check those typed models carry the fixture's text, tool call, audio bytes and
transcript. Fixtures: ``interop/fixtures/realtime``.
"""

from __future__ import annotations

import asyncio
import base64
import json

import openai
import pytest
from pydantic import TypeAdapter
from openai.types.realtime import RealtimeServerEvent
from websockets.sync.client import connect as ws_connect

from conftest import API_KEY, FIXTURES_DIR, http_request

FIXTURES = FIXTURES_DIR / "realtime"
ADAPTER = TypeAdapter(RealtimeServerEvent)


@pytest.fixture
def server(start_aimock):
    return start_aimock([FIXTURES])


def client_for(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)


def checked(conn, raw: bytes):
    """The SDK's parse of one event, after pydantic validated it against the SDK's union."""
    strict = ADAPTER.validate_json(raw)
    ev = conn.parse_event(raw)
    assert ev.type == strict.type
    # Typed, not a fallback: the SDK's class for this event type.
    assert type(ev).__name__ == type(strict).__name__, (type(ev), type(strict))
    assert ev.event_id.startswith("event_")
    return ev


def recv(conn):
    return checked(conn, conn.recv_bytes())


def until(conn, last: str = "response.done"):
    events = []
    while True:
        ev = recv(conn)
        events.append(ev)
        if ev.type in (last, "error"):
            return events


def user_text(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_text_turn_events_are_the_sdks_typed_models_with_the_fixture_text(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        created = recv(conn)
        assert type(created).__name__ == "SessionCreatedEvent"
        assert created.session.type == "realtime"
        assert created.session.model == "gpt-realtime"
        assert created.session.id.startswith("sess_")
        assert created.session.audio.input.format.type == "audio/pcm"
        assert created.session.audio.output.voice == "alloy"
        assert created.session.output_modalities == ["text"]

        conn.conversation.item.create(item=user_text("hello realtime"))
        added = recv(conn)
        assert type(added).__name__ == "ConversationItemAdded"
        assert added.item.content[0].text == "hello realtime"
        assert added.previous_item_id is None
        user_id = added.item.id
        assert type(recv(conn)).__name__ == "ConversationItemDone"

        conn.response.create()
        events = until(conn)
    names = [type(e).__name__ for e in events]
    assert names[:4] == [
        "ResponseCreatedEvent",
        "ResponseOutputItemAddedEvent",
        "ConversationItemAdded",
        "ResponseContentPartAddedEvent",
    ]
    assert names[-5:] == [
        "ResponseTextDoneEvent",
        "ResponseContentPartDoneEvent",
        "ResponseOutputItemDoneEvent",
        "ConversationItemDone",
        "ResponseDoneEvent",
    ]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1, "chunkSize 5 splits the text"
    assert "".join(d.delta for d in deltas) == "Hello from the realtime socket!"
    assert events[2].previous_item_id == user_id
    done = events[-1]
    assert done.response.status == "completed"
    assert done.response.output[0].content[0].type == "output_text"
    assert done.response.output[0].content[0].text == "Hello from the realtime socket!"
    # gpt-realtime-2's response phase (not in the SDK's types; kept as an extra field).
    assert done.response.output[0].model_extra["phase"] == "final_answer"
    assert done.response.usage.total_tokens == done.response.usage.input_tokens + done.response.usage.output_tokens
    assert all(e.response_id == done.response.id for e in deltas)


def test_a_tool_round_trip_matches_the_result_by_tool_call_id(server):
    async def run():
        client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
        tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
        async with client.realtime.connect(model="gpt-realtime") as conn:

            async def until_async(last="response.done"):
                out = []
                while True:
                    ev = checked(conn, await conn.recv_bytes())
                    out.append(ev)
                    if ev.type in (last, "error"):
                        return out

            assert (await until_async("session.created"))[0].type == "session.created"
            await conn.session.update(session={"type": "realtime", "tools": tools})
            updated = (await until_async("session.updated"))[-1]
            assert updated.session.tools[0].name == "get_weather"
            await conn.conversation.item.create(item=user_text("weather in Paris"))
            await until_async("conversation.item.done")
            await conn.response.create()
            first = await until_async()
            call = first[-1].response.output[0]
            assert call.type == "function_call"
            assert call.name == "get_weather"
            assert call.call_id == "call_weather_1"
            args = "".join(e.delta for e in first if e.type == "response.function_call_arguments.delta")
            assert json.loads(args) == {"city": "Paris"}
            fc_done = [e for e in first if e.type == "response.function_call_arguments.done"]
            assert type(fc_done[0]).__name__ == "ResponseFunctionCallArgumentsDoneEvent"
            assert json.loads(fc_done[0].arguments) == {"city": "Paris"}

            await conn.conversation.item.create(
                item={"type": "function_call_output", "call_id": call.call_id, "output": "21C, sunny"}
            )
            added = (await until_async("conversation.item.added"))[-1]
            assert added.previous_item_id == call.id, "the output follows the call in the conversation"
            await until_async("conversation.item.done")
            await conn.response.create()
            second = await until_async()
        text = "".join(e.delta for e in second if e.type == "response.output_text.delta")
        assert text == "It is 21C and sunny in Paris."
        await client.close()

    asyncio.run(run())
    entries = [e for e in server.journal() if e["method"] == "WS"]
    assert [e["response"]["fixture"]["match"] for e in entries] == [
        {"userMessage": "weather in Paris"},
        {"toolCallId": "call_weather_1"},
    ]


def test_message_items_take_text_image_and_audio_parts(server):
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": image},
                    {"type": "input_audio", "audio": pcm_b64(100)},
                    {"type": "input_text", "text": "hello realtime"},
                ],
            }
        )
        added = until(conn, "conversation.item.added")[-1]
        parts = added.item.content
        assert [p.type for p in parts] == ["input_image", "input_audio", "input_text"]
        assert parts[0].image_url == image
        assert parts[1].audio is None and parts[1].transcript is None, "audio bytes are not echoed"
        until(conn, "conversation.item.done")
        conn.conversation.item.create(item={"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Be kind."}]})
        assert until(conn, "conversation.item.done")[-1].item.role == "system"
        conn.send({"type": "conversation.item.retrieve", "item_id": added.item.id})
        got = until(conn, "conversation.item.retrieved")[-1]
        assert type(got).__name__ == "ConversationItemRetrieved" and got.item.id == added.item.id
        conn.response.create()
        assert "".join(e.delta for e in until(conn) if e.type == "response.output_text.delta") == "Hello from the realtime socket!"
        conn.send({"type": "conversation.item.delete", "item_id": added.item.id})
        assert type(until(conn, "conversation.item.deleted")[-1]).__name__ == "ConversationItemDeletedEvent"
        conn.send({"type": "conversation.item.delete", "item_id": added.item.id})
        assert until(conn, "error")[-1].error.code == "item_not_found"
    body = server.journal()[-1]["body"]
    assert body["messages"] == [{"role": "user", "content": "hello realtime"}, {"role": "system", "content": "Be kind."}]


def test_turn_index_counts_the_sockets_earlier_responses(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        texts = []
        for ask in ("first turn", "second turn"):
            conn.conversation.item.create(item=user_text(ask))
            until(conn, "conversation.item.done")
            conn.response.create()
            texts.append("".join(e.delta for e in until(conn) if e.type == "response.output_text.delta"))
    assert texts == ["This is turn one.", "This is turn two."]


def audio_turn(server, ask: str, fmt: dict | None = None):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        output = {"format": fmt} if fmt else {}
        conn.session.update(session={"type": "realtime", "output_modalities": ["audio"], "audio": {"output": output}})
        assert until(conn, "session.updated")[-1].session.output_modalities == ["audio"]
        conn.conversation.item.create(item=user_text(ask))
        until(conn, "conversation.item.done")
        conn.response.create()
        return until(conn)


def test_audio_out_streams_the_fixtures_file_bytes_with_its_transcript(server):
    events = audio_turn(server, "speak the file")
    deltas = [e for e in events if e.type == "response.output_audio.delta"]
    assert type(deltas[0]).__name__ == "ResponseAudioDeltaEvent"
    assert len(deltas) > 1, "the audio is paced in pieces like the text"
    pcm = b"".join(base64.b64decode(d.delta) for d in deltas)
    assert pcm == (FIXTURES / "speech.pcm").read_bytes()
    transcript = "".join(e.delta for e in events if e.type == "response.output_audio_transcript.delta")
    assert transcript == "Here is the recording."
    done = [e for e in events if e.type == "response.output_audio_transcript.done"][0]
    assert type(done).__name__ == "ResponseAudioTranscriptDoneEvent"
    assert done.transcript == "Here is the recording."
    assert any(type(e).__name__ == "ResponseAudioDoneEvent" for e in events)
    assert not any(e.type == "response.output_text.delta" for e in events)
    final = events[-1].response
    assert final.output[0].content[0].type == "output_audio"
    assert final.output[0].content[0].transcript == "Here is the recording."
    assert final.usage.output_token_details.audio_tokens > 0


def test_audio_out_without_fixture_audio_is_silent_pcm16_sized_by_the_text(server):
    events = audio_turn(server, "speak silently")
    pcm = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    # 60 ms per character at 24 kHz mono PCM16: 48 bytes per ms.
    assert len(pcm) == len("Twelve chars") * 60 * 48
    assert set(pcm) == {0}
    # G.711 mu-law: 8 bytes per ms, silence is 0xFF.
    ulaw_events = audio_turn(server, "speak silently", {"type": "audio/pcmu"})
    ulaw = b"".join(base64.b64decode(e.delta) for e in ulaw_events if e.type == "response.output_audio.delta")
    assert len(ulaw) == len("Twelve chars") * 60 * 8
    assert set(ulaw) == {0xFF}


def pcm_b64(ms: int) -> str:
    return base64.b64encode(bytes(48 * ms)).decode()


def test_response_create_overrides_apply_to_that_response_only(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        conn.conversation.item.create(item=user_text("speak silently"))
        until(conn, "conversation.item.done")
        # Audio for this response only, out of band (not added to the conversation).
        conn.response.create(
            response={
                "output_modalities": ["audio"],
                "instructions": "Whisper.",
                "conversation": "none",
                "metadata": {"topic": "test"},
            }
        )
        events = until(conn)
        assert any(e.type == "response.output_audio.delta" for e in events)
        assert not any(e.type.startswith("conversation.item") for e in events)
        done = events[-1].response
        assert done.output_modalities == ["audio"]
        assert done.conversation_id is None
        assert done.metadata == {"topic": "test"}
        # The session is unchanged: the next response is text, in the conversation.
        conn.response.create()
        events = until(conn)
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Twelve chars"
        assert any(e.type == "conversation.item.added" for e in events)
        # A bad override is refused, naming it.
        conn.response.create(response={"output_modalities": ["smell"]})
        err = until(conn, "error")[-1]
        assert err.error.param == "response.output_modalities"
    entries = [e for e in server.journal() if e["method"] == "WS"]
    assert entries[0]["body"]["messages"][0] == {"role": "system", "content": "Whisper."}
    assert entries[1]["body"]["messages"][0] == {"role": "user", "content": "speak silently"}


def test_a_transcription_session_transcribes_committed_audio(server):
    with client_for(server).realtime.connect(extra_query={"intent": "transcription"}) as conn:
        created = recv(conn)
        assert created.session.type == "transcription"
        conn.session.update(
            session={"type": "transcription", "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}
        )
        assert until(conn, "session.updated")[-1].session.audio.input.transcription.model == "gpt-4o-transcribe"
        conn.send({"type": "transcription_session.update", "session": {"audio": {"input": {"noise_reduction": {"type": "near_field"}}}}})
        s = until(conn, "session.updated")[-1].session
        assert s.audio.input.noise_reduction.type == "near_field"
        assert s.audio.input.transcription.model == "gpt-4o-transcribe"
        # An empty buffer cannot be committed.
        conn.input_audio_buffer.commit()
        err = until(conn, "error")[-1]
        assert err.error.code == "input_audio_buffer_commit_empty"
        conn.input_audio_buffer.append(audio=pcm_b64(150))
        conn.input_audio_buffer.commit()
        events = until(conn, "conversation.item.input_audio_transcription.completed")
        names = [type(e).__name__ for e in events]
        assert names[:3] == ["InputAudioBufferCommittedEvent", "ConversationItemAdded", "ConversationItemDone"]
        item_id = events[0].item_id
        assert events[1].item.id == item_id and events[1].item.content[0].type == "input_audio"
        deltas = [e for e in events if e.type == "conversation.item.input_audio_transcription.delta"]
        assert type(deltas[0]).__name__ == "ConversationItemInputAudioTranscriptionDeltaEvent"
        assert "".join(d.delta for d in deltas) == "the quick brown fox jumps"
        completed = events[-1]
        assert type(completed).__name__ == "ConversationItemInputAudioTranscriptionCompletedEvent"
        assert completed.item_id == item_id
        assert completed.transcript == "the quick brown fox jumps"
        assert completed.usage.type == "tokens"
        assert completed.usage.input_tokens == 2  # 150 ms of audio, a token per 100 ms

        # whisper-1 reports duration; its fixture here is an error: `...failed`.
        conn.session.update(
            session={"type": "transcription", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
        )
        until(conn, "session.updated")
        conn.input_audio_buffer.append(audio=pcm_b64(100))
        conn.input_audio_buffer.clear()
        assert type(until(conn, "input_audio_buffer.cleared")[-1]).__name__ == "InputAudioBufferClearedEvent"
        conn.input_audio_buffer.append(audio=pcm_b64(100))
        conn.input_audio_buffer.commit()
        failed = until(conn, "conversation.item.input_audio_transcription.failed")[-1]
        assert type(failed).__name__ == "ConversationItemInputAudioTranscriptionFailedEvent"
        assert failed.error.code == "audio_unreadable"
    entries = [e for e in server.journal() if e["method"] == "WS"]
    assert [e["body"]["_endpointType"] for e in entries] == ["realtime-transcription"] * 2
    assert [e["response"]["status"] for e in entries] == [200, 400]


def test_a_transcript_becomes_the_user_message_a_response_is_matched_on(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        conn.session.update(
            session={"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe"}}}}
        )
        until(conn, "session.updated")
        conn.input_audio_buffer.append(audio=pcm_b64(200))
        conn.input_audio_buffer.commit()
        assert until(conn, "conversation.item.input_audio_transcription.completed")[-1].transcript == "the quick brown fox jumps"
        conn.response.create()
        text = "".join(e.delta for e in until(conn) if e.type == "response.output_text.delta")
    assert text == "Foxes are quick."


def test_response_cancel_mid_stream_ends_the_response_cancelled(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        # No response yet: the API's error.
        conn.response.cancel()
        err = until(conn, "error")[-1]
        assert err.error.code == "response_cancel_not_active"
        conn.conversation.item.create(item=user_text("tell me a long story"))
        until(conn, "conversation.item.done")
        conn.response.create()
        got = []
        while True:
            ev = recv(conn)
            got.append(ev)
            if ev.type == "response.output_text.delta":
                break
        conn.response.cancel()
        rest = until(conn)
        done = rest[-1]
        assert done.response.status == "cancelled"
        assert done.response.status_details.reason == "client_cancelled"
        deltas = "".join(e.delta for e in got + rest if e.type == "response.output_text.delta")
        full = "Once upon a time there was a story that went on and on and on, for a very long time indeed."
        assert len(deltas) < len(full), "the stream stopped early"
        item = done.response.output[0]
        assert item.status == "incomplete"
        assert item.content[0].text == deltas, "the cancelled output is what was sent"
        # The socket goes on.
        conn.conversation.item.create(item=user_text("hello realtime"))
        until(conn, "conversation.item.done")
        conn.response.create()
        assert until(conn)[-1].response.status == "completed"
    entries = [e for e in server.journal() if e["method"] == "WS"]
    assert entries[0]["response"]["delivered"] is False


def test_session_update_with_bad_values_is_refused_and_rolled_back(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
        assert until(conn, "session.updated")[-1].session.instructions == "Be brief."
        for bad, param in (
            ({"type": "realtime", "model": "gpt-4o", "instructions": "changed"}, "session.model"),
            ({"type": "realtime", "output_modalities": ["video"]}, "session.output_modalities"),
            ({"type": "transcription"}, "session.type"),
        ):
            conn.send({"type": "session.update", "event_id": "evt_bad", "session": bad})
            err = until(conn, "error")[-1]
            assert type(err).__name__ == "RealtimeErrorEvent"
            assert err.error.code == "invalid_session_config"
            assert err.error.param == param
            assert err.error.event_id == "evt_bad"
        # Nothing changed: the next update shows the old values.
        conn.session.update(session={"type": "realtime", "audio": {"output": {"voice": "marin"}}})
        s = until(conn, "session.updated")[-1].session
        assert s.instructions == "Be brief."
        assert s.model == "gpt-realtime"
        assert s.output_modalities == ["text"]
        assert s.audio.output.voice == "marin"


def test_bad_client_events_get_error_events_and_the_socket_stays_usable(server):
    with client_for(server).realtime.connect(model="gpt-realtime") as conn:
        recv(conn)
        conn.send_raw("this is not json")
        assert until(conn, "error")[-1].error.code == "invalid_json"
        conn.send_raw(json.dumps({"type": "no.such.event", "event_id": "evt_1"}))
        err = until(conn, "error")[-1]
        assert err.error.code == "invalid_value" and err.error.param == "type" and err.error.event_id == "evt_1"
        conn.send_raw(b"\x00\x01binary")
        assert until(conn, "error")[-1].error.code == "invalid_message"
        conn.send_raw(json.dumps({"type": "conversation.item.create"}))
        err = until(conn, "error")[-1]
        assert err.error.code == "missing_required_parameter" and err.error.param == "item"
        conn.input_audio_buffer.append(audio="%%% not base64 %%%")
        assert until(conn, "error")[-1].error.code == "invalid_value"
        # A miss: the API's error event, journaled 404.
        conn.conversation.item.create(item=user_text("nothing matches this"))
        until(conn, "conversation.item.done")
        conn.response.create()
        miss = until(conn, "error")[-1]
        assert "No fixture matched" in miss.error.message or "no fixture" in miss.error.message.lower()
        # Still usable.
        conn.conversation.item.create(item=user_text("hello realtime"))
        until(conn, "conversation.item.done")
        conn.response.create()
        assert until(conn)[-1].response.status == "completed"
    entries = [e for e in server.journal() if e["method"] == "WS"]
    assert [e["response"]["status"] for e in entries] == [404, 200]
    assert all(e["path"].startswith("/v1/realtime") for e in entries)
    r = http_request("GET", server.url + "/__aimock/journal?method=WS")
    assert r.status == 200 and len(r.json()) == 2


def test_the_beta_header_gets_the_real_sunset_rejection(server):
    ws_url = server.url.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime-preview"
    with ws_connect(
        ws_url, additional_headers={"Authorization": f"Bearer {API_KEY}", "OpenAI-Beta": "realtime=v1"}
    ) as ws:
        first = json.loads(ws.recv())
        assert first["type"] == "error"
        assert first["error"]["code"] == "beta_api_shape_disabled"
        assert "no longer supported" in first["error"]["message"]
        with pytest.raises(Exception):
            ws.recv()
        assert ws.close_code == 4000
        assert ws.close_reason == "invalid_request_error.beta_api_shape_disabled"


def test_chaos_on_a_response_turn(start_aimock):
    server = start_aimock([FIXTURES])
    client = client_for(server)
    with client.realtime.connect(model="gpt-realtime", extra_headers={"x-aimock-chaos-drop": "1"}) as conn:
        recv(conn)
        conn.conversation.item.create(item=user_text("hello realtime"))
        until(conn, "conversation.item.done")
        conn.response.create()
        err = until(conn, "error")[-1]
        assert type(err).__name__ == "RealtimeErrorEvent"
    with client.realtime.connect(model="gpt-realtime", extra_headers={"x-aimock-chaos-malformed": "1"}) as conn:
        recv(conn)
        conn.conversation.item.create(item=user_text("hello realtime"))
        until(conn, "conversation.item.done")
        conn.response.create()
        raw = conn.recv_bytes()
        with pytest.raises(ValueError):
            json.loads(raw)


def test_the_azure_client_connects_with_its_deployment_as_the_model(server):
    client = openai.AzureOpenAI(
        azure_endpoint=server.url,
        api_version="2025-04-01-preview",
        api_key="azure-key",
        max_retries=0,
        websocket_base_url=server.url.replace("http://", "ws://") + "/openai",
    )
    with client.realtime.connect(model="my-realtime-deployment") as conn:
        created = recv(conn)
        assert created.session.model == "my-realtime-deployment"
        conn.conversation.item.create(item=user_text("hello realtime"))
        until(conn, "conversation.item.done")
        conn.response.create()
        text = "".join(e.delta for e in until(conn) if e.type == "response.output_text.delta")
    assert text == "Hello from the realtime socket!"
    entry = [e for e in server.journal() if e["method"] == "WS"][0]
    assert entry["path"].startswith("/openai/realtime?")
    assert "deployment=my-realtime-deployment" in entry["path"]


def test_record_then_replay_a_session_with_the_upstream_stopped(start_aimock, tmp_path):
    """A recording server (``--record --provider-openai <upstream>``, no fixtures of its own)
    relays each missed response to an upstream aimock over one socket per client socket, first
    bringing the upstream in step with the session (its configuration, the user's items, the
    tool's output), and saves each turn; a server on the recordings alone then answers the same
    session, the upstream stopped: the same text, tool call, audio bytes and transcript."""
    from conftest import stop_server

    upstream = start_aimock([FIXTURES])
    empty = tmp_path / "fixtures"
    empty.mkdir()
    recorder = start_aimock([empty], args=["--record", "--provider-openai", upstream.url])
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]

    def response(conn):
        events = until(conn)
        # The turn's own events: the upstream's acknowledgements of the sync are not relayed.
        assert events[0].type == "response.created", [e.type for e in events]
        assert events[-1].type == "response.done", events[-1]
        return events

    def ask(conn, text: str):
        conn.conversation.item.create(item=user_text(text))
        until(conn, "conversation.item.done")
        conn.response.create()
        return response(conn)

    def session(url: str):
        client = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0)
        with client.realtime.connect(model="gpt-realtime") as conn:
            assert recv(conn).type == "session.created"
            conn.session.update(session={"type": "realtime", "instructions": "Answer briefly.", "tools": tools})
            until(conn, "session.updated")
            hello = ask(conn, "hello realtime")
            first = ask(conn, "weather in Paris")
            call = first[-1].response.output[0]
            conn.conversation.item.create(
                item={"type": "function_call_output", "call_id": call.call_id, "output": "21C, sunny"}
            )
            until(conn, "conversation.item.done")
            conn.response.create()
            answer = response(conn)
        with client.realtime.connect(model="gpt-realtime") as conn:
            recv(conn)
            conn.session.update(session={"type": "realtime", "output_modalities": ["audio"]})
            until(conn, "session.updated")
            spoken = ask(conn, "speak the file")
        text = lambda evs: "".join(e.delta for e in evs if e.type == "response.output_text.delta")
        return {
            "hello": text(hello),
            "call": (call.type, call.name, call.call_id, json.loads(call.arguments)),
            "answer": text(answer),
            "audio": b"".join(base64.b64decode(e.delta) for e in spoken if e.type == "response.output_audio.delta"),
            "transcript": "".join(e.delta for e in spoken if e.type == "response.output_audio_transcript.delta"),
        }

    live = session(recorder.url)
    assert live["hello"] == "Hello from the realtime socket!"
    assert live["call"] == ("function_call", "get_weather", "call_weather_1", {"city": "Paris"})
    assert live["answer"] == "It is 21C and sunny in Paris."
    assert live["audio"] == (FIXTURES / "speech.pcm").read_bytes()
    assert live["transcript"] == "Here is the recording."
    # The upstream answered every turn; the recorder journaled them as proxied.
    assert [e["response"]["fixture"]["match"] for e in upstream.journal() if e["method"] == "WS"] == [
        {"userMessage": "hello realtime"},
        {"userMessage": "weather in Paris"},
        {"toolCallId": "call_weather_1"},
        {"userMessage": "speak the file"},
    ]
    assert [e["response"]["source"] for e in recorder.journal() if e["method"] == "WS"] == ["proxy"] * 4
    recorded = sorted((empty / "recorded").glob("*.json"))
    assert len(recorded) == 4, recorded
    matches = [json.loads(f.read_text())["fixtures"][0]["match"] for f in recorded]
    assert all(m["endpoint"] == "realtime" for m in matches), matches
    legs = sorted(m["hasToolResult"] for m in matches if m["userMessage"]["equals"] == "weather in Paris")
    assert legs == [False, True], matches

    stop_server(recorder)
    stop_server(upstream)
    replay = start_aimock([empty / "recorded"])
    assert session(replay.url) == live
    assert [e["response"]["source"] for e in replay.journal() if e["method"] == "WS"] == ["fixture"] * 4
