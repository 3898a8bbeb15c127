//! The OpenAI Realtime API over WebSocket (`GET /v1/realtime?model=...` with
//! `Upgrade: websocket`; also `/openai/v1/realtime` and Azure's `/openai/realtime?deployment=`),
//! GA protocol, as the `openai` SDKs' `client.realtime.connect()` speak it.
//!
//! On connect the server sends `session.created`; then each client event is answered as the API
//! answers it: `session.update` (checked, rolled back on an error), conversation items, the input
//! audio buffer, `response.create` and `response.cancel`. A response and a transcription are
//! turns: matched against the fixtures with the socket's conversation as the history (endpoint
//! `realtime`, or `realtime-transcription` for transcriptions), journaled as `WS`, rolled for
//! chaos once, and paced by the fixture. A bad client event gets the API's `error` event and the
//! socket stays open.
//!
//! The Beta protocol (`OpenAI-Beta: realtime=v1` on the upgrade) gets what the real API now
//! sends: an `error` event with code `beta_api_shape_disabled`, then close code 4000.

pub(crate) mod audio;
pub(crate) mod collapse;
mod items;
mod relay;
mod response;
mod session;
mod transcription;

use std::collections::VecDeque;

use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use self::audio::{Format, InputBuffer};
use self::items::Conversation;
use self::response::{event, ItemAt, Rendered, Settings};
use self::session::{Config, Kind};
use crate::conversation::Endpoint;
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::pipeline::socket::{ErrorAnswer, NoFixture, Session};
use crate::record::proxy::Host;
use crate::stream::socket::{Frame, Heard, Socket, TurnEnd, TurnPlan};

/// Adds the parameter at fault to an error.
pub(super) trait WithParam {
    fn with_param(self, param: &str) -> ApiError;
}

impl WithParam for ApiError {
    fn with_param(mut self, param: &str) -> ApiError {
        self.param = Some(Value::String(param.to_owned()));
        self
    }
}

/// The client events a session takes.
const CLIENT_EVENTS: &[&str] = &[
    "session.update",
    "transcription_session.update",
    "conversation.item.create",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "output_audio_buffer.clear",
    "response.create",
    "response.cancel",
];

/// What the real API says to the Beta protocol.
const BETA_MESSAGE: &str =
    "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.";

/// Runs a session.
pub(crate) fn run(session: Session, socket: Socket) -> BoxFuture<'static, ()> {
    Box::pin(serve(session, socket))
}

/// The API's `error` event: `{"type": "error", "event_id", "error": {type, code, message, param,
/// event_id}}`, the last naming the client event at fault.
fn error_event(e: &ApiError, client_event: Option<&str>) -> String {
    let mut body = Map::new();
    body.insert(
        "error".into(),
        json!({
            "type": e.kind,
            "code": e.code,
            "message": e.message,
            "param": e.param,
            "event_id": client_event,
        }),
    );
    event("error", body)
}

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn wants_beta(session: &Session) -> bool {
    session
        .headers
        .get_all("openai-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("realtime=v1"))
}

async fn serve(session: Session, mut socket: Socket) {
    if wants_beta(&session) {
        let e = ApiError::invalid(BETA_MESSAGE).with_code("beta_api_shape_disabled");
        if socket.send(error_event(&e, None)).await {
            socket
                .close(
                    CloseCode::from(4000),
                    "invalid_request_error.beta_api_shape_disabled",
                )
                .await;
        }
        return;
    }
    let mut state = State::new(&session);
    let created = event(
        "session.created",
        body(json!({"session": state.config.to_json()})),
    );
    if !socket.send(created).await {
        return;
    }
    loop {
        // Messages heard while a recorded turn ran come first.
        let frame = match state.later.pop_front() {
            Some(f) => f,
            None => match socket.recv().await {
                Some(f) => f,
                None => break,
            },
        };
        let open = match frame {
            Frame::Binary(_) => {
                let e = ApiError::invalid(
                    "Binary messages are not supported: send each client event as a JSON text message.",
                )
                .with_code("invalid_message");
                socket.send(error_event(&e, None)).await
            }
            Frame::Text(text) => state.handle(&session, &mut socket, &text).await,
        };
        if !open {
            break;
        }
    }
    state.forget().await;
}

/// A session's state between client events.
struct State {
    config: Config,
    conversation: Conversation,
    buffer: InputBuffer,
    conversation_id: String,
    /// Record mode's upstream socket, opened at the first response no fixture answers.
    relay: Option<relay::Relay>,
    /// Client events heard while a recorded turn ran, for after it.
    later: VecDeque<Frame>,
}

impl State {
    fn new(session: &Session) -> State {
        let now = crate::http::time::unix_now();
        let id = random_id("sess_", 24);
        let model = session
            .query_param("model")
            .or_else(|| session.query_param("deployment"))
            .filter(|m| !m.is_empty());
        let config = if session.query_param("intent").as_deref() == Some("transcription") {
            let model = model
                .filter(|m| session::TRANSCRIPTION_MODELS.contains(&m.as_str()))
                .unwrap_or_else(|| session::DEFAULT_TRANSCRIPTION_MODEL.to_owned());
            Config::transcription(id, &model, now)
        } else {
            Config::realtime(id, model.as_deref().unwrap_or(session::DEFAULT_MODEL), now)
        };
        State {
            config,
            conversation: Conversation::default(),
            buffer: InputBuffer::default(),
            conversation_id: random_id("conv_", 24),
            relay: None,
            later: VecDeque::new(),
        }
    }

    /// One client event; false once the connection is gone.
    async fn handle(&mut self, session: &Session, socket: &mut Socket, text: &str) -> bool {
        let ev = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                let e = ApiError::invalid("Invalid event: expected a JSON object.")
                    .with_code("invalid_event");
                return socket.send(error_event(&e, None)).await;
            }
            Err(err) => {
                let e = ApiError::invalid(format!(
                    "Invalid JSON: {err}. Each client event is one JSON object."
                ))
                .with_code("invalid_json");
                return socket.send(error_event(&e, None)).await;
            }
        };
        let client_id = ev
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let cid = client_id.as_deref();
        let kind = match ev.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(_) => {
                let e = ApiError::invalid("Invalid type for 'type': expected a string.")
                    .with_code("invalid_type")
                    .with_param("type");
                return socket.send(error_event(&e, cid)).await;
            }
            None => {
                let e = ApiError::invalid("Missing required parameter: 'type'.")
                    .with_code("missing_required_parameter")
                    .with_param("type");
                return socket.send(error_event(&e, cid)).await;
            }
        };
        let out: Result<Vec<String>, ApiError> = match kind {
            "session.update" => self.update(&ev, None),
            "transcription_session.update" => self.update(&ev, Some(Kind::Transcription)),
            "conversation.item.create" => self.create_item(&ev),
            "conversation.item.delete" => self.delete_item(&ev),
            "conversation.item.retrieve" => self.retrieve_item(&ev),
            "conversation.item.truncate" => self.truncate_item(&ev),
            "input_audio_buffer.append" => self.buffer.append(ev.get("audio")).map(|()| Vec::new()),
            "input_audio_buffer.clear" => {
                self.buffer.bytes = 0;
                Ok(vec![event("input_audio_buffer.cleared", Map::new())])
            }
            "input_audio_buffer.commit" => {
                return self.commit(session, socket, cid).await;
            }
            // WebRTC and SIP only; nothing to clear on a WebSocket.
            "output_audio_buffer.clear" => Ok(Vec::new()),
            "response.create" => {
                return self.respond(session, socket, &ev, text, cid).await;
            }
            "response.cancel" => Err(no_active_response()),
            other => Err(ApiError::invalid(format!(
                "Invalid value: '{other}'. Supported values are: {}.",
                CLIENT_EVENTS
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_code("invalid_value")
            .with_param("type")),
        };
        match out {
            Ok(events) if events.is_empty() => true,
            Ok(events) => socket.send_all(events).await,
            Err(e) => socket.send(error_event(&e, cid)).await,
        }
    }

    fn update(
        &mut self,
        ev: &Map<String, Value>,
        forced: Option<Kind>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(update) = ev.get("session") else {
            return Err(ApiError::invalid("Missing required parameter: 'session'.")
                .with_code("missing_required_parameter")
                .with_param("session"));
        };
        self.config.update(update, forced)?;
        Ok(vec![event(
            "session.updated",
            body(json!({"session": self.config.to_json()})),
        )])
    }

    fn create_item(&mut self, ev: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
        let Some(item) = ev.get("item") else {
            return Err(ApiError::invalid("Missing required parameter: 'item'.")
                .with_code("missing_required_parameter")
                .with_param("item"));
        };
        let item = items::client_item(item)?;
        let previous = match ev.get("previous_item_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.as_str()),
            Some(_) => {
                return Err(ApiError::invalid(
                    "Invalid type for 'previous_item_id': expected a string.",
                )
                .with_code("invalid_type")
                .with_param("previous_item_id"))
            }
        };
        let before = self.conversation.insert(item.clone(), previous)?;
        let at = ItemAt {
            previous_item_id: before.as_deref(),
            item: &item,
        };
        Ok(vec![
            event("conversation.item.added", &at),
            event("conversation.item.done", &at),
        ])
    }

    fn item_param(ev: &Map<String, Value>) -> Result<&str, ApiError> {
        ev.get("item_id").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid("Missing required parameter: 'item_id'.")
                .with_code("missing_required_parameter")
                .with_param("item_id")
        })
    }

    fn not_found(id: &str) -> ApiError {
        ApiError::invalid(format!(
            "Item with item_id '{id}' not found in the conversation."
        ))
        .with_code("item_not_found")
        .with_param("item_id")
    }

    fn delete_item(&mut self, ev: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
        let id = Self::item_param(ev)?;
        if !self.conversation.delete(id) {
            return Err(Self::not_found(id));
        }
        Ok(vec![event(
            "conversation.item.deleted",
            body(json!({"item_id": id})),
        )])
    }

    fn retrieve_item(&mut self, ev: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
        let id = Self::item_param(ev)?;
        let item = self
            .conversation
            .get(id)
            .ok_or_else(|| Self::not_found(id))?;
        Ok(vec![event(
            "conversation.item.retrieved",
            body(json!({"item": item})),
        )])
    }

    fn truncate_item(&mut self, ev: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
        let id = Self::item_param(ev)?;
        let item = self
            .conversation
            .get(id)
            .ok_or_else(|| Self::not_found(id))?;
        if item.get("role").and_then(Value::as_str) != Some("assistant") {
            return Err(
                ApiError::invalid("Only assistant message items can be truncated.")
                    .with_code("invalid_value")
                    .with_param("item_id"),
            );
        }
        let content_index = ev.get("content_index").and_then(Value::as_u64).unwrap_or(0);
        let audio_end_ms = ev
            .get("audio_end_ms")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                ApiError::invalid("Missing required parameter: 'audio_end_ms'.")
                    .with_code("missing_required_parameter")
                    .with_param("audio_end_ms")
            })?;
        Ok(vec![event(
            "conversation.item.truncated",
            body(
                json!({"item_id": id, "content_index": content_index, "audio_end_ms": audio_end_ms}),
            ),
        )])
    }

    /// `input_audio_buffer.commit`: the buffer becomes a user `input_audio` item, transcribed
    /// when the session transcribes.
    async fn commit(&mut self, session: &Session, socket: &mut Socket, cid: Option<&str>) -> bool {
        let format = Format::of(&self.config.input_format());
        let ms = match self.buffer.commit(format) {
            Ok(ms) => ms,
            Err(e) => return socket.send(error_event(&e, cid)).await,
        };
        let id = items::item_id();
        let item = items::audio_item(&id);
        let before = match self.conversation.insert(item.clone(), None) {
            Ok(b) => b,
            Err(e) => return socket.send(error_event(&e, cid)).await,
        };
        let at = ItemAt {
            previous_item_id: before.as_deref(),
            item: &item,
        };
        let sent = socket
            .send_all(vec![
                event(
                    "input_audio_buffer.committed",
                    body(json!({"previous_item_id": before, "item_id": id})),
                ),
                event("conversation.item.added", &at),
                event("conversation.item.done", &at),
            ])
            .await;
        if !sent {
            return false;
        }
        match self.config.transcription_model().map(str::to_owned) {
            Some(model) => self.transcribe(session, socket, &id, &model, ms).await,
            None => true,
        }
    }

    /// A transcription turn for the committed item `id`.
    async fn transcribe(
        &mut self,
        session: &Session,
        socket: &mut Socket,
        id: &str,
        model: &str,
        ms: f64,
    ) -> bool {
        let req = items::request(
            model,
            "",
            self.conversation.history(),
            &[],
            Endpoint::RealtimeTranscription,
        );
        let mut turn = session.turn();
        let fixture = match turn.resolve(req, 0) {
            Ok(f) => f,
            Err(other) => {
                return turn
                    .answer_without_fixture(socket, other, |e| {
                        ErrorAnswer::Event(transcription::failed(id, e))
                    })
                    .await
            }
        };
        let (text, usage) = match transcription::transcript(&fixture) {
            Ok(t) => t,
            Err(e) => {
                let sent = socket.send(transcription::failed(id, &e)).await;
                turn.finish(e.status);
                return sent;
            }
        };
        let settings = &session.core.settings;
        let chunk = fixture.stream.chunk_size.unwrap_or(settings.chunk_size);
        let usage = transcription::usage(model, &text, ms, usage);
        let plan = TurnPlan {
            events: transcription::events(id, model, &text, chunk, usage),
            pacing: fixture
                .stream
                .pacing(settings.latency, settings.replay_speed),
            truncate_after: fixture.stream.truncate_after_chunks,
            disconnect_after: fixture
                .stream
                .disconnect_after_ms
                .map(crate::stream::duration_ms),
        };
        let end = turn.play(socket, plan, |_| Heard::Later).await;
        if let Some(item) = self.conversation.get_mut(id) {
            item["content"][0]["transcript"] = json!(text);
        }
        end.open()
    }

    /// `response.create`: one response turn.
    async fn respond(
        &mut self,
        session: &Session,
        socket: &mut Socket,
        ev: &Map<String, Value>,
        text: &str,
        cid: Option<&str>,
    ) -> bool {
        let plan = match self.plan(ev) {
            Ok(p) => p,
            Err(e) => return socket.send(error_event(&e, cid)).await,
        };
        let own;
        let history = match &plan.context {
            Some(items) => {
                own = items::messages(items);
                &own
            }
            None => self.conversation.history(),
        };
        let req = items::request(
            self.config.model(),
            &plan.instructions,
            history,
            &plan.tools,
            Endpoint::Realtime,
        );
        let input_chars = req.text_chars();
        let mut turn = session.turn();
        // Record mode keeps the request for the recording's key.
        let kept = session.core.recorder().is_some().then(|| req.clone());
        let fixture = match turn.resolve(req, text.len()) {
            Ok(f) => f,
            Err(NoFixture::Miss(m)) if m.proxy && kept.is_some() => {
                let Some(req) = kept else {
                    return false;
                };
                return self
                    .record(session, socket, turn, &req, text, plan.in_conversation, cid)
                    .await;
            }
            Err(other) => {
                return turn
                    .answer_without_fixture(socket, other, |e| {
                        ErrorAnswer::Event(error_event(e, cid))
                    })
                    .await
            }
        };
        let spoken = match response::spoken(&fixture) {
            Ok(s) => s,
            Err(e) => {
                let sent = socket.send(error_event(&e, cid)).await;
                turn.finish(e.status);
                return sent;
            }
        };
        let settings = &session.core.settings;
        let mut rendered: Rendered = response::render(
            spoken,
            Settings {
                id: random_id("resp_", 24),
                conversation_id: plan.in_conversation.then(|| self.conversation_id.clone()),
                modalities: plan.modalities,
                format: plan.format,
                voice: plan.voice,
                metadata: plan.metadata,
                max_output_tokens: plan.max_output_tokens,
                previous_item_id: self.conversation.last_id(),
                in_conversation: plan.in_conversation,
                chunk: fixture.stream.chunk_size.unwrap_or(settings.chunk_size),
                input_chars,
            },
        );
        let turn_plan = TurnPlan {
            events: std::mem::take(&mut rendered.events),
            pacing: fixture
                .stream
                .pacing(settings.latency, settings.replay_speed),
            truncate_after: fixture.stream.truncate_after_chunks,
            disconnect_after: fixture
                .stream
                .disconnect_after_ms
                .map(crate::stream::duration_ms),
        };
        let end = turn.play(socket, turn_plan, during_response).await;
        let (output, open) = match end {
            TurnEnd::Complete => (rendered.output(None), true),
            TurnEnd::Stopped(n) => {
                let open = socket.send(rendered.done_event(Some(n))).await;
                (rendered.output(Some(n)), open)
            }
            TurnEnd::Cut(_) | TurnEnd::ClientGone => return false,
        };
        if plan.in_conversation {
            for item in output {
                // An id the conversation has already cannot come back from a render.
                let _ = self.conversation.insert(item, None);
            }
        }
        open
    }

    /// A `response.create`'s overrides over the session's configuration, checked.
    fn plan(&self, ev: &Map<String, Value>) -> Result<ResponsePlan, ApiError> {
        if self.config.kind == Kind::Transcription {
            return Err(ApiError::invalid(
                "Responses are not supported in a transcription session.",
            )
            .with_code("invalid_request")
            .with_param("type"));
        }
        let empty = Map::new();
        let r = match ev.get("response") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(r)) => r,
            Some(_) => {
                return Err(
                    ApiError::invalid("Invalid type for 'response': expected an object.")
                        .with_code("invalid_type")
                        .with_param("response"),
                )
            }
        };
        let instructions = match r.get("instructions") {
            None | Some(Value::Null) => self.config.instructions().to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(ApiError::invalid(
                    "Invalid type for 'response.instructions': expected a string.",
                )
                .with_code("invalid_type")
                .with_param("response.instructions"))
            }
        };
        let tools = match r.get("tools") {
            None | Some(Value::Null) => self.config.tools().to_vec(),
            Some(t) => {
                session::check_tools(t, "response.tools")?;
                t.as_array().cloned().unwrap_or_default()
            }
        };
        if let Some(tc) = r.get("tool_choice").filter(|v| !v.is_null()) {
            session::check_tool_choice(tc, "response.tool_choice")?;
        }
        let modalities = match r.get("output_modalities") {
            None | Some(Value::Null) => self.config.modalities(),
            Some(m) => {
                session::check_modalities(m, "response.output_modalities")?;
                m.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            }
        };
        let max_output_tokens = match r.get("max_output_tokens") {
            None | Some(Value::Null) => self
                .config
                .fields
                .get("max_output_tokens")
                .cloned()
                .unwrap_or_else(|| json!("inf")),
            Some(m) => {
                session::check_max_tokens(m, "response.max_output_tokens")?;
                m.clone()
            }
        };
        let (mut format, mut voice) = (self.config.output_format(), self.config.voice());
        if let Some(out) = r.get("audio").and_then(|a| a.get("output")) {
            session::check_output(out)?;
            if let Some(f) = out.get("format").filter(|f| !f.is_null()) {
                format = f.clone();
            }
            if let Some(v) = out.get("voice").filter(|v| !v.is_null()) {
                voice = v.clone();
            }
        }
        let in_conversation = match r.get("conversation") {
            None | Some(Value::Null) => true,
            Some(Value::String(c)) if c == "auto" => true,
            Some(Value::String(c)) if c == "none" => false,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "Invalid value: {other}. Supported values are: 'auto' and 'none'."
                ))
                .with_code("invalid_value")
                .with_param("response.conversation"))
            }
        };
        let context = match r.get("input") {
            None | Some(Value::Null) => None,
            Some(Value::Array(input)) => {
                let mut out = Vec::with_capacity(input.len());
                for (i, v) in input.iter().enumerate() {
                    if v.get("type").and_then(Value::as_str) == Some("item_reference") {
                        let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
                        let item = self.conversation.get(id).ok_or_else(|| {
                            ApiError::invalid(format!(
                                "Item with item_id '{id}' not found in the conversation."
                            ))
                            .with_code("item_not_found")
                            .with_param(&format!("response.input[{i}].id"))
                        })?;
                        out.push(item.clone());
                    } else {
                        out.push(items::client_item(v).map_err(|mut e| {
                            if let Some(Value::String(p)) = &e.param {
                                e.param = Some(Value::String(p.replacen(
                                    "item",
                                    &format!("response.input[{i}]"),
                                    1,
                                )));
                            }
                            e
                        })?);
                    }
                }
                Some(out)
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "Invalid type for 'response.input': expected an array.",
                )
                .with_code("invalid_type")
                .with_param("response.input"))
            }
        };
        Ok(ResponsePlan {
            instructions,
            tools,
            modalities,
            format,
            voice,
            metadata: r.get("metadata").cloned().unwrap_or(Value::Null),
            max_output_tokens,
            in_conversation,
            context,
        })
    }
}

/// What a `response.create` asks for, the session's configuration filling in.
struct ResponsePlan {
    instructions: String,
    tools: Vec<Value>,
    modalities: Vec<String>,
    format: Value,
    voice: Value,
    metadata: Value,
    max_output_tokens: Value,
    in_conversation: bool,
    /// The response's own `input`, instead of the conversation.
    context: Option<Vec<Value>>,
}

fn no_active_response() -> ApiError {
    ApiError::invalid("Cancellation failed: no active response found")
        .with_code("response_cancel_not_active")
}

/// A client event that arrives while a response streams: `response.cancel` stops it (its
/// `response.done` follows, cancelled), another `response.create` is refused at once, anything
/// else waits for the response to end.
fn during_response(frame: &Frame) -> Heard {
    let Frame::Text(text) = frame else {
        return Heard::Later;
    };
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Heard::Later;
    };
    match v.get("type").and_then(Value::as_str) {
        Some("response.cancel") => Heard::Stop(Vec::new()),
        Some("response.create") => {
            let e = ApiError::invalid(
                "Conversation already has an active response in progress. Wait until the response is finished before creating a new one.",
            )
            .with_code("conversation_already_has_active_response");
            Heard::Answered(vec![error_event(
                &e,
                v.get("event_id").and_then(Value::as_str),
            )])
        }
        _ => Heard::Later,
    }
}
