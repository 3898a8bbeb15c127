//! How long the mock "speaks" a text a fixture gives no audio for. Every voice socket (OpenAI
//! Realtime, GPT-Live, Realtime translations, Gemini Live) sends silence this long in its own
//! format, so a client's playback and timing code sees audio as long as the words would take.

/// Milliseconds of speech per character: about 16 characters a second, a talking pace.
pub(crate) const MS_PER_CHAR: u64 = 60;
/// The shortest speech: even a one-letter answer is a short sound, not a click.
pub(crate) const MIN_MS: u64 = 200;
/// The longest speech for one text (a minute), so a long text cannot make megabytes of audio
/// without end.
pub(crate) const MAX_MS: u64 = 60_000;

/// How long speaking `text` lasts, in milliseconds (characters, not bytes, count).
pub(crate) fn speech_ms(text: &str) -> u64 {
    (text.chars().count() as u64 * MS_PER_CHAR).clamp(MIN_MS, MAX_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_lasts_by_the_characters_within_bounds() {
        assert_eq!(speech_ms(""), MIN_MS);
        assert_eq!(speech_ms("a"), MIN_MS);
        assert_eq!(speech_ms(&"x".repeat(10)), 600);
        assert_eq!(speech_ms(&"é".repeat(10)), 600, "characters, not bytes");
        assert_eq!(speech_ms(&"x".repeat(10_000)), MAX_MS);
    }
}
