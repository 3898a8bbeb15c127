//! GPT-Live's session configuration: `session.start`'s strict object (unknown fields are refused,
//! as the API does), resolved with the server's defaults into the session resource that
//! `session.started` carries, and `session.update`'s narrower object (delegation and triggers).
//! Pure: nothing here touches a socket.

use serde_json::{json, Map, Value};

use super::audio::Format;

/// Fields `session.start`'s `session` may carry.
const START_FIELDS: &[&str] = &[
    "model",
    "audio",
    "client",
    "delegation",
    "input",
    "instructions",
    "safety_identifier",
    "store",
    "triggers",
];

/// Fields `session.update`'s `session` may carry.
const UPDATE_FIELDS: &[&str] = &["delegation", "triggers"];

/// Voices, and the default.
const DEFAULT_VOICE: &str = "marin";

/// At most this many messages of initial history.
const MAX_INPUT: usize = 128;

/// A client command the session refuses: an `error` event with `invalid_request_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    /// `unknown_parameter`, `missing_required_parameter`, `invalid_type`, `invalid_value`, ...
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// The field at fault (`session.model`).
    pub(crate) param: Option<String>,
}

impl Invalid {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, param: Option<&str>) -> Self {
        Invalid {
            code,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    fn unknown(param: &str) -> Self {
        Invalid::new(
            "unknown_parameter",
            format!("Unknown parameter: '{param}'."),
            Some(param),
        )
    }

    fn missing(param: &str) -> Self {
        Invalid::new(
            "missing_required_parameter",
            format!("Missing required parameter: '{param}'."),
            Some(param),
        )
    }

    fn wrong_type(param: &str, expected: &str, got: &Value) -> Self {
        Invalid::new(
            "invalid_type",
            format!(
                "Invalid type for '{param}': expected {expected}, but got {}.",
                kind(got)
            ),
            Some(param),
        )
    }

    fn value(param: &str, message: impl Into<String>) -> Self {
        Invalid::new("invalid_value", message, Some(param))
    }
}

/// A JSON value's kind, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Who handles work the Live model delegates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delegation {
    Client,
    Responses,
    Decisions,
}

impl Delegation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Delegation::Client => "client",
            Delegation::Responses => "responses",
            Delegation::Decisions => "decisions",
        }
    }
}

/// A started session's configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    pub(crate) model: String,
    pub(crate) format: Format,
    pub(crate) delegation: Delegation,
    /// The resolved configuration, as the session resource shows it (without `id`,
    /// `expires_at` and `status`).
    pub(crate) resolved: Map<String, Value>,
}

impl Config {
    /// The Responses delegation's settings (`session.delegation.responses`).
    pub(crate) fn responses(&self) -> Option<&Map<String, Value>> {
        self.resolved
            .get("delegation")?
            .get("responses")?
            .as_object()
    }

    /// The initial history (`session.input`), as (role, text) pairs.
    pub(crate) fn history(&self) -> Vec<(&str, &str)> {
        let Some(Value::Array(items)) = self.resolved.get("input") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|m| {
                let role = m.get("role")?.as_str()?;
                let text = m.get("content")?.get(0)?.get("text")?.as_str()?;
                Some((role, text))
            })
            .collect()
    }
}

fn object<'v>(v: &'v Value, param: &str) -> Result<&'v Map<String, Value>, Invalid> {
    v.as_object()
        .ok_or_else(|| Invalid::wrong_type(param, "an object", v))
}

fn only(m: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), Invalid> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Invalid::unknown(&format!("{at}.{k}"))),
        None => Ok(()),
    }
}

fn opt_string(m: &Map<String, Value>, key: &str, at: &str) -> Result<(), Invalid> {
    match m.get(key) {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(v) => Err(Invalid::wrong_type(&format!("{at}.{key}"), "a string", v)),
    }
}

/// Validate `session.start`'s `session` and resolve it with the defaults.
pub(crate) fn start(session: Option<&Value>) -> Result<Config, Invalid> {
    let Some(v) = session else {
        return Err(Invalid::missing("session"));
    };
    let m = object(v, "session")?;
    only(m, START_FIELDS, "session")?;
    let model = match m.get("model") {
        None | Some(Value::Null) => return Err(Invalid::missing("session.model")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(Invalid::value(
                "session.model",
                "'session.model' must not be empty.",
            ))
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(Invalid::wrong_type("session.model", "a string", other)),
    };
    opt_string(m, "instructions", "session")?;
    opt_string(m, "safety_identifier", "session")?;
    match m.get("store") {
        None | Some(Value::Null | Value::Bool(_)) => {}
        Some(v) => return Err(Invalid::wrong_type("session.store", "a boolean", v)),
    }
    for key in ["client"] {
        match m.get(key) {
            None | Some(Value::Null | Value::Object(_)) => {}
            Some(v) => {
                return Err(Invalid::wrong_type(
                    &format!("session.{key}"),
                    "an object",
                    v,
                ))
            }
        }
    }
    match m.get("triggers") {
        None | Some(Value::Null | Value::Array(_)) => {}
        Some(v) => return Err(Invalid::wrong_type("session.triggers", "an array", v)),
    }
    let (format, audio) = audio(m.get("audio"))?;
    let (delegation, delegation_json) = match m.get("delegation") {
        None | Some(Value::Null) => (Delegation::Client, json!({ "type": "client" })),
        Some(d) => (delegation(d, "session.delegation", false)?, d.clone()),
    };
    if let Some(input) = m.get("input") {
        history(input)?;
    }
    let mut resolved = m.clone();
    resolved.insert("model".to_owned(), Value::String(model.clone()));
    resolved.insert("audio".to_owned(), audio);
    resolved.insert("delegation".to_owned(), delegation_json);
    resolved
        .entry("input")
        .or_insert_with(|| Value::Array(Vec::new()));
    if resolved.get("store").is_none_or(Value::is_null) {
        resolved.insert("store".to_owned(), Value::Bool(false));
    }
    Ok(Config {
        model,
        format,
        delegation,
        resolved,
    })
}

/// `session.audio`: its format (PCM16 at 24 kHz by default) and voice (`marin`), resolved.
fn audio(v: Option<&Value>) -> Result<(Format, Value), Invalid> {
    let empty = Map::new();
    let m = match v {
        None | Some(Value::Null) => &empty,
        Some(v) => object(v, "session.audio")?,
    };
    only(m, &["format", "output"], "session.audio")?;
    let (format, format_json) = match m.get("format") {
        None | Some(Value::Null) => (
            Format::Pcm16 { rate: 24_000 },
            json!({ "type": "audio/pcm", "rate": 24000 }),
        ),
        Some(f) => (audio_format(f)?, f.clone()),
    };
    let voice = match m.get("output") {
        None | Some(Value::Null) => Value::String(DEFAULT_VOICE.to_owned()),
        Some(o) => {
            let o = object(o, "session.audio.output")?;
            only(o, &["voice"], "session.audio.output")?;
            match o.get("voice") {
                None | Some(Value::Null) => Value::String(DEFAULT_VOICE.to_owned()),
                Some(Value::String(s)) if !s.is_empty() => Value::String(s.clone()),
                Some(Value::Object(c)) if c.get("id").is_some_and(Value::is_string) => {
                    Value::Object(c.clone())
                }
                Some(v) => {
                    return Err(Invalid::wrong_type(
                        "session.audio.output.voice",
                        "a voice name or an object with a voice `id`",
                        v,
                    ))
                }
            }
        }
    };
    Ok((
        format,
        json!({ "format": format_json, "output": { "voice": voice } }),
    ))
}

fn audio_format(v: &Value) -> Result<Format, Invalid> {
    let at = "session.audio.format";
    let m = object(v, at)?;
    only(m, &["type", "rate"], at)?;
    let rate = m.get("rate").and_then(Value::as_u64);
    match m.get("type").and_then(Value::as_str) {
        Some("audio/pcm") => match rate {
            Some(r @ (16_000 | 24_000)) => Ok(Format::Pcm16 { rate: r as u32 }),
            _ => Err(Invalid::value(
                "session.audio.format.rate",
                "'session.audio.format.rate' must be 16000 or 24000 for audio/pcm.",
            )),
        },
        Some(t @ ("audio/pcmu" | "audio/pcma")) => match rate {
            None | Some(8000) => Ok(if t == "audio/pcmu" {
                Format::Pcmu
            } else {
                Format::Pcma
            }),
            _ => Err(Invalid::value(
                "session.audio.format.rate",
                format!("'session.audio.format.rate' must be 8000 for {t}."),
            )),
        },
        None => Err(Invalid::missing("session.audio.format.type")),
        Some(other) => Err(Invalid::value(
            "session.audio.format.type",
            format!(
                "Invalid value: '{other}'. Supported values are: 'audio/pcm', 'audio/pcmu' and 'audio/pcma'."
            ),
        )),
    }
}

/// `delegation`: its owner, and for Responses a backend model (not required in an update).
fn delegation(v: &Value, at: &str, update: bool) -> Result<Delegation, Invalid> {
    let m = object(v, at)?;
    let ty = match m.get("type") {
        Some(Value::String(t)) => t.as_str(),
        None => return Err(Invalid::missing(&format!("{at}.type"))),
        Some(other) => {
            return Err(Invalid::wrong_type(
                &format!("{at}.type"),
                "a string",
                other,
            ))
        }
    };
    let owner = match ty {
        "client" => Delegation::Client,
        "responses" => Delegation::Responses,
        "decisions" => Delegation::Decisions,
        other => {
            return Err(Invalid::value(
                &format!("{at}.type"),
                format!(
                    "Invalid value: '{other}'. Supported values are: 'client', 'responses' and 'decisions'."
                ),
            ))
        }
    };
    let allowed: &[&str] = match owner {
        Delegation::Client => &["type", "acknowledgement_delay_ms"],
        Delegation::Responses => &["type", "acknowledgement_delay_ms", "responses"],
        Delegation::Decisions => &["type", "acknowledgement_delay_ms", "decisions"],
    };
    only(m, allowed, at)?;
    match m.get("acknowledgement_delay_ms") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_u64().is_some() => {}
        Some(v) => {
            return Err(Invalid::wrong_type(
                &format!("{at}.acknowledgement_delay_ms"),
                "a non-negative integer",
                v,
            ))
        }
    }
    match owner {
        Delegation::Responses => {
            let key = format!("{at}.responses");
            match m.get("responses") {
                None | Some(Value::Null) if update => {}
                None | Some(Value::Null) => return Err(Invalid::missing(&key)),
                Some(r) => {
                    let r = object(r, &key)?;
                    match r.get("model") {
                        Some(Value::String(s)) if !s.is_empty() => {}
                        None if update => {}
                        None => return Err(Invalid::missing(&format!("{key}.model"))),
                        Some(v) => {
                            return Err(Invalid::wrong_type(&format!("{key}.model"), "a string", v))
                        }
                    }
                    opt_string(r, "instructions", &key)?;
                    match r.get("tools") {
                        None | Some(Value::Null | Value::Array(_)) => {}
                        Some(v) => {
                            return Err(Invalid::wrong_type(&format!("{key}.tools"), "an array", v))
                        }
                    }
                }
            }
        }
        Delegation::Decisions => {
            if !update && m.get("decisions").is_none_or(Value::is_null) {
                return Err(Invalid::missing(&format!("{at}.decisions")));
            }
        }
        Delegation::Client => {}
    }
    Ok(owner)
}

/// `session.input`: at most 128 developer, user and assistant messages of one text part each.
fn history(v: &Value) -> Result<(), Invalid> {
    let Value::Array(items) = v else {
        return Err(Invalid::wrong_type("session.input", "an array", v));
    };
    if items.len() > MAX_INPUT {
        return Err(Invalid::value(
            "session.input",
            format!(
                "'session.input' has {} messages; at most {MAX_INPUT} are allowed.",
                items.len()
            ),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let at = format!("session.input[{i}]");
        let m = object(item, &at)?;
        only(m, &["role", "content", "id", "status", "type"], &at)?;
        match m.get("role").and_then(Value::as_str) {
            Some("developer" | "user" | "assistant") => {}
            Some(other) => {
                return Err(Invalid::value(
                    &format!("{at}.role"),
                    format!("Invalid value: '{other}'. Supported values are: 'developer', 'user' and 'assistant'."),
                ))
            }
            None => return Err(Invalid::missing(&format!("{at}.role"))),
        }
        let content = match m.get("content") {
            Some(Value::Array(parts)) => parts,
            None => return Err(Invalid::missing(&format!("{at}.content"))),
            Some(other) => {
                return Err(Invalid::wrong_type(
                    &format!("{at}.content"),
                    "an array",
                    other,
                ))
            }
        };
        if content.len() != 1 {
            return Err(Invalid::value(
                &format!("{at}.content"),
                format!("'{at}.content' must hold exactly one text part."),
            ));
        }
        if !content[0].get("text").is_some_and(Value::is_string) {
            return Err(Invalid::missing(&format!("{at}.content[0].text")));
        }
    }
    Ok(())
}

/// Apply `session.update`'s `session` to a started session: the delegation keeps its owner (its
/// settings merge), triggers are replaced. Nothing changes when the update is refused.
pub(crate) fn update(config: &Config, session: Option<&Value>) -> Result<Config, Invalid> {
    let Some(v) = session else {
        return Err(Invalid::missing("session"));
    };
    let m = object(v, "session")?;
    if let Some(k) = m.keys().find(|k| !UPDATE_FIELDS.contains(&k.as_str())) {
        let param = format!("session.{k}");
        return Err(if START_FIELDS.contains(&k.as_str()) {
            Invalid::value(
                &param,
                format!("'{param}' cannot change after the session starts."),
            )
        } else {
            Invalid::unknown(&param)
        });
    }
    let mut next = config.clone();
    match m.get("delegation") {
        None => {}
        Some(d) => {
            let owner = if d.is_null() {
                Delegation::Client
            } else {
                delegation(d, "session.delegation", true)?
            };
            if owner != config.delegation {
                return Err(Invalid::value(
                    "session.delegation.type",
                    format!(
                        "The delegation type must match the current session ('{}').",
                        config.delegation.as_str()
                    ),
                ));
            }
            if let (Some(Value::Object(cur)), Value::Object(new)) =
                (next.resolved.get_mut("delegation"), d)
            {
                for (k, v) in new {
                    match (cur.get_mut(k), v) {
                        (Some(Value::Object(a)), Value::Object(b)) => {
                            a.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                        }
                        _ => {
                            cur.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
    }
    match m.get("triggers") {
        None => {}
        Some(t @ Value::Array(_)) => {
            next.resolved.insert("triggers".to_owned(), t.clone());
        }
        Some(Value::Null) => {}
        Some(v) => return Err(Invalid::wrong_type("session.triggers", "an array", v)),
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: Value) -> Invalid {
        start(Some(&v)).expect_err("refused")
    }

    #[test]
    fn a_model_alone_starts_a_session_with_the_servers_defaults() {
        let c = start(Some(&json!({ "model": "gpt-live-1" }))).expect("valid");
        assert_eq!(c.model, "gpt-live-1");
        assert_eq!(c.format, Format::Pcm16 { rate: 24_000 });
        assert_eq!(c.delegation, Delegation::Client);
        assert_eq!(c.resolved["audio"]["output"]["voice"], "marin");
        assert_eq!(c.resolved["audio"]["format"]["rate"], 24000);
        assert_eq!(c.resolved["delegation"]["type"], "client");
        assert_eq!(c.resolved["store"], false);
        assert_eq!(c.resolved["input"], json!([]));
    }

    #[test]
    fn the_model_is_required_and_unknown_fields_are_refused() {
        assert!(start(None).is_err());
        let e = err(json!({ "instructions": "hi" }));
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("missing_required_parameter", Some("session.model"))
        );
        let e = err(json!({ "model": 5 }));
        assert_eq!(e.code, "invalid_type");
        let e = err(json!({ "model": "gpt-live-1", "voice": "marin" }));
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("unknown_parameter", Some("session.voice"))
        );
        let e = err(json!({ "model": "gpt-live-1", "audio": { "output": { "speed": 1 } } }));
        assert_eq!(e.param.as_deref(), Some("session.audio.output.speed"));
    }

    #[test]
    fn audio_formats_are_checked_and_resolved() {
        let c = start(Some(
            &json!({ "model": "m", "audio": { "format": { "type": "audio/pcm", "rate": 16000 } } }),
        ))
        .expect("valid");
        assert_eq!(c.format, Format::Pcm16 { rate: 16_000 });
        let c = start(Some(
            &json!({ "model": "m", "audio": { "format": { "type": "audio/pcmu", "rate": 8000 } } }),
        ))
        .expect("valid");
        assert_eq!(c.format, Format::Pcmu);
        let e = err(
            json!({ "model": "m", "audio": { "format": { "type": "audio/pcm", "rate": 44100 } } }),
        );
        assert_eq!(e.param.as_deref(), Some("session.audio.format.rate"));
        let e = err(json!({ "model": "m", "audio": { "format": { "type": "audio/mp3" } } }));
        assert_eq!(e.param.as_deref(), Some("session.audio.format.type"));
    }

    #[test]
    fn delegation_needs_a_known_owner_and_a_backend_model_for_responses() {
        let e = err(json!({ "model": "m", "delegation": { "type": "robots" } }));
        assert_eq!(e.code, "invalid_value");
        let e =
            err(json!({ "model": "m", "delegation": { "type": "responses", "responses": {} } }));
        assert_eq!(
            e.param.as_deref(),
            Some("session.delegation.responses.model")
        );
        let c = start(Some(&json!({ "model": "m", "delegation": { "type": "responses", "responses": { "model": "gpt-5.5", "tools": [] } } })))
            .expect("valid");
        assert_eq!(c.delegation, Delegation::Responses);
        assert_eq!(
            c.responses().and_then(|r| r.get("model")),
            Some(&json!("gpt-5.5"))
        );
    }

    #[test]
    fn initial_history_is_text_messages_of_one_part() {
        let c = start(Some(&json!({ "model": "m", "input": [
            { "role": "user", "content": [{ "type": "input_text", "text": "hi" }] },
            { "role": "assistant", "content": [{ "type": "output_text", "text": "hello" }] }
        ] })))
        .expect("valid");
        assert_eq!(c.history(), vec![("user", "hi"), ("assistant", "hello")]);
        let e = err(
            json!({ "model": "m", "input": [{ "role": "system", "content": [{ "text": "x" }] }] }),
        );
        assert_eq!(e.param.as_deref(), Some("session.input[0].role"));
        let e = err(json!({ "model": "m", "input": [{ "role": "user", "content": [] }] }));
        assert_eq!(e.param.as_deref(), Some("session.input[0].content"));
    }

    #[test]
    fn an_update_keeps_the_delegation_owner_and_refuses_startup_fields() {
        let c = start(Some(&json!({ "model": "m", "delegation": { "type": "responses", "responses": { "model": "a" } } })))
            .expect("valid");
        let next = update(&c, Some(&json!({ "delegation": { "type": "responses", "responses": { "instructions": "be brief" } } })))
            .expect("valid");
        assert_eq!(next.resolved["delegation"]["responses"]["model"], "a");
        assert_eq!(
            next.resolved["delegation"]["responses"]["instructions"],
            "be brief"
        );
        let e =
            update(&c, Some(&json!({ "delegation": { "type": "client" } }))).expect_err("refused");
        assert_eq!(e.param.as_deref(), Some("session.delegation.type"));
        let e = update(&c, Some(&json!({ "model": "other" }))).expect_err("refused");
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("session.model"))
        );
        let e = update(&c, Some(&json!({ "colour": "red" }))).expect_err("refused");
        assert_eq!(e.code, "unknown_parameter");
    }
}
