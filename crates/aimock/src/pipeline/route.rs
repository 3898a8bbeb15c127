//! Routes: what a provider declares about each of its endpoints, and the call an endpoint gets.
//!
//! A provider's `route(method, path)` recognises its own paths and answers a [`Route`]: the
//! endpoint that serves it, its [`Vendor`] (error envelope, headers on every answer, record
//! mode's upstream and credential), the metrics label (the route's shape, never the raw path),
//! the collapser that turns an upstream reply into a fixture, and what the path itself says
//! ([`RouteInfo`]). The server dispatches on it, counts it under its label, refuses a bad API key
//! in its envelope, and hands the endpoint a [`Call`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::HeaderMap;

use super::{Core, RequestCtx};
use crate::http::{ApiError, Envelope};
use crate::metrics::PathLabel;

/// Serves a call.
pub(crate) type Endpoint = fn(Call) -> Answered;

/// What an endpoint answers: at once (the usual case, with nothing to wait for: no future is
/// boxed), or later (record mode's upstream call).
pub(crate) enum Answered {
    /// The answer.
    Now(Response),
    /// A future answer.
    Later(BoxFuture<'static, Response>),
}

impl Answered {
    /// The answer, once it is there.
    pub(crate) async fn get(self) -> Response {
        match self {
            Answered::Now(r) => r,
            Answered::Later(f) => f.await,
        }
    }
}

impl From<Response> for Answered {
    fn from(r: Response) -> Answered {
        Answered::Now(r)
    }
}

/// A provider API's conventions, shared by its routes.
#[derive(Debug)]
pub(crate) struct Vendor {
    /// Record mode's name for the upstream (`--provider-<key>`, `llm.record.providers.<key>`),
    /// also the prefix of its recordings' file names.
    pub(crate) key: &'static str,
    /// How the server's own credential goes upstream.
    pub(crate) credential: crate::record::Credential,
    /// The error envelope.
    pub(crate) envelope: Envelope,
    /// Headers every answer carries, errors included (a request id): given the response's
    /// headers and the request's.
    pub(crate) decorate: Option<fn(&mut HeaderMap, &HeaderMap)>,
}

impl Vendor {
    /// An error in this vendor's envelope, with its headers.
    pub(crate) fn error(&self, e: &ApiError, headers: &HeaderMap) -> Response {
        let mut r = (self.envelope)(e, headers);
        self.decorate(r.headers_mut(), headers);
        r
    }

    /// Add the headers every answer carries.
    pub(crate) fn decorate(&self, out: &mut HeaderMap, request: &HeaderMap) {
        if let Some(d) = self.decorate {
            d(out, request);
        }
    }
}

/// What the path says, beside the route: the deployment, model and action it names.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteInfo {
    /// Azure deployment id.
    pub(crate) deployment: Option<String>,
    /// The model named in the path (Gemini, Vertex, Bedrock), percent-decoded.
    pub(crate) model: Option<String>,
    /// The operation the path names (`generateContent`, `converse-stream`, ...).
    pub(crate) action: Option<&'static str>,
    /// Which flavour of the provider's API (`vertex`, ...), when one module serves several.
    pub(crate) variant: Option<&'static str>,
    /// A resource the path names (`/v1/responses/{id}`), percent-decoded.
    pub(crate) id: Option<String>,
    /// A resource inside it (`/v1/conversations/{id}/items/{item_id}`), percent-decoded.
    pub(crate) item: Option<String>,
}

/// A matched route.
#[derive(Clone)]
pub(crate) struct Route {
    /// Serves it.
    pub(crate) endpoint: Endpoint,
    /// Envelope, headers, upstream.
    pub(crate) vendor: &'static Vendor,
    /// The metrics `path` label.
    pub(crate) label: PathLabel,
    /// Reads an upstream reply into a fixture; `None`: record mode never proxies this route.
    pub(crate) collapse: Option<&'static crate::record::Collapser>,
    /// What the path says.
    pub(crate) info: RouteInfo,
    /// A stateful API (files, batches, ...) answering without fixtures: the journal's `service`.
    /// The server journals its answers and rolls chaos before its endpoint runs.
    pub(crate) stateful: Option<&'static str>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("vendor", &self.vendor.key)
            .field("label", &self.label)
            .field("info", &self.info)
            .finish()
    }
}

impl Route {
    /// A route of `vendor` served by `endpoint`, counted under `label`.
    pub(crate) fn new(endpoint: Endpoint, vendor: &'static Vendor, label: PathLabel) -> Route {
        Route {
            endpoint,
            vendor,
            label,
            collapse: None,
            info: RouteInfo::default(),
            stateful: None,
        }
    }

    /// [`Route::stateful`], unless `fixture_matched` (a route whose endpoint is matched against
    /// the fixtures journals itself).
    #[must_use]
    pub(crate) fn stateful_unless(self, fixture_matched: bool, service: &'static str) -> Route {
        if fixture_matched {
            self
        } else {
            self.stateful(service)
        }
    }

    /// A stateful API's route, journaled under `service`, chaos rolled before it answers.
    #[must_use]
    pub(crate) fn stateful(mut self, service: &'static str) -> Route {
        self.stateful = Some(service);
        self
    }

    /// Record mode proxies misses on this route, reading replies with `collapse`.
    #[must_use]
    pub(crate) fn recorded(mut self, collapse: &'static crate::record::Collapser) -> Route {
        self.collapse = Some(collapse);
        self
    }

    /// What the path says.
    #[must_use]
    pub(crate) fn with_info(mut self, info: RouteInfo) -> Route {
        self.info = info;
        self
    }
}

/// A request for an endpoint: the shared core, the request's settings, the route, the body
/// (read, bounded).
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) core: Arc<Core>,
    /// The request's settings; the exchange takes them (with the headers) when it starts.
    pub(crate) ctx: RequestCtx,
    pub(crate) route: Route,
    /// The query string, as received.
    pub(crate) query: Option<String>,
    pub(crate) body: Bytes,
}
