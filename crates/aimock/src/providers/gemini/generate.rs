//! `:generateContent` (JSON) and `:streamGenerateContent` (SSE with `alt=sse`, else a JSON array
//! streamed element by element).
//!
//! Image output (`gemini-2.5-flash-image`, ...): a request whose
//! `generationConfig.responseModalities` names `IMAGE` is an image request (`endpoint: image`),
//! answered by image fixtures (`image` / `images`, with optional `content`, `toolCalls`,
//! `reasoning` beside them) and errors, never by a text-only fixture. Any other request is a chat
//! request; an image fixture that matches it still renders its pictures, unless the request's
//! modalities leave `IMAGE` out. The pictures are `inlineData` parts after the text: the
//! fixture's `b64Json`, else a placeholder PNG of `imageConfig.aspectRatio`'s size coloured from
//! the prompt.

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::{Block, MessageReply, Reply};
use crate::http::ids::random_id;
use crate::http::percent::query_param;
use crate::http::push_json_str;
use crate::http::ApiError;
use crate::pipeline::{Answer, Call, Exchange};
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::providers::estimate_tokens;
use crate::providers::reply::{shown_reasoning, Commas, Counting, ReasoningCount, RenderedReply};
use crate::providers::wire::FunctionDecl;
use crate::stream::chunk_text;

/// A `GenerateContentRequest` (camelCase as the SDKs send it; proto JSON also takes snake_case).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct GenerateBody {
    #[serde(default)]
    pub(super) contents: Option<Vec<Content>>,
    #[serde(default, alias = "system_instruction")]
    pub(super) system_instruction: Option<SystemInstruction>,
    #[serde(default)]
    pub(super) tools: Option<Vec<Tool>>,
    #[serde(default, alias = "generation_config")]
    pub(super) generation_config: Option<GenerationConfig>,
}

/// `systemInstruction`: a `Content`, or (leniently) a plain string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum SystemInstruction {
    Text(String),
    Content(Content),
}

impl SystemInstruction {
    /// Its text parts joined; `None` when it has none.
    fn text(&self) -> Option<String> {
        match self {
            SystemInstruction::Text(t) => Some(t.clone()),
            SystemInstruction::Content(c) => c.text(),
        }
    }
}

/// One turn of `contents`.
#[derive(Deserialize)]
pub(super) struct Content {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    parts: Option<Vec<Part>>,
}

impl Content {
    /// The text of its parts (thought parts left out), joined with `""`; `None` when there is no
    /// text part.
    pub(super) fn text(&self) -> Option<String> {
        let mut out: Option<String> = None;
        for p in self.parts.iter().flatten() {
            if p.thought == Some(true) {
                continue;
            }
            if let Some(t) = &p.text {
                out.get_or_insert_with(String::new).push_str(t);
            }
        }
        out
    }
}

/// One part. Only the fields the conversation needs are read; `inlineData`, `fileData`,
/// `thoughtSignature`, `executableCode`... are accepted and ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(default, alias = "function_call")]
    function_call: Option<FunctionCall>,
    #[serde(default, alias = "function_response")]
    function_response: Option<FunctionResponse>,
}

#[derive(Deserialize)]
struct FunctionCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Deserialize)]
struct FunctionResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    response: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Tool {
    #[serde(default, alias = "function_declarations")]
    function_declarations: Option<Vec<FunctionDecl>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GenerationConfig {
    #[serde(default, alias = "response_mime_type")]
    response_mime_type: Option<String>,
    #[serde(default, alias = "response_schema")]
    response_schema: Option<Value>,
    #[serde(default, alias = "response_json_schema")]
    response_json_schema: Option<Value>,
    #[serde(default, alias = "thinking_config")]
    thinking_config: Option<ThinkingConfig>,
    #[serde(default, alias = "response_modalities")]
    response_modalities: Option<Vec<String>>,
    #[serde(default, alias = "image_config")]
    image_config: Option<ImageConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageConfig {
    #[serde(default, alias = "aspect_ratio")]
    aspect_ratio: Option<String>,
}

/// The size of a Gemini image model's picture for an aspect ratio (1K).
pub(super) fn image_size(aspect: &str) -> Option<(u32, u32)> {
    Some(match aspect {
        "1:1" => (1024, 1024),
        "2:3" => (832, 1248),
        "3:2" => (1248, 832),
        "3:4" => (864, 1184),
        "4:3" => (1184, 864),
        "4:5" => (896, 1152),
        "5:4" => (1152, 896),
        "9:16" => (768, 1344),
        "16:9" => (1344, 768),
        "21:9" => (1536, 672),
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThinkingConfig {
    #[serde(default, alias = "include_thoughts")]
    include_thoughts: Option<bool>,
    #[serde(default, alias = "thinking_budget")]
    thinking_budget: Option<i64>,
}

/// What rendering needs besides the conversation.
#[derive(Debug, Default, Clone)]
pub(crate) struct GenOptions {
    /// `thinkingConfig.includeThoughts`.
    include_thoughts: Option<bool>,
    /// `thinkingConfig.thinkingBudget: 0`: thinking is off.
    thinking_off: bool,
    /// Whether `responseModalities` names `IMAGE` (`None`: the request gives no modalities).
    image_output: Option<bool>,
    /// The placeholder picture's size (`imageConfig.aspectRatio`).
    image_size: (u32, u32),
    /// The pictures an image fixture answers with: `(mimeType, base64)`.
    images: Vec<(&'static str, String)>,
}

/// The id of a function call that came without one: `call_gemini_<name>_<i>`, `i` its index among
/// the calls of its turn. The same rule names the calls we send without a fixture id, so a client
/// that drops ids and one that echoes them get the same `toolCallId`.
pub(super) fn generated_call_id(name: &str, i: usize) -> String {
    format!("call_gemini_{name}_{i}")
}

fn invalid_at(message: impl Into<String>, field: String) -> ApiError {
    let mut e = ApiError::invalid(message).with_code("invalid_value");
    e.param = Some(Value::String(field));
    e
}

/// A function response's payload as the tool message text: a string as is, anything else as JSON.
fn response_text(v: Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
    }
}

/// The conversation of a `GenerateContentRequest`. `require_contents`: `generateContent` needs
/// at least one content (`countTokens` does not).
pub(super) fn conversation(
    v: GenerateBody,
    model: &str,
    require_contents: bool,
) -> Result<(ChatRequest, GenOptions), ApiError> {
    let contents = v.contents.unwrap_or_default();
    if contents.is_empty() && require_contents {
        return Err(invalid_at(
            "* GenerateContentRequest.contents: contents is not specified",
            "contents".to_owned(),
        ));
    }
    let mut messages = Vec::with_capacity(contents.len() + 1);
    if let Some(text) = v
        .system_instruction
        .as_ref()
        .and_then(SystemInstruction::text)
    {
        messages.push(Message::text(Role::System, text));
    }
    // Calls not answered yet, in order: a function response without an id answers the first
    // pending call of its name.
    let mut pending: Vec<(String, String)> = Vec::new();
    for (ci, c) in contents.into_iter().enumerate() {
        let role = c.role.as_deref().unwrap_or("user");
        let parts = c.parts.unwrap_or_default();
        let model = match role {
            "user" | "function" | "" => false,
            "model" => true,
            other => {
                return Err(invalid_at(
                    format!("Please use a valid role: user, model. Got '{other}'."),
                    format!("contents[{ci}].role"),
                ));
            }
        };
        // A model turn's text and function calls; a user turn's text and function responses.
        let mut text: Option<String> = None;
        let mut tool_calls = Vec::new();
        let mut results = Vec::new();
        for p in parts {
            if p.thought == Some(true) {
                continue;
            }
            if let Some(t) = p.text {
                text.get_or_insert_with(String::new).push_str(&t);
            }
            if let (true, Some(fc)) = (model, p.function_call) {
                let name = fc.name.unwrap_or_default();
                let id = fc
                    .id
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| generated_call_id(&name, tool_calls.len()));
                pending.push((name.clone(), id.clone()));
                tool_calls.push(ToolCallRef {
                    id,
                    name,
                    arguments: crate::providers::object_arguments(fc.args),
                });
            }
            if let (false, Some(fr)) = (model, p.function_response) {
                let name = fr.name.unwrap_or_default();
                let id = match fr.id.filter(|s| !s.is_empty()) {
                    Some(id) => {
                        if let Some(i) = pending.iter().position(|(_, pid)| *pid == id) {
                            pending.remove(i);
                        }
                        id
                    }
                    None => match pending.iter().position(|(n, _)| *n == name) {
                        Some(i) => pending.remove(i).1,
                        None => generated_call_id(&name, results.len()),
                    },
                };
                results.push(Message::tool_result(id, response_text(fr.response)));
            }
        }
        if model {
            messages.push(Message {
                role: Role::Assistant,
                text,
                tool_calls,
                tool_call_id: None,
            });
            continue;
        }
        // Tool results first, then any text the user added in the same turn.
        let had_results = !results.is_empty();
        messages.extend(results);
        if text.is_some() || !had_results {
            messages.push(Message {
                role: Role::User,
                text,
                tool_calls: Vec::new(),
                tool_call_id: None,
            });
        }
    }
    let tools = v
        .tools
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| t.function_declarations.unwrap_or_default())
        .filter_map(|d| d.name)
        .collect();
    let mut opts = GenOptions::default();
    let mut response_format = None;
    if let Some(g) = v.generation_config {
        if g.response_mime_type.as_deref() == Some("application/json") {
            response_format = Some(
                if g.response_schema.is_some() || g.response_json_schema.is_some() {
                    "json_schema"
                } else {
                    "json_object"
                }
                .to_owned(),
            );
        }
        if let Some(t) = g.thinking_config {
            opts.include_thoughts = t.include_thoughts;
            opts.thinking_off = t.thinking_budget == Some(0);
        }
        opts.image_output = g
            .response_modalities
            .map(|m| m.iter().any(|m| m.eq_ignore_ascii_case("image")));
        if let Some(aspect) = g.image_config.and_then(|c| c.aspect_ratio) {
            opts.image_size = image_size(&aspect).ok_or_else(|| {
                invalid_at(
                    format!("Unsupported aspect ratio: {aspect}. Supported: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9."),
                    "generation_config.image_config.aspect_ratio".to_owned(),
                )
            })?;
        }
    }
    if opts.image_size == (0, 0) {
        opts.image_size = (1024, 1024);
    }
    Ok((
        ChatRequest {
            model: model.to_owned(),
            messages,
            tools,
            response_format,
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: false,
        },
        opts,
    ))
}

/// Parse a `generateContent` body.
pub(crate) fn parse(
    body: &[u8],
    model: &str,
    stream: bool,
) -> Result<(ChatRequest, GenOptions), ApiError> {
    let v: GenerateBody = crate::http::parse_json_body(body)?;
    let (mut req, opts) = conversation(v, model, true)?;
    req.stream = stream;
    if opts.image_output == Some(true) {
        req.endpoint = Endpoint::Image;
    }
    Ok((req, opts))
}

/// An image fixture's reply as the model turn around its pictures: the pictures go into `opts`
/// (unless the request's modalities leave images out), the rest of the reply is the message.
fn image_turn(
    value: &Value,
    req: &ChatRequest,
    opts: &mut GenOptions,
) -> Result<MessageReply, ApiError> {
    let pictures = fixture_pictures(value, opts.image_size, req)?;
    if opts.image_output != Some(false) {
        opts.images = pictures;
    }
    companion_reply(value)
}

/// The pictures of an image fixture's reply, `(mimeType, base64)`: the fixture's bytes, else a
/// placeholder PNG of `(width, height)` coloured from the request's prompt.
pub(super) fn fixture_pictures(
    value: &Value,
    (w, h): (u32, u32),
    req: &ChatRequest,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    use crate::providers::media;
    let items = media::fixture_images(value, 1).ok_or_else(|| media::no_images("INTERNAL"))?;
    let seed = req.last_user_text().unwrap_or_default();
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let b = media::image_base64(item, w, h, &format!("{seed}#{i}"));
            (media::image_mime(&b), b)
        })
        .collect())
}

/// The rest of an image fixture's reply (`content`, `toolCalls`, `reasoning`, usage...) as a
/// message reply (empty text when it has none).
pub(super) fn companion_reply(value: &Value) -> Result<MessageReply, ApiError> {
    let mut rest = value.as_object().cloned().unwrap_or_default();
    rest.remove("image");
    rest.remove("images");
    if !["content", "toolCalls", "blocks"]
        .iter()
        .any(|k| rest.get(*k).is_some_and(|v| !v.is_null()))
    {
        rest.insert("content".into(), Value::String(String::new()));
    }
    match crate::fixture::compile::compile_response(Value::Object(rest)) {
        Ok((Reply::Message(m), _)) => Ok(m),
        Ok((other, _)) => Err(ApiError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!(
                "The image fixture's companion reply is {}, not text or tool calls.",
                other.kind()
            ),
        )),
        Err(m) => Err(ApiError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!("The image fixture's companion reply is invalid: {m}"),
        )),
    }
}

/// `generateContent` and `streamGenerateContent`.
#[derive(Debug)]
pub(super) struct Generate;

impl Generate {
    fn rendered<'a>(r: &Render<'a, GenOptions>) -> GenerateResponse<'a> {
        let mut out = GenerateResponse::new(r.req, r.reply, r.opts, r.strict);
        if r.call.route.info.variant == Some("vertex") {
            out.create_time = Some(super::rfc3339_now());
        }
        out
    }
}

impl MessageApi for Generate {
    type Opts = GenOptions;
    const SURFACE: &'static str = "generateContent";
    const JSON_TYPE: &'static str = "application/json; charset=UTF-8";

    fn parse(call: &Call) -> Result<(ChatRequest, GenOptions), ApiError> {
        let info = &call.route.info;
        let stream = info.action == Some("streamGenerateContent");
        parse(
            &call.body,
            info.model.as_deref().unwrap_or_default(),
            stream,
        )
    }

    fn resolve(ex: &mut Exchange, req: &ChatRequest, opts: &mut GenOptions) -> Answer {
        match ex.resolve(req) {
            Answer::Fixture(f) => match &f.reply {
                Reply::Other {
                    kind: "image",
                    value,
                } => match image_turn(value, req, opts) {
                    Ok(reply) => {
                        let mut turn = (*f).clone();
                        turn.reply = Reply::Message(reply);
                        Answer::Fixture(std::sync::Arc::new(turn))
                    }
                    Err(e) => Answer::Error(e),
                },
                _ => Answer::Fixture(f),
            },
            other => other,
        }
    }

    fn json(r: &Render<'_, GenOptions>) -> String {
        Generate::rendered(r).json()
    }

    fn stream(r: &Render<'_, GenOptions>) -> Streamed {
        let chunks = Generate::rendered(r).chunks(r.chunk_size);
        if query_param(r.call.query.as_deref(), "alt").as_deref() == Some("sse") {
            return Streamed::sse(chunks.iter().map(|c| sse_frame(c)).collect(), Vec::new());
        }
        let events = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let sep: &[u8] = if i == 0 { b"[" } else { b",\r\n" };
                let mut b = Vec::with_capacity(c.len() + sep.len());
                b.extend_from_slice(sep);
                b.extend_from_slice(c.as_bytes());
                Bytes::from(b)
            })
            .collect();
        Streamed {
            events,
            trailer: vec![Bytes::from_static(b"]")],
            head: None,
            content_type: "application/json; charset=UTF-8",
        }
    }
}

/// One SSE event as Google frames it: `data: <json>` and a blank line, with CRLF line ends.
fn sse_frame(json: &str) -> Bytes {
    let mut b = Vec::with_capacity(json.len() + 10);
    b.extend_from_slice(b"data: ");
    b.extend_from_slice(json.as_bytes());
    b.extend_from_slice(b"\r\n\r\n");
    Bytes::from(b)
}

/// The finish reason in Gemini's names. A function-call turn finishes `STOP` (Gemini has no
/// function-call finish reason); a name that is not OpenAI's is passed on upper-cased.
fn finish_reason(reply: &MessageReply) -> String {
    match reply.finish_reason() {
        "stop" | "tool_calls" | "function_call" => "STOP".to_owned(),
        "length" => "MAX_TOKENS".to_owned(),
        "content_filter" => "SAFETY".to_owned(),
        other => other.to_ascii_uppercase(),
    }
}

/// A tool call's arguments as a compact JSON object: the fixture's text when it already is one
/// (on one line), else re-serialized; anything that is not an object becomes `{}`.
fn args_object(arguments: &str) -> String {
    let t = arguments.trim();
    if t.is_empty() {
        return "{}".to_owned();
    }
    if t.starts_with('{')
        && !t.contains(['\n', '\r'])
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
    {
        return t.to_owned();
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v @ Value::Object(_)) => v.to_string(),
        _ => {
            tracing::warn!(
                arguments,
                "fixture tool call arguments are not a JSON object; sending {{}}"
            );
            "{}".to_owned()
        }
    }
}

/// How Gemini counts tokens; thoughts are counted apart.
const COUNTING: Counting = Counting {
    prompt: &["promptTokenCount", "prompt_tokens", "input_tokens"],
    completion: &["candidatesTokenCount", "completion_tokens", "output_tokens"],
    prompt_chars: ChatRequest::text_chars,
    reasoning: ReasoningCount::Apart,
};

/// A reply as `GenerateContentResponse`s.
struct GenerateResponse<'a> {
    core: RenderedReply<'a>,
    model_version: &'a str,
    response_id: String,
    /// Whether thought parts are sent (not when the request set `includeThoughts: false`).
    show_thoughts: bool,
    call_args: Vec<String>,
    finish: String,
    thoughts_tokens: Option<u64>,
    total_tokens: u64,
    /// Vertex's `createTime`.
    create_time: Option<String>,
    /// `inlineData` pictures after the text: `(mimeType, base64)`.
    images: &'a [(&'static str, String)],
}

impl<'a> GenerateResponse<'a> {
    fn new(
        req: &'a ChatRequest,
        reply: &'a MessageReply,
        opts: &'a GenOptions,
        strict: bool,
    ) -> Self {
        let o = &reply.overrides;
        // Reasoning the model may show: it reasons, and thinking is not off.
        let asked = reply
            .reasoning
            .as_deref()
            .filter(|r| !r.is_empty() && !opts.thinking_off);
        let reasoning = shown_reasoning(asked, &req.model, strict);
        let core = RenderedReply::new(req, reply, reasoning, &COUNTING, |i, c| {
            generated_call_id(&c.name, i)
        });
        let thoughts_tokens = reasoning.map(|r| {
            o.usage_number(&["thoughtsTokenCount", "reasoning_tokens"])
                .unwrap_or_else(|| estimate_tokens(r.len()))
        });
        GenerateResponse {
            model_version: core.model(&req.model, ""),
            response_id: core.id(|| random_id("", 22)),
            show_thoughts: reasoning.is_some() && opts.include_thoughts != Some(false),
            call_args: reply
                .tool_calls()
                .map(|c| args_object(&c.arguments))
                .collect(),
            finish: finish_reason(reply),
            thoughts_tokens,
            total_tokens: core.total_tokens(
                &["totalTokenCount", "total_tokens"],
                thoughts_tokens.unwrap_or(0),
            ),
            create_time: None,
            images: &opts.images,
            core,
        }
    }

    /// An `inlineData` part.
    fn push_image_part(b: &mut String, mime: &str, data: &str) {
        b.push_str("{\"inlineData\":{\"mimeType\":");
        push_json_str(b, mime);
        b.push_str(",\"data\":");
        push_json_str(b, data);
        b.push_str("}}");
    }

    /// A text block that is left out: an empty one beside pictures.
    fn skipped(&self, block: &Block) -> bool {
        matches!(block, Block::Text(t) if t.is_empty()) && !self.images.is_empty()
    }

    fn push_text_part(b: &mut String, text: &str, thought: bool) {
        b.push_str("{\"text\":");
        push_json_str(b, text);
        if thought {
            b.push_str(",\"thought\":true");
        }
        b.push('}');
    }

    /// The `functionCall` part of tool call `i`.
    fn push_call_part(&self, b: &mut String, i: usize, name: &str) {
        b.push_str("{\"functionCall\":{\"id\":");
        push_json_str(b, &self.core.call_ids[i]);
        b.push_str(",\"name\":");
        push_json_str(b, name);
        b.push_str(",\"args\":");
        b.push_str(&self.call_args[i]);
        b.push_str("}}");
    }

    fn push_usage(&self, b: &mut String) {
        use std::fmt::Write;
        let _ = write!(
            b,
            "{{\"promptTokenCount\":{},\"candidatesTokenCount\":{},\"totalTokenCount\":{}",
            self.core.prompt_tokens, self.core.completion_tokens, self.total_tokens
        );
        let _ = write!(
            b,
            ",\"promptTokensDetails\":[{{\"modality\":\"TEXT\",\"tokenCount\":{}}}]",
            self.core.prompt_tokens
        );
        if let Some(t) = self.thoughts_tokens {
            let _ = write!(b, ",\"thoughtsTokenCount\":{t}");
        }
        if self.create_time.is_some() {
            b.push_str(",\"trafficType\":\"ON_DEMAND\"");
        }
        b.push('}');
    }

    /// One `GenerateContentResponse` around `parts` (already a JSON list's inside); `last` adds
    /// the finish reason and usage.
    fn push_response(&self, b: &mut String, parts: &str, last: bool) {
        b.push_str("{\"candidates\":[{\"content\":{\"parts\":[");
        b.push_str(parts);
        b.push_str("],\"role\":\"model\"}");
        if last {
            b.push_str(",\"finishReason\":");
            push_json_str(b, &self.finish);
        }
        b.push_str(",\"index\":0}]");
        if last {
            b.push_str(",\"usageMetadata\":");
            self.push_usage(b);
        }
        b.push_str(",\"modelVersion\":");
        push_json_str(b, self.model_version);
        if let Some(t) = &self.create_time {
            b.push_str(",\"createTime\":");
            push_json_str(b, t);
        }
        b.push_str(",\"responseId\":");
        push_json_str(b, &self.response_id);
        b.push('}');
    }

    /// The whole response: thought part, then text and function calls in the fixture's order.
    fn json(&self) -> String {
        let mut parts = String::with_capacity(256);
        let mut commas = Commas::default();
        if self.show_thoughts {
            if let Some(r) = self.core.reasoning {
                commas.next(&mut parts);
                Self::push_text_part(&mut parts, r, true);
            }
        }
        let mut call = 0;
        for block in &self.core.reply.blocks {
            if self.skipped(block) {
                continue;
            }
            commas.next(&mut parts);
            match block {
                Block::Text(t) => Self::push_text_part(&mut parts, t, false),
                Block::ToolCall(c) => {
                    self.push_call_part(&mut parts, call, &c.name);
                    call += 1;
                }
            }
        }
        for (mime, data) in self.images {
            commas.next(&mut parts);
            Self::push_image_part(&mut parts, mime, data);
        }
        if parts.is_empty() {
            parts.push_str("{\"text\":\"\"}");
        }
        let mut b = String::with_capacity(parts.len() + 320);
        self.push_response(&mut b, &parts, true);
        b
    }

    /// The stream's responses: one per thought slice, one per text slice, one per run of
    /// function calls; the last carries the finish reason and usage.
    fn chunks(&self, chunk_size: usize) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        if self.show_thoughts {
            if let Some(r) = self.core.reasoning {
                for piece in chunk_text(r, chunk_size) {
                    let mut p = String::with_capacity(piece.len() + 32);
                    Self::push_text_part(&mut p, piece, true);
                    groups.push(p);
                }
            }
        }
        let mut call = 0;
        let mut in_calls = false;
        for block in &self.core.reply.blocks {
            if self.skipped(block) {
                continue;
            }
            match block {
                Block::Text(t) => {
                    in_calls = false;
                    for piece in chunk_text(t, chunk_size) {
                        let mut p = String::with_capacity(piece.len() + 16);
                        Self::push_text_part(&mut p, piece, false);
                        groups.push(p);
                    }
                }
                Block::ToolCall(c) => {
                    let mut p = String::new();
                    self.push_call_part(&mut p, call, &c.name);
                    call += 1;
                    match groups.last_mut() {
                        Some(g) if in_calls => {
                            g.push(',');
                            g.push_str(&p);
                        }
                        _ => groups.push(p),
                    }
                    in_calls = true;
                }
            }
        }
        for (mime, data) in self.images {
            let mut p = String::with_capacity(data.len() + 64);
            Self::push_image_part(&mut p, mime, data);
            groups.push(p);
        }
        if groups.is_empty() {
            groups.push("{\"text\":\"\"}".to_owned());
        }
        let n = groups.len();
        groups
            .iter()
            .enumerate()
            .map(|(i, parts)| {
                let mut b = String::with_capacity(parts.len() + 200);
                self.push_response(&mut b, parts, i + 1 == n);
                b
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn conv(body: Value) -> ChatRequest {
        parse(body.to_string().as_bytes(), "gemini-2.5-flash", false)
            .unwrap()
            .0
    }

    #[test]
    fn function_responses_without_ids_answer_the_call_of_the_same_name() {
        let req = conv(serde_json::json!({"contents": [
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_time", "args": {}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"t": 20}}},
                {"functionResponse": {"name": "get_time", "response": {"now": "noon"}}}]}
        ]}));
        let calls = &req.messages[1].tool_calls;
        assert_eq!(calls[0].id, "call_gemini_get_time_0");
        assert_eq!(calls[1].id, "call_gemini_get_weather_1");
        assert_eq!(calls[1].arguments, r#"{"city":"Paris"}"#);
        assert_eq!(
            req.messages[2].tool_call_id.as_deref(),
            Some("call_gemini_get_weather_1")
        );
        assert_eq!(req.messages[2].text.as_deref(), Some(r#"{"t":20}"#));
        assert_eq!(
            req.messages[3].tool_call_id.as_deref(),
            Some("call_gemini_get_time_0")
        );
        assert!(req.current_turn_has_tool_result());
    }

    #[test]
    fn function_ids_sent_by_the_client_are_kept() {
        let req = conv(serde_json::json!({"contents": [
            {"parts": [{"text": "go"}]},
            {"role": "model", "parts": [{"functionCall": {"id": "abc", "name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"id": "abc", "name": "f", "response": {}}}]}
        ]}));
        assert_eq!(
            req.last_tool_result().unwrap().tool_call_id.as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn thought_parts_are_skipped_and_system_tools_and_json_mode_are_read() {
        let req = conv(serde_json::json!({
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "hi "}, {"inlineData": {"mimeType": "image/png", "data": "AA=="}}, {"text": "there"}]},
                {"role": "model", "parts": [{"text": "hmm", "thought": true}, {"text": "Hello"}]},
                {"role": "user", "parts": [{"text": "again"}]}],
            "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}, {"googleSearch": {}}],
            "generationConfig": {"responseMimeType": "application/json"}
        }));
        assert_eq!(req.system_text(), "Be brief.");
        assert_eq!(req.messages[1].text.as_deref(), Some("hi there"));
        assert_eq!(req.messages[2].text.as_deref(), Some("Hello"));
        assert_eq!(req.tools, vec!["a", "b"]);
        assert_eq!(req.response_format.as_deref(), Some("json_object"));
        assert_eq!(req.last_user_text(), Some("again"));
    }

    #[test]
    fn unknown_roles_and_missing_contents_are_invalid_arguments() {
        let e = parse(
            br#"{"contents": [{"role": "assistant", "parts": []}]}"#,
            "m",
            false,
        )
        .err()
        .unwrap();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("valid role"), "{}", e.message);
        assert!(parse(br#"{}"#, "m", false).is_err());
        assert!(parse(br#"{"contents": "hi"}"#, "m", false).is_err());
    }

    #[test]
    fn image_modalities_make_an_image_request_and_aspect_ratios_are_checked() {
        let body = |g: Value| {
            serde_json::json!({"contents": [{"parts": [{"text": "a cat"}]}], "generationConfig": g})
                .to_string()
        };
        let (req, o) = parse(body(serde_json::json!({"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "9:16"}})).as_bytes(), "m", false).unwrap();
        assert_eq!(req.endpoint, Endpoint::Image);
        assert_eq!(o.image_size, (768, 1344));
        let (req, o) = parse(
            body(serde_json::json!({"responseModalities": ["TEXT"]})).as_bytes(),
            "m",
            false,
        )
        .unwrap();
        assert_eq!(req.endpoint, Endpoint::Chat);
        assert_eq!((o.image_output, o.image_size), (Some(false), (1024, 1024)));
        let e = parse(
            body(serde_json::json!({"imageConfig": {"aspectRatio": "2:1"}})).as_bytes(),
            "m",
            false,
        )
        .err()
        .unwrap();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn an_image_fixtures_pictures_go_beside_its_companion_text() {
        let req = conv(serde_json::json!({"contents": [{"parts": [{"text": "a cat"}]}]}));
        let mut o = GenOptions {
            image_size: (2, 2),
            ..Default::default()
        };
        let value = serde_json::json!({"images": [{"b64Json": "R0lGODlhAQABAAAAACw="}, {}], "content": "Here."});
        let reply = image_turn(&value, &req, &mut o).unwrap();
        assert_eq!(reply.blocks, vec![Block::Text("Here.".into())]);
        assert_eq!(o.images.len(), 2);
        assert_eq!(
            o.images[0],
            ("image/gif", "R0lGODlhAQABAAAAACw=".to_owned())
        );
        assert_eq!(o.images[1].0, "image/png");
        let body = GenerateResponse::new(&req, &reply, &o, false).json();
        let v: Value = serde_json::from_str(&body).unwrap();
        let parts = &v["candidates"][0]["content"]["parts"];
        assert_eq!(parts[0]["text"], "Here.");
        assert_eq!(parts[1]["inlineData"]["mimeType"], "image/gif");
        assert_eq!(parts.as_array().unwrap().len(), 3);
    }

    #[test]
    fn finish_reasons_use_geminis_names() {
        let mut r = MessageReply::text("x");
        assert_eq!(finish_reason(&r), "STOP");
        r.overrides.finish_reason = Some("length".into());
        assert_eq!(finish_reason(&r), "MAX_TOKENS");
        r.overrides.finish_reason = Some("content_filter".into());
        assert_eq!(finish_reason(&r), "SAFETY");
        r.overrides.finish_reason = Some("tool_calls".into());
        assert_eq!(finish_reason(&r), "STOP");
    }

    #[test]
    fn arguments_become_one_line_json_objects() {
        assert_eq!(args_object(""), "{}");
        assert_eq!(args_object(r#"{"a":1}"#), r#"{"a":1}"#);
        assert_eq!(args_object("{\n \"a\": 1\n}"), r#"{"a":1}"#);
        assert_eq!(args_object("[1]"), "{}");
        assert_eq!(args_object("nope"), "{}");
    }
}
