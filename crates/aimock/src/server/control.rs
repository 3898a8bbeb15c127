//! The control API (`/__aimock/*`) and the legacy journal routes (`/v1/_requests`), compatible with
//! aimock's, so its test helpers (aimock-pytest, the vitest/jest plugins) work unchanged.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::mounts::Mounts;
use super::AppState;
use crate::fixture::{parse_value, ErrorReply, Severity};
use crate::http::percent::query_param;
use crate::http::{control_error, json_response, ControlRequest};
use crate::journal::JournalFilter;

fn bad_request(message: impl Into<String>) -> Response {
    control_error(StatusCode::BAD_REQUEST, message)
}

/// Answer a control request: its body is read and parsed once, here, for every endpoint
/// (the server's own and each service's).
pub(super) async fn handle(
    state: &Arc<AppState>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let sub = path.trim_start_matches("/__aimock");
    let req = match ControlRequest::read(method.clone(), sub, query, headers, body).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    // `/__aimock/<kind>/...`: the service fixtures, or the mounted service it picks.
    let (first, rest) = match sub.trim_start_matches('/').split_once('/') {
        Some((first, rest)) => (first, &sub[sub.len() - rest.len() - 1..]),
        None => (sub.trim_start_matches('/'), ""),
    };
    if first == "services" {
        return crate::services::control(&state.core.services, &req.below(rest));
    }
    if let Some(surface) = Mounts::surface(first) {
        return match state
            .mounts
            .for_control(surface, req.param("path").as_deref())
        {
            Ok(service) => service.control(&req.below(rest)),
            Err(r) => r,
        };
    }
    own(state, req, path)
}

/// The server's own endpoints.
fn own(state: &AppState, req: ControlRequest, path: &str) -> Response {
    let ControlRequest {
        method,
        sub,
        query,
        headers,
        body,
    } = req;
    let query = query.as_deref();
    match (&method, sub.as_str()) {
        (&Method::GET | &Method::POST | &Method::DELETE, "/chaos") => {
            chaos(state, &method, query, &headers, body)
        }
        (&Method::GET, "/health") => json_response(StatusCode::OK, &json!({ "status": "ok" })),
        (&Method::GET, "/journal") => journal(state, query),
        (&Method::GET, "/fixtures") => list_fixtures(state, query),
        (&Method::POST, "/fixtures") => match body {
            Some(v) => add_fixtures(state, v),
            None => bad_request("expected a body {\"fixtures\": [...]}"),
        },
        (&Method::DELETE, "/fixtures") => {
            state.core.fixtures.clear();
            json_response(StatusCode::OK, &json!({ "cleared": true }))
        }
        (&Method::POST, "/reset") => {
            full_reset(state);
            json_response(StatusCode::OK, &json!({ "reset": true }))
        }
        (&Method::POST, "/reset/fixtures") => {
            full_reset(state);
            let mut r = json_response(
                StatusCode::OK,
                &json!({
                    "reset": true,
                    "deprecated": true,
                    "deprecation": "POST /__aimock/reset/fixtures is deprecated; use POST /__aimock/reset",
                }),
            );
            r.headers_mut()
                .insert("deprecation", HeaderValue::from_static("true"));
            r
        }
        // Beyond aimock (whose `resetMatchCounts(testId?)` is in-process only): the sequence and
        // turn counters alone, for every test id or for `?testId=` (or `X-Test-Id`).
        (&Method::POST, "/reset/counts") => {
            let test_id = query_param(query, "testId").or_else(|| {
                headers
                    .get("x-test-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
            state.core.fixtures.reset_counts(test_id.as_deref());
            json_response(StatusCode::OK, &json!({ "reset": true, "testId": test_id }))
        }
        (&Method::POST, "/reset/journal") => {
            state.core.journal.clear();
            json_response(StatusCode::OK, &json!({ "reset": true }))
        }
        (&Method::POST, "/error") => queue_error(state, body.unwrap_or(Value::Null)),
        _ => control_error(
            StatusCode::NOT_FOUND,
            format!("Unknown control endpoint: {method} {path}"),
        ),
    }
}

fn full_reset(state: &AppState) {
    state.mounts.reset();
    state.core.services.reset();
    state.core.chaos.reset();
    state.core.fixtures.clear();
    state.core.fixtures.reset_counts(None);
    state.core.fixtures.clear_errors();
    state.core.journal.clear();
    state.core.stored.clear();
    state.core.conversations.clear();
    state.core.files.clear();
    state.core.batches.clear();
    state.core.jobs.clear();
    state.core.videos.clear();
    state.core.voices.clear();
    state.core.fal.clear();
    state.core.interactions.clear();
}

/// `GET|POST|DELETE /__aimock/chaos`: the run-time chaos override for the caller's test id
/// (`X-Test-Id`, else `?testId=`, else the server-wide scope). Each answers
/// `{"chaos": <the rates now in effect for that scope>}`.
fn chaos(
    state: &AppState,
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Response {
    // The scope, resolved as a request's test id is.
    let scope = match headers.get("x-test-id").map(|v| v.to_str().map(str::trim)) {
        Some(Ok(v)) if !v.is_empty() => v.to_owned(),
        Some(_) => return bad_request("Invalid 'X-Test-Id': header is present but empty"),
        None => query_param(query, "testId")
            .unwrap_or_else(|| crate::fixture::DEFAULT_TEST_ID.to_owned()),
    };
    let rates = match *method {
        Method::GET => state.core.chaos.effective(&scope),
        Method::DELETE => state.core.chaos.remove_override(&scope),
        _ => {
            let Some(v) = body else {
                return bad_request("Invalid body: expected a JSON object");
            };
            match crate::chaos::ChaosRates::from_json(&v) {
                Ok(r) => state.core.chaos.set_override(&scope, r),
                Err(m) => return bad_request(m),
            }
        }
    };
    json_response(StatusCode::OK, &json!({ "chaos": rates.to_json() }))
}

const JOURNAL_PARAMS: &[&str] = &[
    "method",
    "path",
    "status",
    "service",
    "testId",
    "requestId",
    "limit",
    "offset",
];

fn journal(state: &AppState, query: Option<&str>) -> Response {
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split('=').next().unwrap_or("");
            if !JOURNAL_PARAMS.contains(&key) {
                return bad_request(format!(
                    "Unknown journal filter `{key}`; known: {}",
                    JOURNAL_PARAMS.join(", ")
                ));
            }
        }
    }
    let num = |name: &str| -> Result<Option<usize>, String> {
        match query_param(query, name) {
            None => Ok(None),
            Some(v) => v
                .parse::<usize>()
                .map(Some)
                .map_err(|_| format!("`{name}` must be a non-negative integer, got {v:?}")),
        }
    };
    let limit = match num("limit") {
        Ok(v) => v,
        Err(m) => return bad_request(m),
    };
    let offset = match num("offset") {
        Ok(v) => v.unwrap_or(0),
        Err(m) => return bad_request(m),
    };
    let status = match query_param(query, "status") {
        None => None,
        Some(s) => match s.parse::<u16>() {
            Ok(n) => Some(n),
            Err(_) => return bad_request(format!("`status` must be an HTTP status, got {s:?}")),
        },
    };
    let filter = JournalFilter {
        method: query_param(query, "method"),
        path: query_param(query, "path"),
        status,
        service: query_param(query, "service"),
        test_id: query_param(query, "testId"),
        request_id: query_param(query, "requestId"),
    };
    let (entries, total) = state.core.journal.query(&filter, offset, limit);
    let mut r = json_response(
        StatusCode::OK,
        &serde_json::to_value(&entries).unwrap_or(Value::Null),
    );
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        r.headers_mut().insert("x-total-count", v);
    }
    r
}

fn list_fixtures(state: &AppState, query: Option<&str>) -> Response {
    let set = state.core.fixtures.snapshot();
    let include =
        query_param(query, "include").is_some_and(|v| v.split(',').any(|x| x == "fixtures"));
    if !include {
        return json_response(StatusCode::OK, &json!({ "count": set.len() }));
    }
    let fixtures: Vec<Value> = set
        .slots()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "index": i,
                "match": s.fixture.entry.matcher,
                "kind": s.fixture.reply.kind(),
                "source": s.fixture.source.as_ref().map(|src| json!({ "file": src.file, "index": src.index, "line": src.line })),
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({ "count": set.len(), "fixtures": fixtures }),
    )
}

fn add_fixtures(state: &AppState, body: Value) -> Response {
    let report = parse_value(body, "<control-api>");
    if report.has_errors() {
        let details: Vec<Value> = report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| {
                json!({
                    "fixture": p.fixture,
                    "field": p.field,
                    "message": p.message,
                    "text": p.to_string(),
                })
            })
            .collect();
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "Validation failed", "details": details }),
        );
    }
    let warnings: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    let added = report.fixtures.len();
    state.core.fixtures.append(report.fixtures);
    let mut body = json!({ "added": added });
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    json_response(StatusCode::OK, &body)
}

fn queue_error(state: &AppState, body: Value) -> Response {
    if !(body.is_object() || body.is_null()) {
        return bad_request("expected {\"status\": 500, \"body\": {\"message\": ..., \"type\": ..., \"code\": ...}}");
    }
    let status = match body.get("status") {
        None | Some(Value::Null) => 500,
        Some(v) => match v.as_u64().filter(|s| (200..=599).contains(s)) {
            Some(s) => s as u16,
            None => {
                return bad_request(format!(
                    "`status` must be an HTTP status from 200 to 599, got {v}"
                ))
            }
        },
    };
    let b = body.get("body").cloned().unwrap_or(Value::Null);
    if !(b.is_object() || b.is_null()) {
        return bad_request("`body` must be an object {\"message\", \"type\", \"code\"}");
    }
    let str_field = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
    state.core.fixtures.queue_error(ErrorReply {
        status,
        message: str_field("message").unwrap_or_else(|| "Injected error".to_owned()),
        kind: Some(str_field("type").unwrap_or_else(|| "server_error".to_owned())),
        param: None,
        code: b.get("code").cloned(),
        retry_after: body.get("retryAfter").and_then(Value::as_f64),
        metadata: None,
        fallthrough: None,
    });
    json_response(StatusCode::OK, &json!({ "queued": true }))
}

pub(super) fn legacy_requests(state: &AppState, method: &Method, query: Option<&str>) -> Response {
    if method == Method::DELETE {
        state.core.journal.clear();
        return StatusCode::NO_CONTENT.into_response();
    }
    let limit = match query_param(query, "limit") {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return bad_request(format!("`limit` must be a non-negative integer, got {v:?}"))
            }
        },
    };
    let all = state.core.journal.all();
    let skip = limit.map_or(0, |l| all.len().saturating_sub(l));
    let page: Vec<_> = all.into_iter().skip(skip).collect();
    json_response(
        StatusCode::OK,
        &serde_json::to_value(&page).unwrap_or(Value::Null),
    )
}
