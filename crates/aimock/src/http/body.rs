//! Reading a request body, bounded.

use axum::body::{Body, Bytes};
use http::{header, HeaderMap, StatusCode};

use super::ApiError;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) struct BodyError {
    /// The body is over the limit (a 413).
    pub(crate) too_large: bool,
    /// What to tell the client.
    pub(crate) message: String,
}

impl BodyError {
    /// The status a client gets: 413 for a body over the limit, else 400.
    pub(crate) fn status(&self) -> StatusCode {
        if self.too_large {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    /// As an error in the provider envelopes: 413 `request_too_large`, else 400.
    pub(crate) fn into_api_error(self) -> ApiError {
        if self.too_large {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                self.message,
            )
            .with_code("request_too_large")
        } else {
            ApiError::invalid(self.message)
        }
    }
}

/// A body of at most `limit` bytes: a declared `Content-Length` over it is refused before
/// reading, and a body that runs over it while read is refused too.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let too_large = || BodyError {
        too_large: true,
        message: format!("Request body is larger than the {limit}-byte limit"),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let is_limit = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if is_limit {
            too_large()
        } else {
            BodyError {
                too_large: false,
                message: format!("Could not read the request body: {e}"),
            }
        }
    })
}
