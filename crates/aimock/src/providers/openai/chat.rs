//! `POST /v1/chat/completions`: JSON and SSE.

use axum::body::Bytes;
use http::header;
use serde::Deserialize;
use serde_json::Value;

use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::MessageReply;
use crate::http::ids::random_id;
use crate::http::time::unix_now;
use crate::http::ApiError;
use crate::http::{push_int, push_json_str};
use crate::pipeline::Call;
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::providers::{emit_reasoning, estimate_tokens};
use crate::stream::{chunk_text, sse_data};

#[derive(Deserialize)]
struct Body_ {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Msg>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    tools: Option<Vec<Tool>>,
    #[serde(default)]
    functions: Option<Vec<FunctionDecl>>,
    #[serde(default)]
    response_format: Option<ResponseFormat>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

#[derive(Deserialize)]
struct ResponseFormat {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(default)]
    function: Option<FunctionDecl>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct FunctionDecl {
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

/// A message's `content`: a string, or a list of parts. Read directly (an untagged enum would
/// buffer the value and read it twice).
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Content, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Content, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(p) = seq.next_element::<Part>()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct MsgToolCall {
    #[serde(default)]
    id: String,
    #[serde(default)]
    function: Option<MsgFunction>,
}

#[derive(Deserialize)]
struct MsgFunction {
    #[serde(default)]
    name: String,
    /// A JSON string as OpenAI sends it; some frameworks send the object itself.
    #[serde(default)]
    arguments: Value,
}

impl MsgFunction {
    fn arguments_string(&self) -> String {
        match &self.arguments {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

/// Text of a content field: a string, or the text parts joined; `None` when there is no text part.
fn content_text(c: Option<Content>) -> Option<String> {
    match c? {
        Content::Text(t) => Some(t),
        Content::Parts(parts) => {
            let mut out: Option<String> = None;
            for p in parts {
                if p.kind == "text" || p.kind == "input_text" || p.kind == "output_text" {
                    if let Some(t) = p.text {
                        out.get_or_insert_with(String::new).push_str(&t);
                    }
                }
            }
            out
        }
    }
}

/// What the chat endpoint needs besides the conversation.
pub(crate) struct ChatOptions {
    pub(crate) include_usage: bool,
}

/// Parse an OpenAI chat body into the conversation.
pub(crate) fn parse(
    body: &[u8],
    deployment: Option<&str>,
) -> Result<(ChatRequest, ChatOptions), ApiError> {
    let v: Body_ = crate::http::parse_json_body(body)?;
    let Some(msgs) = v.messages else {
        let mut e = ApiError::invalid("Missing required parameter: 'messages'.")
            .with_code("missing_required_parameter");
        e.param = Some(Value::String("messages".into()));
        return Err(e);
    };
    let mut messages = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" | "function" => Role::Tool,
            other => {
                let mut e = ApiError::invalid(format!(
                    "Invalid value: '{other}'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'."
                ))
                .with_code("invalid_value");
                e.param = Some(Value::String(format!("messages[{i}].role")));
                return Err(e);
            }
        };
        let tool_calls = m
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let f = c.function.unwrap_or(MsgFunction {
                    name: String::new(),
                    arguments: Value::Null,
                });
                ToolCallRef {
                    id: c.id,
                    arguments: f.arguments_string(),
                    name: f.name,
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
    let mut tools: Vec<String> = v
        .tools
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.function.and_then(|f| f.name).or(t.name))
        .collect();
    tools.extend(
        v.functions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| f.name),
    );
    let model = v
        .model
        .filter(|m| !m.is_empty())
        .or_else(|| deployment.map(str::to_owned))
        .unwrap_or_default();
    Ok((
        ChatRequest {
            model,
            messages,
            tools,
            response_format: v.response_format.map(|r| r.kind),
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: v.stream.unwrap_or(false),
        },
        ChatOptions {
            include_usage: v
                .stream_options
                .and_then(|s| s.include_usage)
                .unwrap_or(false),
        },
    ))
}

/// `POST /v1/chat/completions`.
#[derive(Debug)]
pub(crate) struct Chat;

impl MessageApi for Chat {
    type Opts = ChatOptions;
    const SURFACE: &'static str = "the chat completions endpoint";

    fn parse(call: &Call) -> Result<(ChatRequest, ChatOptions), ApiError> {
        parse(&call.body, call.route.info.deployment.as_deref())
    }

    fn json(r: &Render<'_, ChatOptions>) -> String {
        Rendered::new(r.req, r.reply, r.strict).json()
    }

    fn stream(r: &Render<'_, ChatOptions>) -> Streamed {
        // Mistral's SDK shares this path but requires each streamed tool call whole in one delta
        // (its `function.name` is mandatory in every delta), as Mistral's own API sends it.
        let whole_calls = r
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("mistral-client"));
        let (events, trailer) = Rendered::new(r.req, r.reply, r.strict).sse(
            r.chunk_size,
            r.opts.include_usage,
            whole_calls,
        );
        Streamed::sse(events, trailer)
    }
}

/// Everything needed to render one reply, computed once.
struct Rendered<'a> {
    id: String,
    created: i64,
    model: &'a str,
    reply: &'a MessageReply,
    reasoning: Option<&'a str>,
    call_ids: Vec<String>,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl<'a> Rendered<'a> {
    fn new(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        let o = &reply.overrides;
        let model = o.model.as_deref().unwrap_or(if req.model.is_empty() {
            "gpt-4o"
        } else {
            &req.model
        });
        let reasoning = reply
            .reasoning
            .as_deref()
            .filter(|_| emit_reasoning(&req.model, strict));
        let call_ids = reply
            .tool_calls()
            .map(|c| c.id.clone().unwrap_or_else(|| random_id("call_", 24)))
            .collect();
        let prompt_chars = req.text_chars();
        let completion_chars = reply.text_chars();
        let prompt_tokens = o
            .usage_number(&["prompt_tokens", "input_tokens"])
            .unwrap_or_else(|| estimate_tokens(prompt_chars));
        let completion_tokens = o
            .usage_number(&["completion_tokens", "output_tokens"])
            .unwrap_or_else(|| estimate_tokens(completion_chars));
        Rendered {
            id: o.id.clone().unwrap_or_else(|| random_id("chatcmpl-", 29)),
            created: o.created.unwrap_or_else(unix_now),
            model,
            reply,
            reasoning,
            call_ids,
            prompt_tokens,
            completion_tokens,
        }
    }

    /// Append the usage object.
    fn push_usage(&self, b: &mut String) {
        let o = &self.reply.overrides;
        let total = o
            .usage_number(&["total_tokens"])
            .unwrap_or(self.prompt_tokens + self.completion_tokens);
        b.push_str("{\"prompt_tokens\":");
        push_int(b, self.prompt_tokens);
        b.push_str(",\"completion_tokens\":");
        push_int(b, self.completion_tokens);
        b.push_str(",\"total_tokens\":");
        push_int(b, total);
        b.push_str(",\"prompt_tokens_details\":");
        let detail = |k: &str| {
            o.usage
                .as_ref()
                .and_then(|u| u.get(k))
                .map(Value::to_string)
        };
        match detail("prompt_tokens_details") {
            Some(v) => b.push_str(&v),
            None => b.push_str("{\"cached_tokens\":0,\"audio_tokens\":0}"),
        }
        b.push_str(",\"completion_tokens_details\":");
        match detail("completion_tokens_details") {
            Some(v) => b.push_str(&v),
            None => b.push_str(
                "{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}",
            ),
        }
        b.push('}');
    }

    /// Append the tool calls array.
    fn push_tool_calls(&self, b: &mut String) {
        b.push('[');
        for (i, (c, id)) in self.reply.tool_calls().zip(&self.call_ids).enumerate() {
            if i > 0 {
                b.push(',');
            }
            b.push_str("{\"id\":");
            push_json_str(b, id);
            b.push_str(",\"type\":\"function\",\"function\":{\"name\":");
            push_json_str(b, &c.name);
            b.push_str(",\"arguments\":");
            push_json_str(b, &c.arguments);
            b.push_str("}}");
        }
        b.push(']');
    }

    /// The whole `chat.completion` object, written directly (this is the hot path).
    fn json(&self) -> String {
        let mut b = String::with_capacity(640);
        b.push_str("{\"id\":");
        push_json_str(&mut b, &self.id);
        b.push_str(",\"object\":\"chat.completion\",\"created\":");
        push_int(&mut b, self.created);
        b.push_str(",\"model\":");
        push_json_str(&mut b, self.model);
        match self.reply.overrides.role.as_deref() {
            None => b.push_str(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\""),
            Some(role) => {
                b.push_str(",\"choices\":[{\"index\":0,\"message\":{\"role\":");
                push_json_str(&mut b, role);
            }
        }
        b.push_str(",\"content\":");
        match self.reply.content_json() {
            Some(c) => b.push_str(c),
            None => b.push_str("null"),
        }
        b.push_str(",\"refusal\":null,\"annotations\":[]");
        if self.reply.has_tool_calls() {
            b.push_str(",\"tool_calls\":");
            self.push_tool_calls(&mut b);
        }
        if let Some(r) = self.reasoning {
            b.push_str(",\"reasoning_content\":");
            push_json_str(&mut b, r);
        }
        b.push_str("},\"logprobs\":null,\"finish_reason\":");
        match self.reply.finish_reason() {
            "stop" => b.push_str("\"stop\""),
            "tool_calls" => b.push_str("\"tool_calls\""),
            other => push_json_str(&mut b, other),
        }
        b.push_str("}],\"usage\":");
        self.push_usage(&mut b);
        b.push_str(",\"service_tier\":\"default\"");
        if let Some(fp) = &self.reply.overrides.system_fingerprint {
            b.push_str(",\"system_fingerprint\":");
            push_json_str(&mut b, fp);
        }
        b.push('}');
        b
    }

    /// The start of every chunk: `{"id":...,"object":"chat.completion.chunk","created":...,"model":...,`.
    fn chunk_prefix(&self) -> String {
        let mut p = String::with_capacity(128);
        p.push_str("{\"id\":");
        push_json_str(&mut p, &self.id);
        p.push_str(",\"object\":\"chat.completion.chunk\",\"created\":");
        push_int(&mut p, self.created);
        p.push_str(",\"model\":");
        push_json_str(&mut p, self.model);
        if let Some(fp) = &self.reply.overrides.system_fingerprint {
            p.push_str(",\"system_fingerprint\":");
            push_json_str(&mut p, fp);
        }
        p.push(',');
        p
    }

    /// The SSE events (paced) and the trailer (usage chunk, `[DONE]`).
    fn sse(
        &self,
        chunk_size: usize,
        include_usage: bool,
        whole_calls: bool,
    ) -> (Vec<Bytes>, Vec<Bytes>) {
        let prefix = self.chunk_prefix();
        let usage_null = if include_usage { ",\"usage\":null" } else { "" };
        let mut events = Vec::new();
        let delta = |inner: &str, finish: Option<&str>| -> Bytes {
            let mut s = String::with_capacity(prefix.len() + inner.len() + 96);
            s.push_str(&prefix);
            s.push_str("\"choices\":[{\"index\":0,\"delta\":");
            s.push_str(inner);
            s.push_str(",\"logprobs\":null,\"finish_reason\":");
            match finish {
                Some(f) => push_json_str(&mut s, f),
                None => s.push_str("null"),
            }
            s.push_str("}]");
            s.push_str(usage_null);
            s.push('}');
            sse_data(&s)
        };
        let role = self.reply.overrides.role.as_deref().unwrap_or("assistant");
        let mut inner = String::from("{\"role\":");
        push_json_str(&mut inner, role);
        if self.reply.content_text().is_some() || !self.reply.has_tool_calls() {
            inner.push_str(",\"content\":\"\"");
        } else {
            inner.push_str(",\"content\":null");
        }
        inner.push_str(",\"refusal\":null}");
        events.push(delta(&inner, None));
        if let Some(r) = self.reasoning {
            for piece in chunk_text(r, chunk_size) {
                let mut inner = String::from("{\"reasoning_content\":");
                push_json_str(&mut inner, piece);
                inner.push('}');
                events.push(delta(&inner, None));
            }
        }
        let mut call_index = 0usize;
        for block in &self.reply.blocks {
            match block {
                crate::fixture::Block::Text(t) => {
                    for piece in chunk_text(t, chunk_size) {
                        let mut inner = String::from("{\"content\":");
                        push_json_str(&mut inner, piece);
                        inner.push('}');
                        events.push(delta(&inner, None));
                    }
                }
                crate::fixture::Block::ToolCall(c) => {
                    let id = &self.call_ids[call_index];
                    let mut inner = format!("{{\"tool_calls\":[{{\"index\":{call_index},\"id\":");
                    push_json_str(&mut inner, id);
                    inner.push_str(",\"type\":\"function\",\"function\":{\"name\":");
                    push_json_str(&mut inner, &c.name);
                    inner.push_str(",\"arguments\":");
                    if whole_calls {
                        push_json_str(&mut inner, &c.arguments);
                        inner.push_str("}}]}");
                        events.push(delta(&inner, None));
                        call_index += 1;
                        continue;
                    }
                    inner.push_str("\"\"}}]}");
                    events.push(delta(&inner, None));
                    for piece in chunk_text(&c.arguments, chunk_size) {
                        let mut inner = format!(
                            "{{\"tool_calls\":[{{\"index\":{call_index},\"function\":{{\"arguments\":"
                        );
                        push_json_str(&mut inner, piece);
                        inner.push_str("}}]}");
                        events.push(delta(&inner, None));
                    }
                    call_index += 1;
                }
            }
        }
        events.push(delta("{}", Some(self.reply.finish_reason())));
        let mut trailer = Vec::with_capacity(2);
        if include_usage {
            let mut s = prefix.clone();
            s.push_str("\"choices\":[],\"usage\":");
            self.push_usage(&mut s);
            s.push('}');
            trailer.push(sse_data(&s));
        }
        trailer.push(Bytes::from_static(b"data: [DONE]\n\n"));
        (events, trailer)
    }
}
