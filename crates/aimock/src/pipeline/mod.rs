//! The per-request pipeline below the providers and the other surfaces: what every request
//! reaches ([`Core`]: settings, fixtures, journal, chaos, metrics, record mode), the request's own
//! settings ([`RequestCtx`]), the matched route ([`Route`], [`Call`]), and one request's trip
//! through matching, chaos and the journal ([`Exchange`], with an [`Answer`] that tells a real
//! [`Miss`] from an error).
//!
//! Nothing here knows a provider's wire format: a provider declares its routes and envelope
//! ([`Vendor`]) and renders; the pipeline decides what answers and records it.

pub(crate) mod exchange;
pub(crate) mod route;
pub(crate) mod service;
pub(crate) mod socket;
pub(crate) mod stored;
pub(crate) mod videos;

use std::borrow::Cow;

use http::HeaderMap;

pub(crate) use exchange::{Answer, ChaosDecision, Exchange, Miss};
pub(crate) use route::{Answered, Call, Endpoint, Route, RouteInfo, Vendor};
pub(crate) use service::{
    clean_mount_path, ControlDefault, Handled, MountedService, ServiceRequest, Surface,
};

use crate::fixture::{FixtureStore, MatchContext};
use crate::http::DEFAULT_TEST_ID;
use crate::journal::Journal;

/// The pipeline's settings (the part of the server's configuration a request needs).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Answer a miss with 503 instead of 404.
    pub(crate) strict: bool,
    /// Default delay before each streamed event (ms).
    pub(crate) latency: f64,
    /// Default characters per streamed text chunk.
    pub(crate) chunk_size: usize,
    /// Divides every streaming delay.
    pub(crate) replay_speed: f64,
    /// Largest request body accepted, in bytes.
    pub(crate) max_body_bytes: usize,
    /// `turnIndex` as a hard gate.
    pub(crate) strict_turn_index: bool,
    /// Rewrite rules applied to request text before matching and recording.
    pub(crate) normalize: Vec<crate::record::normalize::NormalizeRule>,
    /// The server's progression of each polled job API, for fixtures that set none.
    pub(crate) progressions:
        std::collections::BTreeMap<crate::pipeline::videos::PollingApi, (u32, u32)>,
}

/// What every request reaches, shared by all of them: the fixtures, the journal, chaos, metrics,
/// record mode, the search/rerank/moderation fixtures, and the settings. Providers and mounted
/// services get this, never the whole server.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) settings: Settings,
    /// The fixtures.
    pub(crate) fixtures: FixtureStore,
    /// The journal.
    pub(crate) journal: Journal,
    /// Chaos rates, overrides and rolls.
    pub(crate) chaos: crate::chaos::ChaosState,
    /// Prometheus metrics, when on.
    pub(crate) metrics: Option<crate::metrics::Metrics>,
    /// Search, rerank and moderation fixtures.
    pub(crate) services: crate::services::Services,
    /// Record mode's upstream client and fixture writer.
    pub(crate) recorder: Option<crate::record::proxy::Recorder>,
    /// Whether inbound API keys are checked (record mode then never forwards the caller's key).
    pub(crate) auth_on: bool,
    /// The responses stateful APIs keep (`store`, `previous_response_id`).
    pub(crate) stored: stored::StoredResponses,
    /// The Conversations API's conversations.
    pub(crate) conversations: stored::StoredConversations,
    /// The Files API's uploads.
    pub(crate) files: stored::StoredFiles,
    /// The Batches API's batches.
    pub(crate) batches: stored::StoredBatches,
    /// The fine-tuning jobs.
    pub(crate) jobs: stored::StoredJobs,
    /// The video generation jobs (Sora, OpenRouter, Veo, Grok, BytePlus Ark).
    pub(crate) videos: videos::Jobs,
    /// The voices ElevenLabs' Voice Design made (`POST /v1/text-to-voice`).
    pub(crate) voices: stored::Bounded<serde_json::Value>,
    /// fal's queued requests, by test id and request id.
    pub(crate) fal: stored::StoredFalJobs,
    /// The Gemini Interactions API's stored interactions.
    pub(crate) interactions: stored::StoredInteractions,
}

impl Core {
    /// The largest request body accepted, in bytes.
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.settings.max_body_bytes
    }
}

impl crate::record::proxy::Host for Core {
    fn recorder(&self) -> Option<&crate::record::proxy::Recorder> {
        self.recorder.as_ref()
    }
    fn journal(&self) -> &Journal {
        &self.journal
    }
    fn fixtures(&self) -> &FixtureStore {
        &self.fixtures
    }
    fn metrics(&self) -> Option<&crate::metrics::Metrics> {
        self.metrics.as_ref()
    }
    fn auth_on(&self) -> bool {
        self.auth_on
    }
}

/// Per-request settings taken from headers and the query.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestCtx {
    /// The test id (borrowed for the default, the usual case).
    pub(crate) test_id: Cow<'static, str>,
    pub(crate) context: Option<String>,
    pub(crate) strict: bool,
    pub(crate) strict_override: Option<bool>,
    pub(crate) method: http::Method,
    /// Path and query as received.
    pub(crate) raw_path: String,
    pub(crate) headers: HeaderMap,
}

impl RequestCtx {
    pub(crate) fn new(
        settings: &Settings,
        method: http::Method,
        raw_path: String,
        query: Option<&str>,
        headers: HeaderMap,
    ) -> RequestCtx {
        let meta = Meta::scan(&headers);
        let test_id = match meta.test_id {
            Some(id) => Cow::Owned(id.to_owned()),
            None => {
                match query.and_then(|q| crate::http::percent::query_param(Some(q), "testId")) {
                    Some(id) => Cow::Owned(id),
                    None => Cow::Borrowed(DEFAULT_TEST_ID),
                }
            }
        };
        let context = meta.context.map(str::to_owned);
        let strict_header = meta.strict;
        let strict = strict_header.unwrap_or(settings.strict);
        RequestCtx {
            test_id,
            context,
            strict,
            strict_override: strict_header.filter(|s| *s != settings.strict),
            method,
            raw_path,
            headers,
        }
    }

    pub(crate) fn match_context(&self, core: &Core) -> MatchContext<'_> {
        MatchContext {
            test_id: &self.test_id,
            context: self.context.as_deref(),
            // Record mode gates on turnIndex (as aimock does), so a later turn of a conversation
            // goes upstream instead of replaying an earlier turn's recording.
            strict_turn_index: core.settings.strict_turn_index || core.recorder.is_some(),
        }
    }
}

/// What aimock's own request headers say (`X-Test-Id`, `X-AIMock-Context`, `X-AIMock-Strict`),
/// read in one pass over the headers: most requests carry none of them, and a pass over a few
/// names costs less than a hashed look-up of each.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Meta<'h> {
    /// `X-Test-Id`, trimmed, when not empty.
    pub(crate) test_id: Option<&'h str>,
    /// `X-AIMock-Context`, trimmed.
    pub(crate) context: Option<&'h str>,
    /// `X-AIMock-Strict`: `true`/`1` or `false`/`0` (anything else says nothing).
    pub(crate) strict: Option<bool>,
}

impl<'h> Meta<'h> {
    /// Read the headers (the first value of each counts).
    pub(crate) fn scan(headers: &'h HeaderMap) -> Meta<'h> {
        let mut m = Meta::default();
        let (mut seen_test_id, mut seen_context, mut seen_strict) = (false, false, false);
        for (name, value) in headers {
            let n = name.as_str();
            if !n.starts_with("x-") {
                continue;
            }
            let text = || value.to_str().ok().map(str::trim);
            match n {
                "x-test-id" if !seen_test_id => {
                    seen_test_id = true;
                    m.test_id = text().filter(|s| !s.is_empty());
                }
                "x-aimock-context" if !seen_context => {
                    seen_context = true;
                    m.context = text();
                }
                "x-aimock-strict" if !seen_strict => {
                    seen_strict = true;
                    m.strict = text().and_then(|v| {
                        if v.eq_ignore_ascii_case("true") || v == "1" {
                            Some(true)
                        } else if v.eq_ignore_ascii_case("false") || v == "0" {
                            Some(false)
                        } else {
                            None
                        }
                    });
                }
                _ => {}
            }
        }
        m
    }
}

/// A request's test id: `X-Test-Id`, else `?testId=`, else [`DEFAULT_TEST_ID`].
pub(crate) fn test_id<'h>(headers: &'h HeaderMap, query: Option<&str>) -> Cow<'h, str> {
    match Meta::scan(headers).test_id {
        Some(id) => Cow::Borrowed(id),
        None => match crate::http::percent::query_param(query, "testId") {
            Some(id) => Cow::Owned(id),
            None => Cow::Borrowed(DEFAULT_TEST_ID),
        },
    }
}
