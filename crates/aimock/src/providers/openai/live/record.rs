//! Record mode for the OpenAI voice sockets (GPT-Live here, Realtime translations in
//! `translations/record.rs`): a turn no fixture answers goes to the same socket upstream
//! (`--provider-openai`), opened once per client socket at its first such turn and kept for
//! later ones.
//!
//! The upstream is brought in sync with what the client did before the turn is forwarded: a
//! GPT-Live upstream gets the client's `session.start` (its `session.started` is not relayed),
//! then the commands since it last heard from the session that start no turn
//! (`session.update`, `session.instructions.append`, `session.thinking.append`,
//! `response.item.create`), then what the turn needs: the commentary, the utterance's input
//! audio followed by as much silence as ends an utterance, or the `response.create`. Turns a
//! fixture answered here are not replayed upstream (that would make it speak them). The
//! upstream's turn events are relayed as they arrive, its acknowledgements of the sync messages
//! are not, and the turn's last event waits until the turn is saved and journaled (source
//! `proxy`): the collapsed turn (`collapse.rs`) is a fixture that replays through the same
//! session, and its answer joins the session's conversation as a fixture's would.
//!
//! A dead upstream gets the API's `error` event (`upstream_unavailable`) and the socket stays
//! open; an upstream that drops mid-turn gets one too (`upstream_failed`) and is forgotten (the
//! next miss opens a fresh one). Proxy-only mode relays without saving.

use std::collections::HashSet;

use http::StatusCode;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use super::audio;
use super::collapse::{collapse, said, LIVE};
use super::events::api_error_event;
use super::Live;
use crate::conversation::{ChatRequest, Message, Role, ToolCallRef};
use crate::pipeline::socket::{Session, Turn};
use crate::record::collapse::{str_of, Collapsed};
use crate::record::proxy::{save_recording, timings, Host};
use crate::record::socket::{failed, unavailable, Upstream};
use crate::stream::socket::Socket;

/// What record mode keeps of a voice session to bring an upstream in sync.
#[derive(Debug)]
pub(in crate::providers::openai) struct Relay {
    /// GPT-Live's `session.start`, as the client sent it.
    pub(in crate::providers::openai) start: Option<String>,
    /// Commands the upstream has not heard yet that start no turn.
    pending: Vec<String>,
    /// The current utterance's input audio commands.
    heard: Vec<String>,
    /// Bytes kept in `pending` and `heard`, at most `cap`.
    bytes: usize,
    cap: usize,
    /// The cap was reached (warned once).
    capped: bool,
    pub(in crate::providers::openai) upstream: Option<Upstream>,
    /// Delegations the upstream created (their results can go to it as they are).
    delegations: HashSet<String>,
}

impl Relay {
    /// `Some` when the server records.
    pub(in crate::providers::openai) fn new(session: &Session) -> Option<Relay> {
        let recorder = session.core.recorder()?;
        Some(Relay {
            start: None,
            pending: Vec::new(),
            heard: Vec::new(),
            bytes: 0,
            cap: recorder.config.max_proxy_buffer_bytes.max(1 << 20),
            capped: false,
            upstream: None,
            delegations: HashSet::new(),
        })
    }

    fn room(&mut self, text: &str) -> bool {
        if self.bytes + text.len() > self.cap {
            if !self.capped {
                self.capped = true;
                tracing::warn!(
                    "record: the session's input kept for the upstream passed {} bytes; the rest is not forwarded",
                    self.cap
                );
            }
            return false;
        }
        self.bytes += text.len();
        true
    }

    /// A command that starts no turn, for the upstream's next sync.
    pub(in crate::providers::openai) fn keep(&mut self, text: String) {
        if self.room(&text) {
            self.pending.push(text);
        }
    }

    /// An input audio command of the current utterance.
    pub(in crate::providers::openai) fn hear(&mut self, text: String) {
        if self.room(&text) {
            self.heard.push(text);
        }
    }

    /// The utterance was dropped (a mute).
    pub(in crate::providers::openai) fn forget_heard(&mut self) {
        let n: usize = self.heard.iter().map(String::len).sum();
        self.bytes = self.bytes.saturating_sub(n);
        self.heard.clear();
    }

    /// The utterance's audio commands.
    pub(in crate::providers::openai) fn take_heard(&mut self) -> Vec<String> {
        let heard = std::mem::take(&mut self.heard);
        let n: usize = heard.iter().map(String::len).sum();
        self.bytes = self.bytes.saturating_sub(n);
        heard
    }

    /// The commands the upstream has not heard yet.
    pub(in crate::providers::openai) fn take_pending(&mut self) -> Vec<String> {
        let pending = std::mem::take(&mut self.pending);
        let n: usize = pending.iter().map(String::len).sum();
        self.bytes = self.bytes.saturating_sub(n);
        pending
    }

    /// Close the upstream socket, if one is open.
    pub(in crate::providers::openai) async fn close(self) {
        if let Some(u) = self.upstream {
            u.close().await;
        }
    }
}

/// What a session makes of one upstream event during a turn.
pub(in crate::providers::openai) enum Step {
    /// An acknowledgement of a sync message: not relayed.
    Skip,
    /// A turn event: relayed.
    Relay,
    /// The turn's last event: relayed (after the turn is saved) or not.
    End { relayed: bool },
    /// The upstream ended the session.
    Fail(String),
}

/// How a relayed turn ended.
pub(in crate::providers::openai) enum Relayed {
    /// With its last event, which the session sends once the turn is saved.
    Ended(Option<String>),
    /// The client went away.
    ClientGone,
}

/// A turn's upstream events as relayed (and the last one), with their arrival times.
#[derive(Debug)]
pub(in crate::providers::openai) struct TurnLog {
    started: Instant,
    pub(in crate::providers::openai) events: Vec<String>,
    times: Vec<f64>,
    bytes: usize,
    cap: usize,
    /// The turn outgrew the cap: it is relayed but not saved.
    pub(in crate::providers::openai) overflow: bool,
}

impl TurnLog {
    pub(in crate::providers::openai) fn new(session: &Session) -> TurnLog {
        let cap = session
            .core
            .recorder()
            .map_or(64 << 20, |r| r.config.max_proxy_buffer_bytes.max(1 << 20));
        TurnLog {
            started: Instant::now(),
            events: Vec::new(),
            times: Vec::new(),
            bytes: 0,
            cap,
            overflow: false,
        }
    }

    fn push(&mut self, text: &str) {
        self.bytes += text.len();
        if self.bytes > self.cap {
            self.overflow = true;
            return;
        }
        self.times
            .push(self.started.elapsed().as_secs_f64() * 1000.0);
        self.events.push(text.to_owned());
    }

    /// Whether the upstream answered the turn with an error.
    pub(in crate::providers::openai) fn errored(&self) -> bool {
        self.events.iter().any(|e| {
            serde_json::from_str::<Value>(e)
                .is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some("error"))
        })
    }
}

/// Open the session's socket upstream and wait for its greeting (`ready`), sending `hello`
/// first when there is one; nothing of this is relayed.
pub(in crate::providers::openai) async fn open(
    session: &Session,
    hello: Option<&str>,
    ready: &str,
) -> Result<Upstream, String> {
    let mut up = session.connect_upstream().await?;
    if let Some(h) = hello {
        up.send(h).await?;
    }
    // The greeting comes first; a few stray events before it are passed over.
    for _ in 0..64 {
        let Some(text) = up.recv().await? else {
            return Err(format!("the upstream closed the socket before {ready}"));
        };
        let v = serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
        match str_of(v.get("type")) {
            Some(t) if t == ready => return Ok(up),
            Some("error") => {
                let why = v
                    .get("error")
                    .and_then(|e| str_of(e.get("message")))
                    .unwrap_or("no reason given");
                return Err(format!("the upstream refused the session: {why}"));
            }
            _ => {}
        }
    }
    Err(format!("the upstream sent no {ready}"))
}

/// Send `messages` upstream, then relay the upstream's events to the client as `step` says
/// until the turn's last event. With `hold`, each relayed event waits for the next (the last
/// relayed one is then the turn's last event, sent once the turn is saved).
pub(in crate::providers::openai) async fn relay(
    up: &mut Upstream,
    socket: &mut Socket,
    messages: &[String],
    log: &mut TurnLog,
    hold: bool,
    mut step: impl FnMut(&Value) -> Step,
) -> Result<Relayed, String> {
    up.begin_turn();
    for m in messages {
        up.send(m).await?;
    }
    let mut held: Option<String> = None;
    loop {
        let Some(text) = up.recv().await? else {
            return Err("the upstream closed the socket mid-turn".to_owned());
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            tracing::warn!("record: the upstream sent a frame that is not JSON; not relayed");
            continue;
        };
        match step(&v) {
            Step::Skip => {}
            Step::Relay => {
                log.push(&text);
                let out = if hold { held.replace(text) } else { Some(text) };
                if let Some(e) = out {
                    if !socket.send(e).await {
                        return Ok(Relayed::ClientGone);
                    }
                }
            }
            Step::End { relayed } => {
                log.push(&text);
                if !relayed {
                    return Ok(Relayed::Ended(held));
                }
                if let Some(e) = held.take() {
                    if !socket.send(e).await {
                        return Ok(Relayed::ClientGone);
                    }
                }
                return Ok(Relayed::Ended(Some(text)));
            }
            Step::Fail(why) => return Err(why),
        }
    }
}

/// Save a collapsed turn as a fixture for `req` (unless proxy-only, or the turn is incomplete).
pub(in crate::providers::openai) async fn save(
    session: &Session,
    turn: &Turn,
    req: &ChatRequest,
    collapsed: Collapsed,
    log: &TurnLog,
) -> Result<(), String> {
    let Some(recorder) = session.core.recorder() else {
        return Ok(());
    };
    if recorder.config.proxy_only {
        return Ok(());
    }
    if log.overflow {
        return Err("the turn was too large to record".to_owned());
    }
    if !collapsed.complete {
        return Err("the turn ended before its last event; not recorded".to_owned());
    }
    let rec = turn.recording(session.vendor.key, req);
    save_recording(&*session.core, &rec, collapsed, Some(timings(&log.times))).await
}

/// What a GPT-Live turn forwards upstream.
pub(super) enum Trigger {
    /// `session.commentary.append`, its fields.
    Commentary(Map<String, Value>),
    /// An utterance: its `session.input_audio.append` commands.
    Utterance(Vec<String>),
    /// `response.create`, as sent.
    Respond(String),
}

/// What a GPT-Live session makes of an upstream event: a spoken turn ends with
/// `session.usage.updated`, a Responses turn with the nested `response.completed` (or
/// `.incomplete`, `.failed`), either with an `error`.
fn live_step(v: &Value, respond: bool) -> Step {
    let kind = str_of(v.get("type")).unwrap_or("");
    match kind {
        "error" => Step::End { relayed: true },
        "session.closed" => Step::Fail(format!(
            "the upstream closed the session ({})",
            str_of(v.get("reason")).unwrap_or("no reason")
        )),
        "session.usage.updated" if !respond => Step::End { relayed: true },
        "response.event" if respond => {
            let nested = v.get("event").and_then(|e| str_of(e.get("type")));
            match nested {
                Some("response.completed" | "response.incomplete" | "response.failed") => {
                    Step::End { relayed: true }
                }
                _ => Step::Relay,
            }
        }
        "session.started"
        | "session.updated"
        | "session.input_audio.muted"
        | "session.input_audio.unmuted" => Step::Skip,
        k if k.ends_with(".appended") => Step::Skip,
        _ => Step::Relay,
    }
}

impl Live {
    /// Record mode: the turn goes upstream (see the module's docs). Whether the socket is open.
    pub(super) async fn record(
        &mut self,
        socket: &mut Socket,
        mut turn: Turn,
        req: &ChatRequest,
        trigger: Trigger,
        cid: Option<&str>,
    ) -> bool {
        turn.ex.set_source("proxy");
        let Some(mut relay_state) = self.rec.take() else {
            let e = unavailable("record mode is off".to_owned());
            let sent = socket.send(api_error_event(&e, cid)).await;
            turn.finish(e.status);
            return sent;
        };
        let open = self
            .record_with(&mut relay_state, socket, turn, req, trigger, cid)
            .await;
        self.rec = Some(relay_state);
        open
    }

    async fn record_with(
        &mut self,
        rs: &mut Relay,
        socket: &mut Socket,
        turn: Turn,
        req: &ChatRequest,
        trigger: Trigger,
        cid: Option<&str>,
    ) -> bool {
        if rs.upstream.is_none() {
            let opened = match rs.start.as_deref() {
                Some(start) => open(&self.session, Some(start), "session.started").await,
                None => Err("the session has no session.start to send upstream".to_owned()),
            };
            match opened {
                Ok(u) => rs.upstream = Some(u),
                Err(why) => {
                    tracing::warn!("record: {why}");
                    let e = unavailable(why);
                    let sent = socket.send(api_error_event(&e, cid)).await;
                    turn.finish(e.status);
                    return sent;
                }
            }
        }
        let respond = matches!(trigger, Trigger::Respond(_));
        let mut messages = rs.take_pending();
        match trigger {
            Trigger::Commentary(mut body) => {
                // A delegation the upstream did not create (a fixture's) means nothing to it:
                // the result goes as plain commentary.
                let foreign = body
                    .get("delegation_id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| !rs.delegations.contains(id));
                if foreign {
                    body.insert("delegation_id".to_owned(), Value::Null);
                }
                messages.push(Value::Object(body).to_string());
            }
            Trigger::Utterance(heard) => {
                messages.extend(heard);
                let quiet = self.format().silence(self.limits.silence_ms);
                messages.push(
                    json!({"type": "session.input_audio.append", "audio": audio::encode(&quiet)})
                        .to_string(),
                );
            }
            Trigger::Respond(text) => messages.push(text),
        }
        let Some(mut up) = rs.upstream.take() else {
            return false;
        };
        let mut log = TurnLog::new(&self.session);
        let relayed = relay(&mut up, socket, &messages, &mut log, false, |v| {
            live_step(v, respond)
        })
        .await;
        match relayed {
            Ok(Relayed::Ended(last)) => {
                rs.upstream = Some(up);
                if !log.errored() {
                    let collapsed = collapse(&LIVE, &log.events);
                    if respond {
                        self.items.extend(response_outputs(&log.events));
                    } else {
                        let (text, calls) = said(&collapsed.response);
                        let calls: Vec<ToolCallRef> = calls
                            .into_iter()
                            .map(|(id, name)| ToolCallRef {
                                id,
                                name,
                                arguments: "{}".to_owned(),
                            })
                            .collect();
                        self.delegations.extend(calls.iter().map(|c| c.id.clone()));
                        rs.delegations.extend(calls.iter().map(|c| c.id.clone()));
                        self.history.push(Message {
                            role: Role::Assistant,
                            text: (!text.is_empty()).then_some(text),
                            tool_calls: calls,
                            tool_call_id: None,
                        });
                    }
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
                let sent = socket.send(api_error_event(&e, cid)).await;
                turn.finish(e.status);
                sent
            }
        }
    }
}

/// The output items of a Responses turn's nested `response.output_item.done` events (the
/// backend's conversation keeps them).
fn response_outputs(events: &[String]) -> Vec<Value> {
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| {
            let ev = v.get("event")?;
            (str_of(ev.get("type")) == Some("response.output_item.done"))
                .then(|| ev.get("item").cloned())
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_turns_end_on_the_renderers_last_event_and_acks_are_not_relayed() {
        let step = |v: Value, respond: bool| match live_step(&v, respond) {
            Step::Skip => "skip",
            Step::Relay => "relay",
            Step::End { .. } => "end",
            Step::Fail(_) => "fail",
        };
        assert_eq!(step(json!({"type": "session.started"}), false), "skip");
        assert_eq!(
            step(json!({"type": "session.commentary.appended"}), false),
            "skip"
        );
        assert_eq!(
            step(json!({"type": "session.output_audio.delta"}), false),
            "relay"
        );
        assert_eq!(step(json!({"type": "session.usage.updated"}), false), "end");
        assert_eq!(
            step(json!({"type": "session.usage.updated"}), true),
            "relay"
        );
        assert_eq!(
            step(
                json!({"type": "response.event", "event": {"type": "response.completed"}}),
                true
            ),
            "end"
        );
        assert_eq!(
            step(
                json!({"type": "response.event", "event": {"type": "response.created"}}),
                true
            ),
            "relay"
        );
        assert_eq!(step(json!({"type": "error"}), true), "end");
        assert_eq!(step(json!({"type": "session.closed"}), false), "fail");
        assert_eq!(step(json!([1, 2]), false), "relay");
    }

    #[test]
    fn a_responses_turns_outputs_are_its_finished_items() {
        let events = vec![
            json!({"type": "response.event", "event": {"type": "response.output_item.done", "item": {"type": "function_call", "call_id": "c1"}}}).to_string(),
            json!({"type": "response.event", "event": {"type": "response.completed"}}).to_string(),
            "garbage".to_owned(),
        ];
        assert_eq!(
            response_outputs(&events),
            vec![json!({"type": "function_call", "call_id": "c1"})]
        );
    }
}
