//! Realtime translations over WebSocket (`GET /v1/realtime/translations?model=...`,
//! `client.realtime.translations.connect(model=...)`): on connect `session.created` (a
//! `translation` session, `sess_...`); `session.update` changes `audio.output.language`,
//! `audio.input.transcription` and `audio.input.noise_reduction` (anything else is refused and
//! nothing changes, answered with `session.updated` otherwise);
//! `session.input_audio_buffer.append` takes base64 24 kHz PCM16.
//!
//! A *turn* (journaled, matched against the fixtures of `endpoint: "realtime-translation"` or
//! none, chaos rolled once, paced) is one utterance of input audio: speech, then enough silence
//! (or no audio for as long; `x-aimock-turn-silence-ms`, 500 ms), or whatever was heard when the
//! client sends `session.close`, which flushes it before `session.closed`. The fixture's text is
//! the translation: `session.output_transcript.delta` chunks, each followed by
//! `session.output_audio.delta` (the fixture's `audio`, else silence as long as the words take),
//! with `elapsed_ms` on the input audio's timeline.
//!
//! A frame that is not a JSON object, a binary frame, an unknown type or a bad field gets the
//! Realtime `error` event; the socket stays open.

mod record;

use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use super::live::audio::{self, Format, Vad};
use super::live::record::Relay;
use super::live::{audio_field, header_u64, json_kind, EventError, DEFAULT_SILENCE_MS};
use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::fixture::Reply;
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::pipeline::socket::{ErrorAnswer, NoFixture, Session};
use crate::stream::socket::{Frame, Heard, Socket, TurnPlan};

/// Translation input (and output) audio: 24 kHz PCM16 mono.
const FORMAT: Format = Format::Pcm16 { rate: 24_000 };
/// A session expires an hour after it starts.
const SESSION_SECS: i64 = 60 * 60;

/// Runs a session.
pub(crate) fn run(session: Session, socket: Socket) -> BoxFuture<'static, ()> {
    Box::pin(serve(session, socket))
}

/// A server event with a fresh `event_id`.
fn event(kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".to_owned(), json!(kind));
    m.insert("event_id".to_owned(), json!(random_id("event_", 24)));
    m
}

/// The Realtime `error` event: `{type, code, message, param, event_id}` (the client event's id).
fn error_event(
    kind: &str,
    code: &str,
    message: &str,
    param: Option<&str>,
    cid: Option<&str>,
) -> String {
    let mut m = event("error");
    m.insert(
        "error".to_owned(),
        json!({ "type": kind, "code": code, "message": message, "param": param, "event_id": cid }),
    );
    Value::Object(m).to_string()
}

fn invalid_event(e: &EventError, cid: Option<&str>) -> String {
    error_event(
        "invalid_request_error",
        e.code,
        &e.message,
        e.param.as_deref(),
        cid,
    )
}

fn api_error_event(e: &ApiError, cid: Option<&str>) -> String {
    let code = match e.code.as_ref() {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => e.kind.clone(),
    };
    error_event(
        &e.kind,
        &code,
        &e.message,
        e.param.as_ref().and_then(Value::as_str),
        cid,
    )
}

/// The session's configuration: `audio` as the session resource shows it.
#[derive(Debug, Clone, PartialEq)]
struct Config {
    audio: Value,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            audio: json!({
                "input": { "noise_reduction": null, "transcription": null },
                "output": { "language": null },
            }),
        }
    }
}

fn wrong_type(param: &str, expected: &str, got: &Value) -> EventError {
    EventError::new(
        "invalid_type",
        format!(
            "Invalid type for '{param}': expected {expected}, but got {}.",
            json_kind(got)
        ),
        Some(param),
    )
}

fn unknown(param: &str) -> EventError {
    EventError::new(
        "unknown_parameter",
        format!("Unknown parameter: '{param}'."),
        Some(param),
    )
}

impl Config {
    /// Apply `session.update`'s `session`; the session is unchanged when it is refused.
    fn update(&self, session: Option<&Value>) -> Result<Config, EventError> {
        let Some(v) = session else {
            return Err(EventError::new(
                "missing_required_parameter",
                "Missing required parameter: 'session'.",
                Some("session"),
            ));
        };
        let Value::Object(m) = v else {
            return Err(wrong_type("session", "an object", v));
        };
        if let Some(k) = m.keys().find(|k| k.as_str() != "audio") {
            let param = format!("session.{k}");
            return Err(if matches!(k.as_str(), "model" | "type") {
                EventError::new(
                    "invalid_value",
                    format!("'{param}' is set when the session is created and cannot be changed."),
                    Some(&param),
                )
            } else {
                unknown(&param)
            });
        }
        let mut next = self.clone();
        let Some(a) = m.get("audio") else {
            return Ok(next);
        };
        let Value::Object(a) = a else {
            return Err(wrong_type("session.audio", "an object", a));
        };
        if let Some(k) = a.keys().find(|k| !matches!(k.as_str(), "input" | "output")) {
            return Err(unknown(&format!("session.audio.{k}")));
        }
        if let Some(input) = a.get("input") {
            let Value::Object(i) = input else {
                return Err(wrong_type("session.audio.input", "an object", input));
            };
            for (k, v) in i {
                let at = format!("session.audio.input.{k}");
                match (k.as_str(), v) {
                    (_, Value::Null)
                        if matches!(k.as_str(), "transcription" | "noise_reduction") => {}
                    ("transcription", Value::Object(t)) => {
                        if let Some(x) = t.keys().find(|x| x.as_str() != "model") {
                            return Err(unknown(&format!("{at}.{x}")));
                        }
                        match t.get("model") {
                            Some(Value::String(s)) if !s.is_empty() => {}
                            None => {
                                return Err(EventError::new(
                                    "missing_required_parameter",
                                    format!("Missing required parameter: '{at}.model'."),
                                    Some(&format!("{at}.model")),
                                ))
                            }
                            Some(other) => {
                                return Err(wrong_type(&format!("{at}.model"), "a string", other))
                            }
                        }
                    }
                    ("noise_reduction", Value::Object(n)) => {
                        if let Some(x) = n
                            .keys()
                            .find(|x| !matches!(x.as_str(), "type" | "strength"))
                        {
                            return Err(unknown(&format!("{at}.{x}")));
                        }
                        match n.get("type").and_then(Value::as_str) {
                            Some("near_field" | "far_field") => {}
                            _ => {
                                return Err(EventError::new(
                                    "invalid_value",
                                    format!("'{at}.type' must be 'near_field' or 'far_field'."),
                                    Some(&format!("{at}.type")),
                                ))
                            }
                        }
                        match n.get("strength") {
                            None | Some(Value::Null) => {}
                            Some(s) if s.as_f64().is_some_and(|f| (0.0..=1.0).contains(&f)) => {}
                            Some(_) => {
                                return Err(EventError::new(
                                    "invalid_value",
                                    format!("'{at}.strength' must be a number from 0 to 1."),
                                    Some(&format!("{at}.strength")),
                                ))
                            }
                        }
                    }
                    ("transcription" | "noise_reduction", other) => {
                        return Err(wrong_type(&at, "an object or null", other))
                    }
                    _ => return Err(unknown(&at)),
                }
                let slot = &mut next.audio["input"][k.as_str()];
                match (slot.as_object_mut(), v) {
                    // Strength left out keeps the current one.
                    (Some(cur), Value::Object(new)) if k == "noise_reduction" => {
                        cur.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    _ => *slot = v.clone(),
                }
                if k == "noise_reduction"
                    && slot.get("strength").is_none_or(Value::is_null)
                    && slot.is_object()
                {
                    slot["strength"] = json!(1.0);
                }
            }
        }
        if let Some(output) = a.get("output") {
            let Value::Object(o) = output else {
                return Err(wrong_type("session.audio.output", "an object", output));
            };
            for (k, v) in o {
                let at = format!("session.audio.output.{k}");
                match (k.as_str(), v) {
                    ("language", Value::String(s)) if !s.trim().is_empty() => {}
                    ("language", Value::Null) => {}
                    ("language", other) => return Err(wrong_type(&at, "a language code", other)),
                    _ => return Err(unknown(&at)),
                }
                next.audio["output"][k.as_str()] = v.clone();
            }
        }
        Ok(next)
    }

    fn language(&self) -> Option<&str> {
        self.audio["output"]["language"].as_str()
    }
}

/// One socket's session.
struct Translation {
    session: Session,
    id: String,
    model: String,
    expires_at: i64,
    config: Config,
    silence_ms: u64,
    vad: Vad,
    last_audio: Option<Instant>,
    /// Milliseconds of input audio heard so far (the `elapsed_ms` timeline).
    elapsed_ms: u64,
    /// The translations so far, for matching (`turnIndex`).
    history: Vec<Message>,
    /// Record mode: what the upstream is kept in sync with, and the upstream.
    rec: Option<Relay>,
}

async fn serve(session: Session, mut socket: Socket) {
    let model = session
        .query_param("model")
        .filter(|m| !m.trim().is_empty());
    let Some(model) = model else {
        let e = EventError::new(
            "missing_required_parameter",
            "Missing required parameter: 'model'. Connect to /v1/realtime/translations?model=<a translation model>.",
            Some("model"),
        );
        socket.send(invalid_event(&e, None)).await;
        socket.close_policy("missing model").await;
        return;
    };
    let silence_ms =
        header_u64(&session.headers, "x-aimock-turn-silence-ms").unwrap_or(DEFAULT_SILENCE_MS);
    let rec = Relay::new(&session);
    let mut t = Translation {
        session,
        id: random_id("sess_", 24),
        model,
        expires_at: crate::http::time::unix_now() + SESSION_SECS,
        config: Config::default(),
        silence_ms,
        vad: Vad::default(),
        last_audio: None,
        elapsed_ms: 0,
        history: Vec::new(),
        rec,
    };
    let mut created = event("session.created");
    created.insert("session".to_owned(), t.resource());
    if !socket.send(Value::Object(created).to_string()).await {
        return;
    }
    loop {
        let quiet = t
            .last_audio
            .filter(|_| t.vad.speaking())
            .map(|at| at + std::time::Duration::from_millis(t.silence_ms));
        let frame = tokio::select! {
            f = socket.recv() => f,
            _ = async {
                match quiet {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                if t.translate(&mut socket).await {
                    continue;
                }
                break;
            }
        };
        let Some(frame) = frame else { break };
        if !t.on_frame(&mut socket, frame).await {
            break;
        }
    }
    if let Some(r) = t.rec.take() {
        r.close().await;
    }
}

impl Translation {
    fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "type": "translation",
            "model": self.model,
            "expires_at": self.expires_at,
            "audio": self.config.audio,
        })
    }

    /// One message from the client; false when the connection is over.
    async fn on_frame(&mut self, socket: &mut Socket, frame: Frame) -> bool {
        let text = match frame {
            Frame::Text(t) => t,
            Frame::Binary(_) => {
                let e = EventError::new(
                    "invalid_message",
                    "Binary messages are not supported: send each event as a JSON text message (audio goes base64 in session.input_audio_buffer.append).",
                    None,
                );
                return socket.send(invalid_event(&e, None)).await;
            }
        };
        let body = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            Ok(other) => {
                let e = EventError::new(
                    "invalid_json",
                    format!(
                        "Each event must be a JSON object, not {}.",
                        json_kind(&other)
                    ),
                    None,
                );
                return socket.send(invalid_event(&e, None)).await;
            }
            Err(err) => {
                let e = EventError::new(
                    "invalid_json",
                    format!("The message is not valid JSON: {err}."),
                    None,
                );
                return socket.send(invalid_event(&e, None)).await;
            }
        };
        let cid = body
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let cid = cid.as_deref();
        match body.get("type").and_then(Value::as_str) {
            Some("session.update") => match self.config.update(body.get("session")) {
                Ok(next) => {
                    self.config = next;
                    if let Some(r) = self.rec.as_mut() {
                        r.keep(text.clone());
                    }
                    let mut m = event("session.updated");
                    m.insert("session".to_owned(), self.resource());
                    socket.send(Value::Object(m).to_string()).await
                }
                Err(e) => socket.send(invalid_event(&e, cid)).await,
            },
            Some("session.input_audio_buffer.append") => {
                let bytes = match audio_field(&body, "audio", FORMAT) {
                    Ok(b) => b,
                    Err(e) => return socket.send(invalid_event(&e, cid)).await,
                };
                self.elapsed_ms += FORMAT.ms(bytes.len());
                let ended = self.vad.push(FORMAT, &bytes, self.silence_ms);
                if self.vad.speaking() {
                    if let Some(r) = self.rec.as_mut() {
                        r.hear(text.clone());
                    }
                }
                if ended {
                    return self.translate(socket).await;
                }
                if self.vad.speaking() {
                    self.last_audio = Some(Instant::now());
                }
                true
            }
            Some("session.close") => {
                // Pending input is flushed first.
                if self.vad.speaking() && !self.translate(socket).await {
                    return false;
                }
                socket
                    .send(Value::Object(event("session.closed")).to_string())
                    .await;
                socket.close_normal("session closed").await;
                false
            }
            Some(other) => {
                let e = EventError::new(
                    "invalid_value",
                    format!("Invalid value: '{other}'. Supported values are: 'session.update', 'session.input_audio_buffer.append' and 'session.close'."),
                    Some("type"),
                );
                socket.send(invalid_event(&e, cid)).await
            }
            None => {
                let e = match body.get("type") {
                    None => EventError::new(
                        "missing_required_parameter",
                        "Missing required parameter: 'type'.",
                        Some("type"),
                    ),
                    Some(v) => wrong_type("type", "a string", v),
                };
                socket.send(invalid_event(&e, cid)).await
            }
        }
    }

    /// An utterance ended: one turn, its translation spoken.
    async fn translate(&mut self, socket: &mut Socket) -> bool {
        self.vad.reset();
        self.last_audio = None;
        let heard = self.rec.as_mut().map(Relay::take_heard).unwrap_or_default();
        let mut messages = Vec::new();
        if let Some(lang) = self.config.language() {
            messages.push(Message::text(
                Role::System,
                format!("Translate into {lang}."),
            ));
        }
        messages.extend(self.history.iter().cloned());
        messages.push(Message {
            role: Role::User,
            text: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
        let req = ChatRequest {
            model: self.model.clone(),
            messages,
            tools: Vec::new(),
            response_format: None,
            endpoint: Endpoint::RealtimeTranslation,
            embedding_input: None,
            stream: true,
        };
        let mut turn = self.session.turn();
        let fixture = match turn.resolve(req.clone(), 0) {
            Ok(f) => f,
            Err(NoFixture::Miss(m)) if m.proxy && self.rec.is_some() => {
                return self.record(socket, turn, &req, heard).await;
            }
            Err(other) => {
                return turn
                    .answer_without_fixture(socket, other, |e| {
                        ErrorAnswer::Event(api_error_event(e, None))
                    })
                    .await
            }
        };
        let Some((text, audio)) = translation(&fixture.reply) else {
            let e = crate::providers::endpoint::wrong_kind(
                &fixture,
                &fixture.reply,
                "a translation session",
            );
            let sent = socket.send(api_error_event(&e, None)).await;
            turn.finish(e.status);
            return sent;
        };
        let settings = &self.session.core.settings;
        let chunk = fixture.stream.chunk_size.unwrap_or(settings.chunk_size);
        let events = render(&text, audio, chunk, self.elapsed_ms);
        self.history.push(Message::text(Role::Assistant, text));
        let plan = TurnPlan {
            events,
            pacing: fixture
                .stream
                .pacing(settings.latency, settings.replay_speed),
            truncate_after: fixture.stream.truncate_after_chunks,
            disconnect_after: fixture
                .stream
                .disconnect_after_ms
                .map(crate::stream::duration_ms),
        };
        turn.play(socket, plan, |_| Heard::Later).await.open()
    }
}

/// The translation a fixture gives: its text (`content`, or a transcription's `text`) and its
/// audio, when it has some.
fn translation(reply: &Reply) -> Option<(String, Option<Vec<u8>>)> {
    match reply {
        Reply::Message(m) if !m.has_tool_calls() => Some((
            m.content_text().map(|t| t.into_owned()).unwrap_or_default(),
            None,
        )),
        Reply::Other {
            kind: "audio",
            value,
        } => Some((
            value
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            value
                .get("audio")
                .and_then(Value::as_str)
                .and_then(audio::decode),
        )),
        Reply::Other {
            kind: "transcription",
            value,
        } => Some((
            value
                .get("transcription")
                .and_then(|t| t.get("text"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            None,
        )),
        _ => None,
    }
}

/// The translated transcript in chunks, each followed by its share of the audio, stamped with
/// the input timeline's `elapsed_ms` (advancing in 200 ms frames).
fn render(text: &str, audio: Option<Vec<u8>>, chunk: usize, elapsed_ms: u64) -> Vec<String> {
    let audio = audio.unwrap_or_else(|| {
        if text.is_empty() {
            Vec::new()
        } else {
            FORMAT.silence(audio::speech_ms(text))
        }
    });
    let words = crate::stream::chunk_text(text, chunk);
    let parts = FORMAT.split(&audio, words.len().max(1));
    let frame = |ms: u64| ms / 200 * 200;
    let mut events = Vec::new();
    let mut t = elapsed_ms;
    for i in 0..words.len().max(parts.len()) {
        if let Some(w) = words.get(i) {
            let mut m = event("session.output_transcript.delta");
            m.insert("delta".to_owned(), json!(w));
            m.insert("elapsed_ms".to_owned(), json!(frame(t)));
            events.push(Value::Object(m).to_string());
        }
        if let Some(p) = parts.get(i) {
            let mut m = event("session.output_audio.delta");
            m.insert("delta".to_owned(), json!(audio::encode(p)));
            m.insert("format".to_owned(), json!("pcm16"));
            m.insert("sample_rate".to_owned(), json!(24_000));
            m.insert("channels".to_owned(), json!(1));
            m.insert("elapsed_ms".to_owned(), json!(frame(t)));
            events.push(Value::Object(m).to_string());
            t += FORMAT.ms(p.len());
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_change_the_three_settings_and_refuse_the_rest() {
        let c = Config::default();
        let next = c
            .update(Some(&json!({ "audio": {
                "output": { "language": "es" },
                "input": { "transcription": { "model": "gpt-4o-transcribe" }, "noise_reduction": { "type": "near_field" } }
            } })))
            .expect("valid");
        assert_eq!(next.language(), Some("es"));
        assert_eq!(
            next.audio["input"]["transcription"]["model"],
            "gpt-4o-transcribe"
        );
        assert_eq!(next.audio["input"]["noise_reduction"]["strength"], 1.0);
        let kept = next
            .update(Some(
                &json!({ "audio": { "input": { "noise_reduction": { "type": "far_field" } } } }),
            ))
            .expect("valid");
        assert_eq!(
            kept.audio["input"]["noise_reduction"],
            json!({ "type": "far_field", "strength": 1.0 })
        );
        let code = |v: Value| c.update(Some(&v)).err().map(|e| (e.code, e.param));
        assert_eq!(
            code(json!({ "model": "x" })),
            Some(("invalid_value", Some("session.model".to_owned())))
        );
        assert_eq!(
            code(json!({ "voice": "x" })).map(|c| c.0),
            Some("unknown_parameter")
        );
        assert_eq!(
            code(json!({ "audio": { "output": { "language": 5 } } })).map(|c| c.0),
            Some("invalid_type")
        );
        assert_eq!(
            code(json!({ "audio": { "input": { "noise_reduction": { "type": "loud" } } } }))
                .map(|c| c.0),
            Some("invalid_value")
        );
        assert_eq!(
            code(json!({ "audio": { "input": { "transcription": {} } } })).map(|c| c.0),
            Some("missing_required_parameter")
        );
    }

    #[test]
    fn a_translation_streams_transcript_and_pcm16_audio_on_the_input_timeline() {
        let events: Vec<Value> = render("Hola mundo", None, 4, 1300)
            .iter()
            .map(|e| serde_json::from_str(e).expect("json"))
            .collect();
        let text: String = events
            .iter()
            .filter(|e| e["type"] == "session.output_transcript.delta")
            .filter_map(|e| e["delta"].as_str())
            .collect();
        assert_eq!(text, "Hola mundo");
        let audio: Vec<u8> = events
            .iter()
            .filter(|e| e["type"] == "session.output_audio.delta")
            .flat_map(|e| audio::decode(e["delta"].as_str().unwrap_or("")).unwrap_or_default())
            .collect();
        assert_eq!(FORMAT.ms(audio.len()), audio::speech_ms("Hola mundo"));
        assert_eq!(events[0]["elapsed_ms"], 1200);
        assert_eq!(events[1]["sample_rate"], 24000);
        assert_eq!(events[1]["format"], "pcm16");
        assert!(events.iter().all(|e| e["event_id"].is_string()));
    }
}
