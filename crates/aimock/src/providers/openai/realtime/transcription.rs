//! Input audio transcription: committed audio, in a session that transcribes, is a turn matched
//! with endpoint `realtime-transcription` against a fixture `{"transcription": {"text": ...}}`
//! (or a plain string); its text streams as
//! `conversation.item.input_audio_transcription.delta` events, then `.completed` with usage:
//! typed `duration` (seconds of audio) for whisper-1, gpt-transcribe, gpt-live-transcribe and
//! gpt-realtime-whisper, `tokens` for the gpt-4o transcribe models. An error reply, a miss or a
//! dropped turn is `.failed`.

use serde_json::{json, Value};

use super::response::event;
use crate::fixture::{Fixture, Reply};
use crate::http::ApiError;
use crate::providers::estimate_tokens;

/// The transcript a fixture gives; `Err` for another kind of reply.
pub(super) fn transcript(fixture: &Fixture) -> Result<(String, Option<Value>), ApiError> {
    match &fixture.reply {
        Reply::Other {
            kind: "transcription",
            value,
        } => {
            let t = &value["transcription"];
            let text = match t {
                Value::String(s) => s.clone(),
                _ => t["text"].as_str().unwrap_or_default().to_owned(),
            };
            let usage = t.get("usage").or_else(|| value.get("usage")).cloned();
            Ok((text, usage))
        }
        Reply::Message(m) => Ok((m.content().unwrap_or_default(), None)),
        other => Err(crate::providers::endpoint::wrong_kind(
            fixture,
            other,
            "a Realtime transcription",
        )),
    }
}

/// Whether a model reports usage in seconds of audio.
fn by_duration(model: &str) -> bool {
    matches!(
        model,
        "whisper-1" | "gpt-transcribe" | "gpt-live-transcribe" | "gpt-realtime-whisper"
    )
}

/// The usage of a transcription: the fixture's, else the model's kind.
pub(super) fn usage(model: &str, text: &str, audio_ms: f64, fixture: Option<Value>) -> Value {
    if let Some(u @ Value::Object(_)) = fixture {
        return u;
    }
    if by_duration(model) {
        json!({"type": "duration", "seconds": (audio_ms / 1000.0 * 1000.0).round() / 1000.0})
    } else {
        let audio_tokens = (audio_ms / 100.0).ceil() as u64;
        let output = if text.is_empty() {
            0
        } else {
            estimate_tokens(text.len())
        };
        json!({
            "type": "tokens",
            "input_tokens": audio_tokens,
            "output_tokens": output,
            "total_tokens": audio_tokens + output,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
        })
    }
}

/// The events of a transcription: deltas (one with the whole text for whisper-1, which does
/// not stream), then `completed`.
pub(super) fn events(
    item_id: &str,
    model: &str,
    text: &str,
    chunk: usize,
    usage: Value,
) -> Vec<String> {
    let mut out = Vec::new();
    let pieces = if model == "whisper-1" {
        vec![text]
    } else {
        crate::stream::chunk_text(text, chunk)
    };
    for d in pieces {
        out.push(event(
            "conversation.item.input_audio_transcription.delta",
            obj(json!({"item_id": item_id, "content_index": 0, "delta": d})),
        ));
    }
    out.push(event(
        "conversation.item.input_audio_transcription.completed",
        obj(json!({"item_id": item_id, "content_index": 0, "transcript": text, "usage": usage})),
    ));
    out
}

/// `...failed`, for a transcription that errs.
pub(super) fn failed(item_id: &str, e: &ApiError) -> String {
    event(
        "conversation.item.input_audio_transcription.failed",
        obj(json!({
            "item_id": item_id,
            "content_index": 0,
            "error": {"type": e.kind, "code": e.code, "message": e.message, "param": e.param},
        })),
    )
}

fn obj(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_follows_the_model() {
        let d = usage("whisper-1", "hello", 1500.0, None);
        assert_eq!(d, json!({"type": "duration", "seconds": 1.5}));
        let t = usage("gpt-4o-transcribe", "hello world!", 1500.0, None);
        assert_eq!(t["type"], "tokens");
        assert_eq!(t["input_tokens"], 15);
        assert_eq!(
            t["total_tokens"],
            t["input_tokens"].as_u64().unwrap() + t["output_tokens"].as_u64().unwrap()
        );
        let own = json!({"type": "duration", "seconds": 9});
        assert_eq!(usage("gpt-4o-transcribe", "x", 1.0, Some(own.clone())), own);
    }

    #[test]
    fn whisper_sends_one_delta() {
        assert_eq!(
            events("i", "whisper-1", "hello world", 2, json!({})).len(),
            2
        );
        assert_eq!(
            events("i", "gpt-4o-transcribe", "hello world", 2, json!({})).len(),
            7
        );
    }
}
