//! Flags and `aimock.json` merged into the settings the server starts with.
//!
//! Precedence: a flag given on the command line, then the config file, then the default. Nothing
//! here logs: logging starts only once the log level is known, so every remark is returned as a
//! [`Note`] for the caller to log.

use std::path::{Path, PathBuf};

use aimock::config::{Config, LoadedConfig, ResolvedPath};
use aimock::server::ServerConfig;
use anyhow::bail;

use crate::flags::{LogLevel, ServeArgs};

pub(crate) const DEFAULT_PORT: u16 = 4010;
pub(crate) const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_FIXTURES: &str = "./fixtures";

/// Something to log once logging is set up.
#[derive(Debug)]
pub(crate) enum Note {
    Warn(String),
    Error(String),
}

/// Everything `aimock` (serving) needs.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) server: ServerConfig,
    pub(crate) log_level: LogLevel,
    /// Fixture paths that exist, in order.
    pub(crate) fixture_paths: Vec<PathBuf>,
    /// Fixture paths that were asked for but do not exist.
    pub(crate) missing_paths: usize,
    /// Remote fixtures (`-f https://...`), each with its place in `fixture_paths` (where its
    /// cached file goes once fetched), in order.
    pub(crate) remote: Vec<(usize, String)>,
    pub(crate) notes: Vec<Note>,
}

impl Settings {
    /// Merge the flags with the config file they name. Errors are fatal (bad config, remote
    /// fixtures).
    pub(crate) fn resolve(args: &ServeArgs) -> anyhow::Result<Settings> {
        let loaded = match &args.config {
            Some(path) => Some(Config::load(path)?),
            None => None,
        };
        let config = loaded.as_ref().map(|l| &l.config);
        let mut notes = Vec::new();

        let mut server = ServerConfig::default();
        if let Some(c) = config {
            c.apply_to(&mut server);
        }
        server.strict |= args.strict;
        if let Some(l) = args.latency {
            server.latency = l;
        }
        if let Some(c) = args.chunk_size {
            server.chunk_size = c;
        }
        if let Some(s) = args.replay_speed {
            server.replay_speed = s;
        }
        server.journal_max = args.journal_max;
        server.fixture_counts_max = args.fixture_counts_max;
        server.metrics |= args.metrics;
        apply_chaos(args, &mut server);
        // An `auth` section that lists no key must not quietly leave the server open.
        if config.is_some_and(|c| c.auth.as_ref().is_some_and(|a| a.api_keys.is_empty()))
            && std::env::var_os("AIMOCK_API_KEYS").is_none()
        {
            bail!("auth.apiKeys is empty: list at least one key, or remove the `auth` section");
        }
        apply_auth(&mut server)?;
        apply_record(args, &mut server, &mut notes)?;

        let config_level = config
            .and_then(|c| c.llm.as_ref())
            .and_then(|l| l.log_level.as_deref())
            .and_then(LogLevel::parse);
        let log_level = args.log_level.or(config_level).unwrap_or(LogLevel::Info);

        if let Some(loaded) = &loaded {
            let file = loaded.path.display();
            for w in &loaded.warnings {
                notes.push(Note::Warn(format!("{file}: {w}")));
            }
            for section in loaded.config.unserved_sections() {
                notes.push(Note::Warn(format!(
                    "{file}: config section `{section}` is accepted but not served yet; ignored"
                )));
            }
        }
        for flag in args.unsupported.given() {
            notes.push(Note::Warn(format!("{flag} is not supported yet; ignored")));
        }

        let mut remote = Vec::new();
        let (fixture_paths, missing_paths) =
            fixture_paths(&args.fixtures, loaded.as_ref(), &mut notes, &mut remote)?;

        Ok(Settings {
            host: args
                .host
                .clone()
                .or_else(|| config.and_then(|c| c.host.clone()))
                .unwrap_or_else(|| DEFAULT_HOST.to_owned()),
            // aimock's config-driven CLI picks a free port when neither the file nor a flag names
            // one; the flag-driven CLI listens on 4010.
            port: args
                .port
                .or_else(|| config.and_then(|c| c.port))
                .unwrap_or(if config.is_some() { 0 } else { DEFAULT_PORT }),
            server,
            log_level,
            fixture_paths,
            missing_paths,
            remote,
            notes,
        })
    }
}

/// `--chaos-*` flags over `llm.chaos`, field by field.
fn apply_chaos(args: &ServeArgs, server: &mut ServerConfig) {
    let c = &args.chaos;
    let r = &mut server.chaos;
    r.drop_rate = c.chaos_drop.or(r.drop_rate);
    r.malformed_rate = c.chaos_malformed.or(r.malformed_rate);
    r.disconnect_rate = c.chaos_disconnect.or(r.disconnect_rate);
    r.rate_limit_rate = c.chaos_rate_limit.or(r.rate_limit_rate);
    r.latency_ms = c.chaos_latency.or(r.latency_ms);
    if c.chaos_seed.is_some() {
        server.chaos_seed = c.chaos_seed;
    }
}

/// `AIMOCK_API_KEYS` (when set at all) over `auth.apiKeys`. Keys are trimmed; an empty,
/// repeated or control-character key is an error.
fn apply_auth(server: &mut ServerConfig) -> anyhow::Result<()> {
    let (keys, source) = match std::env::var("AIMOCK_API_KEYS") {
        Ok(v) => (
            v.split(',').map(str::to_owned).collect::<Vec<_>>(),
            "AIMOCK_API_KEYS",
        ),
        Err(_) => (std::mem::take(&mut server.api_keys), "auth.apiKeys"),
    };
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for k in keys {
        let k = k.trim().to_owned();
        if k.is_empty() {
            bail!("{source}: an API key is empty");
        }
        if k.chars().any(char::is_control) {
            bail!("{source}: an API key contains a control character");
        }
        if out.contains(&k) {
            bail!("{source}: an API key is listed twice");
        }
        out.push(k);
    }
    server.api_keys = out;
    Ok(())
}

/// `--record`/`--proxy-only` with `--provider-*` over `llm.record`. Recordings go to the config's
/// `fixturePath`, else `<first -f>/recorded`.
fn apply_record(
    args: &ServeArgs,
    server: &mut ServerConfig,
    notes: &mut Vec<Note>,
) -> anyhow::Result<()> {
    let r = &args.record;
    let flags_on = r.record || r.proxy_only;
    let providers = r.providers();
    if !flags_on {
        if server
            .record
            .as_ref()
            .is_some_and(|r| r.providers.is_empty())
        {
            notes.push(Note::Warn(
                "llm.record names no provider; record mode is off".to_owned(),
            ));
            server.record = None;
        }
        if !providers.is_empty() && server.record.is_none() {
            notes.push(Note::Warn(
                "--provider-* flags are ignored without --record or --proxy-only".to_owned(),
            ));
        }
        if let Some(rc) = server.record.as_mut() {
            rc.keys_from_env();
        }
        return Ok(());
    }
    let config_had_path = server.record.is_some();
    let mut rc = server.record.take().unwrap_or_default();
    for (k, url) in providers {
        rc.providers.insert(k.to_owned(), url.to_owned());
    }
    if rc.providers.is_empty() {
        bail!("--record and --proxy-only need at least one --provider-<name> <url>");
    }
    for (k, url) in &rc.providers {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            bail!("--provider-{k}: `{url}` is not an http(s) URL");
        }
    }
    if !config_had_path {
        if let Some(first) = args.fixtures.first() {
            // Beside a fixture file, inside a fixture directory.
            let first = PathBuf::from(first);
            let dir = if first.is_file() {
                first.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                first
            };
            rc.fixture_path = dir.join("recorded");
        }
    }
    rc.proxy_only |= r.proxy_only;
    rc.record_full_model_version |= r.record_full_model_version;
    rc.set_limits(
        r.upstream_timeout_ms,
        r.body_timeout_ms,
        r.max_proxy_buffer_bytes,
        r.max_proxy_buffer_frames,
    );
    rc.keys_from_env();
    server.record = Some(rc);
    Ok(())
}

/// Fail on a remote fixture source where only local files are read (`aimock validate`,
/// `llm.fixtures`): remote fixtures are fetched for `-f` only.
pub(crate) fn reject_remote(path: &str, place: &str) -> anyhow::Result<()> {
    if crate::remote::is_url(path) {
        bail!("{place} reads local files only: {path} (pass the URL with -f to fetch it, or download it)");
    }
    Ok(())
}

/// `-f` paths when given; else the config's `llm.fixtures`; else `./fixtures` when it exists.
fn fixture_paths(
    flags: &[String],
    config: Option<&LoadedConfig>,
    notes: &mut Vec<Note>,
    remote: &mut Vec<(usize, String)>,
) -> anyhow::Result<(Vec<PathBuf>, usize)> {
    let mut found = Vec::new();
    let mut missing = 0;
    if !flags.is_empty() {
        for f in flags {
            if crate::remote::is_url(f) {
                remote.push((found.len(), f.clone()));
                continue;
            }
            let p = PathBuf::from(f);
            if p.exists() {
                found.push(p);
            } else {
                missing += 1;
                notes.push(Note::Error(format!("fixture path not found: {f}")));
            }
        }
    } else if let Some(loaded) = config {
        if let Some(llm_fixtures) = loaded.config.llm.as_ref().and_then(|l| l.fixtures.as_ref()) {
            for p in llm_fixtures.as_slice() {
                reject_remote(p, "llm.fixtures")?;
            }
        }
        for resolved in loaded.fixture_paths() {
            match resolved {
                ResolvedPath::Found(p) => found.push(p),
                ResolvedPath::Missing { written, tried } => {
                    missing += 1;
                    let tried: Vec<String> =
                        tried.iter().map(|t| t.display().to_string()).collect();
                    notes.push(Note::Error(format!(
                        "{}: llm.fixtures `{written}` not found (looked for {})",
                        loaded.path.display(),
                        tried.join(" and ")
                    )));
                }
            }
        }
    } else if Path::new(DEFAULT_FIXTURES).is_dir() {
        found.push(PathBuf::from(DEFAULT_FIXTURES));
    }
    Ok((found, missing))
}
