//! OpenAI Sora (`/v1/videos`), as the `openai` SDK's `client.videos` speaks it. A create (the SDK
//! sends `multipart/form-data`, with an `input_reference` file or reference fields; JSON is taken
//! too) or a remix of a completed video is matched with its prompt and starts a job; retrieve
//! moves it along (`queued`, `in_progress`, then `completed` or `failed`, with `progress`, and an
//! `openai-poll-after-ms` hint so `create_and_poll` polls briskly); list gives cursor pages
//! (newest first); delete forgets it; `content` gives the fixture's bytes (`b64`, or
//! `thumbnail` / `spritesheet` for those variants) or a placeholder: an MP4 of the video's
//! duration, a PNG for the previews.
//!
//! A fixture whose `video.status` is `queued`, `in_progress` or `processing` and that sets no
//! thresholds stays at that status (aimock echoes the fixture's status).

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::{Job, Progression, Stage, Surface};
use crate::conversation::ChatRequest;
use crate::http::ApiError;
use crate::pipeline::{Answered, Call, Core};
use crate::providers::endpoint::MediaApi;
use crate::providers::openai::{invalid_param, no_such};

const SIZES: &[&str] = &["720x1280", "1280x720", "1024x1792", "1792x1024"];
const SECONDS: &[&str] = &["4", "8", "12"];
/// How long the assets of a completed video can be downloaded (a day).
const EXPIRES_AFTER: i64 = 86_400;
/// The poll interval suggested to the SDK while a video is not done.
const POLL_AFTER_MS: &str = "20";

/// What a create or remix asks for beside its prompt.
#[derive(Debug)]
pub(crate) struct SoraOpts {
    core: Arc<Core>,
    model: String,
    size: String,
    seconds: String,
    prompt: String,
    remix_of: Option<String>,
}

fn not_found(id: &str) -> ApiError {
    no_such(format!("Video with id '{id}' not found."))
}

/// A text field of a form or JSON body (numbers become their text).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `POST /v1/videos` and `POST /v1/videos/{id}/remix`.
#[derive(Debug)]
pub(crate) struct Sora;

impl MediaApi for Sora {
    type Opts = SoraOpts;
    const SURFACE: &'static str = "the videos endpoint";
    const KIND: &'static str = "video";

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, SoraOpts), ApiError> {
        if call.route.info.action == Some("remix") {
            return remix(call);
        }
        let multipart = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/"));
        let fields: serde_json::Map<String, Value> = if multipart {
            crate::providers::openai::files::form_now(call, headers)?
                .into_iter()
                .map(|p| {
                    let v = match p.filename {
                        // A file part (the input reference): accepted, not read.
                        Some(f) => json!({ "filename": f, "bytes": p.bytes.len() }),
                        None => Value::String(String::from_utf8_lossy(&p.bytes).into_owned()),
                    };
                    (p.name, v)
                })
                .collect()
        } else {
            super::json_object(&call.body)?
        };
        let prompt = text(fields.get("prompt"))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                invalid_param(Some("prompt"), "Missing required parameter: 'prompt'.")
            })?;
        let model = text(fields.get("model"))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "sora-2".to_owned());
        let pick = |k: &str, allowed: &[&str], default: &str| -> Result<String, ApiError> {
            match text(fields.get(k)) {
                None => Ok(default.to_owned()),
                Some(v) if allowed.contains(&v.as_str()) => Ok(v),
                Some(v) => Err(invalid_param(
                    Some(k),
                    format!(
                        "Invalid value: '{v}'. Supported values are: {}.",
                        allowed
                            .iter()
                            .map(|a| format!("'{a}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_code("invalid_value")),
            }
        };
        let size = pick("size", SIZES, "720x1280")?;
        let seconds = pick("seconds", SECONDS, "4")?;
        Ok((
            super::video_request(&model, &prompt),
            SoraOpts {
                core: call.core.clone(),
                model,
                size,
                seconds,
                prompt,
                remix_of: None,
            },
        ))
    }

    fn render(_req: &ChatRequest, o: &SoraOpts, reply: &Value) -> Result<Response, ApiError> {
        let video = super::fixture_video(reply, &o.core, Surface::Sora)?;
        let mut job = Job::new(Surface::Sora, video, o.model.clone(), o.prompt.clone());
        // A waiting status with no thresholds: the job stays at it.
        if Progression::of(&job.video).completed == 0 {
            let stuck = match job.video.get("status").and_then(Value::as_str) {
                Some("queued") => Some(Stage::Queued),
                Some("in_progress" | "processing") => Some(Stage::InProgress),
                _ => None,
            };
            if let Some(stage) = stuck {
                job.stage = stage;
                job.completed_at = None;
                job.steps = Progression {
                    in_progress: if stage == Stage::Queued { u32::MAX } else { 0 },
                    completed: u32::MAX,
                };
            }
        }
        job.extra = json!({
            "size": o.size,
            "seconds": o.seconds,
            "remixed_from_video_id": o.remix_of,
        });
        let id = format!("video_{:032x}", rand::random::<u128>());
        let body = object(&id, &job);
        o.core.videos.put(id, job);
        Ok(crate::http::json_response(StatusCode::OK, &body))
    }
}

/// A remix: the source must be a completed video; the new one keeps its model, size and length.
fn remix(call: &Call) -> Result<(ChatRequest, SoraOpts), ApiError> {
    let id = call.route.info.id.as_deref().unwrap_or_default();
    let b = super::json_object(&call.body)?;
    let prompt = super::string_field(&b, "prompt", true)?.unwrap_or_default();
    let source = super::poll(&call.core, Surface::Sora, id, false, |j| {
        (j.completed(), j.model.clone(), j.extra.clone())
    })
    .ok_or_else(|| not_found(id))?;
    let (completed, model, extra) = source;
    if !completed {
        return Err(invalid_param(
            None,
            format!("Video '{id}' is not completed: only a completed video can be remixed."),
        ));
    }
    let s = |k: &str| extra[k].as_str().unwrap_or_default().to_owned();
    Ok((
        super::video_request(&model, &prompt),
        SoraOpts {
            core: call.core.clone(),
            model,
            size: s("size"),
            seconds: s("seconds"),
            prompt,
            remix_of: Some(id.to_owned()),
        },
    ))
}

/// The video object, as `GET /v1/videos/{id}` shows it.
fn object(id: &str, j: &Job) -> Value {
    let status = match j.stage {
        Stage::Queued => "queued",
        Stage::InProgress => "in_progress",
        Stage::Done if j.fails() => "failed",
        Stage::Done => "completed",
    };
    let error = (status == "failed").then(|| {
        json!({
            "code": j.error_code().unwrap_or_else(|| json!("video_generation_failed")),
            "message": j.error_message(),
        })
    });
    let completed_at = j.completed_at.filter(|_| j.stage == Stage::Done);
    json!({
        "id": id,
        "object": "video",
        "model": j.model,
        "status": status,
        "progress": j.progress(),
        "created_at": j.created_at,
        "completed_at": completed_at,
        "expires_at": completed_at.filter(|_| status == "completed").map(|t| t + EXPIRES_AFTER),
        "size": j.extra["size"],
        "seconds": j.extra["seconds"],
        "prompt": j.prompt,
        "remixed_from_video_id": j.extra["remixed_from_video_id"],
        "error": error,
    })
}

/// Retrieve, list, delete and content (and Grok's poll, which shares `GET /v1/videos/{id}`).
pub(crate) fn serve(call: Call) -> Answered {
    let id = call.route.info.id.as_deref().unwrap_or_default();
    let core = &call.core;
    let r = match call.route.info.action.unwrap_or_default() {
        "get" => {
            if let Some(r) = super::jobs::grok_poll(&call) {
                return r;
            }
            super::poll(core, Surface::Sora, id, true, |j| {
                (object(id, j), j.stage != Stage::Done)
            })
            .ok_or_else(|| not_found(id))
            .map(|(body, waiting)| {
                let mut resp = crate::http::json_response(StatusCode::OK, &body);
                if waiting {
                    resp.headers_mut().insert(
                        "openai-poll-after-ms",
                        HeaderValue::from_static(POLL_AFTER_MS),
                    );
                }
                resp
            })
        }
        "list" => {
            let all: Vec<Value> = core
                .videos
                .entries()
                .into_iter()
                .filter(|(_, j)| j.surface == Surface::Sora)
                .map(|(id, j)| object(&id, &j))
                .collect();
            crate::providers::openai::responses::cursor_page(&all, call.query.as_deref())
                .map(|v| crate::http::json_response(StatusCode::OK, &v))
        }
        "delete" => {
            if super::poll(core, Surface::Sora, id, false, |_| ()).is_some() {
                core.videos.remove(id);
                Ok(crate::http::json_response(
                    StatusCode::OK,
                    &json!({"id": id, "object": "video.deleted", "deleted": true}),
                ))
            } else {
                Err(not_found(id))
            }
        }
        "content" => content(&call, id),
        _ => Err(ApiError::invalid("Unknown videos operation.")),
    };
    Answered::Now(r.unwrap_or_else(|e| call.route.vendor.error(&e, &call.ctx.headers)))
}

/// `GET /v1/videos/{id}/content?variant=video|thumbnail|spritesheet`.
fn content(call: &Call, id: &str) -> Result<Response, ApiError> {
    let variant = crate::http::percent::query_param(call.query.as_deref(), "variant")
        .unwrap_or_else(|| "video".to_owned());
    if !["video", "thumbnail", "spritesheet"].contains(&variant.as_str()) {
        return Err(invalid_param(
            Some("variant"),
            format!("Invalid value: '{variant}'. Supported values are: 'video', 'thumbnail' and 'spritesheet'."),
        )
        .with_code("invalid_value"));
    }
    let job = super::poll(&call.core, Surface::Sora, id, false, Job::clone)
        .ok_or_else(|| not_found(id))?;
    if !job.completed() {
        return Err(invalid_param(
            None,
            format!("Video '{id}' is not completed: its content cannot be downloaded yet."),
        ));
    }
    let (w, h) = job.extra["size"]
        .as_str()
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .unwrap_or((720, 1280));
    let (bytes, ctype) = if variant == "video" {
        let seconds = job.extra["seconds"]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(4.0);
        (super::bytes(&job, w, h, seconds)?, "video/mp4")
    } else {
        match job.field(&variant) {
            Some(b) => (super::decode_b64(b)?, "image/png"),
            None => {
                let (fw, fh) = super::mp4::frame_size(w, h);
                (
                    crate::providers::media::placeholder_png(
                        u32::from(fw),
                        u32::from(fh),
                        &job.prompt,
                    ),
                    "image/png",
                )
            }
        }
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(ctype))],
        bytes,
    )
        .into_response())
}
