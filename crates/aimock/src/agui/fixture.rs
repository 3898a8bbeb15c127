//! AG-UI fixtures: what a run must look like (`match`) and the events it is answered with,
//! written out (`events`) or by shorthand (`text`, `toolCall`, `reasoning`, `stateSnapshot`,
//! `stateDelta`, `messagesSnapshot`, `error`).

use std::fmt;
use std::sync::Arc;

use regex::Regex;
use serde_json::{json, Map, Value};

use super::events::{check_event, check_messages, check_patch, Slot, Template};

/// A test over the whole `RunAgentInput` (as JSON).
pub type Predicate = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// How the last user message's text is matched.
#[derive(Debug, Clone)]
pub enum TextPattern {
    /// The text contains this.
    Substring(String),
    /// The text matches this.
    Regex(Regex),
}

impl TextPattern {
    fn matches(&self, text: &str) -> bool {
        match self {
            TextPattern::Substring(s) => text.contains(s.as_str()),
            TextPattern::Regex(r) => r.is_match(text),
        }
    }
}

/// What a run must look like; every field given must hold.
#[derive(Clone, Default)]
pub struct AguiMatch {
    /// The last user message's text (text parts joined with a space).
    pub message: Option<TextPattern>,
    /// The last message is a tool result (`role: "tool"`) for this tool call.
    pub tool_call_id: Option<String>,
    /// A tool of this name is declared in `tools`.
    pub tool_name: Option<String>,
    /// `state` is an object with this key.
    pub state_key: Option<String>,
    /// Code's own test.
    pub predicate: Option<Predicate>,
}

impl fmt::Debug for AguiMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AguiMatch")
            .field("message", &self.message)
            .field("tool_call_id", &self.tool_call_id)
            .field("tool_name", &self.tool_name)
            .field("state_key", &self.state_key)
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

/// The last user message's text: a string content, or its text parts joined with a space.
pub(crate) fn last_user_text(input: &Value) -> Option<String> {
    let msgs = input.get("messages")?.as_array()?;
    let m = msgs
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?;
    match m.get("content")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

impl AguiMatch {
    /// Whether a run (its `RunAgentInput` as JSON) is one this fixture answers.
    pub fn matches(&self, input: &Value) -> bool {
        if let Some(p) = &self.message {
            match last_user_text(input) {
                Some(t) if p.matches(&t) => {}
                _ => return false,
            }
        }
        if let Some(id) = &self.tool_call_id {
            let last = input
                .get("messages")
                .and_then(Value::as_array)
                .and_then(|m| m.last());
            let ok = last.is_some_and(|m| {
                m.get("role").and_then(Value::as_str) == Some("tool")
                    && m.get("toolCallId").and_then(Value::as_str) == Some(id.as_str())
            });
            if !ok {
                return false;
            }
        }
        if let Some(name) = &self.tool_name {
            let ok = input
                .get("tools")
                .and_then(Value::as_array)
                .is_some_and(|t| {
                    t.iter()
                        .any(|t| t.get("name").and_then(Value::as_str) == Some(name.as_str()))
                });
            if !ok {
                return false;
            }
        }
        if let Some(key) = &self.state_key {
            let ok = input
                .get("state")
                .and_then(Value::as_object)
                .is_some_and(|s| s.contains_key(key));
            if !ok {
                return false;
            }
        }
        if let Some(p) = &self.predicate {
            if !p(input) {
                return false;
            }
        }
        true
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        match &self.message {
            Some(TextPattern::Substring(s)) => {
                m.insert("message".into(), json!(s));
            }
            Some(TextPattern::Regex(r)) => {
                m.insert("message".into(), json!({ "regex": r.as_str() }));
            }
            None => {}
        }
        if let Some(v) = &self.tool_call_id {
            m.insert("toolCallId".into(), json!(v));
        }
        if let Some(v) = &self.tool_name {
            m.insert("toolName".into(), json!(v));
        }
        if let Some(v) = &self.state_key {
            m.insert("stateKey".into(), json!(v));
        }
        if self.predicate.is_some() {
            m.insert("predicate".into(), json!(true));
        }
        Value::Object(m)
    }
}

/// An AG-UI fixture: a match and the events it answers with, already checked.
#[derive(Debug, Clone)]
pub struct AguiFixture {
    pub(crate) matcher: AguiMatch,
    pub(crate) events: Vec<Template>,
    pub(crate) delay_ms: u64,
    /// The response part as configured (for listing).
    response: Map<String, Value>,
}

const FIXTURE_KEYS: &[&str] = &[
    "match",
    "events",
    "text",
    "toolCall",
    "toolCalls",
    "reasoning",
    "stateSnapshot",
    "stateDelta",
    "messagesSnapshot",
    "error",
    "delayMs",
];
const MATCH_KEYS: &[&str] = &["message", "toolCallId", "toolName", "stateKey"];

fn text_pattern(v: &Value) -> Result<TextPattern, String> {
    match v {
        Value::String(s) => Ok(TextPattern::Substring(s.clone())),
        Value::Object(o) => {
            let re = o
                .get("regex")
                .and_then(Value::as_str)
                .ok_or_else(|| "`match.message` is a string or {\"regex\": \"...\"}".to_owned())?;
            if let Some(k) = o.keys().find(|k| *k != "regex" && *k != "flags") {
                return Err(format!("`match.message` has no field `{k}` (regex, flags)"));
            }
            let flags = o.get("flags").and_then(Value::as_str).unwrap_or("");
            if let Some(bad) = flags.chars().find(|c| !"imsxU".contains(*c)) {
                return Err(format!("`match.message.flags`: unknown flag `{bad}`"));
            }
            let src = if flags.is_empty() {
                re.to_owned()
            } else {
                format!("(?{flags}){re}")
            };
            Regex::new(&src)
                .map(TextPattern::Regex)
                .map_err(|e| format!("`match.message.regex` does not compile: {e}"))
        }
        _ => Err("`match.message` is a string or {\"regex\": \"...\"}".into()),
    }
}

fn opt_string(o: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{at}{key}` must be a string")),
    }
}

fn as_template(v: Value) -> Template {
    Template::raw(match v {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

fn slotted(v: Value, slots: Vec<(&'static str, Slot)>) -> Template {
    let mut t = as_template(v);
    t.slots = slots;
    t
}

/// A tool call's arguments or result: a string as is, anything else as its JSON text.
fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl AguiFixture {
    /// A fixture from its JSON form, `{match, events | text | toolCall | ..., delayMs?}`; the
    /// error says what is wrong.
    pub fn from_json(v: &Value) -> Result<AguiFixture, String> {
        let o = v
            .as_object()
            .ok_or_else(|| "a fixture must be a JSON object".to_owned())?;
        if let Some(k) = o.keys().find(|k| !FIXTURE_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown fixture field `{k}` (fields: {})",
                FIXTURE_KEYS.join(", ")
            ));
        }
        let mut matcher = AguiMatch::default();
        match o.get("match") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                if let Some(k) = m.keys().find(|k| !MATCH_KEYS.contains(&k.as_str())) {
                    return Err(format!(
                        "unknown match field `{k}` (fields: {})",
                        MATCH_KEYS.join(", ")
                    ));
                }
                if let Some(p) = m.get("message") {
                    matcher.message = Some(text_pattern(p)?);
                }
                matcher.tool_call_id = opt_string(m, "toolCallId", "match.")?;
                matcher.tool_name = opt_string(m, "toolName", "match.")?;
                matcher.state_key = opt_string(m, "stateKey", "match.")?;
            }
            Some(_) => return Err("`match` must be an object".into()),
        }
        let delay_ms = match o.get("delayMs") {
            None | Some(Value::Null) => 0,
            Some(d) => {
                let ms = d
                    .as_f64()
                    .filter(|ms| ms.is_finite() && *ms >= 0.0)
                    .ok_or_else(|| "`delayMs` must be a number >= 0".to_owned())?;
                ms.min(crate::stream::MAX_DELAY_MS) as u64
            }
        };
        let mut response = o.clone();
        response.remove("match");
        response.remove("delayMs");
        let mut events = compile_response(&response)?;
        declare_version(&mut events);
        Ok(AguiFixture {
            matcher,
            events,
            delay_ms,
            response,
        })
    }

    /// A fixture answering runs that `matcher` accepts with a response in JSON form
    /// (`{"text": "..."}`, `{"events": [...]}`, ...).
    pub fn new(matcher: AguiMatch, response: Value) -> Result<AguiFixture, String> {
        let mut f = AguiFixture::from_json(&response)?;
        f.matcher = matcher;
        Ok(f)
    }

    /// Wait this long between events.
    pub fn with_delay_ms(mut self, ms: u64) -> AguiFixture {
        self.delay_ms = ms;
        self
    }

    /// What it matches.
    pub fn matcher(&self) -> &AguiMatch {
        &self.matcher
    }

    /// How many events it sends.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// Its JSON form (a predicate shows as `"predicate": true`).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("match".into(), self.matcher.to_json());
        for (k, v) in &self.response {
            m.insert(k.clone(), v.clone());
        }
        if self.delay_ms > 0 {
            m.insert("delayMs".into(), json!(self.delay_ms));
        }
        Value::Object(m)
    }
}

/// The protocol version RUN_STARTED declares as the producer's own (AG-UI 1.0's lifecycle rules),
/// unless the fixture says otherwise or sends retired 0.x events (`THINKING_*`): a stream with
/// those is a pre-1.0 producer's, and declares nothing.
pub const PROTOCOL_VERSION: &str = "1.0";

fn declare_version(events: &mut [Template]) {
    let legacy = events.iter().any(|t| {
        t.event
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(super::events::is_deprecated)
    });
    if legacy {
        return;
    }
    for t in events {
        if t.event.get("type").and_then(Value::as_str) == Some("RUN_STARTED") {
            t.event
                .entry("protocolVersion")
                .or_insert_with(|| json!(PROTOCOL_VERSION));
        }
    }
}

/// The events a fixture's response part stands for, checked.
fn compile_response(o: &Map<String, Value>) -> Result<Vec<Template>, String> {
    let shorthands: Vec<&str> = FIXTURE_KEYS[2..FIXTURE_KEYS.len() - 1]
        .iter()
        .copied()
        .filter(|k| o.contains_key(*k))
        .collect();
    if let Some(events) = o.get("events") {
        if let Some(k) = shorthands.first() {
            return Err(format!(
                "`events` and `{k}` cannot be combined: write the whole stream in `events`"
            ));
        }
        let list = events
            .as_array()
            .ok_or_else(|| "`events` must be an array of AG-UI events".to_owned())?;
        let mut out = Vec::with_capacity(list.len());
        for (i, e) in list.iter().enumerate() {
            check_event(e).map_err(|err| format!("events[{i}]: {err}"))?;
            out.push(as_template(e.clone()));
        }
        return Ok(out);
    }
    if shorthands.is_empty() {
        return Err(
            "a fixture needs `events` or a shorthand (text, toolCall, reasoning, stateSnapshot, stateDelta, messagesSnapshot, error)"
                .into(),
        );
    }
    let mut out = vec![as_template(json!({"type": "RUN_STARTED"}))];
    if let Some(s) = o.get("stateSnapshot") {
        out.push(as_template(
            json!({"type": "STATE_SNAPSHOT", "snapshot": s}),
        ));
    }
    if let Some(d) = o.get("stateDelta") {
        check_patch(d).map_err(|e| format!("`stateDelta` {e}"))?;
        out.push(as_template(json!({"type": "STATE_DELTA", "delta": d})));
    }
    if let Some(r) = o.get("reasoning") {
        let r = r
            .as_str()
            .ok_or_else(|| "`reasoning` must be a string".to_owned())?;
        let slot = vec![("messageId", Slot::Reasoning(0))];
        out.push(slotted(json!({"type": "REASONING_START"}), slot.clone()));
        out.push(slotted(
            json!({"type": "REASONING_MESSAGE_START", "role": "reasoning"}),
            slot.clone(),
        ));
        out.push(slotted(
            json!({"type": "REASONING_MESSAGE_CONTENT", "delta": r}),
            slot.clone(),
        ));
        out.push(slotted(
            json!({"type": "REASONING_MESSAGE_END"}),
            slot.clone(),
        ));
        out.push(slotted(json!({"type": "REASONING_END"}), slot));
    }
    let has_text = o.contains_key("text");
    if let Some(t) = o.get("text") {
        let t = t
            .as_str()
            .ok_or_else(|| "`text` must be a string".to_owned())?;
        let slot = vec![("messageId", Slot::Text(0))];
        out.push(slotted(
            json!({"type": "TEXT_MESSAGE_START", "role": "assistant"}),
            slot.clone(),
        ));
        out.push(slotted(
            json!({"type": "TEXT_MESSAGE_CONTENT", "delta": t}),
            slot.clone(),
        ));
        out.push(slotted(json!({"type": "TEXT_MESSAGE_END"}), slot));
    }
    let mut calls: Vec<&Value> = Vec::new();
    for key in ["toolCall", "toolCalls"] {
        match o.get(key) {
            None => {}
            Some(Value::Array(a)) => calls.extend(a.iter()),
            Some(v @ Value::Object(_)) => calls.push(v),
            Some(_) => return Err(format!("`{key}` must be an object or an array of them")),
        }
    }
    for (i, c) in calls.iter().enumerate() {
        let c = c
            .as_object()
            .ok_or_else(|| format!("tool call {i} must be an object {{name, args, result?}}"))?;
        if let Some(k) = c
            .keys()
            .find(|k| !["name", "args", "result", "id"].contains(&k.as_str()))
        {
            return Err(format!(
                "tool call {i} has no field `{k}` (name, args, result, id)"
            ));
        }
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("tool call {i} needs a string `name`"))?;
        let args = c.get("args").map(json_text).unwrap_or_else(|| "{}".into());
        let mut id_slot = vec![("toolCallId", Slot::ToolCall(i))];
        let mut start = json!({"type": "TOOL_CALL_START", "toolCallName": name});
        if let Some(id) = c.get("id") {
            let id = id
                .as_str()
                .ok_or_else(|| format!("tool call {i}: `id` must be a string"))?;
            start["toolCallId"] = json!(id);
            id_slot.clear();
        }
        let mut start_slots = id_slot.clone();
        if has_text {
            start_slots.push(("parentMessageId", Slot::Text(0)));
        }
        let id_field = |mut v: Value| {
            if let Some(id) = start.get("toolCallId") {
                v["toolCallId"] = id.clone();
            }
            v
        };
        let args_ev = id_field(json!({"type": "TOOL_CALL_ARGS", "delta": args}));
        let end_ev = id_field(json!({"type": "TOOL_CALL_END"}));
        let result_ev = c.get("result").map(|r| {
            id_field(json!({"type": "TOOL_CALL_RESULT", "content": json_text(r), "role": "tool"}))
        });
        out.push(slotted(start.clone(), start_slots));
        out.push(slotted(args_ev, id_slot.clone()));
        out.push(slotted(end_ev, id_slot.clone()));
        if let Some(r) = result_ev {
            let mut s = id_slot.clone();
            s.push(("messageId", Slot::ToolResult(i)));
            out.push(slotted(r, s));
        }
    }
    if let Some(m) = o.get("messagesSnapshot") {
        check_messages(m).map_err(|e| format!("`messagesSnapshot` {e}"))?;
        out.push(as_template(
            json!({"type": "MESSAGES_SNAPSHOT", "messages": m}),
        ));
    }
    match o.get("error") {
        None => out.push(as_template(json!({"type": "RUN_FINISHED"}))),
        Some(Value::String(msg)) => {
            out.push(as_template(json!({"type": "RUN_ERROR", "message": msg})));
        }
        Some(e @ Value::Object(eo)) => {
            if let Some(k) = eo.keys().find(|k| *k != "message" && *k != "code") {
                return Err(format!("`error` has no field `{k}` (message, code)"));
            }
            let mut ev = e.clone();
            ev["type"] = json!("RUN_ERROR");
            check_event(&ev).map_err(|err| format!("`error`: {err}"))?;
            out.push(as_template(ev));
        }
        Some(_) => return Err("`error` is a string or {message, code?}".into()),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthands_expand_in_order() {
        let f = AguiFixture::from_json(&json!({
            "match": {"message": "x"},
            "stateSnapshot": {"a": 1},
            "reasoning": "hmm",
            "text": "hi",
            "toolCall": {"name": "get", "args": {"q": 1}, "result": "ok"},
            "error": {"message": "boom", "code": "E"}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let types: Vec<&str> = f
            .events
            .iter()
            .filter_map(|t| t.event.get("type").and_then(Value::as_str))
            .collect();
        assert_eq!(
            types,
            [
                "RUN_STARTED",
                "STATE_SNAPSHOT",
                "REASONING_START",
                "REASONING_MESSAGE_START",
                "REASONING_MESSAGE_CONTENT",
                "REASONING_MESSAGE_END",
                "REASONING_END",
                "TEXT_MESSAGE_START",
                "TEXT_MESSAGE_CONTENT",
                "TEXT_MESSAGE_END",
                "TOOL_CALL_START",
                "TOOL_CALL_ARGS",
                "TOOL_CALL_END",
                "TOOL_CALL_RESULT",
                "RUN_ERROR"
            ]
        );
    }

    #[test]
    fn bad_fixtures_say_why() {
        let e =
            AguiFixture::from_json(&json!({"match": {"mesage": "x"}, "text": "y"})).unwrap_err();
        assert!(e.contains("unknown match field `mesage`"), "{e}");
        let e = AguiFixture::from_json(&json!({"text": "y", "events": []})).unwrap_err();
        assert!(e.contains("cannot be combined"), "{e}");
        let e = AguiFixture::from_json(&json!({"match": {}})).unwrap_err();
        assert!(e.contains("needs `events`"), "{e}");
        let e = AguiFixture::from_json(
            &json!({"events": [{"type": "RUN_STARTED"}, {"type": "CUSTOM"}]}),
        )
        .unwrap_err();
        assert!(e.starts_with("events[1]: CUSTOM needs `name`"), "{e}");
    }
}
