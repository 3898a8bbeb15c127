//! GPT-Live over its primary WebSocket (`GET /v1/live/sessions`, `client.live.connect()`): the
//! client sends `session.start` (the strict session configuration, `model` required) and gets
//! `session.started` with a `live_...` id; `session.close` ends with `session.closed`
//! (`reason: "close_requested"`, the final snapshot and usage), and so do the session limits
//! (`reason: "expired"`).
//!
//! A *turn* (one journal entry, matched against the fixtures with the session's conversation,
//! chaos rolled once, paced by the fixture) is the model speaking:
//! - after `session.commentary.append` (its text joins the conversation as the user's turn, or,
//!   naming a delegation, as that delegation's result), or after an utterance of input audio
//!   (`session.input_audio.append`: speech, then enough silence; the mock's voice activity
//!   detection). The reply is spoken: `session.output_transcript.delta` with
//!   `session.output_audio.delta` (the fixture's `audio`, else silence as long as the words
//!   take), a `session.delegation.created` per tool call, then `session.usage.updated`.
//! - or, with Responses delegation, after `response.create` (the items `response.item.create`
//!   added are the backend's conversation): the Responses stream's events, each wrapped in a
//!   `response.event`.
//!
//! Instructions and thinking join the conversation as context. Any command before
//! `session.start`, an unknown type, a frame that is not a JSON object or a binary frame gets
//! the `error` event, and the socket stays open.
//!
//! Fixtures for these turns may say `"endpoint": "openai-live"`. aimock's `onLive` fixtures
//! (`response.live`, a recorded session) are served as aimock serves them: when one answers a
//! `session.start`, the recording is replayed instead of turns (see `replay`).
//!
//! Session limits come from the upgrade request (aimock's headers; the API takes no query):
//! `x-aimock-live-max-duration-ms` (default one hour, also the session's `expires_at`),
//! `x-aimock-live-max-turns`; `x-aimock-turn-silence-ms` is how much silence ends an utterance
//! (500 ms); `x-aimock-live-mismatch-timeout-ms` how long a replay waits for the input its
//! recording expects (30 s, as aimock).

pub(super) mod audio;
pub(super) mod collapse;
mod config;
mod events;
pub(super) mod record;
mod replay;
mod replaying;
mod speech;

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use self::audio::{Format, Vad};
use self::config::{Config, Delegation, Invalid};
use self::events::{api_error_event, event, invalid_event, read_command, Command};
use self::record::{Relay, Trigger};
use self::replay::Replay;
use self::speech::{tool_names, wrap_responses, Spoken};
use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::fixture::Fixture;
use crate::http::ids::random_id;
use crate::pipeline::socket::{ErrorAnswer, NoFixture, Session, Turn};
use crate::stream::socket::{Frame, Heard, Socket, TurnPlan};

pub(super) use self::config::kind as json_kind;
pub(super) use self::config::Invalid as EventError;
pub(super) use self::events::audio_field;

/// A session lasts at most this long unless the upgrade request says otherwise.
const DEFAULT_MAX_DURATION_MS: u64 = 60 * 60 * 1000;
/// This much silence after speech ends an utterance unless the upgrade request says otherwise.
pub(super) const DEFAULT_SILENCE_MS: u64 = 500;
/// A replay waits this long for the client input its recording expects (aimock's default).
const DEFAULT_MISMATCH_TIMEOUT_MS: u64 = 30_000;
/// Fixture audio played with `session.output_audio.fixture.play` is at most 30 s of 24 kHz PCM16.
const MAX_FIXTURE_AUDIO_BYTES: usize = 30 * 48_000;

/// Every client command the API defines (others are unknown types).
const COMMANDS: &[&str] = &[
    "session.start",
    "session.update",
    "session.input_audio.append",
    "session.input_audio.mute",
    "session.input_audio.unmute",
    "session.output_audio.fixture.play",
    "session.instructions.append",
    "session.thinking.append",
    "session.commentary.append",
    "decision.create",
    "decision.item.create",
    "decision.item.delete",
    "response.item.create",
    "response.create",
    "session.close",
];

/// Runs a session.
pub(crate) fn run(session: Session, socket: Socket) -> BoxFuture<'static, ()> {
    Box::pin(serve(session, socket))
}

/// A number from an upgrade header.
/// A number from an upgrade header, at most a week (of milliseconds): timers stay in range.
pub(super) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    const MAX: u64 = 7 * 24 * 60 * 60 * 1000;
    let v: u64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    Some(v.min(MAX))
}

/// The limits a session runs under.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_duration: Duration,
    max_turns: Option<u64>,
    silence_ms: u64,
    /// How long a replay waits for the client input its recording expects.
    mismatch_timeout: Duration,
}

impl Limits {
    fn from_headers(h: &HeaderMap) -> Limits {
        Limits {
            max_duration: Duration::from_millis(
                header_u64(h, "x-aimock-live-max-duration-ms").unwrap_or(DEFAULT_MAX_DURATION_MS),
            ),
            max_turns: header_u64(h, "x-aimock-live-max-turns"),
            silence_ms: header_u64(h, "x-aimock-turn-silence-ms").unwrap_or(DEFAULT_SILENCE_MS),
            mismatch_timeout: Duration::from_millis(
                header_u64(h, "x-aimock-live-mismatch-timeout-ms")
                    .unwrap_or(DEFAULT_MISMATCH_TIMEOUT_MS),
            ),
        }
    }
}

/// The acknowledgement of `session.input_audio.mute` or `.unmute`.
fn mute_ack(muted: bool, cid: Option<&str>) -> String {
    let kind = if muted {
        "session.input_audio.muted"
    } else {
        "session.input_audio.unmuted"
    };
    Value::Object(event(kind, cid)).to_string()
}

/// A started session.
struct Started {
    config: Config,
    id: String,
    at: Instant,
    expires_at: i64,
}

/// One socket's session state.
struct Live {
    session: Session,
    limits: Limits,
    started: Option<Started>,
    /// The conversation the matcher sees.
    history: Vec<Message>,
    /// The Responses backend's conversation (its input items).
    items: Vec<Value>,
    /// Delegations the model created, by id.
    delegations: HashSet<String>,
    muted: bool,
    vad: Vad,
    /// When speech was last heard, for an utterance that ends in no audio at all.
    last_audio: Option<Instant>,
    turns: u64,
    /// A recorded session being replayed (an `onLive` fixture), which then drives the socket.
    replay: Option<Replay>,
    /// Record mode: what the upstream is kept in sync with, and the upstream.
    rec: Option<Relay>,
}

/// How a turn was matched.
enum Resolved {
    /// This fixture answers it.
    Fixture(std::sync::Arc<Fixture>, Turn),
    /// Record mode sends it upstream.
    Record(Turn),
    /// It was answered otherwise (an error event, chaos); whether the socket is open.
    Answered(bool),
}

async fn serve(session: Session, mut socket: Socket) {
    // The model belongs in session.start: the API takes no query.
    if session.query_param("model").is_some() {
        let e = Invalid::new(
            "unknown_parameter",
            "Unknown parameter: 'model' in the URL. Connect without query parameters and send the model in session.start.",
            Some("model"),
        );
        socket.send(invalid_event(&e, None)).await;
        socket.close_policy("model in the URL").await;
        return;
    }
    let limits = Limits::from_headers(&session.headers);
    let rec = Relay::new(&session);
    let mut live = Live {
        session,
        limits,
        started: None,
        history: Vec::new(),
        items: Vec::new(),
        delegations: HashSet::new(),
        muted: false,
        vad: Vad::default(),
        last_audio: None,
        turns: 0,
        replay: None,
        rec,
    };
    loop {
        let wake = live.wake();
        let frame = tokio::select! {
            f = socket.recv() => f,
            _ = sleep_until(wake) => {
                if live.on_timer(&mut socket).await {
                    continue;
                }
                break;
            }
        };
        let Some(frame) = frame else { break };
        if !live.on_frame(&mut socket, frame).await {
            break;
        }
    }
    if let Some(r) = live.rec.take() {
        r.close().await;
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Live {
    /// The next moment a timer is due: the session's expiry, or the end of an utterance that
    /// went quiet.
    fn wake(&self) -> Option<Instant> {
        let started = self.started.as_ref()?;
        let expiry = started.at + self.limits.max_duration;
        let quiet = self
            .last_audio
            .filter(|_| self.vad.speaking())
            .map(|t| t + Duration::from_millis(self.limits.silence_ms));
        let replay = self.replay.as_ref().and_then(Replay::next_at);
        let waiting = self
            .replay
            .as_ref()
            .and_then(|r| r.waiting_until(self.limits.mismatch_timeout));
        Some(
            [quiet, replay, waiting]
                .into_iter()
                .flatten()
                .fold(expiry, Instant::min),
        )
    }

    /// A timer fired; false when the connection is over.
    async fn on_timer(&mut self, socket: &mut Socket) -> bool {
        let Some(started) = self.started.as_ref() else {
            return true;
        };
        let expired = Instant::now() >= started.at + self.limits.max_duration;
        if self.replay.is_some() {
            if expired {
                return self
                    .fail(socket, "timeout", "Live session duration exceeded")
                    .await;
            }
            let waited = self
                .replay
                .as_ref()
                .and_then(|r| r.waiting_until(self.limits.mismatch_timeout))
                .is_some_and(|at| Instant::now() >= at);
            if waited {
                return self
                    .fail(
                        socket,
                        "fixture-mismatch",
                        "expected client input deadline exceeded",
                    )
                    .await;
            }
            return self.pump(socket).await;
        }
        if expired {
            return self.close(socket, "expired", None).await;
        }
        if self.vad.speaking() {
            return self.utterance(socket).await;
        }
        true
    }

    /// Milliseconds since the session started (its timeline).
    fn now_ms(&self) -> u64 {
        self.started
            .as_ref()
            .map_or(0, |s| s.at.elapsed().as_millis() as u64)
    }

    /// The session resource: the resolved configuration with its id, expiry and status.
    fn resource(&self) -> Value {
        let Some(s) = self.started.as_ref() else {
            return Value::Null;
        };
        let mut m = Map::new();
        m.insert("id".to_owned(), Value::String(s.id.clone()));
        m.insert("expires_at".to_owned(), json!(s.expires_at));
        m.insert("status".to_owned(), json!("active"));
        m.extend(
            s.config
                .resolved
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Value::Object(m)
    }

    /// Cumulative usage: the session's whole seconds so far.
    fn usage(&self) -> Value {
        json!({ "seconds": (self.now_ms() / 1000) as f64 })
    }

    /// End the session: `session.closed` with why, then a normal close.
    async fn close(&mut self, socket: &mut Socket, reason: &str, cid: Option<&str>) -> bool {
        socket.send(self.closed_event(reason, cid)).await;
        socket.close_normal("session closed").await;
        false
    }

    /// `session.closed`: why, the final snapshot and the usage.
    fn closed_event(&self, reason: &str, cid: Option<&str>) -> String {
        let mut m = event("session.closed", cid);
        m.insert("reason".to_owned(), json!(reason));
        m.insert("session".to_owned(), self.resource());
        m.insert("usage".to_owned(), self.usage());
        Value::Object(m).to_string()
    }

    /// Play a turn, listening: `session.close` in the middle stops it with `session.closed`
    /// and ends the session; a mute or unmute is acknowledged at once; anything else waits for
    /// the turn's end. False when the connection is over.
    async fn play(&mut self, socket: &mut Socket, turn: Turn, plan: TurnPlan) -> bool {
        let mut closing = false;
        let mut muted = None;
        let end = turn
            .play(socket, plan, |frame| {
                let Ok(cmd) = read_command(frame) else {
                    return Heard::Later;
                };
                let cid = cmd.client_event_id.as_deref();
                match cmd.kind.as_str() {
                    "session.close" => {
                        closing = true;
                        Heard::Stop(vec![self.closed_event("close_requested", cid)])
                    }
                    "session.input_audio.mute" | "session.input_audio.unmute" => {
                        let mute = cmd.kind.ends_with(".mute");
                        muted = Some(mute);
                        Heard::Answered(vec![mute_ack(mute, cid)])
                    }
                    _ => Heard::Later,
                }
            })
            .await;
        if let Some(m) = muted {
            self.set_muted(m);
        }
        if closing {
            socket.close_normal("session closed").await;
            return false;
        }
        end.open()
    }

    fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
        self.vad.reset();
        self.last_audio = None;
        if let Some(r) = self.rec.as_mut() {
            r.forget_heard();
        }
    }

    /// Record mode: keep a command that starts no turn for the upstream.
    fn keep(&mut self, cmd: &Command) {
        if let Some(r) = self.rec.as_mut() {
            r.keep(Value::Object(cmd.body.clone()).to_string());
        }
    }

    async fn refuse(&self, socket: &mut Socket, e: &Invalid, cid: Option<&str>) -> bool {
        socket.send(invalid_event(e, cid)).await
    }

    /// One message from the client; false when the connection is over.
    async fn on_frame(&mut self, socket: &mut Socket, frame: Frame) -> bool {
        if self.replay.is_some() {
            return self.replay_frame(socket, &frame).await;
        }
        let cmd = match read_command(&frame) {
            Ok(c) => c,
            Err((e, cid)) => return self.refuse(socket, &e, cid.as_deref()).await,
        };
        let cid = cmd.client_event_id.as_deref();
        if !COMMANDS.contains(&cmd.kind.as_str()) {
            let e = Invalid::new(
                "invalid_value",
                format!(
                    "Invalid value: '{}'. Unknown Live client event type.",
                    cmd.kind
                ),
                Some("type"),
            );
            return self.refuse(socket, &e, cid).await;
        }
        if self.started.is_none() && cmd.kind != "session.start" {
            let e = Invalid::new(
                "session_not_started",
                "Send session.start first and wait for session.started before other commands.",
                Some("type"),
            );
            return self.refuse(socket, &e, cid).await;
        }
        match cmd.kind.as_str() {
            "session.start" => self.start(socket, &cmd).await,
            "session.update" => self.update(socket, &cmd).await,
            "session.input_audio.append" => self.audio(socket, &cmd).await,
            "session.input_audio.mute" | "session.input_audio.unmute" => {
                let mute = cmd.kind.ends_with(".mute");
                self.set_muted(mute);
                socket.send(mute_ack(mute, cid)).await
            }
            "session.output_audio.fixture.play" => self.fixture_audio(socket, &cmd).await,
            "session.instructions.append"
            | "session.thinking.append"
            | "session.commentary.append" => self.append(socket, &cmd).await,
            "response.item.create" => self.item(socket, &cmd).await,
            "response.create" => self.respond(socket, &cmd).await,
            "session.close" => self.close(socket, "close_requested", cid).await,
            // decision.*: Decisions delegation is not served.
            _ => {
                let e = Invalid::new(
                    "unsupported_event",
                    format!(
                        "{} needs Decisions delegation, which this mock does not serve.",
                        cmd.kind
                    ),
                    Some("type"),
                );
                self.refuse(socket, &e, cid).await
            }
        }
    }

    async fn start(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        if self.started.is_some() {
            let e = Invalid::new(
                "session_already_started",
                "The session has already started: send session.update to change it.",
                Some("type"),
            );
            return self.refuse(socket, &e, cid).await;
        }
        let config = match config::start(cmd.body.get("session")) {
            Ok(c) => c,
            Err(e) => return self.refuse(socket, &e, cid).await,
        };
        if self.session.core.fixtures.snapshot().any_reply_of("live") {
            if let Some(open) = self.replay_start(socket, cmd, &config).await {
                return open;
            }
        }
        for (role, text) in config.history() {
            let role = match role {
                "developer" => Role::System,
                "assistant" => Role::Assistant,
                _ => Role::User,
            };
            self.history.push(Message::text(role, text));
        }
        if let Some(i) = config
            .resolved
            .get("instructions")
            .and_then(Value::as_str)
            .filter(|i| !i.trim().is_empty())
        {
            self.history.insert(0, Message::text(Role::System, i));
        }
        let secs = self.limits.max_duration.as_millis().div_ceil(1000) as i64;
        self.started = Some(Started {
            config,
            id: random_id("live_", 24),
            at: Instant::now(),
            expires_at: crate::http::time::unix_now() + secs,
        });
        if let Some(r) = self.rec.as_mut() {
            r.start = Some(Value::Object(cmd.body.clone()).to_string());
        }
        let mut m = event("session.started", cid);
        m.insert("session".to_owned(), self.resource());
        socket.send(Value::Object(m).to_string()).await
    }

    async fn update(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        let Some(started) = self.started.as_mut() else {
            return true;
        };
        match config::update(&started.config, cmd.body.get("session")) {
            Ok(next) => started.config = next,
            Err(e) => return self.refuse(socket, &e, cid).await,
        }
        self.keep(cmd);
        let mut m = event("session.updated", cid);
        m.insert("session".to_owned(), self.resource());
        socket.send(Value::Object(m).to_string()).await
    }

    fn format(&self) -> Format {
        self.started
            .as_ref()
            .map_or(Format::Pcm16 { rate: 24_000 }, |s| s.config.format)
    }

    /// `session.input_audio.append`: no acknowledgement; the audio feeds the utterance detector.
    async fn audio(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        let bytes = match audio_field(&cmd.body, "audio", self.format()) {
            Ok(b) => b,
            Err(e) => return self.refuse(socket, &e, cid).await,
        };
        if self.muted {
            return true;
        }
        let ended = self.vad.push(self.format(), &bytes, self.limits.silence_ms);
        if self.vad.speaking() {
            if let Some(r) = self.rec.as_mut() {
                r.hear(Value::Object(cmd.body.clone()).to_string());
            }
        }
        if ended {
            return self.utterance(socket).await;
        }
        if self.vad.speaking() {
            self.last_audio = Some(Instant::now());
        }
        true
    }

    /// An utterance ended: it is the user's turn in the conversation, and the model answers.
    async fn utterance(&mut self, socket: &mut Socket) -> bool {
        self.vad.reset();
        self.last_audio = None;
        self.history.push(Message {
            role: Role::User,
            text: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
        let heard = self.rec.as_mut().map(Relay::take_heard).unwrap_or_default();
        self.speak(socket, None, Trigger::Utterance(heard)).await
    }

    /// `session.output_audio.fixture.play`: checked whole, then acknowledged and reported played.
    async fn fixture_audio(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        let bytes = match audio_field(&cmd.body, "audio", Format::Pcm16 { rate: 24_000 }) {
            Ok(b) => b,
            Err(e) => return self.refuse(socket, &e, cid).await,
        };
        if bytes.len() > MAX_FIXTURE_AUDIO_BYTES {
            let e = Invalid::new(
                "invalid_value",
                "Fixture audio is limited to 30 seconds of 24 kHz PCM16.",
                Some("audio"),
            );
            return self.refuse(socket, &e, cid).await;
        }
        socket
            .send_all(vec![
                Value::Object(event("session.output_audio.fixture.playing", cid)).to_string(),
                Value::Object(event("session.output_audio.fixture.played", cid)).to_string(),
            ])
            .await
    }

    /// `session.{instructions,thinking,commentary}.append`: acknowledged on the timeline, kept in
    /// the conversation; commentary is spoken (a turn).
    async fn append(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        let content = match cmd.body.get("content") {
            Some(Value::String(s)) => s.clone(),
            None => {
                let e = Invalid::new(
                    "missing_required_parameter",
                    "Missing required parameter: 'content'.",
                    Some("content"),
                );
                return self.refuse(socket, &e, cid).await;
            }
            Some(other) => {
                let e = Invalid::new(
                    "invalid_type",
                    format!(
                        "Invalid type for 'content': expected a string, but got {}.",
                        json_kind(other)
                    ),
                    Some("content"),
                );
                return self.refuse(socket, &e, cid).await;
            }
        };
        let delegation = match cmd.body.get("delegation_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if self.delegations.contains(id) => Some(id.clone()),
            Some(Value::String(id)) => {
                let e = Invalid::new(
                    "invalid_value",
                    format!("No delegation '{id}' exists in this session."),
                    Some("delegation_id"),
                );
                return self.refuse(socket, &e, cid).await;
            }
            Some(other) => {
                let e = Invalid::new(
                    "invalid_type",
                    format!(
                        "Invalid type for 'delegation_id': expected a string or null, but got {}.",
                        json_kind(other)
                    ),
                    Some("delegation_id"),
                );
                return self.refuse(socket, &e, cid).await;
            }
        };
        let kind = cmd.kind.trim_end_matches(".append");
        let at = self.now_ms();
        let mut m = event(&format!("{kind}.appended"), cid);
        m.insert("start_ms".to_owned(), json!(at));
        m.insert("end_ms".to_owned(), json!(at));
        if !socket.send(Value::Object(m).to_string()).await {
            return false;
        }
        let commentary = kind == "session.commentary";
        self.history.push(match (&delegation, commentary) {
            (Some(id), _) => Message::tool_result(id.clone(), content),
            (None, true) => Message::text(Role::User, content),
            (None, false) => Message::text(Role::System, content),
        });
        if commentary {
            return self
                .speak(socket, cid, Trigger::Commentary(cmd.body.clone()))
                .await;
        }
        self.keep(cmd);
        true
    }

    /// `response.item.create`: an item for the Responses backend's conversation.
    async fn item(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        if let Some(e) = self.needs_responses("response.item.create") {
            return self.refuse(socket, &e, cid).await;
        }
        match cmd.body.get("item") {
            Some(Value::Object(item)) => {
                self.items.push(Value::Object(item.clone()));
                self.keep(cmd);
                true
            }
            None => {
                let e = Invalid::new(
                    "missing_required_parameter",
                    "Missing required parameter: 'item'.",
                    Some("item"),
                );
                self.refuse(socket, &e, cid).await
            }
            Some(other) => {
                let e = Invalid::new(
                    "invalid_type",
                    format!(
                        "Invalid type for 'item': expected an object, but got {}.",
                        json_kind(other)
                    ),
                    Some("item"),
                );
                self.refuse(socket, &e, cid).await
            }
        }
    }

    fn needs_responses(&self, kind: &str) -> Option<Invalid> {
        let owner = self.started.as_ref()?.config.delegation;
        (owner != Delegation::Responses).then(|| {
            Invalid::new(
                "invalid_request",
                format!(
                    "{kind} requires Responses delegation; this session delegates to '{}'.",
                    owner.as_str()
                ),
                Some("type"),
            )
        })
    }

    /// Whether the turn limit is reached (the session then ends as expired).
    fn out_of_turns(&self) -> bool {
        self.limits.max_turns.is_some_and(|max| self.turns >= max)
    }

    /// Match a turn: the fixture to play, record mode's miss, or what answered it otherwise
    /// (an error event, chaos).
    async fn resolve(
        &self,
        socket: &mut Socket,
        mut turn: Turn,
        req: ChatRequest,
        cid: Option<&str>,
    ) -> Resolved {
        let size = req.text_chars();
        match turn.resolve(req, size) {
            Ok(f) => Resolved::Fixture(f, turn),
            Err(NoFixture::Miss(m)) if m.proxy && self.rec.is_some() => Resolved::Record(turn),
            Err(other) => Resolved::Answered(
                turn.answer_without_fixture(socket, other, |e| {
                    ErrorAnswer::Event(api_error_event(e, cid))
                })
                .await,
            ),
        }
    }

    /// The model speaks: one turn, matched with the conversation so far (`trigger` is what
    /// record mode forwards upstream when no fixture answers).
    async fn speak(&mut self, socket: &mut Socket, cid: Option<&str>, trigger: Trigger) -> bool {
        if self.out_of_turns() {
            return self.close(socket, "expired", cid).await;
        }
        let Some(started) = self.started.as_ref() else {
            return true;
        };
        let (format, owner) = (started.config.format, started.config.delegation);
        let req = ChatRequest {
            model: started.config.model.clone(),
            messages: self.history.clone(),
            tools: tool_names(started.config.responses()),
            response_format: None,
            endpoint: Endpoint::Live,
            embedding_input: None,
            stream: true,
        };
        self.turns += 1;
        let turn = self.session.turn();
        let (fixture, turn) = match self.resolve(socket, turn, req.clone(), cid).await {
            Resolved::Fixture(f, t) => (f, t),
            Resolved::Record(t) => return self.record(socket, t, &req, trigger, cid).await,
            Resolved::Answered(open) => return open,
        };
        let spoken = match Spoken::from_reply(&fixture.reply) {
            Some(s) => s,
            None => {
                let e =
                    crate::providers::endpoint::wrong_kind(&fixture, &fixture.reply, "GPT-Live");
                let sent = socket.send(api_error_event(&e, cid)).await;
                turn.finish(e.status);
                return sent;
            }
        };
        let settings = &self.session.core.settings;
        let chunk = fixture.stream.chunk_size.unwrap_or(settings.chunk_size);
        let rendered = spoken.render(format, chunk, self.now_ms(), owner, cid);
        let mut events = rendered.events;
        let mut usage = event("session.usage.updated", cid);
        usage.insert("usage".to_owned(), self.usage());
        events.push(Value::Object(usage).to_string());
        self.delegations
            .extend(rendered.calls.iter().map(|c| c.id.clone()));
        self.history.push(Message {
            role: Role::Assistant,
            text: (!spoken.text.is_empty()).then(|| spoken.text.clone()),
            tool_calls: rendered.calls,
            tool_call_id: None,
        });
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
        self.play(socket, turn, plan).await
    }

    /// `response.create` under Responses delegation: one turn answered with the Responses
    /// stream, each event nested in a `response.event`.
    async fn respond(&mut self, socket: &mut Socket, cmd: &Command) -> bool {
        let cid = cmd.client_event_id.as_deref();
        if let Some(e) = self.needs_responses("response.create") {
            return self.refuse(socket, &e, cid).await;
        }
        if self.out_of_turns() {
            return self.close(socket, "expired", cid).await;
        }
        let Some(started) = self.started.as_ref() else {
            return true;
        };
        let mut body = Map::new();
        if let Some(r) = started.config.responses() {
            for key in [
                "model",
                "instructions",
                "tools",
                "tool_choice",
                "parallel_tool_calls",
                "max_output_tokens",
                "reasoning",
                "text",
            ] {
                if let Some(v) = r.get(key).filter(|v| !v.is_null()) {
                    body.insert(key.to_owned(), v.clone());
                }
            }
        }
        body.insert("input".to_owned(), Value::Array(self.items.clone()));
        let raw = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
        let (mut req, opts) = match super::responses::parse(&raw, None) {
            Ok(p) => p,
            Err(e) => return socket.send(api_error_event(&e, cid)).await,
        };
        req.endpoint = Endpoint::Live;
        req.stream = true;
        self.turns += 1;
        let turn = self.session.turn();
        let (fixture, turn) = match self.resolve(socket, turn, req.clone(), cid).await {
            Resolved::Fixture(f, t) => (f, t),
            Resolved::Record(t) => {
                let original = Value::Object(cmd.body.clone()).to_string();
                return self
                    .record(socket, t, &req, Trigger::Respond(original), cid)
                    .await;
            }
            Resolved::Answered(open) => return open,
        };
        let reply = match crate::providers::endpoint::message_reply(
            &fixture,
            "GPT-Live's Responses delegation",
        ) {
            Ok(r) => r,
            Err(e) => {
                let sent = socket.send(api_error_event(&e, cid)).await;
                turn.finish(e.status);
                return sent;
            }
        };
        let settings = &self.session.core.settings;
        let chunk = fixture.stream.chunk_size.unwrap_or(settings.chunk_size);
        let nested = super::responses::stream_events(&req, &opts, reply, turn.ex.strict(), chunk);
        let (events, outputs) = wrap_responses(nested, cid);
        self.items.extend(outputs);
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
        self.play(socket, turn, plan).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_upgrade_headers() {
        let mut h = HeaderMap::new();
        let l = Limits::from_headers(&h);
        assert_eq!(
            l.max_duration,
            Duration::from_millis(DEFAULT_MAX_DURATION_MS)
        );
        assert_eq!((l.max_turns, l.silence_ms), (None, DEFAULT_SILENCE_MS));
        h.insert(
            "x-aimock-live-max-duration-ms",
            http::HeaderValue::from_static("1500"),
        );
        h.insert(
            "x-aimock-live-max-turns",
            http::HeaderValue::from_static("2"),
        );
        h.insert(
            "x-aimock-turn-silence-ms",
            http::HeaderValue::from_static(" 100 "),
        );
        let l = Limits::from_headers(&h);
        assert_eq!(l.max_duration, Duration::from_millis(1500));
        assert_eq!((l.max_turns, l.silence_ms), (Some(2), 100));
        // A huge limit is capped, so adding it to an instant cannot overflow.
        h.insert(
            "x-aimock-live-max-duration-ms",
            http::HeaderValue::from_static("18446744073709551615"),
        );
        let l = Limits::from_headers(&h);
        assert_eq!(
            l.max_duration,
            Duration::from_millis(7 * 24 * 60 * 60 * 1000)
        );
        assert!(Instant::now().checked_add(l.max_duration).is_some());
    }
}
