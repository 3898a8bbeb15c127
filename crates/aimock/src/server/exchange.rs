//! One request's trip through the shared pipeline: its per-request settings, matching, the journal
//! entry, and errors in a provider-neutral form that each provider renders in its own envelope.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::AppState;
use crate::conversation::ChatRequest;
use crate::fixture::{Fixture, MatchContext, MatchOutcome, DEFAULT_TEST_ID};
use crate::http::ApiError;
use crate::journal::{EntryHandle, JournalBody, JournalEntry};

/// Per-request settings taken from headers and the query.
#[derive(Debug, Clone)]
pub(crate) struct RequestCtx {
    pub(crate) test_id: String,
    pub(crate) context: Option<String>,
    pub(crate) strict: bool,
    pub(crate) strict_override: Option<bool>,
    pub(crate) method: String,
    /// Path and query as received.
    pub(crate) raw_path: String,
    pub(crate) headers: HeaderMap,
    /// The provider API the route belongs to (record mode's upstream).
    pub(crate) provider: Option<crate::record::Provider>,
}

impl RequestCtx {
    pub(crate) fn new(
        state: &AppState,
        method: &str,
        raw_path: &str,
        query: Option<&str>,
        headers: HeaderMap,
    ) -> RequestCtx {
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let test_id = header("x-test-id")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| crate::http::percent::query_param(query, "testId"))
            .unwrap_or_else(|| DEFAULT_TEST_ID.to_owned());
        let context = header("x-aimock-context").map(str::to_owned);
        let strict_header = header("x-aimock-strict").and_then(|v| {
            if v.eq_ignore_ascii_case("true") || v == "1" {
                Some(true)
            } else if v.eq_ignore_ascii_case("false") || v == "0" {
                Some(false)
            } else {
                None
            }
        });
        let strict = strict_header.unwrap_or(state.config.strict);
        RequestCtx {
            test_id,
            context,
            strict,
            strict_override: strict_header.filter(|s| *s != state.config.strict),
            method: method.to_owned(),
            raw_path: raw_path.to_owned(),
            headers,
            provider: None,
        }
    }

    pub(crate) fn match_context(&self, state: &AppState) -> MatchContext<'_> {
        MatchContext {
            test_id: &self.test_id,
            context: self.context.as_deref(),
            // Record mode gates on turnIndex (as aimock does), so a later turn of a conversation
            // goes upstream instead of replaying an earlier turn's recording.
            strict_turn_index: state.config.strict_turn_index || state.recorder.is_some(),
        }
    }
}

/// A request being answered: its context and journal entry.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) state: Arc<AppState>,
    pub(crate) ctx: RequestCtx,
    entry: JournalEntry,
    /// Whether a miss names the closest fixture. Endpoints that answer a miss with a fallback
    /// (embeddings) turn it off: the search costs a scan of every fixture.
    pub(crate) explain_misses: bool,
    /// The request as matched (after normalisation), for record mode's key.
    request: Option<Arc<ChatRequest>>,
    /// Chaos was rolled (once per request, even when `resolve` runs per candidate model).
    chaos_rolled: bool,
    /// The chaos action that answers this request instead of its fixture.
    chaos_hit: Option<crate::chaos::ChaosAction>,
    /// Chaos rolled malformed on a miss that goes upstream: the proxy breaks the relayed body.
    chaos_proxy_malformed: bool,
}

/// What answers a request.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A fixture.
    Fixture(Arc<Fixture>),
    /// An error (from a fixture, a one-shot, a miss or strict mode).
    Error(ApiError),
}

impl Exchange {
    pub(crate) fn new(state: Arc<AppState>, mut ctx: RequestCtx) -> Exchange {
        // The headers move into the journal entry: the journal is their only reader from here on.
        let headers = std::mem::take(&mut ctx.headers);
        let mut entry = JournalEntry::new(&ctx.method, &ctx.raw_path, headers, JournalBody::None);
        entry.response.strict_override = ctx.strict_override;
        // The test id as matching saw it (header, or `?testId=`, or the default).
        entry.test_id = Some(ctx.test_id.clone());
        Exchange {
            state,
            ctx,
            entry,
            explain_misses: true,
            request: None,
            chaos_rolled: false,
            chaos_hit: None,
            chaos_proxy_malformed: false,
        }
    }

    /// The request's headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.entry.headers
    }

    /// Keep the parsed request in the journal; a body over [`crate::journal::JOURNAL_BODY_MAX`] bytes is kept as
    /// a note of its size, so a long-running server's journal stays bounded in memory.
    pub(crate) fn set_request(&mut self, req: Arc<ChatRequest>, body_len: usize) {
        if self.state.recorder.is_some() {
            self.request = Some(req.clone());
        }
        self.entry.body = JournalBody::capped(body_len, || JournalBody::Chat(req));
    }

    /// Name the non-LLM service in the journal.
    #[expect(dead_code, reason = "used by the MCP, A2A and vector surfaces")]
    pub(crate) fn set_service(&mut self, service: &'static str) {
        self.entry.service = Some(service);
    }

    /// Match the request against the fixtures.
    pub(crate) fn resolve(&mut self, req: &ChatRequest) -> Answer {
        // `llm.normalize` rules rewrite the request before matching, and record mode keys the
        // rewritten request, so both sides see the same text.
        if !self.state.config.normalize.is_empty() {
            if let Some(n) = crate::record::normalize::normalize(req, &self.state.config.normalize)
            {
                let n = Arc::new(n);
                if self.state.recorder.is_some() {
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
        let state = self.state.clone();
        let outcome = state.fixtures.resolve(req, &self.ctx.match_context(&state));
        if !self.chaos_rolled {
            self.chaos_rolled = true;
            if let Some(e) = self.roll_chaos(&outcome) {
                // The queued error was not delivered: it answers the next request (aimock too).
                if let MatchOutcome::OneShot(one) = outcome {
                    state.fixtures.requeue_error(one);
                }
                return Answer::Error(e);
            }
        }
        let mcx = self.ctx.match_context(&state);
        match outcome {
            MatchOutcome::Matched { slot, .. } => {
                self.entry.response.fixture = Some(slot.fixture.clone());
                self.entry.response.source = Some("fixture");
                match &slot.fixture.reply {
                    crate::fixture::Reply::Error(e) => Answer::Error(e.to_api_error()),
                    _ => Answer::Fixture(slot.fixture),
                }
            }
            MatchOutcome::OneShot(e) => {
                self.entry.response.source = Some("fixture");
                Answer::Error(e.to_api_error())
            }
            MatchOutcome::Miss {
                skipped_by_position,
            } => {
                let closest = if self.explain_misses || self.ctx.strict {
                    state.fixtures.explain_miss(req, &mcx)
                } else {
                    None
                };
                self.entry.response.miss_reason = closest.clone();
                // Strict mode wins over recording: a strict miss is never sent upstream.
                if !self.ctx.strict {
                    if let (Some(rec), Some(p)) = (&state.recorder, self.ctx.provider) {
                        if rec.proxies(p) {
                            let mut e = ApiError::new(
                                StatusCode::BAD_GATEWAY,
                                "proxy_error",
                                "no fixture matched; sending the request upstream",
                            );
                            e.proxy = true;
                            return Answer::Error(e);
                        }
                    }
                }
                let err = if self.ctx.strict {
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
                Answer::Error(err.with_code("no_fixture_match"))
            }
        }
    }

    /// Whether a miss on this request would be sent upstream by record mode.
    fn miss_would_proxy(&self) -> bool {
        !self.ctx.strict
            && matches!(
                (&self.state.recorder, self.ctx.provider),
                (Some(rec), Some(p)) if rec.proxies(p)
            )
    }

    /// Roll chaos for the request, after matching: the error that answers instead when an action
    /// hits (the route table replaces the rendered error for malformed and disconnect).
    fn roll_chaos(&mut self, outcome: &MatchOutcome) -> Option<ApiError> {
        let fixture = match outcome {
            MatchOutcome::Matched { slot, .. } => Some(&slot.fixture),
            _ => None,
        };
        let roll = self.state.chaos.roll(
            &self.entry.headers,
            fixture.and_then(|f| f.chaos.as_ref()),
            &self.ctx.test_id,
        );
        if roll == crate::chaos::Roll::default() {
            return None;
        }
        let mut pending = crate::chaos::Pending {
            action: None,
            latency_ms: roll.latency_ms,
            cut_after_chunks: roll.cut_after_chunks,
        };
        let source = match outcome {
            MatchOutcome::Miss { .. } if self.miss_would_proxy() => "proxy",
            MatchOutcome::Miss { .. } => "internal",
            _ => "fixture",
        };
        let hit = match roll.action {
            // The proxy runs, records, then relays a broken body (or bypasses a stream).
            Some(crate::chaos::ChaosAction::Malformed) if source == "proxy" => {
                self.chaos_proxy_malformed = true;
                None
            }
            other => other,
        };
        if let Some(action) = hit {
            if let Some(f) = fixture {
                self.entry.response.fixture = Some(f.clone());
            }
            self.entry.response.source = Some(source);
            self.entry.response.chaos_action = Some(action.as_str());
            if let Some(m) = &self.state.metrics {
                m.chaos_triggered(action.as_str(), source);
            }
            self.chaos_hit = Some(action);
            pending.action = Some(action);
        }
        crate::chaos::set_pending(pending);
        hit.map(chaos_error)
    }

    /// Record the entry with its final status (chaos decides it when an action answered).
    pub(crate) fn finish(mut self, status: StatusCode) -> EntryHandle {
        self.entry.response.status = match self.chaos_hit {
            Some(crate::chaos::ChaosAction::Malformed) => 200,
            Some(crate::chaos::ChaosAction::Disconnect) => 0,
            _ => status.as_u16(),
        };
        self.state.journal.record(self.entry)
    }

    /// Record the entry for a stream that is starting; the handle is updated when it ends.
    pub(crate) fn start_stream(mut self) -> EntryHandle {
        self.entry.response.status = 200;
        self.entry.response.delivered = None;
        self.state.journal.record(self.entry)
    }

    /// Record an error and render it with the provider's envelope. A miss that record mode sends
    /// upstream becomes a [`crate::record::proxy::ProxyJob`] on an empty response instead; the
    /// route table runs it with the request's body.
    pub(crate) fn fail(self, err: ApiError, render: fn(&ApiError) -> Response) -> Response {
        if err.proxy {
            if let Some(p) = self.ctx.provider {
                return crate::record::proxy::ProxyJob::response(
                    crate::record::proxy::ProxyJobData {
                        entry: self.entry,
                        request: self.request,
                        provider: p,
                        test_id: self.ctx.test_id,
                        context: self.ctx.context,
                        render,
                        malformed: self.chaos_proxy_malformed,
                    },
                );
            }
        }
        let status = err.status;
        self.finish(status);
        render(&err)
    }
}

/// The error a chaos action answers with, in the provider's envelope. Malformed and disconnect are
/// replaced by the route table; their error only shows if a response escapes it.
fn chaos_error(action: crate::chaos::ChaosAction) -> ApiError {
    use crate::chaos::ChaosAction;
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

/// Hook a stream's end into its journal entry.
pub(crate) fn on_stream_end(
    handle: EntryHandle,
) -> Box<dyn FnOnce(crate::stream::StreamEnd) + Send> {
    Box::new(move |end| {
        handle.update(|e| match end {
            crate::stream::StreamEnd::Complete => e.response.delivered = Some(true),
            crate::stream::StreamEnd::Interrupted(reason) => {
                e.response.delivered = Some(false);
                e.response.interrupted = true;
                e.response.interrupt_reason = Some(reason.to_owned());
            }
            crate::stream::StreamEnd::ClientGone => {
                e.response.delivered = Some(false);
                e.response.interrupted = true;
                e.response.interrupt_reason = Some("clientDisconnected".to_owned());
            }
        })
    })
}
