//! The `aimock` binary: flags and `aimock.json` in, a running mock server out.
//!
//! - [`flags`]: the command line (clap), compatible with aimock's.
//! - [`settings`]: flags merged over the config file.
//! - [`report`]: fixture problems in the log, and `aimock validate`.
//! - [`watch`]: `--watch`, reloading fixtures when files change.
//! - [`remote`]: `-f https://...`, fetched at boot into a cache.
//! - [`convert`]: `aimock convert vidaimock|mockllm`, other mock servers' files as fixtures.
//!
//! The library does the serving; this crate must stay thin: parse, load, log, bind, wait for a
//! signal.

mod convert;
mod flags;
mod remote;
mod report;
mod settings;
mod watch;

/// mimalloc: several times cheaper than glibc malloc for the many small, short-lived allocations
/// of request handling, and without its arena lock contention.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use aimock::fixture::load_paths;
use aimock::server::AppState;
use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::flags::{Cli, Command, LogLevel};
use crate::report::{join_paths, log_problems};
use crate::settings::{Note, Settings};

/// The arguments, with aimock 1.38's `-h <host>` read as `--host <host>`: aimock 1.43 made `-h`
/// help, and a migrating command line `-h 0.0.0.0` must not print help and exit as if it had
/// started. A bare `-h` is still help.
fn arguments() -> (Vec<std::ffi::OsString>, bool) {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut rewrote = false;
    for i in 1..args.len() {
        let next_is_value = args
            .get(i + 1)
            .and_then(|a| a.to_str())
            .is_some_and(|a| !a.starts_with('-'));
        if args[i] == "-h" && next_is_value {
            args[i] = "--host".into();
            rewrote = true;
        }
    }
    (args, rewrote)
}

fn main() -> ExitCode {
    let (args, host_flag_rewritten) = arguments();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not failures; every usage error exits 1, as aimock's does.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match &cli.command {
        Some(Command::Validate(args)) => return report::validate(args),
        Some(Command::Convert(args)) => return convert::run(args),
        None => {}
    }
    let settings = match Settings::resolve(&cli.serve) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let log_level = settings.log_level;
    init_logging(log_level);
    if host_flag_rewritten {
        tracing::warn!(
            "`-h <host>` is read as `--host <host>`; `-h` alone is help, so prefer `--host`"
        );
    }
    let threads = cli.serve.threads.unwrap_or(1);
    let built = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(threads))
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings, &cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            // Logging may be silent; a fatal error is still shown.
            if log_level == LogLevel::Silent {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn init_logging(level: LogLevel) {
    let own = match level {
        LogLevel::Silent => "off",
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
    };
    // Dependencies (hyper, notify) only speak up when something is wrong.
    let others = if level >= LogLevel::Warn { "warn" } else { own };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_env_filter(EnvFilter::new(format!("{others},aimock={own}")))
        .init();
}

async fn run(settings: Settings, cli: &Cli) -> anyhow::Result<ExitCode> {
    let args = &cli.serve;
    let Settings {
        host,
        port,
        server,
        mut fixture_paths,
        missing_paths,
        remote,
        notes,
        log_level: _,
    } = settings;
    for note in &notes {
        match note {
            Note::Warn(m) => tracing::warn!("{m}"),
            Note::Error(m) => tracing::error!("{m}"),
        }
    }
    // Remote fixtures, fetched once (or their cached copy), each put where its -f stood.
    for (at, url) in remote.iter().rev() {
        match remote::resolve(url).await {
            Ok(fetched) => {
                match &fetched.warning {
                    Some(w) => tracing::warn!("{w}"),
                    None => tracing::info!("Fetched {url} into {}", fetched.path.display()),
                }
                fixture_paths.insert(*at, fetched.path);
            }
            Err(e) if args.validate_on_load => {
                anyhow::bail!("--validate-on-load: remote fixtures {e}")
            }
            Err(e) => tracing::warn!("remote fixtures {e}; skipped"),
        }
    }

    let paths = fixture_paths.clone();
    let report = tokio::task::spawn_blocking(move || load_paths(&paths))
        .await
        .context("loading fixtures")?;
    log_problems(&report.problems);
    let errors = report.errors().count() + missing_paths;
    let loaded = report.fixtures.len();
    if args.validate_on_load && errors > 0 {
        anyhow::bail!("--validate-on-load: {errors} fixture error(s); not starting");
    }
    // MCP, A2A, AG-UI, vector databases or services from the config: a server with no LLM
    // fixtures still serves something.
    let serves_more = !server.mcp.is_empty()
        || !server.a2a.is_empty()
        || !server.agui.is_empty()
        || !server.vector.is_empty()
        || server.services.is_some();
    if loaded == 0 && serves_more {
        tracing::info!("No LLM fixtures loaded; LLM routes will return 404.");
    } else if loaded == 0 {
        if args.validate_on_load || args.strict {
            let flag = if args.strict {
                "--strict"
            } else {
                "--validate-on-load"
            };
            anyhow::bail!("{flag}: no fixtures loaded; not starting");
        }
        tracing::warn!("No fixtures loaded. The server will return 404 for all requests.");
    } else {
        tracing::info!(
            "Loaded {loaded} fixture(s) from {}",
            join_paths(&fixture_paths)
        );
    }

    let state = AppState::try_new(server).map_err(|e| anyhow::anyhow!("{e}"))?;
    state.append_fixtures(report.fixtures);

    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port}"))?;
    let port = listener
        .local_addr()
        .context("reading the bound address")?
        .port();

    let _watcher = if args.watch {
        if fixture_paths.is_empty() {
            tracing::warn!("--watch: no fixture path to watch");
            None
        } else {
            Some(watch::spawn(fixture_paths, state.clone())?)
        }
    } else {
        None
    };

    // Services configured with a port of their own get a listener each, bound before the
    // listening line so a client that reads it can connect to all of them.
    let server = aimock::server::Server::bind(state.clone(), listener).await?;

    // Installed before the listening line, so a signal sent as soon as it is read is handled.
    let mut signals = signals::Signals::install()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "aimock server listening on http://{host}:{port}")?;
        for mount in state.mounts() {
            writeln!(
                out,
                "  {} at http://{host}:{port}{}",
                mount.service.kind(),
                mount.path
            )?;
        }
        for (mount, addr) in server.own_ports() {
            let p = addr.port();
            writeln!(
                out,
                "  {} ({}) on its own port: http://{host}:{p}",
                mount.service.kind(),
                mount.path
            )?;
        }
        out.flush()?;
    }

    let mut rx = stop_rx;
    drop(state);
    let mut server = tokio::spawn(server.run(async move {
        let _ = rx.changed().await;
    }));
    tokio::select! {
        res = &mut server => return finished(res),
        name = signals.next() => tracing::info!("{name} received; finishing requests under way"),
    }
    let _ = stop_tx.send(true);
    tokio::select! {
        res = &mut server => finished(res),
        name = signals.next() => {
            tracing::warn!("{name} received again; exiting without waiting");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn finished(res: Result<std::io::Result<()>, tokio::task::JoinError>) -> anyhow::Result<ExitCode> {
    res.context("server task")?.context("server")?;
    tracing::info!("Server stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
mod signals {
    use tokio::signal::unix::{signal, Signal, SignalKind};

    /// SIGINT and SIGTERM.
    #[derive(Debug)]
    pub(crate) struct Signals {
        int: Signal,
        term: Signal,
    }

    impl Signals {
        pub(crate) fn install() -> std::io::Result<Signals> {
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }

        /// Wait for the next signal; its name.
        pub(crate) async fn next(&mut self) -> &'static str {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
    }
}

#[cfg(not(unix))]
mod signals {
    /// Ctrl-C.
    #[derive(Debug)]
    pub(crate) struct Signals;

    impl Signals {
        pub(crate) fn install() -> std::io::Result<Signals> {
            Ok(Signals)
        }

        /// Wait for the next Ctrl-C.
        pub(crate) async fn next(&mut self) -> &'static str {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
