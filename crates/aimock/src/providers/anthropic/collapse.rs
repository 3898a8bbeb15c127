//! Anthropic Messages (also Vertex `rawPredict` and the events inside Bedrock's
//! InvokeModelWithResponseStream).
//!
//! Stream: `event: <type>\ndata: {"type": <type>, ...}\n\n` with `message_start` (model, usage),
//! `content_block_start` (`text`, `thinking`, `redacted_thinking` {data}, `tool_use` {id, name}),
//! `content_block_delta` (`text_delta`, `thinking_delta`, `signature_delta`, `input_json_delta`),
//! `content_block_stop`, `message_delta` (stop_reason, usage), `message_stop` (terminal), `ping`
//! and `error`.

use std::collections::HashMap;

use serde_json::Value;

use crate::record::collapse::{sse_json, str_of, Builder, Finish};

/// Anthropic events, one at a time.
#[derive(Debug, Default)]
pub(crate) struct Events {
    /// Content block index -> tool slot.
    tools: HashMap<i64, usize>,
}

impl Events {
    pub(crate) fn event(&mut self, b: &mut Builder, v: &Value) {
        let index = v.get("index").and_then(Value::as_i64).unwrap_or(0);
        match str_of(v.get("type")).unwrap_or("") {
            "message_start" => {
                if let Some(m) = v.get("message") {
                    b.set_model(m.get("model"));
                    if let Some(u) = m.get("usage") {
                        b.merge_usage(u);
                    }
                }
            }
            "content_block_start" => {
                if let Some(cb) = v.get("content_block") {
                    if let Some(slot) = block(b, cb) {
                        self.tools.insert(index, slot);
                    }
                }
            }
            "content_block_delta" => {
                let Some(d) = v.get("delta") else { return };
                match str_of(d.get("type")).unwrap_or("") {
                    "text_delta" => b.text(str_of(d.get("text")).unwrap_or("")),
                    "thinking_delta" => b.reasoning(str_of(d.get("thinking")).unwrap_or("")),
                    "signature_delta" => {
                        if let Some(s) = str_of(d.get("signature")) {
                            b.signature = Some(s.to_owned());
                        }
                    }
                    "input_json_delta" => {
                        let frag = str_of(d.get("partial_json")).unwrap_or("");
                        let slot = match self.tools.get(&index) {
                            Some(&s) => s,
                            None => {
                                let s = b.tool("", None);
                                self.tools.insert(index, s);
                                s
                            }
                        };
                        if slot != usize::MAX {
                            b.tool_args(slot, frag);
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v.get("delta").and_then(|d| str_of(d.get("stop_reason"))) {
                    b.finish = Some(stop_reason(r));
                }
                if let Some(u) = v.get("usage") {
                    b.merge_usage(u);
                }
            }
            "message_stop" => b.complete = true,
            "error" => b.stream_error(v.get("error").unwrap_or(v)),
            _ => {}
        }
    }
}

/// A content block, streamed (`content_block_start`) or whole: text, thinking, redacted thinking
/// or a tool use. The tool slot when it is a tool use (`usize::MAX` for a server tool use, whose
/// input fragments are ignored).
fn block(b: &mut Builder, cb: &Value) -> Option<usize> {
    match str_of(cb.get("type")).unwrap_or("") {
        "text" => b.text(str_of(cb.get("text")).unwrap_or("")),
        "thinking" => {
            b.reasoning(str_of(cb.get("thinking")).unwrap_or(""));
            if let Some(s) = str_of(cb.get("signature")).filter(|s| !s.is_empty()) {
                b.signature = Some(s.to_owned());
            }
        }
        "redacted_thinking" => {
            if let Some(d) = str_of(cb.get("data")).filter(|d| !d.is_empty()) {
                b.redacted.push(d.to_owned());
            }
        }
        "server_tool_use" => {
            // Anthropic runs these itself (web search, code execution): the client never sees a
            // call to answer, and a fixture cannot replay one.
            let name = str_of(cb.get("name")).unwrap_or("?");
            b.warn(format!("a server tool use ({name}) was not recorded"));
            return Some(usize::MAX);
        }
        "tool_use" => {
            let slot = b.tool(str_of(cb.get("name")).unwrap_or(""), str_of(cb.get("id")));
            // Streamed blocks start with `input: {}` and send the input as fragments; whole
            // blocks carry it here.
            if let Some(input) = cb
                .get("input")
                .filter(|i| i.as_object().is_none_or(|o| !o.is_empty()))
            {
                b.tool_whole_args(slot, input);
            }
            return Some(slot);
        }
        _ => {}
    }
    None
}

/// Anthropic's stop reason in OpenAI's names where one fits.
pub(crate) fn stop_reason(r: &str) -> Finish {
    match r {
        "end_turn" => Finish::Named("stop".into()),
        "tool_use" => Finish::Named("tool_calls".into()),
        "max_tokens" => Finish::Named("length".into()),
        "refusal" => Finish::Named("content_filter".into()),
        other => Finish::Named(other.to_owned()),
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut ev = Events::default();
    for (name, v) in sse_json(b, body) {
        if name.as_deref() == Some("[DONE]") {
            continue;
        }
        ev.event(b, &v);
    }
}

/// A non-streamed Messages reply.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    let Some(content) = v.get("content").and_then(Value::as_array) else {
        return false;
    };
    b.set_model(v.get("model"));
    for cb in content {
        block(b, cb);
    }
    if let Some(r) = str_of(v.get("stop_reason")) {
        b.finish = Some(stop_reason(r));
    }
    if let Some(u) = v.get("usage") {
        b.merge_usage(u);
    }
    true
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "Anthropic Messages",
    stream,
    json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: Some(&crate::providers::openai::collapse::COLLAPSER),
};
