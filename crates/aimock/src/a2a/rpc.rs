//! The JSON-RPC endpoint: both method generations, the task runner and streaming.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use super::agents::{pick, Agent, MatchInput, Reply, Step};
use super::wire::{self, Gen, State};
use super::{
    keep_last, with_version, A2aServer, Ev, Task, EVENT_BUFFER, MAX_CONTEXT_TEXTS,
    MAX_PUSH_CONFIGS, MAX_TASK_HISTORY, PUSH_QUEUE,
};
use crate::journal::{EntryHandle, JournalBody};
use crate::pipeline::Core;
use crate::pipeline::ServiceRequest;

pub(crate) use crate::jsonrpc::RpcError;

/// JSON-RPC error codes: the specification's, then A2A's own (and aimock's one).
pub(crate) mod code {
    pub(crate) use crate::jsonrpc::code::*;
    /// No fixture of the agent matches the message (aimock's).
    pub(crate) const NO_MATCH: i64 = -32000;
    /// No such task.
    pub(crate) const TASK_NOT_FOUND: i64 = -32001;
    /// The task is in a state that cannot be canceled.
    pub(crate) const TASK_NOT_CANCELABLE: i64 = -32002;
    /// The agent does not take push notification configs.
    pub(crate) const PUSH_NOTIFICATION_NOT_SUPPORTED: i64 = -32003;
    /// The agent or the task cannot do that.
    pub(crate) const UNSUPPORTED_OPERATION: i64 = -32004;
    /// The `A2A-Version` header names another generation.
    pub(crate) const VERSION_NOT_SUPPORTED: i64 = -32009;
}

fn err(code: i64, message: impl Into<String>) -> RpcError {
    RpcError::new(code, message)
}

fn invalid_params(message: impl Into<String>) -> RpcError {
    RpcError::params(message)
}

fn task_not_found(id: &str) -> RpcError {
    err(code::TASK_NOT_FOUND, format!("Task not found: {id}"))
}

fn envelope_ok(id: &Value, result: Value) -> Value {
    crate::jsonrpc::result(id, result)
}

/// An error response. v1.0 errors carry a `google.rpc.ErrorInfo` naming the A2A reason in
/// `data`, as the SDK's server writes them.
fn envelope_err(id: &Value, e: &RpcError, g: Gen) -> Value {
    let mut error = e.object();
    if e.data.is_none() && g == Gen::V1 {
        if let Some(reason) = super::rest::reason_of(e.code) {
            error["data"] = json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason, "domain": "a2a-protocol.org", "metadata": {}}]);
        }
    }
    crate::jsonrpc::error_response(id, error)
}

pub(crate) fn fail(id: &Value, e: &RpcError, g: Gen) -> Response {
    respond(&envelope_err(id, e, g), g)
}

fn respond(v: &Value, g: Gen) -> Response {
    with_version(crate::http::json_response(StatusCode::OK, v), g)
}

/// The generation a method belongs to.
fn method_gen(m: &str) -> Option<Gen> {
    match m {
        "SendMessage"
        | "SendStreamingMessage"
        | "GetTask"
        | "ListTasks"
        | "CancelTask"
        | "SubscribeToTask"
        | "CreateTaskPushNotificationConfig"
        | "GetTaskPushNotificationConfig"
        | "ListTaskPushNotificationConfigs"
        | "DeleteTaskPushNotificationConfig"
        | "GetExtendedAgentCard" => Some(Gen::V1),
        "message/send"
        | "message/stream"
        | "tasks/get"
        | "tasks/cancel"
        | "tasks/resubscribe"
        | "tasks/pushNotificationConfig/set"
        | "tasks/pushNotificationConfig/get"
        | "tasks/pushNotificationConfig/list"
        | "tasks/pushNotificationConfig/delete"
        | "agent/getAuthenticatedExtendedCard" => Some(Gen::V03),
        _ => None,
    }
}

/// `A2A-Version` must name the generation of the method called (any 1.x for v1.0, 0.3 for the
/// older methods); no header is accepted.
pub(crate) fn check_version(req: &ServiceRequest, g: Gen) -> Result<(), RpcError> {
    let Some(v) = req.headers.get("a2a-version") else {
        return Ok(());
    };
    let v = v.to_str().unwrap_or("").trim();
    if v.is_empty() {
        return Ok(());
    }
    let mut it = v.split('.');
    let major = it.next().and_then(|x| x.parse::<u32>().ok());
    let minor = it.next().and_then(|x| x.parse::<u32>().ok()).unwrap_or(0);
    let ok = match (g, major) {
        (Gen::V1, Some(1)) => true,
        (Gen::V03, Some(0)) => minor == 3,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        let expected = g.header();
        Err(err(
            code::VERSION_NOT_SUPPORTED,
            format!("A2A version '{v}' is not supported by this handler. Expected version '{expected}'."),
        ))
    }
}

pub(crate) async fn handle_rpc(
    server: &Arc<A2aServer>,
    state: &Arc<Core>,
    mut req: ServiceRequest,
    agent: Arc<Agent>,
    is_default: bool,
    url: String,
) -> Response {
    let metric = |m: &str| {
        if let Some(mm) = state.metrics.as_ref() {
            mm.a2a_request(m);
        }
    };
    let bytes = match req.bytes(state).await {
        Ok(b) => b,
        Err(e) => {
            req.journal(state, "a2a", JournalBody::None, e.status().as_u16());
            metric("unknown");
            let status = e.status();
            let mut r = fail(
                &Value::Null,
                &err(code::INVALID_REQUEST, e.message),
                Gen::V1,
            );
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                *r.status_mut() = status;
            }
            return r;
        }
    };
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            req.journal(state, "a2a", JournalBody::None, 200);
            metric("unknown");
            return fail(
                &Value::Null,
                &err(code::PARSE_ERROR, format!("Parse error: {e}")),
                Gen::V1,
            );
        }
    };
    let body = Arc::new(v);
    let entry = req.journal(state, "a2a", JournalBody::Json(body.clone()), 200);
    let v = &*body;
    let Some(o) = v.as_object() else {
        metric("unknown");
        let msg = if v.is_array() {
            "Invalid Request: batch requests are not supported"
        } else {
            "Invalid Request: the body must be a JSON-RPC request object"
        };
        return fail(&Value::Null, &err(code::INVALID_REQUEST, msg), Gen::V1);
    };
    let id = o.get("id").cloned().unwrap_or(Value::Null);
    if !(crate::jsonrpc::is_request_id(&id) || id.is_null()) {
        metric("unknown");
        return fail(
            &Value::Null,
            &err(
                code::INVALID_REQUEST,
                "Invalid Request: `id` must be a string or a number",
            ),
            Gen::V1,
        );
    }
    if !crate::jsonrpc::names_version(o) {
        metric("unknown");
        return fail(
            &id,
            &err(
                code::INVALID_REQUEST,
                "Invalid Request: `jsonrpc` must be \"2.0\"",
            ),
            Gen::V1,
        );
    }
    let Some(method) = o.get("method").and_then(Value::as_str) else {
        metric("unknown");
        return fail(
            &id,
            &err(
                code::INVALID_REQUEST,
                "Invalid Request: `method` must be a string",
            ),
            Gen::V1,
        );
    };
    let Some(g) = method_gen(method) else {
        metric("unknown");
        return fail(
            &id,
            &err(
                code::METHOD_NOT_FOUND,
                format!("Method not found: {method}"),
            ),
            Gen::V1,
        );
    };
    metric(method);
    if let Err(e) = check_version(&req, g) {
        return fail(&id, &e, g);
    }
    let empty = Value::Object(Map::new());
    let params = match o.get("params") {
        None | Some(Value::Null) => &empty,
        Some(p) if p.is_object() => p,
        Some(_) => return fail(&id, &invalid_params("`params` must be an object"), g),
    };
    match dispatch(server, &agent, is_default, &url, method, params, g).await {
        Ok(Sent::Value(v)) => respond(&envelope_ok(&id, v), g),
        Ok(Sent::Stream(frames)) => sse(frames, Some(id), g, Some(entry)),
        Err(e) => fail(&id, &e, g),
    }
}

/// Run a method (either generation's name) for an agent.
pub(crate) async fn dispatch(
    server: &Arc<A2aServer>,
    agent: &Arc<Agent>,
    is_default: bool,
    url: &str,
    method: &str,
    params: &Value,
    g: Gen,
) -> Result<Sent, RpcError> {
    let streaming = matches!(
        method,
        "SendStreamingMessage" | "message/stream" | "SubscribeToTask" | "tasks/resubscribe"
    );
    if streaming && !agent.streaming() {
        return Err(err(
            code::UNSUPPORTED_OPERATION,
            "Streaming is not supported by the agent",
        ));
    }
    match method {
        "SendMessage" | "message/send" => send(server, agent, is_default, params, g, false).await,
        "SendStreamingMessage" | "message/stream" => {
            send(server, agent, is_default, params, g, true).await
        }
        "SubscribeToTask" | "tasks/resubscribe" => {
            subscribe(server, agent, params, g).map(Sent::Stream)
        }
        "GetTask" | "tasks/get" => get_task(server, agent, params, g).map(Sent::Value),
        "ListTasks" => list_tasks(server, agent, params).map(Sent::Value),
        "CancelTask" | "tasks/cancel" => cancel_task(server, agent, params, g).map(Sent::Value),
        "GetExtendedAgentCard" | "agent/getAuthenticatedExtendedCard" => {
            Ok(Sent::Value(agent.card(url)))
        }
        _ => push_method(server, agent, method, params, g).map(Sent::Value),
    }
}

/// What a stream sends: the first result, then task events until a final one.
pub(crate) struct Frames {
    first: Value,
    follow: Option<(String, String, broadcast::Receiver<Ev>)>,
}

pub(crate) enum Sent {
    Value(Value),
    Stream(Frames),
}

/// An SSE frame: the result in a JSON-RPC envelope, or bare (REST) when there is no id.
fn frame(id: &Option<Value>, result: Value) -> Bytes {
    match id {
        Some(id) => crate::stream::sse_data(&envelope_ok(id, result).to_string()),
        None => crate::stream::sse_data(&result.to_string()),
    }
}

pub(crate) fn sse(
    frames: Frames,
    id: Option<Value>,
    g: Gen,
    entry: Option<EntryHandle>,
) -> Response {
    let head = frame(&id, frames.first);
    let events = TaskEvents {
        follow: frames.follow,
        id,
        g,
    };
    let body = crate::stream::EventStream::live(events)
        .head(head)
        .on_end(entry.map(crate::journal::on_stream_end))
        .into_body();
    with_version(crate::stream::sse_response(body), g)
}

/// A task's events, framed, until a final status (or none, when the stream has only its first
/// result).
struct TaskEvents {
    follow: Option<(String, String, broadcast::Receiver<Ev>)>,
    id: Option<Value>,
    g: Gen,
}

impl crate::stream::Feed for TaskEvents {
    fn next(&mut self) -> futures_util::future::BoxFuture<'_, Option<Bytes>> {
        Box::pin(async move {
            let (task_id, ctx_id, rx) = self.follow.as_mut()?;
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        let out = frame(&self.id, render_event(&ev, task_id, ctx_id, self.g));
                        if matches!(&ev, Ev::Status { state, .. } if state.is_final()) {
                            self.follow = None;
                        }
                        return Some(out);
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}

/// A task event as a stream result.
pub(crate) fn render_event(ev: &Ev, task_id: &str, ctx_id: &str, g: Gen) -> Value {
    match (ev, g) {
        (
            Ev::Status {
                state,
                message,
                timestamp,
            },
            _,
        ) => {
            let status = render_status(*state, message.as_ref(), timestamp, g);
            match g {
                Gen::V1 => {
                    json!({"statusUpdate": {"taskId": task_id, "contextId": ctx_id, "status": status}})
                }
                Gen::V03 => json!({"kind": "status-update", "taskId": task_id, "contextId": ctx_id,
                    "status": status, "final": state.is_final()}),
            }
        }
        (
            Ev::Artifact {
                artifact,
                append,
                last_chunk,
            },
            Gen::V1,
        ) => json!({"artifactUpdate": {
            "taskId": task_id, "contextId": ctx_id, "artifact": artifact,
            "append": append, "lastChunk": last_chunk}}),
        (
            Ev::Artifact {
                artifact,
                append,
                last_chunk,
            },
            Gen::V03,
        ) => json!({
            "kind": "artifact-update", "taskId": task_id, "contextId": ctx_id,
            "artifact": wire::artifact_out(artifact, Gen::V03),
            "append": append, "lastChunk": last_chunk}),
    }
}

fn render_status(state: State, message: Option<&Value>, ts: &str, g: Gen) -> Value {
    let mut s = json!({"state": state.name(g), "timestamp": ts});
    if let Some(m) = message {
        s["message"] = wire::message_out(m, g);
    }
    s
}

/// A task as JSON; `history_length` keeps the last n messages (0: none).
pub(crate) fn render_task(t: &Task, g: Gen, history_length: Option<i64>, artifacts: bool) -> Value {
    let mut o = Map::new();
    if g == Gen::V03 {
        o.insert("kind".into(), "task".into());
    }
    o.insert("id".into(), t.id.clone().into());
    o.insert("contextId".into(), t.context_id.clone().into());
    o.insert(
        "status".into(),
        render_status(t.state, t.status_message.as_ref(), &t.timestamp, g),
    );
    if artifacts && !t.artifacts.is_empty() {
        o.insert(
            "artifacts".into(),
            t.artifacts
                .iter()
                .map(|a| wire::artifact_out(a, g))
                .collect(),
        );
    }
    let keep = match history_length {
        None => t.history.len(),
        Some(n) => usize::try_from(n.max(0)).unwrap_or(0).min(t.history.len()),
    };
    if keep > 0 {
        let start = t.history.len() - keep;
        o.insert(
            "history".into(),
            t.history
                .get(start..)
                .unwrap_or_default()
                .iter()
                .map(|m| wire::message_out(m, g))
                .collect(),
        );
    }
    Value::Object(o)
}

fn task_result(t: &Task, g: Gen, hl: Option<i64>) -> Value {
    let r = render_task(t, g, hl, true);
    match g {
        Gen::V1 => json!({ "task": r }),
        Gen::V03 => r,
    }
}

fn message_result(m: &Value, g: Gen) -> Value {
    match g {
        Gen::V1 => json!({ "message": m }),
        Gen::V03 => wire::message_out(m, g),
    }
}

fn str_param<'a>(params: &'a Value, k: &str) -> Result<&'a str, RpcError> {
    params
        .get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid_params(format!("`{k}` is required")))
}

fn int_param(params: &Value, k: &str) -> Result<Option<i64>, RpcError> {
    match params.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| invalid_params(format!("`{k}` must be an integer")))?;
            if n < 0 {
                return Err(invalid_params(format!("`{k}` must not be negative")));
            }
            Ok(Some(n))
        }
    }
}

/// Change a task's status; the old status message goes to the history.
fn set_status(t: &mut Task, state: State, message: Option<Value>) -> Ev {
    if let Some(old) = t.status_message.take() {
        t.history.push(old);
        keep_last(&mut t.history, MAX_TASK_HISTORY);
    }
    t.state = state;
    t.status_message = message;
    t.timestamp = wire::now_rfc3339();
    Ev::Status {
        state,
        message: t.status_message.clone(),
        timestamp: t.timestamp.clone(),
    }
}

fn agent_message(parts: Vec<Value>, ctx: &str, task: Option<&str>) -> Value {
    let mut m = json!({"messageId": wire::new_id("msg"), "role": "ROLE_AGENT", "parts": parts,
        "contextId": ctx});
    if let Some(t) = task {
        m["taskId"] = t.into();
    }
    m
}

impl A2aServer {
    /// Apply one step to a task; false when the run must stop (task gone, reset, or a final
    /// state reached).
    fn apply(self: &Arc<Self>, task_id: &str, epoch: u64, step: Step) -> bool {
        let mut deliveries = Vec::new();
        {
            let mut g = self.inner.lock();
            if g.epoch != epoch {
                return false;
            }
            g.seq += 1;
            let seq = g.seq;
            let Some(t) = g.tasks.get_mut(task_id) else {
                return false;
            };
            if t.state.is_final() || !t.running {
                return false;
            }
            t.updated = seq;
            let ev = match step {
                Step::Status { state, message } => {
                    let msg = message.map(|p| agent_message(p, &t.context_id, Some(&t.id)));
                    set_status(t, state, msg)
                }
                Step::Artifact {
                    artifact,
                    append,
                    last_chunk,
                } => {
                    let aid = artifact
                        .get("artifactId")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let existing = t
                        .artifacts
                        .iter_mut()
                        .find(|a| a.get("artifactId").and_then(Value::as_str) == Some(aid));
                    match existing {
                        Some(a) if append => {
                            let more = artifact
                                .get("parts")
                                .and_then(Value::as_array)
                                .cloned()
                                .unwrap_or_default();
                            if let Some(p) = a.get_mut("parts").and_then(Value::as_array_mut) {
                                p.extend(more);
                            }
                        }
                        Some(a) => *a = artifact.clone(),
                        None => t.artifacts.push(artifact.clone()),
                    }
                    Ev::Artifact {
                        artifact,
                        append,
                        last_chunk,
                    }
                }
            };
            let fin = matches!(&ev, Ev::Status { state, .. } if state.is_final());
            if fin {
                t.running = false;
            }
            let _ = t.tx.send(ev.clone());
            if fin {
                // Subscribers still get what was sent, then the end; a stopped task keeps no
                // event buffer (a continued one gets a new channel).
                t.tx = broadcast::channel(1).0;
            }
            for (cfg, cg) in &t.push {
                let payload = match cg {
                    Gen::V1 => render_event(&ev, &t.id, &t.context_id, Gen::V1),
                    Gen::V03 => render_task(t, Gen::V03, None, true),
                };
                deliveries.push((cfg.clone(), payload));
            }
            self.deliver(t, deliveries);
            if fin {
                let mut reply: Vec<String> = t
                    .artifacts
                    .iter()
                    .filter_map(|a| a.get("parts").and_then(Value::as_array))
                    .map(|p| wire::parts_text(p))
                    .collect();
                if let Some(m) = t
                    .status_message
                    .as_ref()
                    .and_then(|m| m.get("parts"))
                    .and_then(Value::as_array)
                {
                    reply.push(wire::parts_text(m));
                }
                let reply = reply.join(" ");
                let ctx_id = t.context_id.clone();
                let max = self.max_contexts();
                let c = g.context(&ctx_id, max);
                c.texts.push(reply.clone());
                keep_last(&mut c.texts, MAX_CONTEXT_TEXTS);
                c.last_reply = Some(reply);
            }
            !fin
        }
    }

    /// Queue one event's push notifications (one per config) for `t`. A task's events are
    /// delivered in order, as an SDK server does: the next event's only after every config has
    /// answered the previous one (or timed out).
    fn deliver(&self, t: &mut Task, deliveries: Vec<(Value, Value)>) {
        if deliveries.is_empty() {
            return;
        }
        let Some(client) = self.http.clone() else {
            return;
        };
        if t.push_q.as_ref().is_none_or(|q| q.is_closed()) {
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                return;
            };
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(Value, Value)>>(PUSH_QUEUE);
            rt.spawn(async move {
                while let Some(batch) = rx.recv().await {
                    let sends = batch.iter().filter_map(|(cfg, payload)| {
                        let url = cfg.get("url").and_then(Value::as_str)?;
                        let mut rb = client.post(url).json(payload);
                        if let Some(tok) = cfg.get("token").and_then(Value::as_str) {
                            rb = rb.header("X-A2A-Notification-Token", tok);
                        }
                        if let Some(a) = cfg.get("authentication") {
                            let scheme = a.get("scheme").and_then(Value::as_str).unwrap_or("");
                            if let Some(c) = a.get("credentials").and_then(Value::as_str) {
                                let v = format!("{scheme} {c}").trim().to_owned();
                                rb = rb.header("Authorization", v);
                            }
                        }
                        Some(async move {
                            let _ = rb.send().await;
                        })
                    });
                    futures_util::future::join_all(sends).await;
                }
            });
            t.push_q = Some(tx);
        }
        if let Some(q) = &t.push_q {
            let _ = q.try_send(deliveries);
        }
    }

    /// Run a task's steps, each when due.
    async fn run(self: Arc<Self>, task_id: String, steps: Vec<(Duration, Step)>, epoch: u64) {
        let working = {
            let g = self.inner.lock();
            g.tasks
                .get(&task_id)
                .is_some_and(|t| t.state != State::Working)
        };
        let first_is_working = matches!(
            steps.first(),
            Some((
                _,
                Step::Status {
                    state: State::Working,
                    ..
                }
            ))
        );
        if working
            && !first_is_working
            && !self.apply(
                &task_id,
                epoch,
                Step::Status {
                    state: State::Working,
                    message: None,
                },
            )
        {
            return;
        }
        for (delay, step) in steps {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if !self.apply(&task_id, epoch, step) {
                return;
            }
        }
        self.apply(
            &task_id,
            epoch,
            Step::Status {
                state: State::Completed,
                message: None,
            },
        );
    }
}

/// Start answering a message: a message reply, or a running task.
async fn send(
    server: &Arc<A2aServer>,
    agent: &Arc<Agent>,
    is_default: bool,
    params: &Value,
    g: Gen,
    streaming: bool,
) -> Result<Sent, RpcError> {
    let msg = params
        .get("message")
        .ok_or_else(|| invalid_params("`message` is required"))?;
    let mut msg = wire::message_in(msg).map_err(invalid_params)?;
    let conf = params.get("configuration").cloned().unwrap_or(Value::Null);
    let hl = int_param(&conf, "historyLength")?;
    let immediate = match g {
        Gen::V1 => conf.get("returnImmediately").and_then(Value::as_bool) == Some(true),
        Gen::V03 => conf.get("blocking").and_then(Value::as_bool) == Some(false),
    };
    let push_cfg = match g {
        Gen::V1 => conf.get("taskPushNotificationConfig"),
        Gen::V03 => conf.get("pushNotificationConfig"),
    }
    .filter(|v| v.is_object());

    let text = msg
        .get("parts")
        .and_then(Value::as_array)
        .map(|p| wire::parts_text(p))
        .unwrap_or_default();
    let msg_task = msg.get("taskId").and_then(Value::as_str).map(str::to_owned);
    let msg_ctx = msg
        .get("contextId")
        .and_then(Value::as_str)
        .map(str::to_owned);

    let (rx, first, steps, epoch, task_id) = {
        let mut gi = server.inner.lock();
        // The task this message continues, if any.
        let mut cont: Option<String> = None;
        if let Some(tid) = &msg_task {
            let t = gi
                .tasks
                .get(tid)
                .filter(|t| t.agent == agent.config.name)
                .ok_or_else(|| task_not_found(tid))?;
            if let Some(c) = &msg_ctx {
                if *c != t.context_id {
                    return Err(invalid_params(format!(
                        "Context {c} does not match context {} of task {tid}",
                        t.context_id
                    )));
                }
            }
            if t.state.is_terminal() {
                return Err(err(
                    code::UNSUPPORTED_OPERATION,
                    format!("Task {tid} is in terminal state: {}", t.state.v1()),
                ));
            }
            if !t.state.is_interrupted() {
                return Err(err(
                    code::UNSUPPORTED_OPERATION,
                    format!("Task {tid} is still running"),
                ));
            }
            cont = Some(tid.clone());
        } else if let Some(c) = &msg_ctx {
            if let Some(tid) = gi.contexts.get(c).and_then(|c| c.last_task.clone()) {
                if gi
                    .tasks
                    .get(&tid)
                    .is_some_and(|t| t.state.is_interrupted() && t.agent == agent.config.name)
                {
                    cont = Some(tid);
                }
            }
        }
        let ctx_id = match (&cont, &msg_ctx) {
            (Some(t), _) => gi
                .tasks
                .get(t)
                .map(|t| t.context_id.clone())
                .unwrap_or_default(),
            (None, Some(c)) => c.clone(),
            (None, None) => wire::new_id("ctx"),
        };
        // Match.
        let reply = {
            let ctx = gi.contexts.get(&ctx_id);
            let empty = Vec::new();
            let input = MatchInput {
                text: &text,
                history: ctx.map_or(&empty, |c| &c.texts),
                turn: ctx.map_or(0, |c| c.user_turns) + 1,
                previous_reply: ctx.and_then(|c| c.last_reply.as_deref()),
            };
            let mut found = pick(agent.fixtures.iter(), &input, streaming);
            if found.is_none() && is_default {
                found = pick(
                    gi.agents
                        .iter()
                        .filter(|a| a.config.name != agent.config.name)
                        .flat_map(|a| a.fixtures.iter()),
                    &input,
                    streaming,
                );
            }
            found.ok_or_else(|| err(code::NO_MATCH, "No matching pattern for message"))?
        };
        if let Reply::Error {
            code,
            message,
            data,
        } = reply
        {
            return Err(RpcError {
                code,
                message,
                data,
            });
        }
        msg["contextId"] = ctx_id.clone().into();
        if let Some(t) = &cont {
            msg["taskId"] = t.clone().into();
        }
        {
            let c = gi.context(&ctx_id, server.max_contexts());
            c.texts.push(text.clone());
            keep_last(&mut c.texts, MAX_CONTEXT_TEXTS);
            c.user_turns = c.user_turns.saturating_add(1);
        }
        gi.seq += 1;
        let seq = gi.seq;
        match reply {
            Reply::Error { .. } => return Err(err(code::INTERNAL_ERROR, "Internal error")),
            Reply::Message(parts) => {
                let reply = agent_message(parts, &ctx_id, cont.as_deref());
                let rtext = reply
                    .get("parts")
                    .and_then(Value::as_array)
                    .map(|p| wire::parts_text(p))
                    .unwrap_or_default();
                if let Some(c) = gi.contexts.get_mut(&ctx_id) {
                    c.texts.push(rtext.clone());
                    keep_last(&mut c.texts, MAX_CONTEXT_TEXTS);
                    c.last_reply = Some(rtext);
                }
                if let Some(t) = cont.as_ref().and_then(|t| gi.tasks.get_mut(t)) {
                    t.history.push(msg.clone());
                    t.history.push(reply.clone());
                    keep_last(&mut t.history, MAX_TASK_HISTORY);
                    t.updated = seq;
                }
                return Ok(if streaming {
                    Sent::Stream(Frames {
                        first: message_result(&reply, g),
                        follow: None,
                    })
                } else {
                    Sent::Value(message_result(&reply, g))
                });
            }
            Reply::Task(steps) => {
                let task_id = match &cont {
                    Some(t) => t.clone(),
                    None => wire::new_id("task"),
                };
                let push = match push_cfg {
                    Some(p) => {
                        let mut p = p.clone();
                        p["taskId"] = task_id.clone().into();
                        let src = match g {
                            Gen::V1 => p,
                            Gen::V03 => json!({"taskId": task_id, "pushNotificationConfig": p}),
                        };
                        vec![(wire::push_config_in(&src, g).map_err(invalid_params)?, g)]
                    }
                    None => Vec::new(),
                };
                let t = match &cont {
                    Some(tid) => {
                        let t = gi.tasks.get_mut(tid).ok_or_else(|| task_not_found(tid))?;
                        let _ = set_status(t, State::Working, None);
                        t.history.push(msg.clone());
                        keep_last(&mut t.history, MAX_TASK_HISTORY);
                        t.running = true;
                        t.tx = broadcast::channel(EVENT_BUFFER).0;
                        t.push.extend(push);
                        keep_last(&mut t.push, MAX_PUSH_CONFIGS);
                        t.updated = seq;
                        t
                    }
                    None => {
                        gi.room_for_task(server.max_tasks());
                        let (tx, _) = broadcast::channel(EVENT_BUFFER);
                        let t = Task {
                            id: task_id.clone(),
                            context_id: ctx_id.clone(),
                            agent: agent.config.name.clone(),
                            state: State::Submitted,
                            status_message: None,
                            timestamp: wire::now_rfc3339(),
                            artifacts: Vec::new(),
                            history: vec![msg.clone()],
                            push,
                            tx,
                            running: true,
                            updated: seq,
                            push_q: None,
                        };
                        gi.tasks.entry(task_id.clone()).or_insert(t)
                    }
                };
                let rx = t.tx.subscribe();
                let first = task_result(t, g, hl);
                if let Some(c) = gi.contexts.get_mut(&ctx_id) {
                    c.last_task = Some(task_id.clone());
                }
                (rx, first, steps, gi.epoch, task_id)
            }
        }
    };
    let runner = server.clone();
    tokio::spawn(runner.run(task_id.clone(), steps, epoch));
    if streaming {
        let ctx_id = first
            .get("task")
            .unwrap_or(&first)
            .get("contextId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        return Ok(Sent::Stream(Frames {
            first,
            follow: Some((task_id, ctx_id, rx)),
        }));
    }
    if immediate {
        return Ok(Sent::Value(first));
    }
    let mut rx = rx;
    loop {
        match rx.recv().await {
            Ok(Ev::Status { state, .. }) if state.is_final() => break,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    let gi = server.inner.lock();
    let t = gi
        .tasks
        .get(&task_id)
        .ok_or_else(|| task_not_found(&task_id))?;
    Ok(Sent::Value(task_result(t, g, hl)))
}

fn task_id_param(params: &Value) -> Result<&str, RpcError> {
    str_param(params, "id")
}

fn subscribe(
    server: &Arc<A2aServer>,
    agent: &Agent,
    params: &Value,
    g: Gen,
) -> Result<Frames, RpcError> {
    let id = task_id_param(params)?;
    let gi = server.inner.lock();
    let t = gi
        .tasks
        .get(id)
        .filter(|t| t.agent == agent.config.name)
        .ok_or_else(|| task_not_found(id))?;
    if t.state.is_terminal() {
        return Err(err(
            code::UNSUPPORTED_OPERATION,
            format!("Task {id} is in terminal state: {}", t.state.v1()),
        ));
    }
    let first = match g {
        Gen::V1 => json!({ "task": render_task(t, g, None, true) }),
        Gen::V03 => render_task(t, g, None, true),
    };
    let follow = t
        .running
        .then(|| (t.id.clone(), t.context_id.clone(), t.tx.subscribe()));
    Ok(Frames { first, follow })
}

fn get_task(
    server: &Arc<A2aServer>,
    agent: &Agent,
    params: &Value,
    g: Gen,
) -> Result<Value, RpcError> {
    let id = task_id_param(params)?;
    let hl = int_param(params, "historyLength")?;
    let gi = server.inner.lock();
    let t = gi
        .tasks
        .get(id)
        .filter(|t| t.agent == agent.config.name)
        .ok_or_else(|| task_not_found(id))?;
    Ok(render_task(t, g, hl, true))
}

fn cancel_task(
    server: &Arc<A2aServer>,
    agent: &Agent,
    params: &Value,
    g: Gen,
) -> Result<Value, RpcError> {
    let id = task_id_param(params)?;
    let out = {
        let mut gi = server.inner.lock();
        gi.seq += 1;
        let seq = gi.seq;
        let t = gi
            .tasks
            .get_mut(id)
            .filter(|t| t.agent == agent.config.name)
            .ok_or_else(|| task_not_found(id))?;
        if t.state.is_terminal() {
            return Err(err(
                code::TASK_NOT_CANCELABLE,
                format!("Task cannot be canceled: it is in state {}", t.state.v1()),
            ));
        }
        let ev = set_status(t, State::Canceled, None);
        t.running = false;
        t.updated = seq;
        let _ = t.tx.send(ev.clone());
        t.tx = broadcast::channel(1).0;
        let deliveries = t
            .push
            .iter()
            .map(|(c, cg)| {
                let p = match cg {
                    Gen::V1 => render_event(&ev, &t.id, &t.context_id, Gen::V1),
                    Gen::V03 => render_task(t, Gen::V03, None, true),
                };
                (c.clone(), p)
            })
            .collect::<Vec<_>>();
        server.deliver(t, deliveries);
        render_task(t, g, None, true)
    };
    Ok(out)
}

/// Normalize an RFC 3339 UTC timestamp for comparing: `YYYY-MM-DDTHH:MM:SS` and nanoseconds.
fn ts_key(s: &str) -> (String, u64) {
    let s = s.trim().trim_end_matches('Z');
    let (base, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut f: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    while f.len() < 9 {
        f.push('0');
    }
    (base.to_owned(), f.parse().unwrap_or(0))
}

fn list_tasks(server: &Arc<A2aServer>, agent: &Agent, params: &Value) -> Result<Value, RpcError> {
    let ctx = params
        .get("contextId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let status = match params.get("status").and_then(Value::as_str) {
        None | Some("") | Some("TASK_STATE_UNSPECIFIED") => None,
        Some(s) => {
            Some(State::parse(s).ok_or_else(|| invalid_params(format!("unknown `status` `{s}`")))?)
        }
    };
    let page_size = int_param(params, "pageSize")?.unwrap_or(50);
    if !(1..=100).contains(&page_size) {
        return Err(invalid_params("`pageSize` must be between 1 and 100"));
    }
    let hl = int_param(params, "historyLength")?;
    let include_artifacts = match params.get("includeArtifacts") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let after = params
        .get("statusTimestampAfter")
        .and_then(Value::as_str)
        .map(ts_key);
    let start = match params.get("pageToken").and_then(Value::as_str) {
        None | Some("") => 0usize,
        Some(tok) => tok
            .parse::<usize>()
            .map_err(|_| invalid_params(format!("invalid `pageToken` `{tok}`")))?,
    };
    let gi = server.inner.lock();
    let mut ts: Vec<&Task> = gi
        .tasks
        .values()
        .filter(|t| t.agent == agent.config.name)
        .filter(|t| ctx.is_none_or(|c| t.context_id == c))
        .filter(|t| status.is_none_or(|s| t.state == s))
        .filter(|t| after.as_ref().is_none_or(|a| ts_key(&t.timestamp) > *a))
        .collect();
    ts.sort_by_key(|t| std::cmp::Reverse(t.updated));
    let total = ts.len();
    let size = usize::try_from(page_size).unwrap_or(50);
    let page: Vec<Value> = ts
        .iter()
        .skip(start)
        .take(size)
        .map(|t| render_task(t, Gen::V1, hl, include_artifacts))
        .collect();
    let end = start.saturating_add(size);
    let next = if end < total {
        end.to_string()
    } else {
        String::new()
    };
    Ok(json!({"tasks": page, "nextPageToken": next, "pageSize": page_size, "totalSize": total}))
}

fn push_method(
    server: &Arc<A2aServer>,
    agent: &Agent,
    method: &str,
    params: &Value,
    g: Gen,
) -> Result<Value, RpcError> {
    if !agent.push() {
        return Err(err(
            code::PUSH_NOTIFICATION_NOT_SUPPORTED,
            "Push notifications are not supported by the agent",
        ));
    }
    let mut gi = server.inner.lock();
    let task_key = match g {
        Gen::V1 => "taskId",
        Gen::V03 => {
            if method == "tasks/pushNotificationConfig/set" {
                "taskId"
            } else {
                "id"
            }
        }
    };
    let task_id = str_param(params, task_key)?.to_owned();
    let t = gi
        .tasks
        .get_mut(&task_id)
        .filter(|t| t.agent == agent.config.name)
        .ok_or_else(|| task_not_found(&task_id))?;
    match method {
        "CreateTaskPushNotificationConfig" | "tasks/pushNotificationConfig/set" => {
            let c = wire::push_config_in(params, g).map_err(invalid_params)?;
            let cid = c.get("id").cloned();
            t.push.retain(|(x, _)| x.get("id") != cid.as_ref());
            if t.push.len() >= MAX_PUSH_CONFIGS {
                return Err(invalid_params(format!(
                    "Task {task_id} has {MAX_PUSH_CONFIGS} push notification configs already: delete one first"
                )));
            }
            t.push.push((c.clone(), g));
            Ok(wire::push_config_out(&c, g))
        }
        "GetTaskPushNotificationConfig" | "tasks/pushNotificationConfig/get" => {
            let want = match g {
                Gen::V1 => params.get("id").and_then(Value::as_str),
                Gen::V03 => params
                    .get("pushNotificationConfigId")
                    .and_then(Value::as_str),
            }
            .filter(|s| !s.is_empty())
            .unwrap_or(task_id.as_str());
            t.push
                .iter()
                .find(|(c, _)| c.get("id").and_then(Value::as_str) == Some(want))
                .map(|(c, _)| wire::push_config_out(c, g))
                .ok_or_else(|| {
                    err(
                        code::TASK_NOT_FOUND,
                        format!("Push notification config {want} not found for task {task_id}"),
                    )
                })
        }
        "ListTaskPushNotificationConfigs" | "tasks/pushNotificationConfig/list" => {
            let list: Vec<Value> = t
                .push
                .iter()
                .map(|(c, _)| wire::push_config_out(c, g))
                .collect();
            Ok(match g {
                Gen::V1 => json!({ "configs": list, "nextPageToken": "" }),
                Gen::V03 => Value::Array(list),
            })
        }
        "DeleteTaskPushNotificationConfig" | "tasks/pushNotificationConfig/delete" => {
            let want = match g {
                Gen::V1 => params.get("id").and_then(Value::as_str),
                Gen::V03 => params
                    .get("pushNotificationConfigId")
                    .and_then(Value::as_str),
            }
            .unwrap_or(task_id.as_str())
            .to_owned();
            t.push
                .retain(|(c, _)| c.get("id").and_then(Value::as_str) != Some(want.as_str()));
            Ok(match g {
                Gen::V1 => json!({}),
                Gen::V03 => Value::Null,
            })
        }
        _ => Err(err(
            code::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )),
    }
}
