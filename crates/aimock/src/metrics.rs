//! Prometheus metrics (`--metrics`, served at `/metrics`).
//!
//! The names, types and labels are aimock's: `aimock_requests_total{method,path,status}`,
//! `aimock_request_duration_seconds{method,path}`, `aimock_fixtures_loaded`,
//! `aimock_chaos_triggered_total{action,source}`, `aimock_chaos_bypassed_total{action,source,reason}`
//! and the per-surface counters of the MCP, A2A, vector and AG-UI mocks.
//!
//! The `path` label is the route's shape, never the raw path: each route declares its label where
//! it is declared (`crate::pipeline::Route`), with the ids in its path as placeholders
//! (`/model/{modelId}/converse`) and OpenAI-compatible prefixes under their canonical route
//! (`/v4/chat/completions` is `/v1/chat/completions`); a mounted service is counted under its
//! mount path, and a path no route serves is `{unknown}`, so a client (or a fuzzer) cannot grow
//! the label set. Labels are built from `&'static str` pieces, so counting a request allocates
//! nothing.
//!
//! Durations are measured from the moment the request reaches the server to the moment the
//! response head is ready; for a streamed answer that is the time to the first byte, not to the
//! end of the stream.

use std::fmt::Write as _;
use std::time::Duration;

use http::Method;
use prometheus_client::encoding::{
    EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// `Content-Type` of the Prometheus text format 0.0.4 (the default answer).
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `Content-Type` of the OpenMetrics text format (answered when the scraper asks for it).
pub(crate) const OPENMETRICS_TEXT: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the request-duration histogram, in seconds (aimock's).
pub(crate) const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of a path no route serves.
pub(crate) const UNKNOWN_PATH: &str = "{unknown}";

/// `Some(the static spelling of s)` when `s` is one of the listed literals.
macro_rules! pick {
    ($s:expr; $($lit:literal),+ $(,)?) => {
        match $s { $($lit => Some($lit),)+ _ => None }
    };
}

/// A `path` label: up to three static pieces, written one after the other. Two different piece
/// lists never spell the same label (each rule below has its own fixed head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PathLabel([&'static str; 3]);

impl PathLabel {
    /// The label of a path no route serves.
    pub(crate) const UNKNOWN: PathLabel = PathLabel([UNKNOWN_PATH, "", ""]);

    /// One piece.
    pub(crate) const fn one(a: &'static str) -> PathLabel {
        PathLabel([a, "", ""])
    }

    /// Two pieces, one after the other.
    pub(crate) const fn two(a: &'static str, b: &'static str) -> PathLabel {
        PathLabel([a, b, ""])
    }

    /// Three pieces, one after the other.
    pub(crate) const fn three(a: &'static str, b: &'static str, c: &'static str) -> PathLabel {
        PathLabel([a, b, c])
    }

    /// The label of a control-API path (`/__aimock/...`): its closed set of sub-paths, anything
    /// else `/__aimock/{other}`.
    pub(crate) fn control(path: &str) -> PathLabel {
        let sub = path.strip_prefix("/__aimock").unwrap_or(path);
        let known = pick!(sub;
            "/health", "/journal", "/fixtures", "/chaos", "/reset", "/reset/journal",
            "/reset/fixtures", "/error",
        );
        match known {
            Some(s) => PathLabel::two("/__aimock", s),
            None => PathLabel::one("/__aimock/{other}"),
        }
    }
}

impl std::fmt::Display for PathLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|p| f.write_str(p))
    }
}

impl EncodeLabelValue for PathLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.iter().try_for_each(|p| encoder.write_str(p))
    }
}

/// What a request is counted under, known before the request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RequestKey {
    method: &'static str,
    path: PathLabel,
}

impl RequestKey {
    /// The key of a request: its method (any method outside the standard ones is `OTHER`) and
    /// the label of its route.
    pub(crate) fn new(method: &Method, path: PathLabel) -> RequestKey {
        RequestKey {
            method: method_label(method),
            path,
        }
    }

    /// The key of a WebSocket turn: method `WS`, the socket route's label.
    pub(crate) fn socket(path: PathLabel) -> RequestKey {
        RequestKey { method: "WS", path }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    path: PathLabel,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DurationLabels {
    method: &'static str,
    path: PathLabel,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ChaosLabels {
    action: String,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BypassLabels {
    action: String,
    source: String,
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct VectorLabels {
    operation: String,
    provider: String,
}

/// A family that is listed (`# HELP`, `# TYPE`) even before it has a series, so every aimock
/// metric is visible from the first scrape.
#[derive(Debug)]
struct Listed<M>(M);

impl<M: EncodeMetric> EncodeMetric for Listed<M> {
    fn encode(&self, encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }

    fn is_empty(&self) -> bool {
        false
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The metric registry.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<DurationLabels, Histogram, fn() -> Histogram>,
    fixtures: Gauge,
    chaos_triggered: Family<ChaosLabels, Counter>,
    chaos_bypassed: Family<BypassLabels, Counter>,
    mcp: Family<MethodLabels, Counter>,
    a2a: Family<MethodLabels, Counter>,
    vector: Family<VectorLabels, Counter>,
    agui: Family<MethodLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every aimock metric.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations =
            Family::<DurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        let fixtures = Gauge::default();
        let chaos_triggered = Family::<ChaosLabels, Counter>::default();
        let chaos_bypassed = Family::<BypassLabels, Counter>::default();
        let mcp = Family::<MethodLabels, Counter>::default();
        let a2a = Family::<MethodLabels, Counter>::default();
        let vector = Family::<VectorLabels, Counter>::default();
        let agui = Family::<MethodLabels, Counter>::default();
        // Counter names are given without `_total`: the encoders add it.
        registry.register(
            "aimock_requests",
            "HTTP requests answered, by method, route and status",
            Listed(requests.clone()),
        );
        registry.register(
            "aimock_request_duration_seconds",
            "Time from request to response head, by method and route",
            Listed(durations.clone()),
        );
        registry.register(
            "aimock_fixtures_loaded",
            "Fixtures currently loaded",
            Listed(fixtures.clone()),
        );
        registry.register(
            "aimock_chaos_triggered",
            "Chaos actions applied, by action and where the setting came from",
            Listed(chaos_triggered.clone()),
        );
        registry.register(
            "aimock_chaos_bypassed",
            "Chaos actions rolled but not applied, by action, source and reason",
            Listed(chaos_bypassed.clone()),
        );
        registry.register(
            "aimock_mcp_requests",
            "MCP JSON-RPC requests, by method",
            Listed(mcp.clone()),
        );
        registry.register(
            "aimock_a2a_requests",
            "A2A JSON-RPC requests, by method",
            Listed(a2a.clone()),
        );
        registry.register(
            "aimock_vector_requests",
            "Vector database requests, by operation and provider",
            Listed(vector.clone()),
        );
        registry.register(
            "aimock_agui_requests",
            "AG-UI requests, by method",
            Listed(agui.clone()),
        );
        Metrics {
            registry,
            requests,
            durations,
            fixtures,
            chaos_triggered,
            chaos_bypassed,
            mcp,
            a2a,
            vector,
            agui,
        }
    }

    /// Count an answered request and its time to the response head.
    pub(crate) fn observe_request(&self, key: RequestKey, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: key.method,
                path: key.path,
                status,
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels {
                method: key.method,
                path: key.path,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// `aimock_chaos_triggered_total{action, source}`.
    pub(crate) fn chaos_triggered(&self, action: &str, source: &str) {
        self.chaos_triggered
            .get_or_create(&ChaosLabels {
                action: action.to_owned(),
                source: source.to_owned(),
            })
            .inc();
    }

    /// `aimock_chaos_bypassed_total{action, source, reason}`.
    pub(crate) fn chaos_bypassed(&self, action: &str, source: &str, reason: &str) {
        self.chaos_bypassed
            .get_or_create(&BypassLabels {
                action: action.to_owned(),
                source: source.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// `aimock_mcp_requests_total{method}`.
    pub(crate) fn mcp_request(&self, method: &str) {
        self.mcp
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .inc();
    }

    /// `aimock_a2a_requests_total{method}`.
    pub(crate) fn a2a_request(&self, method: &str) {
        self.a2a
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .inc();
    }

    /// `aimock_vector_requests_total{operation, provider}`.
    pub(crate) fn vector_request(&self, operation: &str, provider: &str) {
        self.vector
            .get_or_create(&VectorLabels {
                operation: operation.to_owned(),
                provider: provider.to_owned(),
            })
            .inc();
    }

    /// `aimock_agui_requests_total{method}`.
    pub(crate) fn agui_request(&self, method: &str) {
        self.agui
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .inc();
    }

    /// The exposition text and its `Content-Type`: OpenMetrics when `openmetrics`, else the
    /// Prometheus text format 0.0.4. `fixtures` is the current fixture count (read at scrape
    /// time, so the gauge is never stale).
    pub(crate) fn render(&self, fixtures: usize, openmetrics: bool) -> (String, &'static str) {
        self.fixtures
            .set(i64::try_from(fixtures).unwrap_or(i64::MAX));
        let mut out = String::with_capacity(4096);
        let (res, ct) = if openmetrics {
            (
                prometheus_client::encoding::text::encode(&mut out, &self.registry),
                OPENMETRICS_TEXT,
            )
        } else {
            (
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry),
                PROMETHEUS_TEXT,
            )
        };
        if res.is_err() {
            // Writing to a String cannot fail; keep whatever was written.
            tracing::warn!("metrics encoding failed");
        }
        (out, ct)
    }
}

/// Whether an `Accept` header asks for OpenMetrics (Prometheus' scraper does).
pub(crate) fn wants_openmetrics(accept: Option<&http::HeaderValue>) -> bool {
    accept
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s.contains("application/openmetrics-text"))
}

/// The `method` label: the standard methods by name, anything else `OTHER`.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_paths_have_a_closed_set_of_labels() {
        assert_eq!(
            PathLabel::control("/__aimock/fixtures").to_string(),
            "/__aimock/fixtures"
        );
        assert_eq!(
            PathLabel::control("/__aimock/secret").to_string(),
            "/__aimock/{other}"
        );
        assert_eq!(PathLabel::UNKNOWN.to_string(), UNKNOWN_PATH);
    }

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        assert_eq!(method_label(&Method::POST), "POST");
        let m = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&m), "OTHER");
    }

    #[test]
    fn rendered_text_uses_aimocks_names_and_buckets() {
        let m = Metrics::new();
        m.observe_request(
            RequestKey::new(&Method::POST, PathLabel::one("/v1/chat/completions")),
            200,
            Duration::from_millis(30),
        );
        m.chaos_triggered("drop", "header");
        let (text, ct) = m.render(3, false);
        assert_eq!(ct, PROMETHEUS_TEXT);
        assert!(
            text.contains("# TYPE aimock_requests_total counter"),
            "{text}"
        );
        assert!(text.contains(
            "aimock_requests_total{method=\"POST\",path=\"/v1/chat/completions\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "aimock_request_duration_seconds_bucket{method=\"POST\",path=\"/v1/chat/completions\",le=\"0.025\"} 0"
        ));
        assert!(text.contains(
            "aimock_request_duration_seconds_bucket{method=\"POST\",path=\"/v1/chat/completions\",le=\"0.05\"} 1"
        ));
        assert!(text.contains("aimock_fixtures_loaded 3"));
        assert!(text.contains("aimock_chaos_triggered_total{action=\"drop\",source=\"header\"} 1"));
        for name in [
            "aimock_chaos_bypassed_total",
            "aimock_mcp_requests_total",
            "aimock_a2a_requests_total",
            "aimock_vector_requests_total",
            "aimock_agui_requests_total",
        ] {
            assert!(text.contains(&format!("# TYPE {name} counter")), "{name}");
        }
        let (om, ct) = m.render(3, true);
        assert_eq!(ct, OPENMETRICS_TEXT);
        assert!(om.ends_with("# EOF\n"));
    }
}
