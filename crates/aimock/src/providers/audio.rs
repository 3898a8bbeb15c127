//! Silent audio files the server makes when a speech fixture gives no bytes: a valid file of the
//! requested format, as long as the text takes to say ([`speech_ms`](super::speech::speech_ms)).
//! Each container is small enough to write by hand:
//!
//! - WAV: a RIFF header over zero 16-bit PCM; raw PCM: the zero samples alone; G.711 (mu-law,
//!   A-law): the code for zero, one byte a sample.
//! - MP3: one silent MPEG Layer III frame repeated (a header, side information of zeros: no
//!   granule carries data, so every decoder plays silence).
//! - FLAC: `fLaC`, STREAMINFO, and frames of one CONSTANT subframe of zero, with their CRC-8 and
//!   CRC-16.
//! - Ogg Opus: the OpusHead and OpusTags pages, then pages of 20 ms silent CELT packets, each page
//!   with its Ogg CRC-32 and granule position.
//! - AAC: ADTS frames of a silent AAC-LC raw data block (1,024 samples each).

/// A codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Mp3,
    Opus,
    Aac,
    Flac,
    Wav,
    /// Raw 16-bit little-endian PCM, mono.
    Pcm,
    /// G.711 mu-law, mono.
    Ulaw,
    /// G.711 A-law, mono.
    Alaw,
}

/// An audio format: the codec, its sample rate and (for the compressed ones) its bit rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AudioFormat {
    pub(crate) codec: Codec,
    pub(crate) rate: u32,
    /// Kilobits a second (MP3, Opus).
    pub(crate) kbps: u32,
}

impl AudioFormat {
    /// An OpenAI `response_format` (24 kHz mono, as the real API speaks).
    pub(crate) fn openai(name: &str) -> Option<AudioFormat> {
        let codec = match name {
            "mp3" => Codec::Mp3,
            "opus" => Codec::Opus,
            "aac" => Codec::Aac,
            "flac" => Codec::Flac,
            "wav" => Codec::Wav,
            "pcm" => Codec::Pcm,
            _ => return None,
        };
        Some(AudioFormat {
            codec,
            rate: 24_000,
            kbps: if codec == Codec::Opus { 32 } else { 64 },
        })
    }

    /// An ElevenLabs `output_format`: `mp3_44100_128`, `pcm_16000`, `ulaw_8000`, `alaw_8000`,
    /// `opus_48000_64`, `wav_44100` ...
    pub(crate) fn elevenlabs(name: &str) -> Option<AudioFormat> {
        let mut parts = name.split('_');
        let codec = match parts.next()? {
            "mp3" => Codec::Mp3,
            "pcm" => Codec::Pcm,
            "wav" => Codec::Wav,
            "ulaw" => Codec::Ulaw,
            "alaw" => Codec::Alaw,
            "opus" => Codec::Opus,
            _ => return None,
        };
        let rate: u32 = parts.next()?.parse().ok()?;
        let kbps: u32 = match parts.next() {
            Some(k) => k.parse().ok()?,
            None if matches!(codec, Codec::Mp3 | Codec::Opus) => return None,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        let ok = match codec {
            Codec::Mp3 => {
                mp3_rate_index(rate).is_some() && mp3_bitrate_index(rate >= 32_000, kbps).is_some()
            }
            Codec::Ulaw | Codec::Alaw => rate == 8_000,
            Codec::Opus => rate == 48_000 && (6..=510).contains(&kbps),
            _ => (8_000..=48_000).contains(&rate),
        };
        ok.then_some(AudioFormat { codec, rate, kbps })
    }

    /// The MIME type the file is served with.
    pub(crate) fn mime(self) -> &'static str {
        mime(self.codec)
    }
}

/// The MIME type of a codec (aimock's table for OpenAI's formats).
pub(crate) fn mime(codec: Codec) -> &'static str {
    match codec {
        Codec::Mp3 => "audio/mpeg",
        Codec::Opus => "audio/opus",
        Codec::Aac => "audio/aac",
        Codec::Flac => "audio/flac",
        Codec::Wav => "audio/wav",
        Codec::Pcm => "audio/pcm",
        Codec::Ulaw => "audio/basic",
        Codec::Alaw => "audio/x-alaw-basic",
    }
}

/// The MIME type of a fixture's `format` (`mp3` by default; an unknown one is a plain byte
/// stream, as aimock serves it).
pub(crate) fn format_mime(format: Option<&str>) -> &'static str {
    AudioFormat::openai(format.unwrap_or("mp3"))
        .map_or("application/octet-stream", AudioFormat::mime)
}

/// A fixture's audio and its MIME type: its `audio` bytes (base64, or `{b64Json, contentType}`),
/// typed by its `format` or `contentType` (else `format`'s type); without bytes (no `audio`, an
/// empty one, a text reply), a silent file of `format` lasting `ms`.
pub(crate) fn fixture_or_silence(
    reply: &serde_json::Value,
    format: AudioFormat,
    ms: u64,
) -> Result<(Vec<u8>, String), crate::http::ApiError> {
    use serde_json::Value;
    let bytes = match reply.get("audio") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(a) => Some(
            crate::providers::openai::realtime::audio::fixture_audio(a).map_err(|m| {
                crate::http::ApiError::new(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    format!("The fixture's audio cannot be served: {m}"),
                )
            })?,
        ),
    };
    let Some(bytes) = bytes else {
        return Ok((silence(format, ms), format.mime().to_owned()));
    };
    let mime = match (
        reply.pointer("/audio/contentType").and_then(Value::as_str),
        reply.get("format").and_then(Value::as_str),
    ) {
        (Some(ct), _) => ct.to_owned(),
        (None, Some(f)) => format_mime(Some(f)).to_owned(),
        (None, None) => format.mime().to_owned(),
    };
    Ok((bytes, mime))
}

/// A 200 with audio bytes of type `mime`.
pub(crate) fn bytes_response(bytes: Vec<u8>, mime: &str) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let ct = http::HeaderValue::from_str(mime)
        .unwrap_or(http::HeaderValue::from_static("application/octet-stream"));
    ([(http::header::CONTENT_TYPE, ct)], bytes).into_response()
}

/// Bytes in pieces of at most `size` (each a streamed chunk), and at least four pieces when the
/// bytes allow, so even a short file arrives as a stream.
pub(crate) fn chunked(bytes: &[u8], size: usize) -> Vec<bytes::Bytes> {
    bytes
        .chunks(piece(bytes.len(), size))
        .map(bytes::Bytes::copy_from_slice)
        .collect()
}

/// The size of a streamed piece of `len` bytes: at most `size`, small enough for four pieces.
pub(crate) fn piece(len: usize, size: usize) -> usize {
    size.min(len.div_ceil(4)).max(1)
}

/// A silent file of `format`, `ms` milliseconds long.
pub(crate) fn silence(format: AudioFormat, ms: u64) -> Vec<u8> {
    let samples = (ms * u64::from(format.rate) / 1000) as usize;
    match format.codec {
        Codec::Pcm => vec![0; samples * 2],
        Codec::Ulaw => vec![0xFF; samples],
        Codec::Alaw => vec![0xD5; samples],
        Codec::Wav => wav(format.rate, samples),
        Codec::Mp3 => mp3(format.rate, format.kbps, samples),
        Codec::Flac => flac(format.rate, samples),
        Codec::Opus => ogg_opus(format.rate, ms),
        Codec::Aac => aac(format.rate, samples),
    }
}

/// WAV: RIFF, a `fmt ` chunk for 16-bit mono PCM, and the zero samples.
fn wav(rate: u32, samples: usize) -> Vec<u8> {
    let data = (samples * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes a second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits a sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(44 + data as usize, 0);
    out
}

/// The MPEG sample-rate index, and whether the rate is MPEG-1 (else MPEG-2).
fn mp3_rate_index(rate: u32) -> Option<(u8, bool)> {
    Some(match rate {
        44_100 => (0, true),
        48_000 => (1, true),
        32_000 => (2, true),
        22_050 => (0, false),
        24_000 => (1, false),
        16_000 => (2, false),
        _ => return None,
    })
}

/// The Layer III bit-rate index of `kbps`.
fn mp3_bitrate_index(mpeg1: bool, kbps: u32) -> Option<u8> {
    let table: &[u32] = if mpeg1 {
        &[
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ]
    } else {
        &[0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
    };
    table
        .iter()
        .position(|&k| k == kbps && k != 0)
        .map(|i| i as u8)
}

/// Samples in an MP3 frame (MPEG-1 1,152; MPEG-2 576).
pub(crate) fn mp3_frame_samples(mpeg1: bool) -> usize {
    if mpeg1 {
        1152
    } else {
        576
    }
}

/// MP3: the same silent mono frame, enough of them to cover `samples`.
fn mp3(rate: u32, kbps: u32, samples: usize) -> Vec<u8> {
    let (ri, mpeg1) = mp3_rate_index(rate).unwrap_or((1, false));
    let (bi, kbps) = match mp3_bitrate_index(mpeg1, kbps) {
        Some(b) => (b, kbps),
        None => (if mpeg1 { 9 } else { 8 }, if mpeg1 { 128 } else { 64 }),
    };
    // Frame length without padding: 144 (MPEG-1) or 72 (MPEG-2) x bitrate / rate.
    let per = if mpeg1 { 144 } else { 72 };
    let len = (per * kbps * 1000 / rate) as usize;
    let mut frame = vec![0u8; len];
    frame[0] = 0xFF;
    // Sync, version (11 MPEG-1, 10 MPEG-2), layer III (01), no CRC (1).
    frame[1] = if mpeg1 { 0xFB } else { 0xF3 };
    frame[2] = (bi << 4) | (ri << 2); // no padding, private 0
                                      // Mono, no mode extension, not copyrighted, no emphasis. The side information (17 bytes for
                                      // MPEG-1 mono, 9 for MPEG-2) and the main data stay zero: main_data_begin 0, every
                                      // part2_3_length 0, so nothing is decoded but silence.
    frame[3] = 0xC0;
    let frames = samples.div_ceil(mp3_frame_samples(mpeg1)).max(1);
    frame.repeat(frames)
}

/// CRC-8 (polynomial 0x07) over `data`, as a FLAC frame header carries it.
fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |mut c, &b| {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
        c
    })
}

/// CRC-16 (polynomial 0x8005), as a FLAC frame ends with.
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |mut c, &b| {
        c ^= u16::from(b) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
        }
        c
    })
}

/// The samples in a FLAC frame (the last is shorter).
const FLAC_BLOCK: usize = 4096;

/// `n` in FLAC's UTF-8-like coding of frame numbers.
fn flac_utf8(n: u32, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let mut tail = Vec::new();
    let mut v = n;
    let mut lead_bits = 6; // payload bits the lead byte still has room for
    while v >= (1 << lead_bits) {
        tail.push(0x80 | (v & 0x3F) as u8);
        v >>= 6;
        lead_bits -= 1;
    }
    let count = tail.len() + 1;
    let mark = !(0xFFu8 >> count);
    out.push(mark | v as u8);
    out.extend(tail.iter().rev());
}

/// FLAC: 16-bit mono, frames of one CONSTANT subframe of zero.
fn flac(rate: u32, samples: usize) -> Vec<u8> {
    let mut out = b"fLaC".to_vec();
    // The last metadata block, STREAMINFO, 34 bytes.
    out.extend_from_slice(&[0x80, 0, 0, 34]);
    let block = FLAC_BLOCK as u16;
    out.extend_from_slice(&block.to_be_bytes()); // min block size
    out.extend_from_slice(&block.to_be_bytes()); // max block size
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // frame sizes: unknown
                                                // 20 bits rate, 3 bits channels - 1, 5 bits bits-per-sample - 1, 36 bits total samples.
    let total = samples as u64;
    let packed: u64 = (u64::from(rate) << 44) | (15u64 << 36) | (total & 0xF_FFFF_FFFF);
    out.extend_from_slice(&packed.to_be_bytes());
    out.extend_from_slice(&[0; 16]); // MD5: not computed
    let mut start = 0usize;
    let mut number = 0u32;
    while start < samples {
        let n = (samples - start).min(FLAC_BLOCK);
        let at = out.len();
        // Sync 0xFFF8: fixed block size. Block size: 16 bits at the end of the header (0111);
        // sample rate: from STREAMINFO (0000); mono (0000), 16 bits (100), reserved 0.
        out.extend_from_slice(&[0xFF, 0xF8, 0x70, 0x08]);
        flac_utf8(number, &mut out);
        out.extend_from_slice(&((n - 1) as u16).to_be_bytes());
        let c8 = crc8(&out[at..]);
        out.push(c8);
        // Subframe: padding 0, CONSTANT (000000), no wasted bits; the value, 16 bits of zero.
        out.extend_from_slice(&[0x00, 0x00, 0x00]);
        let c16 = crc16(&out[at..]);
        out.extend_from_slice(&c16.to_be_bytes());
        start += n;
        number += 1;
    }
    out
}

/// The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, no final XOR.
fn ogg_crc(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |mut c, &b| {
        c ^= u32::from(b) << 24;
        for _ in 0..8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
        }
        c
    })
}

/// One Ogg page holding `packets` whole (each under 255 bytes).
fn ogg_page(out: &mut Vec<u8>, flags: u8, granule: u64, seq: u32, packets: &[&[u8]]) {
    let at = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0); // version
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&OGG_SERIAL.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // checksum, filled below
    let mut lacing = Vec::new();
    for p in packets {
        let mut left = p.len();
        while left >= 255 {
            lacing.push(255);
            left -= 255;
        }
        lacing.push(left as u8);
    }
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    for p in packets {
        out.extend_from_slice(p);
    }
    let crc = ogg_crc(&out[at..]);
    out[at + 22..at + 26].copy_from_slice(&crc.to_le_bytes());
}

/// The Ogg stream's serial number (any fixed one will do).
const OGG_SERIAL: u32 = 0x6169_6d6b;
/// Opus pre-skip, in 48 kHz samples (libopus' usual).
const OPUS_PRE_SKIP: u16 = 312;
/// A 20 ms silent Opus packet: CELT-only full band 20 ms, mono, one frame (TOC 0xF8), and the
/// two bytes that code silence.
const OPUS_SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];
/// Packets a page.
const OPUS_PACKETS_PER_PAGE: usize = 50;

/// Ogg Opus: OpusHead, OpusTags, then 20 ms packets of silence covering `ms`.
fn ogg_opus(input_rate: u32, ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&OPUS_PRE_SKIP.to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family
    ogg_page(&mut out, 0x02, 0, 0, &[&head]);
    let vendor = b"aimock";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes()); // no comments
    ogg_page(&mut out, 0, 0, 1, &[&tags]);
    let packets = ms.div_ceil(20).max(1) as usize;
    let mut seq = 2;
    let mut done = 0usize;
    while done < packets {
        let n = (packets - done).min(OPUS_PACKETS_PER_PAGE);
        done += n;
        let last = done == packets;
        // The granule of the last page is the end of what plays: pre-skip plus `ms` exactly.
        let granule = if last {
            u64::from(OPUS_PRE_SKIP) + ms * 48
        } else {
            u64::from(OPUS_PRE_SKIP) + done as u64 * 960
        };
        let batch: Vec<&[u8]> = std::iter::repeat_n(&OPUS_SILENCE[..], n).collect();
        ogg_page(&mut out, if last { 0x04 } else { 0 }, granule, seq, &batch);
        seq += 1;
    }
    out
}

/// The ADTS sampling-frequency index of `rate`.
fn aac_rate_index(rate: u32) -> u8 {
    match rate {
        96_000 => 0,
        88_200 => 1,
        64_000 => 2,
        48_000 => 3,
        44_100 => 4,
        32_000 => 5,
        24_000 => 6,
        22_050 => 7,
        16_000 => 8,
        12_000 => 9,
        11_025 => 10,
        _ => 11, // 8,000
    }
}

/// A silent AAC-LC raw data block, mono: a single channel element with global gain 160, one
/// long window (KBD shape), no scale-factor bands, and the END element.
const AAC_SILENCE: [u8; 4] = [0x01, 0x40, 0x20, 0x07];

/// AAC: ADTS frames of 1,024 silent samples.
fn aac(rate: u32, samples: usize) -> Vec<u8> {
    let len = 7 + AAC_SILENCE.len();
    let ri = aac_rate_index(rate);
    let mut frame = vec![
        0xFF,
        0xF1,                 // sync, MPEG-4, layer 0, no CRC
        (1 << 6) | (ri << 2), // profile AAC-LC (object type 2 - 1), rate, private 0, channels (high bit 0)
        // channels 1 (low two bits 01), original/home/copyright 0, frame length's top 2 bits
        0x40 | ((len >> 11) & 0x03) as u8,
        ((len >> 3) & 0xFF) as u8,
        (((len & 0x07) << 5) as u8) | 0x1F, // length's low 3 bits, buffer fullness 0x7FF (top 5)
        0xFC,                               // buffer fullness (low 6), one raw data block (00)
    ];
    frame.extend_from_slice(&AAC_SILENCE);
    frame.repeat(samples.div_ceil(1024).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(codec: Codec, rate: u32, kbps: u32) -> AudioFormat {
        AudioFormat { codec, rate, kbps }
    }

    #[test]
    fn formats_by_their_names() {
        assert_eq!(AudioFormat::openai("flac").unwrap().codec, Codec::Flac);
        assert!(AudioFormat::openai("ogg").is_none());
        assert_eq!(
            AudioFormat::elevenlabs("mp3_44100_128"),
            Some(fmt(Codec::Mp3, 44_100, 128))
        );
        assert_eq!(
            AudioFormat::elevenlabs("pcm_16000"),
            Some(fmt(Codec::Pcm, 16_000, 0))
        );
        assert_eq!(
            AudioFormat::elevenlabs("ulaw_8000").unwrap().mime(),
            "audio/basic"
        );
        for bad in [
            "mp3_44100",
            "mp3_11025_32",
            "ulaw_16000",
            "wma_44100",
            "pcm_x",
        ] {
            assert!(AudioFormat::elevenlabs(bad).is_none(), "{bad}");
        }
        assert_eq!(format_mime(None), "audio/mpeg");
        assert_eq!(format_mime(Some("wav")), "audio/wav");
        assert_eq!(format_mime(Some("xyz")), "application/octet-stream");
    }

    #[test]
    fn wav_and_raw_pcm_last_as_long_as_asked() {
        let w = silence(fmt(Codec::Wav, 24_000, 0), 500);
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes(w[4..8].try_into().unwrap()) as usize,
            w.len() - 8
        );
        assert_eq!(u32::from_le_bytes(w[24..28].try_into().unwrap()), 24_000);
        assert_eq!(&w[36..40], b"data");
        let data = u32::from_le_bytes(w[40..44].try_into().unwrap());
        assert_eq!(data, 24_000, "half a second of 16-bit samples");
        assert!(w[44..].iter().all(|&b| b == 0));
        assert_eq!(silence(fmt(Codec::Pcm, 24_000, 0), 1000).len(), 48_000);
        assert_eq!(silence(fmt(Codec::Ulaw, 8_000, 0), 1000), vec![0xFF; 8000]);
    }

    #[test]
    fn mp3_is_whole_frames_covering_the_time() {
        for (rate, kbps, mpeg1) in [(24_000, 64, false), (44_100, 128, true)] {
            let m = silence(fmt(Codec::Mp3, rate, kbps), 1000);
            let per = if mpeg1 { 144 } else { 72 };
            let len = (per * kbps * 1000 / rate) as usize;
            assert_eq!(m.len() % len, 0);
            let frames = m.len() / len;
            assert_eq!(frames, (rate as usize).div_ceil(mp3_frame_samples(mpeg1)));
            for f in m.chunks(len) {
                // Sync, the layer, the version; the bit rate and rate indexes decode back.
                assert_eq!(f[0], 0xFF);
                assert_eq!(f[1] & 0xE0, 0xE0);
                assert_eq!((f[1] >> 1) & 0x03, 0b01, "layer III");
                assert_eq!((f[1] >> 3) & 1 == 1, mpeg1);
                assert_eq!(mp3_bitrate_index(mpeg1, kbps), Some(f[2] >> 4));
                assert_eq!(mp3_rate_index(rate).unwrap().0, (f[2] >> 2) & 0x03);
                assert_eq!(f[3] >> 6, 0b11, "mono");
                assert!(f[4..].iter().all(|&b| b == 0));
            }
        }
    }

    #[test]
    fn flac_frames_check_and_count_the_samples() {
        let f = silence(fmt(Codec::Flac, 24_000, 0), 1000);
        assert_eq!(&f[..4], b"fLaC");
        assert_eq!(f[4], 0x80, "the last block, STREAMINFO");
        assert_eq!(u32::from_be_bytes([0, f[5], f[6], f[7]]), 34);
        let info = u64::from_be_bytes(f[18..26].try_into().unwrap());
        assert_eq!(info >> 44, 24_000);
        assert_eq!((info >> 41) & 0x7, 0, "mono");
        assert_eq!((info >> 36) & 0x1F, 15, "16 bits");
        assert_eq!(info & 0xF_FFFF_FFFF, 24_000);
        // Walk the frames: each header's CRC-8 and each frame's CRC-16 hold, the sizes add up.
        let mut at = 42;
        let mut total = 0usize;
        let mut number = 0u32;
        while at < f.len() {
            assert_eq!(&f[at..at + 2], &[0xFF, 0xF8]);
            let mut p = at + 4;
            let mut expect = Vec::new();
            flac_utf8(number, &mut expect);
            assert_eq!(&f[p..p + expect.len()], &expect[..]);
            p += expect.len();
            let n = u16::from_be_bytes([f[p], f[p + 1]]) as usize + 1;
            p += 2;
            assert_eq!(crc8(&f[at..p]), f[p]);
            p += 1 + 3;
            assert_eq!(crc16(&f[at..p]), u16::from_be_bytes([f[p], f[p + 1]]));
            total += n;
            number += 1;
            at = p + 2;
        }
        assert_eq!(total, 24_000);
        assert_eq!(number, 6);
        // FLAC's UTF-8 coding past one byte.
        let mut v = Vec::new();
        flac_utf8(352, &mut v);
        assert_eq!(v, vec![0xC5, 0xA0]);
        // The check values of the two CRCs ("123456789").
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc16(b"123456789"), 0xFEE8);
    }

    #[test]
    fn ogg_opus_pages_check_and_end_at_the_duration() {
        let o = silence(fmt(Codec::Opus, 24_000, 32), 1000);
        let mut at = 0;
        let mut pages = Vec::new();
        while at < o.len() {
            assert_eq!(&o[at..at + 4], b"OggS");
            let segs = o[at + 26] as usize;
            let body: usize = o[at + 27..at + 27 + segs].iter().map(|&l| l as usize).sum();
            let end = at + 27 + segs + body;
            let mut page = o[at..end].to_vec();
            let crc = u32::from_le_bytes(page[22..26].try_into().unwrap());
            page[22..26].fill(0);
            assert_eq!(ogg_crc(&page), crc, "page checksum");
            let granule = u64::from_le_bytes(o[at + 6..at + 14].try_into().unwrap());
            pages.push((o[at + 5], granule, segs, o[at + 27 + segs..end].to_vec()));
            at = end;
        }
        assert_eq!(pages[0].0, 0x02, "beginning of stream");
        assert!(pages[0].3.starts_with(b"OpusHead"));
        assert_eq!(pages[0].3[9], 1, "mono");
        assert!(pages[1].3.starts_with(b"OpusTags"));
        let last = pages.last().unwrap();
        assert_eq!(last.0, 0x04, "end of stream");
        assert_eq!(last.1, 312 + 48_000, "pre-skip and a second at 48 kHz");
        let packets: usize = pages[2..].iter().map(|p| p.2).sum();
        assert_eq!(packets, 50, "20 ms each");
        assert_eq!(ogg_crc(b"123456789"), 0x89A1_897F);
    }

    #[test]
    fn aac_is_adts_frames_of_1024_samples() {
        let a = silence(fmt(Codec::Aac, 24_000, 0), 1000);
        let mut at = 0;
        let mut frames = 0;
        while at < a.len() {
            let h = &a[at..at + 7];
            assert_eq!(h[0], 0xFF);
            assert_eq!(h[1] & 0xF6, 0xF0, "sync, MPEG-4, layer 0");
            assert_eq!(h[1] & 1, 1, "no CRC");
            assert_eq!(h[2] >> 6, 1, "AAC-LC");
            assert_eq!((h[2] >> 2) & 0x0F, 6, "24 kHz");
            let channels = ((h[2] & 1) << 2) | (h[3] >> 6);
            assert_eq!(channels, 1);
            let len = (usize::from(h[3] & 0x03) << 11)
                | (usize::from(h[4]) << 3)
                | usize::from(h[5] >> 5);
            assert_eq!(len, 11);
            assert_eq!(h[6] & 0x03, 0, "one raw data block");
            at += len;
            frames += 1;
        }
        assert_eq!(at, a.len());
        assert_eq!(frames, 24_000usize.div_ceil(1024));
    }
}
