//! [`MockServer`] and its builder.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::fixture::{
    load_paths, Fixture, FixtureEntry, MatchSpec, Problem, ResponseSpec, Severity,
};
use crate::journal::JournalEntry;
use crate::server::{AppState, ServerConfig};

/// A running mock server.
#[derive(Debug)]
pub struct MockServer {
    state: Arc<AppState>,
    addr: SocketAddr,
    own_ports: Vec<(String, SocketAddr)>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
}

/// Settings for [`MockServer::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct MockServerBuilder {
    config: ServerConfig,
    entries: Vec<FixtureEntry>,
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
        }
    }

    /// `http://127.0.0.1:PORT` (add `/v1` for OpenAI clients).
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
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
        &self.state.services
    }

    /// Where services configured with a `port` of their own listen, by mount path (a `port` of
    /// 0 takes any free port).
    pub fn own_ports(&self) -> &[(String, SocketAddr)] {
        &self.own_ports
    }

    /// The server's state (fixtures, journal, settings).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Add one fixture after the others. Errors list every problem found.
    pub fn add(&self, entry: FixtureEntry) -> Result<(), Vec<Problem>> {
        let (fixture, _warnings) = Fixture::compile(entry, None)?;
        self.state.fixtures.append([Arc::new(fixture)]);
        Ok(())
    }

    /// Add a fixture matching `matcher` and answering `response`.
    pub fn mock(&self, matcher: MatchSpec, response: ResponseSpec) -> Result<(), Vec<Problem>> {
        self.add(FixtureEntry::new(matcher, response))
    }

    /// Load fixture files or directories (JSON or YAML); returns how many fixtures were added.
    /// Nothing is added when any fixture has an error.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<usize, Vec<Problem>> {
        let report = load_paths(&[path.as_ref()]);
        if report.has_errors() {
            return Err(report
                .problems
                .into_iter()
                .filter(|p| p.severity == Severity::Error)
                .collect());
        }
        let n = report.fixtures.len();
        self.state.fixtures.append(report.fixtures);
        Ok(n)
    }

    /// Every request answered so far, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal.all()
    }

    /// The newest request.
    pub fn last_request(&self) -> Option<JournalEntry> {
        self.state.journal.last()
    }

    /// Forget every fixture, request, match count and queued error.
    pub fn reset(&self) {
        self.state.mounts.reset();
        self.state.services.reset();
        self.state.fixtures.clear();
        self.state.fixtures.reset_counts(None);
        self.state.fixtures.clear_errors();
        self.state.journal.clear();
        self.state.chaos.reset();
    }

    /// Forget the journal only.
    pub fn reset_journal(&self) {
        self.state.journal.clear();
    }

    /// Replace the server's chaos rates (run-time overrides for test ids stay).
    pub fn set_chaos(&self, rates: crate::chaos::ChaosRates) {
        self.state.chaos.set_server_rates(rates);
    }

    /// Turn chaos off: the server's rates and every run-time override.
    pub fn clear_chaos(&self) {
        self.state.chaos.clear();
    }

    /// Restart every sequence (`sequenceIndex`) for every test id.
    pub fn reset_sequences(&self) {
        self.state.fixtures.reset_counts(None);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}
