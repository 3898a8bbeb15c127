//! The `aimock.json` configuration file: its schema as serde types and a loader that reports
//! unknown keys as warnings and bad values as errors naming the field and line.
//!
//! The binary's `--config` and the Rust API share these types. Loading never touches the fixture
//! files the config names; [`LoadedConfig::fixture_paths`] only resolves where they are.
//!
//! Unknown keys are not errors: aimock ignores them, so a config written for a newer aimock still
//! starts. Keys starting with `_` or `$` (`"$schema"`, `"_comment"`) are comments and never reported.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::server::ServerConfig;

/// The whole `aimock.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// Port to listen on (flags override it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Host to listen on (flags override it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Serve Prometheus metrics on `GET /metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<bool>,
    /// Answer a miss with 503 instead of 404.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Inbound API-key authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    /// The LLM mock: fixtures and streaming settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmConfig>,
    /// MCP servers: one object, or a list of them at different paths or ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<OneOrMany<McpConfig>>,
    /// A2A agents: one object, or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a: Option<OneOrMany<A2aConfig>>,
    /// AG-UI agents: one object, or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agui: Option<OneOrMany<AguiConfig>>,
    /// Vector databases: one object, or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<OneOrMany<VectorConfig>>,
    /// Search, rerank and moderation catch-alls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<ServicesConfig>,
}

pub use crate::a2a::config::*;
pub use crate::agui::config::*;
pub use crate::mcp::config::*;
pub use crate::services::config::*;
pub use crate::vector::config::*;

/// A section given as one object or as a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "an object or a list of objects")]
pub enum OneOrMany<T> {
    /// One.
    One(T),
    /// Several.
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    /// Every entry, in order.
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// `auth`: inbound key validation. Its `Debug` never shows the keys.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthConfig {
    /// Accepted keys.
    #[serde(default)]
    pub api_keys: Vec<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "api_keys",
                &format_args!("[{} key(s)]", self.api_keys.len()),
            )
            .finish()
    }
}

/// `llm`: the LLM mock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LlmConfig {
    /// Fixture file or directory (aimock takes one path; a list is accepted too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixtures: Option<FixturePaths>,
    /// Delay before each streamed event, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<f64>,
    /// Characters per streamed text chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<usize>,
    /// Divides every streaming delay (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_speed: Option<f64>,
    /// `silent`, `error`, `warn`, `info` or `debug`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    /// Server-level chaos rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosConfig>,
    /// Record misses from upstream providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordConfig>,
    /// Rewrite rules applied to request text before matching and recording (timestamps, ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<Vec<crate::record::normalize::NormalizeRuleSpec>>,
}

/// `llm.fixtures`: one path, or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a fixture path (string) or a list of paths")]
pub enum FixturePaths {
    /// One file or directory.
    One(String),
    /// Several, loaded in order.
    Many(Vec<String>),
}

impl FixturePaths {
    /// The paths as written.
    pub fn as_slice(&self) -> &[String] {
        match self {
            FixturePaths::One(p) => std::slice::from_ref(p),
            FixturePaths::Many(ps) => ps,
        }
    }
}

/// `llm.chaos`: probabilities in `0..=1`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosConfig {
    /// Answer with a 500 instead of the fixture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_rate: Option<f64>,
    /// Answer with a malformed body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_rate: Option<f64>,
    /// Close the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_rate: Option<f64>,
    /// Answer with a 429 and Retry-After (aimock 1.43).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_rate: Option<f64>,
    /// Added delay before answering, in milliseconds (0 to 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Seed for the chaos rolls: the same seed gives the same sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// `llm.record`: proxy misses upstream and save them as fixtures. Its `Debug` names the
/// providers with a key, never the keys.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordConfig {
    /// Provider key (`openai`, `anthropic`, ...) to upstream base URL.
    #[serde(default)]
    pub providers: BTreeMap<String, String>,
    /// Provider key to an aimock-owned upstream credential.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provider_keys: BTreeMap<String, String>,
    /// Where recorded fixtures go (aimock: `./fixtures/recorded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture_path: Option<String>,
    /// Proxy without saving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_only: Option<bool>,
    /// Keep date suffixes in recorded `match.model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_full_model_version: Option<bool>,
    /// fal.ai queue polling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fal: Option<Value>,
    /// OpenRouter video limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_router_video: Option<Value>,
    /// Idle timeout before the upstream response body, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_timeout_ms: Option<u64>,
    /// Idle timeout between upstream body chunks, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_timeout_ms: Option<u64>,
    /// In-memory proxy buffer cap, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_proxy_buffer_bytes: Option<u64>,
    /// Frame-count cap for per-frame timing state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_proxy_buffer_frames: Option<u64>,
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
            .finish_non_exhaustive()
    }
}

/// Why a config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: cannot read config: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid JSON, or a value has the wrong type.
    #[error("{path}:{line}:{column}: error: {}{message}", field_prefix(field))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field (`llm.chunkSize`), empty for a syntax error.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A value has the right type but cannot be used.
    #[error("{path}: error: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

/// Something in a config that loads but is probably not what was meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The field (`llm.chunksize`).
    pub field: String,
    /// What happens instead.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A config read from a file, with the file's location (for relative paths) and its warnings.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The config.
    pub config: Config,
    /// The file it came from.
    pub path: PathBuf,
    /// Unknown keys and ignored values.
    pub warnings: Vec<ConfigWarning>,
}

/// The log levels `llm.logLevel` and `--log-level` accept.
pub const LOG_LEVELS: &[&str] = &["silent", "error", "warn", "info", "debug"];

impl Config {
    /// Read and check a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<LoadedConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let (config, warnings) = Config::parse(&text).map_err(|e| e.at(path))?;
        Ok(LoadedConfig {
            config,
            path: path.to_path_buf(),
            warnings,
        })
    }

    /// Parse and check config text. Errors name the file as `<config>`; [`Config::load`] puts the
    /// real path in.
    pub fn parse(text: &str) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        let label = PathBuf::from("<config>");
        let raw: Value = serde_json::from_str(text).map_err(|e| ConfigError::Parse {
            path: label.clone(),
            line: e.line(),
            column: e.column(),
            field: String::new(),
            message: strip_position(&e.to_string()),
        })?;
        if !raw.is_object() {
            return Err(ConfigError::Invalid {
                path: label,
                field: "(top level)".into(),
                message: "a config file is a JSON object".into(),
            });
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            ConfigError::Parse {
                path: label.clone(),
                line: inner.line(),
                column: inner.column(),
                field: e.path().to_string().replace('?', ""),
                message: strip_position(&inner.to_string()),
            }
        })?;
        let mut warnings = Vec::new();
        // Serializing the typed config back and comparing keys finds every key serde skipped,
        // without a catch-all map in each struct.
        let known = serde_json::to_value(&config).unwrap_or(Value::Null);
        unknown_keys(&raw, &known, "", &mut warnings);
        config.check(&label, &mut warnings)?;
        Ok((config, warnings))
    }

    fn check(&self, path: &Path, warnings: &mut Vec<ConfigWarning>) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            message,
        };
        let Some(llm) = &self.llm else { return Ok(()) };
        if let Some(fixtures) = &llm.fixtures {
            for p in fixtures.as_slice() {
                if p.trim().is_empty() {
                    return Err(invalid("llm.fixtures", "an empty path".into()));
                }
            }
        }
        if let Some(l) = llm.latency {
            if !l.is_finite() || l < 0.0 {
                return Err(invalid(
                    "llm.latency",
                    format!("must be a number of milliseconds >= 0, got {l}"),
                ));
            }
        }
        if llm.chunk_size == Some(0) {
            return Err(invalid("llm.chunkSize", "must be at least 1, got 0".into()));
        }
        if let Some(s) = llm.replay_speed {
            if !s.is_finite() || s <= 0.0 {
                warnings.push(ConfigWarning {
                    field: "llm.replaySpeed".into(),
                    message: format!("must be > 0, got {s}; ignored"),
                });
            }
        }
        if let Some(level) = &llm.log_level {
            if !LOG_LEVELS.contains(&level.as_str()) {
                return Err(invalid(
                    "llm.logLevel",
                    format!("`{level}` is not one of {}", LOG_LEVELS.join(", ")),
                ));
            }
        }
        for (i, rule) in llm.normalize.iter().flatten().enumerate() {
            if let Err(e) = crate::record::normalize::NormalizeRule::new(
                &rule.pattern,
                rule.replacement.clone(),
                rule.flags.as_deref(),
            ) {
                return Err(invalid(&format!("llm.normalize[{i}].pattern"), e));
            }
        }
        if let Some(chaos) = &llm.chaos {
            if let Some(l) = chaos.latency_ms {
                if !(0.0..=30_000.0).contains(&l) {
                    return Err(invalid(
                        "llm.chaos.latencyMs",
                        format!("must be between 0 and 30000, got {l}"),
                    ));
                }
            }
            for (name, rate) in [
                ("dropRate", chaos.drop_rate),
                ("malformedRate", chaos.malformed_rate),
                ("disconnectRate", chaos.disconnect_rate),
                ("rateLimitRate", chaos.rate_limit_rate),
            ] {
                if let Some(r) = rate {
                    if !(0.0..=1.0).contains(&r) {
                        return Err(invalid(
                            &format!("llm.chaos.{name}"),
                            format!("must be between 0 and 1, got {r}"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Put the settings this config gives into a server configuration (strict, latency, chunk
    /// size, replay speed); settings it does not give are left alone.
    pub fn apply_to(&self, server: &mut ServerConfig) {
        if let Some(strict) = self.strict {
            server.strict = strict;
        }
        if let Some(m) = self.metrics {
            server.metrics = m;
        }
        if let Some(a) = &self.auth {
            server.api_keys = a.api_keys.clone();
        }
        if let Some(m) = &self.mcp {
            server.mcp = m.to_vec();
        }
        if let Some(a) = &self.a2a {
            server.a2a = a.to_vec();
        }
        if let Some(a) = &self.agui {
            server.agui = a.to_vec();
        }
        if let Some(v) = &self.vector {
            server.vector = v.to_vec();
        }
        if let Some(s) = &self.services {
            server.services = Some(s.clone());
        }
        let Some(llm) = &self.llm else { return };
        if let Some(l) = llm.latency {
            server.latency = l;
        }
        if let Some(c) = llm.chunk_size {
            server.chunk_size = c;
        }
        if let Some(s) = llm.replay_speed.filter(|s| s.is_finite() && *s > 0.0) {
            server.replay_speed = s;
        }
        if let Some(c) = &llm.chaos {
            server.chaos = crate::chaos::ChaosRates {
                drop_rate: c.drop_rate,
                malformed_rate: c.malformed_rate,
                disconnect_rate: c.disconnect_rate,
                rate_limit_rate: c.rate_limit_rate,
                latency_ms: c.latency_ms,
            };
            if c.seed.is_some() {
                server.chaos_seed = c.seed;
            }
        }
        server.normalize = llm
            .normalize
            .iter()
            .flatten()
            .filter_map(|r| {
                crate::record::normalize::NormalizeRule::new(
                    &r.pattern,
                    r.replacement.clone(),
                    r.flags.as_deref(),
                )
                .ok()
            })
            .collect();
        if let Some(r) = &llm.record {
            let mut rc = crate::record::RecordConfig {
                providers: r.providers.clone(),
                provider_keys: r.provider_keys.clone(),
                ..Default::default()
            };
            if let Some(p) = &r.fixture_path {
                rc.fixture_path = p.into();
            }
            rc.proxy_only = r.proxy_only.unwrap_or(false);
            rc.record_full_model_version = r.record_full_model_version.unwrap_or(false);
            rc.set_limits(
                r.upstream_timeout_ms,
                r.body_timeout_ms,
                r.max_proxy_buffer_bytes,
                r.max_proxy_buffer_frames,
            );
            server.record = Some(rc);
        }
    }

    /// The sections present in this config that this version of aimock accepts but does not act
    /// on yet (`mcp`, `llm.record`, ...).
    pub fn unserved_sections(&self) -> Vec<&'static str> {
        // Every section is served now (`services` too); kept for sections still to come.
        Vec::new()
    }
}

impl ConfigError {
    fn at(self, file: &Path) -> ConfigError {
        match self {
            ConfigError::Read { error, .. } => ConfigError::Read {
                path: file.to_path_buf(),
                error,
            },
            ConfigError::Parse {
                line,
                column,
                field,
                message,
                ..
            } => ConfigError::Parse {
                path: file.to_path_buf(),
                line,
                column,
                field,
                message,
            },
            ConfigError::Invalid { field, message, .. } => ConfigError::Invalid {
                path: file.to_path_buf(),
                field,
                message,
            },
        }
    }
}

/// Where a fixture path named by a config was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedPath {
    /// It exists, at this path.
    Found(PathBuf),
    /// It exists nowhere; these are the places looked at.
    Missing {
        /// The path as written in the config.
        written: String,
        /// Every place looked at, in order.
        tried: Vec<PathBuf>,
    },
}

impl LoadedConfig {
    /// The directory holding the config file.
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Where each `llm.fixtures` path is. A relative path is looked for beside the config file
    /// first, then in the current directory (aimock's own example configs name paths from the
    /// repository root, and users run them from there).
    pub fn fixture_paths(&self) -> Vec<ResolvedPath> {
        let Some(fixtures) = self.config.llm.as_ref().and_then(|l| l.fixtures.as_ref()) else {
            return Vec::new();
        };
        let dir = self.dir();
        fixtures
            .as_slice()
            .iter()
            .map(|written| {
                // `./x` and `x` are the same file; dropping `.` keeps logged paths short.
                let p: PathBuf = Path::new(written)
                    .components()
                    .filter(|c| *c != Component::CurDir)
                    .collect();
                let tried = if p.is_absolute() {
                    vec![p]
                } else {
                    vec![dir.join(&p), p]
                };
                match tried.iter().find(|t| t.exists()) {
                    Some(found) => ResolvedPath::Found(found.clone()),
                    None => ResolvedPath::Missing {
                        written: written.clone(),
                        tried,
                    },
                }
            })
            .collect()
    }
}

fn is_comment_key(key: &str) -> bool {
    key.starts_with('_') || key.starts_with('$')
}

/// Report every key of `raw` that the typed config did not keep. A key whose value is `null` is not
/// reported: an absent optional serializes to nothing, so it cannot be told from an unknown key,
/// and a null changes nothing either way.
fn unknown_keys(raw: &Value, known: &Value, at: &str, out: &mut Vec<ConfigWarning>) {
    match (raw, known) {
        (Value::Object(r), Value::Object(k)) => {
            for (key, value) in r {
                let field = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match k.get(key) {
                    Some(kv) => unknown_keys(value, kv, &field, out),
                    None if value.is_null() || is_comment_key(key) => {}
                    None => out.push(ConfigWarning {
                        message: format!("unknown key `{key}`; ignored"),
                        field,
                    }),
                }
            }
        }
        (Value::Array(r), Value::Array(k)) => {
            for (i, (rv, kv)) in r.iter().zip(k).enumerate() {
                unknown_keys(rv, kv, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_parses_without_warnings() {
        let text = r#"{"$schema": "x", "port": 4000, "host": "0.0.0.0", "metrics": true, "strict": true,
            "auth": {"apiKeys": ["k"]},
            "llm": {"fixtures": "f.json", "latency": 5, "chunkSize": 3, "replaySpeed": 2, "logLevel": "warn",
                    "chaos": {"dropRate": 0.1}, "record": {"providers": {"openai": "https://x"}, "fixturePath": "r"}},
            "mcp": {"tools": [{"name": "t", "inputSchema": {"type": "object"}, "result": "r"}]},
            "a2a": {"agents": [{"name": "a", "skills": [{"id": "s", "tags": ["x"]}]}]},
            "agui": {"fixtures": [{"match": {"message": "hi"}, "text": "yo"}]},
            "vector": {"collections": [{"name": "c", "dimension": 3}]},
            "services": {"search": true}}"#;
        let (config, warnings) = Config::parse(text).expect("parses");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.port, Some(4000));
        let mut server = ServerConfig::default();
        config.apply_to(&mut server);
        assert!(server.strict);
        assert_eq!(server.chunk_size, 3);
        assert_eq!(server.replay_speed, 2.0);
        assert!(config.unserved_sections().is_empty());
    }

    #[test]
    fn unknown_keys_are_warnings_naming_the_full_field() {
        let text = r#"{"prot": 1, "llm": {"chunksize": 2, "chaos": {"dropRat": 1}}, "mcp": {"tools": [{"name": "t", "color": "red"}]}}"#;
        let (_, warnings) = Config::parse(text).expect("parses");
        let fields: Vec<_> = warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "llm.chaos.dropRat",
                "llm.chunksize",
                "mcp.tools[0].color",
                "prot"
            ]
        );
    }

    #[test]
    fn a_wrong_type_is_an_error_with_field_and_line() {
        let err = Config::parse("{\n  \"llm\": {\n    \"chunkSize\": \"big\"\n  }\n}")
            .expect_err("fails");
        let shown = err.to_string();
        assert!(shown.starts_with("<config>:3:"), "{shown}");
        assert!(shown.contains("llm.chunkSize"), "{shown}");
    }

    #[test]
    fn a_port_out_of_range_is_an_error() {
        let err = Config::parse(r#"{"port": 70000}"#).expect_err("fails");
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn a_zero_chunk_size_is_an_error_and_a_zero_replay_speed_a_warning() {
        assert!(Config::parse(r#"{"llm": {"chunkSize": 0}}"#).is_err());
        let (config, warnings) = Config::parse(r#"{"llm": {"replaySpeed": 0}}"#).expect("parses");
        assert_eq!(warnings.len(), 1);
        let mut server = ServerConfig::default();
        config.apply_to(&mut server);
        assert_eq!(server.replay_speed, 1.0);
    }

    #[test]
    fn relative_fixture_paths_resolve_beside_the_config_then_in_the_current_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("beside.json"), "{}").expect("write");
        let loaded = LoadedConfig {
            config: Config::parse(
                r#"{"llm": {"fixtures": ["beside.json", "Cargo.toml", "nowhere.json"]}}"#,
            )
            .expect("parses")
            .0,
            path: dir.path().join("aimock.json"),
            warnings: Vec::new(),
        };
        let resolved = loaded.fixture_paths();
        assert_eq!(
            resolved[0],
            ResolvedPath::Found(dir.path().join("beside.json"))
        );
        // Cargo runs unit tests in the crate directory, which holds a Cargo.toml.
        assert_eq!(
            resolved[1],
            ResolvedPath::Found(PathBuf::from("Cargo.toml"))
        );
        assert!(matches!(&resolved[2], ResolvedPath::Missing { tried, .. } if tried.len() == 2));
    }
}
