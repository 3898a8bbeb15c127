//! JSON in and out: responses with a JSON body, string literals written straight into a buffer
//! (the hot paths render their replies this way), and request bodies parsed with the field at
//! fault named.

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderValue, StatusCode};

use super::ApiError;

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut r = json_body(v.to_string());
    *r.status_mut() = status;
    r
}

/// A 200 response whose body is JSON text already written.
pub(crate) fn json_body(text: impl Into<Body>) -> Response {
    let mut r = Response::new(text.into());
    // What every JSON answer carries, copied whole (no hashing per header). The request id's slot
    // is in it too, empty: the server fills it in on every answer (`server::dispatch`), in place,
    // where adding it would grow the copied map (a clone has no spare room) on every request.
    static HEADERS: std::sync::LazyLock<http::HeaderMap> = std::sync::LazyLock::new(|| {
        let mut h = http::HeaderMap::with_capacity(8);
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        super::cors::add(&mut h);
        h.insert(super::ids::X_REQUEST_ID, HeaderValue::from_static(""));
        h
    });
    *r.headers_mut() = HEADERS.clone();
    r
}

/// Parse a JSON request body. The fast path is plain serde; only a body that fails is parsed
/// again to name the field at fault. Syntax errors are 400 `invalid_json`, wrong shapes 400
/// `invalid_type` with `param` set to the field's path.
pub(crate) fn parse_json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // The body checked as UTF-8 once, then parsed as text: the string fields need no check of
    // their own. A body that is not UTF-8 is parsed as bytes, so its error is serde_json's.
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str::<T>(text),
        Err(_) => serde_json::from_slice::<T>(body),
    };
    match parsed {
        Ok(v) => Ok(v),
        Err(e) if e.is_syntax() || e.is_eof() => Err(ApiError::malformed_json(&e)),
        Err(e) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(pe) => pe.path().to_string(),
                Ok(_) => ".".to_owned(),
            };
            if path == "." {
                return Err(ApiError::invalid(format!(
                    "The request body must be a JSON object: {e}"
                ))
                .with_code("invalid_type"));
            }
            let mut err = ApiError::invalid(format!("Invalid value for '{path}': {e}"))
                .with_code("invalid_type");
            err.param = Some(serde_json::Value::String(path));
            Err(err)
        }
    }
}

/// How each byte is written inside a JSON string: 0 as itself, `u` as `\\u00XX`, anything else
/// as a backslash and that character.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t
};

/// Whether any of the 8 bytes of `w` needs an escape in a JSON string (a control character,
/// `"` or a backslash): the classic "has a byte less than n" and "has a zero byte" tests, exact for
/// whether one exists.
fn word_needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let q = w ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q;
    let b = w ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b;
    (control | quote | backslash) & HI != 0
}

/// Append `s` as a JSON string literal (as serde_json writes it), copying the runs that need no
/// escape whole: the hot paths write their replies this way. Eight bytes are checked at a time;
/// only a word holding a byte to escape, and the last few bytes, are looked at byte by byte.
pub(crate) fn push_json_str(buf: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.reserve(s.len() + 2);
    buf.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes[i..].first_chunk::<8>() {
            if !word_needs_escape(u64::from_le_bytes(*word)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let e = ESCAPE[usize::from(b)];
        if e != 0 {
            buf.push_str(&s[start..i]);
            if e == b'u' {
                buf.push_str("\\u00");
                buf.push(char::from(HEX[usize::from(b >> 4)]));
                buf.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                buf.push('\\');
                buf.push(char::from(e));
            }
            start = i + 1;
        }
        i += 1;
    }
    buf.push_str(&s[start..]);
    buf.push('"');
}

/// Append an integer.
pub(crate) fn push_int(buf: &mut String, n: impl itoa::Integer) {
    buf.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_like_serde_json() {
        for s in [
            "plain",
            "quote \" back \\ nl \n tab \t",
            "\u{1} ctl \u{1f} \u{7f}",
            "ünï ✓",
            "",
            "exactly8",
            "sixteen bytes ok",
            "long run without escapes, then one\" and more text after it \\ end",
            "\u{0}\u{1f} \u{20}!\u{7e}\u{7f}\u{80}\u{ff}",
            "a\"b\\c\nd\re\tf\u{8}g\u{c}h",
            "1234567\"1234567\\12345678\n",
        ] {
            let mut b = String::new();
            push_json_str(&mut b, s);
            assert_eq!(b, serde_json::to_string(s).unwrap());
        }
        // Every byte value at every position of a word.
        for c in (0u32..0x100).filter_map(char::from_u32) {
            for pos in 0..17 {
                let s: String = (0..20).map(|i| if i == pos { c } else { 'x' }).collect();
                let mut b = String::new();
                push_json_str(&mut b, &s);
                assert_eq!(b, serde_json::to_string(&s).unwrap(), "{c:?} at {pos}");
            }
        }
    }
}
