//! Anthropic Messages (`/v1/messages`, `count_tokens`) and Anthropic models on Vertex AI (`:rawPredict`, `:streamRawPredict`).
//!
//! Authentication is accepted in either form the SDKs send (`x-api-key`, `Authorization: Bearer`)
//! and never checked; `anthropic-version` is not pinned.

pub(crate) mod collapse;
pub(crate) mod render;
pub(crate) mod request;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use crate::conversation::ChatRequest;
use crate::http::ApiError;
use crate::pipeline::{Answered, Call, Exchange, Route, RouteInfo, Vendor};
use crate::providers::endpoint::{self, MessageApi, Render, Streamed};
use crate::providers::estimate_tokens;
use crate::record::Credential;
use crate::stream::sse_event;
use render::AnthropicReply;
use request::{BodyKind, MessagesOptions};

/// Anthropic: an `x-api-key`; every answer carries the request id as `request-id`.
pub(crate) static VENDOR: Vendor = Vendor {
    decorate: Some(decorate),
    ..super::vendor("anthropic", Credential::header("x-api-key", ""), envelope)
};

/// Anthropic models on Vertex AI: Anthropic's shapes, Google's credential (an access token).
pub(crate) static VERTEX: Vendor = Vendor {
    decorate: Some(decorate),
    ..super::vendor("vertexai", Credential::bearer().or_query_key(), envelope)
};

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    match path {
        "/v1/messages" => {
            return Some(
                Route::new(
                    endpoint::message::<Messages>,
                    &VENDOR,
                    crate::metrics::PathLabel::one("/v1/messages"),
                )
                .recorded(&collapse::COLLAPSER),
            )
        }
        "/v1/messages/count_tokens" => {
            return Some(Route::new(
                count_tokens,
                &VENDOR,
                crate::metrics::PathLabel::one("/v1/messages/count_tokens"),
            ))
        }
        _ => {}
    }
    let (version, projects, model, action) = vertex_model_action(path)?;
    let action: &'static str = match action.as_str() {
        "rawPredict" => "rawPredict",
        "streamRawPredict" => "streamRawPredict",
        _ => return None,
    };
    let label = super::vertex_label(version, projects, "anthropic", action);
    let count = action == "rawPredict" && model == "count-tokens";
    let info = RouteInfo {
        variant: Some("vertex"),
        model: Some(model),
        action: Some(action),
        ..Default::default()
    };
    Some(if count {
        Route::new(count_tokens, &VERTEX, label).with_info(info)
    } else {
        Route::new(endpoint::message::<VertexMessages>, &VERTEX, label)
            .with_info(info)
            .recorded(&collapse::COLLAPSER)
    })
}

/// For a Vertex path naming an Anthropic model,
/// `/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/anthropic/models/{model}:{action}` (or
/// the express form without project and location): the version, whether the path names a
/// project, the model (percent-decoded) and the action.
fn vertex_model_action(path: &str) -> Option<(&'static str, bool, String, String)> {
    let (version, rest) = if let Some(r) = path.strip_prefix("/v1/") {
        ("v1", r)
    } else {
        ("v1beta1", path.strip_prefix("/v1beta1/")?)
    };
    let (projects, rest) = match rest.strip_prefix("projects/") {
        Some(r) => {
            let (_project, r) = r.split_once('/')?;
            let r = r.strip_prefix("locations/")?;
            let (_location, r) = r.split_once('/')?;
            (true, r)
        }
        None => (false, rest),
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
    Some((version, projects, model.to_owned(), action.to_owned()))
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

/// Anthropic's error envelope, `{"type":"error","error":{"type","message"},"request_id"}`; a 429
/// carries `retry-after` and rate-limit headers (Anthropic's `anthropic-ratelimit-*` and the
/// generic ones).
fn envelope(e: &ApiError, request: &HeaderMap) -> Response {
    render_error(
        e,
        request
            .get(&crate::http::ids::X_REQUEST_ID)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The request's id (the client's `x-request-id`, or the one the server minted), which the API
/// sends back as `request-id` (the SDKs expose it as `_request_id`).
fn decorate(out: &mut HeaderMap, request: &HeaderMap) {
    if let Some(id) = request.get(&crate::http::ids::X_REQUEST_ID) {
        out.insert("request-id", id.clone());
    }
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

/// `POST /v1/messages` ([`Messages`]), and `:rawPredict` and `:streamRawPredict` on Vertex AI
/// ([`VertexMessages`]: a Messages body with the model in the path).
#[derive(Debug)]
struct MessagesApi<const VERTEX: bool>;

/// `POST /v1/messages`.
type Messages = MessagesApi<false>;

/// `:rawPredict` and `:streamRawPredict` on Vertex AI.
type VertexMessages = MessagesApi<true>;

impl<const VERTEX: bool> MessageApi for MessagesApi<VERTEX> {
    type Opts = MessagesOptions;
    const SURFACE: &'static str = "the Messages API";

    fn parse(call: &Call) -> Result<(ChatRequest, MessagesOptions), ApiError> {
        if !VERTEX {
            return request::parse(&call.body, BodyKind::Messages, None);
        }
        let info = &call.route.info;
        let (mut req, opts) =
            request::parse(&call.body, BodyKind::ModelInPath, info.model.as_deref())?;
        req.stream |= info.action == Some("streamRawPredict");
        Ok((req, opts))
    }

    fn refusal(_req: &ChatRequest, opts: &MessagesOptions) -> Option<ApiError> {
        opts.thinking_violation.as_deref().map(ApiError::invalid)
    }

    fn json(r: &Render<'_, MessagesOptions>) -> String {
        AnthropicReply::new(r.req, r.reply, r.strict).json()
    }

    fn stream(r: &Render<'_, MessagesOptions>) -> Streamed {
        let mut events = Vec::with_capacity(16);
        AnthropicReply::new(r.req, r.reply, r.strict).events(r.chunk_size, |event, data| {
            events.push(sse_event(event, data))
        });
        Streamed::sse(events, Vec::new())
    }
}

/// `POST /v1/messages/count_tokens` (and Vertex's `count-tokens:rawPredict`): `{"input_tokens": N}`,
/// estimated from the prompt's text like the usage of a reply.
fn count_tokens(mut call: Call) -> Answered {
    let mut ex = Exchange::new(&mut call);
    let resp = match request::parse(&call.body, BodyKind::CountTokens, None) {
        Ok((req, _)) => {
            let chars = request::prompt_chars(&req);
            ex.set_request(Arc::new(req), call.body.len());
            ex.json(json!({ "input_tokens": estimate_tokens(chars) }).to_string())
        }
        Err(e) => ex.fail(e),
    };
    Answered::Now(resp)
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
            Some(("v1", true, "claude-sonnet-4-5@20250929".into(), "rawPredict".into()))
        );
        assert_eq!(
            vertex_model_action(
                "/v1beta1/projects/p/locations/global/publishers/anthropic/models/claude-haiku-4-5%40x%3AstreamRawPredict"
            ),
            Some(("v1beta1", true, "claude-haiku-4-5@x".into(), "streamRawPredict".into()))
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
