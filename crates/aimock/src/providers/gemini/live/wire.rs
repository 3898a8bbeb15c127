//! What a Gemini Live client sends (`BidiGenerateContentClientMessage`), read into [`ClientMsg`].
//!
//! The proto JSON mapping takes every field in camelCase or in snake_case, and the `google-genai`
//! SDK sends both (`{"client_content": {"turns": [...], "turnComplete": true}}`,
//! `{"realtime_input": {"audio": {"data", "mime_type"}}}`), so each field is looked up under both
//! names. A message sets exactly one of `setup`, `clientContent`, `realtimeInput`, `toolResponse`
//! (and, in newer SDKs, `contextUpdate`); anything else is the API's `INVALID_ARGUMENT`, worded as
//! Google's JSON parser words it.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::super::generate::{Content, GenerateBody, SystemInstruction, Tool};

/// A protocol error: Google's canonical code (3 `INVALID_ARGUMENT`, 9 `FAILED_PRECONDITION`) and
/// its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError {
    pub(crate) code: u16,
    pub(crate) message: String,
}

impl WireError {
    pub(crate) fn invalid(message: impl Into<String>) -> WireError {
        WireError {
            code: 3,
            message: message.into(),
        }
    }

    pub(crate) fn precondition(message: impl Into<String>) -> WireError {
        WireError {
            code: 9,
            message: message.into(),
        }
    }

    /// The canonical status name.
    pub(crate) fn status(&self) -> &'static str {
        if self.code == 9 {
            "FAILED_PRECONDITION"
        } else {
            "INVALID_ARGUMENT"
        }
    }

    /// The error message aimock sends: `{"error": {"code", "message", "status"}}`.
    pub(crate) fn json(&self) -> String {
        serde_json::json!({
            "error": {"code": self.code, "message": self.message, "status": self.status()}
        })
        .to_string()
    }
}

/// `setup`: what the session is.
#[derive(Default)]
pub(crate) struct Setup {
    /// The model without its `models/` (or `publishers/google/models/`, `projects/...`) prefix.
    pub(crate) model: String,
    /// `systemInstruction`, `tools` and `generationConfig`, as `generateContent` reads them.
    pub(crate) body: GenerateBody,
    /// `generationConfig.responseModalities` has `AUDIO`.
    pub(crate) audio_out: bool,
    /// `inputAudioTranscription` is set.
    pub(crate) input_transcription: bool,
    /// `outputAudioTranscription` is set.
    pub(crate) output_transcription: bool,
    /// `sessionResumption` is set: `Some(handle)`, the handle being `None` for a new session.
    pub(crate) resumption: Option<Option<String>>,
}

/// A function response: `{id, name, response}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FunctionResponse {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) response: Value,
}

/// `realtimeInput`: one of its fields (the SDK sends one per message; more are taken together).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RealtimeInput {
    /// Bytes of audio (`audio`, and `mediaChunks` of an `audio/*` type).
    pub(crate) audio_bytes: usize,
    /// `text`.
    pub(crate) text: Option<String>,
    /// `audioStreamEnd: true`.
    pub(crate) audio_stream_end: bool,
    /// `activityStart`.
    pub(crate) activity_start: bool,
    /// `activityEnd`.
    pub(crate) activity_end: bool,
}

/// One client message.
pub(crate) enum ClientMsg {
    Setup(Box<Setup>),
    ClientContent {
        turns: Vec<Content>,
        turn_complete: bool,
    },
    RealtimeInput(RealtimeInput),
    ToolResponse(Vec<FunctionResponse>),
    ContextUpdate {
        system: Option<SystemInstruction>,
        tools: Option<Vec<Tool>>,
    },
}

impl std::fmt::Debug for ClientMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientMsg::Setup(_) => "setup",
            ClientMsg::ClientContent { .. } => "clientContent",
            ClientMsg::RealtimeInput(_) => "realtimeInput",
            ClientMsg::ToolResponse(_) => "toolResponse",
            ClientMsg::ContextUpdate { .. } => "contextUpdate",
        })
    }
}

impl ClientMsg {
    /// Whether this message, arriving while the model speaks, interrupts it: new content, text
    /// or the start of the user's speech (a tool response or an audio chunk does not).
    pub(crate) fn interrupts(&self) -> bool {
        match self {
            ClientMsg::ClientContent { .. } => true,
            ClientMsg::RealtimeInput(r) => r.text.is_some() || r.activity_start,
            _ => false,
        }
    }
}

/// The message names a client may send.
const KINDS: &[(&str, &str)] = &[
    ("setup", "setup"),
    ("clientContent", "client_content"),
    ("realtimeInput", "realtime_input"),
    ("toolResponse", "tool_response"),
    ("contextUpdate", "context_update"),
];

/// A field under its camelCase or its snake_case name.
fn get<'a>(m: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    m.get(camel)
        .or_else(|| m.get(snake))
        .filter(|v| !v.is_null())
}

/// At most `n` characters of `s`, with `...` when cut.
fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// Google's wording of a value of the wrong type.
fn bad_value(at: &str, ty: &str, v: &Value) -> WireError {
    WireError::invalid(format!(
        "Invalid value at '{at}' ({ty}), {}",
        clip(&v.to_string(), 80)
    ))
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, WireError> {
    v.as_object()
        .ok_or_else(|| bad_value(at, "TYPE_MESSAGE", v))
}

fn boolean(v: Option<&Value>, at: &str) -> Result<bool, WireError> {
    match v {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(bad_value(at, "TYPE_BOOL", other)),
    }
}

fn string(v: Option<&Value>, at: &str) -> Result<Option<String>, WireError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad_value(at, "TYPE_STRING", other)),
    }
}

/// The bytes of a base64 blob (standard or URL-safe alphabet, padded or not).
fn blob_bytes(v: &Value, at: &str) -> Result<(usize, Option<String>), WireError> {
    let m = object(v, at)?;
    let data = string(get(m, "data", "data"), &format!("{at}.data"))?.unwrap_or_default();
    let mime = string(get(m, "mimeType", "mime_type"), &format!("{at}.mime_type"))?;
    let trimmed = data.trim_end_matches('=');
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(trimmed).ok())
        .ok_or_else(|| {
            WireError::invalid(format!(
                "Invalid value at '{at}.data' (TYPE_BYTES), Base64 decoding failed for \"{}\"",
                clip(&data, 40)
            ))
        })?;
    Ok((bytes.len(), mime))
}

/// Parse one message's JSON text.
pub(crate) fn parse(text: &str) -> Result<ClientMsg, WireError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| WireError::invalid(format!("Invalid JSON payload received. {e}")))?;
    let Value::Object(m) = v else {
        return Err(WireError::invalid(format!(
            "Invalid JSON payload received. Expected an object, got {}.",
            clip(&v.to_string(), 40)
        )));
    };
    let mut found: Option<(&str, &Value)> = None;
    for (k, v) in &m {
        let Some((camel, _)) = KINDS.iter().find(|(c, s)| k == c || k == s) else {
            return Err(WireError::invalid(format!(
                "Invalid JSON payload received. Unknown name \"{k}\": Cannot find field."
            )));
        };
        if v.is_null() {
            continue;
        }
        if found.is_some() {
            return Err(WireError::invalid(format!(
                "Invalid JSON payload received. Oneof field 'message_type' is already set. \
                 Cannot set '{camel}'"
            )));
        }
        found = Some((camel, v));
    }
    let Some((kind, body)) = found else {
        return Err(WireError::invalid(
            "Invalid JSON payload received. The message sets none of setup, clientContent, \
             realtimeInput, toolResponse.",
        ));
    };
    match kind {
        "setup" => setup(body).map(|s| ClientMsg::Setup(Box::new(s))),
        "clientContent" => client_content(body),
        "realtimeInput" => realtime_input(body).map(ClientMsg::RealtimeInput),
        "toolResponse" => tool_response(body).map(ClientMsg::ToolResponse),
        _ => context_update(body),
    }
}

/// A model name as the session matches it: `models/x`, `publishers/google/models/x` and
/// `projects/p/locations/l/publishers/google/models/x` all give `x`.
pub(crate) fn bare_model(model: &str) -> &str {
    match model.rfind("models/") {
        Some(i) => &model[i + "models/".len()..],
        None => model,
    }
}

fn setup(v: &Value) -> Result<Setup, WireError> {
    let m = object(v, "setup")?;
    let model = string(get(m, "model", "model"), "setup.model")?.unwrap_or_default();
    let mut body = Map::new();
    for (camel, snake) in [
        ("systemInstruction", "system_instruction"),
        ("tools", "tools"),
        ("generationConfig", "generation_config"),
    ] {
        if let Some(v) = get(m, camel, snake) {
            body.insert(camel.to_owned(), v.clone());
        }
    }
    let mut audio_out = false;
    if let Some(g) = body.get("generationConfig") {
        let g = object(g, "setup.generation_config")?;
        match get(g, "responseModalities", "response_modalities") {
            None => {}
            Some(Value::Array(ms)) => {
                for (i, x) in ms.iter().enumerate() {
                    match x.as_str() {
                        Some(s) => audio_out |= s.eq_ignore_ascii_case("audio"),
                        None => {
                            return Err(bad_value(
                                &format!("setup.generation_config.response_modalities[{i}]"),
                                "TYPE_ENUM",
                                x,
                            ))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(bad_value(
                    "setup.generation_config.response_modalities",
                    "TYPE_ENUM",
                    other,
                ))
            }
        }
    }
    let body: GenerateBody = serde_json::from_value(Value::Object(body))
        .map_err(|e| WireError::invalid(format!("Invalid JSON payload received. setup: {e}")))?;
    let flag = |camel: &str, snake: &str| -> Result<bool, WireError> {
        match get(m, camel, snake) {
            None => Ok(false),
            Some(v) => object(v, &format!("setup.{snake}")).map(|_| true),
        }
    };
    let input_transcription = flag("inputAudioTranscription", "input_audio_transcription")?;
    let output_transcription = flag("outputAudioTranscription", "output_audio_transcription")?;
    let resumption = match get(m, "sessionResumption", "session_resumption") {
        None => None,
        Some(r) => {
            let r = object(r, "setup.session_resumption")?;
            Some(
                string(
                    get(r, "handle", "handle"),
                    "setup.session_resumption.handle",
                )?
                .filter(|h| !h.is_empty()),
            )
        }
    };
    Ok(Setup {
        model: bare_model(&model).to_owned(),
        body,
        audio_out,
        input_transcription,
        output_transcription,
        resumption,
    })
}

fn client_content(v: &Value) -> Result<ClientMsg, WireError> {
    let m = object(v, "client_content")?;
    let turns = match get(m, "turns", "turns") {
        None => Vec::new(),
        Some(t @ Value::Array(_)) => {
            serde_json::from_value::<Vec<Content>>(t.clone()).map_err(|e| {
                WireError::invalid(format!(
                    "Invalid JSON payload received. client_content.turns: {e}"
                ))
            })?
        }
        Some(other) => return Err(bad_value("client_content.turns", "TYPE_MESSAGE", other)),
    };
    let turn_complete = boolean(
        get(m, "turnComplete", "turn_complete"),
        "client_content.turn_complete",
    )?;
    Ok(ClientMsg::ClientContent {
        turns,
        turn_complete,
    })
}

fn realtime_input(v: &Value) -> Result<RealtimeInput, WireError> {
    let m = object(v, "realtime_input")?;
    let mut r = RealtimeInput::default();
    if let Some(a) = get(m, "audio", "audio") {
        r.audio_bytes += blob_bytes(a, "realtime_input.audio")?.0;
    }
    match get(m, "mediaChunks", "media_chunks") {
        None => {}
        Some(Value::Array(chunks)) => {
            for (i, c) in chunks.iter().enumerate() {
                let (n, mime) = blob_bytes(c, &format!("realtime_input.media_chunks[{i}]"))?;
                if mime.is_some_and(|t| t.starts_with("audio/")) {
                    r.audio_bytes += n;
                }
            }
        }
        Some(other) => {
            return Err(bad_value(
                "realtime_input.media_chunks",
                "TYPE_MESSAGE",
                other,
            ))
        }
    }
    if let Some(video) = get(m, "video", "video") {
        blob_bytes(video, "realtime_input.video")?;
    }
    r.text = string(get(m, "text", "text"), "realtime_input.text")?;
    r.audio_stream_end = boolean(
        get(m, "audioStreamEnd", "audio_stream_end"),
        "realtime_input.audio_stream_end",
    )?;
    for (camel, snake, flag) in [
        ("activityStart", "activity_start", &mut r.activity_start),
        ("activityEnd", "activity_end", &mut r.activity_end),
    ] {
        if let Some(a) = get(m, camel, snake) {
            object(a, &format!("realtime_input.{snake}"))?;
            *flag = true;
        }
    }
    for k in m.keys() {
        let known = [
            "audio",
            "mediaChunks",
            "media_chunks",
            "video",
            "text",
            "audioStreamEnd",
            "audio_stream_end",
            "activityStart",
            "activity_start",
            "activityEnd",
            "activity_end",
        ];
        if !known.contains(&k.as_str()) {
            return Err(WireError::invalid(format!(
                "Invalid JSON payload received. Unknown name \"{k}\" at 'realtime_input': \
                 Cannot find field."
            )));
        }
    }
    Ok(r)
}

fn tool_response(v: &Value) -> Result<Vec<FunctionResponse>, WireError> {
    let m = object(v, "tool_response")?;
    let list = match get(m, "functionResponses", "function_responses") {
        None => return Ok(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(other) => {
            return Err(bad_value(
                "tool_response.function_responses",
                "TYPE_MESSAGE",
                other,
            ))
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let at = format!("tool_response.function_responses[{i}]");
        let r = object(r, &at)?;
        out.push(FunctionResponse {
            id: string(get(r, "id", "id"), &format!("{at}.id"))?.filter(|s| !s.is_empty()),
            name: string(get(r, "name", "name"), &format!("{at}.name"))?.unwrap_or_default(),
            response: get(r, "response", "response")
                .cloned()
                .unwrap_or(Value::Null),
        });
    }
    Ok(out)
}

fn context_update(v: &Value) -> Result<ClientMsg, WireError> {
    let m = object(v, "context_update")?;
    let system = match get(m, "systemInstruction", "system_instruction") {
        None => None,
        Some(s) => Some(serde_json::from_value(s.clone()).map_err(|e| {
            WireError::invalid(format!(
                "Invalid JSON payload received. context_update.system_instruction: {e}"
            ))
        })?),
    };
    let tools = match get(m, "tools", "tools") {
        None => None,
        Some(t) => {
            let t = object(t, "context_update.tools")?;
            let list = get(t, "tools", "tools")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            Some(serde_json::from_value(list).map_err(|e| {
                WireError::invalid(format!(
                    "Invalid JSON payload received. context_update.tools: {e}"
                ))
            })?)
        }
    };
    Ok(ClientMsg::ContextUpdate { system, tools })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdks_mixed_case_messages_parse() {
        let m = parse(r#"{"client_content": {"turns": [{"parts": [{"text": "hi"}], "role": "user"}], "turnComplete": true}}"#).unwrap();
        assert!(
            matches!(m, ClientMsg::ClientContent { ref turns, turn_complete: true } if turns.len() == 1)
        );
        let m = parse(r#"{"realtime_input": {"audio": {"data": "AAEAAQABAAE=", "mime_type": "audio/pcm;rate=16000"}}}"#).unwrap();
        assert!(matches!(
            m,
            ClientMsg::RealtimeInput(RealtimeInput { audio_bytes: 8, .. })
        ));
        let m = parse(r#"{"realtime_input": {"audioStreamEnd": true}}"#).unwrap();
        assert!(matches!(
            m,
            ClientMsg::RealtimeInput(RealtimeInput {
                audio_stream_end: true,
                ..
            })
        ));
        let m = parse(r#"{"tool_response": {"functionResponses": [{"id": "c1", "name": "f", "response": {"t": 1}}]}}"#).unwrap();
        let ClientMsg::ToolResponse(r) = m else {
            panic!()
        };
        assert_eq!(r[0].id.as_deref(), Some("c1"));
        assert_eq!(r[0].response, serde_json::json!({"t": 1}));
    }

    #[test]
    fn setup_reads_model_modalities_transcription_and_resumption() {
        let m = parse(r#"{"setup": {"model": "models/gemini-live-2.5-flash-preview", "generationConfig": {"responseModalities": ["AUDIO"]}, "systemInstruction": {"parts": [{"text": "be nice"}]}, "tools": [{"functionDeclarations": [{"name": "get_weather"}]}], "sessionResumption": {"handle": "h1"}, "inputAudioTranscription": {}}}"#).unwrap();
        let ClientMsg::Setup(s) = m else { panic!() };
        assert_eq!(s.model, "gemini-live-2.5-flash-preview");
        assert!(s.audio_out && s.input_transcription && !s.output_transcription);
        assert_eq!(s.resumption, Some(Some("h1".to_owned())));
        assert_eq!(
            bare_model("projects/p/locations/l/publishers/google/models/g"),
            "g"
        );
    }

    #[test]
    fn bad_messages_are_invalid_argument_in_googles_words() {
        for (text, needle) in [
            ("not json", "Invalid JSON payload received."),
            ("[1]", "Expected an object"),
            (r#"{"bogus": {}}"#, "Unknown name \"bogus\""),
            (r#"{"setup": {}, "clientContent": {}}"#, "Oneof field"),
            (r#"{}"#, "sets none of"),
            (
                r#"{"clientContent": {"turnComplete": "yes"}}"#,
                "'client_content.turn_complete' (TYPE_BOOL)",
            ),
            (r#"{"clientContent": {"turns": 5}}"#, "client_content.turns"),
            (r#"{"setup": {"model": 5}}"#, "'setup.model' (TYPE_STRING)"),
            (
                r#"{"realtimeInput": {"audio": {"data": "!!!"}}}"#,
                "Base64 decoding failed",
            ),
            (
                r#"{"realtimeInput": {"sound": 1}}"#,
                "Unknown name \"sound\"",
            ),
            (
                r#"{"toolResponse": {"functionResponses": [1]}}"#,
                "function_responses[0]",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.code, 3, "{text}");
            assert!(e.message.contains(needle), "{text}: {}", e.message);
            let j: Value = serde_json::from_str(&e.json()).unwrap();
            assert_eq!(j["error"]["status"], "INVALID_ARGUMENT");
        }
    }

    #[test]
    fn only_new_input_interrupts() {
        assert!(parse(r#"{"clientContent": {"turnComplete": true}}"#)
            .unwrap()
            .interrupts());
        assert!(parse(r#"{"realtimeInput": {"text": "x"}}"#)
            .unwrap()
            .interrupts());
        assert!(parse(r#"{"realtimeInput": {"activityStart": {}}}"#)
            .unwrap()
            .interrupts());
        assert!(!parse(r#"{"realtimeInput": {"audio": {"data": "AA=="}}}"#)
            .unwrap()
            .interrupts());
        assert!(!parse(r#"{"toolResponse": {}}"#).unwrap().interrupts());
    }
}
