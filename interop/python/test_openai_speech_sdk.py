"""OpenAI text to speech through the official openai SDK: the fixture's bytes with their MIME
type, a valid silent file in every response_format when the fixture has none (its length from
the text), streamed audio, the stream_format="sse" events, and typed errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import openai
import pytest
from media_support import audio_seconds

# Four bytes that are not any container: the server must hand them back untouched.
GIVEN = base64.b64encode(b"RIFFfake-wav-bytes").decode()

FIXTURES = {
    "fixtures": [
        {"match": {"userMessage": "[tts] given", "endpoint": "speech"}, "response": {"audio": GIVEN, "format": "wav"}},
        {"match": {"userMessage": "[tts] typed"}, "response": {"audio": {"b64Json": GIVEN, "contentType": "audio/x-custom"}}},
        # A text-only speech fixture: the server speaks silence as long as the input.
        {"match": {"userMessage": "[tts] silent", "endpoint": "speech"}, "response": {"content": "(silence)"}},
        {
            "match": {"userMessage": "[tts] refused", "endpoint": "speech"},
            "response": {"error": {"message": "Too many requests", "type": "rate_limit_error", "code": "rate_limited"}, "status": 429},
        },
        # A chat fixture never answers a speech request.
        {"match": {"userMessage": "[tts] chat only"}, "response": {"content": "words"}},
    ]
}

SILENT = "[tts] silent: twenty five characters"  # 36 characters: 2.16 s at 60 ms each


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "speech.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


def test_the_fixtures_bytes_come_back_with_their_mime_type(sdk: openai.OpenAI) -> None:
    r = sdk.audio.speech.create(model="tts-1", voice="alloy", input="[tts] given")
    assert r.content == base64.b64decode(GIVEN)
    assert r.response.headers["content-type"] == "audio/wav"
    typed = sdk.audio.speech.create(model="tts-1", voice={"id": "voice_1234"}, input="[tts] typed", response_format="flac")
    assert typed.content == base64.b64decode(GIVEN)
    assert typed.response.headers["content-type"] == "audio/x-custom"


MIME = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm"}


@pytest.mark.parametrize("fmt", list(MIME))
def test_without_bytes_a_silent_file_of_each_format_lasts_as_long_as_the_text(sdk: openai.OpenAI, fmt: str) -> None:
    r = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input=SILENT, response_format=fmt)  # type: ignore[arg-type]
    assert r.response.headers["content-type"] == MIME[fmt]
    seconds = audio_seconds(fmt, r.content)
    # Whole frames may round the length up (an MP3 frame is 24 ms, an AAC one 43 ms).
    assert 2.16 <= seconds < 2.16 + 0.05, seconds
    if fmt in ("wav", "pcm"):
        body = r.content[44:] if fmt == "wav" else r.content
        assert set(body) == {0}, "silence"
    # Twice as fast, half as long; deterministic.
    fast = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input=SILENT, response_format=fmt, speed=2.0)  # type: ignore[arg-type]
    assert 1.08 <= audio_seconds(fmt, fast.content) < 1.08 + 0.05
    again = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input=SILENT, response_format=fmt)  # type: ignore[arg-type]
    assert again.content == r.content


def test_streamed_audio_arrives_in_chunks(sdk: openai.OpenAI) -> None:
    whole = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="ash", input=SILENT, response_format="wav")
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="ash", input=SILENT, response_format="wav", stream_format="audio"
    ) as r:
        assert r.headers["content-type"] == "audio/wav"
        assert r.headers.get("transfer-encoding") == "chunked"
        chunks = list(r.iter_bytes(chunk_size=None))
    assert b"".join(chunks) == whole.content


def test_sse_stream_sends_audio_deltas_then_done_with_usage(sdk: openai.OpenAI) -> None:
    whole = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="ash", input=SILENT, response_format="pcm")
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="ash", input=SILENT, response_format="pcm", stream_format="sse"
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: ") :]) for line in r.iter_lines() if line.startswith("data: ")]
    types = [e["type"] for e in events]
    assert types[-1] == "speech.audio.done" and set(types[:-1]) == {"speech.audio.delta"}
    assert len(types) >= 5, "several deltas"
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert audio == whole.content
    usage = events[-1]["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    # tts-1 has no SSE.
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.speech.create(model="tts-1", voice="ash", input=SILENT, stream_format="sse")
    assert e.value.param == "stream_format"


def test_bad_requests_error_fixtures_and_misses_are_typed(server: Any, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="")
    assert e.value.param == "input" and e.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input=SILENT, response_format="ogg")  # type: ignore[arg-type]
    assert e.value.param == "response_format"
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.speech.create(model="tts-1", voice=7, input=SILENT)  # type: ignore[arg-type]
    assert e.value.param == "voice"
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input=SILENT, speed=9)
    assert e.value.param == "speed"
    with pytest.raises(openai.RateLimitError) as rl:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="[tts] refused")
    assert rl.value.code == "rate_limited"
    with pytest.raises(openai.NotFoundError):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="[tts] chat only")
    # Journaled as speech requests, the input as the user message.
    entries = [e for e in server.journal() if e["path"] == "/v1/audio/speech"]
    assert len(entries) == 6
    refused = [e for e in entries if e["response"]["status"] == 429][0]
    assert refused["body"]["_endpointType"] == "speech"
    assert refused["body"]["messages"] == [{"role": "user", "content": "[tts] refused"}]


def test_record_then_replay_keeps_the_upstreams_audio(
    server: Any, tmp_path: Path, start_aimock: Callable[..., Any], make_client: Callable[..., openai.OpenAI]
) -> None:
    """A speech miss goes to the upstream (the server above): its bytes are saved with the format
    of their MIME type, an SSE reply as the audio its deltas carry; a fresh server with only the
    recordings gives the SDK the same bytes."""
    from conftest import stop_server
    from record_support import wait_for_fixtures

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = start_aimock([rec_dir], ["--record", "--provider-openai", server.url])
    via = make_client(recorder.url)
    given = via.audio.speech.create(model="tts-1", voice="alloy", input="[tts] given")
    flac = via.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input=SILENT, response_format="flac")
    with via.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="ash", input=SILENT + " (sse)", response_format="pcm", stream_format="sse"
    ) as r:
        sse_audio = b"".join(
            base64.b64decode(json.loads(line[5:])["audio"])
            for line in r.iter_lines()
            if line.startswith("data:") and '"speech.audio.delta"' in line
        )
    assert wait_for_fixtures(recorder, 3, timeout=5.0)
    saved = [json.loads(p.read_text()) for p in sorted((rec_dir / "recorded").rglob("*.json"))]
    fixtures = {f["match"]["userMessage"]["equals"]: f for doc in saved for f in doc["fixtures"]}
    assert all(f["match"]["endpoint"] == "speech" for f in fixtures.values())
    assert fixtures["[tts] given"]["response"] == {"audio": GIVEN, "format": "wav"}
    assert fixtures[SILENT]["response"]["format"] == "flac"
    assert base64.b64decode(fixtures[SILENT + " (sse)"]["response"]["audio"]) == sse_audio
    stop_server(recorder)
    stop_server(server)
    replay = make_client(start_aimock([rec_dir / "recorded"]).url)
    again = replay.audio.speech.create(model="tts-1", voice="alloy", input="[tts] given")
    assert again.content == given.content and again.response.headers["content-type"] == "audio/wav"
    flac2 = replay.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input=SILENT, response_format="flac")
    assert flac2.content == flac.content and flac2.response.headers["content-type"] == "audio/flac"
    pcm = replay.audio.speech.create(model="gpt-4o-mini-tts", voice="ash", input=SILENT + " (sse)", response_format="pcm")
    assert pcm.content == sse_audio
