//! Audio: the input buffer (`input_audio_buffer.append` checks its base64 and counts the bytes;
//! the audio itself is discarded), and the audio a response speaks: the fixture's (`audio` as
//! base64, `{"b64Json": ...}`, or `{"file": ...}` resolved when the fixture file is loaded), or
//! silence synthesized for the text.
//!
//! Synthesized silence lasts as long as the text takes to say ([`speech_ms`]), in the session's
//! output format: PCM16 at 24 kHz mono (48 bytes per millisecond, all zero), or G.711 at 8 kHz
//! (8 bytes per millisecond: 0xFF for mu-law, 0xD5 for A-law, their codes for zero).

use base64::Engine as _;
use serde_json::Value;

use super::WithParam;
use crate::http::ApiError;
use crate::providers::speech::speech_ms;

/// An audio format, as `audio.input.format` / `audio.output.format` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `audio/pcm`: 16-bit little-endian PCM, 24 kHz, mono.
    Pcm16,
    /// `audio/pcmu`: G.711 mu-law, 8 kHz.
    Pcmu,
    /// `audio/pcma`: G.711 A-law, 8 kHz.
    Pcma,
}

impl Format {
    /// The format a session's `format` object names (PCM16 by default).
    pub(crate) fn of(v: &Value) -> Format {
        match v.get("type").and_then(Value::as_str) {
            Some("audio/pcmu") => Format::Pcmu,
            Some("audio/pcma") => Format::Pcma,
            _ => Format::Pcm16,
        }
    }

    /// Bytes per millisecond.
    pub(crate) fn bytes_per_ms(self) -> u64 {
        match self {
            Format::Pcm16 => 48,
            Format::Pcmu | Format::Pcma => 8,
        }
    }

    /// Bytes per sample (chunks never split one).
    fn sample_bytes(self) -> usize {
        match self {
            Format::Pcm16 => 2,
            Format::Pcmu | Format::Pcma => 1,
        }
    }

    /// The byte of a silent sample.
    fn silence(self) -> u8 {
        match self {
            Format::Pcm16 => 0,
            Format::Pcmu => 0xFF,
            Format::Pcma => 0xD5,
        }
    }

    /// How long `bytes` of this format play, in milliseconds.
    pub(crate) fn duration_ms(self, bytes: usize) -> f64 {
        bytes as f64 / self.bytes_per_ms() as f64
    }
}

/// Silence for `text`, in `format`.
pub(crate) fn silence(text: &str, format: Format) -> Vec<u8> {
    let len = speech_ms(text) * format.bytes_per_ms();
    vec![format.silence(); len as usize]
}

/// Decode standard base64 (padded or not); `None` when it is not base64.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .ok()
}

/// Base64 of bytes.
pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The API's error for audio that is not base64.
pub(crate) fn bad_audio(param: &str) -> ApiError {
    ApiError::invalid(
        "Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but got an invalid value.",
    )
    .with_code("invalid_value")
    .with_param(param)
}

/// The bytes of a fixture's `audio`: a base64 string, or `{"b64Json": ...}` (a `{"file": ...}`
/// has been read into `b64Json` when its fixture file was loaded).
pub(crate) fn fixture_audio(v: &Value) -> Result<Vec<u8>, String> {
    let b64 = match v {
        Value::String(s) => s.as_str(),
        Value::Object(o) => match o.get("b64Json").and_then(Value::as_str) {
            Some(s) => s,
            None if o.contains_key("file") => {
                return Err(
                    "the fixture's audio names a file, which is read only when the fixture is loaded from a file"
                        .to_owned(),
                )
            }
            None => return Err("the fixture's audio has no `b64Json`".to_owned()),
        },
        _ => return Err("the fixture's audio is neither base64 nor an object".to_owned()),
    };
    decode_base64(b64).ok_or_else(|| "the fixture's audio is not valid base64".to_owned())
}

/// Cut audio into `n` pieces (the last may be shorter), never inside a sample.
pub(crate) fn chunks(bytes: &[u8], n: usize, format: Format) -> Vec<&[u8]> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let sample = format.sample_bytes();
    let samples = bytes.len().div_ceil(sample);
    let per = samples.div_ceil(n.max(1)).max(1) * sample;
    bytes.chunks(per).collect()
}

/// The input audio buffer: what was appended since the last commit or clear.
#[derive(Debug, Default)]
pub(crate) struct InputBuffer {
    /// Bytes appended.
    pub(crate) bytes: usize,
}

impl InputBuffer {
    /// `input_audio_buffer.append`: base64 is checked, its length counted, the audio dropped.
    pub(crate) fn append(&mut self, audio: Option<&Value>) -> Result<(), ApiError> {
        let audio = match audio {
            Some(Value::String(s)) => s,
            Some(_) => {
                return Err(
                    ApiError::invalid("Invalid type for 'audio': expected a string.")
                        .with_code("invalid_type")
                        .with_param("audio"),
                )
            }
            None => {
                return Err(ApiError::invalid("Missing required parameter: 'audio'.")
                    .with_code("missing_required_parameter")
                    .with_param("audio"))
            }
        };
        let bytes = decode_base64(audio).ok_or_else(|| bad_audio("audio"))?;
        self.bytes += bytes.len();
        Ok(())
    }

    /// `input_audio_buffer.commit`: at least 100 ms of audio, as the real API asks; the
    /// buffer's duration in ms comes back and the buffer is empty again.
    pub(crate) fn commit(&mut self, format: Format) -> Result<f64, ApiError> {
        let ms = format.duration_ms(self.bytes);
        if ms < 100.0 {
            return Err(ApiError::invalid(format!(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms:.2}ms of audio."
            ))
            .with_code("input_audio_buffer_commit_empty"));
        }
        self.bytes = 0;
        Ok(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthesized_silence_lasts_by_the_text_and_is_silent() {
        let pcm = silence("Hello there", Format::Pcm16);
        // 11 characters x 60 ms x 48 bytes per ms.
        assert_eq!(pcm.len(), 11 * 60 * 48);
        assert!(pcm.iter().all(|b| *b == 0));
        assert_eq!(pcm.len() % 2, 0, "whole 16-bit samples");
        assert_eq!(
            silence("", Format::Pcm16).len(),
            200 * 48,
            "at least 200 ms"
        );
        let ulaw = silence("Hi there", Format::Pcmu);
        assert_eq!(ulaw.len(), 8 * 60 * 8);
        assert!(ulaw.iter().all(|b| *b == 0xFF));
        assert!(silence("Hi", Format::Pcma).iter().all(|b| *b == 0xD5));
        // Characters, not bytes.
        assert_eq!(
            silence("héé", Format::Pcm16).len(),
            silence("hee", Format::Pcm16).len()
        );
    }

    #[test]
    fn chunks_cover_the_audio_without_splitting_a_sample() {
        let bytes: Vec<u8> = (0..=200u8).collect();
        let pcm = &bytes[..200];
        let c = chunks(pcm, 3, Format::Pcm16);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|c| c.len() % 2 == 0));
        assert_eq!(c.concat(), pcm);
        assert_eq!(chunks(pcm, 1000, Format::Pcm16).len(), 100);
        assert!(chunks(&[], 3, Format::Pcm16).is_empty());
    }

    #[test]
    fn the_input_buffer_checks_base64_and_needs_100_ms() {
        let mut b = InputBuffer::default();
        assert_eq!(
            b.append(Some(&Value::String("%%%".into())))
                .unwrap_err()
                .code,
            Some(serde_json::json!("invalid_value"))
        );
        assert!(b.append(None).is_err());
        b.append(Some(&Value::String(encode(&[0; 2400])))).unwrap();
        let e = b.commit(Format::Pcm16).unwrap_err();
        assert_eq!(
            e.code,
            Some(serde_json::json!("input_audio_buffer_commit_empty"))
        );
        assert!(e.message.contains("50.00ms"), "{}", e.message);
        b.append(Some(&Value::String(encode(&[0; 2400])))).unwrap();
        assert_eq!(b.commit(Format::Pcm16).unwrap(), 100.0);
        assert_eq!(b.bytes, 0);
    }

    #[test]
    fn fixture_audio_forms() {
        assert_eq!(
            fixture_audio(&Value::String(encode(b"abc"))).unwrap(),
            b"abc"
        );
        assert_eq!(
            fixture_audio(&serde_json::json!({"b64Json": encode(b"xy")})).unwrap(),
            b"xy"
        );
        assert!(fixture_audio(&serde_json::json!({"file": "a.pcm"})).is_err());
        assert!(fixture_audio(&serde_json::json!(3)).is_err());
    }
}
