//! The `aimock` binary, driven as a user drives it: flags, config files, signals, real HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_aimock");
/// Generous: two cores shared with cargo building other crates.
const STARTUP: Duration = Duration::from_secs(30);
const RELOAD: Duration = Duration::from_secs(15);

/// A running `aimock`, killed on drop.
struct Server {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str], cwd: &Path) -> Server {
        Self::try_start(args, cwd).unwrap_or_else(|(why, stderr)| {
            panic!(
                "aimock {args:?} (in {}) did not start: {why}\n--- stderr ---\n{stderr}",
                cwd.display()
            )
        })
    }

    /// The server, or why it did not print its listening line and what it logged.
    fn try_start(args: &[&str], cwd: &Path) -> Result<Server, (String, String)> {
        Self::try_start_env(args, cwd, &[])
    }

    /// Like [`Server::start`], with extra environment variables.
    fn start_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Server {
        Self::try_start_env(args, cwd, env).unwrap_or_else(|(why, stderr)| {
            panic!(
                "aimock {args:?} (in {}) did not start: {why}\n--- stderr ---\n{stderr}",
                cwd.display()
            )
        })
    }

    fn try_start_env(
        args: &[&str],
        cwd: &Path,
        env: &[(&str, &str)],
    ) -> Result<Server, (String, String)> {
        let mut child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aimock");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut s = sink.lock().expect("stderr log lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = Arc::new(Mutex::new(String::new()));
        let out_sink = Arc::clone(&out);
        std::thread::spawn(move || {
            // Keeps reading after the listening line (the lines naming mounted services follow
            // it), so the server never writes to a closed pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                {
                    let mut s = out_sink.lock().expect("stdout log lock");
                    s.push_str(&line);
                    s.push('\n');
                }
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + STARTUP;
        let prefix = "aimock server listening on ";
        let why = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix(prefix) {
                        return Ok(Server {
                            child,
                            url: url.trim().to_owned(),
                            stderr: log,
                            stdout: out,
                        });
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    break "no listening line in time".to_owned()
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = wait_with_deadline(&mut child, Duration::from_secs(5));
                    break format!("stdout closed, exit status {status:?}");
                }
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        // Let the reader thread drain what is left.
        std::thread::sleep(Duration::from_millis(50));
        let stderr = log.lock().expect("stderr log lock").clone();
        Err((why, stderr))
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr log lock").clone()
    }

    /// What the server printed, once it printed every one of `needles` (or after 5 s): the
    /// lines after the listening line come one by one.
    fn stdout_with(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = self.stdout.lock().expect("stdout log lock").clone();
            if needles.iter().all(|n| text.contains(n)) || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the listening URL ends with a port")
    }

    /// Wait until the server logged `needle`, or fail with what it did log.
    fn wait_for_log(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.stderr().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "no `{needle}` in the log within {within:?}:\n{}",
            self.stderr()
        );
    }

    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        wait_with_deadline(&mut self.child, Duration::from_secs(10))
            .expect("aimock exits after SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_with_deadline(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run `aimock` to completion.
fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run aimock")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// POST a one-message chat completion; the status and JSON body.
async fn chat(base: &str, message: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": message}]}))
        .send()
        .await
        .expect("chat request");
    let status = resp.status().as_u16();
    let body = resp.json().await.expect("chat response is JSON");
    (status, body)
}

async fn chat_content(base: &str, message: &str) -> Option<String> {
    let (status, body) = chat(base, message).await;
    if status != 200 {
        return None;
    }
    body["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_owned)
}

fn write(path: &Path, contents: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create fixture dir");
    }
    std::fs::write(path, contents).expect("write fixture");
}

fn fixture_json(user: &str, content: &str) -> String {
    json!({"fixtures": [{"match": {"userMessage": user}, "response": {"content": content}}]})
        .to_string()
}

/// A fixture whose response says `text` where `content` is meant: fixture 1, line 5.
const TEXT_INSTEAD_OF_CONTENT: &str = r#"{
  "fixtures": [
    {"match": {"userMessage": "a"}, "response": {"content": "x"}},
    {"match": {"userMessage": "b"},
     "response": {"text": "hello"}}
  ]
}
"#;

/// aimock's own examples: vendored in the repository at `vendor/aimock-examples` (MIT).
fn examples_root() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels under the workspace root");
    let root = workspace.join("vendor/aimock-examples");
    assert!(
        root.is_dir(),
        "aimock's examples are expected at {} (vendored in the repository)",
        root.display()
    );
    root
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read examples dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// Every example JSON file, relative to the examples root, with its parsed contents.
fn example_files() -> Vec<(PathBuf, Value)> {
    let root = examples_root();
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(&p).expect("read example"))
                    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            let rel = p.strip_prefix(&root).expect("under the root").to_path_buf();
            (rel, value)
        })
        .collect()
}

#[tokio::test]
async fn serves_chat_replies_from_nested_json_and_yaml_fixtures_on_a_free_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("fixtures/greet.json"),
        &fixture_json("hello", "Hi from a JSON fixture"),
    );
    write(
        &dir.path().join("fixtures/deeper/still/bye.yaml"),
        "fixtures:\n  - match:\n      userMessage: goodbye\n    response:\n      content: Bye from a YAML fixture\n",
    );
    let server = Server::start(&["-f", "fixtures", "-p", "0"], dir.path());
    assert_ne!(server.port(), 0);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );

    let (status, body) = chat(&server.url, "hello").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hi from a JSON fixture"
    );
    assert_eq!(
        chat_content(&server.url, "goodbye").await.as_deref(),
        Some("Bye from a YAML fixture")
    );
    assert!(
        server
            .stderr()
            .contains("Loaded 2 fixture(s) from fixtures"),
        "{}",
        server.stderr()
    );
}

#[tokio::test]
async fn the_fixtures_directory_in_the_current_directory_is_the_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("fixtures/greet.json"),
        &fixture_json("hello", "default dir"),
    );
    let server = Server::start(&["-p", "0"], dir.path());
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("default dir")
    );
}

#[test]
fn without_fixtures_the_server_starts_and_warns_that_everything_is_a_404() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&["-p", "0"], dir.path());
    server.wait_for_log(
        "No fixtures loaded. The server will return 404 for all requests.",
        STARTUP,
    );
}

#[test]
fn validate_names_file_fixture_field_and_line_for_text_instead_of_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("bad.json"), TEXT_INSTEAD_OF_CONTENT);
    let out = run(&["validate", "bad.json"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.lines().any(
            |l| l.starts_with("bad.json:5:") && l.contains("error: fixtures[1].response.text:")
        ),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `content`"), "{stdout}");
    assert!(stdout.contains("1 fixture(s) loaded"), "{stdout}");
}

#[test]
fn validate_json_prints_the_problems_as_an_array() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("bad.json"), TEXT_INSTEAD_OF_CONTENT);
    let out = run(&["validate", "--json", "bad.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let problems: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let first = &problems[0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "bad.json");
    assert_eq!(first["fixture"], 1);
    assert_eq!(first["field"], "response.text");
    assert_eq!(first["line"], 5);
}

#[test]
fn validate_passes_clean_files_and_fails_a_missing_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("ok/a.json"), &fixture_json("a", "b"));
    let out = run(&["validate", "ok"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = run(&["validate", "ok", "missing.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("missing.json"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn validate_on_load_refuses_to_start_with_a_broken_fixture() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("bad.json"), TEXT_INSTEAD_OF_CONTENT);
    let out = run(
        &["--validate-on-load", "-f", "bad.json", "-p", "0"],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        !text(&out.stdout).contains("listening"),
        "it must not listen"
    );
    assert!(stderr.contains("bad.json:5:"), "{stderr}");
    assert!(stderr.contains("fixtures[1].response.text"), "{stderr}");
}

#[tokio::test]
async fn without_validate_on_load_a_broken_fixture_is_skipped_and_the_rest_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("bad.json"), TEXT_INSTEAD_OF_CONTENT);
    let server = Server::start(&["-f", "bad.json", "-p", "0"], dir.path());
    assert_eq!(chat_content(&server.url, "a").await.as_deref(), Some("x"));
    assert!(
        server.stderr().contains("fixtures[1].response.text"),
        "{}",
        server.stderr()
    );
}

#[test]
fn strict_refuses_to_start_with_no_fixtures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["--strict", "-p", "0"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no fixtures loaded"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_flag_values_exit_1_with_a_message_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, flag) in [
        (&["-p", "70000"][..], "--port"),
        (&["-c", "0"][..], "--chunk-size"),
        (&["--latency", "soon"][..], "--latency"),
        (&["--replay-speed", "0"][..], "--replay-speed"),
        (&["--journal-max", "-3"][..], "--journal-max"),
        (&["--log-level", "loud"][..], "--log-level"),
        (&["--chaos-drop", "1.5"][..], "--chaos-drop"),
    ] {
        let out = run(args, dir.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["-h"], dir.path());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--fixtures"));
    let out = run(&["--version"], dir.path());
    assert!(out.status.success());
    // `aimock 0.1.0 (commit 1a2b3c4d5e6f)`: the version and the commit this test is built from.
    let version = text(&out.stdout);
    let want_commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| text(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    assert_eq!(
        version.trim(),
        format!(
            "aimock {} (commit {want_commit})",
            env!("CARGO_PKG_VERSION")
        ),
    );
}

#[test]
fn unsupported_flags_are_accepted_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(
        &["-p", "0", "--agui-upstream", "http://127.0.0.1:9"],
        dir.path(),
    );
    server.wait_for_log("--agui-upstream is not supported yet", STARTUP);
}

#[test]
fn record_without_a_provider_exits_1_saying_what_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["-p", "0", "--record"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at least one --provider-"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["-p", "0", "--record", "--provider-openai", "ftp://x"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not an http(s) URL"));
}

/// Every `.json` file under `dir`.
fn recorded_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    json_files(dir, &mut out);
    out
}

#[tokio::test]
async fn record_flags_save_misses_under_the_first_fixture_dir_and_a_restart_replays_them() {
    let up_dir = tempfile::tempdir().expect("tempdir");
    write(
        &up_dir.path().join("up.json"),
        &fixture_json("hello", "Hello from upstream"),
    );
    let upstream = Server::start(&["-p", "0", "-f", "up.json"], up_dir.path());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("fixtures")).expect("mkdir");
    let rec = Server::start_env(
        &[
            "-p",
            "0",
            "-f",
            "fixtures",
            "--record",
            "--provider-openai",
            &upstream.url,
        ],
        dir.path(),
        &[("AIMOCK_PROVIDER_OPENAI_KEY", "sk-server-ENVKEY")],
    );
    assert_eq!(
        chat_content(&rec.url, "hello").await.as_deref(),
        Some("Hello from upstream")
    );
    let files = recorded_files(&dir.path().join("fixtures/recorded"));
    assert_eq!(files.len(), 1, "{files:?}");
    let saved = std::fs::read_to_string(&files[0]).expect("read");
    assert!(!saved.contains("ENVKEY"));
    drop(rec);
    drop(upstream);
    let replay = Server::start(&["-p", "0", "-f", "fixtures"], dir.path());
    assert_eq!(
        chat_content(&replay.url, "hello").await.as_deref(),
        Some("Hello from upstream")
    );
}

#[tokio::test]
async fn record_settings_come_from_the_config_file_too() {
    let up_dir = tempfile::tempdir().expect("tempdir");
    write(
        &up_dir.path().join("up.json"),
        &fixture_json("hello", "Configured upstream"),
    );
    let upstream = Server::start(&["-p", "0", "-f", "up.json"], up_dir.path());
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("aimock.json"),
        &json!({"llm": {"record": {"providers": {"openai": upstream.url}, "fixturePath": "recs"}}})
            .to_string(),
    );
    let rec = Server::start(&["--config", "aimock.json"], dir.path());
    assert_eq!(
        chat_content(&rec.url, "hello").await.as_deref(),
        Some("Configured upstream")
    );
    assert_eq!(recorded_files(&dir.path().join("recs")).len(), 1);
}

#[tokio::test]
async fn config_fixtures_resolve_beside_the_config_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("conf/greet.json"),
        &fixture_json("hello", "from beside the config"),
    );
    write(
        &dir.path().join("other.json"),
        &fixture_json("hello", "from the flag"),
    );
    write(
        &dir.path().join("conf/aimock.json"),
        r#"{"port": 1, "llm": {"fixtures": "./greet.json", "chunkSize": 4, "colour": "red"}, "mcp": {"tools": []}}"#,
    );
    let server = Server::start(&["--config", "conf/aimock.json", "-p", "0"], dir.path());
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("from beside the config")
    );
    server.wait_for_log("llm.colour: unknown key `colour`", STARTUP);
    let log = server.stderr();
    // The mcp section is served now: no "not served yet" warning, and the listening line names it.
    assert!(!log.contains("not served yet"), "{log}");
    drop(server);

    let server = Server::start(
        &[
            "--config",
            "conf/aimock.json",
            "-p",
            "0",
            "-f",
            "other.json",
        ],
        dir.path(),
    );
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("from the flag")
    );
}

#[tokio::test]
async fn config_fixtures_fall_back_to_the_current_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("fixtures/greet.json"),
        &fixture_json("hello", "from the cwd"),
    );
    write(
        &dir.path().join("examples/aimock.json"),
        r#"{"llm": {"fixtures": "fixtures/greet.json"}}"#,
    );
    let server = Server::start(&["--config", "examples/aimock.json", "-p", "0"], dir.path());
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("from the cwd")
    );
}

#[test]
fn a_broken_config_exits_1_naming_the_file_field_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("aimock.json"),
        "{\n  \"llm\": {\"chunkSize\": \"big\"}\n}\n",
    );
    let out = run(&["--config", "aimock.json", "-p", "0"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("aimock.json:2:"), "{stderr}");
    assert!(stderr.contains("llm.chunkSize"), "{stderr}");
}

#[tokio::test]
async fn watch_reloads_a_changed_file_and_keeps_the_old_set_on_a_broken_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("fixtures/nested/greet.json");
    write(&file, &fixture_json("hello", "version one"));
    let server = Server::start(&["-f", "fixtures", "-p", "0", "--watch"], dir.path());
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("version one")
    );

    write(&file, &fixture_json("hello", "version two"));
    let deadline = Instant::now() + RELOAD;
    loop {
        let got = chat_content(&server.url, "hello").await;
        if got.as_deref() == Some("version two") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no reload within {RELOAD:?}; last reply {got:?}\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.wait_for_log("Reloaded 1 fixture(s)", RELOAD);

    write(&file, TEXT_INSTEAD_OF_CONTENT);
    server.wait_for_log("Reload failed", RELOAD);
    let log = server.stderr();
    assert!(
        log.contains("fixtures[1].response.text"),
        "each problem is logged: {log}"
    );
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("version two")
    );
    // The broken file's good fixture was not installed either.
    assert_eq!(chat_content(&server.url, "a").await, None);
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_finishes_the_stream_under_way_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("f.json"),
        &fixture_json("hello", "one two three four five six"),
    );
    let mut server = Server::start(
        &["-f", "f.json", "-p", "0", "-c", "2", "-l", "40"],
        dir.path(),
    );
    let mut resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url))
        .json(&json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("stream request");
    assert_eq!(resp.status().as_u16(), 200);
    let mut body = String::new();
    let first = resp
        .chunk()
        .await
        .expect("first chunk")
        .expect("a first chunk");
    body.push_str(&String::from_utf8_lossy(&first));

    let kill = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    while let Some(chunk) = resp.chunk().await.expect("the stream is not cut") {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let status = wait_with_deadline(&mut server.child, Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

#[cfg(unix)]
#[test]
fn sigterm_on_an_idle_server_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&["-p", "0"], dir.path());
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

/// Where a config's `llm.fixtures` is, by the documented rule: beside the config, then the cwd.
fn config_fixture_file(root: &Path, config_rel: &Path, config: &Value) -> Option<PathBuf> {
    let written = config["llm"]["fixtures"].as_str()?;
    let beside = root.join(config_rel.parent()?).join(written);
    let from_cwd = root.join(written);
    [beside, from_cwd].into_iter().find(|p| p.is_file())
}

/// The first fixture answering a plain chat message: `(message, content)`.
fn first_chat_fixture(file: &Path) -> Option<(String, String)> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    value["fixtures"].as_array()?.iter().find_map(|f| {
        let m = f["match"].as_object()?;
        if m.len() != 1 {
            return None;
        }
        Some((
            m.get("userMessage")?.as_str()?.to_owned(),
            f["response"]["content"].as_str()?.to_owned(),
        ))
    })
}

#[tokio::test]
async fn every_example_config_starts_and_answers_from_its_fixtures() {
    let root = examples_root();
    let configs: Vec<_> = example_files()
        .into_iter()
        .filter(|(_, v)| v.get("fixtures").is_none())
        .collect();
    assert!(
        configs.len() >= 5,
        "expected aimock's example configs, found {}",
        configs.len()
    );
    let mut answered = 0;
    for (rel, config) in &configs {
        let rel_str = rel.to_str().expect("UTF-8 path");
        let server = Server::start(&["--config", rel_str, "-p", "0"], &root);
        let Some(file) = config_fixture_file(&root, rel, config) else {
            continue;
        };
        let (message, content) = first_chat_fixture(&file).unwrap_or_else(|| {
            panic!(
                "{}: no plain chat fixture in {}",
                rel.display(),
                file.display()
            )
        });
        assert_eq!(
            chat_content(&server.url, &message).await.as_deref(),
            Some(content.as_str()),
            "{}\n{}",
            rel.display(),
            server.stderr()
        );
        answered += 1;
    }
    assert!(answered >= 1, "no example config names fixtures that exist");
}

#[test]
fn every_example_fixture_file_validates_without_errors() {
    let root = examples_root();
    let files: Vec<String> = example_files()
        .into_iter()
        .filter(|(_, v)| v.get("fixtures").is_some())
        .map(|(rel, _)| rel.to_str().expect("UTF-8 path").to_owned())
        .collect();
    assert!(
        files.len() >= 10,
        "expected aimock's example fixtures, found {}",
        files.len()
    );
    for file in &files {
        let out = run(&["validate", file], &root);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{file}:\n{stdout}{}",
            text(&out.stderr)
        );
        assert!(!stdout.contains(": error: "), "{file}:\n{stdout}");
    }
}

#[test]
fn an_auth_section_without_keys_refuses_to_start_rather_than_serve_unprotected() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("aimock.json"),
        &json!({"auth": {"apiKeys": []}}).to_string(),
    );
    let out = run(&["--config", "aimock.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("auth.apiKeys is empty"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn inbound_keys_from_the_environment_protect_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("f.json"), &fixture_json("hello", "Hi"));
    let server = Server::start_env(
        &["-p", "0", "-f", "f.json"],
        dir.path(),
        &[("AIMOCK_API_KEYS", " key-one , key-two ")],
    );
    let (status, _) = chat(&server.url, "hello").await;
    assert_eq!(status, 401);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url))
        .bearer_auth("key-two")
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("chat");
    assert_eq!(resp.status(), 200);
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels under the workspace root")
        .to_path_buf()
}

#[tokio::test]
async fn the_example_config_serves_every_surface_on_one_port() {
    let root = repo_root();
    let server = Server::start(&["--config", "examples/aimock.json", "-p", "0"], &root);
    let surfaces = ["mcp at", "a2a at", "agui at", "vector at"];
    let out = server.stdout_with(&surfaces);
    for surface in surfaces {
        assert!(out.contains(surface), "{out}");
    }
    assert_eq!(
        chat_content(&server.url, "hello").await.as_deref(),
        Some("Hello from aimock! How can I help?")
    );
    let http = reqwest::Client::new();
    let init = http
        .post(format!("{}/mcp", server.url))
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        )
        .send()
        .await
        .expect("mcp");
    assert_eq!(init.status(), 200);
    assert!(init.headers().get("mcp-session-id").is_some());
    // A browser MCP client can read the session id only if CORS exposes it.
    let exposed = init
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(exposed.contains("Mcp-Session-Id"), "{exposed}");
    let card: Value = http
        .get(format!("{}/a2a/.well-known/agent-card.json", server.url))
        .send()
        .await
        .expect("card")
        .json()
        .await
        .expect("card JSON");
    assert_eq!(card["name"], "assistant");
    let agui = http
        .post(format!("{}/agui", server.url))
        .json(&json!({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("agui")
        .text()
        .await
        .expect("agui text");
    assert!(agui.contains("Hi! How can I help you today?"), "{agui}");
    let hits: Value = http
        .post(format!(
            "{}/vector/collections/docs/points/search",
            server.url
        ))
        .json(&json!({"vector": [0.9, 0.1, 0.0], "limit": 1, "with_payload": true}))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("search JSON");
    assert_eq!(
        hits["result"][0]["payload"]["title"], "Getting started",
        "{hits}"
    );
    let moderation: Value = http
        .post(format!("{}/v1/moderations", server.url))
        .json(&json!({"input": "hi"}))
        .send()
        .await
        .expect("moderation")
        .json()
        .await
        .expect("moderation JSON");
    assert_eq!(moderation["results"][0]["flagged"], false);
}

#[tokio::test]
async fn a_service_with_a_port_of_its_own_answers_there_and_on_the_main_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("aimock.json"),
        r#"{"agui": {"path": "/agent", "port": 0, "fixtures": [{"match": {"message": "hi"}, "text": "yo"}]}}"#,
    );
    let server = Server::start(&["--config", "aimock.json", "-p", "0"], dir.path());
    let out = server.stdout_with(&["on its own port: "]);
    let own = out
        .lines()
        .find_map(|l| l.split("on its own port: ").nth(1))
        .unwrap_or_else(|| panic!("no own-port line in {out}"))
        .trim()
        .to_owned();
    assert_ne!(own, server.url);
    let body = json!({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "hi"}]});
    for url in [
        format!("{}/agent", server.url),
        format!("{own}/"),
        format!("{own}/agent"),
    ] {
        let text = reqwest::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .await
            .expect("agui")
            .text()
            .await
            .expect("text");
        assert!(text.contains("\"delta\":\"yo\""), "{url}: {text}");
    }
}

#[test]
fn two_services_at_one_path_refuse_to_start_naming_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("aimock.json"),
        r#"{"mcp": {"path": "/x"}, "agui": {"path": "/x"}}"#,
    );
    let out = run(&["--config", "aimock.json", "-p", "0"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("both mounted at `/x`"), "{stderr}");
}

#[tokio::test]
async fn sigterm_with_an_open_mcp_notification_stream_exits_0_promptly() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("aimock.json"),
        r#"{"mcp": {"tools": [{"name": "t", "result": "r"}]}}"#,
    );
    let mut server = Server::start(&["--config", "aimock.json", "-p", "0"], dir.path());
    let http = reqwest::Client::new();
    let init = http
        .post(format!("{}/mcp", server.url))
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        )
        .send()
        .await
        .expect("initialize");
    let session = init
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .expect("ASCII")
        .to_owned();
    // The GET stream stays open with nothing to say: only shutdown ends it.
    let stream = http
        .get(format!("{}/mcp", server.url))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .expect("GET stream");
    assert_eq!(stream.status(), 200);
    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate();
        (status, server.stderr())
    })
    .await
    .expect("join");
    assert_eq!(status.0.code(), Some(0), "{}", status.1);
    // Promptly, by cause rather than by the clock: the server ended the stream itself as its
    // shutdown began (the body ends cleanly; a stream still open when the process went would be
    // cut off mid-body), so the open stream held nothing back. `terminate`'s deadline only
    // bounds a hang.
    let rest = stream.text().await;
    assert!(rest.is_ok(), "the stream was cut, not ended: {rest:?}");
}

// ------------------------------------------------------------------------------ convert

/// A VidaiMock template folder as VidaiMock lays it out (one folder per provider).
fn vidaimock_templates(root: &Path) {
    write(
        &root.join("openai/greeting.json.j2"),
        r#"{# the reply to a greeting #}
{
  "id": "chatcmpl-{{ uuid }}",
  "object": "chat.completion",
  "created": {{ timestamp }},
  "model": "{{ model }}",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from VidaiMock!"}, "finish_reason": "stop"}]
}
"#,
    );
    write(
        &root.join("openai/002-weather_report.j2"),
        r#"{% set has_tools = json.tools is defined and json.tools | length > 0 %}
{% if has_tools and has_tool_result(messages=json.messages, provider="openai") %}
{"choices": [{"message": {"role": "assistant", "content": "It is sunny, says the tool."}, "finish_reason": "stop"}]}
{% elif has_tools %}
{"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_{{ uuid }}", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}, "finish_reason": "tool_calls"}]}
{% else %}
{"choices": [{"message": {"role": "assistant", "content": "Which city?"}, "finish_reason": "stop"}]}
{% endif %}
"#,
    );
    write(
        &root.join("notes/tell_a_joke.txt"),
        "Why did the {{ animal }} cross the road?\n",
    );
    write(&root.join("README.md"), "not a template");
}

#[tokio::test]
async fn convert_vidaimock_templates_then_serve_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("templates");
    vidaimock_templates(&templates);
    let out = run(
        &["convert", "vidaimock", "templates", "out/vidai.json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Wrote 5 fixture(s)"),
        "{}",
        text(&out.stderr)
    );
    // The same conversion to stdout is the same file.
    let to_stdout = run(&["convert", "vidaimock", "templates"], dir.path());
    assert!(to_stdout.status.success());
    let written = std::fs::read_to_string(dir.path().join("out/vidai.json")).expect("output");
    assert_eq!(text(&to_stdout.stdout).trim_end(), written.trim_end());
    let file: Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(file["fixtures"].as_array().map(Vec::len), Some(5), "{file}");

    let s = Server::start(
        &["-f", "out/vidai.json", "-p", "0", "--validate-on-load"],
        dir.path(),
    );
    assert_eq!(
        chat_content(&s.url, "greeting").await.as_deref(),
        Some("Hello from VidaiMock!")
    );
    assert_eq!(
        chat_content(&s.url, "Why? tell a joke").await.as_deref(),
        Some("Why did the [animal] cross the road?")
    );
    assert_eq!(
        chat_content(&s.url, "weather report please")
            .await
            .as_deref(),
        Some("Which city?")
    );
    // With the tool declared: the tool call; with its result: the final answer.
    let http = reqwest::Client::new();
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let v: Value = http
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&json!({"model": "gpt-4o", "tools": tools,
            "messages": [{"role": "user", "content": "weather report please"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call = &v["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather", "{v}");
    assert_eq!(call["arguments"], "{\"city\":\"Paris\"}");
    let v: Value = http
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&json!({"model": "gpt-4o", "tools": tools, "messages": [
            {"role": "user", "content": "weather report please"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"], "It is sunny, says the tool.",
        "{v}"
    );
}

const MOCK_LLM_YAML: &str = r#"# a mock-llm.yaml
streaming:
  chunkSize: 4
  chunkIntervalMs: 0
rules:
  # Default echo rule (left out: a fixture cannot echo)
  - path: "/v1/chat/completions"
    match: "@"
    response:
      status: 200
      content: |
        {"choices": [{"message": {"role": "assistant", "content": "{{jmes request body.messages[-1].content}}"}, "finish_reason": "stop"}]}
  - path: "/v1/chat/completions"
    match: "contains(body.messages[-1].content, 'hello')"
    response:
      status: 200
      content: |
        {"id": "chatcmpl-{{timestamp}}", "model": "{{jmes request body.model}}",
         "choices": [{"message": {"role": "assistant", "content": "Hi there! How can I help you today?"}, "finish_reason": "stop"}]}
  - path: "/v1/chat/completions"
    match: "contains(body.messages[-1].content, 'hello') && body.model == 'gpt-4o-mini'"
    response:
      status: 200
      content: '{"choices": [{"message": {"role": "assistant", "content": "Hi from the mini model"}}]}'
  - path: "/v1/chat/completions"
    match: "contains(body.messages[-1].content, 'error-401')"
    response:
      status: 401
      content: |
        {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}
  - path: "/v1/models"
    match: "@"
    response:
      status: 200
      content: '{"data": [{"id": "gpt-4", "object": "model"}]}'
mcp:
  tools:
    - name: search_docs
      description: Search the docs
      parameters:
        type: object
        properties:
          q: {type: string}
"#;

#[tokio::test]
async fn convert_mockllm_config_then_serve_it_with_its_mcp_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("mock-llm.yaml"), MOCK_LLM_YAML);
    let out = run(
        &["convert", "mockllm", "mock-llm.yaml", "fixtures/"],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // What was left out is said.
    assert!(
        stderr.contains("rules[0]") && stderr.contains("echoes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rules[4]") && stderr.contains("/v1/models"),
        "{stderr}"
    );
    let fixtures = dir.path().join("fixtures/mock-llm.json");
    let config = dir.path().join("fixtures/mock-llm.aimock.json");
    assert!(fixtures.is_file() && config.is_file(), "{stderr}");

    // The fixtures alone.
    let s = Server::start(&["-f", "fixtures/mock-llm.json", "-p", "0"], dir.path());
    assert_eq!(
        chat_content(&s.url, "hello").await.as_deref(),
        Some("Hi there! How can I help you today?")
    );
    let (status, body) = chat(&s.url, "trigger error-401 now").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert_eq!(body["error"]["message"], "Incorrect API key provided.");
    // mock-llm's last matching rule wins: the mini-model rule, after the plain hello one.
    let v: Value = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hi from the mini model"
    );
    drop(s);

    // The aimock.json: the same fixtures and the MCP tool.
    let s = Server::start(
        &["--config", "fixtures/mock-llm.aimock.json", "-p", "0"],
        dir.path(),
    );
    assert_eq!(
        chat_content(&s.url, "hello").await.as_deref(),
        Some("Hi there! How can I help you today?")
    );
    let health: Value = reqwest::get(format!("{}/health", s.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["services"]["mcp"]["tools"], 1, "{health}");
}

#[test]
fn convert_says_what_is_wrong_with_its_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["convert", "mockllm", "missing.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read missing.yaml"),
        "{}",
        text(&out.stderr)
    );
    write(&dir.path().join("bad.yaml"), "rules: [");
    let out = run(&["convert", "mockllm", "bad.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not valid YAML"),
        "{}",
        text(&out.stderr)
    );
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let out = run(&["convert", "vidaimock", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no fixtures produced"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["convert", "wiremock", "x"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("vidaimock"),
        "{}",
        text(&out.stderr)
    );
}

// ------------------------------------------------------------------------- remote fixtures

fn run_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .output()
        .expect("run aimock")
}

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers `connections` requests, then closes its
/// socket (so the URL becomes unreachable): `/fixtures.json` with fixtures, `/moved` with a 302,
/// `/not-json` with text, anything else with 404.
fn fixture_host(connections: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let req = String::from_utf8_lossy(&buf).into_owned();
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (status, extra, body) = match path.as_str() {
                "/fixtures.json" => (
                    "200 OK",
                    "content-type: application/json\r\n",
                    fixture_json("remote hello", "Hi from afar"),
                ),
                "/moved" => (
                    "302 Found",
                    "location: http://127.0.0.1:9/elsewhere.json\r\n",
                    String::new(),
                ),
                "/not-json" => ("200 OK", "", "this is not json".to_owned()),
                _ => ("404 Not Found", "", "no".to_owned()),
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, handle)
}

const ALLOW: (&str, &str) = ("AIMOCK_ALLOW_PRIVATE_URLS", "1");

#[tokio::test]
async fn remote_fixtures_are_fetched_cached_and_served_then_the_cache_covers_an_outage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let cache_env = ("XDG_CACHE_HOME", cache.to_str().expect("utf-8 path"));
    let (base, host) = fixture_host(1);
    let url = format!("{base}/fixtures.json");
    let s = Server::start_env(&["-f", &url, "-p", "0"], dir.path(), &[ALLOW, cache_env]);
    assert_eq!(
        chat_content(&s.url, "remote hello").await.as_deref(),
        Some("Hi from afar")
    );
    drop(s);
    host.join().expect("fixture host");
    // Cached at <XDG_CACHE_HOME>/aimock/fixtures/<sha256(url)>/fixtures.json.
    let dirs: Vec<PathBuf> = std::fs::read_dir(cache.join("aimock/fixtures"))
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let name = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(name.len(), 64, "{name}");
    let cached: Value = serde_json::from_str(
        &std::fs::read_to_string(dirs[0].join("fixtures.json")).expect("cached file"),
    )
    .expect("cached JSON");
    assert_eq!(cached["fixtures"][0]["response"]["content"], "Hi from afar");

    // The host is gone now: the cached copy is served, with a warning naming the URL.
    let s = Server::start_env(&["-f", &url, "-p", "0"], dir.path(), &[ALLOW, cache_env]);
    assert_eq!(
        chat_content(&s.url, "remote hello").await.as_deref(),
        Some("Hi from afar")
    );
    s.wait_for_log("using the cached copy", RELOAD);
    assert!(s.stderr().contains(&url), "{}", s.stderr());
}

#[test]
fn remote_fixture_failures_say_why_and_stop_only_under_validate_on_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let cache_env = ("XDG_CACHE_HOME", cache.to_str().expect("utf-8 path"));
    let (base, host) = fixture_host(3);

    // Loopback without the opt-out: refused before any connection.
    let out = run_env(
        &[
            "-f",
            &format!("{base}/fixtures.json"),
            "-p",
            "0",
            "--validate-on-load",
        ],
        dir.path(),
        &[cache_env],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("127.0.0.1")
            && err.contains("private or special address")
            && err.contains("AIMOCK_ALLOW_PRIVATE_URLS=1"),
        "{err}"
    );
    // A redirect is an error, not followed.
    let out = run_env(
        &[
            "-f",
            &format!("{base}/moved"),
            "-p",
            "0",
            "--validate-on-load",
        ],
        dir.path(),
        &[ALLOW, cache_env],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("302")
            && err.contains("redirects are not followed")
            && err.contains("no cached copy"),
        "{err}"
    );
    // A body that is not JSON.
    let out = run_env(
        &[
            "-f",
            &format!("{base}/not-json"),
            "-p",
            "0",
            "--validate-on-load",
        ],
        dir.path(),
        &[ALLOW, cache_env],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    // An HTTP error.
    let out = run_env(
        &[
            "-f",
            &format!("{base}/missing.json"),
            "-p",
            "0",
            "--validate-on-load",
        ],
        dir.path(),
        &[ALLOW, cache_env],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("answered HTTP 404"), "{err}");
    host.join().expect("fixture host");

    // Other schemes are refused.
    let out = run_env(
        &[
            "-f",
            "ftp://127.0.0.1/fixtures.json",
            "-p",
            "0",
            "--validate-on-load",
        ],
        dir.path(),
        &[ALLOW, cache_env],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("scheme `ftp` is not supported"), "{err}");
    // `aimock validate` reads local files only.
    let out = run(&["validate", "https://example.com/f.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("local files only"),
        "{}",
        text(&out.stderr)
    );
    assert!(!cache.join("aimock").exists(), "nothing was cached");
}

#[tokio::test]
async fn without_validate_on_load_an_unreachable_remote_fixture_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let cache_env = ("XDG_CACHE_HOME", cache.to_str().expect("utf-8 path"));
    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    write(
        &dir.path().join("local.json"),
        &fixture_json("local", "still here"),
    );
    let url = format!("http://127.0.0.1:{port}/fixtures.json");
    let s = Server::start_env(
        &["-f", &url, "-f", "local.json", "-p", "0"],
        dir.path(),
        &[ALLOW, cache_env],
    );
    assert_eq!(
        chat_content(&s.url, "local").await.as_deref(),
        Some("still here")
    );
    s.wait_for_log("skipped", RELOAD);
    let log = s.stderr();
    assert!(log.contains(&url) && log.contains("cannot fetch"), "{log}");
}
