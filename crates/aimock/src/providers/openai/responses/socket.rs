//! The Responses API over WebSocket (`GET /v1/responses` with `Upgrade: websocket`): each
//! `response.create` message (the HTTP body's fields, flat, beside `"type"`) is matched and
//! answered with the same events as the HTTP stream, one JSON text frame each, from
//! `response.created` to `response.completed`.
//!
//! Beyond aimock, the socket keeps its recent responses, as the real API's connection-local
//! cache does: a `response.create` that names one of them in `previous_response_id` continues
//! that conversation, so it is matched with the earlier turns (and `toolCallId`/`hasToolResult`
//! fixtures work). Any other message type gets the API's `error` event; the socket stays open.

use std::collections::VecDeque;

use futures_util::future::BoxFuture;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::render::RenderedResponse;
use super::{parse, Responses};
use crate::conversation::{ChatRequest, Message};
use crate::http::ApiError;
use crate::pipeline::socket::{ErrorAnswer, NoFixture, Session, Turn};
use crate::providers::endpoint::{message_reply, MessageApi};
use crate::record::socket::{failed, unavailable, Upstream};
use crate::stream::socket::{Frame, Heard, Socket, TurnPlan};

/// How many earlier responses a socket keeps for `previous_response_id`.
const KEPT: usize = 16;

/// Runs a session.
pub(crate) fn run(session: Session, socket: Socket) -> BoxFuture<'static, ()> {
    Box::pin(serve(session, socket))
}

/// A response the socket keeps: its id and the whole conversation up to and including it.
struct Kept {
    id: String,
    messages: Vec<Message>,
}

async fn serve(session: Session, mut socket: Socket) {
    let mut kept: VecDeque<Kept> = VecDeque::new();
    // Record mode's upstream socket, opened at the first turn no fixture answers.
    let mut upstream: Option<Upstream> = None;
    while let Some(frame) = socket.recv().await {
        let text = match frame {
            Frame::Text(t) => t,
            Frame::Binary(_) => {
                let e = ApiError::invalid(
                    "Binary messages are not supported: send each event as a JSON text message.",
                )
                .with_code("invalid_message");
                if !socket.send(error_event(&e, None)).await {
                    return;
                }
                continue;
            }
        };
        let mut body = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                let e = ApiError::invalid("Each message must be a JSON object.")
                    .with_code("invalid_message");
                if !socket.send(error_event(&e, None)).await {
                    return;
                }
                continue;
            }
            Err(err) => {
                let e = ApiError::malformed_json(&err);
                if !socket.send(error_event(&e, None)).await {
                    return;
                }
                continue;
            }
        };
        let stream_id = body.remove("stream_id");
        match body.remove("type") {
            Some(Value::String(t)) if t == "response.create" => {}
            other => {
                let got = match &other {
                    Some(Value::String(t)) => format!("\"{t}\""),
                    Some(v) => v.to_string(),
                    None => "none".to_owned(),
                };
                let mut e = ApiError::invalid(format!(
                    "Expected message type \"response.create\", got {got}."
                ))
                .with_code("invalid_message_type");
                e.param = Some(Value::String("type".to_owned()));
                if !socket.send(error_event(&e, stream_id.as_ref())).await {
                    return;
                }
                continue;
            }
        }
        // The socket always streams: the body's own `stream` is ignored, as the real API does.
        body.remove("stream");
        let mut state = State {
            kept: &mut kept,
            upstream: &mut upstream,
        };
        if !create(
            &session,
            &mut socket,
            body,
            &text,
            stream_id.as_ref(),
            &mut state,
        )
        .await
        {
            break;
        }
    }
    if let Some(u) = upstream {
        u.close().await;
    }
}

/// What a session keeps between turns.
struct State<'a> {
    kept: &'a mut VecDeque<Kept>,
    upstream: &'a mut Option<Upstream>,
}

/// One `response.create`: false when the connection is gone.
async fn create(
    session: &Session,
    socket: &mut Socket,
    body: Map<String, Value>,
    original: &str,
    stream_id: Option<&Value>,
    state: &mut State<'_>,
) -> bool {
    let kept = &mut *state.kept;
    let raw = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut turn = session.turn();
    let (mut req, opts) = match parse(&raw, None) {
        Ok(p) => p,
        Err(e) => {
            let sent = socket.send(error_event(&e, stream_id)).await;
            turn.finish(e.status);
            return sent;
        }
    };
    req.stream = true;
    // A response this socket answered earlier: its conversation goes first.
    if let Some(prev) = opts.previous_response_id.as_deref() {
        if let Some(k) = kept.iter().find(|k| k.id == prev) {
            super::continue_from(&mut req, &k.messages);
        }
    }
    let fixture = match turn.resolve(req.clone(), raw.len()) {
        Ok(f) => f,
        Err(NoFixture::Miss(m)) if m.proxy => {
            return record(session, socket, turn, &req, original, state.upstream).await;
        }
        Err(other) => {
            return turn
                .answer_without_fixture(socket, other, |e| {
                    ErrorAnswer::Event(error_event(e, stream_id))
                })
                .await
        }
    };
    let reply = match message_reply(&fixture, Responses::SURFACE) {
        Ok(r) => r,
        Err(e) => {
            let sent = socket.send(error_event(&e, stream_id)).await;
            turn.finish(e.status);
            return sent;
        }
    };
    let settings = &session.core.settings;
    let chunk = fixture.stream.chunk_size.unwrap_or(settings.chunk_size);
    let rendered = RenderedResponse::new(&req, &opts, reply, turn.ex.strict());
    let events = rendered
        .events(chunk)
        .into_iter()
        .map(|(_, json)| with_stream_id(json, stream_id))
        .collect();
    let mut conversation = req.messages.clone();
    conversation.push(rendered.assistant_message());
    if kept.len() == KEPT {
        kept.pop_front();
    }
    kept.push_back(Kept {
        id: rendered.id.clone(),
        messages: conversation,
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
    // A message sent while a response streams is answered after it.
    turn.play(socket, plan, |_| Heard::Later).await.open()
}

/// Record mode: the turn goes to the upstream socket (opened now if it is not open yet), its
/// events are relayed as they arrive, and the whole turn is saved as a fixture.
async fn record(
    session: &Session,
    socket: &mut Socket,
    mut turn: Turn,
    req: &ChatRequest,
    original: &str,
    upstream: &mut Option<Upstream>,
) -> bool {
    turn.ex.set_source("proxy");
    if upstream.is_none() {
        match session.connect_upstream().await {
            Ok(u) => *upstream = Some(u),
            Err(why) => {
                tracing::warn!("record: {why}");
                let e = unavailable(why);
                let sent = socket.send(error_event(&e, None)).await;
                turn.finish(e.status);
                return sent;
            }
        }
    }
    let Some(up) = upstream.as_mut() else {
        return false;
    };
    up.begin_turn();
    // Every event is relayed as it arrives but the last, which goes once the turn is recorded and
    // journaled: a client that sends the same turn the moment it ends gets the replay.
    let relayed = async {
        up.send(original).await?;
        loop {
            let Some(event) = up.recv().await? else {
                return Err("the upstream closed the socket mid-turn".to_owned());
            };
            let kind = serde_json::from_str::<Value>(&event)
                .ok()
                .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned));
            if matches!(
                kind.as_deref(),
                Some("response.completed" | "response.incomplete" | "response.failed" | "error")
            ) {
                return Ok(Some(event));
            }
            if !socket.send(event).await {
                return Ok(None);
            }
        }
    }
    .await;
    match relayed {
        Ok(last) => {
            let rec = turn.recording(session.vendor.key, req);
            if last.is_some() {
                if let Err(why) = up
                    .save_turn(&*session.core, &rec, &super::collapse::COLLAPSER)
                    .await
                {
                    tracing::warn!("record: {why}");
                }
            }
            turn.finish(StatusCode::OK);
            match last {
                Some(event) => socket.send(event).await,
                None => false,
            }
        }
        Err(why) => {
            tracing::warn!("record: {why}");
            *upstream = None;
            let e = failed(why);
            let sent = socket.send(error_event(&e, None)).await;
            turn.finish(e.status);
            sent
        }
    }
}

/// `stream_id`, when the `response.create` gave one, on every event it causes.
fn with_stream_id(json: String, stream_id: Option<&Value>) -> String {
    let Some(id) = stream_id else {
        return json;
    };
    match serde_json::from_str::<Value>(&json) {
        Ok(Value::Object(mut m)) => {
            m.insert("stream_id".to_owned(), id.clone());
            Value::Object(m).to_string()
        }
        _ => json,
    }
}

/// The API's `error` event: `{"type": "error", "status", "error": {type, code, message, param}}`.
pub(crate) fn error_event(e: &ApiError, stream_id: Option<&Value>) -> String {
    let mut v = json!({
        "type": "error",
        "status": e.status.as_u16(),
        "error": {
            "type": e.kind,
            "code": e.code,
            "message": e.message,
            "param": e.param,
        },
    });
    if let Some(id) = stream_id {
        v["stream_id"] = id.clone();
    }
    v.to_string()
}
