"""Gemini Live (``BidiGenerateContent``) driven by the pinned ``google-genai`` SDK's own client,
``client.aio.live.connect``: every server message is parsed by the SDK into its typed
``LiveServerMessage``, and what it parsed is checked against ``interop/fixtures/gemini_live``.

The SDK always dials ``wss://`` (it rewrites the base URL's scheme); aimock serves plain HTTP, so
each client gets the one shim the SDK needs for a local server: its WebSocket base URL is the
server's ``ws://`` URL and its TLS context is dropped. Everything else (the paths, the setup, the
messages sent and parsed) is the SDK's own.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
import websockets
from google import genai
from google.genai import errors, types

from conftest import FIXTURES_DIR, http_request

FIXTURES = FIXTURES_DIR / "gemini_live"
MODEL = "gemini-live-2.5-flash-preview"
LIVE_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}},
)


@pytest.fixture
def server(start_aimock):
    return start_aimock([FIXTURES])


def client_for(server, vertexai: bool = False) -> genai.Client:
    client = genai.Client(
        api_key="test-key",
        vertexai=vertexai,
        http_options={"base_url": server.url, "api_version": "v1beta" if not vertexai else "v1"},
    )
    ws_url = "ws://" + server.url.split("://", 1)[1]
    client._api_client._websocket_base_url = lambda http_options=None: ws_url
    client._api_client._websocket_ssl_ctx = {}
    return client


async def turn(session) -> list[types.LiveServerMessage]:
    """Every message of one turn, up to its ``turnComplete`` (the SDK's ``receive`` stops there)."""
    return [m async for m in session.receive()]


def texts(msgs) -> str:
    out = []
    for m in msgs:
        sc = m.server_content
        if sc and sc.model_turn and sc.model_turn.parts:
            out.extend(p.text for p in sc.model_turn.parts if p.text)
    return "".join(out)


def journal_ws(server) -> list[dict[str, Any]]:
    journal = http_request("GET", server.url + "/__aimock/journal").json()
    entries = journal if isinstance(journal, list) else journal.get("entries", journal)
    return [e for e in entries if e["method"] == "WS"]


def test_a_text_turn_streams_the_fixture_text_then_generation_and_turn_complete(server):
    async def run():
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["TEXT"]}) as s:
            assert s.session_id, "setupComplete carries a sessionId"
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "hello live"}]})
            return await turn(s)

    msgs = asyncio.run(run())
    assert all(isinstance(m, types.LiveServerMessage) for m in msgs)
    parts = [m for m in msgs if m.server_content and m.server_content.model_turn]
    assert len(parts) > 1, "chunkSize 5 splits the text"
    assert texts(msgs) == "Hello from Gemini Live!"
    assert any(m.server_content and m.server_content.generation_complete for m in msgs)
    last = msgs[-1]
    assert last.server_content.turn_complete is True
    usage = last.usage_metadata
    assert (usage.prompt_token_count, usage.response_token_count, usage.total_token_count) == (11, 6, 17)
    ws = journal_ws(server)
    assert len(ws) == 1 and ws[0]["path"] == LIVE_PATH
    assert ws[0]["response"]["status"] == 200


def test_a_tool_call_round_trip_matches_the_follow_up_by_its_tool_result(server):
    async def run():
        client = client_for(server)
        config = {"response_modalities": ["TEXT"], "tools": [types.Tool(function_declarations=[WEATHER])]}
        async with client.aio.live.connect(model=MODEL, config=config) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "weather in Paris"}]})
            first = await turn(s)
            call = next(m.tool_call for m in first if m.tool_call)
            fc = call.function_calls[0]
            await s.send_tool_response(
                function_responses=[types.FunctionResponse(id=fc.id, name=fc.name, response={"temp": 21})]
            )
            return fc, await turn(s)

    fc, second = asyncio.run(run())
    assert fc.name == "get_weather" and fc.args == {"city": "Paris"} and fc.id
    assert texts(second) == "It is 21 degrees and sunny in Paris."
    ws = journal_ws(server)
    assert len(ws) == 2
    body = ws[1]["body"]
    assert any(m.get("role") == "tool" for m in body["messages"]), body


def test_realtime_text_and_audio_with_transcriptions(server):
    async def run():
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["TEXT"]}) as s:
            await s.send_realtime_input(text="typed realtime")
            typed = await turn(s)
        config = {
            "response_modalities": ["AUDIO"],
            "input_audio_transcription": {},
            "output_audio_transcription": {},
        }
        async with client.aio.live.connect(model=MODEL, config=config) as s:
            pcm = b"\x01\x00" * 8000
            for i in range(0, len(pcm), 4000):
                await s.send_realtime_input(
                    audio=types.Blob(data=pcm[i : i + 4000], mime_type="audio/pcm;rate=16000")
                )
            await s.send_realtime_input(audio_stream_end=True)
            spoken = await turn(s)
        return typed, spoken

    typed, spoken = asyncio.run(run())
    assert texts(typed) == "Realtime text answered."
    heard = [m.server_content.input_transcription.text for m in spoken if m.server_content and m.server_content.input_transcription]
    assert heard == ["book a table for two"]
    said = "".join(
        m.server_content.output_transcription.text
        for m in spoken
        if m.server_content and m.server_content.output_transcription
    )
    assert said == "Your table is booked."
    audio = b"".join(
        p.inline_data.data
        for m in spoken
        if m.server_content and m.server_content.model_turn
        for p in m.server_content.model_turn.parts
        if p.inline_data
    )
    # Silent PCM16 at 24 kHz, 1/15 s per character of the text.
    # Silence as long as the text takes to say: 60 ms a character, 24 kHz PCM16.
    assert len(audio) == len("Your table is booked.") * 60 * 24 * 2
    assert set(audio) == {0}
    assert texts(spoken) == "", "an AUDIO session gets no text parts"
    assert spoken[-1].usage_metadata.response_tokens_details[0].modality == types.MediaModality.AUDIO


def test_a_speak_and_call_turn_is_audio_then_the_tool_call_then_turn_complete(server):
    async def run():
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["AUDIO"]}) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "speak and call"}]})
            return await turn(s)

    msgs = asyncio.run(run())
    kinds = []
    for m in msgs:
        if m.tool_call:
            kinds.append("call")
        elif m.server_content and m.server_content.model_turn:
            kinds.append("audio")
    assert kinds[0] == "audio" and kinds[-1] == "call" and set(kinds[:-1]) == {"audio"}
    audio = b"".join(
        p.inline_data.data
        for m in msgs
        if m.server_content and m.server_content.model_turn
        for p in m.server_content.model_turn.parts
    )
    assert audio == bytes((i * 7) % 256 for i in range(12000))
    assert msgs[-1].server_content.turn_complete
    call = next(m.tool_call for m in msgs if m.tool_call).function_calls[0]
    assert (call.name, call.args) == ("lookup", {"q": "menu"})


def test_a_resumed_session_keeps_its_history(server):
    async def run():
        client = client_for(server)
        config = {"response_modalities": ["TEXT"], "session_resumption": {}}
        async with client.aio.live.connect(model=MODEL, config=config) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "the code word is falcon"}]})
            first = await turn(s)
        update = next(m.session_resumption_update for m in first if m.session_resumption_update)
        assert update.resumable is True and update.new_handle
        resumed = {"response_modalities": ["TEXT"], "session_resumption": {"handle": update.new_handle}}
        async with client.aio.live.connect(model=MODEL, config=resumed) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "what was the code word"}]})
            again = await turn(s)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["TEXT"]}) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "what was the code word"}]})
            fresh = await turn(s)
        return first, again, fresh

    first, again, fresh = asyncio.run(run())
    assert texts(first) == "Noted."
    assert texts(again) == "The code word was falcon.", "the resumed history has the earlier turn"
    assert texts(fresh) == "I have no memory of one.", "a new session starts empty"


def test_input_mid_turn_interrupts_it(server):
    async def run():
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["TEXT"]}) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "tell me a long story"}]})
            seen = []
            async for m in s.receive():
                seen.append(m)
                if len(seen) == 2:
                    await s.send_client_content(turns={"role": "user", "parts": [{"text": "stop the story"}]})
                if m.server_content and m.server_content.turn_complete:
                    break
            return seen

    seen = asyncio.run(run())
    flags = [i for i, m in enumerate(seen) if m.server_content and m.server_content.interrupted]
    assert len(flags) == 1
    before, after = seen[: flags[0]], seen[flags[0] + 1 :]
    assert 0 < len(texts(before)) < len("Once upon a time, " * 20)
    assert texts(after) == "Stopped."
    ws = journal_ws(server)
    assert len(ws) == 2
    assert ws[0]["response"]["interrupted"] is True and ws[0]["response"]["delivered"] is False
    # The interrupted answer is left out of the history the next turn matched.
    roles = [m["role"] for m in ws[1]["body"]["messages"]]
    assert roles == ["user", "user"]


def test_go_away_carries_time_left_then_the_server_ends_the_session(server):
    async def run():
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["TEXT"]}) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "time to go"}]})
            first = await turn(s)
            after = []
            with pytest.raises(errors.APIError) as e:
                async for m in s.receive():
                    after.append(m)
            return first, after, e.value

    first, after, err = asyncio.run(run())
    assert texts(first) == "Bye soon."
    # goAway comes after the turn, then (0.3 s later) the close: 1000 with the reason.
    assert len(after) == 1 and after[0].go_away is not None
    assert after[0].go_away.time_left == "0.3s"
    assert err.code == 1000 and "goAway" in str(err.details)


def test_setup_required_and_bad_messages_get_the_apis_errors(server):
    ws_url = "ws://" + server.url.split("://", 1)[1] + LIVE_PATH + "?key=test-key"

    async def first_then_close(messages):
        async with websockets.connect(ws_url) as ws:
            for m in messages:
                await ws.send(m)
            got = []
            try:
                while True:
                    got.append(await ws.recv())
                    if "turnComplete" in got[-1]:
                        return got, None
            except websockets.ConnectionClosed as e:
                return got, e.rcvd

    got, close = asyncio.run(first_then_close([json.dumps({"clientContent": {"turnComplete": True}})]))
    assert json.loads(got[0]) == {"error": {"code": 9, "message": "Setup required", "status": "FAILED_PRECONDITION"}}
    assert (close.code, close.reason) == (1008, "Setup required")

    setup = json.dumps({"setup": {"model": "models/" + MODEL}})
    for bad, needle in [
        ("not json", "Invalid JSON payload"),
        (json.dumps({"bogus": {}}), 'Unknown name "bogus"'),
        (json.dumps({"clientContent": {"turnComplete": "yes"}}), "TYPE_BOOL"),
        (b"\xff\xfe", "not UTF-8"),
    ]:
        got, close = asyncio.run(first_then_close([setup, bad]))
        assert "setupComplete" in json.loads(got[0])
        err = json.loads(got[1])["error"]
        assert err["code"] == 3 and err["status"] == "INVALID_ARGUMENT" and needle in err["message"]
        assert close.code == 1007
    # JSON in a binary frame is read like text.
    got, close = asyncio.run(
        first_then_close([setup.encode(), json.dumps({"realtimeInput": {"text": "typed realtime"}}).encode()])
    )
    assert close is None, "the session stays open after a turn"
    assert "Realtime text answered." == "".join(
        p["text"]
        for m in map(json.loads, got)
        for p in m.get("serverContent", {}).get("modelTurn", {}).get("parts", [])
    )
    assert http_request("GET", server.url + "/__aimock/health").status == 200


def test_a_miss_closes_the_session_with_the_error_and_is_journaled_404(server):
    async def run():
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config={"response_modalities": ["TEXT"]}) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "nothing matches this"}]})
            with pytest.raises(errors.APIError) as e:
                await turn(s)
            return e.value

    err = asyncio.run(run())
    assert err.code == 1008 and "No fixture matched" in str(err.details)
    ws = journal_ws(server)
    assert len(ws) == 1 and ws[0]["response"]["status"] == 404


def test_vertex_live_path_serves_the_same_session(server):
    async def run():
        client = client_for(server, vertexai=True)
        async with client.aio.live.connect(model="gemini-2.0-flash", config={"response_modalities": ["TEXT"]}) as s:
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "hello live"}]})
            return await turn(s)

    msgs = asyncio.run(run())
    assert texts(msgs) == "Hello from Gemini Live!"
    assert journal_ws(server)[0]["path"] == "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"


def test_record_then_replay_with_the_upstream_stopped(start_aimock, tmp_path):
    """A recording server (``--record --provider-gemini <upstream>``, no fixtures of its own) opens
    its own Gemini Live session on an upstream aimock for the turns it cannot answer, relays them,
    and saves each; a fresh server on the recordings alone then answers the same session (a text
    turn, a tool call and the turn after its response), the upstream stopped."""
    from conftest import stop_server

    upstream = start_aimock([FIXTURES])
    empty = tmp_path / "fixtures"
    empty.mkdir()
    recorder = start_aimock([empty], args=["--record", "--provider-gemini", upstream.url])

    def converse(server):
        async def run():
            client = client_for(server)
            config = {"response_modalities": ["TEXT"], "tools": [types.Tool(function_declarations=[WEATHER])]}
            async with client.aio.live.connect(model=MODEL, config=config) as s:
                await s.send_client_content(turns={"role": "user", "parts": [{"text": "hello live"}]})
                hello = await turn(s)
                await s.send_client_content(turns={"role": "user", "parts": [{"text": "weather in Paris"}]})
                first = await turn(s)
                fc = next(m.tool_call for m in first if m.tool_call).function_calls[0]
                await s.send_tool_response(
                    function_responses=[types.FunctionResponse(id=fc.id, name=fc.name, response={"temp": 21})]
                )
                after = await turn(s)
            usage = hello[-1].usage_metadata
            return (
                texts(hello),
                (usage.prompt_token_count, usage.response_token_count, usage.total_token_count),
                (fc.id, fc.name, fc.args),
                texts(after),
            )

        return asyncio.run(run())

    live = converse(recorder)
    assert live[0] == "Hello from Gemini Live!"
    assert live[1] == (11, 6, 17), "the upstream's usage is relayed"
    assert live[2][1:] == ("get_weather", {"city": "Paris"}) and live[2][0]
    assert live[3] == "It is 21 degrees and sunny in Paris."
    ws = journal_ws(recorder)
    assert [e["response"].get("source") for e in ws] == ["proxy"] * 3, ws
    up = journal_ws(upstream)
    assert len(up) == 3, "the upstream took each turn, on one session"
    assert any(m.get("role") == "tool" for m in up[2]["body"]["messages"]), up[2]["body"]
    recorded = sorted((empty / "recorded").glob("*.json"))
    assert len(recorded) == 3, recorded
    matches = [json.loads(f.read_text())["fixtures"][0]["match"] for f in recorded]
    assert sorted((m["userMessage"]["equals"], m["hasToolResult"]) for m in matches) == [
        ("hello live", False),
        ("weather in Paris", False),
        ("weather in Paris", True),
    ]
    assert all(m["endpoint"] == "realtime" for m in matches)

    stop_server(recorder)
    stop_server(upstream)
    replay = start_aimock([empty / "recorded"])
    assert converse(replay) == live
    assert [e["response"].get("source") for e in journal_ws(replay)] == ["fixture"] * 3
