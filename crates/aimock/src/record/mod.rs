//! Record and replay: a request no fixture answers goes to the real provider; the reply is
//! relayed to the caller as it arrives and saved as a fixture that answers the same request from
//! then on.
//!
//! - `proxy`: the upstream call, the relay, frame timings, and turning the result into a fixture.
//! - `collapse`: a provider's reply (streamed or not) as a fixture `response`.
//! - `key`: the `match` a recording gets.
//! - [`normalize`]: rewrite rules applied to matching and recorded keys alike.
//! - `upstream`: the upstream URL and headers, credentials included.
//! - `writer`: fixture files, written atomically.

pub(crate) mod collapse;
#[cfg(test)]
mod files_tests;
pub(crate) mod key;
pub mod normalize;
pub(crate) mod proxy;
pub(crate) mod socket;
pub(crate) mod upstream;
pub(crate) mod writer;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) use collapse::Collapser;
pub(crate) use upstream::Credential;

/// The environment variable holding the server's own key for the upstream named `key`
/// (`AIMOCK_PROVIDER_OPENAI_KEY` for `openai`).
pub fn key_env(key: &str) -> String {
    format!("AIMOCK_PROVIDER_{}_KEY", key.to_ascii_uppercase())
}

/// Record mode's settings (`--record`, `--provider-*`, `llm.record`). Its `Debug` shows which
/// providers have a key, never the keys.
#[derive(Clone)]
pub struct RecordConfig {
    /// Upstream base URL per provider key; the request path is appended to it.
    pub providers: BTreeMap<String, String>,
    /// The server's own upstream credentials per provider key, used when a caller sends none or
    /// a placeholder.
    pub provider_keys: BTreeMap<String, String>,
    /// Where recordings are written.
    pub fixture_path: PathBuf,
    /// Proxy without saving or registering anything.
    pub proxy_only: bool,
    /// Keep date suffixes in recorded model names.
    pub record_full_model_version: bool,
    /// Time allowed until the upstream's response head, in milliseconds.
    pub upstream_timeout_ms: u64,
    /// Time allowed between two body chunks, in milliseconds.
    pub body_timeout_ms: u64,
    /// Largest reply kept in memory for a recording; past it the relay goes on and nothing is
    /// recorded.
    pub max_proxy_buffer_bytes: usize,
    /// Most frames whose timings are kept.
    pub max_proxy_buffer_frames: usize,
    /// A caller credential starting with this is a placeholder (`AIMOCK_DUMMY_KEY_MARKER`).
    pub dummy_key_marker: String,
}

impl std::fmt::Debug for RecordConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordConfig")
            .field("providers", &self.providers)
            .field(
                "provider_keys",
                &self.provider_keys.keys().collect::<Vec<_>>(),
            )
            .field("fixture_path", &self.fixture_path)
            .field("proxy_only", &self.proxy_only)
            .field("record_full_model_version", &self.record_full_model_version)
            .field("upstream_timeout_ms", &self.upstream_timeout_ms)
            .field("body_timeout_ms", &self.body_timeout_ms)
            .field("max_proxy_buffer_bytes", &self.max_proxy_buffer_bytes)
            .field("max_proxy_buffer_frames", &self.max_proxy_buffer_frames)
            .field("dummy_key_marker", &self.dummy_key_marker)
            .finish()
    }
}

/// aimock's hard ceiling for a buffered reply.
pub const MAX_PROXY_BUFFER_CEILING: usize = 256 * 1024 * 1024;

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            providers: BTreeMap::new(),
            provider_keys: BTreeMap::new(),
            fixture_path: PathBuf::from("./fixtures/recorded"),
            proxy_only: false,
            record_full_model_version: false,
            upstream_timeout_ms: 30_000,
            body_timeout_ms: 30_000,
            max_proxy_buffer_bytes: 64 * 1024 * 1024,
            max_proxy_buffer_frames: 5_000_000,
            dummy_key_marker: "sk-aimock-".to_owned(),
        }
    }
}

impl RecordConfig {
    /// The upstream base URL for the provider named `key`, if one is configured.
    pub fn upstream(&self, key: &str) -> Option<&str> {
        self.providers.get(key).map(String::as_str)
    }

    /// Set the limits given (flags or `llm.record`), leaving the others alone. The buffer cap is
    /// held to [`MAX_PROXY_BUFFER_CEILING`].
    pub fn set_limits(
        &mut self,
        upstream_timeout_ms: Option<u64>,
        body_timeout_ms: Option<u64>,
        max_proxy_buffer_bytes: Option<u64>,
        max_proxy_buffer_frames: Option<u64>,
    ) {
        if let Some(v) = upstream_timeout_ms {
            self.upstream_timeout_ms = v;
        }
        if let Some(v) = body_timeout_ms {
            self.body_timeout_ms = v;
        }
        if let Some(v) = max_proxy_buffer_bytes {
            self.max_proxy_buffer_bytes = usize::try_from(v)
                .unwrap_or(usize::MAX)
                .min(MAX_PROXY_BUFFER_CEILING);
        }
        if let Some(v) = max_proxy_buffer_frames {
            self.max_proxy_buffer_frames = usize::try_from(v).unwrap_or(usize::MAX);
        }
    }

    /// Fill `provider_keys` from `AIMOCK_PROVIDER_<NAME>_KEY` for providers that have none yet.
    pub fn keys_from_env(&mut self) {
        for (name, value) in std::env::vars() {
            let Some(key) = name
                .strip_prefix("AIMOCK_PROVIDER_")
                .and_then(|n| n.strip_suffix("_KEY"))
                .filter(|k| !k.is_empty())
            else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if !self.provider_keys.contains_key(&key) && !value.trim().is_empty() {
                self.provider_keys.insert(key, value.trim().to_owned());
            }
        }
        if let Ok(m) = std::env::var("AIMOCK_DUMMY_KEY_MARKER") {
            if !m.is_empty() {
                self.dummy_key_marker = m;
            }
        }
    }
}
