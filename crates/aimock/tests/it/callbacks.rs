//! Callbacks ("functions as responses"): a fixture, an MCP tool or a vector collection names an
//! HTTP endpoint (here a small axum server on 127.0.0.1) that computes the answer per request.
//! The payload each kind is sent, replies rendered as fixture replies (whole and streamed, text
//! and tool calls, through several providers), a callback's error reply, the failures (a slow
//! callback: 504 `callback_timeout`; non-2xx, bad JSON, an invalid reply, unreachable: 502
//! `callback_failed`) in the provider's envelope, concurrency (20 requests inside one callback at
//! once), the journal, the fixture checks at load and through the control API.

use std::sync::Arc;
use std::time::Duration;

use aimock::fixture::{parse_text, Format};
use aimock::MockServer;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::support::{self, chat, journal, post as send_post, status_json, stream_chat};

/// The callback server's state: every payload received, and a gate that holds answers until
/// `gate_size` requests are inside it at once.
#[derive(Clone)]
struct Cb {
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    gate: Arc<tokio::sync::Barrier>,
}

/// The text of the request's last message.
fn last_text(p: &Value) -> String {
    p["request"]["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned()
}

async fn callback_server(gate_size: usize) -> (String, Cb) {
    let cb = Cb {
        seen: Arc::default(),
        gate: Arc::new(tokio::sync::Barrier::new(gate_size)),
    };
    let note = |cb: &Cb, path: &str, p: &Value| cb.seen.lock().push((path.to_owned(), p.clone()));
    let app = Router::new()
        .route(
            "/echo",
            post(move |State(cb): State<Cb>, Json(p): Json<Value>| async move {
                note(&cb, "/echo", &p);
                Json(json!({ "content": format!("you said: {}", last_text(&p)) }))
            }),
        )
        .route(
            "/tools",
            post(move |State(cb): State<Cb>, Json(p): Json<Value>| async move {
                note(&cb, "/tools", &p);
                Json(json!({
                    "content": "checking",
                    "toolCalls": [{"name": "get_weather", "arguments": {"city": last_text(&p)}}]
                }))
            }),
        )
        .route(
            "/slow",
            post(
                |Query(q): Query<std::collections::HashMap<String, u64>>| async move {
                    tokio::time::sleep(Duration::from_millis(q["ms"])).await;
                    Json(json!({"content": "late"}))
                },
            ),
        )
        .route(
            "/gate",
            post(|State(cb): State<Cb>| async move {
                cb.gate.wait().await;
                Json(json!({"content": "together"}))
            }),
        )
        .route(
            "/fail",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response() }),
        )
        .route(
            "/badjson",
            post(|| async { (StatusCode::OK, "{not json").into_response() }),
        )
        .route(
            "/invalid",
            post(|| async { Json(json!({"toolCalls": [{"name": "", "arguments": "{}"}]})) }),
        )
        .route(
            "/ratelimit",
            post(|| async {
                Json(json!({
                    "error": {"message": "slow down", "type": "rate_limit_error"},
                    "status": 429
                }))
            }),
        )
        .route(
            "/mcp",
            post(move |State(cb): State<Cb>, Json(p): Json<Value>| async move {
                note(&cb, "/mcp", &p);
                let q = p["arguments"]["q"].as_str().unwrap_or("").to_owned();
                Json(json!({"content": [{"type": "text", "text": format!("found {q}")}], "isError": false}))
            }),
        )
        .route(
            "/embed",
            post(move |State(cb): State<Cb>, Json(p): Json<Value>| async move {
                note(&cb, "/embed", &p);
                Json(json!({"embedding": [0.5, 0.25, 0.125]}))
            }),
        )
        .route(
            "/mcp-plain",
            post(|| async { Json(json!("just text")) }),
        )
        .route(
            "/vector",
            post(move |State(cb): State<Cb>, Json(p): Json<Value>| async move {
                note(&cb, "/vector", &p);
                let first = p["vector"][0].clone();
                Json(json!({"matches": [
                    {"id": "cb-1", "score": 0.75, "metadata": {"first": first}},
                    {"id": "cb-2", "score": 0.5, "metadata": {"k": p["topK"]}}
                ]}))
            }),
        )
        .with_state(cb.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, cb)
}

/// A URL nothing listens on: a port bound, then let go.
async fn unreachable_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/gone")
}

async fn server_with(fixtures: Value) -> MockServer {
    support::fixture_server(
        &json!({ "fixtures": fixtures }).to_string(),
        "callbacks.json",
    )
    .await
}

fn fixture(user: &str, callback: Value) -> Value {
    json!({"match": {"userMessage": user}, "response": {"callback": callback}})
}

#[tokio::test]
async fn a_callback_answers_a_chat_completion_and_gets_the_neutral_request() {
    let (cb_base, cb) = callback_server(1).await;
    let s = server_with(json!([fixture(
        "weather",
        json!(format!("{cb_base}/echo"))
    )]))
    .await;
    let (status, v) = status_json(
        send_post(
            &s,
            "/v1/chat/completions",
            &chat("weather in Paris?"),
            &[("x-test-id", "t-42")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "you said: weather in Paris?"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["object"], "chat.completion");

    let seen = cb.seen.lock().clone();
    assert_eq!(seen.len(), 1);
    let p = &seen[0].1;
    assert_eq!(p["kind"], "llm");
    assert_eq!(p["provider"], "openai");
    assert_eq!(p["endpoint"], "chat");
    assert_eq!(p["path"], "/v1/chat/completions");
    assert_eq!(p["stream"], false);
    assert_eq!(p["testId"], "t-42");
    assert_eq!(p["request"]["model"], "gpt-4o");
    assert_eq!(
        p["request"]["messages"],
        json!([{"role": "user", "content": "weather in Paris?"}])
    );

    // Journaled like any answer: the matched fixture (its callback), the status.
    let j = journal(&s).await;
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["response"]["status"], 200);
    assert_eq!(
        j[0]["response"]["fixture"]["response"]["callback"],
        json!(format!("{cb_base}/echo"))
    );
    assert_eq!(j[0]["body"], p["request"]);
}

#[tokio::test]
async fn a_callback_reply_streams_when_the_client_asks_for_a_stream() {
    let (cb_base, cb) = callback_server(1).await;
    let s = server_with(json!([{
        "match": {"userMessage": "stream"},
        "response": {"callback": {"url": format!("{cb_base}/echo"), "timeoutMs": 3000}},
        "chunkSize": 4
    }]))
    .await;
    let r = send_post(&s, "/v1/chat/completions", &stream_chat("stream me"), &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let body = r.text().await.unwrap();
    let deltas = support::content_deltas(&body);
    // The fixture's chunk size applies to the callback's reply.
    assert!(deltas.len() > 3, "{deltas:?}");
    assert!(deltas.iter().all(|d| d.chars().count() <= 4), "{deltas:?}");
    assert_eq!(deltas.concat(), "you said: stream me");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    assert_eq!(cb.seen.lock()[0].1["stream"], true);
}

#[tokio::test]
async fn a_callback_answers_tool_calls_through_every_provider() {
    let (cb_base, cb) = callback_server(1).await;
    let s = server_with(json!([fixture("Oslo", json!(format!("{cb_base}/tools")))])).await;

    // OpenAI chat, whole.
    let (st, v) =
        status_json(send_post(&s, "/v1/chat/completions", &chat("Oslo"), &[]).await).await;
    assert_eq!(st, 200, "{v}");
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"city":"Oslo"}"#);
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");

    // Anthropic Messages.
    let (st, v) = status_json(
        send_post(
            &s,
            "/v1/messages",
            &json!({"model": "claude-sonnet-4-5", "max_tokens": 50,
                    "messages": [{"role": "user", "content": "Oslo"}]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["content"][0], json!({"type": "text", "text": "checking"}));
    assert_eq!(v["content"][1]["type"], "tool_use");
    assert_eq!(v["content"][1]["input"], json!({"city": "Oslo"}));
    assert_eq!(v["stop_reason"], "tool_use");

    // Gemini.
    let (st, v) = status_json(
        send_post(
            &s,
            "/v1beta/models/gemini-2.5-flash:generateContent",
            &json!({"contents": [{"role": "user", "parts": [{"text": "Oslo"}]}]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let parts = &v["candidates"][0]["content"]["parts"];
    assert_eq!(parts[1]["functionCall"]["name"], "get_weather");
    assert_eq!(parts[1]["functionCall"]["args"], json!({"city": "Oslo"}));

    // OpenAI Responses, streamed.
    let r = send_post(
        &s,
        "/v1/responses",
        &json!({"model": "gpt-4o", "input": "Oslo", "stream": true}),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    let events = support::sse::json(&r.text().await.unwrap());
    let done = events
        .iter()
        .find(|e| e["type"] == "response.completed")
        .expect("a response.completed event");
    let items = done["response"]["output"].as_array().unwrap();
    let call = items.iter().find(|i| i["type"] == "function_call").unwrap();
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], r#"{"city":"Oslo"}"#);

    // Ollama.
    let (st, v) = status_json(
        send_post(
            &s,
            "/api/chat",
            &json!({"model": "llama3", "stream": false,
                    "messages": [{"role": "user", "content": "Oslo"}]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );

    let seen = cb.seen.lock().clone();
    let providers: Vec<&str> = seen
        .iter()
        .map(|(_, p)| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        providers,
        ["openai", "anthropic", "gemini", "openai", "ollama"]
    );
    assert_eq!(seen[3].1["path"], "/v1/responses");
    assert_eq!(seen[3].1["stream"], true);
}

#[tokio::test]
async fn a_callback_error_reply_is_answered_as_a_fixture_error() {
    let (cb_base, _) = callback_server(1).await;
    let s = server_with(json!([fixture(
        "limit",
        json!(format!("{cb_base}/ratelimit"))
    )]))
    .await;
    let r = send_post(&s, "/v1/chat/completions", &chat("limit"), &[]).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let (_, v) = status_json(r).await;
    assert_eq!(v["error"]["message"], "slow down");
    assert_eq!(v["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn failures_are_502_or_504_in_the_providers_envelope() {
    let (cb_base, _) = callback_server(1).await;
    let gone = unreachable_url().await;
    let s = server_with(json!([
        fixture(
            "slow",
            json!({"url": format!("{cb_base}/slow?ms=5000"), "timeoutMs": 200})
        ),
        fixture("fail", json!(format!("{cb_base}/fail"))),
        fixture("badjson", json!(format!("{cb_base}/badjson"))),
        fixture("invalid", json!(format!("{cb_base}/invalid"))),
        fixture("gone", json!(gone)),
    ]))
    .await;
    let cases = [
        ("slow", 504, "callback_timeout", "200 ms"),
        ("fail", 502, "callback_failed", "answered 500: boom"),
        ("badjson", 502, "callback_failed", "invalid JSON"),
        (
            "invalid",
            502,
            "callback_failed",
            "a tool call needs a `name`",
        ),
        ("gone", 502, "callback_failed", "unreachable"),
    ];
    for (text, status, code, says) in cases {
        let (st, v) =
            status_json(send_post(&s, "/v1/chat/completions", &chat(text), &[]).await).await;
        assert_eq!(st, status, "{text}: {v}");
        assert_eq!(v["error"]["code"], code, "{text}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{text}: {msg}");
    }
    // Anthropic's envelope.
    let (st, v) = status_json(
        send_post(
            &s,
            "/v1/messages",
            &json!({"model": "claude-sonnet-4-5", "max_tokens": 5,
                    "messages": [{"role": "user", "content": "fail"}]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 502);
    assert_eq!(v["type"], "error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("answered 500"));
    // A streamed request gets the error before any stream.
    let r = send_post(&s, "/v1/chat/completions", &stream_chat("slow"), &[]).await;
    assert_eq!(r.status(), 504);
    // Each failure is journaled with its status and the matched fixture.
    let j = journal(&s).await;
    let statuses: Vec<u64> = j
        .iter()
        .map(|e| e["response"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [504, 502, 502, 502, 502, 502, 504]);
    assert!(j.iter().all(
        |e| e["response"]["fixture"]["response"]["callback"].is_string()
            || e["response"]["fixture"]["response"]["callback"].is_object()
    ));
}

#[tokio::test]
async fn twenty_requests_are_inside_one_callback_at_once() {
    // The callback answers only when all twenty requests are inside it: if the server asked it
    // one at a time, the first would wait for the rest and time out (504).
    let (cb_base, _) = callback_server(20).await;
    let s = server_with(json!([fixture(
        "together",
        json!({"url": format!("{cb_base}/gate"), "timeoutMs": 20000})
    )]))
    .await;
    let started = std::time::Instant::now();
    let all = futures_util::future::join_all((0..20).map(|i| {
        let s = &s;
        async move {
            let body = if i % 2 == 0 {
                chat("together")
            } else {
                stream_chat("together")
            };
            let r = send_post(s, "/v1/chat/completions", &body, &[]).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    }))
    .await;
    for (status, body) in &all {
        assert_eq!(*status, 200, "{body}");
        assert!(body.contains("together"), "{body}");
    }
    eprintln!(
        "20 requests through one gated callback: {:?}",
        started.elapsed()
    );
    assert_eq!(journal(&s).await.len(), 20);
}

#[tokio::test]
async fn a_slow_callback_holds_no_other_request_up() {
    let (cb_base, _) = callback_server(1).await;
    let s = server_with(json!([
        fixture("slow", json!({"url": format!("{cb_base}/slow?ms=30000"), "timeoutMs": 60000})),
        {"match": {"userMessage": "quick"}, "response": {"content": "fast"}}
    ]))
    .await;
    let s = Arc::new(s);
    let slow = {
        let s = s.clone();
        tokio::spawn(async move { send_post(&s, "/v1/chat/completions", &chat("slow"), &[]).await })
    };
    // The slow one is in flight (journaled only when answered); a literal fixture answers now.
    for _ in 0..3 {
        let (st, v) =
            status_json(send_post(&s, "/v1/chat/completions", &chat("quick"), &[]).await).await;
        assert_eq!(st, 200);
        assert_eq!(v["choices"][0]["message"]["content"], "fast");
    }
    assert!(!slow.is_finished());
    slow.abort();
}

#[test]
fn a_bad_callback_is_a_load_error_naming_the_fixture() {
    let bad = [
        (json!("https://127.0.0.1:1/x"), "http://"),
        (json!({"url": "ftp://127.0.0.1/x"}), "http://"),
        (
            json!({"url": "http://127.0.0.1:1/x", "timeoutMs": 0}),
            "timeoutMs",
        ),
        (
            json!({"url": "http://127.0.0.1:1/x", "timeoutMs": 60001}),
            "timeoutMs",
        ),
        (
            json!({"url": "http://127.0.0.1:1/x", "timeout": 5}),
            "unknown field `timeout`",
        ),
        (json!(5), "URL string"),
    ];
    for (cb, says) in bad {
        let text = json!({"fixtures": [
            {"match": {"userMessage": "ok"}, "response": {"content": "fine"}},
            {"match": {"userMessage": "x"}, "response": {"callback": cb}}
        ]})
        .to_string();
        let report = parse_text(&text, "cb.json", Format::Json);
        assert_eq!(report.fixtures.len(), 1, "{cb}");
        let p = report
            .problems
            .iter()
            .find(|p| p.field == "response.callback")
            .unwrap_or_else(|| panic!("{cb}: {:?}", report.problems));
        assert_eq!(p.fixture, Some(1), "{p:?}");
        assert_eq!(p.file, "cb.json");
        assert!(p.message.contains(says), "{cb}: {}", p.message);
    }
    // A callback beside a literal reply is refused too.
    let text =
        json!({"fixtures": [{"response": {"callback": "http://127.0.0.1:1/", "content": "x"}}]})
            .to_string();
    let report = parse_text(&text, "cb.json", Format::Json);
    assert!(report.fixtures.is_empty());
    assert!(
        report.problems[0].message.contains("`content`"),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn the_control_api_adds_callback_fixtures() {
    let (cb_base, _) = callback_server(1).await;
    let s = MockServer::start().await;
    let (st, v) = status_json(
        send_post(
            &s,
            "/__aimock/fixtures",
            &json!({"fixtures": [fixture("hello", json!({"url": format!("{cb_base}/echo"), "timeoutMs": 2000}))]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) =
        status_json(send_post(&s, "/v1/chat/completions", &chat("hello there"), &[]).await).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "you said: hello there"
    );
    // A bad one is a 400 naming the field.
    let r = send_post(
        &s,
        "/__aimock/fixtures",
        &json!({"fixtures": [fixture("x", json!("https://example.com/cb"))]}),
        &[],
    )
    .await;
    let (st, v) = status_json(r).await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("response.callback"), "{v}");
}

// --- MCP --------------------------------------------------------------------------------------

async fn mcp_rpc(url: &str, session: Option<&str>, body: Value) -> (Option<String>, Value) {
    let mut rb = support::client()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(s) = session {
        rb = rb.header("mcp-session-id", s);
    }
    let r = rb.send().await.unwrap();
    let sid = r
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let v = if ct.starts_with("text/event-stream") {
        support::sse::json(&text).pop().unwrap_or(Value::Null)
    } else if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (sid, v)
}

async fn mcp_session(url: &str) -> String {
    let (sid, v) = mcp_rpc(
        url,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
    )
    .await;
    assert!(v.get("result").is_some(), "{v}");
    let sid = sid.unwrap();
    mcp_rpc(
        url,
        Some(&sid),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    sid
}

#[tokio::test]
async fn an_mcp_tool_callback_computes_the_result() {
    let (cb_base, cb) = callback_server(1).await;
    let s = MockServer::builder()
        .mcp(support::config(json!({"tools": [
            {"name": "search", "inputSchema": {"type": "object"}, "callback": format!("{cb_base}/mcp")},
            {"name": "plain", "callback": {"url": format!("{cb_base}/mcp-plain"), "timeoutMs": 3000}},
            {"name": "broken", "callback": format!("{cb_base}/fail")},
            {"name": "slow", "callback": {"url": format!("{cb_base}/slow?ms=5000"), "timeoutMs": 150}}
        ]})))
        .start()
        .await;
    let url = support::mcp_url(&s);
    let sid = mcp_session(&url).await;
    let call = |name: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
               "params": {"name": name, "arguments": args}})
    };
    let (_, v) = mcp_rpc(&url, Some(&sid), call("search", json!({"q": "rust"}))).await;
    assert_eq!(
        v["result"],
        json!({"content": [{"type": "text", "text": "found rust"}], "isError": false}),
        "{v}"
    );
    let seen = cb.seen.lock().clone();
    assert_eq!(
        seen[0].1,
        json!({"kind": "mcp.tool", "name": "search", "arguments": {"q": "rust"}})
    );
    let (_, v) = mcp_rpc(&url, Some(&sid), call("plain", json!({}))).await;
    assert_eq!(v["result"]["content"][0]["text"], "just text", "{v}");
    assert_eq!(v["result"]["isError"], false);
    let (_, v) = mcp_rpc(&url, Some(&sid), call("broken", json!({}))).await;
    assert_eq!(v["error"]["code"], -32603, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("callback_failed"));
    let (_, v) = mcp_rpc(&url, Some(&sid), call("slow", json!({}))).await;
    assert_eq!(v["error"]["code"], -32603, "{v}");
    assert_eq!(v["error"]["data"]["code"], "callback_timeout", "{v}");

    // Added at run time through the control API.
    let (st, v) = status_json(
        send_post(
            &s,
            "/__aimock/mcp/tools",
            &json!({"name": "late", "callback": format!("{cb_base}/mcp")}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = mcp_rpc(&url, Some(&sid), call("late", json!({"q": "added"}))).await;
    assert_eq!(v["result"]["content"][0]["text"], "found added", "{v}");
    // A bad callback is refused.
    let (st, v) = status_json(
        send_post(
            &s,
            "/__aimock/mcp/tools",
            &json!({"name": "bad", "callback": "https://example.com"}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("callback"), "{v}");
}

// --- vector -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_vector_query_callback_computes_the_matches() {
    let (cb_base, cb) = callback_server(1).await;
    let s = MockServer::builder()
        .vector(support::config(json!({"collections": [
            {"name": "docs", "dimension": 3, "queryResults": {"callback": format!("{cb_base}/vector")}},
            {"name": "broken", "dimension": 3, "queryResults": {"callback": format!("{cb_base}/fail")}}
        ]})))
        .start()
        .await;
    // Pinecone.
    let (st, v) = status_json(
        send_post(
            &s,
            "/vector/query",
            &json!({"namespace": "docs", "vector": [0.5, 0.25, 0.0], "topK": 2,
                    "filter": {"lang": {"$eq": "en"}}, "includeMetadata": true}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["matches"][0]["id"], "cb-1");
    assert_eq!(v["matches"][0]["score"], 0.75);
    assert_eq!(v["matches"][0]["metadata"]["first"], 0.5);
    assert_eq!(v["matches"][1]["id"], "cb-2");
    let seen = cb.seen.lock().clone();
    assert_eq!(
        seen[0].1,
        json!({"kind": "vector.query", "collection": "docs", "vector": [0.5, 0.25, 0.0],
               "topK": 2, "filter": {"lang": {"$eq": "en"}}})
    );
    // Qdrant.
    let (st, v) = status_json(
        send_post(
            &s,
            "/vector/collections/docs/points/search",
            &json!({"vector": [1.0, 0.0, 0.0], "limit": 1}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["result"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["result"][0]["id"], "cb-1");
    assert_eq!(v["result"][0]["payload"]["first"], 1.0);
    assert_eq!(cb.seen.lock()[1].1["topK"], 1);
    // A failing callback: 502 in the database's envelope.
    let (st, v) = status_json(
        send_post(
            &s,
            "/vector/query",
            &json!({"namespace": "broken", "vector": [0.5, 0.25, 0.0], "topK": 2}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 502, "{v}");
    assert!(v.to_string().contains("callback_failed"), "{v}");

    // Set at run time through the control API, and back to canned results.
    let (st, v) = status_json(
        send_post(
            &s,
            "/__aimock/vector/collections/broken/query-results",
            &json!({"callback": {"url": format!("{cb_base}/vector"), "timeoutMs": 2000}}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = status_json(
        send_post(
            &s,
            "/vector/query",
            &json!({"namespace": "broken", "vector": [0.1, 0.2, 0.3], "topK": 5}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["matches"][0]["id"], "cb-1");
    let (st, _) = status_json(
        send_post(
            &s,
            "/__aimock/vector/collections/broken/query-results",
            &json!({"results": [{"id": "canned", "score": 0.1}]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (_, v) = status_json(
        send_post(
            &s,
            "/vector/query",
            &json!({"namespace": "broken", "vector": [0.1, 0.2, 0.3], "topK": 5}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(v["matches"][0]["id"], "canned", "{v}");
}

#[tokio::test]
async fn a_callback_answers_an_embedding_request() {
    let (cb_base, cb) = callback_server(1).await;
    let s = server_with(json!([
        {"match": {"inputText": "vectorise"}, "response": {"callback": format!("{cb_base}/embed")}},
        {"match": {"inputText": "words"}, "response": {"callback": format!("{cb_base}/echo")}}
    ]))
    .await;
    let (st, v) = status_json(
        send_post(
            &s,
            "/v1/embeddings",
            &json!({"model": "text-embedding-3-small", "input": ["vectorise me", "and me"]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][1]["embedding"], json!([0.5, 0.25, 0.125]));
    let p = cb.seen.lock()[0].1.clone();
    assert_eq!(p["endpoint"], "embedding");
    assert_eq!(p["path"], "/v1/embeddings");
    assert_eq!(p["request"]["embeddingInput"], "vectorise me and me");
    // A text reply cannot answer an embedding request: 502.
    let (st, v) = status_json(
        send_post(
            &s,
            "/v1/embeddings",
            &json!({"model": "text-embedding-3-small", "input": "words"}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(st, 502, "{v}");
    assert_eq!(v["error"]["code"], "callback_failed");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`embedding`"),
        "{v}"
    );
}
