"""ElevenLabs audio through the official elevenlabs SDK: text to speech (whole, streamed, with
timestamps) in the output formats asked, sound effects, music (whole, streamed, a composition
plan) and Voice Design (previews, a voice made from one, read back), with ElevenLabs' typed
errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.errors import UnprocessableEntityError
from media_support import mp3_seconds, ogg_opus_seconds

GIVEN = base64.b64encode(b"ID3fake-mp3-bytes").decode()
PLAN = {
    "positive_global_styles": ["lofi"],
    "negative_global_styles": ["metal"],
    "sections": [{"section_name": "Intro", "positive_local_styles": [], "negative_local_styles": [], "duration_ms": 10000, "lines": []}],
}

FIXTURES = {
    "fixtures": [
        {"match": {"userMessage": "[el] given", "endpoint": "elevenlabs-tts"}, "response": {"audio": GIVEN, "format": "mp3"}},
        {"match": {"userMessage": "[el] silent", "endpoint": "elevenlabs-tts"}, "response": {"content": "-"}},
        {
            "match": {"userMessage": "[el] refused", "endpoint": "elevenlabs-tts"},
            "response": {"error": {"message": "You have exceeded your quota", "type": "quota_exceeded", "code": "quota_exceeded"}, "status": 401},
        },
        {"match": {"userMessage": "[el] door slam", "endpoint": "audio-gen"}, "response": {"content": "-"}},
        {"match": {"userMessage": "[el] lofi song", "endpoint": "audio-gen"}, "response": {"audio": GIVEN}},
        {"match": {"userMessage": "[el] quiet song", "endpoint": "audio-gen"}, "response": {"content": "-"}},
        {"match": {"userMessage": "[el] plan a song", "endpoint": "audio-gen"}, "response": {"json": PLAN}},
        {
            "match": {"userMessage": "[el] a deep calm narrator voice", "endpoint": "elevenlabs-voice-design"},
            "response": {"content": "Welcome to the story of the mock."},
        },
        {
            "match": {"userMessage": "[el] a voice with given previews", "endpoint": "elevenlabs-voice-design"},
            "response": {"json": {"previews": [{"generated_voice_id": "gen-1", "audio_base_64": GIVEN, "media_type": "audio/mpeg", "duration_secs": 1.5}], "text": "Hi."}},
        },
    ]
}

TEXT = "[el] silent: a sentence of forty-one chars"  # 42 characters: 2.52 s


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "elevenlabs.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture
def el(server: Any) -> ElevenLabs:
    return ElevenLabs(base_url=server.url, api_key="test-key", timeout=30)


def test_tts_answers_the_fixtures_bytes(el: ElevenLabs) -> None:
    audio = b"".join(el.text_to_speech.convert("voice-1", text="[el] given"))
    assert audio == base64.b64decode(GIVEN)
    with el.text_to_speech.with_raw_response.convert("voice-1", text="[el] given") as r:
        assert r.headers["content-type"] == "audio/mpeg"
        assert b"".join(r.data) == base64.b64decode(GIVEN)


def test_tts_without_bytes_is_silence_in_the_output_format(el: ElevenLabs) -> None:
    mp3 = b"".join(el.text_to_speech.convert("voice-1", text=TEXT))
    assert 2.52 <= mp3_seconds(mp3) < 2.52 + 0.03, "mp3_44100_128 by default"
    assert mp3[1] == 0xFB and mp3[2] >> 4 == 9, "MPEG-1, 128 kbit/s"
    pcm = b"".join(el.text_to_speech.convert("voice-1", text=TEXT, output_format="pcm_16000"))
    assert len(pcm) == 2 * 16000 * 2520 // 1000 and set(pcm) == {0}
    ulaw = b"".join(el.text_to_speech.convert("voice-1", text=TEXT, output_format="ulaw_8000"))
    assert ulaw == b"\xff" * (8 * 2520)
    opus = b"".join(el.text_to_speech.convert("voice-1", text=TEXT, output_format="opus_48000_64"))
    assert ogg_opus_seconds(opus) == pytest.approx(2.52)
    # Streamed: the same bytes, chunked (the whole answer has a length).
    with el.text_to_speech.with_raw_response.stream("voice-1", text=TEXT) as r:
        assert r.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.headers
        assert b"".join(r.data) == mp3
    with el.text_to_speech.with_raw_response.convert("voice-1", text=TEXT) as r:
        assert r.headers["content-length"] == str(len(mp3))


def test_tts_with_timestamps_aligns_each_character(el: ElevenLabs) -> None:
    r = el.text_to_speech.convert_with_timestamps("voice-1", text="[el] silent", output_format="pcm_24000")
    assert base64.b64decode(r.audio_base_64) == b"\x00" * (48 * 660)
    assert r.alignment is not None and "".join(r.alignment.characters) == "[el] silent"
    assert r.alignment.character_end_times_seconds[-1] == pytest.approx(0.66)
    assert r.alignment.character_start_times_seconds[0] == 0


def test_sound_effects_and_music(el: ElevenLabs) -> None:
    sound = b"".join(el.text_to_sound_effects.convert(text="[el] door slam", duration_seconds=1.5))
    assert 1.5 <= mp3_seconds(sound) < 1.53
    song = b"".join(el.music.compose(prompt="[el] lofi song", music_length_ms=10000))
    assert song == base64.b64decode(GIVEN)
    with el.music.with_raw_response.compose(prompt="[el] lofi song") as r:
        assert r.headers["song-id"].startswith("mock-song-")
    quiet = list(el.music.stream(prompt="[el] quiet song", music_length_ms=4000))
    assert len(quiet) >= 1 and 4.0 <= mp3_seconds(b"".join(quiet)) < 4.03
    plan = el.music.composition_plan.create(prompt="[el] plan a song", music_length_ms=10000)
    assert plan.positive_global_styles == ["lofi"]  # type: ignore[union-attr]
    assert plan.sections[0].section_name == "Intro"  # type: ignore[union-attr]
    # A made plan keeps the length asked for; the silent audio made is capped at 60 s.
    made = el.music.composition_plan.create(prompt="[el] quiet song", music_length_ms=120_000)
    assert made.sections[0].duration_ms == 120_000  # type: ignore[union-attr]
    long = b"".join(el.music.compose(prompt="[el] quiet song", music_length_ms=120_000))
    assert 60.0 <= mp3_seconds(long) < 60.03


def test_voice_design_previews_then_a_voice_read_back(server: Any, el: ElevenLabs) -> None:
    d = el.text_to_voice.design(voice_description="[el] a deep calm narrator voice")
    assert d.text == "Welcome to the story of the mock."
    assert len(d.previews) == 3 and len({p.generated_voice_id for p in d.previews}) == 3
    for p in d.previews:
        audio = base64.b64decode(p.audio_base_64)
        assert p.media_type == "audio/mpeg"
        assert mp3_seconds(audio) == pytest.approx(p.duration_secs, abs=0.03)
    given = el.text_to_voice.design(voice_description="[el] a voice with given previews")
    assert [(p.generated_voice_id, p.audio_base_64) for p in given.previews] == [("gen-1", GIVEN)]
    chosen = d.previews[1].generated_voice_id
    v = el.text_to_voice.create(voice_name="Narrator", voice_description="A deep calm narrator", generated_voice_id=chosen, labels={"accent": "british"})
    assert v.voice_id == chosen and v.name == "Narrator" and v.category == "generated"
    back = el.voices.get(chosen)
    assert back.voice_id == chosen and back.labels == {"accent": "british"}
    # Deleted, it is gone; a reset forgets the others.
    other = d.previews[2].generated_voice_id
    el.text_to_voice.create(voice_name="Other", voice_description="Another voice", generated_voice_id=other)
    assert el.voices.delete(chosen).status == "ok"
    with pytest.raises(ApiError) as e:
        el.voices.get(chosen)
    assert e.value.status_code == 404 and e.value.body["detail"]["status"] == "voice_not_found"
    assert el.voices.get(other).name == "Other"
    server.reset()
    with pytest.raises(ApiError) as e:
        el.voices.get(other)
    assert e.value.status_code == 404


def test_errors_are_elevenlabs_typed(server: Any, el: ElevenLabs) -> None:
    with pytest.raises(UnprocessableEntityError) as v:
        el.text_to_voice.design(voice_description="too short")
    assert v.value.body["detail"][0]["loc"] == ["body", "voice_description"]
    assert v.value.body["detail"][0]["type"] == "string_too_short"
    with pytest.raises(UnprocessableEntityError):
        b"".join(el.text_to_speech.convert("voice-1", text=""))
    with pytest.raises(UnprocessableEntityError):
        b"".join(el.text_to_speech.convert("voice-1", text=TEXT, output_format="wma_44100"))  # type: ignore[arg-type]
    with pytest.raises(UnprocessableEntityError):
        el.text_to_voice.create(voice_name="x", voice_description="y", generated_voice_id="")
    # What the server keeps is bounded: an over-long description or oversized labels are refused.
    with pytest.raises(UnprocessableEntityError) as big:
        el.text_to_voice.create(voice_name="x", voice_description="d" * 1_001, generated_voice_id="g")
    assert big.value.body["detail"][0]["type"] == "string_too_long"
    with pytest.raises(UnprocessableEntityError) as labels:
        el.text_to_voice.create(voice_name="x", voice_description="d", generated_voice_id="g", labels={"k": "v" * 5_000})
    assert labels.value.body["detail"][0]["loc"] == ["body", "labels"]
    # Over the model's character limit (v3: 5,000), before any work is done.
    with pytest.raises(ApiError) as long:
        b"".join(el.text_to_speech.convert("voice-1", text="a" * 5_001, model_id="eleven_v3"))
    assert long.value.status_code == 400
    assert long.value.body["detail"]["status"] == "max_character_limit_exceeded"
    assert b"".join(el.text_to_speech.convert("voice-1", text="[el] given " + "a" * 5_001, model_id="eleven_flash_v2_5"))
    with pytest.raises(ApiError) as e:
        b"".join(el.text_to_speech.convert("voice-1", text="[el] refused"))
    assert e.value.status_code == 401 and e.value.body["detail"]["message"] == "You have exceeded your quota"
    with pytest.raises(ApiError) as e:
        b"".join(el.text_to_speech.convert("voice-1", text="[el] nothing matches"))
    assert e.value.status_code == 404 and e.value.body["detail"]["code"] == "no_fixture_match"
    tts = [e for e in server.journal() if e["path"].startswith("/v1/text-to-speech/")]
    assert len(tts) == 6
    assert tts[-1]["body"]["_endpointType"] == "elevenlabs-tts"
    assert tts[-1]["body"]["messages"] == [{"role": "user", "content": "[el] nothing matches"}]


def test_record_then_replay_keeps_the_upstreams_audio(server: Any, tmp_path: Path, start_aimock: Callable[..., Any]) -> None:
    """A miss goes to --provider-elevenlabs (the server above): text to speech (plain and
    streamed), a sound effect and music are saved as audio fixtures of their endpoint and replay
    byte for byte with the upstream stopped; the API key is never written."""
    from conftest import stop_server
    from record_support import wait_for_fixtures

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = start_aimock([rec_dir], ["--record", "--provider-elevenlabs", server.url])
    via = ElevenLabs(base_url=recorder.url, api_key="xi-SECRET123", timeout=30)
    tts = b"".join(via.text_to_speech.convert("voice-1", text="[el] given", model_id="eleven_flash_v2_5"))
    streamed = b"".join(via.text_to_speech.stream("voice-1", text=TEXT, output_format="pcm_16000"))
    sound = b"".join(via.text_to_sound_effects.convert(text="[el] door slam", duration_seconds=1.5))
    song = b"".join(via.music.compose(prompt="[el] quiet song", music_length_ms=4000))
    assert tts == base64.b64decode(GIVEN) and len(streamed) > 0
    assert wait_for_fixtures(recorder, 4, timeout=5.0)
    files = sorted((rec_dir / "recorded").rglob("*.json"))
    assert files and all("SECRET123" not in p.read_text() for p in files)
    fixtures = {f["match"]["userMessage"]["equals"]: f for p in files for f in json.loads(p.read_text())["fixtures"]}
    assert {k: f["match"]["endpoint"] for k, f in fixtures.items()} == {
        "[el] given": "elevenlabs-tts",
        TEXT: "elevenlabs-tts",
        "[el] door slam": "audio-gen",
        "[el] quiet song": "audio-gen",
    }
    assert fixtures["[el] given"]["response"] == {"audio": GIVEN, "format": "mp3"}
    assert fixtures[TEXT]["response"]["format"] == "pcm"
    stop_server(recorder)
    stop_server(server)
    replay = ElevenLabs(base_url=start_aimock([rec_dir / "recorded"]).url, api_key="test-key", timeout=30)
    assert b"".join(replay.text_to_speech.convert("voice-1", text="[el] given", model_id="eleven_flash_v2_5")) == tts
    assert b"".join(replay.text_to_speech.stream("voice-1", text=TEXT, output_format="pcm_16000")) == streamed
    assert b"".join(replay.text_to_sound_effects.convert(text="[el] door slam", duration_seconds=1.5)) == sound
    assert b"".join(replay.music.compose(prompt="[el] quiet song", music_length_ms=4000)) == song
