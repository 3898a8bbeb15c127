//! Cohere v2: `/v2/chat` (JSON and typed SSE) and `/v2/embed`.
//!
//! A reply is `{id, finish_reason, message: {role, content[], tool_plan?, tool_calls?}, usage}`;
//! streamed as `event: <type>` / `data: {...}` pairs from `message-start` to `message-end`.
//! Reasoning is a `thinking` content item before the text. Text of a reply that calls tools is
//! the `tool_plan`, as Cohere writes it. Errors are `{"id", "message"}` with the status.

use axum::body::Bytes;
use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, Method};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::conversation::{ChatRequest, Endpoint, Role};
use crate::fixture::{EmbeddingReply, MessageReply};
use crate::http::ids::random_id;
use crate::http::push_json_str;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Call, Route, Vendor};
use crate::providers::endpoint::{self, EmbeddingApi, MessageApi, Render, Streamed};
use crate::providers::reply::{
    push_function_call, shown_reasoning, CallIndex, Counting, ReasoningCount, RenderedReply,
};
use crate::providers::wire::{self, Dialect, Msg, Skip, Tool, ToolFunction};
use crate::providers::{estimate_tokens, fallback_embedding};
use crate::record::Credential;
use crate::stream::{chunk_text, sse_event};

pub(crate) mod collapse;
mod rerank;

/// Dimensions of the fallback vector when the request names none.
pub(crate) const DEFAULT_DIMENSIONS: usize = 1024;
/// Cohere's limit on texts per embed request.
const MAX_TEXTS: usize = 96;

/// Cohere: a bearer token.
pub(crate) static VENDOR: Vendor = super::vendor("cohere", Credential::bearer(), envelope);

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
    super::error_json(
        e,
        &json!({ "id": crate::http::ids::uuid(), "message": e.message }),
    )
}

// ---------------------------------------------------------------------------------------- chat request

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatBody {
    model: Option<String>,
    messages: Option<Vec<Msg<Cohere>>>,
    tools: Option<Vec<Tool<Cohere>>>,
    stream: Option<bool>,
    response_format: Option<ResponseFormat>,
}

#[derive(Deserialize)]
struct ResponseFormat {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// Cohere's chat body, in the OpenAI-style wire the providers share: a call's id and name may be
/// null, and tools are named only by their function.
struct Cohere;

impl Dialect for Cohere {
    type Content = Content;
    type CallId = Option<String>;
    type FunctionName = Option<String>;
    type Images = Skip;
    type ToolName = Skip;
    type Function = ToolFunction;
    type ToolOwnName = Skip;
}

/// A message's `content`: a string or parts, read as an untagged enum (a content that fits
/// neither is refused as a whole).
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

/// A content part; a tool result's `document` is `{"data": ...}`.
type Part = wire::Part<Value>;

/// Text of a content field: a string, or its text (and document) parts joined.
fn content_text(c: Option<Content>) -> Option<String> {
    let c = match c? {
        Content::Text(t) => wire::Content::Text(t),
        Content::Parts(p) => wire::Content::Parts(p),
    };
    c.text(|p| match p.kind.as_str() {
        "text" => p.text,
        "document" => p.document.map(|d| match d.get("data") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => d.to_string(),
        }),
        _ => None,
    })
}

/// A message's role: Cohere's four.
fn role(i: usize, role: &str) -> Result<Role, ApiError> {
    Role::from_name(role).ok_or_else(|| {
        ApiError::invalid(format!(
            "invalid request: messages[{i}].role '{role}' must be one of system, user, assistant, tool"
        ))
    })
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
    let messages = wire::messages(msgs, role, content_text)?;
    Ok(ChatRequest {
        model,
        messages,
        tools: wire::tool_names(v.tools),
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
        ChatReply::new(r.req, r.reply, r.strict).whole()
    }

    fn stream(r: &Render<'_, ()>) -> Streamed {
        Streamed::sse(
            ChatReply::new(r.req, r.reply, r.strict).events(r.chunk_size),
            Vec::new(),
        )
    }
}

/// How Cohere counts tokens.
const COUNTING: Counting = Counting {
    prompt: &["input_tokens", "prompt_tokens"],
    completion: &["output_tokens", "completion_tokens"],
    prompt_chars: ChatRequest::text_chars,
    reasoning: ReasoningCount::Apart,
};

/// A reply as a `V2ChatResponse` and its typed stream.
struct ChatReply<'a> {
    core: RenderedReply<'a>,
    id: String,
    /// Text of the reply: content, or the tool plan when the reply calls tools.
    text: Option<String>,
}

impl<'a> ChatReply<'a> {
    fn new(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        let reasoning = shown_reasoning(reply.reasoning.as_deref(), &req.model, strict);
        let core = RenderedReply::new(req, reply, reasoning, &COUNTING, |_, c| {
            format!("{}_{}", c.name, random_id("", 12).to_ascii_lowercase())
        });
        ChatReply {
            id: core.id(crate::http::ids::uuid),
            text: reply.content(),
            core,
        }
    }

    fn finish_reason(&self) -> &'static str {
        match self.core.reply.overrides.finish_reason.as_deref() {
            Some("length" | "max_tokens" | "MAX_TOKENS") => "MAX_TOKENS",
            Some("stop_sequence" | "STOP_SEQUENCE") => "STOP_SEQUENCE",
            Some("error" | "ERROR" | "content_filter") => "ERROR",
            Some("timeout" | "TIMEOUT") => "TIMEOUT",
            Some("tool_calls" | "TOOL_CALL") => "TOOL_CALL",
            Some(_) => "COMPLETE",
            None if self.core.reply.has_tool_calls() => "TOOL_CALL",
            None => "COMPLETE",
        }
    }

    fn usage(&self) -> String {
        let (i, o) = (self.core.prompt_tokens, self.core.completion_tokens);
        format!(
            "{{\"billed_units\":{{\"input_tokens\":{i},\"output_tokens\":{o}}},\"tokens\":{{\"input_tokens\":{i},\"output_tokens\":{o}}}}}"
        )
    }

    fn tool_plan(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|_| self.core.reply.has_tool_calls())
    }

    fn content_text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|_| !self.core.reply.has_tool_calls())
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
        if let Some(r) = self.core.reasoning {
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
        if self.core.reply.has_tool_calls() {
            b.push_str(",\"tool_calls\":");
            self.core.push_calls(&mut b, |b, _, c, id| {
                push_function_call(b, CallIndex::None, id, &c.name, &c.arguments);
            });
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
        if let Some(r) = self.core.reasoning {
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
        let calls = self.core.reply.tool_calls().zip(&self.core.call_ids);
        for (i, (c, id)) in calls.enumerate() {
            let mut s = format!(
                "{{\"type\":\"tool-call-start\",\"index\":{i},\"delta\":{{\"message\":{{\"tool_calls\":"
            );
            push_function_call(&mut s, CallIndex::None, id, &c.name, "");
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
