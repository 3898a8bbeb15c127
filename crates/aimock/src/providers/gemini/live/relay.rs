//! Record mode for Gemini Live: a turn no fixture answers goes to the configured upstream
//! (`--provider-gemini`), over a Gemini Live socket of its own, opened at the session's first
//! such turn and kept for the later ones.
//!
//! - The upstream gets the client's `setup` as sent (less `sessionResumption`: this session owns
//!   resumption, and a handle of ours means nothing upstream), and its `setupComplete` is not
//!   relayed (the client had ours). Context updates the client sent go after it.
//! - Then the history the upstream has not seen: the turns answered here by fixtures, and the
//!   new input, as one `clientContent` with `turnComplete: true`; when all it lacks is the
//!   responses to calls it made, as a `toolResponse`. What it has seen is counted, so the next
//!   miss sends only what is new.
//! - Its `serverContent`, `toolCall`, `toolCallCancellation` and `usageMetadata` messages are
//!   relayed as they arrive; its `sessionResumptionUpdate` and `goAway` are not (ours are sent).
//!   The turn ends at `serverContent.turnComplete`, which is held back until the turn is saved
//!   and journaled, so the same turn sent right after replays. An upstream that stops after a
//!   `toolCall` (as the real service does until the function responses come) ends the turn when
//!   the client speaks next; a `turnComplete` it sends later without new content is the old
//!   turn's and is dropped.
//! - The answer (text, calls) joins this session's history as a fixture's would, and is saved
//!   as a fixture: the upstream's messages reshaped into `generateContent` chunks and collapsed
//!   by the Gemini collapser, so it replays through this session's renderer.
//! - An upstream that cannot be reached, refuses the setup, sends an error or closes mid-turn
//!   ends the session as Gemini Live ends one on a server error: a close with 1011 and a reason
//!   naming the upstream. Audio input reaches the upstream as its transcript text only.

use std::collections::VecDeque;

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::render::{Call, Output, Piece};
use super::{resume, Live};
use crate::conversation::{ChatRequest, Message, Role};
use crate::pipeline::socket::{Session, Turn};
use crate::record::proxy::Host;
use crate::record::socket::Upstream;
use crate::stream::socket::{CloseCode, Frame, Socket};

/// Whether record mode is on for this session's server.
pub(super) fn on(session: &Session) -> bool {
    session.core.recorder().is_some()
}

/// One client socket's upstream session.
#[derive(Debug, Default)]
pub(super) struct Relay {
    /// The client's `setup`, as the upstream gets it.
    setup: Option<String>,
    /// The client's context updates, in order.
    updates: Vec<String>,
    /// The upstream socket, once a turn needed it.
    up: Option<Upstream>,
    /// How many messages of the history the upstream has seen.
    seen: usize,
    /// The upstream's last turn ended at a tool call: its `turnComplete` may still come.
    owed: bool,
}

/// How a relayed turn ended.
enum End {
    /// At the upstream's `turnComplete` (held back: this message).
    Complete(String),
    /// At a tool call, the client having spoken since.
    AtCall,
    /// The client left.
    ClientGone,
}

impl Relay {
    /// Keep the client's `setup` message for the upstream.
    pub(super) fn keep_setup(&mut self, raw: &str) {
        self.setup = Some(upstream_setup(raw));
    }

    /// A context update: kept for an upstream opened later, sent now to an open one (an upstream
    /// that fails it is dropped, and opened afresh by the next miss).
    pub(super) async fn context_update(&mut self, raw: &str) {
        self.updates.push(raw.to_owned());
        if let Some(up) = self.up.as_mut() {
            if let Err(why) = up.send(raw).await {
                tracing::warn!("record: {why}");
                self.drop_upstream().await;
            }
        }
    }

    /// Close the upstream socket, if one is open (the session is over).
    pub(super) async fn close(&mut self) {
        self.drop_upstream().await;
    }

    async fn drop_upstream(&mut self) {
        if let Some(up) = self.up.take() {
            up.close().await;
        }
        self.seen = 0;
        self.owed = false;
    }

    /// Open the upstream session, unless it is open: connect, `setup`, wait for `setupComplete`,
    /// send the context updates.
    async fn open(&mut self, session: &Session) -> Result<(), String> {
        if self.up.is_none() {
            let setup = self
                .setup
                .clone()
                .ok_or("the session has no setup to send upstream")?;
            let mut up = session.connect_upstream().await?;
            up.send(&setup).await?;
            loop {
                let Some(m) = up.recv().await? else {
                    return Err(closed(&up, "before setupComplete"));
                };
                let v: Value = serde_json::from_str(&m).unwrap_or(Value::Null);
                if v.get("setupComplete").is_some() {
                    break;
                }
                if let Some(e) = v.get("error") {
                    return Err(format!("the upstream refused the setup: {}", error_text(e)));
                }
            }
            for u in &self.updates {
                up.send(u).await?;
            }
            self.seen = 0;
            self.owed = false;
            self.up = Some(up);
        }
        Ok(())
    }
}

/// The setup as the upstream gets it: without `sessionResumption`.
fn upstream_setup(raw: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(raw) else {
        return raw.to_owned();
    };
    if let Some(Value::Object(s)) = v.get_mut("setup") {
        s.remove("sessionResumption");
        s.remove("session_resumption");
    }
    v.to_string()
}

/// Why the upstream's socket ended: its close frame's code and reason.
fn closed(up: &Upstream, when: &str) -> String {
    match up.closed_with() {
        Some((code, reason)) if !reason.is_empty() => {
            format!("the upstream closed the socket {when} ({code}: {reason})")
        }
        Some((code, _)) => format!("the upstream closed the socket {when} ({code})"),
        None => format!("the upstream closed the socket {when}"),
    }
}

/// An error message's text: `{code, message, status}` as `message (status)`.
fn error_text(e: &Value) -> String {
    let message = e.get("message").and_then(Value::as_str);
    let status = e.get("status").and_then(Value::as_str);
    match (message, status) {
        (Some(m), Some(s)) => format!("{m} ({s})"),
        (Some(m), None) => m.to_owned(),
        _ => e.to_string(),
    }
}

/// A close reason naming the upstream, its URLs cut to scheme and host (a reason holds 123
/// bytes).
fn close_reason(key: &str, why: &str) -> String {
    let words: Vec<String> = why
        .split(' ')
        .map(|w| {
            let Some(rest) = w
                .strip_prefix("ws://")
                .map(|r| ("ws://", r))
                .or_else(|| w.strip_prefix("wss://").map(|r| ("wss://", r)))
            else {
                return w.to_owned();
            };
            let host = rest.1.split('/').next().unwrap_or_default();
            format!("{}{host}", rest.0)
        })
        .collect();
    format!("{key} upstream: {}", words.join(" "))
}

/// A function response's payload from a tool message's text: the JSON object it holds, else
/// the text itself (none for an empty one).
fn response_value(text: Option<&str>) -> Option<Value> {
    let t = text.unwrap_or_default();
    if t.is_empty() {
        return None;
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => Some(Value::String(t.to_owned())),
    }
}

/// The name of the call `id` in `history`.
fn call_name<'a>(history: &'a [Message], id: &str) -> &'a str {
    history
        .iter()
        .rev()
        .flat_map(|m| m.tool_calls.iter())
        .find(|c| c.id == id)
        .map(|c| c.name.as_str())
        .unwrap_or_default()
}

fn function_response(history: &[Message], m: &Message) -> Value {
    let id = m.tool_call_id.as_deref().unwrap_or_default();
    let mut r = Map::new();
    r.insert("id".into(), id.into());
    r.insert("name".into(), call_name(history, id).into());
    if let Some(v) = response_value(m.text.as_deref()) {
        r.insert("response".into(), v);
    }
    Value::Object(r)
}

/// A history message as a `Content`.
fn content(history: &[Message], m: &Message) -> Value {
    if m.tool_call_id.is_some() {
        let part = json!({"functionResponse": function_response(history, m)});
        return json!({"role": "user", "parts": [part]});
    }
    let mut parts = Vec::new();
    if let Some(t) = &m.text {
        parts.push(json!({ "text": t }));
    }
    for c in &m.tool_calls {
        let args = serde_json::from_str::<Value>(&c.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        parts.push(json!({"functionCall": {"id": c.id, "name": c.name, "args": args}}));
    }
    let role = if m.role == Role::Assistant {
        "model"
    } else {
        "user"
    };
    json!({"role": role, "parts": parts})
}

/// What brings the upstream's history level with ours: the responses to its calls as a
/// `toolResponse`, or the unseen turns as one complete `clientContent`.
fn sync_message(history: &[Message], seen: usize) -> String {
    let unseen = history.get(seen..).unwrap_or_default();
    let only_results = !unseen.is_empty()
        && unseen
            .iter()
            .all(|m| m.role == Role::Tool && m.tool_call_id.is_some());
    if only_results && seen > 0 {
        let responses: Vec<Value> = unseen
            .iter()
            .map(|m| function_response(history, m))
            .collect();
        return json!({"toolResponse": {"functionResponses": responses}}).to_string();
    }
    let turns: Vec<Value> = unseen
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| content(history, m))
        .collect();
    json!({"clientContent": {"turns": turns, "turnComplete": true}}).to_string()
}

/// Whether an upstream message carries the model's content (anything but the turn's end,
/// generation's end and usage).
fn has_content(v: &Map<String, Value>) -> bool {
    if v.contains_key("toolCall") || v.contains_key("toolCallCancellation") {
        return true;
    }
    v.get("serverContent")
        .and_then(Value::as_object)
        .is_some_and(|sc| {
            ["modelTurn", "outputTranscription", "interrupted"]
                .iter()
                .any(|k| sc.get(*k).is_some_and(|x| !x.is_null()))
        })
}

/// A turn's upstream messages as the model's answer and as `generateContent` chunks for the
/// Gemini collapser (the last with `finishReason` and the usage). Calls without an id get the
/// one this session would give them (`first_call` numbers them).
fn answer(kept: &[Map<String, Value>], first_call: usize) -> (Output, Vec<String>) {
    let model_parts = |v: &Map<String, Value>| -> Vec<Value> {
        v.get("serverContent")
            .and_then(|s| s.get("modelTurn"))
            .and_then(|t| t.get("parts"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    // An audio session's words are its output transcription.
    let has_text = kept.iter().any(|v| {
        model_parts(v)
            .iter()
            .any(|p| p.get("text").and_then(Value::as_str).is_some())
    });
    let mut out = Output::default();
    let mut chunks = Vec::new();
    let mut usage: Option<Map<String, Value>> = None;
    let mut n = first_call;
    for v in kept {
        if let Some(Value::Object(u)) = v.get("usageMetadata") {
            usage = Some(
                u.iter()
                    .filter(|(_, x)| x.is_number())
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .collect(),
            );
        }
        let mut parts = Vec::new();
        for p in model_parts(v) {
            let Some(t) = p.get("text").and_then(Value::as_str) else {
                continue;
            };
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                parts.push(json!({"text": t, "thought": true}));
            } else {
                push_text(&mut out, t);
                parts.push(json!({ "text": t }));
            }
        }
        if !has_text {
            let heard = v
                .get("serverContent")
                .and_then(|s| s.get("outputTranscription"))
                .and_then(|t| t.get("text"))
                .and_then(Value::as_str);
            if let Some(t) = heard {
                push_text(&mut out, t);
                parts.push(json!({ "text": t }));
            }
        }
        let calls = v
            .get("toolCall")
            .and_then(|t| t.get("functionCalls"))
            .and_then(Value::as_array);
        let mut made = Vec::new();
        for c in calls.into_iter().flatten() {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let id = c
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("call_gemini_{name}_{n}"));
            n += 1;
            let args = c
                .get("args")
                .filter(|a| a.is_object())
                .cloned()
                .unwrap_or_else(|| json!({}));
            parts.push(json!({"functionCall": {"id": id, "name": name, "args": args}}));
            made.push(Call { id, name, args });
        }
        if !made.is_empty() {
            out.pieces.push(Piece::Calls(made));
        }
        if !parts.is_empty() {
            chunks.push(
                json!({"candidates": [{"content": {"role": "model", "parts": parts}}]}).to_string(),
            );
        }
    }
    let mut last = json!({"candidates": [
        {"content": {"role": "model", "parts": []}, "finishReason": "STOP"}
    ]});
    if let Some(u) = usage.filter(|u| !u.is_empty()) {
        last["usageMetadata"] = Value::Object(u);
    }
    chunks.push(last.to_string());
    (out, chunks)
}

fn push_text(out: &mut Output, t: &str) {
    if let Some(Piece::Text(s)) = out.pieces.last_mut() {
        s.push_str(t);
    } else {
        out.pieces.push(Piece::Text(t.to_owned()));
    }
}

/// The next message of the upstream, or of the client once it may end the turn.
enum Next {
    Upstream(Result<Option<String>, String>),
    Client(Option<Frame>),
}

/// Relay one turn's upstream messages to the client, keeping those that make the answer.
async fn relay_turn(
    up: &mut Upstream,
    socket: &mut Socket,
    inbox: &mut VecDeque<Frame>,
    owed: &mut bool,
    kept: &mut Vec<Map<String, Value>>,
) -> Result<End, String> {
    let mut saw_call = false;
    let mut content = false;
    loop {
        let next = if saw_call {
            tokio::select! {
                m = up.recv() => Next::Upstream(m),
                f = socket.recv() => Next::Client(f),
            }
        } else {
            Next::Upstream(up.recv().await)
        };
        let text = match next {
            Next::Client(Some(f)) => {
                inbox.push_back(f);
                *owed = true;
                return Ok(End::AtCall);
            }
            Next::Client(None) => return Ok(End::ClientGone),
            Next::Upstream(Err(e)) => return Err(e),
            Next::Upstream(Ok(None)) => return Err(closed(up, "mid-turn")),
            Next::Upstream(Ok(Some(t))) => t,
        };
        // Nothing but a JSON object is a message: anything else is skipped.
        let Ok(Value::Object(v)) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(e) = v.get("error") {
            return Err(format!("the upstream sent an error: {}", error_text(e)));
        }
        if ["setupComplete", "sessionResumptionUpdate", "goAway"]
            .iter()
            .any(|k| v.contains_key(*k))
        {
            continue;
        }
        let done = v
            .get("serverContent")
            .and_then(|s| s.get("turnComplete"))
            .and_then(Value::as_bool)
            == Some(true);
        if has_content(&v) {
            content = true;
            *owed = false;
        } else if *owed && !content {
            // The end of the turn that ended at its tool call.
            if done {
                *owed = false;
            }
            continue;
        }
        saw_call |= v.contains_key("toolCall");
        kept.push(v);
        if done {
            return Ok(End::Complete(text));
        }
        if !socket.send(text).await {
            return Ok(End::ClientGone);
        }
    }
}

impl Live {
    /// Record mode: the turn goes to the upstream session, its messages are relayed, and its
    /// answer joins the history and is saved. False when the session is over.
    pub(super) async fn record(
        &mut self,
        session: &Session,
        socket: &mut Socket,
        mut turn: Turn,
        req: &ChatRequest,
        transcript: Option<&str>,
    ) -> bool {
        turn.ex.set_source("proxy");
        let key = session.vendor.key;
        let relayed = async {
            if let Some(t) = transcript {
                let heard =
                    json!({"serverContent": {"inputTranscription": {"text": t, "finished": true}}});
                if !socket.send(heard.to_string()).await {
                    return Ok((End::ClientGone, Vec::new()));
                }
            }
            let relay = &mut self.relay;
            relay.open(session).await?;
            let seen = relay.seen;
            let Some(up) = relay.up.as_mut() else {
                return Err("the upstream socket is not open".to_owned());
            };
            up.begin_turn();
            up.send(&sync_message(&self.saved.history, seen)).await?;
            let mut kept = Vec::new();
            let end = relay_turn(up, socket, &mut self.inbox, &mut relay.owed, &mut kept).await?;
            Ok::<_, String>((end, kept))
        }
        .await;
        let (end, kept) = match relayed {
            Ok(r) => r,
            Err(why) => {
                tracing::warn!("record: {why}");
                self.relay.drop_upstream().await;
                socket
                    .close_with(CloseCode::Error, &close_reason(key, &why))
                    .await;
                turn.finish(StatusCode::BAD_GATEWAY);
                return false;
            }
        };
        let held = match end {
            End::ClientGone => {
                turn.finish(StatusCode::OK);
                return false;
            }
            End::Complete(m) => Some(m),
            End::AtCall => None,
        };
        let (out, chunks) = answer(&kept, self.saved.calls);
        if let Some(up) = self.relay.up.as_ref() {
            let rec = turn.recording(key, req);
            if let Err(why) = up
                .save_events(
                    &*session.core,
                    &rec,
                    &super::super::collapse::COLLAPSER,
                    &chunks,
                )
                .await
            {
                tracing::warn!("record: {why}");
            }
        }
        turn.finish(StatusCode::OK);
        let after = self.after(&out);
        self.relay.seen = after.history.len();
        self.saved = after;
        let mut last = Vec::new();
        if self.conf.as_ref().is_some_and(|c| c.resumption) {
            let handle = resume::save(self.saved.clone());
            last.push(
                json!({"sessionResumptionUpdate": {"newHandle": handle, "resumable": true}})
                    .to_string(),
            );
        }
        last.extend(held);
        last.is_empty() || socket.send_all(last).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::ToolCallRef;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn the_setup_goes_upstream_without_its_resumption() {
        let s = upstream_setup(
            r#"{"setup": {"model": "models/m", "sessionResumption": {"handle": "sess_x"}}}"#,
        );
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v, json!({"setup": {"model": "models/m"}}));
        assert_eq!(upstream_setup("not json"), "not json");
    }

    #[test]
    fn unseen_turns_go_as_client_content_and_responses_to_its_calls_as_a_tool_response() {
        let history = vec![
            Message::text(Role::User, "weather?"),
            Message {
                role: Role::Assistant,
                text: None,
                tool_calls: vec![ToolCallRef {
                    id: "c1".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into(),
                }],
                tool_call_id: None,
            },
            Message::tool_result("c1", r#"{"t":20}"#),
        ];
        let all: Value = serde_json::from_str(&sync_message(&history, 0)).unwrap();
        let turns = &all["clientContent"]["turns"];
        assert_eq!(all["clientContent"]["turnComplete"], true);
        assert_eq!(
            turns[0],
            json!({"role": "user", "parts": [{"text": "weather?"}]})
        );
        assert_eq!(
            turns[1]["parts"][0]["functionCall"],
            json!({"id": "c1", "name": "get_weather", "args": {"city": "Paris"}})
        );
        assert_eq!(turns[1]["role"], "model");
        assert_eq!(
            turns[2]["parts"][0]["functionResponse"],
            json!({"id": "c1", "name": "get_weather", "response": {"t": 20}})
        );
        let results: Value = serde_json::from_str(&sync_message(&history, 2)).unwrap();
        assert_eq!(
            results,
            json!({"toolResponse": {"functionResponses": [
                {"id": "c1", "name": "get_weather", "response": {"t": 20}}
            ]}})
        );
        // Past the end (never the case, but no panic): an empty complete turn.
        let none: Value = serde_json::from_str(&sync_message(&history, 9)).unwrap();
        assert_eq!(none["clientContent"]["turns"], json!([]));
    }

    #[test]
    fn a_turns_messages_become_the_answer_and_gemini_chunks_that_collapse_to_it() {
        let kept = vec![
            obj(json!({"serverContent": {"modelTurn": {"parts": [{"text": "Hel"}]}}})),
            obj(json!({"serverContent": {"modelTurn": {"parts": [{"text": "lo"}]}}})),
            obj(json!({"toolCall": {"functionCalls": [{"name": "f", "args": {"a": 1}}]}})),
            obj(json!({"serverContent": {"generationComplete": true}})),
            obj(json!({"serverContent": {"turnComplete": true},
                "usageMetadata": {"promptTokenCount": 3, "responseTokenCount": 2, "totalTokenCount": 5,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]}})),
        ];
        let (out, chunks) = answer(&kept, 4);
        assert_eq!(out.text().as_deref(), Some("Hello"));
        let calls: Vec<&Call> = out.calls().collect();
        assert_eq!(calls[0].id, "call_gemini_f_4");
        assert_eq!(calls[0].args, json!({"a": 1}));
        let body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        let c = crate::record::collapse::collapse_stream(
            &crate::providers::gemini::collapse::COLLAPSER,
            body.as_bytes(),
        );
        assert!(c.complete);
        assert_eq!(c.response["content"], "Hello");
        assert_eq!(c.response["toolCalls"][0]["id"], "call_gemini_f_4");
        assert_eq!(c.response["toolCalls"][0]["arguments"], r#"{"a":1}"#);
        assert_eq!(
            c.response["usage"],
            json!({"promptTokenCount": 3, "responseTokenCount": 2, "totalTokenCount": 5})
        );
    }

    #[test]
    fn an_audio_turns_words_are_its_transcription() {
        let kept = vec![
            obj(
                json!({"serverContent": {"modelTurn": {"parts": [{"inlineData": {"data": "AAAA"}}]}}}),
            ),
            obj(json!({"serverContent": {"outputTranscription": {"text": "Hi"}}})),
        ];
        let (out, _) = answer(&kept, 0);
        assert_eq!(out.text().as_deref(), Some("Hi"));
    }

    #[test]
    fn close_reasons_name_the_upstream_and_cut_its_urls_to_the_host() {
        let r = close_reason(
            "gemini",
            "the upstream ws://127.0.0.1:9/ws/google.ai.x.BidiGenerateContent?key=k refused the socket: IO error",
        );
        assert_eq!(
            r,
            "gemini upstream: the upstream ws://127.0.0.1:9 refused the socket: IO error"
        );
    }

    #[test]
    fn only_content_messages_have_content() {
        assert!(has_content(&obj(json!({"toolCall": {}}))));
        assert!(has_content(&obj(
            json!({"serverContent": {"modelTurn": {"parts": []}}})
        )));
        assert!(!has_content(&obj(
            json!({"serverContent": {"turnComplete": true}, "usageMetadata": {}})
        )));
        assert!(!has_content(&obj(
            json!({"serverContent": {"generationComplete": true}})
        )));
    }
}
