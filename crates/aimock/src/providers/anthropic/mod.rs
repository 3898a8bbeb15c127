//! Anthropic Messages (`/v1/messages`, `count_tokens`) and Anthropic models on Vertex AI (`:rawPredict`, `:streamRawPredict`).
//!
//! Authentication is accepted in either form the SDKs send (`x-api-key`, `Authorization: Bearer`)
//! and never checked; `anthropic-version` is not pinned.

pub(crate) mod render;
pub(crate) mod request;

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::Route;
use crate::http::ApiError;
use crate::providers::estimate_tokens;
use crate::server::exchange::{on_stream_end, Answer};
use crate::server::{AppState, Exchange, RequestCtx, RouteInfo};
use crate::stream::{paced_body, sse_event, StreamPlan};
use render::Rendered;
use request::BodyKind;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    let route = |handler: super::Handler, info: RouteInfo| Route {
        handler,
        render: error_response,
        info,
    };
    match path {
        "/v1/messages" => return Some(route(handle_messages, RouteInfo::default())),
        "/v1/messages/count_tokens" => {
            return Some(route(handle_count_tokens, RouteInfo::default()))
        }
        _ => {}
    }
    let (model, action) = vertex_model_action(path)?;
    let info = RouteInfo {
        variant: Some("vertex"),
        model: Some(model.clone()),
        action: Some(action.clone()),
        ..Default::default()
    };
    match action.as_str() {
        "rawPredict" if model == "count-tokens" => Some(route(handle_count_tokens, info)),
        "rawPredict" | "streamRawPredict" => Some(route(handle_vertex, info)),
        _ => None,
    }
}

/// For a Vertex path naming an Anthropic model,
/// `/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/anthropic/models/{model}:{action}` (or
/// the express form without project and location): the model (percent-decoded) and the action.
fn vertex_model_action(path: &str) -> Option<(String, String)> {
    let rest = path
        .strip_prefix("/v1/")
        .or_else(|| path.strip_prefix("/v1beta1/"))?;
    let rest = match rest.strip_prefix("projects/") {
        Some(r) => {
            let (_project, r) = r.split_once('/')?;
            let r = r.strip_prefix("locations/")?;
            let (_location, r) = r.split_once('/')?;
            r
        }
        None => rest,
    };
    let tail = rest.strip_prefix("publishers/anthropic/models/")?;
    if tail.contains('/') {
        return None;
    }
    let tail = crate::http::percent::path(tail);
    let (model, action) = tail.rsplit_once(':')?;
    if model.is_empty() {
        return None;
    }
    Some((model.to_owned(), action.to_owned()))
}

/// The Anthropic error type for an error: the fixture's own type when it is one of Anthropic's,
/// else the type the API uses for the status.
fn error_type(e: &ApiError) -> &str {
    if e.kind != "invalid_request_error" && e.kind != "server_error" && !e.kind.is_empty() {
        // A type the fixture chose (Anthropic's own, or any other name it wants to see).
        return &e.kind;
    }
    match e.status.as_u16() {
        400 | 409 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        s if s < 500 => "invalid_request_error",
        _ => "api_error",
    }
}

/// Anthropic's error envelope, `{"type":"error","error":{"type","message"}}`; a 429 carries
/// `retry-after` and rate-limit headers (Anthropic's `anthropic-ratelimit-*` and the generic ones).
pub(crate) fn error_response(e: &ApiError) -> Response {
    render_error(e, None)
}

/// The envelope, with the `request_id` the API puts beside the error when it is known.
fn render_error(e: &ApiError, request_id: Option<&str>) -> Response {
    let mut body = json!({
        "type": "error",
        "error": { "type": error_type(e), "message": e.message },
    });
    if let Some(id) = request_id {
        body["request_id"] = Value::String(id.to_owned());
    }
    let mut r = crate::http::json_response(e.status, &body);
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = e.retry_after.unwrap_or(1.0);
        crate::http::add_rate_limit_headers(r.headers_mut(), retry_after);
        add_anthropic_rate_limit_headers(r.headers_mut(), retry_after);
    }
    r
}

/// The request's id (the client's `x-request-id`, or the one the server minted), which the API
/// sends back as `request-id` (the SDKs expose it as `_request_id`).
fn request_id(ctx: &RequestCtx) -> Option<HeaderValue> {
    ctx.headers.get("x-request-id").cloned()
}

/// Record an error and answer it in the envelope, with the request id.
fn fail(ex: Exchange, e: &ApiError, id: Option<&HeaderValue>) -> Response {
    if e.proxy {
        // A miss that record mode sends upstream.
        return ex.fail(e.clone(), error_response);
    }
    ex.finish(e.status);
    render_error(e, id.and_then(|v| v.to_str().ok()))
}

fn with_request_id(mut resp: Response, id: Option<HeaderValue>) -> Response {
    if let Some(id) = id {
        resp.headers_mut().insert("request-id", id);
    }
    resp
}

fn add_anthropic_rate_limit_headers(h: &mut HeaderMap, retry_after: f64) {
    let reset = rfc3339_utc(crate::http::time::unix_now() + retry_after.max(0.0).ceil() as i64);
    for (k, v) in [
        ("anthropic-ratelimit-requests-limit", "60"),
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-tokens-limit", "150000"),
        ("anthropic-ratelimit-tokens-remaining", "0"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    if let Ok(v) = HeaderValue::from_str(&reset) {
        h.insert("anthropic-ratelimit-requests-reset", v.clone());
        h.insert("anthropic-ratelimit-tokens-reset", v);
    }
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339_utc(secs: i64) -> String {
    crate::http::time::rfc3339(secs, 0, 0)
}

fn handle_messages(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Bytes,
    info: RouteInfo,
) -> Response {
    serve(state, ctx, &body, &info, BodyKind::Messages, false)
}

fn handle_vertex(state: Arc<AppState>, ctx: RequestCtx, body: Bytes, info: RouteInfo) -> Response {
    let stream = info.action.as_deref() == Some("streamRawPredict");
    serve(state, ctx, &body, &info, BodyKind::ModelInPath, stream)
}

/// A Messages request, from any route: parse, check, match, render.
fn serve(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: &[u8],
    info: &RouteInfo,
    kind: BodyKind,
    force_stream: bool,
) -> Response {
    let id = request_id(&ctx);
    let resp = serve_inner(state, ctx, body, info, kind, force_stream, id.as_ref());
    with_request_id(resp, id)
}

fn serve_inner(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: &[u8],
    info: &RouteInfo,
    kind: BodyKind,
    force_stream: bool,
    id: Option<&HeaderValue>,
) -> Response {
    let mut ex = Exchange::new(state, ctx);
    let (mut req, opts) = match request::parse(body, kind, info.model.as_deref()) {
        Ok(r) => r,
        Err(e) => return fail(ex, &e, id),
    };
    req.stream |= force_stream;
    let req = Arc::new(req);
    ex.set_request(req.clone(), body.len());
    if let Some(msg) = opts.thinking_violation {
        if ex.ctx.strict {
            return fail(ex, &ApiError::invalid(msg), id);
        }
        tracing::warn!(
            model = req.model.as_str(),
            "extended thinking request would be rejected by the API: {msg}"
        );
    }
    let fixture = match ex.resolve(&req) {
        Answer::Fixture(f) => f,
        Answer::Error(e) => return fail(ex, &e, id),
    };
    let reply = match crate::providers::message_reply(&fixture, "the Messages API") {
        Ok(m) => m,
        Err(e) => return fail(ex, &e, id),
    };
    let r = Rendered::new(&req, reply, ex.ctx.strict);
    if req.stream {
        let chunk = fixture
            .stream
            .chunk_size
            .unwrap_or(ex.state.config.chunk_size);
        let mut events = Vec::with_capacity(16);
        r.events(chunk, |event, data| events.push(sse_event(event, data)));
        let plan = StreamPlan {
            events,
            trailer: Vec::new(),
            pacing: fixture
                .stream
                .pacing(ex.state.config.latency, ex.state.config.replay_speed),
            truncate_after: fixture.stream.truncate_after_chunks,
            disconnect_after: fixture
                .stream
                .disconnect_after_ms
                .map(crate::stream::duration_ms),
            on_end: None,
        };
        let handle = ex.start_stream();
        let plan = StreamPlan {
            on_end: Some(on_stream_end(handle)),
            ..plan
        };
        crate::stream::sse_response(paced_body(plan))
    } else {
        ex.finish(StatusCode::OK);
        json_body(r.json())
    }
}

fn json_body(s: String) -> Response {
    crate::http::json_body(s)
}

/// `POST /v1/messages/count_tokens` (and Vertex's `count-tokens:rawPredict`): `{"input_tokens": N}`,
/// estimated from the prompt's text like the usage of a reply.
fn handle_count_tokens(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Bytes,
    _info: RouteInfo,
) -> Response {
    let id = request_id(&ctx);
    let ex = Exchange::new(state, ctx);
    let resp = match request::parse(&body, BodyKind::CountTokens, None) {
        Ok((req, _)) => {
            let chars = request::prompt_chars(&req);
            let mut ex = ex;
            ex.set_request(Arc::new(req), body.len());
            ex.finish(StatusCode::OK);
            json_body(json!({ "input_tokens": estimate_tokens(chars) }).to_string())
        }
        Err(e) => fail(ex, &e, id.as_ref()),
    };
    with_request_id(resp, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_paths_give_the_model_and_action() {
        assert_eq!(
            vertex_model_action(
                "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
            ),
            Some(("claude-sonnet-4-5@20250929".into(), "rawPredict".into()))
        );
        assert_eq!(
            vertex_model_action(
                "/v1beta1/projects/p/locations/global/publishers/anthropic/models/claude-haiku-4-5%40x%3AstreamRawPredict"
            ),
            Some(("claude-haiku-4-5@x".into(), "streamRawPredict".into()))
        );
        assert_eq!(
            vertex_model_action(
                "/v1/projects/p/locations/l/publishers/google/models/g:generateContent"
            ),
            None
        );
        assert!(route(
            &Method::POST,
            "/v1/projects/p/locations/l/publishers/anthropic/models/m:predict"
        )
        .is_none());
        assert!(route(&Method::GET, "/v1/messages").is_none());
    }

    #[test]
    fn openai_kinds_become_anthropic_types_by_status() {
        let e = ApiError::new(StatusCode::NOT_FOUND, "invalid_request_error", "x");
        assert_eq!(error_type(&e), "not_found_error");
        let e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "x");
        assert_eq!(error_type(&e), "api_error");
        let e = ApiError::new(StatusCode::from_u16(529).unwrap(), "server_error", "x");
        assert_eq!(error_type(&e), "overloaded_error");
        let e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "x");
        assert_eq!(error_type(&e), "rate_limit_error");
    }

    #[test]
    fn reset_times_are_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
