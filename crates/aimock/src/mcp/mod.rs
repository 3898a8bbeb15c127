//! An MCP server (Model Context Protocol, Streamable HTTP transport).
//!
//! Configured by `aimock.json`'s `mcp` section (one object or a list, each at its own `path`):
//!
//! ```json
//! {
//!   "path": "/mcp",
//!   "serverInfo": {"name": "mock", "version": "1.0.0"},
//!   "instructions": "Use the tools.",
//!   "pageSize": 2,
//!   "tools": [
//!     {"name": "echo", "description": "Echo", "inputSchema": {"type": "object"}, "result": "hello"},
//!     {"name": "weather", "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
//!      "replies": [
//!        {"match": {"exact": {"city": "Paris"}}, "result": "sunny"},
//!        {"match": {"subset": {"city": "Oslo"}}, "result": [{"type": "text", "text": "snow"}]},
//!        {"match": {"regex": {"city": "^Lon"}}, "isError": true, "result": "rain"},
//!        {"match": {"exact": {"city": "Nowhere"}}, "error": {"code": -32602, "message": "no such city"}}
//!      ],
//!      "result": {"content": [{"type": "text", "text": "{\"t\":20}"}], "structuredContent": {"t": 20}}},
//!     {"name": "counter", "results": ["one", "two", "three"]},
//!     {"name": "slow", "delayMs": 100, "result": "done",
//!      "progress": [{"progress": 1, "total": 2, "message": "half", "delayMs": 10}, {"progress": 2, "total": 2}],
//!      "logs": [{"level": "info", "logger": "slow", "data": "working"}]}
//!   ],
//!   "resources": [
//!     {"uri": "file:///readme.md", "name": "readme", "mimeType": "text/markdown", "text": "# Hi"},
//!     {"uri": "file:///logo.png", "name": "logo", "mimeType": "image/png", "blob": "iVBORw0KGgo="}
//!   ],
//!   "resourceTemplates": [
//!     {"uriTemplate": "file:///logs/{day}", "name": "logs", "mimeType": "text/plain", "text": "log of {day}"}
//!   ],
//!   "prompts": [
//!     {"name": "greet", "description": "Greeting", "arguments": [{"name": "who", "required": true}],
//!      "result": {"messages": [{"role": "user", "content": {"type": "text", "text": "Hello {{who}}"}}]}}
//!   ],
//!   "completions": [
//!     {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": "who", "values": ["alice", "bob"]}
//!   ]
//! }
//! ```
//!
//! Tool content items: `{"type": "text", "text"}`, `{"type": "image", "data", "mimeType"}`,
//! `{"type": "audio", "data", "mimeType"}`, `{"type": "resource_link", "uri", "name", ...}`,
//! `{"type": "resource", "resource": {"uri", "text"|"blob", "mimeType"?}}`. A reply's fields:
//! `result` | `results` (sequence; the last repeats) | `error` (JSON-RPC error `{code, message,
//! data?}`), `structuredContent`, `isError`, `delayMs`, `progress[{progress, total?, message?,
//! delayMs?}]`, `logs[{level, logger?, data}]`, `requests[{method, params?}]` (asked of the client
//! before answering: over the call's SSE stream in a 2025 session, as an `input_required` result
//! at 2026-07-28; `{{responses.N.path}}` in the result takes the answers), `requestTimeoutMs`.
//! A bad regular expression, schema type or content type makes [`McpServer::new`] fail naming
//! the field.
//!
//! Transport: `POST` of JSON-RPC messages (one, or a batch at 2025-03-26 and before: from
//! 2025-06-18 on a batch is refused with 400/-32600) at the mount, answered as JSON or,
//! when the client accepts it and the answer brings notifications first (progress, logs), as an
//! SSE stream; notifications and responses alone get `202`. `initialize` issues an
//! `Mcp-Session-Id`, required afterwards (missing: 400, unknown: 404); `GET` opens the session's
//! stream of server messages (`list_changed`, `resources/updated`), `DELETE` ends the session.
//! At most 10 000 sessions are kept (a new one evicts the least recently used), each GET stream
//! queues at most 1 024 unread messages, and a session subscribes to at most 1 000 resources.
//! Revisions 2024-11-05 to 2025-11-25 are negotiated by `initialize`. A request whose
//! `MCP-Protocol-Version` header names a later revision follows 2026-07-28: no session, the
//! envelope in `params._meta` checked against the headers, `server/discover`, results with
//! `resultType` (and `ttlMs`/`cacheScope` where cacheable), and `subscriptions/listen` streams.
//!
//! Run-time changes: `/__aimock/mcp/tools` (POST a tool, DELETE `/tools/{name}`), the same for
//! `resources` (DELETE `/resources?uri=...`) and `prompts`, `POST /__aimock/mcp/resources/update`
//! `{uri, text|blob}`; `?path=/mcp2` picks the server. The same operations are methods of
//! [`McpServer`].

pub mod config;

mod catalog;
mod control;
mod methods;
mod modern;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::http::{ApiError, ControlRequest};
use crate::journal::{EntryHandle, JournalBody};
use crate::jsonrpc::{id_key, is_response};
use crate::pipeline::{ControlDefault, Core, Handled, MountedService, ServiceRequest, Surface};

pub use config::McpConfig;
use config::{McpPrompt, McpResource, McpTool};
pub use modern::MODERN_PROTOCOL_VERSIONS;

use catalog::Catalog;

/// Protocol revisions negotiated with `initialize`, oldest first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The newest revision: the answer to a client proposing one we do not speak.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

const SESSION_HEADER: &str = "mcp-session-id";

/// Sessions kept at most: past this, `initialize` evicts the least recently used one (its
/// client gets 404 and, as the specification asks, starts a new session), so a client that
/// initializes in a loop cannot grow the server without bound.
const MAX_SESSIONS: usize = 10_000;

/// Messages queued at most on one GET stream; past this (a client that does not read), more
/// are dropped rather than held.
const STREAM_QUEUE: usize = 1_024;
const VERSION_HEADER: &str = "mcp-protocol-version";

/// JSON-RPC error codes: the specification's, then MCP's own.
pub(crate) mod code {
    pub(crate) use crate::jsonrpc::code::*;
    /// Transport-level problem (missing session id).
    pub(crate) const BAD_REQUEST: i64 = -32000;
    /// Unknown session.
    pub(crate) const SESSION_NOT_FOUND: i64 = -32001;
    /// No such resource.
    pub(crate) const RESOURCE_NOT_FOUND: i64 = -32002;
    /// Unsupported protocol revision (named by the 2026 revision).
    pub(crate) const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

pub(crate) use crate::jsonrpc::RpcError;

/// One client session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) protocol_version: String,
    pub(crate) initialized: bool,
    pub(crate) client_info: Value,
    pub(crate) log_level: Option<usize>,
    pub(crate) subscriptions: HashSet<String>,
    streams: Vec<mpsc::Sender<Value>>,
    /// When a request last named it (for eviction past [`MAX_SESSIONS`]).
    last_used: std::time::Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) catalog: Catalog,
    pub(crate) sessions: HashMap<String, Session>,
    /// Calls so far per (tool, reply index) for reply sequences.
    pub(crate) calls: HashMap<(String, usize), usize>,
    /// Open `subscriptions/listen` streams (2026-07-28).
    pub(crate) listeners: Vec<modern::Listener>,
    /// Requests sent to clients awaiting their answer, by session and request id.
    pub(crate) pending: HashMap<(String, String), tokio::sync::oneshot::Sender<Value>>,
    /// Requests being answered, by session and request id: a cancellation wakes them.
    pub(crate) inflight: HashMap<(String, String), Arc<tokio::sync::Notify>>,
}

/// An MCP server (Streamable HTTP).
#[derive(Debug)]
pub struct McpServer {
    config: McpConfig,
    base: Catalog,
    pub(crate) inner: Mutex<Inner>,
    next_session: AtomicU64,
    pub(crate) next_request: AtomicU64,
    /// Turns true when the server begins to shut down: the GET and listen streams, which
    /// never end on their own, end then.
    shutdown: std::sync::OnceLock<tokio::sync::watch::Receiver<bool>>,
}

/// Where notifications raised while answering a request go.
#[derive(Clone)]
pub(crate) enum Sink {
    /// The POST's own SSE stream.
    Post(mpsc::UnboundedSender<Value>),
    /// The session's GET stream (a JSON answer cannot carry them).
    Session(String),
}

impl McpServer {
    /// Build it from its configuration; an error says what in it is wrong.
    pub fn new(config: McpConfig) -> Result<Arc<McpServer>, String> {
        let base = Catalog::build(&config)?;
        Ok(Arc::new(McpServer {
            inner: Mutex::new(Inner {
                catalog: base.clone(),
                ..Default::default()
            }),
            base,
            config,
            next_session: AtomicU64::new(1),
            next_request: AtomicU64::new(1),
            shutdown: std::sync::OnceLock::new(),
        }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &McpConfig {
        &self.config
    }

    /// Where the server says it is shutting down (set once, by the server that mounts this).
    pub(crate) fn set_shutdown(&self, rx: tokio::sync::watch::Receiver<bool>) {
        let _ = self.shutdown.set(rx);
    }

    /// The shutdown signal, for a stream that would otherwise stay open forever.
    pub(crate) fn shutdown_signal(&self) -> Option<tokio::sync::watch::Receiver<bool>> {
        self.shutdown.get().cloned()
    }

    /// Back to the configured state: run-time changes, sessions and call counts go.
    pub fn reset(&self) {
        let mut inner = self.inner.lock();
        inner.catalog = self.base.clone();
        inner.sessions.clear();
        inner.calls.clear();
        inner.pending.clear();
        for (_, c) in inner.inflight.drain() {
            c.notify_one();
        }
        for l in inner.listeners.drain(..) {
            l.close();
        }
    }

    /// Add a tool, or replace the one of that name; open sessions get
    /// `notifications/tools/list_changed`. An error names what is wrong with it.
    pub fn add_tool(&self, tool: McpTool) -> Result<(), String> {
        let entry = catalog::compile_tool(&tool, "tool")?;
        {
            let mut inner = self.inner.lock();
            let tools = &mut inner.catalog.tools;
            match tools.iter_mut().find(|t| t.def.name == tool.name) {
                Some(t) => *t = entry,
                None => tools.push(entry),
            }
            inner.calls.retain(|(name, _), _| *name != tool.name);
        }
        self.list_changed("tools");
        Ok(())
    }

    /// Remove a tool; whether it was there.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = {
            let mut inner = self.inner.lock();
            let before = inner.catalog.tools.len();
            inner.catalog.tools.retain(|t| t.def.name != name);
            before != inner.catalog.tools.len()
        };
        if removed {
            self.list_changed("tools");
        }
        removed
    }

    /// Add a resource, or replace the one at that URI (its subscribers get
    /// `notifications/resources/updated`); open sessions get `resources/list_changed`.
    pub fn add_resource(&self, resource: McpResource) -> Result<(), String> {
        catalog::check_resource(&resource, "resource")?;
        let uri = resource.uri.clone();
        let replaced = {
            let mut inner = self.inner.lock();
            let res = &mut inner.catalog.resources;
            match res.iter_mut().find(|r| r.uri == resource.uri) {
                Some(r) => {
                    *r = resource;
                    true
                }
                None => {
                    res.push(resource);
                    false
                }
            }
        };
        if replaced {
            self.resource_updated(&uri);
        }
        self.list_changed("resources");
        Ok(())
    }

    /// Remove a resource; whether it was there.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = {
            let mut inner = self.inner.lock();
            let before = inner.catalog.resources.len();
            inner.catalog.resources.retain(|r| r.uri != uri);
            before != inner.catalog.resources.len()
        };
        if removed {
            self.list_changed("resources");
        }
        removed
    }

    /// Change a resource's content (`text` or base64 `blob`); sessions subscribed to it get
    /// `notifications/resources/updated`. False when there is no such resource.
    pub fn update_resource(&self, uri: &str, text: Option<String>, blob: Option<String>) -> bool {
        let found = {
            let mut inner = self.inner.lock();
            match inner.catalog.resources.iter_mut().find(|r| r.uri == uri) {
                Some(r) => {
                    r.text = text;
                    r.blob = blob;
                    true
                }
                None => false,
            }
        };
        if found {
            self.resource_updated(uri);
        }
        found
    }

    /// Add a prompt, or replace the one of that name; open sessions get
    /// `notifications/prompts/list_changed`.
    pub fn add_prompt(&self, prompt: McpPrompt) -> Result<(), String> {
        catalog::check_prompt(&prompt, "prompt")?;
        {
            let mut inner = self.inner.lock();
            let prompts = &mut inner.catalog.prompts;
            match prompts.iter_mut().find(|p| p.name == prompt.name) {
                Some(p) => *p = prompt,
                None => prompts.push(prompt),
            }
        }
        self.list_changed("prompts");
        Ok(())
    }

    /// Remove a prompt; whether it was there.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = {
            let mut inner = self.inner.lock();
            let before = inner.catalog.prompts.len();
            inner.catalog.prompts.retain(|p| p.name != name);
            before != inner.catalog.prompts.len()
        };
        if removed {
            self.list_changed("prompts");
        }
        removed
    }

    /// The ids of the open sessions.
    pub fn sessions(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inner.lock().sessions.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Send a notification to every open session's GET stream; how many sessions got it.
    pub fn notify(&self, method: &str, params: Option<Value>) -> usize {
        let msg = crate::jsonrpc::notification(method, params);
        let mut inner = self.inner.lock();
        let mut n = 0;
        for s in inner.sessions.values_mut() {
            if push_stream(s, &msg) {
                n += 1;
            }
        }
        n
    }

    /// A summary: tool, resource and prompt names and the session count.
    pub fn summary(&self) -> Value {
        let inner = self.inner.lock();
        json!({
            "status": "ok",
            "tools": inner.catalog.tools.iter().map(|t| t.def.name.clone()).collect::<Vec<_>>(),
            "resources": inner.catalog.resources.iter().map(|r| r.uri.clone()).collect::<Vec<_>>(),
            "resourceTemplates": inner.catalog.templates.iter().map(|t| t.def.uri_template.clone()).collect::<Vec<_>>(),
            "prompts": inner.catalog.prompts.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "sessions": inner.sessions.len(),
            "sessionList": inner.sessions.iter().map(|(id, s)| {
                let mut subs: Vec<&String> = s.subscriptions.iter().collect();
                subs.sort();
                json!({
                    "id": id,
                    "protocolVersion": s.protocol_version,
                    "initialized": s.initialized,
                    "clientInfo": s.client_info,
                    "logLevel": s.log_level.and_then(|r| catalog::LOG_LEVELS.get(r)),
                    "subscriptions": subs,
                    "streams": s.streams.iter().filter(|t| !t.is_closed()).count(),
                })
            }).collect::<Vec<_>>(),
            "listeners": inner.listeners.len(),
        })
    }

    fn list_changed(&self, what: &str) {
        self.notify(&format!("notifications/{what}/list_changed"), None);
        self.inner.lock().listeners.retain(|l| l.list_changed(what));
    }

    fn resource_updated(&self, uri: &str) {
        let msg = crate::jsonrpc::notification(
            "notifications/resources/updated",
            Some(json!({"uri": uri})),
        );
        let mut inner = self.inner.lock();
        for s in inner.sessions.values_mut() {
            if s.subscriptions.contains(uri) {
                push_stream(s, &msg);
            }
        }
        inner.listeners.retain(|l| l.updated(uri));
    }

    /// Send a message to a session's GET stream (dropped when it has none open).
    pub(crate) fn send_to_session(&self, id: &str, msg: &Value) {
        if let Some(s) = self.inner.lock().sessions.get_mut(id) {
            push_stream(s, msg);
        }
    }

    async fn serve(self: Arc<Self>, state: &Arc<Core>, req: ServiceRequest) -> Response {
        if !req.rest.is_empty() && req.rest != "/" {
            let r = rpc_http_error(
                StatusCode::NOT_FOUND,
                RpcError::new(
                    code::BAD_REQUEST,
                    format!("Not found: the MCP endpoint is {}", req.mount_or_root()),
                ),
            );
            req.journal(state, "mcp", JournalBody::None, 404);
            return r;
        }
        match req.method {
            Method::POST => self.post(state, req).await,
            Method::GET => self.get(state, req),
            Method::DELETE => self.delete(state, req),
            _ => {
                req.journal(state, "mcp", JournalBody::None, 405);
                let mut r = rpc_http_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    RpcError::new(
                        code::BAD_REQUEST,
                        "Method not allowed: use POST, GET or DELETE",
                    ),
                );
                r.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
                r
            }
        }
    }

    /// The session a request names: `Err` is the answer when it names none or an unknown one.
    fn session_of(&self, headers: &HeaderMap) -> Result<String, Box<Response>> {
        let Some(id) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) else {
            return Err(Box::new(rpc_http_error(
                StatusCode::BAD_REQUEST,
                RpcError::new(
                    code::BAD_REQUEST,
                    "Bad Request: Mcp-Session-Id header is required",
                ),
            )));
        };
        if let Some(s) = self.inner.lock().sessions.get_mut(id) {
            s.last_used = std::time::Instant::now();
            Ok(id.to_owned())
        } else {
            Err(Box::new(rpc_http_error(
                StatusCode::NOT_FOUND,
                RpcError::new(code::SESSION_NOT_FOUND, "Session not found"),
            )))
        }
    }

    fn get(self: &Arc<Self>, state: &Arc<Core>, req: ServiceRequest) -> Response {
        count(state, "session/stream");
        let journal = |status: u16| {
            req.journal(state, "mcp", JournalBody::None, status);
        };
        if !accepts(&req.headers, "text/event-stream") {
            journal(406);
            return rpc_http_error(
                StatusCode::NOT_ACCEPTABLE,
                RpcError::new(
                    code::BAD_REQUEST,
                    "Not Acceptable: Client must accept text/event-stream",
                ),
            );
        }
        if let Some(r) = modern::reject_get_or_delete(&req.headers) {
            journal(r.status().as_u16());
            return r;
        }
        let id = match self.session_of(&req.headers) {
            Ok(id) => id,
            Err(r) => {
                journal(r.status().as_u16());
                return *r;
            }
        };
        let rx = self.open_stream(&id);
        let entry = req.journal(state, "mcp", JournalBody::None, 200);
        sse_response(rx, Some(&id), self.shutdown_signal(), Some(&entry))
    }

    /// A new GET stream of a session: where its server messages go from now on.
    fn open_stream(&self, id: &str) -> Rx {
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        if let Some(s) = self.inner.lock().sessions.get_mut(id) {
            s.streams.retain(|t| !t.is_closed());
            s.streams.push(tx);
        }
        Rx::Bounded(rx)
    }

    fn delete(&self, state: &Arc<Core>, req: ServiceRequest) -> Response {
        count(state, "session/delete");
        if let Some(r) = modern::reject_get_or_delete(&req.headers) {
            req.journal(state, "mcp", JournalBody::None, r.status().as_u16());
            return r;
        }
        let id = match self.session_of(&req.headers) {
            Ok(id) => id,
            Err(r) => {
                req.journal(state, "mcp", JournalBody::None, r.status().as_u16());
                return *r;
            }
        };
        let mut inner = self.inner.lock();
        inner.sessions.remove(&id);
        inner.pending.retain(|(s, _), _| *s != id);
        drop(inner);
        req.journal(state, "mcp", JournalBody::None, 200);
        crate::http::json_response(StatusCode::OK, &json!({"ok": true}))
    }

    async fn post(self: &Arc<Self>, state: &Arc<Core>, mut req: ServiceRequest) -> Response {
        let bytes = match req.bytes(state).await {
            Ok(b) => b,
            Err(e) => {
                count(state, "unknown");
                let status = e.status();
                req.journal(state, "mcp", JournalBody::None, status.as_u16());
                return rpc_http_error(status, RpcError::new(code::INVALID_REQUEST, e.message));
            }
        };
        let parsed: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                count(state, "unknown");
                req.journal(state, "mcp", JournalBody::None, 400);
                return rpc_http_error(
                    StatusCode::BAD_REQUEST,
                    RpcError::new(code::PARSE_ERROR, format!("Parse error: {e}")),
                );
            }
        };
        let body = Arc::new(parsed);
        let entry = req.journal(state, "mcp", JournalBody::Json(body.clone()), 200);
        let finish = |r: Response| {
            let status = r.status().as_u16();
            entry.update(|r| r.status = status);
            r
        };
        let (batch, messages): (bool, Vec<Value>) = match &*body {
            Value::Array(a) => (true, a.clone()),
            other => (false, vec![other.clone()]),
        };
        for m in &messages {
            count(
                state,
                m.get("method").and_then(Value::as_str).unwrap_or("unknown"),
            );
        }
        if is_modern(&req.headers) {
            return finish(self.post_modern(&req.headers, &body, &entry).await);
        }
        if batch && messages.is_empty() {
            return finish(rpc_http_error(
                StatusCode::BAD_REQUEST,
                RpcError::new(code::INVALID_REQUEST, "Invalid Request: empty batch"),
            ));
        }
        if !accepts(&req.headers, "application/json") && !accepts(&req.headers, "text/event-stream")
        {
            return finish(rpc_http_error(
                StatusCode::NOT_ACCEPTABLE,
                RpcError::new(
                    code::BAD_REQUEST,
                    "Not Acceptable: Client must accept application/json and text/event-stream",
                ),
            ));
        }
        let is_init = |m: &Value| {
            m.get("method").and_then(Value::as_str) == Some("initialize") && m.get("id").is_some()
        };
        let init_count = messages.iter().filter(|m| is_init(m)).count();
        if init_count > 0 && (batch || init_count > 1) && messages.len() > 1 {
            return finish(rpc_http_error(
                StatusCode::BAD_REQUEST,
                RpcError::new(
                    code::INVALID_REQUEST,
                    "Invalid Request: initialize must be sent on its own",
                ),
            ));
        }
        let session_id = if init_count == 1 {
            // A session only for an initialize that will succeed.
            let init = messages.iter().find(|m| is_init(m));
            let version = init
                .and_then(|m| m.get("params"))
                .and_then(|p| p.get("protocolVersion"));
            if let Some(asked) = version.and_then(Value::as_str).filter(|_| batch) {
                let negotiated = if PROTOCOL_VERSIONS.contains(&asked) {
                    asked
                } else {
                    LATEST_PROTOCOL_VERSION
                };
                if let Some(r) = batch_refused(&req.headers, negotiated) {
                    return finish(r);
                }
            }
            if !version.is_some_and(Value::is_string) {
                let id = init
                    .and_then(|m| m.get("id"))
                    .cloned()
                    .unwrap_or(Value::Null);
                return finish(crate::http::json_response(
                    StatusCode::BAD_REQUEST,
                    &RpcError::params("Invalid params: `protocolVersion` must be a string")
                        .to_response(&id),
                ));
            }
            self.new_session()
        } else {
            match self.session_of(&req.headers) {
                Ok(id) => id,
                Err(r) => return finish(*r),
            }
        };
        if batch && init_count == 0 {
            let negotiated = self
                .inner
                .lock()
                .sessions
                .get(&session_id)
                .map(|s| s.protocol_version.clone())
                .unwrap_or_default();
            if let Some(r) = batch_refused(&req.headers, &negotiated) {
                return finish(r);
            }
        }
        let wants_sse = accepts(&req.headers, "text/event-stream");
        let json_ok = accepts(&req.headers, "application/json");
        let notifies = messages
            .iter()
            .any(|m| self.will_notify(&session_id, m, false));
        let requests = messages
            .iter()
            .filter(|m| {
                m.get("method").is_some_and(Value::is_string) && m.get("id").is_some()
                    || !m.get("method").is_some_and(Value::is_string) && !is_response(m)
            })
            .count();
        if requests == 0 {
            // Notifications and responses only: 202, or an HTTP error when one is not a valid
            // JSON-RPC message (the transport says so; there is no request to answer).
            let mut refused = None;
            for m in &messages {
                let sink = Sink::Session(session_id.clone());
                if let Some(e) = self.answer(&session_id, m, &sink).await {
                    refused.get_or_insert(e);
                }
            }
            if let Some(e) = refused {
                return finish(crate::http::json_response(StatusCode::BAD_REQUEST, &e));
            }
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::ACCEPTED;
            return finish(r);
        }
        let mut response = if wants_sse && (notifies || !json_ok) {
            let (tx, rx) = mpsc::unbounded_channel();
            let this = self.clone();
            let sid = session_id.clone();
            tokio::spawn(async move {
                // Each answer is an event of its own, a batch's too.
                let sink = Sink::Post(tx.clone());
                for m in &messages {
                    if let Some(a) = this.answer(&sid, m, &sink).await {
                        let _ = tx.send(a);
                    }
                }
            });
            sse_response(rx, None, None, Some(&entry))
        } else {
            let sink = Sink::Session(session_id.clone());
            let mut answers = Vec::new();
            for m in &messages {
                if let Some(a) = self.answer(&session_id, m, &sink).await {
                    answers.push(a);
                }
            }
            if answers.is_empty() {
                // Every request was cancelled: nothing to answer.
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::ACCEPTED;
                r
            } else if batch {
                crate::http::json_response(StatusCode::OK, &Value::Array(answers))
            } else {
                let out = answers.into_iter().next().unwrap_or(Value::Null);
                crate::http::json_response(StatusCode::OK, &out)
            }
        };
        if init_count == 1 {
            if let Ok(v) = HeaderValue::from_str(&session_id) {
                response.headers_mut().insert(SESSION_HEADER, v);
            }
        }
        finish(response)
    }

    fn new_session(&self) -> String {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:016x}{:016x}", rand::random::<u64>(), n);
        let mut inner = self.inner.lock();
        if inner.sessions.len() >= MAX_SESSIONS {
            let oldest = inner
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            if let Some(old) = oldest {
                inner.sessions.remove(&old);
                inner.pending.retain(|(s, _), _| *s != old);
            }
        }
        inner.sessions.insert(
            id.clone(),
            Session {
                protocol_version: LATEST_PROTOCOL_VERSION.to_owned(),
                initialized: false,
                client_info: Value::Null,
                log_level: None,
                subscriptions: HashSet::new(),
                streams: Vec::new(),
                last_used: std::time::Instant::now(),
            },
        );
        id
    }

    /// Answer one message: a response for a request, `None` for a notification or response.
    async fn answer(self: &Arc<Self>, session: &str, m: &Value, sink: &Sink) -> Option<Value> {
        let Some(obj) = m.as_object() else {
            return Some(
                RpcError::new(code::INVALID_REQUEST, "Invalid Request: not an object")
                    .to_response(&Value::Null),
            );
        };
        let id = obj.get("id").cloned();
        let valid_id = id.as_ref().is_none_or(crate::jsonrpc::is_request_id);
        if !crate::jsonrpc::names_version(obj) || !valid_id {
            return Some(
                RpcError::new(
                    code::INVALID_REQUEST,
                    "Invalid Request: expected jsonrpc \"2.0\" and a string or number id",
                )
                .to_response(if valid_id {
                    id.as_ref().unwrap_or(&Value::Null)
                } else {
                    &Value::Null
                }),
            );
        }
        if is_response(m) {
            let key = obj.get("id").map(id_key).unwrap_or_default();
            if let Some(tx) = self.inner.lock().pending.remove(&(session.to_owned(), key)) {
                let _ = tx.send(m.clone());
            }
            return None;
        }
        let Some(method) = obj.get("method").and_then(Value::as_str) else {
            return Some(
                RpcError::new(code::INVALID_REQUEST, "Invalid Request: no method")
                    .to_response(id.as_ref().unwrap_or(&Value::Null)),
            );
        };
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        if !params.is_null() && !params.is_object() {
            return id
                .map(|id| RpcError::params("Invalid params: must be an object").to_response(&id));
        }
        let Some(id) = id else {
            self.on_notification(session, method, &params);
            return None;
        };
        // `notifications/cancelled` naming this request stops it, unanswered.
        let key = (session.to_owned(), id_key(&id));
        let cancel = Arc::new(tokio::sync::Notify::new());
        self.inner
            .lock()
            .inflight
            .insert(key.clone(), cancel.clone());
        let outcome = tokio::select! {
            r = self.call(session, method, &params, sink, false) => Some(r),
            () = cancel.notified() => None,
        };
        {
            let mut inner = self.inner.lock();
            if inner
                .inflight
                .get(&key)
                .is_some_and(|c| Arc::ptr_eq(c, &cancel))
            {
                inner.inflight.remove(&key);
            }
        }
        match outcome? {
            Ok(result) => Some(crate::jsonrpc::result(&id, result)),
            Err(e) => Some(e.to_response(&id)),
        }
    }

    fn on_notification(&self, session: &str, method: &str, params: &Value) {
        match method {
            "notifications/initialized" => {
                if let Some(s) = self.inner.lock().sessions.get_mut(session) {
                    s.initialized = true;
                }
            }
            "notifications/cancelled" => {
                if let Some(id) = params.get("requestId") {
                    let key = (session.to_owned(), id_key(id));
                    if let Some(c) = self.inner.lock().inflight.remove(&key) {
                        c.notify_one();
                    }
                }
            }
            _ => {}
        }
    }
}

impl ServiceRequest {
    fn mount_or_root(&self) -> String {
        if self.mount.is_empty() {
            "/".to_owned()
        } else {
            self.mount.clone()
        }
    }
}

/// Put a message on the session's first open GET stream; whether one took it.
fn push_stream(s: &mut Session, msg: &Value) -> bool {
    s.streams.retain(|t| !t.is_closed());
    s.streams.iter().any(|t| t.try_send(msg.clone()).is_ok())
}

/// Method labels counted as themselves; any other name a client sends is counted as
/// `unknown`, so made-up names cannot grow the metrics without bound.
const METRIC_METHODS: [&str; 26] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "server/discover",
    "subscriptions/listen",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
    "tasks/get",
    "tasks/list",
    "tasks/result",
    "tasks/cancel",
    "session/stream",
    "session/delete",
    "unknown",
];

fn count(state: &Core, method: &str) {
    if let Some(m) = state.metrics.as_ref() {
        let label = METRIC_METHODS
            .iter()
            .find(|k| **k == method)
            .copied()
            .unwrap_or("unknown");
        m.mcp_request(label);
    }
}

/// Whether the `Accept` header takes `mime` (no header, `*/*` and `type/*` take everything).
fn accepts(headers: &HeaderMap, mime: &str) -> bool {
    let all: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if all.is_empty() {
        return true;
    }
    let major = mime.split('/').next().unwrap_or("");
    all.iter().flat_map(|v| v.split(',')).any(|item| {
        let t = item
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        t == mime || t == "*/*" || t == format!("{major}/*")
    })
}

/// Whether `MCP-Protocol-Version` names a revision past the handshake era (or an unknown one,
/// which the 2026-07-28 envelope checks reject naming what we support).
fn is_modern(headers: &HeaderMap) -> bool {
    headers
        .get(VERSION_HEADER)
        .is_some_and(|v| !PROTOCOL_VERSIONS.contains(&v.to_str().unwrap_or("")))
}

/// The first revision without JSON-RPC batches (the body must be one message).
const NO_BATCHES_SINCE: &str = "2025-06-18";

/// A batch at a revision that has none: 400 with -32600. The revision is the
/// `MCP-Protocol-Version` header's, or, without it, the session's.
fn batch_refused(headers: &HeaderMap, session_version: &str) -> Option<Response> {
    let version = headers
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(session_version);
    (version >= NO_BATCHES_SINCE).then(|| {
        rpc_http_error(
            StatusCode::BAD_REQUEST,
            RpcError::new(
                code::INVALID_REQUEST,
                format!(
                    "Invalid Request: MCP {version} takes one JSON-RPC message per POST (batches were removed in {NO_BATCHES_SINCE})"
                ),
            ),
        )
    })
}

/// A JSON-RPC error (id null) with an HTTP status.
fn rpc_http_error(status: StatusCode, e: RpcError) -> Response {
    crate::http::json_response(status, &e.to_response(&Value::Null))
}

/// MCP as a mounted service.
pub(crate) static SURFACE: Surface = Surface {
    kind: "mcp",
    noun: "MCP server",
    default_path: "/mcp",
    control_default: ControlDefault::DefaultPathThenFirst,
    serves_at_root: |_| false,
};

impl MountedService for McpServer {
    fn handle(self: Arc<Self>, core: &Arc<Core>, req: ServiceRequest) -> Handled<'_> {
        Box::pin(self.serve(core, req))
    }

    fn control(&self, req: &ControlRequest) -> Response {
        control::control(self, req)
    }

    /// A JSON-RPC error (id null) with the error's status.
    fn error(&self, e: &ApiError, _req: &ServiceRequest) -> Response {
        let mut r = rpc_http_error(
            e.status,
            RpcError::new(code::INTERNAL_ERROR, e.message.clone()),
        );
        e.add_headers(r.headers_mut());
        r
    }

    fn reset(&self) {
        McpServer::reset(self);
    }

    fn health(&self) -> Value {
        let inner = self.inner.lock();
        json!({
            "status": "ok",
            "tools": inner.catalog.tools.len(),
            "resources": inner.catalog.resources.len(),
            "prompts": inner.catalog.prompts.len(),
            "sessions": inner.sessions.len(),
        })
    }

    fn shutdown_on(&self, signal: tokio::sync::watch::Receiver<bool>) {
        self.set_shutdown(signal);
    }
}

/// The receiving end of an SSE stream's messages.
pub(crate) enum Rx {
    /// A POST's answer or a listen stream (bounded by what the server itself sends).
    Unbounded(mpsc::UnboundedReceiver<Value>),
    /// A session's GET stream, fed by what clients cause (bounded: see [`STREAM_QUEUE`]).
    Bounded(mpsc::Receiver<Value>),
}

impl Rx {
    async fn recv(&mut self) -> Option<Value> {
        match self {
            Rx::Unbounded(r) => r.recv().await,
            Rx::Bounded(r) => r.recv().await,
        }
    }
}

impl crate::stream::Feed for Rx {
    fn next(&mut self) -> futures_util::future::BoxFuture<'_, Option<Bytes>> {
        Box::pin(async move {
            let v = self.recv().await?;
            Some(crate::stream::sse_event("message", &v.to_string()))
        })
    }
}

impl From<mpsc::UnboundedReceiver<Value>> for Rx {
    fn from(r: mpsc::UnboundedReceiver<Value>) -> Rx {
        Rx::Unbounded(r)
    }
}

/// A comment line goes out after this long without a message, so idle streams stay open
/// through proxies and read timeouts, and a client that left is noticed.
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// An SSE response writing each message as it comes; it ends when every sender is gone, or,
/// given a shutdown signal, when the server begins to shut down (so an idle notification
/// stream does not hold a graceful shutdown open). Its journal entry, when given, learns how
/// it ended.
pub(crate) fn sse_response(
    rx: impl Into<Rx>,
    session: Option<&str>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    entry: Option<&EntryHandle>,
) -> Response {
    let body = crate::stream::EventStream::live(rx.into())
        .keepalive(KEEPALIVE, Bytes::from_static(b": keepalive\n\n"))
        .until(stop)
        .on_end(entry.cloned().map(crate::journal::on_stream_end))
        .into_body();
    let mut r = crate::stream::sse_response(body);
    if let Some(id) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        r.headers_mut().insert(SESSION_HEADER, id);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_capped_evicting_the_least_recently_used() {
        let server = McpServer::new(McpConfig::default()).unwrap();
        let first = server.new_session();
        let second = server.new_session();
        // `first` is used again: `second` is now the least recently used.
        let mut headers = HeaderMap::new();
        headers.insert(SESSION_HEADER, HeaderValue::from_str(&first).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(server.session_of(&headers).is_ok());
        // One past the cap: one session goes.
        for _ in 0..MAX_SESSIONS - 1 {
            server.new_session();
        }
        let inner = server.inner.lock();
        assert_eq!(inner.sessions.len(), MAX_SESSIONS);
        assert!(inner.sessions.contains_key(&first));
        assert!(!inner.sessions.contains_key(&second));
    }

    #[tokio::test]
    async fn a_get_stream_nobody_reads_holds_a_bounded_queue() {
        let server = McpServer::new(McpConfig::default()).unwrap();
        let id = server.new_session();
        let mut rx = server.open_stream(&id);
        for i in 0..STREAM_QUEUE * 3 {
            server.notify(
                "notifications/message",
                Some(json!({"level": "info", "data": i})),
            );
        }
        let mut queued = 0;
        while let Ok(Some(_)) =
            tokio::time::timeout(std::time::Duration::from_millis(50), rx.recv()).await
        {
            queued += 1;
        }
        assert_eq!(queued, STREAM_QUEUE);
    }
}
