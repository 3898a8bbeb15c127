//! The HTTP server: configuration, shared state, the route table and the control API.
//!
//! [`serve`] takes a bound listener and a shutdown future, so the binary passes Ctrl-C and a test
//! passes a port-0 listener. [`router`] builds the axum router alone, for tests without a socket.

mod control;
mod dispatch;
pub mod mounts;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::pipeline::Core;

pub use crate::pipeline::videos::PollingApi;

/// Server settings (flags and `aimock.json` end up here). Its `Debug` shows how many inbound keys
/// there are, never the keys.
#[derive(Clone)]
pub struct ServerConfig {
    /// Answer a miss with 503 instead of 404.
    pub strict: bool,
    /// Default delay before each streamed event (ms).
    pub latency: f64,
    /// Default characters per streamed text chunk.
    pub chunk_size: usize,
    /// Divides every streaming delay.
    pub replay_speed: f64,
    /// Journal capacity (0: unbounded).
    pub journal_max: usize,
    /// Test ids whose match counts are kept (0: unbounded).
    pub fixture_counts_max: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// `turnIndex` as a hard gate (`AIMOCK_STRICT_TURN_INDEX`).
    pub strict_turn_index: bool,
    /// Record mode (`--record`, `--proxy-only`): where misses go upstream.
    pub record: Option<crate::record::RecordConfig>,
    /// Server-level chaos (`--chaos-*`, `llm.chaos`).
    pub chaos: crate::chaos::ChaosRates,
    /// Seed for chaos rolls; the same seed gives the same sequence.
    pub chaos_seed: Option<u64>,
    /// Serve Prometheus metrics at `/metrics`.
    pub metrics: bool,
    /// Inbound API keys; empty: no check.
    pub api_keys: Vec<String>,
    /// Rewrite rules applied to request text before matching and recording (`llm.normalize`).
    pub normalize: Vec<crate::record::normalize::NormalizeRule>,
    /// MCP servers to mount.
    pub mcp: Vec<crate::mcp::config::McpConfig>,
    /// A2A agent sets to mount.
    pub a2a: Vec<crate::a2a::config::A2aConfig>,
    /// AG-UI agents to mount.
    pub agui: Vec<crate::agui::config::AguiConfig>,
    /// Vector databases to mount.
    pub vector: Vec<crate::vector::config::VectorConfig>,
    /// Search, rerank and moderation settings (`services`).
    pub services: Option<crate::services::config::ServicesConfig>,
    /// Polls before `in progress` and before `completed` of each polled job API, for the
    /// fixtures that give no `pollsBeforeInProgress` / `pollsBeforeCompleted` (or `falQueue`) of
    /// their own. Without one, such a job is done at submit.
    pub progressions: std::collections::BTreeMap<PollingApi, (u32, u32)>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("strict", &self.strict)
            .field("latency", &self.latency)
            .field("chunk_size", &self.chunk_size)
            .field("replay_speed", &self.replay_speed)
            .field("journal_max", &self.journal_max)
            .field("fixture_counts_max", &self.fixture_counts_max)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("strict_turn_index", &self.strict_turn_index)
            .field("record", &self.record)
            .field("chaos", &self.chaos)
            .field("chaos_seed", &self.chaos_seed)
            .field("metrics", &self.metrics)
            .field(
                "api_keys",
                &format_args!("[{} key(s)]", self.api_keys.len()),
            )
            .field("normalize", &self.normalize)
            .field("mcp", &self.mcp.len())
            .field("a2a", &self.a2a.len())
            .field("agui", &self.agui.len())
            .field("vector", &self.vector.len())
            .field("services", &self.services)
            .field("progressions", &self.progressions)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            strict: false,
            latency: 0.0,
            chunk_size: 20,
            replay_speed: 1.0,
            journal_max: 1000,
            fixture_counts_max: 500,
            max_body_bytes: 10 * 1024 * 1024,
            strict_turn_index: std::env::var("AIMOCK_STRICT_TURN_INDEX")
                .map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
                .unwrap_or(false),
            record: None,
            chaos: crate::chaos::ChaosRates::default(),
            chaos_seed: None,
            metrics: false,
            api_keys: Vec::new(),
            normalize: Vec::new(),
            mcp: Vec::new(),
            a2a: Vec::new(),
            agui: Vec::new(),
            vector: Vec::new(),
            services: None,
            progressions: Default::default(),
        }
    }
}

/// The server's state: its configuration, what every request reaches (fixtures, journal, chaos,
/// metrics, record mode), the inbound keys and the mounted services. Opaque: the binary and the
/// socket-free [`router`] build one; tests use [`crate::MockServer`].
#[derive(Debug)]
pub struct AppState {
    /// What every request reaches.
    pub(crate) core: Arc<Core>,
    /// Inbound API keys, when checked.
    pub(crate) auth: Option<crate::auth::ApiKeys>,
    /// MCP servers, A2A agents, AG-UI agents and vector databases, by path.
    pub(crate) mounts: mounts::Mounts,
    /// Turns true when a graceful shutdown begins: streams that never end on their own (MCP's
    /// notification streams) end then; streams under way finish.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// Add fixtures after the others (those of [`crate::fixture::load_paths`], say).
    pub fn append_fixtures(
        &self,
        fixtures: impl IntoIterator<Item = Arc<crate::fixture::Fixture>>,
    ) {
        self.core.fixtures.append(fixtures);
    }

    /// Replace every fixture at once (a reload): requests see the old set or the new one, never
    /// a mix.
    pub fn replace_fixtures(&self, fixtures: Vec<Arc<crate::fixture::Fixture>>) {
        self.core.fixtures.replace(fixtures);
    }

    /// How many fixtures are served.
    pub fn fixture_count(&self) -> usize {
        self.core.fixtures.snapshot().len()
    }

    /// The fixtures served, in the order they are tried.
    pub fn fixtures(&self) -> Vec<Arc<crate::fixture::Fixture>> {
        let set = self.core.fixtures.snapshot();
        set.slots().iter().map(|s| s.fixture.clone()).collect()
    }

    /// Every request answered so far, oldest first.
    pub fn journal(&self) -> Vec<crate::journal::JournalEntry> {
        self.core.journal.all()
    }

    /// The newest request.
    pub fn last_request(&self) -> Option<crate::journal::JournalEntry> {
        self.core.journal.last()
    }

    /// The mounted services (MCP, A2A, AG-UI, vector databases), longest path first.
    pub fn mounts(&self) -> &[Arc<mounts::Mount>] {
        self.mounts.all()
    }
}

impl AppState {
    /// State for a configuration, with no fixtures.
    ///
    /// # Panics
    /// When the configuration's services cannot be built (two at one path, a bad pattern): use
    /// [`AppState::try_new`] to get the reason as an error.
    pub fn new(config: ServerConfig) -> Arc<AppState> {
        AppState::try_new(config).unwrap_or_else(|e| panic!("invalid server configuration: {e}"))
    }

    /// State for a configuration, with no fixtures; an error names a service that cannot be
    /// built.
    pub fn try_new(config: ServerConfig) -> Result<Arc<AppState>, String> {
        let (shutdown, down) = tokio::sync::watch::channel(false);
        let mounts = mounts::Mounts::build(&config, &down)?;
        let services = crate::services::Services::new(config.services.as_ref())?;
        let auth = crate::auth::ApiKeys::new(&config.api_keys);
        let settings = crate::pipeline::Settings {
            strict: config.strict,
            latency: config.latency,
            chunk_size: config.chunk_size,
            replay_speed: config.replay_speed,
            max_body_bytes: config.max_body_bytes,
            strict_turn_index: config.strict_turn_index,
            normalize: config.normalize.clone(),
            progressions: config.progressions.clone(),
        };
        let core = Core {
            settings,
            fixtures: crate::fixture::FixtureStore::new(config.fixture_counts_max),
            journal: crate::journal::Journal::new(config.journal_max),
            chaos: crate::chaos::ChaosState::new(config.chaos, config.chaos_seed),
            metrics: config.metrics.then(crate::metrics::Metrics::new),
            services,
            recorder: config
                .record
                .clone()
                .map(crate::record::proxy::Recorder::new),
            auth_on: auth.is_some(),
            stored: Default::default(),
            conversations: Default::default(),
            files: Default::default(),
            batches: Default::default(),
            jobs: Default::default(),
            videos: Default::default(),
            voices: Default::default(),
            fal: Default::default(),
            interactions: Default::default(),
        };
        Ok(Arc::new(AppState {
            mounts,
            shutdown,
            core: Arc::new(core),
            auth,
        }))
    }

    /// Turns true when a graceful shutdown begins.
    pub(crate) fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Tell the open notification streams that the server is shutting down.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

/// The router for a state: the whole server as an axum router, for tests that call it without a
/// socket (`tower::ServiceExt::oneshot`). [`serve`] runs the same dispatch straight on hyper.
pub fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .fallback(dispatch::dispatch)
        .with_state(state)
}

/// A bound server: the main listener, and a listener for each mounted service that has a port of
/// its own (bound on the main listener's address, with the service's `port`, 0 for any free one).
#[derive(Debug)]
pub struct Server {
    state: Arc<AppState>,
    main: TcpListener,
    own: Vec<(TcpListener, Arc<mounts::Mount>)>,
}

impl Server {
    /// Bind the services' own ports beside `main`; an error names the service whose port could
    /// not be bound.
    pub async fn bind(state: Arc<AppState>, main: TcpListener) -> std::io::Result<Server> {
        let ip = main.local_addr()?.ip();
        let mut own = Vec::new();
        for mount in state.mounts.all() {
            let Some(port) = mount.port else { continue };
            let l = TcpListener::bind((ip, port)).await.map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot listen on {ip}:{port} for {} at {}: {e}",
                        mount.service.kind(),
                        mount.path
                    ),
                )
            })?;
            own.push((l, mount.clone()));
        }
        Ok(Server { state, main, own })
    }

    /// The main address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.main.local_addr()
    }

    /// Where each service with a port of its own listens, by mount path.
    pub fn own_ports(&self) -> Vec<(Arc<mounts::Mount>, SocketAddr)> {
        self.own
            .iter()
            .filter_map(|(l, m)| l.local_addr().ok().map(|a| (m.clone(), a)))
            .collect()
    }

    /// Serve until `shutdown` resolves, then finish the requests under way: streams that never
    /// end on their own (MCP's notification streams) are ended, and streams relayed in record
    /// mode write their recordings before this returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let connections = Arc::new(Connections::default());
        // Every connection task holds a sender: when the last is gone, every connection is.
        let (open_tx, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
        let mut loops = Vec::with_capacity(1 + self.own.len());
        loops.push(tokio::spawn(accept(
            self.main,
            self.state.clone(),
            None,
            stop.clone(),
            open_tx.clone(),
            connections.clone(),
        )));
        for (l, mount) in self.own {
            loops.push(tokio::spawn(accept(
                l,
                self.state.clone(),
                Some(mount),
                stop.clone(),
                open_tx.clone(),
                connections.clone(),
            )));
        }
        drop(open_tx);
        shutdown.await;
        let _ = stop_tx.send(true);
        connections.stop();
        self.state.begin_shutdown();
        for l in loops {
            let _ = l.await;
        }
        // Requests under way finish; idle keep-alive connections close.
        let _ = all_closed.recv().await;
        // Streams relayed in record mode finish and write their recordings before the process goes.
        if let Some(r) = &self.state.core.recorder {
            r.settle(std::time::Duration::from_secs(10)).await;
        }
        Ok(())
    }
}

/// The open connections, told when the server stops. A connection checks one flag each time
/// it is polled: cheaper than a shutdown future polled beside every request.
#[derive(Debug, Default)]
struct Connections {
    stopping: std::sync::atomic::AtomicBool,
    next: std::sync::atomic::AtomicU64,
    wakers:
        parking_lot::Mutex<std::collections::HashMap<u64, Arc<futures_util::task::AtomicWaker>>>,
}

/// A connection's place in [`Connections`].
#[derive(Debug)]
struct ConnWaker {
    id: u64,
    waker: Arc<futures_util::task::AtomicWaker>,
}

impl Connections {
    fn register(&self) -> ConnWaker {
        use std::sync::atomic::Ordering;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let waker = Arc::new(futures_util::task::AtomicWaker::new());
        self.wakers.lock().insert(id, waker.clone());
        ConnWaker { id, waker }
    }

    /// Flag the stop and wake every connection, so each starts its graceful shutdown.
    fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Release);
        for w in self.wakers.lock().values() {
            w.wake();
        }
    }
}

/// A connection that starts a graceful shutdown (finish the request under way, then close)
/// when the server stops.
struct Graceful<C> {
    conn: std::pin::Pin<Box<C>>,
    waker: ConnWaker,
    connections: Arc<Connections>,
    shutting: bool,
    /// Held while the connection is open (the server waits for every one to drop).
    _open: tokio::sync::mpsc::Sender<()>,
}

impl<C> Drop for Graceful<C> {
    fn drop(&mut self) {
        self.connections.wakers.lock().remove(&self.waker.id);
    }
}

impl<C> Future for Graceful<C>
where
    C: Future<Output = hyper::Result<()>> + GracefulShutdown,
{
    type Output = hyper::Result<()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<hyper::Result<()>> {
        let this = &mut *self;
        this.waker.waker.register(cx.waker());
        if !this.shutting
            && this
                .connections
                .stopping
                .load(std::sync::atomic::Ordering::Acquire)
        {
            this.shutting = true;
            this.conn.as_mut().shutdown_gracefully();
        }
        this.conn.as_mut().poll(cx)
    }
}

/// A connection that can finish its request under way and then close.
trait GracefulShutdown {
    fn shutdown_gracefully(self: std::pin::Pin<&mut Self>);
}

impl<I, S> GracefulShutdown for hyper::server::conn::http1::UpgradeableConnection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::ResBody: http_body::Body + Send + 'static,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    fn shutdown_gracefully(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Resolves once the server is told to stop.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Accept connections until told to stop, each served on a task of its own over HTTP/1.1.
async fn accept(
    listener: TcpListener,
    state: Arc<AppState>,
    only: Option<Arc<mounts::Mount>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    open: tokio::sync::mpsc::Sender<()>,
    connections: Arc<Connections>,
) {
    loop {
        let tcp = tokio::select! {
            biased;
            () = stopped(&mut stop) => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        // Streams write each event when it is due: without TCP_NODELAY, Nagle's algorithm holds
        // a small write back until the previous one is acknowledged (40 ms with a delayed ACK).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set on a connection: {e}");
        }
        let st = state.clone();
        let mount = only.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let st = st.clone();
                let mount = mount.clone();
                // The answer's own future, as it is: wrapped in no async block of its own.
                futures_util::FutureExt::map(
                    dispatch::respond(st, req, mount),
                    Ok::<_, std::convert::Infallible>,
                )
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
            .with_upgrades();
        let conn = Graceful {
            conn: Box::pin(conn),
            waker: connections.register(),
            connections: connections.clone(),
            shutting: false,
            _open: open.clone(),
        };
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended with an error: {e}");
            }
        });
    }
}

/// Serve until `shutdown` resolves, then finish the requests under way; the services with a
/// port of their own are served on theirs (bound on `listener`'s address).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    Server::bind(state, listener).await?.run(shutdown).await
}
