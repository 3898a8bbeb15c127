//! OpenAI speech to text: `POST /v1/audio/transcriptions` and `/v1/audio/translations`
//! (`multipart/form-data`; the audio `file` is required and not read), matched as
//! `endpoint: "transcription"` / `"translation"` with the `prompt` (if any) as the user message,
//! answered from the fixture's `transcription` (`text`, and optionally `language`, `languages`,
//! `duration`, `usage`, `words`, `segments`, `logprobs`).
//!
//! Every `response_format` the API has is produced: `json`, `verbose_json` (the segments with
//! every field the API gives them, the words when asked or when the fixture has them), `text`,
//! and real `srt` and `vtt` subtitle files cut at the fixture's segments (one cue spanning the
//! text when it has none), plus `diarized_json` for `gpt-4o-transcribe-diarize`. A format the
//! model does not produce is the API's 400 (the `gpt-4o-*transcribe` models answer only `json`
//! and `text`). `stream=true` on a model that streams (any but `whisper-1`) answers with
//! `transcript.text.delta` events and a `transcript.text.done`, paced like any stream.

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Map, Value};

use super::invalid_param;
use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::endpoint::{MediaAnswer, MediaApi, Streamed};

/// A transcription or a translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Transcribe,
    Translate,
}

/// The answer's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Text,
    Srt,
    Vtt,
    VerboseJson,
    DiarizedJson,
}

const FORMATS: &[(&str, Format)] = &[
    ("json", Format::Json),
    ("text", Format::Text),
    ("srt", Format::Srt),
    ("verbose_json", Format::VerboseJson),
    ("vtt", Format::Vtt),
    ("diarized_json", Format::DiarizedJson),
];

/// The formats a model answers in (its name decides: `whisper-*` and unknown models all but
/// `diarized_json`, the `gpt-*transcribe` models `json` and `text`, the diarizing one also
/// `diarized_json`); translations take every format but `diarized_json`.
fn formats_of(model: &str, task: Task) -> &'static [&'static str] {
    const WHISPER: &[&str] = &["json", "text", "srt", "verbose_json", "vtt"];
    if task == Task::Translate {
        WHISPER
    } else if model.contains("diarize") {
        &["json", "text", "diarized_json"]
    } else if model.starts_with("gpt-") {
        &["json", "text"]
    } else {
        WHISPER
    }
}

/// Whether a model streams its transcript (every model but `whisper-1`, as in the API).
fn streams(model: &str) -> bool {
    !model.starts_with("whisper")
}

/// What a speech-to-text request asks for beside its prompt.
#[derive(Debug)]
pub(crate) struct AudioOpts {
    task: Task,
    model: String,
    format: Format,
    /// `timestamp_granularities[]` as given: (words, segments); `None` when not given.
    granularities: Option<(bool, bool)>,
    /// `include[]` has `logprobs`.
    logprobs: bool,
    prompt_chars: usize,
}

/// A list field, sent as `name[]` (the SDK's way) or as `name`.
fn list<'p>(fields: &'p [(String, String)], name: &str) -> Vec<&'p str> {
    let bracketed = format!("{name}[]");
    fields
        .iter()
        .filter(|(k, _)| *k == name || *k == bracketed)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn parse(
    call: &Call,
    headers: &HeaderMap,
    task: Task,
) -> Result<(ChatRequest, AudioOpts), ApiError> {
    let parts = super::files::form_now(call, headers)?;
    if !parts.iter().any(|p| p.name == "file") {
        return Err(invalid_param(
            Some("file"),
            "Missing required parameter: 'file'.",
        ));
    }
    let fields: Vec<(String, String)> = parts
        .into_iter()
        .filter(|p| p.filename.is_none())
        .map(|p| (p.name, String::from_utf8_lossy(&p.bytes).into_owned()))
        .collect();
    let one = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let model = one("model")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid_param(Some("model"), "you must provide a model parameter"))?
        .to_owned();
    let format_name = one("response_format").unwrap_or("json");
    let format = FORMATS
        .iter()
        .find(|(n, _)| *n == format_name)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            invalid_param(
                Some("response_format"),
                format!(
                    "Invalid value: '{format_name}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', 'vtt' and 'diarized_json'."
                ),
            )
        })?;
    let allowed = formats_of(&model, task);
    if !allowed.contains(&format_name) {
        let quoted: Vec<String> = allowed.iter().map(|f| format!("'{f}'")).collect();
        return Err(invalid_param(
            Some("response_format"),
            format!(
                "response_format '{format_name}' is not compatible with model '{model}'. Use {}.",
                quoted.join(" or ")
            ),
        )
        .with_code("unsupported_value"));
    }
    let stream = match one("stream") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(invalid_param(
                Some("stream"),
                format!("Invalid value: '{other}'. Expected a boolean."),
            ))
        }
    };
    if stream && task == Task::Transcribe && !streams(&model) {
        return Err(invalid_param(
            Some("stream"),
            format!("Streaming is not supported for the model '{model}'."),
        )
        .with_code("unsupported_value"));
    }
    if let Some(t) = one("temperature") {
        if !t.parse::<f64>().is_ok_and(|t| (0.0..=1.0).contains(&t)) {
            return Err(invalid_param(
                Some("temperature"),
                format!("Invalid 'temperature': a number between 0 and 1 expected, got '{t}'."),
            ));
        }
    }
    let grains = list(&fields, "timestamp_granularities");
    if let Some(bad) = grains.iter().find(|g| **g != "word" && **g != "segment") {
        return Err(invalid_param(
            Some("timestamp_granularities"),
            format!("Invalid value: '{bad}'. Supported values are: 'word' and 'segment'."),
        ));
    }
    let include = list(&fields, "include");
    if let Some(bad) = include.iter().find(|i| **i != "logprobs") {
        return Err(invalid_param(
            Some("include"),
            format!("Invalid value: '{bad}'. Supported values are: 'logprobs'."),
        ));
    }
    if let Some(c) = one("chunking_strategy") {
        let ok = c == "auto"
            || serde_json::from_str::<Value>(c)
                .ok()
                .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("server_vad"));
        if !ok {
            return Err(invalid_param(
                Some("chunking_strategy"),
                format!("Invalid value: '{c}'. Expected 'auto' or a server_vad object."),
            ));
        }
    }
    let prompt = one("prompt").filter(|p| !p.is_empty());
    let messages = prompt
        .map(|p| vec![Message::text(Role::User, p)])
        .unwrap_or_default();
    let mut req = ChatRequest::chat(model.clone(), messages);
    req.endpoint = match task {
        Task::Transcribe => Endpoint::Transcription,
        Task::Translate => Endpoint::Translation,
    };
    req.stream = stream && task == Task::Transcribe;
    Ok((
        req,
        AudioOpts {
            task,
            logprobs: include.contains(&"logprobs") && model.starts_with("gpt-4o"),
            model,
            format,
            granularities: (!grains.is_empty())
                .then(|| (grains.contains(&"word"), grains.contains(&"segment"))),
            prompt_chars: prompt.map_or(0, |p| p.chars().count()),
        },
    ))
}

/// One timed piece of the transcript.
#[derive(Debug)]
struct Cue {
    start: f64,
    end: f64,
    text: String,
    /// The fixture's segment, as given (its extra fields are kept).
    given: Map<String, Value>,
}

/// The fixture's transcript, with what it leaves out filled in.
#[derive(Debug)]
struct Transcript<'a> {
    fixture: &'a Map<String, Value>,
    text: &'a str,
    duration: f64,
    segments: Vec<Cue>,
    /// The fixture's words, if it has them.
    words: Option<&'a Vec<Value>>,
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64).filter(|n| n.is_finite())
}

fn transcript(reply: &Value) -> Result<Transcript<'_>, ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("The fixture's transcription {why}."),
        )
    };
    let t = reply
        .get("transcription")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("is not an object"))?;
    let text = t
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no text"))?;
    let words = t
        .get("words")
        .and_then(Value::as_array)
        .filter(|w| !w.is_empty());
    let given = t
        .get("segments")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty());
    let ends = given
        .into_iter()
        .chain(words)
        .flatten()
        .filter_map(|v| num(v, "end"))
        .fold(0.0_f64, f64::max);
    let duration = num(&Value::Object(t.clone()), "duration")
        .filter(|d| *d >= 0.0)
        .unwrap_or(if ends > 0.0 {
            ends
        } else {
            crate::providers::speech::speech_ms(text) as f64 / 1000.0
        });
    let segments = match given {
        Some(list) => list
            .iter()
            .map(|s| Cue {
                start: num(s, "start").unwrap_or(0.0),
                end: num(s, "end").unwrap_or(duration),
                text: s
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                given: s.as_object().cloned().unwrap_or_default(),
            })
            .collect(),
        None => vec![Cue {
            start: 0.0,
            end: duration,
            text: text.to_owned(),
            given: Map::new(),
        }],
    };
    Ok(Transcript {
        fixture: t,
        text,
        duration,
        segments,
        words,
    })
}

/// A token id for a word, the same for the same word (within GPT-2's vocabulary).
fn token_id(word: &str) -> u64 {
    let h = word.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    h % 50_257
}

/// A segment as `verbose_json` gives it: every field the API has, the fixture's where it set
/// them.
fn segment_json(i: usize, c: &Cue) -> Value {
    let mut s = json!({
        "id": i,
        // Whisper reads 30-second windows of 100 frames a second.
        "seek": (c.start / 30.0).floor() as u64 * 3000,
        "start": c.start,
        "end": c.end,
        "text": c.text,
        "tokens": c.text.split_whitespace().map(token_id).collect::<Vec<_>>(),
        "temperature": 0.0,
        "avg_logprob": -0.25,
        "compression_ratio": 1.2,
        "no_speech_prob": 0.01,
    });
    for (k, v) in &c.given {
        s[k] = v.clone();
    }
    s
}

/// The words: the fixture's, else the text's words spread evenly over each segment.
fn words_json(t: &Transcript<'_>) -> Value {
    if let Some(w) = t.words {
        return Value::Array(w.clone());
    }
    let mut out = Vec::new();
    for c in &t.segments {
        let words: Vec<&str> = c.text.split_whitespace().collect();
        let step = (c.end - c.start).max(0.0) / words.len().max(1) as f64;
        for (i, w) in words.iter().enumerate() {
            let start = c.start + step * i as f64;
            out.push(json!({"word": w, "start": round_ms(start), "end": round_ms(start + step)}));
        }
    }
    Value::Array(out)
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// Usage billed by tokens (the `gpt-*` models).
fn token_usage(t: &Transcript<'_>, o: &AudioOpts) -> Value {
    if let Some(u) = t.fixture.get("usage").filter(|u| u["type"] == "tokens") {
        return u.clone();
    }
    // About ten audio tokens a second.
    let audio = (t.duration * 10.0).ceil().max(1.0) as u64;
    let text = if o.prompt_chars > 0 {
        crate::providers::estimate_tokens(o.prompt_chars)
    } else {
        0
    };
    let out = crate::providers::estimate_tokens(t.text.chars().count());
    json!({
        "type": "tokens",
        "input_tokens": audio + text,
        "output_tokens": out,
        "total_tokens": audio + text + out,
        "input_token_details": {"audio_tokens": audio, "text_tokens": text},
    })
}

/// Usage billed by the second (`whisper-1`).
fn duration_usage(t: &Transcript<'_>) -> Value {
    if let Some(u) = t.fixture.get("usage").filter(|u| u["type"] == "duration") {
        return u.clone();
    }
    json!({"type": "duration", "seconds": t.duration.ceil().max(1.0)})
}

fn usage(t: &Transcript<'_>, o: &AudioOpts) -> Value {
    if streams(&o.model) {
        token_usage(t, o)
    } else {
        duration_usage(t)
    }
}

/// Log probabilities: the fixture's, else one sure token per word.
fn logprobs(t: &Transcript<'_>) -> Value {
    if let Some(l) = t.fixture.get("logprobs") {
        return l.clone();
    }
    let tokens: Vec<Value> = t
        .text
        .split_inclusive(char::is_whitespace)
        .map(|w| json!({"token": w, "bytes": w.as_bytes(), "logprob": 0.0}))
        .collect();
    Value::Array(tokens)
}

/// `HH:MM:SS` and the milliseconds after `sep` (`,` for SubRip, `.` for WebVTT).
fn timestamp(s: f64, sep: char) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The transcript as a SubRip (`srt`) or WebVTT (`vtt`) file, one cue a segment.
fn subtitles(t: &Transcript<'_>, vtt: bool) -> String {
    let sep = if vtt { '.' } else { ',' };
    let mut out = String::new();
    if vtt {
        out.push_str("WEBVTT\n\n");
    }
    for (i, c) in t.segments.iter().enumerate() {
        if !vtt {
            out.push_str(&format!("{}\n", i + 1));
        }
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            timestamp(c.start, sep),
            timestamp(c.end, sep),
            c.text.trim()
        ));
    }
    out
}

fn text_response(body: String) -> Response {
    let mut resp = Response::new(axum::body::Body::from(body));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn render(o: &AudioOpts, reply: &Value) -> Result<Response, ApiError> {
    let t = transcript(reply)?;
    let translate = o.task == Task::Translate;
    let body = match o.format {
        Format::Text => return Ok(text_response(format!("{}\n", t.text))),
        Format::Srt => return Ok(text_response(subtitles(&t, false))),
        Format::Vtt => return Ok(text_response(subtitles(&t, true))),
        Format::Json => {
            let mut b = json!({"text": t.text});
            if !translate {
                if let Some(l) = t.fixture.get("languages") {
                    b["languages"] = l.clone();
                }
                if o.logprobs {
                    b["logprobs"] = logprobs(&t);
                }
                b["usage"] = usage(&t, o);
            }
            b
        }
        Format::VerboseJson => {
            let mut b = json!({
                "task": if translate { "translate" } else { "transcribe" },
                "language": t.fixture.get("language").cloned().unwrap_or_else(|| json!("english")),
                "duration": t.duration,
                "text": t.text,
            });
            let (words, segments) = o.granularities.unwrap_or((t.words.is_some(), true));
            if words && !translate {
                b["words"] = words_json(&t);
            }
            if segments {
                let s: Vec<Value> = t
                    .segments
                    .iter()
                    .enumerate()
                    .map(|(i, c)| segment_json(i, c))
                    .collect();
                b["segments"] = Value::Array(s);
            }
            if !translate {
                b["usage"] = duration_usage(&t);
            }
            b
        }
        Format::DiarizedJson => {
            let s: Vec<Value> = t
                .segments
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({
                        "type": "transcript.text.segment",
                        "id": c.given.get("id").map_or_else(|| format!("seg_{i}"), |v| {
                            v.as_str().map_or_else(|| format!("seg_{v}"), str::to_owned)
                        }),
                        "start": c.start,
                        "end": c.end,
                        "speaker": c.given.get("speaker").and_then(Value::as_str).unwrap_or("A"),
                        "text": c.text,
                    })
                })
                .collect();
            json!({
                "task": "transcribe",
                "duration": t.duration,
                "text": t.text,
                "segments": s,
                "usage": token_usage(&t, o),
            })
        }
    };
    Ok(crate::http::json_response(StatusCode::OK, &body))
}

/// The streamed transcript: its text in `transcript.text.delta` slices, then
/// `transcript.text.done` with the whole text and the usage.
fn stream(o: &AudioOpts, reply: &Value, chunk: usize) -> Option<Streamed> {
    // A broken fixture is answered whole, as its 500.
    let t = transcript(reply).ok()?;
    let events: Vec<Bytes> = crate::stream::chunk_text(t.text, chunk)
        .into_iter()
        .map(|d| {
            crate::stream::sse_data(
                &json!({"type": "transcript.text.delta", "delta": d}).to_string(),
            )
        })
        .collect();
    let mut done = json!({"type": "transcript.text.done", "text": t.text});
    if let Some(l) = t.fixture.get("languages") {
        done["languages"] = l.clone();
    }
    if o.logprobs {
        done["logprobs"] = logprobs(&t);
    }
    done["usage"] = token_usage(&t, o);
    let mut events = events;
    events.push(crate::stream::sse_data(&done.to_string()));
    Some(Streamed::sse(
        events,
        vec![crate::stream::sse_data("[DONE]")],
    ))
}

/// `POST /v1/audio/transcriptions`.
#[derive(Debug)]
pub(crate) struct Transcriptions;

impl MediaApi for Transcriptions {
    type Opts = AudioOpts;
    const SURFACE: &'static str = "the transcriptions endpoint";
    const KIND: &'static str = "transcription";

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, AudioOpts), ApiError> {
        parse(call, headers, Task::Transcribe)
    }

    fn render(_req: &ChatRequest, o: &AudioOpts, reply: &Value) -> Result<Response, ApiError> {
        render(o, reply)
    }

    fn answer(
        req: &ChatRequest,
        o: &AudioOpts,
        reply: &Value,
        chunk: usize,
    ) -> Result<MediaAnswer, ApiError> {
        if req.stream {
            if let Some(s) = stream(o, reply, chunk) {
                return Ok(MediaAnswer::Stream(s, HeaderMap::new()));
            }
        }
        render(o, reply).map(MediaAnswer::Whole)
    }
}

/// `POST /v1/audio/translations` (into English; never streamed).
#[derive(Debug)]
pub(crate) struct Translations;

impl MediaApi for Translations {
    type Opts = AudioOpts;
    const SURFACE: &'static str = "the translations endpoint";
    const KIND: &'static str = "transcription";

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, AudioOpts), ApiError> {
        parse(call, headers, Task::Translate)
    }

    fn render(_req: &ChatRequest, o: &AudioOpts, reply: &Value) -> Result<Response, ApiError> {
        render(o, reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(reply: &Value) -> Transcript<'_> {
        transcript(reply).unwrap()
    }

    #[test]
    fn subtitles_have_one_cue_a_segment() {
        let reply = json!({"transcription": {"text": "Hi there. Bye.", "segments": [
            {"id": 0, "start": 0.0, "end": 1.5, "text": " Hi there."},
            {"id": 1, "start": 1.5, "end": 3661.25, "text": " Bye."},
        ]}});
        assert_eq!(
            subtitles(&t(&reply), false),
            "1\n00:00:00,000 --> 00:00:01,500\nHi there.\n\n2\n00:00:01,500 --> 01:01:01,250\nBye.\n\n"
        );
        assert_eq!(
            subtitles(&t(&reply), true),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHi there.\n\n00:00:01.500 --> 01:01:01.250\nBye.\n\n"
        );
    }

    #[test]
    fn without_segments_one_cue_spans_the_text() {
        let reply = json!({"transcription": {"text": "ten chars!"}});
        let tr = t(&reply);
        assert_eq!(tr.duration, 0.6);
        assert_eq!(
            subtitles(&tr, false),
            "1\n00:00:00,000 --> 00:00:00,600\nten chars!\n\n"
        );
    }

    #[test]
    fn formats_follow_the_model() {
        assert!(formats_of("whisper-1", Task::Transcribe).contains(&"srt"));
        assert_eq!(
            formats_of("gpt-4o-transcribe", Task::Transcribe),
            &["json", "text"]
        );
        assert!(
            formats_of("gpt-4o-transcribe-diarize", Task::Transcribe).contains(&"diarized_json")
        );
        assert!(!formats_of("whisper-1", Task::Translate).contains(&"diarized_json"));
        assert!(streams("gpt-4o-mini-transcribe") && !streams("whisper-1"));
    }
}
