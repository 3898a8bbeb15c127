//! ElevenLabs audio, as the `elevenlabs` SDK speaks it:
//!
//! - text to speech, `POST /v1/text-to-speech/{voice_id}` (whole), `/stream` (chunked) and
//!   `/with-timestamps` (JSON with the audio and a character alignment), matched as
//!   `endpoint: "elevenlabs-tts"` on `text`;
//! - sound effects, `POST /v1/sound-generation` (`text`), and music, `POST /v1/music` and
//!   `/v1/music/stream` (`prompt`, or a `composition_plan`), with a `song-id` header, matched as
//!   `endpoint: "audio-gen"`; `POST /v1/music/plan` answers a composition plan (a `json` fixture,
//!   or a text fixture whose content is the plan's JSON, else a plan made from the prompt);
//! - Voice Design: `POST /v1/text-to-voice/design` (`endpoint: "elevenlabs-voice-design"`,
//!   matched on `voice_description`; previews with a `generated_voice_id` and base64 audio),
//!   `POST /v1/text-to-voice` (a voice from a generated id, kept by the server) and
//!   `GET` / `DELETE /v1/voices/{voice_id}`.
//!
//! Audio comes from the fixture's `audio`, else it is silence in the `output_format` asked
//! (`mp3_44100_128` by default; `pcm_*`, `ulaw_8000`, `alaw_8000`, `opus_48000_*`, `wav_*`),
//! lasting as long as the text takes to say (or the length asked). Errors are ElevenLabs'
//! `{"detail": {...}}`; a body that fails validation gets its 422 `{"detail": [{loc, msg,
//! type}]}`.

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Answered, Call, Route, RouteInfo, Vendor};
use crate::providers::audio::{self, AudioFormat};
use crate::providers::endpoint::{self, MediaAnswer, MediaApi, Streamed};
use crate::record::Credential;

/// ElevenLabs (`xi-api-key`).
pub(crate) static VENDOR: Vendor =
    super::vendor("elevenlabs", Credential::header("xi-api-key", ""), envelope);

/// Bytes of audio a streamed chunk carries.
const CHUNK: usize = 4096;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let mut id = None;
    let (endpoint, label): (crate::pipeline::Endpoint, &'static str) = match (method, path) {
        (&Method::POST, "/v1/sound-generation") => {
            (endpoint::media::<AudioGen<SOUND>>, "/v1/sound-generation")
        }
        (&Method::POST, "/v1/music") => (endpoint::media::<AudioGen<MUSIC>>, "/v1/music"),
        (&Method::POST, "/v1/music/stream") => (
            endpoint::media::<AudioGen<MUSIC_STREAM>>,
            "/v1/music/stream",
        ),
        (&Method::POST, "/v1/music/plan") => (endpoint::media::<Plan>, "/v1/music/plan"),
        (&Method::POST, "/v1/text-to-voice/design") => {
            (endpoint::media::<Design>, "/v1/text-to-voice/design")
        }
        (&Method::POST, "/v1/text-to-voice") => (create_voice, "/v1/text-to-voice"),
        (&Method::GET | &Method::DELETE, p) if p.starts_with("/v1/voices/") => {
            let v = &p["/v1/voices/".len()..];
            if v.is_empty() || v.contains('/') {
                return None;
            }
            id = Some(v);
            let serve: crate::pipeline::Endpoint = if method == Method::GET {
                get_voice
            } else {
                delete_voice
            };
            (serve, "/v1/voices/{voice_id}")
        }
        (&Method::POST, p) if p.starts_with("/v1/text-to-speech/") => {
            let rest = &p["/v1/text-to-speech/".len()..];
            let (v, op) = rest.split_once('/').unwrap_or((rest, ""));
            if v.is_empty() {
                return None;
            }
            id = Some(v);
            match op {
                "" => (
                    endpoint::media::<Tts<PLAIN>>,
                    "/v1/text-to-speech/{voice_id}",
                ),
                "stream" => (
                    endpoint::media::<Tts<STREAM>>,
                    "/v1/text-to-speech/{voice_id}/stream",
                ),
                "with-timestamps" => (
                    endpoint::media::<Tts<TIMESTAMPS>>,
                    "/v1/text-to-speech/{voice_id}/with-timestamps",
                ),
                _ => return None,
            }
        }
        _ => return None,
    };
    let route = Route::new(endpoint, &VENDOR, PathLabel::one(label)).with_info(RouteInfo {
        id: id.map(|s| crate::http::percent::path(s).into_owned()),
        ..Default::default()
    });
    // The endpoints that answer audio bytes are recorded as `audio` fixtures (`--record
    // --provider-elevenlabs`); the JSON ones (timestamps, plans, voices) are not.
    Some(match label {
        "/v1/text-to-speech/{voice_id}"
        | "/v1/text-to-speech/{voice_id}/stream"
        | "/v1/sound-generation"
        | "/v1/music"
        | "/v1/music/stream" => route.recorded(&crate::providers::media::SPEECH),
        _ => route,
    })
}

/// ElevenLabs' envelope: a 422 names the fields at fault (`{"detail": [{loc, msg, type}]}`),
/// anything else is `{"detail": {type, code, message, status}}`.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    if e.status == StatusCode::UNPROCESSABLE_ENTITY {
        if let Some(Value::Array(loc)) = &e.param {
            let ty = e.code.clone().unwrap_or(json!("value_error"));
            return super::error_json(
                e,
                &json!({"detail": [{"loc": loc, "msg": e.message, "type": ty}]}),
            );
        }
    }
    let code = e.code.clone().unwrap_or_else(|| json!(e.kind));
    super::error_json(
        e,
        &json!({"detail": {"type": e.kind, "code": code, "message": e.message, "status": code}}),
    )
}

/// A 422 for the field at `loc` (`["body", "text"]`).
fn invalid(loc: &[&str], msg: impl Into<String>, ty: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", msg);
    e.param = Some(json!(loc));
    e.code = Some(json!(ty));
    e
}

/// The most characters a text-to-speech request of `model` takes (ElevenLabs' model table:
/// v3 5,000, the multilingual and English v1/v2 models 10,000, Flash and Turbo 40,000).
fn character_limit(model: &str) -> usize {
    if model.starts_with("eleven_v3") {
        5_000
    } else if model.contains("flash") || model.contains("turbo") {
        40_000
    } else {
        10_000
    }
}

fn body_object(call: &Call) -> Result<Map<String, Value>, ApiError> {
    match crate::http::parse_json_body::<Value>(&call.body)? {
        Value::Object(m) => Ok(m),
        _ => Err(invalid(
            &["body"],
            "Input should be a valid dictionary",
            "dict_type",
        )),
    }
}

/// A required string of the body.
/// The longest voice description (and voice name) the API takes.
const MAX_DESCRIPTION: usize = 1_000;
/// The most JSON a kept voice's labels may take.
const MAX_LABELS_BYTES: usize = 4_096;

/// A [`required`] string of at most `max` characters.
fn at_most<'a>(body: &'a Map<String, Value>, k: &str, max: usize) -> Result<&'a str, ApiError> {
    let s = required(body, k)?;
    if s.chars().count() > max {
        return Err(invalid(
            &["body", k],
            format!("String should have at most {max} characters"),
            "string_too_long",
        ));
    }
    Ok(s)
}

fn required<'a>(body: &'a Map<String, Value>, k: &str) -> Result<&'a str, ApiError> {
    match body.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(invalid(
            &["body", k],
            "String should have at least 1 character",
            "string_too_short",
        )),
        None | Some(Value::Null) => Err(invalid(&["body", k], "Field required", "missing")),
        Some(_) => Err(invalid(
            &["body", k],
            "Input should be a valid string",
            "string_type",
        )),
    }
}

/// The `output_format` query parameter (`default` when absent).
fn output_format(call: &Call, default: &str) -> Result<AudioFormat, ApiError> {
    let name = crate::http::percent::query_param(call.query.as_deref(), "output_format")
        .unwrap_or_else(|| default.to_owned());
    AudioFormat::elevenlabs(&name).ok_or_else(|| {
        invalid(
            &["query", "output_format"],
            format!("Input should be a valid output format such as 'mp3_44100_128', 'pcm_16000', 'ulaw_8000' or 'opus_48000_64', got '{name}'"),
            "enum",
        )
    })
}

/// What an audio request keeps beside the text it matches on.
#[derive(Debug)]
pub(crate) struct AudioOpts {
    format: AudioFormat,
    /// The text whose length the silence takes.
    text: String,
    /// A length the request asks for, in milliseconds.
    length_ms: Option<u64>,
}

impl AudioOpts {
    /// The length of the audio the server makes: the length asked for (or the text's), at most
    /// the server's longest synthesized audio, so a silent file stays small.
    fn ms(&self) -> u64 {
        self.length_ms
            .unwrap_or_else(|| crate::providers::speech::speech_ms(&self.text))
            .min(crate::providers::speech::MAX_MS)
    }
}

fn request(model: &str, text: &str, endpoint: Endpoint) -> ChatRequest {
    let mut req = ChatRequest::chat(model, vec![Message::text(Role::User, text)]);
    req.endpoint = endpoint;
    req
}

fn model_of(body: &Map<String, Value>, default: &str) -> String {
    body.get("model_id")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or(default)
        .to_owned()
}

/// Whole audio, or the same bytes streamed in chunks.
fn audio_answer(
    o: &AudioOpts,
    reply: &Value,
    stream: bool,
    song: bool,
) -> Result<MediaAnswer, ApiError> {
    let (bytes, mime) = audio::fixture_or_silence(reply, o.format, o.ms())?;
    let mut headers = HeaderMap::new();
    if song {
        let id = format!("mock-song-{}", crate::http::time::unix_now());
        if let Ok(v) = HeaderValue::from_str(&id) {
            headers.insert("song-id", v);
        }
    }
    if !stream {
        let mut resp = audio::bytes_response(bytes, &mime);
        resp.headers_mut().extend(headers);
        return Ok(MediaAnswer::Whole(resp));
    }
    if let Ok(v) = HeaderValue::from_str(&mime) {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    Ok(MediaAnswer::Stream(
        Streamed {
            events: audio::chunked(&bytes, CHUNK),
            trailer: Vec::new(),
            head: None,
            content_type: "application/octet-stream",
        },
        headers,
    ))
}

/// `Tts<PLAIN>`: the audio whole.
const PLAIN: u8 = 0;
/// `Tts<STREAM>`: the audio chunked.
const STREAM: u8 = 1;
/// `Tts<TIMESTAMPS>`: JSON with the audio and its alignment.
const TIMESTAMPS: u8 = 2;

/// `POST /v1/text-to-speech/{voice_id}[/stream|/with-timestamps]`.
#[derive(Debug)]
pub(crate) struct Tts<const OP: u8>;

impl<const OP: u8> MediaApi for Tts<OP> {
    type Opts = AudioOpts;
    const SURFACE: &'static str = "the text-to-speech endpoint";
    const KIND: &'static str = "audio";
    const SERVES_TEXT: bool = true;

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, AudioOpts), ApiError> {
        let body = body_object(call)?;
        let text = required(&body, "text")?;
        let format = output_format(call, "mp3_44100_128")?;
        let model = model_of(&body, "eleven_multilingual_v2");
        let limit = character_limit(&model);
        let chars = text.chars().count();
        if chars > limit {
            let mut e = ApiError::new(
                StatusCode::BAD_REQUEST,
                "validation_error",
                format!(
                    "The text is {chars} characters long; {model} takes at most {limit} characters a request."
                ),
            );
            e.code = Some(json!("max_character_limit_exceeded"));
            return Err(e);
        }
        let mut req = request(&model, text, Endpoint::ElevenlabsTts);
        req.stream = OP == STREAM;
        Ok((
            req,
            AudioOpts {
                format,
                text: text.to_owned(),
                length_ms: None,
            },
        ))
    }

    fn render(req: &ChatRequest, o: &AudioOpts, reply: &Value) -> Result<Response, ApiError> {
        match Self::answer(req, o, reply, usize::MAX)? {
            MediaAnswer::Whole(r) => Ok(r),
            MediaAnswer::Stream(..) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "a stream where a whole answer was due",
            )),
        }
    }

    fn answer(
        _req: &ChatRequest,
        o: &AudioOpts,
        reply: &Value,
        _chunk: usize,
    ) -> Result<MediaAnswer, ApiError> {
        if OP != TIMESTAMPS {
            return audio_answer(o, reply, OP == STREAM, false);
        }
        use base64::Engine as _;
        let ms = o.ms();
        let (bytes, _) = audio::fixture_or_silence(reply, o.format, ms)?;
        // Each character takes an equal share of the time.
        let chars: Vec<String> = o.text.chars().map(String::from).collect();
        let each = ms as f64 / 1000.0 / chars.len().max(1) as f64;
        let round = |s: f64| (s * 1000.0).round() / 1000.0;
        let starts: Vec<f64> = (0..chars.len()).map(|i| round(i as f64 * each)).collect();
        let ends: Vec<f64> = (1..=chars.len()).map(|i| round(i as f64 * each)).collect();
        let alignment = json!({
            "characters": chars,
            "character_start_times_seconds": starts,
            "character_end_times_seconds": ends,
        });
        Ok(MediaAnswer::Whole(crate::http::json_response(
            StatusCode::OK,
            &json!({
                "audio_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
                "alignment": alignment,
                "normalized_alignment": alignment,
            }),
        )))
    }
}

/// `AudioGen<SOUND>`: `POST /v1/sound-generation`.
const SOUND: u8 = 0;
/// `AudioGen<MUSIC>`: `POST /v1/music`.
const MUSIC: u8 = 1;
/// `AudioGen<MUSIC_STREAM>`: `POST /v1/music/stream`.
const MUSIC_STREAM: u8 = 2;

/// The text a music request matches on: its prompt, else its composition plan as JSON.
fn music_text(body: &Map<String, Value>) -> Result<String, ApiError> {
    match (body.get("prompt"), body.get("composition_plan")) {
        (Some(Value::String(p)), _) if !p.is_empty() => Ok(p.clone()),
        (_, Some(Value::String(p))) if !p.is_empty() => Ok(p.clone()),
        (_, Some(plan @ Value::Object(_))) => Ok(plan.to_string()),
        _ => Err(invalid(
            &["body", "prompt"],
            "Either 'prompt' or 'composition_plan' must be provided",
            "missing",
        )),
    }
}

/// A length field of the body, in milliseconds, within `min..=max`.
fn length(
    body: &Map<String, Value>,
    k: &str,
    scale: f64,
    min: f64,
    max: f64,
) -> Result<Option<u64>, ApiError> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            // As asked (a music plan says it); the audio made is capped in `AudioOpts::ms`.
            Some(v) if (min..=max).contains(&v) => Ok(Some((v * scale) as u64)),
            _ => Err(invalid(
                &["body", k],
                format!("Input should be between {min} and {max}"),
                "value_error",
            )),
        },
        Some(_) => Err(invalid(
            &["body", k],
            "Input should be a valid number",
            "float_type",
        )),
    }
}

/// Sound effects and music.
#[derive(Debug)]
pub(crate) struct AudioGen<const OP: u8>;

impl<const OP: u8> MediaApi for AudioGen<OP> {
    type Opts = AudioOpts;
    const SURFACE: &'static str = if OP == SOUND {
        "the sound-generation endpoint"
    } else {
        "the music endpoint"
    };
    const KIND: &'static str = "audio";
    const SERVES_TEXT: bool = true;

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, AudioOpts), ApiError> {
        let body = body_object(call)?;
        let format = output_format(call, "mp3_44100_128")?;
        let (text, model, length_ms) = if OP == SOUND {
            let text = required(&body, "text")?.to_owned();
            let len = length(&body, "duration_seconds", 1000.0, 0.5, 30.0)?;
            (text, model_of(&body, "eleven_text_to_sound_v2"), len)
        } else {
            let len = length(&body, "music_length_ms", 1.0, 3_000.0, 600_000.0)?;
            (music_text(&body)?, model_of(&body, "music_v1"), len)
        };
        let mut req = request(&model, &text, Endpoint::AudioGen);
        req.stream = OP == MUSIC_STREAM;
        Ok((
            req,
            AudioOpts {
                format,
                text,
                length_ms,
            },
        ))
    }

    fn render(_req: &ChatRequest, o: &AudioOpts, reply: &Value) -> Result<Response, ApiError> {
        let (bytes, mime) = audio::fixture_or_silence(reply, o.format, o.ms())?;
        Ok(audio::bytes_response(bytes, &mime))
    }

    fn answer(
        _req: &ChatRequest,
        o: &AudioOpts,
        reply: &Value,
        _chunk: usize,
    ) -> Result<MediaAnswer, ApiError> {
        audio_answer(o, reply, OP == MUSIC_STREAM, OP != SOUND)
    }
}

/// `POST /v1/music/plan`: a composition plan.
#[derive(Debug)]
pub(crate) struct Plan;

impl MediaApi for Plan {
    type Opts = AudioOpts;
    const SURFACE: &'static str = "the music plan endpoint";
    const KIND: &'static str = "json";
    const SERVES_TEXT: bool = true;

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, AudioOpts), ApiError> {
        let body = body_object(call)?;
        let text = match (body.get("prompt"), body.get("source_composition_plan")) {
            (Some(Value::String(p)), _) if !p.is_empty() => p.clone(),
            (_, Some(plan @ Value::Object(_))) => plan.to_string(),
            _ => required(&body, "prompt")?.to_owned(),
        };
        let length_ms = length(&body, "music_length_ms", 1.0, 3_000.0, 600_000.0)?;
        let req = request(&model_of(&body, "music_v1"), &text, Endpoint::AudioGen);
        Ok((
            req,
            AudioOpts {
                format: AudioFormat::elevenlabs("mp3_44100_128").unwrap_or(AudioFormat {
                    codec: audio::Codec::Mp3,
                    rate: 44_100,
                    kbps: 128,
                }),
                text,
                length_ms,
            },
        ))
    }

    fn render(_req: &ChatRequest, o: &AudioOpts, reply: &Value) -> Result<Response, ApiError> {
        let plan = match (
            reply.get("json"),
            reply.get("content").and_then(Value::as_str),
        ) {
            (Some(j), _) => j.clone(),
            (None, Some(c)) => serde_json::from_str(c).unwrap_or_else(|_| made_plan(c, o)),
            (None, None) => made_plan(&o.text, o),
        };
        Ok(crate::http::json_response(StatusCode::OK, &plan))
    }
}

/// A music_v1 plan (a `MusicPrompt`) of one section styled by `style`.
fn made_plan(style: &str, o: &AudioOpts) -> Value {
    json!({
        "positive_global_styles": [style],
        "negative_global_styles": [],
        "sections": [{
            "section_name": "Main",
            "positive_local_styles": [],
            "negative_local_styles": [],
            "duration_ms": o.length_ms.unwrap_or(30_000),
            "lines": [],
        }],
    })
}

/// What a voice design request keeps.
#[derive(Debug)]
pub(crate) struct DesignOpts {
    format: AudioFormat,
    description: String,
    text: Option<String>,
}

/// `POST /v1/text-to-voice/design`: previews of a voice from its description.
#[derive(Debug)]
pub(crate) struct Design;

/// The shortest description the API takes.
const MIN_DESCRIPTION: usize = 20;

impl MediaApi for Design {
    type Opts = DesignOpts;
    const SURFACE: &'static str = "the voice design endpoint";
    const KIND: &'static str = "json";
    const SERVES_TEXT: bool = true;

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, DesignOpts), ApiError> {
        let body = body_object(call)?;
        let description = at_most(&body, "voice_description", MAX_DESCRIPTION)?;
        if description.chars().count() < MIN_DESCRIPTION {
            return Err(invalid(
                &["body", "voice_description"],
                format!("String should have at least {MIN_DESCRIPTION} characters"),
                "string_too_short",
            ));
        }
        let format = output_format(call, "mp3_44100_192")?;
        let text = body.get("text").and_then(Value::as_str).map(str::to_owned);
        let model = model_of(&body, "eleven_multilingual_ttv_v2");
        Ok((
            request(&model, description, Endpoint::ElevenlabsVoiceDesign),
            DesignOpts {
                format,
                description: description.to_owned(),
                text,
            },
        ))
    }

    fn render(_req: &ChatRequest, o: &DesignOpts, reply: &Value) -> Result<Response, ApiError> {
        // A JSON fixture gives the previews (any without audio get silence); a text fixture
        // gives the text the previews say, and three previews are made.
        let (given, text) = match reply.get("json") {
            Some(j) => (
                j.get("previews").and_then(Value::as_array).cloned(),
                j.get("text").and_then(Value::as_str).map(str::to_owned),
            ),
            None => (
                None,
                reply
                    .get("content")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            ),
        };
        let text = text
            .or_else(|| o.text.clone())
            .unwrap_or_else(|| o.description.clone());
        let ms = crate::providers::speech::speech_ms(&text);
        let previews = given.unwrap_or_else(|| vec![json!({}); 3]);
        let seed = fnv(&o.description);
        let previews: Vec<Value> = previews
            .into_iter()
            .enumerate()
            .map(|(i, p)| preview(p, i, seed, o.format, ms))
            .collect();
        Ok(crate::http::json_response(
            StatusCode::OK,
            &json!({"previews": previews, "text": text}),
        ))
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// One preview, its missing fields filled: an id from the description, silent audio.
fn preview(p: Value, i: usize, seed: u64, format: AudioFormat, ms: u64) -> Value {
    use base64::Engine as _;
    let mut m = match p {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.entry("generated_voice_id")
        .or_insert_with(|| json!(format!("{:016x}{i}", seed.rotate_left(i as u32 * 8))));
    let has_audio = m
        .get("audio_base_64")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_audio {
        let silent = audio::silence(format, ms);
        m.insert(
            "audio_base_64".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(silent)),
        );
        m.entry("media_type")
            .or_insert_with(|| json!(format.mime()));
        m.entry("duration_secs")
            .or_insert_with(|| json!(ms as f64 / 1000.0));
    }
    m.entry("media_type").or_insert_with(|| json!("audio/mpeg"));
    m.entry("duration_secs").or_insert_with(|| json!(0.0));
    Value::Object(m)
}

/// A stateful endpoint's answer, journaled: its JSON, or its error.
fn journaled(mut call: Call, f: impl FnOnce(&Call) -> Result<Value, ApiError>) -> Answered {
    let ex = crate::pipeline::Exchange::new(&mut call);
    match f(&call) {
        Ok(v) => ex
            .reply(crate::http::json_response(StatusCode::OK, &v))
            .into(),
        Err(e) => ex.fail(e).into(),
    }
}

/// `POST /v1/text-to-voice`: a voice from a preview's `generated_voice_id`, kept by the server
/// (its id is the generated id) so `GET /v1/voices/{id}` finds it.
fn create_voice(call: Call) -> Answered {
    journaled(call, |call| {
        let body = body_object(call)?;
        // Each kept voice is small: the server keeps up to 1,000 of them.
        let name = at_most(&body, "voice_name", MAX_DESCRIPTION)?;
        let description = at_most(&body, "voice_description", MAX_DESCRIPTION)?;
        let id = at_most(&body, "generated_voice_id", MAX_DESCRIPTION)?;
        let labels = match body.get("labels") {
            Some(Value::Object(l)) => Value::Object(l.clone()),
            _ => json!({}),
        };
        if labels.to_string().len() > MAX_LABELS_BYTES {
            return Err(invalid(
                &["body", "labels"],
                format!("The labels may take at most {MAX_LABELS_BYTES} bytes of JSON"),
                "value_error",
            ));
        }
        let voice = json!({
            "voice_id": id,
            "name": name,
            "category": "generated",
            "description": description,
            "labels": labels,
            "samples": null,
            "preview_url": null,
            "available_for_tiers": [],
            "settings": null,
            "sharing": null,
            "high_quality_base_model_ids": [],
            "safety_control": null,
            "voice_verification": {
                "requires_verification": false,
                "is_verified": false,
                "verification_failures": [],
                "verification_attempts_count": 0,
            },
            "permission_on_resource": null,
            "is_owner": true,
            "is_legacy": false,
            "is_mixed": false,
            "created_at_unix": crate::http::time::unix_now(),
        });
        call.core.voices.put(id.to_owned(), voice.clone());
        Ok(voice)
    })
}

/// The 404 for a voice the server does not have.
fn no_voice(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("A voice with the voice_id '{id}' was not found."),
    )
    .with_code("voice_not_found")
}

/// `GET /v1/voices/{voice_id}`: a voice the server made.
fn get_voice(call: Call) -> Answered {
    journaled(call, |call| {
        let id = call.route.info.id.clone().unwrap_or_default();
        call.core.voices.get(&id).ok_or_else(|| no_voice(&id))
    })
}

/// `DELETE /v1/voices/{voice_id}`: forget a voice the server made.
fn delete_voice(call: Call) -> Answered {
    journaled(call, |call| {
        let id = call.route.info.id.clone().unwrap_or_default();
        if call.core.voices.remove(&id) {
            Ok(json!({"status": "ok"}))
        } else {
            Err(no_voice(&id))
        }
    })
}
