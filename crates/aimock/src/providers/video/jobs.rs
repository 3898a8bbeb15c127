//! The job APIs with no SDK of their own, as their wire formats are documented (and as aimock
//! 1.43 serves them):
//! - OpenRouter `/api/v1/videos`: submit `{model (default bytedance/seedance-2.0), prompt}` ⇒
//!   `{id, polling_url, status: "pending"}`; poll ⇒ `pending`, `in_progress`, then `completed`
//!   (`unsigned_urls`, `usage.cost`) or `failed` (`error`); `content` (a bearer token required)
//!   gives `video/mp4` bytes; `/models` lists the video fixtures' models (else two defaults).
//! - xAI Grok Imagine `POST /v1/videos/generations` (JSON only) ⇒ `{request_id}`; `GET
//!   /v1/videos/{request_id}` ⇒ `{request_id, status: pending|done|failed, progress, model,
//!   video?: {url, duration, respect_moderation}, usage?: {cost_in_usd_ticks}}`.
//! - BytePlus Ark `POST /api/v3/contents/generations/tasks` `{model, content: [...]}` ⇒ `{id}`
//!   (`cgt-...`); `GET .../tasks/{id}` ⇒ `{id, model, status: queued|running, created_at}`, then
//!   the task. A `json` fixture is the Ark task envelope itself, served verbatim (its `id`
//!   rewritten); a `video` fixture becomes one (`succeeded` with `content.video_url`, or
//!   `failed` with `error`). The request is matched on its text parts followed by
//!   `[media: role:digest, ...]`, one entry per other part, as aimock keys it.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Map, Value};

use super::{Job, Stage, Surface};
use crate::conversation::ChatRequest;
use crate::http::ApiError;
use crate::pipeline::{Answered, Call, Core};
use crate::providers::endpoint::MediaApi;

/// The Ark tasks path.
pub(crate) const ARK_TASKS: &str = "/api/v3/contents/generations/tasks";
const OPENROUTER_DEFAULT: &str = "bytedance/seedance-2.0";
const OPENROUTER_MODELS: &[&str] = &[OPENROUTER_DEFAULT, "openai/sora-2"];
const GROK_DEFAULT: &str = "grok-imagine-video";
const GROK_URL: &str = "https://cdn.x.ai/aimock-placeholder-video.mp4";
/// xAI counts money in 1e-10 dollars.
const USD_TICKS: f64 = 1e10;

/// What a submit asks for beside its prompt.
#[derive(Debug)]
pub(crate) struct JobOpts {
    core: Arc<Core>,
    model: String,
    prompt: String,
    base: String,
    seconds: f64,
    landscape: bool,
}

fn opts(
    call: &Call,
    headers: &HeaderMap,
    model: String,
    prompt: String,
    b: &Map<String, Value>,
) -> JobOpts {
    let seconds = b
        .get("duration")
        .or_else(|| b.get("seconds"))
        .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(4.0);
    let ratio = b
        .get("aspect_ratio")
        .or_else(|| b.get("ratio"))
        .and_then(Value::as_str)
        .unwrap_or("16:9");
    JobOpts {
        core: call.core.clone(),
        model,
        prompt,
        base: super::base_url(headers),
        seconds,
        landscape: !matches!(ratio, "9:16" | "3:4" | "2:3"),
    }
}

impl JobOpts {
    /// Start a job for the fixture's video; its id.
    fn start(&self, surface: Surface, video: Value, id: String, envelope: bool) -> String {
        let mut job = Job::new(surface, video, self.model.clone(), self.prompt.clone());
        job.extra =
            json!({ "seconds": self.seconds, "landscape": self.landscape, "envelope": envelope });
        self.core.videos.put(id.clone(), job);
        id
    }
}

/// The placeholder's size for a job.
fn dims(j: &Job) -> (u32, u32) {
    if j.extra["landscape"].as_bool().unwrap_or(true) {
        (1280, 720)
    } else {
        (720, 1280)
    }
}

/// `POST /api/v1/videos`.
#[derive(Debug)]
pub(crate) struct OpenRouter;

impl MediaApi for OpenRouter {
    type Opts = JobOpts;
    const SURFACE: &'static str = "the OpenRouter videos endpoint";
    const KIND: &'static str = "video";

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, JobOpts), ApiError> {
        let b = super::json_object(&call.body)?;
        let prompt = super::string_field(&b, "prompt", true)?.unwrap_or_default();
        let model = super::string_field(&b, "model", false)?
            .unwrap_or_else(|| OPENROUTER_DEFAULT.to_owned());
        Ok((
            super::video_request(&model, &prompt),
            opts(call, headers, model, prompt, &b),
        ))
    }

    fn render(_req: &ChatRequest, o: &JobOpts, reply: &Value) -> Result<Response, ApiError> {
        let video = super::fixture_video(reply, &o.core, Surface::OpenRouter)?;
        let id = o.start(Surface::OpenRouter, video, crate::http::ids::uuid(), false);
        let body = json!({
            "id": id,
            "polling_url": format!("{}/api/v1/videos/{id}", o.base),
            "status": "pending",
        });
        Ok(crate::http::json_response(StatusCode::OK, &body))
    }
}

/// `POST /v1/videos/generations`.
#[derive(Debug)]
pub(crate) struct Grok;

impl MediaApi for Grok {
    type Opts = JobOpts;
    const SURFACE: &'static str = "the Grok video generations endpoint";
    const KIND: &'static str = "video";

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, JobOpts), ApiError> {
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if ctype.to_ascii_lowercase().starts_with("multipart/") {
            return Err(ApiError::invalid(
                "multipart/form-data is not supported: the Grok video API takes JSON.",
            )
            .with_code("invalid_request"));
        }
        let b = super::json_object(&call.body).map_err(|e| e.with_code("invalid_request"))?;
        let prompt = super::string_field(&b, "prompt", true)
            .map_err(|e| e.with_code("invalid_request"))?
            .unwrap_or_default();
        let model = super::string_field(&b, "model", false)
            .map_err(|e| e.with_code("invalid_request"))?
            .unwrap_or_else(|| GROK_DEFAULT.to_owned());
        Ok((
            super::video_request(&model, &prompt),
            opts(call, headers, model, prompt, &b),
        ))
    }

    fn render(_req: &ChatRequest, o: &JobOpts, reply: &Value) -> Result<Response, ApiError> {
        let video = super::fixture_video(reply, &o.core, Surface::Grok)?;
        let id = o.start(Surface::Grok, video, crate::http::ids::uuid(), false);
        Ok(crate::http::json_response(
            StatusCode::OK,
            &json!({ "request_id": id }),
        ))
    }
}

/// A Grok job's poll body.
fn grok_body(id: &str, j: &Job) -> Value {
    let mut b = json!({
        "request_id": id,
        "status": match j.stage {
            Stage::Done if j.fails() => "failed",
            Stage::Done => "done",
            _ => "pending",
        },
        "progress": j.progress(),
        "model": j.model,
    });
    if j.completed() {
        b["video"] = json!({
            "url": j.field("url").unwrap_or(GROK_URL),
            "duration": j.video.get("duration").cloned().unwrap_or_else(|| json!(j.extra["seconds"])),
            "respect_moderation": true,
        });
        let cost = j.video.get("cost").and_then(Value::as_f64).unwrap_or(0.0);
        b["usage"] = json!({ "cost_in_usd_ticks": (cost * USD_TICKS).round() as i64 });
    } else if j.stage == Stage::Done {
        b["code"] = j.error_code().unwrap_or_else(|| json!("generation_failed"));
        b["error"] = json!(j.error_message());
    }
    b
}

/// `GET /v1/videos/{id}` when the id is a Grok request's: its poll, in xAI's shape.
pub(crate) fn grok_poll(call: &Call) -> Option<Answered> {
    let id = call.route.info.id.as_deref()?;
    let body = super::poll(&call.core, Surface::Grok, id, true, |j| grok_body(id, j))?;
    Some(Answered::Now(crate::http::json_response(
        StatusCode::OK,
        &body,
    )))
}

/// `POST /api/v3/contents/generations/tasks`.
#[derive(Debug)]
pub(crate) struct BytePlus;

impl MediaApi for BytePlus {
    type Opts = JobOpts;
    const SURFACE: &'static str = "the BytePlus Ark tasks endpoint";
    const KIND: &'static str = "video";

    fn accepts(kind: &str) -> bool {
        kind == "video" || kind == "json"
    }

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, JobOpts), ApiError> {
        let b = super::json_object(&call.body)?;
        let model = super::string_field(&b, "model", true)?.unwrap_or_default();
        let content = match b.get("content") {
            Some(Value::Array(c)) if !c.is_empty() => c,
            None => return Err(ApiError::invalid("Missing required parameter: 'content'.")),
            Some(_) => {
                return Err(ApiError::invalid(
                    "Invalid type for parameter: 'content' must be a non-empty array.",
                ))
            }
        };
        let text = ark_match_text(content);
        Ok((
            super::video_request(&model, &text),
            opts(call, headers, model, text.clone(), &b),
        ))
    }

    fn render(_req: &ChatRequest, o: &JobOpts, reply: &Value) -> Result<Response, ApiError> {
        let (video, envelope) = match reply.get("json") {
            Some(e @ Value::Object(_)) => (e.clone(), true),
            Some(_) => {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "The fixture's `json` is not an Ark task object.",
                ))
            }
            None => (
                super::fixture_video(reply, &o.core, Surface::BytePlus)?,
                false,
            ),
        };
        let id = format!(
            "cgt-{}-{}",
            crate::http::time::unix_now(),
            crate::http::ids::random_id("", 5).to_ascii_lowercase()
        );
        let id = o.start(Surface::BytePlus, video, id, envelope);
        Ok(crate::http::json_response(
            StatusCode::OK,
            &json!({ "id": id }),
        ))
    }
}

/// What an Ark request is matched on: its text parts, then `[media: ...]` with one
/// `role:sha256-prefix` per other part (aimock's key, so its recordings match).
fn ark_match_text(content: &[Value]) -> String {
    use sha2::Digest as _;
    let digest = |s: &str| {
        let h = sha2::Sha256::digest(s.as_bytes());
        h.iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut texts = Vec::new();
    let mut media = Vec::new();
    for part in content {
        let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind == "text" {
            if let Some(t) = part
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                texts.push(t.to_owned());
            }
            continue;
        }
        let url = part
            .get(kind)
            .and_then(|h| h.get("url"))
            .and_then(Value::as_str)
            .filter(|_| matches!(kind, "image_url" | "video_url" | "audio_url"));
        match url {
            Some(u) => {
                let role = part
                    .get("role")
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                    .unwrap_or(if kind == "image_url" {
                        "first_frame"
                    } else {
                        kind
                    });
                media.push(format!("{role}:{}", digest(u)));
            }
            None => {
                let role = if kind.is_empty() { "part" } else { kind };
                media.push(format!("{role}:{}", digest(&part.to_string())));
            }
        }
    }
    let suffix = format!("[media: {}]", media.join(", "));
    if texts.is_empty() {
        suffix
    } else {
        format!("{}\n{suffix}", texts.join("\n"))
    }
}

/// An Ark task's poll body.
fn ark_body(id: &str, j: &Job) -> Value {
    if j.stage != Stage::Done {
        let mut b = json!({
            "id": id,
            "model": j.video.get("model").cloned().unwrap_or_else(|| json!(j.model)),
            "status": if j.stage == Stage::Queued { "queued" } else { "running" },
        });
        b["created_at"] = j
            .video
            .get("created_at")
            .cloned()
            .unwrap_or_else(|| json!(j.created_at));
        return b;
    }
    if j.extra["envelope"].as_bool().unwrap_or(false) {
        let mut e = j.video.clone();
        e["id"] = json!(id);
        return e;
    }
    let updated = j.completed_at.unwrap_or(j.created_at);
    let mut b = json!({
        "id": id,
        "model": j.model,
        "status": if j.fails() { "failed" } else { "succeeded" },
        "created_at": j.created_at,
        "updated_at": updated,
    });
    if j.fails() {
        b["error"] = json!({
            "code": j.error_code().unwrap_or_else(|| json!("InternalServiceError")),
            "message": j.error_message(),
        });
    } else {
        b["content"] = json!({
            "video_url": j.field("url").unwrap_or("https://ark-content.byteplus.invalid/aimock-placeholder.mp4"),
        });
        b["duration"] = j
            .video
            .get("duration")
            .cloned()
            .unwrap_or_else(|| json!(j.extra["seconds"]));
        b["usage"] = json!({ "completion_tokens": 0, "total_tokens": 0 });
    }
    b
}

/// OpenRouter's poll body.
fn router_body(id: &str, j: &Job, base: &str) -> Value {
    let status = match j.stage {
        Stage::Queued => "pending",
        Stage::InProgress => "in_progress",
        Stage::Done if j.fails() => "failed",
        Stage::Done => "completed",
    };
    let mut b = json!({ "id": id, "status": status });
    if j.completed() {
        b["unsigned_urls"] = json!([format!("{base}/api/v1/videos/{id}/content?index=0")]);
        b["usage"] = json!({ "cost": j.video.get("cost").cloned().unwrap_or(json!(0)) });
    } else if status == "failed" {
        b["error"] = json!(j.error_message());
    }
    b
}

/// OpenRouter's and BytePlus's polls, OpenRouter's content and its model list.
pub(crate) fn serve(call: Call) -> Answered {
    let id = call.route.info.id.as_deref().unwrap_or_default();
    let core = &call.core;
    let headers = &call.ctx.headers;
    let not_found = |what: &str| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} {id} not found"),
        )
    };
    let r = match call.route.info.action.unwrap_or_default() {
        "poll" => {
            let base = super::base_url(headers);
            super::poll(core, Surface::OpenRouter, id, true, |j| {
                router_body(id, j, &base)
            })
            .ok_or_else(|| not_found("Video job"))
            .map(|b| crate::http::json_response(StatusCode::OK, &b))
        }
        "task" => super::poll(core, Surface::BytePlus, id, true, |j| ark_body(id, j))
            .ok_or_else(|| not_found("Video generation task").with_code("ResourceNotFound"))
            .map(|b| crate::http::json_response(StatusCode::OK, &b)),
        "content" => router_content(&call, id),
        "models" => Ok(router_models(core)),
        _ => Err(ApiError::invalid("Unknown operation.")),
    };
    Answered::Now(r.unwrap_or_else(|e| call.route.vendor.error(&e, headers)))
}

/// `GET /api/v1/videos/{id}/content`: a bearer token, a completed job.
fn router_content(call: &Call, id: &str) -> Result<Response, ApiError> {
    let bearer = call
        .ctx
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| v[7..].trim())
        })
        .is_some_and(|t| !t.is_empty());
    if !bearer {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "No auth credentials found",
        ));
    }
    let job =
        super::poll(&call.core, Surface::OpenRouter, id, false, Job::clone).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("Video job {id} not found"),
            )
        })?;
    if !job.completed() {
        let status = if job.stage == Stage::Done {
            "failed"
        } else {
            "not completed"
        };
        return Err(ApiError::invalid(format!(
            "Video job {id} is not completed (status: {status})"
        )));
    }
    let (w, h) = dims(&job);
    let seconds = job.extra["seconds"].as_f64().unwrap_or(4.0);
    let bytes = super::bytes(&job, w, h, seconds)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"))],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/videos/models`: the models of the video fixtures, else the defaults.
fn router_models(core: &Core) -> Response {
    let set = core.fixtures.snapshot();
    let mut ids: Vec<String> = Vec::new();
    for slot in set.slots() {
        let f = &slot.fixture;
        if f.matcher.endpoint != Some(crate::conversation::Endpoint::Video) {
            continue;
        }
        if let Some(crate::fixture::TextPattern::Text(m) | crate::fixture::TextPattern::Equals(m)) =
            &f.entry.matcher.model
        {
            if !ids.contains(m) {
                ids.push(m.clone());
            }
        }
    }
    if ids.is_empty() {
        ids = OPENROUTER_MODELS.iter().map(|s| (*s).to_owned()).collect();
    }
    let data: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "name": id,
                "supported_durations": [4, 8],
                "supported_resolutions": ["720p", "1080p"],
                "supported_aspect_ratios": ["16:9", "9:16", "1:1"],
                "supported_frame_images": [],
                "supported_sizes": [],
                "generate_audio": false,
                "seed": true,
                "pricing_skus": [],
            })
        })
        .collect();
    crate::http::json_response(StatusCode::OK, &json!({ "data": data }))
}
