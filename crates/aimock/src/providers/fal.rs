//! fal.ai: the queue API (submit, status with `logs` and `metrics`, result, cancel), the sync run,
//! and aimock's legacy audio paths, all under `/fal/`.
//!
//! Three ways in:
//! - **The proxy convention** of `@fal-ai/client` (aimock's): `/fal/{model...}` with the real host
//!   in `x-fal-target-host` (`queue.fal.run` for the queue, `fal.run` for a sync run). The queue
//!   URLs in the answers point at `https://queue.fal.run/...`, as aimock's do.
//! - **Direct**: the host as the first path segment, `/fal/queue.fal.run/{model...}` and
//!   `/fal/fal.run/{model...}`, so a client whose base URLs point there (fal-client's
//!   `QUEUE_URL_FORMAT` and `RUN_URL_FORMAT`) reaches the server. The queue URLs then point back
//!   at this server (the request's `Host`), so the client can follow them.
//! - **Legacy audio** (aimock's `fal-audio`): `/fal/queue/submit/{model}`,
//!   `/fal/queue/requests/{id}[/status|/cancel]`, `/fal/run/{model}`.
//!
//! A submit or a run is matched as `endpoint: "fal"` (`"fal-audio"` on the legacy paths), the
//! model path as the model and the body's `prompt` (or `text`, or `input.prompt`...) as the user
//! message, answered by the fixture's `json` (verbatim) or `audio` (as a fal file object). A
//! queued request lives per server instance (bounded, forgotten by reset). It moves
//! `IN_QUEUE → IN_PROGRESS → COMPLETED` one step per status or result poll, as the fixture's
//! `falQueue` thresholds (`pollsBeforeInProgress`, `pollsBeforeCompleted`) say; without them it is
//! `COMPLETED` at once. `x-fal-request-id` is on every queue answer, `x-fal-billable-units` on a
//! completed result whose fixture has `billableUnits`.

use std::time::Instant;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::fixture::Reply;
use crate::http::{json_response, ApiError};
use crate::metrics::PathLabel;
use crate::pipeline::stored::{FalJob, FalStatus as Status};
use crate::pipeline::{Answer, Answered, Call, Exchange, Route, Vendor};
use crate::record::Credential;

/// fal, whose errors are `{"detail": "..."}`.
pub(crate) static VENDOR: Vendor =
    super::vendor("fal", Credential::header("authorization", "Key "), envelope);

/// fal's error envelope: `{"detail": message}`, with the error's type when it has one.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut body = json!({ "detail": e.message });
    if let Some(code) = &e.code {
        body["error_type"] = json!(code);
    }
    super::error_json(e, &body)
}

const QUEUE_HOST: &str = "queue.fal.run";
const RUN_HOST: &str = "fal.run";
const REQUEST_ID: &str = "x-fal-request-id";
const BILLABLE_UNITS: &str = "x-fal-billable-units";

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InQueue => "IN_QUEUE",
            Status::InProgress => "IN_PROGRESS",
            Status::Completed => "COMPLETED",
        }
    }
}

fn log(message: &str) -> Value {
    json!({
        "timestamp": crate::http::time::rfc3339_now(6),
        "level": "INFO",
        "source": "user",
        "message": message,
    })
}

impl FalJob {
    /// One poll: the request moves on when its thresholds say.
    fn advance(&mut self) {
        if self.status == Status::Completed {
            return;
        }
        self.polls = self.polls.saturating_add(1);
        if self.status == Status::InQueue && self.polls >= self.in_progress_after {
            self.status = Status::InProgress;
            self.logs.push(log("Job started processing."));
        } else if self.polls >= self.completed_after {
            self.complete("Job completed.");
        }
    }

    fn complete(&mut self, message: &str) {
        self.status = Status::Completed;
        self.completed = Some(Instant::now());
        self.logs.push(log(message));
    }

    fn queue_position(&self) -> u32 {
        match self.status {
            Status::InQueue => self.in_progress_after.saturating_sub(self.polls),
            _ => 0,
        }
    }

    fn urls(&self, body: &mut Value) {
        body["response_url"] = json!(self.base);
        body["status_url"] = json!(format!("{}/status", self.base));
        body["cancel_url"] = json!(format!("{}/cancel", self.base));
    }

    /// The status answer; the logs only when asked for (`?logs=1`).
    fn status_json(&self, id: &str, with_logs: bool) -> Value {
        let mut b = json!({
            "status": self.status.as_str(),
            "request_id": id,
            "logs": if with_logs { json!(self.logs) } else { Value::Null },
        });
        self.urls(&mut b);
        match self.status {
            Status::InQueue => b["queue_position"] = json!(self.queue_position()),
            Status::InProgress => {}
            Status::Completed => {
                let secs = self
                    .completed
                    .map_or(0.0, |c| c.duration_since(self.submitted).as_secs_f64());
                b["metrics"] = json!({ "inference_time": secs });
                if self.cancelled {
                    b["error"] = json!(CANCELLED);
                    b["error_type"] = json!("request_cancelled");
                }
            }
        }
        b
    }
}

const CANCELLED: &str = "Request was cancelled.";

/// The thresholds of the fixture's `falQueue` (`pollsBeforeInProgress`, `pollsBeforeCompleted`),
/// else the server's (`PollingApi::Fal`), by §14.4's rule (the video jobs' [`Progression`]): none
/// set, the request is done at submit; the in-progress one alone, completed one poll later;
/// completed is never before in-progress; not a finite number counts as unset, a negative or
/// fractional one is floored at 0 / rounded down.
fn thresholds(cfg: Option<&Value>, settings: &crate::pipeline::Settings) -> (u32, u32) {
    use crate::pipeline::videos::Progression;
    let mut cfg = match cfg {
        Some(c @ Value::Object(_)) if Progression::is_set(c) => c.clone(),
        _ => json!({}),
    };
    Progression::with_server_default(&mut cfg, settings, crate::pipeline::videos::PollingApi::Fal);
    let p = Progression::of(&cfg);
    (p.in_progress, p.completed)
}

/// What a `/fal/` request is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Submit(String),
    Run(String),
    Status(String),
    Result(String),
    Cancel(String),
}

/// Where the answers' queue URLs point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `https://queue.fal.run/...` (the `x-fal-target-host` convention).
    Proxy,
    /// This server, `/fal/queue.fal.run/...`.
    Direct,
    /// This server, `/fal/queue/requests/...`.
    Legacy,
}

/// A model path's queue operation on `host`: `{model}/requests/{id}[/status|/cancel]`, or a
/// submit (`POST {model}`) on the queue host, a run on the run host.
fn host_op(method: &Method, host: &str, rest: &str) -> Option<Op> {
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        return None;
    }
    if let Some(i) = rest.rfind("/requests/") {
        let (model, tail) = (&rest[..i], &rest[i + "/requests/".len()..]);
        let (id, action) = tail.split_once('/').unwrap_or((tail, ""));
        if host != QUEUE_HOST || model.is_empty() || id.is_empty() {
            return None;
        }
        let id = id.to_owned();
        return match (method, action) {
            (&Method::GET, "status") => Some(Op::Status(id)),
            (&Method::PUT, "cancel") => Some(Op::Cancel(id)),
            (&Method::GET, "") => Some(Op::Result(id)),
            _ => None,
        };
    }
    match (method, host) {
        (&Method::POST, QUEUE_HOST) => Some(Op::Submit(rest.to_owned())),
        (&Method::POST, RUN_HOST) => Some(Op::Run(rest.to_owned())),
        _ => None,
    }
}

/// The legacy audio paths.
fn legacy_op(method: &Method, rest: &str) -> Option<Op> {
    if let Some(model) = rest.strip_prefix("/queue/submit/") {
        return (method == Method::POST && !model.is_empty()).then(|| Op::Submit(model.to_owned()));
    }
    if let Some(model) = rest.strip_prefix("/run/") {
        return (method == Method::POST && !model.is_empty()).then(|| Op::Run(model.to_owned()));
    }
    let tail = rest.strip_prefix("/queue/requests/")?;
    let (id, action) = tail.split_once('/').unwrap_or((tail, ""));
    if id.is_empty() {
        return None;
    }
    let id = id.to_owned();
    match action {
        "status" => Some(Op::Status(id)),
        "cancel" => Some(Op::Cancel(id)),
        "" => Some(Op::Result(id)),
        _ => None,
    }
}

/// What a request is, by its path after `/fal` and its `x-fal-target-host`.
fn classify(method: &Method, rest: &str, target: Option<&str>) -> Option<(Op, Style)> {
    // A host this handler does not serve falls through to the legacy paths, as with aimock.
    if let Some(op) = target.and_then(|host| host_op(method, host, rest)) {
        return Some((op, Style::Proxy));
    }
    for host in [QUEUE_HOST, RUN_HOST] {
        if let Some(r) = rest
            .strip_prefix('/')
            .and_then(|r| r.strip_prefix(host))
            .filter(|r| r.starts_with('/'))
        {
            return host_op(method, host, r).map(|op| (op, Style::Direct));
        }
    }
    legacy_op(method, rest).map(|op| (op, Style::Legacy))
}

/// The `/fal/...` routes.
pub(crate) fn route(_method: &Method, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/fal").filter(|r| r.starts_with('/'))?;
    // The target host is a header, which routing does not see: the label follows the path's
    // shape, and the endpoint sorts the rest out.
    let label = if rest.contains("/requests/") {
        if rest.ends_with("/status") {
            "/fal/{model}/requests/{id}/status"
        } else if rest.ends_with("/cancel") {
            "/fal/{model}/requests/{id}/cancel"
        } else {
            "/fal/{model}/requests/{id}"
        }
    } else {
        "/fal/{model}"
    };
    Some(Route::new(serve, &VENDOR, PathLabel::one(label)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Request {id} not found"),
    )
}

fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

fn serve(mut call: Call) -> Answered {
    let mut ex = Exchange::new(&mut call);
    let path = ex.path().to_owned();
    let rest = &path["/fal".len()..];
    let target = ex
        .headers()
        .get("x-fal-target-host")
        .and_then(|v| v.to_str().ok())
        .map(|h| h.trim().to_ascii_lowercase());
    let method = ex.ctx.method.clone();
    let Some((op, style)) = classify(&method, rest, target.as_deref()) else {
        let e = ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("Unknown fal.ai endpoint: {method} {path}"),
        );
        return ex.fail(e).into();
    };
    // A status, result or cancel reads the queue (no fixture answers it): chaos rolls before it
    // does, so a dropped poll does not move the request on. Submits and runs roll it when they
    // are matched.
    if matches!(op, Op::Status(_) | Op::Result(_) | Op::Cancel(_)) {
        if let Some(e) = ex.roll_chaos_unmatched() {
            return ex.fail(e).into();
        }
    }
    let host = ex
        .headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let key = |id: &str| format!("{}:{id}", ex.ctx.test_id);
    match op {
        Op::Run(model) => run(ex, &call, &model, style, None),
        Op::Submit(model) => {
            let id = crate::http::ids::uuid();
            let base = match style {
                Style::Proxy => format!("https://{QUEUE_HOST}/{model}/requests/{id}"),
                Style::Direct => format!(
                    "http://{host}/fal/{QUEUE_HOST}/{}/requests/{id}",
                    app_of(&model)
                ),
                Style::Legacy => format!("http://{host}/fal/queue/requests/{id}"),
            };
            let k = key(&id);
            run(ex, &call, &model, style, Some((id, k, base)))
        }
        Op::Status(id) => {
            let logs = query_flag(call.query.as_deref(), "logs");
            let found = call.core.fal.with(&key(&id), |j| {
                j.advance();
                j.status_json(&id, logs)
            });
            match found {
                Some(b) => {
                    with_header(ex.reply(json_response(StatusCode::OK, &b)), REQUEST_ID, &id)
                }
                None => ex.fail(not_found(&id)),
            }
            .into()
        }
        Op::Result(id) => {
            let found = call.core.fal.with(&key(&id), |j| {
                j.advance();
                if j.status != Status::Completed {
                    return Err(j.status_json(&id, false));
                }
                Ok((j.cancelled, j.result.clone(), j.billable_units))
            });
            let resp = match found {
                None => return ex.fail(not_found(&id)).into(),
                Some(Err(pending)) => ex.reply(json_response(StatusCode::ACCEPTED, &pending)),
                Some(Ok((true, _, _))) => ex.fail(
                    ApiError::new(StatusCode::BAD_REQUEST, "request_cancelled", CANCELLED)
                        .with_code("request_cancelled"),
                ),
                Some(Ok((false, result, units))) => {
                    let r = ex.reply(json_response(StatusCode::OK, &result));
                    match units {
                        Some(u) => with_header(r, BILLABLE_UNITS, &u.to_string()),
                        None => r,
                    }
                }
            };
            with_header(resp, REQUEST_ID, &id).into()
        }
        Op::Cancel(id) => {
            let found = call.core.fal.with(&key(&id), |j| {
                if j.status == Status::Completed {
                    return false;
                }
                j.cancelled = true;
                j.complete("Job cancelled.");
                true
            });
            let (status, body) = match found {
                None => (StatusCode::NOT_FOUND, json!({"status": "NOT_FOUND"})),
                Some(false) => (
                    StatusCode::BAD_REQUEST,
                    json!({"status": "ALREADY_COMPLETED"}),
                ),
                Some(true) => (
                    StatusCode::ACCEPTED,
                    json!({"status": "CANCELLATION_REQUESTED"}),
                ),
            };
            with_header(ex.reply(json_response(status, &body)), REQUEST_ID, &id).into()
        }
    }
}

/// `owner/alias` of a model path (`fal-ai/flux/dev` → `fal-ai/flux`): the queue's request URLs
/// leave the subpath out, as fal's do.
fn app_of(model: &str) -> &str {
    match model.match_indices('/').nth(1) {
        Some((i, _)) => &model[..i],
        None => model,
    }
}

fn query_flag(query: Option<&str>, name: &str) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, "1"));
            k == name && matches!(v, "1" | "true" | "True")
        })
    })
}

/// The user message of a submit or run: the body's `prompt` or `text` (or those of its `input`),
/// else the body as JSON.
fn prompt_of(body: &Value) -> String {
    let pick = |v: &Value| {
        ["prompt", "text"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_owned))
    };
    pick(body)
        .or_else(|| body.get("input").and_then(pick))
        .unwrap_or_else(|| body.to_string())
}

/// A fixture's audio as a fal file object (`{audio: {url, content_type, file_name,
/// file_size}}`).
fn audio_file(reply: &Value) -> Value {
    let (data, given_type) = match &reply["audio"] {
        Value::String(s) => (s.as_str(), None),
        other => (
            other
                .get("b64Json")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            other.get("contentType").and_then(Value::as_str),
        ),
    };
    const TYPES: &[(&str, &str)] = &[
        ("mp3", "audio/mpeg"),
        ("wav", "audio/wav"),
        ("opus", "audio/opus"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("pcm", "audio/pcm"),
    ];
    let format = reply["format"].as_str();
    let content_type = given_type
        .or_else(|| format.and_then(|f| TYPES.iter().find(|(k, _)| *k == f).map(|(_, v)| *v)))
        .unwrap_or("audio/mpeg");
    let ext = format
        .or_else(|| {
            TYPES
                .iter()
                .find(|(_, v)| *v == content_type)
                .map(|(k, _)| *k)
        })
        .unwrap_or("mp3");
    let size = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_or(0, |b| b.len())
    };
    json!({"audio": {
        "url": format!("https://mock.fal.media/files/generated_audio.{ext}"),
        "content_type": content_type,
        "file_name": format!("generated_audio.{ext}"),
        "file_size": size,
    }})
}

/// A submit (`queued` = the new request's id, state key and URL base) or a sync run: matched,
/// then the fixture's payload answered at once (run) or kept for the queue (submit).
fn run(
    mut ex: Exchange,
    call: &Call,
    model: &str,
    style: Style,
    queued: Option<(String, String, String)>,
) -> Answered {
    let body: Value = if call.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&call.body) {
            Ok(v) => v,
            Err(e) => {
                return ex
                    .fail(ApiError::invalid(format!("Malformed JSON: {e}")))
                    .into()
            }
        }
    };
    if style == Style::Legacy && !matches!(body, Value::Object(_) | Value::Null) {
        return ex
            .fail(ApiError::invalid("Request body must be a JSON object"))
            .into();
    }
    let prompt = match (&body, style) {
        (Value::Null, Style::Legacy) => String::new(),
        (Value::Null, _) => "{}".to_owned(),
        (b, _) => prompt_of(b),
    };
    let mut req = ChatRequest::chat(model.to_owned(), vec![Message::text(Role::User, prompt)]);
    req.endpoint = if style == Style::Legacy {
        Endpoint::FalAudio
    } else {
        Endpoint::Fal
    };
    let req = std::sync::Arc::new(req);
    ex.set_request(req.clone(), call.body.len());
    let fixture = match ex.resolve(&req) {
        Answer::Fixture(f) => f,
        Answer::Error(e) => return ex.fail(e).into(),
        Answer::Miss(m) => return ex.fail(m.error).into(),
    };
    let (payload, value) = match &fixture.reply {
        Reply::Other {
            kind: "json",
            value,
        } => (value["json"].clone(), value),
        Reply::Other {
            kind: "audio",
            value,
        } => (audio_file(value), value),
        other => {
            let e = crate::providers::endpoint::wrong_kind(&fixture, other, "the fal endpoint");
            return ex.fail(e).into();
        }
    };
    let Some((id, key, base)) = queued else {
        let status = value["status"]
            .as_u64()
            .and_then(|s| StatusCode::from_u16(s as u16).ok())
            .unwrap_or(StatusCode::OK);
        let resp = ex.reply(json_response(status, &payload));
        return with_header(resp, REQUEST_ID, &crate::http::ids::uuid()).into();
    };
    let (in_progress_after, completed_after) =
        thresholds(value.get("falQueue"), &call.core.settings);
    let now = Instant::now();
    let done = completed_after == 0;
    let job = FalJob {
        status: if done {
            Status::Completed
        } else {
            Status::InQueue
        },
        base,
        result: payload,
        billable_units: value["billableUnits"].as_f64().filter(|u| u.is_finite()),
        polls: 0,
        in_progress_after,
        completed_after,
        submitted: now,
        completed: done.then_some(now),
        cancelled: false,
        logs: vec![log("Job enqueued.")],
    };
    let mut envelope = json!({
        "request_id": id,
        "status": job.status.as_str(),
        "queue_position": job.queue_position(),
    });
    job.urls(&mut envelope);
    call.core.fal.put(key, job);
    with_header(
        ex.reply(json_response(StatusCode::OK, &envelope)),
        REQUEST_ID,
        &id,
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_apart_by_host() {
        let q = Some(QUEUE_HOST);
        assert_eq!(
            classify(&Method::POST, "/fal-ai/flux/dev", q),
            Some((Op::Submit("fal-ai/flux/dev".into()), Style::Proxy))
        );
        assert_eq!(
            classify(&Method::GET, "/fal-ai/flux/requests/r1/status", q),
            Some((Op::Status("r1".into()), Style::Proxy))
        );
        assert_eq!(
            classify(&Method::POST, "/fal.run/fal-ai/flux/dev", None),
            Some((Op::Run("fal-ai/flux/dev".into()), Style::Direct))
        );
        assert_eq!(
            classify(
                &Method::PUT,
                "/queue.fal.run/fal-ai/flux/requests/r1/cancel",
                None
            ),
            Some((Op::Cancel("r1".into()), Style::Direct))
        );
        assert_eq!(
            classify(&Method::GET, "/queue/requests/r1", None),
            Some((Op::Result("r1".into()), Style::Legacy))
        );
        assert_eq!(
            classify(&Method::POST, "/queue/submit/fal-ai/tts", None),
            Some((Op::Submit("fal-ai/tts".into()), Style::Legacy))
        );
        assert_eq!(classify(&Method::GET, "/fal-ai/flux/dev", q), None);
        assert_eq!(classify(&Method::POST, "/elsewhere", None), None);
        assert_eq!(app_of("fal-ai/flux/dev"), "fal-ai/flux");
        assert_eq!(app_of("fal-ai/flux"), "fal-ai/flux");
    }

    #[test]
    fn thresholds_follow_aimock_and_the_servers_default() {
        let mut settings = crate::pipeline::Settings {
            strict: false,
            latency: 0.0,
            chunk_size: 20,
            replay_speed: 1.0,
            max_body_bytes: 1,
            strict_turn_index: false,
            normalize: Vec::new(),
            progressions: Default::default(),
        };
        let t = |cfg: Option<Value>, s: &crate::pipeline::Settings| thresholds(cfg.as_ref(), s);
        assert_eq!(t(None, &settings), (0, 0));
        assert_eq!(
            t(Some(json!({"pollsBeforeInProgress": 2})), &settings),
            (2, 3)
        );
        assert_eq!(
            t(
                Some(json!({"pollsBeforeInProgress": 3, "pollsBeforeCompleted": 1})),
                &settings
            ),
            (3, 3)
        );
        assert_eq!(
            t(Some(json!({"pollsBeforeInProgress": -1.5})), &settings),
            (0, 1)
        );
        assert_eq!(
            t(Some(json!({"pollsBeforeCompleted": 2.9})), &settings),
            (0, 2)
        );
        assert_eq!(
            t(Some(json!({"pollsBeforeInProgress": 1e12})), &settings),
            (1_000_000, 1_000_001),
            "capped, never overflowing"
        );
        settings
            .progressions
            .insert(crate::pipeline::videos::PollingApi::Fal, (1, 4));
        assert_eq!(
            t(None, &settings),
            (1, 4),
            "the server's, when the fixture sets none"
        );
        assert_eq!(
            t(Some(json!({"pollsBeforeCompleted": 2})), &settings),
            (0, 2),
            "the fixture's own win"
        );
    }
}
