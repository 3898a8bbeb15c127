//! Video generation, five APIs over one fixture pool (`endpoint: "video"`, told apart by the model):
//! - OpenAI Sora, `/v1/videos` ([`sora`]): create (JSON or multipart), retrieve, list, delete,
//!   `content` (video, thumbnail, spritesheet) and remix;
//! - OpenRouter, `/api/v1/videos` ([`jobs`]): submit, poll, `content`, the video model list;
//! - Google Veo, `:predictLongRunning` and its operation ([`veo`]), on the Gemini API and on
//!   Vertex AI (`:fetchPredictOperation`);
//! - xAI Grok Imagine, `/v1/videos/generations` and `GET /v1/videos/{request_id}` ([`jobs`]);
//! - BytePlus Ark (Seedance) tasks, `/api/v3/contents/generations/tasks` ([`jobs`]).
//!
//! A submit is matched like any request (the prompt as the user message) and journaled; the job
//! it starts is kept per server instance (at most 1,000, the oldest first), forgotten by a reset.
//! Each poll moves a job along by the fixture's `pollsBeforeInProgress` / `pollsBeforeCompleted`
//! (aimock's progression: neither set, the job is done at submit; `pollsBeforeInProgress` alone
//! puts completion one poll later; completion is never before in-progress; negatives count as 0
//! and fractions are floored). A job ends `failed` when the fixture's `video.status` is `failed`,
//! else completed.
//!
//! Sora ids are `video_...`, Grok request ids UUIDs: `GET /v1/videos/{id}` answers each in its
//! own API's shape by the job the id names.

pub(crate) mod jobs;
pub(crate) mod mp4;
pub(crate) mod sora;
pub(crate) mod veo;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Endpoint, Route, RouteInfo, Vendor};
use crate::providers::endpoint;
use crate::record::Credential;

/// xAI: a bearer token; errors as `{"code", "error"}`.
pub(crate) static XAI: Vendor = super::vendor("xai", Credential::bearer(), xai_envelope);

/// BytePlus Ark: a bearer token; errors as `{"error": {"code"?, "message"}}`.
pub(crate) static BYTEPLUS: Vendor =
    super::vendor("byteplus", Credential::bearer(), byteplus_envelope);

fn xai_envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let code = e
        .code
        .clone()
        .unwrap_or_else(|| Value::String(e.kind.clone()));
    super::error_json(e, &json!({ "code": code, "error": e.message }))
}

fn byteplus_envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut error = serde_json::Map::new();
    if let Some(c) = &e.code {
        error.insert("code".into(), c.clone());
    }
    error.insert("message".into(), Value::String(e.message.clone()));
    super::error_json(e, &json!({ "error": error }))
}

pub(crate) use crate::pipeline::videos::{Job, Progression, Stage, Surface};

/// A job's video bytes: the fixture's `b64`, else a placeholder MP4 of `width` x `height` and
/// `seconds`.
pub(crate) fn bytes(job: &Job, width: u32, height: u32, seconds: f64) -> Result<Vec<u8>, ApiError> {
    match job.field("b64") {
        Some(b) => decode_b64(b),
        None => Ok(mp4::placeholder_mp4(width, height, seconds, &job.prompt)),
    }
}

/// Base64 from a fixture, or a 500 saying it is not.
pub(crate) fn decode_b64(b: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine as _;
    let clean: String = b.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                format!("The video fixture's `b64` is not base64: {e}."),
            )
        })
}

/// A job of `surface` by id, moved along one poll (`advance`) or not.
pub(crate) fn poll<R>(
    core: &crate::pipeline::Core,
    surface: Surface,
    id: &str,
    advance: bool,
    f: impl FnOnce(&Job) -> R,
) -> Option<R> {
    core.videos
        .with(id, |j| {
            (j.surface == surface).then(|| {
                if advance {
                    j.advance();
                }
                f(j)
            })
        })
        .flatten()
}

/// The fixture reply's `video` object, or a 500.
pub(crate) fn fixture_video(
    reply: &Value,
    core: &crate::pipeline::Core,
    surface: Surface,
) -> Result<Value, ApiError> {
    use crate::pipeline::videos::PollingApi;
    match reply.get("video") {
        Some(v @ Value::Object(_)) => {
            let mut v = v.clone();
            let api = match surface {
                Surface::Sora => PollingApi::Sora,
                Surface::OpenRouter => PollingApi::OpenRouterVideo,
                Surface::Veo => PollingApi::VeoVideo,
                Surface::Grok => PollingApi::GrokVideo,
                Surface::BytePlus => PollingApi::BytePlusVideo,
            };
            Progression::with_server_default(&mut v, &core.settings, api);
            Ok(v)
        }
        _ => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The fixture's `video` is not an object.",
        )),
    }
}

/// A video request as a conversation: `prompt` as its user message, for `model`.
pub(crate) fn video_request(model: &str, prompt: &str) -> crate::conversation::ChatRequest {
    use crate::conversation::{ChatRequest, Endpoint, Message, Role};
    let mut req = ChatRequest::chat(model, vec![Message::text(Role::User, prompt)]);
    req.endpoint = Endpoint::Video;
    req
}

/// The JSON object body of a request, or the vendor's 400.
pub(crate) fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match crate::http::parse_json_body::<Value>(body)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::invalid("The request body must be a JSON object.")),
    }
}

/// A non-empty string field, or a 400 naming it (`None` when absent and not `required`).
pub(crate) fn string_field(
    b: &serde_json::Map<String, Value>,
    k: &str,
    required: bool,
) -> Result<Option<String>, ApiError> {
    let bad = |m: String| super::openai::invalid_param(Some(k), m);
    match b.get(k) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(bad(format!("Missing required parameter: '{k}'."))),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!(
            "Invalid type for parameter: '{k}' must be a non-empty string."
        ))),
    }
}

/// `http://host` the client reached us at.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// A route of this module.
fn at(
    endpoint: Endpoint,
    vendor: &'static Vendor,
    label: PathLabel,
    action: &'static str,
    id: Option<&str>,
) -> Option<Route> {
    if id.is_some_and(str::is_empty) {
        return None;
    }
    // A submit or remix is matched against the fixtures (and journaled there); the polls, lists,
    // deletes and downloads only read the jobs.
    Some(
        Route::new(endpoint, vendor, label)
            .with_info(RouteInfo {
                id: id.map(|s| crate::http::percent::path(s).into_owned()),
                action: Some(action),
                ..Default::default()
            })
            .stateful_unless(matches!(action, "create" | "remix"), "videos"),
    )
}

/// This module's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let one = PathLabel::one;
    if let Some(parts) = super::openai::segments(path, "/v1/videos") {
        use crate::providers::openai::VENDOR as OPENAI;
        let sora_media = endpoint::media::<sora::Sora>;
        return match (method, parts.as_slice()) {
            (&Method::POST, []) => at(sora_media, &OPENAI, one("/v1/videos"), "create", None),
            (&Method::GET, []) => at(sora::serve, &OPENAI, one("/v1/videos"), "list", None),
            (&Method::POST, ["generations"]) => at(
                endpoint::media::<jobs::Grok>,
                &XAI,
                one("/v1/videos/generations"),
                "create",
                None,
            ),
            (&Method::GET, [id]) => at(
                sora::serve,
                &OPENAI,
                one("/v1/videos/{id}"),
                "get",
                Some(id),
            ),
            (&Method::DELETE, [id]) => at(
                sora::serve,
                &OPENAI,
                one("/v1/videos/{id}"),
                "delete",
                Some(id),
            ),
            (&Method::GET, [id, "content"]) => at(
                sora::serve,
                &OPENAI,
                one("/v1/videos/{id}/content"),
                "content",
                Some(id),
            ),
            (&Method::POST, [id, "remix"]) => at(
                sora_media,
                &OPENAI,
                one("/v1/videos/{id}/remix"),
                "remix",
                Some(id),
            ),
            _ => None,
        };
    }
    if let Some(parts) = super::openai::segments(path, "/api/v1/videos") {
        use crate::providers::openrouter::VENDOR as ROUTER;
        return match (method, parts.as_slice()) {
            (&Method::POST, []) => at(
                endpoint::media::<jobs::OpenRouter>,
                &ROUTER,
                one("/api/v1/videos"),
                "create",
                None,
            ),
            (&Method::GET, ["models"]) => at(
                jobs::serve,
                &ROUTER,
                one("/api/v1/videos/models"),
                "models",
                None,
            ),
            (&Method::GET, [id]) => at(
                jobs::serve,
                &ROUTER,
                one("/api/v1/videos/{id}"),
                "poll",
                Some(id),
            ),
            (&Method::GET, [id, "content"]) => at(
                jobs::serve,
                &ROUTER,
                one("/api/v1/videos/{id}/content"),
                "content",
                Some(id),
            ),
            _ => None,
        };
    }
    if let Some(parts) = super::openai::segments(path, jobs::ARK_TASKS) {
        return match (method, parts.as_slice()) {
            (&Method::POST, []) => at(
                endpoint::media::<jobs::BytePlus>,
                &BYTEPLUS,
                one(jobs::ARK_TASKS),
                "create",
                None,
            ),
            (&Method::GET, [id]) => at(
                jobs::serve,
                &BYTEPLUS,
                one("/api/v3/contents/generations/tasks/{id}"),
                "task",
                Some(id),
            ),
            _ => None,
        };
    }
    veo::route(method, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(v: Value) -> (u32, u32) {
        let p = Progression::of(&v);
        (p.in_progress, p.completed)
    }

    #[test]
    fn progression_thresholds_follow_aimock() {
        assert_eq!(steps(json!({})), (0, 0), "both unset: done at submit");
        assert_eq!(steps(json!({"pollsBeforeInProgress": 2})), (2, 3));
        assert_eq!(
            steps(json!({"pollsBeforeInProgress": 3, "pollsBeforeCompleted": 1})),
            (3, 3),
            "completed is clamped up to in-progress"
        );
        assert_eq!(steps(json!({"pollsBeforeCompleted": 2})), (0, 2));
        assert_eq!(
            steps(json!({"pollsBeforeInProgress": -4, "pollsBeforeCompleted": 2.9})),
            (0, 2),
            "negatives clamped, fractions floored"
        );
    }

    #[test]
    fn a_job_moves_one_stage_a_poll_and_stays_done() {
        let mut j = Job::new(
            Surface::Sora,
            json!({"pollsBeforeInProgress": 1, "pollsBeforeCompleted": 3}),
            "sora-2".into(),
            "p".into(),
        );
        assert_eq!((j.stage, j.progress()), (Stage::Queued, 0));
        j.advance();
        assert_eq!(j.stage, Stage::InProgress);
        j.advance();
        assert_eq!((j.stage, j.progress()), (Stage::InProgress, 66));
        j.advance();
        assert_eq!((j.stage, j.progress()), (Stage::Done, 100));
        j.advance();
        assert!(j.completed() && j.completed_at.is_some());
        let f = Job::new(
            Surface::Grok,
            json!({"status": "failed"}),
            "m".into(),
            "p".into(),
        );
        assert!(f.stage == Stage::Done && f.fails() && !f.completed());
        assert_eq!(f.error_message(), "Video generation failed");
    }
}
