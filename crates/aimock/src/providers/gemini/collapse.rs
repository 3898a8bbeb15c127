//! Gemini `generateContent` / `streamGenerateContent` (Google AI and Vertex).
//!
//! Each chunk (an SSE `data:` with `alt=sse`, else an element of a streamed JSON array) is a
//! `GenerateContentResponse`: `candidates[0].content.parts` with `{text}`, `{text, thought: true}`
//! (reasoning), `{functionCall: {name, args, id?}}` and `{inlineData: {mimeType: "image/...", data}}`
//! (image output, recorded as the fixture's `image` / `images`); the last chunk carries the candidate's
//! `finishReason` and the `usageMetadata`.

use serde_json::Value;

use crate::record::collapse::{json_array, sse_json, str_of, Builder, Finish};

/// One `GenerateContentResponse`.
fn chunk(b: &mut Builder, v: &Value) {
    if let Some(e) = v.get("error") {
        b.stream_error(e);
        return;
    }
    b.set_model(v.get("modelVersion"));
    if let Some(u) = v.get("usageMetadata").filter(|u| u.is_object()) {
        // Each chunk's usage is the running total: the last one wins.
        b.usage = None;
        b.merge_usage(u);
    }
    if let Some(reason) = v
        .get("promptFeedback")
        .and_then(|p| str_of(p.get("blockReason")))
    {
        b.warn(format!("the prompt was blocked: {reason}"));
        b.finish = Some(Finish::Named("content_filter".into()));
        b.complete = true;
    }
    let Some(cand) = v
        .get("candidates")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
    else {
        return;
    };
    if let Some(parts) = cand
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
    {
        for p in parts {
            part(b, p);
        }
    }
    if let Some(r) = str_of(cand.get("finishReason")) {
        b.finish = Some(finish_reason(r));
        b.complete = true;
    }
}

fn part(b: &mut Builder, p: &Value) {
    if let Some(fc) = p.get("functionCall") {
        let slot = b.tool(str_of(fc.get("name")).unwrap_or(""), str_of(fc.get("id")));
        match fc.get("args") {
            Some(a) => b.tool_whole_args(slot, a),
            None => b.tool_args(slot, "{}"),
        }
        return;
    }
    // A picture (image output); other inline data (audio) is not part of a message fixture.
    if let Some(d) = p.get("inlineData") {
        let image = str_of(d.get("mimeType")).is_some_and(|m| m.starts_with("image/"));
        match str_of(d.get("data")) {
            Some(data) if image => b.image(data),
            _ => b.warn("inline data that is not a picture was not recorded"),
        }
        return;
    }
    let Some(t) = str_of(p.get("text")) else {
        return;
    };
    if p.get("thought").and_then(Value::as_bool) == Some(true) {
        b.reasoning(t);
    } else {
        b.text(t);
    }
}

/// Gemini's finish reason in OpenAI's names where one fits (`STOP` is also how a function-call
/// turn ends).
fn finish_reason(r: &str) -> Finish {
    match r {
        "STOP" => Finish::Natural,
        "MAX_TOKENS" => Finish::Named("length".into()),
        "SAFETY" => Finish::Named("content_filter".into()),
        other => Finish::Named(other.to_owned()),
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let first = body.iter().find(|c| !c.is_ascii_whitespace());
    if first == Some(&b'[') {
        // A cut-short array still yields its complete elements; the finish reason decides
        // completeness.
        let (items, _closed) = json_array(b, body);
        for v in &items {
            chunk(b, v);
        }
        return;
    }
    for (name, v) in sse_json(b, body) {
        if name.as_deref() == Some("[DONE]") {
            continue;
        }
        chunk(b, &v);
    }
}

/// A non-streamed reply, or a whole streamed JSON array read as one body.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    match v {
        Value::Array(items) => {
            b.complete = false;
            for item in items {
                chunk(b, item);
            }
            !items.is_empty()
        }
        Value::Object(o) if o.contains_key("candidates") || o.contains_key("promptFeedback") => {
            chunk(b, v);
            b.complete = true;
            true
        }
        _ => false,
    }
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "Gemini",
    stream,
    json,
    framing: crate::record::collapse::Framing::Sse,
    status_in_code: true,
    compat: Some(&crate::providers::openai::collapse::COLLAPSER),
};
