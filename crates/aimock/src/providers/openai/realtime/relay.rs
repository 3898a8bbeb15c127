//! Record mode for a Realtime session: a `response.create` no fixture answers goes to the
//! configured upstream (`--provider-openai`), over one upstream socket per client socket (the
//! same path and query), opened at the first such turn and kept for the later ones.
//!
//! The upstream has not seen what the session did locally, so each recorded turn first brings
//! it in step: a `session.update` with the session's configuration when it changed since the
//! last one sent, a `conversation.item.delete` for each item it has that the session deleted, and
//! a `conversation.item.create` for each conversation item it has not seen (at its place, after
//! the item before it), then the client's own `response.create`. The upstream's
//! acknowledgements of those (`session.updated`, `conversation.item.*` ...) are not relayed; the
//! response's events, `response.created` to `response.done`, are, as they arrive, except that
//! `response.done` waits until the turn is saved and journaled, so a client that sends the same
//! turn right after gets the replay. The response's output items join the session's
//! conversation (as a fixture's do), and the upstream has them already.
//!
//! While the turn runs, a `response.cancel` from the client goes upstream (the response ends
//! with its `response.done`, cancelled, which is relayed but not saved), a second
//! `response.create` is refused as the API refuses it, and anything else waits for the turn.
//!
//! Audio input is not relayed: an `input_audio` part goes upstream as text (its transcript), and
//! one without a transcript is left out; assistant audio parts likewise go as their transcript.
//!
//! The saved fixture is the turn collapsed ([`super::collapse`]): text or transcript, tool calls
//! with their call ids, usage, and the output audio (base64) when the upstream spoke.
//!
//! Failures: an upstream that cannot be reached gets the client an `error` event with code
//! `upstream_unavailable` (the socket stays open); an upstream `error` event ends the turn (it is
//! relayed); an upstream that closes or goes quiet mid-turn gets an `error` event with code
//! `upstream_failed`. After any of these the upstream socket is forgotten (its state is no longer
//! known), and the next miss opens a new one and syncs the whole session again.

use std::collections::{HashSet, VecDeque};

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::audio;
use super::items::id_of;
use super::session::Config;
use super::{during_response, error_event, State};
use crate::conversation::ChatRequest;
use crate::http::ids::random_id;
use crate::pipeline::socket::{Session, Turn};
use crate::record::collapse::collapse_stream;
use crate::record::proxy::{save_recording, timings, Host};
use crate::record::socket::{failed, sse, unavailable, Upstream};
use crate::stream::socket::{Frame, Heard, Socket};

/// The `event_id` prefix of the `response.cancel` events the session forwards: the upstream's
/// error for one that came too late (the response was over) is not the client's business.
const CANCEL_PREFIX: &str = "aimock_cancel_";

/// The longest output audio a recording keeps, in bytes; past it the audio is left out.
const MAX_AUDIO: usize = 64 * 1024 * 1024;

/// A session's upstream socket and what it has seen.
pub(super) struct Relay {
    up: Upstream,
    /// The model of the upstream's session (from its `session.created`).
    model: Option<String>,
    /// The `session` last sent in a `session.update`.
    session: Option<Value>,
    /// The ids of the conversation items the upstream has.
    items: HashSet<String>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("model", &self.model)
            .field("items", &self.items.len())
            .finish()
    }
}

/// How a relayed turn ended.
enum Relayed {
    /// The response ended with its `response.done` (held back, not yet sent).
    Done { done: String, kept: Kept },
    /// The upstream sent an `error` event (not yet sent).
    Error(String),
    /// The upstream failed (closed, went quiet, broke).
    Failed(String),
    /// The client left.
    ClientGone,
}

/// The turn's events as kept for the recording.
#[derive(Default)]
struct Kept {
    /// `response.created` .. `response.done`, less the audio deltas (their bytes are in `audio`).
    events: Vec<String>,
    /// Each relayed event's arrival, in ms since the turn was sent.
    times: Vec<f64>,
    audio: Vec<u8>,
    bytes: usize,
    /// More than the recorder keeps arrived: the turn is relayed but not recorded.
    over: bool,
    audio_over: bool,
}

fn kind_of(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or("")
}

impl Relay {
    /// Open the upstream socket and read its `session.created`.
    async fn open(session: &Session) -> Result<Relay, String> {
        let mut up = session.connect_upstream().await?;
        let first = match up.recv().await {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err("the upstream closed the socket before its session.created".into())
            }
            Err(why) => {
                up.close().await;
                return Err(why);
            }
        };
        let v: Value = serde_json::from_str(&first).unwrap_or(Value::Null);
        let model = match kind_of(&v) {
            "session.created" => v
                .get("session")
                .and_then(|s| s.get("model"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            "error" => {
                up.close().await;
                let message = v
                    .get("error")
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                return Err(format!("the upstream refused the session: {message}"));
            }
            _ => None,
        };
        Ok(Relay {
            up,
            model,
            session: None,
            items: HashSet::new(),
        })
    }

    /// The messages that bring the upstream in step with the session.
    fn sync(&mut self, config: &Config, items: &[Value]) -> Vec<String> {
        let mut out = Vec::new();
        let wanted = session_update(config, self.model.as_deref());
        if self.session.as_ref() != Some(&wanted) {
            out.push(
                json!({"type": "session.update", "event_id": sync_id(), "session": wanted})
                    .to_string(),
            );
            self.session = Some(wanted);
        }
        let local: HashSet<&str> = items.iter().filter_map(id_of).collect();
        let mut gone: Vec<String> = self
            .items
            .iter()
            .filter(|id| !local.contains(id.as_str()))
            .cloned()
            .collect();
        gone.sort();
        for id in gone {
            out.push(
                json!({"type": "conversation.item.delete", "event_id": sync_id(), "item_id": id})
                    .to_string(),
            );
            self.items.remove(&id);
        }
        // The item before each one, among those the upstream has.
        let mut previous: Option<&str> = None;
        for item in items {
            let Some(id) = id_of(item) else { continue };
            if !self.items.contains(id) {
                let Some(clean) = upstream_item(item) else {
                    continue;
                };
                let mut ev = json!({"type": "conversation.item.create", "event_id": sync_id(), "item": clean});
                match previous {
                    Some(p) => ev["previous_item_id"] = json!(p),
                    None if !self.items.is_empty() => ev["previous_item_id"] = json!("root"),
                    None => {}
                }
                out.push(ev.to_string());
                self.items.insert(id.to_owned());
            }
            previous = Some(id);
        }
        out
    }

    /// Send the sync messages and the client's `response.create`, and relay the response.
    async fn turn(
        &mut self,
        socket: &mut Socket,
        sync: Vec<String>,
        original: &str,
        later: &mut VecDeque<Frame>,
        limits: (usize, usize),
    ) -> Relayed {
        let (max_bytes, max_frames) = limits;
        self.up.begin_turn();
        for m in sync.iter().map(String::as_str).chain([original]) {
            if let Err(why) = self.up.send(m).await {
                return Relayed::Failed(why);
            }
        }
        let started = tokio::time::Instant::now();
        let mut kept = Kept::default();
        let mut begun = false;
        loop {
            let heard = tokio::select! {
                e = self.up.recv() => Ok(e),
                f = socket.recv() => Err(f),
            };
            let text = match heard {
                Err(None) => return Relayed::ClientGone,
                Err(Some(frame)) => {
                    match during_response(&frame) {
                        Heard::Stop(_) => {
                            let cancel = json!({"type": "response.cancel",
                                                "event_id": random_id(CANCEL_PREFIX, 12)});
                            if let Err(why) = self.up.send(&cancel.to_string()).await {
                                return Relayed::Failed(why);
                            }
                        }
                        Heard::Answered(out) => {
                            if !socket.send_all(out).await {
                                return Relayed::ClientGone;
                            }
                        }
                        Heard::Later => later.push_back(frame),
                    }
                    continue;
                }
                Ok(Err(why)) => return Relayed::Failed(why),
                Ok(Ok(None)) => {
                    return Relayed::Failed("the upstream closed the socket mid-turn".to_owned())
                }
                Ok(Ok(Some(t))) => t,
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                tracing::warn!("record: the upstream sent a message that is not JSON; skipped");
                continue;
            };
            let kind = kind_of(&v);
            if kind == "error" {
                let about = v
                    .get("error")
                    .and_then(|e| e.get("event_id"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if about.starts_with(CANCEL_PREFIX) {
                    continue;
                }
                return Relayed::Error(text);
            }
            if !begun {
                // The acknowledgements of the sync messages.
                if kind != "response.created" {
                    continue;
                }
                begun = true;
            }
            let done = kind == "response.done";
            if kept.times.len() < max_frames {
                kept.times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            if kind == "response.output_audio.delta" {
                let bytes = v
                    .get("delta")
                    .and_then(Value::as_str)
                    .and_then(audio::decode_base64)
                    .unwrap_or_default();
                if kept.audio.len() + bytes.len() > MAX_AUDIO {
                    kept.audio_over = true;
                } else if !kept.audio_over {
                    kept.audio.extend_from_slice(&bytes);
                }
            } else if !kept.over {
                kept.bytes += text.len();
                if kept.bytes > max_bytes {
                    kept.over = true;
                    kept.events.clear();
                } else {
                    kept.events.push(text.clone());
                }
            }
            if done {
                return Relayed::Done { done: text, kept };
            }
            if !socket.send(text).await {
                return Relayed::ClientGone;
            }
        }
    }
}

/// A fresh id for a sync message.
fn sync_id() -> String {
    random_id("aimock_sync_", 12)
}

/// The session's configuration as a `session.update`'s `session`: its fields but those that are
/// `null` (the upstream's default), and the model only when the upstream's session has another.
fn session_update(config: &Config, upstream_model: Option<&str>) -> Value {
    let mut s = Map::new();
    s.insert("type".into(), json!("realtime"));
    for (k, v) in &config.fields {
        if k == "type" || v.is_null() {
            continue;
        }
        if k == "model" && v.as_str() == upstream_model {
            continue;
        }
        s.insert(k.clone(), v.clone());
    }
    Value::Object(s)
}

/// A conversation item as a client sends it (`conversation.item.create`'s `item`): its id, type
/// and content, without the server's fields (`object`, `status`, `phase`); audio parts as their
/// transcripts. `None` for an item with nothing to send.
fn upstream_item(item: &Value) -> Option<Value> {
    let id = id_of(item)?;
    let s = |k: &str| item.get(k).and_then(Value::as_str);
    match s("type")? {
        "message" => {
            let role = s("role")?;
            let mut parts = Vec::new();
            for p in item.get("content").and_then(Value::as_array)? {
                let ps = |k: &str| p.get(k).and_then(Value::as_str);
                let part = match ps("type") {
                    Some(t @ ("input_text" | "output_text")) => {
                        json!({"type": t, "text": ps("text")?})
                    }
                    Some("input_image") => {
                        let mut part =
                            json!({"type": "input_image", "image_url": ps("image_url")?});
                        if let Some(d) = ps("detail") {
                            part["detail"] = json!(d);
                        }
                        part
                    }
                    Some("input_audio") => match ps("transcript") {
                        Some(t) => json!({"type": "input_text", "text": t}),
                        None => continue,
                    },
                    Some("output_audio") => match ps("transcript") {
                        Some(t) => json!({"type": "output_text", "text": t}),
                        None => continue,
                    },
                    _ => continue,
                };
                parts.push(part);
            }
            if parts.is_empty() {
                return None;
            }
            Some(json!({"id": id, "type": "message", "role": role, "content": parts}))
        }
        "function_call" => Some(json!({
            "id": id, "type": "function_call", "name": s("name")?, "call_id": s("call_id")?,
            "arguments": s("arguments").unwrap_or(""),
        })),
        "function_call_output" => Some(json!({
            "id": id, "type": "function_call_output", "call_id": s("call_id")?,
            "output": s("output")?,
        })),
        _ => None,
    }
}

/// The collapsed turn with its audio: an audio fixture has `content` and `toolCalls` beside its
/// `audio` (ordered `blocks` become those two).
fn with_audio(response: &mut Value, bytes: &[u8]) {
    let Value::Object(r) = response else { return };
    if let Some(Value::Array(blocks)) = r.remove("blocks") {
        let mut text = String::new();
        let mut calls = Vec::new();
        for b in blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
                Some("toolCall") => {
                    let mut c = b.clone();
                    if let Value::Object(m) = &mut c {
                        m.remove("type");
                    }
                    calls.push(c);
                }
                _ => {}
            }
        }
        r.insert("content".into(), json!(text));
        if !calls.is_empty() {
            r.insert("toolCalls".into(), Value::Array(calls));
        }
    }
    r.insert("audio".into(), json!(audio::encode(bytes)));
}

impl State {
    /// Record mode: the response turn goes upstream (see the module's notes).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record(
        &mut self,
        session: &Session,
        socket: &mut Socket,
        mut turn: Turn,
        req: &ChatRequest,
        original: &str,
        in_conversation: bool,
        cid: Option<&str>,
    ) -> bool {
        turn.ex.set_source("proxy");
        if self.relay.is_none() {
            match Relay::open(session).await {
                Ok(r) => self.relay = Some(r),
                Err(why) => {
                    tracing::warn!("record: {why}");
                    let e = unavailable(why);
                    let sent = socket.send(error_event(&e, cid)).await;
                    turn.finish(e.status);
                    return sent;
                }
            }
        }
        let Some(relay) = self.relay.as_mut() else {
            return false;
        };
        let limits = session
            .core
            .recorder()
            .map_or((usize::MAX, usize::MAX), |r| {
                (
                    r.config.max_proxy_buffer_bytes,
                    r.config.max_proxy_buffer_frames,
                )
            });
        let sync = relay.sync(&self.config, &self.conversation.items);
        let relayed = relay
            .turn(socket, sync, original, &mut self.later, limits)
            .await;
        match relayed {
            Relayed::Done { done, kept } => {
                let output: Vec<Value> = serde_json::from_str::<Value>(&done)
                    .ok()
                    .and_then(|v| v.get("response")?.get("output")?.as_array().cloned())
                    .unwrap_or_default();
                if in_conversation {
                    for item in output {
                        let Some(id) = id_of(&item).map(str::to_owned) else {
                            continue;
                        };
                        if self.conversation.insert(item, None).is_ok() {
                            relay.items.insert(id);
                        }
                    }
                }
                self.save(session, &turn, req, kept).await;
                turn.finish(StatusCode::OK);
                socket.send(done).await
            }
            Relayed::Error(event) => {
                self.forget().await;
                let sent = socket.send(event).await;
                turn.finish(StatusCode::BAD_GATEWAY);
                sent
            }
            Relayed::Failed(why) => {
                tracing::warn!("record: {why}");
                self.forget().await;
                let e = failed(why);
                let sent = socket.send(error_event(&e, cid)).await;
                turn.finish(e.status);
                sent
            }
            Relayed::ClientGone => {
                turn.finish(StatusCode::OK);
                false
            }
        }
    }

    /// Drop the upstream socket: the next miss opens a new one.
    pub(super) async fn forget(&mut self) {
        if let Some(r) = self.relay.take() {
            r.up.close().await;
        }
    }

    /// Save a relayed turn as a fixture (not in proxy-only mode, nor when it was too large or
    /// did not complete).
    async fn save(&self, session: &Session, turn: &Turn, req: &ChatRequest, kept: Kept) {
        let Some(recorder) = session.core.recorder() else {
            return;
        };
        if recorder.config.proxy_only {
            return;
        }
        if kept.over {
            tracing::warn!("record: the turn was larger than the proxy buffer; not recorded");
            return;
        }
        let mut collapsed =
            collapse_stream(&super::collapse::COLLAPSER, sse(&kept.events).as_bytes());
        if !collapsed.complete {
            tracing::warn!(
                "record: the response did not complete ({}); not recorded",
                collapsed.warnings.join("; ")
            );
            return;
        }
        if kept.audio_over {
            collapsed.warnings.push(format!(
                "the output audio passed {MAX_AUDIO} bytes and was left out"
            ));
        } else if !kept.audio.is_empty() {
            with_audio(&mut collapsed.response, &kept.audio);
        }
        let rec = turn.recording(session.vendor.key, req);
        if let Err(why) =
            save_recording(&*session.core, &rec, collapsed, Some(timings(&kept.times))).await
        {
            tracing::warn!("record: {why}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_upstream_in_the_client_form_with_audio_as_its_transcript() {
        let user = json!({"id": "item_1", "object": "realtime.item", "status": "completed",
            "type": "message", "role": "user",
            "content": [{"type": "input_audio", "transcript": "hi"}, {"type": "input_audio", "transcript": null},
                        {"type": "input_image", "image_url": "data:x", "detail": "auto"}]});
        assert_eq!(
            upstream_item(&user).unwrap(),
            json!({"id": "item_1", "type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "hi"},
                {"type": "input_image", "image_url": "data:x", "detail": "auto"}]})
        );
        let said = json!({"id": "item_2", "type": "message", "role": "assistant", "phase": "final_answer",
            "content": [{"type": "output_audio", "transcript": "Hello"}]});
        assert_eq!(
            upstream_item(&said).unwrap()["content"],
            json!([{"type": "output_text", "text": "Hello"}])
        );
        let silent = json!({"id": "item_3", "type": "message", "role": "user",
            "content": [{"type": "input_audio", "transcript": null}]});
        assert!(upstream_item(&silent).is_none());
        let call = json!({"id": "item_4", "object": "realtime.item", "type": "function_call",
            "name": "f", "call_id": "c1", "arguments": "{}", "status": "completed"});
        assert_eq!(
            upstream_item(&call).unwrap(),
            json!({"id": "item_4", "type": "function_call", "name": "f", "call_id": "c1", "arguments": "{}"})
        );
        assert!(upstream_item(&json!({"type": "function_call_output", "call_id": "c"})).is_none());
        assert!(upstream_item(&json!(7)).is_none());
    }

    #[test]
    fn audio_joins_a_collapsed_turn_as_content_and_tool_calls() {
        let mut r = json!({"blocks": [{"type": "toolCall", "name": "f", "arguments": "{}", "id": "c"},
                                      {"type": "text", "text": "Done."}], "finishReason": "tool_calls"});
        with_audio(&mut r, b"\x01\x02");
        assert_eq!(r["content"], "Done.");
        assert_eq!(
            r["toolCalls"],
            json!([{"name": "f", "arguments": "{}", "id": "c"}])
        );
        assert_eq!(r["audio"], audio::encode(b"\x01\x02"));
        assert!(r.get("blocks").is_none());
    }
}
