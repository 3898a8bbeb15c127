//! `POST /model/{modelId}/converse` (JSON) and `/converse-stream` (EventStream).

use std::fmt::Write;

use axum::body::Bytes;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::stop_reason;
use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::MessageReply;
use crate::http::push_json_str;
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::anthropic::render::{BlockReply, Part};
use crate::providers::anthropic::request::push_turn;
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::providers::message_chars;
use crate::providers::reply::{Commas, Counting, ReasoningCount};
use crate::stream::chunk_text;
use crate::stream::eventstream;

#[derive(Deserialize)]
struct ConverseBody {
    #[serde(default)]
    messages: Option<Vec<Msg>>,
    #[serde(default)]
    system: Option<Vec<SystemBlock>>,
    #[serde(default, rename = "toolConfig")]
    tool_config: Option<ToolConfig>,
    #[serde(default, rename = "inferenceConfig")]
    inference_config: Option<InferenceConfig>,
}

#[derive(Deserialize)]
struct InferenceConfig {
    #[serde(default, rename = "maxTokens")]
    max_tokens: Option<i64>,
}

/// A message: Anthropic's shape, with Converse's content blocks.
type Msg = crate::providers::anthropic::request::Msg<Vec<ContentBlock>>;

/// One content block: a union, so exactly one field is set; kinds this mock does not read
/// (images, documents, reasoning, cache points...) leave all three `None`.
#[derive(Deserialize)]
struct ContentBlock {
    #[serde(default)]
    text: Option<String>,
    #[serde(default, rename = "toolUse")]
    tool_use: Option<ToolUse>,
    #[serde(default, rename = "toolResult")]
    tool_result: Option<ToolResult>,
}

#[derive(Deserialize)]
struct ToolUse {
    #[serde(default, rename = "toolUseId")]
    tool_use_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: Value,
}

#[derive(Deserialize)]
struct ToolResult {
    #[serde(default, rename = "toolUseId")]
    tool_use_id: String,
    #[serde(default)]
    content: Vec<ToolResultContent>,
}

#[derive(Deserialize)]
struct ToolResultContent {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    json: Option<Value>,
}

#[derive(Deserialize)]
struct SystemBlock {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct ToolConfig {
    #[serde(default)]
    tools: Vec<ToolEntry>,
}

#[derive(Deserialize)]
struct ToolEntry {
    #[serde(default, rename = "toolSpec")]
    tool_spec: Option<ToolSpec>,
}

#[derive(Deserialize)]
struct ToolSpec {
    #[serde(default)]
    name: String,
}

/// A `ValidationException` (400) naming the field at fault.
fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::invalid(msg).with_code("ValidationException")
}

/// Parse a Converse body into the conversation; `model` comes from the path.
pub(crate) fn parse(body: &[u8], model: &str, stream: bool) -> Result<ChatRequest, ApiError> {
    let v: ConverseBody = crate::http::parse_json_body(body).map_err(|mut e| {
        // Keep the message, drop the OpenAI-style code: AWS names the exception instead.
        e.code = None;
        e
    })?;
    let Some(msgs) = v.messages else {
        return Err(invalid(
            "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null",
        ));
    };
    if msgs.is_empty() {
        return Err(invalid(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    if let Some(n) = v.inference_config.and_then(|c| c.max_tokens) {
        if n < 1 {
            return Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    }
    let mut messages = Vec::with_capacity(msgs.len() + 1);
    for b in v.system.unwrap_or_default() {
        if let Some(t) = b.text {
            messages.push(Message::text(Role::System, t));
        }
    }
    for (i, m) in msgs.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{other}' at 'messages.{}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
                    i + 1
                )));
            }
        };
        let Some(blocks) = m.content else {
            return Err(invalid(format!(
                "1 validation error detected: Value null at 'messages.{}.member.content' failed to satisfy constraint: Member must not be null",
                i + 1
            )));
        };
        let mut text: Option<String> = None;
        let mut tool_calls = Vec::new();
        let mut results = Vec::new();
        for b in blocks {
            if let Some(t) = b.text {
                text.get_or_insert_with(String::new).push_str(&t);
            } else if let Some(u) = b.tool_use {
                tool_calls.push(ToolCallRef {
                    id: u.tool_use_id,
                    name: u.name,
                    arguments: crate::providers::object_arguments(Some(u.input)),
                });
            } else if let Some(r) = b.tool_result {
                let mut out = String::new();
                for part in r.content {
                    if let Some(t) = part.text {
                        out.push_str(&t);
                    } else if let Some(j) = part.json {
                        out.push_str(&j.to_string());
                    }
                }
                results.push(Message::tool_result(r.tool_use_id, out));
            }
        }
        push_turn(&mut messages, role, text, tool_calls, results);
    }
    let tools = v
        .tool_config
        .map(|c| {
            c.tools
                .into_iter()
                .filter_map(|t| t.tool_spec.map(|s| s.name))
                .collect()
        })
        .unwrap_or_default();
    Ok(ChatRequest {
        model: model.to_owned(),
        messages,
        tools,
        response_format: None,
        endpoint: Endpoint::Chat,
        embedding_input: None,
        stream,
    })
}

/// `converse` and `converse-stream`.
#[derive(Debug)]
pub(crate) struct Converse;

impl MessageApi for Converse {
    type Opts = ();
    const SURFACE: &'static str = "Bedrock Converse";

    fn parse(call: &Call) -> Result<(ChatRequest, ()), ApiError> {
        let info = &call.route.info;
        let stream = info.action == Some("converse-stream");
        parse(
            &call.body,
            info.model.as_deref().unwrap_or_default(),
            stream,
        )
        .map(|r| (r, ()))
    }

    fn json(r: &Render<'_, ()>) -> String {
        ConverseReply::new(r.req, r.reply, r.strict).json()
    }

    fn stream(r: &Render<'_, ()>) -> Streamed {
        let (events, trailer) = ConverseReply::new(r.req, r.reply, r.strict).events(r.chunk_size);
        Streamed {
            events,
            trailer,
            head: None,
            content_type: eventstream::CONTENT_TYPE,
        }
    }
}

/// How Converse counts tokens: thinking toward the completion.
const COUNTING: Counting = Counting {
    prompt: &["inputTokens", "input_tokens", "prompt_tokens"],
    completion: &["outputTokens", "output_tokens", "completion_tokens"],
    prompt_chars: message_chars,
    reasoning: ReasoningCount::Chars,
};

/// A reply as a Converse response and its ConverseStream frames: Anthropic's blocks in AWS's
/// shapes.
struct ConverseReply<'a> {
    blocks: BlockReply<'a>,
    total_tokens: u64,
}

impl<'a> ConverseReply<'a> {
    fn new(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        let blocks = BlockReply::new(req, reply, strict, &COUNTING, "tooluse_");
        ConverseReply {
            total_tokens: blocks
                .core
                .total_tokens(&["totalTokens", "total_tokens"], 0),
            blocks,
        }
    }

    fn push_usage(&self, b: &mut String) {
        let _ = write!(
            b,
            "{{\"inputTokens\":{},\"outputTokens\":{},\"totalTokens\":{}}}",
            self.blocks.core.prompt_tokens, self.blocks.core.completion_tokens, self.total_tokens
        );
    }

    fn reply(&self) -> &'a MessageReply {
        self.blocks.core.reply
    }

    /// The whole Converse response.
    fn json(&self) -> String {
        let mut b = String::with_capacity(512);
        b.push_str("{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[");
        let mut commas = Commas::default();
        for part in self.blocks.parts() {
            commas.next(&mut b);
            match part {
                Part::Thinking(r) => {
                    b.push_str("{\"reasoningContent\":{\"reasoningText\":{\"text\":");
                    push_json_str(&mut b, r);
                    b.push_str(",\"signature\":");
                    push_json_str(&mut b, self.blocks.signature);
                    b.push_str("}}}");
                }
                Part::Redacted(d) => {
                    b.push_str("{\"reasoningContent\":{\"redactedContent\":");
                    push_json_str(&mut b, &redacted_blob(d));
                    b.push_str("}}");
                }
                Part::Text(t) => {
                    b.push_str("{\"text\":");
                    push_json_str(&mut b, t);
                    b.push('}');
                }
                Part::ToolUse { id, name, input } => {
                    b.push_str("{\"toolUse\":{\"toolUseId\":");
                    push_json_str(&mut b, id);
                    b.push_str(",\"name\":");
                    push_json_str(&mut b, name);
                    b.push_str(",\"input\":");
                    b.push_str(input);
                    b.push_str("}}");
                }
            }
        }
        b.push_str("]}},\"stopReason\":");
        push_json_str(&mut b, stop_reason(self.reply()));
        b.push_str(",\"usage\":");
        self.push_usage(&mut b);
        b.push_str(",\"metrics\":{\"latencyMs\":0}}");
        b
    }

    /// The ConverseStream frames (paced) and the trailer (`metadata`). As AWS does, text and
    /// reasoning blocks have no `contentBlockStart`; a tool use opens with one naming the tool.
    fn events(&self, chunk_size: usize) -> (Vec<Bytes>, Vec<Bytes>) {
        let mut events = Vec::with_capacity(8);
        events.push(eventstream::event(
            "messageStart",
            "{\"role\":\"assistant\"}",
        ));
        let delta = |index: usize, prefix: &str, value: &str, suffix: &str| -> Bytes {
            let mut s = String::with_capacity(value.len() + prefix.len() + suffix.len() + 52);
            let _ = write!(s, "{{\"contentBlockIndex\":{index},\"delta\":{prefix}");
            push_json_str(&mut s, value);
            s.push_str(suffix);
            s.push('}');
            eventstream::event("contentBlockDelta", &s)
        };
        for (index, part) in self.blocks.parts().enumerate() {
            match part {
                Part::Thinking(r) => {
                    for piece in chunk_text(r, chunk_size) {
                        events.push(delta(
                            index,
                            "{\"reasoningContent\":{\"text\":",
                            piece,
                            "}}",
                        ));
                    }
                    events.push(delta(
                        index,
                        "{\"reasoningContent\":{\"signature\":",
                        self.blocks.signature,
                        "}}",
                    ));
                }
                Part::Redacted(d) => {
                    events.push(delta(
                        index,
                        "{\"reasoningContent\":{\"redactedContent\":",
                        &redacted_blob(d),
                        "}}",
                    ));
                }
                Part::Text(t) => {
                    let pieces = chunk_text(t, chunk_size);
                    if pieces.is_empty() {
                        events.push(delta(index, "{\"text\":", "", "}"));
                    }
                    for piece in pieces {
                        events.push(delta(index, "{\"text\":", piece, "}"));
                    }
                }
                Part::ToolUse { id, name, input } => {
                    let mut s = String::with_capacity(96);
                    let _ = write!(
                        s,
                        "{{\"contentBlockIndex\":{index},\"start\":{{\"toolUse\":{{\"toolUseId\":"
                    );
                    push_json_str(&mut s, id);
                    s.push_str(",\"name\":");
                    push_json_str(&mut s, name);
                    s.push_str("}}}");
                    events.push(eventstream::event("contentBlockStart", &s));
                    for piece in chunk_text(input, chunk_size) {
                        events.push(delta(index, "{\"toolUse\":{\"input\":", piece, "}}"));
                    }
                }
            }
            events.push(eventstream::event(
                "contentBlockStop",
                &format!("{{\"contentBlockIndex\":{index}}}"),
            ));
        }
        let mut s = String::from("{\"stopReason\":");
        push_json_str(&mut s, stop_reason(self.reply()));
        s.push('}');
        events.push(eventstream::event("messageStop", &s));
        let mut m = String::with_capacity(128);
        m.push_str("{\"usage\":");
        self.push_usage(&mut m);
        m.push_str(",\"metrics\":{\"latencyMs\":0}}");
        (events, vec![eventstream::event("metadata", &m)])
    }
}

/// Redacted reasoning is a blob, base64 in JSON: the fixture's opaque data, encoded.
fn redacted_blob(data: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(data.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn tool_results_follow_the_users_text_and_keep_their_ids() {
        let body = br#"{"system":[{"text":"be brief"}],"messages":[
            {"role":"user","content":[{"text":"weather?"}]},
            {"role":"assistant","content":[{"toolUse":{"toolUseId":"tu_1","name":"get_weather","input":{"city":"Paris"}}}]},
            {"role":"user","content":[{"toolResult":{"toolUseId":"tu_1","content":[{"json":{"temp":21}},{"text":" sunny"}]}}]}
        ],"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":{}}}}]}}"#;
        let req = parse(body, "m", false).unwrap();
        assert_eq!(req.system_text(), "be brief");
        assert_eq!(req.tools, vec!["get_weather".to_owned()]);
        assert_eq!(req.messages[2].tool_calls[0].id, "tu_1");
        assert_eq!(
            req.messages[2].tool_calls[0].arguments,
            r#"{"city":"Paris"}"#
        );
        let last = req.last_tool_result().unwrap();
        assert_eq!(last.tool_call_id.as_deref(), Some("tu_1"));
        assert_eq!(last.text.as_deref(), Some(r#"{"temp":21} sunny"#));
    }

    #[test]
    fn bad_bodies_are_validation_errors() {
        for body in [
            &br#"{}"#[..],
            br#"{"messages":[]}"#,
            br#"{"messages":[{"role":"system","content":[{"text":"x"}]}]}"#,
            br#"{"messages":[{"role":"user"}]}"#,
            br#"{"messages":[{"role":"user","content":"hi"}]}"#,
            br#"{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":0}}"#,
            b"not json",
        ] {
            let e = parse(body, "m", false).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.message);
            assert_eq!(super::super::exception_name(&e), "ValidationException");
        }
    }
}
