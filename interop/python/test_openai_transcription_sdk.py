"""OpenAI speech to text through the official openai SDK: transcriptions and translations in every
response_format (json, verbose_json, text, srt, vtt, diarized_json), a streamed transcription, and
typed errors (no file, a bad or unsupported format, an over-size body), each journaled."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any, Callable

import openai
import pytest
from openai.types.audio import (
    Transcription,
    TranscriptionDiarized,
    TranscriptionSegment,
    TranscriptionTextDeltaEvent,
    TranscriptionTextDoneEvent,
    TranscriptionVerbose,
    TranscriptionWord,
    Translation,
    TranslationVerbose,
)

# A few bytes that stand for the audio: the server does not read them.
AUDIO = ("call.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav")

SEGMENTS = [
    {"id": 0, "start": 0.0, "end": 2.5, "text": " Hello, this is the support line."},
    {"id": 1, "start": 2.5, "end": 4.75, "text": " How can I help?"},
]
WORDS = [
    {"word": "Hello", "start": 0.0, "end": 0.4},
    {"word": "this", "start": 0.5, "end": 0.7},
]

FIXTURES = {
    "fixtures": [
        {
            "match": {"endpoint": "transcription", "model": "whisper-1", "userMessage": "[call]"},
            "response": {
                "transcription": {
                    "text": "Hello, this is the support line. How can I help?",
                    "language": "english",
                    "duration": 4.75,
                    "segments": SEGMENTS,
                    "words": WORDS,
                }
            },
        },
        {
            "match": {"endpoint": "transcription", "userMessage": "[stream]"},
            "response": {"transcription": {"text": "Streaming words one slice at a time."}},
            "chunkSize": 6,
            "latency": 60,
        },
        {
            "match": {"endpoint": "transcription", "userMessage": "[refused]"},
            "response": {"error": {"message": "The audio is too noisy.", "type": "invalid_request_error", "code": "audio_unclear"}, "status": 400},
        },
        {
            "match": {"endpoint": "transcription", "model": "gpt-4o-transcribe-diarize"},
            "response": {
                "transcription": {
                    "text": "Hi. Hello.",
                    "segments": [
                        {"id": "seg_a", "start": 0.0, "end": 1.0, "text": "Hi.", "speaker": "agent"},
                        {"id": "seg_b", "start": 1.0, "end": 2.0, "text": "Hello.", "speaker": "customer"},
                    ],
                }
            },
        },
        {"match": {"endpoint": "transcription"}, "response": {"transcription": {"text": "Plain words, no timing.", "languages": [{"code": "en"}]}}},
        {"match": {"endpoint": "translation"}, "response": {"transcription": {"text": "Good morning, everyone.", "segments": SEGMENTS[:1]}}},
        # A chat fixture never answers a transcription.
        {"match": {"userMessage": "[chat only]"}, "response": {"content": "words"}},
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "transcription.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


def cues(srt_or_vtt: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of each cue of a SubRip or WebVTT file."""
    out = []
    for block in srt_or_vtt.strip().split("\n\n"):
        lines = block.split("\n")
        if lines == ["WEBVTT"]:
            continue
        if re.fullmatch(r"\d+", lines[0]):
            lines = lines[1:]
        start, end = lines[0].split(" --> ")
        out.append((start, end, "\n".join(lines[1:])))
    return out


def test_json_is_a_typed_transcription_with_usage(sdk: openai.OpenAI) -> None:
    r = sdk.audio.transcriptions.create(file=AUDIO, model="gpt-4o-transcribe")
    assert isinstance(r, Transcription)
    assert r.text == "Plain words, no timing."
    assert r.languages is not None and r.languages[0].code == "en"
    assert r.usage is not None and r.usage.type == "tokens"
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    # whisper-1 bills by the second; logprobs when asked, on a gpt-4o model.
    w = sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", response_format="json")
    assert w.usage is not None and w.usage.type == "duration" and w.usage.seconds >= 1
    lp = sdk.audio.transcriptions.create(file=AUDIO, model="gpt-4o-mini-transcribe", include=["logprobs"])
    assert lp.logprobs is not None and "".join(t.token or "" for t in lp.logprobs) == "Plain words, no timing."


def test_verbose_json_has_typed_segments_and_words(sdk: openai.OpenAI) -> None:
    r = sdk.audio.transcriptions.create(
        file=AUDIO, model="whisper-1", prompt="[call]", response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    assert isinstance(r, TranscriptionVerbose)
    assert r.text.startswith("Hello") and r.language == "english" and r.duration == 4.75
    assert r.segments is not None and len(r.segments) == 2
    s = r.segments[1]
    assert isinstance(s, TranscriptionSegment)
    assert (s.id, s.start, s.end, s.text) == (1, 2.5, 4.75, " How can I help?")
    assert s.seek == 0 and len(s.tokens) == 4 and all(isinstance(t, int) for t in s.tokens)
    assert s.temperature == 0.0 and s.avg_logprob < 0 and s.compression_ratio > 0 and 0 <= s.no_speech_prob <= 1
    assert r.words is not None and [w.word for w in r.words] == ["Hello", "this"]
    assert isinstance(r.words[0], TranscriptionWord) and r.words[0].end == 0.4
    # Only the words asked for: no segments.
    words_only = sdk.audio.transcriptions.create(
        file=AUDIO, model="whisper-1", prompt="[call]", response_format="verbose_json", timestamp_granularities=["word"]
    )
    assert words_only.words is not None and words_only.segments is None
    # A fixture with no timing: one segment spanning the text, words spread over it.
    plain = sdk.audio.transcriptions.create(
        file=AUDIO, model="whisper-1", response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    assert plain.segments is not None and len(plain.segments) == 1
    assert plain.segments[0].text == "Plain words, no timing." and plain.segments[0].end == plain.duration > 0
    assert plain.words is not None and [w.word for w in plain.words] == ["Plain", "words,", "no", "timing."]
    assert plain.words[-1].end == pytest.approx(plain.duration)


def test_text_srt_and_vtt_are_strings(sdk: openai.OpenAI) -> None:
    text = sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", prompt="[call]", response_format="text")
    assert isinstance(text, str) and text == "Hello, this is the support line. How can I help?\n"
    srt = sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", prompt="[call]", response_format="srt")
    assert isinstance(srt, str) and srt.startswith("1\n00:00:00,000 --> ")
    assert cues(srt) == [
        ("00:00:00,000", "00:00:02,500", "Hello, this is the support line."),
        ("00:00:02,500", "00:00:04,750", "How can I help?"),
    ]
    assert [line for line in srt.split("\n") if re.fullmatch(r"\d+", line)] == ["1", "2"]
    vtt = sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", prompt="[call]", response_format="vtt")
    assert isinstance(vtt, str) and vtt.startswith("WEBVTT\n\n")
    assert cues(vtt) == [
        ("00:00:00.000", "00:00:02.500", "Hello, this is the support line."),
        ("00:00:02.500", "00:00:04.750", "How can I help?"),
    ]
    # No segments in the fixture: one cue spanning the text.
    one = sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", response_format="srt")
    [(start, end, words)] = cues(one)
    assert start == "00:00:00,000" and end > start and words == "Plain words, no timing."


def test_diarized_json_names_the_speakers(sdk: openai.OpenAI) -> None:
    r = sdk.audio.transcriptions.create(
        file=AUDIO, model="gpt-4o-transcribe-diarize", response_format="diarized_json", chunking_strategy="auto"
    )
    assert isinstance(r, TranscriptionDiarized)
    assert [(s.id, s.speaker, s.text) for s in r.segments] == [("seg_a", "agent", "Hi."), ("seg_b", "customer", "Hello.")]
    assert r.task == "transcribe" and r.duration == 2.0


def test_translations_in_each_format(sdk: openai.OpenAI) -> None:
    r = sdk.audio.translations.create(file=AUDIO, model="whisper-1")
    assert isinstance(r, Translation) and r.text == "Good morning, everyone."
    v = sdk.audio.translations.create(file=AUDIO, model="whisper-1", response_format="verbose_json")
    assert isinstance(v, TranslationVerbose) and v.segments is not None and v.segments[0].end == 2.5
    srt = sdk.audio.translations.create(file=AUDIO, model="whisper-1", response_format="srt")
    assert cues(srt) == [("00:00:00,000", "00:00:02,500", "Hello, this is the support line.")]
    text = sdk.audio.translations.create(file=AUDIO, model="whisper-1", response_format="text")
    assert text == "Good morning, everyone.\n"


def test_a_streamed_transcription_arrives_in_typed_events_over_time(sdk: openai.OpenAI) -> None:
    stream = sdk.audio.transcriptions.create(file=AUDIO, model="gpt-4o-mini-transcribe", prompt="[stream]", stream=True)
    events, times = [], []
    for ev in stream:
        events.append(ev)
        times.append(time.monotonic())
    deltas = [e for e in events if isinstance(e, TranscriptionTextDeltaEvent)]
    assert [d.delta for d in deltas] == ["Stream", "ing wo", "rds on", "e slic", "e at a", " time."]
    done = events[-1]
    assert isinstance(done, TranscriptionTextDoneEvent)
    assert done.text == "Streaming words one slice at a time." and done.usage is not None and done.usage.type == "tokens"
    # Paced at 60 ms an event: the events arrived apart, not all at once.
    assert times[-1] - times[0] > 0.2


def test_errors_are_typed(server: Any, sdk: openai.OpenAI) -> None:
    # whisper-1 does not stream.
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", stream=True)
    assert e.value.param == "stream"
    # gpt-4o-transcribe answers json and text only.
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.transcriptions.create(file=AUDIO, model="gpt-4o-transcribe", response_format="srt")
    assert e.value.param == "response_format" and "'json' or 'text'" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", response_format="xml")  # type: ignore[arg-type]
    assert e.value.param == "response_format"
    # A body with no file part.
    with pytest.raises(openai.BadRequestError) as e:
        sdk.post(
            "/audio/transcriptions",
            body={"model": "whisper-1"},
            files=[("purpose", ("", b"x", "text/plain"))],
            options={"headers": {"Content-Type": "multipart/form-data"}},
            cast_to=Transcription,
        )
    assert e.value.param == "file"
    # An error fixture, and a chat fixture that never answers a transcription.
    with pytest.raises(openai.BadRequestError) as e:
        sdk.audio.transcriptions.create(file=AUDIO, model="gpt-4o-transcribe", prompt="[refused]")
    assert e.value.code == "audio_unclear"
    # Over the server's body limit (10 MiB): the 413 in OpenAI's envelope.
    with pytest.raises(openai.APIStatusError) as big:
        sdk.audio.transcriptions.create(file=("big.wav", io.BytesIO(b"\0" * (11 * 1024 * 1024)), "audio/wav"), model="whisper-1")
    assert big.value.status_code == 413 and big.value.code == "request_too_large"
    # The server is still up, and journaled the transcription.
    assert sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1").text == "Plain words, no timing."
    entries = [e for e in server.journal() if e["path"] == "/v1/audio/transcriptions"]
    refused = [e for e in entries if (e["body"] or {}).get("messages") == [{"role": "user", "content": "[refused]"}]]
    assert refused and refused[0]["body"]["_endpointType"] == "transcription" and refused[0]["response"]["status"] == 400
    assert [e["response"]["status"] for e in entries].count(413) == 1
    assert entries[-1]["response"]["status"] == 200 and entries[-1]["body"]["model"] == "whisper-1"


def test_a_chat_fixture_never_answers_a_transcription(start_aimock: Callable[..., Any], make_client: Callable[..., openai.OpenAI], tmp_path: Path) -> None:
    f = tmp_path / "chat.json"
    f.write_text(json.dumps({"fixtures": [{"match": {"userMessage": "[chat only]"}, "response": {"content": "words"}}]}))
    sdk = make_client(start_aimock([f]).url)
    with pytest.raises(openai.NotFoundError):
        sdk.audio.transcriptions.create(file=AUDIO, model="whisper-1", prompt="[chat only]")


def test_record_then_replay_keeps_the_upstreams_transcripts(
    server: Any, tmp_path: Path, start_aimock: Callable[..., Any], make_client: Callable[..., openai.OpenAI]
) -> None:
    """Misses go to the upstream (the server above); a verbose_json reply is saved with its
    segments and words, a streamed one as its text; a fresh server with only the recordings
    answers the SDK the same, in any format."""
    from conftest import stop_server

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = start_aimock([rec_dir], ["--record", "--provider-openai", server.url])
    via = make_client(recorder.url)
    verbose = via.audio.transcriptions.create(
        file=AUDIO, model="whisper-1", prompt="[call]", response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    streamed = "".join(
        e.delta
        for e in via.audio.transcriptions.create(file=AUDIO, model="gpt-4o-mini-transcribe", prompt="[stream]", stream=True)
        if isinstance(e, TranscriptionTextDeltaEvent)
    )
    assert streamed == "Streaming words one slice at a time."
    # A stream is saved when it has ended: wait for the second recording.
    from record_support import wait_for_fixtures

    assert wait_for_fixtures(recorder, 2, timeout=5.0)
    saved = [json.loads(p.read_text()) for p in sorted((rec_dir / "recorded").rglob("*.json"))]
    fixtures = {f["match"]["userMessage"]["equals"]: f for doc in saved for f in doc["fixtures"]}
    assert set(fixtures) == {"[call]", "[stream]"}
    assert all(f["match"]["endpoint"] == "transcription" for f in fixtures.values())
    assert fixtures["[stream]"]["response"]["transcription"]["text"] == "Streaming words one slice at a time."
    assert fixtures["[stream]"]["response"]["transcription"]["usage"]["type"] == "tokens"
    assert fixtures["[call]"]["response"]["transcription"]["segments"][1]["text"] == " How can I help?"
    stop_server(recorder)
    stop_server(server)
    replay = make_client(start_aimock([rec_dir / "recorded"]).url)
    again = replay.audio.transcriptions.create(
        file=AUDIO, model="whisper-1", prompt="[call]", response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    assert again.model_dump() == verbose.model_dump()
    srt = replay.audio.transcriptions.create(file=AUDIO, model="whisper-1", prompt="[call]", response_format="srt")
    assert [c[2] for c in cues(srt)] == ["Hello, this is the support line.", "How can I help?"]
    replayed = "".join(
        e.delta
        for e in replay.audio.transcriptions.create(file=AUDIO, model="gpt-4o-mini-transcribe", prompt="[stream]", stream=True)
        if isinstance(e, TranscriptionTextDeltaEvent)
    )
    assert replayed == streamed
