//! A set of A2A (Agent-to-Agent protocol) agents.
//!
//! Each agent has an agent card at `<agent url>/.well-known/agent-card.json` (and the older
//! `agent.json`) and a JSON-RPC 2.0 endpoint at its URL that answers both generations of the
//! protocol: v1.0 (`SendMessage`, `SendStreamingMessage`, `GetTask`, `ListTasks`, `CancelTask`,
//! `SubscribeToTask`, `Create/Get/Delete TaskPushNotificationConfig`,
//! `ListTaskPushNotificationConfigs`) and v0.3 (`message/send`, `message/stream`, `tasks/get`,
//! `tasks/cancel`, `tasks/resubscribe`, `tasks/pushNotificationConfig/{set,get,list,delete}`),
//! each in its own JSON shapes.
//!
//! Agent URLs: the first agent at the mount (`/a2a`), every agent at `<mount>/<name>` and at
//! `<mount><path>` when it has a `path`. The card at the main port's root
//! (`/.well-known/agent-card.json`) is the first agent's.
//!
//! Tasks go `submitted → working → completed | failed | canceled | rejected`, or stop at
//! `input-required` / `auth-required`, when the next message naming the task (its `taskId`, or
//! only its `contextId`) continues it. Streaming events are written when due; a task's push
//! notifications are delivered in order. See [`config`] for fixtures and matching on the
//! conversation so far.
//!
//! What clients can make grow is bounded: tasks (`maxTasks`, 10,000) and contexts
//! (`maxContexts`, 10,000) push out the least recently used, a task keeps its last 1,000
//! history messages and at most 100 push configs, a context its last 1,000 texts.

pub mod config;

mod agents;
mod rest;
mod rpc;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use axum::response::Response;
use http::{HeaderValue, Method, StatusCode};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::http::{control_error, ApiError, ControlRequest};
use crate::journal::JournalBody;
use crate::pipeline::{ControlDefault, Core, Handled, MountedService, ServiceRequest, Surface};

pub use config::{
    A2aAgent, A2aConfig, A2aMatch, A2aMessageFixture, A2aPattern, A2aStreamingTaskFixture,
    A2aTaskFixture,
};

use agents::Agent;
use wire::{Gen, State};

/// Something that happened to a task, sent to whoever streams it.
#[derive(Debug, Clone)]
pub(crate) enum Ev {
    /// A new status.
    Status {
        state: State,
        message: Option<Value>,
        timestamp: String,
    },
    /// An artifact (chunk).
    Artifact {
        artifact: Value,
        append: bool,
        last_chunk: bool,
    },
}

#[derive(Debug)]
pub(crate) struct Task {
    id: String,
    context_id: String,
    agent: String,
    state: State,
    status_message: Option<Value>,
    timestamp: String,
    artifacts: Vec<Value>,
    history: Vec<Value>,
    push: Vec<(Value, Gen)>,
    tx: broadcast::Sender<Ev>,
    running: bool,
    updated: u64,
    /// The task's push notifications, delivered in order by one worker (started at the first).
    push_q: Option<tokio::sync::mpsc::Sender<Vec<(Value, Value)>>>,
}

#[derive(Debug, Default)]
struct Ctx {
    texts: Vec<String>,
    user_turns: u32,
    last_reply: Option<String>,
    last_task: Option<String>,
    /// `Inner::seq` when last used (the least recently used context goes first).
    used: u64,
}

/// Tasks kept unless `maxTasks` says otherwise.
const DEFAULT_MAX_TASKS: usize = 10_000;
/// Contexts remembered unless `maxContexts` says otherwise.
const DEFAULT_MAX_CONTEXTS: usize = 10_000;
/// Texts remembered per context for `contextContains` (the oldest go first).
pub(crate) const MAX_CONTEXT_TEXTS: usize = 1_000;
/// Messages kept in a task's history (the oldest go first).
pub(crate) const MAX_TASK_HISTORY: usize = 1_000;
/// Push notification configs per task.
pub(crate) const MAX_PUSH_CONFIGS: usize = 100;
/// Events buffered for each subscriber of a running task.
pub(crate) const EVENT_BUFFER: usize = 256;
/// Events waiting for push delivery per task (more are dropped while the receiver is slow).
pub(crate) const PUSH_QUEUE: usize = 64;

/// Drop the oldest entries of `v` beyond `cap`.
pub(crate) fn keep_last<T>(v: &mut Vec<T>, cap: usize) {
    if v.len() > cap {
        let extra = v.len() - cap;
        v.drain(..extra);
    }
}

impl Inner {
    /// The context `id`, made (pushing out the least recently used one when there are `max`
    /// already) if new, and marked used.
    fn context(&mut self, id: &str, max: usize) -> &mut Ctx {
        self.seq += 1;
        let seq = self.seq;
        if !self.contexts.contains_key(id) && self.contexts.len() >= max.max(1) {
            let oldest = self
                .contexts
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.contexts.remove(&k);
            }
        }
        let c = self.contexts.entry(id.to_owned()).or_default();
        c.used = seq;
        c
    }

    /// Make room for one more task: push out the least recently updated ones, those no longer
    /// running first, until fewer than `max` are left.
    fn room_for_task(&mut self, max: usize) {
        while self.tasks.len() >= max.max(1) {
            let victim = self
                .tasks
                .values()
                .filter(|t| !t.running)
                .min_by_key(|t| t.updated)
                .or_else(|| self.tasks.values().min_by_key(|t| t.updated))
                .map(|t| t.id.clone());
            match victim {
                Some(id) => {
                    self.tasks.remove(&id);
                }
                None => break,
            }
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    agents: Vec<Arc<Agent>>,
    tasks: HashMap<String, Task>,
    contexts: HashMap<String, Ctx>,
    epoch: u64,
    seq: u64,
}

/// A set of A2A agents.
#[derive(Debug)]
pub struct A2aServer {
    config: A2aConfig,
    base: Vec<Arc<Agent>>,
    /// Served at the mount while no agent is configured or added, as aimock does: its card is
    /// `a2a-mock`, "A2A mock agent", 1.0.0, and it has no fixtures (every message gets "no
    /// matching pattern").
    default_agent: Arc<Agent>,
    inner: Mutex<Inner>,
    http: Option<reqwest::Client>,
}

/// The name of the agent served when none is configured.
pub const DEFAULT_AGENT_NAME: &str = "a2a-mock";

fn agents_of(config: &A2aConfig) -> Result<Vec<Arc<Agent>>, String> {
    let mut out: Vec<Arc<Agent>> = Vec::new();
    for (i, a) in config.agents.iter().enumerate() {
        let ag = agents::compile(a, &format!("agents[{i}]"))?;
        check_new(&out, &ag, &format!("agents[{i}]"))?;
        out.push(Arc::new(ag));
    }
    Ok(out)
}

fn check_new(existing: &[Arc<Agent>], ag: &Agent, at: &str) -> Result<(), String> {
    for o in existing {
        if o.config.name == ag.config.name {
            return Err(format!(
                "{at}.name: another agent is named `{}`",
                ag.config.name
            ));
        }
        if let Some(p) = ag.paths.iter().find(|p| o.paths.contains(p)) {
            return Err(format!(
                "{at}.path: `{p}` is also agent `{}`'s path",
                o.config.name
            ));
        }
    }
    Ok(())
}

impl A2aServer {
    /// Build it from its configuration; an error says what in it is wrong.
    pub fn new(config: A2aConfig) -> Result<Arc<A2aServer>, String> {
        let base = agents_of(&config)?;
        let inner = Inner {
            agents: base.clone(),
            ..Inner::default()
        };
        let default_agent = agents::compile(
            &A2aAgent {
                name: DEFAULT_AGENT_NAME.into(),
                ..A2aAgent::default()
            },
            "default agent",
        )?;
        Ok(Arc::new(A2aServer {
            config,
            base,
            default_agent: Arc::new(default_agent),
            inner: Mutex::new(inner),
            http: crate::http::client::client_builder()
                .no_proxy()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .ok(),
        }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &A2aConfig {
        &self.config
    }

    pub(crate) fn max_tasks(&self) -> usize {
        self.config.max_tasks.unwrap_or(DEFAULT_MAX_TASKS)
    }

    pub(crate) fn max_contexts(&self) -> usize {
        self.config.max_contexts.unwrap_or(DEFAULT_MAX_CONTEXTS)
    }

    /// Back to the configured state: run-time agents and fixtures, tasks, contexts and push
    /// configs go; running tasks stop.
    pub fn reset(&self) {
        let mut g = self.inner.lock();
        let epoch = g.epoch + 1;
        *g = Inner {
            agents: self.base.clone(),
            epoch,
            ..Inner::default()
        };
    }

    /// Add an agent at run time (served at `<mount>/<name>` and its `path`).
    pub fn add_agent(&self, agent: A2aAgent) -> Result<(), String> {
        let ag = agents::compile(&agent, "agent")?;
        let mut g = self.inner.lock();
        check_new(&g.agents, &ag, "agent")?;
        g.agents.push(Arc::new(ag));
        Ok(())
    }

    fn add_fixture(&self, agent: &str, f: agents::Fixture) -> Result<(), String> {
        let mut g = self.inner.lock();
        let a = g
            .agents
            .iter_mut()
            .find(|a| a.config.name == agent)
            .ok_or_else(|| format!("no agent named `{agent}`"))?;
        Arc::make_mut(a).fixtures.push(f);
        Ok(())
    }

    /// Answer messages matching `fixture` with a message (tried after the agent's others).
    pub fn on_message(&self, agent: &str, fixture: A2aMessageFixture) -> Result<(), String> {
        self.add_fixture(agent, agents::message_fixture(&fixture, "fixture")?)
    }

    /// Answer messages matching `fixture` with a task.
    pub fn on_task(&self, agent: &str, fixture: A2aTaskFixture) -> Result<(), String> {
        self.add_fixture(agent, agents::task_fixture(&fixture, "fixture")?)
    }

    /// Answer messages matching `fixture` with a task built by timed events.
    pub fn on_streaming_task(
        &self,
        agent: &str,
        fixture: A2aStreamingTaskFixture,
    ) -> Result<(), String> {
        self.add_fixture(agent, agents::streaming_fixture(&fixture, "fixture")?)
    }

    /// Every task, oldest first, in v1.0 JSON.
    pub fn tasks(&self) -> Vec<Value> {
        let g = self.inner.lock();
        let mut ts: Vec<&Task> = g.tasks.values().collect();
        ts.sort_by_key(|t| t.updated);
        ts.iter()
            .map(|t| rpc::render_task(t, Gen::V1, None, true))
            .collect()
    }

    /// `{status, agents, tasks}`.
    pub fn health(&self) -> Value {
        let g = self.inner.lock();
        json!({
            "status": "ok",
            "agents": g.agents.iter().map(|a| a.config.name.clone()).collect::<Vec<_>>(),
            "tasks": g.tasks.len(),
        })
    }

    /// The agent a path below the mount names, and the rest of the path.
    fn route(&self, rest: &str) -> Option<(Arc<Agent>, bool, String)> {
        let g = self.inner.lock();
        if g.agents.is_empty() {
            // No agent: the default one, at the mount.
            return Some((self.default_agent.clone(), true, rest.to_owned()));
        }
        let mut best: Option<(usize, &Arc<Agent>, bool)> = None;
        for (i, a) in g.agents.iter().enumerate() {
            let mut cands: Vec<&str> = a.paths.iter().map(String::as_str).collect();
            if i == 0 {
                cands.push("");
            }
            for p in cands {
                let hit = rest == p || rest.strip_prefix(p).is_some_and(|r| r.starts_with('/'));
                if hit && best.is_none_or(|(l, _, _)| p.len() > l) {
                    best = Some((p.len(), a, p.is_empty()));
                }
            }
        }
        best.map(|(l, a, default)| (a.clone(), default, rest.get(l..).unwrap_or("").to_owned()))
    }

    async fn serve(self: Arc<Self>, state: &Arc<Core>, req: ServiceRequest) -> Response {
        let Some((agent, is_default, sub)) = self.route(&req.rest) else {
            req.journal(state, "a2a", JournalBody::None, 404);
            return with_version(
                crate::http::json_response(
                    StatusCode::NOT_FOUND,
                    &json!({"error": format!("No A2A agent at {}", req.raw_path)}),
                ),
                Gen::V1,
            );
        };
        let mount = if req.mount.is_empty() {
            crate::pipeline::clean_mount_path(self.config.path.as_deref().unwrap_or("/a2a"))
        } else {
            req.mount.clone()
        };
        let host = req
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1");
        let agent_path = if is_default {
            String::new()
        } else {
            agent.paths.first().cloned().unwrap_or_default()
        };
        let url = format!("http://{host}{mount}{agent_path}");
        match sub.as_str() {
            "/.well-known/agent-card.json" | "/.well-known/agent.json" => {
                if req.method != Method::GET && req.method != Method::HEAD {
                    req.journal(state, "a2a", JournalBody::None, 405);
                    return method_not_allowed("GET");
                }
                req.journal(state, "a2a", JournalBody::None, 200);
                if let Some(m) = state.metrics.as_ref() {
                    m.a2a_request("GetAgentCard");
                }
                with_version(
                    crate::http::json_response(StatusCode::OK, &agent.card(&url)),
                    Gen::V1,
                )
            }
            "" | "/" => {
                if req.method != Method::POST {
                    req.journal(state, "a2a", JournalBody::None, 405);
                    return method_not_allowed("POST");
                }
                rpc::handle_rpc(&self, state, req, agent, is_default, url).await
            }
            _ => {
                if let Some((method, params)) = rest::find(&req.method, &sub) {
                    return rest::handle(&self, state, req, agent, is_default, url, method, params)
                        .await;
                }
                req.journal(state, "a2a", JournalBody::None, 404);
                with_version(
                    crate::http::json_response(
                        StatusCode::NOT_FOUND,
                        &json!({"error": format!("Not found: {}", req.raw_path)}),
                    ),
                    Gen::V1,
                )
            }
        }
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = crate::http::json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"error": format!("Method not allowed; use {allow}")}),
    );
    r.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    with_version(r, Gen::V1)
}

pub(crate) fn with_version(mut r: Response, g: Gen) -> Response {
    r.headers_mut()
        .insert("a2a-version", HeaderValue::from_static(g.header()));
    r
}

/// A2A as a mounted service.
pub(crate) static SURFACE: Surface = Surface {
    kind: "a2a",
    noun: "A2A service",
    default_path: "/a2a",
    control_default: ControlDefault::First,
    serves_at_root: |path| path.starts_with("/.well-known/agent"),
};

impl MountedService for A2aServer {
    fn handle(self: Arc<Self>, core: &Arc<Core>, req: ServiceRequest) -> Handled<'_> {
        Box::pin(self.serve(core, req))
    }

    fn control(&self, req: &ControlRequest) -> Response {
        control(self, req)
    }

    /// A JSON-RPC error (id null), or on a REST route a `google.rpc.Status`, with the error's
    /// status.
    fn error(&self, e: &ApiError, req: &ServiceRequest) -> Response {
        let rest = self
            .route(&req.rest)
            .is_some_and(|(_, _, sub)| rest::find(&req.method, &sub).is_some());
        let mut r = if rest {
            rest::status_error(e.status, &e.message)
        } else {
            rpc::fail(
                &Value::Null,
                &rpc::RpcError::new(rpc::code::INTERNAL_ERROR, e.message.clone()),
                Gen::V1,
            )
        };
        *r.status_mut() = e.status;
        e.add_headers(r.headers_mut());
        r
    }

    fn reset(&self) {
        A2aServer::reset(self);
    }

    fn health(&self) -> Value {
        let g = self.inner.lock();
        json!({"status": "ok", "agents": g.agents.len(), "tasks": g.tasks.len()})
    }
}

/// `/__aimock/a2a/...`: run-time changes. `req.sub` is the path after `/__aimock/a2a`.
///
/// - `GET /__aimock/a2a` → `{status, agents, tasks}`;
/// - `POST /__aimock/a2a/agents` with an agent (as in the config) adds it;
/// - `POST /__aimock/a2a/agents/<name>/messages|tasks|streamingTasks` with a fixture, or a list
///   of them, adds them to that agent;
/// - `GET /__aimock/a2a/tasks` → every task (v1.0 JSON);
/// - `POST /__aimock/a2a/reset` → back to the configured state.
///
/// The server picks the service (`?path=/a2a`; the first by default).
fn control(server: &A2aServer, req: &ControlRequest) -> Response {
    let method = &req.method;
    let sub = req.sub.trim_end_matches('/');
    let ok = |v: Value| crate::http::json_response(StatusCode::OK, &v);
    match (method, sub) {
        (&Method::GET, "") => ok(server.health()),
        (&Method::GET, "/tasks") => ok(json!({ "tasks": server.tasks() })),
        (&Method::POST, "/reset") => {
            server.reset();
            ok(json!({ "reset": true }))
        }
        (&Method::POST, "/agents") => {
            let agent: A2aAgent = match A2aAgent::deserialize(req.json()) {
                Ok(a) => a,
                Err(e) => return control_error(StatusCode::BAD_REQUEST, format!("agent: {e}")),
            };
            match server.add_agent(agent) {
                Ok(()) => ok(json!({ "added": true })),
                Err(e) => control_error(StatusCode::BAD_REQUEST, e),
            }
        }
        (&Method::POST, s) if s.starts_with("/agents/") => {
            let rest = s.trim_start_matches("/agents/");
            let Some((name, kind)) = rest.rsplit_once('/') else {
                return req.unknown("/a2a");
            };
            let name = crate::http::percent::path(name).into_owned();
            let list = match req.json() {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let mut n = 0;
            for (i, f) in list.into_iter().enumerate() {
                let r = match kind {
                    "messages" => serde_json::from_value(f)
                        .map_err(|e| e.to_string())
                        .and_then(|f| server.on_message(&name, f)),
                    "tasks" => serde_json::from_value(f)
                        .map_err(|e| e.to_string())
                        .and_then(|f| server.on_task(&name, f)),
                    "streamingTasks" => serde_json::from_value(f)
                        .map_err(|e| e.to_string())
                        .and_then(|f| server.on_streaming_task(&name, f)),
                    _ => return req.unknown("/a2a"),
                };
                if let Err(e) = r {
                    let status = if e.starts_with("no agent") {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::BAD_REQUEST
                    };
                    return control_error(status, format!("{kind}[{i}]: {e}"));
                }
                n += 1;
            }
            ok(json!({ "added": n }))
        }
        _ => req.unknown("/a2a"),
    }
}
