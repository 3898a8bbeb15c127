//! `GET /health` as aimock answers it: `{"status": "ok"}` with no mounted service, and with
//! some `{"status": "ok", "services": {"llm": {...}, "<mount>": {...}}}`, each service with its
//! own counts; public when API keys are required; on a service's own port too.

use aimock::server::ServerConfig;
use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi"}},
  {"match": {"userMessage": "bye"}, "response": {"content": "Bye"}}
]}"#;

const KEY: &str = "sk-health-key";

fn services_config() -> ServerConfig {
    ServerConfig {
        api_keys: vec![KEY.to_owned()],
        mcp: vec![support::config(json!({
            "tools": [{"name": "a", "result": "x"}, {"name": "b", "result": "y"}, {"name": "c"}],
            "resources": [{"uri": "file:///r", "name": "r", "text": "r"}],
            "prompts": [{"name": "p"}, {"name": "q"}]
        }))],
        a2a: vec![support::config(json!({
            "agents": [{"name": "one"}, {"name": "two"}]
        }))],
        agui: vec![support::config(json!({
            "path": "/agents/ui",
            "port": 0,
            "fixtures": [{"text": "hi"}]
        }))],
        vector: vec![support::config(json!({
            "collections": [{"name": "docs", "dimension": 2}, {"name": "faq", "dimension": 2}]
        }))],
        ..ServerConfig::default()
    }
}

async fn health_at(url: &str) -> (u16, Value) {
    support::status_json(reqwest::get(url).await.unwrap()).await
}

#[tokio::test]
async fn without_mounts_health_is_status_ok_only() {
    let s = support::fixture_server(FIXTURES, "health.json").await;
    let (status, body) = health_at(&format!("{}/health", s.uri())).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn with_mounts_health_reports_every_service_with_aimocks_fields() {
    let s = support::start_with_fixtures(
        MockServer::builder().config(services_config()),
        FIXTURES,
        "health.json",
    )
    .await;
    // No key: /health stays public.
    let (status, body) = health_at(&format!("{}/health", s.uri())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "status": "ok",
            "services": {
                "llm": {"status": "ok", "fixtures": 2},
                "mcp": {"status": "ok", "tools": 3, "resources": 1, "prompts": 2, "sessions": 0},
                "a2a": {"status": "ok", "agents": 2, "tasks": 0},
                "agents/ui": {"status": "ok", "fixtures": 1},
                "vector": {"status": "ok", "collections": 2}
            }
        })
    );
    // Everything else still needs the key.
    let r = reqwest::get(format!("{}/__aimock/journal", s.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The counts follow the services' state: an MCP session, an A2A task, an added fixture.
    let http = reqwest::Client::new();
    let init = http
        .post(format!("{}/mcp", s.uri()))
        .bearer_auth(KEY)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    let added = http
        .post(format!("{}/__aimock/fixtures", s.uri()))
        .bearer_auth(KEY)
        .json(&json!({"fixtures": [{"match": {"userMessage": "x"}, "response": {"content": "y"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let (_, body) = health_at(&format!("{}/health", s.uri())).await;
    assert_eq!(body["services"]["mcp"]["sessions"], 1, "{body}");
    assert_eq!(body["services"]["llm"]["fixtures"], 3, "{body}");
}

#[tokio::test]
async fn a_service_on_its_own_port_answers_health_with_its_own_entry() {
    let s = MockServer::builder()
        .config(services_config())
        .start()
        .await;
    let (path, addr) = s.own_ports()[0].clone();
    assert_eq!(path, "/agents/ui");
    let (status, body) = health_at(&format!("http://{addr}/health")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "status": "ok",
            "services": {
                "llm": {"status": "ok", "fixtures": 0},
                "agents/ui": {"status": "ok", "fixtures": 1}
            }
        })
    );
    let (status, body) = health_at(&format!("http://{addr}/ready")).await;
    assert_eq!((status, body), (200, json!({"status": "ready"})));
}
