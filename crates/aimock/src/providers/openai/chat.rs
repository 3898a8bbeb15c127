//! `POST /v1/chat/completions`: JSON and SSE.

use axum::body::Bytes;
use http::header;
use serde::Deserialize;
use serde_json::Value;

use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::fixture::{Block, MessageReply};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::http::{push_int, push_json_str};
use crate::pipeline::Call;
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::providers::reply::{
    push_function_call, shown_reasoning, CallIndex, Counting, ReasoningCount, RenderedReply,
};
use crate::providers::wire::{self, Content, Dialect, FunctionDecl, Part, Skip, Tool};
use crate::stream::{chunk_text, sse_data};

#[derive(Deserialize)]
struct Body_ {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Messages>,
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
fn known_role(role: &str) -> Option<Role> {
    Some(match role {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" | "function" => Role::Tool,
        _ => return None,
    })
}

/// The error for a message's role OpenAI does not know.
fn unknown_role(i: usize, other: &str) -> ApiError {
    let mut e = ApiError::invalid(format!(
        "Invalid value: '{other}'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'."
    ))
    .with_code("invalid_value");
    e.param = Some(Value::String(format!("messages[{i}].role")));
    e
}

/// `messages`, read straight into the conversation's messages (no list of wire messages built
/// and converted after). A role OpenAI does not know is kept aside and refused once the whole
/// body has parsed, so a body that is also broken elsewhere gets the same error as before.
struct Messages {
    messages: Vec<Message>,
    /// The first message with an unknown role: its index and the role.
    unknown_role: Option<(usize, String)>,
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Messages, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Messages;
            // A list's own words, as serde's `Vec` says them.
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Messages, A::Error> {
                let mut out = Messages {
                    messages: Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64)),
                    unknown_role: None,
                };
                while let Some(m) = seq.next_element::<OneMessage>()? {
                    if let (Some(other), None) = (m.unknown_role, &out.unknown_role) {
                        out.unknown_role = Some((out.messages.len(), other));
                    }
                    out.messages.push(m.message);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V)
    }
}

/// One message of `messages`, read as the derived `Msg<OpenAi>` of [`wire`] reads it (the same
/// fields, the same errors: a missing `role`, a field twice, a message given as a list), into the
/// conversation's [`Message`].
struct OneMessage {
    message: Message,
    /// The role, when OpenAI does not know it (the message's role is then a placeholder).
    unknown_role: Option<String>,
}

/// A message's `role`: a string, known or not.
enum RoleName {
    Known(Role),
    Unknown(String),
}

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RoleName, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RoleName;
            // What serde's `String` expects.
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RoleName, E> {
                Ok(match known_role(v) {
                    Some(r) => RoleName::Known(r),
                    None => RoleName::Unknown(v.to_owned()),
                })
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RoleName, E> {
                Ok(match known_role(&v) {
                    Some(r) => RoleName::Known(r),
                    None => RoleName::Unknown(v),
                })
            }
        }
        d.deserialize_string(V)
    }
}

/// The fields of a message, as the derived `Msg` names them.
enum MsgField {
    Role,
    Content,
    ToolCalls,
    ToolCallId,
    Images,
    ToolName,
    Other,
}

impl<'de> Deserialize<'de> for MsgField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MsgField, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MsgField;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<MsgField, E> {
                Ok(match v {
                    0 => MsgField::Role,
                    1 => MsgField::Content,
                    2 => MsgField::ToolCalls,
                    3 => MsgField::ToolCallId,
                    4 => MsgField::Images,
                    5 => MsgField::ToolName,
                    _ => MsgField::Other,
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MsgField, E> {
                Ok(match v {
                    "role" => MsgField::Role,
                    "content" => MsgField::Content,
                    "tool_calls" => MsgField::ToolCalls,
                    "tool_call_id" => MsgField::ToolCallId,
                    "images" => MsgField::Images,
                    "tool_name" => MsgField::ToolName,
                    _ => MsgField::Other,
                })
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<MsgField, E> {
                Ok(match v {
                    b"role" => MsgField::Role,
                    b"content" => MsgField::Content,
                    b"tool_calls" => MsgField::ToolCalls,
                    b"tool_call_id" => MsgField::ToolCallId,
                    b"images" => MsgField::Images,
                    b"tool_name" => MsgField::ToolName,
                    _ => MsgField::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

type ToolCalls = Vec<wire::MsgToolCall<OpenAi>>;

impl OneMessage {
    fn new(
        role: RoleName,
        content: Option<Content<Part>>,
        tool_calls: Option<ToolCalls>,
        tool_call_id: Option<String>,
    ) -> OneMessage {
        let (role, unknown_role) = match role {
            RoleName::Known(r) => (r, None),
            RoleName::Unknown(name) => (Role::User, Some(name)),
        };
        OneMessage {
            message: Message {
                role,
                text: wire::openai_text(content),
                tool_calls: tool_calls
                    .unwrap_or_default()
                    .into_iter()
                    .map(wire::MsgToolCall::into_ref)
                    .collect(),
                tool_call_id,
            },
            unknown_role,
        }
    }
}

impl<'de> Deserialize<'de> for OneMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<OneMessage, D::Error> {
        const FIELDS: &[&str] = &[
            "role",
            "content",
            "tool_calls",
            "tool_call_id",
            "images",
            "tool_name",
        ];
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneMessage;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("struct Msg")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneMessage, A::Error> {
                let Some(role) = seq.next_element::<RoleName>()? else {
                    return Err(serde::de::Error::invalid_length(
                        0,
                        &"struct Msg with 6 elements",
                    ));
                };
                let content = seq.next_element::<Option<Content<Part>>>()?.flatten();
                let tool_calls = seq.next_element::<Option<ToolCalls>>()?.flatten();
                let tool_call_id = seq.next_element::<Option<String>>()?.flatten();
                seq.next_element::<Option<Skip>>()?;
                seq.next_element::<Skip>()?;
                Ok(OneMessage::new(role, content, tool_calls, tool_call_id))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OneMessage, A::Error> {
                use serde::de::Error;
                let mut role: Option<RoleName> = None;
                let mut content: Option<Option<Content<Part>>> = None;
                let mut tool_calls: Option<Option<ToolCalls>> = None;
                let mut tool_call_id: Option<Option<String>> = None;
                let (mut images, mut tool_name) = (false, false);
                while let Some(key) = map.next_key::<MsgField>()? {
                    match key {
                        MsgField::Role => {
                            if role.is_some() {
                                return Err(A::Error::duplicate_field("role"));
                            }
                            role = Some(map.next_value()?);
                        }
                        MsgField::Content => {
                            if content.is_some() {
                                return Err(A::Error::duplicate_field("content"));
                            }
                            content = Some(map.next_value()?);
                        }
                        MsgField::ToolCalls => {
                            if tool_calls.is_some() {
                                return Err(A::Error::duplicate_field("tool_calls"));
                            }
                            tool_calls = Some(map.next_value()?);
                        }
                        MsgField::ToolCallId => {
                            if tool_call_id.is_some() {
                                return Err(A::Error::duplicate_field("tool_call_id"));
                            }
                            tool_call_id = Some(map.next_value()?);
                        }
                        MsgField::Images => {
                            if images {
                                return Err(A::Error::duplicate_field("images"));
                            }
                            map.next_value::<Option<Skip>>()?;
                            images = true;
                        }
                        MsgField::ToolName => {
                            if tool_name {
                                return Err(A::Error::duplicate_field("tool_name"));
                            }
                            map.next_value::<Skip>()?;
                            tool_name = true;
                        }
                        MsgField::Other => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                let Some(role) = role else {
                    return Err(A::Error::missing_field("role"));
                };
                Ok(OneMessage::new(
                    role,
                    content.flatten(),
                    tool_calls.flatten(),
                    tool_call_id.flatten(),
                ))
            }
        }
        d.deserialize_struct("Msg", FIELDS, V)
    }
}

/// Parse an OpenAI chat body into the conversation: the usual body by [`plain_body`], any other
/// by serde.
pub(crate) fn parse(
    body: &[u8],
    deployment: Option<&str>,
) -> Result<(ChatRequest, ChatOptions), ApiError> {
    if let Some(plain) = std::str::from_utf8(body).ok().and_then(plain_body) {
        return Ok(plain.into_request(deployment));
    }
    parse_with_serde(body, deployment)
}

/// [`parse`], every body through serde.
fn parse_with_serde(
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
    if let Some((i, other)) = &msgs.unknown_role {
        return Err(unknown_role(*i, other));
    }
    let messages = msgs.messages;
    let mut tools = wire::tool_names(v.tools);
    tools.extend(
        v.functions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| f.name),
    );
    Ok((
        ChatRequest {
            model: model_or(v.model, deployment),
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

/// The model asked for; an empty or missing one is the Azure deployment's (or empty).
fn model_or(model: Option<String>, deployment: Option<&str>) -> String {
    model
        .filter(|m| !m.is_empty())
        .or_else(|| deployment.map(str::to_owned))
        .unwrap_or_default()
}

/// The usual chat body, as [`plain_body`] reads it.
#[derive(Debug)]
struct PlainBody {
    model: Option<String>,
    messages: Vec<Message>,
    stream: Option<bool>,
}

impl PlainBody {
    fn into_request(self, deployment: Option<&str>) -> (ChatRequest, ChatOptions) {
        (
            ChatRequest {
                model: model_or(self.model, deployment),
                messages: self.messages,
                tools: Vec::new(),
                response_format: None,
                endpoint: Endpoint::Chat,
                embedding_input: None,
                stream: self.stream.unwrap_or(false),
            },
            ChatOptions {
                include_usage: false,
            },
        )
    }
}

/// The usual chat body read without serde: an object of `model` (a string), `messages` (a list
/// of objects of a known `role` and a string `content`) and `stream` (a boolean), each at most
/// once, strings without escapes or control characters, and nothing after it but whitespace.
/// Any other body (another field, a null, a number, an escape, an unknown role, a field twice,
/// broken JSON) is `None`, and serde reads it: this reads only what serde would read the same
/// way, so every answer and every error stays serde's.
fn plain_body(text: &str) -> Option<PlainBody> {
    let mut p = Plain { text, i: 0 };
    let (mut model, mut messages, mut stream) = (None, None, None);
    p.ws();
    p.eat(b'{')?;
    loop {
        p.ws();
        let key = p.string()?;
        p.ws();
        p.eat(b':')?;
        p.ws();
        match key {
            "model" if model.is_none() => model = Some(p.string()?.to_owned()),
            "messages" if messages.is_none() => messages = Some(p.messages()?),
            "stream" if stream.is_none() => stream = Some(p.boolean()?),
            _ => return None,
        }
        p.ws();
        match p.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    p.ws();
    if p.i != text.len() {
        return None;
    }
    Some(PlainBody {
        model,
        messages: messages?,
        stream,
    })
}

/// A position in a body [`plain_body`] reads.
struct Plain<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Plain<'a> {
    /// JSON's whitespace (as serde_json skips it).
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.text.as_bytes().get(self.i) {
            self.i += 1;
        }
    }

    fn next(&mut self) -> Option<u8> {
        let b = *self.text.as_bytes().get(self.i)?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// A string without escapes or control characters (the text is UTF-8 already).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.text.as_bytes()[start..];
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        self.text.get(start..start + len)
    }

    fn boolean(&mut self) -> Option<bool> {
        let rest = &self.text.as_bytes()[self.i..];
        let (value, len) = if rest.starts_with(b"true") {
            (true, 4)
        } else if rest.starts_with(b"false") {
            (false, 5)
        } else {
            return None;
        };
        self.i += len;
        Some(value)
    }

    /// `[` messages `]`.
    fn messages(&mut self) -> Option<Vec<Message>> {
        self.eat(b'[')?;
        let mut out = Vec::with_capacity(4);
        self.ws();
        if self.text.as_bytes().get(self.i) == Some(&b']') {
            self.i += 1;
            return Some(out);
        }
        loop {
            self.ws();
            out.push(self.message()?);
            self.ws();
            match self.next()? {
                b',' => {}
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    /// `{"role": ..., "content": ...}`, `content` optional.
    fn message(&mut self) -> Option<Message> {
        self.eat(b'{')?;
        let (mut role, mut content) = (None, None);
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            match key {
                "role" if role.is_none() => role = Some(known_role(self.string()?)?),
                "content" if content.is_none() => content = Some(self.string()?.to_owned()),
                _ => return None,
            }
            self.ws();
            match self.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
        Some(Message {
            role: role?,
            text: content,
            tool_calls: Vec::new(),
            tool_call_id: None,
        })
    }
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

#[cfg(test)]
mod parse_tests {
    //! The direct reading of `messages` against the derived wire messages it replaced: the same
    //! request, or the same error, for every body.
    use super::*;
    use crate::providers::wire::Msg;

    /// Named as the body it stands for: serde's errors name the type.
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

    /// The parser as it was: the derived messages, converted after.
    fn derived_parse(body: &[u8]) -> Result<ChatRequest, ApiError> {
        let v: Body_ = crate::http::parse_json_body(body)?;
        let Some(msgs) = v.messages else {
            let mut e = ApiError::invalid("Missing required parameter: 'messages'.")
                .with_code("missing_required_parameter");
            e.param = Some(Value::String("messages".into()));
            return Err(e);
        };
        let messages = wire::messages(
            msgs,
            |i, r| known_role(r).ok_or_else(|| unknown_role(i, r)),
            wire::openai_text,
        )?;
        let mut tools = wire::tool_names(v.tools);
        tools.extend(
            v.functions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.name),
        );
        let _ = v.stream_options.and_then(|s| s.include_usage);
        Ok(ChatRequest {
            model: v.model.filter(|m| !m.is_empty()).unwrap_or_default(),
            messages,
            tools,
            response_format: v.response_format.map(|r| r.kind),
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: v.stream.unwrap_or(false),
        })
    }

    /// `parse` (the plain reading first) against the derived parser, one body.
    fn same(body: &[u8]) {
        let new = parse(body, None).map(|(r, _)| r);
        let old = derived_parse(body);
        let shown = String::from_utf8_lossy(body);
        match (&new, &old) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{shown}"),
            (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{shown}"),
            _ => panic!("{shown}: {new:?} vs {old:?}"),
        }
    }

    #[test]
    fn the_usual_body_is_read_without_serde() {
        for body in [
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"benchmark target question"}]}"#,
            r#" { "messages" : [ { "content" : "x" , "role" : "system" } , {"role":"assistant"} ] , "stream" : true , "model" : "" }
"#,
            r#"{"messages":[],"stream":false}"#,
        ] {
            let plain = plain_body(body).unwrap_or_else(|| panic!("{body}"));
            let (req, _) = plain.into_request(None);
            assert_eq!(req, derived_parse(body.as_bytes()).unwrap(), "{body}");
        }
        for body in [
            r#"{}"#,
            r#"{"model":"m"}"#,
            r#"{"messages":[],"messages":[]}"#,
            r#"{"messages":[{"role":"user","role":"user"}]}"#,
            r#"{"messages":[{"role":"bogus"}]}"#,
            r#"{"messages":[{}]}"#,
            r#"{"messages":[{"role":"user","content":null}]}"#,
            r#"{"messages":[{"role":"user","content":"a\nb"}]}"#,
            r#"{"messages":[],"temperature":1}"#,
            r#"{"messages":[],}"#,
            r#"{"messages":[]} x"#,
            r#"{"messages":[],"stream":truex}"#,
            r#"{"model":null,"messages":[]}"#,
        ] {
            assert!(plain_body(body).is_none(), "{body}");
            same(body.as_bytes());
        }
    }

    /// Bodies near the usual one, broken and bent at random: the plain reading, when it reads
    /// one, reads what serde reads, and `parse` answers every one as serde did.
    #[test]
    fn bodies_near_the_usual_one_parse_as_serde_does() {
        use rand::{Rng, SeedableRng};
        let seeds: &[&str] = &[
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"benchmark target question"}]}"#,
            r#"{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}],"stream":true,"model":"m"}"#,
            r#"{ "stream" : false , "messages" : [ ] }"#,
        ];
        let alphabet: &[u8] = b"{}[]:,\" \\\nxe0-1.tfnlru\x01\x7f";
        let words: &[&str] = &[
            "\"model\"",
            "\"messages\"",
            "\"stream\"",
            "\"role\"",
            "\"content\"",
            "\"user\"",
            "\"tool\"",
            "\"bogus\"",
            "true",
            "false",
            "null",
            "1",
            "{}",
            "[]",
            ",",
            ":",
            "\"tools\"",
            "\"\\u0041\"",
            "\"\"",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let mut plain_read = 0;
        for _ in 0..20_000 {
            let mut body = seeds[rng.gen_range(0..seeds.len())].as_bytes().to_vec();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..=body.len());
                match rng.gen_range(0..4) {
                    0 if at < body.len() => {
                        body.remove(at);
                    }
                    1 => body.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
                    2 => {
                        let w = words[rng.gen_range(0..words.len())].as_bytes();
                        body.splice(at..at, w.iter().copied());
                    }
                    _ if at < body.len() => {
                        body[at] = alphabet[rng.gen_range(0..alphabet.len())];
                    }
                    _ => {}
                }
            }
            if std::str::from_utf8(&body)
                .ok()
                .and_then(plain_body)
                .is_some()
            {
                plain_read += 1;
            }
            same(&body);
        }
        // The mutations leave many bodies readable the plain way: both paths were compared.
        assert!(plain_read > 500, "{plain_read}");
    }

    #[test]
    fn messages_read_directly_parse_as_the_derived_ones_did() {
        let bodies: &[&str] = &[
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"benchmark target question"}]}"#,
            r#"{"messages":[]}"#,
            r#"{"model":"m"}"#,
            r#"{}"#,
            r#"[]"#,
            r#"["gpt-4o"]"#,
            r#"["gpt-4o", [{"role":"user","content":"hi"}], true]"#,
            r#"["gpt-4o", [["user","hi"]]]"#,
            r#"["gpt-4o", [["user"]]]"#,
            r#"["gpt-4o", [[]]]"#,
            r#"["gpt-4o", [["user","hi",null,"id",null,1,2]]]"#,
            r#"["gpt-4o", [], null, null, null, null, null, 1]"#,
            r#"{"messages":[{"role":"user","content":"a"},{"role":"bogus","content":"b"},{"role":"worse"}]}"#,
            r#"{"messages":[{"role":"bogus"}],"tools":5}"#,
            r#"{"messages":[{"role":"bogus"}],"tools":[{"function":{"name":1}}]}"#,
            r#"{"messages":[{"content":"no role"}]}"#,
            r#"{"messages":[{"role":"user","role":"user"}]}"#,
            r#"{"messages":[{"role":"user","content":"a","content":"b"}]}"#,
            r#"{"messages":[{"role":"user","images":[1],"images":[2]}]}"#,
            r#"{"messages":[{"role":"user","tool_name":1,"tool_name":2}]}"#,
            r#"{"messages":[{"role":"tool","tool_call_id":"c1","tool_call_id":"c2"}]}"#,
            r#"{"messages":[{"role":"assistant","tool_calls":[],"tool_calls":[]}]}"#,
            r#"{"messages":[{"role":1}]}"#,
            r#"{"messages":[{"role":null}]}"#,
            r#"{"messages":[{"role":"user","content":1}]}"#,
            r#"{"messages":[{"role":"user","content":null}]}"#,
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url"},{"type":"input_text","text":"b"}]}]}"#,
            r#"{"messages":[{"role":"user","content":[{"type":1}]}]}"#,
            r#"{"messages":[{"role":"user","content":[]}]}"#,
            r#"{"messages":[{"role":"user","content":{"type":"text"}}]}"#,
            r#"{"messages":[{"role":"developer","content":"s"},{"role":"function","content":"f"},{"role":"system","content":"x"}]}"#,
            r#"{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"c2","function":{"name":"g","arguments":{"b":2}}},{"id":"c3","function":{"name":"h"}},{"id":"c4"}]},{"role":"tool","tool_call_id":"c1","content":"r"}]}"#,
            r#"{"messages":[{"role":"assistant","tool_calls":[{"id":null}]}]}"#,
            r#"{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":null}}]}]}"#,
            r#"{"messages":[{"role":"assistant","tool_calls":{"id":"x"}}]}"#,
            r#"{"messages":[{"role":"tool","tool_call_id":5}]}"#,
            r#"{"messages":[{"role":"user","content":"x","extra":{"deep":[1,2,{"a":null}]},"name":"bob"}],"temperature":0.2,"unknown":[1]}"#,
            r#"{"messages":{"role":"user"}}"#,
            r#"{"messages":"hello"}"#,
            r#"{"messages":null}"#,
            r#"{"messages":[null]}"#,
            r#"{"messages":[1]}"#,
            r#"{"messages":["user"]}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"messages":[]}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"model":5}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"stream":"yes"}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"t1"}},{"name":"t2"}],"functions":[{"name":"f1"},{}]}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#,
            r#"{"messages":[{"role":"user","content":"x"}],"response_format":{}}"#,
            r#"{"messages":[{"role":"user","content":"esc \" \\ \n \u00e9 \ud83d\ude00"}]}"#,
            r#"{"messages":[{"role":"us\u0065r","content":"escaped role"}]}"#,
            r#"{"messages":[{"role":"user","content":"x"}]"#,
            r#"{"messages":[{"role":"user","content":"x"}]} trailing"#,
            r#"{"messages":[{"role":"user","content":"x",}]}"#,
            r#"not json"#,
            "",
            r#"{"messages":[{"role":"user","content":"x"}]}"#,
        ];
        let mut all: Vec<Vec<u8>> = bodies.iter().map(|b| b.as_bytes().to_vec()).collect();
        // Not UTF-8.
        all.push(b"{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}".to_vec());
        all.push(b"{\"messages\":[{\"role\":\"\xfe\"}]}".to_vec());
        for body in &all {
            let new = parse(body, None).map(|(r, _)| r);
            let old = derived_parse(body);
            let shown = String::from_utf8_lossy(body);
            match (&new, &old) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{shown}"),
                (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{shown}"),
                _ => panic!("{shown}: {new:?} vs {old:?}"),
            }
        }
    }
}
