//! Cohere v2: `/v2/chat` (JSON and typed SSE) and `/v2/embed`.
//!
//! A reply is `{id, finish_reason, message: {role, content[], tool_plan?, tool_calls?}, usage}`;
//! streamed as `event: <type>` / `data: {...}` pairs from `message-start` to `message-end`.
//! Reasoning is a `thinking` content item before the text. Text of a reply that calls tools is
//! the `tool_plan`, as Cohere writes it. Errors are `{"id", "message"}` with the status.

use axum::body::Bytes;
use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::{EmbeddingReply, MessageReply};
use crate::http::ids::random_id;
use crate::http::push_json_str;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Call, Route, Vendor};
use crate::providers::endpoint::{self, EmbeddingApi, MessageApi, Render, Streamed};
use crate::providers::{emit_reasoning, estimate_tokens, fallback_embedding};
use crate::record::Credential;
use crate::stream::{chunk_text, sse_event};

pub(crate) mod collapse;
mod rerank;

/// Dimensions of the fallback vector when the request names none.
pub const DEFAULT_DIMENSIONS: usize = 1024;
/// Cohere's limit on texts per embed request.
const MAX_TEXTS: usize = 96;

/// Cohere: a bearer token.
pub(crate) static VENDOR: Vendor = Vendor {
    key: "cohere",
    credential: Credential::bearer(),
    envelope,
    decorate: None,
};

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    let route = |endpoint: crate::pipeline::Endpoint, label: &'static str| {
        Route::new(endpoint, &VENDOR, PathLabel::one(label))
    };
    Some(match path {
        "/v2/chat" => route(endpoint::message::<Chat>, "/v2/chat").recorded(&collapse::COLLAPSER),
        "/v2/embed" => {
            route(endpoint::embedding::<Embed>, "/v2/embed").recorded(&collapse::COLLAPSER)
        }
        "/v2/rerank" => route(endpoint::service::<rerank::Rerank<2>>, "/v2/rerank"),
        "/v1/rerank" => route(endpoint::service::<rerank::Rerank<1>>, "/v1/rerank"),
        _ => return None,
    })
}

/// Cohere's error envelope: `{"id": ..., "message": ...}` with the status (the SDK maps the
/// status to its typed errors: 400 BadRequestError, 429 TooManyRequestsError, ...).
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut r = crate::http::json_response(
        e.status,
        &json!({ "id": crate::http::ids::uuid(), "message": e.message }),
    );
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        crate::http::add_rate_limit_headers(r.headers_mut(), e.retry_after.unwrap_or(1.0));
    }
    r
}

// ---------------------------------------------------------------------------------------- chat request

#[derive(Deserialize)]
struct ChatBody {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Msg>>,
    #[serde(default)]
    tools: Option<Vec<Tool>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    response_format: Option<ResponseFormat>,
}

#[derive(Deserialize)]
struct ResponseFormat {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(default)]
    function: Option<ToolFunction>,
}

#[derive(Deserialize)]
struct ToolFunction {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Msg {
    role: String,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    tool_calls: Option<Vec<MsgToolCall>>,
    #[serde(default)]
    tool_call_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    /// A tool result's document: `{"data": ...}`.
    #[serde(default)]
    document: Option<Value>,
}

#[derive(Deserialize)]
struct MsgToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<MsgFunction>,
}

#[derive(Deserialize)]
struct MsgFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Value,
}

/// Text of a content field: a string, or its text (and document) parts joined.
fn content_text(c: Option<Content>) -> Option<String> {
    match c? {
        Content::Text(t) => Some(t),
        Content::Parts(parts) => {
            let mut out: Option<String> = None;
            for p in parts {
                let piece = match p.kind.as_str() {
                    "text" => p.text,
                    "document" => p.document.map(|d| match d.get("data") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => d.to_string(),
                    }),
                    _ => None,
                };
                if let Some(t) = piece {
                    out.get_or_insert_with(String::new).push_str(&t);
                }
            }
            out
        }
    }
}

fn parse_chat(body: &[u8]) -> Result<ChatRequest, ApiError> {
    let v: ChatBody = crate::http::parse_json_body(body)?;
    let Some(model) = v.model.filter(|m| !m.is_empty()) else {
        return Err(ApiError::invalid(
            "invalid request: model must be specified",
        ));
    };
    let Some(msgs) = v.messages else {
        return Err(ApiError::invalid(
            "invalid request: messages must be specified",
        ));
    };
    let mut messages = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "system" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => {
                return Err(ApiError::invalid(format!(
                    "invalid request: messages[{i}].role '{other}' must be one of system, user, assistant, tool"
                )))
            }
        };
        let tool_calls = m
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let f = c.function.unwrap_or(MsgFunction {
                    name: None,
                    arguments: Value::Null,
                });
                ToolCallRef {
                    id: c.id.unwrap_or_default(),
                    name: f.name.unwrap_or_default(),
                    arguments: match f.arguments {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    },
                }
            })
            .collect();
        messages.push(Message {
            role,
            text: content_text(m.content),
            tool_calls,
            tool_call_id: m.tool_call_id,
        });
    }
    Ok(ChatRequest {
        model,
        messages,
        tools: v
            .tools
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| t.function.and_then(|f| f.name))
            .collect(),
        response_format: v.response_format.and_then(|r| r.kind),
        endpoint: Endpoint::Chat,
        embedding_input: None,
        stream: v.stream.unwrap_or(false),
    })
}

// ---------------------------------------------------------------------------------------- chat reply

/// `POST /v2/chat`.
#[derive(Debug)]
struct Chat;

impl MessageApi for Chat {
    type Opts = ();
    const SURFACE: &'static str = "Cohere's chat endpoint";

    fn parse(call: &Call) -> Result<(ChatRequest, ()), ApiError> {
        parse_chat(&call.body).map(|r| (r, ()))
    }

    fn json(r: &Render<'_, ()>) -> String {
        Rendered::new(r.req, r.reply, r.strict).whole()
    }

    fn stream(r: &Render<'_, ()>) -> Streamed {
        Streamed::sse(
            Rendered::new(r.req, r.reply, r.strict).events(r.chunk_size),
            Vec::new(),
        )
    }
}

struct Rendered<'a> {
    id: String,
    reply: &'a MessageReply,
    reasoning: Option<&'a str>,
    /// Text of the reply: content, or the tool plan when the reply calls tools.
    text: Option<String>,
    call_ids: Vec<String>,
    input_tokens: u64,
    output_tokens: u64,
}

impl<'a> Rendered<'a> {
    fn new(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        let o = &reply.overrides;
        let reasoning = reply
            .reasoning
            .as_deref()
            .filter(|_| emit_reasoning(&req.model, strict));
        let call_ids = reply
            .tool_calls()
            .map(|c| {
                c.id.clone().unwrap_or_else(|| {
                    format!("{}_{}", c.name, random_id("", 12).to_ascii_lowercase())
                })
            })
            .collect();
        let prompt_chars = req.text_chars();
        let completion_chars = reply.text_chars();
        Rendered {
            id: o.id.clone().unwrap_or_else(crate::http::ids::uuid),
            reply,
            reasoning,
            text: reply.content(),
            call_ids,
            input_tokens: o
                .usage_number(&["input_tokens", "prompt_tokens"])
                .unwrap_or_else(|| estimate_tokens(prompt_chars)),
            output_tokens: o
                .usage_number(&["output_tokens", "completion_tokens"])
                .unwrap_or_else(|| estimate_tokens(completion_chars)),
        }
    }

    fn finish_reason(&self) -> &'static str {
        match self.reply.overrides.finish_reason.as_deref() {
            Some("length" | "max_tokens" | "MAX_TOKENS") => "MAX_TOKENS",
            Some("stop_sequence" | "STOP_SEQUENCE") => "STOP_SEQUENCE",
            Some("error" | "ERROR" | "content_filter") => "ERROR",
            Some("timeout" | "TIMEOUT") => "TIMEOUT",
            Some("tool_calls" | "TOOL_CALL") => "TOOL_CALL",
            Some(_) => "COMPLETE",
            None if self.reply.has_tool_calls() => "TOOL_CALL",
            None => "COMPLETE",
        }
    }

    fn usage(&self) -> String {
        let (i, o) = (self.input_tokens, self.output_tokens);
        format!(
            "{{\"billed_units\":{{\"input_tokens\":{i},\"output_tokens\":{o}}},\"tokens\":{{\"input_tokens\":{i},\"output_tokens\":{o}}}}}"
        )
    }

    fn tool_plan(&self) -> Option<&str> {
        self.text.as_deref().filter(|_| self.reply.has_tool_calls())
    }

    fn content_text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|_| !self.reply.has_tool_calls())
    }

    fn push_call(&self, b: &mut String, i: usize, args: &str) {
        let c = self.reply.tool_calls().nth(i);
        b.push_str("{\"id\":");
        push_json_str(b, &self.call_ids[i]);
        b.push_str(",\"type\":\"function\",\"function\":{\"name\":");
        push_json_str(b, c.map_or("", |c| c.name.as_str()));
        b.push_str(",\"arguments\":");
        push_json_str(b, args);
        b.push_str("}}");
    }

    /// The whole `V2ChatResponse`.
    fn whole(&self) -> String {
        let mut b = String::with_capacity(512);
        b.push_str("{\"id\":");
        push_json_str(&mut b, &self.id);
        b.push_str(",\"finish_reason\":\"");
        b.push_str(self.finish_reason());
        b.push_str("\",\"message\":{\"role\":\"assistant\"");
        let mut items: Vec<String> = Vec::new();
        if let Some(r) = self.reasoning {
            let mut s = String::from("{\"type\":\"thinking\",\"thinking\":");
            push_json_str(&mut s, r);
            s.push('}');
            items.push(s);
        }
        if let Some(t) = self.content_text() {
            let mut s = String::from("{\"type\":\"text\",\"text\":");
            push_json_str(&mut s, t);
            s.push('}');
            items.push(s);
        }
        if !items.is_empty() {
            b.push_str(",\"content\":[");
            b.push_str(&items.join(","));
            b.push(']');
        }
        if let Some(p) = self.tool_plan() {
            b.push_str(",\"tool_plan\":");
            push_json_str(&mut b, p);
        }
        if self.reply.has_tool_calls() {
            b.push_str(",\"tool_calls\":[");
            for (i, c) in self.reply.tool_calls().enumerate() {
                if i > 0 {
                    b.push(',');
                }
                self.push_call(&mut b, i, &c.arguments);
            }
            b.push(']');
        }
        b.push_str("},\"usage\":");
        b.push_str(&self.usage());
        b.push('}');
        b
    }

    /// The typed SSE events, in Cohere's order.
    fn events(&self, chunk_size: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut start = String::from("{\"id\":");
        push_json_str(&mut start, &self.id);
        start.push_str(
            ",\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}",
        );
        out.push(sse_event("message-start", &start));
        let mut index = 0usize;
        let mut content = |out: &mut Vec<Bytes>, kind: &str, text: &str| {
            out.push(sse_event(
                "content-start",
                &format!(
                    "{{\"type\":\"content-start\",\"index\":{index},\"delta\":{{\"message\":{{\"content\":{{\"type\":\"{kind}\",\"{kind}\":\"\"}}}}}}}}"
                ),
            ));
            for piece in chunk_text(text, chunk_size) {
                let mut s = format!(
                    "{{\"type\":\"content-delta\",\"index\":{index},\"delta\":{{\"message\":{{\"content\":{{\"{kind}\":"
                );
                push_json_str(&mut s, piece);
                s.push_str("}}}}");
                out.push(sse_event("content-delta", &s));
            }
            out.push(sse_event(
                "content-end",
                &format!("{{\"type\":\"content-end\",\"index\":{index}}}"),
            ));
            index += 1;
        };
        if let Some(r) = self.reasoning {
            content(&mut out, "thinking", r);
        }
        if let Some(t) = self.content_text() {
            content(&mut out, "text", t);
        }
        if let Some(p) = self.tool_plan() {
            for piece in chunk_text(p, chunk_size) {
                let mut s = String::from(
                    "{\"type\":\"tool-plan-delta\",\"delta\":{\"message\":{\"tool_plan\":",
                );
                push_json_str(&mut s, piece);
                s.push_str("}}}");
                out.push(sse_event("tool-plan-delta", &s));
            }
        }
        for (i, c) in self.reply.tool_calls().enumerate() {
            let mut s = format!(
                "{{\"type\":\"tool-call-start\",\"index\":{i},\"delta\":{{\"message\":{{\"tool_calls\":"
            );
            self.push_call(&mut s, i, "");
            s.push_str("}}}");
            out.push(sse_event("tool-call-start", &s));
            for piece in chunk_text(&c.arguments, chunk_size) {
                let mut s = format!(
                    "{{\"type\":\"tool-call-delta\",\"index\":{i},\"delta\":{{\"message\":{{\"tool_calls\":{{\"function\":{{\"arguments\":"
                );
                push_json_str(&mut s, piece);
                s.push_str("}}}}}");
                out.push(sse_event("tool-call-delta", &s));
            }
            out.push(sse_event(
                "tool-call-end",
                &format!("{{\"type\":\"tool-call-end\",\"index\":{i}}}"),
            ));
        }
        let mut end = String::from("{\"id\":");
        push_json_str(&mut end, &self.id);
        end.push_str(",\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"");
        end.push_str(self.finish_reason());
        end.push_str("\",\"usage\":");
        end.push_str(&self.usage());
        end.push_str("}}");
        out.push(sse_event("message-end", &end));
        out
    }
}

// ---------------------------------------------------------------------------------------- embed

#[derive(Deserialize)]
struct EmbedBody {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    texts: Option<Vec<String>>,
    #[serde(default)]
    inputs: Option<Vec<EmbedInput>>,
    #[serde(default)]
    images: Option<Vec<String>>,
    #[serde(default)]
    embedding_types: Option<Vec<String>>,
    #[serde(default)]
    output_dimension: Option<u64>,
}

#[derive(Deserialize)]
struct EmbedInput {
    #[serde(default)]
    content: Vec<Part>,
}

const EMBEDDING_TYPES: &[&str] = &["float", "int8", "uint8", "binary", "ubinary", "base64"];

/// A checked `/v2/embed` request.
#[derive(Debug)]
pub(crate) struct EmbedPlan {
    model: String,
    texts: Vec<String>,
    /// Whether the texts came as `texts` (echoed back) rather than `inputs` or `images`.
    from_texts: bool,
    types: Vec<String>,
    dims: usize,
}

fn prepare_embed(body: &[u8]) -> Result<EmbedPlan, ApiError> {
    let v: EmbedBody = crate::http::parse_json_body(body)?;
    let Some(model) = v.model.filter(|m| !m.is_empty()) else {
        return Err(ApiError::invalid(
            "invalid request: model must be specified",
        ));
    };
    let (texts, from_texts) = match (v.texts, v.inputs, v.images) {
        (Some(t), _, _) => (t, true),
        (None, Some(inputs), _) => (
            inputs
                .into_iter()
                .map(|i| content_text(Some(Content::Parts(i.content))).unwrap_or_default())
                .collect(),
            false,
        ),
        (None, None, Some(images)) => (images, false),
        (None, None, None) => {
            return Err(ApiError::invalid(
                "invalid request: one of texts, images or inputs must be specified",
            ))
        }
    };
    if texts.is_empty() {
        return Err(ApiError::invalid(
            "invalid request: texts must contain at least one item",
        ));
    }
    if texts.len() > MAX_TEXTS {
        return Err(ApiError::invalid(format!(
            "invalid request: texts has {} items; at most {MAX_TEXTS} are allowed",
            texts.len()
        )));
    }
    let types = v
        .embedding_types
        .unwrap_or_else(|| vec!["float".to_owned()]);
    if let Some(bad) = types
        .iter()
        .find(|t| !EMBEDDING_TYPES.contains(&t.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "invalid request: embedding_types '{bad}' must be one of float, int8, uint8, binary, ubinary, base64"
        )));
    }
    let dims = match v.output_dimension {
        None => DEFAULT_DIMENSIONS,
        Some(d) if (1..=8192).contains(&d) => d as usize,
        Some(d) => {
            return Err(ApiError::invalid(format!(
                "invalid request: output_dimension {d} must be between 1 and 8192"
            )))
        }
    };
    Ok(EmbedPlan {
        model,
        texts,
        from_texts,
        types,
        dims,
    })
}

fn push_numbers<T: std::fmt::Display>(out: &mut String, values: impl Iterator<Item = T>) {
    out.push('[');
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&v.to_string());
    }
    out.push(']');
}

/// Sign bits packed eight to a byte, as `binary` (-128..127) or `ubinary` (0..255).
fn packed(v: &[f64], signed: bool) -> Vec<i32> {
    v.chunks(8)
        .map(|c| {
            let mut byte = 0u8;
            for (k, x) in c.iter().enumerate() {
                if *x > 0.0 {
                    byte |= 0x80 >> k;
                }
            }
            if signed {
                i32::from(byte) - 128
            } else {
                i32::from(byte)
            }
        })
        .collect()
}

fn push_vector(out: &mut String, kind: &str, v: &[f64]) {
    match kind {
        "int8" => push_numbers(
            out,
            v.iter()
                .map(|x| (x * 127.0).round().clamp(-128.0, 127.0) as i32),
        ),
        "uint8" => push_numbers(
            out,
            v.iter()
                .map(|x| ((x + 1.0) * 127.5).round().clamp(0.0, 255.0) as i32),
        ),
        "binary" => push_numbers(out, packed(v, true).into_iter()),
        "ubinary" => push_numbers(out, packed(v, false).into_iter()),
        "base64" => {
            let mut bytes = Vec::with_capacity(v.len() * 4);
            for x in v {
                bytes.extend_from_slice(&(*x as f32).to_le_bytes());
            }
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            out.push('"');
        }
        _ => out.push_str(&serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())),
    }
}

/// `POST /v2/embed`.
#[derive(Debug)]
struct Embed;

impl EmbeddingApi for Embed {
    type Opts = EmbedPlan;
    const SURFACE: &'static str = "Cohere's embed endpoint";

    fn parse(call: &Call) -> Result<(ChatRequest, EmbedPlan), ApiError> {
        let plan = prepare_embed(&call.body)?;
        let req = ChatRequest::embedding(plan.model.clone(), plan.texts.join(" "));
        Ok((req, plan))
    }

    fn json(_req: &ChatRequest, plan: &EmbedPlan, vector: Option<&EmbeddingReply>) -> String {
        let (texts, dims) = (&plan.texts, plan.dims);
        let vectors: Vec<Vec<f64>> = texts
            .iter()
            .map(|t| match vector {
                Some(v) => v.values.to_vec(),
                None => fallback_embedding(t, dims),
            })
            .collect();
        let mut out = String::with_capacity(256 + vectors.len() * dims * 8);
        out.push_str("{\"id\":");
        push_json_str(&mut out, &crate::http::ids::uuid());
        out.push_str(",\"embeddings\":{");
        for (k, kind) in plan.types.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            push_json_str(&mut out, kind);
            out.push_str(":[");
            for (i, v) in vectors.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_vector(&mut out, kind, v);
            }
            out.push(']');
        }
        out.push('}');
        if plan.from_texts {
            out.push_str(",\"texts\":");
            out.push_str(&serde_json::to_string(texts).unwrap_or_else(|_| "[]".to_owned()));
        }
        let tokens = estimate_tokens(texts.iter().map(String::len).sum());
        out.push_str(&format!(
            ",\"meta\":{{\"api_version\":{{\"version\":\"2\"}},\"billed_units\":{{\"input_tokens\":{tokens}}}}},\"response_type\":\"embeddings_by_type\"}}"
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_bits_pack_eight_to_a_byte() {
        let v = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
        assert_eq!(packed(&v, false), vec![0b1010_1010]);
        assert_eq!(packed(&v, true), vec![0b1010_1010 - 128]);
    }
}
