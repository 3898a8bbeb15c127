//! An AG-UI agent (aimock's `AGUIMock`): `POST` a `RunAgentInput` to its mount and it answers
//! with the events of the first fixture that matches, as a Server-Sent Events stream, each event
//! written when it is due.
//!
//! Fixtures come from `aimock.json`'s `agui` section, from the Rust API ([`AguiServer::on_message`]
//! and friends) or from the control API (`/__aimock/agui/fixtures`). Configured events are checked
//! against the AG-UI 1.0 event schemas when loaded, so a typo is a configuration error naming the
//! fixture, never a stream a client cannot read. Ids left out of configured events (`threadId`,
//! `runId`, `messageId`, `toolCallId`) are filled in from the request or made up per run, and
//! every event gets a `timestamp` (milliseconds) when it has none. `RUN_STARTED` declares
//! `protocolVersion: "1.0"` unless the fixture names another or sends the retired `THINKING_*`
//! events.

pub mod config;
pub mod events;
pub mod fixture;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderValue, Method, StatusCode};
use parking_lot::RwLock;
use serde_json::{json, Value};

use crate::http::{control_error, json_response, ApiError, ControlRequest};
use crate::journal::JournalBody;
use crate::pipeline::{ControlDefault, Core, Handled, MountedService, ServiceRequest, Surface};

pub use config::AguiConfig;
pub use fixture::{AguiFixture, AguiMatch, Predicate, TextPattern};

use events::RunIds;

/// An AG-UI agent.
#[derive(Debug)]
pub struct AguiServer {
    config: AguiConfig,
    configured: Vec<Arc<AguiFixture>>,
    fixtures: RwLock<Vec<Arc<AguiFixture>>>,
}

/// The answer to a run that no fixture matched (aimock's).
pub const NO_MATCH: &str = "No matching AG-UI fixture";

impl AguiServer {
    /// Build it from its configuration; an error says which fixture is wrong and how.
    pub fn new(config: AguiConfig) -> Result<Arc<AguiServer>, String> {
        let mut configured = Vec::with_capacity(config.fixtures.len());
        for (i, f) in config.fixtures.iter().enumerate() {
            let f = AguiFixture::from_json(f).map_err(|e| format!("fixtures[{i}]: {e}"))?;
            configured.push(Arc::new(f));
        }
        Ok(Arc::new(AguiServer {
            fixtures: RwLock::new(configured.clone()),
            configured,
            config,
        }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &AguiConfig {
        &self.config
    }

    /// Add a fixture after the others (the first match wins).
    pub fn add_fixture(&self, fixture: AguiFixture) {
        self.fixtures.write().push(Arc::new(fixture));
    }

    /// Add a fixture in its JSON form (`{match, text | events | ..., delayMs?}`).
    pub fn add_fixture_json(&self, fixture: &Value) -> Result<(), String> {
        self.add_fixture(AguiFixture::from_json(fixture)?);
        Ok(())
    }

    fn add(&self, matcher: AguiMatch, response: Value) -> Result<(), String> {
        self.add_fixture(AguiFixture::new(matcher, response)?);
        Ok(())
    }

    fn message(pattern: &str) -> AguiMatch {
        AguiMatch {
            message: Some(TextPattern::Substring(pattern.to_owned())),
            ..AguiMatch::default()
        }
    }

    /// Runs whose last user message contains `pattern` get `text` as one assistant message
    /// (RUN_STARTED, TEXT_MESSAGE_START, TEXT_MESSAGE_CONTENT, TEXT_MESSAGE_END, RUN_FINISHED).
    pub fn on_message(&self, pattern: &str, text: &str) {
        let f = AguiFixture::new(Self::message(pattern), json!({ "text": text }));
        if let Ok(f) = f {
            self.add_fixture(f);
        }
    }

    /// As [`on_message`](Self::on_message), matching the last user message against a regex.
    pub fn on_message_regex(&self, regex: &str, text: &str) -> Result<(), String> {
        let re = regex::Regex::new(regex).map_err(|e| format!("bad regex: {e}"))?;
        let m = AguiMatch {
            message: Some(TextPattern::Regex(re)),
            ..AguiMatch::default()
        };
        self.add(m, json!({ "text": text }))
    }

    /// Runs whose last user message contains `pattern` get these events as they are (ids and
    /// timestamps left out are filled in).
    pub fn on_run(&self, pattern: &str, events: Vec<Value>) -> Result<(), String> {
        self.add(Self::message(pattern), json!({ "events": events }))
    }

    /// Runs whose last user message contains `pattern` get a call of `tool_name` with `args`
    /// (JSON text), and its result when given (TOOL_CALL_START, ARGS, END, RESULT).
    pub fn on_tool_call(&self, pattern: &str, tool_name: &str, args: &str, result: Option<&str>) {
        let mut call = json!({ "name": tool_name, "args": args });
        if let Some(r) = result {
            call["result"] = json!(r);
        }
        let _ = self.add(Self::message(pattern), json!({ "toolCall": call }));
    }

    /// Runs that continue after the result of tool call `tool_call_id` (the last message is that
    /// tool message) get these events.
    pub fn on_tool_result(&self, tool_call_id: &str, events: Vec<Value>) -> Result<(), String> {
        let m = AguiMatch {
            tool_call_id: Some(tool_call_id.to_owned()),
            ..AguiMatch::default()
        };
        self.add(m, json!({ "events": events }))
    }

    /// Runs whose `state` has `key` get a STATE_SNAPSHOT of `snapshot`.
    pub fn on_state_key(&self, key: &str, snapshot: Value) {
        let m = AguiMatch {
            state_key: Some(key.to_owned()),
            ..AguiMatch::default()
        };
        let _ = self.add(m, json!({ "stateSnapshot": snapshot }));
    }

    /// Runs whose last user message contains `pattern` get `text` as reasoning
    /// (REASONING_START, REASONING_MESSAGE_START/CONTENT/END, REASONING_END).
    pub fn on_reasoning(&self, pattern: &str, text: &str) {
        let _ = self.add(Self::message(pattern), json!({ "reasoning": text }));
    }

    /// Runs `predicate` accepts (it sees the `RunAgentInput` as JSON) get these events.
    pub fn on_predicate(
        &self,
        predicate: impl Fn(&Value) -> bool + Send + Sync + 'static,
        events: Vec<Value>,
    ) -> Result<(), String> {
        let m = AguiMatch {
            predicate: Some(Arc::new(predicate)),
            ..AguiMatch::default()
        };
        self.add(m, json!({ "events": events }))
    }

    /// The fixtures, in matching order, in their JSON form.
    pub fn fixtures(&self) -> Vec<Value> {
        self.fixtures.read().iter().map(|f| f.to_json()).collect()
    }

    /// Drop every fixture, configured ones too (until [`reset`](Self::reset)).
    pub fn clear_fixtures(&self) {
        self.fixtures.write().clear();
    }

    /// Back to the configured fixtures.
    pub fn reset(&self) {
        *self.fixtures.write() = self.configured.clone();
    }

    fn find(&self, input: &Value) -> Option<Arc<AguiFixture>> {
        self.fixtures
            .read()
            .iter()
            .find(|f| f.matcher.matches(input))
            .cloned()
    }

    async fn serve(self: Arc<Self>, state: &Arc<Core>, mut req: ServiceRequest) -> Response {
        if let Some(m) = state.metrics.as_ref() {
            // A fixed set of labels: a client's made-up methods count as `OTHER`.
            m.agui_request(crate::metrics::method_label(&req.method));
        }
        let error =
            |req: &ServiceRequest, status: StatusCode, body: Value, journal: JournalBody| {
                req.journal(state, "agui", journal, status.as_u16())
                    .update(|r| r.source = None);
                json_response(status, &body)
            };
        if !(req.rest.is_empty() || req.rest == "/") {
            let msg = format!(
                "Not found: an AG-UI agent answers POST {}",
                if req.mount.is_empty() {
                    "/"
                } else {
                    &req.mount
                }
            );
            return error(
                &req,
                StatusCode::NOT_FOUND,
                json!({ "error": msg }),
                JournalBody::None,
            );
        }
        if req.method != Method::POST {
            let mut r = error(
                &req,
                StatusCode::METHOD_NOT_ALLOWED,
                json!({ "error": format!("Method {} not allowed: an AG-UI agent answers POST with a RunAgentInput", req.method) }),
                JournalBody::None,
            );
            r.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
            return r;
        }
        let bytes = match req.bytes(state).await {
            Ok(b) => b,
            Err(e) => {
                let status = e.status();
                return error(
                    &req,
                    status,
                    json!({ "error": e.message }),
                    JournalBody::None,
                );
            }
        };
        let input: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    &req,
                    StatusCode::BAD_REQUEST,
                    json!({ "error": format!("Invalid JSON: {e}") }),
                    JournalBody::None,
                )
            }
        };
        let input = Arc::new(input);
        let body = || JournalBody::Json(input.clone());
        let (thread_id, run_id, parent) = match check_run_input(&input) {
            Ok(ids) => ids,
            Err(e) => {
                let msg = format!("Invalid RunAgentInput: {e}");
                return error(
                    &req,
                    StatusCode::BAD_REQUEST,
                    json!({ "error": msg }),
                    body(),
                );
            }
        };
        let Some(fixture) = self.find(&input) else {
            let strict_header = req
                .headers
                .get("x-aimock-strict")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .and_then(|v| match v.to_ascii_lowercase().as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => None,
                });
            let strict = strict_header.unwrap_or(state.settings.strict);
            let (status, msg) = if strict {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("Strict mode: {NO_MATCH}"),
                )
            } else {
                (StatusCode::NOT_FOUND, NO_MATCH.to_owned())
            };
            let entry = req.journal(state, "agui", body(), status.as_u16());
            entry.update(|e| {
                e.source = None;
                e.strict_override = strict_header.filter(|s| *s != state.settings.strict);
                e.miss_reason = Some(NO_MATCH.to_owned());
            });
            return json_response(status, &json!({ "error": msg }));
        };
        let entry = req.journal(state, "agui", body(), 200);
        let mut ids = RunIds::new(&thread_id, &run_id, parent.as_deref());
        // Each event is rendered when it is due: its `timestamp` is the moment it is sent.
        let count = fixture.events.len();
        let pacing = crate::stream::Pacing::after_first(fixture.delay_ms as f64);
        let body = crate::stream::EventStream::rendered(count, pacing, move |i| {
            let ev = fixture
                .events
                .get(i)
                .map(|t| t.render(&mut ids, crate::journal::now_ms()));
            ev.map(|ev| crate::stream::sse_data(&events::encode(&ev)))
                .unwrap_or_default()
        })
        .on_end(Some(crate::journal::on_stream_end(entry)))
        .into_body();
        crate::stream::sse_response(body)
    }
}

/// Check a `RunAgentInput`; its `threadId`, `runId` and `parentRunId`.
fn check_run_input(v: &Value) -> Result<(String, String, Option<String>), String> {
    let o = v
        .as_object()
        .ok_or_else(|| "the body must be a JSON object".to_owned())?;
    let string = |k: &str, required: bool| -> Result<Option<String>, String> {
        match o.get(k) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) if !required => Ok(None),
            None => Err(format!("`{k}` is required (a string)")),
            Some(_) => Err(format!("`{k}` must be a string")),
        }
    };
    let thread_id = string("threadId", true)?.unwrap_or_default();
    let run_id = string("runId", true)?.unwrap_or_default();
    let parent = string("parentRunId", false)?;
    string("protocolVersion", false)?;
    let array = |k: &str| -> Result<Option<&Vec<Value>>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(format!("`{k}` must be an array")),
        }
    };
    if let Some(msgs) = array("messages")? {
        for (i, m) in msgs.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str);
            if !m.is_object() || role.is_none() {
                return Err(format!(
                    "messages[{i}] must be an object with a string `role`"
                ));
            }
            if let Some(c) = m.get("content") {
                if !(c.is_string() || c.is_array() || c.is_null()) {
                    return Err(format!(
                        "messages[{i}].content must be a string or an array of parts"
                    ));
                }
            }
        }
    }
    if let Some(tools) = array("tools")? {
        for (i, t) in tools.iter().enumerate() {
            if !t.get("name").is_some_and(Value::is_string) {
                return Err(format!("tools[{i}] must be an object with a string `name`"));
            }
        }
    }
    array("context")?;
    array("resume")?;
    Ok((thread_id, run_id, parent))
}

/// AG-UI as a mounted service.
pub(crate) static SURFACE: Surface = Surface {
    kind: "agui",
    noun: "AG-UI agent",
    default_path: "/agui",
    control_default: ControlDefault::OnlyOrDefaultPath,
    serves_at_root: |_| false,
};

impl MountedService for AguiServer {
    fn handle(self: Arc<Self>, core: &Arc<Core>, req: ServiceRequest) -> Handled<'_> {
        Box::pin(self.serve(core, req))
    }

    fn control(&self, req: &ControlRequest) -> Response {
        control(self, req)
    }

    /// `{"error": message}`, as every AG-UI error, with the error's status.
    fn error(&self, e: &ApiError, _req: &ServiceRequest) -> Response {
        let mut r = control_error(e.status, e.message.clone());
        e.add_headers(r.headers_mut());
        r
    }

    fn reset(&self) {
        AguiServer::reset(self);
    }

    fn health(&self) -> Value {
        serde_json::json!({"status": "ok", "fixtures": self.fixtures.read().len()})
    }
}

/// `/__aimock/agui/...`: run-time changes. `req.sub` is the path after `/__aimock/agui`.
///
/// - `GET /fixtures`: `{count, fixtures}`
/// - `POST /fixtures`: `{"fixtures": [...]}`, `[...]` or one fixture; `{added}`, or 400
///   `{"error": "Validation failed", "details": [...]}` and nothing added
/// - `DELETE /fixtures`: every fixture goes; `{cleared: true}`
/// - `POST /reset`: back to the configured fixtures; `{reset: true}`
///
/// The server picks the agent (`?path=/agui2`; the only one, else the one at `/agui`).
fn control(agent: &AguiServer, req: &ControlRequest) -> Response {
    let (method, sub) = (&req.method, req.sub.as_str());
    match (method, sub) {
        (&Method::GET, "/fixtures") => {
            let list = agent.fixtures();
            json_response(
                StatusCode::OK,
                &json!({ "count": list.len(), "fixtures": list }),
            )
        }
        (&Method::DELETE, "/fixtures") => {
            agent.clear_fixtures();
            json_response(StatusCode::OK, &json!({ "cleared": true }))
        }
        (&Method::POST, "/reset") => {
            agent.reset();
            json_response(StatusCode::OK, &json!({ "reset": true }))
        }
        (&Method::POST, "/fixtures") => {
            let list = match req.json().clone() {
                Value::Object(mut o) if o.contains_key("fixtures") => {
                    o.remove("fixtures").unwrap_or(Value::Null)
                }
                other => other,
            };
            let list = match list {
                Value::Array(a) => a,
                one @ Value::Object(_) => vec![one],
                _ => {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        &json!({ "error": "expected {\"fixtures\": [...]}, an array of fixtures or one fixture" }),
                    )
                }
            };
            let mut ok = Vec::with_capacity(list.len());
            let mut details = Vec::new();
            for (i, f) in list.iter().enumerate() {
                match AguiFixture::from_json(f) {
                    Ok(f) => ok.push(f),
                    Err(e) => details.push(json!({ "fixture": i, "message": e })),
                }
            }
            if !details.is_empty() {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({ "error": "Validation failed", "details": details }),
                );
            }
            let added = ok.len();
            for f in ok {
                agent.add_fixture(f);
            }
            json_response(StatusCode::OK, &json!({ "added": added }))
        }
        _ => req.unknown("/agui"),
    }
}
