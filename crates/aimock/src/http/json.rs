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
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Parse a JSON request body. The fast path is plain serde; only a body that fails is parsed
/// again to name the field at fault. Syntax errors are 400 `invalid_json`, wrong shapes 400
/// `invalid_type` with `param` set to the field's path.
pub(crate) fn parse_json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    match serde_json::from_slice::<T>(body) {
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

/// Append `s` as a JSON string literal.
pub(crate) fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        buf.push_str(&s[start..i]);
        match esc {
            Some(e) => buf.push_str(e),
            None => {
                buf.push_str(&format!("\\u{b:04x}"));
            }
        }
        start = i + 1;
    }
    buf.push_str(&s[start..]);
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_like_serde_json() {
        for s in [
            "plain",
            "quote \" back \\ nl \n tab \t",
            "\u{1} ctl",
            "ünï ✓",
        ] {
            let mut b = String::new();
            push_json_str(&mut b, s);
            assert_eq!(b, serde_json::to_string(s).unwrap());
        }
    }
}
