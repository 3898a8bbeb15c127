//! WebSocket sessions (the realtime APIs): the upgrade handshake over hyper, a socket that reads
//! text and binary messages (pings answered, fragments joined, sizes bounded, broken frames closed
//! with the right code), and [`Socket::play`], which sends one turn's events when each is due
//! while it keeps listening, so a client's message in the middle of a turn (a cancel, new input)
//! is seen at once.
//!
//! Framing and protocol details belong to `tungstenite`; what the events say belongs to the
//! provider that runs the session. Nothing here knows a provider.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;
pub(crate) use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::{duration_ms, Pacing, StreamEnd};

/// The largest message a client may send (16 MiB: a few minutes of base64 PCM audio in one
/// `input_audio_buffer.append`); a larger one closes the socket with 1009.
pub(crate) const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// The WebSocket stream a session runs on.
type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Whether a request asks to become a WebSocket (`Upgrade: websocket`).
pub(crate) fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
        })
}

/// Why an upgrade request cannot be accepted (answered with a 4xx in the API's envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HandshakeError {
    /// The status (400 for a broken handshake, 426 for a plain HTTP request).
    pub(crate) status: StatusCode,
    /// What is wrong.
    pub(crate) message: &'static str,
}

/// The accepted handshake: the `101 Switching Protocols` head to answer with.
#[derive(Debug)]
pub(crate) struct Handshake {
    /// `Sec-WebSocket-Accept`.
    accept: String,
    /// The subprotocol echoed (the first the client offered).
    protocol: Option<HeaderValue>,
}

impl Handshake {
    /// Check an upgrade request's headers (RFC 6455 section 4.2.1).
    pub(crate) fn check(headers: &HeaderMap) -> Result<Handshake, HandshakeError> {
        if !wants_upgrade(headers) {
            return Err(HandshakeError {
                status: StatusCode::UPGRADE_REQUIRED,
                message: "This endpoint is served over WebSocket: send `Upgrade: websocket`.",
            });
        }
        let connection_upgrade = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
        if !connection_upgrade {
            return Err(HandshakeError {
                status: StatusCode::BAD_REQUEST,
                message: "A WebSocket upgrade needs `Connection: Upgrade`.",
            });
        }
        if headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(HandshakeError {
                status: StatusCode::BAD_REQUEST,
                message: "Unsupported WebSocket version: send `Sec-WebSocket-Version: 13`.",
            });
        }
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
            return Err(HandshakeError {
                status: StatusCode::BAD_REQUEST,
                message: "A WebSocket upgrade needs `Sec-WebSocket-Key`.",
            });
        };
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let protocol = headers
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').map(str::trim).find(|p| !p.is_empty()))
            .and_then(|p| HeaderValue::from_str(p).ok());
        Ok(Handshake { accept, protocol })
    }

    /// The `101` response.
    pub(crate) fn response(&self) -> axum::response::Response {
        let mut resp = axum::response::Response::new(axum::body::Body::empty());
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(v) = HeaderValue::from_str(&self.accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        if let Some(p) = &self.protocol {
            h.insert(header::SEC_WEBSOCKET_PROTOCOL, p.clone());
        }
        resp
    }
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A text message (fragments joined).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// What a session's protocol does with a message that arrives while a turn is being sent.
#[derive(Debug)]
pub(crate) enum Heard {
    /// Keep it for after the turn.
    Later,
    /// Handled now (an answer may go out at once); the turn goes on.
    Answered(Vec<String>),
    /// Stop the turn: send these events instead of the rest.
    Stop(Vec<String>),
}

/// One turn's events, and when they are due.
#[derive(Debug, Default)]
pub(crate) struct TurnPlan {
    /// The events (text frames), each paced.
    pub(crate) events: Vec<String>,
    /// When events are due.
    pub(crate) pacing: Pacing,
    /// Cut the connection after this many events.
    pub(crate) truncate_after: Option<usize>,
    /// Cut the connection this long after the turn starts.
    pub(crate) disconnect_after: Option<Duration>,
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TurnEnd {
    /// Every event was sent.
    Complete,
    /// The protocol stopped it (a cancel, an interruption) after this many events.
    Stopped(usize),
    /// Cut on purpose (the connection is gone).
    Cut(&'static str),
    /// The client left.
    ClientGone,
}

impl TurnEnd {
    /// The journal's view of it.
    pub(crate) fn stream_end(&self) -> StreamEnd {
        match self {
            TurnEnd::Complete => StreamEnd::Complete,
            TurnEnd::Stopped(_) => StreamEnd::Interrupted("cancelled"),
            TurnEnd::Cut(why) => StreamEnd::Interrupted(why),
            TurnEnd::ClientGone => StreamEnd::ClientGone,
        }
    }

    /// Whether the connection is still open.
    pub(crate) fn open(&self) -> bool {
        matches!(self, TurnEnd::Complete | TurnEnd::Stopped(_))
    }
}

/// One client's WebSocket session.
pub(crate) struct Socket {
    ws: Ws,
    /// Messages heard during a turn and kept for after it.
    pending: VecDeque<Frame>,
    /// Turns true when the server shuts down.
    stop: tokio::sync::watch::Receiver<bool>,
    /// The connection is gone (closed, cut, failed): nothing more is read or sent.
    gone: bool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("pending", &self.pending.len())
            .field("gone", &self.gone)
            .finish()
    }
}

impl Socket {
    /// The session over an upgraded connection.
    pub(crate) async fn new(
        upgraded: hyper::upgrade::Upgraded,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Socket {
        // An 8 KiB read buffer, not tungstenite's 128 KiB: an idle socket costs little (a large
        // message grows the buffer while it is read).
        let config = WebSocketConfig::default()
            .read_buffer_size(8 << 10)
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        Socket {
            ws,
            pending: VecDeque::new(),
            stop,
            gone: false,
        }
    }

    /// The next message from the client (one kept from a turn first); `None` once the client
    /// closed, the connection failed, or the server is shutting down (the socket is then closed
    /// with the fitting code).
    pub(crate) async fn recv(&mut self) -> Option<Frame> {
        if let Some(f) = self.pending.pop_front() {
            return Some(f);
        }
        self.read().await
    }

    /// Read the next message off the wire.
    async fn read(&mut self) -> Option<Frame> {
        if self.gone {
            return None;
        }
        loop {
            let msg = tokio::select! {
                m = self.ws.next() => m,
                _ = stopped(&mut self.stop) => {
                    self.close(CloseCode::Away, "server shutting down").await;
                    return None;
                }
            };
            match msg {
                Some(Ok(Message::Text(t))) => return Some(Frame::Text(t.as_str().to_owned())),
                Some(Ok(Message::Binary(b))) => return Some(Frame::Binary(b)),
                // tungstenite answers pings (and a close) itself, on the next read or write.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(_))) | None => {
                    // Flush the close reply tungstenite queued.
                    let _ = self.ws.flush().await;
                    self.gone = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.failed(e).await;
                    return None;
                }
            }
        }
    }

    /// A read failed: close with the code that says why (a message too large 1009, text that is
    /// not UTF-8 1007, a broken frame 1002), or just drop a connection that is gone.
    async fn failed(&mut self, e: WsError) {
        let (code, reason) = match &e {
            WsError::Capacity(_) => (CloseCode::Size, "message too large"),
            WsError::Utf8(_) => (CloseCode::Invalid, "text message is not valid UTF-8"),
            WsError::Protocol(_) => (CloseCode::Protocol, "protocol error"),
            _ => {
                self.gone = true;
                return;
            }
        };
        tracing::debug!(error = %e, "websocket closed: {reason}");
        self.close(code, reason).await;
    }

    /// Send one text message now.
    pub(crate) async fn send(&mut self, text: String) -> bool {
        if self.gone {
            return false;
        }
        if self.ws.send(Message::text(text)).await.is_err() {
            self.gone = true;
            return false;
        }
        true
    }

    /// Send several text messages now, in one write.
    pub(crate) async fn send_all(&mut self, texts: Vec<String>) -> bool {
        if self.gone {
            return false;
        }
        for t in texts {
            if self.ws.feed(Message::text(t)).await.is_err() {
                self.gone = true;
                return false;
            }
        }
        if self.ws.flush().await.is_err() {
            self.gone = true;
            return false;
        }
        true
    }

    /// Send one binary message now.
    #[allow(
        dead_code,
        reason = "socket API for the realtime sessions; not every session uses each method"
    )]
    pub(crate) async fn send_binary(&mut self, data: Bytes) -> bool {
        if self.gone {
            return false;
        }
        if self.ws.send(Message::Binary(data)).await.is_err() {
            self.gone = true;
            return false;
        }
        true
    }

    /// Close the session with a code and a reason (the client's close reply is not awaited).
    pub(crate) async fn close(&mut self, code: CloseCode, reason: &'static str) {
        if self.gone {
            return;
        }
        self.gone = true;
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close(Some(frame))).await;
    }

    /// Close with a code and a reason made at run time (an error's message), cut to the 123 bytes
    /// a close frame's reason may hold, on a character boundary.
    pub(crate) async fn close_with(&mut self, code: CloseCode, reason: &str) {
        if self.gone {
            return;
        }
        self.gone = true;
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let frame = CloseFrame {
            code,
            reason: reason[..end].into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close(Some(frame))).await;
    }

    /// Close with `1000` (normal).
    #[allow(
        dead_code,
        reason = "socket API for the realtime sessions; not every session uses each method"
    )]
    pub(crate) async fn close_normal(&mut self, reason: &'static str) {
        self.close(CloseCode::Normal, reason).await;
    }

    /// Close because the client broke the protocol's rules (`1008`, policy).
    #[allow(
        dead_code,
        reason = "socket API for the realtime sessions; not every session uses each method"
    )]
    pub(crate) async fn close_policy(&mut self, reason: &'static str) {
        self.close(CloseCode::Policy, reason).await;
    }

    /// Cut the connection without a close frame, as a dying connection does.
    pub(crate) fn cut(&mut self) {
        self.gone = true;
    }

    /// Whether the connection is gone.
    #[allow(
        dead_code,
        reason = "socket API for the realtime sessions; not every session uses each method"
    )]
    pub(crate) fn is_gone(&self) -> bool {
        self.gone
    }

    /// Send a turn's events, each when it is due, while listening: a message that arrives in the
    /// middle goes to `heard`, which keeps it for later, answers it at once, or stops the turn.
    /// Events due at the same moment go out in one write.
    pub(crate) async fn play(
        &mut self,
        plan: TurnPlan,
        mut heard: impl FnMut(&Frame) -> Heard,
    ) -> TurnEnd {
        let start = Instant::now();
        let cut_at = plan.disconnect_after.map(|d| start + d);
        // When each event is due, fixed once (a jittered delay is drawn once per event).
        let mut at = start;
        let due: Vec<Instant> = (0..plan.events.len())
            .map(|i| {
                at += duration_ms(plan.pacing.delay_ms(i));
                at
            })
            .collect();
        let mut events = plan.events.into_iter();
        let mut next = 0;
        while next < due.len() {
            if self.gone {
                return TurnEnd::ClientGone;
            }
            if plan.truncate_after.is_some_and(|n| next >= n) {
                self.cut();
                return TurnEnd::Cut("truncateAfterChunks");
            }
            // Wait until the event is due (or the cut), listening to the client meanwhile.
            loop {
                let wake = match cut_at {
                    Some(c) if c < due[next] => c,
                    _ => due[next],
                };
                if Instant::now() >= wake {
                    break;
                }
                let read = tokio::select! {
                    _ = tokio::time::sleep_until(wake) => None,
                    m = self.read() => Some(m),
                };
                match read {
                    None => {}
                    Some(None) => return TurnEnd::ClientGone,
                    Some(Some(frame)) => match heard(&frame) {
                        Heard::Later => self.pending.push_back(frame),
                        Heard::Answered(out) => {
                            if !self.send_all(out).await {
                                return TurnEnd::ClientGone;
                            }
                        }
                        Heard::Stop(out) => {
                            if !self.send_all(out).await {
                                return TurnEnd::ClientGone;
                            }
                            return TurnEnd::Stopped(next);
                        }
                    },
                }
            }
            if cut_at.is_some_and(|c| Instant::now() >= c && c < due[next]) {
                self.cut();
                return TurnEnd::Cut("disconnectAfterMs");
            }
            // Every event due by now goes out in one write (up to a cut).
            let now = Instant::now();
            let mut batch = Vec::new();
            while next < due.len()
                && (batch.is_empty() || due[next] <= now)
                && plan.truncate_after.is_none_or(|n| next < n)
            {
                match events.next() {
                    Some(e) => batch.push(e),
                    None => break,
                }
                next += 1;
            }
            if !self.send_all(batch).await {
                return TurnEnd::ClientGone;
            }
        }
        TurnEnd::Complete
    }
}

async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if *stop.borrow_and_update() {
        return;
    }
    while stop.changed().await.is_ok() {
        if *stop.borrow() {
            return;
        }
    }
    // The sender is gone: the server is gone too.
    std::future::pending::<()>().await;
}
