//! Google Gemini (the Gemini Developer API) and Vertex AI (Gemini models): `generateContent`,
//! `streamGenerateContent` (SSE with `alt=sse`, a streamed JSON array without it), `embedContent`,
//! `batchEmbedContents` and `countTokens` (and, on Vertex, `predict` for text embedding models), under `/v1`, `/v1beta`, `/v1beta1` and `/v1alpha`.
//!
//! Paths:
//! - Gemini: `/{version}/models/{model}:{action}`
//! - Vertex: `/{version}/projects/{p}/locations/{l}/publishers/google/models/{model}:{action}`
//! - Vertex express mode: `/{version}/publishers/google/models/{model}:{action}`
//!
//! Only the `google` publisher is served here; Anthropic models on Vertex have their own module.
//!
//! Gemini Live (`BidiGenerateContent` over WebSocket) is [`live`]; the Interactions API
//! (`/{version}/interactions`) is [`interactions`].

pub(crate) mod collapse;
mod embed;
mod generate;
mod imagen;
mod interactions;
mod live;

pub(crate) use live::socket_route;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Endpoint, Route, RouteInfo, Vendor};
use crate::providers::endpoint;
use crate::record::Credential;

/// The Gemini Developer API: an `x-goog-api-key` (or `?key=`).
pub(crate) static VENDOR: Vendor = super::vendor(
    "gemini",
    Credential::header("x-goog-api-key", "").or_query_key(),
    envelope,
);

/// Vertex AI (Gemini models): an access token as a bearer token (or `?key=`, express mode).
pub(crate) static VERTEX: Vendor =
    super::vendor("vertexai", Credential::bearer().or_query_key(), envelope);

/// API versions served.
const VERSIONS: &[&str] = &["v1", "v1beta", "v1beta1", "v1alpha"];

/// Actions served on a model.
const ACTIONS: &[&str] = &[
    "generateContent",
    "streamGenerateContent",
    "embedContent",
    "batchEmbedContents",
    "countTokens",
    // Vertex only: text embedding models.
    "predict",
];

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if let Some(r) = interactions::route(method, path) {
        return Some(r);
    }
    if method != Method::POST {
        return None;
    }
    let p = model_path(path)?;
    let imagen = p.action == "predict" && p.model.starts_with("imagen");
    let endpoint: Endpoint = match p.action {
        "generateContent" | "streamGenerateContent" => endpoint::message::<generate::Generate>,
        "embedContent" => endpoint::embedding::<embed::Embed<{ embed::SINGLE }>>,
        "batchEmbedContents" => endpoint::embedding::<embed::Embed<{ embed::BATCH }>>,
        "predict" if imagen => endpoint::media::<imagen::Imagen>,
        "predict" => endpoint::embedding::<embed::Embed<{ embed::PREDICT }>>,
        _ => embed::count_tokens,
    };
    let (vendor, label) = match p.projects {
        None => (
            &VENDOR,
            PathLabel::three(models_head(p.version), "{model}:", p.action),
        ),
        Some(projects) => (
            &VERTEX,
            super::vertex_label(p.version, projects, "google", p.action),
        ),
    };
    let route = Route::new(endpoint, vendor, label).with_info(RouteInfo {
        model: Some(p.model),
        action: Some(p.action),
        variant: Some(if p.projects.is_some() {
            "vertex"
        } else {
            "gemini"
        }),
        ..Default::default()
    });
    Some(if p.action == "countTokens" {
        route
    } else if imagen {
        route.recorded(&crate::providers::media::IMAGES)
    } else {
        route.recorded(&collapse::COLLAPSER)
    })
}

/// A Gemini or Vertex model path.
#[derive(Debug, PartialEq)]
struct ModelPath {
    version: &'static str,
    /// `None` for the Gemini API; for Vertex, whether the path names a project and location.
    projects: Option<bool>,
    model: String,
    action: &'static str,
}

/// The `/{version}/models/` head of a Gemini path label.
fn models_head(version: &'static str) -> &'static str {
    match version {
        "v1" => "/v1/models/",
        "v1beta1" => "/v1beta1/models/",
        "v1alpha" => "/v1alpha/models/",
        _ => "/v1beta/models/",
    }
}

/// `(model, action, variant)` of a Gemini or Vertex path.
#[cfg(test)]
fn parse_path(path: &str) -> Option<(String, &'static str, &'static str)> {
    model_path(path).map(|p| {
        let variant = if p.projects.is_some() {
            "vertex"
        } else {
            "gemini"
        };
        (p.model, p.action, variant)
    })
}

/// The parts of a Gemini or Vertex path.
fn model_path(path: &str) -> Option<ModelPath> {
    // Every model path ends in `:{action}`: the other providers' paths are turned away with one
    // scan of the bytes, before any splitting.
    if !path.as_bytes().contains(&b':') {
        return None;
    }
    let rest = path.strip_prefix('/')?;
    let (version, rest) = rest.split_once('/')?;
    let version = *VERSIONS.iter().find(|v| **v == version)?;
    let (projects, model_action) = if let Some(m) = rest.strip_prefix("models/") {
        (None, m)
    } else if let Some(m) = rest.strip_prefix("publishers/google/models/") {
        (Some(false), m)
    } else {
        // projects/{p}/locations/{l}/publishers/google/models/{m}:{action}
        let r = rest.strip_prefix("projects/")?;
        let (project, r) = r.split_once('/')?;
        let r = r.strip_prefix("locations/")?;
        let (location, r) = r.split_once('/')?;
        if project.is_empty() || location.is_empty() {
            return None;
        }
        (Some(true), r.strip_prefix("publishers/google/models/")?)
    };
    let (model, action) = model_action.rsplit_once(':')?;
    if model.is_empty() || model.contains('/') {
        return None;
    }
    let action = *ACTIONS.iter().find(|a| **a == action)?;
    if action == "predict" && projects.is_none() {
        return None;
    }
    Some(ModelPath {
        version,
        projects,
        model: crate::http::percent::path(model).into_owned(),
        action,
    })
}

/// Google's canonical status names (google.rpc.Code), as they appear in error bodies.
const CANONICAL: &[&str] = &[
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The canonical status name for an HTTP status (Google's HTTP mapping).
fn status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        400..=499 => "FAILED_PRECONDITION",
        _ => "UNKNOWN",
    }
}

/// Google's error envelope: `{"error": {"code": <http status>, "message", "status": <canonical>}}`.
/// A fixture's `error.type` is used as `status` when it is a canonical name (`RESOURCE_EXHAUSTED`);
/// otherwise the name follows the HTTP status. A 429 carries `Retry-After` and, as Google sends it,
/// a `google.rpc.RetryInfo` detail.
pub(crate) fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    use crate::http::push_json_str;
    let status_text = if CANONICAL.contains(&e.kind.as_str()) {
        e.kind.as_str()
    } else {
        status_name(e.status)
    };
    let mut b = String::with_capacity(128 + e.message.len());
    b.push_str("{\"error\":{\"code\":");
    b.push_str(&e.status.as_u16().to_string());
    b.push_str(",\"message\":");
    push_json_str(&mut b, &e.message);
    b.push_str(",\"status\":");
    push_json_str(&mut b, status_text);
    let retry_after = (e.status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        let s = e.retry_after.unwrap_or(1.0);
        if s.is_finite() && s >= 0.0 {
            s
        } else {
            1.0
        }
    });
    if let Some(s) = retry_after {
        b.push_str(
            ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":",
        );
        push_json_str(&mut b, &format!("{}s", seconds_text(s)));
        b.push_str("}]");
    }
    b.push_str("}}");
    let mut r = Response::new(axum::body::Body::from(b));
    *r.status_mut() = e.status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    if let Some(s) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&seconds_text(s.ceil())) {
            h.insert(http::header::RETRY_AFTER, v);
        }
    }
    r
}

/// The current time as Vertex writes `createTime`: RFC 3339 in UTC with microseconds.
pub(crate) fn rfc3339_now() -> String {
    crate::http::time::rfc3339_now(6)
}

/// `secs` since the Unix epoch (and `micros`) as `YYYY-MM-DDThh:mm:ss.uuuuuuZ`.
#[cfg(test)]
fn rfc3339_micros(secs: i64, micros: u32) -> String {
    crate::http::time::rfc3339(secs, micros.saturating_mul(1000), 6)
}

/// Seconds without a trailing `.0`.
fn seconds_text(s: f64) -> String {
    if s.fract() == 0.0 && s < 1e15 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_and_vertex_paths_name_the_model_action_and_variant() {
        let p = parse_path("/v1/models/gemini-2.5-flash:generateContent").unwrap();
        assert_eq!(
            p,
            ("gemini-2.5-flash".to_owned(), "generateContent", "gemini")
        );
        let p = parse_path("/v1beta/models/gemini-2.0-flash:streamGenerateContent").unwrap();
        assert_eq!(p.1, "streamGenerateContent");
        let p = parse_path(
            "/v1beta1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-pro:countTokens",
        )
        .unwrap();
        assert_eq!(p, ("gemini-2.5-pro".to_owned(), "countTokens", "vertex"));
        let p = parse_path("/v1/publishers/google/models/gemini%2D2.5:embedContent").unwrap();
        assert_eq!(p, ("gemini-2.5".to_owned(), "embedContent", "vertex"));
        let p = parse_path("/v1/publishers/google/models/text-embedding-005:predict").unwrap();
        assert_eq!(p.1, "predict");
    }

    #[test]
    fn other_paths_are_left_to_other_providers() {
        for path in [
            "/v1/chat/completions",
            "/v1/models",
            "/v1/models/gemini:predict",
            "/v2/models/gemini:generateContent",
            "/v1/projects/p/locations/l/publishers/anthropic/models/claude:rawPredict",
            "/v1/projects/p/locations/l/publishers/google/models/:generateContent",
            "/v1/models/a/b:generateContent",
        ] {
            assert!(parse_path(path).is_none(), "{path}");
        }
        assert!(route(&Method::GET, "/v1/models/gemini-2.5-flash:generateContent").is_none());
    }

    #[test]
    fn create_times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339_micros(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339_micros(1_709_210_096, 42),
            "2024-02-29T12:34:56.000042Z"
        );
        assert_eq!(
            rfc3339_micros(4_102_444_799, 999_999),
            "2099-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn http_statuses_map_to_googles_canonical_names() {
        assert_eq!(status_name(StatusCode::BAD_REQUEST), "INVALID_ARGUMENT");
        assert_eq!(
            status_name(StatusCode::TOO_MANY_REQUESTS),
            "RESOURCE_EXHAUSTED"
        );
        assert_eq!(status_name(StatusCode::SERVICE_UNAVAILABLE), "UNAVAILABLE");
        assert_eq!(status_name(StatusCode::IM_A_TEAPOT), "FAILED_PRECONDITION");
    }
}
