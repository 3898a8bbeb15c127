//! Record mode for Realtime translations: an utterance no fixture answers goes to the same
//! socket upstream (`/v1/realtime/translations?model=...` on `--provider-openai`), opened at the
//! first such utterance (its `session.created` is not relayed) and kept for later ones.
//!
//! The upstream gets the `session.update`s the client made since it last heard from the
//! session, the utterance's input audio as the client sent it, as much silence as ends an
//! utterance (`x-aimock-turn-silence-ms`, which goes upstream with the other headers), and then
//! an empty `session.update`. A translation's stream has no end of its own: the upstream's
//! answer to that last update, which comes after the translation of the audio before it, ends
//! the turn. The translation's events are relayed as they arrive (each one a step behind, so
//! the last waits until the turn is saved and journaled, source `proxy`); the acknowledgements
//! of the updates are not. The saved fixture (`live/collapse.rs`: the transcript, and the
//! audio as `audio`) replays through the same session; the translation joins the session's
//! history as a fixture's does. Errors are as GPT-Live's (`live/record.rs`).

use http::StatusCode;
use serde_json::json;

use super::super::live::audio;
use super::super::live::collapse::{collapse, TRANSLATION};
use super::super::live::record::{open, relay, save, Relayed, Step, TurnLog};
use super::{api_error_event, Translation, FORMAT};
use crate::conversation::{ChatRequest, Message, Role};
use crate::pipeline::socket::Turn;
use crate::record::collapse::str_of;
use crate::record::socket::{failed, unavailable};
use crate::stream::socket::Socket;

impl Translation {
    /// Record mode: the utterance goes upstream. Whether the socket is open.
    pub(super) async fn record(
        &mut self,
        socket: &mut Socket,
        mut turn: Turn,
        req: &ChatRequest,
        heard: Vec<String>,
    ) -> bool {
        turn.ex.set_source("proxy");
        let Some(mut rs) = self.rec.take() else {
            let e = unavailable("record mode is off".to_owned());
            let sent = socket.send(api_error_event(&e, None)).await;
            turn.finish(e.status);
            return sent;
        };
        if rs.upstream.is_none() {
            match open(&self.session, None, "session.created").await {
                Ok(u) => rs.upstream = Some(u),
                Err(why) => {
                    tracing::warn!("record: {why}");
                    self.rec = Some(rs);
                    let e = unavailable(why);
                    let sent = socket.send(api_error_event(&e, None)).await;
                    turn.finish(e.status);
                    return sent;
                }
            }
        }
        let mut messages = rs.take_pending();
        // Each update is answered (`session.updated`, or an error), and so is the last one.
        let mut answers = messages.len() + 1;
        messages.extend(heard);
        let quiet = FORMAT.silence(self.silence_ms);
        messages.push(
            json!({"type": "session.input_audio_buffer.append", "audio": audio::encode(&quiet)})
                .to_string(),
        );
        messages.push(json!({"type": "session.update", "session": {}}).to_string());
        let Some(mut up) = rs.upstream.take() else {
            self.rec = Some(rs);
            return false;
        };
        let mut log = TurnLog::new(&self.session);
        let relayed = relay(&mut up, socket, &messages, &mut log, true, |v| {
            match str_of(v.get("type")).unwrap_or("") {
                "session.updated" => {
                    answers = answers.saturating_sub(1);
                    if answers == 0 {
                        Step::End { relayed: false }
                    } else {
                        Step::Skip
                    }
                }
                // An error answering one of the updates before the audio.
                "error" if answers > 1 => {
                    answers -= 1;
                    Step::Skip
                }
                "session.created" => Step::Skip,
                "session.closed" => Step::Fail("the upstream closed the session".to_owned()),
                _ => Step::Relay,
            }
        })
        .await;
        let open = match relayed {
            Ok(Relayed::Ended(last)) => {
                rs.upstream = Some(up);
                if !log.errored() {
                    let collapsed = collapse(&TRANSLATION, &log.events);
                    let text = str_of(collapsed.response.get("content"))
                        .unwrap_or_default()
                        .to_owned();
                    self.history.push(Message::text(Role::Assistant, text));
                    if let Err(why) = save(&self.session, &turn, req, collapsed, &log).await {
                        tracing::warn!("record: {why}");
                    }
                }
                turn.finish(StatusCode::OK);
                match last {
                    Some(event) => socket.send(event).await,
                    None => true,
                }
            }
            Ok(Relayed::ClientGone) => {
                rs.upstream = Some(up);
                turn.finish(StatusCode::OK);
                false
            }
            Err(why) => {
                tracing::warn!("record: {why}");
                let e = failed(why);
                let sent = socket.send(api_error_event(&e, None)).await;
                turn.finish(e.status);
                sent
            }
        };
        self.rec = Some(rs);
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_update_that_ends_a_turn_is_one_our_sessions_accept_unchanged() {
        let sentinel = json!({"type": "session.update", "session": {}});
        let c = super::super::Config::default();
        assert_eq!(c.update(sentinel.get("session")).ok(), Some(c));
    }
}
