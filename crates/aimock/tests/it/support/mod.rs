//! What the test modules share: servers given fixtures, HTTP requests, reading bodies as they
//! arrive, SSE, in-process requests for tests on tokio's paused clock ([`router`]), and waiting
//! for what a server does in the background.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aimock::fixture::{parse_text, Fixture, Format};
use aimock::journal::JournalEntry;
use aimock::record::RecordConfig;
use aimock::server::AppState;
use aimock::{FixtureEntry, MatchSpec, MockServer, MockServerBuilder, ResponseSpec};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

pub(crate) mod eventstream;
pub(crate) mod router;
pub(crate) mod sse;
pub(crate) mod ws;

/// How long to wait for anything a server should do or send before failing. Generous: it only
/// turns a hang into a failure, it never measures the server.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

// --- servers -----------------------------------------------------------------------------------

/// The one place the tests put fixtures into a server's state directly (as `aimock -f FILE`
/// does at start-up), rather than through [`MockServer`]'s methods.
fn append(state: &AppState, fixtures: impl IntoIterator<Item = Arc<Fixture>>) {
    state.append_fixtures(fixtures);
}

/// Add the fixtures of a fixture file's JSON text (`label` names it in problems) to a server's
/// store; the text must load without problems.
pub(crate) fn add_fixtures(state: &AppState, json: &str, label: &str) {
    let report = parse_text(json, label, Format::Json);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    append(state, report.fixtures);
}

/// Add fixtures built in code, as [`MockServer::add`] does; each must compile without errors.
pub(crate) fn add_entries(state: &AppState, entries: impl IntoIterator<Item = FixtureEntry>) {
    let compiled = entries.into_iter().map(|e| {
        let (fixture, _warnings) =
            Fixture::compile(e, None).unwrap_or_else(|problems| panic!("{problems:?}"));
        Arc::new(fixture)
    });
    append(state, compiled.collect::<Vec<_>>());
}

/// A server started from `builder`, then given the fixtures of a fixture file's JSON text.
pub(crate) async fn start_with_fixtures(
    builder: MockServerBuilder,
    json: &str,
    label: &str,
) -> MockServer {
    let s = builder.start().await;
    let report = parse_text(json, label, Format::Json);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let n = s
        .load_str_as(json, label)
        .unwrap_or_else(|problems| panic!("{problems:?}"));
    assert_eq!(n, report.fixtures.len());
    s
}

/// A server with default settings and the fixtures of a fixture file's JSON text.
pub(crate) async fn fixture_server(json: &str, label: &str) -> MockServer {
    start_with_fixtures(MockServer::builder(), json, label).await
}

/// A server with default settings and every fixture file under `path` (a file or a directory),
/// which must load without errors; with the number of fixtures loaded.
pub(crate) async fn file_server(path: &Path) -> (MockServer, usize) {
    let s = MockServer::start().await;
    let n = s
        .load(path)
        .unwrap_or_else(|problems| panic!("{} does not load: {problems:#?}", path.display()));
    (s, n)
}

/// Record mode with `upstream` as the OpenAI, Anthropic and Gemini upstream, writing under `dir`.
pub(crate) fn record_config(upstream: &MockServer, dir: &Path) -> RecordConfig {
    let mut rc = RecordConfig::default();
    rc.providers.insert("openai".into(), upstream.uri());
    rc.providers.insert("anthropic".into(), upstream.uri());
    rc.providers.insert("gemini".into(), upstream.uri());
    rc.fixture_path = dir.to_path_buf();
    rc
}

/// A server recording its misses from `upstream` under `dir` ([`record_config`]).
pub(crate) async fn recorder(upstream: &MockServer, dir: &Path) -> MockServer {
    MockServer::builder()
        .record(record_config(upstream, dir))
        .start()
        .await
}

/// A recording server whose upstreams (`openai`, `gemini`) are dead: nothing listens on port 9.
pub(crate) async fn dead_upstream_recorder(dir: &Path) -> MockServer {
    let mut rc = RecordConfig::default();
    for p in ["openai", "gemini"] {
        rc.providers
            .insert(p.into(), "http://127.0.0.1:9".to_owned());
    }
    rc.fixture_path = dir.to_path_buf();
    rc.upstream_timeout_ms = 2_000;
    MockServer::builder().record(rc).start().await
}

/// The requests a record-mode upstream answered over sockets: exactly `n`, each journaled as `WS`
/// on a path starting with `path`.
pub(crate) fn upstream_socket_turns(
    upstream: &MockServer,
    n: usize,
    path: &str,
) -> Vec<aimock::conversation::ChatRequest> {
    let up = upstream.journal();
    assert_eq!(up.len(), n, "{up:?}");
    up.into_iter()
        .map(|e| {
            assert!(
                e.method == "WS" && e.path.starts_with(path),
                "{} {}",
                e.method,
                e.path
            );
            match e.body {
                aimock::journal::JournalBody::Chat(req) => (*req).clone(),
                other => panic!("the upstream's turn has no request: {other:?}"),
            }
        })
        .collect()
}

/// The roles of a request's messages, by name (`"System"`, `"User"`, ...).
pub(crate) fn roles(req: &aimock::conversation::ChatRequest) -> Vec<String> {
    req.messages
        .iter()
        .map(|m| format!("{:?}", m.role))
        .collect()
}

/// The fixtures of every recording file in `dir`.
pub(crate) fn recordings(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for f in std::fs::read_dir(dir).unwrap() {
        let v: Value = serde_json::from_slice(&std::fs::read(f.unwrap().path()).unwrap()).unwrap();
        out.extend(v["fixtures"].as_array().cloned().unwrap_or_default());
    }
    out
}

/// A service's configuration (`mcp`, `a2a`, `vector`...) from its JSON form in `aimock.json`.
pub(crate) fn config<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("the configuration does not parse: {e}"))
}

/// Fixtures answering `text` with `replies` in turn (`sequenceIndex` 0, 1, ...).
pub(crate) fn sequence(s: &MockServer, text: &str, replies: &[&str]) {
    for (i, r) in replies.iter().enumerate() {
        s.mock(
            MatchSpec::user_message(text).sequence_index(i as u32),
            ResponseSpec::text(*r),
        )
        .unwrap();
    }
}

// --- requests ----------------------------------------------------------------------------------

/// An HTTP client for this test. Building one costs about 20 ms (it loads the system's root
/// certificates), more than most requests, so each test thread builds one and reuses it; libtest
/// runs every test on a thread of its own. It keeps no idle connection: every request opens its
/// own, as it did with a client of its own, and none outlives the server it went to.
pub(crate) fn client() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
    }
    CLIENT.with(Clone::clone)
}

/// An OpenAI chat completion request for `gpt-4o` with one user message.
pub(crate) fn chat(text: &str) -> Value {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]})
}

/// [`chat`], streamed.
pub(crate) fn stream_chat(text: &str) -> Value {
    json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": text}]})
}

/// A request of `method` to `path` with `headers`, and a JSON body when there is one.
pub(crate) async fn send(
    s: &MockServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(method, format!("{}{path}", s.uri()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

/// `POST path` with `body` as JSON and `headers`.
pub(crate) async fn post(
    s: &MockServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    send(s, "POST", path, headers, Some(body)).await
}

/// `POST path` with `body` as it is, as `application/json`, and `headers`.
pub(crate) async fn post_raw(
    s: &MockServer,
    path: &str,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}{path}", s.uri()))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// `GET path`.
pub(crate) async fn get(s: &MockServer, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", s.uri()))
        .send()
        .await
        .unwrap()
}

/// `GET path`: the body as text.
pub(crate) async fn get_text(s: &MockServer, path: &str) -> String {
    get(s, path).await.text().await.unwrap()
}

/// The status and the JSON body of an answer (a body that is not JSON fails, showing it).
pub(crate) async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, v)
}

/// The journal as `GET /__aimock/journal` shows it, oldest first.
pub(crate) async fn journal(s: &MockServer) -> Vec<Value> {
    let v: Value = get(s, "/__aimock/journal").await.json().await.unwrap();
    v.as_array().unwrap().clone()
}

/// `{base}/mcp`: the default MCP mount of a server.
pub(crate) fn mcp_url(s: &MockServer) -> String {
    format!("{}/mcp", s.uri())
}

// --- bodies ------------------------------------------------------------------------------------

/// What a client saw of a body, read to its end as it arrived.
#[derive(Debug)]
pub(crate) struct Body {
    /// Each read, with when it arrived (since the clock given to [`read_body`]).
    pub(crate) reads: Vec<(Duration, Bytes)>,
    /// The error that ended the body, if it did not end cleanly.
    pub(crate) error: Option<String>,
    /// When the body ended (cleanly or not).
    pub(crate) total: Duration,
}

impl Body {
    /// Every byte that arrived.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.reads
            .iter()
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }

    /// Every byte that arrived, as text (lossily).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

/// Read a body to its end (or to the error that ends it), timing each read from `since` on
/// tokio's clock: real time, or the paused clock of a `start_paused` test.
pub(crate) async fn read_body<E: std::fmt::Display>(
    body: impl Stream<Item = Result<Bytes, E>>,
    since: tokio::time::Instant,
) -> Body {
    let mut body = std::pin::pin!(body);
    let mut reads = Vec::new();
    let error = loop {
        match body.next().await {
            Some(Ok(b)) => reads.push((since.elapsed(), b)),
            Some(Err(e)) => break Some(e.to_string()),
            None => break None,
        }
    };
    Body {
        reads,
        error,
        total: since.elapsed(),
    }
}

// --- waiting -----------------------------------------------------------------------------------

/// Wait until the journal entry that `entry` gives is marked interrupted (the server marks a
/// stream it cut, or one its client left, a little after the fact), and return it.
pub(crate) async fn interrupted(mut entry: impl FnMut() -> JournalEntry) -> JournalEntry {
    eventually(async || {
        let e = entry();
        if e.response.interrupted {
            Ok(e)
        } else {
            Err(format!("not marked interrupted: {:?}", e.response))
        }
    })
    .await
}

/// Poll `check` until it gives a value; fail with its last complaint when that takes longer than
/// [`WAIT`]. For what a server does after an answer (marking a stream interrupted, writing a
/// recording, closing a port), instead of sleeping for a guessed time.
pub(crate) async fn eventually<T>(mut check: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(why) => assert!(
                tokio::time::Instant::now() < deadline,
                "{why} (after {WAIT:?})"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// --- files -------------------------------------------------------------------------------------

/// Every file under `dir`, recursively, in path order (none when `dir` cannot be read).
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

// --- events ------------------------------------------------------------------------------------

/// The `type` of each event (AG-UI events, OpenAI Responses stream events).
pub(crate) fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The non-empty `content` deltas of an OpenAI chat stream, in order.
pub(crate) fn content_deltas(body: &str) -> Vec<String> {
    sse::json(body)
        .iter()
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        })
        .collect()
}
