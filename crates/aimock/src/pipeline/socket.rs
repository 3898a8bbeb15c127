//! WebSocket sessions below the providers: what a realtime API declares ([`SocketRoute`]), what a
//! session gets ([`Session`]: the core, the upgrade request, its test id and chaos headers), and
//! one turn's trip through matching, chaos, the journal and the metrics ([`Turn`]): each turn is
//! journaled as a request of method `WS` on the socket's path, with the fixture that answered and
//! whether its events were all delivered.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};

use super::{Answer, ChaosDecision, Core, Exchange, RequestCtx, Vendor};
use crate::chaos::ChaosAction;
use crate::conversation::ChatRequest;
use crate::journal::{EntryHandle, JournalBody};
use crate::metrics::{PathLabel, RequestKey};
use crate::stream::socket::{Socket, TurnEnd, TurnPlan};

/// Runs a session on an open socket.
pub(crate) type SessionFn = fn(Session, Socket) -> BoxFuture<'static, ()>;

/// A realtime API served over WebSocket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketRoute {
    /// The metrics label.
    pub(crate) label: PathLabel,
    /// Errors before the upgrade (a refused key, a broken handshake) in this envelope; record
    /// mode's upstream.
    pub(crate) vendor: &'static Vendor,
    /// Runs the session.
    pub(crate) run: SessionFn,
}

/// The method turns are journaled and counted under.
pub(crate) fn ws_method() -> Method {
    Method::from_bytes(b"WS").unwrap_or(Method::GET)
}

/// What a session gets: the core, and the upgrade request (its path, query and headers: the test
/// id, `X-AIMock-Strict`, chaos headers).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) core: Arc<Core>,
    /// Path and query as received.
    pub(crate) raw_path: String,
    /// The query, when there is one.
    pub(crate) query: Option<String>,
    /// The upgrade request's headers.
    pub(crate) headers: HeaderMap,
    /// The route's metrics label.
    pub(crate) label: PathLabel,
    /// The route's vendor.
    pub(crate) vendor: &'static Vendor,
}

impl Session {
    /// Record mode's socket to this session's upstream (its vendor's, with the client's path and
    /// headers as record mode forwards them).
    pub(crate) async fn connect_upstream(&self) -> Result<crate::record::socket::Upstream, String> {
        crate::record::socket::Upstream::connect(
            &*self.core,
            self.vendor.key,
            self.vendor.credential,
            &self.headers,
            &self.raw_path,
        )
        .await
    }

    /// A query parameter of the upgrade request (`?model=`).
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        crate::http::percent::query_param(self.query.as_deref(), name)
    }

    /// Start a turn for a request the client's events make.
    pub(crate) fn turn(&self) -> Turn {
        let ctx = RequestCtx::new(
            &self.core.settings,
            ws_method(),
            self.raw_path.clone(),
            self.query.as_deref(),
            self.headers.clone(),
        );
        Turn {
            ex: Exchange::start(self.core.clone(), ctx, self.vendor, true),
            started: std::time::Instant::now(),
            label: self.label,
        }
    }
}

/// One turn of a session: the exchange that matches it and journals it.
#[derive(Debug)]
pub(crate) struct Turn {
    pub(crate) ex: Exchange,
    started: std::time::Instant,
    label: PathLabel,
}

/// What answers a turn when its fixture's events do not.
#[derive(Debug)]
pub(crate) enum NoFixture {
    /// An error event (an error fixture, a miss, chaos's drop or rate limit), with its status for
    /// the journal.
    Error(crate::http::ApiError),
    /// Nothing matched (record mode may send the turn upstream).
    Miss(super::Miss),
    /// Chaos: send a frame that is not JSON.
    Malformed,
    /// Chaos: cut the connection.
    Disconnect,
}

/// How a session's API answers an error turn.
#[derive(Debug)]
pub(crate) enum ErrorAnswer {
    /// With this event; the socket stays open.
    Event(String),
    /// By closing the socket with this code and reason.
    Close(crate::stream::socket::CloseCode, String),
}

impl Turn {
    /// Match the turn's request (journaled with it), chaos rolled once: the fixture whose
    /// events answer it, or what answers it instead.
    pub(crate) fn resolve(
        &mut self,
        req: ChatRequest,
        size: usize,
    ) -> Result<Arc<crate::fixture::Fixture>, NoFixture> {
        let req = Arc::new(req);
        self.ex.set_request(req.clone(), size);
        let answer = self.ex.resolve(&req);
        match (answer, self.ex.chaos().action) {
            (Answer::Error(_), Some(ChaosAction::Malformed)) => Err(NoFixture::Malformed),
            (Answer::Error(_), Some(ChaosAction::Disconnect)) => Err(NoFixture::Disconnect),
            (Answer::Fixture(f), _) => Ok(f),
            (Answer::Error(e), _) => Err(NoFixture::Error(e)),
            (Answer::Miss(m), _) => Err(NoFixture::Miss(m)),
        }
    }

    /// Answer a turn its fixture's events do not answer, and journal it: an error (an error
    /// fixture, a miss, chaos's drop or rate limit) as `on_error` says the session's API answers
    /// one, chaos's malformed frame, or chaos's cut. Whether the socket is still open.
    pub(crate) async fn answer_without_fixture(
        self,
        socket: &mut Socket,
        answer: NoFixture,
        on_error: impl FnOnce(&crate::http::ApiError) -> ErrorAnswer,
    ) -> bool {
        let (open, status) = match answer {
            NoFixture::Error(e) | NoFixture::Miss(super::Miss { error: e, .. }) => {
                let open = match on_error(&e) {
                    ErrorAnswer::Event(event) => socket.send(event).await,
                    ErrorAnswer::Close(code, reason) => {
                        socket.close_with(code, &reason).await;
                        false
                    }
                };
                (open, e.status)
            }
            NoFixture::Malformed => (
                socket.send(crate::chaos::MALFORMED_BODY.to_owned()).await,
                StatusCode::OK,
            ),
            NoFixture::Disconnect => {
                socket.cut();
                (false, StatusCode::OK)
            }
        };
        self.finish(status);
        open
    }

    /// Keep any other body in the journal (a turn with no conversation to match).
    #[allow(
        dead_code,
        reason = "for sessions whose turns have no conversation to match"
    )]
    pub(crate) fn set_body(&mut self, body: JournalBody) {
        self.ex.set_body(body);
    }

    /// Chaos's added latency for this turn.
    pub(crate) fn latency(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ex.chaos().latency_ms)
    }

    /// The events after which the turn is cut: the request's
    /// `x-aimock-chaos-disconnect-after-chunks`, else the fixture's `truncateAfterChunks`.
    pub(crate) fn cut_after(&self, fixture: Option<usize>) -> Option<usize> {
        self.ex.cut_after(fixture)
    }

    /// A recording of this turn answering `request` from `upstream`, keyed by the turn's test id
    /// and context.
    pub(crate) fn recording<'a>(
        &'a self,
        upstream: &'static str,
        request: &'a crate::conversation::ChatRequest,
    ) -> crate::record::proxy::Recording<'a> {
        crate::record::proxy::Recording {
            upstream,
            request,
            test_id: &self.ex.ctx.test_id,
            context: self.ex.ctx.context.as_deref(),
        }
    }

    /// Journal and count the turn as answered with `status` and nothing streamed (an error event,
    /// a malformed frame, a cut).
    pub(crate) fn finish(self, status: StatusCode) {
        let core = self.ex.core.clone();
        let (_, _chaos) = self.ex.record_turn(status, None);
        observe(&core, self.label, status.as_u16(), self.started);
    }

    /// Send the turn's events on the socket (chaos's latency first), then journal how it ended
    /// and count it.
    pub(crate) async fn play(
        self,
        socket: &mut Socket,
        mut plan: TurnPlan,
        heard: impl FnMut(&crate::stream::socket::Frame) -> crate::stream::socket::Heard,
    ) -> TurnEnd {
        plan.truncate_after = self.cut_after(plan.truncate_after);
        let latency = self.latency();
        let core = self.ex.core.clone();
        let (label, started) = (self.label, self.started);
        let (handle, _chaos): (EntryHandle, ChaosDecision) =
            self.ex.record_turn(StatusCode::OK, Some(()));
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let end = socket.play(plan, heard).await;
        crate::journal::on_stream_end(handle)(end.stream_end());
        observe(&core, label, if end.open() { 200 } else { 0 }, started);
        end
    }
}

fn observe(core: &Core, label: PathLabel, status: u16, started: std::time::Instant) {
    if let Some(m) = &core.metrics {
        m.observe_request(RequestKey::socket(label), status, started.elapsed());
    }
}
