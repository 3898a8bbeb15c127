//! OpenAI text to speech: `POST /v1/audio/speech` (`model`, `input`, `voice`, `response_format`,
//! `speed`, `instructions`, `stream_format`), matched as `endpoint: "speech"` with the input as
//! the user message, answered with the fixture's `audio` bytes (MIME by the fixture's `format`,
//! else the requested format), or, for a fixture without bytes (a text reply, or an empty
//! `audio`), a silent file of the requested format lasting as long as the input takes to say
//! (slower or faster by `speed`).
//!
//! `stream_format: "audio"` streams the bytes in chunks; `"sse"` (not for `tts-1` / `tts-1-hd`)
//! streams `speech.audio.delta` events of base64 chunks, then `speech.audio.done` with usage.

use axum::response::Response;
use http::{header, HeaderMap, HeaderValue};
use serde_json::{json, Map, Value};

use super::invalid_param;
use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::audio::{self, AudioFormat};
use crate::providers::endpoint::{MediaAnswer, MediaApi, Streamed};

/// The default model (aimock's).
const DEFAULT_MODEL: &str = "tts-1";
/// The longest input the API takes.
const MAX_INPUT: usize = 4096;
/// Bytes of audio a streamed chunk carries.
pub(crate) const CHUNK: usize = 4096;

/// How the answer is streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamFormat {
    Audio,
    Sse,
}

/// What a speech request asks for beside its input.
#[derive(Debug)]
pub(crate) struct SpeechOpts {
    format: AudioFormat,
    speed: f64,
    stream: Option<StreamFormat>,
    input: String,
}

fn parse(body: &Map<String, Value>) -> Result<(ChatRequest, SpeechOpts), ApiError> {
    let str_of = |k: &str| -> Result<Option<&str>, ApiError> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid_param(
                Some(k),
                format!("Invalid type for '{k}': expected a string."),
            )),
        }
    };
    let input = str_of("input")?
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid_param(Some("input"), "Missing required parameter: 'input'."))?;
    let chars = input.chars().count();
    if chars > MAX_INPUT {
        return Err(invalid_param(
            Some("input"),
            format!("Invalid 'input': string too long. Expected a string with maximum length {MAX_INPUT}, but got a string with length {chars} instead."),
        )
        .with_code("string_above_max_length"));
    }
    let model = str_of("model")?
        .filter(|m| !m.is_empty())
        .unwrap_or(DEFAULT_MODEL)
        .to_owned();
    match body.get("voice") {
        Some(Value::String(v)) if !v.is_empty() => {}
        Some(Value::Object(o)) if o.get("id").is_some_and(Value::is_string) => {}
        None | Some(Value::Null) => {
            return Err(invalid_param(
                Some("voice"),
                "Missing required parameter: 'voice'.",
            ))
        }
        Some(_) => {
            return Err(invalid_param(
                Some("voice"),
                "Invalid type for 'voice': expected a voice name (a string) or an object with a string 'id'.",
            ))
        }
    }
    let name = str_of("response_format")?.unwrap_or("mp3");
    let format = AudioFormat::openai(name).ok_or_else(|| {
        invalid_param(
            Some("response_format"),
            format!("Invalid value: '{name}'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'."),
        )
        .with_code("invalid_value")
    })?;
    let speed = match body.get("speed") {
        None | Some(Value::Null) => 1.0,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if (0.25..=4.0).contains(&s) => s,
            _ => {
                return Err(invalid_param(
                    Some("speed"),
                    format!("Invalid 'speed': {n}. Expected a value between 0.25 and 4.0."),
                ))
            }
        },
        Some(_) => {
            return Err(invalid_param(
                Some("speed"),
                "Invalid type for 'speed': expected a number.",
            ))
        }
    };
    str_of("instructions")?;
    let stream = match str_of("stream_format")? {
        None => None,
        Some("audio") => Some(StreamFormat::Audio),
        Some("sse") if model == "tts-1" || model == "tts-1-hd" => {
            return Err(invalid_param(
                Some("stream_format"),
                format!("Unsupported value: 'stream_format' does not support 'sse' with the model '{model}'."),
            )
            .with_code("unsupported_value"))
        }
        Some("sse") => Some(StreamFormat::Sse),
        Some(other) => {
            return Err(invalid_param(
                Some("stream_format"),
                format!("Invalid value: '{other}'. Supported values are: 'sse' and 'audio'."),
            )
            .with_code("invalid_value"))
        }
    };
    let mut req = ChatRequest::chat(model, vec![Message::text(Role::User, input)]);
    req.endpoint = Endpoint::Speech;
    req.stream = stream.is_some();
    Ok((
        req,
        SpeechOpts {
            format,
            speed,
            stream,
            input: input.to_owned(),
        },
    ))
}

/// The audio: the fixture's, or silence as long as the input takes to say at `speed`.
fn audio_of(o: &SpeechOpts, reply: &Value) -> Result<(Vec<u8>, String), ApiError> {
    let ms = (crate::providers::speech::speech_ms(&o.input) as f64 / o.speed) as u64;
    audio::fixture_or_silence(reply, o.format, ms)
}

fn header_value(mime: &str) -> HeaderValue {
    HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// `POST /v1/audio/speech`.
#[derive(Debug)]
pub(crate) struct Speech;

impl MediaApi for Speech {
    type Opts = SpeechOpts;
    const SURFACE: &'static str = "the speech endpoint";
    const KIND: &'static str = "audio";
    const SERVES_TEXT: bool = true;

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, SpeechOpts), ApiError> {
        match crate::http::parse_json_body::<Value>(&call.body)? {
            Value::Object(m) => parse(&m),
            _ => Err(ApiError::invalid("The body must be a JSON object.")),
        }
    }

    fn render(_req: &ChatRequest, o: &SpeechOpts, reply: &Value) -> Result<Response, ApiError> {
        let (bytes, mime) = audio_of(o, reply)?;
        Ok(audio::bytes_response(bytes, &mime))
    }

    fn answer(
        req: &ChatRequest,
        o: &SpeechOpts,
        reply: &Value,
        _chunk: usize,
    ) -> Result<MediaAnswer, ApiError> {
        let Some(stream) = o.stream else {
            return Self::render(req, o, reply).map(MediaAnswer::Whole);
        };
        let (bytes, mime) = audio_of(o, reply)?;
        let mut headers = HeaderMap::new();
        match stream {
            StreamFormat::Audio => {
                headers.insert(header::CONTENT_TYPE, header_value(&mime));
                let events = audio::chunked(&bytes, CHUNK);
                Ok(MediaAnswer::Stream(
                    Streamed {
                        events,
                        trailer: Vec::new(),
                        head: None,
                        content_type: "application/octet-stream",
                    },
                    headers,
                ))
            }
            StreamFormat::Sse => {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD;
                let events = bytes
                    .chunks(audio::piece(bytes.len(), CHUNK))
                    .map(|c| {
                        let e = json!({"type": "speech.audio.delta", "audio": b64.encode(c)});
                        crate::stream::sse_data(&e.to_string())
                    })
                    .collect();
                let input = crate::providers::estimate_tokens(req.text_chars());
                // About one audio token for every 20 ms of sound at 24 kHz 16-bit.
                let output = (bytes.len() as u64 / 960).max(1);
                let done = json!({
                    "type": "speech.audio.done",
                    "usage": {
                        "input_tokens": input,
                        "output_tokens": output,
                        "total_tokens": input + output,
                    },
                });
                Ok(MediaAnswer::Stream(
                    Streamed::sse(events, vec![crate::stream::sse_data(&done.to_string())]),
                    headers,
                ))
            }
        }
    }
}
