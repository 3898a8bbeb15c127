//! The route table: path compatibility (OpenAI-compatible prefixes, Azure deployments), the fixed
//! routes, and the provider routes. Adding a provider adds lines to [`route`], nothing else.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method, StatusCode};
use serde_json::json;

use super::exchange::RequestCtx;
use super::{control, AppState};
use crate::http::{json_response, read_limited, ApiError};
use crate::providers;

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
pub struct NormalizedPath<'a> {
    /// The canonical path (`/v1/chat/completions`).
    pub path: Cow<'a, str>,
    /// The Azure deployment, for `/openai/deployments/{id}/...`.
    pub deployment: Option<String>,
}

/// Rewrite a request path to the canonical route it stands for: Azure deployment paths to
/// `/v1/{op}` (the deployment stands in for a missing model), a Groq-style `/openai/v1/...` to
/// `/v1/...`, and any other prefix before a known OpenAI suffix to `/v1` + suffix.
pub fn normalize_path(path: &str) -> NormalizedPath<'_> {
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

/// What a provider handler gets besides the body.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteInfo {
    /// Azure deployment id.
    pub(crate) deployment: Option<String>,
    /// The model named in the path (Gemini, Vertex, Bedrock), percent-decoded.
    pub(crate) model: Option<String>,
    /// The operation the path names (`generateContent`, `converse-stream`, ...).
    pub(crate) action: Option<String>,
    /// Which flavour of the provider's API (`vertex`, `openrouter`, ...), when one module serves
    /// several.
    pub(crate) variant: Option<&'static str>,
    /// The query string, as received.
    pub(crate) query: Option<String>,
}

pub(super) async fn dispatch(State(state): State<Arc<AppState>>, req: Request) -> Response {
    observed(state, req, None).await
}

/// A mount served on a port of its own: the same checks and headers, one service.
pub(super) async fn dispatch_standalone(
    State((state, mount)): State<(Arc<AppState>, Arc<super::mounts::Mount>)>,
    req: Request,
) -> Response {
    observed(state, req, Some(mount)).await
}

async fn observed(
    state: Arc<AppState>,
    req: Request,
    only: Option<Arc<super::mounts::Mount>>,
) -> Response {
    // Metrics off: this one branch is all they cost.
    if state.metrics.is_none() {
        return respond(state, req, only).await;
    }
    let start = std::time::Instant::now();
    let path = req.uri().path();
    let key = match (&only, state.mounts.find(path)) {
        (Some(m), _) => crate::metrics::RequestKey::mounted(req.method(), m.label),
        (None, Some((m, _))) => crate::metrics::RequestKey::mounted(req.method(), m.label),
        (None, None) => crate::metrics::RequestKey::new(req.method(), path),
    };
    let resp = respond(Arc::clone(&state), req, only).await;
    // Counted once the response head is built: for a stream, the time to its first byte.
    if let Some(m) = &state.metrics {
        let status = if resp
            .extensions()
            .get::<crate::chaos::Disconnected>()
            .is_some()
        {
            0
        } else {
            resp.status().as_u16()
        };
        m.observe_request(key, status, start.elapsed());
    }
    resp
}

/// The request id, the API-key check, the route, then CORS and `x-request-id` on whatever
/// answered (a 401 included).
async fn respond(
    state: Arc<AppState>,
    mut req: Request,
    only: Option<Arc<super::mounts::Mount>>,
) -> Response {
    // One id per request: the client's, or one minted here and put on the request too, so the
    // journal (and its `requestId` filter) knows the id the client sees.
    let request_id = match req.headers().get("x-request-id") {
        Some(v) => v.clone(),
        None => {
            let v = crate::http::ids::request_id();
            req.headers_mut().insert("x-request-id", v.clone());
            v
        }
    };
    let refused = state.auth.as_ref().and_then(|keys| {
        let (method, path, headers) = (req.method(), req.uri().path(), req.headers());
        if crate::auth::is_public(method, path, headers) {
            return None;
        }
        keys.check(headers, req.uri().query()).err()
    });
    let mut resp = match refused {
        // Refused before any handler: not journaled, and the key is never logged.
        Some(why) => {
            tracing::debug!(
                reason = why.as_str(),
                path = req.uri().path(),
                "API key refused"
            );
            crate::auth::rejection(req.method(), req.uri().path())
        }
        None => match only {
            Some(mount) => standalone(state, req, &mount).await,
            None => route(state, req).await,
        },
    };
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    // `*` does not cover `Authorization` in a browser's preflight check: name it.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*, Authorization"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Total-Count, X-Request-Id, Mcp-Session-Id"),
    );
    h.insert("x-request-id", request_id);
    resp
}

/// A request on a mount's own port: at the root or at its path.
async fn standalone(state: Arc<AppState>, req: Request, mount: &super::mounts::Mount) -> Response {
    let (parts, body) = req.into_parts();
    if parts.method == Method::OPTIONS {
        return StatusCode::NO_CONTENT.into_response();
    }
    let path = parts.uri.path();
    if parts.method == Method::GET && (path == "/health" || path == "/ready") {
        return json_response(StatusCode::OK, &json!({ "status": "ok" }));
    }
    let (served_at, rest) = match path.strip_prefix(mount.path.as_str()) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (mount.path.clone(), rest),
        _ => (String::new(), path),
    };
    let req = super::mounts::ServiceRequest {
        method: parts.method.clone(),
        rest: rest.to_owned(),
        mount: served_at,
        raw_path: parts
            .uri
            .path_and_query()
            .map_or_else(|| path.to_owned(), |p| p.as_str().to_owned()),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    mount.service.handle(&state, req).await
}

async fn route(state: Arc<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let raw_path = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());

    if method == Method::OPTIONS {
        return StatusCode::NO_CONTENT.into_response();
    }
    if path == "/__aimock" || path.starts_with("/__aimock/") {
        return control::handle(
            &state,
            &method,
            &path,
            query.as_deref(),
            parts.headers,
            body,
        )
        .await;
    }
    match (&method, path.as_str()) {
        (&Method::GET, "/health") => {
            return json_response(StatusCode::OK, &json!({ "status": "ok" }));
        }
        (&Method::GET, "/ready") => {
            return json_response(StatusCode::OK, &json!({ "status": "ready" }));
        }
        (&Method::GET, "/metrics") => {
            // Off: falls through to the 404 below.
            if let Some(m) = &state.metrics {
                let openmetrics =
                    crate::metrics::wants_openmetrics(parts.headers.get(header::ACCEPT));
                let (text, content_type) = m.render(state.fixtures.snapshot().len(), openmetrics);
                let mut r = Response::new(Body::from(text));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                return r;
            }
        }
        (&Method::GET, "/v1/_requests") | (&Method::DELETE, "/v1/_requests") => {
            return control::legacy_requests(&state, &method, query.as_deref());
        }
        _ => {}
    }

    // Mounted services (MCP, A2A, AG-UI) own everything under their paths.
    if let Some((mount, rest)) = state.mounts.find(&path) {
        let req = super::mounts::ServiceRequest {
            method,
            rest: rest.to_owned(),
            mount: if rest == path {
                String::new()
            } else {
                mount.path.clone()
            },
            raw_path,
            query,
            headers: parts.headers,
            body,
        };
        let service = mount.service.clone();
        return service.handle(&state, req).await;
    }

    // Provider APIs with paths of their own come first, on the path as sent (Ollama's
    // `/api/embeddings` and OpenRouter's `/api/v1/...` must not be rewritten as OpenAI paths).
    if let Some((route, provider)) = providers::native_route(&method, &path) {
        let mut ctx = RequestCtx::new(
            &state,
            method.as_str(),
            &raw_path,
            query.as_deref(),
            parts.headers,
        );
        ctx.provider = Some(provider);
        let mut info = route.info;
        info.query = query;
        return with_body(state, ctx, body, info, route.handler, route.render).await;
    }
    let norm = normalize_path(&path);
    let info = RouteInfo {
        deployment: norm.deployment.clone(),
        ..Default::default()
    };
    let mut ctx = RequestCtx::new(
        &state,
        method.as_str(),
        &raw_path,
        query.as_deref(),
        parts.headers,
    );
    ctx.provider = Some(if norm.deployment.is_some() {
        crate::record::Provider::Azure
    } else {
        crate::record::Provider::OpenAi
    });
    // Search (Tavily), rerank (Cohere) and moderation (OpenAI).
    if let Some(endpoint) = crate::services::endpoint(&method, &norm.path) {
        return crate::services::handle(state, ctx, body, endpoint).await;
    }
    match (&method, norm.path.as_ref()) {
        (&Method::GET, "/v1/models") => providers::openai::models(&state),
        (&Method::POST, "/v1/chat/completions") => {
            with_body(
                state,
                ctx,
                body,
                info,
                providers::openai::chat::handle,
                providers::openai::error_response,
            )
            .await
        }
        (&Method::POST, "/v1/responses") => {
            with_body(
                state,
                ctx,
                body,
                info,
                providers::openai::responses::handle,
                providers::openai::error_response,
            )
            .await
        }
        (&Method::POST, "/v1/embeddings") => {
            with_body(
                state,
                ctx,
                body,
                info,
                providers::openai::embeddings::handle,
                providers::openai::error_response,
            )
            .await
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": { "message": format!("Not found: {method} {path}"), "type": "not_found" } }),
        ),
    }
}

use crate::providers::Handler;

/// Read the body (bounded) and call the provider's handler; a body that is too large or cannot be
/// read is answered in the provider's envelope.
async fn with_body(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Body,
    info: RouteInfo,
    handler: Handler,
    render: fn(&ApiError) -> Response,
) -> Response {
    match read_body(&state, &ctx, body).await {
        Ok(bytes) => {
            // Chaos is rolled inside the handler (after matching); what it asks of the response
            // is handed back on this thread, with nothing in between.
            // Handlers are synchronous on purpose: the chaos hand-off below relies on the handler
            // running to completion on this thread, between `clear_pending` and `take_pending`.
            crate::chaos::clear_pending();
            // Record mode needs the body again for the upstream; otherwise nothing is kept.
            let kept = state.recorder.is_some().then(|| bytes.clone());
            let mut resp = handler(state.clone(), ctx, bytes, info);
            let chaos = crate::chaos::take_pending();
            if chaos.latency_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(chaos.latency_ms)).await;
            }
            if let Some(r) = chaos.action.and_then(crate::chaos::replacement) {
                return r;
            }
            // A miss that record mode sends upstream.
            if let Some(job) = resp
                .extensions_mut()
                .remove::<crate::record::proxy::ProxyJob>()
            {
                if let (Some(job), Some(bytes)) = (job.take(), kept) {
                    // On a task of its own: a caller that leaves while the upstream answers
                    // must not cut the journal entry or the recording short.
                    let render = job.render;
                    return match tokio::spawn(crate::record::proxy::run(state, job, bytes)).await {
                        Ok(r) => r,
                        Err(e) => render(&ApiError::new(
                            StatusCode::BAD_GATEWAY,
                            "proxy_error",
                            format!("Proxy to upstream failed: {e}"),
                        )),
                    };
                }
            }
            resp
        }
        Err(err) => {
            let ex = super::Exchange::new(state, ctx);
            ex.fail(err, render)
        }
    }
}

/// The body, at most `max_body_bytes` long.
pub(crate) async fn read_body(
    state: &AppState,
    ctx: &RequestCtx,
    body: Body,
) -> Result<Bytes, ApiError> {
    read_limited(&ctx.headers, body, state.config.max_body_bytes)
        .await
        .map_err(crate::http::BodyError::into_api_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_paths_normalize_to_v1() {
        assert_eq!(
            normalize_path("/v1/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/openai/v1/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/v4/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/api/v1/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/some/prefix/embeddings").path,
            "/v1/embeddings"
        );
        assert_eq!(normalize_path("/health").path, "/health");
    }

    #[test]
    fn azure_deployment_paths_carry_the_deployment() {
        let n = normalize_path("/openai/deployments/my-dep/chat/completions");
        assert_eq!(n.path, "/v1/chat/completions");
        assert_eq!(n.deployment.as_deref(), Some("my-dep"));
    }
}
