//! The Gemini Interactions API (`/{version}/interactions`), as google-genai's
//! `client.interactions` uses it:
//! - `POST /interactions` creates one: `model` or `agent`, `input` (a string, a content, a list
//!   of contents, a list of steps, or legacy `{role, content}` turns), `system_instruction`,
//!   `tools`, `stream`, `store` (true by default), `background`, `previous_interaction_id`. It is
//!   matched as a chat conversation; the fixture's reply becomes `steps` (`thought`,
//!   `model_output`, `function_call`), `status` (`requires_action` when it calls a tool) and
//!   `usage`. Streamed: `interaction.created`, `interaction.status_update`, then
//!   `step.start` / `step.delta` / `step.stop` per step, `interaction.completed`, `[DONE]`.
//! - A stored interaction keeps its conversation: `previous_interaction_id` puts its turns before
//!   the new request's, so multi-turn fixtures (`turnIndex`, `toolCallId`) match a client that
//!   sends only the new turn.
//! - `GET /interactions/{id}`, `DELETE /interactions/{id}`, `POST /interactions/{id}/cancel`
//!   (a background interaction not read yet). Errors are the API's
//!   `{"error": {"code": "not_found", "message"}}`.
//! - Record mode: a create no fixture answers goes to the Gemini upstream, read back by
//!   [`collapse::COLLAPSER`] (steps or step events).

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::conversation::{ChatRequest, Message, Role, ToolCallRef};
use crate::fixture::{Block, Reply};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::stored::StoredInteraction;
use crate::pipeline::{Answer, Answered, Call, Exchange, Route, RouteInfo, Vendor};
use crate::providers::endpoint::{self, MessageApi, Render, Streamed};
use crate::providers::reply::{shown_reasoning, Counting, ReasoningCount, RenderedReply};
use crate::record::Credential;
use crate::stream::chunk_text;

/// The Interactions API: Gemini's credential, its own error envelope.
pub(crate) static VENDOR: Vendor = crate::providers::vendor(
    "gemini",
    Credential::header("x-goog-api-key", "").or_query_key(),
    envelope,
);

/// The error codes the Interactions API names.
const CODES: &[&str] = &[
    "invalid_request",
    "failed_precondition",
    "out_of_range",
    "parameter_unknown",
    "authentication",
    "payment_required",
    "permission_denied",
    "not_found",
    "model_not_found",
    "rate_limit_exceeded",
    "quota_exceeded",
    "cancelled",
    "internal",
    "unavailable",
    "deadline_exceeded",
];

/// The code for an HTTP status.
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication",
        402 => "payment_required",
        403 => "permission_denied",
        404 => "not_found",
        416 => "out_of_range",
        429 => "rate_limit_exceeded",
        499 => "cancelled",
        503 => "unavailable",
        504 => "deadline_exceeded",
        400..=499 => "invalid_request",
        _ => "internal",
    }
}

/// `{"error": {"code", "message"}}`: the code is the fixture's `error.type` when it is one of the
/// API's, else the status's.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let kind = e.kind.as_str();
    let code = if CODES.contains(&kind) {
        kind
    } else {
        code_of(e.status)
    };
    let mut r = crate::http::json_response(
        e.status,
        &json!({"error": {"code": code, "message": e.message}}),
    );
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        let s = e.retry_after.filter(|s| s.is_finite() && *s >= 0.0);
        if let Ok(v) = HeaderValue::from_str(&format!("{}", s.unwrap_or(1.0).ceil() as u64)) {
            r.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
    }
    r
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

fn invalid(message: impl Into<String>) -> ApiError {
    error(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn not_found(id: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Interaction '{id}' was not found."),
    )
}

/// The routes: `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let rest = path.strip_prefix('/')?;
    let (version, rest) = rest.split_once('/')?;
    if !super::VERSIONS.contains(&version) {
        return None;
    }
    let rest = rest.strip_prefix("interactions")?;
    let parts: Vec<&str> = match rest {
        "" => Vec::new(),
        r => r.strip_prefix('/')?.split('/').collect(),
    };
    let (endpoint, action, id): (crate::pipeline::Endpoint, &'static str, Option<&str>) =
        match (method, parts.as_slice()) {
            (&Method::POST, []) => (endpoint::message::<Interactions>, "create", None),
            (&Method::GET, [id]) => (stored, "get", Some(id)),
            (&Method::DELETE, [id]) => (stored, "delete", Some(id)),
            (&Method::POST, [id, "cancel"]) => (stored, "cancel", Some(id)),
            _ => return None,
        };
    if id.is_some_and(str::is_empty) {
        return None;
    }
    let label = match (id, action) {
        (None, _) => "/{version}/interactions",
        (Some(_), "cancel") => "/{version}/interactions/{id}/cancel",
        _ => "/{version}/interactions/{id}",
    };
    let route = Route::new(endpoint, &VENDOR, PathLabel::one(label)).with_info(RouteInfo {
        id: id.map(|s| crate::http::percent::path(s).into_owned()),
        action: Some(action),
        ..Default::default()
    });
    Some(if action == "create" {
        route.recorded(&collapse::COLLAPSER)
    } else {
        route
    })
}

/// A create request's body.
#[derive(Deserialize, Default)]
struct CreateBody {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    system_instruction: Option<Value>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    store: Option<bool>,
    #[serde(default)]
    background: Option<bool>,
    #[serde(default)]
    previous_interaction_id: Option<String>,
    #[serde(default)]
    response_format: Option<Value>,
    #[serde(default)]
    generation_config: Option<Value>,
    #[serde(default)]
    response_modalities: Option<Vec<String>>,
}

/// What rendering needs beside the conversation.
#[derive(Debug)]
pub(crate) struct Opts {
    /// `("model", name)` or `("agent", name)`.
    who: (&'static str, String),
    store: bool,
    background: bool,
    previous: Option<String>,
    system_instruction: Option<String>,
    /// `generation_config.thinking_summaries: "none"`.
    no_summaries: bool,
    /// The placeholder picture's size (`generation_config.image_config.aspect_ratio`).
    image_size: (u32, u32),
    /// The pictures an image fixture answers with: `(mime_type, base64)`.
    images: Vec<(&'static str, String)>,
}

/// The step types of the `Step[]` input envelope.
const STEP_TYPES: &[&str] = &[
    "user_input",
    "model_output",
    "thought",
    "function_call",
    "function_result",
    "code_execution_call",
    "code_execution_result",
    "url_context_call",
    "url_context_result",
    "google_search_call",
    "google_search_result",
    "mcp_server_tool_call",
    "mcp_server_tool_result",
    "file_search_call",
    "file_search_result",
    "google_maps_call",
    "google_maps_result",
];

/// The text of a content list (text contents joined).
fn content_text(content: Option<&Value>) -> Option<String> {
    match content? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let mut out: Option<String> = None;
            for item in items {
                if let Some(t) = item.get("text").and_then(Value::as_str) {
                    if item.get("type").and_then(Value::as_str).unwrap_or("text") == "text" {
                        out.get_or_insert_with(String::new).push_str(t);
                    }
                }
            }
            out
        }
        obj @ Value::Object(_) => content_text(Some(&Value::Array(vec![obj.clone()]))),
        _ => None,
    }
}

/// A function result's payload as the tool message text.
fn result_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(|i| i.get("text").is_some()) => {
            content_text(Some(&Value::Array(items.clone()))).unwrap_or_default()
        }
        Some(other) => other.to_string(),
    }
}

/// The messages of a list of steps (or of legacy turns' contents, which hold the same kinds).
fn push_steps(steps: &[Value], out: &mut Vec<Message>) -> Result<(), ApiError> {
    for (i, step) in steps.iter().enumerate() {
        let kind = step.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "user_input" => out.push(Message {
                role: Role::User,
                text: Some(content_text(step.get("content")).unwrap_or_default()),
                tool_calls: Vec::new(),
                tool_call_id: None,
            }),
            "model_output" => out.push(Message {
                role: Role::Assistant,
                text: content_text(step.get("content")),
                tool_calls: Vec::new(),
                tool_call_id: None,
            }),
            "function_call" => {
                let name = step
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let id = step
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        invalid(format!("input[{i}]: a function_call step needs an id."))
                    })?
                    .to_owned();
                let call = ToolCallRef {
                    id,
                    name,
                    arguments: crate::providers::object_arguments(step.get("arguments").cloned()),
                };
                match out.last_mut() {
                    Some(m) if m.role == Role::Assistant => m.tool_calls.push(call),
                    _ => out.push(Message {
                        role: Role::Assistant,
                        text: None,
                        tool_calls: vec![call],
                        tool_call_id: None,
                    }),
                }
            }
            "function_result" => {
                let id = step.get("call_id").and_then(Value::as_str).ok_or_else(|| {
                    invalid(format!(
                        "input[{i}]: a function_result step needs a call_id."
                    ))
                })?;
                out.push(Message::tool_result(id, result_text(step.get("result"))));
            }
            // Thoughts, and built-in tools' calls and results, are not part of the conversation.
            _ if STEP_TYPES.contains(&kind) => {}
            "text" => out.push(Message::text(
                Role::User,
                step.get("text").and_then(Value::as_str).unwrap_or_default(),
            )),
            other => return Err(invalid(format!("input[{i}]: unknown step type '{other}'."))),
        }
    }
    Ok(())
}

/// The conversation of `input`.
fn input_messages(input: &Value, out: &mut Vec<Message>) -> Result<(), ApiError> {
    match input {
        Value::String(s) => out.push(Message::text(Role::User, s.as_str())),
        Value::Object(_) => out.push(Message::text(
            Role::User,
            content_text(Some(input)).unwrap_or_default(),
        )),
        Value::Array(items) if items.is_empty() => return Err(invalid("input must not be empty.")),
        Value::Array(items) => {
            let kind = |v: &Value| v.get("type").and_then(Value::as_str).map(str::to_owned);
            if items.iter().any(|i| i.get("role").is_some()) {
                // Legacy turns: `{role, content}`.
                for turn in items {
                    let role = turn.get("role").and_then(Value::as_str).unwrap_or("user");
                    let content = turn.get("content");
                    let blocks: Vec<Value> = match content {
                        Some(Value::Array(b)) => b.clone(),
                        Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
                        _ => Vec::new(),
                    };
                    if role == "model" {
                        let mut steps: Vec<Value> =
                            vec![json!({"type": "model_output", "content": blocks})];
                        steps.extend(
                            blocks
                                .iter()
                                .filter(|b| kind(b).as_deref() == Some("function_call"))
                                .cloned(),
                        );
                        push_steps(&steps, out)?;
                    } else {
                        let results: Vec<Value> = blocks
                            .iter()
                            .filter(|b| kind(b).as_deref() == Some("function_result"))
                            .cloned()
                            .collect();
                        push_steps(&results, out)?;
                        let text = content_text(Some(&Value::Array(blocks)));
                        if text.is_some() || results.is_empty() {
                            out.push(Message::text(Role::User, text.unwrap_or_default()));
                        }
                    }
                }
            } else if items
                .iter()
                .any(|i| kind(i).is_some_and(|k| STEP_TYPES.contains(&k.as_str())))
            {
                push_steps(items, out)?;
            } else {
                out.push(Message::text(
                    Role::User,
                    content_text(Some(input)).unwrap_or_default(),
                ));
            }
        }
        _ => {
            return Err(invalid(
                "input must be a string, a content, or a list of contents or steps.",
            ))
        }
    }
    Ok(())
}

/// Parse a create body; `history`: a stored interaction's conversation, by id.
fn parse(
    body: &[u8],
    recording: bool,
    history: impl Fn(&str) -> Option<Arc<Vec<Message>>>,
) -> Result<(ChatRequest, Opts), ApiError> {
    let v: CreateBody = crate::http::parse_json_body(body)?;
    let who = match (v.model, v.agent) {
        (Some(_), Some(_)) => return Err(invalid("Only one of model and agent may be set.")),
        (Some(m), None) => ("model", m.strip_prefix("models/").unwrap_or(&m).to_owned()),
        (None, Some(a)) => ("agent", a),
        (None, None) => return Err(invalid("model or agent is required.")),
    };
    let input = v.input.ok_or_else(|| invalid("input is required."))?;
    let store = v.store != Some(false);
    let background = v.background == Some(true);
    if background && !store {
        return Err(invalid(
            "A background interaction must be stored (store: true).",
        ));
    }
    let system_instruction = match v.system_instruction {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => content_text(Some(&other)),
    };
    let mut messages = Vec::new();
    if let Some(s) = &system_instruction {
        messages.push(Message::text(Role::System, s.as_str()));
    }
    if let Some(prev) = &v.previous_interaction_id {
        match history(prev) {
            Some(h) => messages.extend(h.iter().filter(|m| m.role != Role::System).cloned()),
            // Record mode: the upstream may know it.
            None if recording => {}
            None => return Err(not_found(prev)),
        }
    }
    input_messages(&input, &mut messages)?;
    let mut req = ChatRequest::chat(who.1.clone(), messages);
    req.tools = v
        .tools
        .unwrap_or_default()
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str).unwrap_or("function") == "function")
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    req.stream = v.stream == Some(true);
    let config = |k: &str| v.generation_config.as_ref().and_then(|g| g.get(k));
    let no_summaries = config("thinking_summaries").and_then(Value::as_str) == Some("none");
    let mut aspect = config("image_config")
        .and_then(|c| c.get("aspect_ratio"))
        .and_then(Value::as_str);
    let mut image = v
        .response_modalities
        .iter()
        .flatten()
        .any(|m| m.eq_ignore_ascii_case("image"));
    // `response_format`: one format or a list (`{"type": "text" | "image" | ...}`), or (the older
    // form) a bare JSON schema.
    let formats: Vec<&Value> = match &v.response_format {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
    };
    for f in formats {
        match f.get("type").and_then(Value::as_str) {
            Some("image") => {
                image = true;
                aspect = f.get("aspect_ratio").and_then(Value::as_str).or(aspect);
            }
            Some("text") => {
                let json = f.get("schema").is_some()
                    || f.get("mime_type").and_then(Value::as_str) == Some("application/json");
                if json {
                    req.response_format = Some("json_schema".to_owned());
                }
            }
            Some("audio" | "video") => {}
            _ => req.response_format = Some("json_schema".to_owned()),
        }
    }
    let image_size = match aspect {
        None => (1024, 1024),
        Some(a) => super::generate::image_size(a)
            .ok_or_else(|| invalid(format!("The image aspect ratio '{a}' is not supported.")))?,
    };
    if image {
        req.endpoint = crate::conversation::Endpoint::Image;
    }
    Ok((
        req,
        Opts {
            who,
            store,
            background: background && v.stream != Some(true),
            previous: v.previous_interaction_id,
            system_instruction,
            no_summaries,
            image_size,
            images: Vec::new(),
        },
    ))
}

/// How the Interactions API counts tokens.
const COUNTING: Counting = Counting {
    prompt: &[
        "total_input_tokens",
        "input_tokens",
        "prompt_tokens",
        "promptTokenCount",
    ],
    completion: &[
        "total_output_tokens",
        "output_tokens",
        "completion_tokens",
        "candidatesTokenCount",
    ],
    prompt_chars: ChatRequest::text_chars,
    reasoning: ReasoningCount::Apart,
};

/// One output step.
enum Step<'a> {
    Thought(&'a str),
    Text(&'a str),
    Image(&'a str, &'a str),
    Call {
        id: String,
        name: &'a str,
        args: Value,
    },
}

/// A reply as an interaction.
struct Rendered<'a> {
    id: String,
    status: &'static str,
    steps: Vec<Step<'a>>,
    usage: Value,
    created: String,
    assistant: Message,
}

impl<'a> Rendered<'a> {
    fn new(r: &'a Render<'a, Opts>) -> Rendered<'a> {
        let reply = r.reply;
        let reasoning = shown_reasoning(
            reply.reasoning.as_deref().filter(|s| !s.is_empty()),
            &r.req.model,
            r.strict,
        );
        let core = RenderedReply::new(r.req, reply, reasoning, &COUNTING, |i, c| {
            super::generate::generated_call_id(&c.name, i)
        });
        let mut steps = Vec::new();
        if let (Some(t), false) = (reasoning, r.opts.no_summaries) {
            steps.push(Step::Thought(t));
        }
        let mut assistant = Message {
            role: Role::Assistant,
            text: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        };
        let mut call = 0;
        for block in &reply.blocks {
            match block {
                Block::Text(t) if t.is_empty() && !r.opts.images.is_empty() => {}
                Block::Text(t) => {
                    assistant.text.get_or_insert_with(String::new).push_str(t);
                    steps.push(Step::Text(t));
                }
                Block::ToolCall(c) => {
                    let id = core.call_ids[call].clone();
                    call += 1;
                    let args = crate::providers::object_arguments(Some(
                        serde_json::from_str(&c.arguments).unwrap_or(Value::Null),
                    ));
                    assistant.tool_calls.push(ToolCallRef {
                        id: id.clone(),
                        name: c.name.clone(),
                        arguments: args.clone(),
                    });
                    steps.push(Step::Call {
                        id,
                        name: &c.name,
                        args: serde_json::from_str(&args).unwrap_or_else(|_| json!({})),
                    });
                }
            }
        }
        for (mime, data) in &r.opts.images {
            steps.push(Step::Image(mime, data));
        }
        let thoughts = reasoning.map(|t| {
            reply
                .overrides
                .usage_number(&[
                    "total_thought_tokens",
                    "thoughtsTokenCount",
                    "reasoning_tokens",
                ])
                .unwrap_or_else(|| crate::providers::estimate_tokens(t.len()))
        });
        let total = core.total_tokens(&["total_tokens", "totalTokenCount"], thoughts.unwrap_or(0));
        let mut usage = json!({
            "total_input_tokens": core.prompt_tokens,
            "total_output_tokens": core.completion_tokens,
            "total_tokens": total,
            "input_tokens_by_modality": [{"modality": "text", "tokens": core.prompt_tokens}],
            "output_tokens_by_modality": [{"modality": "text", "tokens": core.completion_tokens}],
        });
        if let Some(t) = thoughts {
            usage["total_thought_tokens"] = json!(t);
        }
        Rendered {
            id: core.id(|| format!("v1_{}", random_id("", 40))),
            status: if call > 0 {
                "requires_action"
            } else {
                "completed"
            },
            steps,
            usage,
            created: crate::http::time::rfc3339_now(0),
            assistant,
        }
    }

    fn step_json(step: &Step<'_>) -> Value {
        match step {
            Step::Thought(t) => {
                json!({"type": "thought", "summary": [{"type": "text", "text": t}]})
            }
            Step::Text(t) => {
                json!({"type": "model_output", "content": [{"type": "text", "text": t}]})
            }
            Step::Image(mime, data) => {
                json!({"type": "model_output", "content": [{"type": "image", "data": data, "mime_type": mime}]})
            }
            Step::Call { id, name, args } => {
                json!({"type": "function_call", "id": id, "name": name, "arguments": args})
            }
        }
    }

    /// The interaction's head: id, status, who answers, times.
    fn head(&self, opts: &Opts, status: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("object".into(), json!("interaction"));
        m.insert("status".into(), json!(status));
        m.insert(opts.who.0.into(), json!(opts.who.1));
        m.insert("created".into(), json!(self.created));
        m.insert("updated".into(), json!(self.created));
        m
    }

    /// The finished interaction.
    fn object(&self, opts: &Opts) -> Value {
        let mut m = self.head(opts, self.status);
        m.insert("role".into(), json!("model"));
        m.insert(
            "steps".into(),
            Value::Array(self.steps.iter().map(Self::step_json).collect()),
        );
        m.insert("usage".into(), self.usage.clone());
        if let Some(p) = &opts.previous {
            m.insert("previous_interaction_id".into(), json!(p));
        }
        if let Some(s) = &opts.system_instruction {
            m.insert("system_instruction".into(), json!(s));
        }
        Value::Object(m)
    }

    /// The stream's events.
    fn events(&self, opts: &Opts, chunk_size: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut n = 0;
        let mut push = |event: &str, mut data: Value| {
            n += 1;
            data["event_type"] = json!(event);
            data["event_id"] = json!(format!("evt_{n}"));
            out.push(Bytes::from(format!("event: {event}\ndata: {data}\n\n")));
        };
        push(
            "interaction.created",
            json!({"interaction": Value::Object(self.head(opts, "in_progress"))}),
        );
        push(
            "interaction.status_update",
            json!({"interaction_id": self.id, "status": "in_progress"}),
        );
        for (index, step) in self.steps.iter().enumerate() {
            match step {
                Step::Thought(t) => {
                    push(
                        "step.start",
                        json!({"index": index, "step": {"type": "thought"}}),
                    );
                    for piece in chunk_text(t, chunk_size) {
                        push(
                            "step.delta",
                            json!({"index": index, "delta": {"type": "thought_summary", "content": {"type": "text", "text": piece}}}),
                        );
                    }
                }
                Step::Text(t) => {
                    push(
                        "step.start",
                        json!({"index": index, "step": {"type": "model_output"}}),
                    );
                    for piece in chunk_text(t, chunk_size) {
                        push(
                            "step.delta",
                            json!({"index": index, "delta": {"type": "text", "text": piece}}),
                        );
                    }
                }
                Step::Image(mime, data) => {
                    push(
                        "step.start",
                        json!({"index": index, "step": {"type": "model_output"}}),
                    );
                    push(
                        "step.delta",
                        json!({"index": index, "delta": {"type": "image", "data": data, "mime_type": mime}}),
                    );
                }
                Step::Call { id, name, args } => {
                    push(
                        "step.start",
                        json!({"index": index, "step": {"type": "function_call", "id": id, "name": name, "arguments": {}}}),
                    );
                    push(
                        "step.delta",
                        json!({"index": index, "delta": {"type": "arguments_delta", "arguments": args.to_string()}}),
                    );
                }
            }
            push("step.stop", json!({"index": index}));
        }
        let mut done = self.head(opts, self.status);
        done.insert("usage".into(), self.usage.clone());
        push(
            "interaction.completed",
            json!({"interaction": Value::Object(done)}),
        );
        out
    }

    /// Keep the interaction (unless `store: false`).
    fn keep(&self, r: &Render<'_, Opts>, object: Value) {
        if !r.opts.store {
            return;
        }
        let mut history: Vec<Message> = r
            .req
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .cloned()
            .collect();
        let asked = history.len();
        history.push(self.assistant.clone());
        r.call.core.interactions.put(
            self.id.clone(),
            StoredInteraction {
                object: Arc::new(object),
                history: Arc::new(history),
                asked,
                running: r.opts.background,
                cancelled: false,
            },
        );
    }
}

/// `POST /{version}/interactions`.
#[derive(Debug)]
pub(crate) struct Interactions;

impl MessageApi for Interactions {
    type Opts = Opts;
    const SURFACE: &'static str = "the Interactions API";

    fn parse(call: &Call) -> Result<(ChatRequest, Opts), ApiError> {
        parse(&call.body, call.core.recorder.is_some(), |id| {
            call.core.interactions.get(id).map(|s| {
                if s.cancelled || s.running {
                    Arc::new(s.history[..s.asked].to_vec())
                } else {
                    s.history
                }
            })
        })
    }

    fn resolve(ex: &mut Exchange, req: &ChatRequest, opts: &mut Opts) -> Answer {
        match ex.resolve(req) {
            Answer::Fixture(f) => match &f.reply {
                Reply::Other {
                    kind: "image",
                    value,
                } => {
                    let turn = super::generate::fixture_pictures(value, opts.image_size, req)
                        .and_then(|p| {
                            opts.images = p;
                            super::generate::companion_reply(value)
                        });
                    match turn {
                        Ok(reply) => {
                            let mut g = (*f).clone();
                            g.reply = Reply::Message(reply);
                            Answer::Fixture(Arc::new(g))
                        }
                        Err(e) => Answer::Error(e),
                    }
                }
                _ => Answer::Fixture(f),
            },
            other => other,
        }
    }

    fn json(r: &Render<'_, Opts>) -> String {
        let rendered = Rendered::new(r);
        let object = rendered.object(r.opts);
        rendered.keep(r, object.clone());
        if r.opts.background {
            return Value::Object(rendered.head(r.opts, "in_progress")).to_string();
        }
        object.to_string()
    }

    fn stream(r: &Render<'_, Opts>) -> Streamed {
        let rendered = Rendered::new(r);
        rendered.keep(r, rendered.object(r.opts));
        Streamed::sse(
            rendered.events(r.opts, r.chunk_size),
            vec![Bytes::from_static(b"event: done\ndata: [DONE]\n\n")],
        )
    }
}

/// `GET`, `DELETE` and `cancel` of a stored interaction.
fn stored(mut call: Call) -> Answered {
    // Journaled like every request.
    let ex = Exchange::new(&mut call);
    let id = call.route.info.id.clone().unwrap_or_default();
    let store = &call.core.interactions;
    let answer = match call.route.info.action {
        Some("delete") => {
            if store.remove(&id) {
                Ok(json!({}))
            } else {
                Err(not_found(&id))
            }
        }
        Some("cancel") => store
            .with(&id, |s| {
                if !s.running {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "failed_precondition",
                        format!("Interaction '{id}' is not running: only a background interaction in progress can be cancelled."),
                    ));
                }
                s.running = false;
                s.cancelled = true;
                Ok(unfinished(&s.object, "cancelled"))
            })
            .unwrap_or_else(|| Err(not_found(&id))),
        _ => store
            .with(&id, |s| {
                // A background interaction is done by the time it is read.
                s.running = false;
                if s.cancelled {
                    unfinished(&s.object, "cancelled")
                } else {
                    (*s.object).clone()
                }
            })
            .ok_or_else(|| not_found(&id)),
    };
    Answered::Now(match answer {
        Ok(v) => ex.reply(crate::http::json_response(StatusCode::OK, &v)),
        Err(e) => ex.fail(e),
    })
}

/// An interaction without its answer, in `status`.
fn unfinished(object: &Value, status: &str) -> Value {
    let mut v = object.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("steps");
        m.remove("usage");
        m.insert("status".into(), json!(status));
    }
    v
}

/// Record mode: an interaction (or its stream of step events) read back into a fixture.
pub(crate) mod collapse {
    use serde_json::Value;

    use crate::record::collapse::{sse_json, str_of, Builder, Finish};

    /// The usage's totals, in the names fixtures use.
    fn usage(b: &mut Builder, u: Option<&Value>) {
        let Some(u) = u.filter(|u| u.is_object()) else {
            return;
        };
        let mut m = serde_json::Map::new();
        for (from, to) in [
            ("total_input_tokens", "input_tokens"),
            ("total_output_tokens", "output_tokens"),
            ("total_tokens", "total_tokens"),
        ] {
            if let Some(n) = u.get(from).filter(|n| n.is_u64()) {
                m.insert(to.into(), n.clone());
            }
        }
        b.usage = None;
        b.merge_usage(&Value::Object(m));
    }

    fn status(b: &mut Builder, s: Option<&str>) {
        match s {
            Some("completed" | "requires_action") => {
                b.finish = Some(Finish::Natural);
                b.complete = true;
            }
            Some("incomplete") => {
                b.finish = Some(Finish::Named("length".into()));
                b.complete = true;
            }
            _ => {}
        }
    }

    fn summary_text(v: Option<&Value>) -> String {
        let mut t = String::new();
        for c in v.and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = str_of(c.get("text")) {
                t.push_str(s);
            }
        }
        t
    }

    /// The steps of a finished interaction.
    fn steps(b: &mut Builder, steps: &[Value]) {
        for step in steps {
            match str_of(step.get("type")) {
                Some("thought") => b.reasoning(&summary_text(step.get("summary"))),
                Some("model_output") => {
                    for c in step
                        .get("content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(t) = str_of(c.get("text")) {
                            b.text(t);
                        }
                    }
                }
                Some("function_call") => {
                    let slot = b.tool(
                        str_of(step.get("name")).unwrap_or(""),
                        str_of(step.get("id")),
                    );
                    match step.get("arguments") {
                        Some(a) => b.tool_whole_args(slot, a),
                        None => b.tool_args(slot, "{}"),
                    }
                }
                _ => {}
            }
        }
    }

    pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
        // Step index -> tool slot, for a function call's argument deltas.
        let mut calls: Vec<(u64, usize)> = Vec::new();
        for (_, v) in sse_json(b, body) {
            let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
            match str_of(v.get("event_type")) {
                Some("error") => b.stream_error(v.get("error").unwrap_or(&v)),
                Some("interaction.created") => b.set_model(v.pointer("/interaction/model")),
                Some("step.start") => {
                    let step = v.get("step").unwrap_or(&Value::Null);
                    if str_of(step.get("type")) == Some("function_call") {
                        let slot = b.tool(
                            str_of(step.get("name")).unwrap_or(""),
                            str_of(step.get("id")),
                        );
                        calls.push((index, slot));
                    }
                }
                Some("step.delta") => {
                    let d = v.get("delta").unwrap_or(&Value::Null);
                    match str_of(d.get("type")) {
                        Some("text") => b.text(str_of(d.get("text")).unwrap_or("")),
                        Some("thought_summary") => {
                            b.reasoning(str_of(d.pointer("/content/text")).unwrap_or(""))
                        }
                        Some("arguments_delta") => {
                            if let Some(&(_, slot)) = calls.iter().find(|(i, _)| *i == index) {
                                b.tool_args(slot, str_of(d.get("arguments")).unwrap_or(""));
                            }
                        }
                        _ => {}
                    }
                }
                Some("interaction.completed") => {
                    let i = v.get("interaction").unwrap_or(&Value::Null);
                    usage(b, i.get("usage"));
                    status(b, str_of(i.get("status")));
                }
                _ => {}
            }
        }
    }

    pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
        let Some(list) = v.get("steps").and_then(Value::as_array) else {
            return false;
        };
        b.set_model(v.get("model"));
        steps(b, list);
        usage(b, v.get("usage"));
        status(b, str_of(v.get("status")));
        b.complete = true;
        true
    }

    /// How record mode reads this API's replies into fixtures.
    pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
        name: "Gemini Interactions",
        stream,
        json,
        framing: crate::record::collapse::Framing::Sse,
        status_in_code: false,
        compat: None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(body: Value) -> ChatRequest {
        parse(body.to_string().as_bytes(), false, |_| None)
            .unwrap()
            .0
    }

    #[test]
    fn every_input_form_is_a_conversation() {
        let r = conv(
            json!({"model": "gemini-3-flash", "input": "hi", "system_instruction": "Be brief."}),
        );
        assert_eq!(r.system_text(), "Be brief.");
        assert_eq!(r.last_user_text(), Some("hi"));
        let r = conv(
            json!({"model": "m", "input": [{"type": "text", "text": "a "}, {"type": "text", "text": "b"}]}),
        );
        assert_eq!(r.last_user_text(), Some("a b"));
        let r = conv(json!({"model": "m", "input": {"type": "text", "text": "one"}}));
        assert_eq!(r.last_user_text(), Some("one"));
        let r = conv(json!({"model": "m", "input": [
            {"type": "user_input", "content": [{"type": "text", "text": "weather?"}]},
            {"type": "thought", "signature": "c2ln"},
            {"type": "function_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}},
            {"type": "function_result", "call_id": "c1", "name": "get_weather", "result": {"t": 20}}
        ], "tools": [{"type": "function", "name": "get_weather"}]}));
        assert_eq!(r.messages.len(), 3);
        assert_eq!(r.messages[1].tool_calls[0].arguments, r#"{"city":"Paris"}"#);
        assert_eq!(
            r.last_tool_result().unwrap().tool_call_id.as_deref(),
            Some("c1")
        );
        assert_eq!(
            r.last_tool_result().unwrap().text.as_deref(),
            Some(r#"{"t":20}"#)
        );
        assert_eq!(r.tools, vec!["get_weather"]);
        let r = conv(json!({"agent": "deep-research", "input": [
            {"role": "user", "content": "hi"},
            {"role": "model", "content": [{"type": "text", "text": "hello"}]},
            {"role": "user", "content": [{"type": "text", "text": "again"}]}
        ]}));
        assert_eq!(r.model, "deep-research");
        assert_eq!(r.messages.len(), 3);
        assert_eq!(r.messages[1].text.as_deref(), Some("hello"));
    }

    #[test]
    fn a_previous_interaction_puts_its_turns_first_and_bad_bodies_are_invalid() {
        let h = Arc::new(vec![
            Message::text(Role::User, "one"),
            Message::text(Role::Assistant, "1"),
        ]);
        let (r, o) = parse(
            br#"{"model": "m", "input": "two", "previous_interaction_id": "v1_a", "system_instruction": "s"}"#,
            false,
            |id| (id == "v1_a").then(|| h.clone()),
        )
        .unwrap();
        assert_eq!(r.messages.len(), 4);
        assert_eq!(r.messages[0].role, Role::System);
        assert_eq!(r.messages[2].text.as_deref(), Some("1"));
        assert_eq!(o.previous.as_deref(), Some("v1_a"));
        let e = parse(
            br#"{"model": "m", "input": "x", "previous_interaction_id": "nope"}"#,
            false,
            |_| None,
        )
        .err()
        .unwrap();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        for bad in [
            r#"{"input": "x"}"#,
            r#"{"model": "m", "agent": "a", "input": "x"}"#,
            r#"{"model": "m"}"#,
            r#"{"model": "m", "input": 3}"#,
            r#"{"model": "m", "input": [{"type": "function_call", "name": "f"}]}"#,
            r#"{"model": "m", "input": "x", "background": true, "store": false}"#,
        ] {
            let e = parse(bad.as_bytes(), false, |_| None).err().unwrap();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn routes_and_error_codes() {
        assert!(route(&Method::POST, "/v1beta/interactions").is_some());
        assert_eq!(
            route(&Method::GET, "/v1beta/interactions/v1_x")
                .unwrap()
                .info
                .id
                .as_deref(),
            Some("v1_x")
        );
        assert_eq!(
            route(&Method::POST, "/v1beta/interactions/v1_x/cancel")
                .unwrap()
                .info
                .action,
            Some("cancel")
        );
        assert!(route(&Method::GET, "/v1beta/interactions").is_none());
        assert!(route(&Method::GET, "/v9/interactions/x").is_none());
        assert!(route(&Method::GET, "/v1beta/interactionsx").is_none());
        assert_eq!(code_of(StatusCode::NOT_FOUND), "not_found");
        assert_eq!(code_of(StatusCode::BAD_REQUEST), "invalid_request");
        assert_eq!(code_of(StatusCode::INTERNAL_SERVER_ERROR), "internal");
    }
}
