//! `POST /v1/responses`: the OpenAI Responses API, as JSON and as typed SSE events.
//!
//! The request's `instructions` and `input` items become the conversation the matcher sees; the
//! fixture's reply becomes output items (reasoning, web searches, then messages and function calls
//! in the fixture's block order). Ids use OpenAI's shapes (`resp_`, `msg_`, `rs_`, `fc_`, `call_`,
//! `ws_`), where aimock wrote `resp-`. Every stream event carries a `sequence_number`, counting from
//! 0; the stream ends with `response.completed` (or `response.incomplete`), never `[DONE]`.
//!
//! Stored state (`store`, on unless `false`): each answered response is kept
//! ([`crate::pipeline::stored`]) with its conversation, so `previous_response_id` puts the turns
//! before it ahead of the new input for matching, and `GET`/`DELETE /v1/responses/{id}` and
//! `GET /v1/responses/{id}/input_items` read it back. A `previous_response_id` the server never
//! answered is the API's 400 `previous_response_not_found` (in record mode it goes upstream).

use axum::body::Bytes;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::{Block, MessageReply};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::pipeline::stored::Stored;
use crate::pipeline::{Answered, Call};
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::providers::{estimate_tokens, is_reasoning_model};
use crate::stream::{chunk_text, sse_event};

pub(crate) mod collapse;
mod render;
pub(crate) mod socket;
use render::*;

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
pub(crate) fn push_items(items: &[Value], messages: &mut Vec<Message>) -> Result<(), ApiError> {
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
    let mut v: ResponsesOptions = crate::http::parse_json_body(body)?;
    let mut messages = Vec::new();
    if let Some(i) = v.instructions.as_deref().filter(|i| !i.is_empty()) {
        messages.push(Message::text(Role::System, i));
    }
    match &v.input {
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

/// A reply as the Responses stream's events (JSON objects, in order, `response.created` to
/// `response.completed`), for the socket APIs that nest Responses events (GPT-Live's Responses
/// delegation).
pub(crate) fn stream_events(
    req: &ChatRequest,
    opts: &ResponsesOptions,
    reply: &MessageReply,
    strict: bool,
    chunk_size: usize,
) -> Vec<String> {
    RenderedResponse::new(req, opts, reply, strict)
        .events(chunk_size)
        .into_iter()
        .map(|(_, json)| json)
        .collect()
}

/// `POST /v1/responses`.
#[derive(Debug)]
pub(crate) struct Responses;

impl MessageApi for Responses {
    type Opts = ResponsesOptions;
    const SURFACE: &'static str = "the Responses API";

    fn parse(call: &Call) -> Result<(ChatRequest, ResponsesOptions), ApiError> {
        let (mut req, opts) = parse(&call.body, call.route.info.deployment.as_deref())?;
        if let Some(conv) = opts.conversation.as_ref().filter(|c| !c.is_null()) {
            if opts.previous_response_id.is_some() {
                let e = ApiError::invalid(
                    "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
                )
                .with_code("mutually_exclusive_parameters");
                return Err(with_param(e, "conversation".to_owned()));
            }
            let id = super::conversations::named(conv)?;
            let items = call
                .core
                .conversations
                .with(id, |c| c.items.clone())
                .ok_or_else(|| super::conversations::not_found(id))?;
            let mut history = Vec::new();
            push_items(&items, &mut history)?;
            continue_from(&mut req, &history);
        }
        if let Some(prev) = opts.previous_response_id.as_deref() {
            match call.core.stored.get(prev) {
                Some(stored) => continue_from(&mut req, &stored.history),
                // Record mode: the upstream may know it.
                None if call.core.recorder.is_some() => {}
                None => return Err(previous_not_found(prev)),
            }
        }
        Ok((req, opts))
    }

    fn json(r: &Render<'_, ResponsesOptions>) -> String {
        let rendered = RenderedResponse::new(r.req, r.opts, r.reply, r.strict);
        let body = rendered.json();
        join_conversation(r, &rendered);
        if r.opts.store != Some(false) {
            keep(r, &rendered, body.clone());
        }
        body
    }

    fn stream(r: &Render<'_, ResponsesOptions>) -> Streamed {
        let rendered = RenderedResponse::new(r.req, r.opts, r.reply, r.strict);
        join_conversation(r, &rendered);
        if r.opts.store != Some(false) {
            keep(r, &rendered, rendered.json());
        }
        Streamed::sse(rendered.sse(r.chunk_size), Vec::new())
    }
}

/// The turns of a stored conversation put before a request's own (its system messages, its
/// `instructions`, stay first: a previous response's instructions do not carry over).
pub(crate) fn continue_from(req: &mut ChatRequest, history: &[Message]) {
    let (system, rest): (Vec<Message>, Vec<Message>) = std::mem::take(&mut req.messages)
        .into_iter()
        .partition(|m| m.role == Role::System);
    req.messages = system;
    req.messages
        .extend(history.iter().filter(|m| m.role != Role::System).cloned());
    req.messages.extend(rest);
}

/// The conversation a request names, if any.
fn conversation_of(opts: &ResponsesOptions) -> Option<&str> {
    opts.conversation
        .as_ref()
        .and_then(|c| super::conversations::named(c).ok())
}

/// A request in a conversation: its input items, then the response's output items, join it.
fn join_conversation(r: &Render<'_, ResponsesOptions>, rendered: &RenderedResponse<'_>) {
    let Some(id) = conversation_of(r.opts) else {
        return;
    };
    let mut added = with_ids(r.opts.input.as_ref());
    if let Ok(Value::Array(output)) = serde_json::to_value(&rendered.output) {
        added.extend(output);
    }
    r.call
        .core
        .conversations
        .with(id, |c| c.items.extend(added));
}

/// The API's answer to a `previous_response_id` it does not have.
fn previous_not_found(id: &str) -> ApiError {
    let e = ApiError::invalid(format!("Previous response with id '{id}' not found."))
        .with_code("previous_response_not_found");
    with_param(e, "previous_response_id".to_owned())
}

/// Keep an answered response: its object, its conversation with this turn's answer, and its
/// input items.
fn keep(r: &Render<'_, ResponsesOptions>, rendered: &RenderedResponse<'_>, body: String) {
    let mut history: Vec<Message> = r
        .req
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .cloned()
        .collect();
    history.push(rendered.assistant_message());
    r.call.core.stored.put(
        rendered.id.clone(),
        std::sync::Arc::new(Stored {
            body,
            history,
            input_items: with_ids(r.opts.input.as_ref()),
        }),
    );
}

/// A request's `input` as the input items `input_items` lists: a string is one user message;
/// each item gets an id (when it has none), its `type` and `status`, and a message's string
/// content becomes a text part.
pub(crate) fn with_ids(input: Option<&Value>) -> Vec<Value> {
    let text_part = |role: &str, text: &str| {
        if role == "assistant" {
            json!([{ "type": "output_text", "text": text, "annotations": [] }])
        } else {
            json!([{ "type": "input_text", "text": text }])
        }
    };
    match input {
        Some(Value::String(s)) => vec![json!({
            "id": random_id("msg_", 48),
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": text_part("user", s),
        })],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .map(|item| {
                let mut m = item.clone();
                let kind = item
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("message")
                    .to_owned();
                if kind == "message" {
                    let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                    if let Some(Value::String(s)) = item.get("content") {
                        m.insert("content".into(), text_part(role, s));
                    }
                }
                let prefix = if kind == "message" { "msg_" } else { "item_" };
                m.entry("id")
                    .or_insert_with(|| Value::String(random_id(prefix, 48)));
                m.entry("status").or_insert_with(|| json!("completed"));
                m.insert("type".into(), Value::String(kind));
                Value::Object(m)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The 404 for a response id the server does not keep.
fn not_found(id: &str) -> ApiError {
    super::no_such(format!("Response with id '{id}' not found."))
}

/// `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}` and
/// `GET /v1/responses/{id}/input_items`: the stored responses.
pub(crate) fn stored(call: Call) -> Answered {
    let id = call.route.info.id.clone().unwrap_or_default();
    let resp = match (call.route.info.action, call.core.stored.get(&id)) {
        (_, None) => super::error_response(&not_found(&id)),
        (Some("delete"), Some(_)) => {
            call.core.stored.remove(&id);
            crate::http::json_response(
                http::StatusCode::OK,
                &json!({"id": id, "object": "response", "deleted": true}),
            )
        }
        (Some("input_items"), Some(s)) => {
            match cursor_page(&s.input_items, call.query.as_deref()) {
                Ok(v) => crate::http::json_response(http::StatusCode::OK, &v),
                Err(e) => super::error_response(&e),
            }
        }
        (_, Some(s)) => crate::http::json_body(s.body.clone()),
    };
    Answered::Now(resp)
}

/// One page of a list, as the API's cursor pages go: `order` (`desc` by default), `after` (an
/// item id), `limit` (1 to 100, 20 by default).
pub(crate) fn cursor_page(items: &[Value], query: Option<&str>) -> Result<Value, ApiError> {
    cursor_page_of(items, query, 20, 100)
}

/// [`cursor_page`] with its own default and largest `limit`.
pub(crate) fn cursor_page_of(
    items: &[Value],
    query: Option<&str>,
    default_limit: usize,
    max_limit: usize,
) -> Result<Value, ApiError> {
    use crate::http::percent::query_param;
    let bad = |param: &str, message: String| {
        let e = ApiError::invalid(message).with_code("invalid_value");
        with_param(e, param.to_owned())
    };
    let limit = match query_param(query, "limit") {
        None => default_limit,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=max_limit).contains(&n) => n,
            _ => {
                return Err(bad(
                    "limit",
                    format!(
                        "Invalid 'limit': integer between 1 and {max_limit} expected, got '{l}'."
                    ),
                ))
            }
        },
    };
    let desc = match query_param(query, "order").as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(o) => {
            return Err(bad(
                "order",
                format!("Invalid value: '{o}'. Supported values are: 'asc' and 'desc'."),
            ))
        }
    };
    let mut ordered: Vec<&Value> = items.iter().collect();
    if desc {
        ordered.reverse();
    }
    let start = match query_param(query, "after") {
        None => 0,
        Some(after) => match ordered
            .iter()
            .position(|i| i.get("id").and_then(Value::as_str) == Some(after.as_str()))
        {
            Some(i) => i + 1,
            None => {
                return Err(bad(
                    "after",
                    format!("No object with id '{after}' in this list."),
                ))
            }
        },
    };
    let data: Vec<&Value> = ordered.iter().skip(start).take(limit).copied().collect();
    let id_of = |v: Option<&&Value>| v.and_then(|v| v.get("id")).cloned();
    Ok(json!({
        "object": "list",
        "data": data,
        "first_id": id_of(data.first()),
        "last_id": id_of(data.last()),
        "has_more": start + data.len() < ordered.len(),
    }))
}

/// `annotations: []`, `logprobs: []`.
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
