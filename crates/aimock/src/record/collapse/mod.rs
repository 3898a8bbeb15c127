//! A provider's reply, streamed or not, as a fixture `response` object that replays the same
//! message through our own renderers.
//!
//! - [`collapse_stream`]: an SSE, NDJSON, JSON-array or AWS EventStream body, complete or cut
//!   short, into `{content, toolCalls}` (or ordered `blocks` when a tool call comes before or
//!   between text), `reasoning`, `reasoningSignature`, `redactedThinking`, `finishReason` (in
//!   OpenAI's names where one fits: `stop`, `tool_calls`, `length`, `content_filter`; otherwise the
//!   provider's own), `usage` (the provider's own object) and `model`.
//! - [`collapse_json`]: a non-streamed 2xx JSON body, including embeddings (`{embedding: [...]}`).
//! - [`collapse_error`]: an error body into `{error: {message, type, code?}, status}`.
//! - [`FrameSplitter`]: counts the frames each network chunk completes, for recorded timings.
//!
//! Pure: no I/O. Nothing here panics on upstream data: a malformed frame is skipped and counted,
//! every accumulated string is capped ([`MAX_STRING`]) with a warning, and a stream without its
//! terminal event comes back with `complete: false`.

mod split;

use std::borrow::Cow;

use serde_json::{Map, Value};

pub(crate) use split::{FrameSplitter, Framing};

/// The longest string (content, reasoning, one tool call's arguments) a collapse keeps, in bytes.
pub(crate) const MAX_STRING: usize = 64 * 1024 * 1024;

/// How record mode reads one API's replies: its stream and JSON readers and how it frames a
/// stream. Each provider declares its own beside its renderer (`providers/<name>/collapse.rs`).
#[derive(Debug)]
pub(crate) struct Collapser {
    /// The API, for warnings.
    pub(crate) name: &'static str,
    /// A streamed body's frames into the builder.
    pub(crate) stream: fn(&mut Builder, &[u8]),
    /// A whole JSON reply into the builder; `false` when it holds nothing a fixture can replay.
    pub(crate) json: fn(&mut Builder, &Value) -> bool,
    /// How the API frames a stream. Gemini without `alt=sse` streams a JSON array instead:
    /// [`Framing::JsonArray`] is picked from the content type for that.
    pub(crate) framing: Framing,
    /// An error body's numeric `code` repeats the HTTP status and its `status` is the type
    /// (Google's envelope).
    pub(crate) status_in_code: bool,
    /// The OpenAI chat collapser, for APIs whose servers also answer in OpenAI's format (the
    /// OpenAI-compatible endpoints of Ollama, Gemini and Anthropic).
    pub(crate) compat: Option<&'static Collapser>,
}

/// A collapsed reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Collapsed {
    /// The fixture `response` object.
    pub(crate) response: Value,
    /// Whether the body held its terminal event (`[DONE]`, `message_stop`, `done: true`, ...).
    pub(crate) complete: bool,
    /// Frames that could not be read and were skipped.
    pub(crate) dropped_frames: usize,
    /// What went wrong or was unusual, for the recording's `_warnings`.
    pub(crate) warnings: Vec<String>,
}

/// A streamed body (SSE text, NDJSON, a JSON array, or AWS EventStream binary), complete or cut
/// short.
pub(crate) fn collapse_stream(c: &Collapser, body: &[u8]) -> Collapsed {
    collapse_stream_capped(c, body, MAX_STRING)
}

/// [`collapse_stream`] with a cap on every accumulated string.
pub(crate) fn collapse_stream_capped(c: &Collapser, body: &[u8], cap: usize) -> Collapsed {
    let mut b = Builder::new(cap);
    let c = match c.compat {
        Some(openai) if is_openai_chat_sse(body) => openai,
        _ => c,
    };
    (c.stream)(&mut b, body);
    b.finish()
}

/// A non-streamed JSON body of a 2xx reply: a message, or an embedding (the first vector).
/// `None` when the body is not JSON or holds nothing a fixture can replay.
pub(crate) fn collapse_json(c: &Collapser, body: &[u8]) -> Option<Collapsed> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut b = Builder::new(MAX_STRING);
    b.complete = true;
    if let Some(e) = embedding(&v) {
        b.embedding = Some(e);
        return Some(b.finish());
    }
    let c = match c.compat {
        Some(openai) if v.get("choices").is_some() => openai,
        _ => c,
    };
    (c.json)(&mut b, &v).then(|| b.finish())
}

/// A 2xx audio reply (`audio/*`, a speech API's bytes) as `{audio: <base64>, format}`, the format
/// read from the MIME type (`audio/mpeg` is `mp3`).
pub(crate) fn collapse_audio(content_type: &str, body: &[u8]) -> Collapsed {
    use base64::Engine as _;
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match mime.strip_prefix("audio/").unwrap_or("") {
        "mpeg" | "mp3" => "mp3",
        "wav" | "x-wav" | "wave" | "vnd.wave" => "wav",
        "ogg" | "opus" => "opus",
        "aac" => "aac",
        "flac" | "x-flac" => "flac",
        "pcm" | "l16" | "raw" => "pcm",
        other => other,
    };
    let mut b = Builder::new(MAX_STRING);
    b.complete = true;
    if body.is_empty() {
        b.warn("the audio reply was empty");
    }
    let mut r = Map::new();
    r.insert(
        "audio".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
    );
    if !format.is_empty() {
        r.insert("format".into(), Value::String(format.to_owned()));
    }
    b.media(r);
    b.finish()
}

/// An error reply (any status, any body) as `{error: {message, type?, code?}, status}`, reading
/// each provider's envelope: OpenAI `{error: {message, type, code}}`, Anthropic
/// `{type: "error", error: {type, message}}`, Google `{error: {code, message, status}}`, Cohere
/// and Bedrock `{message}`, Ollama `{error: "..."}`. A body that is not JSON becomes the message.
pub(crate) fn collapse_error(c: &Collapser, status: u16, body: &[u8]) -> Collapsed {
    let mut b = Builder::new(MAX_STRING);
    b.complete = true;
    let status = if (400..=599).contains(&status) {
        status
    } else {
        b.warn(format!(
            "upstream status {status} recorded as 502: an error fixture needs a 4xx or 5xx"
        ));
        502
    };
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let mut message = None;
    let mut kind = None;
    let mut code = None;
    if let Some(v) = &v {
        let err = v.get("error");
        match err {
            Some(Value::Object(e)) => {
                message = str_of(e.get("message")).map(str::to_owned);
                kind = str_of(e.get("type"))
                    .or_else(|| str_of(e.get("status")))
                    .map(str::to_owned);
                code = match e.get("code") {
                    // Google's `code` repeats the HTTP status: its `status` is the type.
                    Some(Value::Number(_)) if c.status_in_code => None,
                    Some(c) if !c.is_null() => Some(c.clone()),
                    _ => None,
                };
            }
            Some(Value::String(s)) => message = Some(s.clone()),
            _ => {}
        }
        if message.is_none() {
            message = str_of(v.get("message"))
                .or_else(|| str_of(v.get("Message")))
                .map(str::to_owned);
        }
        if kind.is_none() {
            kind = str_of(v.get("__type")).map(|t| t.rsplit('#').next().unwrap_or(t).to_owned());
        }
    }
    let message = message.filter(|m| !m.is_empty()).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            format!("upstream returned HTTP {status}")
        } else {
            truncate_chars(text, 2000)
        }
    });
    let mut e = Map::new();
    e.insert("message".into(), Value::String(message));
    if let Some(k) = kind {
        e.insert("type".into(), Value::String(k));
    }
    if let Some(c) = code {
        e.insert("code".into(), c);
    }
    b.error = Some((status, e));
    b.finish()
}

/// Whether an SSE body's first data event is an OpenAI chat completion chunk.
fn is_openai_chat_sse(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    let Some(start) = text.find("data:") else {
        return false;
    };
    let line = text[start + 5..].lines().next().unwrap_or("").trim();
    line.contains("\"chat.completion.chunk\"")
        || serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("choices").is_some())
}

/// The first embedding vector of an embeddings reply, whichever provider's shape: OpenAI
/// `data[0].embedding` (floats or base64 little-endian f32), Gemini `embedding.values` and
/// `embeddings[0].values`, Vertex `predictions[0].embeddings.values`, Ollama `embeddings[0]` and
/// `embedding`, Cohere `embeddings.float[0]` and `embeddings[0]`, Titan `embedding`.
fn embedding(v: &Value) -> Option<Vec<f64>> {
    let numbers = |v: &Value| -> Option<Vec<f64>> {
        let items = v.as_array()?;
        let out: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
        (!out.is_empty() && out.len() == items.len()).then_some(out)
    };
    if let Some(first) = v.get("data").and_then(|d| d.get(0)) {
        match first.get("embedding") {
            Some(Value::String(b64)) => return base64_f32(b64),
            Some(e) => return numbers(e),
            None => {}
        }
    }
    if let Some(e) = v.get("embedding") {
        return numbers(e.get("values").unwrap_or(e));
    }
    if let Some(es) = v.get("embeddings") {
        let first = match es {
            Value::Array(items) => items.first(),
            Value::Object(o) => o
                .get("float")
                .or_else(|| o.values().next())
                .and_then(|x| x.get(0)),
            _ => None,
        }?;
        return numbers(first.get("values").unwrap_or(first));
    }
    if let Some(p) = v.get("predictions").and_then(|p| p.get(0)) {
        let e = p.get("embeddings")?;
        return numbers(e.get("values").unwrap_or(e));
    }
    None
}

/// OpenAI's `encoding_format: "base64"` vector: little-endian f32s.
fn base64_f32(b64: &str) -> Option<Vec<f64>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    if bytes.is_empty() || bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
    )
}

pub(crate) fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// How the reply finished.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finish {
    /// The provider's plain end of turn: `tool_calls` when the reply calls a tool, else `stop`.
    Natural,
    /// A named reason, already in OpenAI's names where one fits.
    Named(String),
}

#[derive(Debug)]
enum Atom {
    Text(String),
    Tool(usize),
}

#[derive(Debug, Default)]
pub(crate) struct ToolAcc {
    pub(crate) name: String,
    pub(crate) id: Option<String>,
    pub(crate) args: String,
    /// Arguments given whole (an object), used when no fragments arrived.
    pub(crate) whole: Option<String>,
}

/// What every collapser accumulates, and how it becomes a fixture response.
#[derive(Debug)]
pub(crate) struct Builder {
    cap: usize,
    atoms: Vec<Atom>,
    pub(crate) tools: Vec<ToolAcc>,
    text_len: usize,
    reasoning: String,
    pub(crate) signature: Option<String>,
    pub(crate) redacted: Vec<String>,
    pub(crate) web_searches: Vec<String>,
    pub(crate) finish: Option<Finish>,
    pub(crate) usage: Option<Map<String, Value>>,
    pub(crate) model: Option<String>,
    pub(crate) complete: bool,
    /// A stream that carried an error event is not a complete reply.
    pub(crate) errored: bool,
    /// The first error event's detail.
    stream_error: Option<Value>,
    pub(crate) dropped: usize,
    warnings: Vec<String>,
    capped: Vec<&'static str>,
    embedding: Option<Vec<f64>>,
    error: Option<(u16, Map<String, Value>)>,
    /// A media reply (`image`, `images`, `audio`, ...), recorded as it is.
    media: Option<Map<String, Value>>,
    /// Pictures a message carries beside its text (Gemini image output), as fixture images.
    images: Vec<Value>,
}

impl Builder {
    pub(crate) fn new(cap: usize) -> Builder {
        Builder {
            cap,
            atoms: Vec::new(),
            tools: Vec::new(),
            text_len: 0,
            reasoning: String::new(),
            signature: None,
            redacted: Vec::new(),
            web_searches: Vec::new(),
            finish: None,
            usage: None,
            model: None,
            complete: false,
            errored: false,
            stream_error: None,
            dropped: 0,
            warnings: Vec::new(),
            capped: Vec::new(),
            embedding: None,
            media: None,
            images: Vec::new(),
            error: None,
        }
    }

    pub(crate) fn warn(&mut self, w: impl Into<String>) {
        if self.warnings.len() < 50 {
            self.warnings.push(w.into());
        }
    }

    /// A frame that could not be read: counted; the first is described.
    pub(crate) fn drop_frame(&mut self, sample: &str) {
        self.dropped += 1;
        if self.dropped == 1 {
            let s = truncate_chars(sample.trim(), 120);
            self.warn(format!("skipped a malformed frame: {s:?}"));
        }
    }

    /// An error event inside a stream.
    pub(crate) fn stream_error(&mut self, detail: &Value) {
        if !self.errored {
            self.stream_error = Some(detail.clone());
        }
        self.errored = true;
        let s = truncate_chars(&detail.to_string(), 300);
        self.warn(format!("the upstream stream carried an error: {s}"));
    }

    /// How much of `add` fits in a string of `len` bytes under the cap (on a char boundary);
    /// records the field as capped when not all of it does.
    /// Once a field is cut, nothing more is appended to it.
    fn room<'a>(&mut self, len: usize, add: &'a str, field: &'static str) -> &'a str {
        if self.capped.contains(&field) {
            return "";
        }
        let room = self.cap.saturating_sub(len);
        if add.len() <= room {
            return add;
        }
        let mut end = room;
        while end > 0 && !add.is_char_boundary(end) {
            end -= 1;
        }
        if !self.capped.contains(&field) {
            self.capped.push(field);
            self.warn(format!(
                "{field} exceeded {} bytes and was cut short",
                self.cap
            ));
        }
        &add[..end]
    }

    /// Append to a string under the cap.
    pub(crate) fn append(&mut self, to: &mut String, add: &str, field: &'static str) {
        let add = self.room(to.len(), add, field);
        to.push_str(add);
    }

    /// Text, in stream order.
    pub(crate) fn text(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let t = self.room(self.text_len, t, "content");
        if t.is_empty() {
            return;
        }
        self.text_len += t.len();
        match self.atoms.last_mut() {
            Some(Atom::Text(s)) => s.push_str(t),
            _ => self.atoms.push(Atom::Text(t.to_owned())),
        }
    }

    /// Reasoning text.
    pub(crate) fn reasoning(&mut self, t: &str) {
        let mut r = std::mem::take(&mut self.reasoning);
        self.append(&mut r, t, "reasoning");
        self.reasoning = r;
    }

    pub(crate) fn has_reasoning(&self) -> bool {
        !self.reasoning.is_empty()
    }

    /// A new tool call, in stream order; its index in `tools`.
    pub(crate) fn tool(&mut self, name: &str, id: Option<&str>) -> usize {
        self.tools.push(ToolAcc {
            name: name.to_owned(),
            id: id.filter(|i| !i.is_empty()).map(str::to_owned),
            ..Default::default()
        });
        let i = self.tools.len() - 1;
        self.atoms.push(Atom::Tool(i));
        i
    }

    /// An arguments fragment of tool call `i`.
    pub(crate) fn tool_args(&mut self, i: usize, frag: &str) {
        if let Some(t) = self.tools.get_mut(i) {
            let mut args = std::mem::take(&mut t.args);
            self.append(&mut args, frag, "tool call arguments");
            if let Some(t) = self.tools.get_mut(i) {
                t.args = args;
            }
        }
    }

    /// Arguments given whole, as a JSON value (an object) or a string.
    pub(crate) fn tool_whole_args(&mut self, i: usize, args: &Value) {
        let s = match args {
            Value::String(s) => s.clone(),
            Value::Null => return,
            other => other.to_string(),
        };
        let s = self.room(0, &s, "tool call arguments").to_owned();
        if let Some(t) = self.tools.get_mut(i) {
            t.whole = Some(s);
        }
    }

    /// Merge a usage object: its keys replace earlier ones (Anthropic's `message_delta` usage
    /// completes `message_start`'s).
    pub(crate) fn merge_usage(&mut self, u: &Value) {
        if let Value::Object(o) = u {
            let usage = self.usage.get_or_insert_with(Map::new);
            for (k, v) in o {
                usage.insert(k.clone(), v.clone());
            }
        }
    }

    pub(crate) fn set_model(&mut self, m: Option<&Value>) {
        if let Some(m) = m.and_then(Value::as_str).filter(|m| !m.is_empty()) {
            self.model = Some(m.to_owned());
        }
    }

    /// The fixture response.
    /// A picture of the message, as base64 (recorded as its `image` / `images`).
    pub(crate) fn image(&mut self, b64: &str) {
        let mut i = Map::new();
        i.insert("b64Json".into(), Value::String(b64.to_owned()));
        self.images.push(Value::Object(i));
    }

    /// The reply is a media one: these fixture `response` fields, as they are.
    pub(crate) fn media(&mut self, fields: Map<String, Value>) {
        self.media = Some(fields);
    }

    pub(crate) fn finish(mut self) -> Collapsed {
        let mut r = Map::new();
        if let Some((status, e)) = self.error.take() {
            r.insert("error".into(), Value::Object(e));
            r.insert("status".into(), Value::from(status));
            return self.done(r);
        }
        // A stream that carried nothing but an error is recorded as that error (still
        // incomplete: whether to keep it is the caller's choice).
        if self.atoms.is_empty() && self.reasoning.is_empty() {
            if let Some(detail) = self.stream_error.take() {
                let (status, e) = stream_error_reply(&detail);
                r.insert("error".into(), Value::Object(e));
                r.insert("status".into(), Value::from(status));
                return self.done(r);
            }
        }
        if let Some(m) = self.media.take() {
            return self.done(m);
        }
        if let Some(e) = self.embedding.take() {
            r.insert(
                "embedding".into(),
                Value::Array(e.into_iter().map(Value::from).collect()),
            );
            if let Some(m) = self.model.take() {
                r.insert("model".into(), Value::String(m));
            }
            return self.done(r);
        }
        // Tool calls, normalized once so `toolCalls` and `blocks` agree.
        let mut calls: Vec<Value> = Vec::with_capacity(self.tools.len());
        let tools = std::mem::take(&mut self.tools);
        for (i, t) in tools.into_iter().enumerate() {
            let raw = if t.args.trim().is_empty() {
                t.whole.unwrap_or_default()
            } else {
                t.args
            };
            let args = if raw.trim().is_empty() {
                "{}".to_owned()
            } else if serde_json::from_str::<Value>(&raw).is_ok() {
                raw
            } else {
                self.warn(format!(
                    "tool call {i} ({}) has arguments that are not JSON, recorded as {{}}: {:?}",
                    t.name,
                    truncate_chars(&raw, 200)
                ));
                "{}".to_owned()
            };
            let name = if t.name.is_empty() {
                self.warn(format!("tool call {i} has no name"));
                "unknown".to_owned()
            } else {
                t.name
            };
            let mut c = Map::new();
            c.insert("name".into(), Value::String(name));
            c.insert("arguments".into(), Value::String(args));
            if let Some(id) = t.id {
                c.insert("id".into(), Value::String(id));
            }
            calls.push(Value::Object(c));
        }
        let first_text = self.atoms.iter().position(|a| matches!(a, Atom::Text(_)));
        let first_tool = self.atoms.iter().position(|a| matches!(a, Atom::Tool(_)));
        let interleaved = match (first_text, first_tool) {
            (Some(t), Some(c)) => {
                c < t
                    || self
                        .atoms
                        .iter()
                        .skip(c)
                        .any(|a| matches!(a, Atom::Text(_)))
            }
            _ => false,
        };
        let has_tools = !calls.is_empty();
        if interleaved {
            let mut blocks = Vec::with_capacity(self.atoms.len());
            for a in &self.atoms {
                match a {
                    Atom::Text(t) => {
                        let mut o = Map::new();
                        o.insert("type".into(), Value::String("text".into()));
                        o.insert("text".into(), Value::String(t.clone()));
                        blocks.push(Value::Object(o));
                    }
                    Atom::Tool(i) => {
                        if let Some(Value::Object(c)) = calls.get(*i) {
                            let mut o = Map::new();
                            o.insert("type".into(), Value::String("toolCall".into()));
                            o.extend(c.clone());
                            blocks.push(Value::Object(o));
                        }
                    }
                }
            }
            r.insert("blocks".into(), Value::Array(blocks));
        } else {
            let text: String = self
                .atoms
                .iter()
                .filter_map(|a| match a {
                    Atom::Text(t) => Some(t.as_str()),
                    Atom::Tool(_) => None,
                })
                .collect();
            if !text.is_empty() || (!has_tools && self.images.is_empty()) {
                if text.is_empty() {
                    self.warn("the reply has no text and no tool calls");
                }
                r.insert("content".into(), Value::String(text));
            }
            if has_tools {
                r.insert("toolCalls".into(), Value::Array(calls));
            }
        }
        match self.images.len() {
            0 => {}
            1 => {
                r.insert("image".into(), self.images.remove(0));
            }
            _ => {
                r.insert(
                    "images".into(),
                    Value::Array(std::mem::take(&mut self.images)),
                );
            }
        }
        if !self.reasoning.is_empty() {
            r.insert(
                "reasoning".into(),
                Value::String(std::mem::take(&mut self.reasoning)),
            );
        }
        if let Some(s) = self.signature.take().filter(|s| !s.is_empty()) {
            r.insert("reasoningSignature".into(), Value::String(s));
        }
        let redacted: Vec<Value> = std::mem::take(&mut self.redacted)
            .into_iter()
            .filter(|d| !d.is_empty())
            .map(Value::String)
            .collect();
        if !redacted.is_empty() {
            r.insert("redactedThinking".into(), Value::Array(redacted));
        }
        if !self.web_searches.is_empty() {
            let w = std::mem::take(&mut self.web_searches)
                .into_iter()
                .map(Value::String)
                .collect();
            r.insert("webSearches".into(), Value::Array(w));
        }
        let finish = match self.finish.take() {
            Some(Finish::Named(n)) => Some(n),
            Some(Finish::Natural) if has_tools => Some("tool_calls".to_owned()),
            Some(Finish::Natural) => Some("stop".to_owned()),
            None => None,
        };
        if let Some(f) = finish {
            r.insert("finishReason".into(), Value::String(f));
        }
        if let Some(u) = self.usage.take().filter(|u| !u.is_empty()) {
            r.insert("usage".into(), Value::Object(clean_usage(u)));
        }
        if let Some(m) = self.model.take() {
            r.insert("model".into(), Value::String(m));
        }
        self.done(r)
    }

    fn done(self, r: Map<String, Value>) -> Collapsed {
        // `complete: false` speaks for itself: no warning is added for it here.
        Collapsed {
            response: Value::Object(r),
            complete: self.complete && !self.errored,
            dropped_frames: self.dropped,
            warnings: self.warnings,
        }
    }
}

/// An error event of a stream as an error reply: its message and type, and the HTTP status the
/// same error has as a response (Anthropic's and Bedrock's error types, Google's statuses).
fn stream_error_reply(detail: &Value) -> (u16, Map<String, Value>) {
    let message = str_of(detail.get("message"))
        .map(str::to_owned)
        .or_else(|| detail.as_str().map(str::to_owned))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| truncate_chars(&detail.to_string(), 2000));
    let kind = str_of(detail.get("type"))
        .or_else(|| str_of(detail.get("status")))
        .or_else(|| str_of(detail.get("code")));
    let status = match kind.unwrap_or("") {
        "invalid_request_error" | "validationException" | "INVALID_ARGUMENT" => 400,
        "authentication_error" | "UNAUTHENTICATED" => 401,
        "permission_error" | "accessDeniedException" | "PERMISSION_DENIED" => 403,
        "not_found_error" | "resourceNotFoundException" | "NOT_FOUND" => 404,
        "modelTimeoutException" => 408,
        "modelStreamErrorException" => 424,
        "rate_limit_error" | "throttlingException" | "RESOURCE_EXHAUSTED" => 429,
        "serviceUnavailableException" | "UNAVAILABLE" => 503,
        "overloaded_error" => 529,
        _ => detail
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..=599).contains(c))
            .unwrap_or(500),
    };
    let mut e = Map::new();
    e.insert("message".into(), Value::String(message));
    if let Some(k) = kind {
        e.insert("type".into(), Value::String(k.to_owned()));
    }
    (status, e)
}

/// Usage numbers the fixture checker wants non-negative: a `null` (OpenAI sends
/// `"usage": {"prompt_tokens": 3, ..., "cost": null}` on some compatible APIs) is left out.
fn clean_usage(mut u: Map<String, Value>) -> Map<String, Value> {
    u.retain(|_, v| !v.is_null());
    u
}

/// One SSE event: its `event:` name and its `data:` lines joined with `\n`.
#[derive(Debug, Default)]
pub(crate) struct SseEvent {
    pub(crate) event: Option<String>,
    pub(crate) data: Option<String>,
}

/// Split an SSE body into events (blank-line separated; LF, CRLF or CR line ends). Comment
/// lines (`:`) are skipped; an event without data comes back with `data: None`.
pub(crate) fn sse_events(body: &[u8]) -> Vec<SseEvent> {
    let text: Cow<'_, str> = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    let mut cur = SseEvent::default();
    let mut has_field = false;
    for raw in text.split('\n') {
        // A lone CR also ends a line.
        for line in raw.strip_suffix('\r').unwrap_or(raw).split('\r') {
            if line.is_empty() {
                if has_field {
                    out.push(std::mem::take(&mut cur));
                    has_field = false;
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "data" => {
                    has_field = true;
                    match &mut cur.data {
                        Some(d) => {
                            d.push('\n');
                            d.push_str(value);
                        }
                        None => cur.data = Some(value.to_owned()),
                    }
                }
                "event" => {
                    has_field = true;
                    cur.event = Some(value.to_owned());
                }
                _ => {}
            }
        }
    }
    if has_field {
        out.push(cur);
    }
    out
}

/// The JSON events of an SSE body: `(event name, value)`, with unreadable data counted as
/// dropped frames. `[DONE]` comes back as `Value::Null` with the name `[DONE]`.
pub(crate) fn sse_json(b: &mut Builder, body: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut out = Vec::new();
    for ev in sse_events(body) {
        let Some(data) = ev.data else { continue };
        let t = data.trim();
        if t.is_empty() {
            continue;
        }
        if t == "[DONE]" {
            out.push((Some("[DONE]".to_owned()), Value::Null));
            continue;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(v) => out.push((ev.event, v)),
            Err(_) => b.drop_frame(t),
        }
    }
    out
}

/// The JSON lines of an NDJSON body; unreadable lines are counted as dropped frames.
pub(crate) fn ndjson(b: &mut Builder, body: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(v) => out.push(v),
            Err(_) => b.drop_frame(t),
        }
    }
    out
}

/// The elements of a streamed JSON array (`[{...}\n,\r\n{...}]`), read one by one so a cut-short
/// array still yields every complete element.
pub(crate) fn json_array(b: &mut Builder, body: &[u8]) -> (Vec<Value>, bool) {
    let mut out = Vec::new();
    let mut i = 0;
    let mut closed = false;
    let n = body.len();
    let skip = |i: &mut usize| {
        while *i < n && matches!(body[*i], b' ' | b'\t' | b'\r' | b'\n' | b',') {
            *i += 1;
        }
    };
    skip(&mut i);
    if i < n && body[i] == b'[' {
        i += 1;
    }
    loop {
        skip(&mut i);
        if i >= n {
            break;
        }
        if body[i] == b']' {
            closed = true;
            break;
        }
        let mut de = serde_json::Deserializer::from_slice(&body[i..]).into_iter::<Value>();
        match de.next() {
            Some(Ok(v)) => {
                i += de.byte_offset();
                out.push(v);
            }
            _ => {
                // A cut-short last element, or garbage: skip to the next top-level separator.
                let rest = String::from_utf8_lossy(&body[i..]);
                b.drop_frame(&rest);
                match next_element(&body[i..]) {
                    Some(off) => i += off,
                    None => break,
                }
            }
        }
    }
    (out, closed)
}

/// The offset just past the end of the malformed element at the start of `s` (the next `,` or
/// `]` outside strings and brackets), if any.
fn next_element(s: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for (i, &c) in s.iter().enumerate() {
        if in_str {
            match c {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b']' if depth > 0 => depth -= 1,
            b',' if depth == 0 => return Some(i + 1),
            b']' => return Some(i),
            _ => {}
        }
    }
    None
}
