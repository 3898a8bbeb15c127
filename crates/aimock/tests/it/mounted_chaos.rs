//! Chaos on every mounted surface and service, over real HTTP: MCP, A2A (JSON-RPC and REST), AG-UI,
//! the vector databases (Qdrant, Pinecone, Chroma) and the search, rerank and moderation services
//! (Tavily, Cohere, OpenAI). Each chaos header does to them what it does to an LLM route: a drop
//! is a 500 and a rate limit a 429 (with `retry-after`) in the surface's own error envelope, a
//! malformed answer is a 200 whose body is not JSON, a disconnect cuts the connection, a latency
//! delays the answer; each is journaled with the service's name and counted in the metrics.

use std::time::{Duration, Instant};

use aimock::config::{A2aConfig, AguiConfig, McpConfig, VectorConfig};
use aimock::server::ServerConfig;
use aimock::MockServer;

use crate::support::journal;
use reqwest::Method;
use serde_json::{json, Value};

/// One request to a surface, and how its errors look.
struct Probe {
    /// The journal's `service`.
    service: &'static str,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// Checks that a drop's (500) or rate limit's (429) body is in the surface's own envelope.
    envelope: fn(&Value, u16),
}

fn jsonrpc(v: &Value, _status: u16) {
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert!(v["id"].is_null(), "{v}");
    assert_eq!(v["error"]["code"], -32603, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().starts_with("Chaos"),
        "{v}"
    );
}

fn google_rpc_status(v: &Value, status: u16) {
    assert_eq!(v["error"]["code"], status, "{v}");
    let name = if status == 429 {
        "RESOURCE_EXHAUSTED"
    } else {
        "INTERNAL"
    };
    assert_eq!(v["error"]["status"], name, "{v}");
}

fn plain_error(v: &Value, _status: u16) {
    assert!(v["error"].as_str().unwrap().starts_with("Chaos"), "{v}");
}

fn qdrant(v: &Value, _status: u16) {
    assert!(
        v["status"]["error"].as_str().unwrap().starts_with("Chaos"),
        "{v}"
    );
}

fn pinecone_control(v: &Value, status: u16) {
    assert_eq!(v["status"], status, "{v}");
    let code = if status == 429 {
        "RESOURCE_EXHAUSTED"
    } else {
        "INTERNAL"
    };
    assert_eq!(v["error"]["code"], code, "{v}");
}

fn pinecone_data(v: &Value, status: u16) {
    assert_eq!(v["code"], if status == 429 { 8 } else { 13 }, "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("Chaos"), "{v}");
}

fn chroma(v: &Value, status: u16) {
    let name = if status == 429 {
        "RateLimitError"
    } else {
        "InternalError"
    };
    assert_eq!(v["error"], name, "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("Chaos"), "{v}");
}

fn tavily(v: &Value, _status: u16) {
    assert!(
        v["detail"]["error"].as_str().unwrap().starts_with("Chaos"),
        "{v}"
    );
}

fn cohere(v: &Value, _status: u16) {
    assert!(v["id"].is_string(), "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("Chaos"), "{v}");
}

fn openai(v: &Value, status: u16) {
    let code = if status == 429 {
        "chaos_ratelimit"
    } else {
        "chaos_drop"
    };
    assert_eq!(v["error"]["code"], code, "{v}");
}

fn probes() -> Vec<Probe> {
    let probe = |service, method, path, body, envelope| Probe {
        service,
        method,
        path,
        body,
        envelope,
    };
    let agent_message =
        json!({"role": "ROLE_USER", "messageId": "m1", "parts": [{"text": "hello"}]});
    vec![
        probe(
            "mcp",
            Method::POST,
            "/mcp",
            Some(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}}),
            ),
            jsonrpc,
        ),
        probe(
            "a2a",
            Method::POST,
            "/a2a",
            Some(json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                "params": {"message": agent_message}})),
            jsonrpc,
        ),
        probe(
            "a2a",
            Method::POST,
            "/a2a/message:send",
            Some(json!({"message": agent_message})),
            google_rpc_status,
        ),
        probe(
            "agui",
            Method::POST,
            "/agui",
            Some(json!({"threadId": "t", "runId": "r", "messages": [
                {"id": "m1", "role": "user", "content": "hello"}]})),
            plain_error,
        ),
        probe(
            "vector",
            Method::POST,
            "/vector/collections/docs/points/search",
            Some(json!({"vector": [1.0, 0.0], "limit": 1})),
            qdrant,
        ),
        probe(
            "vector",
            Method::GET,
            "/vector/indexes",
            None,
            pinecone_control,
        ),
        probe(
            "vector",
            Method::POST,
            "/vector/query",
            Some(json!({"vector": [1.0, 0.0], "topK": 1})),
            pinecone_data,
        ),
        probe(
            "vector",
            Method::GET,
            "/vector/api/v2/heartbeat",
            None,
            chroma,
        ),
        probe(
            "search",
            Method::POST,
            "/search",
            Some(json!({"query": "weather"})),
            tavily,
        ),
        probe(
            "rerank",
            Method::POST,
            "/v2/rerank",
            Some(json!({"model": "rerank-v3.5", "query": "q", "documents": ["a", "b"]})),
            cohere,
        ),
        probe(
            "moderation",
            Method::POST,
            "/v1/moderations",
            Some(json!({"input": "hello"})),
            openai,
        ),
    ]
}

/// Every surface mounted, metrics on.
async fn server() -> MockServer {
    let a2a: A2aConfig = serde_json::from_value(json!({"agents": [
        {"name": "echo", "messages": [{"pattern": "hello", "parts": [{"text": "hi"}]}]}
    ]}))
    .unwrap();
    let agui: AguiConfig = serde_json::from_value(json!({"fixtures": [
        {"match": {"message": "hello"}, "text": "hi"}
    ]}))
    .unwrap();
    let vector: VectorConfig = serde_json::from_value(json!({"collections": [
        {"name": "docs", "dimension": 2, "vectors": [{"id": "a", "values": [1.0, 0.0]}]}
    ]}))
    .unwrap();
    MockServer::builder()
        .config(ServerConfig {
            metrics: true,
            ..ServerConfig::default()
        })
        .mcp(McpConfig::default())
        .a2a(a2a)
        .agui(agui)
        .vector(vector)
        .start()
        .await
}

async fn send(
    s: &MockServer,
    p: &Probe,
    header: (&str, &str),
) -> reqwest::Result<reqwest::Response> {
    let mut req = crate::support::client()
        .request(p.method.clone(), format!("{}{}", s.uri(), p.path))
        .header("accept", "application/json, text/event-stream")
        .header(header.0, header.1);
    if let Some(b) = &p.body {
        req = req.json(b);
    }
    req.send().await
}

/// The journal has one entry per probe with this chaos action, named after the probe's service,
/// at its path, with `status`.
async fn journaled(s: &MockServer, action: &str, status: u16) {
    let entries: Vec<Value> = journal(s)
        .await
        .into_iter()
        .filter(|e| e["response"]["chaosAction"] == action)
        .collect();
    let probes = probes();
    assert_eq!(entries.len(), probes.len(), "{entries:#?}");
    for (p, e) in probes.iter().zip(&entries) {
        assert_eq!(e["service"], p.service, "{e}");
        assert_eq!(e["path"], p.path, "{e}");
        assert_eq!(e["response"]["status"], status, "{e}");
    }
}

/// `aimock_chaos_triggered_total{action, source="internal"}` counts one per probe.
async fn counted(s: &MockServer, action: &str) {
    let text = crate::support::get_text(s, "/metrics").await;
    let want = format!(" {}", probes().len());
    assert!(
        text.lines().any(|l| {
            l.starts_with("aimock_chaos_triggered_total{")
                && l.contains(&format!("action=\"{action}\""))
                && l.contains("source=\"internal\"")
                && l.ends_with(&want)
        }),
        "{action}: {text}"
    );
}

/// Drop and rate limit: every probe answers `status` in its surface's envelope, a 429 with
/// `retry-after`; each is journaled and counted.
async fn refused_in_each_envelope(header: &str, action: &str, status: u16) {
    let s = server().await;
    for p in &probes() {
        let r = send(&s, p, (header, "1")).await.unwrap();
        assert_eq!(r.status(), status, "{}", p.path);
        if status == 429 {
            assert!(r.headers().contains_key("retry-after"), "{}", p.path);
        }
        let v: Value = r.json().await.unwrap();
        (p.envelope)(&v, status);
    }
    journaled(&s, action, status).await;
    counted(&s, action).await;
}

#[tokio::test]
async fn a_drop_answers_500_in_each_surfaces_own_envelope() {
    refused_in_each_envelope("x-aimock-chaos-drop", "drop", 500).await;
}

#[tokio::test]
async fn a_rate_limit_answers_429_with_retry_after_in_each_surfaces_own_envelope() {
    refused_in_each_envelope("x-aimock-chaos-ratelimit", "rateLimit", 429).await;
}

#[tokio::test]
async fn malformed_answers_200_with_a_body_that_is_not_json_on_every_surface() {
    let s = server().await;
    for p in &probes() {
        let r = send(&s, p, ("x-aimock-chaos-malformed", "1"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", p.path);
        let body = r.bytes().await.unwrap();
        assert!(
            serde_json::from_slice::<Value>(&body).is_err(),
            "{}: {body:?}",
            p.path
        );
    }
    journaled(&s, "malformed", 200).await;
    counted(&s, "malformed").await;
}

#[tokio::test]
async fn a_disconnect_cuts_the_connection_on_every_surface_and_journals_status_0() {
    let s = server().await;
    for p in &probes() {
        let failed = match send(&s, p, ("x-aimock-chaos-disconnect", "1")).await {
            Err(_) => true,
            Ok(r) => r.bytes().await.is_err(),
        };
        assert!(failed, "{}: the connection was not cut", p.path);
    }
    journaled(&s, "disconnect", 0).await;
    counted(&s, "disconnect").await;
}

#[tokio::test]
async fn latency_delays_every_surfaces_own_answer() {
    let s = server().await;
    for p in &probes() {
        let started = Instant::now();
        let r = send(&s, p, ("x-aimock-chaos-latency", "200"))
            .await
            .unwrap();
        let status = r.status().as_u16();
        r.bytes().await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{}: {:?}",
            p.path,
            started.elapsed()
        );
        // The service answered itself, only later.
        assert!(status < 500, "{}: {status}", p.path);
    }
    let entries = journal(&s).await;
    for p in &probes() {
        assert!(
            entries
                .iter()
                .any(|e| e["path"] == p.path && e["service"] == p.service),
            "{} not journaled: {entries:#?}",
            p.path
        );
    }
}
