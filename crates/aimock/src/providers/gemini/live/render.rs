//! A fixture's answer as Gemini Live server messages (`BidiGenerateContentServerMessage`), each
//! one JSON text: `serverContent.modelTurn.parts[{text}]` per text chunk, `inlineData` audio parts
//! (`audio/pcm;rate=24000`), `toolCall.functionCalls`, input and output transcriptions, then
//! `generationComplete` and `turnComplete` with the turn's `usageMetadata`.
//!
//! Audio: a fixture's `audio` (base64, or `{b64Json, contentType}`) is sent in chunks of
//! [`AUDIO_CHUNK_BYTES`]. When the session asked for `AUDIO` and the fixture has text only, the
//! text is "spoken" as silence: valid 16-bit mono PCM at 24 kHz, as long as the text takes to say
//! (`providers::speech`, the same for every voice socket). The text goes out as `outputTranscription` when the session asked for it.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::fixture::{Block, Overrides, Reply};
use crate::providers::estimate_tokens;
use crate::stream::chunk_text;

/// The output sample rate (Gemini Live speaks 24 kHz PCM16 mono).
pub(crate) const OUTPUT_RATE: usize = 24_000;
/// The MIME type of audio the server sends.
pub(crate) const OUTPUT_MIME: &str = "audio/pcm;rate=24000";
/// Bytes of audio per `inlineData` chunk: 100 ms of 24 kHz PCM16.
pub(crate) const AUDIO_CHUNK_BYTES: usize = OUTPUT_RATE / 10 * 2;
/// The silent PCM16 that speaks `text` (2 bytes a sample).
pub(crate) fn silence_for(text: &str) -> Vec<u8> {
    let ms = usize::try_from(crate::providers::speech::speech_ms(text)).unwrap_or(0);
    vec![0u8; ms * (OUTPUT_RATE / 1000) * 2]
}

/// A function call the model makes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) id: String,
    pub(crate) name: String,
    /// The arguments as a JSON object.
    pub(crate) args: Value,
}

/// One piece of the model's turn, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    /// Calls made together (one `toolCall` message).
    Calls(Vec<Call>),
}

/// What a fixture answers a turn with.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub(crate) pieces: Vec<Piece>,
    /// The fixture's own audio: bytes and MIME type.
    pub(crate) audio: Option<(Vec<u8>, String)>,
    /// The fixture's overrides (usage).
    pub(crate) overrides: Overrides,
}

impl Output {
    /// The text of the turn, joined.
    pub(crate) fn text(&self) -> Option<String> {
        let mut out: Option<String> = None;
        for p in &self.pieces {
            if let Piece::Text(t) = p {
                out.get_or_insert_with(String::new).push_str(t);
            }
        }
        out
    }

    /// Every call, in order.
    pub(crate) fn calls(&self) -> impl Iterator<Item = &Call> {
        self.pieces.iter().flat_map(|p| match p {
            Piece::Calls(c) => c.as_slice(),
            Piece::Text(_) => &[],
        })
    }
}

/// A call id the fixture did not fix: `call_gemini_<name>_<i>`, as `generateContent` names them,
/// `i` counting the calls of the session (so ids stay unique across turns).
fn call_id(name: &str, i: usize) -> String {
    format!("call_gemini_{name}_{i}")
}

/// Arguments as a JSON object (a string holding one is parsed; anything else is `{}`).
fn args_value(arguments: &Value) -> Value {
    match arguments {
        Value::Object(_) => arguments.clone(),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => Value::Object(Map::new()),
        },
        _ => Value::Object(Map::new()),
    }
}

/// Push a call, grouping calls that follow each other.
fn push_call(pieces: &mut Vec<Piece>, call: Call) {
    if let Some(Piece::Calls(c)) = pieces.last_mut() {
        c.push(call);
    } else {
        pieces.push(Piece::Calls(vec![call]));
    }
}

/// The base64 audio of an audio fixture (`"..."` or `{b64Json, contentType}`), decoded.
fn fixture_audio(v: &Value) -> Result<(Vec<u8>, String), String> {
    let (b64, mime) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(m) => (
            m.get("b64Json")
                .or_else(|| m.get("data"))
                .and_then(Value::as_str)
                .unwrap_or_default(),
            m.get("contentType")
                .or_else(|| m.get("mimeType"))
                .and_then(Value::as_str),
        ),
        _ => return Err("`audio` must be base64 text or {b64Json, contentType}".to_owned()),
    };
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(b64.trim().trim_end_matches('='))
        .map_err(|e| format!("`audio` is not valid base64: {e}"))?;
    Ok((bytes, mime.unwrap_or(OUTPUT_MIME).to_owned()))
}

/// A fixture's reply as the turn's output; `first_call` numbers the calls without an id.
/// `Err` for a reply Gemini Live cannot serve.
pub(crate) fn output(reply: &Reply, first_call: usize) -> Result<Output, String> {
    let mut out = Output::default();
    let mut n = first_call;
    match reply {
        Reply::Message(m) => {
            for b in &m.blocks {
                match b {
                    Block::Text(t) => out.pieces.push(Piece::Text(t.clone())),
                    Block::ToolCall(c) => {
                        let id = c.id.clone().unwrap_or_else(|| call_id(&c.name, n));
                        n += 1;
                        push_call(
                            &mut out.pieces,
                            Call {
                                id,
                                name: c.name.clone(),
                                args: args_value(&Value::String(c.arguments.clone())),
                            },
                        );
                    }
                }
            }
            out.overrides = m.overrides.clone();
        }
        Reply::Other {
            kind: "audio",
            value,
        } => {
            out.audio = Some(fixture_audio(value.get("audio").unwrap_or(&Value::Null))?);
            match value.get("content") {
                Some(Value::String(s)) => out.pieces.push(Piece::Text(s.clone())),
                Some(Value::Null) | None => {}
                Some(other) => out.pieces.push(Piece::Text(other.to_string())),
            }
            for c in value
                .get("toolCalls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                let id = c
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| call_id(name, n));
                n += 1;
                push_call(
                    &mut out.pieces,
                    Call {
                        id,
                        name: name.to_owned(),
                        args: args_value(c.get("arguments").unwrap_or(&Value::Null)),
                    },
                );
            }
            out.overrides.usage = value.get("usage").and_then(Value::as_object).cloned();
        }
        other => {
            return Err(format!(
                "the fixture answers with {}, which Gemini Live cannot serve",
                other.kind()
            ))
        }
    }
    Ok(out)
}

/// What the session asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Modes {
    /// `responseModalities: ["AUDIO"]`.
    pub(crate) audio_out: bool,
    /// `outputAudioTranscription`.
    pub(crate) output_transcription: bool,
}

/// A turn's messages.
#[derive(Debug, Default)]
pub(crate) struct Rendered {
    /// The model's content, tool calls and transcriptions.
    pub(crate) body: Vec<String>,
    /// `serverContent.generationComplete`.
    pub(crate) generation_complete: String,
    /// `serverContent.turnComplete` with the turn's `usageMetadata`.
    pub(crate) turn_complete: String,
}

fn server_content(content: Value) -> String {
    json!({ "serverContent": content }).to_string()
}

fn audio_parts(body: &mut Vec<String>, bytes: &[u8], mime: &str, transcript: Option<&[&str]>) {
    let chunks: Vec<&[u8]> = bytes.chunks(AUDIO_CHUNK_BYTES).collect();
    let transcript = transcript.unwrap_or(&[]);
    for i in 0..chunks.len().max(transcript.len()) {
        if let Some(c) = chunks.get(i) {
            let data = base64::engine::general_purpose::STANDARD.encode(c);
            body.push(server_content(json!({
                "modelTurn": {"role": "model", "parts": [{"inlineData": {"mimeType": mime, "data": data}}]}
            })));
        }
        if let Some(t) = transcript.get(i) {
            body.push(server_content(json!({"outputTranscription": {"text": t}})));
        }
    }
}

/// The turn's messages; `input_transcript` opens it when the session transcribes its input;
/// `prompt_chars` sizes the prompt estimate.
pub(crate) fn render(
    out: &Output,
    modes: Modes,
    input_transcript: Option<&str>,
    chunk_size: usize,
    prompt_chars: usize,
) -> Rendered {
    let mut body = Vec::new();
    if let Some(t) = input_transcript {
        body.push(server_content(
            json!({"inputTranscription": {"text": t, "finished": true}}),
        ));
    }
    let mut audio_bytes = 0usize;
    let mut text_chars = 0usize;
    // The fixture's audio speaks first (a speak-and-call turn: audio, then the call); its text is
    // the audio's transcript.
    let fixture_audio = out.audio.as_ref();
    if let Some((bytes, mime)) = fixture_audio {
        audio_bytes += bytes.len();
        let text = out.text().unwrap_or_default();
        let chunks = chunk_text(&text, chunk_size);
        audio_parts(
            &mut body,
            bytes,
            mime,
            modes.output_transcription.then_some(chunks.as_slice()),
        );
    }
    for p in &out.pieces {
        match p {
            Piece::Text(t) => {
                text_chars += t.chars().count();
                let chunks = chunk_text(t, chunk_size);
                if modes.audio_out && fixture_audio.is_none() {
                    let pcm = silence_for(t);
                    audio_bytes += pcm.len();
                    audio_parts(
                        &mut body,
                        &pcm,
                        OUTPUT_MIME,
                        modes.output_transcription.then_some(chunks.as_slice()),
                    );
                } else if !modes.audio_out {
                    for c in chunks {
                        body.push(server_content(json!({
                            "modelTurn": {"role": "model", "parts": [{"text": c}]}
                        })));
                    }
                }
            }
            Piece::Calls(calls) => {
                let fc: Vec<Value> = calls
                    .iter()
                    .map(|c| json!({"id": c.id, "name": c.name, "args": c.args}))
                    .collect();
                text_chars += calls
                    .iter()
                    .map(|c| c.name.len() + c.args.to_string().len())
                    .sum::<usize>();
                body.push(json!({"toolCall": {"functionCalls": fc}}).to_string());
            }
        }
    }
    let o = &out.overrides;
    let prompt = o
        .usage_number(&["promptTokenCount", "prompt_tokens", "input_tokens"])
        .unwrap_or_else(|| estimate_tokens(prompt_chars));
    // Audio counts 25 tokens a second, as Gemini counts it.
    let audio_tokens = (audio_bytes as u64).div_ceil((OUTPUT_RATE * 2 / 25) as u64);
    let text_tokens = if text_chars > 0 {
        estimate_tokens(text_chars)
    } else {
        0
    };
    let estimated = if audio_bytes > 0 {
        audio_tokens
    } else {
        text_tokens
    };
    let response = o
        .usage_number(&[
            "responseTokenCount",
            "candidatesTokenCount",
            "completion_tokens",
            "output_tokens",
        ])
        .unwrap_or(estimated);
    let total = o
        .usage_number(&["totalTokenCount", "total_tokens"])
        .unwrap_or(prompt + response);
    let modality = if audio_bytes > 0 { "AUDIO" } else { "TEXT" };
    let usage = json!({
        "promptTokenCount": prompt,
        "responseTokenCount": response,
        "totalTokenCount": total,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        "responseTokensDetails": [{"modality": modality, "tokenCount": response}],
    });
    Rendered {
        body,
        generation_complete: server_content(json!({"generationComplete": true})),
        turn_complete: json!({"serverContent": {"turnComplete": true}, "usageMetadata": usage})
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::MessageReply;

    fn text_reply(blocks: Vec<Block>) -> Reply {
        Reply::Message(MessageReply {
            blocks,
            ..Default::default()
        })
    }

    fn parsed(events: &[String]) -> Vec<Value> {
        events
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect()
    }

    #[test]
    fn silence_lasts_as_long_as_the_text_takes_to_say() {
        // 20 characters x 60 ms x 24 samples per ms x 2 bytes.
        assert_eq!(silence_for("hello world, fifteen").len(), 20 * 60 * 24 * 2);
        assert_eq!(silence_for("").len(), 200 * 24 * 2);
        assert_eq!(silence_for(&"x".repeat(100_000)).len(), 24_000 * 60 * 2);
        assert!(silence_for("abc").iter().all(|b| *b == 0));
    }

    #[test]
    fn text_turns_stream_parts_then_generation_and_turn_complete() {
        let reply = text_reply(vec![Block::Text("Hello there".to_owned())]);
        let out = output(&reply, 0).unwrap();
        let r = render(&out, Modes::default(), None, 5, 40);
        let body = parsed(&r.body);
        let texts: Vec<&str> = body
            .iter()
            .map(|v| {
                v["serverContent"]["modelTurn"]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(texts, ["Hello", " ther", "e"]);
        let done: Value = serde_json::from_str(&r.turn_complete).unwrap();
        assert_eq!(done["serverContent"]["turnComplete"], true);
        assert_eq!(done["usageMetadata"]["promptTokenCount"], 10);
        assert_eq!(done["usageMetadata"]["responseTokenCount"], 3);
        assert_eq!(done["usageMetadata"]["totalTokenCount"], 13);
        let gc: Value = serde_json::from_str(&r.generation_complete).unwrap();
        assert_eq!(gc["serverContent"]["generationComplete"], true);
    }

    #[test]
    fn tool_calls_get_ids_and_object_args() {
        let reply = text_reply(vec![
            Block::ToolCall(crate::fixture::ToolCall {
                name: "get_weather".to_owned(),
                arguments: r#"{"city":"Paris"}"#.to_owned(),
                id: None,
            }),
            Block::ToolCall(crate::fixture::ToolCall {
                name: "get_time".to_owned(),
                arguments: "not json".to_owned(),
                id: Some("fixed".to_owned()),
            }),
        ]);
        let out = output(&reply, 3).unwrap();
        let r = render(&out, Modes::default(), None, 10, 1);
        let body = parsed(&r.body);
        assert_eq!(body.len(), 1);
        let fc = &body[0]["toolCall"]["functionCalls"];
        assert_eq!(fc[0]["id"], "call_gemini_get_weather_3");
        assert_eq!(fc[0]["args"], json!({"city": "Paris"}));
        assert_eq!(fc[1]["id"], "fixed");
        assert_eq!(fc[1]["args"], json!({}));
    }

    #[test]
    fn audio_sessions_hear_silence_with_the_text_as_transcription() {
        let reply = text_reply(vec![Block::Text("abcdefghij".to_owned())]);
        let out = output(&reply, 0).unwrap();
        let modes = Modes {
            audio_out: true,
            output_transcription: true,
        };
        let r = render(&out, modes, Some("what did I say"), 100, 1);
        let body = parsed(&r.body);
        assert_eq!(
            body[0]["serverContent"]["inputTranscription"]["text"],
            "what did I say"
        );
        let mut pcm = Vec::new();
        let mut transcript = String::new();
        for v in &body[1..] {
            let sc = &v["serverContent"];
            if let Some(p) = sc["modelTurn"]["parts"][0]["inlineData"].as_object() {
                assert_eq!(p["mimeType"], OUTPUT_MIME);
                pcm.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(p["data"].as_str().unwrap())
                        .unwrap(),
                );
            }
            if let Some(t) = sc["outputTranscription"]["text"].as_str() {
                transcript.push_str(t);
            }
            assert!(sc["modelTurn"]["parts"][0]["text"].is_null());
        }
        assert_eq!(pcm.len(), silence_for("abcdefghij").len());
        assert_eq!(pcm.len(), 10 * 60 * 24 * 2);
        assert_eq!(transcript, "abcdefghij");
        let done: Value = serde_json::from_str(&r.turn_complete).unwrap();
        assert_eq!(
            done["usageMetadata"]["responseTokensDetails"][0]["modality"],
            "AUDIO"
        );
    }

    #[test]
    fn audio_fixtures_speak_then_call() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let value = json!({
            "audio": base64::engine::general_purpose::STANDARD.encode(&bytes),
            "content": "Checking",
            "toolCalls": [{"name": "lookup", "arguments": {"q": 1}}],
            "usage": {"responseTokenCount": 7},
        });
        let out = output(
            &Reply::Other {
                kind: "audio",
                value,
            },
            0,
        )
        .unwrap();
        let r = render(
            &out,
            Modes {
                audio_out: true,
                output_transcription: false,
            },
            None,
            100,
            1,
        );
        let body = parsed(&r.body);
        let mut pcm = Vec::new();
        for v in &body[..body.len() - 1] {
            let d = v["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"]
                .as_str()
                .unwrap();
            pcm.extend(base64::engine::general_purpose::STANDARD.decode(d).unwrap());
        }
        assert_eq!(pcm, bytes);
        assert_eq!(body.len(), 3 + 1);
        assert_eq!(body[3]["toolCall"]["functionCalls"][0]["name"], "lookup");
        let done: Value = serde_json::from_str(&r.turn_complete).unwrap();
        assert_eq!(done["usageMetadata"]["responseTokenCount"], 7);
    }

    #[test]
    fn other_kinds_cannot_be_served() {
        let reply = Reply::Other {
            kind: "image",
            value: json!({}),
        };
        assert!(output(&reply, 0).is_err());
        let bad = Reply::Other {
            kind: "audio",
            value: json!({"audio": "@@@"}),
        };
        assert!(output(&bad, 0).is_err());
    }
}
