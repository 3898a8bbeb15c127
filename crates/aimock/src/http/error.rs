//! [`ApiError`]: an error a client sees, before a provider puts it in its own envelope.

use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// An error a client sees, before a provider puts it in its envelope. Boxed: errors are the cold
/// path, and a small `Result` keeps the hot one lean.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(Box<ApiErrorData>);

impl std::ops::Deref for ApiError {
    type Target = ApiErrorData;
    fn deref(&self) -> &ApiErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorData {
        &mut self.0
    }
}

/// The fields of an [`ApiError`].
#[derive(Debug, Clone)]
pub(crate) struct ApiErrorData {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// OpenAI-style type (`invalid_request_error`, `server_error`, ...).
    pub(crate) kind: String,
    pub(crate) code: Option<Value>,
    pub(crate) param: Option<Value>,
    /// Seconds, for 429.
    pub(crate) retry_after: Option<f64>,
    /// OpenRouter error metadata.
    pub(crate) metadata: Option<Value>,
}

/// Puts an error in a provider's own envelope; the request's headers give the request id some
/// envelopes carry.
pub(crate) type Envelope = fn(&ApiError, &HeaderMap) -> axum::response::Response;

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(ApiErrorData {
            status,
            message: message.into(),
            kind: kind.to_owned(),
            code: None,
            param: None,
            retry_after: None,
            metadata: None,
        }))
    }

    pub(crate) fn with_code(mut self, code: &str) -> ApiError {
        self.code = Some(Value::String(code.to_owned()));
        self
    }

    /// 400 for a body that is not JSON.
    pub(crate) fn malformed_json(e: &serde_json::Error) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("Malformed JSON: {e}"),
        )
        .with_code("invalid_json")
    }

    /// Add the headers this error travels with: a 429's rate-limit headers (`retry-after` and
    /// friends), so SDKs back off.
    pub(crate) fn add_headers(&self, headers: &mut HeaderMap) {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            add_rate_limit_headers(headers, self.retry_after.unwrap_or(1.0));
        }
    }

    /// 400 for a body that is JSON but not what the API takes.
    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }
}

/// Headers every 429 carries, so SDKs raise their own rate-limit error and back off.
pub(crate) fn add_rate_limit_headers(headers: &mut HeaderMap, retry_after: f64) {
    let ra = if retry_after.fract() == 0.0 {
        format!("{}", retry_after as u64)
    } else {
        format!("{retry_after}")
    };
    if let Ok(v) = ra.parse() {
        headers.insert("retry-after", v);
    }
    if let Ok(v) = format!("{}", (retry_after * 1000.0).round() as u64).parse() {
        headers.insert("retry-after-ms", v);
    }
    for (k, v) in [
        ("x-ratelimit-limit-requests", "60"),
        ("x-ratelimit-limit-tokens", "150000"),
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-remaining-tokens", "0"),
        ("x-ratelimit-reset-requests", "1s"),
        ("x-ratelimit-reset-tokens", "6m0s"),
    ] {
        headers.insert(k, http::HeaderValue::from_static(v));
    }
}
