//! Chaos over HTTP: each level (server, fixture, request header, run-time override per test id),
//! each action (drop, malformed, rate limit, disconnect, latency) in the providers' own envelopes,
//! the order of the rolls, measured rates, seeded reproducibility, the control API and the
//! journal, and chaos on misses that record mode sends upstream.

use std::sync::Arc;
use std::time::Duration;

use aimock::server::{AppState, ServerConfig};
use aimock::ChaosRates;
use aimock::{FixtureEntry, MockServer};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::{self, chat, journal, recorder, router};

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi there!"}},
  {"match": {"userMessage": "fragile"}, "response": {"content": "sometimes"}, "chaos": {"dropRate": 1}},
  {"match": {"userMessage": "sturdy"}, "response": {"content": "always"}, "chaos": {"dropRate": 0, "malformedRate": 0, "rateLimitRate": 0, "disconnectRate": 0}},
  {"match": {"userMessage": "slow"}, "response": {"content": "eventually"}, "chaos": {"latencyMs": 300}}
]}"#;

fn entries() -> Vec<FixtureEntry> {
    let v: Value = serde_json::from_str(FIXTURES).unwrap();
    v["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_value(f.clone()).unwrap())
        .collect()
}

async fn server_with(rates: ChaosRates, seed: Option<u64>) -> MockServer {
    let mut b = MockServer::builder().chaos(rates);
    if let Some(s) = seed {
        b = b.chaos_seed(s);
    }
    support::start_with_fixtures(b, FIXTURES, "chaos.json").await
}

async fn server() -> MockServer {
    server_with(ChaosRates::default(), None).await
}

fn rates(f: impl FnOnce(&mut ChaosRates)) -> ChaosRates {
    let mut r = ChaosRates::default();
    f(&mut r);
    r
}

fn client() -> reqwest::Client {
    support::client()
}

async fn send(s: &MockServer, text: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    try_send(s, text, headers).await.unwrap()
}

async fn try_send(
    s: &MockServer,
    text: &str,
    headers: &[(&str, &str)],
) -> reqwest::Result<reqwest::Response> {
    let mut req = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .json(&chat(text));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await
}

/// What a client saw: `ok`, `drop`, `malformed`, `rateLimit`, `disconnect` or `status N`.
async fn outcome(s: &MockServer, text: &str, headers: &[(&str, &str)]) -> String {
    let r = match try_send(s, text, headers).await {
        Ok(r) => r,
        Err(_) => return "disconnect".into(),
    };
    let status = r.status().as_u16();
    match r.text().await {
        Ok(body) => classify(status, &body),
        Err(_) => "disconnect".into(),
    }
}

/// [`outcome`] of a request answered in-process by the router (for tests on the paused clock).
async fn outcome_in_process(s: &Arc<AppState>, text: &str, headers: &[(&str, &str)]) -> String {
    let r = router::post(s, "/v1/chat/completions", &chat(text), headers).await;
    let status = r.status().as_u16();
    let body = router::read(r, Instant::now()).await;
    match body.error {
        None => classify(status, &body.text()),
        Some(_) => "disconnect".into(),
    }
}

fn classify(status: u16, body: &str) -> String {
    match status {
        200 if body == "{malformed json: <<<chaos>>>" => "malformed".into(),
        200 => "ok".into(),
        500 if body.contains("chaos_drop") => "drop".into(),
        429 if body.contains("chaos_ratelimit") => "rateLimit".into(),
        n => format!("status {n}"),
    }
}

async fn control(
    s: &MockServer,
    method: reqwest::Method,
    body: Option<&str>,
    test_id: Option<&str>,
) -> (u16, Value) {
    let mut req = client().request(method, format!("{}/__aimock/chaos", s.uri()));
    if let Some(t) = test_id {
        req = req.header("x-test-id", t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    support::status_json(req.send().await.unwrap()).await
}

// --- actions ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_drop_answers_500_in_the_providers_own_envelope() {
    let s = server_with(rates(|r| r.drop_rate = Some(1.0)), None).await;
    let r = send(&s, "hello", &[]).await;
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "Chaos: request dropped");
    assert_eq!(v["error"]["type"], "server_error");
    assert_eq!(v["error"]["code"], "chaos_drop");

    let r = client()
        .post(format!("{}/v1/messages", s.uri()))
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error", "Anthropic's envelope: {v}");
    assert_eq!(v["error"]["message"], "Chaos: request dropped");
}

#[tokio::test]
async fn a_rate_limit_answers_429_with_retry_after_and_rate_limit_headers() {
    let s = server().await;
    let r = send(&s, "hello", &[("x-aimock-chaos-ratelimit", "1")]).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["x-ratelimit-remaining-requests"], "0");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["code"], "chaos_ratelimit");
    let j = journal(&s).await;
    assert_eq!(j[0]["response"]["status"], 429);
    assert_eq!(j[0]["response"]["chaosAction"], "rateLimit");
}

#[tokio::test]
async fn malformed_answers_200_json_with_a_body_that_does_not_parse() {
    let s = server().await;
    let r = send(&s, "hello", &[("x-aimock-chaos-malformed", "1")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), "{malformed json: <<<chaos>>>");
    let j = journal(&s).await;
    assert_eq!(j[0]["response"]["status"], 200);
    assert_eq!(j[0]["response"]["chaosAction"], "malformed");
    assert_eq!(j[0]["response"]["source"], "fixture");
}

#[tokio::test]
async fn a_disconnect_cuts_the_connection_without_an_answer_and_journals_status_0() {
    let s = server().await;
    let err = try_send(&s, "hello", &[("x-aimock-chaos-disconnect", "1")])
        .await
        .expect_err("the connection is cut before any answer");
    assert!(!err.is_status(), "{err}");
    let mut stream_req = chat("hello");
    stream_req["stream"] = json!(true);
    let r = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("x-aimock-chaos-disconnect", "1")
        .json(&stream_req)
        .send()
        .await;
    assert!(
        r.is_err(),
        "a streamed request is cut before its first byte too"
    );
    let j = journal(&s).await;
    assert_eq!(j.len(), 2);
    for e in &j {
        assert_eq!(e["response"]["status"], 0);
        assert_eq!(e["response"]["chaosAction"], "disconnect");
        assert_eq!(e["response"]["source"], "fixture");
        assert_eq!(e["response"]["fixture"]["match"]["userMessage"], "hello");
    }
    // The server is fine afterwards.
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
}

#[tokio::test]
async fn a_drop_on_a_streamed_request_answers_a_json_500_before_any_event() {
    let s = server().await;
    let mut body = chat("hello");
    body["stream"] = json!(true);
    let r = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("x-aimock-chaos-drop", "1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

/// In-process on tokio's paused clock (see `support::router`): a delay takes exactly its
/// milliseconds there and no delay takes none, however loaded the machine is.
#[tokio::test(start_paused = true)]
async fn latency_delays_the_answer_by_the_requested_milliseconds() {
    let s = router::app(ServerConfig::default(), Some((FIXTURES, "chaos.json")));
    let t = Instant::now();
    assert_eq!(
        outcome_in_process(&s, "hello", &[("x-aimock-chaos-latency", "300")]).await,
        "ok"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // From the fixture's chaos block.
    let t = Instant::now();
    assert_eq!(outcome_in_process(&s, "slow", &[]).await, "ok");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // And none without.
    let t = Instant::now();
    assert_eq!(outcome_in_process(&s, "hello", &[]).await, "ok");
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
}

// --- levels -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_fixtures_chaos_applies_to_its_own_requests_only() {
    let s = server().await;
    assert_eq!(outcome(&s, "fragile", &[]).await, "drop");
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
    let j = journal(&s).await;
    assert_eq!(j[0]["response"]["source"], "fixture");
    assert_eq!(
        j[0]["response"]["fixture"]["match"]["userMessage"],
        "fragile"
    );
    assert!(j[1]["response"].get("chaosAction").is_none());
}

#[tokio::test]
async fn a_fixture_with_chaos_loads_without_a_not_applied_warning() {
    let s = server().await;
    let r = client()
        .post(format!("{}/__aimock/fixtures", s.uri()))
        .json(
            &json!({"fixtures": [{"match": {"userMessage": "x"}, "response": {"content": "y"},
                                    "chaos": {"malformedRate": 0.5, "latencyMs": 10}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v.get("warnings").is_none(), "{v}");
    let r = client()
        .post(format!("{}/__aimock/fixtures", s.uri()))
        .json(
            &json!({"fixtures": [{"match": {"userMessage": "x"}, "response": {"content": "y"},
                                    "chaos": {"latencyMs": 40000}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "latency past 30 s is refused");
}

#[tokio::test]
async fn headers_beat_the_fixture_which_beats_the_server() {
    let s = server_with(rates(|r| r.drop_rate = Some(1.0)), None).await;
    assert_eq!(outcome(&s, "hello", &[]).await, "drop", "server level");
    assert_eq!(
        outcome(&s, "sturdy", &[]).await,
        "ok",
        "the fixture's 0 beats the server's 1"
    );
    assert_eq!(
        outcome(&s, "sturdy", &[("x-aimock-chaos-malformed", "1")]).await,
        "malformed",
        "a header beats the fixture"
    );
    assert_eq!(
        outcome(&s, "hello", &[("x-aimock-chaos-drop", "0")]).await,
        "ok",
        "a header beats the server"
    );
}

#[tokio::test]
async fn invalid_or_out_of_range_header_values_are_ignored() {
    let s = server().await;
    for bad in ["abc", "2", "-1", "0x1", "1e0", ""] {
        assert_eq!(
            outcome(&s, "hello", &[("x-aimock-chaos-drop", bad)]).await,
            "ok",
            "{bad:?}"
        );
    }
    // A rejected header leaves the level below in force.
    assert_eq!(
        outcome(&s, "fragile", &[("x-aimock-chaos-drop", "nope")]).await,
        "drop"
    );
}

#[tokio::test]
async fn a_run_time_override_applies_to_its_test_id_only() {
    let s = server().await;
    let (st, v) = control(
        &s,
        reqwest::Method::POST,
        Some(r#"{"dropRate": 1}"#),
        Some("t1"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v, json!({"chaos": {"dropRate": 1.0}}));
    assert_eq!(outcome(&s, "hello", &[("x-test-id", "t1")]).await, "drop");
    assert_eq!(outcome(&s, "hello", &[("x-test-id", "t2")]).await, "ok");
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
    // `?testId=` names the same scope.
    let r = client()
        .post(format!("{}/v1/chat/completions?testId=t1", s.uri()))
        .json(&chat("hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let (_, v) = control(&s, reqwest::Method::GET, None, Some("t1")).await;
    assert_eq!(v, json!({"chaos": {"dropRate": 1.0}}));
    let (_, v) = control(&s, reqwest::Method::GET, None, Some("t2")).await;
    assert_eq!(v, json!({"chaos": {}}));
    let (st, v) = control(&s, reqwest::Method::DELETE, None, Some("t1")).await;
    assert_eq!((st, v), (200, json!({"chaos": {}})));
    assert_eq!(outcome(&s, "hello", &[("x-test-id", "t1")]).await, "ok");
}

#[tokio::test]
async fn a_run_time_override_replaces_the_server_rates_and_yields_to_the_fixture() {
    let s = server_with(
        rates(|r| {
            r.drop_rate = Some(1.0);
            r.latency_ms = Some(5.0);
        }),
        None,
    )
    .await;
    let (_, v) = control(&s, reqwest::Method::POST, Some("{}"), Some("calm")).await;
    assert_eq!(v, json!({"chaos": {}}), "replaced wholesale, not merged");
    assert_eq!(outcome(&s, "hello", &[("x-test-id", "calm")]).await, "ok");
    assert_eq!(
        outcome(&s, "hello", &[("x-test-id", "other")]).await,
        "drop"
    );
    let (_, v) = control(&s, reqwest::Method::GET, None, Some("other")).await;
    assert_eq!(v, json!({"chaos": {"dropRate": 1.0, "latencyMs": 5}}));
    control(
        &s,
        reqwest::Method::POST,
        Some(r#"{"dropRate": 1}"#),
        Some("calm"),
    )
    .await;
    assert_eq!(
        outcome(&s, "sturdy", &[("x-test-id", "calm")]).await,
        "ok",
        "the fixture's chaos beats the override"
    );
}

#[tokio::test]
async fn the_server_wide_scope_is_set_without_a_test_id_and_reset_clears_overrides() {
    let s = server_with(rates(|r| r.latency_ms = Some(5.0)), None).await;
    let (_, v) = control(
        &s,
        reqwest::Method::POST,
        Some(r#"{"malformedRate": 1}"#),
        None,
    )
    .await;
    assert_eq!(v, json!({"chaos": {"malformedRate": 1.0}}));
    assert_eq!(
        outcome(&s, "hello", &[("x-test-id", "any")]).await,
        "malformed"
    );
    control(
        &s,
        reqwest::Method::POST,
        Some(r#"{"dropRate": 1}"#),
        Some("t9"),
    )
    .await;
    let r = client()
        .post(format!("{}/__aimock/reset", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = control(&s, reqwest::Method::GET, None, None).await;
    assert_eq!(v, json!({"chaos": {"latencyMs": 5}}));
    let (_, v) = control(&s, reqwest::Method::GET, None, Some("t9")).await;
    assert_eq!(v, json!({"chaos": {"latencyMs": 5}}));
}

#[tokio::test]
async fn the_control_api_refuses_unknown_fields_bad_values_and_blank_test_ids() {
    let s = server().await;
    let post = |b: &'static str| control(&s, reqwest::Method::POST, Some(b), Some("t"));
    assert_eq!(
        post(r#"{"dropRat": 1}"#).await,
        (400, json!({"error": "Unknown chaos field: 'dropRat'"}))
    );
    assert_eq!(
        post(r#"{"dropRate": 2}"#).await,
        (
            400,
            json!({"error": "Invalid 'dropRate': must be a number between 0 and 1"})
        )
    );
    assert_eq!(
        post(r#"{"latencyMs": 1.5}"#).await,
        (
            400,
            json!({"error": "Invalid 'latencyMs': must be a whole number of ms between 0 and 30000"})
        )
    );
    assert_eq!(post(r#"{"dropRate": "0.5"}"#).await.0, 400);
    assert_eq!(post("[1]").await.0, 400);
    assert_eq!(post("{nope").await.0, 400);
    let (st, v) = control(&s, reqwest::Method::GET, None, Some(" ")).await;
    assert_eq!(st, 400);
    assert!(v["error"].as_str().unwrap().contains("X-Test-Id"), "{v}");
    // Nothing was installed by the refused calls.
    assert_eq!(
        control(&s, reqwest::Method::GET, None, Some("t")).await,
        (200, json!({"chaos": {}}))
    );
}

#[tokio::test]
async fn set_chaos_and_clear_chaos_change_the_server_rates_at_run_time() {
    let s = server().await;
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
    s.set_chaos(rates(|r| r.rate_limit_rate = Some(1.0)));
    assert_eq!(outcome(&s, "hello", &[]).await, "rateLimit");
    s.clear_chaos();
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
}

// --- rolls --------------------------------------------------------------------------------------

#[tokio::test]
async fn rolls_are_sequential_drop_then_malformed_then_rate_limit_then_disconnect() {
    let s = server().await;
    for _ in 0..10 {
        assert_eq!(
            outcome(
                &s,
                "hello",
                &[
                    ("x-aimock-chaos-drop", "1"),
                    ("x-aimock-chaos-malformed", "1")
                ]
            )
            .await,
            "drop"
        );
        assert_eq!(
            outcome(
                &s,
                "hello",
                &[
                    ("x-aimock-chaos-malformed", "1"),
                    ("x-aimock-chaos-ratelimit", "1")
                ]
            )
            .await,
            "malformed"
        );
        assert_eq!(
            outcome(
                &s,
                "hello",
                &[
                    ("x-aimock-chaos-ratelimit", "1"),
                    ("x-aimock-chaos-disconnect", "1")
                ]
            )
            .await,
            "rateLimit"
        );
    }
}

#[tokio::test]
async fn ten_thousand_requests_at_a_ten_percent_drop_rate_drop_about_ten_percent() {
    let s = MockServer::builder()
        .chaos(rates(|r| r.drop_rate = Some(0.1)))
        .journal_max(100)
        .fixture(entries().remove(0))
        .start()
        .await;
    // A client of its own that keeps its connections: 10 000 requests, 32 at a time.
    let c = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", s.uri());
    let body = chat("hello");
    let statuses: Vec<u16> = futures_util::stream::iter(0..10_000)
        .map(|_| {
            let req = c.post(&url).json(&body);
            async move { req.send().await.unwrap().status().as_u16() }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let drops = statuses.iter().filter(|s| **s == 500).count();
    let oks = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(drops + oks, 10_000);
    assert!((800..=1200).contains(&drops), "{drops} drops in 10000");
}

async fn seeded_sequence(seed: u64) -> Vec<String> {
    let s = server_with(
        rates(|r| {
            r.drop_rate = Some(0.25);
            r.malformed_rate = Some(0.25);
            r.rate_limit_rate = Some(0.25);
            r.disconnect_rate = Some(0.25);
        }),
        Some(seed),
    )
    .await;
    let mut out = Vec::new();
    for _ in 0..40 {
        out.push(outcome(&s, "hello", &[]).await);
    }
    let actions: Vec<String> = journal(&s)
        .await
        .iter()
        .map(|e| {
            e["response"]["chaosAction"]
                .as_str()
                .unwrap_or("ok")
                .to_owned()
        })
        .collect();
    assert_eq!(actions, out, "the journal names what the client saw");
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_actions_and_another_seed_others() {
    let a = seeded_sequence(7).await;
    let b = seeded_sequence(7).await;
    let c = seeded_sequence(8).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    for kind in ["ok", "drop", "malformed", "rateLimit", "disconnect"] {
        assert!(a.iter().any(|x| x == kind), "{kind} in {a:?}");
    }
}

// --- misses and record mode ----------------------------------------------------------------------

#[tokio::test]
async fn chaos_on_a_miss_is_journaled_as_internal() {
    let s = server().await;
    assert_eq!(
        outcome(&s, "nothing matches", &[("x-aimock-chaos-drop", "1")]).await,
        "drop"
    );
    let j = journal(&s).await;
    assert_eq!(j[0]["response"]["source"], "internal");
    assert!(j[0]["response"]["fixture"].is_null());
}

#[tokio::test]
async fn drop_rate_limit_and_disconnect_on_a_proxied_miss_never_reach_the_upstream() {
    let upstream = server().await;
    let dir = tempfile::tempdir().unwrap();
    let s = recorder(&upstream, dir.path()).await;
    assert_eq!(
        outcome(&s, "hello", &[("x-aimock-chaos-drop", "1")]).await,
        "drop"
    );
    assert_eq!(
        outcome(&s, "hello", &[("x-aimock-chaos-ratelimit", "1")]).await,
        "rateLimit"
    );
    assert_eq!(
        outcome(&s, "hello", &[("x-aimock-chaos-disconnect", "1")]).await,
        "disconnect"
    );
    assert!(upstream.journal().is_empty(), "nothing went upstream");
    let j = journal(&s).await;
    assert_eq!(j.len(), 3);
    for e in &j {
        assert_eq!(e["response"]["source"], "proxy");
    }
    // Without chaos the same miss goes upstream.
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
    assert_eq!(upstream.journal().len(), 1);
}

#[tokio::test]
async fn malformed_on_a_proxied_miss_records_the_reply_then_breaks_the_relayed_body() {
    let upstream = server().await;
    let dir = tempfile::tempdir().unwrap();
    let s = recorder(&upstream, dir.path()).await;
    assert_eq!(
        outcome(&s, "hello", &[("x-aimock-chaos-malformed", "1")]).await,
        "malformed"
    );
    assert_eq!(upstream.journal().len(), 1, "the upstream was called");
    let j = journal(&s).await;
    assert_eq!(j[0]["response"]["chaosAction"], "malformed");
    assert_eq!(j[0]["response"]["source"], "proxy");
    // The recording answers the next request, intact.
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
    assert_eq!(upstream.journal().len(), 1, "replayed from the recording");
}

#[tokio::test]
async fn a_chaos_error_does_not_fail_over_to_an_openrouter_fallback_model() {
    let s = server().await;
    let r = client()
        .post(format!("{}/api/v1/chat/completions", s.uri()))
        .header("x-aimock-chaos-drop", "1")
        .json(&json!({"model": "a/one", "models": ["b/two", "c/three"],
                      "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let j = journal(&s).await;
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["response"]["chaosAction"], "drop");
}

#[tokio::test]
async fn each_action_is_counted_in_the_chaos_metric_by_action_and_source() {
    let config = aimock::server::ServerConfig {
        metrics: true,
        ..Default::default()
    };
    let s =
        support::start_with_fixtures(MockServer::builder().config(config), FIXTURES, "chaos.json")
            .await;
    outcome(&s, "fragile", &[]).await;
    outcome(&s, "hello", &[("x-aimock-chaos-ratelimit", "1")]).await;
    outcome(&s, "no match here", &[("x-aimock-chaos-malformed", "1")]).await;
    let text = support::get_text(&s, "/metrics").await;
    let line = |action: &str, source: &str| {
        text.lines().any(|l| {
            l.starts_with("aimock_chaos_triggered_total{")
                && l.contains(&format!("action=\"{action}\""))
                && l.contains(&format!("source=\"{source}\""))
                && l.ends_with(" 1")
        })
    };
    assert!(line("drop", "fixture"), "{text}");
    assert!(line("rateLimit", "fixture"), "{text}");
    assert!(line("malformed", "internal"), "{text}");
}

#[tokio::test]
async fn the_disconnect_after_chunks_header_cuts_a_stream_after_that_many_events() {
    let s = server().await;
    let body = json!({"model": "gpt-4o", "stream": true,
                      "messages": [{"role": "user", "content": "hello"}]});
    let mut resp = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("x-aimock-chaos-disconnect-after-chunks", "2")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut got = Vec::new();
    let err = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(
        err.is_some(),
        "the stream ended cleanly: {}",
        String::from_utf8_lossy(&got)
    );
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("data: ").count(), 2, "{text}");
    assert!(!text.contains("[DONE]"));
    // Without the header, the same request streams to its end.
    let full = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(full.contains("[DONE]"));
}

#[tokio::test]
async fn a_queued_error_preempted_by_chaos_answers_the_next_request() {
    let s = server().await;
    let r = client()
        .post(format!("{}/__aimock/error", s.uri()))
        .json(&json!({"status": 418, "body": {"message": "teapot"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        outcome(&s, "hello", &[("x-aimock-chaos-drop", "1")]).await,
        "drop"
    );
    assert_eq!(outcome(&s, "hello", &[]).await, "status 418");
    assert_eq!(outcome(&s, "hello", &[]).await, "ok");
}
