//! Record mode for WebSocket sessions: a session whose turn matches no fixture opens the same
//! socket upstream (`--provider-openai`, `--provider-gemini`: `http` becomes `ws`, `https`
//! `wss`), with the caller's headers less the hop-by-hop and handshake ones and the server's own
//! key where the caller sent none (the rules of HTTP record mode). The session relays the turn's
//! messages to the upstream and its events back to the client as they arrive; once the turn's
//! last event is in, the events are collapsed by the API's collapser (framed as the API's HTTP
//! stream would be) and saved as a fixture that replays the turn, registered at once.
//!
//! What a turn is, which client messages to forward and which event ends it, is the session's
//! business: this module connects, relays frames and saves.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::collapse::{collapse_stream, Collapser};
use super::proxy::{save_recording, Host, Recording};
use super::upstream::{upstream_parts, upstream_url, Credential};

/// A turn's upstream events (JSON texts) as the SSE stream a collapser reads: each a `data:`
/// frame, named (`event: <type>`) when it is a JSON object with a string `type`.
pub(crate) fn sse(events: &[String]) -> String {
    let mut body = String::with_capacity(events.iter().map(|e| e.len() + 40).sum());
    for e in events {
        let kind = serde_json::from_str::<Value>(e)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned));
        if let Some(k) = kind {
            body.push_str("event: ");
            body.push_str(&k);
            body.push('\n');
        }
        body.push_str("data: ");
        body.push_str(e);
        body.push_str("\n\n");
    }
    body
}

/// The error event's error for a turn whose upstream socket could not be opened (502,
/// `upstream_unavailable`).
pub(crate) fn unavailable(why: String) -> crate::http::ApiError {
    crate::http::ApiError::new(http::StatusCode::BAD_GATEWAY, "server_error", why)
        .with_code("upstream_unavailable")
}

/// The error event's error for a turn the upstream socket failed mid-way (502,
/// `upstream_failed`).
pub(crate) fn failed(why: String) -> crate::http::ApiError {
    crate::http::ApiError::new(http::StatusCode::BAD_GATEWAY, "server_error", why)
        .with_code("upstream_failed")
}

/// An open upstream socket.
pub(crate) struct Upstream {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Longest wait for the next upstream event.
    idle: Duration,
    started: tokio::time::Instant,
    /// The turn's events so far, with their arrival times (ms since the turn started).
    events: Vec<String>,
    times: Vec<f64>,
    /// The close frame's code and reason, once the upstream closed with one.
    closed: Option<(u16, String)>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("events", &self.events.len())
            .finish()
    }
}

/// The headers of a WebSocket handshake: the client library writes its own.
fn handshake_header(name: &http::HeaderName) -> bool {
    let n = name.as_str();
    n.starts_with("sec-websocket-") && n != "sec-websocket-protocol"
}

impl Upstream {
    /// Open the upstream socket of `key` for a session upgraded on `path_and_query` with
    /// `incoming` headers.
    pub(crate) async fn connect<H: Host + ?Sized>(
        host: &H,
        key: &'static str,
        credential: Credential,
        incoming: &HeaderMap,
        path_and_query: &str,
    ) -> Result<Upstream, String> {
        let recorder = host.recorder().ok_or("record mode is off")?;
        let config = &recorder.config;
        let base = config
            .upstream(key)
            .ok_or_else(|| format!("no upstream for {key}"))?;
        let (headers, path) = upstream_parts(
            incoming,
            path_and_query,
            config,
            key,
            credential,
            host.auth_on(),
        )?;
        let mut url = upstream_url(base, &path)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| format!("cannot make a {scheme} URL of the upstream"))?;
        let shown = crate::journal::redact_query(url.as_str()).into_owned();
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("invalid upstream URL {shown}: {e}"))?;
        for (k, v) in &headers {
            if !handshake_header(k) {
                req.headers_mut().append(k.clone(), v.clone());
            }
        }
        let connector = if scheme == "wss" {
            Some(Connector::Rustls(crate::http::client::tls_config()?))
        } else {
            None
        };
        let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(config.max_proxy_buffer_bytes.max(1 << 20)));
        let connect =
            tokio_tungstenite::connect_async_tls_with_config(req, Some(ws_config), true, connector);
        let (ws, _resp) = tokio::time::timeout(
            Duration::from_millis(config.upstream_timeout_ms.max(1)),
            connect,
        )
        .await
        .map_err(|_| format!("the upstream {shown} did not accept the socket in time"))?
        .map_err(|e| format!("the upstream {shown} refused the socket: {e}"))?;
        Ok(Upstream {
            ws,
            idle: Duration::from_millis(config.body_timeout_ms.max(1)),
            started: tokio::time::Instant::now(),
            events: Vec::new(),
            times: Vec::new(),
            closed: None,
        })
    }

    /// Start a new turn: its events and timings from now on.
    pub(crate) fn begin_turn(&mut self) {
        self.started = tokio::time::Instant::now();
        self.events.clear();
        self.times.clear();
    }

    /// Send a client message upstream.
    pub(crate) async fn send(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .map_err(|e| format!("upstream socket: {e}"))
    }

    /// The upstream's next event (text, or JSON in a binary frame), kept for the recording;
    /// `None` when the upstream closed.
    pub(crate) async fn recv(&mut self) -> Result<Option<String>, String> {
        loop {
            let m = tokio::time::timeout(self.idle, self.ws.next())
                .await
                .map_err(|_| {
                    format!("the upstream sent nothing for {} ms", self.idle.as_millis())
                })?;
            let text = match m {
                Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
                Some(Ok(Message::Binary(b))) => match String::from_utf8(b.to_vec()) {
                    Ok(t) => t,
                    Err(_) => continue,
                },
                Some(Ok(Message::Close(f))) => {
                    self.closed = f.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()));
                    return Ok(None);
                }
                None => return Ok(None),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("upstream socket: {e}")),
            };
            self.times
                .push(self.started.elapsed().as_secs_f64() * 1000.0);
            self.events.push(text.clone());
            return Ok(Some(text));
        }
    }

    /// Save the turn's events as a fixture for `rec` (unless proxy-only): collapsed by
    /// `collapser` as an SSE stream of those events; a turn without its final event is not saved.
    pub(crate) async fn save_turn<H: Host + ?Sized>(
        &mut self,
        host: &H,
        rec: &Recording<'_>,
        collapser: &'static Collapser,
    ) -> Result<(), String> {
        let Some(recorder) = host.recorder() else {
            return Ok(());
        };
        if recorder.config.proxy_only {
            return Ok(());
        }
        let collapsed = collapse_stream(collapser, sse(&self.events).as_bytes());
        if !collapsed.complete {
            return Err("the turn ended before its last event; not recorded".to_owned());
        }
        let timings = super::proxy::timings(&self.times);
        save_recording(host, rec, collapsed, Some(timings)).await
    }

    /// The code and reason the upstream closed its socket with, if it sent a close frame.
    pub(crate) fn closed_with(&self) -> Option<(u16, &str)> {
        self.closed.as_ref().map(|(c, r)| (*c, r.as_str()))
    }

    /// Save a turn as a fixture for `rec` (unless proxy-only) from `events` the session reshaped
    /// from the upstream's messages into what `collapser` reads as `data:` frames of an SSE
    /// stream (Gemini Live's messages as `generateContent` chunks, say), with the turn's
    /// arrival times; a turn whose events lack the final one is not saved.
    pub(crate) async fn save_events<H: Host + ?Sized>(
        &self,
        host: &H,
        rec: &Recording<'_>,
        collapser: &'static Collapser,
        events: &[String],
    ) -> Result<(), String> {
        let Some(recorder) = host.recorder() else {
            return Ok(());
        };
        if recorder.config.proxy_only {
            return Ok(());
        }
        let mut body = String::new();
        for e in events {
            body.push_str("data: ");
            body.push_str(e);
            body.push_str("\n\n");
        }
        let collapsed = collapse_stream(collapser, body.as_bytes());
        if !collapsed.complete {
            return Err("the turn ended before its last event; not recorded".to_owned());
        }
        let timings = super::proxy::timings(&self.times);
        save_recording(host, rec, collapsed, Some(timings)).await
    }

    /// Close the upstream socket.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close(None)).await;
    }
}
