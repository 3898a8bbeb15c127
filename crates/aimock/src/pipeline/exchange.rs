//! One request's trip through the pipeline: matching, chaos, the journal entry, and the answer.
//!
//! The chaos decision is a value: rolled once, after matching, it is kept here, handed to the
//! stream plan (a cut after n events) and put on the response as a [`ChaosDecision`] extension,
//! which the server applies (the added latency, a malformed body, a cut connection) after the
//! endpoint returns. Nothing travels through thread-local state, so endpoints may be async.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::{Call, Core, RequestCtx, Vendor};
use crate::chaos::ChaosAction;
use crate::conversation::ChatRequest;
use crate::fixture::{Fixture, MatchOutcome};
use crate::http::ApiError;
use crate::journal::{EntryHandle, JournalBody, JournalEntry};
use crate::stream::StreamPlan;

/// What answers a request.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A fixture.
    Fixture(Arc<Fixture>),
    /// An error: an error fixture, a queued one-shot error, or chaos.
    Error(ApiError),
    /// Nothing matched.
    Miss(Miss),
}

/// Nothing matched: the answer the pipeline would give (404, or 503 in strict mode), and whether
/// record mode sends the request upstream instead.
#[derive(Debug)]
pub(crate) struct Miss {
    /// The error a client gets when nothing else answers.
    pub(crate) error: ApiError,
    /// The request is strict (a strict miss is an error even where a fallback exists).
    pub(crate) strict: bool,
    /// Record mode proxies it.
    pub(crate) proxy: bool,
}

/// What chaos decided for a request, carried on its response for the server to apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChaosDecision {
    /// Replace the response (malformed, disconnect); drop and rate limit are rendered in the
    /// provider's envelope and need nothing more.
    pub(crate) action: Option<ChaosAction>,
    /// Wait this long before answering.
    pub(crate) latency_ms: u64,
}

impl ChaosDecision {
    /// Put the decision on a response (nothing when there is nothing to do).
    pub(crate) fn attach(self, resp: &mut Response) {
        if self != ChaosDecision::default() {
            resp.extensions_mut().insert(self);
        }
    }
}

/// A request being answered: its context, its route's vendor and its journal entry.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) core: Arc<Core>,
    pub(crate) ctx: RequestCtx,
    vendor: &'static Vendor,
    /// Record mode may proxy a miss of this route.
    recordable: bool,
    entry: JournalEntry,
    /// Whether a miss names the closest fixture. Endpoints that answer a miss with a fallback
    /// (embeddings) turn it off: the search costs a scan of every fixture.
    pub(crate) explain_misses: bool,
    /// The request as matched (after normalisation), for record mode's key.
    request: Option<Arc<ChatRequest>>,
    /// Chaos was rolled (once per request, even when `resolve` runs per candidate model).
    chaos_rolled: bool,
    /// The chaos action that answers this request instead of its fixture.
    chaos_hit: Option<ChaosAction>,
    /// What the server does to the response.
    chaos: ChaosDecision,
    /// Cut a stream after this many events (`x-aimock-chaos-disconnect-after-chunks`).
    cut_after_chunks: Option<usize>,
    /// Chaos rolled malformed on a miss that goes upstream: the proxy breaks the relayed body.
    chaos_proxy_malformed: bool,
}

impl Exchange {
    /// The exchange for a call (its headers move into the journal entry).
    pub(crate) fn new(call: &mut Call) -> Exchange {
        let ctx = std::mem::take(&mut call.ctx);
        Exchange::start(
            call.core.clone(),
            ctx,
            call.route.vendor,
            call.route.collapse.is_some(),
        )
    }

    /// An exchange outside a provider route.
    pub(crate) fn start(
        core: Arc<Core>,
        mut ctx: RequestCtx,
        vendor: &'static Vendor,
        recordable: bool,
    ) -> Exchange {
        // The headers move into the journal entry: the journal is their only reader from here on.
        let headers = std::mem::take(&mut ctx.headers);
        // The test id as matching saw it (header, or `?testId=`, or the default).
        let mut entry = JournalEntry::with_test_id(
            ctx.method.as_str(),
            // The journal is the path's only reader from here on too.
            std::mem::take(&mut ctx.raw_path),
            headers,
            JournalBody::None,
            Some(ctx.test_id.clone()),
        );
        entry.response.strict_override = ctx.strict_override;
        Exchange {
            core,
            ctx,
            vendor,
            recordable,
            entry,
            explain_misses: true,
            request: None,
            chaos_rolled: false,
            chaos_hit: None,
            chaos: ChaosDecision::default(),
            cut_after_chunks: None,
            chaos_proxy_malformed: false,
        }
    }

    /// The request's headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.entry.headers
    }

    /// The request's path, without its query.
    pub(crate) fn path(&self) -> &str {
        let p = self.entry.path.as_str();
        p.split_once('?').map_or(p, |(path, _)| path)
    }

    /// Whether the request is strict (the server's mode or `X-AIMock-Strict`).
    pub(crate) fn strict(&self) -> bool {
        self.ctx.strict
    }

    /// Keep the parsed request in the journal; a body over [`crate::journal::JOURNAL_BODY_MAX`]
    /// bytes is kept as a note of its size, so a long-running server's journal stays bounded.
    pub(crate) fn set_request(&mut self, req: Arc<ChatRequest>, body_len: usize) {
        if self.core.recorder.is_some() {
            self.request = Some(req.clone());
        }
        self.entry.body = JournalBody::capped(body_len, || JournalBody::Chat(req));
    }

    /// Keep any other body in the journal.
    pub(crate) fn set_body(&mut self, body: JournalBody) {
        self.entry.body = body;
    }

    /// Name the non-LLM service in the journal.
    pub(crate) fn set_service(&mut self, service: &'static str) {
        self.entry.service = Some(service);
    }

    /// Match the request against the fixtures.
    pub(crate) fn resolve(&mut self, req: &ChatRequest) -> Answer {
        // `llm.normalize` rules rewrite the request before matching, and record mode keys the
        // rewritten request, so both sides see the same text.
        if !self.core.settings.normalize.is_empty() {
            if let Some(n) = crate::record::normalize::normalize(req, &self.core.settings.normalize)
            {
                let n = Arc::new(n);
                if self.core.recorder.is_some() {
                    self.request = Some(n.clone());
                }
                return self.resolve_as(&n);
            }
        }
        self.resolve_as(req)
    }

    fn resolve_as(&mut self, req: &ChatRequest) -> Answer {
        if let Some(action) = self.chaos_hit {
            return Answer::Error(chaos_error(action));
        }
        let core = self.core.clone();
        let outcome = core.fixtures.resolve(req, &self.ctx.match_context(&core));
        if !self.chaos_rolled {
            self.chaos_rolled = true;
            if let Some(e) = self.roll_chaos(&outcome) {
                // The queued error was not delivered: it answers the next request (aimock too).
                if let MatchOutcome::OneShot(one) = outcome {
                    core.fixtures.requeue_error(one);
                }
                return Answer::Error(e);
            }
        }
        match outcome {
            MatchOutcome::Matched { slot, .. } => {
                self.entry.response.fixture = Some(slot.fixture.clone());
                self.entry.response.source = Some("fixture");
                // A Rust mock may compute its reply per request; a reply that does not compile
                // is an error in the provider's envelope, never a panic.
                let fixture = match slot.fixture.answer_for(req) {
                    Ok(f) => f,
                    Err(message) => {
                        return Answer::Error(
                            ApiError::new(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "server_error",
                                message,
                            )
                            .with_code("invalid_mock_reply"),
                        )
                    }
                };
                match &fixture.reply {
                    crate::fixture::Reply::Error(e) => Answer::Error(e.to_api_error()),
                    _ => Answer::Fixture(fixture),
                }
            }
            MatchOutcome::OneShot(e) => {
                self.entry.response.source = Some("fixture");
                Answer::Error(e.to_api_error())
            }
            MatchOutcome::Miss {
                skipped_by_position,
            } => {
                let strict = self.ctx.strict;
                let closest = if self.explain_misses || strict {
                    core.fixtures
                        .explain_miss(req, &self.ctx.match_context(&core))
                } else {
                    None
                };
                self.entry.response.miss_reason = closest.clone();
                let error = if strict {
                    let msg = if skipped_by_position > 0 {
                        format!(
                            "Strict mode: {skipped_by_position} candidate fixture(s) skipped by sequence/turn state"
                        )
                    } else {
                        "Strict mode: no fixture matched".to_owned()
                    };
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "invalid_request_error",
                        append(msg, closest.as_deref()),
                    )
                } else {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "invalid_request_error",
                        append("No fixture matched".to_owned(), closest.as_deref()),
                    )
                };
                Answer::Miss(Miss {
                    error: error.with_code("no_fixture_match"),
                    strict,
                    // Strict mode wins over recording: a strict miss is never sent upstream.
                    proxy: self.miss_would_proxy(),
                })
            }
        }
    }

    /// Whether a miss on this request would be sent upstream by record mode.
    fn miss_would_proxy(&self) -> bool {
        !self.ctx.strict
            && self.recordable
            && self
                .core
                .recorder
                .as_ref()
                .is_some_and(|r| r.proxies(self.vendor.key))
    }

    /// Roll chaos for the request, after matching: the error that answers instead when an action
    /// hits (the server replaces the rendered error for malformed and disconnect).
    fn roll_chaos(&mut self, outcome: &MatchOutcome) -> Option<ApiError> {
        let fixture = match outcome {
            MatchOutcome::Matched { slot, .. } => Some(&slot.fixture),
            _ => None,
        };
        let roll = self.core.chaos.roll(
            &self.entry.headers,
            fixture.and_then(|f| f.chaos.as_ref()),
            &self.ctx.test_id,
        );
        self.cut_after_chunks = roll.cut_after_chunks;
        self.chaos.latency_ms = roll.latency_ms;
        let source = match outcome {
            MatchOutcome::Miss { .. } if self.miss_would_proxy() => "proxy",
            MatchOutcome::Miss { .. } => "internal",
            _ => "fixture",
        };
        let hit = match roll.action {
            // The proxy runs, records, then relays a broken body (or bypasses a stream).
            Some(ChaosAction::Malformed) if source == "proxy" => {
                self.chaos_proxy_malformed = true;
                None
            }
            other => other,
        };
        let action = hit?;
        if let Some(f) = fixture {
            self.entry.response.fixture = Some(f.clone());
        }
        self.entry.response.source = Some(source);
        self.entry.response.chaos_action = Some(action.as_str());
        if let Some(m) = &self.core.metrics {
            m.chaos_triggered(action.as_str(), source);
        }
        self.chaos_hit = Some(action);
        self.chaos.action = Some(action);
        Some(chaos_error(action))
    }

    /// Record the entry with its final status (chaos decides it when an action answered).
    fn record(mut self, status: StatusCode) -> (EntryHandle, ChaosDecision) {
        self.entry.response.status = match self.chaos_hit {
            Some(ChaosAction::Malformed) => 200,
            Some(ChaosAction::Disconnect) => 0,
            _ => status.as_u16(),
        };
        let chaos = self.chaos;
        (self.core.journal.record(self.entry), chaos)
    }

    /// Journal a WebSocket turn: answered with `status`, its events still to be sent when
    /// `streaming` (their delivery is recorded through the handle).
    pub(crate) fn record_turn(
        mut self,
        status: StatusCode,
        streaming: Option<()>,
    ) -> (EntryHandle, ChaosDecision) {
        if streaming.is_some() {
            self.entry.response.delivered = None;
        }
        self.record(status)
    }

    /// Answer with a response the endpoint built (its status is journaled), decorated with the
    /// vendor's headers.
    pub(crate) fn reply(self, mut resp: Response) -> Response {
        self.vendor
            .decorate(resp.headers_mut(), &self.entry.headers);
        let (_, chaos) = self.record(resp.status());
        chaos.attach(&mut resp);
        resp
    }

    /// Answer 200 with a JSON body.
    pub(crate) fn json(self, body: impl Into<axum::body::Body>) -> Response {
        self.reply(crate::http::json_body(body))
    }

    /// Answer with an error in the vendor's envelope.
    pub(crate) fn fail(self, err: ApiError) -> Response {
        let mut resp = self.vendor.error(&err, &self.entry.headers);
        let (_, chaos) = self.record(err.status);
        chaos.attach(&mut resp);
        resp
    }

    /// The events after which a stream is cut: the request's
    /// `x-aimock-chaos-disconnect-after-chunks` when it sent one, else the fixture's
    /// `truncateAfterChunks`.
    pub(crate) fn cut_after(&self, fixture: Option<usize>) -> Option<usize> {
        self.cut_after_chunks.or(fixture)
    }

    /// Answer with a stream: journaled as starting, its end recorded when it ends.
    pub(crate) fn stream(mut self, mut plan: StreamPlan, content_type: &'static str) -> Response {
        plan.truncate_after = self.cut_after(plan.truncate_after);
        self.entry.response.delivered = None;
        let mut extra = HeaderMap::new();
        self.vendor.decorate(&mut extra, &self.entry.headers);
        let (handle, chaos) = self.record(StatusCode::OK);
        plan.on_end = Some(crate::journal::on_stream_end(handle));
        let mut resp =
            crate::stream::stream_response(crate::stream::paced_body(plan), content_type);
        resp.headers_mut().extend(extra);
        chaos.attach(&mut resp);
        resp
    }

    /// What record mode needs to send the request upstream: the journal entry moves into it.
    pub(crate) fn into_proxy_job(
        self,
        collapse: &'static crate::record::Collapser,
    ) -> crate::record::proxy::ProxyJobData {
        crate::record::proxy::ProxyJobData {
            entry: self.entry,
            request: self.request,
            upstream: self.vendor.key,
            credential: self.vendor.credential,
            collapse,
            test_id: self.ctx.test_id.into_owned(),
            context: self.ctx.context,
            envelope: self.vendor.envelope,
            malformed: self.chaos_proxy_malformed,
        }
    }

    /// Roll chaos for a request no LLM fixture answers (search, rerank, moderation, mounted
    /// services): the request's and the server's rates, source `internal`. The error that answers
    /// instead when an action hits.
    pub(crate) fn roll_chaos_unmatched(&mut self) -> Option<ApiError> {
        if self.chaos_rolled {
            return None;
        }
        self.chaos_rolled = true;
        let roll = self
            .core
            .chaos
            .roll(&self.entry.headers, None, &self.ctx.test_id);
        self.cut_after_chunks = roll.cut_after_chunks;
        self.chaos.latency_ms = roll.latency_ms;
        let action = roll.action?;
        self.entry.response.source = Some("internal");
        self.entry.response.chaos_action = Some(action.as_str());
        if let Some(m) = &self.core.metrics {
            m.chaos_triggered(action.as_str(), "internal");
        }
        self.chaos_hit = Some(action);
        self.chaos.action = Some(action);
        Some(chaos_error(action))
    }

    /// Where the answer came from, for the journal (`fixture`, `internal`).
    pub(crate) fn set_source(&mut self, source: &'static str) {
        if self.entry.response.source.is_none() {
            self.entry.response.source = Some(source);
        }
    }

    /// Why nothing matched, for the journal.
    pub(crate) fn set_miss_reason(&mut self, reason: String) {
        self.entry.response.miss_reason = Some(reason);
    }

    /// The chaos decision so far (for answers built outside [`Exchange::reply`]).
    pub(crate) fn chaos(&self) -> ChaosDecision {
        self.chaos
    }
}

/// The error a chaos action answers with, in the provider's envelope. Malformed and disconnect are
/// replaced by the server; their error only shows if a response escapes it.
pub(crate) fn chaos_error(action: ChaosAction) -> ApiError {
    match action {
        ChaosAction::Drop => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Chaos: request dropped",
        )
        .with_code("chaos_drop"),
        ChaosAction::RateLimit => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "Chaos: rate limit exceeded",
            )
            .with_code("chaos_ratelimit");
            e.retry_after = Some(1.0);
            e
        }
        ChaosAction::Malformed => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Chaos: malformed response",
        )
        .with_code("chaos_malformed"),
        ChaosAction::Disconnect => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Chaos: connection cut",
        )
        .with_code("chaos_disconnect"),
    }
}

fn append(msg: String, closest: Option<&str>) -> String {
    match closest {
        Some(c) => format!("{msg}; {c}"),
        None => msg,
    }
}
