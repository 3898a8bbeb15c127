//! OpenAI: Chat Completions, Responses, Embeddings and the model list; also Azure OpenAI and every
//! OpenAI-compatible server, which reach these handlers through path normalization.

pub mod chat;
pub mod embeddings;
pub mod responses;

use std::collections::BTreeSet;

use axum::response::Response;
use http::StatusCode;
use serde_json::{json, Value};

use crate::http::ApiError;
use crate::server::AppState;

/// OpenAI's error envelope: `{"error": {"message", "type", "param", "code"}}`; a 429 carries
/// `Retry-After` and the `x-ratelimit-*` headers.
pub(crate) fn error_response(e: &ApiError) -> Response {
    let body = json!({
        "error": {
            "message": e.message,
            "type": e.kind,
            "param": e.param.clone().unwrap_or(Value::Null),
            "code": e.code.clone().unwrap_or(Value::Null),
        }
    });
    let mut r = crate::http::json_response(e.status, &body);
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        crate::http::add_rate_limit_headers(r.headers_mut(), e.retry_after.unwrap_or(1.0));
    }
    r
}

const DEFAULT_MODELS: &[&str] = &[
    "gpt-4",
    "gpt-4o",
    "claude-3-5-sonnet-20241022",
    "gemini-2.0-flash",
    "text-embedding-3-small",
];

/// `GET /v1/models`: the models named by fixtures, else a default list.
pub(crate) fn models(state: &AppState) -> Response {
    let set = state.fixtures.snapshot();
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
