//! Cohere v2 chat.
//!
//! Stream: `event: <type>\ndata: {"type": <type>, ...}\n\n` with `message-start`,
//! `content-start` (`text` or `thinking`), `content-delta`, `content-end`, `tool-plan-delta`,
//! `tool-call-start` {id, function {name, arguments}}, `tool-call-delta` (argument fragments),
//! `tool-call-end`, `citation-start/end`, and `message-end` (terminal) with `finish_reason` and
//! `usage` {billed_units, tokens}. The tool plan is the reply's text (our renderer sends a tool
//! turn's text as its plan).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::record::collapse::{ndjson, sse_json, str_of, Builder, Finish};

#[derive(Default)]
struct Events {
    /// Content index -> whether it is a thinking part.
    thinking: HashMap<i64, bool>,
    /// Tool call index -> tool slot.
    tools: HashMap<i64, usize>,
}

impl Events {
    fn event(&mut self, b: &mut Builder, v: &Value) {
        let index = v.get("index").and_then(Value::as_i64).unwrap_or(0);
        let msg = v.get("delta").and_then(|d| d.get("message"));
        match str_of(v.get("type")).unwrap_or("") {
            "content-start" => {
                let c = msg.and_then(|m| m.get("content"));
                let thinking = c.and_then(|c| str_of(c.get("type"))) == Some("thinking");
                self.thinking.insert(index, thinking);
                if let Some(c) = c {
                    content(b, c, thinking);
                }
            }
            "content-delta" => {
                if let Some(c) = msg.and_then(|m| m.get("content")) {
                    let thinking = self.thinking.get(&index).copied().unwrap_or(false);
                    content(b, c, thinking);
                }
            }
            "tool-plan-delta" => {
                if let Some(p) = msg.and_then(|m| str_of(m.get("tool_plan"))) {
                    b.text(p);
                }
            }
            "tool-call-start" => {
                let tc = msg.and_then(|m| m.get("tool_calls"));
                let f = tc.and_then(|t| t.get("function"));
                let slot = b.tool(
                    f.and_then(|f| str_of(f.get("name"))).unwrap_or(""),
                    tc.and_then(|t| str_of(t.get("id"))),
                );
                self.tools.insert(index, slot);
                if let Some(a) = f.and_then(|f| str_of(f.get("arguments"))) {
                    b.tool_args(slot, a);
                }
            }
            "tool-call-delta" => {
                let frag = msg
                    .and_then(|m| m.get("tool_calls"))
                    .and_then(|t| t.get("function"))
                    .and_then(|f| str_of(f.get("arguments")))
                    .unwrap_or("");
                let slot = match self.tools.get(&index) {
                    Some(&s) => s,
                    None => {
                        let s = b.tool("", None);
                        self.tools.insert(index, s);
                        s
                    }
                };
                b.tool_args(slot, frag);
            }
            "message-end" => {
                b.complete = true;
                if let Some(d) = v.get("delta") {
                    if let Some(r) = str_of(d.get("finish_reason")) {
                        b.finish = Some(finish_reason(r));
                    }
                    if let Some(u) = d.get("usage") {
                        b.merge_usage(&usage(u));
                    }
                    if let Some(e) = d.get("error").filter(|e| !e.is_null()) {
                        b.stream_error(e);
                    }
                }
            }
            _ => {}
        }
    }
}

fn content(b: &mut Builder, c: &Value, thinking: bool) {
    if let Some(t) = str_of(c.get("thinking")) {
        b.reasoning(t);
    } else if let Some(t) = str_of(c.get("text")) {
        if thinking {
            b.reasoning(t);
        } else {
            b.text(t);
        }
    }
}

/// Cohere's usage, with `input_tokens`/`output_tokens` lifted to the top (from `billed_units`,
/// else `tokens`) so replay reports them; the nested objects are kept.
fn usage(u: &Value) -> Value {
    let mut out: Map<String, Value> = u.as_object().cloned().unwrap_or_default();
    for key in ["input_tokens", "output_tokens"] {
        if out.contains_key(key) {
            continue;
        }
        let n = ["billed_units", "tokens"]
            .iter()
            .find_map(|o| u.get(*o).and_then(|o| o.get(key)).filter(|n| n.is_number()));
        if let Some(n) = n {
            out.insert(key.to_owned(), n.clone());
        }
    }
    Value::Object(out)
}

/// Cohere's finish reason in OpenAI's names where one fits.
fn finish_reason(r: &str) -> Finish {
    match r {
        "COMPLETE" => Finish::Named("stop".into()),
        "TOOL_CALL" => Finish::Named("tool_calls".into()),
        "MAX_TOKENS" => Finish::Named("length".into()),
        "STOP_SEQUENCE" => Finish::Named("stop_sequence".into()),
        "ERROR" => Finish::Named("error".into()),
        "TIMEOUT" => Finish::Named("timeout".into()),
        other => Finish::Named(other.to_owned()),
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut ev = Events::default();
    // Cohere's v1 and some proxies send one JSON object a line instead of SSE.
    let first = body.iter().find(|c| !c.is_ascii_whitespace());
    let events: Vec<Value> = if first == Some(&b'{') {
        ndjson(b, body)
    } else {
        sse_json(b, body)
            .into_iter()
            .filter(|(n, _)| n.as_deref() != Some("[DONE]"))
            .map(|(_, v)| v)
            .collect()
    };
    for v in &events {
        ev.event(b, v);
    }
}

/// A non-streamed v2 chat reply: `{message: {content[], tool_plan?, tool_calls?}, finish_reason,
/// usage}`.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    let Some(m) = v.get("message").filter(|m| m.is_object()) else {
        return false;
    };
    if let Some(parts) = m.get("content").and_then(Value::as_array) {
        for p in parts {
            let thinking = str_of(p.get("type")) == Some("thinking");
            content(b, p, thinking);
        }
    }
    if let Some(p) = str_of(m.get("tool_plan")) {
        b.text(p);
    }
    crate::providers::openai::collapse::whole_tool_calls(b, m.get("tool_calls"));
    if let Some(r) = str_of(v.get("finish_reason")) {
        b.finish = Some(finish_reason(r));
    }
    if let Some(u) = v.get("usage") {
        b.merge_usage(&usage(u));
    }
    true
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "Cohere chat",
    stream,
    json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: Some(&crate::providers::openai::collapse::COLLAPSER),
};
