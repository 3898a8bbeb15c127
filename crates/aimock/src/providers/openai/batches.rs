//! The Batches API (`/v1/batches`), as the `openai` SDK's `client.batches` speaks it: create from
//! an uploaded JSONL file, retrieve, list, cancel. The life of a batch is deterministic:
//! `validating` when created, `in_progress` at the first retrieve, and done at the second. The
//! creator may pick the ending with `X-AIMock-Batch-Outcome: completed|failed|expired|cancelled`,
//! as with aimock. A cancel moves a live batch to `cancelling`, and the next retrieve makes it
//! `cancelled`.
//!
//! A completed batch's output is real. Each line of the input file is answered by the fixture
//! engine exactly as the endpoint it names would answer it, and the answer is journaled like any
//! request. 2xx answers go to the output file. Other answers (a miss, an error fixture) and lines
//! that are not requests go to the error file. Both are Files API files.

use std::sync::Arc;

use axum::body::Bytes;
use http::{header, HeaderMap, Method, StatusCode};
use serde_json::{json, Map, Value};

use super::error_response;
use super::responses::cursor_page;
use crate::http::ids::random_id;
use crate::http::{json_response, ApiError};
use crate::pipeline::stored::StoredBatch;
use crate::pipeline::{Answered, Call, Core, RequestCtx, Route};

/// The endpoints a batch can run (the ones this server answers).
const ENDPOINTS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/moderations",
];
const OUTCOMES: &[&str] = &["completed", "failed", "expired", "cancelled"];
const OUTCOME_HEADER: &str = "x-aimock-batch-outcome";

/// The route of a `/v1/batches...` path, if it is one.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let parts = super::segments(path, "/v1/batches")?;
    let (action, label, id) = match (method, parts.as_slice()) {
        (&Method::POST, []) => ("create", "/v1/batches", None),
        (&Method::GET, []) => ("list", "/v1/batches", None),
        (&Method::GET, [id]) => ("get", "/v1/batches/{id}", Some(*id)),
        (&Method::POST, [id, "cancel"]) => ("cancel", "/v1/batches/{id}/cancel", Some(*id)),
        _ => return None,
    };
    super::resource(serve, label, action, id, None)
}

use super::invalid_param as bad;
use crate::http::time::unix_now as now;

fn not_found(id: &str) -> ApiError {
    super::no_such(format!("No such batch: {id}"))
}

fn serve(call: Call) -> Answered {
    if call.route.info.action == Some("get") {
        return Answered::Later(Box::pin(async move {
            match retrieve(&call).await {
                Ok(v) => json_response(StatusCode::OK, &v),
                Err(e) => error_response(&e),
            }
        }));
    }
    super::answer_now(answer(&call))
}

fn answer(call: &Call) -> Result<Value, ApiError> {
    let batches = &call.core.batches;
    let id = call.route.info.id.as_deref().unwrap_or_default();
    match call.route.info.action.unwrap_or_default() {
        "create" => create(call),
        "list" => {
            let all: Vec<Value> = batches
                .all()
                .into_iter()
                .map(|b| Value::Object(b.object))
                .collect();
            cursor_page(&all, call.query.as_deref())
        }
        "cancel" => batches
            .with(id, |b| {
                let status = b.object["status"].as_str().unwrap_or_default().to_owned();
                if OUTCOMES.contains(&status.as_str()) {
                    return Err(bad(
                        None,
                        format!("Cannot cancel a batch with status '{status}'."),
                    ));
                }
                b.object.insert("status".into(), json!("cancelling"));
                b.object.insert("cancelling_at".into(), json!(now()));
                Ok(Value::Object(b.object.clone()))
            })
            .ok_or_else(|| not_found(id))?,
        _ => Err(ApiError::invalid("Unknown batches operation.")),
    }
}

/// `POST /v1/batches`.
fn create(call: &Call) -> Result<Value, ApiError> {
    let body: Value = crate::http::parse_json_body(&call.body)?;
    let Value::Object(b) = body else {
        return Err(bad(None, "The body must be a JSON object."));
    };
    let str_of = |k: &str| b.get(k).and_then(Value::as_str);
    let file = str_of("input_file_id")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            bad(
                Some("input_file_id"),
                "Missing required parameter: 'input_file_id'.",
            )
        })?;
    if call.core.files.get(file).is_none() {
        return Err(bad(
            Some("input_file_id"),
            format!("Invalid 'input_file_id': '{file}'. No such file was uploaded to this server."),
        ));
    }
    let endpoint = str_of("endpoint")
        .ok_or_else(|| bad(Some("endpoint"), "Missing required parameter: 'endpoint'."))?;
    if !ENDPOINTS.contains(&endpoint) {
        return Err(bad(
            Some("endpoint"),
            format!(
                "Invalid value: '{endpoint}'. Supported values are: {}.",
                ENDPOINTS.join(", ")
            ),
        ));
    }
    if str_of("completion_window") != Some("24h") {
        return Err(bad(
            Some("completion_window"),
            "Invalid value for 'completion_window': only '24h' is supported.",
        ));
    }
    let outcome = match call
        .ctx
        .headers
        .get(OUTCOME_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        None => "completed".to_owned(),
        Some(o) if OUTCOMES.contains(&o) => o.to_owned(),
        Some(o) => {
            return Err(bad(
                None,
                format!(
                    "Invalid {OUTCOME_HEADER} '{o}'. Expected one of: {}.",
                    OUTCOMES.join(", ")
                ),
            ))
        }
    };
    let id = random_id("batch_", 24);
    let created = now();
    let object = json!({
        "id": id,
        "object": "batch",
        "endpoint": endpoint,
        "errors": null,
        "input_file_id": file,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": null,
        "error_file_id": null,
        "created_at": created,
        "in_progress_at": null,
        "expires_at": created + 86_400,
        "finalizing_at": null,
        "completed_at": null,
        "failed_at": null,
        "expired_at": null,
        "cancelling_at": null,
        "cancelled_at": null,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": b.get("metadata").cloned().unwrap_or(Value::Null),
    });
    let Value::Object(object) = object else {
        return Err(ApiError::invalid("internal: batch object"));
    };
    call.core.batches.put(
        id,
        StoredBatch {
            object: object.clone(),
            polls: 0,
            outcome,
        },
    );
    Ok(Value::Object(object))
}

/// `GET /v1/batches/{id}`: the batch, one step further along.
async fn retrieve(call: &Call) -> Result<Value, ApiError> {
    let id = call.route.info.id.as_deref().unwrap_or_default();
    let core = &call.core;
    let batch = core.batches.get(id).ok_or_else(|| not_found(id))?;
    let status = batch.object["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if OUTCOMES.contains(&status.as_str()) {
        return Ok(Value::Object(batch.object));
    }
    let mut object = batch.object.clone();
    let lines = input_lines(core, &object);
    let total = lines.len();
    let counts =
        |done: usize, failed: usize| json!({"total": total, "completed": done, "failed": failed});
    let outcome = if status == "cancelling" {
        "cancelled".to_owned()
    } else if batch.polls == 0 {
        object.insert("status".into(), json!("in_progress"));
        object.insert("in_progress_at".into(), json!(now()));
        object.insert("request_counts".into(), counts(0, 0));
        String::new()
    } else {
        batch.outcome.clone()
    };
    match outcome.as_str() {
        "" => {}
        "completed" => {
            let endpoint = object["endpoint"].as_str().unwrap_or_default().to_owned();
            let (mut out, mut errors) = (Vec::new(), Vec::new());
            for (i, line) in lines.into_iter().enumerate() {
                let custom = custom_id(&line, i);
                let (ok, json) = run_line(core, &call.ctx.headers, &endpoint, custom, line).await;
                if ok {
                    out.push(json);
                } else {
                    errors.push(json);
                }
            }
            object.insert("request_counts".into(), counts(out.len(), errors.len()));
            object.insert("finalizing_at".into(), json!(now()));
            object.insert("completed_at".into(), json!(now()));
            for (key, kind, lines) in [
                ("output_file_id", "output", &out),
                ("error_file_id", "error", &errors),
            ] {
                if !lines.is_empty() {
                    let file = keep_file(core, &format!("{id}_{kind}.jsonl"), lines);
                    object.insert(key.into(), json!(file));
                }
            }
        }
        "failed" => {
            let message = "Mock batch failure (X-AIMock-Batch-Outcome: failed)";
            let lines: Vec<Value> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    json!({
                        "id": random_id("batch_req_", 24),
                        "custom_id": custom_id(l, i),
                        "response": null,
                        "error": {"code": "mock_failure", "message": message},
                    })
                })
                .collect();
            if !lines.is_empty() {
                let file = keep_file(core, &format!("{id}_error.jsonl"), &lines);
                object.insert("error_file_id".into(), json!(file));
            }
            object.insert(
                "errors".into(),
                json!({"object": "list", "data": [
                    {"code": "mock_failure", "message": format!("{message}: see error_file_id"), "line": null, "param": null}
                ]}),
            );
            object.insert("request_counts".into(), counts(0, total));
            object.insert("failed_at".into(), json!(now()));
        }
        ending => {
            // expired or cancelled: nothing ran.
            object.insert("request_counts".into(), counts(0, 0));
            object.insert(format!("{ending}_at"), json!(now()));
        }
    }
    if !outcome.is_empty() {
        object.insert("status".into(), json!(outcome));
    }
    core.batches.with(id, |b| {
        b.object = object.clone();
        b.polls += 1;
    });
    Ok(Value::Object(object))
}

/// The input file's lines (blank lines skipped), parsed where they are JSON.
fn input_lines(core: &Core, batch: &Map<String, Value>) -> Vec<Result<Value, String>> {
    let Some(file) = batch["input_file_id"]
        .as_str()
        .and_then(|f| core.files.get(f))
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&file.bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).map_err(|e| e.to_string()))
        .collect()
}

fn custom_id(line: &Result<Value, String>, i: usize) -> String {
    line.as_ref()
        .ok()
        .and_then(|v| v.get("custom_id"))
        .and_then(Value::as_str)
        .map_or_else(|| format!("request-{}", i + 1), str::to_owned)
}

/// One input line, answered as its endpoint answers it: `(true, output line)` for a 2xx,
/// `(false, error line)` otherwise.
async fn run_line(
    core: &Arc<Core>,
    headers: &HeaderMap,
    endpoint: &str,
    custom: String,
    line: Result<Value, String>,
) -> (bool, Value) {
    let id = random_id("batch_req_", 24);
    let refuse = |code: &str, message: String| {
        (
            false,
            json!({"id": id, "custom_id": custom, "response": null,
                   "error": {"code": code, "message": message}}),
        )
    };
    let v = match line {
        Ok(Value::Object(v)) => v,
        Ok(_) => return refuse("invalid_json_line", "The line is not a JSON object.".into()),
        Err(e) => return refuse("invalid_json_line", format!("The line is not JSON: {e}.")),
    };
    if v.get("url").and_then(Value::as_str) != Some(endpoint) {
        return refuse(
            "mismatched_url",
            format!("The line's url must be the batch's endpoint, {endpoint}."),
        );
    }
    let mut body = match v.get("body") {
        Some(Value::Object(b)) => b.clone(),
        _ => return refuse("missing_body", "The line has no body object.".into()),
    };
    // A batch answers whole.
    body.remove("stream");
    let Some(route) = crate::providers::route(&Method::POST, endpoint) else {
        return refuse("unsupported_endpoint", format!("{endpoint} is not served."));
    };
    let mut headers = headers.clone();
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let ctx = RequestCtx::new(
        &core.settings,
        Method::POST,
        endpoint.to_owned(),
        None,
        headers,
    );
    let call = Call {
        core: core.clone(),
        ctx,
        route,
        query: None,
        body: Bytes::from(serde_json::to_vec(&Value::Object(body)).unwrap_or_default()),
    };
    let resp = match (call.route.endpoint)(call) {
        Answered::Now(r) => r,
        Answered::Later(f) => f.await,
    };
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (
        status.is_success(),
        json!({
            "id": id,
            "custom_id": custom,
            "response": {"status_code": status.as_u16(), "request_id": random_id("req_", 24), "body": body},
            "error": null,
        }),
    )
}

/// A result file (JSONL), kept in the Files API; its id.
fn keep_file(core: &Core, filename: &str, lines: &[Value]) -> String {
    let mut content = Vec::new();
    for l in lines {
        content.extend_from_slice(l.to_string().as_bytes());
        content.push(b'\n');
    }
    let object = super::files::keep(core, filename, "batch_output", Bytes::from(content));
    object["id"].as_str().unwrap_or_default().to_owned()
}
