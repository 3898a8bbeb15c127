//! Ollama: `/api/chat`, `/api/generate` (NDJSON by default), `/api/embed`, `/api/embeddings`, `/api/tags`, `/api/show`.
//!
//! Ollama streams unless the body says `"stream": false`; a stream is one JSON object per line,
//! the last one `done: true` with the done reason and the metrics. Errors are `{"error": "..."}`.
//!
//! Tool calls: older Ollama (and the 0.6.x Python client) carry no call ids, so ids are made
//! stable: a call without one is `call_ollama_<name>_<index>`, the same id the reply gave it, and a
//! tool message without `tool_call_id` answers the call of the previous assistant message with the
//! same `tool_name` (else the call at its position). So `toolCallId` fixtures match a multi-turn
//! loop whatever the client drops.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::{Block, EmbeddingReply, MessageReply};
use crate::http::push_json_str;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Answered, Call, Exchange, Route, Vendor};
use crate::providers::endpoint::{self, EmbeddingApi, MessageApi, Render, Streamed};
use crate::providers::{emit_reasoning, estimate_tokens, push_fallback_embedding_json};
use crate::record::Credential;
use crate::stream::{chunk_text, ndjson_line};

pub(crate) mod collapse;
mod embed;
mod models;
use embed::*;
use models::*;

/// Dimensions of the fallback vector when the request names none.
pub const DEFAULT_DIMENSIONS: usize = 1536;
/// The most numbers one embedding reply may hold.
const MAX_VALUES: usize = 8 * 1024 * 1024;
/// The version `/api/version` reports.
const VERSION: &str = "0.12.6";

/// Ollama (no credential of its own; a bearer token for hosted Ollama).
pub(crate) static VENDOR: Vendor = Vendor {
    key: "ollama",
    credential: Credential::bearer(),
    envelope,
    decorate: None,
};

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let (endpoint, label, recorded): (crate::pipeline::Endpoint, &'static str, bool) =
        match (method, path) {
            (&Method::POST, "/api/chat") => (endpoint::message::<Chat>, "/api/chat", true),
            (&Method::POST, "/api/generate") => {
                (endpoint::message::<Generate>, "/api/generate", true)
            }
            (&Method::POST, "/api/embed") => (endpoint::embedding::<Embed>, "/api/embed", true),
            (&Method::POST, "/api/embeddings") => (
                endpoint::embedding::<LegacyEmbeddings>,
                "/api/embeddings",
                true,
            ),
            (&Method::GET, "/api/tags") => (handle_tags, "/api/tags", false),
            (&Method::POST, "/api/show") => (handle_show, "/api/show", false),
            (&Method::GET, "/api/version") => (handle_version, "/api/version", false),
            _ => return None,
        };
    let route = Route::new(endpoint, &VENDOR, PathLabel::one(label));
    Some(if recorded {
        route.recorded(&collapse::COLLAPSER)
    } else {
        route
    })
}

/// Ollama's error envelope: `{"error": "message"}` with the status; a 429 carries the
/// rate-limit headers.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut r = crate::http::json_response(e.status, &json!({ "error": e.message }));
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        crate::http::add_rate_limit_headers(r.headers_mut(), e.retry_after.unwrap_or(1.0));
    }
    r
}

// ---------------------------------------------------------------------------------------- time

/// The current time as RFC 3339 in UTC with nanoseconds, as Ollama writes `created_at`.
fn rfc3339_now() -> String {
    crate::http::time::rfc3339_now(9)
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub(crate) fn rfc3339(secs: i64, nanos: u32) -> String {
    crate::http::time::rfc3339(secs, nanos, 9)
}

// ---------------------------------------------------------------------------------------- requests

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
    format: Option<Value>,
    #[serde(default)]
    think: Option<Value>,
}

#[derive(Deserialize)]
struct GenerateBody {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    format: Option<Value>,
    #[serde(default)]
    think: Option<Value>,
    #[serde(default)]
    images: Option<Vec<Value>>,
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
    content: Option<String>,
    #[serde(default)]
    images: Option<Vec<Value>>,
    #[serde(default)]
    tool_calls: Option<Vec<MsgToolCall>>,
    #[serde(default)]
    tool_name: Option<String>,
    #[serde(default)]
    tool_call_id: Option<String>,
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
    name: String,
    /// An object in Ollama; a JSON string is accepted too.
    #[serde(default)]
    arguments: Value,
}

/// The id of an Ollama tool call that has none.
pub(crate) fn stable_call_id(name: &str, index: usize) -> String {
    format!("call_ollama_{name}_{index}")
}

/// `format`: `"json"` is JSON mode, an object a JSON schema.
fn response_format(format: Option<&Value>) -> Option<String> {
    match format? {
        Value::String(s) if s == "json" => Some("json_object".to_owned()),
        Value::Object(_) => Some("json_schema".to_owned()),
        _ => None,
    }
}

fn missing_model() -> ApiError {
    ApiError::invalid("model is required")
}

fn model_of(m: Option<String>) -> Result<String, ApiError> {
    m.filter(|m| !m.is_empty()).ok_or_else(missing_model)
}

/// Parse an `/api/chat` body.
fn parse_chat(body: &[u8]) -> Result<(ChatRequest, bool), ApiError> {
    let v: ChatBody = crate::http::parse_json_body(body)?;
    let model = model_of(v.model)?;
    let mut messages: Vec<Message> = Vec::new();
    // Calls of the latest assistant message, and which of them a tool message has answered.
    let mut open_calls: Vec<(String, String, bool)> = Vec::new();
    let mut tool_position = 0usize;
    for (i, m) in v.messages.unwrap_or_default().into_iter().enumerate() {
        let role = match m.role.as_str() {
            "system" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => {
                return Err(ApiError::invalid(format!(
                "invalid role '{other}' in messages[{i}]: must be system, user, assistant or tool"
            )))
            }
        };
        let text = match (&m.content, &m.images) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(imgs)) if !imgs.is_empty() => None,
            (None, _) => Some(String::new()),
        };
        let mut msg = Message {
            role,
            text,
            tool_calls: Vec::new(),
            tool_call_id: None,
        };
        match role {
            Role::Assistant => {
                open_calls.clear();
                tool_position = 0;
                for (k, c) in m.tool_calls.unwrap_or_default().into_iter().enumerate() {
                    let f = c.function.unwrap_or(MsgFunction {
                        name: String::new(),
                        arguments: Value::Null,
                    });
                    let id =
                        c.id.filter(|s| !s.is_empty())
                            .unwrap_or_else(|| stable_call_id(&f.name, k));
                    let arguments = match f.arguments {
                        Value::String(s) => s,
                        Value::Null => "{}".to_owned(),
                        other => other.to_string(),
                    };
                    open_calls.push((id.clone(), f.name.clone(), false));
                    msg.tool_calls.push(ToolCallRef {
                        id,
                        name: f.name,
                        arguments,
                    });
                }
            }
            Role::Tool => {
                let id = match m.tool_call_id.filter(|s| !s.is_empty()) {
                    Some(id) => Some(id),
                    None => {
                        let by_name = m.tool_name.as_deref().and_then(|n| {
                            open_calls
                                .iter()
                                .position(|(_, name, done)| !done && name == n)
                        });
                        let pick = by_name.or_else(|| {
                            if tool_position < open_calls.len() && !open_calls[tool_position].2 {
                                Some(tool_position)
                            } else {
                                open_calls.iter().position(|c| !c.2)
                            }
                        });
                        match pick {
                            Some(p) => {
                                open_calls[p].2 = true;
                                Some(open_calls[p].0.clone())
                            }
                            None => m.tool_name.as_deref().map(|n| stable_call_id(n, 0)),
                        }
                    }
                };
                tool_position += 1;
                msg.tool_call_id = id;
            }
            Role::User | Role::System => {}
        }
        messages.push(msg);
    }
    let tools = v
        .tools
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.function.and_then(|f| f.name))
        .collect();
    let think_off = matches!(v.think, Some(Value::Bool(false)));
    Ok((
        ChatRequest {
            model,
            messages,
            tools,
            response_format: response_format(v.format.as_ref()),
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: v.stream.unwrap_or(true),
        },
        think_off,
    ))
}

/// Parse an `/api/generate` body: `system` and `prompt` become a two-message conversation.
fn parse_generate(body: &[u8]) -> Result<(ChatRequest, bool), ApiError> {
    let v: GenerateBody = crate::http::parse_json_body(body)?;
    let model = model_of(v.model)?;
    let mut messages = Vec::with_capacity(2);
    if let Some(s) = v.system.filter(|s| !s.is_empty()) {
        messages.push(Message::text(Role::System, s));
    }
    let has_images = v.images.as_ref().is_some_and(|i| !i.is_empty());
    match v.prompt {
        Some(p) => messages.push(Message::text(Role::User, p)),
        None if has_images => messages.push(Message {
            role: Role::User,
            text: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }),
        None => {}
    }
    let think_off = matches!(v.think, Some(Value::Bool(false)));
    Ok((
        ChatRequest {
            model,
            messages,
            tools: Vec::new(),
            response_format: response_format(v.format.as_ref()),
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: v.stream.unwrap_or(true),
        },
        think_off,
    ))
}

// ---------------------------------------------------------------------------------------- chat

#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    Chat,
    Generate,
}

/// `POST /api/chat`.
#[derive(Debug)]
struct Chat;

/// `POST /api/generate`.
#[derive(Debug)]
struct Generate;

/// The content type of Ollama's JSON.
const JSON_TYPE: &str = "application/json; charset=utf-8";

impl MessageApi for Chat {
    /// `think: false`.
    type Opts = bool;
    const SURFACE: &'static str = "Ollama's chat endpoint";
    const JSON_TYPE: &'static str = JSON_TYPE;

    fn parse(call: &Call) -> Result<(ChatRequest, bool), ApiError> {
        parse_chat(&call.body)
    }

    fn json(r: &Render<'_, bool>) -> String {
        Rendered::new(r.req, r.reply, r.strict, *r.opts, Surface::Chat).whole()
    }

    fn stream(r: &Render<'_, bool>) -> Streamed {
        lines(Rendered::new(r.req, r.reply, r.strict, *r.opts, Surface::Chat).lines(r.chunk_size))
    }
}

impl MessageApi for Generate {
    type Opts = bool;
    const SURFACE: &'static str = "Ollama's generate endpoint";
    const JSON_TYPE: &'static str = JSON_TYPE;

    fn parse(call: &Call) -> Result<(ChatRequest, bool), ApiError> {
        parse_generate(&call.body)
    }

    fn json(r: &Render<'_, bool>) -> String {
        Rendered::new(r.req, r.reply, r.strict, *r.opts, Surface::Generate).whole()
    }

    fn stream(r: &Render<'_, bool>) -> Streamed {
        lines(
            Rendered::new(r.req, r.reply, r.strict, *r.opts, Surface::Generate).lines(r.chunk_size),
        )
    }
}

fn lines(events: Vec<Bytes>) -> Streamed {
    Streamed {
        events,
        trailer: Vec::new(),
        head: None,
        content_type: "application/x-ndjson",
    }
}

/// One reply, ready to render.
struct Rendered<'a> {
    model: &'a str,
    created_at: String,
    reply: &'a MessageReply,
    reasoning: Option<&'a str>,
    surface: Surface,
    call_ids: Vec<String>,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl<'a> Rendered<'a> {
    fn new(
        req: &'a ChatRequest,
        reply: &'a MessageReply,
        strict: bool,
        think_off: bool,
        surface: Surface,
    ) -> Self {
        let o = &reply.overrides;
        let model = o.model.as_deref().unwrap_or(&req.model);
        let reasoning = reply
            .reasoning
            .as_deref()
            .filter(|_| !think_off && emit_reasoning(&req.model, strict));
        let call_ids = reply
            .tool_calls()
            .enumerate()
            .map(|(i, c)| c.id.clone().unwrap_or_else(|| stable_call_id(&c.name, i)))
            .collect();
        let prompt_chars = req.text_chars();
        let completion_chars = reply.text_chars();
        Rendered {
            model,
            created_at: match o.created {
                Some(secs) => rfc3339(secs, 0),
                None => rfc3339_now(),
            },
            reply,
            reasoning,
            surface,
            call_ids,
            prompt_tokens: o
                .usage_number(&["prompt_eval_count", "prompt_tokens", "input_tokens"])
                .unwrap_or_else(|| estimate_tokens(prompt_chars)),
            completion_tokens: o
                .usage_number(&["eval_count", "completion_tokens", "output_tokens"])
                .unwrap_or_else(|| estimate_tokens(completion_chars)),
        }
    }

    /// `length` when the fixture says so, else `stop` (Ollama ends a tool-call turn with `stop`).
    fn done_reason(&self) -> &'static str {
        match self.reply.overrides.finish_reason.as_deref() {
            Some("length" | "max_tokens" | "MAX_TOKENS") => "length",
            _ => "stop",
        }
    }

    /// `{"model":...,"created_at":...,`
    fn prefix(&self) -> String {
        let mut p = String::with_capacity(96);
        p.push_str("{\"model\":");
        push_json_str(&mut p, self.model);
        p.push_str(",\"created_at\":");
        push_json_str(&mut p, &self.created_at);
        p.push(',');
        p
    }

    /// The tool calls as Ollama writes them: arguments as an object.
    fn push_tool_calls(&self, b: &mut String) {
        b.push('[');
        for (i, (c, id)) in self.reply.tool_calls().zip(&self.call_ids).enumerate() {
            if i > 0 {
                b.push(',');
            }
            b.push_str("{\"id\":");
            push_json_str(b, id);
            b.push_str(",\"function\":{\"index\":");
            b.push_str(&i.to_string());
            b.push_str(",\"name\":");
            push_json_str(b, &c.name);
            b.push_str(",\"arguments\":");
            b.push_str(&arguments_object(&c.arguments));
            b.push_str("}}");
        }
        b.push(']');
    }

    /// The body of one line: message (chat) or response (generate), with optional thinking.
    fn push_payload(&self, b: &mut String, content: &str, thinking: Option<&str>, calls: bool) {
        match self.surface {
            Surface::Chat => {
                b.push_str("\"message\":{\"role\":\"assistant\",\"content\":");
                push_json_str(b, content);
                if let Some(t) = thinking {
                    b.push_str(",\"thinking\":");
                    push_json_str(b, t);
                }
                if calls {
                    b.push_str(",\"tool_calls\":");
                    self.push_tool_calls(b);
                }
                b.push('}');
            }
            Surface::Generate => {
                b.push_str("\"response\":");
                push_json_str(b, content);
                if let Some(t) = thinking {
                    b.push_str(",\"thinking\":");
                    push_json_str(b, t);
                }
            }
        }
    }

    /// `"done":true,"done_reason":...` and the metrics.
    fn push_done(&self, b: &mut String) {
        b.push_str(",\"done_reason\":\"");
        b.push_str(self.done_reason());
        b.push_str("\",\"done\":true");
        let o = &self.reply.overrides;
        let num = |names: &[&str]| o.usage_number(names).unwrap_or(0);
        b.push_str(&format!(
            ",\"total_duration\":{},\"load_duration\":{},\"prompt_eval_count\":{},\"prompt_eval_duration\":{},\"eval_count\":{},\"eval_duration\":{}}}",
            num(&["total_duration"]),
            num(&["load_duration"]),
            self.prompt_tokens,
            num(&["prompt_eval_duration"]),
            self.completion_tokens,
            num(&["eval_duration"]),
        ));
    }

    /// The whole reply as one object (`stream: false`).
    fn whole(&self) -> String {
        let mut b = self.prefix();
        let content = self.reply.content().unwrap_or_default();
        self.push_payload(
            &mut b,
            &content,
            self.reasoning,
            self.surface == Surface::Chat && self.reply.has_tool_calls(),
        );
        self.push_done(&mut b);
        b
    }

    /// The NDJSON lines: thinking slices, content slices, one line with the tool calls, then the
    /// final `done: true` line.
    fn lines(&self, chunk_size: usize) -> Vec<Bytes> {
        let prefix = self.prefix();
        let mut out = Vec::new();
        let line = |content: &str, thinking: Option<&str>, calls: bool| -> Bytes {
            let mut b = String::with_capacity(prefix.len() + content.len() + 64);
            b.push_str(&prefix);
            self.push_payload(&mut b, content, thinking, calls);
            b.push_str(",\"done\":false}");
            ndjson_line(&b)
        };
        if let Some(r) = self.reasoning {
            for piece in chunk_text(r, chunk_size) {
                out.push(line("", Some(piece), false));
            }
        }
        for block in &self.reply.blocks {
            if let Block::Text(t) = block {
                for piece in chunk_text(t, chunk_size) {
                    out.push(line(piece, None, false));
                }
            }
        }
        let calls_line = self.reply.has_tool_calls();
        if calls_line {
            match self.surface {
                Surface::Chat => out.push(line("", None, true)),
                Surface::Generate => {}
            }
        }
        let mut last = prefix.clone();
        self.push_payload(&mut last, "", None, false);
        self.push_done(&mut last);
        out.push(ndjson_line(&last));
        out
    }
}

/// A fixture's arguments string as a JSON object (Ollama sends objects); anything that is not
/// an object is wrapped so the client can still read it.
fn arguments_object(args: &str) -> String {
    match serde_json::from_str::<Value>(args) {
        Ok(v @ Value::Object(_)) => v.to_string(),
        Ok(Value::Null) | Err(_) if args.trim().is_empty() => "{}".to_owned(),
        Ok(other) => json!({ "value": other }).to_string(),
        Err(_) => json!({ "value": args }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_civil_dates_in_utc() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(1_700_000_000, 5), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000000000Z");
    }

    #[test]
    fn tool_messages_without_ids_answer_the_previous_calls_by_name_then_position() {
        let body = json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "a", "arguments": {}}},
                {"function": {"name": "b", "arguments": {"x": 1}}}]},
            {"role": "tool", "content": "rb", "tool_name": "b"},
            {"role": "tool", "content": "ra"}
        ]});
        let (req, _) = parse_chat(body.to_string().as_bytes()).unwrap();
        assert!(req.stream);
        assert_eq!(req.messages[1].tool_calls[1].id, "call_ollama_b_1");
        assert_eq!(req.messages[1].tool_calls[1].arguments, "{\"x\":1}");
        assert_eq!(
            req.messages[2].tool_call_id.as_deref(),
            Some("call_ollama_b_1")
        );
        assert_eq!(
            req.messages[3].tool_call_id.as_deref(),
            Some("call_ollama_a_0")
        );
    }

    #[test]
    fn arguments_become_objects() {
        assert_eq!(arguments_object("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(arguments_object(""), "{}");
        assert_eq!(arguments_object("[1]"), "{\"value\":[1]}");
    }
}
