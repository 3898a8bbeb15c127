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
use crate::http::ApiError;
use crate::http::{push_int, push_json_str};
use crate::metrics::PathLabel;
use crate::pipeline::{Answered, Call, Exchange, Route, Vendor};
use crate::providers::endpoint::{self, EmbeddingApi, MessageApi, Render, Streamed};
use crate::providers::reply::{shown_reasoning, Counting, ReasoningCount, RenderedReply};
use crate::providers::wire::{self, Dialect, Msg, Skip, Tool, ToolFunction};
use crate::providers::{estimate_tokens, push_fallback_embedding_json};
use crate::record::Credential;
use crate::stream::{chunk_text, ndjson_line};

pub(crate) mod collapse;
mod embed;
mod models;
use embed::*;
use models::*;

/// Dimensions of the fallback vector when the request names none.
pub(crate) const DEFAULT_DIMENSIONS: usize = 1536;
/// The most numbers one embedding reply may hold.
const MAX_VALUES: usize = 8 * 1024 * 1024;
/// The version `/api/version` reports.
const VERSION: &str = "0.12.6";

/// Ollama (no credential of its own; a bearer token for hosted Ollama).
pub(crate) static VENDOR: Vendor = super::vendor("ollama", Credential::bearer(), envelope);

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
    super::error_json(e, &json!({ "error": e.message }))
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

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatBody {
    model: Option<String>,
    messages: Option<Vec<Msg<Ollama>>>,
    tools: Option<Vec<Tool<Ollama>>>,
    stream: Option<bool>,
    format: Option<Value>,
    think: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GenerateBody {
    model: Option<String>,
    prompt: Option<String>,
    system: Option<String>,
    stream: Option<bool>,
    format: Option<Value>,
    think: Option<Value>,
    images: Option<Vec<Skip>>,
}

/// Ollama's chat body, in the OpenAI-style wire the providers share: content is a string (with
/// `images` beside it), a call's id may be null, and a tool message may name its tool
/// (`tool_name`) instead of the call it answers.
struct Ollama;

impl Dialect for Ollama {
    type Content = String;
    type CallId = Option<String>;
    type FunctionName = String;
    type Images = Vec<Skip>;
    type ToolName = Option<String>;
    type Function = ToolFunction;
    type ToolOwnName = Skip;
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
        let Some(role) = Role::from_name(&m.role) else {
            return Err(ApiError::invalid(format!(
                "invalid role '{}' in messages[{i}]: must be system, user, assistant or tool",
                m.role
            )));
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
                    let (id, name, arguments) = c.into_parts("{}");
                    let id = id
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| stable_call_id(&name, k));
                    open_calls.push((id.clone(), name.clone(), false));
                    msg.tool_calls.push(ToolCallRef {
                        id,
                        name,
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
    let tools = wire::tool_names(v.tools);
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

/// `POST /api/chat` ([`Chat`]) and `POST /api/generate` ([`Generate`]).
#[derive(Debug)]
struct Api<const GENERATE: bool>;

/// `POST /api/chat`.
type Chat = Api<false>;

/// `POST /api/generate`.
type Generate = Api<true>;

/// The content type of Ollama's JSON.
const JSON_TYPE: &str = "application/json; charset=utf-8";

impl<const GENERATE: bool> Api<GENERATE> {
    fn reply<'a>(r: &Render<'a, bool>) -> OllamaReply<'a> {
        let surface = if GENERATE {
            Surface::Generate
        } else {
            Surface::Chat
        };
        OllamaReply::new(r.req, r.reply, r.strict, *r.opts, surface)
    }
}

impl<const GENERATE: bool> MessageApi for Api<GENERATE> {
    /// `think: false`.
    type Opts = bool;
    const SURFACE: &'static str = if GENERATE {
        "Ollama's generate endpoint"
    } else {
        "Ollama's chat endpoint"
    };
    const JSON_TYPE: &'static str = JSON_TYPE;

    fn parse(call: &Call) -> Result<(ChatRequest, bool), ApiError> {
        if GENERATE {
            parse_generate(&call.body)
        } else {
            parse_chat(&call.body)
        }
    }

    fn json(r: &Render<'_, bool>) -> String {
        Self::reply(r).whole()
    }

    fn stream(r: &Render<'_, bool>) -> Streamed {
        Streamed {
            events: Self::reply(r).lines(r.chunk_size),
            trailer: Vec::new(),
            head: None,
            content_type: "application/x-ndjson",
        }
    }
}

/// How Ollama counts tokens.
const COUNTING: Counting = Counting {
    prompt: &["prompt_eval_count", "prompt_tokens", "input_tokens"],
    completion: &["eval_count", "completion_tokens", "output_tokens"],
    prompt_chars: ChatRequest::text_chars,
    reasoning: ReasoningCount::Apart,
};

/// A reply as Ollama's lines (or its one object, unstreamed).
struct OllamaReply<'a> {
    core: RenderedReply<'a>,
    model: &'a str,
    created_at: String,
    surface: Surface,
}

impl<'a> OllamaReply<'a> {
    fn new(
        req: &'a ChatRequest,
        reply: &'a MessageReply,
        strict: bool,
        think_off: bool,
        surface: Surface,
    ) -> Self {
        let asked = reply.reasoning.as_deref().filter(|_| !think_off);
        let reasoning = shown_reasoning(asked, &req.model, strict);
        let core = RenderedReply::new(req, reply, reasoning, &COUNTING, |i, c| {
            stable_call_id(&c.name, i)
        });
        OllamaReply {
            model: core.model(&req.model, ""),
            created_at: match reply.overrides.created {
                Some(secs) => rfc3339(secs, 0),
                None => rfc3339_now(),
            },
            surface,
            core,
        }
    }

    /// `length` when the fixture says so, else `stop` (Ollama ends a tool-call turn with `stop`).
    fn done_reason(&self) -> &'static str {
        match self.core.reply.overrides.finish_reason.as_deref() {
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
        self.core.push_calls(b, |b, i, c, id| {
            b.push_str("{\"id\":");
            push_json_str(b, id);
            b.push_str(",\"function\":{\"index\":");
            push_int(b, i);
            b.push_str(",\"name\":");
            push_json_str(b, &c.name);
            b.push_str(",\"arguments\":");
            b.push_str(&arguments_object(&c.arguments));
            b.push_str("}}");
        });
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
        let o = &self.core.reply.overrides;
        let num = |names: &[&str]| o.usage_number(names).unwrap_or(0);
        b.push_str(&format!(
            ",\"total_duration\":{},\"load_duration\":{},\"prompt_eval_count\":{},\"prompt_eval_duration\":{},\"eval_count\":{},\"eval_duration\":{}}}",
            num(&["total_duration"]),
            num(&["load_duration"]),
            self.core.prompt_tokens,
            num(&["prompt_eval_duration"]),
            self.core.completion_tokens,
            num(&["eval_duration"]),
        ));
    }

    /// The whole reply as one object (`stream: false`).
    fn whole(&self) -> String {
        let mut b = self.prefix();
        let reply = self.core.reply;
        let content = reply.content().unwrap_or_default();
        self.push_payload(
            &mut b,
            &content,
            self.core.reasoning,
            self.surface == Surface::Chat && reply.has_tool_calls(),
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
        if let Some(r) = self.core.reasoning {
            for piece in chunk_text(r, chunk_size) {
                out.push(line("", Some(piece), false));
            }
        }
        for block in &self.core.reply.blocks {
            if let Block::Text(t) = block {
                for piece in chunk_text(t, chunk_size) {
                    out.push(line(piece, None, false));
                }
            }
        }
        let calls_line = self.core.reply.has_tool_calls();
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
