//! Ollama `/api/chat` and `/api/generate`.
//!
//! Stream: one JSON object a line. Chat lines carry `message` {content, thinking?,
//! tool_calls? [{function: {name, arguments (an object)}}]}; generate lines carry `response` and
//! `thinking`. The last line has `done: true`, `done_reason` and the counts and durations, which
//! become the usage.

use serde_json::{Map, Value};

use crate::record::collapse::{ndjson, str_of, Builder, Finish};

/// The fields of the final line that make Ollama's usage.
const USAGE_FIELDS: [&str; 6] = [
    "prompt_eval_count",
    "eval_count",
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
];

fn line(b: &mut Builder, v: &Value) {
    if let Some(e) = v.get("error") {
        b.stream_error(e);
        return;
    }
    b.set_model(v.get("model"));
    if let Some(m) = v.get("message") {
        if let Some(t) = str_of(m.get("thinking")) {
            b.reasoning(t);
        }
        if let Some(t) = str_of(m.get("content")) {
            b.text(t);
        }
        crate::providers::openai::collapse::whole_tool_calls(b, m.get("tool_calls"));
    }
    if let Some(t) = str_of(v.get("thinking")) {
        b.reasoning(t);
    }
    if let Some(t) = str_of(v.get("response")) {
        b.text(t);
    }
    if v.get("done").and_then(Value::as_bool) == Some(true) {
        b.complete = true;
        b.finish = Some(match str_of(v.get("done_reason")) {
            None | Some("stop") => Finish::Natural,
            Some(other) => Finish::Named(other.to_owned()),
        });
        let usage: Map<String, Value> = USAGE_FIELDS
            .iter()
            .filter_map(|k| {
                v.get(*k)
                    .filter(|n| n.is_number())
                    .map(|n| ((*k).to_owned(), n.clone()))
            })
            .collect();
        if !usage.is_empty() {
            b.merge_usage(&Value::Object(usage));
        }
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    for v in ndjson(b, body) {
        line(b, &v);
    }
}

/// A non-streamed chat or generate reply.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    if v.get("message").is_none() && v.get("response").is_none() {
        return false;
    }
    line(b, v);
    b.complete = true;
    true
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "Ollama",
    stream,
    json,
    framing: crate::record::collapse::Framing::Ndjson,
    status_in_code: false,
    compat: Some(&crate::providers::openai::collapse::COLLAPSER),
};
