//! GPT-Live's wire envelope: server events (`type`, `event_id`, the command's `client_event_id`),
//! the `error` event, and reading a client command (a JSON object with a string `type`) with its
//! audio fields. Pure: nothing here touches a socket.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::audio::{self, Format};
use super::config::{kind as json_kind, Invalid};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::stream::socket::Frame;

/// A server event: `type`, a fresh `event_id`, and the command's `event_id` as
/// `client_event_id` when it gave one.
pub(super) fn event(kind: &str, client_event_id: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".to_owned(), Value::String(kind.to_owned()));
    m.insert(
        "event_id".to_owned(),
        Value::String(random_id("event_", 24)),
    );
    if let Some(id) = client_event_id {
        m.insert("client_event_id".to_owned(), Value::String(id.to_owned()));
    }
    m
}

/// The `error` event for a refused command.
pub(super) fn invalid_event(e: &Invalid, client_event_id: Option<&str>) -> String {
    error_event(
        "invalid_request_error",
        e.code,
        &e.message,
        e.param.as_deref(),
        client_event_id,
    )
}

/// The `error` event for an error a turn is answered with (an error fixture, a miss, chaos).
pub(super) fn api_error_event(e: &ApiError, client_event_id: Option<&str>) -> String {
    let code = match e.code.as_ref() {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None if e.status == StatusCode::TOO_MANY_REQUESTS => "rate_limit_exceeded".to_owned(),
        None => e.kind.clone(),
    };
    let param = e.param.as_ref().and_then(Value::as_str);
    error_event(&e.kind, &code, &e.message, param, client_event_id)
}

pub(super) fn error_event(
    kind: &str,
    code: &str,
    message: &str,
    param: Option<&str>,
    client_event_id: Option<&str>,
) -> String {
    let mut m = event("error", client_event_id);
    m.insert(
        "error".to_owned(),
        json!({
            "type": kind,
            "code": code,
            "message": message,
            "param": param,
            "client_event_id": client_event_id,
        }),
    );
    Value::Object(m).to_string()
}

/// A command's fields, after its envelope was read.
pub(super) struct Command {
    pub(super) kind: String,
    pub(super) body: Map<String, Value>,
    pub(super) client_event_id: Option<String>,
}

/// Read a frame's envelope: a JSON object with a string `type` and an optional string
/// `event_id`. The error carries the `event_id` when one could be read.
pub(super) fn read_command(frame: &Frame) -> Result<Command, (Invalid, Option<String>)> {
    let text = match frame {
        Frame::Text(t) => t,
        Frame::Binary(_) => {
            return Err((
                Invalid::new(
                    "invalid_message",
                    "Binary messages are not supported: send each command as a JSON text message (audio goes base64 in session.input_audio.append).",
                    None,
                ),
                None,
            ))
        }
    };
    let body = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            return Err((
                Invalid::new(
                    "invalid_json",
                    format!(
                        "Each command must be a JSON object, not {}.",
                        json_kind(&other)
                    ),
                    None,
                ),
                None,
            ))
        }
        Err(e) => {
            return Err((
                Invalid::new(
                    "invalid_json",
                    format!("The message is not valid JSON: {e}."),
                    None,
                ),
                None,
            ))
        }
    };
    let client_event_id = match body.get("event_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err((
                Invalid::new(
                    "invalid_type",
                    format!(
                        "Invalid type for 'event_id': expected a string, but got {}.",
                        json_kind(other)
                    ),
                    Some("event_id"),
                ),
                None,
            ))
        }
    };
    let kind = match body.get("type") {
        Some(Value::String(t)) => t.clone(),
        None => {
            return Err((
                Invalid::new(
                    "missing_required_parameter",
                    "Missing required parameter: 'type'.",
                    Some("type"),
                ),
                client_event_id,
            ))
        }
        Some(other) => {
            return Err((
                Invalid::new(
                    "invalid_type",
                    format!(
                        "Invalid type for 'type': expected a string, but got {}.",
                        json_kind(other)
                    ),
                    Some("type"),
                ),
                client_event_id,
            ))
        }
    };
    Ok(Command {
        kind,
        body,
        client_event_id,
    })
}

/// A base64 audio field, decoded and checked to hold whole samples of `format`.
pub(in crate::providers::openai) fn audio_field(
    body: &Map<String, Value>,
    key: &str,
    format: Format,
) -> Result<Vec<u8>, Invalid> {
    let text = match body.get(key) {
        Some(Value::String(s)) => s,
        None => {
            return Err(Invalid::new(
                "missing_required_parameter",
                format!("Missing required parameter: '{key}'."),
                Some(key),
            ))
        }
        Some(other) => {
            return Err(Invalid::new(
                "invalid_type",
                format!(
                    "Invalid type for '{key}': expected a base64 string, but got {}.",
                    json_kind(other)
                ),
                Some(key),
            ))
        }
    };
    let bytes = audio::decode(text).ok_or_else(|| {
        Invalid::new(
            "invalid_value",
            format!("'{key}' is not valid base64."),
            Some(key),
        )
    })?;
    if !format.whole_samples(bytes.len()) {
        return Err(Invalid::new(
            "invalid_value",
            format!("'{key}' does not hold whole 16-bit samples."),
            Some(key),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_frames_are_refused_with_their_codes() {
        let code = |f: Frame| read_command(&f).err().map(|(e, _)| e.code);
        assert_eq!(
            code(Frame::Binary(bytes::Bytes::from_static(b"\x00"))),
            Some("invalid_message")
        );
        assert_eq!(code(Frame::Text("nope".into())), Some("invalid_json"));
        assert_eq!(code(Frame::Text("[1]".into())), Some("invalid_json"));
        assert_eq!(
            code(Frame::Text("{}".into())),
            Some("missing_required_parameter")
        );
        assert_eq!(
            code(Frame::Text(r#"{"type":1}"#.into())),
            Some("invalid_type")
        );
        let (e, cid) = read_command(&Frame::Text(r#"{"event_id":"e1"}"#.into()))
            .err()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(
            (e.param.as_deref(), cid.as_deref()),
            (Some("type"), Some("e1"))
        );
        let ok = read_command(&Frame::Text(
            r#"{"type":"session.close","event_id":"x"}"#.into(),
        ));
        assert!(ok
            .is_ok_and(|c| c.kind == "session.close" && c.client_event_id.as_deref() == Some("x")));
    }

    #[test]
    fn audio_fields_must_be_base64_of_whole_samples() {
        let fmt = Format::Pcm16 { rate: 24_000 };
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(audio_field(&body(json!({"audio": "AAAAAA=="})), "audio", fmt).is_ok());
        assert_eq!(
            audio_field(&body(json!({"audio": "AA=="})), "audio", fmt)
                .err()
                .map(|e| e.code),
            Some("invalid_value")
        );
        assert_eq!(
            audio_field(&body(json!({"audio": "%%"})), "audio", fmt)
                .err()
                .map(|e| e.code),
            Some("invalid_value")
        );
        assert_eq!(
            audio_field(&body(json!({})), "audio", fmt)
                .err()
                .map(|e| e.code),
            Some("missing_required_parameter")
        );
        assert_eq!(
            audio_field(&body(json!({"audio": 3})), "audio", fmt)
                .err()
                .map(|e| e.code),
            Some("invalid_type")
        );
    }
}
