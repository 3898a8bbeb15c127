//! Prometheus metrics (`--metrics`, served at `/metrics`).
//!
//! The names, types and labels are aimock's: `aimock_requests_total{method,path,status}`,
//! `aimock_request_duration_seconds{method,path}`, `aimock_fixtures_loaded`,
//! `aimock_chaos_triggered_total{action,source}`, `aimock_chaos_bypassed_total{action,source,reason}`
//! and the per-surface counters of the MCP, A2A, vector and AG-UI mocks.
//!
//! The `path` label is the route's shape, never the raw path: ids in a path (models, deployments,
//! jobs, voices) become placeholders (`/model/{modelId}/converse`), OpenAI-compatible prefixes are
//! normalised as the router normalises them (`/v4/chat/completions` is `/v1/chat/completions`), and
//! a path no route serves is `{unknown}`, so a client (or a fuzzer) cannot grow the label set. The
//! label is computed with string matches only, and is built from `&'static str` pieces, so
//! counting a request allocates nothing.
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
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `Content-Type` of the OpenMetrics text format (answered when the scraper asks for it).
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the request-duration histogram, in seconds (aimock's).
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of a path no route serves.
pub const UNKNOWN_PATH: &str = "{unknown}";

/// A `path` label: up to three static pieces, written one after the other. Two different piece
/// lists never spell the same label (each rule below has its own fixed head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PathLabel([&'static str; 3]);

impl PathLabel {
    const fn one(a: &'static str) -> PathLabel {
        PathLabel([a, "", ""])
    }

    const fn two(a: &'static str, b: &'static str) -> PathLabel {
        PathLabel([a, b, ""])
    }

    const fn three(a: &'static str, b: &'static str, c: &'static str) -> PathLabel {
        PathLabel([a, b, c])
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
pub struct RequestKey {
    method: &'static str,
    path: PathLabel,
}

impl RequestKey {
    /// The key of a request: its method (any method outside the standard ones is `OTHER`) and
    /// its path label.
    pub fn new(method: &Method, path: &str) -> RequestKey {
        RequestKey {
            method: method_label(method),
            path: path_label(path),
        }
    }

    /// The key of a request to a mounted service: its mount path is the label.
    pub fn mounted(method: &Method, mount: &'static str) -> RequestKey {
        RequestKey {
            method: method_label(method),
            path: PathLabel::one(mount),
        }
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
pub struct Metrics {
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
    pub fn new() -> Metrics {
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
    pub fn observe_request(&self, key: RequestKey, status: u16, elapsed: Duration) {
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
    pub fn chaos_triggered(&self, action: &str, source: &str) {
        self.chaos_triggered
            .get_or_create(&ChaosLabels {
                action: action.to_owned(),
                source: source.to_owned(),
            })
            .inc();
    }

    /// `aimock_chaos_bypassed_total{action, source, reason}`.
    pub fn chaos_bypassed(&self, action: &str, source: &str, reason: &str) {
        self.chaos_bypassed
            .get_or_create(&BypassLabels {
                action: action.to_owned(),
                source: source.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// `aimock_mcp_requests_total{method}`.
    pub fn mcp_request(&self, method: &str) {
        self.mcp
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .inc();
    }

    /// `aimock_a2a_requests_total{method}`.
    pub fn a2a_request(&self, method: &str) {
        self.a2a
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .inc();
    }

    /// `aimock_vector_requests_total{operation, provider}`.
    pub fn vector_request(&self, operation: &str, provider: &str) {
        self.vector
            .get_or_create(&VectorLabels {
                operation: operation.to_owned(),
                provider: provider.to_owned(),
            })
            .inc();
    }

    /// `aimock_agui_requests_total{method}`.
    pub fn agui_request(&self, method: &str) {
        self.agui
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .inc();
    }

    /// The exposition text and its `Content-Type`: OpenMetrics when `openmetrics`, else the
    /// Prometheus text format 0.0.4. `fixtures` is the current fixture count (read at scrape
    /// time, so the gauge is never stale).
    pub fn render(&self, fixtures: usize, openmetrics: bool) -> (String, &'static str) {
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
pub fn wants_openmetrics(accept: Option<&http::HeaderValue>) -> bool {
    accept
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s.contains("application/openmetrics-text"))
}

/// The `method` label: the standard methods by name, anything else `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
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

/// `Some(the static spelling of s)` when `s` is one of the listed literals.
macro_rules! pick {
    ($s:expr; $($lit:literal),+ $(,)?) => {
        match $s { $($lit => Some($lit),)+ _ => None }
    };
}

/// Paths routed by exact match, in their canonical (`/v1/...`) spelling.
fn static_route(path: &str) -> Option<&'static str> {
    pick!(path;
        "/health", "/ready", "/metrics", "/search", "/extract", "/crawl", "/map", "/v1/rerank",
        "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/realtime",
        "/v1/messages", "/v1/messages/count_tokens", "/v1/embeddings", "/v1/moderations",
        "/v1/models", "/v1/_requests", "/v1/images/generations", "/v1/images/edits",
        "/v1/images/variations", "/v1/audio/speech", "/v1/audio/transcriptions",
        "/v1/audio/translations", "/v1/videos", "/v1/videos/generations", "/v1/batches",
        "/v1/files", "/v1/sound-generation", "/v1/music", "/v1/text-to-voice",
        "/v1/text-to-voice/design", "/v1beta/interactions", "/v1beta/models",
        "/v2/chat", "/v2/embed", "/v2/rerank",
        "/api/chat", "/api/generate", "/api/embeddings", "/api/embed", "/api/tags",
        "/api/show", "/api/version",
        "/api/v1/chat/completions", "/api/v1/videos", "/api/v1/videos/models",
        "/api/v1/credits", "/api/v1/key", "/api/v1/models",
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
    )
}

/// OpenAI suffixes that any prefix may carry, and the canonical route each stands for.
const COMPAT: &[(&str, &str)] = &[
    ("/chat/completions", "/v1/chat/completions"),
    ("/embeddings", "/v1/embeddings"),
    ("/responses", "/v1/responses"),
    ("/audio/speech", "/v1/audio/speech"),
    ("/audio/transcriptions", "/v1/audio/transcriptions"),
    ("/audio/translations", "/v1/audio/translations"),
    ("/images/generations", "/v1/images/generations"),
    ("/images/edits", "/v1/images/edits"),
    ("/images/variations", "/v1/images/variations"),
    ("/moderations", "/v1/moderations"),
];

/// The Azure operations a deployment path may name.
fn azure_op(op: &str) -> &'static str {
    pick!(op;
        "chat/completions", "completions", "embeddings", "responses", "audio/speech",
        "audio/transcriptions", "audio/translations", "images/generations", "images/edits",
        "moderations",
    )
    .unwrap_or("{op}")
}

/// The `/{version}` of a Google path, as a static string.
fn google_version(v: &str) -> Option<&'static str> {
    pick!(v; "v1", "v1beta", "v1beta1", "v1alpha")
}

/// A model action (`generateContent`...), or `{action}`.
fn model_action(a: &str) -> &'static str {
    pick!(a;
        "generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents",
        "countTokens", "predict", "predictLongRunning", "rawPredict", "streamRawPredict",
    )
    .unwrap_or("{action}")
}

/// `{model}:<action>` of a `{model}:{action}` tail, or `None` when there is no action or the model
/// spans segments.
fn model_tail(tail: &str) -> Option<&'static str> {
    let (model, action) = tail.rsplit_once(':')?;
    if model.is_empty() || model.contains('/') {
        return None;
    }
    Some(model_action(action))
}

/// The label of a Google path (`/{version}/...`): Gemini, Vertex (Gemini and Anthropic models),
/// Veo operations.
fn google_label(version: &'static str, rest: &str) -> Option<PathLabel> {
    if let Some(tail) = rest.strip_prefix("models/") {
        return Some(match model_tail(tail) {
            Some(action) => PathLabel::three(google_models_head(version), "{model}:", action),
            None if !tail.contains('/') => PathLabel::two(google_models_head(version), "{model}"),
            None => PathLabel::one(UNKNOWN_PATH),
        });
    }
    if rest.starts_with("operations/") {
        return Some(PathLabel::two(
            google_version_head(version),
            "operations/{name}",
        ));
    }
    let (publisher_path, projects) = match rest.strip_prefix("projects/") {
        Some(r) => {
            let (project, r) = r.split_once('/')?;
            let r = r.strip_prefix("locations/")?;
            let (location, r) = r.split_once('/')?;
            if project.is_empty() || location.is_empty() {
                return Some(PathLabel::one(UNKNOWN_PATH));
            }
            (r, true)
        }
        None => (rest, false),
    };
    let (publisher, tail) =
        if let Some(t) = publisher_path.strip_prefix("publishers/google/models/") {
            ("google", t)
        } else if let Some(t) = publisher_path.strip_prefix("publishers/anthropic/models/") {
            ("anthropic", t)
        } else {
            return None;
        };
    let head = vertex_head(version, projects, publisher);
    Some(match model_tail(tail) {
        Some(action) => PathLabel::three(head, "{m}:", action),
        None => PathLabel::one(UNKNOWN_PATH),
    })
}

fn google_version_head(version: &'static str) -> &'static str {
    match version {
        "v1" => "/v1/",
        "v1beta1" => "/v1beta1/",
        "v1alpha" => "/v1alpha/",
        _ => "/v1beta/",
    }
}

fn google_models_head(version: &'static str) -> &'static str {
    match version {
        "v1" => "/v1/models/",
        "v1beta1" => "/v1beta1/models/",
        "v1alpha" => "/v1alpha/models/",
        _ => "/v1beta/models/",
    }
}

fn vertex_head(version: &'static str, projects: bool, publisher: &str) -> &'static str {
    match (version, projects, publisher) {
        ("v1beta1", true, "google") => {
            "/v1beta1/projects/{p}/locations/{l}/publishers/google/models/"
        }
        ("v1beta1", true, _) => "/v1beta1/projects/{p}/locations/{l}/publishers/anthropic/models/",
        ("v1beta1", false, "google") => "/v1beta1/publishers/google/models/",
        ("v1beta1", false, _) => "/v1beta1/publishers/anthropic/models/",
        ("v1beta", true, "google") => {
            "/v1beta/projects/{p}/locations/{l}/publishers/google/models/"
        }
        ("v1beta", true, _) => "/v1beta/projects/{p}/locations/{l}/publishers/anthropic/models/",
        ("v1beta", false, "google") => "/v1beta/publishers/google/models/",
        ("v1beta", false, _) => "/v1beta/publishers/anthropic/models/",
        ("v1alpha", true, "google") => {
            "/v1alpha/projects/{p}/locations/{l}/publishers/google/models/"
        }
        ("v1alpha", true, _) => "/v1alpha/projects/{p}/locations/{l}/publishers/anthropic/models/",
        ("v1alpha", false, "google") => "/v1alpha/publishers/google/models/",
        ("v1alpha", false, _) => "/v1alpha/publishers/anthropic/models/",
        (_, true, "google") => "/v1/projects/{p}/locations/{l}/publishers/google/models/",
        (_, true, _) => "/v1/projects/{p}/locations/{l}/publishers/anthropic/models/",
        (_, false, "google") => "/v1/publishers/google/models/",
        (_, false, _) => "/v1/publishers/anthropic/models/",
    }
}

/// One path segment (non-empty, no `/`).
fn is_segment(s: &str) -> bool {
    !s.is_empty() && !s.contains('/')
}

/// The `path` label of a request path (without its query): the route's shape, with ids replaced
/// by placeholders, OpenAI-compatible prefixes normalised, and `{unknown}` for a path no route
/// serves.
pub fn path_label(path: &str) -> PathLabel {
    label_of(path).unwrap_or(PathLabel::one(UNKNOWN_PATH))
}

fn label_of(path: &str) -> Option<PathLabel> {
    // Control API: a closed set of sub-paths.
    if let Some(sub) = path.strip_prefix("/__aimock") {
        if sub.is_empty() || sub.starts_with('/') {
            let known = pick!(sub;
                "/health", "/journal", "/fixtures", "/chaos", "/reset", "/reset/journal",
                "/reset/fixtures", "/error",
            );
            return Some(match known {
                Some(s) => PathLabel::two("/__aimock", s),
                None => PathLabel::one("/__aimock/{other}"),
            });
        }
    }
    if let Some(s) = static_route(path) {
        return Some(PathLabel::one(s));
    }
    // Bedrock.
    if let Some(rest) = path.strip_prefix("/model/") {
        let (id, op) = rest.rsplit_once('/')?;
        let op = pick!(op; "invoke", "invoke-with-response-stream", "converse", "converse-stream")?;
        return (!id.is_empty()).then_some(PathLabel::two("/model/{modelId}/", op));
    }
    // Azure deployments.
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        let (id, op) = rest.split_once('/')?;
        return (!id.is_empty()).then(|| PathLabel::two("/openai/deployments/{id}/", azure_op(op)));
    }
    // Google: Gemini, Vertex, Veo.
    if let Some((version, rest)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) {
        if let Some(version) = google_version(version) {
            if let Some(label) = google_label(version, rest) {
                return Some(label);
            }
        }
    }
    if let Some(rest) = path.strip_prefix("/v1/") {
        if let Some(label) = v1_id_label(rest) {
            return Some(label);
        }
    }
    if let Some(rest) = path.strip_prefix("/api/v1/videos/") {
        return Some(match rest.split_once('/') {
            None if is_segment(rest) => PathLabel::one("/api/v1/videos/{jobId}"),
            Some((id, "content")) if is_segment(id) => {
                PathLabel::one("/api/v1/videos/{jobId}/content")
            }
            _ => PathLabel::one(UNKNOWN_PATH),
        });
    }
    let tasks = path
        .strip_prefix("/api/v3")
        .unwrap_or(path)
        .strip_prefix("/contents/generations/tasks");
    if let Some(rest) = tasks {
        return Some(match rest.strip_prefix('/') {
            None if rest.is_empty() => PathLabel::one("/contents/generations/tasks"),
            Some(id) if is_segment(id) => PathLabel::one("/contents/generations/tasks/{id}"),
            _ => PathLabel::one(UNKNOWN_PATH),
        });
    }
    if path == "/fal" || path.starts_with("/fal/") {
        return Some(fal_label(path));
    }
    compat_label(path)
}

/// Id-bearing `/v1/...` routes: ElevenLabs voices, videos, batches, files, music, fine-tuning.
fn v1_id_label(rest: &str) -> Option<PathLabel> {
    let (head, tail) = rest.split_once('/')?;
    let label = match head {
        "text-to-speech" => match tail.split_once('/') {
            None if is_segment(tail) => "/v1/text-to-speech/{voice_id}",
            Some((id, "stream")) if is_segment(id) => "/v1/text-to-speech/{voice_id}/stream",
            _ => UNKNOWN_PATH,
        },
        "voices" if is_segment(tail) => "/v1/voices/{voice_id}",
        "videos" => match tail.split_once('/') {
            None if is_segment(tail) => "/v1/videos/{id}",
            Some((id, "content")) if is_segment(id) => "/v1/videos/{id}/content",
            _ => UNKNOWN_PATH,
        },
        "batches" => match tail.split_once('/') {
            None if is_segment(tail) => "/v1/batches/{id}",
            Some((id, "cancel")) if is_segment(id) => "/v1/batches/{id}/cancel",
            _ => "/v1/batches/{other}",
        },
        "files" => match tail.split_once('/') {
            None if is_segment(tail) => "/v1/files/{id}",
            Some((id, "content")) if is_segment(id) => "/v1/files/{id}/content",
            _ => "/v1/files/{other}",
        },
        "music" => {
            return Some(
                match pick!(tail; "generation", "variation", "remix", "extend", "plan", "detailed", "stream")
                {
                    Some(a) => PathLabel::two("/v1/music/", a),
                    None => PathLabel::one("/v1/music/{other}"),
                },
            )
        }
        "fine_tuning" => match tail {
            "jobs" => "/v1/fine_tuning/jobs",
            _ => match tail.strip_prefix("jobs/").map(|t| t.split_once('/')) {
                Some(None) => "/v1/fine_tuning/jobs/{id}",
                Some(Some((id, sub))) if is_segment(id) => {
                    return Some(PathLabel::two(
                        "/v1/fine_tuning/jobs/{id}/",
                        pick!(sub; "cancel", "events", "pause", "resume", "checkpoints")
                            .unwrap_or("{action}"),
                    ))
                }
                _ => "/v1/fine_tuning/{other}",
            },
        },
        _ => return None,
    };
    Some(PathLabel::one(label))
}

/// fal.ai's paths (aimock's queue layout and the `x-fal-target-host` mirror).
fn fal_label(path: &str) -> PathLabel {
    let request_sub = |sub: Option<&str>| match sub {
        None => "",
        Some("status") => "/status",
        Some("cancel") => "/cancel",
        Some("stream") => "/stream",
        Some(_) => "/{other}",
    };
    if let Some(rest) = path.strip_prefix("/fal/queue/requests/") {
        let (id, sub) = match rest.split_once('/') {
            Some((id, sub)) => (id, Some(sub)),
            None => (rest, None),
        };
        if !id.is_empty() {
            return PathLabel::two("/fal/queue/requests/{id}", request_sub(sub));
        }
    }
    if path
        .strip_prefix("/fal/queue/submit/")
        .is_some_and(|m| !m.is_empty())
    {
        return PathLabel::one("/fal/queue/submit/{model}");
    }
    if path
        .strip_prefix("/fal/run/")
        .is_some_and(|m| !m.is_empty())
    {
        return PathLabel::one("/fal/run/{model}");
    }
    if let Some((model, rest)) = path
        .strip_prefix("/fal/")
        .and_then(|r| r.split_once("/requests/"))
    {
        let (id, sub) = match rest.split_once('/') {
            Some((id, sub)) => (id, Some(sub)),
            None => (rest, None),
        };
        if !model.is_empty() && !id.is_empty() {
            return PathLabel::two("/fal/{model}/requests/{id}", request_sub(sub));
        }
    }
    PathLabel::one("/fal/{other}")
}

/// OpenAI-compatible spellings, normalised as the router normalises them.
fn compat_label(path: &str) -> Option<PathLabel> {
    let stripped = match path.strip_prefix("/openai") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    };
    if stripped.starts_with("/v1/") || stripped.starts_with("/v2/") {
        return static_route(stripped).map(PathLabel::one);
    }
    COMPAT
        .iter()
        .find(|(suffix, _)| stripped.ends_with(suffix))
        .map(|(_, canonical)| PathLabel::one(canonical))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(p: &str) -> String {
        path_label(p).to_string()
    }

    #[test]
    fn ids_in_paths_become_placeholders() {
        assert_eq!(
            label("/model/anthropic.claude-3-haiku/converse-stream"),
            "/model/{modelId}/converse-stream"
        );
        assert_eq!(
            label("/v1beta/models/gemini-2.0-flash:streamGenerateContent"),
            "/v1beta/models/{model}:streamGenerateContent"
        );
        assert_eq!(
            label("/v1beta/models/veo-3:predictLongRunning"),
            "/v1beta/models/{model}:predictLongRunning"
        );
        assert_eq!(
            label("/v1beta/models/gemini:somethingElse"),
            "/v1beta/models/{model}:{action}"
        );
        assert_eq!(
            label("/openai/deployments/my-gpt/chat/completions"),
            "/openai/deployments/{id}/chat/completions"
        );
        assert_eq!(
            label("/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-pro:generateContent"),
            "/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent"
        );
        assert_eq!(
            label("/v1/projects/p/locations/l/publishers/anthropic/models/claude:rawPredict"),
            "/v1/projects/{p}/locations/{l}/publishers/anthropic/models/{m}:rawPredict"
        );
        assert_eq!(
            label("/v1/text-to-speech/voice123"),
            "/v1/text-to-speech/{voice_id}"
        );
        assert_eq!(label("/api/v1/videos/job1"), "/api/v1/videos/{jobId}");
        assert_eq!(
            label("/api/v1/videos/job1/content"),
            "/api/v1/videos/{jobId}/content"
        );
        assert_eq!(label("/api/v1/videos/models"), "/api/v1/videos/models");
        assert_eq!(
            label("/v1beta/operations/abc/def"),
            "/v1beta/operations/{name}"
        );
        assert_eq!(label("/v1/videos/generations"), "/v1/videos/generations");
        assert_eq!(label("/v1/videos/vid_1"), "/v1/videos/{id}");
        assert_eq!(
            label("/fal/queue/requests/r1/status"),
            "/fal/queue/requests/{id}/status"
        );
        assert_eq!(
            label("/fal/a/b/requests/r1/zzz"),
            "/fal/{model}/requests/{id}/{other}"
        );
    }

    #[test]
    fn compatible_prefixes_are_labelled_by_their_canonical_route() {
        assert_eq!(label("/v4/chat/completions"), "/v1/chat/completions");
        assert_eq!(label("/openai/v1/embeddings"), "/v1/embeddings");
        assert_eq!(label("/api/embeddings"), "/api/embeddings");
        assert_eq!(
            label("/api/v1/chat/completions"),
            "/api/v1/chat/completions"
        );
        assert_eq!(label("/v1/messages"), "/v1/messages");
        assert_eq!(label("/v2/chat"), "/v2/chat");
    }

    #[test]
    fn paths_no_route_serves_share_one_label() {
        for p in [
            "/nope",
            "/v1/whatever/123",
            "/model/x/unknown-op",
            "/__aimock/secret",
            "/v1beta/models/a/b:c",
            "/v1/chat/completions/extra",
        ] {
            let l = label(p);
            assert!(
                l == UNKNOWN_PATH || l == "/__aimock/{other}",
                "{p} labelled {l}"
            );
        }
        assert_eq!(label("/__aimock/fixtures"), "/__aimock/fixtures");
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
            RequestKey::new(&Method::POST, "/v1/chat/completions"),
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
