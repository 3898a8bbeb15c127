//! Media the server makes itself when a fixture gives none: a placeholder picture.

/// A valid PNG of `width` x `height`, one colour chosen from `seed`.
pub(crate) fn placeholder_png(width: u32, height: u32, seed: &str) -> Vec<u8> {
    // FNV-1a: the same prompt, the same colour.
    let h = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let rgb = [(h >> 16) as u8, (h >> 8) as u8, h as u8];
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let row: Vec<u8> = rgb
            .iter()
            .copied()
            .cycle()
            .take(width as usize * 3)
            .collect();
        let data: Vec<u8> = row
            .iter()
            .copied()
            .cycle()
            .take(row.len() * height as usize)
            .collect();
        if let Ok(mut w) = enc.write_header() {
            let _ = w.write_image_data(&data);
        }
    }
    out
}

/// A fixture's pictures: its `images` list, or its one `image` `n` times; `None` when it has
/// neither.
pub(crate) fn fixture_images(
    reply: &serde_json::Value,
    n: usize,
) -> Option<Vec<&serde_json::Value>> {
    match (reply.get("images"), reply.get("image")) {
        (Some(serde_json::Value::Array(list)), _) => Some(list.iter().collect()),
        (_, Some(one)) => Some(std::iter::repeat_n(one, n).collect()),
        _ => None,
    }
}

/// A picture's bytes as base64: the fixture's `b64Json`, else a placeholder PNG of `width` x
/// `height` coloured from `seed`.
pub(crate) fn image_base64(
    item: &serde_json::Value,
    width: u32,
    height: u32,
    seed: &str,
) -> String {
    use base64::Engine as _;
    match item.get("b64Json").and_then(serde_json::Value::as_str) {
        Some(b) => b.to_owned(),
        None => {
            base64::engine::general_purpose::STANDARD.encode(placeholder_png(width, height, seed))
        }
    }
}

/// The MIME type of a picture given as base64, from its first bytes (PNG, JPEG, GIF, WebP);
/// `image/png` when they say nothing known.
pub(crate) fn image_mime(b64: &str) -> &'static str {
    use base64::Engine as _;
    let head: String = b64
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(16)
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(head.as_bytes())
        .unwrap_or_default();
    match bytes.as_slice() {
        [0xff, 0xd8, 0xff, ..] => "image/jpeg",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        _ => "image/png",
    }
}

/// The 500 for a fixture whose `image` / `images` holds no picture.
pub(crate) fn no_images(kind: &str) -> crate::http::ApiError {
    crate::http::ApiError::new(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        kind,
        "The fixture's `image` / `images` is not an image or a list of them.",
    )
}

/// Record mode's reader of image replies: OpenAI's `data` (`url` or `b64_json`, with
/// `revised_prompt`) and Imagen's `predictions` (`bytesBase64Encoded`, with the enhanced
/// `prompt`) become a fixture's `image` (one) or `images` (several).
pub(crate) static IMAGES: crate::record::Collapser = crate::record::Collapser {
    name: "images",
    stream: |b, _| b.warn("an image stream is not recorded"),
    json: images_json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: None,
};

fn images_json(b: &mut crate::record::collapse::Builder, v: &serde_json::Value) -> bool {
    use serde_json::{Map, Value};
    let str_at = |item: &Value, k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_owned()))
    };
    let (list, fields): (&Vec<Value>, [(&str, &str); 3]) =
        match (v.get("data"), v.get("predictions")) {
            (Some(Value::Array(d)), _) => (
                d,
                [
                    ("url", "url"),
                    ("b64_json", "b64Json"),
                    ("revised_prompt", "revisedPrompt"),
                ],
            ),
            (_, Some(Value::Array(p))) => (
                p,
                [
                    ("bytesBase64Encoded", "b64Json"),
                    ("prompt", "revisedPrompt"),
                    ("", ""),
                ],
            ),
            _ => return false,
        };
    let mut images: Vec<Value> = Vec::new();
    for item in list {
        let mut image = Map::new();
        for (from, to) in fields.iter().filter(|(f, _)| !f.is_empty()) {
            if let Some(s) = str_at(item, from) {
                image.insert((*to).to_owned(), s);
            }
        }
        if image.contains_key("url") || image.contains_key("b64Json") {
            images.push(Value::Object(image));
        }
    }
    if images.len() < list.len() {
        b.warn(format!(
            "{} image(s) without a url or bytes were not recorded",
            list.len() - images.len()
        ));
    }
    let mut reply = Map::new();
    match images.len() {
        0 => return false,
        1 => reply.insert("image".to_owned(), images.remove(0)),
        _ => reply.insert("images".to_owned(), Value::Array(images)),
    };
    b.media(reply);
    true
}

/// Record mode's reader of speech replies. Audio bytes (`audio/*`) are recorded by the proxy
/// itself as `audio` and `format`; this reads the `stream_format: "sse"` stream, whose
/// `speech.audio.delta` chunks are joined into one `audio`.
pub(crate) static SPEECH: crate::record::Collapser = crate::record::Collapser {
    name: "speech",
    stream: speech_stream,
    json: |_, _| false,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: None,
};

fn speech_stream(b: &mut crate::record::collapse::Builder, body: &[u8]) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut audio = Vec::new();
    for (_, v) in crate::record::collapse::sse_json(b, body) {
        match v.get("type").and_then(serde_json::Value::as_str) {
            Some("speech.audio.delta") => {
                let chunk = v.get("audio").and_then(serde_json::Value::as_str);
                match chunk.map(|c| b64.decode(c)) {
                    Some(Ok(bytes)) => audio.extend_from_slice(&bytes),
                    _ => b.drop_frame(&v.to_string()),
                }
            }
            Some("speech.audio.done") => b.complete = true,
            _ => {}
        }
    }
    let mut r = serde_json::Map::new();
    r.insert(
        "audio".into(),
        serde_json::Value::String(b64.encode(&audio)),
    );
    b.media(r);
}

/// Record mode's reader of transcription and translation replies: a JSON reply's `text` (with
/// `language`, `duration`, `words`, `segments`, `usage` when present) and a streamed one's
/// `transcript.text.delta` / `transcript.text.done` become a fixture's `transcription`. The
/// plain-text formats (`text`, `srt`, `vtt`) are not JSON and are not recorded.
pub(crate) static TRANSCRIPTION: crate::record::Collapser = crate::record::Collapser {
    name: "transcription",
    stream: transcription_stream,
    json: transcription_json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: None,
};

fn transcription_json(b: &mut crate::record::collapse::Builder, v: &serde_json::Value) -> bool {
    if !v.get("text").is_some_and(serde_json::Value::is_string) || v.get("choices").is_some() {
        return false;
    }
    let mut t = serde_json::Map::new();
    for k in [
        "text",
        "language",
        "languages",
        "duration",
        "words",
        "segments",
        "usage",
    ] {
        if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
            t.insert(k.to_owned(), x.clone());
        }
    }
    let mut r = serde_json::Map::new();
    r.insert("transcription".into(), serde_json::Value::Object(t));
    b.media(r);
    true
}

fn transcription_stream(b: &mut crate::record::collapse::Builder, body: &[u8]) {
    let mut text = String::new();
    let mut done: Option<serde_json::Value> = None;
    for (_, v) in crate::record::collapse::sse_json(b, body) {
        match v.get("type").and_then(serde_json::Value::as_str) {
            Some("transcript.text.delta") => {
                if let Some(d) = v.get("delta").and_then(serde_json::Value::as_str) {
                    text.push_str(d);
                }
            }
            Some("transcript.text.done") => done = Some(v),
            _ => {}
        }
    }
    match done {
        Some(d) if transcription_json(b, &d) => b.complete = true,
        _ => {
            let v = serde_json::json!({ "text": text });
            transcription_json(b, &v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_speech_and_transcriptions_become_their_fixtures() {
        use crate::record::collapse::{collapse_audio, collapse_json, collapse_stream};
        let a = collapse_audio("audio/mpeg", b"ID3abc");
        assert_eq!(
            a.response,
            serde_json::json!({"audio": "SUQzYWJj", "format": "mp3"})
        );
        assert!(a.complete);
        assert_eq!(
            collapse_audio("audio/wav; charset=binary", b"RIFF").response["format"],
            "wav"
        );
        let sse = b"data: {\"type\":\"speech.audio.delta\",\"audio\":\"SUQz\"}\n\ndata: {\"type\":\"speech.audio.delta\",\"audio\":\"YWJj\"}\n\ndata: {\"type\":\"speech.audio.done\",\"usage\":{}}\n\n";
        let s = collapse_stream(&SPEECH, sse);
        assert_eq!(s.response, serde_json::json!({"audio": "SUQzYWJj"}));
        assert!(s.complete);
        let t = collapse_json(
            &TRANSCRIPTION,
            br#"{"task": "transcribe", "language": "english", "duration": 1.5, "text": "Hi.", "segments": [{"id": 0}]}"#,
        )
        .unwrap();
        assert_eq!(
            t.response,
            serde_json::json!({"transcription": {"text": "Hi.", "language": "english", "duration": 1.5, "segments": [{"id": 0}]}})
        );
        let st = collapse_stream(
            &TRANSCRIPTION,
            b"data: {\"type\":\"transcript.text.delta\",\"delta\":\"Hel\"}\n\ndata: {\"type\":\"transcript.text.delta\",\"delta\":\"lo\"}\n\ndata: {\"type\":\"transcript.text.done\",\"text\":\"Hello\"}\n\n",
        );
        assert_eq!(
            st.response,
            serde_json::json!({"transcription": {"text": "Hello"}})
        );
        assert!(st.complete);
    }

    #[test]
    fn recorded_images_become_image_fixtures() {
        use crate::record::collapse::collapse_json;
        let one = collapse_json(
            &IMAGES,
            br#"{"created": 1, "data": [{"url": "https://x/1.png", "revised_prompt": "a red cat"}]}"#,
        )
        .unwrap();
        assert_eq!(
            one.response,
            serde_json::json!({"image": {"url": "https://x/1.png", "revisedPrompt": "a red cat"}})
        );
        let two = collapse_json(
            &IMAGES,
            br#"{"predictions": [{"bytesBase64Encoded": "AAA=", "mimeType": "image/png", "prompt": "p"}, {"bytesBase64Encoded": "BBB=", "mimeType": "image/png"}]}"#,
        )
        .unwrap();
        assert_eq!(
            two.response,
            serde_json::json!({"images": [{"b64Json": "AAA=", "revisedPrompt": "p"}, {"b64Json": "BBB="}]})
        );
        assert!(collapse_json(&IMAGES, br#"{"data": [{}]}"#).is_none());
        assert!(collapse_json(&IMAGES, br#"{"choices": []}"#).is_none());
    }

    #[test]
    fn the_placeholder_is_a_png_of_the_size_asked_and_the_prompts_colour() {
        let a = placeholder_png(3, 2, "a cat");
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        let d = png::Decoder::new(std::io::Cursor::new(&a));
        let mut r = d.read_info().unwrap();
        let (w, h) = (r.info().width, r.info().height);
        assert_eq!((w, h), (3, 2));
        let mut buf = vec![0; r.output_buffer_size()];
        r.next_frame(&mut buf).unwrap();
        assert_eq!(&buf[..3], &buf[3..6], "one colour");
        assert_eq!(a, placeholder_png(3, 2, "a cat"));
        assert_ne!(a, placeholder_png(3, 2, "a dog"));
    }

    #[test]
    fn a_pictures_mime_type_comes_from_its_first_bytes() {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        assert_eq!(image_mime(&b64(&placeholder_png(1, 1, "x"))), "image/png");
        assert_eq!(
            image_mime(&b64(b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01")),
            "image/jpeg"
        );
        assert_eq!(image_mime(&b64(b"GIF89a\x01\0\x01\0\0\0")), "image/gif");
        assert_eq!(image_mime(&b64(b"RIFF\x24\0\0\0WEBPVP8 ")), "image/webp");
        assert_eq!(image_mime("not base64"), "image/png");
    }
}
