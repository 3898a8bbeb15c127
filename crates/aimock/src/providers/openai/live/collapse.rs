//! Record mode's reading of one turn of the OpenAI voice sockets into a fixture response that
//! replays it through the same session (the renderers in `speech.rs` and `translations`):
//! - the words: `session.output_transcript.delta`s, as `content`;
//! - GPT-Live's delegations: a `session.delegation.created` per tool call, as `toolCalls` with
//!   the delegation's id (the wire carries no task text: the call is named by its target);
//! - GPT-Live's Responses delegation: each `response.event`'s nested Responses event, read by
//!   the Responses collapser;
//! - the audio: the `session.output_audio.delta`s' bytes, joined, as `audio` (base64), added by
//!   [`collapse`].
//!
//! A turn is complete with the event our renderer ends it with: GPT-Live's spoken turn with
//! `session.usage.updated`, its Responses turn with the nested `response.completed` (or
//! `.incomplete`); a translation, whose stream has no end of its own, with the `session.updated`
//! that answers the `session.update` sent after the utterance. An `error` makes it incomplete.
//! Pure: nothing here touches a socket, and nothing panics on upstream data.

use serde_json::Value;

use super::audio;
use crate::record::collapse::{
    collapse_stream, sse_json, str_of, Builder, Collapsed, Collapser, Framing,
};
use crate::record::socket::sse;

/// Which socket's turn the events are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Live,
    Translation,
}

fn read(b: &mut Builder, body: &[u8], api: Api) {
    // Delegations go after the words, as the renderer sends them.
    let mut delegations: Vec<(String, String)> = Vec::new();
    let mut nested = String::new();
    for (name, v) in sse_json(b, body) {
        let kind = str_of(v.get("type")).or(name.as_deref()).unwrap_or("");
        match kind {
            "session.output_transcript.delta" => b.text(str_of(v.get("delta")).unwrap_or("")),
            "session.delegation.created" if api == Api::Live => {
                let d = v.get("delegation");
                let id = str_of(d.and_then(|d| d.get("id"))).unwrap_or("");
                let target = str_of(d.and_then(|d| d.get("target"))).unwrap_or("client");
                if id.is_empty() {
                    b.warn("a session.delegation.created without an id was left out");
                } else {
                    delegations.push((id.to_owned(), target.to_owned()));
                }
            }
            "session.usage.updated" if api == Api::Live => b.complete = true,
            "response.event" if api == Api::Live => {
                if let Some(ev) = v.get("event").filter(|e| e.is_object()) {
                    if let Some(t) = str_of(ev.get("type")) {
                        nested.push_str("event: ");
                        nested.push_str(t);
                        nested.push('\n');
                    }
                    nested.push_str("data: ");
                    nested.push_str(&ev.to_string());
                    nested.push_str("\n\n");
                }
            }
            "session.updated" if api == Api::Translation => b.complete = true,
            "error" => b.stream_error(v.get("error").unwrap_or(&v)),
            _ => {}
        }
    }
    for (id, target) in delegations {
        b.tool(&target, Some(&id));
    }
    if !nested.is_empty() {
        crate::providers::openai::responses::collapse::stream(b, nested.as_bytes());
    }
}

fn live_stream(b: &mut Builder, body: &[u8]) {
    read(b, body, Api::Live);
}

fn translation_stream(b: &mut Builder, body: &[u8]) {
    read(b, body, Api::Translation);
}

/// A voice turn is never a JSON reply.
fn no_json(_: &mut Builder, _: &Value) -> bool {
    false
}

/// GPT-Live's turns (`/v1/live/sessions`).
pub(in crate::providers::openai) static LIVE: Collapser = Collapser {
    name: "OpenAI GPT-Live",
    stream: live_stream,
    json: no_json,
    framing: Framing::Sse,
    status_in_code: false,
    compat: None,
};

/// Realtime translations' turns (`/v1/realtime/translations`).
pub(in crate::providers::openai) static TRANSLATION: Collapser = Collapser {
    name: "OpenAI Realtime translations",
    stream: translation_stream,
    json: no_json,
    framing: Framing::Sse,
    status_in_code: false,
    compat: None,
};

/// A turn's events (JSON texts, in arrival order) as a fixture response: read by `c`, with the
/// audio deltas' bytes as `audio` when there are any.
pub(in crate::providers::openai) fn collapse(
    c: &'static Collapser,
    events: &[String],
) -> Collapsed {
    let mut pcm: Vec<u8> = Vec::new();
    let mut bad_audio = 0usize;
    for v in events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
    {
        if str_of(v.get("type")) == Some("session.output_audio.delta") {
            match str_of(v.get("delta")).and_then(audio::decode) {
                Some(bytes) => pcm.extend_from_slice(&bytes),
                None => bad_audio += 1,
            }
        }
    }
    let mut collapsed = collapse_stream(c, sse(events).as_bytes());
    if bad_audio > 0 {
        collapsed.warnings.push(format!(
            "{bad_audio} audio delta(s) were not base64 and were left out"
        ));
    }
    if !pcm.is_empty() {
        if let Value::Object(r) = &mut collapsed.response {
            if r.contains_key("content") || r.contains_key("toolCalls") {
                r.insert("audio".to_owned(), Value::String(audio::encode(&pcm)));
            }
        }
    }
    collapsed
}

/// The words and delegations (id, target) of a collapsed turn, for the session's history.
pub(in crate::providers::openai) fn said(response: &Value) -> (String, Vec<(String, String)>) {
    let text = str_of(response.get("content"))
        .unwrap_or_default()
        .to_owned();
    let calls = response
        .get("toolCalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let id = str_of(c.get("id"))?.to_owned();
            let name = str_of(c.get("name")).unwrap_or("client").to_owned();
            Some((id, name))
        })
        .collect();
    (text, calls)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn texts(events: &[Value]) -> Vec<String> {
        events.iter().map(Value::to_string).collect()
    }

    #[test]
    fn a_spoken_turn_collapses_to_its_words_audio_and_delegations() {
        let events = texts(&[
            json!({"type": "session.output_transcript.delta", "delta": "Let me "}),
            json!({"type": "session.output_audio.delta", "delta": audio::encode(&[1, 0, 2, 0])}),
            json!({"type": "session.output_transcript.delta", "delta": "check."}),
            json!({"type": "session.output_audio.delta", "delta": audio::encode(&[3, 0])}),
            json!({"type": "session.delegation.created", "delegation": {"id": "dlg_1", "target": "client", "type": "delegation"}, "offset_ms": 5}),
            json!({"type": "session.usage.updated", "usage": {"seconds": 1.0}}),
        ]);
        let c = collapse(&LIVE, &events);
        assert!(c.complete);
        assert_eq!(c.response["content"], "Let me check.");
        assert_eq!(
            audio::decode(c.response["audio"].as_str().unwrap_or("")),
            Some(vec![1, 0, 2, 0, 3, 0])
        );
        assert_eq!(c.response["toolCalls"][0]["id"], "dlg_1");
        assert_eq!(c.response["toolCalls"][0]["name"], "client");
        let (text, calls) = said(&c.response);
        assert_eq!(
            (text.as_str(), calls),
            (
                "Let me check.",
                vec![("dlg_1".to_owned(), "client".to_owned())]
            )
        );
        // Without its last event the turn is not complete; an error makes it incomplete too.
        assert!(!collapse(&LIVE, &events[..5]).complete);
        let mut errored = events.clone();
        errored.insert(
            0,
            json!({"type": "error", "error": {"message": "no"}}).to_string(),
        );
        assert!(!collapse(&LIVE, &errored).complete);
    }

    #[test]
    fn a_responses_turn_is_read_from_the_nested_events() {
        let nest =
            |ev: Value| json!({"type": "response.event", "event": ev, "delegation_id": null});
        let events = texts(&[
            nest(
                json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}}),
            ),
            nest(
                json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "function_call", "name": "get_weather", "call_id": "call_1"}}),
            ),
            nest(
                json!({"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{\"city\":\"Paris\"}"}),
            ),
            nest(json!({"type": "response.completed", "response": {"id": "resp_1"}})),
        ]);
        let c = collapse(&LIVE, &events);
        assert!(c.complete, "{:?}", c.warnings);
        assert_eq!(c.response["toolCalls"][0]["name"], "get_weather");
        assert_eq!(
            c.response["toolCalls"][0]["arguments"],
            "{\"city\":\"Paris\"}"
        );
        assert!(c.response.get("audio").is_none());
    }

    #[test]
    fn a_translation_ends_with_the_acknowledged_update_and_survives_garbage() {
        let events = vec![
            json!({"type": "session.output_transcript.delta", "delta": "Bonjour"}).to_string(),
            json!({"type": "session.output_audio.delta", "delta": "%%%"}).to_string(),
            "not json".to_owned(),
            json!({"type": "session.updated", "session": {}}).to_string(),
        ];
        let c = collapse(&TRANSLATION, &events);
        assert!(c.complete);
        assert_eq!(c.response["content"], "Bonjour");
        assert!(c.response.get("audio").is_none());
        assert!(
            c.warnings.iter().any(|w| w.contains("base64")),
            "{:?}",
            c.warnings
        );
        assert!(!collapse(&TRANSLATION, &events[..2]).complete);
    }
}
