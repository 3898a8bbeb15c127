//! A response's events: `response.created`, then per output item `response.output_item.added`,
//! `conversation.item.added`, its content (text deltas, or audio and transcript deltas, or a
//! function call's argument deltas), `response.output_item.done` and `conversation.item.done`,
//! and `response.done` with usage. A message item carries gpt-realtime-2's `phase`:
//! `commentary` for text beside a tool call, else `final_answer`. Each event records what it
//! adds to the response, so a response cancelled after `n` events reports exactly what was
//! sent.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::audio::{self, Format};
use super::items::item_id;
use crate::fixture::{Block, Fixture, Reply, ToolCall};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::providers::estimate_tokens;

/// A server event id.
pub(super) fn event_id() -> String {
    random_id("event_", 22)
}

/// Stamp an event with its type and a fresh `event_id`, which come first as the API sends them;
/// the body's fields (it serializes as a JSON object) follow.
pub(super) fn event(kind: &str, body: impl Serialize) -> String {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"type\":");
    // Serializing into a Vec fails only for a body that is not JSON, which none is.
    let _ = serde_json::to_writer(&mut out, kind);
    out.extend_from_slice(b",\"event_id\":\"");
    out.extend_from_slice(event_id().as_bytes());
    out.push(b'"');
    let at = out.len();
    let _ = serde_json::to_writer(&mut out, &body);
    if out.get(at..) == Some(b"{}".as_slice()) || out.len() == at {
        // Nothing to add but the closing brace.
        out.truncate(at);
        out.push(b'}');
    } else {
        // The body's `{` becomes the comma after `event_id`.
        out[at] = b',';
    }
    // serde_json writes UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// The fields of a response's events; absent ones are left out.
#[derive(Serialize, Default)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<ResponseObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_index: Option<usize>,
    /// `Some(None)` is `null`: the item is the first of the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_item_id: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<PartBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_id: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'a str>,
}

/// A content part as `response.content_part.*` shows it.
#[derive(Serialize)]
struct PartBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<&'a str>,
}

/// The `response` object of `response.created` and `response.done`.
#[derive(Serialize)]
struct ResponseObject<'a> {
    object: &'static str,
    id: &'a str,
    status: &'a str,
    status_details: Value,
    output: Vec<Value>,
    conversation_id: Option<&'a str>,
    output_modalities: &'a [String],
    max_output_tokens: &'a Value,
    audio: AudioSettings<'a>,
    usage: Option<Usage>,
    metadata: &'a Value,
}

#[derive(Serialize)]
struct AudioSettings<'a> {
    output: AudioOutput<'a>,
}

#[derive(Serialize)]
struct AudioOutput<'a> {
    format: &'a Value,
    voice: &'a Value,
}

#[derive(Serialize)]
struct Usage {
    total_tokens: u64,
    input_tokens: u64,
    output_tokens: u64,
    input_token_details: InputDetails,
    output_token_details: OutputDetails,
}

#[derive(Serialize)]
struct InputDetails {
    text_tokens: u64,
    audio_tokens: u64,
    image_tokens: u64,
    cached_tokens: u64,
    cached_tokens_details: CachedDetails,
}

#[derive(Serialize)]
struct CachedDetails {
    text_tokens: u64,
    audio_tokens: u64,
    image_tokens: u64,
}

#[derive(Serialize)]
struct OutputDetails {
    text_tokens: u64,
    audio_tokens: u64,
}

/// The body of `conversation.item.added` and `.done`: the item, after `previous_item_id`
/// (`null` for the first).
#[derive(Serialize)]
pub(super) struct ItemAt<'a> {
    pub(super) previous_item_id: Option<&'a str>,
    pub(super) item: &'a Value,
}

/// A content part's body.
fn part<'a>(
    kind: &'static str,
    text: Option<&'a str>,
    transcript: Option<&'a str>,
) -> Option<PartBody<'a>> {
    Some(PartBody {
        kind,
        text,
        transcript,
    })
}

/// What a fixture says: text and tool calls in order, the fixture's audio if it has some, and
/// its usage override.
#[derive(Debug, Default)]
pub(super) struct Spoken {
    pub(super) blocks: Vec<Block>,
    pub(super) audio: Option<Vec<u8>>,
    pub(super) usage: Option<Map<String, Value>>,
}

/// What a fixture answers a response with; `Err` for a reply a response cannot give.
pub(super) fn spoken(fixture: &Fixture) -> Result<Spoken, ApiError> {
    let server_error = |m: String| {
        ApiError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("Fixture {}: {m}", fixture.describe()),
        )
    };
    match &fixture.reply {
        Reply::Message(m) => Ok(Spoken {
            blocks: m.blocks.clone(),
            audio: None,
            usage: m.overrides.usage.clone(),
        }),
        Reply::Other {
            kind: "audio",
            value,
        } => {
            let bytes = audio::fixture_audio(value.get("audio").unwrap_or(&Value::Null))
                .map_err(server_error)?;
            let mut blocks = Vec::new();
            match value.get("content") {
                Some(Value::String(s)) => blocks.push(Block::Text(s.clone())),
                Some(Value::Null) | None => {}
                Some(other) => blocks.push(Block::Text(other.to_string())),
            }
            for c in value
                .get("toolCalls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let arguments = match c.get("arguments") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => "{}".to_owned(),
                    Some(v) => v.to_string(),
                };
                blocks.push(Block::ToolCall(ToolCall {
                    name: c
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    arguments,
                    id: c.get("id").and_then(Value::as_str).map(str::to_owned),
                }));
            }
            Ok(Spoken {
                blocks,
                audio: Some(bytes),
                usage: value.get("usage").and_then(Value::as_object).cloned(),
            })
        }
        other => Err(crate::providers::endpoint::wrong_kind(
            fixture,
            other,
            "a Realtime response",
        )),
    }
}

/// How a response is rendered.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) id: String,
    pub(super) conversation_id: Option<String>,
    pub(super) modalities: Vec<String>,
    pub(super) format: Value,
    pub(super) voice: Value,
    pub(super) metadata: Value,
    pub(super) max_output_tokens: Value,
    /// The last item of the conversation before this response (for `previous_item_id`).
    pub(super) previous_item_id: Option<String>,
    /// Output items join the conversation (`conversation: "none"` says no).
    pub(super) in_conversation: bool,
    pub(super) chunk: usize,
    /// Characters of the request, for the usage estimate.
    pub(super) input_chars: usize,
}

impl Settings {
    fn audio(&self) -> bool {
        self.modalities.iter().any(|m| m == "audio")
    }

    fn response(
        &self,
        status: &'static str,
        output: Vec<Value>,
        usage: Option<Usage>,
        details: Value,
    ) -> ResponseObject<'_> {
        ResponseObject {
            object: "realtime.response",
            id: &self.id,
            status,
            status_details: details,
            output,
            conversation_id: self.conversation_id.as_deref(),
            output_modalities: &self.modalities,
            max_output_tokens: &self.max_output_tokens,
            audio: AudioSettings {
                output: AudioOutput {
                    format: &self.format,
                    voice: &self.voice,
                },
            },
            usage,
            metadata: &self.metadata,
        }
    }
}

/// What one event adds to the response.
#[derive(Debug, Clone)]
enum Step {
    /// Nothing the response keeps.
    Nothing,
    /// Output item `i` starts.
    Added(usize),
    /// Text or a transcript for item `i`.
    Text(usize, String),
    /// Arguments for item `i`.
    Args(usize, String),
    /// Audio bytes.
    Audio(usize),
    /// Item `i` is complete.
    Done(usize),
}

/// A rendered response.
#[derive(Debug)]
pub(super) struct Rendered {
    pub(super) events: Vec<String>,
    steps: Vec<Step>,
    /// Each output item, complete.
    pub(super) items: Vec<Value>,
    settings: Settings,
    usage_override: Option<Map<String, Value>>,
}

/// The item an output block starts, in progress.
fn started(item: &Value) -> Value {
    let mut i = item.clone();
    i["status"] = json!("in_progress");
    match i.get("type").and_then(Value::as_str) {
        Some("function_call") => i["arguments"] = json!(""),
        _ => i["content"] = json!([]),
    }
    i
}

/// Render the events of a response.
pub(super) fn render(spoken: Spoken, settings: Settings) -> Rendered {
    let s = &settings;
    let mut events = Vec::new();
    let mut steps = Vec::new();
    let mut items = Vec::new();
    let mut push = |kind: &str, body: Body<'_>, step: Step| {
        events.push(event(kind, body));
        steps.push(step);
    };
    push(
        "response.created",
        Body {
            response: Some(s.response("in_progress", Vec::new(), None, Value::Null)),
            ..Body::default()
        },
        Step::Nothing,
    );
    let speak = s.audio();
    let mut blocks = spoken.blocks;
    let mut fixture_audio = spoken.audio;
    if speak && fixture_audio.is_some() && !blocks.iter().any(|b| matches!(b, Block::Text(_))) {
        blocks.insert(0, Block::Text(String::new()));
    }
    let format = Format::of(&s.format);
    // gpt-realtime-2's response phases: text beside a tool call is a preamble.
    let phase = if blocks.iter().any(|b| matches!(b, Block::ToolCall(_))) {
        "commentary"
    } else {
        "final_answer"
    };
    let mut previous = s.previous_item_id.clone();
    for block in blocks {
        let idx = items.len();
        let id = item_id();
        let item = match &block {
            Block::Text(text) => {
                let part = if speak {
                    json!({"type": "output_audio", "transcript": text})
                } else {
                    json!({"type": "output_text", "text": text})
                };
                json!({"id": id, "object": "realtime.item", "type": "message", "status": "completed",
                       "role": "assistant", "content": [part], "phase": phase})
            }
            Block::ToolCall(c) => json!({
                "id": id, "object": "realtime.item", "type": "function_call", "status": "completed",
                "name": c.name,
                "call_id": c.id.clone().unwrap_or_else(|| random_id("call_", 16)),
                "arguments": c.arguments,
            }),
        };
        // An event about this item, and one about its (only) content part.
        let at = || Body {
            response_id: Some(&s.id),
            output_index: Some(idx),
            ..Body::default()
        };
        let part_at = || Body {
            item_id: Some(&id),
            content_index: Some(0),
            ..at()
        };
        let in_progress = started(&item);
        push(
            "response.output_item.added",
            Body {
                item: Some(&in_progress),
                ..at()
            },
            Step::Added(idx),
        );
        if s.in_conversation {
            push(
                "conversation.item.added",
                Body {
                    previous_item_id: Some(previous.as_deref()),
                    item: Some(&in_progress),
                    ..Body::default()
                },
                Step::Nothing,
            );
        }
        match &block {
            Block::Text(text) => {
                let pieces = crate::stream::chunk_text(text, s.chunk);
                if speak {
                    push(
                        "response.content_part.added",
                        Body {
                            part: part("audio", None, Some("")),
                            ..part_at()
                        },
                        Step::Nothing,
                    );
                    let bytes = fixture_audio
                        .take()
                        .unwrap_or_else(|| audio::silence(text, format));
                    let sound = audio::chunks(&bytes, pieces.len().max(1), format);
                    for i in 0..sound.len().max(pieces.len()) {
                        if let Some(a) = sound.get(i) {
                            let encoded = audio::encode(a);
                            push(
                                "response.output_audio.delta",
                                Body {
                                    delta: Some(&encoded),
                                    ..part_at()
                                },
                                Step::Audio(a.len()),
                            );
                        }
                        if let Some(t) = pieces.get(i) {
                            push(
                                "response.output_audio_transcript.delta",
                                Body {
                                    delta: Some(t),
                                    ..part_at()
                                },
                                Step::Text(idx, (*t).to_owned()),
                            );
                        }
                    }
                    push("response.output_audio.done", part_at(), Step::Nothing);
                    push(
                        "response.output_audio_transcript.done",
                        Body {
                            transcript: Some(text),
                            ..part_at()
                        },
                        Step::Nothing,
                    );
                    push(
                        "response.content_part.done",
                        Body {
                            part: part("audio", None, Some(text)),
                            ..part_at()
                        },
                        Step::Nothing,
                    );
                } else {
                    push(
                        "response.content_part.added",
                        Body {
                            part: part("text", Some(""), None),
                            ..part_at()
                        },
                        Step::Nothing,
                    );
                    for t in pieces {
                        push(
                            "response.output_text.delta",
                            Body {
                                delta: Some(t),
                                ..part_at()
                            },
                            Step::Text(idx, t.to_owned()),
                        );
                    }
                    push(
                        "response.output_text.done",
                        Body {
                            text: Some(text),
                            ..part_at()
                        },
                        Step::Nothing,
                    );
                    push(
                        "response.content_part.done",
                        Body {
                            part: part("text", Some(text), None),
                            ..part_at()
                        },
                        Step::Nothing,
                    );
                }
            }
            Block::ToolCall(c) => {
                let call_id = &item["call_id"];
                let with = || Body {
                    item_id: Some(&id),
                    call_id: Some(call_id),
                    ..at()
                };
                for d in crate::stream::chunk_text(&c.arguments, s.chunk) {
                    push(
                        "response.function_call_arguments.delta",
                        Body {
                            delta: Some(d),
                            ..with()
                        },
                        Step::Args(idx, d.to_owned()),
                    );
                }
                push(
                    "response.function_call_arguments.done",
                    Body {
                        name: Some(&c.name),
                        arguments: Some(&c.arguments),
                        ..with()
                    },
                    Step::Nothing,
                );
            }
        }
        push(
            "response.output_item.done",
            Body {
                item: Some(&item),
                ..at()
            },
            Step::Done(idx),
        );
        if s.in_conversation {
            push(
                "conversation.item.done",
                Body {
                    previous_item_id: Some(previous.as_deref()),
                    item: Some(&item),
                    ..Body::default()
                },
                Step::Nothing,
            );
        }
        previous = Some(id);
        items.push(item);
    }
    let mut rendered = Rendered {
        events,
        steps,
        items,
        settings,
        usage_override: spoken.usage,
    };
    let done = rendered.done_event(None);
    rendered.events.push(done);
    rendered.steps.push(Step::Nothing);
    rendered
}

impl Rendered {
    /// The output as it stood after the first `sent` events: items not finished are
    /// `incomplete`, with the text and arguments sent so far. `None` is the whole output.
    pub(super) fn output(&self, sent: Option<usize>) -> Vec<Value> {
        let Some(n) = sent else {
            return self.items.clone();
        };
        let mut out: Vec<Option<Value>> = vec![None; self.items.len()];
        let mut text: Vec<String> = vec![String::new(); self.items.len()];
        for step in self.steps.iter().take(n) {
            match step {
                Step::Added(i) => out[*i] = Some(started(&self.items[*i])),
                Step::Text(i, t) | Step::Args(i, t) => text[*i].push_str(t),
                Step::Done(i) => out[*i] = Some(self.items[*i].clone()),
                Step::Audio(..) | Step::Nothing => {}
            }
        }
        out.into_iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let mut item = item?;
                if item["status"] == "in_progress" {
                    item["status"] = json!("incomplete");
                    let t = std::mem::take(&mut text[i]);
                    if item["type"] == "function_call" {
                        item["arguments"] = json!(t);
                    } else if let Some(part) = self.items[i]["content"].get(0) {
                        let mut part = part.clone();
                        let key = if part["type"] == "output_audio" {
                            "transcript"
                        } else {
                            "text"
                        };
                        part[key] = json!(t);
                        item["content"] = json!([part]);
                    }
                }
                Some(item)
            })
            .collect()
    }

    fn audio_bytes(&self, sent: Option<usize>) -> usize {
        self.steps
            .iter()
            .take(sent.unwrap_or(usize::MAX))
            .map(|s| match s {
                Step::Audio(n) => *n,
                _ => 0,
            })
            .sum()
    }

    /// Usage: the fixture's numbers, else estimates (a token per 4 characters; an audio token
    /// per 100 ms).
    fn usage(&self, output: &[Value], sent: Option<usize>) -> Usage {
        let chars: usize = output
            .iter()
            .map(|i| {
                let part = &i["content"][0];
                [
                    &i["arguments"],
                    &i["name"],
                    &part["text"],
                    &part["transcript"],
                ]
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::len)
                .sum::<usize>()
            })
            .sum();
        let ms = Format::of(&self.settings.format).duration_ms(self.audio_bytes(sent));
        let audio_tokens = (ms / 100.0).ceil() as u64;
        let text_tokens = if chars == 0 {
            0
        } else {
            estimate_tokens(chars)
        };
        let input = estimate_tokens(self.settings.input_chars);
        let number = |names: &[&str]| -> Option<u64> {
            let u = self.usage_override.as_ref()?;
            names
                .iter()
                .find_map(|n| u.get(*n).and_then(Value::as_f64))
                .map(|f| f.max(0.0) as u64)
        };
        let input = number(&["input_tokens", "prompt_tokens"]).unwrap_or(input);
        let output_tokens =
            number(&["output_tokens", "completion_tokens"]).unwrap_or(text_tokens + audio_tokens);
        let total = number(&["total_tokens"]).unwrap_or(input + output_tokens);
        Usage {
            total_tokens: total,
            input_tokens: input,
            output_tokens,
            input_token_details: InputDetails {
                text_tokens: input,
                audio_tokens: 0,
                image_tokens: 0,
                cached_tokens: 0,
                cached_tokens_details: CachedDetails {
                    text_tokens: 0,
                    audio_tokens: 0,
                    image_tokens: 0,
                },
            },
            output_token_details: OutputDetails {
                text_tokens,
                audio_tokens,
            },
        }
    }

    /// `response.done`: complete (`sent: None`), or cancelled after `sent` events.
    pub(super) fn done_event(&self, sent: Option<usize>) -> String {
        let output = self.output(sent);
        let usage = self.usage(&output, sent);
        let (status, details) = match sent {
            None => ("completed", Value::Null),
            Some(_) => (
                "cancelled",
                json!({"type": "cancelled", "reason": "client_cancelled"}),
            ),
        };
        event(
            "response.done",
            Body {
                response: Some(self.settings.response(status, output, Some(usage), details)),
                ..Body::default()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(modalities: &[&str]) -> Settings {
        Settings {
            id: "resp_1".into(),
            conversation_id: Some("conv_1".into()),
            modalities: modalities.iter().map(|m| (*m).to_owned()).collect(),
            format: json!({"type": "audio/pcm", "rate": 24000}),
            voice: json!("alloy"),
            metadata: Value::Null,
            max_output_tokens: json!("inf"),
            previous_item_id: Some("item_user".into()),
            in_conversation: true,
            chunk: 4,
            input_chars: 40,
        }
    }

    fn kinds(r: &Rendered) -> Vec<String> {
        r.events
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(e).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn an_event_starts_with_its_type_and_id() {
        let e = event("input_audio_buffer.cleared", Map::new());
        assert!(
            e.starts_with(r#"{"type":"input_audio_buffer.cleared","event_id":"event_"#),
            "{e}"
        );
        let v: Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2);
        let e = event("x.y", json!({"item_id": "i", "n": 1}));
        let v: Value = serde_json::from_str(&e).unwrap();
        assert!(e.starts_with(r#"{"type":"x.y","#), "{e}");
        assert_eq!(
            (v["item_id"].as_str(), v["n"].as_u64()),
            (Some("i"), Some(1))
        );
    }

    #[test]
    fn a_text_response_has_the_ga_sequence() {
        let r = render(
            Spoken {
                blocks: vec![Block::Text("Hello you".into())],
                ..Default::default()
            },
            settings(&["text"]),
        );
        assert_eq!(
            kinds(&r),
            [
                "response.created",
                "response.output_item.added",
                "conversation.item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "conversation.item.done",
                "response.done",
            ]
        );
        let done: Value = serde_json::from_str(r.events.last().unwrap()).unwrap();
        assert_eq!(done["response"]["status"], "completed");
        assert_eq!(
            done["response"]["output"][0]["content"][0]["text"],
            "Hello you"
        );
        let added: Value = serde_json::from_str(&r.events[2]).unwrap();
        assert_eq!(added["previous_item_id"], "item_user");
    }

    #[test]
    fn audio_deltas_are_the_synthesized_silence_and_a_cancel_reports_what_was_sent() {
        let r = render(
            Spoken {
                blocks: vec![Block::Text("Hi there".into())],
                ..Default::default()
            },
            settings(&["audio"]),
        );
        let evs: Vec<Value> = r
            .events
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        let pcm: Vec<u8> = evs
            .iter()
            .filter(|e| e["type"] == "response.output_audio.delta")
            .flat_map(|e| audio::decode_base64(e["delta"].as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(pcm, audio::silence("Hi there", Format::Pcm16));
        let transcript: String = evs
            .iter()
            .filter(|e| e["type"] == "response.output_audio_transcript.delta")
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        assert_eq!(transcript, "Hi there");
        // Cancelled after the first transcript delta.
        let first = evs
            .iter()
            .position(|e| e["type"] == "response.output_audio_transcript.delta")
            .unwrap();
        let cancelled: Value = serde_json::from_str(&r.done_event(Some(first + 1))).unwrap();
        assert_eq!(cancelled["response"]["status"], "cancelled");
        assert_eq!(
            cancelled["response"]["status_details"]["reason"],
            "client_cancelled"
        );
        let item = &cancelled["response"]["output"][0];
        assert_eq!(item["status"], "incomplete");
        assert_eq!(item["content"][0]["transcript"], "Hi t");
    }

    #[test]
    fn a_tool_call_streams_its_arguments() {
        let r = render(
            Spoken {
                blocks: vec![Block::ToolCall(ToolCall {
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                    id: Some("call_fixed".into()),
                })],
                ..Default::default()
            },
            settings(&["text"]),
        );
        let evs: Vec<Value> = r
            .events
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        let args: String = evs
            .iter()
            .filter(|e| e["type"] == "response.function_call_arguments.delta")
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        assert_eq!(args, "{\"city\":\"Paris\"}");
        let done = evs
            .iter()
            .find(|e| e["type"] == "response.function_call_arguments.done")
            .unwrap();
        assert_eq!(done["call_id"], "call_fixed");
        assert_eq!(done["name"], "get_weather");
        assert_eq!(r.items[0]["type"], "function_call");
        // Text beside a tool call is commentary; text alone is the final answer.
        let mixed = render(
            Spoken {
                blocks: vec![
                    Block::Text("Checking.".into()),
                    Block::ToolCall(ToolCall {
                        name: "f".into(),
                        arguments: "{}".into(),
                        id: None,
                    }),
                ],
                ..Default::default()
            },
            settings(&["text"]),
        );
        assert_eq!(mixed.items[0]["phase"], "commentary");
        assert!(mixed.items[1].get("phase").is_none());
        let plain = render(
            Spoken {
                blocks: vec![Block::Text("Done.".into())],
                ..Default::default()
            },
            settings(&["text"]),
        );
        assert_eq!(plain.items[0]["phase"], "final_answer");
    }
}
