//! The two generations of A2A's JSON: v1.0 (proto JSON: `ROLE_USER`, `TASK_STATE_*`, parts
//! `{text}` / `{url}` / `{raw}` / `{data}`) and v0.3 (`kind` discriminators, `"completed"`,
//! parts `{kind: "text"}` / `{kind: "file", file}` / `{kind: "data"}`).
//!
//! Everything is kept in v1.0 form; v0.3 input is converted on the way in, and output on the way
//! out.

use serde_json::{json, Map, Value};

/// The protocol generation a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gen {
    /// A2A 1.0: `SendMessage`, ...
    V1,
    /// A2A 0.3: `message/send`, ...
    V03,
}

impl Gen {
    /// The `A2A-Version` header value answered with.
    pub(crate) fn header(self) -> &'static str {
        match self {
            Gen::V1 => "1.0",
            Gen::V03 => "0.3",
        }
    }
}

/// A task state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Submitted,
    Working,
    Completed,
    Failed,
    Canceled,
    InputRequired,
    Rejected,
    AuthRequired,
}

impl State {
    /// From either generation's name (`TASK_STATE_INPUT_REQUIRED`, `input-required`,
    /// `input_required`), any case.
    pub(crate) fn parse(s: &str) -> Option<State> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        let t = t.strip_prefix("task_state_").unwrap_or(&t);
        Some(match t {
            "submitted" => State::Submitted,
            "working" => State::Working,
            "completed" => State::Completed,
            "failed" => State::Failed,
            "canceled" | "cancelled" => State::Canceled,
            "input_required" => State::InputRequired,
            "rejected" => State::Rejected,
            "auth_required" => State::AuthRequired,
            _ => return None,
        })
    }

    /// v1.0 name.
    pub(crate) fn v1(self) -> &'static str {
        match self {
            State::Submitted => "TASK_STATE_SUBMITTED",
            State::Working => "TASK_STATE_WORKING",
            State::Completed => "TASK_STATE_COMPLETED",
            State::Failed => "TASK_STATE_FAILED",
            State::Canceled => "TASK_STATE_CANCELED",
            State::InputRequired => "TASK_STATE_INPUT_REQUIRED",
            State::Rejected => "TASK_STATE_REJECTED",
            State::AuthRequired => "TASK_STATE_AUTH_REQUIRED",
        }
    }

    /// v0.3 name.
    pub(crate) fn v03(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Working => "working",
            State::Completed => "completed",
            State::Failed => "failed",
            State::Canceled => "canceled",
            State::InputRequired => "input-required",
            State::Rejected => "rejected",
            State::AuthRequired => "auth-required",
        }
    }

    /// The name in a generation.
    pub(crate) fn name(self, g: Gen) -> &'static str {
        match g {
            Gen::V1 => self.v1(),
            Gen::V03 => self.v03(),
        }
    }

    /// Nothing more happens to the task.
    pub(crate) fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Completed | State::Failed | State::Canceled | State::Rejected
        )
    }

    /// The task waits for the client (input or authentication).
    pub(crate) fn is_interrupted(self) -> bool {
        matches!(self, State::InputRequired | State::AuthRequired)
    }

    /// A stream about the task ends after this state.
    pub(crate) fn is_final(self) -> bool {
        self.is_terminal() || self.is_interrupted()
    }
}

/// A part in v1.0 form, from either generation's; `None` when it is not a part.
pub(crate) fn part_in(p: &Value) -> Option<Value> {
    let o = p.as_object()?;
    match o.get("kind").and_then(Value::as_str) {
        None => {
            let n = ["text", "raw", "url", "data"]
                .iter()
                .filter(|k| o.contains_key(**k))
                .count();
            (n == 1).then(|| p.clone())
        }
        Some("text") => {
            let mut out = Map::new();
            out.insert("text".into(), o.get("text")?.as_str()?.into());
            copy(o, &mut out, &["metadata"]);
            Some(Value::Object(out))
        }
        Some("data") => {
            let mut out = Map::new();
            out.insert("data".into(), o.get("data")?.clone());
            copy(o, &mut out, &["metadata"]);
            Some(Value::Object(out))
        }
        Some("file") => {
            let f = o.get("file")?.as_object()?;
            let mut out = Map::new();
            if let Some(u) = f.get("uri") {
                out.insert("url".into(), u.clone());
            } else {
                out.insert("raw".into(), f.get("bytes")?.clone());
            }
            if let Some(m) = f.get("mimeType") {
                out.insert("mediaType".into(), m.clone());
            }
            if let Some(n) = f.get("name") {
                out.insert("filename".into(), n.clone());
            }
            copy(o, &mut out, &["metadata"]);
            Some(Value::Object(out))
        }
        Some(_) => None,
    }
}

fn copy(from: &Map<String, Value>, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(*k) {
            if !v.is_null() {
                to.insert((*k).to_owned(), v.clone());
            }
        }
    }
}

/// A v1.0 part in v0.3 form.
pub(crate) fn part_v03(p: &Value) -> Value {
    let Some(o) = p.as_object() else {
        return json!({"kind": "text", "text": ""});
    };
    let mut out = Map::new();
    if let Some(t) = o.get("text") {
        out.insert("kind".into(), "text".into());
        out.insert("text".into(), t.clone());
    } else if o.contains_key("url") || o.contains_key("raw") {
        let mut f = Map::new();
        if let Some(u) = o.get("url") {
            f.insert("uri".into(), u.clone());
        } else if let Some(b) = o.get("raw") {
            f.insert("bytes".into(), b.clone());
        }
        if let Some(m) = o.get("mediaType") {
            f.insert("mimeType".into(), m.clone());
        }
        if let Some(n) = o.get("filename") {
            f.insert("name".into(), n.clone());
        }
        out.insert("kind".into(), "file".into());
        out.insert("file".into(), Value::Object(f));
    } else {
        let d = o.get("data").cloned().unwrap_or(Value::Null);
        out.insert("kind".into(), "data".into());
        out.insert(
            "data".into(),
            if d.is_object() {
                d
            } else {
                json!({ "value": d })
            },
        );
    }
    copy(o, &mut out, &["metadata"]);
    Value::Object(out)
}

/// Parts in v1.0 form; an error names the bad index.
pub(crate) fn parts_in(v: &Value) -> Result<Vec<Value>, String> {
    let arr = v.as_array().ok_or("`parts` must be an array")?;
    arr.iter()
        .enumerate()
        .map(|(i, p)| {
            part_in(p).ok_or_else(|| {
                format!("`parts[{i}]` is not a part (one of `text`, `raw`, `url`, `data`)")
            })
        })
        .collect()
}

/// The text of parts, joined with a space.
pub(crate) fn parts_text(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A message in v1.0 form from either generation's; an error says what is wrong.
pub(crate) fn message_in(m: &Value) -> Result<Value, String> {
    let o = m.as_object().ok_or("`message` must be an object")?;
    let parts =
        parts_in(o.get("parts").unwrap_or(&Value::Null)).map_err(|e| format!("message: {e}"))?;
    if parts.is_empty() {
        return Err("message: `parts` must not be empty".into());
    }
    let role = match o.get("role").and_then(Value::as_str) {
        Some("ROLE_AGENT") | Some("agent") => "ROLE_AGENT",
        _ => "ROLE_USER",
    };
    let mut out = Map::new();
    let id = o
        .get("messageId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| new_id("msg"));
    out.insert("messageId".into(), id.into());
    for k in ["contextId", "taskId"] {
        if let Some(s) = o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()) {
            out.insert(k.into(), s.into());
        }
    }
    out.insert("role".into(), role.into());
    out.insert("parts".into(), Value::Array(parts));
    copy(o, &mut out, &["metadata", "extensions", "referenceTaskIds"]);
    Ok(Value::Object(out))
}

/// A v1.0 message in a generation's form.
pub(crate) fn message_out(m: &Value, g: Gen) -> Value {
    if g == Gen::V1 {
        return m.clone();
    }
    let Some(o) = m.as_object() else {
        return m.clone();
    };
    let mut out = Map::new();
    out.insert("kind".into(), "message".into());
    copy(
        o,
        &mut out,
        &[
            "messageId",
            "contextId",
            "taskId",
            "metadata",
            "extensions",
            "referenceTaskIds",
        ],
    );
    let role = if o.get("role").and_then(Value::as_str) == Some("ROLE_AGENT") {
        "agent"
    } else {
        "user"
    };
    out.insert("role".into(), role.into());
    let parts = o
        .get("parts")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(part_v03).collect::<Vec<_>>())
        .unwrap_or_default();
    out.insert("parts".into(), Value::Array(parts));
    Value::Object(out)
}

/// A v1.0 artifact in a generation's form.
pub(crate) fn artifact_out(a: &Value, g: Gen) -> Value {
    if g == Gen::V1 {
        return a.clone();
    }
    let mut a = a.clone();
    if let Some(parts) = a.get_mut("parts").and_then(Value::as_array_mut) {
        for p in parts.iter_mut() {
            *p = part_v03(p);
        }
    }
    a
}

/// A push notification config in v1.0 form (`TaskPushNotificationConfig`: `{taskId, id, url,
/// token?, authentication?: {scheme, credentials}}`) from either generation's params.
pub(crate) fn push_config_in(params: &Value, g: Gen) -> Result<Value, String> {
    let (task_id, cfg) = match g {
        Gen::V1 => (params.get("taskId"), params),
        Gen::V03 => (
            params.get("taskId"),
            params
                .get("pushNotificationConfig")
                .ok_or("`pushNotificationConfig` is required")?,
        ),
    };
    let task_id = task_id
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("`taskId` is required")?;
    let url = cfg
        .get("url")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("`url` is required")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("Invalid push notification URL".into());
    }
    let id = cfg
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(task_id);
    let mut out = json!({"taskId": task_id, "id": id, "url": url});
    if let Some(t) = cfg.get("token").and_then(Value::as_str) {
        out["token"] = t.into();
    }
    if let Some(a) = cfg.get("authentication").and_then(Value::as_object) {
        let scheme = a
            .get("scheme")
            .and_then(Value::as_str)
            .or_else(|| {
                a.get("schemes")
                    .and_then(Value::as_array)
                    .and_then(|s| s.first())
                    .and_then(Value::as_str)
            })
            .unwrap_or("");
        let mut auth = json!({ "scheme": scheme });
        if let Some(c) = a.get("credentials").and_then(Value::as_str) {
            auth["credentials"] = c.into();
        }
        out["authentication"] = auth;
    }
    Ok(out)
}

/// A stored (v1.0) push config in a generation's form.
pub(crate) fn push_config_out(c: &Value, g: Gen) -> Value {
    if g == Gen::V1 {
        return c.clone();
    }
    let mut inner = json!({
        "id": c.get("id").cloned().unwrap_or(Value::Null),
        "url": c.get("url").cloned().unwrap_or(Value::Null),
    });
    if let Some(t) = c.get("token") {
        inner["token"] = t.clone();
    }
    if let Some(a) = c.get("authentication") {
        let mut auth = json!({ "schemes": [a.get("scheme").cloned().unwrap_or(Value::Null)] });
        if let Some(cr) = a.get("credentials") {
            auth["credentials"] = cr.clone();
        }
        inner["authentication"] = auth;
    }
    json!({
        "taskId": c.get("taskId").cloned().unwrap_or(Value::Null),
        "pushNotificationConfig": inner,
    })
}

/// A fresh id: `prefix-` and 32 hex digits (a UUID's worth of randomness).
pub(crate) fn new_id(prefix: &str) -> String {
    let n: u128 = rand::random();
    format!("{prefix}-{n:032x}")
}

/// Now, RFC 3339 with milliseconds.
pub(crate) fn now_rfc3339() -> String {
    crate::http::time::rfc3339_now(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_convert_both_ways() {
        let f = json!({"kind": "file", "file": {"uri": "http://x/a.png", "mimeType": "image/png", "name": "a.png"}});
        let v1 = part_in(&f).unwrap_or_default();
        assert_eq!(
            v1,
            json!({"url": "http://x/a.png", "mediaType": "image/png", "filename": "a.png"})
        );
        assert_eq!(part_v03(&v1), f);
        assert_eq!(
            part_in(&json!({"kind": "text", "text": "hi"})).unwrap_or_default(),
            json!({"text": "hi"})
        );
        assert!(part_in(&json!({"text": "a", "url": "b"})).is_none());
    }

    #[test]
    fn states_parse_from_both_generations() {
        assert_eq!(State::parse("input-required"), Some(State::InputRequired));
        assert_eq!(
            State::parse("TASK_STATE_AUTH_REQUIRED"),
            Some(State::AuthRequired)
        );
        assert_eq!(State::parse("done"), None);
        assert!(now_rfc3339().ends_with('Z'));
    }
}
