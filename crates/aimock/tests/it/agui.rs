//! The AG-UI agent over HTTP: matching rules (message substring and regex, toolCallId, toolName,
//! stateKey, first match wins), the shorthands, raw events with ids filled in, ordering, real
//! streaming with `delayMs`, errors (bad JSON, bad input, no match, strict mode, wrong method),
//! load-time checks of configured events, the Rust API, the control API, reset, the journal and
//! the metric.

use std::time::Duration;

use aimock::config::AguiConfig;
use aimock::journal::JournalBody;
use aimock::server::{AppState, ServerConfig};
use aimock::MockServer;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::{self, router, types};

fn agui(fixtures: Value) -> AguiConfig {
    AguiConfig {
        fixtures: fixtures.as_array().cloned().unwrap_or_default(),
        ..AguiConfig::default()
    }
}

async fn server(fixtures: Value) -> MockServer {
    MockServer::builder().agui(agui(fixtures)).start().await
}

fn input(text: &str) -> Value {
    json!({
        "threadId": "thread-1",
        "runId": "run-1",
        "state": {},
        "messages": [{"id": "m1", "role": "user", "content": text}],
        "tools": [],
        "context": [],
        "forwardedProps": {}
    })
}

async fn post(s: &MockServer, body: &Value) -> reqwest::Response {
    support::post(s, "/agui", body, &[]).await
}

async fn run(s: &MockServer, body: &Value) -> Vec<Value> {
    let r = post(s, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    support::sse::json(&r.text().await.unwrap())
}

#[tokio::test]
async fn text_shorthand_streams_the_five_events_with_the_request_ids() {
    let s = server(json!([{"match": {"message": "hello"}, "text": "Hi there"}])).await;
    let ev = run(&s, &input("well hello you")).await;
    assert_eq!(
        types(&ev),
        [
            "RUN_STARTED",
            "TEXT_MESSAGE_START",
            "TEXT_MESSAGE_CONTENT",
            "TEXT_MESSAGE_END",
            "RUN_FINISHED"
        ]
    );
    // RUN_STARTED declares the producer's protocol version, as a 1.0 producer does.
    assert_eq!(ev[0]["protocolVersion"], "1.0");
    for i in [0, 4] {
        assert_eq!(ev[i]["threadId"], "thread-1");
        assert_eq!(ev[i]["runId"], "run-1");
    }
    let id = ev[1]["messageId"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(ev[2]["messageId"], id);
    assert_eq!(ev[3]["messageId"], id);
    assert_eq!(ev[1]["role"], "assistant");
    assert_eq!(ev[2]["delta"], "Hi there");
    for e in &ev {
        assert!(e["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    }
    // A second run gets a message id of its own.
    let again = run(&s, &input("hello")).await;
    assert_ne!(again[1]["messageId"], id);
}

#[tokio::test]
async fn match_fields_and_first_match_wins() {
    let s = server(json!([
        {"match": {"toolCallId": "call-9"}, "text": "after tool"},
        {"match": {"stateKey": "cart"}, "text": "state"},
        {"match": {"toolName": "search"}, "text": "tool declared"},
        {"match": {"message": {"regex": "^order #\\d+$"}}, "text": "regex"},
        {"match": {"message": {"regex": "SHOUT", "flags": "i"}}, "text": "regex-i"},
        {"match": {"message": "two parts"}, "text": "parts"},
        {"match": {"message": "weather"}, "text": "first"},
        {"match": {"message": "weather"}, "text": "second"},
        {"text": "catch-all"}
    ]))
    .await;
    let delta = |ev: Vec<Value>| ev[2]["delta"].as_str().unwrap().to_owned();

    assert_eq!(delta(run(&s, &input("the weather today")).await), "first");
    assert_eq!(delta(run(&s, &input("order #42")).await), "regex");
    assert_eq!(
        delta(run(&s, &input("order #42 please")).await),
        "catch-all"
    );
    assert_eq!(delta(run(&s, &input("please shout")).await), "regex-i");

    // Text parts are joined with a space; the last user message counts.
    let mut b = input("ignored");
    b["messages"] = json!([
        {"id": "1", "role": "user", "content": "weather"},
        {"id": "2", "role": "assistant", "content": "sure"},
        {"id": "3", "role": "user", "content": [{"type": "text", "text": "two"}, {"type": "text", "text": "parts"}]}
    ]);
    assert_eq!(delta(run(&s, &b).await), "parts");

    // toolCallId: the last message is that tool's result.
    let mut b = input("weather");
    b["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "t", "role": "tool", "toolCallId": "call-9", "content": "42"}));
    assert_eq!(delta(run(&s, &b).await), "after tool");
    b["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "u", "role": "user", "content": "weather"}));
    assert_eq!(delta(run(&s, &b).await), "first");

    let mut b = input("x");
    b["state"] = json!({"cart": []});
    assert_eq!(delta(run(&s, &b).await), "state");

    let mut b = input("x");
    b["tools"] = json!([{"name": "search", "description": "d", "parameters": {}}]);
    assert_eq!(delta(run(&s, &b).await), "tool declared");

    // No user message: a message matcher does not match.
    let mut b = input("x");
    b["messages"] = json!([]);
    assert_eq!(delta(run(&s, &b).await), "catch-all");
}

#[tokio::test]
async fn shorthands_cover_tool_calls_reasoning_state_messages_and_errors() {
    let s = server(json!([
        {"match": {"message": "tool"}, "text": "Calling", "toolCall": {"name": "get_weather", "args": {"city": "Paris"}, "result": "sunny"}},
        {"match": {"message": "two calls"}, "toolCalls": [{"name": "a", "args": "{}"}, {"name": "b", "args": "{}", "id": "fixed"}]},
        {"match": {"message": "think"}, "reasoning": "Let me think", "text": "Done"},
        {"match": {"message": "state"}, "stateSnapshot": {"count": 1}, "stateDelta": [{"op": "replace", "path": "/count", "value": 2}]},
        {"match": {"message": "history"}, "messagesSnapshot": [{"id": "a", "role": "user", "content": "q"}, {"id": "b", "role": "assistant", "content": "a"}]},
        {"match": {"message": "fail"}, "error": {"message": "boom", "code": "E42"}}
    ]))
    .await;

    let ev = run(&s, &input("tool please")).await;
    assert_eq!(
        types(&ev),
        [
            "RUN_STARTED",
            "TEXT_MESSAGE_START",
            "TEXT_MESSAGE_CONTENT",
            "TEXT_MESSAGE_END",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "TOOL_CALL_RESULT",
            "RUN_FINISHED"
        ]
    );
    let call = ev[4]["toolCallId"].as_str().unwrap();
    assert_eq!(ev[4]["toolCallName"], "get_weather");
    assert_eq!(ev[4]["parentMessageId"], ev[1]["messageId"]);
    assert_eq!(ev[5]["delta"], r#"{"city":"Paris"}"#);
    assert_eq!(ev[6]["toolCallId"], call);
    assert_eq!(ev[7]["toolCallId"], call);
    assert_eq!(ev[7]["content"], "sunny");
    assert_ne!(ev[7]["messageId"], ev[1]["messageId"]);

    let ev = run(&s, &input("two calls")).await;
    assert_eq!(types(&ev).len(), 8);
    assert_ne!(ev[1]["toolCallId"], ev[4]["toolCallId"]);
    assert_eq!(ev[1]["toolCallId"], ev[3]["toolCallId"]);
    assert_eq!(ev[4]["toolCallId"], "fixed");
    assert_eq!(ev[6]["toolCallId"], "fixed");

    let ev = run(&s, &input("think")).await;
    assert_eq!(
        types(&ev)[1..6],
        [
            "REASONING_START",
            "REASONING_MESSAGE_START",
            "REASONING_MESSAGE_CONTENT",
            "REASONING_MESSAGE_END",
            "REASONING_END"
        ]
    );
    assert_eq!(ev[2]["role"], "reasoning");
    assert_eq!(ev[3]["delta"], "Let me think");
    assert_eq!(ev[1]["messageId"], ev[5]["messageId"]);
    assert_ne!(ev[1]["messageId"], ev[6]["messageId"]);

    let ev = run(&s, &input("state")).await;
    assert_eq!(
        types(&ev),
        [
            "RUN_STARTED",
            "STATE_SNAPSHOT",
            "STATE_DELTA",
            "RUN_FINISHED"
        ]
    );
    assert_eq!(ev[1]["snapshot"], json!({"count": 1}));
    assert_eq!(ev[2]["delta"][0]["path"], "/count");

    let ev = run(&s, &input("history")).await;
    assert_eq!(
        types(&ev),
        ["RUN_STARTED", "MESSAGES_SNAPSHOT", "RUN_FINISHED"]
    );
    assert_eq!(ev[1]["messages"][1]["role"], "assistant");

    let ev = run(&s, &input("fail")).await;
    assert_eq!(types(&ev), ["RUN_STARTED", "RUN_ERROR"]);
    assert_eq!(ev[1]["message"], "boom");
    assert_eq!(ev[1]["code"], "E42");
}

#[tokio::test]
async fn raw_events_keep_their_order_and_get_ids_and_timestamps_filled() {
    let s = server(json!([{"events": [
        {"type": "RUN_STARTED"},
        {"type": "STEP_STARTED", "stepName": "plan"},
        {"type": "TEXT_MESSAGE_CHUNK", "delta": "a"},
        {"type": "TOOL_CALL_CHUNK", "toolCallName": "t", "delta": "{}"},
        {"type": "CUSTOM", "name": "x", "value": null, "timestamp": 7},
        {"type": "RAW", "event": {"any": 1}, "source": "lc"},
        {"type": "STEP_FINISHED", "stepName": "plan"},
        {"type": "RUN_FINISHED", "threadId": "mine", "result": {"ok": true}}
    ]}]))
    .await;
    let mut b = input("x");
    b["parentRunId"] = json!("parent-0");
    let ev = run(&s, &b).await;
    assert_eq!(
        types(&ev),
        [
            "RUN_STARTED",
            "STEP_STARTED",
            "TEXT_MESSAGE_CHUNK",
            "TOOL_CALL_CHUNK",
            "CUSTOM",
            "RAW",
            "STEP_FINISHED",
            "RUN_FINISHED"
        ]
    );
    assert_eq!(ev[0]["threadId"], "thread-1");
    assert_eq!(ev[0]["parentRunId"], "parent-0");
    assert!(ev[2]["messageId"].is_string());
    assert!(ev[3]["toolCallId"].is_string());
    assert_eq!(ev[4]["timestamp"], 7);
    assert_eq!(ev[4]["value"], Value::Null);
    assert_eq!(ev[7]["threadId"], "mine");
    assert_eq!(ev[7]["runId"], "run-1");
}

/// In-process on tokio's paused clock (see `support::router`): the times are the configured
/// delays, whatever the load on the machine.
#[tokio::test(start_paused = true)]
async fn events_are_written_when_due_not_buffered() {
    let config = ServerConfig {
        agui: vec![agui(json!([{"text": "slow", "delayMs": 400}]))],
        ..ServerConfig::default()
    };
    let s = router::app(config, None);
    let started = Instant::now();
    let r = router::post(&s, "/agui", &input("x"), &[]).await;
    let mut body = r.into_body().into_data_stream();
    let first = body.next().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(String::from_utf8_lossy(&first).contains("RUN_STARTED"));
    let mut rest = Vec::new();
    while let Some(c) = body.next().await {
        rest.extend_from_slice(&c.unwrap());
    }
    let total = started.elapsed();
    // Five events, four gaps of 400 ms: the first arrives long before the last is due.
    assert!(first_at < Duration::from_millis(1200), "{first_at:?}");
    assert!(total >= Duration::from_millis(1600), "{total:?}");
    let text = String::from_utf8_lossy(&first).to_string() + &String::from_utf8_lossy(&rest);
    assert_eq!(support::sse::json(&text).len(), 5);
    let last = s.journal().pop().unwrap();
    assert_eq!(last.response.delivered, Some(true));
}

#[tokio::test]
async fn errors_are_clear() {
    let s = server(json!([{"match": {"message": "known"}, "text": "x"}])).await;
    let c = reqwest::Client::new();
    let url = format!("{}/agui", s.uri());

    let r = c.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"].as_str().unwrap().starts_with("Invalid JSON"),
        "{v}"
    );

    for (body, needle) in [
        (
            json!({"runId": "r", "messages": []}),
            "`threadId` is required",
        ),
        (
            json!({"threadId": 1, "runId": "r", "messages": []}),
            "`threadId` must be a string",
        ),
        (
            json!({"threadId": "t", "runId": "r", "messages": {}}),
            "`messages` must be an array",
        ),
        (
            json!({"threadId": "t", "runId": "r", "messages": [{"content": "x"}]}),
            "messages[0]",
        ),
        (
            json!({"threadId": "t", "runId": "r", "tools": [{}]}),
            "tools[0]",
        ),
        (json!([1]), "JSON object"),
    ] {
        let r = post(&s, &body).await;
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains(needle), "{v}");
    }

    let r = post(&s, &input("something else")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "No matching AG-UI fixture"})
    );

    let r = c
        .post(&url)
        .header("x-aimock-strict", "true")
        .json(&input("something else"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "Strict mode: No matching AG-UI fixture");

    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let r = c
        .post(format!("{url}/nested"))
        .json(&input("known"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A trailing slash is the mount itself.
    let r = c
        .post(format!("{url}/"))
        .json(&input("known"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn strict_server_answers_a_miss_with_503() {
    let config = ServerConfig {
        strict: true,
        agui: vec![agui(json!([]))],
        ..ServerConfig::default()
    };
    let s = MockServer::builder().config(config).start().await;
    let r = post(&s, &input("x")).await;
    assert_eq!(r.status(), 503);
}

#[test]
fn configured_events_are_checked_at_load_time() {
    let cases = [
        (
            json!([{"text": "ok"}, {"events": [{"type": "TEXT_MESSAGE_BEGIN"}]}]),
            "fixtures[1]: events[0]: unknown event type `TEXT_MESSAGE_BEGIN`",
        ),
        (
            json!([{"events": [{"type": "TOOL_CALL_START"}]}]),
            "TOOL_CALL_START needs `toolCallName`",
        ),
        (
            json!([{"events": [{"type": "RUN_ERROR", "mesage": "x"}]}]),
            "RUN_ERROR has no field `mesage`",
        ),
        (
            json!([{"events": [{"type": "STEP_STARTED", "stepName": 3}]}]),
            "STEP_STARTED.stepName: must be a string",
        ),
        (
            json!([{"events": [{"type": "RUN_FINISHED", "outcome": {"type": "interrupt", "interrupts": []}}]}]),
            "interrupts",
        ),
        (
            json!([{"events": [{"type": "REASONING_ENCRYPTED_VALUE", "subtype": "blob", "entityId": "e", "encryptedValue": "v"}]}]),
            "subtype",
        ),
        (
            json!([{"events": [{"type": "MESSAGES_SNAPSHOT", "messages": [{"id": "1", "role": "robot"}]}]}]),
            "role",
        ),
        (
            json!([{"match": {"message": {"regex": "("}}, "text": "x"}]),
            "does not compile",
        ),
        (
            json!([{"match": {"mesage": "x"}, "text": "x"}]),
            "unknown match field `mesage`",
        ),
        (json!([{"txt": "x"}]), "unknown fixture field `txt`"),
        (json!([{"text": "x", "events": []}]), "cannot be combined"),
        (
            json!([{"stateDelta": [{"op": "add", "path": "/a"}]}]),
            "needs a `value`",
        ),
    ];
    for (fixtures, needle) in cases {
        let config = ServerConfig {
            agui: vec![agui(fixtures.clone())],
            ..ServerConfig::default()
        };
        let err = AppState::try_new(config).expect_err("refused");
        assert!(err.starts_with("agui[0]: fixtures["), "{err}");
        assert!(err.contains(needle), "{fixtures}: {err}");
    }
}

#[tokio::test]
async fn rust_api_adds_fixtures_and_reset_returns_to_the_configured_ones() {
    let s = server(json!([{"match": {"message": "configured"}, "text": "from config"}])).await;
    let a = s.agui(None).unwrap();
    a.on_message("hi", "Hello!");
    a.on_reasoning("ponder", "thinking...");
    a.on_tool_call("call it", "lookup", r#"{"q":1}"#, Some("found"));
    a.on_state_key("todo", json!({"todo": ["a"]}));
    a.on_tool_result(
        "call-1",
        vec![
            json!({"type": "RUN_STARTED"}),
            json!({"type": "RUN_FINISHED"}),
        ],
    )
    .unwrap();
    a.on_predicate(
        |input| input["forwardedProps"]["mode"] == "special",
        vec![
            json!({"type": "RUN_STARTED"}),
            json!({"type": "CUSTOM", "name": "special", "value": 1}),
            json!({"type": "RUN_FINISHED"}),
        ],
    )
    .unwrap();
    a.on_message_regex("^bye$", "Goodbye").unwrap();
    assert!(a.on_run("x", vec![json!({"type": "NOPE"})]).is_err());
    assert_eq!(a.fixtures().len(), 8);

    assert_eq!(run(&s, &input("hi")).await[2]["delta"], "Hello!");
    assert_eq!(run(&s, &input("bye")).await[2]["delta"], "Goodbye");
    assert_eq!(run(&s, &input("ponder")).await[3]["delta"], "thinking...");
    let ev = run(&s, &input("call it")).await;
    assert_eq!(ev[1]["toolCallName"], "lookup");
    assert_eq!(ev[4]["content"], "found");
    let mut b = input("x");
    b["state"] = json!({"todo": []});
    assert_eq!(run(&s, &b).await[1]["snapshot"], json!({"todo": ["a"]}));
    let mut b = input("x");
    b["forwardedProps"] = json!({"mode": "special"});
    assert_eq!(run(&s, &b).await[1]["name"], "special");
    let mut b = input("x");
    b["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "t", "role": "tool", "toolCallId": "call-1", "content": "r"}));
    assert_eq!(types(&run(&s, &b).await), ["RUN_STARTED", "RUN_FINISHED"]);

    s.reset();
    assert_eq!(a.fixtures().len(), 1);
    assert_eq!(post(&s, &input("hi")).await.status(), 404);
    assert_eq!(
        run(&s, &input("configured")).await[2]["delta"],
        "from config"
    );
}

#[tokio::test]
async fn control_api_adds_lists_clears_and_resets() {
    let s = server(json!([{"match": {"message": "configured"}, "text": "c"}])).await;
    let c = reqwest::Client::new();
    let url = format!("{}/__aimock/agui/fixtures", s.uri());

    let r = c
        .post(&url)
        .json(&json!({"fixtures": [{"match": {"message": "added"}, "text": "via control"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"added": 1}));
    assert_eq!(run(&s, &input("added")).await[2]["delta"], "via control");

    let r = c
        .post(&url)
        .json(&json!({"fixtures": [{"text": "fine"}, {"events": [{"type": "BAD"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "Validation failed");
    assert_eq!(v["details"][0]["fixture"], 1);
    assert!(v["details"][0]["message"].as_str().unwrap().contains("BAD"));

    let v: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["count"], 2);
    assert_eq!(v["fixtures"][1]["match"], json!({"message": "added"}));
    assert_eq!(v["fixtures"][1]["text"], "via control");

    let v: Value = c.delete(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"cleared": true}));
    assert_eq!(post(&s, &input("configured")).await.status(), 404);

    let r = c
        .post(format!("{}/__aimock/reset", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(run(&s, &input("configured")).await[2]["delta"], "c");

    let r = c
        .get(format!("{}/__aimock/agui/nope", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn every_request_is_journaled_and_counted() {
    let config = ServerConfig {
        metrics: true,
        agui: vec![agui(json!([{"match": {"message": "yes"}, "text": "ok"}]))],
        ..ServerConfig::default()
    };
    let s = MockServer::builder().config(config).start().await;
    run(&s, &input("yes")).await;
    assert_eq!(post(&s, &input("no")).await.status(), 404);
    assert_eq!(post(&s, &json!({"threadId": 1})).await.status(), 400);

    let j = s.journal();
    assert_eq!(j.len(), 3);
    assert!(j
        .iter()
        .all(|e| e.service == Some("agui") && e.path == "/agui"));
    let statuses: Vec<u16> = j.iter().map(|e| e.response.status).collect();
    assert_eq!(statuses, [200, 404, 400]);
    match &j[0].body {
        JournalBody::Json(v) => assert_eq!(v["messages"][0]["content"], "yes"),
        other => panic!("{other:?}"),
    }

    let v: Value = reqwest::get(format!("{}/__aimock/journal?service=agui", s.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["body"]["threadId"], "thread-1");

    // Made-up methods share one label, so a client cannot grow the label set.
    for name in ["FOO1", "FOO2"] {
        let r = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(name.as_bytes()).unwrap(),
                format!("{}/agui", s.uri()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
    }

    let m = support::get_text(&s, "/metrics").await;
    assert!(
        m.contains(r#"aimock_agui_requests_total{method="POST"} 3"#),
        "{m}"
    );
    assert!(
        m.contains(r#"aimock_agui_requests_total{method="OTHER"} 2"#),
        "{m}"
    );
    assert!(!m.contains("FOO1"), "{m}");
}

#[tokio::test]
async fn a_client_that_goes_away_is_journaled_as_interrupted() {
    let s = server(json!([{"text": "never read", "delayMs": 200}])).await;
    let r = post(&s, &input("x")).await;
    let mut body = r.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("RUN_STARTED"));
    drop(body);
    let e = support::interrupted(|| s.journal().pop().unwrap()).await;
    assert_eq!(e.response.delivered, Some(false));
    assert_eq!(e.response.status, 200);
}

#[tokio::test]
async fn an_agent_on_a_port_of_its_own_answers_at_the_root_and_at_its_path() {
    let config = AguiConfig {
        path: Some("/copilot".into()),
        port: Some(0),
        ..agui(json!([{"text": "own port"}]))
    };
    let s = MockServer::builder().agui(config).start().await;
    let (path, addr) = s.own_ports()[0].clone();
    assert_eq!(path, "/copilot");
    for url in [
        format!("http://{addr}/"),
        format!("http://{addr}/copilot"),
        format!("{}/copilot", s.uri()),
    ] {
        let r = reqwest::Client::new()
            .post(&url)
            .json(&input("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let ev = support::sse::json(&r.text().await.unwrap());
        assert_eq!(ev[2]["delta"], "own port");
    }
    // The control API picks the only agent without `?path=`, or the one named.
    let c = reqwest::Client::new();
    for q in ["", "?path=/copilot"] {
        let v: Value = c
            .get(format!("{}/__aimock/agui/fixtures{q}", s.uri()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["count"], 1, "{q}");
    }
    let r = c
        .get(format!("{}/__aimock/agui/fixtures?path=/nope", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// aimock's example configurations (`examples/agui/agui-text-response.json` and the `agui`
/// section of `full-suite.json`) load and answer as in aimock.
#[tokio::test]
async fn aimock_example_configs_behave_as_in_aimock() {
    let s = server(json!([
        {"match": {"message": "hello"}, "text": "Hi! How can I help you today?"},
        {"match": {"message": "search"}, "events": [
            {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1"},
            {"type": "TOOL_CALL_START", "toolCallId": "tc1", "toolCallName": "web_search"},
            {"type": "TOOL_CALL_ARGS", "toolCallId": "tc1", "delta": "{\"query\": \"latest news\"}"},
            {"type": "TOOL_CALL_END", "toolCallId": "tc1"},
            {"type": "TEXT_MESSAGE_START", "messageId": "m1", "role": "assistant"},
            {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m1", "delta": "Here are the latest results..."},
            {"type": "TEXT_MESSAGE_END", "messageId": "m1"},
            {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r1"}
        ]},
        {"match": {"toolName": "get_data"}, "events": [
            {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1"},
            {"type": "TOOL_CALL_START", "toolCallId": "tc1", "toolCallName": "get_data"},
            {"type": "TOOL_CALL_ARGS", "toolCallId": "tc1", "delta": "{}"},
            {"type": "TOOL_CALL_END", "toolCallId": "tc1"},
            {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r1"}
        ]}
    ]))
    .await;
    let ev = run(&s, &input("hello there")).await;
    assert_eq!(ev[2]["delta"], "Hi! How can I help you today?");
    let ev = run(&s, &input("search the news")).await;
    assert_eq!(ev.len(), 8);
    assert_eq!(ev[0]["threadId"], "t1", "configured ids are kept");
    assert_eq!(ev[2]["delta"], "{\"query\": \"latest news\"}");
    assert!(ev.iter().all(|e| e["timestamp"].is_u64()));
    let mut b = input("anything");
    b["tools"] = json!([{"name": "get_data", "description": "d", "parameters": {}}]);
    let ev = run(&s, &b).await;
    assert_eq!(types(&ev)[1], "TOOL_CALL_START");
    assert_eq!(ev[1]["toolCallName"], "get_data");
    assert_eq!(post(&s, &input("nothing")).await.status(), 404);
}
