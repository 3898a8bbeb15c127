//! A request to the control API (`/__aimock/...`), read once for every handler: the body is
//! read with one limit ([`CONTROL_BODY_MAX`]) and parsed as JSON before any handler sees it, so
//! every control endpoint refuses a body the same way (413 over the limit, 400 for malformed
//! JSON, both `{"error": ...}`).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

/// The largest control request body, in bytes (fixture files sent whole can be large).
pub(crate) const CONTROL_BODY_MAX: usize = 64 * 1024 * 1024;

/// A control request, its body read and parsed.
#[derive(Debug)]
pub(crate) struct ControlRequest {
    /// HTTP method.
    pub(crate) method: Method,
    /// The path below what the handler is mounted at: below `/__aimock` for the server's own
    /// endpoints, below `/__aimock/<kind>` for a service's (`""`, else starting with `/`).
    pub(crate) sub: String,
    /// The query string.
    pub(crate) query: Option<String>,
    /// Request headers.
    pub(crate) headers: HeaderMap,
    /// The body as JSON; `None` when it is empty (or only whitespace).
    pub(crate) body: Option<Value>,
}

impl ControlRequest {
    /// Read and parse a request; `Err` is the answer when its body is too large or not JSON.
    pub(crate) async fn read(
        method: Method,
        sub: &str,
        query: Option<&str>,
        headers: HeaderMap,
        body: Body,
    ) -> Result<ControlRequest, Response> {
        let bytes = super::read_limited(&headers, body, CONTROL_BODY_MAX)
            .await
            .map_err(|e| control_error(e.status(), e.message))?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let v = serde_json::from_slice(&bytes).map_err(|e| {
                control_error(StatusCode::BAD_REQUEST, format!("Malformed JSON: {e}"))
            })?;
            Some(v)
        };
        Ok(ControlRequest {
            method,
            sub: sub.to_owned(),
            query: query.map(str::to_owned),
            headers,
            body,
        })
    }

    /// The same request for a handler mounted below: `sub` is what follows.
    pub(crate) fn below(mut self, sub: &str) -> ControlRequest {
        self.sub = sub.to_owned();
        self
    }

    /// A query parameter, decoded.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        super::percent::query_param(self.query.as_deref(), name)
    }

    /// The body, `null` when there is none.
    pub(crate) fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }

    /// `Unknown control endpoint: <method> /__aimock<prefix><sub>`, a 404.
    pub(crate) fn unknown(&self, prefix: &str) -> Response {
        control_error(
            StatusCode::NOT_FOUND,
            format!(
                "Unknown control endpoint: {} /__aimock{prefix}{}",
                self.method, self.sub
            ),
        )
    }
}

/// A control API error: `{"error": message}`.
pub(crate) fn control_error(status: StatusCode, message: impl Into<String>) -> Response {
    super::json_response(status, &json!({ "error": message.into() }))
}
