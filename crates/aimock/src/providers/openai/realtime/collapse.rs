//! OpenAI Realtime, for record mode: one response turn's server events (`response.created` ..
//! `response.done`, framed as SSE by the session) into a fixture response that replays through
//! the Realtime session.
//!
//! Output items open with `response.output_item.added` at an `output_index` (a `message`, or a
//! `function_call` with its `name` and `call_id`); text arrives as `response.output_text.delta`
//! or, in an audio response, `response.output_audio_transcript.delta`; arguments as
//! `response.function_call_arguments.delta`; `response.output_item.done` carries each finished
//! item whole (its text, name, call id and arguments win over the deltas). `response.done` ends
//! the turn: `completed` and `incomplete` are complete replies (its `output` stands in for items
//! whose events were not seen, its `usage` gives the token counts), `cancelled` is not (the
//! client stopped it: nothing to replay), `failed` and an `error` event are errors. Audio bytes
//! are not read here: the session keeps those itself.

use serde_json::{Map, Value};

use super::super::output_items::{out_index, Dialect, Outputs};
use crate::record::collapse::{sse_json, str_of, Builder, Finish};

/// The final `response` object (`response.done`'s): output items not seen before, usage, and
/// how it ended.
fn end(b: &mut Builder, items: &mut Outputs, r: &Value) {
    for (i, item) in r
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let i = i as i64;
        if !items.has(i) {
            items.done(b, i, item);
        }
    }
    if let Some(Value::Object(u)) = r.get("usage") {
        // The token counts a Realtime fixture's usage gives (the details are derived on replay).
        let counts: Map<String, Value> = ["input_tokens", "output_tokens", "total_tokens"]
            .iter()
            .filter_map(|k| {
                u.get(*k)
                    .filter(|v| v.as_u64().is_some())
                    .map(|v| ((*k).to_owned(), v.clone()))
            })
            .collect();
        if !counts.is_empty() {
            b.merge_usage(&Value::Object(counts));
        }
    }
    let details = r.get("status_details");
    let reason = details.and_then(|d| str_of(d.get("reason")));
    match str_of(r.get("status")) {
        Some("failed") => {
            let detail = details
                .and_then(|d| d.get("error"))
                .filter(|e| !e.is_null())
                .unwrap_or(r)
                .clone();
            b.stream_error(&detail);
        }
        Some("cancelled") => {
            b.warn(format!(
                "the response was cancelled ({}); not a reply to replay",
                reason.unwrap_or("no reason given")
            ));
        }
        Some("incomplete") => {
            b.complete = true;
            b.finish = Some(match reason {
                Some("max_output_tokens") => Finish::Named("length".into()),
                Some("content_filter") => Finish::Named("content_filter".into()),
                Some(other) => Finish::Named(other.to_owned()),
                None => Finish::Natural,
            });
        }
        _ => {
            b.complete = true;
            b.finish = Some(Finish::Natural);
        }
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut items = Outputs::new(Dialect::Realtime);
    for (name, v) in sse_json(b, body) {
        let kind = str_of(v.get("type")).or(name.as_deref()).unwrap_or("");
        match kind {
            "response.output_item.added" => {
                if let Some(item) = v.get("item") {
                    items.added(out_index(&v), item);
                }
            }
            "response.output_text.delta" | "response.output_audio_transcript.delta" => {
                let delta = str_of(v.get("delta")).unwrap_or("");
                items.text_delta(b, out_index(&v), delta);
            }
            "response.function_call_arguments.delta" => {
                let delta = str_of(v.get("delta")).unwrap_or("");
                items.args_delta(b, out_index(&v), delta, str_of(v.get("call_id")));
            }
            "response.function_call_arguments.done" => {
                items.args_done(
                    out_index(&v),
                    str_of(v.get("arguments")),
                    str_of(v.get("name")),
                );
            }
            "response.output_item.done" => {
                if let Some(item) = v.get("item") {
                    items.done(b, out_index(&v), item);
                }
            }
            "response.done" => {
                if let Some(r) = v.get("response") {
                    end(b, &mut items, r);
                }
            }
            "error" => b.stream_error(v.get("error").unwrap_or(&v)),
            _ => {}
        }
    }
    items.flush(b);
}

/// A whole `realtime.response` object (a `response.done`'s `response`).
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    if !v.get("output").is_some_and(Value::is_array) {
        return false;
    }
    let mut items = Outputs::new(Dialect::Realtime);
    end(b, &mut items, v);
    items.flush(b);
    true
}

/// How record mode reads a Realtime response turn into a fixture.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "OpenAI Realtime",
    stream,
    json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: None,
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::collapse::collapse_stream;

    fn sse(events: &[Value]) -> Vec<u8> {
        let mut out = String::new();
        for e in events {
            out.push_str(&format!(
                "event: {}\ndata: {e}\n\n",
                e["type"].as_str().unwrap()
            ));
        }
        out.into_bytes()
    }

    #[test]
    fn a_text_turn_collapses_to_its_text_and_usage() {
        let c = collapse_stream(
            &COLLAPSER,
            &sse(&[
                json!({"type": "response.created", "response": {"status": "in_progress"}}),
                json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "role": "assistant"}}),
                json!({"type": "response.output_text.delta", "output_index": 0, "delta": "Hi "}),
                json!({"type": "response.output_text.delta", "output_index": 0, "delta": "there"}),
                json!({"type": "response.output_item.done", "output_index": 0, "item": {"type": "message", "content": [{"type": "output_text", "text": "Hi there"}]}}),
                json!({"type": "response.done", "response": {"status": "completed", "output": [], "usage": {
                    "total_tokens": 9, "input_tokens": 5, "output_tokens": 4, "input_token_details": {"text_tokens": 5}}}}),
            ]),
        );
        assert!(c.complete);
        assert_eq!(c.response["content"], "Hi there");
        assert_eq!(
            c.response["usage"],
            json!({"total_tokens": 9, "input_tokens": 5, "output_tokens": 4})
        );
        assert_eq!(c.response["finishReason"], "stop");
    }

    #[test]
    fn a_tool_call_and_an_audio_transcript_come_from_their_events_or_the_final_output() {
        let c = collapse_stream(
            &COLLAPSER,
            &sse(&[
                json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "function_call", "name": "get_weather", "call_id": "call_1", "arguments": ""}}),
                json!({"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{\"city\":"}),
                json!({"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "\"Paris\"}"}),
                json!({"type": "response.done", "response": {"status": "completed", "output": [
                    {"type": "function_call", "name": "get_weather", "call_id": "call_1", "arguments": "{\"city\":\"Paris\"}"}]}}),
            ]),
        );
        assert!(c.complete);
        assert_eq!(
            c.response["toolCalls"],
            json!([{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "id": "call_1"}])
        );
        // Only the final output: the items come from it.
        let c = collapse_stream(
            &COLLAPSER,
            &sse(&[
                json!({"type": "response.done", "response": {"status": "completed", "output": [
                {"type": "message", "content": [{"type": "output_audio", "transcript": "Spoken."}]}]}}),
            ]),
        );
        assert_eq!(c.response["content"], "Spoken.");
        let c = collapse_stream(
            &COLLAPSER,
            &sse(&[
                json!({"type": "response.output_audio_transcript.delta", "output_index": 0, "delta": "Said"}),
                json!({"type": "response.done", "response": {"status": "completed", "output": []}}),
            ]),
        );
        assert_eq!(c.response["content"], "Said");
    }

    #[test]
    fn cancelled_failed_and_unfinished_turns_are_not_complete() {
        for last in [
            json!({"type": "response.done", "response": {"status": "cancelled", "output": [],
                   "status_details": {"type": "cancelled", "reason": "client_cancelled"}}}),
            json!({"type": "response.done", "response": {"status": "failed", "output": [],
                   "status_details": {"type": "failed", "error": {"type": "server_error", "message": "boom"}}}}),
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}),
            json!({"type": "response.output_text.delta", "output_index": 0, "delta": "cut"}),
        ] {
            let c = collapse_stream(&COLLAPSER, &sse(std::slice::from_ref(&last)));
            assert!(!c.complete, "{last}");
        }
        let c = collapse_stream(
            &COLLAPSER,
            &sse(&[
                json!({"type": "response.done", "response": {"status": "incomplete", "output": [
                {"type": "message", "content": [{"type": "output_text", "text": "Lo"}]}],
                "status_details": {"type": "incomplete", "reason": "max_output_tokens"}}}),
            ]),
        );
        assert!(c.complete);
        assert_eq!(c.response["finishReason"], "length");
        assert_eq!(c.response["content"], "Lo");
    }

    #[test]
    fn garbage_is_skipped_not_a_panic() {
        let c = collapse_stream(
            &COLLAPSER,
            b"data: {not json\n\ndata: [1,2]\n\ndata: {\"type\": \"response.output_text.delta\", \"delta\": 7}\n\n",
        );
        assert!(!c.complete);
        assert_eq!(c.dropped_frames, 1);
    }
}
