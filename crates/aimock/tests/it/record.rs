//! Record and replay through a real upstream: a second instance of our own server. A miss goes
//! upstream, comes back to the caller as it arrives, is saved as a fixture file, answers the same
//! request from then on, and loads back into a fresh server with nothing else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aimock::fixture::load_paths;
use aimock::record::RecordConfig;
use aimock::MockServer;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::support::{self, record_config, recorder};

const UPSTREAM: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello from upstream!"}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_up1"}]}},
  {"match": {"userMessage": "stream me"}, "response": {"content": "one two three four five six"}, "chunkSize": 4, "latency": 5},
  {"match": {"userMessage": "slow stream"}, "response": {"content": "abcdefghijklmnopqrstuvwxyz"}, "chunkSize": 1, "latency": 40},
  {"match": {"userMessage": "bad param"}, "response": {"error": {"message": "Invalid value for temperature", "type": "invalid_request_error", "param": "temperature"}, "status": 400}},
  {"match": {"userMessage": "busy"}, "response": {"error": {"message": "Slow down", "type": "rate_limit_error"}, "status": 429}},
  {"match": {"userMessageRegex": "^item "}, "response": {"content": "an item"}},
  {"match": {"userMessage": "at "}, "response": {"content": "timestamped"}}
]}"#;

async fn upstream() -> MockServer {
    let text = UPSTREAM.replace(
        r#"{"userMessageRegex": "^item "}"#,
        r#"{"userMessage": {"regex": "^item "}}"#,
    );
    support::fixture_server(&text, "upstream.json").await
}

fn chat(text: &str, stream: bool) -> Value {
    json!({"model": "gpt-4o-2024-08-06", "stream": stream,
           "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})
}

async fn post(s: &MockServer, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("authorization", "Bearer sk-secret-CALLER123")];
    all.extend_from_slice(headers);
    support::post(s, "/v1/chat/completions", body, &all).await
}

/// Every `.json` file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    support::files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect()
}

/// Fixtures in every recorded file, checking each loads with no problem.
fn recorded_fixtures(dir: &Path) -> usize {
    let report = load_paths(&[dir]);
    assert!(!report.has_errors(), "{:?}", report.problems);
    report.fixtures.len()
}

fn upstream_calls(up: &MockServer) -> usize {
    up.journal().len()
}

/// Wait until the recording of a stream (written after its last event) is on disk.
async fn wait_for_fixtures(dir: &Path, n: usize) {
    support::eventually(async || {
        let on_disk: usize = files(dir).iter().map(|f| count_in(f)).sum();
        if on_disk >= n {
            Ok(())
        } else {
            Err(format!("{on_disk} of {n} fixtures recorded"))
        }
    })
    .await;
}

fn count_in(f: &Path) -> usize {
    std::fs::read_to_string(f)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["fixtures"].as_array().map(Vec::len))
        .unwrap_or(0)
}

#[tokio::test]
async fn a_miss_is_recorded_replayed_without_the_upstream_and_loads_back_alone() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;

    let first: Value = post(&rec, &chat("hello", false), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        first["choices"][0]["message"]["content"],
        "Hello from upstream!"
    );
    assert_eq!(upstream_calls(&up), 1);
    assert_eq!(recorded_fixtures(dir.path()), 1);

    // The same request again: answered by the recording, the upstream is not called.
    let second: Value = post(&rec, &chat("hello", false), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        second["choices"][0]["message"]["content"],
        "Hello from upstream!"
    );
    assert_eq!(upstream_calls(&up), 1);
    let j = rec.journal();
    assert_eq!(j[0].response.source, Some("proxy"));
    assert_eq!(j[1].response.source, Some("fixture"));

    // The recorded match: user message, model without its date, turn, system hash.
    let f = &files(dir.path())[0];
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    let m = &saved["fixtures"][0]["match"];
    assert_eq!(m["model"], "gpt-4o");
    assert!(m["userMessage"].to_string().contains("hello"), "{m}");
    assert_eq!(m["turnIndex"], 0);
    assert!(m.get("systemHash").is_some(), "{m}");
    assert!(!std::fs::read_to_string(f).unwrap().contains("CALLER123"));

    // A fresh server with only the recordings answers the same.
    drop(rec);
    drop(up);
    let (replay, _) = support::file_server(dir.path()).await;
    let third: Value = post(&replay, &chat("hello", false), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        third["choices"][0]["message"]["content"],
        "Hello from upstream!"
    );
}

#[tokio::test]
async fn tool_calls_are_recorded_and_replayed_with_their_ids_and_arguments() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;
    let live: Value = post(&rec, &chat("weather", false), &[])
        .await
        .json()
        .await
        .unwrap();
    let call = &live["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    drop(rec);
    let (replay, _) = support::file_server(dir.path()).await;
    let again: Value = post(&replay, &chat("weather", false), &[])
        .await
        .json()
        .await
        .unwrap();
    let call2 = &again["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call2["function"]["name"], "get_weather");
    assert_eq!(call2["id"], call["id"]);
    let a1: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    let a2: Value = serde_json::from_str(call2["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(a1, a2);
    assert_eq!(again["choices"][0]["finish_reason"], "tool_calls");
}

/// The text of an OpenAI chat stream.
fn stream_text(body: &str) -> String {
    support::content_deltas(body).concat()
}

#[tokio::test]
async fn a_stream_is_relayed_as_it_arrives_and_recorded_with_its_timings() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;

    // The first event reaches the caller while the upstream is still producing the rest: the
    // upstream takes about 1.1 s (28 events, 40 ms apart); a relay that buffered would deliver
    // its first byte only after the upstream's stream had ended, which its journal would show.
    let resp = post(&rec, &chat("slow stream", true), &[]).await;
    assert!(resp.headers().get("content-length").is_none());
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    assert_eq!(
        up.last_request().unwrap().response.delivered,
        None,
        "the upstream's stream had ended before its first event reached the caller: the relay \
         held the stream back"
    );
    assert!(
        files(dir.path()).is_empty(),
        "recorded before the stream ended"
    );
    let mut all = first.to_vec();
    while let Some(chunk) = body.next().await {
        all.extend_from_slice(&chunk.unwrap());
    }
    let text = stream_text(&String::from_utf8(all).unwrap());
    assert_eq!(text, "abcdefghijklmnopqrstuvwxyz");
    wait_for_fixtures(dir.path(), 1).await;

    let f = &files(dir.path())[0];
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    let t = &saved["fixtures"][0]["recordedTimings"];
    let gaps = t["interChunkDelaysMs"].as_array().unwrap();
    assert!(gaps.len() >= 20, "{t}");
    // The upstream paced its events 40 ms apart; the recording says so.
    let mean = gaps.iter().map(|g| g.as_f64().unwrap()).sum::<f64>() / gaps.len() as f64;
    assert!(mean > 20.0, "{t}");

    // Replayed by the recording server itself, then by a fresh one: the same text.
    let again = post(&rec, &chat("slow stream", true), &[])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(stream_text(&again), "abcdefghijklmnopqrstuvwxyz");
    assert_eq!(upstream_calls(&up), 1);
    drop(rec);
    let (replay, _) = support::file_server(dir.path()).await;
    let fresh = post(&replay, &chat("slow stream", true), &[])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(stream_text(&fresh), "abcdefghijklmnopqrstuvwxyz");
}

#[tokio::test]
async fn a_caller_that_leaves_mid_stream_leaves_no_fixture() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;
    let resp = post(&rec, &chat("slow stream", true), &[]).await;
    let mut body = resp.bytes_stream();
    let _ = body.next().await.unwrap().unwrap();
    drop(body);
    // Long enough for the upstream to have sent everything had the relay gone on.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
    let j = rec.journal();
    assert_eq!(j[0].response.delivered, Some(false));
}

#[tokio::test]
async fn strict_mode_wins_over_recording() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;
    let r = post(&rec, &chat("hello", false), &[("x-aimock-strict", "true")]).await;
    assert_eq!(r.status(), 503);
    assert_eq!(upstream_calls(&up), 0);
    assert!(files(dir.path()).is_empty());
}

/// A recording server whose upstream for `provider` is a port nothing listens on.
async fn recorder_with_dead_upstream(provider: &str, dir: &Path) -> MockServer {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut rc = RecordConfig::default();
    rc.providers
        .insert(provider.into(), format!("http://127.0.0.1:{port}"));
    rc.fixture_path = dir.to_path_buf();
    MockServer::builder().record(rc).start().await
}

#[tokio::test]
async fn an_upstream_that_is_down_gives_a_502_saying_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder_with_dead_upstream("openai", dir.path()).await;
    let r = post(&rec, &chat("hello", false), &[]).await;
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("Proxy to upstream failed"), "{msg}");
    assert!(files(dir.path()).is_empty());
}

#[tokio::test]
async fn request_errors_are_recorded_but_rate_limits_are_only_relayed() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;
    let r = post(&rec, &chat("bad param", false), &[]).await;
    assert_eq!(r.status(), 400);
    let r = post(&rec, &chat("busy", false), &[]).await;
    assert_eq!(r.status(), 429);
    assert_eq!(recorded_fixtures(dir.path()), 1);
    // The 400 replays from the recording; the 429 goes upstream again.
    let r = post(&rec, &chat("bad param", false), &[]).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "Invalid value for temperature");
    post(&rec, &chat("busy", false), &[]).await;
    assert_eq!(upstream_calls(&up), 3);
}

#[tokio::test]
async fn proxy_only_relays_and_saves_nothing() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut rc = record_config(&up, dir.path());
    rc.proxy_only = true;
    let rec = MockServer::builder().record(rc).start().await;
    for _ in 0..2 {
        let v: Value = post(&rec, &chat("hello", false), &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "Hello from upstream!"
        );
    }
    assert_eq!(upstream_calls(&up), 2);
    assert!(files(dir.path()).is_empty());
}

#[tokio::test]
async fn the_servers_own_key_replaces_a_placeholder_and_aimock_headers_stay_home() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut rc = record_config(&up, dir.path());
    rc.provider_keys
        .insert("openai".into(), "sk-server-OWNKEY".into());
    let rec = MockServer::builder().record(rc).start().await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", rec.uri()))
        .header("authorization", "Bearer sk-aimock-placeholder")
        .header("x-test-id", "t1")
        .header("x-aimock-chaos-drop", "0")
        .header("openai-organization", "org-1")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = &up.journal()[0].headers;
    assert_eq!(seen["authorization"], "Bearer sk-server-OWNKEY");
    assert_eq!(seen["openai-organization"], "org-1");
    assert!(seen.get("x-test-id").is_none());
    assert!(seen.get("x-aimock-chaos-drop").is_none());
    // Per-test file, and no key in it.
    let f = files(dir.path());
    assert_eq!(f.len(), 1);
    assert!(f[0].ends_with("t1/openai.json"), "{f:?}");
    let text = std::fs::read_to_string(&f[0]).unwrap();
    assert!(!text.contains("OWNKEY") && !text.contains("placeholder"));
}

#[tokio::test]
async fn two_hundred_concurrent_recordings_give_two_hundred_fixtures_and_no_corrupt_file() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder(&up, dir.path()).await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = format!("{}/v1/chat/completions", rec.uri());
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut req = client
                .post(url)
                .header("authorization", "Bearer sk-secret-CALLER123")
                .json(&chat(&format!("item {i}"), i % 2 == 0));
            // Five test ids share files (merged under a lock); the rest get files of their own.
            if i % 3 != 0 {
                req = req.header("x-test-id", format!("suite › test {}", i % 5));
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    wait_for_fixtures(dir.path(), 200).await;
    assert_eq!(recorded_fixtures(dir.path()), 200);
    for f in files(dir.path()) {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "{f:?}");
        assert!(!text.contains("CALLER123"), "{f:?} holds the credential");
    }
    for e in rec.journal() {
        let line = serde_json::to_string(&e).unwrap();
        assert!(!line.contains("CALLER123"));
    }
    assert_eq!(upstream_calls(&up), 200);
}

#[tokio::test]
async fn normalisation_rules_apply_to_matching_and_to_the_recorded_key() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let rule = aimock::record::normalize::NormalizeRule::new(
        r"\d{4}-\d{2}-\d{2}T[\d:.]+Z",
        "<time>",
        None,
    )
    .unwrap();
    let rec = MockServer::builder()
        .record(record_config(&up, dir.path()))
        .normalize(rule)
        .start()
        .await;
    let v: Value = post(&rec, &chat("at 2026-11-25T10:00:00.000Z", false), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "timestamped");
    // Another timestamp: the same normalised request, so the recording answers it.
    let v: Value = post(&rec, &chat("at 2031-01-01T00:00:00Z", false), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "timestamped");
    assert_eq!(upstream_calls(&up), 1);
    let text = std::fs::read_to_string(&files(dir.path())[0]).unwrap();
    assert!(text.contains("<time>"), "{text}");
}

#[tokio::test]
async fn with_inbound_keys_the_test_key_never_reaches_the_upstream_even_in_the_query() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut rc = record_config(&up, dir.path());
    rc.providers.insert("gemini".into(), up.uri());
    rc.provider_keys
        .insert("gemini".into(), "server-gemini-key".into());
    let config = aimock::server::ServerConfig {
        record: Some(rc),
        api_keys: vec!["test-key-XYZ".into()],
        ..Default::default()
    };
    let rec = MockServer::builder().config(config).start().await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent?key=test-key-XYZ",
            rec.uri()
        ))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = &up.journal()[0];
    assert!(!seen.path.contains("test-key-XYZ"), "{}", seen.path);
    assert_eq!(seen.headers["x-goog-api-key"], "server-gemini-key");
    // OpenAI has no server key here: refused locally, never sent upstream with the test key.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", rec.uri()))
        .header("authorization", "Bearer test-key-XYZ")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No configured provider credential"),
        "{v}"
    );
    assert_eq!(upstream_calls(&up), 1);
}

#[tokio::test]
async fn an_upstream_error_message_never_shows_a_query_key() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder_with_dead_upstream("gemini", dir.path()).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent?key=SECRET-QUERY-KEY",
            rec.uri()
        ))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("Proxy to upstream failed"), "{body}");
    assert!(!body.contains("SECRET-QUERY-KEY"), "{body}");
}
