//! `/metrics` (Prometheus text, aimock's names and labels) and inbound API-key checks, over a real
//! socket on 127.0.0.1.

use std::collections::BTreeMap;

use aimock::server::ServerConfig;
use aimock::MockServer;
use serde_json::{json, Value};

use crate::support::{self, chat, send};

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi there!"}},
  {"match": {"userMessage": "slow"}, "response": {"content": "ok"}}
]}"#;

async fn server(config: ServerConfig) -> MockServer {
    support::start_with_fixtures(
        MockServer::builder().config(config),
        FIXTURES,
        "metrics.json",
    )
    .await
}

async fn metrics_server() -> MockServer {
    server(ServerConfig {
        metrics: true,
        ..ServerConfig::default()
    })
    .await
}

const KEY: &str = "sk-right-key";
const OTHER_KEY: &str = "sk-second-key";

async fn auth_server() -> MockServer {
    server(ServerConfig {
        api_keys: vec![KEY.to_owned(), OTHER_KEY.to_owned()],
        metrics: true,
        ..ServerConfig::default()
    })
    .await
}

/// One sample: metric name and labels.
type Series = (String, BTreeMap<String, String>);

/// A small parser of the Prometheus text format: every sample, by name and labels.
fn parse(text: &str) -> BTreeMap<Series, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect(line);
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.strip_suffix('}').expect(line)),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (k, r) = rest.split_once("=\"").expect(line);
            let mut v = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                let (i, c) = chars.next().expect(line);
                match c {
                    '\\' => {
                        let (_, e) = chars.next().expect(line);
                        v.push(if e == 'n' { '\n' } else { e });
                    }
                    '"' => break i,
                    c => v.push(c),
                }
            };
            map.insert(k.to_owned(), v);
            rest = r[end + 1..].trim_start_matches(',');
        }
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().expect(line),
        };
        out.insert((name.to_owned(), map), value);
    }
    out
}

async fn scrape(s: &MockServer) -> BTreeMap<Series, f64> {
    let r = send(s, "GET", "/metrics", &[("x-api-key", KEY)], None).await;
    assert_eq!(r.status(), 200);
    parse(&r.text().await.unwrap())
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn value(m: &BTreeMap<Series, f64>, name: &str, pairs: &[(&str, &str)]) -> Option<f64> {
    m.get(&(name.to_owned(), labels(pairs))).copied()
}

fn requests(m: &BTreeMap<Series, f64>, method: &str, path: &str, status: &str) -> f64 {
    value(
        m,
        "aimock_requests_total",
        &[("method", method), ("path", path), ("status", status)],
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn requests_are_counted_by_method_route_and_status() {
    let s = metrics_server().await;
    for _ in 0..2 {
        let r = send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[],
            Some(&chat("hello")),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let r = send(
        &s,
        "POST",
        "/v1/chat/completions",
        &[],
        Some(&chat("nothing")),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(send(&s, "GET", "/v1/models", &[], None).await.status(), 200);
    let m = scrape(&s).await;
    assert_eq!(requests(&m, "POST", "/v1/chat/completions", "200"), 2.0);
    assert_eq!(requests(&m, "POST", "/v1/chat/completions", "404"), 1.0);
    assert_eq!(requests(&m, "GET", "/v1/models", "200"), 1.0);
    // The scrape itself is counted on the next one.
    let m = scrape(&s).await;
    assert_eq!(requests(&m, "GET", "/metrics", "200"), 1.0);
}

#[tokio::test]
async fn the_metrics_route_serves_prometheus_text_and_openmetrics_on_request() {
    let s = metrics_server().await;
    let r = send(&s, "GET", "/metrics", &[], None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    for (name, kind) in [
        ("aimock_requests_total", "counter"),
        ("aimock_request_duration_seconds", "histogram"),
        ("aimock_fixtures_loaded", "gauge"),
        ("aimock_chaos_triggered_total", "counter"),
        ("aimock_chaos_bypassed_total", "counter"),
        ("aimock_mcp_requests_total", "counter"),
        ("aimock_a2a_requests_total", "counter"),
        ("aimock_vector_requests_total", "counter"),
        ("aimock_agui_requests_total", "counter"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} {kind} missing:\n{text}"
        );
    }
    let r = send(
        &s,
        "GET",
        "/metrics",
        &[(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
        None,
    )
    .await;
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE aimock_requests counter\n"), "{text}");
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn the_metrics_route_is_not_found_when_metrics_are_off() {
    let s = server(ServerConfig::default()).await;
    assert_eq!(send(&s, "GET", "/metrics", &[], None).await.status(), 404);
}

#[tokio::test]
async fn duration_buckets_are_aimocks_cumulative_and_end_at_the_count() {
    let s = metrics_server().await;
    for _ in 0..3 {
        send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[],
            Some(&chat("hello")),
        )
        .await;
    }
    let m = scrape(&s).await;
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    let mut previous = 0.0;
    let mut buckets = Vec::new();
    for le in les {
        let v = value(
            &m,
            "aimock_request_duration_seconds_bucket",
            &[
                ("method", "POST"),
                ("path", "/v1/chat/completions"),
                ("le", le),
            ],
        )
        .unwrap_or_else(|| panic!("no bucket le={le}"));
        assert!(v >= previous, "bucket {le} ({v}) below the one before");
        previous = v;
        buckets.push((le, v));
    }
    let count = value(
        &m,
        "aimock_request_duration_seconds_count",
        &[("method", "POST"), ("path", "/v1/chat/completions")],
    )
    .unwrap();
    assert_eq!(count, 3.0);
    assert_eq!(previous, count, "+Inf bucket equals the count");
    let sum = value(
        &m,
        "aimock_request_duration_seconds_sum",
        &[("method", "POST"), ("path", "/v1/chat/completions")],
    )
    .unwrap();
    // In seconds like the bounds: at most the count times the smallest bound that holds every
    // request (an upper bound read from the buckets, not from the clock).
    let (le, _) = buckets.iter().find(|(_, v)| *v == count).unwrap();
    let bound: f64 = le.parse().unwrap();
    assert!(
        sum > 0.0 && sum <= count * bound,
        "sum {sum}, every request within {le} s"
    );
}

#[tokio::test]
async fn the_fixtures_gauge_follows_the_control_api() {
    let s = metrics_server().await;
    let gauge = |m: &BTreeMap<Series, f64>| value(m, "aimock_fixtures_loaded", &[]).unwrap();
    assert_eq!(gauge(&scrape(&s).await), 2.0);
    let added = json!({"fixtures": [
        {"match": {"userMessage": "a"}, "response": {"content": "A"}},
        {"match": {"userMessage": "b"}, "response": {"content": "B"}},
        {"match": {"userMessage": "c"}, "response": {"content": "C"}}
    ]});
    let r = send(&s, "POST", "/__aimock/fixtures", &[], Some(&added)).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(gauge(&scrape(&s).await), 5.0);
    let r = send(&s, "DELETE", "/__aimock/fixtures", &[], None).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(gauge(&scrape(&s).await), 0.0);
}

#[tokio::test]
async fn paths_are_labelled_by_route_shape_and_unknown_paths_share_one_label() {
    let s = metrics_server().await;
    let gemini = json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]});
    send(
        &s,
        "POST",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        &[],
        Some(&gemini),
    )
    .await;
    send(
        &s,
        "POST",
        "/v1beta/models/gemini-1.5-pro:generateContent",
        &[],
        Some(&gemini),
    )
    .await;
    let converse = json!({"messages": [{"role": "user", "content": [{"text": "hello"}]}]});
    send(
        &s,
        "POST",
        "/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
        &[],
        Some(&converse),
    )
    .await;
    send(
        &s,
        "POST",
        "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
        &[],
        Some(&chat("hello")),
    )
    .await;
    send(
        &s,
        "POST",
        "/v4/chat/completions",
        &[],
        Some(&chat("hello")),
    )
    .await;
    for i in 0..5 {
        let r = send(&s, "GET", &format!("/no/such/path/{i}"), &[], None).await;
        assert_eq!(r.status(), 404);
    }
    let m = scrape(&s).await;
    assert_eq!(
        requests(&m, "POST", "/v1beta/models/{model}:generateContent", "200"),
        2.0
    );
    assert_eq!(
        requests(&m, "POST", "/model/{modelId}/converse", "200"),
        1.0
    );
    assert_eq!(
        requests(
            &m,
            "POST",
            "/openai/deployments/{id}/chat/completions",
            "200"
        ),
        1.0
    );
    assert_eq!(requests(&m, "POST", "/v1/chat/completions", "200"), 1.0);
    assert_eq!(requests(&m, "GET", "{unknown}", "404"), 5.0);
    let paths: std::collections::BTreeSet<&str> = m
        .keys()
        .filter(|(n, _)| n == "aimock_requests_total")
        .filter_map(|(_, l)| l.get("path").map(String::as_str))
        .collect();
    assert!(
        paths
            .iter()
            .all(|p| !p.contains("gemini") && !p.contains("my-gpt") && !p.contains("no/such")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_chaos_drop_is_counted_as_triggered() {
    let s = metrics_server().await;
    let r = send(
        &s,
        "POST",
        "/v1/chat/completions",
        &[("x-aimock-chaos-drop", "1")],
        Some(&chat("hello")),
    )
    .await;
    assert_eq!(r.status(), 500);
    let m = scrape(&s).await;
    let dropped: f64 = m
        .iter()
        .filter(|((n, l), _)| {
            n == "aimock_chaos_triggered_total"
                && l.get("action").map(String::as_str) == Some("drop")
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(dropped, 1.0, "{m:?}");
    assert_eq!(requests(&m, "POST", "/v1/chat/completions", "500"), 1.0);
}

#[tokio::test]
async fn a_chaos_disconnect_is_counted_as_status_0_like_the_journal() {
    let s = metrics_server().await;
    let sent = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("x-aimock-chaos-disconnect", "1")
        .json(&chat("hello"))
        .send()
        .await;
    // The client sees no answer (or one whose body breaks at once).
    if let Ok(r) = sent {
        assert!(r.bytes().await.is_err());
    }
    let m = scrape(&s).await;
    assert_eq!(
        requests(&m, "POST", "/v1/chat/completions", "0"),
        1.0,
        "{m:?}"
    );
    assert_eq!(
        requests(&m, "POST", "/v1/chat/completions", "200"),
        0.0,
        "{m:?}"
    );
}

// ------------------------------------------------------------------------------------ auth

#[tokio::test]
async fn every_credential_header_and_the_query_key_are_accepted() {
    let s = auth_server().await;
    let bearer = format!("Bearer {KEY}");
    let key_scheme = format!("kEy {OTHER_KEY}");
    for (name, value) in [
        ("authorization", bearer.as_str()),
        ("authorization", key_scheme.as_str()),
        ("x-api-key", KEY),
        ("x-goog-api-key", KEY),
        ("api-key", OTHER_KEY),
        ("xi-api-key", KEY),
    ] {
        let r = send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[(name, value)],
            Some(&chat("hello")),
        )
        .await;
        assert_eq!(r.status(), 200, "{name}: {value}");
    }
    let gemini = json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]});
    let r = send(
        &s,
        "POST",
        &format!("/v1beta/models/gemini-2.0-flash:generateContent?key={KEY}"),
        &[],
        Some(&gemini),
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn assert_refused(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"aimock\"");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().contains_key("x-request-id"));
    r.json().await.unwrap()
}

#[tokio::test]
async fn missing_wrong_and_conflicting_keys_are_refused_with_a_401() {
    let s = auth_server().await;
    let body = assert_refused(
        send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[],
            Some(&chat("hello")),
        )
        .await,
    )
    .await;
    assert_eq!(
        body["error"],
        json!({"message": "Invalid API key", "type": "authentication_error", "param": null, "code": "invalid_api_key"})
    );
    assert_refused(
        send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[("authorization", "Bearer sk-wrong")],
            Some(&chat("hello")),
        )
        .await,
    )
    .await;
    assert_refused(
        send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[("authorization", &format!("Basic {KEY}"))],
            Some(&chat("hello")),
        )
        .await,
    )
    .await;
    // Two valid keys, but not the same one.
    assert_refused(
        send(
            &s,
            "POST",
            "/v1/chat/completions",
            &[("x-api-key", KEY), ("api-key", OTHER_KEY)],
            Some(&chat("hello")),
        )
        .await,
    )
    .await;
    assert_refused(
        send(
            &s,
            "POST",
            &format!("/v1/chat/completions?key={OTHER_KEY}"),
            &[("x-api-key", KEY)],
            Some(&chat("hello")),
        )
        .await,
    )
    .await;
    // The request id the client sent comes back on the 401 too.
    let r = send(
        &s,
        "GET",
        "/v1/models",
        &[("x-request-id", "req-mine")],
        None,
    )
    .await;
    assert_eq!(r.headers()["x-request-id"], "req-mine");
    assert_refused(r).await;
}

#[tokio::test]
async fn a_refusal_is_in_the_envelope_of_the_api_called() {
    let s = auth_server().await;
    let anthropic = json!({"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "hello"}]});
    let body = assert_refused(
        send(
            &s,
            "POST",
            "/v1/messages",
            &[("x-api-key", "wrong")],
            Some(&anthropic),
        )
        .await,
    )
    .await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["message"], "Invalid API key");
    let body = assert_refused(
        send(
            &s,
            "POST",
            "/v1beta/models/gemini-2.0-flash:generateContent",
            &[("x-goog-api-key", "wrong")],
            Some(&json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(
        body["error"],
        json!({"code": 401, "message": "Invalid API key", "status": "UNAUTHENTICATED"})
    );
    let body = assert_refused(send(&s, "POST", "/api/chat", &[], Some(&json!({}))).await).await;
    assert_eq!(body, json!({"error": "Invalid API key"}));
}

#[tokio::test]
async fn health_ready_metrics_and_preflights_are_public_but_the_control_api_is_not() {
    let s = auth_server().await;
    for path in ["/health", "/ready", "/metrics"] {
        assert_eq!(
            send(&s, "GET", path, &[], None).await.status(),
            200,
            "{path}"
        );
    }
    let r = send(
        &s,
        "OPTIONS",
        "/v1/chat/completions",
        &[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("Authorization"), "{allowed}");
    // A bare OPTIONS is not a preflight.
    assert_refused(send(&s, "OPTIONS", "/v1/chat/completions", &[], None).await).await;
    assert_refused(send(&s, "GET", "/__aimock/journal", &[], None).await).await;
    assert_refused(send(&s, "POST", "/__aimock/reset", &[], None).await).await;
    let r = send(&s, "GET", "/__aimock/journal", &[("x-api-key", KEY)], None).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn refused_requests_are_not_journaled_and_the_key_is_never_echoed() {
    let s = auth_server().await;
    let secret = "sk-not-a-configured-key-0123456789";
    let r = send(
        &s,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {secret}"))],
        Some(&chat("hello")),
    )
    .await;
    let text = r.text().await.unwrap();
    assert!(!text.contains(secret));
    assert!(s.journal().is_empty());
    let r = send(
        &s,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {KEY}"))],
        Some(&chat("hello")),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = send(&s, "GET", "/__aimock/journal", &[("x-api-key", KEY)], None).await;
    let journal = r.text().await.unwrap();
    assert!(journal.contains("/v1/chat/completions"));
    assert!(!journal.contains(KEY), "{journal}");
    // Refusals are still counted.
    let m = scrape(&s).await;
    assert_eq!(requests(&m, "POST", "/v1/chat/completions", "401"), 1.0);
}
