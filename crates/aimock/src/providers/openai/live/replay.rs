//! Replaying a recorded GPT-Live session: aimock's `onLive` fixtures (`match.endpoint:
//! "openai-live"`, `response.live`: a transcript of client and server events in order).
//!
//! The client must send the recorded commands: each is compared whole with the recording (its
//! identifiers, named by the transcript's bindings, taken from the client), and input audio
//! byte for byte (in chunks of any size). A server event goes out once its barrier is reached
//! (that many commands, and that much audio since the last one), at its recorded time from the
//! first command (`liveTiming: "recorded"`, divided by the replay speed) or at once
//! (`"immediate"`), with the identifiers it defines minted fresh and those it references taken
//! from the client. Anything else is a mismatch, which ends the session (the caller sends
//! `aimock.error` and closes with 1008, as aimock does). Pure: nothing here touches a socket.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::http::ids::random_id;

/// An identifier the transcript ties between events.
#[derive(Debug, Clone)]
struct Binding {
    /// A JSON pointer into the entry's event.
    pointer: String,
    name: String,
    /// `define` (the first appearance) or `reference`.
    define: bool,
}

/// What the client is expected to send next.
#[derive(Debug)]
enum Step {
    /// A command: the transcript entry it must equal.
    Command(usize),
    /// A run of input audio (consecutive appends with the same other fields, joined).
    Audio { bytes: Vec<u8>, rest: Value },
}

/// A replay in progress.
#[derive(Debug)]
pub(in crate::providers::openai) struct Replay {
    entries: Vec<Value>,
    bindings: HashMap<usize, Vec<Binding>>,
    tape: Vec<Step>,
    cursor: usize,
    offset: usize,
    servers: Vec<usize>,
    next: usize,
    commands: u64,
    audio_bytes: u64,
    values: HashMap<String, String>,
    taken: HashSet<(&'static str, String)>,
    immediate: bool,
    speed: f64,
    start: Option<Instant>,
    /// The last command taken or event sent.
    last_activity: Instant,
    /// The last event sent was `session.closed`.
    closed: bool,
}

/// Which kind of identifier a pointer names: one value cannot stand for two names of a kind.
fn namespace(b: &Binding) -> &'static str {
    let p = b.pointer.as_str();
    if p.ends_with("client_event_id") {
        "client-event"
    } else if p == "/event_id" {
        "event"
    } else if p == "/session/id" {
        "session"
    } else if p == "/delegation/id" || p == "/delegation_id" {
        "delegation"
    } else if p.ends_with("/call_id") {
        "tool-call"
    } else if p == "/event/item/id" || p == "/event/item_id" {
        "response-item"
    } else {
        "response"
    }
}

/// The event without its audio.
fn without_audio(event: &Value) -> Value {
    let mut v = event.clone();
    if let Value::Object(m) = &mut v {
        m.remove("audio");
    }
    v
}

fn audio_of(event: &Value) -> Result<Vec<u8>, String> {
    event
        .get("audio")
        .and_then(Value::as_str)
        .and_then(super::audio::decode)
        .filter(|b| b.len() % 2 == 0)
        .ok_or_else(|| "input audio is not base64 PCM16".to_owned())
}

impl Replay {
    /// A replay of a fixture's `live` transcript.
    pub(in crate::providers::openai) fn new(
        live: &Value,
        immediate: bool,
        speed: f64,
    ) -> Result<Replay, String> {
        let entries: Vec<Value> = live
            .get("entries")
            .and_then(Value::as_array)
            .cloned()
            .ok_or("the transcript has no entries")?;
        let mut bindings: HashMap<usize, Vec<Binding>> = HashMap::new();
        for b in live
            .get("bindings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(entry), Some(pointer), Some(name)) = (
                b.get("entry").and_then(Value::as_u64),
                b.get("pointer").and_then(Value::as_str),
                b.get("name").and_then(Value::as_str),
            ) else {
                return Err("a binding lacks its entry, pointer or name".to_owned());
            };
            bindings.entry(entry as usize).or_default().push(Binding {
                pointer: pointer.to_owned(),
                name: name.to_owned(),
                define: b.get("action").and_then(Value::as_str) != Some("reference"),
            });
        }
        // Definitions first, so an entry may reference what it defines.
        for list in bindings.values_mut() {
            list.sort_by_key(|b| !b.define);
        }
        let mut tape = Vec::new();
        let mut servers = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let event = e.get("event").ok_or("an entry has no event")?;
            if e.get("direction").and_then(Value::as_str) == Some("server") {
                servers.push(i);
                continue;
            }
            let is_audio =
                event.get("type").and_then(Value::as_str) == Some("session.input_audio.append");
            if !is_audio || bindings.contains_key(&i) {
                tape.push(Step::Command(i));
                continue;
            }
            let bytes = audio_of(event)?;
            let rest = without_audio(event);
            match tape.last_mut() {
                Some(Step::Audio {
                    bytes: run,
                    rest: r,
                }) if *r == rest => run.extend(bytes),
                _ => tape.push(Step::Audio { bytes, rest }),
            }
        }
        Ok(Replay {
            entries,
            bindings,
            tape,
            cursor: 0,
            offset: 0,
            servers,
            next: 0,
            commands: 0,
            audio_bytes: 0,
            values: HashMap::new(),
            taken: HashSet::new(),
            immediate,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            start: None,
            last_activity: Instant::now(),
            closed: false,
        })
    }

    fn bind(&mut self, b: &Binding, value: &str) -> Result<(), String> {
        let existing = self.values.get(&b.name);
        if !b.define {
            return match existing {
                Some(v) if v == value => Ok(()),
                _ => Err(format!(
                    "identifier `{}` does not match the recording",
                    b.name
                )),
            };
        }
        let key = (namespace(b), value.to_owned());
        if existing.is_some() || self.taken.contains(&key) {
            return Err(format!("identifier `{}` is defined twice", b.name));
        }
        self.values.insert(b.name.clone(), value.to_owned());
        self.taken.insert(key);
        Ok(())
    }

    /// Take a client command; an error says how it departs from the recording.
    pub(in crate::providers::openai) fn accept(
        &mut self,
        event: &Value,
        now: Instant,
    ) -> Result<(), String> {
        let rest = without_audio(event);
        let empty_audio = event.get("audio").and_then(Value::as_str) == Some("");
        // Past a run of audio that is used up (an empty append of the same kind stays on it).
        while let Some(Step::Audio { bytes, rest: r }) = self.tape.get(self.cursor) {
            if self.offset == bytes.len() && !(empty_audio && *r == rest) {
                self.cursor += 1;
                self.offset = 0;
            } else {
                break;
            }
        }
        match self.tape.get(self.cursor) {
            None => return Err("the recording expects no more client input".to_owned()),
            Some(Step::Audio { bytes, rest: r }) => {
                let got = audio_of(event)?;
                let end = self.offset + got.len();
                if *r != rest || end > bytes.len() || bytes[self.offset..end] != got[..] {
                    return Err("input audio does not match the recording".to_owned());
                }
                self.offset = end;
                self.audio_bytes += got.len() as u64;
            }
            Some(Step::Command(i)) => {
                let i = *i;
                let mut template = self.entries[i]["event"].clone();
                for b in self.bindings.get(&i).cloned().unwrap_or_default() {
                    let value = event
                        .pointer(&b.pointer)
                        .and_then(Value::as_str)
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| format!("the command lacks `{}`", b.pointer))?
                        .to_owned();
                    self.bind(&b, &value)?;
                    match template.pointer_mut(&b.pointer) {
                        Some(slot) => *slot = Value::String(value),
                        None => return Err(format!("the recording lacks `{}`", b.pointer)),
                    }
                }
                if template != *event {
                    let kind = event.get("type").and_then(Value::as_str).unwrap_or("?");
                    let want = template.get("type").and_then(Value::as_str).unwrap_or("?");
                    return Err(format!(
                        "got {kind}, which differs from the recorded {want}"
                    ));
                }
                if event.get("type").and_then(Value::as_str) == Some("session.input_audio.append") {
                    self.audio_bytes += audio_of(event)?.len() as u64;
                } else {
                    self.commands += 1;
                    self.audio_bytes = 0;
                }
                self.cursor += 1;
            }
        }
        self.start.get_or_insert(now);
        self.last_activity = now;
        Ok(())
    }

    /// Whether the next server event's barrier is reached.
    fn eligible(&self) -> bool {
        let Some(&i) = self.servers.get(self.next) else {
            return false;
        };
        let Some(b) = self.entries[i].get("barrier") else {
            return false;
        };
        let commands = b.get("command").and_then(Value::as_u64).unwrap_or(0);
        let audio = b.get("audioBytes").and_then(Value::as_u64).unwrap_or(0);
        self.commands > commands || (self.commands == commands && self.audio_bytes >= audio)
    }

    /// When the next server event is due, once its barrier is reached.
    pub(in crate::providers::openai) fn next_at(&self) -> Option<Instant> {
        let start = self.start?;
        if !self.eligible() {
            return None;
        }
        if self.immediate {
            return Some(start);
        }
        let i = self.servers[self.next];
        let at = self.entries[i]["atMs"].as_f64().unwrap_or(0.0).max(0.0) / self.speed;
        Some(start + Duration::from_secs_f64((at / 1000.0).min(7.0 * 24.0 * 3600.0)))
    }

    /// The server events due by `now`, in order, their identifiers bound.
    pub(in crate::providers::openai) fn due(
        &mut self,
        now: Instant,
    ) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        while self.next_at().is_some_and(|at| at <= now) {
            let i = self.servers[self.next];
            let mut event = self.entries[i]["event"].clone();
            for b in self.bindings.get(&i).cloned().unwrap_or_default() {
                if b.define {
                    let fresh = random_id("aimock-", 24);
                    self.bind(&b, &fresh)?;
                }
                let value = self
                    .values
                    .get(&b.name)
                    .cloned()
                    .ok_or_else(|| format!("identifier `{}` is not known yet", b.name))?;
                match event.pointer_mut(&b.pointer) {
                    Some(slot) => *slot = Value::String(value),
                    None => return Err(format!("the recording lacks `{}`", b.pointer)),
                }
            }
            self.closed = event.get("type").and_then(Value::as_str) == Some("session.closed");
            out.push(event.to_string());
            self.next += 1;
            self.last_activity = now;
        }
        Ok(out)
    }

    /// While the recording waits for client input it has not had: the moment waiting becomes a
    /// mismatch, `timeout` after the last activity.
    pub(in crate::providers::openai) fn waiting_until(&self, timeout: Duration) -> Option<Instant> {
        // Input is left unless the cursor is past the tape, or on its last step, a run of audio
        // wholly received.
        let input_left = match self.tape.get(self.cursor) {
            None => false,
            Some(Step::Audio { bytes, .. }) if self.cursor + 1 == self.tape.len() => {
                self.offset < bytes.len()
            }
            Some(_) => true,
        };
        (input_left && !self.eligible()).then(|| self.last_activity + timeout)
    }

    /// Every server event was sent.
    pub(in crate::providers::openai) fn done(&self) -> bool {
        self.next >= self.servers.len()
    }

    /// The last event sent ended the session.
    pub(in crate::providers::openai) fn closed(&self) -> bool {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn transcript() -> Value {
        json!({
            "version": 1,
            "model": "gpt-live-1",
            "entries": [
                {"direction": "client", "atMs": 0, "event": {"type": "session.start", "event_id": "c1", "session": {"model": "gpt-live-1"}}},
                {"direction": "server", "atMs": 5, "barrier": {"command": 1, "audioBytes": 0},
                 "event": {"type": "session.started", "event_id": "s1", "client_event_id": "c1", "session": {"id": "live_x"}}},
                {"direction": "client", "atMs": 10, "event": {"type": "session.input_audio.append", "audio": "AAECAw=="}},
                {"direction": "client", "atMs": 11, "event": {"type": "session.input_audio.append", "audio": "BAU="}},
                {"direction": "server", "atMs": 20, "barrier": {"command": 1, "audioBytes": 6},
                 "event": {"type": "session.output_transcript.delta", "delta": "hi", "start_ms": 0, "end_ms": 1, "event_id": "s2"}},
                {"direction": "client", "atMs": 30, "event": {"type": "session.close"}},
                {"direction": "server", "atMs": 40, "barrier": {"command": 2, "audioBytes": 0},
                 "event": {"type": "session.closed", "event_id": "s3", "reason": "close_requested"}}
            ],
            "bindings": [
                {"entry": 0, "pointer": "/event_id", "name": "start", "action": "define", "owner": "client"},
                {"entry": 1, "pointer": "/client_event_id", "name": "start", "action": "reference", "owner": "client"},
                {"entry": 1, "pointer": "/session/id", "name": "sess", "action": "define", "owner": "server"}
            ]
        })
    }

    #[test]
    fn a_recorded_session_replays_at_its_barriers_with_ids_bound() {
        let mut r = Replay::new(&transcript(), true, 1.0).expect("valid");
        let t = Instant::now();
        assert!(
            r.due(t).expect("ok").is_empty(),
            "nothing before the first command"
        );
        r.accept(&json!({"type": "session.start", "event_id": "mine", "session": {"model": "gpt-live-1"}}), t)
            .expect("matches");
        let out: Vec<Value> = r
            .due(t)
            .expect("ok")
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0]["client_event_id"], "mine",
            "the client's own id comes back"
        );
        assert!(out[0]["session"]["id"]
            .as_str()
            .unwrap()
            .starts_with("aimock-"));
        // The audio arrives in other chunk sizes: 6 bytes in all.
        r.accept(
            &json!({"type": "session.input_audio.append", "audio": "AAE="}),
            t,
        )
        .expect("audio");
        assert!(
            r.due(t).expect("ok").is_empty(),
            "the barrier wants 6 bytes"
        );
        r.accept(
            &json!({"type": "session.input_audio.append", "audio": "AgMEBQ=="}),
            t,
        )
        .expect("audio");
        assert_eq!(r.due(t).expect("ok").len(), 1);
        r.accept(&json!({"type": "session.close"}), t)
            .expect("close");
        assert_eq!(r.due(t).expect("ok").len(), 1);
        assert!(r.done() && r.closed());
    }

    #[test]
    fn departures_from_the_recording_are_mismatches() {
        let t = Instant::now();
        let mut r = Replay::new(&transcript(), true, 1.0).expect("valid");
        assert!(r.accept(&json!({"type": "session.close"}), t).is_err());
        let mut r = Replay::new(&transcript(), true, 1.0).expect("valid");
        assert!(
            r.accept(
                &json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
                t
            )
            .is_err(),
            "the bound event_id is missing"
        );
        let mut r = Replay::new(&transcript(), true, 1.0).expect("valid");
        r.accept(
            &json!({"type": "session.start", "event_id": "a", "session": {"model": "gpt-live-1"}}),
            t,
        )
        .expect("ok");
        assert!(
            r.accept(
                &json!({"type": "session.input_audio.append", "audio": "BwcHBw=="}),
                t
            )
            .is_err(),
            "other audio bytes"
        );
    }

    #[test]
    fn waiting_for_input_the_recording_expects_has_a_deadline() {
        let mut r = Replay::new(&transcript(), true, 1.0).expect("valid");
        let t = Instant::now();
        let wait = Duration::from_secs(30);
        assert!(
            r.waiting_until(wait).is_some(),
            "the recording starts with a command"
        );
        r.accept(
            &json!({"type": "session.start", "event_id": "a", "session": {"model": "gpt-live-1"}}),
            t,
        )
        .expect("ok");
        assert_eq!(
            r.waiting_until(wait),
            None,
            "session.started is due, not client input"
        );
        r.due(t).expect("ok");
        assert_eq!(r.waiting_until(wait), Some(t + wait));
    }

    #[test]
    fn recorded_timing_is_kept_and_divided_by_the_replay_speed() {
        let mut r = Replay::new(&transcript(), false, 5.0).expect("valid");
        let t = Instant::now();
        r.accept(
            &json!({"type": "session.start", "event_id": "a", "session": {"model": "gpt-live-1"}}),
            t,
        )
        .expect("ok");
        assert_eq!(r.next_at(), Some(t + Duration::from_millis(1)));
        assert!(r.due(t).expect("ok").is_empty());
        assert_eq!(r.due(t + Duration::from_millis(1)).expect("ok").len(), 1);
    }
}
