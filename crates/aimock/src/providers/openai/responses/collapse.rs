//! OpenAI Responses.
//!
//! Stream: typed events (`event: <type>\ndata: {"type": <type>, ...}\n\n`): output items open
//! with `response.output_item.added` (a `message`, `function_call` {call_id, name}, `reasoning`
//! or `web_search_call`) at an `output_index`; text arrives as `response.output_text.delta`,
//! arguments as `response.function_call_arguments.delta`, reasoning summaries as
//! `response.reasoning_summary_text.delta`; `response.output_item.done` carries each finished
//! item whole; `response.completed` (or `response.incomplete`) ends the stream with the usage.
//! Blocks are ordered by `output_index`.

use std::collections::BTreeMap;

use serde_json::Value;

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

#[derive(Default)]
struct State {
    items: BTreeMap<i64, Item>,
    /// The (output_index, summary_index) reasoning last came from, to separate summary parts.
    reasoning_at: Option<(i64, i64)>,
}

fn out_index(v: &Value) -> i64 {
    v.get("output_index").and_then(Value::as_i64).unwrap_or(0)
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let mut st = State::default();
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
                    let i = out_index(&v);
                    st.items.entry(i).or_insert_with(|| new_item(item));
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                let i = out_index(&v);
                let delta = str_of(v.get("delta")).unwrap_or("");
                let item = st.items.entry(i).or_insert(Item::Text(String::new()));
                if let Item::Text(t) = item {
                    b.append(t, delta, "content");
                }
            }
            "response.function_call_arguments.delta" => {
                let i = out_index(&v);
                let delta = str_of(v.get("delta")).unwrap_or("");
                let item = st.items.entry(i).or_insert_with(|| Item::Tool {
                    name: String::new(),
                    id: None,
                    args: String::new(),
                    done: None,
                });
                if let Item::Tool { args, .. } = item {
                    b.append(args, delta, "tool call arguments");
                }
            }
            "response.function_call_arguments.done" => {
                if let (Some(Item::Tool { done, .. }), Some(a)) =
                    (st.items.get_mut(&out_index(&v)), str_of(v.get("arguments")))
                {
                    *done = Some(a.to_owned());
                }
            }
            "response.output_item.done" => {
                if let Some(item) = v.get("item") {
                    item_done(b, &mut st, out_index(&v), item);
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
    flush(b, st);
}

fn new_item(item: &Value) -> Item {
    match str_of(item.get("type")) {
        Some("message") => Item::Text(String::new()),
        Some("function_call") => Item::Tool {
            name: str_of(item.get("name")).unwrap_or("").to_owned(),
            id: str_of(item.get("call_id"))
                .or_else(|| str_of(item.get("id")))
                .map(str::to_owned),
            args: String::new(),
            done: str_of(item.get("arguments"))
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
        },
        _ => Item::Other,
    }
}

/// A finished item: its final text, name, call id and arguments win over the deltas.
fn item_done(b: &mut Builder, st: &mut State, i: i64, item: &Value) {
    match str_of(item.get("type")) {
        Some("function_call") => {
            let fresh = new_item(item);
            let slot = st.items.entry(i).or_insert(Item::Other);
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
            let slot = st.items.entry(i).or_insert(Item::Text(String::new()));
            if let Item::Text(t) = slot {
                if t.is_empty() {
                    b.append(t, &full, "content");
                }
            }
        }
        Some("web_search_call") => {
            if let Some(q) = item
                .get("action")
                .and_then(|a| str_of(a.get("query")))
                .filter(|q| !q.is_empty())
            {
                b.web_searches.push(q.to_owned());
            }
        }
        _ => {}
    }
}

/// The text of a `message` item's `output_text` (and `refusal`) parts.
fn message_text(item: &Value) -> String {
    let mut out = String::new();
    if let Some(parts) = item.get("content").and_then(Value::as_array) {
        for p in parts {
            if let Some(t) = str_of(p.get("text")).or_else(|| str_of(p.get("refusal"))) {
                out.push_str(t);
            }
        }
    }
    out
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

/// Hand the items to the builder in `output_index` order.
fn flush(b: &mut Builder, st: State) {
    for (_, item) in st.items {
        match item {
            Item::Text(t) => b.text(&t),
            Item::Tool {
                name,
                id,
                args,
                done,
            } => {
                let slot = b.tool(&name, id.as_deref());
                match done {
                    Some(full) => b.tool_args(slot, &full),
                    None => b.tool_args(slot, &args),
                }
            }
            Item::Other => {}
        }
    }
}

/// A non-streamed response object.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    let Some(output) = v.get("output").and_then(Value::as_array) else {
        return false;
    };
    let mut st = State::default();
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
            _ => item_done(b, &mut st, i, item),
        }
    }
    end(b, v);
    flush(b, st);
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
