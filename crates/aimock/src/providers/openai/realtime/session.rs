//! The session's configuration, in the GA API's nested shape (`type`, `model`, `instructions`,
//! `tools`, `output_modalities`, `audio.input` / `audio.output` ...): its defaults on connect, and
//! `session.update`, which merges the fields it gives over the current configuration and checks
//! the result; a bad update is refused with `invalid_session_config` (or `unknown_parameter`)
//! and leaves the configuration as it was.

use serde_json::{json, Map, Value};

use super::WithParam;
use crate::http::ApiError;

/// The default model of a conversation session (aimock's).
pub(super) const DEFAULT_MODEL: &str = "gpt-realtime-2";
/// The default transcription model of a transcription session (aimock's).
pub(super) const DEFAULT_TRANSCRIPTION_MODEL: &str = "gpt-transcribe";

/// Transcription models (`audio.input.transcription.model`).
pub(super) const TRANSCRIPTION_MODELS: &[&str] = &[
    "whisper-1",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
];

/// The voices a string `voice` may name (a custom voice is `{"id": ...}`).
const VOICES: &[&str] = &[
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
];

/// Fields a conversation session takes.
const REALTIME_FIELDS: &[&str] = &[
    "type",
    "model",
    "instructions",
    "tools",
    "tool_choice",
    "output_modalities",
    "audio",
    "include",
    "max_output_tokens",
    "parallel_tool_calls",
    "prompt",
    "reasoning",
    "tracing",
    "truncation",
];

/// Fields a transcription session takes.
const TRANSCRIPTION_FIELDS: &[&str] = &["type", "audio", "include"];

/// Read-only fields a client may echo back from `session.created`; ignored.
const READ_ONLY: &[&str] = &["id", "object", "expires_at", "client_secret"];

/// The kind of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A conversation (`"type": "realtime"`).
    Realtime,
    /// Transcription only (`"type": "transcription"`).
    Transcription,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Realtime => "realtime",
            Kind::Transcription => "transcription",
        }
    }
}

/// A session's configuration.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Config {
    pub(super) id: String,
    pub(super) kind: Kind,
    pub(super) expires_at: i64,
    /// Every field but `id`, `object` and `expires_at`, in the API's shape.
    pub(super) fields: Map<String, Value>,
}

fn pcm() -> Value {
    json!({"type": "audio/pcm", "rate": 24000})
}

fn server_vad() -> Value {
    json!({
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
        "idle_timeout_ms": null,
        "create_response": true,
        "interrupt_response": true,
    })
}

impl Config {
    /// A conversation session on `model`.
    pub(super) fn realtime(id: String, model: &str, now: i64) -> Config {
        let fields = json!({
            "type": "realtime",
            "model": model,
            "output_modalities": ["text"],
            "instructions": "",
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "tracing": null,
            "truncation": "auto",
            "prompt": null,
            "include": null,
            "audio": {
                "input": {
                    "format": pcm(),
                    "transcription": null,
                    "noise_reduction": null,
                    "turn_detection": server_vad(),
                },
                "output": {"format": pcm(), "voice": "alloy", "speed": 1.0},
            },
        });
        Config {
            id,
            kind: Kind::Realtime,
            expires_at: now + 3600,
            fields: into_map(fields),
        }
    }

    /// A transcription session transcribing with `model`.
    pub(super) fn transcription(id: String, model: &str, now: i64) -> Config {
        let fields = json!({
            "type": "transcription",
            "include": null,
            "audio": {
                "input": {
                    "format": pcm(),
                    "transcription": {"model": model, "language": null, "prompt": ""},
                    "noise_reduction": null,
                    "turn_detection": server_vad(),
                },
            },
        });
        Config {
            id,
            kind: Kind::Transcription,
            expires_at: now + 3600,
            fields: into_map(fields),
        }
    }

    /// The session as `session.created` / `session.updated` show it.
    pub(super) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.kind.name()));
        m.insert(
            "object".into(),
            json!(match self.kind {
                Kind::Realtime => "realtime.session",
                Kind::Transcription => "realtime.transcription_session",
            }),
        );
        m.insert("id".into(), json!(self.id));
        for (k, v) in &self.fields {
            if k != "type" {
                m.insert(k.clone(), v.clone());
            }
        }
        m.insert("expires_at".into(), json!(self.expires_at));
        Value::Object(m)
    }

    /// The conversation model (empty for a transcription session).
    pub(super) fn model(&self) -> &str {
        self.fields
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The session's instructions.
    pub(super) fn instructions(&self) -> &str {
        self.fields
            .get("instructions")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The session's tools.
    pub(super) fn tools(&self) -> &[Value] {
        self.fields
            .get("tools")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// `output_modalities`.
    pub(super) fn modalities(&self) -> Vec<String> {
        modalities_of(self.fields.get("output_modalities")).unwrap_or_else(|| vec!["text".into()])
    }

    /// `audio.output.format` (PCM16 at 24 kHz when unset).
    pub(super) fn output_format(&self) -> Value {
        self.at(&["audio", "output", "format"])
            .cloned()
            .unwrap_or_else(pcm)
    }

    /// `audio.output.voice`.
    pub(super) fn voice(&self) -> Value {
        self.at(&["audio", "output", "voice"])
            .cloned()
            .unwrap_or_else(|| json!("alloy"))
    }

    /// `audio.input.format` (PCM16 at 24 kHz when unset).
    pub(super) fn input_format(&self) -> Value {
        self.at(&["audio", "input", "format"])
            .cloned()
            .unwrap_or_else(pcm)
    }

    /// The transcription model, when input audio is transcribed.
    pub(super) fn transcription_model(&self) -> Option<&str> {
        self.at(&["audio", "input", "transcription", "model"])
            .and_then(Value::as_str)
    }

    fn at(&self, path: &[&str]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        let mut v = self.fields.get(*first)?;
        for k in rest {
            v = v.get(*k)?;
        }
        Some(v)
    }

    /// Apply a `session.update`'s `session`: the fields it gives replace the current ones (an
    /// object is merged into the current object, `null` clears), and the result is checked. On
    /// an error nothing changes.
    pub(super) fn update(&mut self, update: &Value, forced: Option<Kind>) -> Result<(), ApiError> {
        let Value::Object(u) = update else {
            return Err(config_error(
                format!(
                    "Invalid type for 'session': expected an object, but got {}.",
                    kind_of(update)
                ),
                "session",
            ));
        };
        let kind = match (u.get("type"), forced) {
            (None, Some(k)) => k,
            (None, None) => {
                return Err(
                    ApiError::invalid("Missing required parameter: 'session.type'.")
                        .with_code("missing_required_parameter")
                        .with_param("session.type"),
                )
            }
            (Some(Value::String(t)), _) if t == "realtime" => Kind::Realtime,
            (Some(Value::String(t)), _) if t == "transcription" => Kind::Transcription,
            (Some(other), _) => {
                return Err(config_error(
                    format!(
                        "Invalid value: {}. Supported values are: 'realtime' and 'transcription'.",
                        show(other)
                    ),
                    "session.type",
                ))
            }
        };
        if kind != self.kind {
            return Err(config_error(
                format!(
                    "Cannot update a {} session to a {} session: the session type is fixed when the session is created.",
                    self.kind.name(),
                    kind.name()
                ),
                "session.type",
            ));
        }
        let allowed = match kind {
            Kind::Realtime => REALTIME_FIELDS,
            Kind::Transcription => TRANSCRIPTION_FIELDS,
        };
        if let Some(k) = u
            .keys()
            .find(|k| !allowed.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
        {
            return Err(
                ApiError::invalid(format!("Unknown parameter: 'session.{k}'."))
                    .with_code("unknown_parameter")
                    .with_param(&format!("session.{k}")),
            );
        }
        let mut next = self.fields.clone();
        for (k, v) in u {
            if READ_ONLY.contains(&k.as_str()) || k == "type" {
                continue;
            }
            merge(&mut next, k, v);
        }
        check(&next, kind, self.model())?;
        self.fields = next;
        Ok(())
    }
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Merge `v` into `into[k]`: objects key by key (`audio.input.noise_reduction: null` clears that
/// field only), anything else replaces.
fn merge(into: &mut Map<String, Value>, k: &str, v: &Value) {
    match (into.get_mut(k), v) {
        (Some(Value::Object(cur)), Value::Object(new)) => {
            for (nk, nv) in new {
                merge(cur, nk, nv);
            }
        }
        _ => {
            into.insert(k.to_owned(), v.clone());
        }
    }
}

fn config_error(message: String, param: &str) -> ApiError {
    ApiError::invalid(message)
        .with_code("invalid_session_config")
        .with_param(param)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// Whether `model` can run a conversation session: a realtime or audio model by name, or the
/// model the session was opened on (an Azure deployment is named anything).
pub(super) fn is_realtime_model(model: &str, current: &str) -> bool {
    model == current
        || (model.contains("realtime") && !TRANSCRIPTION_MODELS.contains(&model))
        || model.starts_with("gpt-audio")
}

/// `output_modalities` as strings, when it is an array of strings.
fn modalities_of(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|m| m.as_str().map(str::to_owned))
        .collect()
}

/// Check a whole configuration.
fn check(f: &Map<String, Value>, kind: Kind, current_model: &str) -> Result<(), ApiError> {
    if kind == Kind::Realtime {
        match f.get("model") {
            Some(Value::String(m)) if is_realtime_model(m, current_model) => {}
            Some(Value::String(m)) => {
                return Err(config_error(
                    format!("Invalid model '{m}': a realtime session needs a realtime model (such as 'gpt-realtime')."),
                    "session.model",
                ))
            }
            Some(other) => {
                return Err(config_error(
                    format!("Invalid type for 'session.model': expected a string, but got {}.", kind_of(other)),
                    "session.model",
                ))
            }
            None => {}
        }
        if let Some(v) = f.get("instructions") {
            if !v.is_string() && !v.is_null() {
                return Err(config_error(
                    format!(
                        "Invalid type for 'session.instructions': expected a string, but got {}.",
                        kind_of(v)
                    ),
                    "session.instructions",
                ));
            }
        }
        if let Some(v) = f.get("output_modalities") {
            check_modalities(v, "session.output_modalities")?;
        }
        if let Some(v) = f.get("tools") {
            check_tools(v, "session.tools")?;
        }
        if let Some(v) = f.get("tool_choice") {
            check_tool_choice(v, "session.tool_choice")?;
        }
        if let Some(v) = f.get("max_output_tokens") {
            check_max_tokens(v, "session.max_output_tokens")?;
        }
        if let Some(v) = f.get("parallel_tool_calls") {
            if !v.is_boolean() && !v.is_null() {
                return Err(config_error(
                    format!("Invalid type for 'session.parallel_tool_calls': expected a boolean, but got {}.", kind_of(v)),
                    "session.parallel_tool_calls",
                ));
            }
        }
    }
    if let Some(audio) = f.get("audio") {
        let Value::Object(audio) = audio else {
            return Err(config_error(
                format!(
                    "Invalid type for 'session.audio': expected an object, but got {}.",
                    kind_of(audio)
                ),
                "session.audio",
            ));
        };
        for k in audio.keys() {
            let ok = match kind {
                Kind::Realtime => k == "input" || k == "output",
                Kind::Transcription => k == "input",
            };
            if !ok {
                return Err(
                    ApiError::invalid(format!("Unknown parameter: 'session.audio.{k}'."))
                        .with_code("unknown_parameter")
                        .with_param(&format!("session.audio.{k}")),
                );
            }
        }
        if let Some(input) = audio.get("input") {
            check_input(input)?;
        }
        if let Some(output) = audio.get("output") {
            check_output(output)?;
        }
    }
    Ok(())
}

pub(super) fn check_modalities(v: &Value, at: &str) -> Result<(), ApiError> {
    let Some(list) = modalities_of(Some(v)) else {
        return Err(config_error(
            format!(
                "Invalid type for '{at}': expected an array of strings, but got {}.",
                kind_of(v)
            ),
            at,
        ));
    };
    if list.is_empty() {
        return Err(config_error(
            format!("Invalid '{at}': expected 'text' or 'audio', but got an empty array."),
            at,
        ));
    }
    if let Some(bad) = list.iter().find(|m| *m != "text" && *m != "audio") {
        return Err(config_error(
            format!("Invalid value: '{bad}'. Supported values are: 'text' and 'audio'."),
            at,
        ));
    }
    Ok(())
}

pub(super) fn check_tools(v: &Value, at: &str) -> Result<(), ApiError> {
    let Value::Array(tools) = v else {
        return Err(config_error(
            format!(
                "Invalid type for '{at}': expected an array, but got {}.",
                kind_of(v)
            ),
            at,
        ));
    };
    for (i, t) in tools.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let Value::Object(t) = t else {
            return Err(config_error(
                format!(
                    "Invalid type for '{here}': expected an object, but got {}.",
                    kind_of(t)
                ),
                &here,
            ));
        };
        match t.get("type").and_then(Value::as_str).unwrap_or("function") {
            "function" => {
                if !t.get("name").is_some_and(Value::is_string) {
                    return Err(config_error(
                        format!("Missing required parameter: '{here}.name'."),
                        &format!("{here}.name"),
                    ));
                }
            }
            "mcp" => {}
            other => {
                return Err(config_error(
                    format!(
                        "Invalid value: '{other}'. Supported values are: 'function' and 'mcp'."
                    ),
                    &format!("{here}.type"),
                ))
            }
        }
    }
    Ok(())
}

pub(super) fn check_tool_choice(v: &Value, at: &str) -> Result<(), ApiError> {
    match v {
        Value::String(s) if ["none", "auto", "required"].contains(&s.as_str()) => Ok(()),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            if o.get("name").is_some_and(Value::is_string) {
                Ok(())
            } else {
                Err(config_error(
                    format!("Missing required parameter: '{at}.name'."),
                    &format!("{at}.name"),
                ))
            }
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("mcp") => Ok(()),
        other => Err(config_error(
            format!(
                "Invalid value: {}. Supported values are: 'none', 'auto', 'required', or a function or MCP tool choice.",
                show(other)
            ),
            at,
        )),
    }
}

pub(super) fn check_max_tokens(v: &Value, at: &str) -> Result<(), ApiError> {
    match v {
        Value::String(s) if s == "inf" => Ok(()),
        Value::Null => Ok(()),
        Value::Number(n) if n.as_u64().is_some_and(|n| (1..=4096).contains(&n)) => Ok(()),
        other => Err(config_error(
            format!(
                "Invalid '{at}': expected an integer from 1 to 4096 or 'inf', but got {}.",
                show(other)
            ),
            at,
        )),
    }
}

fn check_format(v: &Value, at: &str) -> Result<(), ApiError> {
    let Value::Object(f) = v else {
        return Err(config_error(
            format!(
                "Invalid type for '{at}': expected an object, but got {}.",
                kind_of(v)
            ),
            at,
        ));
    };
    match f.get("type").and_then(Value::as_str) {
        Some("audio/pcm") => match f.get("rate") {
            None | Some(Value::Null) => Ok(()),
            Some(r) if r.as_u64() == Some(24000) => Ok(()),
            Some(r) => Err(config_error(
                format!("Invalid value: {}. Supported values are: 24000.", show(r)),
                &format!("{at}.rate"),
            )),
        },
        Some("audio/pcmu" | "audio/pcma") => Ok(()),
        other => Err(config_error(
            format!(
                "Invalid value: {}. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.",
                other.map_or_else(|| "none".to_owned(), |t| format!("'{t}'"))
            ),
            &format!("{at}.type"),
        )),
    }
}

fn check_input(v: &Value) -> Result<(), ApiError> {
    const AT: &str = "session.audio.input";
    let Value::Object(input) = v else {
        return Err(config_error(
            format!(
                "Invalid type for '{AT}': expected an object, but got {}.",
                kind_of(v)
            ),
            AT,
        ));
    };
    if let Some(f) = input.get("format") {
        check_format(f, &format!("{AT}.format"))?;
    }
    match input.get("transcription") {
        None | Some(Value::Null) => {}
        Some(Value::Object(t)) => match t.get("model") {
            None | Some(Value::Null) => {}
            Some(Value::String(m)) if TRANSCRIPTION_MODELS.contains(&m.as_str()) => {}
            Some(m) => {
                return Err(config_error(
                    format!(
                        "Invalid value: {}. Supported values are: {}.",
                        show(m),
                        TRANSCRIPTION_MODELS
                            .iter()
                            .map(|m| format!("'{m}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    &format!("{AT}.transcription.model"),
                ))
            }
        },
        Some(other) => {
            return Err(config_error(
                format!(
                    "Invalid type for '{AT}.transcription': expected an object, but got {}.",
                    kind_of(other)
                ),
                &format!("{AT}.transcription"),
            ))
        }
    }
    match input.get("noise_reduction") {
        None | Some(Value::Null) => {}
        Some(Value::Object(n))
            if matches!(
                n.get("type").and_then(Value::as_str),
                None | Some("near_field" | "far_field")
            ) => {}
        Some(other) => {
            return Err(config_error(
                format!(
                    "Invalid value for '{AT}.noise_reduction': {}. Supported types are: 'near_field' and 'far_field'.",
                    show(other)
                ),
                &format!("{AT}.noise_reduction"),
            ))
        }
    }
    match input.get("turn_detection") {
        None | Some(Value::Null) => {}
        Some(Value::Object(t))
            if matches!(
                t.get("type").and_then(Value::as_str),
                Some("server_vad" | "semantic_vad")
            ) => {}
        Some(other) => {
            return Err(config_error(
                format!(
                    "Invalid value for '{AT}.turn_detection': {}. Supported types are: 'server_vad' and 'semantic_vad'.",
                    show(other)
                ),
                &format!("{AT}.turn_detection.type"),
            ))
        }
    }
    Ok(())
}

pub(super) fn check_output(v: &Value) -> Result<(), ApiError> {
    const AT: &str = "session.audio.output";
    let Value::Object(output) = v else {
        return Err(config_error(
            format!(
                "Invalid type for '{AT}': expected an object, but got {}.",
                kind_of(v)
            ),
            AT,
        ));
    };
    if let Some(f) = output.get("format") {
        check_format(f, &format!("{AT}.format"))?;
    }
    match output.get("voice") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if VOICES.contains(&s.as_str()) => {}
        Some(Value::Object(o)) if o.get("id").is_some_and(Value::is_string) => {}
        Some(other) => {
            return Err(config_error(
                format!(
                "Invalid value: {}. Supported values are: {}, or a custom voice {{\"id\": ...}}.",
                show(other),
                VOICES
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
                &format!("{AT}.voice"),
            ))
        }
    }
    if let Some(s) = output.get("speed") {
        if !s.as_f64().is_some_and(|s| (0.25..=1.5).contains(&s)) && !s.is_null() {
            return Err(config_error(
                format!(
                    "Invalid '{AT}.speed': expected a number from 0.25 to 1.5, but got {}.",
                    show(s)
                ),
                &format!("{AT}.speed"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Config {
        Config::realtime("sess_1".into(), "gpt-realtime", 1000)
    }

    #[test]
    fn the_created_session_has_the_ga_nested_shape() {
        let j = session().to_json();
        assert_eq!(j["type"], "realtime");
        assert_eq!(j["object"], "realtime.session");
        assert_eq!(j["id"], "sess_1");
        assert_eq!(j["model"], "gpt-realtime");
        assert_eq!(j["audio"]["input"]["format"]["type"], "audio/pcm");
        assert_eq!(j["audio"]["output"]["voice"], "alloy");
        assert_eq!(j["audio"]["input"]["turn_detection"]["type"], "server_vad");
        assert_eq!(j["expires_at"], 4600);
        let t = Config::transcription("sess_2".into(), "gpt-4o-transcribe", 0).to_json();
        assert_eq!(t["type"], "transcription");
        assert_eq!(
            t["audio"]["input"]["transcription"]["model"],
            "gpt-4o-transcribe"
        );
        assert!(t.get("model").is_none());
    }

    #[test]
    fn an_update_merges_nested_fields_and_keeps_the_others() {
        let mut s = session();
        s.update(
            &json!({"type": "realtime", "instructions": "Be brief.", "output_modalities": ["audio"],
                    "audio": {"output": {"voice": "marin"}}}),
            None,
        )
        .unwrap();
        assert_eq!(s.instructions(), "Be brief.");
        assert_eq!(s.modalities(), vec!["audio".to_owned()]);
        assert_eq!(s.voice(), json!("marin"));
        // The output format beside the voice is kept.
        assert_eq!(s.output_format()["type"], "audio/pcm");
        // `null` clears one nested field.
        s.update(
            &json!({"type": "realtime", "audio": {"input": {"turn_detection": null}}}),
            None,
        )
        .unwrap();
        assert_eq!(s.to_json()["audio"]["input"]["turn_detection"], Value::Null);
        assert_eq!(s.input_format()["rate"], 24000);
    }

    #[test]
    fn a_bad_update_is_refused_and_changes_nothing() {
        let cases = [
            (
                json!({"type": "realtime", "model": "gpt-4o"}),
                "invalid_session_config",
                "session.model",
            ),
            (
                json!({"type": "realtime", "model": 7}),
                "invalid_session_config",
                "session.model",
            ),
            (
                json!({"type": "transcription"}),
                "invalid_session_config",
                "session.type",
            ),
            (
                json!({"type": "bogus"}),
                "invalid_session_config",
                "session.type",
            ),
            (
                json!({"type": "realtime", "output_modalities": ["video"]}),
                "invalid_session_config",
                "session.output_modalities",
            ),
            (
                json!({"type": "realtime", "output_modalities": []}),
                "invalid_session_config",
                "session.output_modalities",
            ),
            (
                json!({"type": "realtime", "audio": {"output": {"voice": "nobody"}}}),
                "invalid_session_config",
                "session.audio.output.voice",
            ),
            (
                json!({"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}),
                "invalid_session_config",
                "session.audio.input.format.rate",
            ),
            (
                json!({"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o"}}}}),
                "invalid_session_config",
                "session.audio.input.transcription.model",
            ),
            (
                json!({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "manual"}}}}),
                "invalid_session_config",
                "session.audio.input.turn_detection.type",
            ),
            (
                json!({"type": "realtime", "tools": [{"type": "function"}]}),
                "invalid_session_config",
                "session.tools[0].name",
            ),
            (
                json!({"type": "realtime", "max_output_tokens": 0}),
                "invalid_session_config",
                "session.max_output_tokens",
            ),
            (
                json!({"type": "realtime", "temperature": 0.8}),
                "unknown_parameter",
                "session.temperature",
            ),
            (
                json!({"instructions": "x"}),
                "missing_required_parameter",
                "session.type",
            ),
            (json!("realtime"), "invalid_session_config", "session"),
        ];
        for (update, code, param) in cases {
            let mut s = session();
            s.update(
                &json!({"type": "realtime", "instructions": "Keep me."}),
                None,
            )
            .unwrap();
            let before = s.clone();
            let e = s.update(&update, None).expect_err(&update.to_string());
            assert_eq!(e.code, Some(json!(code)), "{update}");
            assert_eq!(e.param, Some(json!(param)), "{update}");
            assert_eq!(s, before, "rolled back after {update}");
        }
    }

    #[test]
    fn models_a_conversation_session_accepts() {
        assert!(is_realtime_model("gpt-realtime-mini", "x"));
        assert!(is_realtime_model("gpt-4o-realtime-preview", "x"));
        assert!(is_realtime_model("gpt-audio-1.5", "x"));
        assert!(is_realtime_model(
            "my-azure-deployment",
            "my-azure-deployment"
        ));
        assert!(!is_realtime_model("gpt-realtime-whisper", "x"));
        assert!(!is_realtime_model("whisper-1", "x"));
        assert!(!is_realtime_model("gpt-4o", "x"));
    }
}
