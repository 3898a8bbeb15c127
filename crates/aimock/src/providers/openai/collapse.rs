//! OpenAI Chat Completions (and Azure, OpenRouter, Mistral and every compatible API).
//!
//! Stream: `data: {chunk}\n\n` ... `data: [DONE]\n\n`. A chunk's `choices[0].delta` carries
//! `content`, `reasoning_content` or `reasoning`, and `tool_calls` (by `index`, the id and name in
//! the first delta and argument fragments after; some compatible APIs send index-less deltas keyed
//! by id); `finish_reason` comes on the last content chunk and `usage` on its own chunk.

use std::collections::HashMap;

use serde_json::Value;

use crate::record::collapse::{sse_json, str_of, Builder, Finish};

#[derive(Default)]
struct Calls {
    by_index: HashMap<i64, usize>,
    last: Option<usize>,
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut calls = Calls::default();
    for (name, v) in sse_json(b, body) {
        if name.as_deref() == Some("[DONE]") {
            b.complete = true;
            continue;
        }
        if let Some(e) = v.get("error") {
            b.stream_error(e);
            continue;
        }
        b.set_model(v.get("model"));
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            b.merge_usage(u);
        }
        let Some(choice) = first_choice(&v) else {
            continue;
        };
        if let Some(d) = choice.get("delta") {
            message(b, d, &mut calls);
        }
        if let Some(f) = str_of(choice.get("finish_reason")) {
            b.finish = Some(Finish::Named(f.to_owned()));
        }
    }
}

/// Choice 0 (the recorder keeps the first choice only).
fn first_choice(v: &Value) -> Option<&Value> {
    let choices = v.get("choices")?.as_array()?;
    choices
        .iter()
        .find(|c| c.get("index").and_then(Value::as_i64) == Some(0))
        .or_else(|| choices.first())
}

/// A delta or a whole message: reasoning, text and tool calls.
fn message(b: &mut Builder, d: &Value, calls: &mut Calls) {
    let reasoning = str_of(d.get("reasoning_content")).or_else(|| str_of(d.get("reasoning")));
    if let Some(r) = reasoning {
        b.reasoning(r);
    }
    if let Some(t) = str_of(d.get("content")) {
        b.text(t);
    }
    if let Some(list) = d.get("tool_calls").and_then(Value::as_array) {
        for tc in list {
            tool_delta(b, tc, calls);
        }
    }
    // The legacy `function_call` delta.
    if let Some(fc) = d.get("function_call").filter(|f| f.is_object()) {
        let name = str_of(fc.get("name")).unwrap_or("");
        let slot = match calls.by_index.get(&-1) {
            Some(&s) => s,
            None => {
                let s = b.tool(name, None);
                calls.by_index.insert(-1, s);
                s
            }
        };
        if let Some(a) = str_of(fc.get("arguments")) {
            b.tool_args(slot, a);
        }
    }
}

fn tool_delta(b: &mut Builder, tc: &Value, calls: &mut Calls) {
    let index = tc.get("index").and_then(Value::as_i64);
    let id = str_of(tc.get("id")).filter(|i| !i.is_empty());
    let f = tc.get("function");
    let name = f.and_then(|f| str_of(f.get("name"))).unwrap_or("");
    let by_id = |b: &Builder, id: &str| b.tools.iter().position(|t| t.id.as_deref() == Some(id));
    let existing = match (index, id) {
        (Some(i), id) => match calls.by_index.get(&i) {
            // The same index with another id: a compatible API that numbers every call 0.
            Some(&s)
                if id.is_some() && b.tools[s].id.is_some() && b.tools[s].id.as_deref() != id =>
            {
                None
            }
            Some(&s) => Some(s),
            None => id.and_then(|id| by_id(b, id)),
        },
        (None, Some(id)) => by_id(b, id),
        (None, None) => calls.last,
    };
    let slot = match existing {
        Some(s) => s,
        None => b.tool(name, id),
    };
    if let Some(i) = index {
        calls.by_index.insert(i, slot);
    }
    calls.last = Some(slot);
    if let Some(t) = b.tools.get_mut(slot) {
        if t.name.is_empty() && !name.is_empty() {
            t.name = name.to_owned();
        }
        if t.id.is_none() {
            t.id = id.map(str::to_owned);
        }
    }
    match f.and_then(|f| f.get("arguments")) {
        Some(Value::String(a)) => b.tool_args(slot, a),
        Some(v @ Value::Object(_)) => b.tool_whole_args(slot, v),
        _ => {}
    }
}

/// Whole OpenAI-style tool calls, `[{"id", "function": {"name", "arguments"}}]` (Cohere's and
/// Ollama's messages): each a tool with all its arguments.
pub(crate) fn whole_tool_calls(b: &mut Builder, calls: Option<&Value>) {
    for tc in calls.and_then(Value::as_array).into_iter().flatten() {
        let f = tc.get("function");
        let slot = b.tool(
            f.and_then(|f| str_of(f.get("name"))).unwrap_or(""),
            str_of(tc.get("id")),
        );
        if let Some(a) = f.and_then(|f| f.get("arguments")) {
            b.tool_whole_args(slot, a);
        }
    }
}

/// A non-streamed chat completion.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    let Some(choice) = first_choice(v) else {
        return false;
    };
    let Some(m) = choice.get("message") else {
        return false;
    };
    b.set_model(v.get("model"));
    message(b, m, &mut Calls::default());
    if let Some(f) = str_of(choice.get("finish_reason")) {
        b.finish = Some(Finish::Named(f.to_owned()));
    }
    if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
        b.merge_usage(u);
    }
    true
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "OpenAI chat",
    stream,
    json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: false,
    compat: None,
};
