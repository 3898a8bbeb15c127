//! Agents as served: their fixtures checked and compiled, matching, and the agent card.

use std::time::Duration;

use regex::Regex;
use serde_json::{json, Map, Value};

use super::config::{
    A2aAgent, A2aMatch, A2aMessageFixture, A2aPattern, A2aStreamingTaskFixture, A2aTaskFixture,
};
use super::wire::{parts_in, State};

/// A compiled match condition.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    pattern: Option<Pat>,
    context_contains: Option<String>,
    turn: Option<u32>,
    previous_reply: Option<String>,
}

#[derive(Debug, Clone)]
enum Pat {
    Text(String),
    Regex(Regex),
}

/// What a message is matched on.
#[derive(Debug)]
pub(crate) struct MatchInput<'a> {
    /// The message's text parts joined with a space.
    pub(crate) text: &'a str,
    /// Earlier texts of the context, user and agent alike.
    pub(crate) history: &'a [String],
    /// 1-based number of this user message in its context.
    pub(crate) turn: u32,
    /// The agent's last reply in the context.
    pub(crate) previous_reply: Option<&'a str>,
}

impl Matcher {
    fn compile(m: &A2aMatch, at: &str) -> Result<Matcher, String> {
        let pattern = match &m.pattern {
            // `".*"` is what a user migrating from aimock wrote for "anything" (see `config`).
            None => None,
            Some(A2aPattern::Text(s)) if s == ".*" => None,
            Some(A2aPattern::Text(s)) => Some(Pat::Text(s.clone())),
            Some(A2aPattern::Regex { regex }) => Some(Pat::Regex(
                Regex::new(regex).map_err(|e| format!("{at}.pattern.regex: {e}"))?,
            )),
        };
        if m.turn == Some(0) {
            return Err(format!("{at}.turn: turns count from 1"));
        }
        Ok(Matcher {
            pattern,
            context_contains: m.context_contains.clone(),
            turn: m.turn,
            previous_reply: m.previous_reply.clone(),
        })
    }

    pub(crate) fn matches(&self, i: &MatchInput<'_>) -> bool {
        let pat_ok = match &self.pattern {
            None => true,
            Some(Pat::Text(s)) => i.text.contains(s.as_str()),
            Some(Pat::Regex(r)) => r.is_match(i.text),
        };
        pat_ok
            && self
                .context_contains
                .as_ref()
                .is_none_or(|c| i.history.iter().any(|h| h.contains(c.as_str())))
            && self.turn.is_none_or(|t| t == i.turn)
            && self
                .previous_reply
                .as_ref()
                .is_none_or(|p| i.previous_reply.is_some_and(|r| r.contains(p.as_str())))
    }
}

/// One step of a task's life.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A new status.
    Status {
        state: State,
        message: Option<Vec<Value>>,
    },
    /// An artifact (or a chunk of one).
    Artifact {
        artifact: Value,
        append: bool,
        last_chunk: bool,
    },
}

/// What a matched fixture answers with.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// A message with these parts.
    Message(Vec<Value>),
    /// A JSON-RPC error.
    Error {
        code: i64,
        message: String,
        data: Option<Value>,
    },
    /// A task run through these steps, each after its delay.
    Task(Vec<(Duration, Step)>),
}

/// A fixture, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    pub(crate) when: Matcher,
    pub(crate) reply: Reply,
    /// From `streamingTasks` (tried first for a streaming request).
    pub(crate) streaming: bool,
}

/// The reply of the first fixture matching `input`. A streaming request tries the
/// `streamingTasks` fixtures first (aimock answers streaming requests from those only), then the
/// others, so a plain message still answers a client that streams everything.
pub(crate) fn pick<'a>(
    fixtures: impl Iterator<Item = &'a Fixture> + Clone,
    input: &MatchInput<'_>,
    streaming: bool,
) -> Option<Reply> {
    let hit = |f: &&Fixture| f.when.matches(input);
    let first = if streaming {
        fixtures.clone().filter(|f| f.streaming).find(hit)
    } else {
        None
    };
    first
        .or_else(|| fixtures.filter(|f| !(streaming && f.streaming)).find(hit))
        .map(|f| f.reply.clone())
}

/// An agent as served.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub(crate) config: A2aAgent,
    /// Paths below the mount it answers at (`/name`, its `path`).
    pub(crate) paths: Vec<String>,
    pub(crate) fixtures: Vec<Fixture>,
}

fn status_parts(v: &Value, at: &str) -> Result<Vec<Value>, String> {
    match v {
        Value::String(s) => Ok(vec![json!({ "text": s })]),
        Value::Array(_) => parts_in(v).map_err(|e| format!("{at}: {e}")),
        _ => Err(format!("{at}: a string or a list of parts")),
    }
}

fn artifact(v: &Value, at: &str, n: usize) -> Result<Value, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{at}: an artifact must be an object"))?;
    let parts =
        parts_in(o.get("parts").unwrap_or(&Value::Null)).map_err(|e| format!("{at}: {e}"))?;
    let mut out = Map::new();
    let id = match o.get("artifactId").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => match o.get("name").and_then(Value::as_str) {
            Some(name) => format!("artifact-{name}"),
            None => format!("artifact-{n}"),
        },
    };
    out.insert("artifactId".into(), id.into());
    for k in ["name", "description", "metadata", "extensions"] {
        if let Some(x) = o.get(k) {
            out.insert(k.into(), x.clone());
        }
    }
    out.insert("parts".into(), Value::Array(parts));
    Ok(Value::Object(out))
}

pub(crate) fn message_fixture(f: &A2aMessageFixture, at: &str) -> Result<Fixture, String> {
    let when = Matcher::compile(&f.when, at)?;
    let reply = if let Some(e) = &f.error {
        let code = e
            .get("code")
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("{at}.error.code: an integer is required"))?;
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Error")
            .to_owned();
        Reply::Error {
            code,
            message,
            data: e.get("data").cloned(),
        }
    } else {
        if f.parts.is_empty() {
            return Err(format!("{at}.parts: at least one part is required"));
        }
        Reply::Message(parts_in(&Value::Array(f.parts.clone())).map_err(|e| format!("{at}.{e}"))?)
    };
    Ok(Fixture {
        when,
        reply,
        streaming: false,
    })
}

pub(crate) fn task_fixture(f: &A2aTaskFixture, at: &str) -> Result<Fixture, String> {
    let when = Matcher::compile(&f.when, at)?;
    let state = match &f.state {
        None => State::Completed,
        Some(s) => State::parse(s).ok_or_else(|| format!("{at}.state: unknown state `{s}`"))?,
    };
    let mut steps = Vec::new();
    let delay = Duration::from_millis(f.delay_ms.unwrap_or(0).min(86_400_000));
    for (i, a) in f.artifacts.iter().enumerate() {
        steps.push((
            if i == 0 { delay } else { Duration::ZERO },
            Step::Artifact {
                artifact: artifact(a, &format!("{at}.artifacts[{i}]"), i)?,
                append: false,
                last_chunk: true,
            },
        ));
    }
    let message = match &f.status_message {
        None => None,
        Some(v) => Some(status_parts(v, &format!("{at}.statusMessage"))?),
    };
    let last = if f.artifacts.is_empty() {
        delay
    } else {
        Duration::ZERO
    };
    steps.push((last, Step::Status { state, message }));
    Ok(Fixture {
        when,
        reply: Reply::Task(steps),
        streaming: false,
    })
}

pub(crate) fn streaming_fixture(f: &A2aStreamingTaskFixture, at: &str) -> Result<Fixture, String> {
    let when = Matcher::compile(&f.when, at)?;
    let mut steps = Vec::new();
    for (i, e) in f.events.iter().enumerate() {
        let eat = format!("{at}.events[{i}]");
        let delay = e
            .get("delayMs")
            .and_then(Value::as_u64)
            .or(f.delay_ms)
            .unwrap_or(0)
            .min(86_400_000);
        let step = match e.get("type").and_then(Value::as_str) {
            Some("status") => {
                let s = e
                    .get("state")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{eat}.state: required"))?;
                let state =
                    State::parse(s).ok_or_else(|| format!("{eat}.state: unknown state `{s}`"))?;
                let message = match e.get("message") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(status_parts(v, &format!("{eat}.message"))?),
                };
                Step::Status { state, message }
            }
            Some("artifact") => Step::Artifact {
                artifact: artifact(e, &eat, i)?,
                append: e.get("append").and_then(Value::as_bool).unwrap_or(false),
                last_chunk: e.get("lastChunk").and_then(Value::as_bool).unwrap_or(false),
            },
            other => {
                return Err(format!(
                    "{eat}.type: `status` or `artifact` expected, got {}",
                    other.map_or("nothing".to_owned(), |s| format!("`{s}`"))
                ))
            }
        };
        steps.push((Duration::from_millis(delay), step));
    }
    Ok(Fixture {
        when,
        reply: Reply::Task(steps),
        streaming: true,
    })
}

/// `/x` from `x`, `/x/`.
fn clean(p: &str) -> String {
    let t = p.trim().trim_matches('/');
    if t.is_empty() {
        String::new()
    } else {
        format!("/{t}")
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Check and compile an agent; `at` names it in errors (`agents[0]`).
pub(crate) fn compile(a: &A2aAgent, at: &str) -> Result<Agent, String> {
    if a.name.trim().is_empty() {
        return Err(format!("{at}.name: must not be empty"));
    }
    if let Some(vs) = &a.protocol_versions {
        if vs.is_empty() {
            return Err(format!("{at}.protocolVersions: name at least one"));
        }
        for v in vs {
            if !matches!(v.as_str(), "1.0" | "1.0.0" | "0.3" | "0.3.0") {
                return Err(format!(
                    "{at}.protocolVersions: `{v}` is not one of \"1.0\", \"0.3\""
                ));
            }
        }
    }
    for (i, s) in a.skills.iter().enumerate() {
        if !s.is_object() {
            return Err(format!("{at}.skills[{i}]: must be an object"));
        }
    }
    if a.capabilities.as_ref().is_some_and(|c| !c.is_object()) {
        return Err(format!("{at}.capabilities: must be an object"));
    }
    let mut paths = vec![format!("/{}", encode_segment(&a.name))];
    if let Some(p) = &a.path {
        let p = clean(p);
        if p.is_empty() {
            return Err(format!(
                "{at}.path: must not be empty (the first agent is served at the mount)"
            ));
        }
        if p.contains("/.well-known") {
            return Err(format!("{at}.path: must not contain `/.well-known`"));
        }
        paths.insert(0, p);
    }
    let mut fixtures = Vec::new();
    for (i, f) in a.messages.iter().enumerate() {
        fixtures.push(message_fixture(f, &format!("{at}.messages[{i}]"))?);
    }
    for (i, f) in a.tasks.iter().enumerate() {
        fixtures.push(task_fixture(f, &format!("{at}.tasks[{i}]"))?);
    }
    for (i, f) in a.streaming_tasks.iter().enumerate() {
        fixtures.push(streaming_fixture(f, &format!("{at}.streamingTasks[{i}]"))?);
    }
    Ok(Agent {
        config: a.clone(),
        paths,
        fixtures,
    })
}

impl Agent {
    /// `capabilities.streaming` (true unless set false).
    pub(crate) fn streaming(&self) -> bool {
        self.cap("streaming")
    }

    /// `capabilities.pushNotifications` (true unless set false).
    pub(crate) fn push(&self) -> bool {
        self.cap("pushNotifications")
    }

    fn cap(&self, k: &str) -> bool {
        self.config
            .capabilities
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// The agent card, for an agent served at `url`: v1.0's `supportedInterfaces` and v0.3's
    /// `url` / `preferredTransport` / `protocolVersion` / `additionalInterfaces`, so clients of
    /// both generations accept it.
    pub(crate) fn card(&self, url: &str) -> Value {
        let a = &self.config;
        let versions: Vec<&str> = match &a.protocol_versions {
            Some(v) => v
                .iter()
                .map(|v| if v.starts_with("0.3") { "0.3" } else { "1.0" })
                .collect(),
            None => vec!["1.0", "0.3"],
        };
        let mut interfaces: Vec<Value> = versions
            .iter()
            .map(|v| json!({"url": url, "protocolBinding": "JSONRPC", "protocolVersion": v}))
            .collect();
        if versions.contains(&"1.0") {
            interfaces.push(
                json!({"url": url, "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"}),
            );
        }
        let mut caps = a
            .capabilities
            .clone()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        for k in ["streaming", "pushNotifications"] {
            if caps.get(k).is_none() {
                caps[k] = true.into();
            }
        }
        let skills: Vec<Value> = a
            .skills
            .iter()
            .map(|s| {
                let mut s = s.clone();
                let id = s
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| s.get("name").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| "skill".into());
                if s.get("id").is_none() {
                    s["id"] = id.clone().into();
                }
                if s.get("name").is_none() {
                    s["name"] = id.into();
                }
                if s.get("description").is_none() {
                    s["description"] = "".into();
                }
                if s.get("tags").is_none() {
                    s["tags"] = json!([]);
                }
                s
            })
            .collect();
        let v03 = if versions.contains(&"0.3") {
            "0.3.0"
        } else {
            "1.0"
        };
        // v0.3 clients see JSON-RPC only: the REST binding here speaks 1.0 shapes.
        let additional = vec![json!({"url": url, "transport": "JSONRPC"})];
        json!({
            "name": a.name,
            "description": a.description.clone().unwrap_or_else(|| "A2A mock agent".into()),
            "version": a.version.clone().unwrap_or_else(|| "1.0.0".into()),
            "supportedInterfaces": interfaces,
            "url": url,
            "preferredTransport": "JSONRPC",
            "protocolVersion": v03,
            "additionalInterfaces": additional,
            "capabilities": caps,
            "defaultInputModes": a.default_input_modes.clone().unwrap_or_else(|| vec!["text/plain".into()]),
            "defaultOutputModes": a.default_output_modes.clone().unwrap_or_else(|| vec!["text/plain".into()]),
            "skills": skills,
        })
    }
}
