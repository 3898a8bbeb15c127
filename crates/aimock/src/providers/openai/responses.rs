//! `POST /v1/responses`: the OpenAI Responses API, as JSON and as typed SSE events.
//!
//! The request's `instructions` and `input` items become the conversation the matcher sees; the
//! fixture's reply becomes output items (reasoning, web searches, then messages and function calls
//! in the fixture's block order). Ids use OpenAI's shapes (`resp_`, `msg_`, `rs_`, `fc_`, `call_`,
//! `ws_`), where aimock wrote `resp-`. Every stream event carries a `sequence_number`, counting from
//! 0; the stream ends with `response.completed` (or `response.incomplete`), never `[DONE]`.
//!
//! Nothing here keeps state between requests: `previous_response_id` is accepted and echoed, not
//! resolved.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::Response;
use base64::Engine;
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error_response;
use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::{Block, Fixture, MessageReply, Reply};
use crate::providers::{emit_reasoning, estimate_tokens, is_reasoning_model, random_id, unix_now};
use crate::server::exchange::{on_stream_end, Answer};
use crate::server::{ApiError, AppState, Exchange, RequestCtx, RouteInfo};
use crate::stream::sse_response;
use crate::stream::{chunk_text, paced_body, sse_event, Pacing, StreamPlan};

/// The body fields the endpoint reads or echoes back; `input` is walked by hand so errors can name
/// the item at fault.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResponsesOptions {
    model: Option<String>,
    input: Option<Value>,
    instructions: Option<String>,
    tools: Option<Vec<Value>>,
    tool_choice: Option<Value>,
    text: Option<Map<String, Value>>,
    /// Not a Responses field, but aimock read it; kept for fixtures written against that.
    response_format: Option<Value>,
    stream: Option<bool>,
    include: Option<Vec<String>>,
    store: Option<bool>,
    previous_response_id: Option<String>,
    prompt: Option<Value>,
    conversation: Option<Value>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_output_tokens: Option<u64>,
    parallel_tool_calls: Option<bool>,
    metadata: Option<Map<String, Value>>,
    reasoning: Option<Value>,
    truncation: Option<String>,
    user: Option<String>,
}

impl ResponsesOptions {
    /// `include` asks for `reasoning.encrypted_content`.
    fn includes_encrypted(&self) -> bool {
        self.include
            .iter()
            .flatten()
            .any(|s| s == "reasoning.encrypted_content")
    }
}

fn with_param(mut e: ApiError, param: String) -> ApiError {
    e.param = Some(Value::String(param));
    e
}

fn missing(param: &str) -> ApiError {
    let e = ApiError::invalid(format!("Missing required parameter: '{param}'."))
        .with_code("missing_required_parameter");
    with_param(e, param.to_owned())
}

/// OpenAI's wording for a value of the wrong JSON type.
fn wrong_type(path: String, expected: &str, got: &Value) -> ApiError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let e = ApiError::invalid(format!(
        "Invalid type for '{path}': expected {expected}, but got {got} instead."
    ))
    .with_code("invalid_type");
    with_param(e, path)
}

/// A string field of an input item: `None` when absent or null.
fn str_field<'v>(
    item: &'v Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'v str>, ApiError> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(format!("{at}.{key}"), "a string", other)),
    }
}

/// Text of a `content` (or function output) field: a string, or its text parts joined; `None` when
/// there is no text part (an image-only message).
fn content_text(v: Option<&Value>, at: &str) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(parts)) => {
            let mut out: Option<String> = None;
            for (j, p) in parts.iter().enumerate() {
                let Value::Object(part) = p else {
                    return Err(wrong_type(format!("{at}[{j}]"), "an object", p));
                };
                let kind = str_field(part, "type", &format!("{at}[{j}]"))?;
                if matches!(kind, Some("input_text" | "output_text" | "text")) {
                    if let Some(t) = str_field(part, "text", &format!("{at}[{j}]"))? {
                        out.get_or_insert_with(String::new).push_str(t);
                    }
                }
            }
            Ok(out)
        }
        Some(other) => Err(wrong_type(
            at.to_owned(),
            "one of a string or array of objects",
            other,
        )),
    }
}

/// Turn the `input` item list into messages.
///
/// A `function_call` joins the assistant message right before it (one model turn may say something
/// and call several tools); an `item_reference` stands for an earlier assistant turn, so it counts
/// for `turnIndex`. A `function_call_output` whose call is not in the input (the call was sent by
/// reference) gets that call added to the current turn's assistant message, or to a new one.
fn push_items(items: &[Value], messages: &mut Vec<Message>) -> Result<(), ApiError> {
    for (i, v) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        let Value::Object(item) = v else {
            return Err(wrong_type(at, "an object", v));
        };
        match str_field(item, "type", &at)? {
            None | Some("message") => {
                let role = match str_field(item, "role", &at)? {
                    Some("user") => Role::User,
                    Some("system" | "developer") => Role::System,
                    Some("assistant") => Role::Assistant,
                    Some(other) => {
                        let e = ApiError::invalid(format!(
                            "Invalid value: '{other}'. Supported values are: 'user', 'assistant', 'system', and 'developer'."
                        ))
                        .with_code("invalid_value");
                        return Err(with_param(e, format!("{at}.role")));
                    }
                    None => return Err(missing(&format!("{at}.role"))),
                };
                let text = content_text(item.get("content"), &format!("{at}.content"))?;
                messages.push(Message {
                    role,
                    text,
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                });
            }
            Some("function_call") => {
                let call = ToolCallRef {
                    id: str_field(item, "call_id", &at)?
                        .map_or_else(|| random_id("call_", 24), str::to_owned),
                    name: str_field(item, "name", &at)?.unwrap_or_default().to_owned(),
                    arguments: str_field(item, "arguments", &at)?
                        .unwrap_or_default()
                        .to_owned(),
                };
                match messages.last_mut() {
                    Some(m) if m.role == Role::Assistant => attach(m, call),
                    _ => messages.push(assistant_calling(call)),
                }
            }
            Some("function_call_output") => {
                let call_id = str_field(item, "call_id", &at)?
                    .unwrap_or_default()
                    .to_owned();
                let output = content_text(item.get("output"), &format!("{at}.output"))?;
                let known = messages.iter().any(|m| {
                    m.role == Role::Assistant && m.tool_calls.iter().any(|c| c.id == call_id)
                });
                if !known {
                    let call = ToolCallRef {
                        id: call_id.clone(),
                        name: String::new(),
                        arguments: String::new(),
                    };
                    let turn = messages
                        .iter_mut()
                        .rev()
                        .take_while(|m| m.role != Role::User)
                        .find(|m| m.role == Role::Assistant);
                    match turn {
                        Some(m) => attach(m, call),
                        None => messages.push(assistant_calling(call)),
                    }
                }
                messages.push(Message::tool_result(call_id, output.unwrap_or_default()));
            }
            Some("item_reference") => {
                if messages.last().is_none_or(|m| m.role != Role::Assistant) {
                    messages.push(Message::text(Role::Assistant, ""));
                }
            }
            // Reasoning items, built-in tool calls and their outputs say nothing the matcher uses.
            Some(_) => {}
        }
    }
    Ok(())
}

fn attach(m: &mut Message, call: ToolCallRef) {
    // An item_reference placeholder that turns out to be a tool call has no text.
    if m.tool_calls.is_empty() && m.text.as_deref() == Some("") {
        m.text = None;
    }
    m.tool_calls.push(call);
}

fn assistant_calling(call: ToolCallRef) -> Message {
    Message {
        role: Role::Assistant,
        text: None,
        tool_calls: vec![call],
        tool_call_id: None,
    }
}

/// Parse a Responses body into the conversation and the fields the reply echoes.
pub(crate) fn parse(
    body: &[u8],
    deployment: Option<&str>,
) -> Result<(ChatRequest, ResponsesOptions), ApiError> {
    let mut v: ResponsesOptions = crate::providers::parse_json_body(body)?;
    let mut messages = Vec::new();
    if let Some(i) = v.instructions.as_deref().filter(|i| !i.is_empty()) {
        messages.push(Message::text(Role::System, i));
    }
    match &v.input.take() {
        Some(Value::String(s)) => messages.push(Message::text(Role::User, s.as_str())),
        Some(Value::Array(items)) => push_items(items, &mut messages)?,
        None | Some(Value::Null) => {
            // Stored state (a previous response, a conversation, a prompt template) can stand in
            // for the input; this mock keeps none, so the conversation is just the instructions.
            if v.previous_response_id.is_none() && v.conversation.is_none() && v.prompt.is_none() {
                return Err(missing("input"));
            }
        }
        Some(other) => {
            return Err(wrong_type(
                "input".to_owned(),
                "one of a string or array of input items",
                other,
            ))
        }
    }
    let mut names = Vec::new();
    for (i, t) in v.tools.iter().flatten().enumerate() {
        let Value::Object(tool) = t else {
            return Err(wrong_type(format!("tools[{i}]"), "an object", t));
        };
        if tool.get("type").and_then(Value::as_str) == Some("function") {
            if let Some(name) = str_field(tool, "name", &format!("tools[{i}]"))? {
                names.push(name.to_owned());
            }
        }
    }
    let format_type = |v: Option<&Value>| {
        v.and_then(|f| f.get("type"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let response_format = format_type(v.text.as_ref().and_then(|t| t.get("format")))
        .or_else(|| format_type(v.response_format.as_ref()));
    let model = v
        .model
        .take()
        .filter(|m| !m.is_empty())
        .or_else(|| deployment.map(str::to_owned))
        .unwrap_or_default();
    let req = ChatRequest {
        model,
        messages,
        tools: names,
        response_format,
        endpoint: Endpoint::Chat,
        embedding_input: None,
        stream: v.stream.unwrap_or(false),
    };
    Ok((req, v))
}

/// The handler.
pub(crate) fn handle(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Bytes,
    info: RouteInfo,
) -> Response {
    let mut ex = Exchange::new(state, ctx);
    let (req, opts) = match parse(&body, info.deployment.as_deref()) {
        Ok(r) => r,
        Err(e) => return ex.fail(e, error_response),
    };
    let req = Arc::new(req);
    ex.set_request(req.clone(), body.len());
    let fixture = match ex.resolve(&req) {
        Answer::Fixture(f) => f,
        Answer::Error(e) => return ex.fail(e, error_response),
    };
    let reply = match &fixture.reply {
        Reply::Message(m) => m,
        other => {
            let e = ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                format!(
                    "Fixture {} answers with {}, which the Responses API cannot serve",
                    fixture.describe(),
                    other.kind()
                ),
            );
            return ex.fail(e, error_response);
        }
    };
    let r = Rendered::new(&req, &opts, reply, ex.ctx.strict);
    if req.stream {
        let chunk = fixture
            .stream
            .chunk_size
            .unwrap_or(ex.state.config.chunk_size);
        let plan = stream_plan(&fixture, &ex.state, r.sse(chunk));
        let handle = ex.start_stream();
        let plan = StreamPlan {
            on_end: Some(on_stream_end(handle)),
            ..plan
        };
        sse_response(paced_body(plan))
    } else {
        ex.finish(StatusCode::OK);
        let mut resp = Response::new(Body::from(r.json()));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    }
}

fn stream_plan(fixture: &Fixture, state: &AppState, events: Vec<Bytes>) -> StreamPlan {
    StreamPlan {
        events,
        trailer: Vec::new(),
        pacing: Pacing::for_fixture(
            &fixture.stream,
            state.config.latency,
            state.config.replay_speed,
        ),
        truncate_after: fixture.stream.truncate_after_chunks,
        disconnect_after: fixture
            .stream
            .disconnect_after_ms
            .map(crate::stream::duration_ms),
        on_end: None,
    }
}

/// `annotations: []`, `logprobs: []`.
const EMPTY: &[Value] = &[];

/// A content part: message text, or a reasoning summary.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Part<'a> {
    OutputText {
        annotations: &'static [Value],
        logprobs: &'static [Value],
        text: &'a str,
    },
    SummaryText {
        text: &'a str,
    },
}

fn output_text(text: &str) -> Part<'_> {
    Part::OutputText {
        annotations: EMPTY,
        logprobs: EMPTY,
        text,
    }
}

#[derive(Serialize)]
struct SearchAction<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    query: &'a str,
}

/// One output item, as the finished response shows it; [`Item::started`] gives the
/// `output_item.added` form.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Item<'a> {
    Reasoning {
        id: String,
        summary: Vec<Part<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    WebSearchCall {
        id: String,
        status: &'static str,
        action: SearchAction<'a>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<Part<'a>>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: &'a str,
        arguments: &'a str,
        status: &'static str,
    },
}

impl<'a> Item<'a> {
    fn id(&self) -> &str {
        match self {
            Item::Reasoning { id, .. }
            | Item::WebSearchCall { id, .. }
            | Item::Message { id, .. }
            | Item::FunctionCall { id, .. } => id,
        }
    }

    /// The item as `response.output_item.added` shows it: in progress, with nothing generated yet.
    fn started(&self) -> Item<'a> {
        match self {
            Item::Reasoning { id, .. } => Item::Reasoning {
                id: id.clone(),
                summary: Vec::new(),
                encrypted_content: None,
            },
            Item::WebSearchCall { id, action, .. } => Item::WebSearchCall {
                id: id.clone(),
                status: "in_progress",
                action: SearchAction {
                    kind: action.kind,
                    query: action.query,
                },
            },
            Item::Message { id, role, .. } => Item::Message {
                id: id.clone(),
                status: "in_progress",
                role,
                content: Vec::new(),
            },
            Item::FunctionCall {
                id, call_id, name, ..
            } => Item::FunctionCall {
                id: id.clone(),
                call_id: call_id.clone(),
                name,
                arguments: "",
                status: "in_progress",
            },
        }
    }
}

#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    input_tokens_details: Value,
    output_tokens: u64,
    output_tokens_details: Value,
    total_tokens: u64,
}

#[derive(Serialize)]
struct IncompleteDetails {
    reason: &'static str,
}

/// The `response` object, in the field order OpenAI sends.
#[derive(Serialize)]
struct ResponseObject<'r> {
    id: &'r str,
    object: &'static str,
    created_at: i64,
    status: &'r str,
    background: bool,
    completed_at: Option<i64>,
    error: Option<Value>,
    incomplete_details: Option<&'r IncompleteDetails>,
    instructions: Option<&'r str>,
    max_output_tokens: Option<u64>,
    max_tool_calls: Option<u64>,
    model: &'r str,
    output: &'r [Item<'r>],
    parallel_tool_calls: bool,
    previous_response_id: Option<&'r str>,
    reasoning: &'r Value,
    service_tier: &'static str,
    store: bool,
    temperature: f64,
    text: &'r Value,
    tool_choice: &'r Value,
    tools: &'r [Value],
    top_logprobs: u32,
    top_p: f64,
    truncation: &'r str,
    usage: Option<&'r Usage>,
    user: Option<&'r str>,
    metadata: &'r Value,
}

/// One stream event; absent fields are left out.
#[derive(Serialize, Default)]
struct Event<'r> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<ResponseObject<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<&'r Item<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<Part<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<&'static [Value]>,
    sequence_number: u64,
}

impl<'r> Event<'r> {
    fn new(kind: &'static str) -> Self {
        Event {
            kind,
            ..Default::default()
        }
    }

    fn at(kind: &'static str, output_index: usize, item_id: &'r str) -> Self {
        Event {
            kind,
            output_index: Some(output_index),
            item_id: Some(item_id),
            ..Default::default()
        }
    }
}

/// Events framed as SSE, numbered as they are pushed.
#[derive(Default)]
struct Events {
    out: Vec<Bytes>,
}

impl Events {
    fn push(&mut self, mut e: Event<'_>) {
        e.sequence_number = self.out.len() as u64;
        let json = serde_json::to_string(&e).unwrap_or_default();
        self.out.push(sse_event(e.kind, &json));
    }
}

/// Everything needed to render one reply, computed once.
struct Rendered<'a> {
    id: String,
    created: i64,
    model: &'a str,
    opts: &'a ResponsesOptions,
    output: Vec<Item<'a>>,
    status: &'static str,
    incomplete: Option<IncompleteDetails>,
    usage: Usage,
    text: Value,
    tool_choice: Value,
    reasoning: Value,
    metadata: Value,
}

/// Synthetic stand-in for OpenAI's opaque `encrypted_content` (what aimock sends): stable for an
/// item, never checked when a client sends it back.
fn encrypted_reasoning(id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("aimock-encrypted-reasoning:{id}"))
}

impl<'a> Rendered<'a> {
    fn new(
        req: &'a ChatRequest,
        opts: &'a ResponsesOptions,
        reply: &'a MessageReply,
        strict: bool,
    ) -> Self {
        let o = &reply.overrides;
        let model = o.model.as_deref().unwrap_or(if req.model.is_empty() {
            "gpt-4o"
        } else {
            &req.model
        });
        let mut output = Vec::new();
        let reasoning = reply
            .reasoning
            .as_deref()
            .filter(|r| !r.is_empty())
            .filter(|_| emit_reasoning(&req.model, strict));
        // With the explicit `include`, a reasoning model returns a reasoning item even without a
        // summary: the carrier of the encrypted content (aimock does the same).
        if reasoning.is_some() || (opts.includes_encrypted() && is_reasoning_model(&req.model)) {
            let id = random_id("rs_", 48);
            let encrypted = (opts.includes_encrypted() || opts.store == Some(false))
                .then(|| encrypted_reasoning(&id));
            output.push(Item::Reasoning {
                id,
                summary: reasoning
                    .map(|text| Part::SummaryText { text })
                    .into_iter()
                    .collect(),
                encrypted_content: encrypted,
            });
        }
        for query in &reply.web_searches {
            output.push(Item::WebSearchCall {
                id: random_id("ws_", 48),
                status: "completed",
                action: SearchAction {
                    kind: "search",
                    query,
                },
            });
        }
        for block in &reply.blocks {
            output.push(match block {
                Block::Text(text) => Item::Message {
                    id: random_id("msg_", 48),
                    status: "completed",
                    role: "assistant",
                    content: vec![output_text(text)],
                },
                Block::ToolCall(c) => Item::FunctionCall {
                    id: random_id("fc_", 48),
                    call_id: c.id.clone().unwrap_or_else(|| random_id("call_", 24)),
                    name: &c.name,
                    arguments: &c.arguments,
                    status: "completed",
                },
            });
        }
        let (status, incomplete) = match reply.finish_reason() {
            "length" => ("incomplete", Some("max_output_tokens")),
            "content_filter" => ("incomplete", Some("content_filter")),
            _ => ("completed", None),
        };
        Rendered {
            id: o.id.clone().unwrap_or_else(|| random_id("resp_", 48)),
            created: o.created.unwrap_or_else(unix_now),
            model,
            opts,
            usage: usage(req, reply, reasoning),
            output,
            status,
            incomplete: incomplete.map(|reason| IncompleteDetails { reason }),
            text: opts
                .text
                .clone()
                .map_or_else(|| json!({ "format": { "type": "text" } }), Value::Object),
            tool_choice: opts.tool_choice.clone().unwrap_or_else(|| json!("auto")),
            reasoning: opts
                .reasoning
                .clone()
                .unwrap_or_else(|| json!({ "effort": null, "summary": null })),
            metadata: Value::Object(opts.metadata.clone().unwrap_or_default()),
        }
    }

    /// The response object; `done` gives the finished one (status, output, usage), otherwise the
    /// one `response.created` and `response.in_progress` carry.
    fn response(&self, done: bool) -> ResponseObject<'_> {
        let o = self.opts;
        ResponseObject {
            id: &self.id,
            object: "response",
            created_at: self.created,
            status: if done { self.status } else { "in_progress" },
            background: false,
            completed_at: (done && self.status == "completed").then_some(self.created),
            error: None,
            incomplete_details: self.incomplete.as_ref().filter(|_| done),
            instructions: o.instructions.as_deref(),
            max_output_tokens: o.max_output_tokens,
            max_tool_calls: None,
            model: self.model,
            output: if done { &self.output } else { &[] },
            parallel_tool_calls: o.parallel_tool_calls.unwrap_or(true),
            previous_response_id: o.previous_response_id.as_deref(),
            reasoning: &self.reasoning,
            service_tier: "default",
            store: o.store.unwrap_or(true),
            temperature: o.temperature.unwrap_or(1.0),
            text: &self.text,
            tool_choice: &self.tool_choice,
            tools: o.tools.as_deref().unwrap_or_default(),
            top_logprobs: 0,
            top_p: o.top_p.unwrap_or(1.0),
            truncation: o.truncation.as_deref().unwrap_or("disabled"),
            usage: done.then_some(&self.usage),
            user: o.user.as_deref(),
            metadata: &self.metadata,
        }
    }

    fn json(&self) -> String {
        serde_json::to_string(&self.response(true)).unwrap_or_default()
    }

    /// Every event of the stream, framed.
    fn sse(&self, chunk_size: usize) -> Vec<Bytes> {
        let mut ev = Events::default();
        ev.push(Event {
            response: Some(self.response(false)),
            ..Event::new("response.created")
        });
        ev.push(Event {
            response: Some(self.response(false)),
            ..Event::new("response.in_progress")
        });
        for (index, item) in self.output.iter().enumerate() {
            let started = item.started();
            ev.push(Event {
                output_index: Some(index),
                item: Some(&started),
                ..Event::new("response.output_item.added")
            });
            let id = item.id();
            match item {
                Item::Reasoning { summary, .. } => {
                    for (s, part) in summary.iter().enumerate() {
                        let Part::SummaryText { text } = part else {
                            continue;
                        };
                        let at = |kind| Event {
                            summary_index: Some(s),
                            ..Event::at(kind, index, id)
                        };
                        ev.push(Event {
                            part: Some(Part::SummaryText { text: "" }),
                            ..at("response.reasoning_summary_part.added")
                        });
                        for piece in chunk_text(text, chunk_size) {
                            ev.push(Event {
                                delta: Some(piece),
                                ..at("response.reasoning_summary_text.delta")
                            });
                        }
                        ev.push(Event {
                            text: Some(text),
                            ..at("response.reasoning_summary_text.done")
                        });
                        ev.push(Event {
                            part: Some(Part::SummaryText { text }),
                            ..at("response.reasoning_summary_part.done")
                        });
                    }
                }
                Item::WebSearchCall { .. } => {
                    for kind in [
                        "response.web_search_call.in_progress",
                        "response.web_search_call.searching",
                        "response.web_search_call.completed",
                    ] {
                        ev.push(Event::at(kind, index, id));
                    }
                }
                Item::Message { content, .. } => {
                    for (c, part) in content.iter().enumerate() {
                        let Part::OutputText { text, .. } = part else {
                            continue;
                        };
                        let at = |kind| Event {
                            content_index: Some(c),
                            ..Event::at(kind, index, id)
                        };
                        ev.push(Event {
                            part: Some(output_text("")),
                            ..at("response.content_part.added")
                        });
                        for piece in chunk_text(text, chunk_size) {
                            ev.push(Event {
                                delta: Some(piece),
                                logprobs: Some(EMPTY),
                                ..at("response.output_text.delta")
                            });
                        }
                        ev.push(Event {
                            text: Some(text),
                            logprobs: Some(EMPTY),
                            ..at("response.output_text.done")
                        });
                        ev.push(Event {
                            part: Some(output_text(text)),
                            ..at("response.content_part.done")
                        });
                    }
                }
                Item::FunctionCall { arguments, .. } => {
                    for piece in chunk_text(arguments, chunk_size) {
                        ev.push(Event {
                            delta: Some(piece),
                            ..Event::at("response.function_call_arguments.delta", index, id)
                        });
                    }
                    ev.push(Event {
                        arguments: Some(arguments),
                        ..Event::at("response.function_call_arguments.done", index, id)
                    });
                }
            }
            ev.push(Event {
                output_index: Some(index),
                item: Some(item),
                ..Event::new("response.output_item.done")
            });
        }
        let terminal = if self.status == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        ev.push(Event {
            response: Some(self.response(true)),
            ..Event::new(terminal)
        });
        ev.out
    }
}

/// Token counts: the fixture's override, else aimock's estimate (a quarter of the characters).
fn usage(req: &ChatRequest, reply: &MessageReply, reasoning: Option<&str>) -> Usage {
    let o = &reply.overrides;
    let prompt_chars: usize = req
        .messages
        .iter()
        .map(|m| m.text.as_deref().map_or(0, str::len))
        .sum();
    let completion_chars: usize = reply
        .blocks
        .iter()
        .map(|b| match b {
            Block::Text(t) => t.len(),
            Block::ToolCall(c) => c.name.len() + c.arguments.len(),
        })
        .sum();
    let reasoning_tokens = reasoning.map_or(0, |r| estimate_tokens(r.len()));
    let input = o
        .usage_number(&["input_tokens", "prompt_tokens"])
        .unwrap_or_else(|| estimate_tokens(prompt_chars));
    let output = o
        .usage_number(&["output_tokens", "completion_tokens"])
        .unwrap_or_else(|| estimate_tokens(completion_chars) + reasoning_tokens);
    let details = |key: &str, default: Value| {
        o.usage
            .as_ref()
            .and_then(|u| u.get(key))
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or(default)
    };
    Usage {
        input_tokens: input,
        input_tokens_details: details(
            "input_tokens_details",
            json!({ "cached_tokens": 0, "cache_write_tokens": 0 }),
        ),
        output_tokens: output,
        output_tokens_details: details(
            "output_tokens_details",
            json!({ "reasoning_tokens": reasoning_tokens }),
        ),
        total_tokens: o.usage_number(&["total_tokens"]).unwrap_or(input + output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(body: Value) -> Vec<Message> {
        parse(body.to_string().as_bytes(), None)
            .map(|(r, _)| r.messages)
            .unwrap_or_else(|e| panic!("{}", e.message))
    }

    #[test]
    fn parallel_function_calls_join_one_assistant_turn() {
        let m = conv(json!({"model": "m", "input": [
            {"role": "user", "content": "hi"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
            {"type": "function_call", "call_id": "c1", "name": "a", "arguments": "{}"},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "call_id": "c2", "name": "b", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "function_call_output", "call_id": "c2", "output": "two"},
        ]}));
        let roles: Vec<_> = m.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool, Role::Tool]);
        assert_eq!(m[1].text.as_deref(), Some("Checking."));
        assert_eq!(m[1].tool_calls.len(), 2);
        assert_eq!(m[3].tool_call_id.as_deref(), Some("c2"));
    }

    #[test]
    fn an_output_for_a_referenced_call_turns_the_placeholder_into_that_call() {
        let m = conv(json!({"model": "m", "instructions": "be brief", "input": [
            {"role": "user", "content": "hi"},
            {"type": "item_reference", "id": "fc_1"},
            {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "ok"}]},
        ]}));
        assert_eq!(m[0].role, Role::System);
        assert_eq!(m[2].role, Role::Assistant);
        assert_eq!(m[2].text, None);
        assert_eq!(m[2].tool_calls[0].id, "c1");
        assert_eq!(m[3].text.as_deref(), Some("ok"));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = parse(
            br#"{"model":"m","input":[{"role":"user","content":5}]}"#,
            None,
        )
        .err()
        .map(|e| e.param.clone());
        assert_eq!(e, Some(Some(json!("input[0].content"))));
        let e = parse(
            br#"{"model":"m","input":"x","tools":[{"type":"function","name":3}]}"#,
            None,
        )
        .err()
        .map(|e| e.param.clone());
        assert_eq!(e, Some(Some(json!("tools[0].name"))));
        let e = parse(br#"{"model":"m"}"#, None)
            .err()
            .map(|e| e.message.clone());
        assert_eq!(e.as_deref(), Some("Missing required parameter: 'input'."));
        assert!(parse(br#"{"model":"m","previous_response_id":"resp_1"}"#, None).is_ok());
        assert!(parse(br#"{"input":"x","tools":null,"metadata":null}"#, None).is_ok());
    }
}
