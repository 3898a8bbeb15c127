//! Gemini Live (`BidiGenerateContent` over WebSocket), as the `google-genai` SDK's
//! `client.aio.live.connect` speaks it, on the Gemini API's paths
//! (`/ws/google.ai.generativelanguage.{v1beta,v1alpha,v1}.GenerativeService.BidiGenerateContent`,
//! and `...BidiGenerateContentConstrained` for ephemeral tokens) and Vertex AI's
//! (`/ws/google.cloud.aiplatform.{v1,v1beta1}.LlmBidiService/BidiGenerateContent`).
//!
//! The session:
//! - The first message must be `setup` (model, `generationConfig.responseModalities`,
//!   `systemInstruction`, `tools[].functionDeclarations`, transcription, `sessionResumption`),
//!   answered with `setupComplete {sessionId}`. Anything else first is
//!   `{"error": {"code": 9, "message": "Setup required", "status": "FAILED_PRECONDITION"}}`, and
//!   the socket closes with 1008.
//! - `clientContent` turns and `toolResponse.functionResponses` join the socket's history;
//!   `turnComplete: true`, a tool response, `realtimeInput.text`, and audio ended by
//!   `audioStreamEnd` or `activityEnd` each start a turn: the whole history is matched (model,
//!   tools, system instruction; `toolCallId`, `hasToolResult`, `turnIndex` work as over HTTP),
//!   journaled as a `WS` request, chaos rolled once, and paced by the fixture's streaming
//!   physics. See [`render`] for the messages a turn sends.
//! - Audio input is accepted and answered when it ends. What it "said" is the text of the
//!   first fixture answering a `transcription` request (`{"match": {"endpoint":
//!   "transcription"}, "response": {"transcription": "..."}}`; looked up without a journal
//!   entry); that text is the user message matched, and the `inputTranscription` event when the
//!   session asked for one.
//! - Interruption: new content, `realtimeInput.text` or `activityStart` while the model speaks
//!   stops the turn with `serverContent.interrupted: true`; the interrupted answer is left out of
//!   the history, and the new input is then answered.
//! - Resumption: with `sessionResumption` in the setup, every completed turn sends
//!   `sessionResumptionUpdate {newHandle, resumable: true}` before its `turnComplete`; a
//!   connection whose setup names that handle continues that history (see [`resume`]).
//! - `goAway`: a fixture's `goAway: "2s"` sends `{"goAway": {"timeLeft": "2s"}}` after the turn
//!   and closes the socket (1000) when the time has passed.
//!
//! Errors. Bad JSON, a non-UTF-8 binary message, an unknown message or field name, or a value of
//! the wrong type: the API's `INVALID_ARGUMENT` (`{"error": {"code": 3, ...}}`), then the close
//! the real service uses for it (1007 with the message as reason). A turn's error (no fixture:
//! 404, an error fixture, chaos's drop or rate limit) closes the socket as the real service does
//! (1007 for a 400, 1008 for other 4xx, 1011 for 429 and 5xx) with the error's message as the
//! reason; the SDK raises it as an `APIError` with that code. (The SDK cannot read an error
//! message: it would fail on it.) Chaos's malformed sends a frame that is not JSON, and
//! disconnect cuts the connection. The client's JSON may come in text or binary frames; the
//! server's messages go out as text frames (the SDK reads both).
//!
//! Record mode: a turn no fixture answers goes to the upstream's Gemini Live (see [`relay`]),
//! whose messages are relayed and whose answer is saved as a fixture that replays here.

mod relay;
mod render;
mod resume;
mod wire;

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::generate::{conversation, GenerateBody};
use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::fixture::{MatchOutcome, Reply};
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::socket::{ws_method, ErrorAnswer, NoFixture, Session, SocketRoute};
use crate::pipeline::RequestCtx;
use crate::stream::socket::{Frame, Heard, Socket, TurnPlan};
use render::{Modes, Output};
use resume::Saved;
use wire::{ClientMsg, FunctionResponse, WireError};

/// The paths served: (path, whether it is Vertex AI's).
const PATHS: &[(&str, bool)] = &[
    (
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
        false,
    ),
    (
        "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent",
        false,
    ),
    (
        "/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent",
        false,
    ),
    (
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContentConstrained",
        false,
    ),
    (
        "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained",
        false,
    ),
    (
        "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent",
        true,
    ),
    (
        "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent",
        true,
    ),
];

/// The Gemini Live session on `path`, if it is one of [`PATHS`].
pub(crate) fn socket_route(path: &str) -> Option<SocketRoute> {
    let path = path.split('?').next().unwrap_or(path);
    let (label, vertex) = PATHS.iter().find(|(p, _)| *p == path)?;
    Some(SocketRoute {
        label: PathLabel::one(label),
        vendor: if *vertex {
            &super::VERTEX
        } else {
            &super::VENDOR
        },
        run,
    })
}

/// Runs a session.
fn run(session: Session, socket: Socket) -> BoxFuture<'static, ()> {
    Box::pin(serve(session, socket))
}

/// What `setup` fixed.
#[derive(Debug, Default)]
struct Conf {
    model: String,
    /// The system instruction, as messages.
    system: Vec<Message>,
    tools: Vec<String>,
    response_format: Option<String>,
    modes: Modes,
    input_transcription: bool,
    resumption: bool,
}

/// One socket's state.
#[derive(Debug, Default)]
struct Live {
    conf: Option<Conf>,
    saved: Saved,
    /// Bytes of audio heard since the last audio turn.
    audio_bytes: usize,
    /// Messages heard while a turn played, in order, read before the socket's.
    inbox: VecDeque<Frame>,
    /// When a `goAway` said the session ends.
    ends_at: Option<tokio::time::Instant>,
    /// Record mode's upstream session.
    relay: relay::Relay,
}

/// What started a turn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Text,
    Audio,
}

async fn serve(session: Session, mut socket: Socket) {
    let mut live = Live::default();
    converse(&session, &mut socket, &mut live).await;
    live.relay.close().await;
}

/// The session's messages, until it is over.
async fn converse(session: &Session, socket: &mut Socket, live: &mut Live) {
    loop {
        let frame = match live.inbox.pop_front() {
            Some(f) => f,
            None => match live.ends_at {
                None => match socket.recv().await {
                    Some(f) => f,
                    None => return,
                },
                Some(at) => {
                    let read = tokio::select! {
                        f = socket.recv() => Some(f),
                        _ = tokio::time::sleep_until(at) => None,
                    };
                    match read {
                        Some(Some(f)) => f,
                        Some(None) => return,
                        None => {
                            socket
                                .close_normal("goAway: the session's time is up")
                                .await;
                            return;
                        }
                    }
                }
            },
        };
        let size = match &frame {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        };
        let msg = match read_frame(&frame) {
            Ok(m) => m,
            Err(e) => return protocol_error(socket, &e).await,
        };
        // Record mode keeps the setup and context updates as sent, for the upstream.
        if relay::on(session) {
            match (&msg, live.conf.is_none()) {
                (ClientMsg::Setup(_), true) => live.relay.keep_setup(frame_text(&frame)),
                (ClientMsg::ContextUpdate { .. }, false) => {
                    live.relay.context_update(frame_text(&frame)).await;
                }
                _ => {}
            }
        }
        if !live.handle(session, socket, msg, size).await {
            return;
        }
    }
}

/// A frame's message: JSON in a text or a binary frame.
fn read_frame(frame: &Frame) -> Result<ClientMsg, WireError> {
    match frame {
        Frame::Text(t) => wire::parse(t),
        Frame::Binary(b) => match std::str::from_utf8(b) {
            Ok(t) => wire::parse(t),
            Err(_) => Err(WireError::invalid(
                "Invalid JSON payload received. The binary message is not UTF-8 JSON.",
            )),
        },
    }
}

/// A frame's text (a binary frame's when it is UTF-8, else nothing).
fn frame_text(frame: &Frame) -> &str {
    match frame {
        Frame::Text(t) => t,
        Frame::Binary(b) => std::str::from_utf8(b).unwrap_or_default(),
    }
}

/// A protocol error: the error message, then the close (1007 for `INVALID_ARGUMENT`, 1008 for
/// `FAILED_PRECONDITION`).
async fn protocol_error(socket: &mut Socket, e: &WireError) {
    if socket.send(e.json()).await {
        let code = if e.code == 9 {
            CloseCode::Policy
        } else {
            CloseCode::Invalid
        };
        socket.close_with(code, &e.message).await;
    }
}

/// The close code the real service ends a session with for an error of this status.
fn close_code(status: StatusCode) -> CloseCode {
    match status.as_u16() {
        400 | 413 => CloseCode::Invalid,
        429 => CloseCode::Error,
        401..=499 => CloseCode::Policy,
        _ => CloseCode::Error,
    }
}

/// A function response's payload as the tool message's text: a string as is, else its JSON.
fn response_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `goAway`'s `timeLeft` from a fixture's value (`"2s"`, `"0.5s"`, or seconds as a number).
fn go_away_secs(v: &Value) -> Option<f64> {
    let secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('s').parse::<f64>().ok(),
        Value::Bool(true) => Some(0.0),
        _ => None,
    }?;
    (secs.is_finite() && secs >= 0.0).then_some(secs.min(3600.0))
}

impl Live {
    /// Handle one message: false when the session is over.
    async fn handle(
        &mut self,
        session: &Session,
        socket: &mut Socket,
        msg: ClientMsg,
        size: usize,
    ) -> bool {
        let Some(conf) = self.conf.as_ref() else {
            let ClientMsg::Setup(setup) = msg else {
                protocol_error(socket, &WireError::precondition("Setup required")).await;
                return false;
            };
            return self.setup(socket, *setup).await;
        };
        match msg {
            ClientMsg::Setup(_) => {
                protocol_error(
                    socket,
                    &WireError::invalid("The session is already set up: setup is sent once."),
                )
                .await;
                false
            }
            ClientMsg::ClientContent {
                turns,
                turn_complete,
            } => {
                let body = GenerateBody {
                    contents: Some(turns),
                    ..Default::default()
                };
                match conversation(body, &conf.model, false) {
                    Ok((req, _)) => self.add(req.messages),
                    Err(e) => {
                        protocol_error(socket, &WireError::invalid(e.message.clone())).await;
                        return false;
                    }
                }
                if turn_complete {
                    self.turn(session, socket, Source::Text, size).await
                } else {
                    true
                }
            }
            ClientMsg::ToolResponse(responses) => {
                if responses.is_empty() {
                    return true;
                }
                for r in responses {
                    self.answer_call(r);
                }
                self.turn(session, socket, Source::Text, size).await
            }
            ClientMsg::RealtimeInput(r) => {
                self.audio_bytes += r.audio_bytes;
                if let Some(t) = r.text {
                    self.saved.history.push(Message::text(Role::User, t));
                    return self.turn(session, socket, Source::Text, size).await;
                }
                if (r.audio_stream_end || r.activity_end) && self.audio_bytes > 0 {
                    return self.turn(session, socket, Source::Audio, size).await;
                }
                true
            }
            ClientMsg::ContextUpdate { system, tools } => {
                let replace_tools = tools.is_some();
                let replace_system = system.is_some();
                let body = GenerateBody {
                    system_instruction: system,
                    tools,
                    ..Default::default()
                };
                if let (Ok((req, _)), Some(conf)) =
                    (conversation(body, "", false), self.conf.as_mut())
                {
                    if replace_system {
                        conf.system = req.messages;
                    }
                    if replace_tools {
                        conf.tools = req.tools;
                    }
                }
                true
            }
        }
    }

    /// `setup`: fix the session, resume a handle's history, answer `setupComplete`.
    async fn setup(&mut self, socket: &mut Socket, setup: wire::Setup) -> bool {
        let (req, _) = match conversation(setup.body, &setup.model, false) {
            Ok(r) => r,
            Err(e) => {
                protocol_error(socket, &WireError::invalid(e.message.clone())).await;
                return false;
            }
        };
        if let Some(Some(handle)) = &setup.resumption {
            match resume::load(handle) {
                Some(saved) => self.saved = saved,
                None => {
                    protocol_error(
                        socket,
                        &WireError::invalid(format!(
                            "Invalid session resumption handle: {handle} is unknown or has expired."
                        )),
                    )
                    .await;
                    return false;
                }
            }
        }
        self.conf = Some(Conf {
            model: req.model,
            system: req.messages,
            tools: req.tools,
            response_format: req.response_format,
            modes: Modes {
                audio_out: setup.audio_out,
                output_transcription: setup.output_transcription,
            },
            input_transcription: setup.input_transcription,
            resumption: setup.resumption.is_some(),
        });
        let id = crate::http::ids::random_id("", 32);
        socket
            .send(json!({"setupComplete": {"sessionId": id}}).to_string())
            .await
    }

    /// Append messages to the history; a function response in a client turn answers its call.
    fn add(&mut self, messages: Vec<Message>) {
        for m in messages {
            if let Some(id) = &m.tool_call_id {
                self.saved.pending.retain(|(_, p)| p != id);
            }
            self.saved.history.push(m);
        }
    }

    /// A function response: it answers the call with its id, or the first pending call of its
    /// name.
    fn answer_call(&mut self, r: FunctionResponse) {
        let pending = &mut self.saved.pending;
        let id = match r.id {
            Some(id) => {
                pending.retain(|(_, p)| *p != id);
                id
            }
            None => match pending.iter().position(|(n, _)| *n == r.name) {
                Some(i) => pending.remove(i).1,
                None => format!("call_gemini_{}_{}", r.name, self.saved.calls),
            },
        };
        self.saved
            .history
            .push(Message::tool_result(id, response_text(&r.response)));
    }

    /// The session's state once the model answered `out`: the answer joins the history, its
    /// calls wait for their responses.
    fn after(&self, out: &Output) -> Saved {
        let mut after = self.saved.clone();
        after.history.push(assistant_message(out));
        after
            .pending
            .extend(out.calls().map(|c| (c.name.clone(), c.id.clone())));
        after.calls += out.calls().count();
        after
    }

    /// The request a turn matches.
    fn request(&self, conf: &Conf, endpoint: Endpoint) -> ChatRequest {
        let mut messages = conf.system.clone();
        messages.extend(self.saved.history.iter().cloned());
        ChatRequest {
            model: conf.model.clone(),
            messages,
            tools: conf.tools.clone(),
            response_format: conf.response_format.clone(),
            endpoint,
            embedding_input: None,
            stream: true,
        }
    }

    /// What the user's audio said: the text of the fixture answering a `transcription` request
    /// on the conversation so far (a one-shot error queued meanwhile stays queued).
    fn transcript(&self, session: &Session, conf: &Conf) -> Option<String> {
        let req = self.request(conf, Endpoint::Transcription);
        let ctx = RequestCtx::new(
            &session.core.settings,
            ws_method(),
            session.raw_path.clone(),
            session.query.as_deref(),
            session.headers.clone(),
        );
        let core = &session.core;
        match core.fixtures.resolve(&req, &ctx.match_context(core)) {
            MatchOutcome::Matched { slot, .. } => match &slot.fixture.reply {
                Reply::Other {
                    kind: "transcription",
                    value,
                } => match value.get("transcription") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(v) => v.get("text").and_then(Value::as_str).map(str::to_owned),
                    None => None,
                },
                _ => None,
            },
            MatchOutcome::OneShot(e) => {
                core.fixtures.requeue_error(e);
                None
            }
            _ => None,
        }
    }

    /// One model turn: match, chaos, render, play. False when the session is over.
    async fn turn(
        &mut self,
        session: &Session,
        socket: &mut Socket,
        source: Source,
        size: usize,
    ) -> bool {
        let Some(conf) = self.conf.as_ref() else {
            return false;
        };
        let mut heard_text = None;
        if source == Source::Audio {
            self.audio_bytes = 0;
            heard_text = self.transcript(session, conf);
            self.saved.history.push(Message {
                role: Role::User,
                text: heard_text.clone(),
                tool_calls: Vec::new(),
                tool_call_id: None,
            });
        }
        let req = self.request(conf, Endpoint::Realtime);
        let prompt_chars = crate::providers::message_chars(&req);
        let mut turn = session.turn();
        // Record mode records the request the turn matched.
        let kept = relay::on(session).then(|| req.clone());
        let fixture = match (turn.resolve(req, size), kept) {
            (Ok(f), _) => f,
            (Err(NoFixture::Miss(m)), Some(req)) if m.proxy => {
                let transcript = heard_text.filter(|_| conf.input_transcription);
                return self
                    .record(session, socket, turn, &req, transcript.as_deref())
                    .await;
            }
            // The SDK cannot read an error message mid-session: an error closes the socket.
            (Err(other), _) => {
                return turn
                    .answer_without_fixture(socket, other, |e| {
                        ErrorAnswer::Close(close_code(e.status), e.message.clone())
                    })
                    .await
            }
        };
        let out = match render::output(&fixture.reply, self.saved.calls) {
            Ok(o) => o,
            Err(why) => {
                let e = ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    format!("Fixture {}: {why}", fixture.describe()),
                );
                socket.close_with(close_code(e.status), &e.message).await;
                turn.finish(e.status);
                return false;
            }
        };
        let settings = &session.core.settings;
        let chunk = fixture.stream.chunk_size.unwrap_or(settings.chunk_size);
        let rendered = render::render(
            &out,
            conf.modes,
            heard_text.as_deref().filter(|_| conf.input_transcription),
            chunk,
            prompt_chars,
        );
        // The state after this turn, should it complete.
        let after = self.after(&out);
        let mut events = rendered.body;
        events.push(rendered.generation_complete);
        if conf.resumption {
            let handle = resume::save(after.clone());
            events.push(
                json!({"sessionResumptionUpdate": {"newHandle": handle, "resumable": true}})
                    .to_string(),
            );
        }
        events.push(rendered.turn_complete);
        let go_away = fixture
            .entry
            .response
            .go_away
            .as_ref()
            .and_then(go_away_secs);
        if let Some(secs) = go_away {
            events.push(json!({"goAway": {"timeLeft": format!("{secs}s")}}).to_string());
        }
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
        let inbox = &mut self.inbox;
        let end = turn
            .play(socket, plan, |frame| {
                let interrupts = read_frame(frame).is_ok_and(|m| m.interrupts());
                inbox.push_back(frame.clone());
                if interrupts {
                    Heard::Stop(vec![
                        json!({"serverContent": {"interrupted": true}}).to_string()
                    ])
                } else {
                    Heard::Answered(Vec::new())
                }
            })
            .await;
        match end {
            crate::stream::socket::TurnEnd::Complete => {
                self.saved = after;
                if let Some(secs) = go_away {
                    let at = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
                    self.ends_at = Some(self.ends_at.map_or(at, |e| e.min(at)));
                }
                true
            }
            crate::stream::socket::TurnEnd::Stopped(_) => true,
            _ => false,
        }
    }
}

/// The model's turn as the history keeps it.
fn assistant_message(out: &Output) -> Message {
    Message {
        role: Role::Assistant,
        text: out.text(),
        tool_calls: out
            .calls()
            .map(|c| ToolCallRef {
                id: c.id.clone(),
                name: c.name.clone(),
                arguments: c.args.to_string(),
            })
            .collect(),
        tool_call_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_live_path_routes_and_others_do_not() {
        for (p, vertex) in PATHS {
            let r = socket_route(p).unwrap();
            assert_eq!(r.vendor.key, if *vertex { "vertexai" } else { "gemini" });
        }
        let r = socket_route(
            "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=k",
        );
        assert!(r.is_some());
        for p in [
            "/ws/google.ai.generativelanguage.v2.GenerativeService.BidiGenerateContent",
            "/v1/responses",
            "/ws/google.cloud.aiplatform.v1.LlmBidiService/Other",
        ] {
            assert!(socket_route(p).is_none(), "{p}");
        }
    }

    #[test]
    fn errors_close_with_the_real_services_codes() {
        assert_eq!(close_code(StatusCode::BAD_REQUEST), CloseCode::Invalid);
        assert_eq!(close_code(StatusCode::NOT_FOUND), CloseCode::Policy);
        assert_eq!(close_code(StatusCode::TOO_MANY_REQUESTS), CloseCode::Error);
        assert_eq!(
            close_code(StatusCode::SERVICE_UNAVAILABLE),
            CloseCode::Error
        );
    }

    #[test]
    fn go_away_takes_seconds_as_text_or_number() {
        assert_eq!(go_away_secs(&json!("2s")), Some(2.0));
        assert_eq!(go_away_secs(&json!(0.5)), Some(0.5));
        assert_eq!(go_away_secs(&json!("soon")), None);
        assert_eq!(go_away_secs(&json!(-1)), None);
    }

    #[test]
    fn a_function_response_without_id_answers_the_first_pending_call_of_its_name() {
        let mut live = Live::default();
        live.saved.pending = vec![
            ("a".to_owned(), "id1".to_owned()),
            ("b".to_owned(), "id2".to_owned()),
        ];
        live.answer_call(FunctionResponse {
            id: None,
            name: "b".to_owned(),
            response: json!({"ok": true}),
        });
        let last = live.saved.history.last().unwrap();
        assert_eq!(last.tool_call_id.as_deref(), Some("id2"));
        assert_eq!(last.text.as_deref(), Some(r#"{"ok":true}"#));
        assert_eq!(live.saved.pending.len(), 1);
    }
}
