//! The command line, defined once: clap builds parsing and `--help` from these structs.
//!
//! The flags follow aimock's `llmock` CLI so existing command lines keep working; the flags for
//! surfaces not built yet (record, chaos, metrics, AG-UI proxy) are accepted and warned about.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A mock server for LLM APIs, driven by JSON or YAML fixture files.
#[derive(Debug, Parser)]
#[command(
    name = "aimock",
    version,
    args_conflicts_with_subcommands = true,
    allow_negative_numbers = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check fixture files without starting a server; exit 1 if any has an error.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Print the problems as a JSON array instead of lines (the summary goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Fixture files or directories (searched recursively).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

/// `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum LogLevel {
    Silent,
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    pub(crate) fn parse(s: &str) -> Option<LogLevel> {
        LogLevel::from_str(s, false).ok()
    }
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Fixture file or directory (recursive); repeatable. Default: ./fixtures when it exists.
    #[arg(short = 'f', long = "fixtures", value_name = "PATH")]
    pub(crate) fixtures: Vec<String>,
    /// Port to listen on; 0 picks a free port. [default: 4010]
    #[arg(short = 'p', long, value_name = "PORT")]
    pub(crate) port: Option<u16>,
    /// Host to listen on. [default: 127.0.0.1]
    #[arg(long, value_name = "HOST")]
    pub(crate) host: Option<String>,
    /// aimock.json config file; flags override its settings.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Answer unmatched requests with 503 instead of 404; loading no fixture is fatal.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Delay between streamed chunks, in milliseconds. [default: 0]
    #[arg(short = 'l', long, value_name = "MS", value_parser = non_negative_f64)]
    pub(crate) latency: Option<f64>,
    /// Characters per streamed text chunk (>= 1). [default: 20]
    #[arg(short = 'c', long, value_name = "N", value_parser = at_least_one)]
    pub(crate) chunk_size: Option<usize>,
    /// Log level. [default: info]
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(crate) log_level: Option<LogLevel>,
    /// Exit 1 before listening when any fixture has an error or none loads.
    #[arg(long)]
    pub(crate) validate_on_load: bool,
    /// Reload the fixtures when their files change.
    #[arg(short = 'w', long)]
    pub(crate) watch: bool,
    /// Journal entries kept; 0 = unbounded.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub(crate) journal_max: usize,
    /// Test ids whose match counts are kept; 0 = unbounded.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub(crate) fixture_counts_max: usize,
    /// Threads serving requests. One event loop is the fastest choice for a mock server, whose
    /// work per request is tiny; more help only with many slow, CPU-heavy streams. [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
    /// Divides every streaming delay (> 0). [default: 1]
    #[arg(long, value_name = "X", value_parser = positive_f64)]
    pub(crate) replay_speed: Option<f64>,

    #[command(flatten)]
    pub(crate) unsupported: UnsupportedArgs,
}

/// Flags of aimock's CLI for features this version does not have yet: accepted so existing
/// command lines start, then warned about.
#[derive(Debug, Args)]
#[command(next_help_heading = "Accepted but not supported yet (a warning is printed)")]
pub(crate) struct UnsupportedArgs {
    /// Serve Prometheus metrics on /metrics.
    #[arg(long)]
    pub(crate) metrics: bool,
    /// Proxy unmatched requests upstream and record them as fixtures.
    #[arg(long)]
    pub(crate) record: bool,
    /// Proxy unmatched requests upstream without recording.
    #[arg(long)]
    pub(crate) proxy_only: bool,
    /// Keep date suffixes in recorded model names.
    #[arg(long)]
    pub(crate) record_full_model_version: bool,
    /// Upstream base URL for OpenAI.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_openai: Option<String>,
    /// Upstream base URL for Anthropic.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_anthropic: Option<String>,
    /// Upstream base URL for Gemini.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_gemini: Option<String>,
    /// Upstream base URL for Vertex AI.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_vertexai: Option<String>,
    /// Upstream base URL for Bedrock.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_bedrock: Option<String>,
    /// Upstream base URL for Azure OpenAI.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_azure: Option<String>,
    /// Upstream base URL for Ollama.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_ollama: Option<String>,
    /// Upstream base URL for Cohere.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_cohere: Option<String>,
    /// Upstream base URL for OpenRouter.
    #[arg(long, value_name = "URL")]
    pub(crate) provider_openrouter: Option<String>,
    /// Probability (0..1) of answering with a 500.
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_drop: Option<f64>,
    /// Probability (0..1) of answering with a malformed body.
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_malformed: Option<f64>,
    /// Probability (0..1) of dropping the connection.
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_disconnect: Option<f64>,
    /// Upstream idle timeout before the response body, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub(crate) upstream_timeout_ms: Option<u64>,
    /// Upstream idle timeout between body chunks, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub(crate) body_timeout_ms: Option<u64>,
    /// In-memory proxy buffer cap, in bytes.
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_proxy_buffer_bytes: Option<u64>,
    /// Frame-count cap for per-frame timing state.
    #[arg(long, value_name = "N")]
    pub(crate) max_proxy_buffer_frames: Option<u64>,
    /// Record an upstream AG-UI agent at /agui.
    #[arg(long)]
    pub(crate) agui_record: bool,
    /// Proxy an upstream AG-UI agent at /agui without recording.
    #[arg(long)]
    pub(crate) agui_proxy_only: bool,
    /// The upstream AG-UI agent.
    #[arg(long, value_name = "URL")]
    pub(crate) agui_upstream: Option<String>,
}

impl UnsupportedArgs {
    /// The flags given, as written on the command line.
    pub(crate) fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("--metrics", self.metrics),
            ("--record", self.record),
            ("--proxy-only", self.proxy_only),
            (
                "--record-full-model-version",
                self.record_full_model_version,
            ),
            ("--provider-openai", self.provider_openai.is_some()),
            ("--provider-anthropic", self.provider_anthropic.is_some()),
            ("--provider-gemini", self.provider_gemini.is_some()),
            ("--provider-vertexai", self.provider_vertexai.is_some()),
            ("--provider-bedrock", self.provider_bedrock.is_some()),
            ("--provider-azure", self.provider_azure.is_some()),
            ("--provider-ollama", self.provider_ollama.is_some()),
            ("--provider-cohere", self.provider_cohere.is_some()),
            ("--provider-openrouter", self.provider_openrouter.is_some()),
            ("--chaos-drop", self.chaos_drop.is_some()),
            ("--chaos-malformed", self.chaos_malformed.is_some()),
            ("--chaos-disconnect", self.chaos_disconnect.is_some()),
            ("--upstream-timeout-ms", self.upstream_timeout_ms.is_some()),
            ("--body-timeout-ms", self.body_timeout_ms.is_some()),
            (
                "--max-proxy-buffer-bytes",
                self.max_proxy_buffer_bytes.is_some(),
            ),
            (
                "--max-proxy-buffer-frames",
                self.max_proxy_buffer_frames.is_some(),
            ),
            ("--agui-record", self.agui_record),
            ("--agui-proxy-only", self.agui_proxy_only),
            ("--agui-upstream", self.agui_upstream.is_some()),
        ];
        flags
            .into_iter()
            .filter_map(|(name, given)| given.then_some(name))
            .collect()
    }
}

fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{s}` is not a finite number"))
    }
}

fn non_negative_f64(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v < 0.0 {
        return Err(format!("must be >= 0, got {s}"));
    }
    Ok(v)
}

fn positive_f64(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 {
        return Err(format!("must be > 0, got {s}"));
    }
    Ok(v)
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1, got 0".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number >= 1")),
    }
}

fn rate(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("must be between 0 and 1, got {s}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn numeric_flags_reject_bad_values() {
        for args in [
            ["aimock", "-p", "70000"],
            ["aimock", "-c", "0"],
            ["aimock", "-l", "-1"],
            ["aimock", "--replay-speed", "0"],
            ["aimock", "--journal-max", "lots"],
            ["aimock", "--chaos-drop", "2"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} accepted");
        }
    }

    #[test]
    fn validate_is_a_subcommand_and_serve_flags_stay_top_level() {
        let cli = Cli::try_parse_from(["aimock", "validate", "--json", "a.json"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::Validate(ref v)) if v.json));
        let cli = Cli::try_parse_from([
            "aimock",
            "-f",
            "x",
            "-f",
            "y",
            "-p",
            "0",
            "--provider-openai",
            "u",
        ])
        .expect("parses");
        assert_eq!(cli.serve.fixtures, ["x", "y"]);
        assert_eq!(cli.serve.unsupported.given(), ["--provider-openai"]);
    }
}
