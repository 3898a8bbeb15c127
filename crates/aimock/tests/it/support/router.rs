//! Requests answered by the router in-process, with no socket: for tests that check delays on
//! tokio's paused clock (`#[tokio::test(start_paused = true)]`), and for socket-free checks of a
//! handler's answer.
//!
//! Paused time and real sockets do not mix: while the kernel moves bytes between client and
//! server every task waits, and the paused clock then jumps to the next timer of anything (the
//! server's delay, a client's or a connection's timeout), so a measurement means nothing and
//! timeouts fire early. In-process, the paused clock moves only when every task waits on a
//! timer: a delay of N ms takes exactly N ms of it and no delay takes none, however loaded the
//! machine is.

use std::sync::Arc;

use aimock::server::{router, AppState, ServerConfig};
use axum::body::Body;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// State for `config` (the server a [`aimock::MockServer`] would serve, without the socket),
/// with the fixtures of a fixture file's JSON text and its label, if given.
pub(crate) fn app(config: ServerConfig, fixtures: Option<(&str, &str)>) -> Arc<AppState> {
    let state = AppState::new(config);
    if let Some((json, label)) = fixtures {
        super::add_fixtures(&state, json, label);
    }
    state
}

/// The router's answer to `req`.
pub(crate) async fn send(state: &Arc<AppState>, req: Request<Body>) -> Response<Body> {
    match router(state.clone()).oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// `POST path` with `body` as it is, as `application/json`, and `headers`.
pub(crate) async fn post_raw(
    state: &Arc<AppState>,
    path: &str,
    body: impl Into<Body>,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut req = Request::post(path).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(state, req.body(body.into()).unwrap()).await
}

/// `POST path` with `body` as JSON and `headers`.
pub(crate) async fn post(
    state: &Arc<AppState>,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Response<Body> {
    post_raw(state, path, body.to_string(), headers).await
}

/// The status, the content type (empty without one) and the whole body of an answer.
pub(crate) async fn collect(resp: Response<Body>) -> (StatusCode, String, Vec<u8>) {
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, bytes.to_vec())
}

/// Read an answer's body as it is produced, timing each frame from `since` (see
/// [`super::read_body`]).
pub(crate) async fn read(resp: Response<Body>, since: tokio::time::Instant) -> super::Body {
    super::read_body(resp.into_body().into_data_stream(), since).await
}
