//! A WebSocket client for the socket APIs' tests: connect (checking the 101), send JSON, read
//! the next message or event within [`WAIT`], pings and pongs skipped.

use aimock::MockServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::WAIT;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The `ws://` URL of `path` on the server.
pub(crate) fn url(s: &MockServer, path: &str) -> String {
    format!("ws://{}{}", s.address(), path)
}

/// Upgrade on `path` with extra request headers; the server must answer 101.
pub(crate) async fn connect(s: &MockServer, path: &str, headers: &[(&str, &str)]) -> Ws {
    let mut req = url(s, path).into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let (ws, resp) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("connect in time")
        .expect("upgrade accepted");
    assert_eq!(resp.status(), 101);
    ws
}

/// The next message (pings and pongs skipped); `None` once the connection is gone.
pub(crate) async fn next(ws: &mut Ws) -> Option<Message> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(m)) => return Some(m),
            Some(Err(_)) | None => return None,
        }
    }
}

/// The next message, a JSON text message; `None` once the connection is gone without a close
/// frame. Any other message (a close frame too) fails the test.
pub(crate) async fn maybe_event(ws: &mut Ws) -> Option<Value> {
    match next(ws).await {
        Some(Message::Text(t)) => Some(serde_json::from_str(t.as_str()).expect("a JSON event")),
        None => None,
        Some(other) => panic!("expected a text event, got {other:?}"),
    }
}

/// The next message, which must be a JSON text message.
pub(crate) async fn event(ws: &mut Ws) -> Value {
    match next(ws).await {
        Some(Message::Text(t)) => serde_json::from_str(t.as_str()).expect("a JSON event"),
        other => panic!("expected a text event, got {other:?}"),
    }
}

/// Events up to and including the first whose `type` is `last` (or `error`).
pub(crate) async fn until(ws: &mut Ws, last: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let e = event(ws).await;
        let done = e["type"] == last || e["type"] == "error";
        out.push(e);
        if done {
            return out;
        }
    }
}

/// Send a JSON text message.
pub(crate) async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The code of the close frame the server ends with (messages before it skipped).
pub(crate) async fn close_code(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match next(ws).await {
            Some(Message::Close(f)) => return f.map(|f| f.code),
            Some(_) => continue,
            None => return None,
        }
    }
}

/// The text of the OpenAI events' `response.output_text.delta`s.
pub(crate) fn output_text(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap().to_owned())
        .collect()
}
