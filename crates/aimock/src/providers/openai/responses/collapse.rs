//! OpenAI Responses.
//!
//! Stream: typed events (`event: <type>\ndata: {"type": <type>, ...}\n\n`): output items open
//! with `response.output_item.added` (a `message`, `function_call` {call_id, name}, `reasoning`
//! or `web_search_call`) at an `output_index`; text arrives as `response.output_text.delta`,
//! arguments as `response.function_call_arguments.delta`, reasoning summaries as
//! `response.reasoning_summary_text.delta`; `response.output_item.done` carries each finished
//! item whole; `response.completed` (or `response.incomplete`) ends the stream with the usage.
//! Blocks are ordered by `output_index`.

use serde_json::Value;

use super::super::output_items::{out_index, Dialect, Outputs};
use crate::record::collapse::{sse_json, str_of, Builder, Finish};

struct State {
    items: Outputs,
    /// The (output_index, summary_index) reasoning last came from, to separate summary parts.
    reasoning_at: Option<(i64, i64)>,
}

impl State {
    fn new() -> State {
        State {
            items: Outputs::new(Dialect::Responses),
            reasoning_at: None,
        }
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut st = State::new();
    for (name, v) in sse_json(b, body) {
        if name.as_deref() == Some("[DONE]") {
            continue;
        }
        let kind = str_of(v.get("type")).or(name.as_deref()).unwrap_or("");
        match kind {
            "response.created" | "response.in_progress" => {
                if let Some(r) = v.get("response") {
                    b.set_model(r.get("model"));
                }
            }
            "response.output_item.added" => {
                if let Some(item) = v.get("item") {
                    st.items.added(out_index(&v), item);
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                let delta = str_of(v.get("delta")).unwrap_or("");
                st.items.text_delta(b, out_index(&v), delta);
            }
            "response.function_call_arguments.delta" => {
                let delta = str_of(v.get("delta")).unwrap_or("");
                st.items.args_delta(b, out_index(&v), delta, None);
            }
            "response.function_call_arguments.done" => {
                st.items
                    .args_done(out_index(&v), str_of(v.get("arguments")), None);
            }
            "response.output_item.done" => {
                if let Some(item) = v.get("item") {
                    st.items.done(b, out_index(&v), item);
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                let at = (
                    out_index(&v),
                    v.get("summary_index")
                        .or_else(|| v.get("content_index"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                );
                if st.reasoning_at.is_some_and(|p| p != at) && b.has_reasoning() {
                    b.reasoning("\n\n");
                }
                st.reasoning_at = Some(at);
                b.reasoning(str_of(v.get("delta")).unwrap_or(""));
            }
            "response.completed" | "response.incomplete" => {
                b.complete = true;
                if let Some(r) = v.get("response") {
                    end(b, r);
                }
            }
            "response.failed" => {
                let detail = v
                    .get("response")
                    .and_then(|r| r.get("error"))
                    .unwrap_or(&v)
                    .clone();
                b.stream_error(&detail);
            }
            "error" => b.stream_error(&v),
            _ => {}
        }
    }
    st.items.flush(b);
}

/// The final `response`: model, usage, and why it ended.
fn end(b: &mut Builder, r: &Value) {
    b.set_model(r.get("model"));
    if let Some(u) = r.get("usage").filter(|u| u.is_object()) {
        b.merge_usage(u);
    }
    let reason = r
        .get("incomplete_details")
        .and_then(|d| str_of(d.get("reason")));
    b.finish = Some(match (str_of(r.get("status")), reason) {
        (Some("incomplete"), Some("max_output_tokens")) => Finish::Named("length".into()),
        (Some("incomplete"), Some("content_filter")) => Finish::Named("content_filter".into()),
        (Some("incomplete"), Some(other)) => Finish::Named(other.to_owned()),
        _ => Finish::Natural,
    });
}

/// A non-streamed response object.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    let Some(output) = v.get("output").and_then(Value::as_array) else {
        return false;
    };
    let mut items = Outputs::new(Dialect::Responses);
    for (i, item) in output.iter().enumerate() {
        let i = i as i64;
        match str_of(item.get("type")) {
            Some("reasoning") => {
                if let Some(parts) = item.get("summary").and_then(Value::as_array) {
                    for p in parts {
                        if let Some(t) = str_of(p.get("text")) {
                            if b.has_reasoning() {
                                b.reasoning("\n\n");
                            }
                            b.reasoning(t);
                        }
                    }
                }
            }
            _ => items.done(b, i, item),
        }
    }
    end(b, v);
    items.flush(b);
    true
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "OpenAI Responses",
    stream,
    json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: Some(&crate::providers::openai::collapse::COLLAPSER),
};
