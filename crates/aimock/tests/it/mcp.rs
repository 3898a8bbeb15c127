//! The MCP server over raw HTTP (Streamable HTTP transport): the session lifecycle, protocol
//! version negotiation and headers, batches, JSON and SSE answers, the GET stream's
//! notifications after control-API changes, subscriptions, progress, logging, pagination,
//! argument matching, reply sequences, errors, two mounts, a port of its own, the journal and
//! reset.

use std::time::Duration;

use aimock::config::McpConfig;
use aimock::mcp::McpServer;
use aimock::MockServer;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use serde_json::{json, Value};

use crate::support::{self, mcp_url};

const BOTH: &str = "application/json, text/event-stream";

fn config(v: Value) -> McpConfig {
    support::config(v)
}

fn main_config() -> McpConfig {
    config(json!({
        "serverInfo": {"name": "test-mcp", "version": "9.9.9"},
        "instructions": "be nice",
        "pageSize": 2,
        "tools": [
            {"name": "echo", "description": "Echo", "inputSchema": {"type": "object"}, "result": "hello"},
            {"name": "weather", "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
             "replies": [
                {"match": {"exact": {"city": "Paris"}}, "result": "sunny"},
                {"match": {"subset": {"where": {"city": "Oslo"}}}, "result": [{"type": "text", "text": "snow"}]},
                {"match": {"regex": {"city": "^Lon"}}, "isError": true, "result": "rain"},
                {"match": {"exact": {"city": "Nowhere"}}, "error": {"code": -32010, "message": "no such city", "data": {"x": 1}}}
             ],
             "result": {"content": [{"type": "text", "text": "{\"t\":20}"}], "structuredContent": {"t": 20}}},
            {"name": "counter", "results": ["one", "two", "three"]},
            {"name": "media", "result": [
                {"type": "image", "data": "aW1n", "mimeType": "image/png"},
                {"type": "audio", "data": "YXVk", "mimeType": "audio/wav"},
                {"type": "resource_link", "uri": "file:///a.txt", "name": "a"},
                {"type": "resource", "resource": {"uri": "file:///b.txt", "text": "bee", "mimeType": "text/plain"}}
            ]},
            {"name": "slow", "result": "done", "delayMs": 20,
             "progress": [{"progress": 1, "total": 2, "message": "half", "delayMs": 10}, {"progress": 2, "total": 2}],
             "logs": [{"level": "debug", "data": "dbg"}, {"level": "warning", "logger": "slow", "data": {"w": 1}}]}
        ],
        "resources": [
            {"uri": "file:///readme.md", "name": "readme", "mimeType": "text/markdown", "text": "# Hi"},
            {"uri": "file:///logo.png", "name": "logo", "mimeType": "image/png", "blob": "iVBORw0KGgo="}
        ],
        "resourceTemplates": [
            {"uriTemplate": "file:///logs/{day}", "name": "logs", "mimeType": "text/plain", "text": "log of {day}"}
        ],
        "prompts": [
            {"name": "greet", "description": "Greeting", "arguments": [{"name": "who", "required": true}],
             "result": {"messages": [{"role": "user", "content": {"type": "text", "text": "Hello {{who}}"}}]}}
        ],
        "completions": [
            {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": "who", "values": ["alice", "albert", "bob"]}
        ]
    }))
}

async fn server() -> MockServer {
    MockServer::builder().mcp(main_config()).start().await
}

/// A raw answer.
struct Answer {
    status: u16,
    content_type: String,
    session: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    /// The messages of an SSE body, in order.
    fn events(&self) -> Vec<Value> {
        support::sse::json(&self.text)
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
}

impl Client {
    fn new(url: String) -> Client {
        Client {
            http: reqwest::Client::new(),
            url,
            session: None,
        }
    }

    async fn send(&self, body: &str, accept: &str, extra: &[(&str, &str)]) -> Answer {
        let mut rb = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(body.to_owned());
        if let Some(s) = &self.session {
            rb = rb.header("mcp-session-id", s);
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let session = r
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        Answer {
            status,
            content_type,
            session,
            text,
        }
    }

    async fn post(&self, body: &Value) -> Answer {
        self.send(&body.to_string(), BOTH, &[]).await
    }

    /// Initialize (at 2025-11-25) and send `notifications/initialized`.
    async fn init(&mut self) -> Value {
        self.init_at("2025-11-25").await
    }

    /// Initialize at `version` and send `notifications/initialized`.
    async fn init_at(&mut self, version: &str) -> Value {
        let a = self
            .post(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        self.session = Some(a.session.clone().expect("a session id"));
        let n = self
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(n.status, 202);
        assert!(n.text.is_empty());
        a.json()["result"].clone()
    }

    /// One request; its JSON-RPC answer (from a JSON body or the last SSE event).
    async fn rpc(&self, method: &str, params: Value) -> Value {
        let a = self
            .post(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let v = if a.content_type.starts_with("text/event-stream") {
            a.events().pop().unwrap()
        } else {
            a.json()
        };
        assert_eq!(v["id"], 7);
        v
    }

    async fn result(&self, method: &str, params: Value) -> Value {
        let v = self.rpc(method, params).await;
        assert!(v.get("error").is_none(), "{v}");
        v["result"].clone()
    }

    /// Open the GET stream.
    async fn stream(&self) -> Stream {
        let r = self
            .http
            .get(&self.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", self.session.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Stream::new(r)
    }
}

/// The GET stream.
struct Stream(support::sse::Reader<BoxStream<'static, reqwest::Result<Bytes>>>);

impl Stream {
    fn new(r: reqwest::Response) -> Stream {
        Stream(support::sse::Reader::new(r.bytes_stream().boxed()))
    }

    /// The next message on the stream (fails after a generous wait).
    async fn next(&mut self) -> Value {
        loop {
            let event = self.0.next().await.expect("the stream is still open");
            if event.data.is_some() {
                return event.json();
            }
        }
    }
}

async fn control(
    s: &MockServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = support::client().request(method, format!("{}/__aimock/mcp{path}", s.uri()));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn session_lifecycle_and_version_negotiation() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    let r = c.init().await;
    assert_eq!(r["protocolVersion"], "2025-11-25");
    assert_eq!(
        r["serverInfo"],
        json!({"name": "test-mcp", "version": "9.9.9"})
    );
    assert_eq!(r["instructions"], "be nice");
    let caps = &r["capabilities"];
    assert_eq!(caps["tools"]["listChanged"], true);
    assert_eq!(
        caps["resources"],
        json!({"subscribe": true, "listChanged": true})
    );
    assert_eq!(caps["prompts"]["listChanged"], true);
    assert!(caps["logging"].is_object() && caps["completions"].is_object());
    assert_eq!(c.result("ping", json!({})).await, json!({}));

    // Each older revision is answered in kind; an unknown one gets our latest.
    for (asked, got) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let a = Client::new(mcp_url(&s))
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
            .await;
        assert_eq!(a.json()["result"]["protocolVersion"], got);
        assert!(a.session.is_some());
    }

    // A bad initialize opens no session.
    let a = Client::new(mcp_url(&s))
        .post(&json!({"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": {}}))
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], -32602);
    assert_eq!(a.json()["id"], 9);
    assert!(a.session.is_none());

    // No session header: 400; an unknown one: 404.
    let mut other = Client::new(mcp_url(&s));
    let a = other
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], -32000);
    other.session = Some("nope".into());
    let a = other
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["message"], "Session not found");

    // A handshake-era MCP-Protocol-Version passes.
    let a = c
        .send(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            BOTH,
            &[("mcp-protocol-version", "2025-06-18")],
        )
        .await;
    assert_eq!(a.status, 200);
    // An unknown one: 400 naming the revisions we speak (POST and GET).
    let a = c
        .send(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            BOTH,
            &[("mcp-protocol-version", "1999-01-01")],
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], -32022);
    assert_eq!(a.json()["error"]["data"]["requested"], "1999-01-01");
    let g = reqwest::Client::new()
        .get(mcp_url(&s))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", c.session.as_deref().unwrap())
        .header("mcp-protocol-version", "1999-01-01")
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 400);

    // DELETE ends the session; then it is unknown.
    let http = reqwest::Client::new();
    let sid = c.session.clone().unwrap();
    assert_eq!(s.mcp(None).unwrap().sessions().len(), 5);
    let d = http
        .delete(mcp_url(&s))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), 200);
    assert!(!s.mcp(None).unwrap().sessions().contains(&sid));
    let a = c
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(a.status, 404);
    let d = http
        .delete(mcp_url(&s))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), 404);
    let d = http.delete(mcp_url(&s)).send().await.unwrap();
    assert_eq!(d.status(), 400);
    // GET without accepting SSE: 406; other methods: 405.
    let g = http
        .get(mcp_url(&s))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 406);
    let p = http.put(mcp_url(&s)).send().await.unwrap();
    assert_eq!(p.status(), 405);
}

#[tokio::test]
async fn batches_and_notification_only_posts() {
    let s = server().await;
    // Batches are part of 2025-03-26 (and 2024-11-05); 2025-06-18 removed them.
    let mut c = Client::new(mcp_url(&s));
    c.init_at("2025-03-26").await;
    let a = c
        .post(&json!([
            {"jsonrpc": "2.0", "id": "a", "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}},
            {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "echo"}},
            {"jsonrpc": "2.0", "id": "c", "method": "nope"}
        ]))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.content_type.starts_with("application/json"));
    let v = a.json();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0], json!({"jsonrpc": "2.0", "id": "a", "result": {}}));
    assert_eq!(arr[1]["result"]["content"][0]["text"], "hello");
    assert_eq!(arr[2]["error"]["code"], -32601);

    let a = c
        .post(&json!([
            {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
            {"jsonrpc": "2.0", "id": 5, "result": {}}
        ]))
        .await;
    assert_eq!(a.status, 202);
    assert!(a.text.is_empty());
    // A notification that is not valid JSON-RPC is refused with an HTTP error, not 202.
    let a = c
        .post(&json!({"jsonrpc": "1.0", "method": "notifications/initialized"}))
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json()["error"]["code"], -32600);
    // A batch whose call notifies: one SSE stream, each answer an event of its own.
    let a = c
        .post(&json!([
            {"jsonrpc": "2.0", "id": "s", "method": "tools/call",
             "params": {"name": "slow", "_meta": {"progressToken": 1}}},
            {"jsonrpc": "2.0", "id": "p", "method": "ping"}
        ]))
        .await;
    assert!(a.content_type.starts_with("text/event-stream"));
    let ids: Vec<Value> = a
        .events()
        .iter()
        .filter(|e| e.get("method").is_none())
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(ids, [json!("s"), json!("p")]);
    let a = c.post(&json!([])).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], -32600);

    // From 2025-06-18 on, a POST carries one message: a batch is an invalid request, whether
    // the session or the `MCP-Protocol-Version` header names the revision.
    let two_pings = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    ])
    .to_string();
    let a = c
        .send(&two_pings, BOTH, &[("mcp-protocol-version", "2025-06-18")])
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json()["error"]["code"], -32600);
    for version in ["2025-06-18", "2025-11-25"] {
        let mut c = Client::new(mcp_url(&s));
        c.init_at(version).await;
        let a = c.send(&two_pings, BOTH, &[]).await;
        assert_eq!(a.status, 400, "{version}: {}", a.text);
        assert_eq!(a.json()["error"]["code"], -32600);
        assert_eq!(a.json()["id"], Value::Null);
        // One message at a time still works.
        assert_eq!(c.result("ping", json!({})).await, json!({}));
    }
    // A batched initialize proposing a batch-less revision opens no session.
    let a = Client::new(mcp_url(&s))
        .post(&json!([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}]))
        .await;
    assert_eq!(a.status, 400);
    assert!(a.session.is_none());
}

#[tokio::test]
async fn json_or_sse_by_accept_and_progress_and_logs() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "slow", "arguments": {}, "_meta": {"progressToken": "tok"}}});

    // Accepting both, a call that notifies is answered as SSE: logs, progress, then the result,
    // after the configured delays (10 ms before the first progress, 20 ms before the result).
    let started = std::time::Instant::now();
    let a = c.post(&call).await;
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(a.status, 200);
    assert!(
        a.content_type.starts_with("text/event-stream"),
        "{}",
        a.content_type
    );
    let ev = a.events();
    let methods: Vec<&str> = ev
        .iter()
        .map(|e| e["method"].as_str().unwrap_or("result"))
        .collect();
    assert_eq!(
        methods,
        [
            "notifications/message",
            "notifications/message",
            "notifications/progress",
            "notifications/progress",
            "result"
        ]
    );
    assert_eq!(
        ev[1]["params"],
        json!({"level": "warning", "logger": "slow", "data": {"w": 1}})
    );
    assert_eq!(
        ev[2]["params"],
        json!({"progressToken": "tok", "progress": 1.0, "total": 2.0, "message": "half"})
    );
    assert_eq!(ev[3]["params"]["progress"], 2.0);
    assert_eq!(ev[4]["id"], 3);
    assert_eq!(ev[4]["result"]["content"][0]["text"], "done");

    // logging/setLevel filters: only warning and above.
    c.result("logging/setLevel", json!({"level": "warning"}))
        .await;
    let ev = c.post(&call).await.events();
    assert_eq!(
        ev.iter()
            .filter(|e| e["method"] == "notifications/message")
            .count(),
        1
    );
    let bad = c.rpc("logging/setLevel", json!({"level": "loud"})).await;
    assert_eq!(bad["error"]["code"], -32602);

    // A call that raises nothing is plain JSON.
    let a = c
        .post(
            &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "echo"}}),
        )
        .await;
    assert!(a.content_type.starts_with("application/json"));
    // Accepting only SSE: SSE even so.
    let a = c
        .send(
            r#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#,
            "text/event-stream",
            &[],
        )
        .await;
    assert!(a.content_type.starts_with("text/event-stream"));
    assert_eq!(
        a.events(),
        [json!({"jsonrpc": "2.0", "id": 4, "result": {}})]
    );

    // Accepting only JSON, the notifications go to the GET stream and the answer is JSON.
    let mut stream = c.stream().await;
    let a = c.send(&call.to_string(), "application/json", &[]).await;
    assert!(a.content_type.starts_with("application/json"));
    assert_eq!(a.json()["result"]["content"][0]["text"], "done");
    assert_eq!(stream.next().await["method"], "notifications/message");
    assert_eq!(stream.next().await["params"]["progress"], 1.0);
    // Accepting neither: 406.
    let a = c.send(&call.to_string(), "text/html", &[]).await;
    assert_eq!(a.status, 406);
}

#[tokio::test]
async fn the_get_stream_gets_list_changed_after_control_changes() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let mut stream = c.stream().await;
    // A second session gets its own copy of each change.
    let mut other = Client::new(mcp_url(&s));
    other.init().await;
    let mut other_stream = other.stream().await;

    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "added", "result": "new"})),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        stream.next().await,
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    );
    assert_eq!(
        other_stream.next().await["method"],
        "notifications/tools/list_changed"
    );
    let r = c.result("tools/call", json!({"name": "added"})).await;
    assert_eq!(r["content"][0]["text"], "new");

    let (st, _) = control(&s, reqwest::Method::DELETE, "/tools/added", None).await;
    assert_eq!(st, 200);
    assert_eq!(
        stream.next().await["method"],
        "notifications/tools/list_changed"
    );
    let r = c.rpc("tools/call", json!({"name": "added"})).await;
    assert_eq!(r["error"]["code"], -32602);
    let (st, _) = control(&s, reqwest::Method::DELETE, "/tools/added", None).await;
    assert_eq!(st, 404);

    control(
        &s,
        reqwest::Method::POST,
        "/prompts",
        Some(json!({"name": "p2"})),
    )
    .await;
    assert_eq!(
        stream.next().await["method"],
        "notifications/prompts/list_changed"
    );
    control(
        &s,
        reqwest::Method::POST,
        "/resources",
        Some(json!({"uri": "mem://x", "text": "x"})),
    )
    .await;
    assert_eq!(
        stream.next().await["method"],
        "notifications/resources/list_changed"
    );
    control(
        &s,
        reqwest::Method::DELETE,
        "/resources?uri=mem%3A%2F%2Fx",
        None,
    )
    .await;
    assert_eq!(
        stream.next().await["method"],
        "notifications/resources/list_changed"
    );

    // The Rust API does the same.
    let m = s.mcp(None).unwrap();
    assert!(m.remove_prompt("p2"));
    assert_eq!(
        stream.next().await["method"],
        "notifications/prompts/list_changed"
    );

    // A bad tool is refused naming the field.
    let (st, body) = control(
        &s,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "bad", "result": [{"type": "video"}]})),
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        body["error"].as_str().unwrap().contains("result[0].type"),
        "{body}"
    );
}

#[tokio::test]
async fn subscriptions_get_resource_updates() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let mut stream = c.stream().await;
    c.result("resources/subscribe", json!({"uri": "file:///readme.md"}))
        .await;
    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///readme.md", "text": "# Changed"})),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        stream.next().await,
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "file:///readme.md"}})
    );
    let r = c
        .result("resources/read", json!({"uri": "file:///readme.md"}))
        .await;
    assert_eq!(r["contents"][0]["text"], "# Changed");

    // Unsubscribed: the next update is not sent (the next message is the list change after it).
    c.result("resources/unsubscribe", json!({"uri": "file:///readme.md"}))
        .await;
    assert!(s
        .mcp(None)
        .unwrap()
        .update_resource("file:///readme.md", Some("again".into()), None));
    s.mcp(None)
        .unwrap()
        .add_tool(config(json!({"tools": [{"name": "z"}]})).tools.remove(0))
        .unwrap();
    assert_eq!(
        stream.next().await["method"],
        "notifications/tools/list_changed"
    );
    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///none", "text": "x"})),
    )
    .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn lists_page_by_page_size() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = match &cursor {
            Some(cur) => json!({"cursor": cur}),
            None => json!({}),
        };
        let r = c.result("tools/list", params).await;
        pages += 1;
        let tools = r["tools"].as_array().unwrap();
        assert!(tools.len() <= 2);
        names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        match r.get("nextCursor").and_then(Value::as_str) {
            Some(n) => cursor = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["echo", "weather", "counter", "media", "slow"]);
    let first = c.result("tools/list", json!({})).await;
    assert_eq!(first["tools"][0]["inputSchema"], json!({"type": "object"}));
    assert_eq!(first["tools"][0]["description"], "Echo");
    let bad = c.rpc("tools/list", json!({"cursor": "zzz"})).await;
    assert_eq!(bad["error"]["code"], -32602);
    let r = c.result("resources/list", json!({})).await;
    assert_eq!(r["resources"].as_array().unwrap().len(), 2);
    assert!(r.get("nextCursor").is_none());
    let r = c.result("resources/templates/list", json!({})).await;
    assert_eq!(
        r["resourceTemplates"][0]["uriTemplate"],
        "file:///logs/{day}"
    );
}

#[tokio::test]
async fn tool_replies_by_arguments_sequences_and_content() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let call = |args: Value| {
        let c = &c;
        async move {
            c.rpc("tools/call", json!({"name": "weather", "arguments": args}))
                .await
        }
    };
    assert_eq!(
        call(json!({"city": "Paris"})).await["result"]["content"][0]["text"],
        "sunny"
    );
    // Exact means exact: an extra argument falls through to the default reply.
    let d = call(json!({"city": "Paris", "unit": "C"})).await["result"].clone();
    assert_eq!(d["structuredContent"], json!({"t": 20}));
    assert_eq!(d["isError"], false);
    assert_eq!(
        call(json!({"where": {"city": "Oslo", "zip": 1}, "x": 2})).await["result"]["content"][0]
            ["text"],
        "snow"
    );
    let r = call(json!({"city": "London"})).await["result"].clone();
    assert_eq!(r["isError"], true);
    assert_eq!(r["content"][0]["text"], "rain");
    let e = call(json!({"city": "Nowhere"})).await;
    assert_eq!(
        e["error"],
        json!({"code": -32010, "message": "no such city", "data": {"x": 1}})
    );

    let mut seq = Vec::new();
    for _ in 0..4 {
        let r = c.result("tools/call", json!({"name": "counter"})).await;
        seq.push(r["content"][0]["text"].as_str().unwrap().to_owned());
    }
    assert_eq!(seq, ["one", "two", "three", "three"]);

    let m = c.result("tools/call", json!({"name": "media"})).await;
    let types: Vec<&str> = m["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["image", "audio", "resource_link", "resource"]);
    assert_eq!(m["content"][3]["resource"]["text"], "bee");
}

#[tokio::test]
async fn resources_prompts_and_completion() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let r = c
        .result("resources/read", json!({"uri": "file:///logo.png"}))
        .await;
    assert_eq!(
        r["contents"][0],
        json!({"uri": "file:///logo.png", "mimeType": "image/png", "blob": "iVBORw0KGgo="})
    );
    let r = c
        .result("resources/read", json!({"uri": "file:///logs/monday"}))
        .await;
    assert_eq!(r["contents"][0]["text"], "log of monday");
    let e = c
        .rpc("resources/read", json!({"uri": "file:///missing"}))
        .await;
    assert_eq!(e["error"]["code"], -32002);

    let p = c.result("prompts/list", json!({})).await;
    assert_eq!(p["prompts"][0]["arguments"][0]["name"], "who");
    let g = c
        .result(
            "prompts/get",
            json!({"name": "greet", "arguments": {"who": "Ada"}}),
        )
        .await;
    assert_eq!(g["messages"][0]["content"]["text"], "Hello Ada");
    assert_eq!(g["description"], "Greeting");
    let e = c.rpc("prompts/get", json!({"name": "greet"})).await;
    assert_eq!(e["error"]["code"], -32602);
    let e = c.rpc("prompts/get", json!({"name": "nope"})).await;
    assert_eq!(e["error"]["code"], -32602);

    let r = c
        .result(
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "greet"},
            "argument": {"name": "who", "value": "al"}}),
        )
        .await;
    assert_eq!(
        r["completion"],
        json!({"values": ["alice", "albert"], "total": 2, "hasMore": false})
    );
    let r = c
        .result(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "x"},
            "argument": {"name": "who", "value": ""}}),
        )
        .await;
    assert_eq!(r["completion"]["values"], json!([]));
}

#[tokio::test]
async fn protocol_errors() {
    let s = server().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let a = c.send("{not json", BOTH, &[]).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], -32700);
    assert_eq!(a.json()["id"], Value::Null);
    let a = c.post(&json!({"id": 1, "method": "ping"})).await;
    assert_eq!(a.json()["error"]["code"], -32600);
    let a = c.post(&json!({"jsonrpc": "2.0", "id": 1})).await;
    assert_eq!(a.json()["error"]["code"], -32600);
    let a = c
        .post(&json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}))
        .await;
    assert_eq!(a.json()["error"]["code"], -32600);
    let a = c.post(&json!(42)).await;
    assert_eq!(a.json()["error"]["code"], -32600);
    assert_eq!(c.rpc("nope/nope", json!({})).await["error"]["code"], -32601);
    assert_eq!(
        c.rpc("tools/call", json!({})).await["error"]["code"],
        -32602
    );
    assert_eq!(
        c.rpc("tools/call", json!({"name": "echo", "arguments": [1]}))
            .await["error"]["code"],
        -32602
    );
    assert_eq!(
        c.rpc("tools/call", json!({"name": "ghost"})).await["error"]["code"],
        -32602
    );
    let a = c
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]}))
        .await;
    assert_eq!(a.json()["error"]["code"], -32602);
    // Below the endpoint: 404.
    let r = reqwest::Client::new()
        .post(format!("{}/mcp/tools/list", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn a_bad_config_is_refused_naming_the_field() {
    let bad = |v: Value| McpServer::new(config(v)).expect_err("refused");
    let e =
        bad(json!({"tools": [{"name": "t", "replies": [{"match": {"regex": {"city": "(["}}}]}]}));
    assert!(e.contains("tools[0].replies[0].match.regex.city"), "{e}");
    let e = bad(
        json!({"tools": [{"name": "t", "result": [{"type": "text", "text": "a"}, {"type": "video"}]}]}),
    );
    assert!(e.contains("tools[0].result[1].type"), "{e}");
    let e = bad(json!({"tools": [{"name": "t", "logs": [{"level": "loud", "data": 1}]}]}));
    assert!(e.contains("tools[0].logs[0].level"), "{e}");
    let e = bad(json!({"tools": [{"name": "t"}, {"name": "t"}]}));
    assert!(e.contains("tools[1].name"), "{e}");
    let e = bad(
        json!({"prompts": [{"name": "p", "result": {"messages": [{"role": "bot", "content": {"type": "text", "text": "x"}}]}}]}),
    );
    assert!(e.contains("prompts[0].result.messages[0].role"), "{e}");
    let e = bad(json!({"completions": [{"ref": {"type": "ref/x"}, "argument": "a"}]}));
    assert!(e.contains("completions[0].ref"), "{e}");
    let e = bad(json!({"resourceTemplates": [{"uriTemplate": "x://{a"}]}));
    assert!(e.contains("resourceTemplates[0].uriTemplate"), "{e}");
    let e = bad(
        json!({"tools": [{"name": "t", "inputSchema": {"type": "object", "properties": {"city": {"type": "strng"}}}}]}),
    );
    assert!(
        e.contains("tools[0].inputSchema.properties.city.type"),
        "{e}"
    );
    let e = bad(json!({"tools": [{"name": "t", "inputSchema": {"type": "array"}}]}));
    assert!(e.contains("tools[0].inputSchema.type"), "{e}");
    assert!(McpServer::new(main_config()).is_ok());
}

#[tokio::test]
async fn two_mounts_and_control_by_path() {
    let s = MockServer::builder()
        .mcp(main_config())
        .mcp(config(
            json!({"path": "/mcp2", "tools": [{"name": "only2", "result": "two"}]}),
        ))
        .start()
        .await;
    let mut c1 = Client::new(mcp_url(&s));
    c1.init().await;
    let mut c2 = Client::new(format!("{}/mcp2", s.uri()));
    c2.init().await;
    let t2 = c2.result("tools/list", json!({})).await;
    assert_eq!(t2["tools"].as_array().unwrap().len(), 1);
    // A session of one mount is unknown to the other.
    let mut cross = Client::new(format!("{}/mcp2", s.uri()));
    cross.session = c1.session.clone();
    assert_eq!(
        cross
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .await
            .status,
        404
    );

    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/tools?path=/mcp2",
        Some(json!({"name": "x2", "result": "y"})),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        c2.result("tools/list", json!({})).await["tools"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(c1
        .rpc("tools/call", json!({"name": "x2"}))
        .await
        .get("error")
        .is_some());
    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/tools?path=/nowhere",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(st, 404);
    let (st, summary) = control(&s, reqwest::Method::GET, "?path=%2Fmcp2", None).await;
    assert_eq!(st, 200);
    assert_eq!(summary["tools"], json!(["only2", "x2"]));
    let list = summary["sessionList"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"].as_str(), c2.session.as_deref());
    assert_eq!(list[0]["protocolVersion"], "2025-11-25");
    assert_eq!(list[0]["initialized"], true);
    assert_eq!(list[0]["clientInfo"]["name"], "t");
}

#[tokio::test]
async fn a_port_of_its_own() {
    let s = MockServer::builder()
        .mcp(config(
            json!({"port": 0, "tools": [{"name": "t", "result": "own"}]}),
        ))
        .start()
        .await;
    let (_, addr) = s.own_ports()[0];
    for url in [format!("http://{addr}"), format!("http://{addr}/mcp")] {
        let mut c = Client::new(url);
        c.init().await;
        let r = c.result("tools/call", json!({"name": "t"})).await;
        assert_eq!(r["content"][0]["text"], "own");
    }
}

#[tokio::test]
async fn journal_metrics_and_reset() {
    let cfg = aimock::server::ServerConfig {
        metrics: true,
        mcp: vec![main_config()],
        ..Default::default()
    };
    let s = MockServer::builder().config(cfg).start().await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    c.result("tools/call", json!({"name": "counter"})).await;
    let _ = c.send("garbage", BOTH, &[]).await;
    let entries: Vec<_> = s
        .journal()
        .into_iter()
        .filter(|e| e.service == Some("mcp"))
        .collect();
    assert_eq!(entries.len(), 4);
    let methods: Vec<String> = entries
        .iter()
        .map(|e| match &e.body {
            aimock::journal::JournalBody::Json(v) => v["method"].as_str().unwrap_or("").to_owned(),
            _ => "-".to_owned(),
        })
        .collect();
    assert_eq!(
        methods,
        ["initialize", "notifications/initialized", "tools/call", "-"]
    );
    assert_eq!(entries[1].response.status, 202);
    assert_eq!(entries[3].response.status, 400);
    let j: Value = reqwest::get(format!("{}/__aimock/journal?service=mcp", s.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j.as_array().map(Vec::len).unwrap_or(0), 4, "{j}");
    // A made-up method is counted as `unknown`: clients cannot add labels without bound.
    let r = c.rpc("made/up/1234", json!({})).await;
    assert_eq!(r["error"]["code"], -32601);

    let metrics = support::get_text(&s, "/metrics").await;
    for m in ["initialize", "tools/call", "unknown"] {
        assert!(
            metrics.contains(&format!("method=\"{m}\"")),
            "{m} in {metrics}"
        );
    }
    assert!(!metrics.contains("made/up"), "{metrics}");

    // Reset: sessions, run-time changes and sequence positions go.
    s.mcp(None)
        .unwrap()
        .add_tool(config(json!({"tools": [{"name": "temp"}]})).tools.remove(0))
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/__aimock/reset", s.uri()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        c.post(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .await
            .status,
        404
    );
    c.init().await;
    let r = c.result("tools/call", json!({"name": "counter"})).await;
    assert_eq!(r["content"][0]["text"], "one");
    assert!(c
        .rpc("tools/call", json!({"name": "temp"}))
        .await
        .get("error")
        .is_some());
    s.reset();
    assert!(s.mcp(None).unwrap().sessions().is_empty());
}

/// A 2026-07-28 request: the envelope in `_meta` and the routing headers.
async fn modern(
    url: &str,
    method: &str,
    params: Value,
    accept: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let mut params = params;
    let meta = params
        .as_object_mut()
        .unwrap()
        .entry("_meta")
        .or_insert_with(|| json!({}));
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2026-07-28");
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    meta["io.modelcontextprotocol/clientInfo"] = json!({"name": "raw", "version": "1"});
    let mut headers: Vec<(&str, String)> = vec![
        ("mcp-protocol-version", "2026-07-28".into()),
        ("mcp-method", method.into()),
    ];
    if let Some(n) = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
    {
        headers.push(("mcp-name", n.to_owned()));
    }
    for (k, v) in extra {
        headers.retain(|(hk, _)| hk != k);
        headers.push((k, (*v).to_owned()));
    }
    let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = json!({"jsonrpc": "2.0", "id": 11, "method": method, "params": params});
    Client::new(url.to_owned())
        .send(&body.to_string(), accept, &hs)
        .await
}

#[tokio::test]
async fn the_2026_revision_is_stateless_with_discover() {
    let s = server().await;
    let url = mcp_url(&s);
    let a = modern(&url, "server/discover", json!({}), BOTH, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.session.is_none(), "no session at 2026-07-28");
    let r = &a.json()["result"];
    assert!(r["supportedVersions"]
        .as_array()
        .unwrap()
        .contains(&json!("2026-07-28")));
    assert!(r["supportedVersions"]
        .as_array()
        .unwrap()
        .contains(&json!("2025-11-25")));
    assert_eq!(r["resultType"], "complete");
    assert_eq!(
        (r["ttlMs"].clone(), r["cacheScope"].clone()),
        (json!(0), json!("private"))
    );
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "test-mcp"
    );
    assert_eq!(r["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(r["instructions"], "be nice");

    // No session needed for anything.
    let a = modern(&url, "tools/list", json!({}), BOTH, &[]).await;
    let r = &a.json()["result"];
    assert_eq!(r["tools"].as_array().unwrap().len(), 2);
    assert_eq!(r["nextCursor"], "2");
    assert_eq!(r["resultType"], "complete");
    let a = modern(
        &url,
        "tools/call",
        json!({"name": "weather", "arguments": {"city": "Paris"}}),
        BOTH,
        &[],
    )
    .await;
    let r = &a.json()["result"];
    assert_eq!(r["content"][0]["text"], "sunny");
    assert_eq!(r["resultType"], "complete");
    assert!(r.get("ttlMs").is_none());
    let a = modern(
        &url,
        "resources/read",
        json!({"uri": "file:///readme.md"}),
        BOTH,
        &[],
    )
    .await;
    assert_eq!(a.json()["result"]["contents"][0]["text"], "# Hi");
    // 2026-07-28 retired -32002: a missing resource is invalid params (HTTP 400).
    let a = modern(
        &url,
        "resources/read",
        json!({"uri": "file:///nope"}),
        BOTH,
        &[],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!(-32602))
    );
    let a = modern(
        &url,
        "prompts/get",
        json!({"name": "greet", "arguments": {"who": "Bo"}}),
        BOTH,
        &[],
    )
    .await;
    assert_eq!(
        a.json()["result"]["messages"][0]["content"]["text"],
        "Hello Bo"
    );

    // Logs only at or above the request's own level, none without one; progress by token.
    let call = json!({"name": "slow", "_meta": {"progressToken": 5, "io.modelcontextprotocol/logLevel": "warning"}});
    let a = modern(&url, "tools/call", call, BOTH, &[]).await;
    assert!(a.content_type.starts_with("text/event-stream"));
    let ev = a.events();
    let methods: Vec<&str> = ev
        .iter()
        .map(|e| e["method"].as_str().unwrap_or("result"))
        .collect();
    assert_eq!(
        methods,
        [
            "notifications/message",
            "notifications/progress",
            "notifications/progress",
            "result"
        ]
    );
    assert_eq!(ev[3]["result"]["resultType"], "complete");
    let a = modern(&url, "tools/call", json!({"name": "slow"}), BOTH, &[]).await;
    assert!(
        a.content_type.starts_with("application/json"),
        "no logs without a level, no progress without a token"
    );

    // Removed methods, the envelope checks, batches and notifications.
    let a = modern(&url, "ping", json!({}), BOTH, &[]).await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (404, json!(-32601))
    );
    let a = modern(
        &url,
        "initialize",
        json!({"protocolVersion": "2026-07-28"}),
        BOTH,
        &[],
    )
    .await;
    assert_eq!(a.json()["error"]["code"], -32601);
    let a = modern(
        &url,
        "tools/list",
        json!({}),
        BOTH,
        &[("mcp-method", "prompts/list")],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!(-32020))
    );
    let a = modern(
        &url,
        "tools/call",
        json!({"name": "echo"}),
        BOTH,
        &[("mcp-name", "other")],
    )
    .await;
    assert_eq!(a.json()["error"]["code"], -32020);
    let a = modern(
        &url,
        "tools/call",
        json!({"name": "echo"}),
        BOTH,
        &[("mcp-name", "=?base64?ZWNobw==?=")],
    )
    .await;
    assert_eq!(a.status, 200, "a base64 Mcp-Name decodes: {}", a.text);
    let c = Client::new(url.clone());
    let hs = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/list"),
    ];
    let a = c
        .send(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#,
            BOTH,
            &hs,
        )
        .await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!(-32602))
    );
    let a = c
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            BOTH, &[("mcp-protocol-version", "2099-01-01"), ("mcp-method", "tools/list")])
        .await;
    assert_eq!(a.status, 400);
    let e = &a.json()["error"];
    assert_eq!(e["code"], -32022);
    assert_eq!(e["data"]["requested"], "2099-01-01");
    assert!(e["data"]["supported"]
        .as_array()
        .unwrap()
        .contains(&json!("2026-07-28")));
    let a = c
        .send(
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#,
            BOTH,
            &hs,
        )
        .await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!(-32600))
    );
    let a = c
        .send(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{}}"#,
            BOTH,
            &hs,
        )
        .await;
    assert_eq!(a.status, 202);
    let g = reqwest::Client::new()
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 405);
    assert!(s.mcp(None).unwrap().sessions().is_empty());
}

#[tokio::test]
async fn subscriptions_listen_streams_the_changes_asked_for() {
    let s = server().await;
    let url = mcp_url(&s);
    let mut params = json!({"notifications": {"toolsListChanged": true, "promptsListChanged": false,
        "resourceSubscriptions": ["file:///readme.md"]}});
    params["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}});
    let r = reqwest::Client::new()
        .post(&url)
        .header("accept", BOTH)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "subscriptions/listen")
        .json(&json!({"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen", "params": params}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = Stream::new(r);
    let ack = stream.next().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["file:///readme.md"]})
    );
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );

    // Not asked for: prompts. Asked for: tools and the readme.
    control(
        &s,
        reqwest::Method::POST,
        "/prompts",
        Some(json!({"name": "p"})),
    )
    .await;
    control(
        &s,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "t"})),
    )
    .await;
    let n = stream.next().await;
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
    control(
        &s,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///logo.png", "blob": "AA=="})),
    )
    .await;
    control(
        &s,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///readme.md", "text": "new"})),
    )
    .await;
    let n = stream.next().await;
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "file:///readme.md");

    // Reset ends the stream gracefully: the listen request's result.
    s.reset();
    let end = stream.next().await;
    assert_eq!(end["id"], "listen-1");
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
}

#[test]
fn the_config_file_shape_loads_and_unknown_keys_are_named() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../interop/fixtures/mcp/aimock.json"
    ))
    .unwrap();
    let (cfg, warnings) = aimock::config::Config::parse(&text).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mcp = cfg.mcp.unwrap().to_vec();
    assert_eq!(mcp.len(), 2);
    for c in mcp {
        McpServer::new(c).unwrap();
    }
    let (_, warnings) = aimock::config::Config::parse(
        r#"{"mcp": {"tools": [{"name": "t", "delayMS": 5, "replies": [{"match": {"exactly": {}}, "reslt": "x"}]}]}}"#,
    )
    .unwrap();
    let fields: Vec<&str> = warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "mcp.tools[0].delayMS",
            "mcp.tools[0].replies[0].match.exactly",
            "mcp.tools[0].replies[0].reslt"
        ]
    );
}

#[tokio::test]
async fn a_tool_can_ask_the_client_before_answering() {
    let s = MockServer::builder()
        .mcp(config(json!({"tools": [
            {"name": "ask", "requests": [
                {"method": "elicitation/create", "params": {"message": "Your name?",
                    "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}},
                {"method": "roots/list"}
             ],
             "result": "Hello {{responses.0.content.name}}, first root {{responses.1.roots.0.uri}}"},
            {"name": "impatient", "requests": [{"method": "roots/list"}], "requestTimeoutMs": 100, "result": "x"}
        ]})))
        .start()
        .await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let http = reqwest::Client::new();
    let r = http
        .post(mcp_url(&s))
        .header("accept", BOTH)
        .header("mcp-session-id", c.session.as_deref().unwrap())
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask"}}),
        )
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = Stream::new(r);
    let q = stream.next().await;
    assert_eq!(q["method"], "elicitation/create");
    assert_eq!(q["params"]["message"], "Your name?");
    let a = c
        .post(&json!({"jsonrpc": "2.0", "id": q["id"], "result": {"action": "accept", "content": {"name": "Ada"}}}))
        .await;
    assert_eq!(a.status, 202);
    let q2 = stream.next().await;
    assert_eq!(q2["method"], "roots/list");
    assert_ne!(q2["id"], q["id"]);
    c.post(&json!({"jsonrpc": "2.0", "id": q2["id"], "result": {"roots": [{"uri": "file:///r"}]}}))
        .await;
    let done = stream.next().await;
    assert_eq!(done["id"], 1);
    assert_eq!(
        done["result"]["content"][0]["text"],
        "Hello Ada, first root file:///r"
    );

    // No answer in time: the call fails.
    let a = c
        .post(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "impatient"}}))
        .await;
    let ev = a.events();
    assert_eq!(ev[0]["method"], "roots/list");
    assert_eq!(ev[1]["error"]["code"], -32603);

    // At 2026-07-28 the questions come back as an `input_required` result, answered by a
    // second call carrying `inputResponses`.
    let url = mcp_url(&s);
    let a = modern(&url, "tools/call", json!({"name": "ask"}), BOTH, &[]).await;
    let r = &a.json()["result"];
    assert_eq!(r["resultType"], "input_required");
    assert_eq!(r["inputRequests"]["r0"]["method"], "elicitation/create");
    assert_eq!(
        r["inputRequests"]["r1"],
        json!({"method": "roots/list", "params": {}})
    );
    let state = r["requestState"].as_str().unwrap().to_owned();
    let a = modern(
        &url,
        "tools/call",
        json!({"name": "ask", "requestState": state, "inputResponses": {
            "r0": {"action": "accept", "content": {"name": "Lin"}},
            "r1": {"roots": [{"uri": "file:///w"}]}}}),
        BOTH,
        &[],
    )
    .await;
    let r = &a.json()["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["content"][0]["text"], "Hello Lin, first root file:///w");
}

#[tokio::test]
async fn a_cancelled_request_stops_unanswered() {
    const DELAY: Duration = Duration::from_secs(60);
    let s = MockServer::builder()
        .mcp(config(
            json!({"tools": [{"name": "forever", "delayMs": DELAY.as_millis(), "result": "late"}]}),
        ))
        .start()
        .await;
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let url = mcp_url(&s);
    let sid = c.session.clone().unwrap();
    let started = std::time::Instant::now();
    let call = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .header("accept", "application/json")
            .header("mcp-session-id", sid)
            .json(&json!({"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": "forever"}}))
            .send()
            .await
            .unwrap()
    });
    // Wait until the call is under way, then cancel it.
    support::eventually(async || {
        let under_way = s.journal().iter().any(|e| match &e.body {
            aimock::journal::JournalBody::Json(v) => v["method"] == "tools/call",
            _ => false,
        });
        if under_way {
            Ok(())
        } else {
            Err("the call does not reach the server".to_owned())
        }
    })
    .await;
    let a = c
        .post(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 42, "reason": "no longer needed"}}),
        )
        .await;
    assert_eq!(a.status, 202);
    let r = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the cancelled call ends long before its delay")
        .unwrap();
    assert_eq!(r.status(), 202, "no answer for a cancelled request");
    assert!(r.text().await.unwrap().is_empty());
    // Against the tool's own delay, not a guess at the machine's speed: a sleep never ends
    // early, so a call that waited its delay out cannot pass.
    assert!(
        started.elapsed() < DELAY,
        "the cancelled call waited out its delay"
    );
    // The session goes on.
    assert_eq!(c.result("ping", json!({})).await, json!({}));
}

#[tokio::test]
async fn control_paths_take_plus_literally() {
    let s = server().await;
    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "c++", "result": "x"})),
    )
    .await;
    assert_eq!(st, 200);
    // In a path `+` is itself (only a query's `+` is a space); `%2B` decodes to it too.
    let (st, v) = control(&s, reqwest::Method::DELETE, "/tools/c++", None).await;
    assert_eq!(st, 200, "{v}");
    let (st, _) = control(
        &s,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "a+b", "result": "x"})),
    )
    .await;
    assert_eq!(st, 200);
    let (st, v) = control(&s, reqwest::Method::DELETE, "/tools/a%2Bb", None).await;
    assert_eq!(st, 200, "{v}");
}

#[tokio::test]
async fn a_post_sse_answer_streams_each_message_when_due() {
    let s = server().await;
    s.mcp(None)
        .unwrap()
        .add_tool(
            config(
                json!({"tools": [{"name": "paced", "delayMs": 60000, "result": "late",
                "progress": [{"progress": 1, "total": 2, "message": "started"}]}]}),
            )
            .tools
            .remove(0),
        )
        .unwrap();
    let mut c = Client::new(mcp_url(&s));
    c.init().await;
    let resp = c
        .http
        .post(&c.url)
        .header("content-type", "application/json")
        .header("accept", BOTH)
        .header("mcp-session-id", c.session.as_deref().unwrap())
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "paced", "_meta": {"progressToken": "p"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The progress arrives while the result is still a minute away: not held back for it.
    let mut stream = Stream::new(resp);
    let first = stream.next().await;
    assert_eq!(first["method"], "notifications/progress");
    assert_eq!(first["params"]["message"], "started");
}
