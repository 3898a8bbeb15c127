//! The HTTP+JSON (REST) binding of A2A 1.0, at the agent's URL: `POST /message:send`,
//! `POST /message:stream`, `GET /tasks`, `GET /tasks/{id}`, `POST /tasks/{id}:cancel`,
//! `POST /tasks/{id}:subscribe`, `/tasks/{id}/pushNotificationConfigs[/{configId}]`,
//! `GET /extendedAgentCard`. Bodies and results are the JSON-RPC methods' params and results;
//! errors are `google.rpc.Status` objects with an `ErrorInfo` naming the A2A reason.

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::agents::Agent;
use super::rpc::{self, code, RpcError, Sent};
use super::wire::Gen;
use super::{with_version, A2aServer};
use crate::http::percent;
use crate::journal::JournalBody;
use crate::pipeline::Core;
use crate::pipeline::ServiceRequest;

/// The method a REST route stands for, and the params its path gives.
fn route(method: &Method, sub: &str) -> Option<(&'static str, Map<String, Value>)> {
    let mut p = Map::new();
    let segs: Vec<&str> = sub.trim_start_matches('/').split('/').collect();
    let m = match (method, segs.as_slice()) {
        (&Method::POST, ["message:send"]) => "SendMessage",
        (&Method::POST, ["message:stream"]) => "SendStreamingMessage",
        (&Method::GET, ["tasks"]) => "ListTasks",
        (&Method::GET, ["extendedAgentCard"]) => "GetExtendedAgentCard",
        (&Method::POST | &Method::GET, ["tasks", id]) if id.ends_with(":subscribe") => {
            p.insert(
                "id".into(),
                percent::path(id.trim_end_matches(":subscribe"))
                    .into_owned()
                    .into(),
            );
            "SubscribeToTask"
        }
        (&Method::POST, ["tasks", id]) if id.ends_with(":cancel") => {
            p.insert(
                "id".into(),
                percent::path(id.trim_end_matches(":cancel"))
                    .into_owned()
                    .into(),
            );
            "CancelTask"
        }
        (&Method::GET, ["tasks", id]) => {
            p.insert("id".into(), percent::path(id).into_owned().into());
            "GetTask"
        }
        (&Method::POST, ["tasks", id, "pushNotificationConfigs"]) => {
            p.insert("taskId".into(), percent::path(id).into_owned().into());
            "CreateTaskPushNotificationConfig"
        }
        (&Method::GET, ["tasks", id, "pushNotificationConfigs"]) => {
            p.insert("taskId".into(), percent::path(id).into_owned().into());
            "ListTaskPushNotificationConfigs"
        }
        (&Method::GET, ["tasks", id, "pushNotificationConfigs", cid]) => {
            p.insert("taskId".into(), percent::path(id).into_owned().into());
            p.insert("id".into(), percent::path(cid).into_owned().into());
            "GetTaskPushNotificationConfig"
        }
        (&Method::DELETE, ["tasks", id, "pushNotificationConfigs", cid]) => {
            p.insert("taskId".into(), percent::path(id).into_owned().into());
            p.insert("id".into(), percent::path(cid).into_owned().into());
            "DeleteTaskPushNotificationConfig"
        }
        _ => return None,
    };
    Some((m, p))
}

/// The route, also under a tenant prefix (`/{tenant}/message:send`).
pub(crate) fn find(method: &Method, sub: &str) -> Option<(&'static str, Map<String, Value>)> {
    route(method, sub).or_else(|| {
        let rest = sub.trim_start_matches('/');
        let (_, after) = rest.split_once('/')?;
        route(method, &format!("/{after}"))
    })
}

fn status_of(c: i64) -> (StatusCode, &'static str, &'static str) {
    match c {
        code::TASK_NOT_FOUND => (StatusCode::NOT_FOUND, "NOT_FOUND", "TASK_NOT_FOUND"),
        code::TASK_NOT_CANCELABLE => (
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "TASK_NOT_CANCELABLE",
        ),
        code::PUSH_NOTIFICATION_NOT_SUPPORTED => (
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "PUSH_NOTIFICATION_NOT_SUPPORTED",
        ),
        code::UNSUPPORTED_OPERATION => (
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "UNSUPPORTED_OPERATION",
        ),
        code::VERSION_NOT_SUPPORTED => (
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            "VERSION_NOT_SUPPORTED",
        ),
        code::INVALID_PARAMS => (
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "INVALID_PARAMS",
        ),
        code::INVALID_REQUEST | code::PARSE_ERROR => (
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "INVALID_REQUEST",
        ),
        code::METHOD_NOT_FOUND => (StatusCode::NOT_FOUND, "NOT_FOUND", "METHOD_NOT_FOUND"),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "INTERNAL_ERROR",
        ),
    }
}

/// The A2A reason of a JSON-RPC code, when it is one of A2A's.
pub(crate) fn reason_of(c: i64) -> Option<&'static str> {
    let a2a = code::VERSION_NOT_SUPPORTED..=code::TASK_NOT_FOUND;
    let standard = code::INTERNAL_ERROR..=code::INVALID_REQUEST;
    (a2a.contains(&c) || standard.contains(&c) || c == code::PARSE_ERROR).then(|| status_of(c).2)
}

fn error_response(e: &RpcError) -> Response {
    let (status, name, reason) = status_of(e.code);
    let mut info = json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
        "domain": "a2a-protocol.org"});
    if let Some(Value::Object(d)) = &e.data {
        let meta: Map<String, Value> = d
            .iter()
            .map(|(k, v)| {
                let s = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), Value::String(s))
            })
            .collect();
        info["metadata"] = Value::Object(meta);
    }
    let body = json!({"error": {"code": status.as_u16(), "status": name, "message": e.message,
        "details": [info]}});
    with_version(crate::http::json_response(status, &body), Gen::V1)
}

/// A `google.rpc.Status` for an error that is not one of A2A's (chaos's drop and rate limit),
/// named after its HTTP status.
pub(crate) fn status_error(status: StatusCode, message: &str) -> Response {
    let name = if status == StatusCode::TOO_MANY_REQUESTS {
        "RESOURCE_EXHAUSTED"
    } else {
        "INTERNAL"
    };
    let body = json!({"error": {"code": status.as_u16(), "status": name, "message": message,
        "details": []}});
    with_version(crate::http::json_response(status, &body), Gen::V1)
}

fn query_params(q: Option<&str>) -> Map<String, Value> {
    percent::query_pairs(q)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

/// Serve a REST route (found with [`find`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn handle(
    server: &Arc<A2aServer>,
    state: &Arc<Core>,
    mut req: ServiceRequest,
    agent: Arc<Agent>,
    is_default: bool,
    url: String,
    method: &'static str,
    path_params: Map<String, Value>,
) -> Response {
    if let Some(m) = state.metrics.as_ref() {
        m.a2a_request(method);
    }
    let bytes = match req.bytes(state).await {
        Ok(b) => b,
        Err(e) => {
            let status = e.status();
            req.journal(state, "a2a", JournalBody::None, status.as_u16());
            let mut r = error_response(&RpcError::new(code::INVALID_REQUEST, e.message));
            *r.status_mut() = status;
            return r;
        }
    };
    let (mut params, entry) = if bytes.iter().all(u8::is_ascii_whitespace) {
        let entry = req.journal(state, "a2a", JournalBody::None, 200);
        (Map::new(), entry)
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(o)) => {
                let entry = req.journal(
                    state,
                    "a2a",
                    JournalBody::Json(Arc::new(Value::Object(o.clone()))),
                    200,
                );
                (o, entry)
            }
            Ok(_) => {
                req.journal(state, "a2a", JournalBody::None, 400);
                return error_response(&RpcError::new(
                    code::INVALID_REQUEST,
                    "The body must be a JSON object",
                ));
            }
            Err(e) => {
                req.journal(state, "a2a", JournalBody::None, 400);
                return error_response(&RpcError::new(
                    code::PARSE_ERROR,
                    format!("Invalid JSON payload: {e}"),
                ));
            }
        }
    };
    // The entry was written before the answer was known: an error gives it the error's status.
    let failed = |e: &rpc::RpcError| {
        let r = error_response(e);
        let status = r.status().as_u16();
        entry.update(|r| r.status = status);
        r
    };
    if let Err(e) = rpc::check_version(&req, Gen::V1) {
        return failed(&e);
    }
    for (k, v) in query_params(req.query.as_deref()) {
        params.entry(k).or_insert(v);
    }
    for (k, v) in path_params {
        params.insert(k, v);
    }
    let params = Value::Object(params);
    match rpc::dispatch(server, &agent, is_default, &url, method, &params, Gen::V1).await {
        Ok(Sent::Value(v)) => with_version(crate::http::json_response(StatusCode::OK, &v), Gen::V1),
        Ok(Sent::Stream(frames)) => rpc::sse(frames, None, Gen::V1, Some(entry)),
        Err(e) => failed(&e),
    }
}
