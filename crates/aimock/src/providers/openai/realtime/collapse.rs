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

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::record::collapse::{sse_json, str_of, Builder, Finish};

#[derive(Debug)]
enum Item {
    Text(String),
    Tool {
        name: String,
        id: Option<String>,
        args: String,
        done: Option<String>,
    },
    Other,
}

fn out_index(v: &Value) -> i64 {
    v.get("output_index").and_then(Value::as_i64).unwrap_or(0)
}

fn new_item(item: &Value) -> Item {
    match str_of(item.get("type")) {
        Some("message") => Item::Text(String::new()),
        Some("function_call") => Item::Tool {
            name: str_of(item.get("name")).unwrap_or("").to_owned(),
            id: str_of(item.get("call_id")).map(str::to_owned),
            args: String::new(),
            done: str_of(item.get("arguments"))
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
        },
        _ => Item::Other,
    }
}

/// The text of a message item's parts: `text`, or an audio part's `transcript`.
fn message_text(item: &Value) -> String {
    let mut out = String::new();
    for p in item
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = str_of(p.get("text")).or_else(|| str_of(p.get("transcript"))) {
            out.push_str(t);
        }
    }
    out
}

/// A finished item: what it carries whole wins over the deltas (text only when no delta came).
fn item_done(b: &mut Builder, items: &mut BTreeMap<i64, Item>, i: i64, item: &Value) {
    match str_of(item.get("type")) {
        Some("function_call") => {
            let fresh = new_item(item);
            let slot = items.entry(i).or_insert(Item::Other);
            match (slot, fresh) {
                (
                    Item::Tool { name, id, done, .. },
                    Item::Tool {
                        name: n,
                        id: d,
                        done: a,
                        ..
                    },
                ) => {
                    if !n.is_empty() {
                        *name = n;
                    }
                    if d.is_some() {
                        *id = d;
                    }
                    if a.is_some() {
                        *done = a;
                    }
                }
                (slot, fresh) => *slot = fresh,
            }
        }
        Some("message") => {
            let full = message_text(item);
            let slot = items.entry(i).or_insert(Item::Text(String::new()));
            if let Item::Text(t) = slot {
                if t.is_empty() {
                    b.append(t, &full, "content");
                }
            }
        }
        _ => {}
    }
}

/// The final `response` object (`response.done`'s): output items not seen before, usage, and
/// how it ended.
fn end(b: &mut Builder, items: &mut BTreeMap<i64, Item>, r: &Value) {
    for (i, item) in r
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let i = i as i64;
        if !items.contains_key(&i) {
            item_done(b, items, i, item);
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

/// Hand the items to the builder in `output_index` order.
fn flush(b: &mut Builder, items: BTreeMap<i64, Item>) {
    for (_, item) in items {
        match item {
            Item::Text(t) => b.text(&t),
            Item::Tool {
                name,
                id,
                args,
                done,
            } => {
                let slot = b.tool(&name, id.as_deref());
                b.tool_args(slot, done.as_deref().unwrap_or(&args));
            }
            Item::Other => {}
        }
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut items: BTreeMap<i64, Item> = BTreeMap::new();
    for (name, v) in sse_json(b, body) {
        let kind = str_of(v.get("type")).or(name.as_deref()).unwrap_or("");
        match kind {
            "response.output_item.added" => {
                if let Some(item) = v.get("item") {
                    items.entry(out_index(&v)).or_insert_with(|| new_item(item));
                }
            }
            "response.output_text.delta" | "response.output_audio_transcript.delta" => {
                let delta = str_of(v.get("delta")).unwrap_or("");
                let item = items
                    .entry(out_index(&v))
                    .or_insert(Item::Text(String::new()));
                if let Item::Text(t) = item {
                    b.append(t, delta, "content");
                }
            }
            "response.function_call_arguments.delta" => {
                let delta = str_of(v.get("delta")).unwrap_or("");
                let item = items.entry(out_index(&v)).or_insert_with(|| Item::Tool {
                    name: String::new(),
                    id: str_of(v.get("call_id")).map(str::to_owned),
                    args: String::new(),
                    done: None,
                });
                if let Item::Tool { args, .. } = item {
                    b.append(args, delta, "tool call arguments");
                }
            }
            "response.function_call_arguments.done" => {
                if let Some(Item::Tool { name, done, .. }) = items.get_mut(&out_index(&v)) {
                    if let Some(a) = str_of(v.get("arguments")) {
                        *done = Some(a.to_owned());
                    }
                    if let Some(n) = str_of(v.get("name")).filter(|n| !n.is_empty()) {
                        n.clone_into(name);
                    }
                }
            }
            "response.output_item.done" => {
                if let Some(item) = v.get("item") {
                    item_done(b, &mut items, out_index(&v), item);
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
    flush(b, items);
}

/// A whole `realtime.response` object (a `response.done`'s `response`).
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    if !v.get("output").is_some_and(Value::is_array) {
        return false;
    }
    let mut items = BTreeMap::new();
    end(b, &mut items, v);
    flush(b, items);
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
