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
pub(crate) static VENDOR: Vendor = super::vendor("tavily", Credential::bearer(), envelope);

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    let (endpoint, label): (crate::pipeline::Endpoint, &'static str) = match path {
        "/search" => (endpoint::service::<Tavily<SEARCH>>, "/search"),
        "/extract" => (endpoint::service::<Tavily<EXTRACT>>, "/extract"),
        "/crawl" => (endpoint::service::<Tavily<CRAWL>>, "/crawl"),
        "/map" => (endpoint::service::<Tavily<MAP>>, "/map"),
        _ => return None,
    };
    Some(Route::new(endpoint, &VENDOR, PathLabel::one(label)))
}

/// Tavily's error envelope: `{"detail": {"error": "..."}}`; a 429 carries the rate-limit headers.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    super::error_json(e, &json!({ "detail": { "error": e.message } }))
}

fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        format!("Malformed JSON: {e}"),
    )
    .with_code("invalid_json")
}

/// `POST /search`, `/extract`, `/crawl` and `/map`: `Tavily<SEARCH>` and so on.
#[derive(Debug)]
struct Tavily<const OP: u8>;

/// `Tavily<SEARCH>`: `POST /search`.
const SEARCH: u8 = 0;
/// `Tavily<EXTRACT>`: `POST /extract`.
const EXTRACT: u8 = 1;
/// `Tavily<CRAWL>`: `POST /crawl`.
const CRAWL: u8 = 2;
/// `Tavily<MAP>`: `POST /map`.
const MAP: u8 = 3;

impl<const OP: u8> ServiceApi for Tavily<OP> {
    const SERVICE: &'static str = "search";
    fn malformed(e: &serde_json::Error) -> ApiError {
        malformed(e)
    }
    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, started: std::time::Instant) -> Outcome {
        let services = &call.core.services;
        match OP {
            SEARCH => search::search(services, ctx, body, started),
            EXTRACT => search::extract(services, ctx, body, started),
            _ => search::crawl(services, ctx, body, started, OP == MAP),
        }
    }
}
