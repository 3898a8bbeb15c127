//! OpenAI: Chat Completions, Responses, Embeddings, Moderations and the model list; also Azure
//! OpenAI and every OpenAI-compatible server, which reach these routes through path normalization.

pub(crate) mod batches;
pub(crate) mod chat;
pub(crate) mod collapse;
pub(crate) mod conversations;
pub(crate) mod embeddings;
pub(crate) mod files;
pub(crate) mod fine_tuning;
pub(crate) mod images;
pub(crate) mod live;
pub(crate) mod moderation;
mod output_items;
pub(crate) mod realtime;
pub(crate) mod responses;
pub(crate) mod speech;
pub(crate) mod transcriptions;
pub(crate) mod translations;

use std::borrow::Cow;
use std::collections::BTreeSet;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use super::endpoint;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Answered, Call, Route, RouteInfo, Vendor};
use crate::record::Credential;

/// OpenAI, and every OpenAI-compatible server.
pub(crate) static VENDOR: Vendor = super::vendor("openai", Credential::bearer(), envelope);

/// Azure OpenAI: OpenAI's shapes at deployment paths, an `api-key` (or an Entra ID token).
pub(crate) static AZURE: Vendor = super::vendor(
    "azure",
    Credential::header("api-key", "").or_bearer(),
    envelope,
);

/// Path suffixes that OpenAI-compatible servers put under any prefix (`/v4/chat/completions`,
/// `/api/openai/v1/embeddings`, ...).
const COMPAT_SUFFIXES: &[&str] = &[
    "/chat/completions",
    "/embeddings",
    "/responses",
    "/audio/speech",
    "/audio/transcriptions",
    "/audio/translations",
    "/images/generations",
    "/images/edits",
    "/images/variations",
    "/moderations",
];

/// A path after compatibility rewriting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NormalizedPath<'a> {
    /// The canonical path (`/v1/chat/completions`).
    pub path: Cow<'a, str>,
    /// The Azure deployment, for `/openai/deployments/{id}/...`.
    pub deployment: Option<String>,
}

/// Rewrite a request path to the canonical route it stands for: Azure deployment paths to
/// `/v1/{op}` (the deployment stands in for a missing model), a Groq-style `/openai/v1/...` to
/// `/v1/...`, and any other prefix before a known OpenAI suffix to `/v1` + suffix.
pub(crate) fn normalize_path(path: &str) -> NormalizedPath<'_> {
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        if let Some((id, op)) = rest.split_once('/') {
            if !id.is_empty() {
                return NormalizedPath {
                    path: Cow::Owned(format!("/v1/{op}")),
                    deployment: Some(crate::http::percent::path(id).into_owned()),
                };
            }
        }
    }
    let stripped = match path.strip_prefix("/openai") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    };
    if stripped.starts_with("/v1/") || stripped.starts_with("/v2/") {
        return NormalizedPath {
            path: Cow::Borrowed(stripped),
            deployment: None,
        };
    }
    for suffix in COMPAT_SUFFIXES {
        if stripped.ends_with(suffix) {
            return NormalizedPath {
                path: Cow::Owned(format!("/v1{suffix}")),
                deployment: None,
            };
        }
    }
    NormalizedPath {
        path: Cow::Borrowed(stripped),
        deployment: None,
    }
}

/// This provider's routes (OpenAI, Azure and every compatible path); `None` for any other.
/// The OpenAI APIs served over WebSocket.
pub(crate) fn socket_route(path: &str) -> Option<crate::pipeline::socket::SocketRoute> {
    use crate::pipeline::socket::SocketRoute;
    let norm = normalize_path(path);
    let (label, run): (&'static str, crate::pipeline::socket::SessionFn) = match norm.path.as_ref()
    {
        "/v1/responses" => ("/v1/responses", responses::socket::run),
        "/v1/realtime" => ("/v1/realtime", realtime::run),
        // Azure's `/openai/realtime?deployment=...`.
        "/realtime" if path.starts_with("/openai/") => ("/openai/realtime", realtime::run),
        "/v1/realtime/translations" => ("/v1/realtime/translations", translations::run),
        "/v1/live/sessions" => ("/v1/live/sessions", live::run),
        _ => return None,
    };
    let azure = norm.deployment.is_some() || norm.path == "/realtime";
    Some(SocketRoute {
        label: PathLabel::one(label),
        vendor: if azure { &AZURE } else { &VENDOR },
        run,
    })
}

pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let norm = normalize_path(path);
    let (endpoint, canonical, azure_op): (crate::pipeline::Endpoint, &'static str, &'static str) =
        match (method, norm.path.as_ref()) {
            (&Method::POST, "/v1/chat/completions") => (
                endpoint::message::<chat::Chat>,
                "/v1/chat/completions",
                "chat/completions",
            ),
            (&Method::POST, "/v1/responses") => (
                endpoint::message::<responses::Responses>,
                "/v1/responses",
                "responses",
            ),
            (&Method::POST, "/v1/embeddings") => (
                endpoint::embedding::<embeddings::Embeddings>,
                "/v1/embeddings",
                "embeddings",
            ),
            (&Method::POST, "/v1/moderations") => (
                endpoint::service::<moderation::Moderation>,
                "/v1/moderations",
                "moderations",
            ),
            (&Method::GET, "/v1/models") => (models, "/v1/models", "{op}"),
            (&Method::POST, "/v1/images/generations") => (
                endpoint::media::<images::Generations>,
                "/v1/images/generations",
                "images/generations",
            ),
            (&Method::POST, "/v1/images/edits") => (
                endpoint::media::<images::Edits>,
                "/v1/images/edits",
                "images/edits",
            ),
            (&Method::POST, "/v1/audio/transcriptions") => (
                endpoint::media::<transcriptions::Transcriptions>,
                "/v1/audio/transcriptions",
                "audio/transcriptions",
            ),
            (&Method::POST, "/v1/audio/translations") => (
                endpoint::media::<transcriptions::Translations>,
                "/v1/audio/translations",
                "audio/translations",
            ),
            (&Method::POST, "/v1/audio/speech") => (
                endpoint::media::<speech::Speech>,
                "/v1/audio/speech",
                "audio/speech",
            ),
            (&Method::POST, "/v1/images/variations") => (
                images::variations,
                "/v1/images/variations",
                "images/variations",
            ),
            (&Method::GET | &Method::DELETE, p) if p.starts_with("/v1/responses/") => {
                return stored_response_route(method, &p["/v1/responses/".len()..]);
            }
            (_, p) if p.starts_with("/v1/conversations") => {
                return conversations::route(method, p);
            }
            (_, p) if p.starts_with("/v1/files") => return files::route(method, p),
            (_, p) if p.starts_with("/v1/batches") => return batches::route(method, p),
            (_, p) if p.starts_with("/v1/fine_tuning/jobs") => {
                return fine_tuning::route(method, p)
            }
            _ => return None,
        };
    let (vendor, label) = match norm.deployment {
        Some(_) => (
            &AZURE,
            PathLabel::two("/openai/deployments/{id}/", azure_op),
        ),
        None => (&VENDOR, PathLabel::one(canonical)),
    };
    let route = Route::new(endpoint, vendor, label).with_info(RouteInfo {
        deployment: norm.deployment,
        ..Default::default()
    });
    Some(match canonical {
        "/v1/chat/completions" | "/v1/embeddings" => route.recorded(&collapse::COLLAPSER),
        "/v1/responses" => route.recorded(&responses::collapse::COLLAPSER),
        "/v1/images/generations" | "/v1/images/edits" => {
            route.recorded(&crate::providers::media::IMAGES)
        }
        "/v1/audio/transcriptions" | "/v1/audio/translations" => {
            route.recorded(&crate::providers::media::TRANSCRIPTION)
        }
        "/v1/audio/speech" => route.recorded(&crate::providers::media::SPEECH),
        _ => route,
    })
}

/// A 400 naming the parameter at fault (if one is).
pub(crate) fn invalid_param(param: Option<&str>, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::invalid(message);
    e.param = param.map(|p| Value::String(p.to_owned()));
    e
}

/// The 404 for an id a stateful API does not keep.
pub(crate) fn no_such(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
}

/// A stateful API's answer, now: its JSON, or its error.
pub(crate) fn answer_now(r: Result<Value, ApiError>) -> Answered {
    Answered::Now(match r {
        Ok(v) => crate::http::json_response(StatusCode::OK, &v),
        Err(e) => error_response(&e),
    })
}

/// The segments of a path below `prefix` (`/v1/files/f1/content` → `["f1", "content"]`), when the
/// path is `prefix` itself or below it.
pub(crate) fn segments<'p>(path: &'p str, prefix: &str) -> Option<Vec<&'p str>> {
    let rest = path
        .strip_prefix(prefix)
        .filter(|r| r.is_empty() || r.starts_with('/'))?;
    Some(rest.split('/').skip(1).collect())
}

/// The route of a stateful resource API (files, batches, conversations): the operation, the
/// metrics label, and the ids the path names (none may be empty).
pub(crate) fn resource(
    endpoint: crate::pipeline::Endpoint,
    label: &'static str,
    action: &'static str,
    id: Option<&str>,
    item: Option<&str>,
) -> Option<Route> {
    if id.is_some_and(str::is_empty) || item.is_some_and(str::is_empty) {
        return None;
    }
    let decode = |s: &str| crate::http::percent::path(s).into_owned();
    // `/v1/fine_tuning/jobs/{id}` → `fine_tuning`: the journal's service.
    let service = label
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap_or(label);
    Some(
        Route::new(endpoint, &VENDOR, PathLabel::one(label))
            .with_info(RouteInfo {
                id: id.map(decode),
                item: item.map(decode),
                action: Some(action),
                ..Default::default()
            })
            .stateful(service),
    )
}

/// `/v1/responses/{id}` (`GET`, `DELETE`) and `/v1/responses/{id}/input_items` (`GET`).
fn stored_response_route(method: &Method, rest: &str) -> Option<Route> {
    let (id, action, label) = match (method, rest.split_once('/')) {
        (&Method::GET, None) => (rest, "get", "/v1/responses/{id}"),
        (&Method::DELETE, None) => (rest, "delete", "/v1/responses/{id}"),
        (&Method::GET, Some((id, "input_items"))) => {
            (id, "input_items", "/v1/responses/{id}/input_items")
        }
        _ => return None,
    };
    resource(responses::stored, label, action, Some(id), None)
}

/// OpenAI's error envelope: `{"error": {"message", "type", "param", "code"}}`; a 429 carries
/// `Retry-After` and the `x-ratelimit-*` headers.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    error_response(e)
}

/// [`envelope`], without a request.
pub(crate) fn error_response(e: &ApiError) -> Response {
    let body = json!({
        "error": {
            "message": e.message,
            "type": e.kind,
            "param": e.param.clone().unwrap_or(Value::Null),
            "code": e.code.clone().unwrap_or(Value::Null),
        }
    });
    super::error_json(e, &body)
}

const DEFAULT_MODELS: &[&str] = &[
    "gpt-4",
    "gpt-4o",
    "claude-3-5-sonnet-20241022",
    "gemini-2.0-flash",
    "text-embedding-3-small",
];

/// `GET /v1/models`: the models named by fixtures, else a default list.
/// Not journaled, as in aimock.
fn models(call: Call) -> Answered {
    let resp = models_list(&call.core.fixtures);
    Answered::Now(resp)
}

fn models_list(fixtures: &crate::fixture::FixtureStore) -> Response {
    let set = fixtures.snapshot();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for slot in set.slots() {
        if let Some(crate::fixture::TextPattern::Text(m) | crate::fixture::TextPattern::Equals(m)) =
            &slot.fixture.entry.matcher.model
        {
            names.insert(m.clone());
        }
    }
    let list: Vec<String> = if names.is_empty() {
        DEFAULT_MODELS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        names.into_iter().collect()
    };
    let data: Vec<Value> = list
        .iter()
        .map(|id| json!({ "id": id, "object": "model", "created": 1686935002, "owned_by": "aimock" }))
        .collect();
    crate::http::json_response(StatusCode::OK, &json!({ "object": "list", "data": data }))
}
