//! Tavily web search: `POST /search`, `/extract`, `/crawl` and `/map`, answered from the search
//! fixtures and pages (see [`crate::services`]), in Tavily's shapes; errors as
//! `{"detail": {"error": ...}}`.

mod search;

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Call, RequestCtx, Route, Vendor};
use crate::providers::endpoint::{self, Outcome, ServiceApi};
use crate::record::Credential;

/// Tavily.
pub(crate) static VENDOR: Vendor = Vendor {
    key: "tavily",
    credential: Credential::bearer(),
    envelope,
    decorate: None,
};

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    let (endpoint, label): (crate::pipeline::Endpoint, &'static str) = match path {
        "/search" => (endpoint::service::<Search>, "/search"),
        "/extract" => (endpoint::service::<Extract>, "/extract"),
        "/crawl" => (endpoint::service::<Crawl<false>>, "/crawl"),
        "/map" => (endpoint::service::<Crawl<true>>, "/map"),
        _ => return None,
    };
    Some(Route::new(endpoint, &VENDOR, PathLabel::one(label)))
}

/// Tavily's error envelope: `{"detail": {"error": "..."}}`; a 429 carries the rate-limit headers.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut r = crate::http::json_response(e.status, &json!({ "detail": { "error": e.message } }));
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        crate::http::add_rate_limit_headers(r.headers_mut(), e.retry_after.unwrap_or(1.0));
    }
    r
}

fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        format!("Malformed JSON: {e}"),
    )
    .with_code("invalid_json")
}

/// `POST /search`.
#[derive(Debug)]
struct Search;

impl ServiceApi for Search {
    const SERVICE: &'static str = "search";
    fn malformed(e: &serde_json::Error) -> ApiError {
        malformed(e)
    }
    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, started: std::time::Instant) -> Outcome {
        search::search(&call.core.services, ctx, body, started)
    }
}

/// `POST /extract`.
#[derive(Debug)]
struct Extract;

impl ServiceApi for Extract {
    const SERVICE: &'static str = "search";
    fn malformed(e: &serde_json::Error) -> ApiError {
        malformed(e)
    }
    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, started: std::time::Instant) -> Outcome {
        search::extract(&call.core.services, ctx, body, started)
    }
}

/// `POST /crawl` (`MAP` false) and `POST /map`.
#[derive(Debug)]
struct Crawl<const MAP: bool>;

impl<const MAP: bool> ServiceApi for Crawl<MAP> {
    const SERVICE: &'static str = "search";
    fn malformed(e: &serde_json::Error) -> ApiError {
        malformed(e)
    }
    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, started: std::time::Instant) -> Outcome {
        search::crawl(&call.core.services, ctx, body, started, MAP)
    }
}
