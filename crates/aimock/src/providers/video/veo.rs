//! Google Veo: `POST .../models/{model}:predictLongRunning` `{instances: [{prompt, image?}],
//! parameters: {sampleCount, durationSeconds, aspectRatio, ...}}` starts an operation, answered
//! `{name}`; polling it answers `{name, done: false}` until the job is done, then the videos or
//! `{name, done: true, error: {code, message}}`.
//!
//! - Gemini API (`/v1beta/models/{m}:predictLongRunning`): the name is
//!   `models/{m}/operations/{id}`, polled with `GET /v1beta/{name}` (or `GET
//!   /v1beta/operations/{id}`, aimock's form); a done operation holds
//!   `response.generateVideoResponse.generatedSamples[].video.uri` (the fixture's `url`, else a
//!   placeholder Files API uri; with the fixture's `b64` also `encodedVideo`).
//! - Vertex AI (`/{v}/projects/{p}/locations/{l}/publishers/google/models/{m}:predictLongRunning`,
//!   or express mode's `/{v}/publishers/google/models/{m}:...`), the API google-genai's
//!   `generate_videos` speaks: the name is `{model path}/operations/{id}`, polled with `POST
//!   {model path}:fetchPredictOperation` `{operationName}`; a done operation holds
//!   `response.videos[]` with `gcsUri` (the fixture's `url`) or `bytesBase64Encoded` (the fixture's
//!   `b64`, else a placeholder MP4) and `mimeType`.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use super::{Job, Stage, Surface};
use crate::conversation::ChatRequest;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Answered, Call, Core, Route, RouteInfo};
use crate::providers::endpoint::{self, MediaApi};
use crate::providers::gemini::{VENDOR as GEMINI, VERTEX};

const VERSIONS: &[&str] = &["v1", "v1beta", "v1beta1", "v1alpha"];
const FILES_URI: &str = "https://generativelanguage.googleapis.com/v1beta/files/aimock-placeholder";

/// The routes of Veo's paths; `None` for any other.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let rest = path.strip_prefix('/')?;
    let (version, rest) = rest.split_once('/')?;
    if !VERSIONS.contains(&version) {
        return None;
    }
    let route = |endpoint: crate::pipeline::Endpoint,
                 vertex: bool,
                 label: &'static str,
                 action: &'static str,
                 id: Option<&str>,
                 resource: Option<&str>,
                 model: Option<&str>| {
        let decode = |s: &str| crate::http::percent::path(s).into_owned();
        Some(
            Route::new(
                endpoint,
                if vertex { &VERTEX } else { &GEMINI },
                PathLabel::two("/{version}", label),
            )
            .with_info(RouteInfo {
                id: id.map(decode),
                item: resource.map(decode),
                model: model.map(decode),
                action: Some(action),
                variant: Some(if vertex { "vertex" } else { "gemini" }),
                ..Default::default()
            })
            .stateful_unless(action == "create", "videos"),
        )
    };
    if method == Method::GET {
        // `operations/{id}` or `models/{m}/operations/{id}`.
        let id = rest.strip_prefix("operations/").or_else(|| {
            let (m, id) = rest.strip_prefix("models/")?.split_once("/operations/")?;
            (!m.is_empty() && !m.contains('/')).then_some(id)
        })?;
        if id.is_empty() || id.contains('/') {
            return None;
        }
        return route(
            serve,
            false,
            "/operations/{id}",
            "operation",
            Some(id),
            None,
            None,
        );
    }
    if method != Method::POST {
        return None;
    }
    let (resource, action) = rest.rsplit_once(':')?;
    let model = if let Some(m) = resource.strip_prefix("models/") {
        (m, false)
    } else if let Some(m) = resource.strip_prefix("publishers/google/models/") {
        (m, true)
    } else {
        let r = resource.strip_prefix("projects/")?;
        let (p, r) = r.split_once('/')?;
        let (l, r) = r.strip_prefix("locations/")?.split_once('/')?;
        if p.is_empty() || l.is_empty() {
            return None;
        }
        (r.strip_prefix("publishers/google/models/")?, true)
    };
    let (m, vertex) = model;
    if m.is_empty() || m.contains('/') {
        return None;
    }
    match action {
        "predictLongRunning" => route(
            endpoint::media::<Veo>,
            vertex,
            "/{model}:predictLongRunning",
            "create",
            None,
            Some(resource),
            Some(m),
        ),
        "fetchPredictOperation" if vertex => route(
            serve,
            true,
            "/{model}:fetchPredictOperation",
            "fetch",
            None,
            Some(resource),
            Some(m),
        ),
        _ => None,
    }
}

/// What a Veo request asks for beside its prompt.
#[derive(Debug)]
pub(crate) struct VeoOpts {
    core: Arc<Core>,
    model: String,
    prompt: String,
    resource: String,
    vertex: bool,
    samples: u64,
    seconds: f64,
    landscape: bool,
}

/// `:predictLongRunning`.
#[derive(Debug)]
pub(crate) struct Veo;

impl MediaApi for Veo {
    type Opts = VeoOpts;
    const SURFACE: &'static str = "the Veo predictLongRunning endpoint";
    const KIND: &'static str = "video";

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, VeoOpts), ApiError> {
        let b = super::json_object(&call.body)?;
        let instance = b
            .get("instances")
            .and_then(Value::as_array)
            .and_then(|i| i.first())
            .and_then(Value::as_object)
            .ok_or_else(|| ApiError::invalid("Missing required parameter: 'instances[0]'."))?;
        let prompt =
            match instance.get("prompt") {
                Some(Value::String(p)) if !p.is_empty() => p.clone(),
                // Image to video needs no prompt.
                None if instance.contains_key("image") => String::new(),
                None => {
                    return Err(ApiError::invalid(
                        "Missing required parameter: 'instances[0].prompt'.",
                    ))
                }
                Some(_) => return Err(ApiError::invalid(
                    "Invalid type for parameter: 'instances[0].prompt' must be a non-empty string.",
                )),
            };
        let params = b.get("parameters").cloned().unwrap_or(Value::Null);
        let samples = match params.get("sampleCount") {
            None | Some(Value::Null) => 1,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=4) => n,
                _ => {
                    return Err(ApiError::invalid(format!(
                        "Invalid value for 'parameters.sampleCount': {v}; 1 to 4 expected."
                    )))
                }
            },
        };
        let seconds = params
            .get("durationSeconds")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(8.0);
        let landscape = params.get("aspectRatio").and_then(Value::as_str) != Some("9:16");
        let info = &call.route.info;
        let model = info.model.clone().unwrap_or_default();
        Ok((
            super::video_request(&model, &prompt),
            VeoOpts {
                core: call.core.clone(),
                model,
                prompt,
                resource: info.item.clone().unwrap_or_default(),
                vertex: info.variant == Some("vertex"),
                samples,
                seconds,
                landscape,
            },
        ))
    }

    fn render(_req: &ChatRequest, o: &VeoOpts, reply: &Value) -> Result<Response, ApiError> {
        let video = super::fixture_video(reply, &o.core, Surface::Veo)?;
        let id = crate::http::ids::uuid();
        let name = format!("{}/operations/{id}", o.resource);
        let mut job = Job::new(Surface::Veo, video, o.model.clone(), o.prompt.clone());
        job.extra = json!({
            "name": name,
            "vertex": o.vertex,
            "samples": o.samples,
            "seconds": o.seconds,
            "landscape": o.landscape,
        });
        o.core.videos.put(id, job);
        Ok(crate::http::json_response(
            StatusCode::OK,
            &json!({ "name": name }),
        ))
    }
}

/// The operation, as a poll shows it.
fn operation(j: &Job) -> Result<Value, ApiError> {
    let name = j.extra["name"].clone();
    if j.stage != Stage::Done {
        return Ok(json!({ "name": name, "done": false }));
    }
    if j.fails() {
        let code = j.error_code().and_then(|c| c.as_i64()).unwrap_or(3);
        return Ok(json!({
            "name": name,
            "done": true,
            "error": { "code": code, "message": j.error_message() },
        }));
    }
    let n = j.extra["samples"].as_u64().unwrap_or(1) as usize;
    let url = j.field("url");
    let b64 = j.field("b64");
    if j.extra["vertex"].as_bool().unwrap_or(false) {
        let video = match (url, b64) {
            (Some(u), _) => json!({ "gcsUri": u, "mimeType": "video/mp4" }),
            (None, Some(b)) => json!({ "bytesBase64Encoded": b, "mimeType": "video/mp4" }),
            (None, None) => {
                use base64::Engine as _;
                let (w, h) = if j.extra["landscape"].as_bool().unwrap_or(true) {
                    (1280, 720)
                } else {
                    (720, 1280)
                };
                let seconds = j.extra["seconds"].as_f64().unwrap_or(8.0);
                let bytes = super::bytes(j, w, h, seconds)?;
                json!({
                    "bytesBase64Encoded": base64::engine::general_purpose::STANDARD.encode(bytes),
                    "mimeType": "video/mp4",
                })
            }
        };
        return Ok(json!({
            "name": name,
            "done": true,
            "response": {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "raiMediaFilteredCount": 0,
                "videos": vec![video; n],
            },
        }));
    }
    let mut video = json!({ "uri": url.unwrap_or(FILES_URI) });
    if let Some(b) = b64 {
        video["encodedVideo"] = json!(b);
        video["encoding"] = json!("video/mp4");
    }
    Ok(json!({
        "name": name,
        "done": true,
        "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": { "generatedSamples": vec![json!({ "video": video }); n] },
        },
    }))
}

/// A poll: `GET` the operation, or Vertex's `:fetchPredictOperation`.
fn serve(call: Call) -> Answered {
    let r = (|| {
        let id = if call.route.info.action == Some("fetch") {
            let b = super::json_object(&call.body)?;
            let name = b
                .get("operationName")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::invalid("Missing required parameter: 'operationName'."))?;
            name.rsplit_once("/operations/")
                .map_or(name, |(_, id)| id)
                .to_owned()
        } else {
            call.route.info.id.clone().unwrap_or_default()
        };
        super::poll(&call.core, Surface::Veo, &id, true, operation)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Operation {id} not found."),
                )
            })?
            .map(|v| crate::http::json_response(StatusCode::OK, &v))
    })();
    Answered::Now(r.unwrap_or_else(|e| call.route.vendor.error(&e, &call.ctx.headers)))
}
