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

#[cfg(test)]
mod tests {
    use super::*;

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
