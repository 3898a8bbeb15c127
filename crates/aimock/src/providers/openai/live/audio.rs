//! Audio for the OpenAI voice sockets (GPT-Live and Realtime translations): the formats a session
//! speaks, silence to stand in for speech a fixture gives no audio for, and the mock's voice
//! activity detection (an utterance ends with enough silence after speech).

use base64::Engine;

/// A PCM16 sample this quiet or quieter counts as silence.
const SILENCE_LEVEL: i16 = 256;

/// A session's audio encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Raw mono PCM16, little-endian, at this rate.
    Pcm16 { rate: u32 },
    /// G.711 mu-law at 8 kHz.
    Pcmu,
    /// G.711 A-law at 8 kHz.
    Pcma,
}

impl Format {
    /// Bytes per millisecond of audio.
    pub(crate) fn bytes_per_ms(self) -> u64 {
        match self {
            Format::Pcm16 { rate } => u64::from(rate) * 2 / 1000,
            Format::Pcmu | Format::Pcma => 8,
        }
    }

    /// Bytes per sample (audio is cut on sample boundaries).
    fn frame(self) -> usize {
        match self {
            Format::Pcm16 { .. } => 2,
            Format::Pcmu | Format::Pcma => 1,
        }
    }

    /// How long `bytes` of audio last, in milliseconds.
    pub(crate) fn ms(self, bytes: usize) -> u64 {
        bytes as u64 / self.bytes_per_ms().max(1)
    }

    /// `ms` of silence.
    pub(crate) fn silence(self, ms: u64) -> Vec<u8> {
        let n = usize::try_from(ms * self.bytes_per_ms()).unwrap_or(0);
        let byte = match self {
            Format::Pcm16 { .. } => 0x00,
            // The G.711 codes for a zero sample.
            Format::Pcmu => 0xFF,
            Format::Pcma => 0xD5,
        };
        vec![byte; n]
    }

    /// Whether a chunk is all silence: known for PCM16 only (`None` for G.711, which the mock
    /// treats as speech).
    pub(crate) fn is_silent(self, bytes: &[u8]) -> Option<bool> {
        match self {
            Format::Pcm16 { .. } => {
                Some(bytes.chunks_exact(2).all(|s| {
                    i16::from_le_bytes([s[0], s[1]]).unsigned_abs() <= SILENCE_LEVEL as u16
                }))
            }
            Format::Pcmu | Format::Pcma => None,
        }
    }

    /// Whether a length is a whole number of samples.
    pub(crate) fn whole_samples(self, bytes: usize) -> bool {
        bytes.is_multiple_of(self.frame())
    }

    /// Cut audio into `n` pieces of about the same length, on sample boundaries (fewer when the
    /// audio is short; none when it is empty).
    pub(crate) fn split(self, audio: &[u8], n: usize) -> Vec<Vec<u8>> {
        let frame = self.frame();
        let samples = audio.len() / frame;
        let n = n.clamp(1, samples.max(1));
        if samples == 0 {
            return Vec::new();
        }
        (0..n)
            .map(|i| {
                let (a, b) = (samples * i / n, samples * (i + 1) / n);
                audio[a * frame..b * frame].to_vec()
            })
            .filter(|p| !p.is_empty())
            .collect()
    }
}

pub(crate) use crate::providers::speech::speech_ms;

/// Standard base64 (the audio fields of every voice socket).
pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode a base64 audio field.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// The mock's voice activity detection: audio is speech until it goes quiet; an utterance ends
/// once `silence_ms` of silent audio (or of no audio at all, which the session times) follows
/// speech.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vad {
    /// Speech was heard since the last utterance ended.
    speaking: bool,
    /// Audio of the current utterance, in milliseconds.
    pub(crate) heard_ms: u64,
    /// Silent audio since the last speech, in milliseconds.
    quiet_ms: u64,
}

impl Vad {
    /// Take a chunk of input audio; true when it ends an utterance.
    pub(crate) fn push(&mut self, format: Format, audio: &[u8], silence_ms: u64) -> bool {
        let ms = format.ms(audio.len());
        if format.is_silent(audio) == Some(true) {
            if !self.speaking {
                return false;
            }
            self.heard_ms += ms;
            self.quiet_ms += ms;
            return self.quiet_ms >= silence_ms;
        }
        self.speaking = true;
        self.heard_ms += ms;
        self.quiet_ms = 0;
        false
    }

    /// Speech is waiting for its utterance to end.
    pub(crate) fn speaking(&self) -> bool {
        self.speaking
    }

    /// The utterance is over: start listening for the next one.
    pub(crate) fn reset(&mut self) {
        *self = Vad::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PCM24: Format = Format::Pcm16 { rate: 24_000 };

    fn tone(ms: u64) -> Vec<u8> {
        (0..ms * 24)
            .flat_map(|i| (if i % 2 == 0 { 8000i16 } else { -8000 }).to_le_bytes())
            .collect()
    }

    #[test]
    fn silence_lasts_as_long_as_asked_in_each_format() {
        assert_eq!(PCM24.silence(100).len(), 4800);
        assert_eq!(Format::Pcm16 { rate: 16_000 }.silence(100).len(), 3200);
        assert_eq!(Format::Pcmu.silence(10), vec![0xFF; 80]);
        assert_eq!(Format::Pcma.silence(10), vec![0xD5; 80]);
        assert_eq!(PCM24.ms(4800), 100);
        assert_eq!(PCM24.is_silent(&PCM24.silence(50)), Some(true));
        assert_eq!(PCM24.is_silent(&tone(5)), Some(false));
        assert_eq!(Format::Pcmu.is_silent(&[0xFF]), None);
    }

    #[test]
    fn split_keeps_every_byte_on_sample_boundaries() {
        let audio: Vec<u8> = (0..=200u8).collect::<Vec<_>>()[..200].to_vec();
        let parts = PCM24.split(&audio, 3);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.len() % 2 == 0));
        assert_eq!(parts.concat(), audio);
        assert_eq!(PCM24.split(&[1, 2], 5).len(), 1);
        assert!(PCM24.split(&[], 5).is_empty());
    }

    #[test]
    fn an_utterance_ends_with_enough_silence_after_speech() {
        let mut vad = Vad::default();
        assert!(
            !vad.push(PCM24, &PCM24.silence(1000), 300),
            "silence alone is no utterance"
        );
        assert!(!vad.push(PCM24, &tone(200), 300));
        assert!(vad.speaking());
        assert!(!vad.push(PCM24, &PCM24.silence(200), 300));
        assert!(vad.push(PCM24, &PCM24.silence(100), 300));
        assert_eq!(vad.heard_ms, 500);
        vad.reset();
        assert!(!vad.speaking());
    }

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        assert_eq!(decode(&encode(&[0, 1, 255])), Some(vec![0, 1, 255]));
        assert_eq!(decode("not base64!"), None);
    }
}
