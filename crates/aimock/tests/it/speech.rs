//! Text to speech over a real socket: OpenAI `/v1/audio/speech` and ElevenLabs
//! `/v1/text-to-speech/{voice}` answer a fixture without bytes with a silent file of the format
//! asked (its length from the text), and their streams go out chunk by chunk as each is due.

use aimock::MockServer;
use serde_json::json;

use crate::support;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "quiet", "endpoint": "speech"}, "response": {"content": "-"}},
  {"match": {"userMessage": "slow", "endpoint": "speech"}, "response": {"content": "-"}, "latency": 100},
  {"match": {"userMessage": "slow", "endpoint": "elevenlabs-tts"}, "response": {"content": "-"}, "latency": 100}
]}"#;

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "speech.json").await
}

#[tokio::test]
async fn a_fixture_without_bytes_answers_silence_as_long_as_the_text() {
    let s = server().await;
    // "quiet" is 5 characters: 300 ms, at 24 kHz 16-bit.
    let r = support::post(
        &s,
        "/v1/audio/speech",
        &json!({"model": "tts-1", "input": "quiet", "voice": "alloy", "response_format": "wav"}),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let wav = r.bytes().await.unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(wav.len(), 44 + 2 * 7_200);
    let r = support::post(
        &s,
        "/v1/audio/speech",
        &json!({"model": "tts-1", "input": "quiet", "voice": "alloy"}),
        &[],
    )
    .await;
    assert_eq!(r.headers()["content-type"], "audio/mpeg", "mp3 by default");
    let mp3 = r.bytes().await.unwrap();
    // MPEG-2 Layer III frames of 576 samples (24 ms at 24 kHz), 192 bytes at 64 kbit/s.
    assert_eq!(&mp3[..2], &[0xFF, 0xF3]);
    assert_eq!(mp3.len(), 192 * 7200usize.div_ceil(576));
}

#[tokio::test]
async fn streams_send_each_chunk_when_it_is_due() {
    let s = server().await;
    for (path, body) in [
        (
            "/v1/audio/speech",
            json!({"model": "gpt-4o-mini-tts", "input": "slow", "voice": "alloy", "response_format": "pcm", "stream_format": "audio"}),
        ),
        (
            "/v1/audio/speech",
            json!({"model": "gpt-4o-mini-tts", "input": "slow", "voice": "alloy", "stream_format": "sse"}),
        ),
        (
            "/v1/text-to-speech/v1/stream?output_format=pcm_16000",
            json!({"text": "slow"}),
        ),
    ] {
        let started = std::time::Instant::now();
        let mut r = support::post(&s, path, &body, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        let mut writes = 0;
        while r.chunk().await.unwrap().is_some() {
            writes += 1;
        }
        // At least four pieces, 100 ms apart.
        assert!(writes >= 4, "{path}: {writes} writes");
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(300),
            "{path}"
        );
        assert_eq!(s.last_request().unwrap().response.delivered, Some(true));
    }
}
