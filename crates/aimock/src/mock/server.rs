//! [`MockServer`]: a server on a free loopback port, its fixtures and mocks, its journal, and
//! the verification of its mocks' expectations.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::expectations::{report, Mounted, Registry, Times};
use super::guard::MockGuard;
use super::provider::Provider;
use crate::fixture::{
    load_paths, parse_text, Fixture, FixtureEntry, Format, LoadReport, MatchSpec, Problem,
    ResponseSpec, Severity,
};
use crate::journal::JournalEntry;
use crate::server::{AppState, ServerConfig};

/// A running mock server: start one per test ([`MockServer::start`]), mount
/// [`Mock`](super::Mock)s on it or load fixtures, point a client at
/// [`MockServer::base_url`], then check what it received.
///
/// Dropping it stops it, after checking the expectations of its mocks: a dropped server one of
/// whose mocks matched too few or too many requests panics with the report of
/// [`MockServer::verify`] (unless the thread is panicking already).
#[derive(Debug)]
pub struct MockServer {
    state: Arc<AppState>,
    addr: SocketAddr,
    own_ports: Vec<(String, SocketAddr)>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    /// The mounted mocks, for verification.
    mocks: Registry,
}

/// Settings for [`MockServer::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct MockServerBuilder {
    config: ServerConfig,
    entries: Vec<FixtureEntry>,
    texts: Vec<String>,
}

impl MockServerBuilder {
    /// Answer a miss with 503 instead of 404.
    pub fn strict(mut self, strict: bool) -> Self {
        self.config.strict = strict;
        self
    }

    /// Characters per streamed text chunk.
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.config.chunk_size = n.max(1);
        self
    }

    /// Delay before each streamed event, in milliseconds.
    pub fn latency_ms(mut self, ms: f64) -> Self {
        self.config.latency = ms.max(0.0);
        self
    }

    /// Record mode: misses go to the configured upstreams and come back as fixtures.
    pub fn record(mut self, record: crate::record::RecordConfig) -> Self {
        self.config.record = Some(record);
        self
    }

    /// Rewrite request text before matching and recording (timestamps, ids).
    pub fn normalize(mut self, rule: crate::record::normalize::NormalizeRule) -> Self {
        self.config.normalize.push(rule);
        self
    }

    /// Journal capacity (0: unbounded).
    pub fn journal_max(mut self, n: usize) -> Self {
        self.config.journal_max = n;
        self
    }

    /// Any server setting.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// The progression of a polled job API (fal's queue, the video APIs) for every fixture that
    /// sets none: polls before it is in progress, and before it is completed (aimock's
    /// `falQueue`, `openRouterVideo`, `veoVideo`, `grokVideo` options). Without it such a job is
    /// done at submit.
    pub fn progression(
        mut self,
        api: crate::server::PollingApi,
        polls_before_in_progress: u32,
        polls_before_completed: u32,
    ) -> Self {
        self.config
            .progressions
            .insert(api, (polls_before_in_progress, polls_before_completed));
        self
    }

    /// Chaos for every request (drop, malformed, disconnect, rate limit, latency).
    pub fn chaos(mut self, rates: crate::chaos::ChaosRates) -> Self {
        self.config.chaos = rates;
        self
    }

    /// Seed the chaos rolls: the same seed and the same requests in the same order give the same
    /// actions.
    pub fn chaos_seed(mut self, seed: u64) -> Self {
        self.config.chaos_seed = Some(seed);
        self
    }

    /// A fixture to load at start.
    pub fn fixture(mut self, entry: FixtureEntry) -> Self {
        self.entries.push(entry);
        self
    }

    /// Fixtures to load at start, as the text of a fixture file (JSON or YAML, as
    /// [`MockServer::load_str`] reads it).
    pub fn fixtures_str(mut self, text: impl Into<String>) -> Self {
        self.texts.push(text.into());
        self
    }

    /// Mount an MCP server (at its `path`, `/mcp` by default; call again for more).
    pub fn mcp(mut self, config: crate::config::McpConfig) -> Self {
        self.config.mcp.push(config);
        self
    }

    /// Mount A2A agents (at their `path`, `/a2a` by default).
    pub fn a2a(mut self, config: crate::config::A2aConfig) -> Self {
        self.config.a2a.push(config);
        self
    }

    /// Mount an AG-UI agent (at its `path`, `/agui` by default).
    pub fn agui(mut self, config: crate::config::AguiConfig) -> Self {
        self.config.agui.push(config);
        self
    }

    /// Mount vector databases (at their `path`, `/vector` by default).
    pub fn vector(mut self, config: crate::config::VectorConfig) -> Self {
        self.config.vector.push(config);
        self
    }

    /// Search, rerank and moderation fixtures (`aimock.json`'s `services`).
    pub fn services(mut self, config: crate::config::ServicesConfig) -> Self {
        self.config.services = Some(config);
        self
    }

    /// Start on 127.0.0.1 with a free port.
    ///
    /// # Panics
    /// When no port can be bound or a fixture given to the builder is invalid: both are mistakes
    /// in the test, best reported at once.
    pub async fn start(self) -> MockServer {
        let state = AppState::new(self.config);
        let server = MockServer::start_with_state(state).await;
        for e in self.entries {
            if let Err(problems) = server.add(e) {
                panic!(
                    "invalid fixture given to MockServer::builder: {}",
                    describe(&problems)
                );
            }
        }
        for text in self.texts {
            if let Err(problems) = server.load_str(&text) {
                panic!(
                    "invalid fixtures given to MockServer::builder().fixtures_str: {}",
                    describe(&problems)
                );
            }
        }
        server
    }
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl MockServer {
    /// Start a server with default settings on 127.0.0.1 and a free port.
    pub async fn start() -> MockServer {
        MockServer::builder().start().await
    }

    /// Start with settings.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    async fn start_with_state(state: Arc<AppState>) -> MockServer {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
        let server = crate::server::Server::bind(state.clone(), listener)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = server
            .local_addr()
            .unwrap_or_else(|e| panic!("no local address: {e}"));
        let own_ports = server
            .own_ports()
            .into_iter()
            .map(|(m, a)| (m.path.clone(), a))
            .collect();
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        tokio::spawn(server.run(async move {
            let _ = rx.changed().await;
        }));
        MockServer {
            state,
            addr,
            own_ports,
            shutdown: Some(tx),
            mocks: Registry::default(),
        }
    }

    /// `http://127.0.0.1:PORT`, the root. [`MockServer::base_url`] gives what each SDK wants.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL to give `provider`'s official SDK: `http://127.0.0.1:PORT/v1` for OpenAI,
    /// `/api/v1` for OpenRouter, the root for the others.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("http://{}{}", self.addr, provider.base_path())
    }

    /// `ws://127.0.0.1:PORT` + `path`: where a WebSocket client opens a realtime session
    /// (`/v1/realtime?model=...`, `/v1/responses`, a Gemini Live path).
    ///
    /// ```
    /// use aimock::matchers::user_message;
    /// use aimock::responders::text;
    /// use aimock::{Mock, MockServer};
    /// use futures_util::{SinkExt, StreamExt};
    /// use tokio_tungstenite::tungstenite::Message;
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let server = MockServer::start().await;
    ///     Mock::given(user_message("hello"))
    ///         .respond_with(text("Hi over the socket!"))
    ///         .expect(1)
    ///         .mount(&server)
    ///         .await;
    ///     let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url("/v1/responses"))
    ///         .await
    ///         .unwrap();
    ///     let create = r#"{"type":"response.create","model":"gpt-4o","input":"hello"}"#;
    ///     ws.send(Message::text(create)).await.unwrap();
    ///     let mut text = String::new();
    ///     while let Some(Ok(Message::Text(t))) = ws.next().await {
    ///         let event: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
    ///         if event["type"] == "response.output_text.delta" {
    ///             text.push_str(event["delta"].as_str().unwrap());
    ///         }
    ///         if event["type"] == "response.completed" {
    ///             break;
    ///         }
    ///     }
    ///     assert_eq!(text, "Hi over the socket!");
    /// } // each turn counts for `expect`, as an HTTP request does
    /// ```
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP server mounted at `path` (`None`: the first one).
    pub fn mcp(&self, path: Option<&str>) -> Option<Arc<crate::mcp::McpServer>> {
        self.state.mounts.mcp(path)
    }

    /// The A2A agents mounted at `path` (`None`: the first set).
    pub fn a2a(&self, path: Option<&str>) -> Option<Arc<crate::a2a::A2aServer>> {
        self.state.mounts.a2a(path)
    }

    /// The AG-UI agent mounted at `path` (`None`: the first one).
    pub fn agui(&self, path: Option<&str>) -> Option<Arc<crate::agui::AguiServer>> {
        self.state.mounts.agui(path)
    }

    /// The vector databases mounted at `path` (`None`: the first one).
    pub fn vector(&self, path: Option<&str>) -> Option<Arc<crate::vector::VectorServer>> {
        self.state.mounts.vector(path)
    }

    /// The search (Tavily), rerank (Cohere) and moderation (OpenAI) fixtures: add some with
    /// `on_search`, `on_rerank`, `on_moderate`.
    pub fn services(&self) -> &crate::services::Services {
        &self.state.core.services
    }

    /// Where services configured with a `port` of their own listen, by mount path (a `port` of
    /// 0 takes any free port).
    pub fn own_ports(&self) -> &[(String, SocketAddr)] {
        &self.own_ports
    }

    /// Add a mounted mock's fixture, checked by [`MockServer::verify`].
    pub(crate) fn mount_fixture(&self, fixture: Arc<Fixture>, times: Times) -> Arc<Mounted> {
        let mounted = Arc::new(Mounted {
            fixture: fixture.clone(),
            times,
        });
        self.mocks.lock().push(mounted.clone());
        self.state.core.fixtures.append([fixture]);
        mounted
    }

    /// Add a mock's fixture until the returned guard is dropped.
    pub(crate) fn mount_scoped(&self, fixture: Arc<Fixture>, times: Times) -> MockGuard {
        let mounted = self.mount_fixture(fixture, times);
        MockGuard::new(mounted, self.state.clone(), self.mocks.clone())
    }

    /// Check every mounted mock's expectation ([`Mock::expect`](super::Mock::expect)).
    ///
    /// # Panics
    /// When one failed, listing each such mock: its name and match, the expected count and the
    /// count it matched, and for a mock that matched too few the closest miss among the
    /// requests received (the request, and the first field that failed on it).
    pub fn verify(&self) {
        let mocks = self.mocks.lock().clone();
        if let Some(report) = report("mock expectations failed", &mocks, &self.state) {
            panic!("{report}");
        }
    }

    /// Every request received so far, oldest first (the journal: bounded by
    /// [`MockServerBuilder::journal_max`]).
    pub fn received_requests(&self) -> Vec<JournalEntry> {
        self.state.core.journal.all()
    }

    /// Add one fixture after the others. Errors list every problem found.
    pub fn add(&self, entry: FixtureEntry) -> Result<(), Vec<Problem>> {
        let (fixture, _warnings) = Fixture::compile(entry, None)?;
        self.state.core.fixtures.append([Arc::new(fixture)]);
        Ok(())
    }

    /// Add a fixture matching `matcher` and answering `response`: the fixture file's types, with
    /// no expectation. [`Mock`](super::Mock) is the fuller API.
    pub fn mock(&self, matcher: MatchSpec, response: ResponseSpec) -> Result<(), Vec<Problem>> {
        self.add(FixtureEntry::new(matcher, response))
    }

    /// Load fixture files or directories (JSON or YAML); returns how many fixtures were added.
    /// Nothing is added when any fixture has an error.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<usize, Vec<Problem>> {
        self.add_loaded(load_paths(&[path.as_ref()]))
    }

    /// Load fixtures from the text of a fixture file: JSON when it starts with `{`, else YAML.
    /// Returns how many were added; nothing is added when any fixture has an error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = aimock::MockServer::start().await;
    /// let n = server
    ///     .load_str(r#"{"fixtures": [{"match": {"userMessage": "hi"}, "response": {"content": "Hello"}}]}"#)
    ///     .unwrap();
    /// assert_eq!(n, 1);
    /// let yaml = "fixtures:\n  - match: {userMessage: bye}\n    response: {content: Bye}\n";
    /// assert_eq!(server.load_str(yaml).unwrap(), 1);
    /// # }
    /// ```
    pub fn load_str(&self, text: &str) -> Result<usize, Vec<Problem>> {
        self.load_str_as(text, "<string>")
    }

    /// [`MockServer::load_str`], the fixtures named `name` (as a file's would be) in problems,
    /// in the journal and in a miss's closest fixture.
    pub fn load_str_as(&self, text: &str, name: &str) -> Result<usize, Vec<Problem>> {
        let format = if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Yaml
        };
        self.add_loaded(parse_text(text, name, format))
    }

    fn add_loaded(&self, report: LoadReport) -> Result<usize, Vec<Problem>> {
        if report.has_errors() {
            return Err(report
                .problems
                .into_iter()
                .filter(|p| p.severity == Severity::Error)
                .collect());
        }
        let n = report.fixtures.len();
        self.state.core.fixtures.append(report.fixtures);
        Ok(n)
    }

    /// Every request answered so far, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.core.journal.all()
    }

    /// The newest request.
    pub fn last_request(&self) -> Option<JournalEntry> {
        self.state.core.journal.last()
    }

    /// The fixtures served, in the order they are tried (those of files, and those the Rust
    /// API mounted, compiled).
    pub fn fixtures(&self) -> Vec<Arc<Fixture>> {
        self.state.fixtures()
    }

    /// Forget every fixture and mock (with their expectations), request, match count and queued
    /// error.
    pub fn reset(&self) {
        self.mocks.lock().clear();
        self.state.mounts.reset();
        self.state.core.services.reset();
        self.state.core.fixtures.clear();
        self.state.core.fixtures.reset_counts(None);
        self.state.core.fixtures.clear_errors();
        self.state.core.journal.clear();
        self.state.core.chaos.reset();
    }

    /// Forget the journal only.
    pub fn reset_journal(&self) {
        self.state.core.journal.clear();
    }

    /// Replace the server's chaos rates (run-time overrides for test ids stay).
    pub fn set_chaos(&self, rates: crate::chaos::ChaosRates) {
        self.state.core.chaos.set_server_rates(rates);
    }

    /// Turn chaos off: the server's rates and every run-time override.
    pub fn clear_chaos(&self) {
        self.state.core.chaos.clear();
    }

    /// Restart every sequence (`sequenceIndex`) for every test id.
    pub fn reset_sequences(&self) {
        self.state.core.fixtures.reset_counts(None);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        // Like wiremock: a test that ends with a failed expectation fails, and one that is
        // failing already is not made to panic twice.
        if !std::thread::panicking() {
            self.verify();
        }
    }
}
