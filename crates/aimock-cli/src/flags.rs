//! The command line, defined once: clap builds parsing and `--help` from these structs.
//!
//! The flags follow aimock's `llmock` CLI so existing command lines keep working; the flags for
//! surfaces not built yet (the AG-UI proxy) are accepted and warned about.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `aimock --version`: the crate's version and the git commit it was built from (`build.rs`).
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AIMOCK_GIT_COMMIT"),
    ")"
);

/// One mock server for everything an AI application talks to, driven by JSON or YAML fixture
/// files: LLM APIs, embeddings, MCP, A2A, AG-UI, vector databases, search, rerank and moderation.
#[derive(Debug, Parser)]
#[command(
    name = "aimock",
    version = VERSION,
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
    /// Convert another mock server's files to fixture JSON (stdout when no output is given).
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// The input's format: `vidaimock` (Tera templates: a directory or one file) or `mockllm`
    /// (a mock-llm YAML config).
    #[arg(value_enum, value_name = "FORMAT")]
    pub(crate) format: ConvertFormat,
    /// A VidaiMock template directory or file, or a mock-llm config.yaml.
    #[arg(value_name = "INPUT")]
    pub(crate) input: PathBuf,
    /// The fixture file to write (a directory gets `<input name>.json`); stdout when absent.
    /// With MCP tools in a mock-llm config, an `<output>.aimock.json` is written beside it.
    #[arg(value_name = "OUTPUT")]
    pub(crate) output: Option<PathBuf>,
}

/// `aimock convert <FORMAT>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ConvertFormat {
    /// VidaiMock response templates.
    Vidaimock,
    /// dwmkerr/mock-llm's mock-llm.yaml.
    Mockllm,
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
    /// Fixture file or directory (recursive), or an http(s):// URL (fetched at boot, cached;
    /// private addresses need AIMOCK_ALLOW_PRIVATE_URLS=1); repeatable. Default: ./fixtures when
    /// it exists.
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

    /// Serve Prometheus metrics at /metrics.
    #[arg(long)]
    pub(crate) metrics: bool,

    #[command(flatten)]
    pub(crate) record: RecordArgs,
    #[command(flatten)]
    pub(crate) chaos: ChaosArgs,
    #[command(flatten)]
    pub(crate) unsupported: UnsupportedArgs,
}

/// Record mode: misses go to the real provider and come back as fixtures.
#[derive(Debug, Args)]
#[command(next_help_heading = "Record and replay")]
pub(crate) struct RecordArgs {
    /// Proxy unmatched requests upstream and save the replies as fixtures (under
    /// `<first -f>/recorded`). Needs at least one --provider-*.
    #[arg(long)]
    pub(crate) record: bool,
    /// Proxy unmatched requests upstream without saving anything.
    #[arg(long)]
    pub(crate) proxy_only: bool,
    /// Keep date suffixes in recorded model names.
    #[arg(long)]
    pub(crate) record_full_model_version: bool,
    /// `--provider-<key> <URL>`, one per upstream the library knows.
    #[command(flatten)]
    pub(crate) provider_urls: ProviderUrls,
    /// Time allowed until the upstream's response head, in milliseconds. [default: 30000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) upstream_timeout_ms: Option<u64>,
    /// Time allowed between upstream body chunks, in milliseconds. [default: 30000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) body_timeout_ms: Option<u64>,
    /// Largest reply kept in memory for a recording (capped at 256 MiB). [default: 67108864]
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_proxy_buffer_bytes: Option<u64>,
    /// Most stream frames whose timings are kept. [default: 5000000]
    #[arg(long, value_name = "N")]
    pub(crate) max_proxy_buffer_frames: Option<u64>,
}

impl RecordArgs {
    /// The `--provider-*` flags given, as (provider key, URL).
    pub(crate) fn providers(&self) -> Vec<(&'static str, &str)> {
        self.provider_urls
            .0
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect()
    }
}

/// The `--provider-<key>` flags: one per upstream of [`aimock::upstreams`], so a provider added
/// to the library's table gets its flag with no change here.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProviderUrls(pub(crate) Vec<(&'static str, String)>);

/// Each upstream's key, flag (also its clap id) and help, made once: clap keeps `'static` names.
fn provider_flags() -> &'static [(&'static str, &'static str, String)] {
    static FLAGS: std::sync::OnceLock<Vec<(&'static str, &'static str, String)>> =
        std::sync::OnceLock::new();
    FLAGS.get_or_init(|| {
        aimock::upstreams()
            .enumerate()
            .map(|(i, (key, name))| {
                let flag: &'static str = Box::leak(format!("provider-{key}").into_boxed_str());
                let help = if i == 0 {
                    format!("Upstream base URL for {name} (the request path is appended)")
                } else {
                    format!("Upstream base URL for {name}")
                };
                (key, flag, help)
            })
            .collect()
    })
}

impl clap::FromArgMatches for ProviderUrls {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(ProviderUrls(
            provider_flags()
                .iter()
                .filter_map(|(key, flag, _)| m.get_one::<String>(flag).map(|u| (*key, u.clone())))
                .collect(),
        ))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for ProviderUrls {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.args(provider_flags().iter().map(|(_, flag, help)| {
            clap::Arg::new(*flag)
                .long(*flag)
                .value_name("URL")
                .help(help.as_str())
        }))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Chaos: injected failures for every request.
#[derive(Debug, Args)]
#[command(next_help_heading = "Chaos")]
pub(crate) struct ChaosArgs {
    /// Probability (0..1) of answering with a 500 (on every surface, in its own error envelope).
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_drop: Option<f64>,
    /// Probability (0..1) of answering 200 with a body that is not JSON.
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_malformed: Option<f64>,
    /// Probability (0..1) of dropping the connection.
    #[arg(long, value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_disconnect: Option<f64>,
    /// Probability (0..1) of answering 429 with Retry-After.
    #[arg(long = "chaos-ratelimit", visible_alias = "chaos-rate-limit", value_name = "RATE", value_parser = rate)]
    pub(crate) chaos_rate_limit: Option<f64>,
    /// Delay added before every answer, in milliseconds (0..30000).
    #[arg(long, value_name = "MS", value_parser = chaos_latency)]
    pub(crate) chaos_latency: Option<f64>,
    /// Seed for the chaos rolls: the same seed gives the same sequence of actions.
    #[arg(long, value_name = "N")]
    pub(crate) chaos_seed: Option<u64>,
}

/// Flags of aimock's CLI for features this version does not have yet: accepted so existing
/// command lines start, then warned about.
#[derive(Debug, Args)]
#[command(next_help_heading = "Accepted but not supported yet (a warning is printed)")]
pub(crate) struct UnsupportedArgs {
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

fn chaos_latency(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(0.0..=30_000.0).contains(&v) {
        return Err(format!("must be between 0 and 30000, got {s}"));
    }
    Ok(v)
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
            ["aimock", "--chaos-latency", "40000"],
            ["aimock", "--upstream-timeout-ms", "0"],
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
        assert_eq!(cli.serve.record.providers(), [("openai", "u")]);
    }

    #[test]
    fn every_upstream_of_the_library_has_its_provider_flag() {
        let keys: Vec<&str> = aimock::upstreams().map(|(k, _)| k).collect();
        // The flags aimock users pass today are all there, each once.
        for key in [
            "openai",
            "anthropic",
            "gemini",
            "vertexai",
            "bedrock",
            "azure",
            "ollama",
            "cohere",
            "openrouter",
        ] {
            assert_eq!(keys.iter().filter(|k| **k == key).count(), 1, "{key}");
        }
        let mut args = vec!["aimock".to_owned()];
        for (i, key) in keys.iter().enumerate() {
            args.push(format!("--provider-{key}"));
            args.push(format!("http://127.0.0.1:{}", 9000 + i));
        }
        let cli = Cli::try_parse_from(&args).expect("parses");
        let given = cli.serve.record.providers();
        assert_eq!(given.len(), keys.len());
        for (i, (key, url)) in given.iter().enumerate() {
            assert_eq!(*key, keys[i]);
            assert_eq!(*url, format!("http://127.0.0.1:{}", 9000 + i));
        }
        assert!(Cli::try_parse_from(["aimock", "--provider-nosuch", "u"]).is_err());
    }
}
