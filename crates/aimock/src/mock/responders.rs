//! Responders: what a [`Mock`](super::Mock) answers.
//!
//! The functions here ([`text`], [`tool_call`], [`tool_calls`], [`error`], [`embedding`],
//! [`reasoning`], and for the media APIs [`image_url`], [`image_bytes`], [`images`], [`audio`],
//! [`transcription`], [`video`], [`json`]) return a [`Response`]: a fixture's `response` with its streaming settings
//! (`chunkSize`, `latency`, `streamingProfile`, ...), exactly as a fixture file would hold them.
//! Each provider renders it in its own JSON, stream and error envelope, as it renders a fixture
//! from a file. A [`ResponseSpec`] answers as it is, for any field the functions do not cover.
//!
//! A closure `Fn(&ChatRequest) -> Response` (or `-> ResponseSpec`) computes the reply per
//! request. What it returns is checked as a fixture file's response is; one that is not valid
//! (an empty response, an error status outside 200-599), or a closure that panics, answers a 500
//! error in the provider's envelope that says why.
//!
//! ```
//! use aimock::conversation::ChatRequest;
//! use aimock::matchers::{any, user_message};
//! use aimock::responders::{error, text, tool_call};
//! use aimock::Mock;
//! use serde_json::json;
//!
//! let slow = Mock::given(user_message("essay"))
//!     .respond_with(text("A long answer.").chunk_size(4).latency_ms(20.0));
//! let weather = Mock::given(user_message("weather"))
//!     .respond_with(tool_call("get_weather", json!({"city": "Paris"})));
//! let limited = Mock::given(user_message("again")).respond_with(error(429, "Slow down"));
//! let echo = Mock::given(any()).respond_with(|req: &ChatRequest| {
//!     text(format!("You said: {}", req.last_user_text().unwrap_or("nothing")))
//! });
//! # let _ = (slow, weather, limited, echo);
//! ```

use serde_json::Value;

use crate::conversation::ChatRequest;
use crate::fixture::hooks::DynamicReply;
use crate::fixture::{
    FixtureEntry, ImageSpec, MatchSpec, ResponseSpec, StreamingProfile, ToolCallSpec,
};

/// A reply and how it streams: a fixture's `response` and its streaming settings.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Response {
    /// The fixture this response lowers to; its `match` is the mock's, set at mount.
    entry: FixtureEntry,
}

impl From<ResponseSpec> for Response {
    fn from(spec: ResponseSpec) -> Response {
        Response {
            entry: FixtureEntry {
                response: spec,
                ..FixtureEntry::default()
            },
        }
    }
}

impl Response {
    /// The reply, as a fixture file's `response`.
    pub fn spec(&self) -> &ResponseSpec {
        &self.entry.response
    }

    /// Change any field of the reply (`finishReason`, `usage`, `id`, ...).
    pub fn with_spec(mut self, change: impl FnOnce(&mut ResponseSpec)) -> Self {
        change(&mut self.entry.response);
        self
    }

    /// Reasoning, streamed before the content by the providers that reason (`reasoning`).
    pub fn with_reasoning(mut self, reasoning: impl Into<String>) -> Self {
        self.entry.response = self.entry.response.with_reasoning(reasoning);
        self
    }

    /// Characters per streamed text chunk (`chunkSize`).
    pub fn chunk_size(mut self, n: u64) -> Self {
        self.entry.chunk_size = Some(n);
        self
    }

    /// Delay before each streamed event, in milliseconds (`latency`).
    pub fn latency_ms(mut self, ms: f64) -> Self {
        self.entry.latency = Some(ms);
        self
    }

    /// Time to first token, tokens per second and jitter (`streamingProfile`).
    pub fn streaming_profile(mut self, profile: StreamingProfile) -> Self {
        self.entry.streaming_profile = Some(profile);
        self
    }

    /// Cut the connection after this many streamed events (`truncateAfterChunks`).
    pub fn truncate_after_chunks(mut self, n: u64) -> Self {
        self.entry.truncate_after_chunks = Some(n);
        self
    }

    /// Cut the connection this many milliseconds after the stream starts
    /// (`disconnectAfterMs`).
    pub fn disconnect_after_ms(mut self, ms: f64) -> Self {
        self.entry.disconnect_after_ms = Some(ms);
        self
    }

    /// fal.ai: the `x-fal-billable-units` a completed request reports (`billableUnits`).
    pub fn billable_units(mut self, units: f64) -> Self {
        self.entry.response.billable_units = Some(units);
        self
    }

    /// fal.ai: the status polls before a queued request is `IN_PROGRESS`, and before it is
    /// `COMPLETED` (`falQueue`); without it a request is done at submit.
    pub fn fal_queue(mut self, polls_before_in_progress: u32, polls_before_completed: u32) -> Self {
        self.entry.response.fal_queue = Some(serde_json::json!({
            "pollsBeforeInProgress": polls_before_in_progress,
            "pollsBeforeCompleted": polls_before_completed,
        }));
        self
    }

    /// The fixture this response is, under `matcher`.
    pub(crate) fn into_entry(self, matcher: MatchSpec) -> FixtureEntry {
        FixtureEntry {
            matcher,
            ..self.entry
        }
    }
}

/// A text reply (`content`).
pub fn text(content: impl Into<String>) -> Response {
    ResponseSpec::text(content).into()
}

/// A text reply with reasoning before it (`reasoning`, `content`).
pub fn reasoning(reasoning: impl Into<String>, content: impl Into<String>) -> Response {
    text(content).with_reasoning(reasoning)
}

/// A reply calling one tool (`toolCalls`); the arguments are a JSON value (an object, or a
/// string holding JSON). The call id is generated per request; give one with [`tool_calls`] and
/// [`ToolCallSpec::with_id`].
pub fn tool_call(name: impl Into<String>, arguments: Value) -> Response {
    ResponseSpec::tool_call(name, arguments).into()
}

/// A reply calling several tools, in order (`toolCalls`): `(name, arguments)` pairs or
/// [`ToolCallSpec`]s.
pub fn tool_calls<I>(calls: I) -> Response
where
    I: IntoIterator,
    I::Item: Into<ToolCallSpec>,
{
    ResponseSpec {
        tool_calls: Some(calls.into_iter().map(Into::into).collect()),
        ..ResponseSpec::default()
    }
    .into()
}

/// An error reply with this HTTP status (`error`, `status`), in each provider's error envelope.
pub fn error(status: u16, message: impl Into<String>) -> Response {
    ResponseSpec::error(status, message).into()
}

/// An embedding vector, returned for every input (`embedding`).
pub fn embedding(vector: Vec<f64>) -> Response {
    ResponseSpec::embedding(vector).into()
}

/// An image reply with a URL (`image.url`), for the image APIs (OpenAI images, Imagen, Gemini
/// image parts).
pub fn image_url(url: impl Into<String>) -> Response {
    image(ImageSpec {
        url: Some(url.into()),
        ..ImageSpec::default()
    })
}

/// An image reply with these bytes (`image.b64Json`): clients asking for `b64_json` get them
/// back exactly.
pub fn image_bytes(bytes: impl AsRef<[u8]>) -> Response {
    use base64::Engine as _;
    image(ImageSpec {
        b64_json: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ..ImageSpec::default()
    })
}

/// One image (`image`): a URL, bytes and a revised prompt as the fixture format has them. An
/// image request asking for `n` gets `n` copies.
pub fn image(spec: ImageSpec) -> Response {
    ResponseSpec {
        image: Some(spec),
        ..ResponseSpec::default()
    }
    .into()
}

/// Several images, in order (`images`).
pub fn images(list: impl IntoIterator<Item = ImageSpec>) -> Response {
    ResponseSpec {
        images: Some(list.into_iter().collect()),
        ..ResponseSpec::default()
    }
    .into()
}

/// Audio for the speech APIs (`audio` as base64, `format`: `mp3`, `wav`, `opus`, ...).
pub fn audio(bytes: impl AsRef<[u8]>, format: impl Into<String>) -> Response {
    use base64::Engine as _;
    ResponseSpec {
        audio: Some(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )),
        format: Some(format.into()),
        ..ResponseSpec::default()
    }
    .into()
}

/// A transcription or translation (`transcription: {"text": ...}`); give `words`, `segments`,
/// `language` or `duration` with [`transcription_json`].
pub fn transcription(text: impl Into<String>) -> Response {
    transcription_json(serde_json::json!({ "text": text.into() }))
}

/// A transcription as the fixture format holds it (`transcription`: `text`, `words`,
/// `segments`, `language`, `duration`).
pub fn transcription_json(value: Value) -> Response {
    ResponseSpec {
        transcription: Some(value),
        ..ResponseSpec::default()
    }
    .into()
}

/// A video job (`video`: `id`, `status`, `url`, ...), for every video API.
pub fn video(value: Value) -> Response {
    ResponseSpec {
        video: Some(value),
        ..ResponseSpec::default()
    }
    .into()
}

/// A JSON reply served as it is (`json`): fal.ai results, ElevenLabs music plans, ...
pub fn json(value: Value) -> Response {
    ResponseSpec {
        json: Some(value),
        ..ResponseSpec::default()
    }
    .into()
}

/// Something that says what a mock answers: a [`Response`], a [`ResponseSpec`], or a closure
/// `Fn(&ChatRequest) -> R` where `R` is either, called per request.
pub trait Responder {
    /// How the mock answers.
    fn into_reply(self) -> ReplyPlan;
}

/// How a mock answers: a fixed reply, or one computed per request.
pub struct ReplyPlan(pub(crate) Plan);

pub(crate) enum Plan {
    Fixed(Box<Response>),
    PerRequest(DynamicReply),
}

impl std::fmt::Debug for ReplyPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Plan::Fixed(r) => f.debug_tuple("Fixed").field(r).finish(),
            Plan::PerRequest(_) => f.write_str("PerRequest(closure)"),
        }
    }
}

impl Responder for Response {
    fn into_reply(self) -> ReplyPlan {
        ReplyPlan(Plan::Fixed(Box::new(self)))
    }
}

impl Responder for ResponseSpec {
    fn into_reply(self) -> ReplyPlan {
        ReplyPlan(Plan::Fixed(Box::new(self.into())))
    }
}

impl<F, R> Responder for F
where
    F: Fn(&ChatRequest) -> R + Send + Sync + 'static,
    R: Into<Response>,
{
    fn into_reply(self) -> ReplyPlan {
        ReplyPlan(Plan::PerRequest(Box::new(move |req| {
            self(req).into().into_entry(MatchSpec::default())
        })))
    }
}
