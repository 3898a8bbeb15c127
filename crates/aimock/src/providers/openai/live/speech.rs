//! What the Live model says in a turn: a fixture's words and audio as transcript and audio
//! deltas on the session timeline with the delegations it makes, and the Responses delegation's
//! events nested in `response.event`. Pure: nothing here touches a socket.

use serde_json::{json, Map, Value};

use super::audio::{self, Format};
use super::config::Delegation;
use super::events::event;
use crate::conversation::ToolCallRef;
use crate::fixture::Reply;
use crate::http::ids::random_id;

/// The function tools the Responses backend declares (the names `toolName` fixtures match).
pub(super) fn tool_names(responses: Option<&Map<String, Value>>) -> Vec<String> {
    responses
        .and_then(|r| r.get("tools"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// What a fixture has the model say: its words, its audio (when the fixture gives it) and the
/// work it delegates.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spoken {
    pub(super) text: String,
    pub(super) audio: Option<Vec<u8>>,
    /// Tool calls: (id when the fixture gives one, name, arguments).
    pub(super) calls: Vec<(Option<String>, String, String)>,
}

/// A spoken turn's events, and the delegations it created.
pub(super) struct Rendered {
    pub(super) events: Vec<String>,
    pub(super) calls: Vec<ToolCallRef>,
}

impl Spoken {
    pub(super) fn from_reply(reply: &Reply) -> Option<Spoken> {
        match reply {
            Reply::Message(m) => Some(Spoken {
                text: m.content_text().map(|t| t.into_owned()).unwrap_or_default(),
                audio: None,
                calls: m
                    .tool_calls()
                    .map(|c| (c.id.clone(), c.name.clone(), c.arguments.clone()))
                    .collect(),
            }),
            Reply::Other {
                kind: "audio",
                value,
            } => Some(Spoken {
                text: value
                    .get("content")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                audio: value
                    .get("audio")
                    .and_then(Value::as_str)
                    .and_then(audio::decode),
                // An audio reply may delegate too (a recorded turn that did).
                calls: value
                    .get("toolCalls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| {
                        let name = c.get("name").and_then(Value::as_str)?.to_owned();
                        let arguments = match c.get("arguments") {
                            Some(Value::String(s)) => s.clone(),
                            None | Some(Value::Null) => "{}".to_owned(),
                            Some(other) => other.to_string(),
                        };
                        let id = c.get("id").and_then(Value::as_str).map(str::to_owned);
                        Some((id, name, arguments))
                    })
                    .collect(),
            }),
            _ => None,
        }
    }

    /// The transcript in chunks, each followed by its share of the audio (the fixture's, or
    /// silence as long as the words take), on the session timeline from `at_ms`; then a
    /// `session.delegation.created` per tool call.
    pub(super) fn render(
        &self,
        format: Format,
        chunk: usize,
        at_ms: u64,
        owner: Delegation,
        cid: Option<&str>,
    ) -> Rendered {
        let audio = self.audio.clone().unwrap_or_else(|| {
            if self.text.is_empty() {
                Vec::new()
            } else {
                format.silence(audio::speech_ms(&self.text))
            }
        });
        let total_ms = format.ms(audio.len());
        let words = crate::stream::chunk_text(&self.text, chunk);
        let parts = format.split(&audio, words.len().max(1));
        let mut events = Vec::new();
        let n = words.len().max(parts.len());
        let mut t = at_ms;
        for i in 0..n {
            let share = parts.get(i).map_or(0, |p| format.ms(p.len()));
            if let Some(w) = words.get(i) {
                let mut m = event("session.output_transcript.delta", cid);
                m.insert("delta".to_owned(), json!(w));
                m.insert("start_ms".to_owned(), json!(t));
                m.insert("end_ms".to_owned(), json!(t + share));
                events.push(Value::Object(m).to_string());
            }
            if let Some(p) = parts.get(i) {
                let mut m = Map::new();
                m.insert("type".to_owned(), json!("session.output_audio.delta"));
                m.insert("delta".to_owned(), json!(audio::encode(p)));
                events.push(Value::Object(m).to_string());
            }
            t += share;
        }
        let mut calls = Vec::new();
        for (id, name, arguments) in &self.calls {
            let id = id.clone().unwrap_or_else(|| random_id("dlg_", 24));
            let mut delegation =
                json!({ "id": id, "target": owner.as_str(), "type": "delegation" });
            if owner == Delegation::Responses {
                delegation["response_id"] = json!(random_id("resp_", 24));
            }
            let mut m = event("session.delegation.created", cid);
            m.insert("delegation".to_owned(), delegation);
            m.insert("offset_ms".to_owned(), json!(at_ms + total_ms));
            events.push(Value::Object(m).to_string());
            calls.push(ToolCallRef {
                id,
                name: name.clone(),
                arguments: arguments.clone(),
            });
        }
        Rendered { events, calls }
    }
}

/// Nest each Responses event in a `response.event` (lifecycle snapshots trimmed, as the API
/// keeps them small), and collect the output items the backend's conversation keeps.
pub(super) fn wrap_responses(nested: Vec<String>, cid: Option<&str>) -> (Vec<String>, Vec<Value>) {
    let mut events = Vec::with_capacity(nested.len());
    let mut outputs = Vec::new();
    for json in nested {
        let Ok(Value::Object(mut ev)) = serde_json::from_str::<Value>(&json) else {
            continue;
        };
        match ev.get("type").and_then(Value::as_str) {
            Some("response.output_item.done") => {
                if let Some(item) = ev.get("item") {
                    outputs.push(item.clone());
                }
            }
            Some(
                "response.created"
                | "response.in_progress"
                | "response.completed"
                | "response.incomplete"
                | "response.failed",
            ) => {
                if let Some(Value::Object(r)) = ev.get_mut("response") {
                    r.remove("input");
                    r.insert("instructions".to_owned(), Value::Null);
                    r.insert("tools".to_owned(), json!([]));
                    r.insert("output".to_owned(), json!([]));
                }
            }
            _ => {}
        }
        let mut m = event("response.event", cid);
        m.insert("event".to_owned(), Value::Object(ev));
        m.insert("delegation_id".to_owned(), Value::Null);
        events.push(Value::Object(m).to_string());
    }
    (events, outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(events: &[String]) -> Vec<Value> {
        events
            .iter()
            .map(|e| serde_json::from_str(e).expect("json"))
            .collect()
    }

    #[test]
    fn a_spoken_turn_interleaves_transcript_and_audio_on_the_timeline() {
        let s = Spoken {
            text: "Hello there".to_owned(),
            audio: None,
            calls: vec![(None, "lookup".to_owned(), "{}".to_owned())],
        };
        let fmt = Format::Pcm16 { rate: 24_000 };
        let r = s.render(fmt, 5, 1000, Delegation::Client, Some("evt_1"));
        let ev = parse(&r.events);
        let kinds: Vec<&str> = ev
            .iter()
            .map(|e| e["type"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            kinds,
            [
                "session.output_transcript.delta",
                "session.output_audio.delta",
                "session.output_transcript.delta",
                "session.output_audio.delta",
                "session.output_transcript.delta",
                "session.output_audio.delta",
                "session.delegation.created",
            ]
        );
        let text: String = ev
            .iter()
            .filter_map(|e| {
                e.get("delta")
                    .filter(|_| e["type"] == "session.output_transcript.delta")
            })
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(text, "Hello there");
        let audio: Vec<u8> = ev
            .iter()
            .filter(|e| e["type"] == "session.output_audio.delta")
            .flat_map(|e| audio::decode(e["delta"].as_str().unwrap_or("")).unwrap_or_default())
            .collect();
        assert_eq!(fmt.ms(audio.len()), audio::speech_ms("Hello there"));
        assert!(audio.iter().all(|b| *b == 0), "silence");
        assert_eq!(ev[0]["start_ms"], 1000);
        assert_eq!(ev[0]["client_event_id"], "evt_1");
        assert_eq!(ev[4]["end_ms"], 1000 + audio::speech_ms("Hello there"));
        assert!(
            ev[1].get("event_id").is_none(),
            "primary audio deltas carry no ids"
        );
        assert_eq!(ev[6]["delegation"]["target"], "client");
        assert_eq!(r.calls.len(), 1);
        assert_eq!(ev[6]["delegation"]["id"], r.calls[0].id.as_str());
    }

    #[test]
    fn fixture_audio_is_sent_as_given() {
        let s = Spoken {
            text: String::new(),
            audio: Some(vec![1, 2, 3, 4]),
            calls: Vec::new(),
        };
        let r = s.render(
            Format::Pcm16 { rate: 24_000 },
            10,
            0,
            Delegation::Client,
            None,
        );
        let ev = parse(&r.events);
        assert_eq!(ev.len(), 1);
        assert_eq!(
            audio::decode(ev[0]["delta"].as_str().unwrap_or("")),
            Some(vec![1, 2, 3, 4])
        );
    }

    #[test]
    fn responses_events_are_nested_and_lifecycle_snapshots_trimmed() {
        let nested = vec![
            json!({"type": "response.created", "response": {"id": "resp_1", "output": [1], "tools": [2], "instructions": "x", "input": []}}).to_string(),
            json!({"type": "response.output_item.done", "item": {"type": "function_call", "call_id": "call_1"}}).to_string(),
        ];
        let (events, outputs) = wrap_responses(nested, None);
        let ev = parse(&events);
        assert_eq!(ev[0]["type"], "response.event");
        assert_eq!(ev[0]["event"]["response"]["output"], json!([]));
        assert_eq!(ev[0]["event"]["response"]["instructions"], Value::Null);
        assert!(ev[0]["event"]["response"].get("input").is_none());
        assert_eq!(ev[0]["delegation_id"], Value::Null);
        assert_eq!(
            outputs,
            vec![json!({"type": "function_call", "call_id": "call_1"})]
        );
    }
}
