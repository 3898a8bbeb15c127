//! A GPT-Live session replaying an `onLive` fixture: found when `session.start` arrives, then
//! the socket's driver (each client message checked against the recording, the recorded events
//! sent when due, `aimock.error` and 1008 when the client departs from it).

use http::StatusCode;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::config::Config;
use super::events::{api_error_event, Command};
use super::replay::Replay;
use super::{Live, Started};
use crate::conversation::{ChatRequest, Endpoint};
use crate::fixture::Reply;
use crate::http::ids::random_id;
use crate::pipeline::socket::{ErrorAnswer, NoFixture};
use crate::stream::socket::{Frame, Socket};

impl Live {
    /// Look for a recorded session that answers this `session.start` and replay it; `None` when
    /// no transcript answers (the session then runs on turns, and nothing is journaled yet).
    pub(super) async fn replay_start(
        &mut self,
        socket: &mut Socket,
        cmd: &Command,
        config: &Config,
    ) -> Option<bool> {
        let req = ChatRequest {
            model: config.model.clone(),
            messages: Vec::new(),
            tools: Vec::new(),
            response_format: None,
            endpoint: Endpoint::Live,
            embedding_input: None,
            stream: true,
        };
        let cid = cmd.client_event_id.as_deref();
        let mut turn = self.session.turn();
        let fixture = match turn.resolve(req, 0) {
            Ok(f) => f,
            // Not a recorded session: the caller runs it turn by turn.
            Err(NoFixture::Miss(_)) => return None,
            Err(other) => {
                return Some(
                    turn.answer_without_fixture(socket, other, |e| {
                        ErrorAnswer::Event(api_error_event(e, cid))
                    })
                    .await,
                )
            }
        };
        let Reply::Other {
            kind: "live",
            value,
        } = &fixture.reply
        else {
            return None;
        };
        let immediate = value.get("liveTiming").and_then(Value::as_str) == Some("immediate");
        let speed = fixture
            .stream
            .replay_speed
            .unwrap_or(self.session.core.settings.replay_speed);
        turn.finish(StatusCode::OK);
        let mut replay = match Replay::new(&value["live"], immediate, speed) {
            Ok(r) => r,
            Err(why) => return Some(self.fail(socket, "protocol-divergence", &why).await),
        };
        if let Err(why) = replay.accept(&Value::Object(cmd.body.clone()), Instant::now()) {
            return Some(self.fail(socket, "fixture-mismatch", &why).await);
        }
        self.started = Some(Started {
            config: config.clone(),
            id: random_id("live_", 24),
            at: Instant::now(),
            expires_at: 0,
        });
        self.replay = Some(replay);
        Some(self.pump(socket).await)
    }

    /// A client message while a recording replays: it must be the next recorded command.
    pub(super) async fn replay_frame(&mut self, socket: &mut Socket, frame: &Frame) -> bool {
        let event = match frame {
            Frame::Text(t) => match serde_json::from_str::<Value>(t) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    return self
                        .fail(socket, "invalid-client", "Invalid Live client command")
                        .await
                }
            },
            Frame::Binary(_) => {
                return self
                    .fail(socket, "invalid-client", "Invalid Live client command")
                    .await
            }
        };
        if event.get("type").and_then(Value::as_str) == Some("session.start") {
            return self
                .fail(socket, "invalid-client", "Live session has already started")
                .await;
        }
        let accepted = match self.replay.as_mut() {
            Some(r) => r.accept(&event, Instant::now()),
            None => return true,
        };
        if let Err(why) = accepted {
            let message = format!("client input does not match the live fixture: {why}");
            return self.fail(socket, "fixture-mismatch", &message).await;
        }
        self.pump(socket).await
    }

    /// Send the recorded events that are due; the session ends after `session.closed`.
    pub(super) async fn pump(&mut self, socket: &mut Socket) -> bool {
        let Some(replay) = self.replay.as_mut() else {
            return true;
        };
        let events = match replay.due(Instant::now()) {
            Ok(e) => e,
            Err(why) => return self.fail(socket, "protocol-divergence", &why).await,
        };
        let (done, closed) = (replay.done(), replay.closed());
        if !events.is_empty() && !socket.send_all(events).await {
            return false;
        }
        if done && closed {
            socket.close_normal("Live session complete").await;
            return false;
        }
        true
    }

    /// A replay cannot go on: aimock's `aimock.error` event, then close (1008).
    pub(super) async fn fail(
        &mut self,
        socket: &mut Socket,
        category: &str,
        message: &str,
    ) -> bool {
        let e = json!({ "type": "aimock.error", "error": { "category": category, "message": message } });
        socket.send(e.to_string()).await;
        socket.close_policy("Live session failed").await;
        false
    }
}
