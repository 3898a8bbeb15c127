//! `POST /v1/responses`: JSON and typed SSE events.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use http::StatusCode;

use super::error_response;
use crate::server::{ApiError, AppState, Exchange, RequestCtx, RouteInfo};

/// The handler.
pub(crate) fn handle(state: Arc<AppState>, ctx: RequestCtx, _body: Bytes, _info: RouteInfo) -> Response {
    let ex = Exchange::new(state, ctx);
    ex.fail(
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "server_error", "not yet"),
        error_response,
    )
}
