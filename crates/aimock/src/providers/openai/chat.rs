//! `POST /v1/chat/completions`: JSON and SSE.

use axum::body::Bytes;
use http::header;
use serde::Deserialize;
use serde_json::Value;

use crate::conversation::{ChatRequest, Endpoint, Role};
use crate::fixture::{Block, MessageReply};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::http::{push_int, push_json_str};
use crate::pipeline::Call;
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::providers::reply::{
    push_function_call, shown_reasoning, CallIndex, Counting, ReasoningCount, RenderedReply,
};
use crate::providers::wire::{self, Content, Dialect, FunctionDecl, Msg, Part, Skip, Tool};
use crate::stream::{chunk_text, sse_data};

#[derive(Deserialize)]
struct Body_ {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Msg<OpenAi>>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    tools: Option<Vec<Tool<OpenAi>>>,
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

/// OpenAI's chat body, in the OpenAI-style wire the providers share.
pub(crate) struct OpenAi;

impl Dialect for OpenAi {
    type Content = Content<Part>;
    type CallId = String;
    type FunctionName = String;
    type Images = Skip;
    type ToolName = Skip;
    type Function = FunctionDecl;
    type ToolOwnName = Option<String>;
}

/// What the chat endpoint needs besides the conversation.
pub(crate) struct ChatOptions {
    pub(crate) include_usage: bool,
}

/// A message's role, in OpenAI's names (`developer` is a system message, `function` a tool's).
fn role(i: usize, role: &str) -> Result<Role, ApiError> {
    Ok(match role {
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
    })
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
    let messages = wire::messages(msgs, role, wire::openai_text)?;
    let mut tools = wire::tool_names(v.tools);
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
        Completion::openai(r.req, r.reply, r.strict).json()
    }

    fn stream(r: &Render<'_, ChatOptions>) -> Streamed {
        // Mistral's SDK shares this path but requires each streamed tool call whole in one delta
        // (its `function.name` is mandatory in every delta), as Mistral's own API sends it.
        let whole_calls = r
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("mistral-client"));
        let (events, trailer) = Completion::openai(r.req, r.reply, r.strict).sse(
            r.chunk_size,
            r.opts.include_usage,
            whole_calls,
        );
        Streamed::sse(events, trailer)
    }
}

/// How a chat completion counts tokens (OpenAI's and OpenRouter's usage names).
const COUNTING: Counting = Counting {
    prompt: &["prompt_tokens", "input_tokens"],
    completion: &["completion_tokens", "output_tokens"],
    prompt_chars: ChatRequest::text_chars,
    reasoning: ReasoningCount::Apart,
};

/// A reply in the chat completion shape, computed once: what OpenAI's renderer here and
/// OpenRouter's (the same shape, with its own head, usage extras and reasoning fields) share.
pub(crate) struct Completion<'a> {
    pub(crate) core: RenderedReply<'a>,
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) model: &'a str,
}

impl<'a> Completion<'a> {
    /// `reply` to `req` for the model `asked` (whose family decides whether reasoning shows; it is
    /// echoed back, `default_model` when empty), with a generated id of `id_prefix`.
    pub(crate) fn new(
        req: &ChatRequest,
        reply: &'a MessageReply,
        strict: bool,
        asked: &'a str,
        default_model: &'a str,
        id_prefix: &str,
    ) -> Self {
        let reasoning = shown_reasoning(reply.reasoning.as_deref(), asked, strict);
        let core = RenderedReply::new(req, reply, reasoning, &COUNTING, |_, _| {
            random_id("call_", 24)
        });
        Completion {
            id: core.id(|| random_id(id_prefix, 29)),
            created: core.created(),
            model: core.model(asked, default_model),
            core,
        }
    }

    /// OpenAI's: `chatcmpl-` ids, `gpt-4o` when no model is named.
    fn openai(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        Completion::new(req, reply, strict, &req.model, "gpt-4o", "chatcmpl-")
    }

    /// `{"prompt_tokens":...,"completion_tokens":...,"total_tokens":...` — the usage object up to
    /// what follows the counts.
    pub(crate) fn push_counts(&self, b: &mut String) {
        let c = &self.core;
        b.push_str("{\"prompt_tokens\":");
        push_int(b, c.prompt_tokens);
        b.push_str(",\"completion_tokens\":");
        push_int(b, c.completion_tokens);
        b.push_str(",\"total_tokens\":");
        push_int(b, c.total_tokens(&["total_tokens"], 0));
    }

    /// OpenAI's usage object: the counts and the token details (the fixture's, else zeros).
    fn push_usage(&self, b: &mut String) {
        self.push_counts(b);
        let o = &self.core.reply.overrides;
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

    /// The message's tool calls array; `indexed` gives each its `index` (OpenRouter's).
    pub(crate) fn push_tool_calls(&self, b: &mut String, indexed: bool) {
        self.core.push_calls(b, |b, i, c, id| {
            let index = if indexed {
                CallIndex::AfterId(i)
            } else {
                CallIndex::None
            };
            push_function_call(b, index, id, &c.name, &c.arguments);
        });
    }

    /// `"role":...,"content":...,"refusal":null` — a message's first members (after its `{`).
    pub(crate) fn push_role_content(&self, b: &mut String) {
        let reply = self.core.reply;
        match reply.overrides.role.as_deref() {
            None => b.push_str("\"role\":\"assistant\""),
            Some(role) => {
                b.push_str("\"role\":");
                push_json_str(b, role);
            }
        }
        b.push_str(",\"content\":");
        match reply.content_json() {
            Some(c) => b.push_str(c),
            None => b.push_str("null"),
        }
        b.push_str(",\"refusal\":null");
    }

    /// The whole `chat.completion` object, written directly (this is the hot path).
    fn json(&self) -> String {
        let reply = self.core.reply;
        let mut b = String::with_capacity(640);
        self.push_head(&mut b, "chat.completion");
        b.push_str(",\"choices\":[{\"index\":0,\"message\":{");
        self.push_role_content(&mut b);
        b.push_str(",\"annotations\":[]");
        if reply.has_tool_calls() {
            b.push_str(",\"tool_calls\":");
            self.push_tool_calls(&mut b, false);
        }
        if let Some(r) = self.core.reasoning {
            b.push_str(",\"reasoning_content\":");
            push_json_str(&mut b, r);
        }
        b.push_str("},\"logprobs\":null,\"finish_reason\":");
        match reply.finish_reason() {
            "stop" => b.push_str("\"stop\""),
            "tool_calls" => b.push_str("\"tool_calls\""),
            other => push_json_str(&mut b, other),
        }
        b.push_str("}],\"usage\":");
        self.push_usage(&mut b);
        b.push_str(",\"service_tier\":\"default\"");
        if let Some(fp) = &reply.overrides.system_fingerprint {
            b.push_str(",\"system_fingerprint\":");
            push_json_str(&mut b, fp);
        }
        b.push('}');
        b
    }

    /// `{"id":...,"object":<object>,"created":...,"model":...`: how the object and every chunk
    /// start.
    fn push_head(&self, b: &mut String, object: &str) {
        b.push_str("{\"id\":");
        push_json_str(b, &self.id);
        b.push_str(",\"object\":\"");
        b.push_str(object);
        b.push_str("\",\"created\":");
        push_int(b, self.created);
        b.push_str(",\"model\":");
        push_json_str(b, self.model);
    }

    /// The start of every chunk: `{"id":...,"object":"chat.completion.chunk","created":...,"model":...,`.
    fn chunk_prefix(&self) -> String {
        let mut p = String::with_capacity(128);
        self.push_head(&mut p, "chat.completion.chunk");
        if let Some(fp) = &self.core.reply.overrides.system_fingerprint {
            p.push_str(",\"system_fingerprint\":");
            push_json_str(&mut p, fp);
        }
        p.push(',');
        p
    }

    /// The stream's deltas, in order, each framed by `frame(delta, last)`: the role; the
    /// reasoning, `reasoning(out, piece, last)` writing each piece's delta; the text, each piece
    /// after `text_open`; each tool call, its id and name then its arguments in pieces (in one
    /// delta with `whole_calls`); and last the empty delta that carries the finish reason.
    pub(crate) fn deltas(
        &self,
        chunk_size: usize,
        whole_calls: bool,
        text_open: &str,
        reasoning: impl Fn(&mut String, &str, bool),
        frame: impl Fn(&str, bool) -> Bytes,
    ) -> Vec<Bytes> {
        let reply = self.core.reply;
        let mut events = Vec::new();
        let role = reply.overrides.role.as_deref().unwrap_or("assistant");
        let mut inner = String::from("{\"role\":");
        push_json_str(&mut inner, role);
        if reply.content_text().is_some() || !reply.has_tool_calls() {
            inner.push_str(",\"content\":\"\"");
        } else {
            inner.push_str(",\"content\":null");
        }
        inner.push_str(",\"refusal\":null}");
        events.push(frame(&inner, false));
        if let Some(r) = self.core.reasoning {
            let pieces = chunk_text(r, chunk_size);
            let n = pieces.len();
            for (i, piece) in pieces.into_iter().enumerate() {
                let mut inner = String::new();
                reasoning(&mut inner, piece, i + 1 == n);
                events.push(frame(&inner, false));
            }
        }
        let mut call_index = 0usize;
        for block in &reply.blocks {
            match block {
                Block::Text(t) => {
                    for piece in chunk_text(t, chunk_size) {
                        let mut inner = String::from(text_open);
                        push_json_str(&mut inner, piece);
                        inner.push('}');
                        events.push(frame(&inner, false));
                    }
                }
                Block::ToolCall(c) => {
                    let id = &self.core.call_ids[call_index];
                    let arguments = if whole_calls {
                        c.arguments.as_str()
                    } else {
                        ""
                    };
                    let mut inner = String::from("{\"tool_calls\":[");
                    push_function_call(
                        &mut inner,
                        CallIndex::First(call_index),
                        id,
                        &c.name,
                        arguments,
                    );
                    inner.push_str("]}");
                    events.push(frame(&inner, false));
                    if !whole_calls {
                        for piece in chunk_text(&c.arguments, chunk_size) {
                            let mut inner = format!(
                                "{{\"tool_calls\":[{{\"index\":{call_index},\"function\":{{\"arguments\":"
                            );
                            push_json_str(&mut inner, piece);
                            inner.push_str("}}]}");
                            events.push(frame(&inner, false));
                        }
                    }
                    call_index += 1;
                }
            }
        }
        events.push(frame("{}", true));
        events
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
        let finish = self.core.reply.finish_reason();
        let events = self.deltas(
            chunk_size,
            whole_calls,
            "{\"content\":",
            |inner, piece, _| {
                inner.push_str("{\"reasoning_content\":");
                push_json_str(inner, piece);
                inner.push('}');
            },
            |inner, last| {
                let mut s = String::with_capacity(prefix.len() + inner.len() + 96);
                s.push_str(&prefix);
                s.push_str("\"choices\":[{\"index\":0,\"delta\":");
                s.push_str(inner);
                s.push_str(",\"logprobs\":null,\"finish_reason\":");
                if last {
                    push_json_str(&mut s, finish);
                } else {
                    s.push_str("null");
                }
                s.push_str("}]");
                s.push_str(usage_null);
                s.push('}');
                sse_data(&s)
            },
        );
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
