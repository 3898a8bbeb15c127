//! An Anthropic Messages body (`/v1/messages`, Vertex `:rawPredict`, Bedrock invoke) parsed into
//! the provider-neutral conversation.

use serde::Deserialize;
use serde_json::Value;

use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::http::ApiError;

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Msg<Content>>>,
    #[serde(default)]
    system: Option<System>,
    #[serde(default)]
    max_tokens: Option<Value>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    tools: Option<Vec<Tool>>,
    #[serde(default)]
    thinking: Option<Thinking>,
    #[serde(default)]
    output_config: Option<OutputConfig>,
    #[serde(default)]
    output_format: Option<Format>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Thinking {
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct OutputConfig {
    #[serde(default)]
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Format {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum System {
    Text(String),
    Blocks(Vec<Block>),
}

/// One message of a conversation: Anthropic's (its content a string or blocks), and Bedrock
/// Converse's (its content blocks).
#[derive(Deserialize)]
#[serde(bound = "C: Deserialize<'de>")]
pub(crate) struct Msg<C> {
    #[serde(default)]
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) content: Option<C>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Blocks(Vec<Block>),
}

/// Any content block; fields that a block type does not have stay `None`, and block types this
/// mock does not read (documents, server tool results...) are skipped.
#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    tool_use_id: Option<String>,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

/// What the Messages endpoint needs besides the conversation.
#[derive(Debug, Clone, Default)]
pub(crate) struct MessagesOptions {
    /// The first extended-thinking violation (§2.6), as an error message.
    pub(crate) thinking_violation: Option<String>,
}

/// What kind of body is being parsed: the fields each one requires differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `POST /v1/messages`: `model`, `messages` and `max_tokens` are required.
    Messages,
    /// Vertex `:rawPredict` / Bedrock invoke: the model comes from the path.
    ModelInPath,
    /// `count_tokens`: no `max_tokens`.
    CountTokens,
}

fn missing(field: &str) -> ApiError {
    let mut e = ApiError::invalid(format!("{field}: Field required"));
    e.param = Some(Value::String(field.to_owned()));
    e
}

/// Parse a Messages body. `path_model` is the model named by the path (Vertex, Bedrock), which
/// stands in for a missing `model`.
pub(crate) fn parse(
    body: &[u8],
    kind: BodyKind,
    path_model: Option<&str>,
) -> Result<(ChatRequest, MessagesOptions), ApiError> {
    let v: Body = crate::http::parse_json_body(body)?;
    let model = match (v.model.filter(|m| !m.is_empty()), path_model) {
        (Some(m), _) => m,
        (None, Some(p)) => p.to_owned(),
        (None, None) => {
            if kind == BodyKind::ModelInPath {
                String::new()
            } else {
                return Err(missing("model"));
            }
        }
    };
    let Some(msgs) = v.messages else {
        return Err(missing("messages"));
    };
    if kind != BodyKind::CountTokens {
        match &v.max_tokens {
            None | Some(Value::Null) => return Err(missing("max_tokens")),
            Some(Value::Number(n)) if n.as_u64().is_some() => {}
            Some(_) => {
                let mut e = ApiError::invalid("max_tokens: Input should be a valid integer");
                e.param = Some(Value::String("max_tokens".into()));
                return Err(e);
            }
        }
    }
    if msgs.is_empty() {
        return Err(ApiError::invalid(
            "messages: at least one message is required",
        ));
    }

    let mut messages = Vec::with_capacity(msgs.len() + 1);
    match v.system {
        Some(System::Text(t)) => messages.push(Message::text(Role::System, t)),
        Some(System::Blocks(blocks)) => {
            for b in blocks {
                if let Some(t) = b.text {
                    messages.push(Message::text(Role::System, t));
                }
            }
        }
        None => {}
    }

    let thinking_enabled = v
        .thinking
        .as_ref()
        .is_some_and(|t| t.kind == "enabled" || t.kind == "adaptive");
    let mut thinking_violation = None;
    // Whether each message (by index) is a user turn that answers tool calls.
    let answers_tools: Vec<bool> = msgs
        .iter()
        .map(|m| {
            m.role == "user"
                && matches!(&m.content, Some(Content::Blocks(b)) if b.iter().any(|b| b.kind == "tool_result"))
        })
        .collect();

    for (i, m) in msgs.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            _ => {
                let mut e = ApiError::invalid(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ));
                e.param = Some(Value::String(format!("messages.{i}.role")));
                return Err(e);
            }
        };
        let blocks = match m.content {
            None => {
                return Err(missing(&format!("messages.{i}.content")));
            }
            Some(Content::Text(t)) => {
                messages.push(Message::text(role, t));
                continue;
            }
            Some(Content::Blocks(b)) => b,
        };
        if role == Role::Assistant
            && thinking_enabled
            && thinking_violation.is_none()
            && answers_tools.get(i + 1).copied().unwrap_or(false)
            && blocks.iter().any(|b| b.kind == "tool_use")
        {
            let ok = blocks.first().is_some_and(|b| match b.kind.as_str() {
                "thinking" => b.signature.as_deref().is_some_and(|s| !s.is_empty()),
                "redacted_thinking" => b.data.as_deref().is_some_and(|d| !d.is_empty()),
                _ => false,
            });
            if !ok {
                let found = blocks.first().map_or("nothing", |b| b.kind.as_str());
                thinking_violation = Some(format!(
                    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. \
                     When `thinking` is enabled, an `assistant` message with `tool_use` blocks answered by \
                     `tool_result` blocks must start with a thinking block (a `thinking` block with its \
                     `signature`, or a `redacted_thinking` block with its `data`). Pass the thinking blocks \
                     back exactly as received, or disable `thinking`."
                ));
            }
        }
        let mut text: Option<String> = None;
        let mut tool_calls = Vec::new();
        let mut results = Vec::new();
        for b in blocks {
            match b.kind.as_str() {
                "text" => {
                    if let Some(t) = b.text {
                        text.get_or_insert_with(String::new).push_str(&t);
                    }
                }
                "tool_use" | "server_tool_use" => {
                    tool_calls.push(ToolCallRef {
                        id: b.id.unwrap_or_default(),
                        name: b.name.unwrap_or_default(),
                        arguments: crate::providers::object_arguments(b.input),
                    });
                }
                "tool_result" => {
                    let text = match b.content {
                        None => String::new(),
                        Some(Content::Text(t)) => t,
                        Some(Content::Blocks(parts)) => parts
                            .into_iter()
                            .filter(|p| p.kind == "text")
                            .filter_map(|p| p.text)
                            .collect(),
                    };
                    results.push(Message::tool_result(
                        b.tool_use_id.unwrap_or_default(),
                        text,
                    ));
                }
                // Images, documents, thinking and redacted thinking carry no text to match on.
                _ => {}
            }
        }
        push_turn(&mut messages, role, text, tool_calls, results);
    }

    let tools = v
        .tools
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.name)
        .collect();
    let response_format = v
        .output_config
        .and_then(|o| o.format)
        .or(v.output_format)
        .and_then(|f| f.kind);
    Ok((
        ChatRequest {
            model,
            messages,
            tools,
            response_format,
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: v.stream.unwrap_or(false),
        },
        MessagesOptions { thinking_violation },
    ))
}

/// A turn of blocks as the conversation's messages: a user turn with tool results is its text
/// (if any), then the tool results (aimock's order, so a `toolCallId` fixture, which looks at the
/// last message, and `hasToolResult` still see them); any other turn is one message.
pub(crate) fn push_turn(
    messages: &mut Vec<Message>,
    role: Role,
    text: Option<String>,
    tool_calls: Vec<ToolCallRef>,
    results: Vec<Message>,
) {
    if role == Role::User && !results.is_empty() {
        if let Some(t) = text {
            messages.push(Message::text(Role::User, t));
        }
        messages.extend(results);
    } else {
        messages.push(Message {
            role,
            text,
            tool_calls,
            tool_call_id: None,
        });
    }
}

/// Characters of the prompt, for the token estimate: every text, tool call, tool result and
/// declared tool name.
pub(crate) fn prompt_chars(req: &ChatRequest) -> usize {
    crate::providers::message_chars(req) + req.tools.iter().map(String::len).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(v: serde_json::Value) -> (ChatRequest, MessagesOptions) {
        parse(v.to_string().as_bytes(), BodyKind::Messages, None).unwrap()
    }

    #[test]
    fn system_blocks_become_system_messages() {
        let (r, _) = parse_ok(serde_json::json!({
            "model": "m", "max_tokens": 5,
            "system": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            "messages": [{"role": "user", "content": "hi"}]
        }));
        assert_eq!(r.system_text(), "a\nb");
        assert_eq!(r.last_user_text(), Some("hi"));
    }

    #[test]
    fn tool_results_with_text_become_the_text_then_tool_messages() {
        let (r, _) = parse_ok(serde_json::json!({
            "model": "m", "max_tokens": 5,
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]},
                    {"type": "text", "text": "and then?"}]}
            ]
        }));
        let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::User, Role::Tool]);
        assert_eq!(r.messages[1].tool_calls[0].arguments, r#"{"city":"Paris"}"#);
        assert_eq!(r.messages[3].tool_call_id.as_deref(), Some("toolu_1"));
        assert_eq!(r.messages[3].text.as_deref(), Some("sunny"));
        assert!(r.current_turn_has_tool_result());
    }

    #[test]
    fn an_unsigned_tool_turn_under_extended_thinking_is_a_violation() {
        let body = |first: serde_json::Value| {
            serde_json::json!({
                "model": "m", "max_tokens": 5, "thinking": {"type": "enabled", "budget_tokens": 1024},
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": [first,
                        {"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"}]}
                ]
            })
        };
        let (_, o) = parse_ok(body(
            serde_json::json!({"type": "thinking", "thinking": "x", "signature": "sig"}),
        ));
        assert!(o.thinking_violation.is_none());
        let (_, o) = parse_ok(body(
            serde_json::json!({"type": "redacted_thinking", "data": "abc"}),
        ));
        assert!(o.thinking_violation.is_none());
        let (_, o) = parse_ok(body(
            serde_json::json!({"type": "thinking", "thinking": "x", "signature": ""}),
        ));
        assert!(o
            .thinking_violation
            .unwrap()
            .starts_with("messages.1.content.0.type"));
        let (_, o) = parse_ok(body(serde_json::json!({"type": "text", "text": "hm"})));
        assert!(o.thinking_violation.unwrap().contains("found `text`"));
    }

    #[test]
    fn required_fields_are_named_in_the_error() {
        let e = parse(br#"{"model":"m","messages":[]}"#, BodyKind::Messages, None).unwrap_err();
        assert_eq!(e.message, "max_tokens: Field required");
        let e = parse(
            br#"{"max_tokens":1,"messages":[]}"#,
            BodyKind::Messages,
            None,
        )
        .unwrap_err();
        assert_eq!(e.message, "model: Field required");
        let e = parse(
            br#"{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}"#,
            BodyKind::Messages,
            None,
        )
        .unwrap_err();
        assert!(e.message.starts_with("messages.0.role"));
        assert!(parse(
            br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
            BodyKind::CountTokens,
            None
        )
        .is_ok());
    }
}
