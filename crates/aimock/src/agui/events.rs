//! AG-UI 1.0 events: every type, the fields each carries, the checks a configured event passes at
//! load time, the ids and timestamps filled in from the request, and the wire encoding.
//!
//! The field tables follow the protocol's schema (`ag_ui.core.events` in the Python SDK). An
//! event is a JSON object; its keys are written in the schema's order (`type`, `timestamp`,
//! `rawEvent`, `metadata`, then the type's own fields), as the official encoders write them.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// What a field's value must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    Object,
    Any,
    /// A string, or an array of content parts (text, image, audio, video, document).
    Content,
    /// A JSON Patch (RFC 6902) operation list.
    Patch,
    /// An array of messages.
    Messages,
    /// `RUN_FINISHED.outcome`.
    RunOutcome,
    /// `SUBAGENT_FINISHED.outcome`.
    SubagentOutcome,
    /// An array of token usage records.
    Usage,
    /// A `RunAgentInput` object.
    Input,
    /// An array of strings.
    Strings,
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

/// Which per-run value fills a field left out of a configured event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Slot {
    /// The request's `threadId`.
    Thread,
    /// The request's `runId`.
    Run,
    /// The request's `parentRunId` (left out when the request has none).
    ParentRun,
    /// The run's n-th text message id.
    Text(usize),
    /// The run's n-th reasoning message id.
    Reasoning(usize),
    /// The run's n-th activity message id.
    Activity(usize),
    /// The run's n-th tool result message id.
    ToolResult(usize),
    /// The run's n-th tool call id.
    ToolCall(usize),
}

#[derive(Debug, Clone, Copy)]
enum Fill {
    No,
    Id(Slot),
    Default(&'static str),
}

#[derive(Debug)]
struct Field {
    key: &'static str,
    kind: Kind,
    required: bool,
    fill: Fill,
}

const fn req(key: &'static str, kind: Kind) -> Field {
    Field {
        key,
        kind,
        required: true,
        fill: Fill::No,
    }
}

const fn opt(key: &'static str, kind: Kind) -> Field {
    Field {
        key,
        kind,
        required: false,
        fill: Fill::No,
    }
}

/// Required, but filled from the run when left out.
const fn filled(key: &'static str, slot: Slot) -> Field {
    Field {
        key,
        kind: Kind::Str,
        required: true,
        fill: Fill::Id(slot),
    }
}

/// Optional, filled from the run when left out.
const fn opt_filled(key: &'static str, slot: Slot) -> Field {
    Field {
        key,
        kind: Kind::Str,
        required: false,
        fill: Fill::Id(slot),
    }
}

const fn defaulted(key: &'static str, kind: Kind, value: &'static str) -> Field {
    Field {
        key,
        kind,
        required: false,
        fill: Fill::Default(value),
    }
}

/// One event type.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The `type` value.
    pub(crate) ty: &'static str,
    /// Carries `subagentRunId` (content and progress events do; run-scoped ones do not).
    attributable: bool,
    /// Left the protocol in 1.0 (`THINKING_*`): served as configured, for old clients.
    pub(crate) deprecated: bool,
    fields: &'static [Field],
}

const TEXT_ROLES: &[&str] = &["developer", "system", "assistant", "user"];

const fn spec(ty: &'static str, attributable: bool, fields: &'static [Field]) -> Spec {
    Spec {
        ty,
        attributable,
        deprecated: false,
        fields,
    }
}

const fn old(ty: &'static str, fields: &'static [Field]) -> Spec {
    Spec {
        ty,
        attributable: false,
        deprecated: true,
        fields,
    }
}

/// Every event type: AG-UI 1.0's, then the deprecated `THINKING_*` ones.
static SPECS: &[Spec] = &[
    spec(
        "TEXT_MESSAGE_START",
        true,
        &[
            filled("messageId", Slot::Text(0)),
            defaulted("role", Kind::OneOf(TEXT_ROLES), "assistant"),
            opt("name", Kind::Str),
        ],
    ),
    spec(
        "TEXT_MESSAGE_CONTENT",
        true,
        &[filled("messageId", Slot::Text(0)), req("delta", Kind::Str)],
    ),
    spec(
        "TEXT_MESSAGE_END",
        true,
        &[filled("messageId", Slot::Text(0))],
    ),
    spec(
        "TEXT_MESSAGE_CHUNK",
        true,
        &[
            opt_filled("messageId", Slot::Text(0)),
            opt("role", Kind::OneOf(TEXT_ROLES)),
            opt("delta", Kind::Str),
            opt("name", Kind::Str),
        ],
    ),
    spec(
        "TOOL_CALL_START",
        true,
        &[
            filled("toolCallId", Slot::ToolCall(0)),
            req("toolCallName", Kind::Str),
            opt("parentMessageId", Kind::Str),
        ],
    ),
    spec(
        "TOOL_CALL_ARGS",
        true,
        &[
            filled("toolCallId", Slot::ToolCall(0)),
            req("delta", Kind::Str),
        ],
    ),
    spec(
        "TOOL_CALL_END",
        true,
        &[filled("toolCallId", Slot::ToolCall(0))],
    ),
    spec(
        "TOOL_CALL_CHUNK",
        true,
        &[
            opt_filled("toolCallId", Slot::ToolCall(0)),
            opt("toolCallName", Kind::Str),
            opt("parentMessageId", Kind::Str),
            opt("delta", Kind::Str),
        ],
    ),
    spec(
        "TOOL_CALL_RESULT",
        true,
        &[
            filled("messageId", Slot::ToolResult(0)),
            filled("toolCallId", Slot::ToolCall(0)),
            req("content", Kind::Content),
            opt("role", Kind::OneOf(&["tool"])),
        ],
    ),
    spec("STATE_SNAPSHOT", true, &[req("snapshot", Kind::Any)]),
    spec("STATE_DELTA", true, &[req("delta", Kind::Patch)]),
    spec(
        "MESSAGES_SNAPSHOT",
        false,
        &[req("messages", Kind::Messages)],
    ),
    spec(
        "ACTIVITY_SNAPSHOT",
        true,
        &[
            filled("messageId", Slot::Activity(0)),
            req("activityType", Kind::Str),
            req("content", Kind::Object),
            opt("replace", Kind::Bool),
        ],
    ),
    spec(
        "ACTIVITY_DELTA",
        true,
        &[
            filled("messageId", Slot::Activity(0)),
            req("activityType", Kind::Str),
            req("patch", Kind::Patch),
        ],
    ),
    spec(
        "RAW",
        true,
        &[req("event", Kind::Any), opt("source", Kind::Str)],
    ),
    spec(
        "CUSTOM",
        true,
        &[req("name", Kind::Str), req("value", Kind::Any)],
    ),
    spec(
        "RUN_STARTED",
        false,
        &[
            filled("threadId", Slot::Thread),
            filled("runId", Slot::Run),
            opt("protocolVersion", Kind::Str),
            opt_filled("parentRunId", Slot::ParentRun),
            opt("input", Kind::Input),
        ],
    ),
    spec(
        "RUN_FINISHED",
        false,
        &[
            filled("threadId", Slot::Thread),
            filled("runId", Slot::Run),
            opt("result", Kind::Any),
            opt("outcome", Kind::RunOutcome),
            opt("usage", Kind::Usage),
        ],
    ),
    spec(
        "RUN_ERROR",
        false,
        &[
            req("message", Kind::Str),
            opt("code", Kind::Str),
            opt("usage", Kind::Usage),
        ],
    ),
    spec("STEP_STARTED", true, &[req("stepName", Kind::Str)]),
    spec("STEP_FINISHED", true, &[req("stepName", Kind::Str)]),
    spec(
        "REASONING_START",
        true,
        &[filled("messageId", Slot::Reasoning(0))],
    ),
    spec(
        "REASONING_MESSAGE_START",
        true,
        &[
            filled("messageId", Slot::Reasoning(0)),
            defaulted("role", Kind::OneOf(&["reasoning"]), "reasoning"),
        ],
    ),
    spec(
        "REASONING_MESSAGE_CONTENT",
        true,
        &[
            filled("messageId", Slot::Reasoning(0)),
            req("delta", Kind::Str),
        ],
    ),
    spec(
        "REASONING_MESSAGE_END",
        true,
        &[filled("messageId", Slot::Reasoning(0))],
    ),
    spec(
        "REASONING_MESSAGE_CHUNK",
        true,
        &[
            opt_filled("messageId", Slot::Reasoning(0)),
            opt("delta", Kind::Str),
        ],
    ),
    spec(
        "REASONING_END",
        true,
        &[filled("messageId", Slot::Reasoning(0))],
    ),
    spec(
        "REASONING_ENCRYPTED_VALUE",
        true,
        &[
            req("subtype", Kind::OneOf(&["tool-call", "message"])),
            req("entityId", Kind::Str),
            req("encryptedValue", Kind::Str),
        ],
    ),
    spec(
        "SUBAGENT_STARTED",
        false,
        &[
            req("subagentRunId", Kind::Str),
            req("name", Kind::Str),
            opt("description", Kind::Str),
            opt("parentSubagentRunId", Kind::Str),
            opt("parentToolCallId", Kind::Str),
            opt("parentMessageId", Kind::Str),
        ],
    ),
    spec(
        "SUBAGENT_FINISHED",
        false,
        &[
            req("subagentRunId", Kind::Str),
            opt("result", Kind::Any),
            opt("outcome", Kind::SubagentOutcome),
        ],
    ),
    spec(
        "SUBAGENT_ERROR",
        false,
        &[
            req("subagentRunId", Kind::Str),
            req("message", Kind::Str),
            opt("code", Kind::Str),
        ],
    ),
    old("THINKING_START", &[opt("title", Kind::Str)]),
    old("THINKING_END", &[]),
    old("THINKING_TEXT_MESSAGE_START", &[]),
    old("THINKING_TEXT_MESSAGE_CONTENT", &[req("delta", Kind::Str)]),
    old("THINKING_TEXT_MESSAGE_END", &[]),
];

/// Every event type this server can send, AG-UI 1.0's and the deprecated ones.
pub fn event_types() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.ty)
}

/// Whether a type left the protocol in 1.0 (`THINKING_*`): still served, for old clients, but
/// absent from the 1.0 schema.
pub fn is_deprecated(ty: &str) -> bool {
    spec_of(ty).is_some_and(|s| s.deprecated)
}

pub(crate) fn spec_of(ty: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.ty == ty)
}

/// Fields every event may carry, in the schema's order.
const COMMON: &[(&str, Kind)] = &[
    ("timestamp", Kind::Int),
    ("rawEvent", Kind::Any),
    ("metadata", Kind::Object),
];

/// The largest integer a JSON number keeps exactly (2^53 - 1), the schema's bound.
const MAX_SAFE_INT: u64 = 9_007_199_254_740_991;

fn kind_name(k: Kind) -> String {
    match k {
        Kind::Str => "a string".into(),
        Kind::Bool => "a boolean".into(),
        Kind::Int => "an integer within ±(2^53 - 1)".into(),
        Kind::Object => "an object".into(),
        Kind::Any => "any JSON value".into(),
        Kind::Content => "a string or an array of content parts".into(),
        Kind::Patch => "a JSON Patch array".into(),
        Kind::Messages => "an array of messages".into(),
        Kind::RunOutcome => "an outcome {type: success|interrupt|cancelled}".into(),
        Kind::SubagentOutcome => "an outcome {type: success|suspended}".into(),
        Kind::Usage => "an array of token usage objects".into(),
        Kind::Input => "a RunAgentInput object".into(),
        Kind::Strings => "an array of strings".into(),
        Kind::OneOf(v) => format!("one of {}", v.join(", ")),
    }
}

/// Check a configured event: a known `type`, its required fields there (those filled from the
/// request aside), every field of the right kind, no field the type does not have.
pub(crate) fn check_event(ev: &Value) -> Result<(), String> {
    let obj = ev
        .as_object()
        .ok_or_else(|| "an event must be a JSON object".to_owned())?;
    let ty = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err("`type` must be a string".into()),
        None => return Err("an event needs a `type`".into()),
    };
    let spec = spec_of(ty).ok_or_else(|| {
        format!(
            "unknown event type `{ty}` (known: {})",
            event_types().collect::<Vec<_>>().join(", ")
        )
    })?;
    for (key, value) in obj {
        if key == "type" {
            continue;
        }
        let kind = COMMON
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, k)| *k)
            .or_else(|| (spec.attributable && key == "subagentRunId").then_some(Kind::Str))
            .or_else(|| spec.fields.iter().find(|f| f.key == key).map(|f| f.kind));
        let Some(kind) = kind else {
            let mut known: Vec<&str> = COMMON.iter().map(|(k, _)| *k).collect();
            if spec.attributable {
                known.push("subagentRunId");
            }
            known.extend(spec.fields.iter().map(|f| f.key));
            return Err(format!(
                "{ty} has no field `{key}` (its fields: {})",
                known.join(", ")
            ));
        };
        check_kind(value, kind).map_err(|e| format!("{ty}.{key}: {e}"))?;
    }
    for f in spec.fields {
        if f.required && matches!(f.fill, Fill::No) && !obj.contains_key(f.key) {
            return Err(format!("{ty} needs `{}` ({})", f.key, kind_name(f.kind)));
        }
    }
    Ok(())
}

fn expect(ok: bool, kind: Kind) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("must be {}", kind_name(kind)))
    }
}

fn check_kind(v: &Value, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Str => expect(v.is_string(), kind),
        Kind::Bool => expect(v.is_boolean(), kind),
        Kind::Int => expect(
            v.as_i64().is_some_and(|n| n.unsigned_abs() <= MAX_SAFE_INT),
            kind,
        ),
        Kind::Object => expect(v.is_object(), kind),
        Kind::Any => Ok(()),
        Kind::Strings => expect(
            v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            kind,
        ),
        Kind::OneOf(allowed) => expect(v.as_str().is_some_and(|s| allowed.contains(&s)), kind),
        Kind::Content => check_content(v),
        Kind::Patch => check_patch(v),
        Kind::Messages => check_messages(v),
        Kind::Input => check_input(v),
        Kind::Usage => {
            let arr = v.as_array().ok_or_else(|| "must be an array".to_owned())?;
            for (i, u) in arr.iter().enumerate() {
                let o = u
                    .as_object()
                    .ok_or_else(|| format!("[{i}] must be an object"))?;
                for (k, x) in o {
                    let ok = match k.as_str() {
                        "provider" | "model" => x.is_string(),
                        _ if k.ends_with("Tokens") => x.as_u64().is_some_and(|n| n <= MAX_SAFE_INT),
                        _ => true,
                    };
                    if !ok {
                        return Err(format!("[{i}].{k} has the wrong type"));
                    }
                }
            }
            Ok(())
        }
        Kind::RunOutcome => {
            let o = v
                .as_object()
                .ok_or_else(|| format!("must be {}", kind_name(kind)))?;
            match o.get("type").and_then(Value::as_str) {
                Some("success") => match o.get("pendingToolCallIds") {
                    None => Ok(()),
                    Some(x) => {
                        check_kind(x, Kind::Strings).map_err(|e| format!("pendingToolCallIds {e}"))
                    }
                },
                Some("cancelled") => Ok(()),
                Some("interrupt") => {
                    let list = o
                        .get("interrupts")
                        .and_then(Value::as_array)
                        .filter(|a| !a.is_empty())
                        .ok_or_else(|| {
                            "an interrupt outcome needs a non-empty `interrupts` array".to_owned()
                        })?;
                    for (i, it) in list.iter().enumerate() {
                        let ok = it.get("id").is_some_and(Value::is_string)
                            && it.get("reason").is_some_and(Value::is_string);
                        if !ok {
                            return Err(format!("interrupts[{i}] needs string `id` and `reason`"));
                        }
                    }
                    Ok(())
                }
                _ => Err(format!("must be {}", kind_name(kind))),
            }
        }
        Kind::SubagentOutcome => {
            let o = v
                .as_object()
                .ok_or_else(|| format!("must be {}", kind_name(kind)))?;
            match o.get("type").and_then(Value::as_str) {
                Some("success") => Ok(()),
                Some("suspended") => match o.get("interruptIds") {
                    None => Ok(()),
                    Some(x) => {
                        check_kind(x, Kind::Strings).map_err(|e| format!("interruptIds {e}"))
                    }
                },
                _ => Err(format!("must be {}", kind_name(kind))),
            }
        }
    }
}

fn check_content(v: &Value) -> Result<(), String> {
    if v.is_string() {
        return Ok(());
    }
    let parts = v
        .as_array()
        .ok_or_else(|| "must be a string or an array of content parts".to_owned())?;
    for (i, p) in parts.iter().enumerate() {
        let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "text" => {
                if !p.get("text").is_some_and(Value::is_string) {
                    return Err(format!("[{i}]: a text part needs a string `text`"));
                }
            }
            "image" | "audio" | "video" | "document" => {
                let src = p.get("source");
                let sty = src.and_then(|s| s.get("type")).and_then(Value::as_str);
                let has_value = src
                    .and_then(|s| s.get("value"))
                    .is_some_and(Value::is_string);
                let ok = match sty {
                    Some("data") => {
                        has_value
                            && src
                                .and_then(|s| s.get("mimeType"))
                                .is_some_and(Value::is_string)
                    }
                    Some("url") | Some("file") => has_value,
                    _ => false,
                };
                if !ok {
                    return Err(format!(
                        "[{i}]: a {ty} part needs a `source` {{type: data|url|file, value, mimeType}}"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "[{i}]: a content part's `type` is text, image, audio, video or document"
                ))
            }
        }
    }
    Ok(())
}

/// A JSON Pointer (RFC 6901): empty, or `/`-separated tokens where `~` is followed by 0 or 1.
fn is_pointer(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if !s.starts_with('/') {
        return false;
    }
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, c)| *c != b'~' || matches!(b.get(i + 1), Some(b'0') | Some(b'1')))
}

pub(crate) fn check_patch(v: &Value) -> Result<(), String> {
    let ops = v
        .as_array()
        .ok_or_else(|| "must be a JSON Patch array".to_owned())?;
    for (i, op) in ops.iter().enumerate() {
        let o = op
            .as_object()
            .ok_or_else(|| format!("[{i}] must be an operation object"))?;
        let name = o.get("op").and_then(Value::as_str).unwrap_or("");
        let path_ok = o
            .get("path")
            .and_then(Value::as_str)
            .is_some_and(is_pointer);
        if !path_ok {
            return Err(format!("[{i}] needs a JSON Pointer `path`"));
        }
        match name {
            "add" | "replace" | "test" => {
                if !o.contains_key("value") {
                    return Err(format!("[{i}] ({name}) needs a `value`"));
                }
            }
            "remove" => {}
            "move" | "copy" => {
                let from_ok = o
                    .get("from")
                    .and_then(Value::as_str)
                    .is_some_and(is_pointer);
                if !from_ok {
                    return Err(format!("[{i}] ({name}) needs a JSON Pointer `from`"));
                }
            }
            _ => {
                return Err(format!(
                    "[{i}] `op` is add, remove, replace, move, copy or test"
                ))
            }
        }
    }
    Ok(())
}

/// Messages as in `RunAgentInput.messages` and `MESSAGES_SNAPSHOT.messages`.
pub(crate) fn check_messages(v: &Value) -> Result<(), String> {
    let list = v
        .as_array()
        .ok_or_else(|| "must be an array of messages".to_owned())?;
    for (i, m) in list.iter().enumerate() {
        check_message(m).map_err(|e| format!("[{i}] {e}"))?;
    }
    Ok(())
}

fn check_message(m: &Value) -> Result<(), String> {
    let o = m
        .as_object()
        .ok_or_else(|| "must be a message object".to_owned())?;
    if !o.get("id").is_some_and(Value::is_string) {
        return Err("needs a string `id`".into());
    }
    let role = o.get("role").and_then(Value::as_str).unwrap_or("");
    let str_field = |k: &str, required: bool| -> Result<(), String> {
        match o.get(k) {
            Some(Value::String(_)) => Ok(()),
            None if !required => Ok(()),
            _ => Err(format!("({role}) needs a string `{k}`")),
        }
    };
    match role {
        "developer" | "system" | "reasoning" => str_field("content", true),
        "assistant" => {
            str_field("content", false)?;
            if let Some(calls) = o.get("toolCalls") {
                let calls = calls
                    .as_array()
                    .ok_or_else(|| "(assistant) `toolCalls` must be an array".to_owned())?;
                for (j, c) in calls.iter().enumerate() {
                    let ok = c.get("id").is_some_and(Value::is_string)
                        && c.get("function")
                            .and_then(|f| f.get("name"))
                            .is_some_and(Value::is_string)
                        && c.get("function")
                            .and_then(|f| f.get("arguments"))
                            .is_some_and(Value::is_string);
                    if !ok {
                        return Err(format!(
                            "toolCalls[{j}] needs `id` and `function` {{name, arguments}} (strings)"
                        ));
                    }
                }
            }
            Ok(())
        }
        "user" => match o.get("content") {
            Some(c) => check_content(c).map_err(|e| format!("content {e}")),
            None => Err("(user) needs `content`".into()),
        },
        "tool" => {
            str_field("toolCallId", true)?;
            match o.get("content") {
                Some(c) => check_content(c).map_err(|e| format!("content {e}")),
                None => Err("(tool) needs `content`".into()),
            }
        }
        "activity" => {
            str_field("activityType", true)?;
            if o.get("content").is_some_and(Value::is_object) {
                Ok(())
            } else {
                Err("(activity) needs an object `content`".into())
            }
        }
        _ => Err(
            "needs a `role`: developer, system, assistant, user, tool, activity or reasoning"
                .into(),
        ),
    }
}

fn check_input(v: &Value) -> Result<(), String> {
    let o = v
        .as_object()
        .ok_or_else(|| "must be a RunAgentInput object".to_owned())?;
    for k in ["threadId", "runId"] {
        if !o.get(k).is_some_and(Value::is_string) {
            return Err(format!("needs a string `{k}`"));
        }
    }
    match o.get("messages") {
        Some(m) => check_messages(m).map_err(|e| format!("messages {e}")),
        None => Err("needs `messages`".into()),
    }
}

/// The values filled into one run's events.
#[derive(Debug)]
pub(crate) struct RunIds {
    thread_id: String,
    run_id: String,
    parent_run_id: Option<String>,
    made: HashMap<Slot, String>,
}

impl RunIds {
    pub(crate) fn new(thread_id: &str, run_id: &str, parent_run_id: Option<&str>) -> RunIds {
        RunIds {
            thread_id: thread_id.to_owned(),
            run_id: run_id.to_owned(),
            parent_run_id: parent_run_id.map(str::to_owned),
            made: HashMap::new(),
        }
    }

    /// The value of a slot; ids are made on first use and the same for the rest of the run.
    pub(crate) fn get(&mut self, slot: Slot) -> Option<String> {
        let prefix = match slot {
            Slot::Thread => return Some(self.thread_id.clone()),
            Slot::Run => return Some(self.run_id.clone()),
            Slot::ParentRun => return self.parent_run_id.clone(),
            Slot::Text(_) | Slot::ToolResult(_) => "msg_",
            Slot::Reasoning(_) => "reasoning_",
            Slot::Activity(_) => "activity_",
            Slot::ToolCall(_) => "call_",
        };
        Some(
            self.made
                .entry(slot)
                .or_insert_with(|| crate::http::ids::random_id(prefix, 24))
                .clone(),
        )
    }
}

/// A configured event with the fields a shorthand assigns to run slots (the second tool call's
/// id, say), checked at load time.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) event: Map<String, Value>,
    pub(crate) slots: Vec<(&'static str, Slot)>,
}

impl Template {
    /// A checked event with no slots of its own.
    pub(crate) fn raw(event: Map<String, Value>) -> Template {
        Template {
            event,
            slots: Vec::new(),
        }
    }

    /// The event for one run: its slots, then the type's fillable fields left out, then the
    /// timestamp when absent.
    pub(crate) fn render(&self, ids: &mut RunIds, now_ms: u64) -> Map<String, Value> {
        let mut ev = self.event.clone();
        for (key, slot) in &self.slots {
            if !ev.contains_key(*key) {
                if let Some(v) = ids.get(*slot) {
                    ev.insert((*key).to_owned(), Value::String(v));
                }
            }
        }
        let ty = ev.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(spec) = spec_of(ty) {
            for f in spec.fields {
                if ev.contains_key(f.key) {
                    continue;
                }
                let v = match f.fill {
                    Fill::No => None,
                    Fill::Id(slot) => ids.get(slot),
                    Fill::Default(s) => Some(s.to_owned()),
                };
                if let Some(v) = v {
                    ev.insert(f.key.to_owned(), Value::String(v));
                }
            }
        }
        if !ev.contains_key("timestamp") {
            ev.insert("timestamp".into(), Value::from(now_ms));
        }
        ev
    }
}

/// One event as JSON, its keys in the schema's order (as the official encoders write them);
/// keys the schema does not name come last.
pub fn encode(ev: &Map<String, Value>) -> String {
    let ty = ev.get("type").and_then(Value::as_str).unwrap_or("");
    let mut order: Vec<&str> = vec!["type", "timestamp", "rawEvent", "metadata"];
    if let Some(spec) = spec_of(ty) {
        if spec.attributable {
            order.push("subagentRunId");
        }
        order.extend(spec.fields.iter().map(|f| f.key));
    }
    let mut out = String::with_capacity(128);
    out.push('{');
    let mut first = true;
    let mut put = |out: &mut String, k: &str, v: &Value| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&Value::String(k.to_owned()).to_string());
        out.push(':');
        out.push_str(&v.to_string());
    };
    for k in &order {
        if let Some(v) = ev.get(*k) {
            put(&mut out, k, v);
        }
    }
    for (k, v) in ev {
        if !order.contains(&k.as_str()) {
            put(&mut out, k, v);
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_type_has_a_spec_and_unknown_types_and_fields_are_named() {
        assert_eq!(event_types().count(), 36);
        let e = check_event(&json!({"type": "TEXT_MESAGE_START"})).unwrap_err();
        assert!(e.contains("unknown event type `TEXT_MESAGE_START`"), "{e}");
        let e =
            check_event(&json!({"type": "TEXT_MESSAGE_CONTENT", "messageID": "m", "delta": "x"}))
                .unwrap_err();
        assert!(e.contains("no field `messageID`"), "{e}");
        let e = check_event(&json!({"type": "TOOL_CALL_START"})).unwrap_err();
        assert!(e.contains("toolCallName"), "{e}");
        assert!(check_event(&json!({"type": "TEXT_MESSAGE_CONTENT", "delta": ""})).is_ok());
        let e = check_event(
            &json!({"type": "STATE_DELTA", "delta": [{"op": "add", "path": "x", "value": 1}]}),
        )
        .unwrap_err();
        assert!(e.contains("JSON Pointer"), "{e}");
    }

    #[test]
    fn render_fills_ids_and_encode_keeps_the_schema_order() {
        let mut ids = RunIds::new("t1", "r1", None);
        let t = Template::raw(
            json!({"delta": "hi", "type": "TEXT_MESSAGE_CONTENT"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let ev = t.render(&mut ids, 5);
        let s = encode(&ev);
        assert!(
            s.starts_with(r#"{"type":"TEXT_MESSAGE_CONTENT","timestamp":5,"messageId":"msg_"#),
            "{s}"
        );
        assert!(s.ends_with(r#","delta":"hi"}"#), "{s}");
        let start = Template::raw(
            json!({"type": "RUN_STARTED"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let s = encode(&start.render(&mut ids, 1));
        assert_eq!(
            s,
            r#"{"type":"RUN_STARTED","timestamp":1,"threadId":"t1","runId":"r1"}"#
        );
    }
}
