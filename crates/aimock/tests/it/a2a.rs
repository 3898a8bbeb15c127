//! The A2A mock over raw HTTP: agent cards at every path, both JSON-RPC method generations and
//! their shapes, the task state machine, streaming timing, input-required continuation,
//! context-dependent matching, ListTasks, CancelTask, push notification configs, errors, the
//! journal, run-time additions (Rust and control API) and reset.

use std::sync::Arc;
use std::time::Duration;

use aimock::config::A2aConfig;
use aimock::journal::JournalBody;
use aimock::server::{AppState, ServerConfig};
use aimock::MockServer;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::{self, router};

fn config() -> A2aConfig {
    serde_json::from_value(json!({
        "agents": [
            {
                "name": "travel",
                "skills": [{"id": "book", "name": "Book"}],
                "messages": [
                    {"pattern": "hello", "parts": [{"text": "Hi!"}]},
                    {"pattern": "again", "turn": 2, "parts": [{"text": "second turn"}]},
                    {"pattern": "who am I", "contextContains": "I am Ada", "parts": [{"text": "Ada"}]},
                    {"pattern": "who am I", "parts": [{"text": "nobody"}]},
                    {"pattern": "echo?", "previousReply": "Hi!", "parts": [{"text": "you were greeted"}]},
                    {"pattern": "I am", "parts": [{"text": "noted"}]},
                    {"pattern": "explode", "error": {"code": -32050, "message": "boom", "data": {"x": 1}}}
                ],
                "tasks": [
                    {"pattern": "book", "state": "input-required", "statusMessage": "Where to?"},
                    {"pattern": "Paris", "contextContains": "book", "artifacts": [{"name": "ticket", "parts": [{"text": "CDG"}]}]},
                    {"pattern": "report", "artifacts": [{"name": "r", "parts": [{"text": "done"}, {"data": {"n": 1}}]}]},
                    {"pattern": "refuse", "state": "rejected"},
                    {"pattern": "login", "state": "auth-required"},
                    {"pattern": "polling", "delayMs": 400, "artifacts": [{"parts": [{"text": "late"}]}]}
                ],
                "streamingTasks": [
                    {"pattern": {"regex": "^slow\\b"}, "delayMs": 500, "events": [
                        {"type": "artifact", "name": "a", "parts": [{"text": "1"}]},
                        {"type": "artifact", "name": "a", "parts": [{"text": "2"}], "append": true},
                        {"type": "artifact", "name": "a", "parts": [{"text": "3"}], "append": true, "lastChunk": true}
                    ]},
                    {"pattern": "quick", "events": [
                        {"type": "status", "state": "working"},
                        {"type": "artifact", "name": "q", "parts": [{"text": "x"}], "lastChunk": true},
                        {"type": "status", "state": "failed", "message": "it broke"}
                    ]}
                ]
            },
            {"name": "other", "path": "/elsewhere", "protocolVersions": ["0.3"],
             "capabilities": {"pushNotifications": false},
             "messages": [{"pattern": "ping", "parts": [{"text": "pong"}]}]}
        ]
    }))
    .unwrap()
}

async fn server() -> MockServer {
    MockServer::builder().a2a(config()).start().await
}

/// A JSON-RPC client of an agent path: over HTTP, or in-process through the router (for tests on
/// tokio's paused clock, see `support::router`).
enum Rpc {
    Http { http: reqwest::Client, url: String },
    InProcess { state: Arc<AppState>, path: String },
}

impl Rpc {
    fn new(s: &MockServer, path: &str) -> Rpc {
        Rpc::Http {
            http: reqwest::Client::new(),
            url: format!("{}{path}", s.uri()),
        }
    }

    fn in_process(state: &Arc<AppState>, path: &str) -> Rpc {
        Rpc::InProcess {
            state: state.clone(),
            path: path.to_owned(),
        }
    }

    async fn raw(&self, body: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        match self {
            Rpc::Http { http, url } => {
                let r = http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.to_owned())
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let headers = r.headers().clone();
                (status, headers, r.json().await.unwrap())
            }
            Rpc::InProcess { state, path } => {
                let r = router::post_raw(state, path, body.to_owned(), &[]).await;
                let headers = r.headers().clone();
                let (status, _, bytes) = router::collect(r).await;
                (status, headers, serde_json::from_slice(&bytes).unwrap())
            }
        }
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": "r1", "method": method, "params": params});
        let (status, _, v) = self.raw(&body.to_string()).await;
        assert_eq!(status, 200);
        assert_eq!(v["id"], "r1");
        v
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params).await;
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    async fn error(&self, method: &str, params: Value) -> (i64, String) {
        let v = self.call(method, params).await;
        let e = &v["error"];
        assert!(e.is_object(), "{method}: expected an error, got {v}");
        (
            e["code"].as_i64().unwrap(),
            e["message"].as_str().unwrap().to_owned(),
        )
    }

    /// The SSE frames of a streaming call with the instant each arrived (on tokio's clock).
    async fn stream(&self, method: &str, params: Value) -> Vec<(Duration, Value)> {
        let t0 = Instant::now();
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        type Body = BoxStream<'static, Result<Bytes, String>>;
        let (status, headers, body): (_, _, Body) = match self {
            Rpc::Http { http, url } => {
                let r = http
                    .post(url)
                    .header("accept", "text/event-stream")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let (status, headers) = (r.status(), r.headers().clone());
                (
                    status,
                    headers,
                    r.bytes_stream().map_err(|e| e.to_string()).boxed(),
                )
            }
            Rpc::InProcess { state, path } => {
                let r = router::post(state, path, &body, &[("accept", "text/event-stream")]).await;
                let (status, headers) = (r.status(), r.headers().clone());
                let body = r.into_body().into_data_stream();
                (status, headers, body.map_err(|e| e.to_string()).boxed())
            }
        };
        assert_eq!(status, 200);
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let mut events = support::sse::Reader::new(body);
        let mut out = Vec::new();
        while let Some(event) = events.next().await {
            let v = event.json();
            assert_eq!(v["id"], 7);
            out.push((t0.elapsed(), v["result"].clone()));
        }
        out
    }
}

fn user(text: &str) -> Value {
    json!({"message": {"messageId": format!("m-{text}"), "role": "ROLE_USER", "parts": [{"text": text}]}})
}

fn user03(text: &str) -> Value {
    json!({"message": {"kind": "message", "messageId": format!("m-{text}"), "role": "user",
        "parts": [{"kind": "text", "text": text}]}})
}

fn with_ctx(mut p: Value, ctx: &Value, task: Option<&Value>) -> Value {
    p["message"]["contextId"] = ctx.clone();
    if let Some(t) = task {
        p["message"]["taskId"] = t.clone();
    }
    p
}

#[tokio::test]
async fn cards_are_served_at_every_agent_path() {
    let s = server().await;
    let http = reqwest::Client::new();
    let get = |p: &str| {
        let http = http.clone();
        let u = format!("{}{p}", s.uri());
        async move { http.get(u).send().await.unwrap() }
    };
    for (path, name, url) in [
        ("/a2a/.well-known/agent-card.json", "travel", "/a2a"),
        ("/a2a/.well-known/agent.json", "travel", "/a2a"),
        ("/.well-known/agent-card.json", "travel", "/a2a"),
        (
            "/a2a/travel/.well-known/agent-card.json",
            "travel",
            "/a2a/travel",
        ),
        (
            "/a2a/other/.well-known/agent-card.json",
            "other",
            "/a2a/elsewhere",
        ),
        (
            "/a2a/elsewhere/.well-known/agent.json",
            "other",
            "/a2a/elsewhere",
        ),
    ] {
        let r = get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["a2a-version"], "1.0");
        let card: Value = r.json().await.unwrap();
        assert_eq!(card["name"], name, "{path}");
        let want = format!("{}{url}", s.uri());
        assert_eq!(
            card["supportedInterfaces"][0]["url"],
            want.as_str(),
            "{path}"
        );
        assert_eq!(card["supportedInterfaces"][0]["protocolBinding"], "JSONRPC");
        assert_eq!(card["url"], want.as_str());
        assert_eq!(card["preferredTransport"], "JSONRPC");
        assert!(card["defaultInputModes"].is_array() && card["skills"].is_array());
    }
    let travel: Value = get("/a2a/.well-known/agent-card.json")
        .await
        .json()
        .await
        .unwrap();
    let versions: Vec<String> = travel["supportedInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i["protocolBinding"].as_str().unwrap(),
                i["protocolVersion"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(versions, ["JSONRPC 1.0", "JSONRPC 0.3", "HTTP+JSON 1.0"]);
    assert_eq!(travel["protocolVersion"], "0.3.0");
    assert_eq!(
        travel["capabilities"],
        json!({"streaming": true, "pushNotifications": true})
    );
    assert_eq!(
        travel["skills"][0],
        json!({"id": "book", "name": "Book", "description": "", "tags": []})
    );
    let other: Value = get("/a2a/other/.well-known/agent-card.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["supportedInterfaces"].as_array().unwrap().len(), 1);
    assert_eq!(other["capabilities"]["pushNotifications"], false);
    assert_eq!(get("/a2a/nobody/x").await.status(), 404);
    let r = http
        .post(format!("{}/a2a/.well-known/agent-card.json", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(get("/a2a").await.status(), 405);
}

#[tokio::test]
async fn v1_methods_answer_in_v1_shapes() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let (_, headers, v) = rpc
        .raw(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": user("hello")})
                .to_string(),
        )
        .await;
    assert_eq!(headers["a2a-version"], "1.0");
    let m = &v["result"]["message"];
    assert_eq!(m["role"], "ROLE_AGENT");
    assert_eq!(m["parts"], json!([{"text": "Hi!"}]));
    assert!(m["messageId"].as_str().unwrap().starts_with("msg-"));
    assert!(m["contextId"].is_string());

    let t = rpc.ok("SendMessage", user("the report")).await["task"].clone();
    assert_eq!(t["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(t["artifacts"][0]["name"], "r");
    assert_eq!(
        t["artifacts"][0]["parts"],
        json!([{"text": "done"}, {"data": {"n": 1}}])
    );
    assert_eq!(t["history"][0]["role"], "ROLE_USER");
    assert!(t.get("kind").is_none());
    // GetTask returns the Task itself, not a wrapper.
    let got = rpc.ok("GetTask", json!({"id": t["id"]})).await;
    assert_eq!(got["id"], t["id"]);
    assert_eq!(got["status"]["state"], "TASK_STATE_COMPLETED");
    let trimmed = rpc
        .ok("GetTask", json!({"id": t["id"], "historyLength": 0}))
        .await;
    assert!(trimmed.get("history").is_none());

    let rejected = rpc.ok("SendMessage", user("refuse it")).await;
    assert_eq!(rejected["task"]["status"]["state"], "TASK_STATE_REJECTED");
    let auth = rpc.ok("SendMessage", user("login please")).await;
    assert_eq!(auth["task"]["status"]["state"], "TASK_STATE_AUTH_REQUIRED");
}

#[tokio::test]
async fn v03_methods_answer_in_v03_shapes() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let (_, headers, v) = rpc
        .raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": user03("hello")}).to_string())
        .await;
    assert_eq!(headers["a2a-version"], "0.3");
    let m = &v["result"];
    assert_eq!(m["kind"], "message");
    assert_eq!(m["role"], "agent");
    assert_eq!(m["parts"], json!([{"kind": "text", "text": "Hi!"}]));

    let t = rpc.ok("message/send", user03("report")).await;
    assert_eq!(t["kind"], "task");
    assert_eq!(t["status"]["state"], "completed");
    assert_eq!(
        t["artifacts"][0]["parts"],
        json!([{"kind": "text", "text": "done"}, {"kind": "data", "data": {"n": 1}}])
    );
    assert_eq!(t["history"][0]["kind"], "message");
    assert_eq!(t["history"][0]["role"], "user");
    let got = rpc.ok("tasks/get", json!({"id": t["id"]})).await;
    assert_eq!(got["kind"], "task");
    assert_eq!(got["status"]["state"], "completed");

    // v0.3 streaming: status-update / artifact-update with `final`.
    let frames = rpc.stream("message/stream", user03("quick one")).await;
    let kinds: Vec<&str> = frames
        .iter()
        .map(|(_, f)| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["task", "status-update", "artifact-update", "status-update"]
    );
    assert_eq!(frames[0].1["status"]["state"], "submitted");
    assert_eq!(frames[1].1["status"]["state"], "working");
    assert_eq!(frames[1].1["final"], false);
    assert_eq!(frames[3].1["status"]["state"], "failed");
    assert_eq!(frames[3].1["final"], true);
    assert_eq!(
        frames[3].1["status"]["message"]["parts"][0]["text"],
        "it broke"
    );
    assert_eq!(
        frames[2].1["artifact"]["parts"][0],
        json!({"kind": "text", "text": "x"})
    );
}

/// In-process on tokio's paused clock (see `support::router`): the frame times are the
/// configured delays, whatever the load on the machine.
#[tokio::test(start_paused = true)]
async fn streaming_is_paced_and_walks_the_state_machine() {
    let config = ServerConfig {
        a2a: vec![config()],
        ..ServerConfig::default()
    };
    let s = router::app(config, None);
    let rpc = Rpc::in_process(&s, "/a2a");
    let frames = rpc
        .stream("SendStreamingMessage", user("slow please"))
        .await;
    let kinds: Vec<&str> = frames
        .iter()
        .map(|(_, f)| f.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "task",
            "statusUpdate",
            "artifactUpdate",
            "artifactUpdate",
            "artifactUpdate",
            "statusUpdate"
        ]
    );
    assert_eq!(
        frames[0].1["task"]["status"]["state"],
        "TASK_STATE_SUBMITTED"
    );
    assert_eq!(
        frames[1].1["statusUpdate"]["status"]["state"],
        "TASK_STATE_WORKING"
    );
    assert_eq!(
        frames[5].1["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    assert_eq!(frames[3].1["artifactUpdate"]["append"], true);
    assert_eq!(frames[4].1["artifactUpdate"]["lastChunk"], true);
    // Three events 500 ms apart: the first frames arrive long before the last is due.
    let first = frames[0].0;
    let last = frames[5].0;
    assert!(
        first < Duration::from_millis(1000),
        "first frame at {first:?}"
    );
    assert!(
        last >= Duration::from_millis(1400),
        "last frame at {last:?}"
    );
    assert!(frames[2].0 < last);
    let task_id = frames[0].1["task"]["id"].clone();
    let got = rpc.ok("GetTask", json!({"id": task_id})).await;
    assert_eq!(
        got["artifacts"][0]["parts"],
        json!([{"text": "1"}, {"text": "2"}, {"text": "3"}])
    );

    // A plain message reply to a streaming request: one `message` event.
    let frames = rpc.stream("SendStreamingMessage", user("hello")).await;
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].1["message"]["parts"][0]["text"], "Hi!");
    // A task reply to a streaming request: task, then its events.
    let frames = rpc.stream("SendStreamingMessage", user("report")).await;
    assert!(frames[0].1.get("task").is_some());
    assert_eq!(
        frames.last().unwrap().1["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
}

#[tokio::test]
async fn a_delayed_task_can_be_polled() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let mut p = user("polling");
    p["configuration"] = json!({"returnImmediately": true});
    let t = rpc.ok("SendMessage", p).await["task"].clone();
    assert_eq!(t["status"]["state"], "TASK_STATE_SUBMITTED");
    let mut states = Vec::new();
    support::eventually(async || {
        let g = rpc.ok("GetTask", json!({"id": t["id"]})).await;
        let st = g["status"]["state"].as_str().unwrap().to_owned();
        if states.last() != Some(&st) {
            states.push(st.clone());
        }
        if st == "TASK_STATE_COMPLETED" {
            assert_eq!(g["artifacts"][0]["parts"][0]["text"], "late");
            Ok(())
        } else {
            Err(format!("not completed: {states:?}"))
        }
    })
    .await;
    assert_eq!(states.last().unwrap(), "TASK_STATE_COMPLETED");
    assert!(
        states.contains(&"TASK_STATE_WORKING".to_owned()),
        "{states:?}"
    );
    // Blocking: the answer waits for the task to finish.
    let t0 = Instant::now();
    let done = rpc.ok("SendMessage", user("polling")).await;
    assert_eq!(done["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    assert!(t0.elapsed() >= Duration::from_millis(350));
}

#[tokio::test]
async fn input_required_continues_on_the_same_task() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let t = rpc.ok("SendMessage", user("book a trip")).await["task"].clone();
    assert_eq!(t["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    assert_eq!(t["status"]["message"]["parts"][0]["text"], "Where to?");
    assert_eq!(t["status"]["message"]["role"], "ROLE_AGENT");
    // Continue with taskId + contextId.
    let t2 = rpc
        .ok(
            "SendMessage",
            with_ctx(user("Paris"), &t["contextId"], Some(&t["id"])),
        )
        .await["task"]
        .clone();
    assert_eq!(t2["id"], t["id"]);
    assert_eq!(t2["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(t2["artifacts"][0]["parts"][0]["text"], "CDG");
    let roles: Vec<&str> = t2["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["ROLE_USER", "ROLE_AGENT", "ROLE_USER"]);
    // The task is terminal now.
    let (code, msg) = rpc
        .error(
            "SendMessage",
            with_ctx(user("Paris"), &t["contextId"], Some(&t["id"])),
        )
        .await;
    assert_eq!(code, -32004, "{msg}");
    // Continue with the contextId alone (v0.3 this time).
    let t = rpc.ok("message/send", user03("book again")).await;
    assert_eq!(t["status"]["state"], "input-required");
    let t2 = rpc
        .ok(
            "message/send",
            with_ctx(user03("Paris"), &t["contextId"], None),
        )
        .await;
    assert_eq!(t2["id"], t["id"]);
    assert_eq!(t2["status"]["state"], "completed");
    // Unknown task / a context that does not match the task.
    let (code, _) = rpc
        .error(
            "SendMessage",
            with_ctx(user("x"), &json!("c"), Some(&json!("task-x"))),
        )
        .await;
    assert_eq!(code, -32001);
    let t = rpc.ok("SendMessage", user("book")).await["task"].clone();
    let (code, _) = rpc
        .error(
            "SendMessage",
            with_ctx(user("Paris"), &json!("ctx-other"), Some(&t["id"])),
        )
        .await;
    assert_eq!(code, -32602);
}

#[tokio::test]
async fn matching_depends_on_the_conversation() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let text = |v: &Value| {
        v["message"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = rpc.ok("SendMessage", user("I am Ada")).await;
    assert_eq!(text(&a), "noted");
    let ctx = a["message"]["contextId"].clone();
    let b = rpc
        .ok("SendMessage", with_ctx(user("who am I?"), &ctx, None))
        .await;
    assert_eq!(text(&b), "Ada");
    assert_eq!(b["message"]["contextId"], ctx);
    let c = rpc.ok("SendMessage", user("who am I?")).await;
    assert_eq!(text(&c), "nobody");
    // turn
    let h = rpc.ok("SendMessage", user("hello")).await;
    let hctx = h["message"]["contextId"].clone();
    let (code, _) = rpc.error("SendMessage", user("again")).await;
    assert_eq!(code, -32000);
    let again = rpc
        .ok("SendMessage", with_ctx(user("again"), &hctx, None))
        .await;
    assert_eq!(text(&again), "second turn");
    // previousReply: the agent's last reply was "second turn", not "Hi!".
    let (code, _) = rpc
        .error("SendMessage", with_ctx(user("echo?"), &hctx, None))
        .await;
    assert_eq!(code, -32000);
    let h2 = rpc.ok("SendMessage", user("hello")).await;
    let e = rpc
        .ok(
            "SendMessage",
            with_ctx(user("echo?"), &h2["message"]["contextId"], None),
        )
        .await;
    assert_eq!(text(&e), "you were greeted");
}

#[tokio::test]
async fn list_cancel_and_subscribe() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let a = rpc.ok("SendMessage", user("report a")).await["task"].clone();
    let b = rpc.ok("SendMessage", user("book it")).await["task"].clone();
    let c = rpc
        .ok(
            "SendMessage",
            with_ctx(user("report c"), &a["contextId"], None),
        )
        .await["task"]
        .clone();
    let all = rpc.ok("ListTasks", json!({})).await;
    assert_eq!(all["totalSize"], 3);
    assert_eq!(all["tasks"][0]["id"], c["id"], "newest first");
    assert!(
        all["tasks"][0].get("artifacts").is_none(),
        "artifacts only on request"
    );
    let with = rpc.ok("ListTasks", json!({"includeArtifacts": true})).await;
    assert!(with["tasks"][0]["artifacts"].is_array());
    let ctx = rpc
        .ok("ListTasks", json!({"contextId": a["contextId"]}))
        .await;
    assert_eq!(ctx["tasks"].as_array().unwrap().len(), 2);
    let waiting = rpc
        .ok("ListTasks", json!({"status": "TASK_STATE_INPUT_REQUIRED"}))
        .await;
    assert_eq!(waiting["tasks"][0]["id"], b["id"]);
    let p1 = rpc.ok("ListTasks", json!({"pageSize": 2})).await;
    assert_eq!(p1["tasks"].as_array().unwrap().len(), 2);
    let p2 = rpc
        .ok(
            "ListTasks",
            json!({"pageSize": 2, "pageToken": p1["nextPageToken"]}),
        )
        .await;
    assert_eq!(p2["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(p2["nextPageToken"], "");
    assert_eq!(
        rpc.error("ListTasks", json!({"pageSize": 0})).await.0,
        -32602
    );
    assert_eq!(
        rpc.error("ListTasks", json!({"pageToken": "zz"})).await.0,
        -32602
    );

    // Cancel: completed → -32002, unknown → -32001, input-required → canceled.
    assert_eq!(
        rpc.error("CancelTask", json!({"id": a["id"]})).await.0,
        -32002
    );
    assert_eq!(
        rpc.error("tasks/cancel", json!({"id": "nope"})).await.0,
        -32001
    );
    let canceled = rpc.ok("CancelTask", json!({"id": b["id"]})).await;
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");
    assert_eq!(
        rpc.error("CancelTask", json!({"id": b["id"]})).await.0,
        -32002
    );

    // Subscribe to a running task (started with returnImmediately), then cancel it.
    let mut p = user("slow job");
    p["configuration"] = json!({"returnImmediately": true});
    let running = rpc.ok("SendMessage", p).await["task"].clone();
    // Answered before the task ran (its first artifact is 500 ms away): nothing of the run is
    // in the answer. A reply that waited for any of it would carry an artifact or a later state.
    assert!(
        running["artifacts"].as_array().is_none_or(Vec::is_empty),
        "{running}"
    );
    assert_eq!(running["status"]["state"], "TASK_STATE_SUBMITTED");
    let id = running["id"].clone();
    let sub_rpc = Rpc::new(&s, "/a2a");
    let sub =
        tokio::spawn(async move { sub_rpc.stream("SubscribeToTask", json!({"id": id})).await });
    // Cancel once the first artifact is in (the next is 500 ms away).
    support::eventually(async || {
        let t = rpc.ok("GetTask", json!({"id": running["id"]})).await;
        if t["artifacts"].is_array() {
            Ok(())
        } else {
            Err(format!("no artifact yet: {t}"))
        }
    })
    .await;
    let c = rpc.ok("CancelTask", json!({"id": running["id"]})).await;
    assert_eq!(c["status"]["state"], "TASK_STATE_CANCELED");
    let frames = sub.await.unwrap();
    assert!(frames[0].1.get("task").is_some());
    assert_eq!(
        frames.last().unwrap().1["statusUpdate"]["status"]["state"],
        "TASK_STATE_CANCELED"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let got = rpc.ok("GetTask", json!({"id": running["id"]})).await;
    assert_eq!(got["status"]["state"], "TASK_STATE_CANCELED");
    assert!(
        got["artifacts"][0]["parts"].as_array().unwrap().len() < 3,
        "the rest never ran"
    );
    // Subscribing to a terminal task is an error.
    assert_eq!(
        rpc.error("SubscribeToTask", json!({"id": running["id"]}))
            .await
            .0,
        -32004
    );
}

#[tokio::test]
async fn push_notification_configs_are_stored_per_task() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let t = rpc.ok("SendMessage", user("book")).await["task"].clone();
    let id = t["id"].clone();
    let made = rpc
        .ok(
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "url": "http://127.0.0.1:9/h", "token": "t",
                   "authentication": {"scheme": "Bearer", "credentials": "c"}}),
        )
        .await;
    assert_eq!(made["id"], id, "the id defaults to the task's");
    assert_eq!(made["authentication"]["scheme"], "Bearer");
    rpc.ok(
        "CreateTaskPushNotificationConfig",
        json!({"taskId": id, "id": "two", "url": "http://127.0.0.1:9/2"}),
    )
    .await;
    let got = rpc
        .ok(
            "GetTaskPushNotificationConfig",
            json!({"taskId": id, "id": "two"}),
        )
        .await;
    assert_eq!(got["url"], "http://127.0.0.1:9/2");
    let list = rpc
        .ok("ListTaskPushNotificationConfigs", json!({"taskId": id}))
        .await;
    assert_eq!(list["configs"].as_array().unwrap().len(), 2);
    // The same configs through the v0.3 methods, in v0.3 shapes.
    let list03 = rpc
        .ok("tasks/pushNotificationConfig/list", json!({"id": id}))
        .await;
    assert_eq!(list03[0]["taskId"], id);
    assert_eq!(
        list03[0]["pushNotificationConfig"]["authentication"]["schemes"],
        json!(["Bearer"])
    );
    let set03 = rpc
        .ok(
            "tasks/pushNotificationConfig/set",
            json!({"taskId": id, "pushNotificationConfig": {"id": "three", "url": "http://127.0.0.1:9/3"}}),
        )
        .await;
    assert_eq!(set03["pushNotificationConfig"]["id"], "three");
    let get03 = rpc
        .ok(
            "tasks/pushNotificationConfig/get",
            json!({"id": id, "pushNotificationConfigId": "three"}),
        )
        .await;
    assert_eq!(
        get03["pushNotificationConfig"]["url"],
        "http://127.0.0.1:9/3"
    );
    let del = rpc
        .ok(
            "tasks/pushNotificationConfig/delete",
            json!({"id": id, "pushNotificationConfigId": "three"}),
        )
        .await;
    assert!(del.is_null());
    rpc.ok(
        "DeleteTaskPushNotificationConfig",
        json!({"taskId": id, "id": "two"}),
    )
    .await;
    let list = rpc
        .ok("ListTaskPushNotificationConfigs", json!({"taskId": id}))
        .await;
    assert_eq!(list["configs"].as_array().unwrap().len(), 1);
    assert_eq!(
        rpc.error(
            "GetTaskPushNotificationConfig",
            json!({"taskId": id, "id": "two"})
        )
        .await
        .0,
        -32001
    );
    assert_eq!(
        rpc.error("ListTaskPushNotificationConfigs", json!({"taskId": "nope"}))
            .await
            .0,
        -32001
    );
    assert_eq!(
        rpc.error(
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "url": "ftp://x"})
        )
        .await
        .0,
        -32602
    );
    // A config given with the message is stored on the new task.
    let mut p = user("book");
    p["configuration"] =
        json!({"taskPushNotificationConfig": {"url": "http://127.0.0.1:9/m", "id": "m"}});
    let t = rpc.ok("SendMessage", p).await["task"].clone();
    let list = rpc
        .ok(
            "ListTaskPushNotificationConfigs",
            json!({"taskId": t["id"]}),
        )
        .await;
    assert_eq!(list["configs"][0]["id"], "m");
    assert_eq!(list["configs"][0]["taskId"], t["id"]);
    // An agent without push notifications.
    let other = Rpc::new(&s, "/a2a/other");
    assert_eq!(
        other
            .error("ListTaskPushNotificationConfigs", json!({"taskId": id}))
            .await
            .0,
        -32003
    );
}

#[tokio::test]
async fn errors_come_in_json_rpc_envelopes() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let (status, _, v) = rpc.raw("{not json").await;
    assert_eq!(status, 200);
    assert_eq!(v["error"]["code"], -32700);
    assert!(v["id"].is_null());
    let (_, _, v) = rpc.raw("[1]").await;
    assert_eq!(v["error"]["code"], -32600);
    let (_, _, v) = rpc
        .raw(r#"{"jsonrpc":"1.0","id":1,"method":"GetTask"}"#)
        .await;
    assert_eq!(v["error"]["code"], -32600);
    assert_eq!(rpc.error("message/explode", json!({})).await.0, -32601);
    assert_eq!(rpc.error("SendMessage", json!({})).await.0, -32602);
    assert_eq!(
        rpc.error("SendMessage", json!({"message": {"parts": []}}))
            .await
            .0,
        -32602
    );
    assert_eq!(
        rpc.error("GetTask", json!({"id": "task-none"})).await.0,
        -32001
    );
    assert_eq!(rpc.error("GetTask", json!({})).await.0, -32602);
    let (code, msg) = rpc.error("SendMessage", user("nothing at all")).await;
    assert_eq!(
        (code, msg.as_str()),
        (-32000, "No matching pattern for message")
    );
    let v = rpc.call("SendMessage", user("explode")).await;
    assert_eq!(
        v["error"],
        json!({"code": -32050, "message": "boom", "data": {"x": 1}})
    );
    // A2A-Version must match the method's generation.
    let r = reqwest::Client::new()
        .post(format!("{}/a2a", s.uri()))
        .header("A2A-Version", "0.3")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": user("hello")}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], -32009);
    let r = reqwest::Client::new()
        .post(format!("{}/a2a", s.uri()))
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": user("hello")}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v["result"]["message"].is_object());
    // Agents at their own paths only answer with their own fixtures; the default agent (at the
    // mount) also falls back to the other agents'.
    let other = Rpc::new(&s, "/a2a/elsewhere");
    assert_eq!(other.error("SendMessage", user("hello")).await.0, -32000);
    assert_eq!(
        other.ok("SendMessage", user("ping")).await["message"]["parts"][0]["text"],
        "pong"
    );
    assert_eq!(
        rpc.ok("SendMessage", user("ping")).await["message"]["parts"][0]["text"],
        "pong"
    );
}

#[tokio::test]
async fn journal_reset_and_run_time_additions() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let t = rpc.ok("SendMessage", user("report")).await["task"].clone();
    let http = reqwest::Client::new();
    http.get(format!("{}/a2a/.well-known/agent-card.json", s.uri()))
        .send()
        .await
        .unwrap();
    let journal = s.journal();
    let a2a: Vec<_> = journal
        .iter()
        .filter(|e| e.service == Some("a2a"))
        .collect();
    assert_eq!(a2a.len(), 2);
    match &a2a[0].body {
        JournalBody::Json(v) => assert_eq!(v["method"], "SendMessage"),
        other => panic!("{other:?}"),
    }
    assert_eq!(a2a[1].method, "GET");

    // Rust API.
    let a2a_server = s.a2a(None).unwrap();
    a2a_server
        .on_message(
            "travel",
            serde_json::from_value(json!({"pattern": "runtime", "parts": [{"text": "added"}]}))
                .unwrap(),
        )
        .unwrap();
    assert!(a2a_server
        .on_message(
            "ghost",
            serde_json::from_value(json!({"parts": [{"text": "x"}]})).unwrap()
        )
        .is_err());
    assert_eq!(
        rpc.ok("SendMessage", user("runtime")).await["message"]["parts"][0]["text"],
        "added"
    );
    // Control API: a new agent and a fixture for it.
    let r = http
        .post(format!("{}/__aimock/a2a/agents", s.uri()))
        .json(&json!({"name": "late", "messages": [{"pattern": "hi", "parts": [{"text": "late hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{}/__aimock/a2a/agents/late/tasks", s.uri()))
        .json(&json!([{"pattern": "job", "artifacts": [{"parts": [{"text": "ok"}]}]}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let late = Rpc::new(&s, "/a2a/late");
    assert_eq!(
        late.ok("SendMessage", user("hi")).await["message"]["parts"][0]["text"],
        "late hi"
    );
    assert_eq!(
        late.ok("SendMessage", user("job")).await["task"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    let health: Value = http
        .get(format!("{}/__aimock/a2a", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["agents"], json!(["travel", "other", "late"]));
    assert_eq!(health["tasks"], 2);
    let bad = http
        .post(format!("{}/__aimock/a2a/agents/late/tasks", s.uri()))
        .json(&json!({"pattern": {"regex": "("}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Reset: tasks, contexts and run-time additions go.
    let r = http
        .post(format!("{}/__aimock/reset", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(rpc.error("GetTask", json!({"id": t["id"]})).await.0, -32001);
    assert_eq!(rpc.error("SendMessage", user("runtime")).await.0, -32000);
    let r = http
        .get(format!("{}/a2a/late/.well-known/agent-card.json", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(a2a_server.health()["tasks"], 0);
}

#[test]
fn bad_configurations_are_refused_naming_the_field() {
    let bad = |v: Value| -> String {
        let c: A2aConfig = serde_json::from_value(v).unwrap();
        aimock::a2a::A2aServer::new(c).unwrap_err()
    };
    let e = bad(
        json!({"agents": [{"name": "a", "messages": [{"pattern": {"regex": "("}, "parts": [{"text": "x"}]}]}]}),
    );
    assert!(e.starts_with("agents[0].messages[0].pattern.regex"), "{e}");
    let e = bad(json!({"agents": [{"name": "a", "tasks": [{"state": "sleeping"}]}]}));
    assert!(e.starts_with("agents[0].tasks[0].state"), "{e}");
    let e =
        bad(json!({"agents": [{"name": "a", "streamingTasks": [{"events": [{"type": "nap"}]}]}]}));
    assert!(
        e.starts_with("agents[0].streamingTasks[0].events[0].type"),
        "{e}"
    );
    let e = bad(json!({"agents": [{"name": "a", "messages": [{"parts": [{"nothing": 1}]}]}]}));
    assert!(e.contains("agents[0].messages[0]"), "{e}");
    let e = bad(json!({"agents": [{"name": "a"}, {"name": "a"}]}));
    assert!(e.starts_with("agents[1].name"), "{e}");
    let e = bad(json!({"agents": [{"name": "a", "protocolVersions": ["2.0"]}]}));
    assert!(e.starts_with("agents[0].protocolVersions"), "{e}");
    let e = bad(
        json!({"agents": [{"name": "a", "messages": [{"turn": 0, "parts": [{"text": "x"}]}]}]}),
    );
    assert!(e.starts_with("agents[0].messages[0].turn"), "{e}");
}

#[tokio::test]
async fn rest_binding_and_metrics() {
    let config = aimock::server::ServerConfig {
        metrics: true,
        a2a: vec![config()],
        ..aimock::server::ServerConfig::default()
    };
    let s = MockServer::builder().config(config).start().await;
    let http = reqwest::Client::new();
    let base = format!("{}/a2a", s.uri());
    let r = http
        .post(format!("{base}/message:send"))
        .json(&user("report"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let id = v["task"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    let got: Value = http
        .get(format!("{base}/tasks/{id}?historyLength=0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], id.as_str());
    assert!(got.get("history").is_none());
    let list: Value = http
        .get(format!("{base}/tasks?pageSize=1&includeArtifacts=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["tasks"][0]["artifacts"][0]["name"], "r");
    // Errors are google.rpc.Status with an ErrorInfo reason.
    let r = http
        .get(format!("{base}/tasks/task-missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["status"], "NOT_FOUND");
    assert_eq!(e["error"]["details"][0]["reason"], "TASK_NOT_FOUND");
    let r = http
        .post(format!("{base}/tasks/{id}:cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["details"][0]["reason"], "TASK_NOT_CANCELABLE");
    // Streaming over REST: bare StreamResponse objects, no JSON-RPC envelope.
    let body = http
        .post(format!("{base}/message:stream"))
        .json(&user("quick"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let frames: Vec<Value> = body
        .split("\n\n")
        .filter_map(|f| f.trim().strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(frames[0]["task"].is_object());
    assert_eq!(
        frames.last().unwrap()["statusUpdate"]["status"]["state"],
        "TASK_STATE_FAILED"
    );

    let rpc = Rpc::new(&s, "/a2a");
    rpc.ok("message/send", user03("hello")).await;
    http.get(format!("{base}/.well-known/agent-card.json"))
        .send()
        .await
        .unwrap();
    let m = support::get_text(&s, "/metrics").await;
    for line in [
        r#"aimock_a2a_requests_total{method="SendMessage"} 1"#,
        r#"aimock_a2a_requests_total{method="message/send"} 1"#,
        r#"aimock_a2a_requests_total{method="GetAgentCard"} 1"#,
        r#"aimock_a2a_requests_total{method="SendStreamingMessage"} 1"#,
    ] {
        assert!(m.contains(line), "{line} in {m}");
    }
}

#[tokio::test]
async fn a_port_of_its_own_serves_at_the_root_and_the_path() {
    let mut c = config();
    c.port = Some(0);
    let s = MockServer::builder().a2a(c).start().await;
    let (_, addr) = s.own_ports()[0].clone();
    let http = reqwest::Client::new();
    let card: Value = http
        .get(format!("http://{addr}/.well-known/agent-card.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["name"], "travel");
    // The advertised URL (the mount path) is served on this port too.
    let url = card["supportedInterfaces"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, format!("http://{addr}/a2a"));
    for u in [url.clone(), format!("http://{addr}/")] {
        let v: Value = http
            .post(&u)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": user("hello")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["result"]["message"]["parts"][0]["text"], "Hi!", "{u}");
    }
}

#[tokio::test]
async fn stored_tasks_contexts_and_push_configs_are_bounded() {
    let cfg: A2aConfig = serde_json::from_value(json!({
        "maxTasks": 2, "maxContexts": 2,
        "agents": [{"name": "a",
            "messages": [
                {"pattern": "again", "turn": 2, "parts": [{"text": "second"}]},
                {"pattern": "again", "parts": [{"text": "first"}]}
            ],
            "tasks": [{"pattern": "job"}, {"pattern": "wait", "state": "input-required"}]}]
    }))
    .unwrap();
    let s = MockServer::builder().a2a(cfg).start().await;
    let rpc = Rpc::new(&s, "/a2a");
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(rpc.ok("SendMessage", user("job")).await["task"]["id"].clone());
    }
    let (code, _) = rpc.error("GetTask", json!({"id": ids[0]})).await;
    assert_eq!(code, -32001, "the oldest task was pushed out");
    rpc.ok("GetTask", json!({"id": ids[2]})).await;
    let list = rpc.ok("ListTasks", json!({})).await;
    assert_eq!(list["totalSize"], 2);
    // A page token past any end is an empty page, not an overflow.
    let list = rpc
        .ok("ListTasks", json!({"pageToken": usize::MAX.to_string()}))
        .await;
    assert_eq!(list["tasks"], json!([]));
    assert_eq!(list["nextPageToken"], "");

    // Context A is the least recently used when C comes, so it is forgotten.
    let text = |v: &Value| {
        v["message"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for ctx in ["A", "B", "C"] {
        let r = rpc
            .ok("SendMessage", with_ctx(user("again"), &json!(ctx), None))
            .await;
        assert_eq!(text(&r), "first");
    }
    let r = rpc
        .ok("SendMessage", with_ctx(user("again"), &json!("A"), None))
        .await;
    assert_eq!(text(&r), "first", "context A was forgotten");
    let r = rpc
        .ok("SendMessage", with_ctx(user("again"), &json!("A"), None))
        .await;
    assert_eq!(text(&r), "second");

    // At most 100 push configs per task; replacing one by its id still works.
    let id = rpc.ok("SendMessage", user("wait")).await["task"]["id"].clone();
    for i in 0..100 {
        rpc.ok(
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "id": format!("c{i}"), "url": "http://127.0.0.1:9/h"}),
        )
        .await;
    }
    let (code, msg) = rpc
        .error(
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "id": "c100", "url": "http://127.0.0.1:9/h"}),
        )
        .await;
    assert_eq!(code, -32602, "{msg}");
    rpc.ok(
        "CreateTaskPushNotificationConfig",
        json!({"taskId": id, "id": "c7", "url": "http://127.0.0.1:9/other"}),
    )
    .await;
}

/// aimock's own example configurations load and answer as in aimock; `".*"` (full-suite.json)
/// matches every message.
#[tokio::test]
async fn aimock_example_configs_behave_as_in_aimock() {
    let full_suite: A2aConfig = serde_json::from_value(json!({"agents": [{
        "name": "assistant", "description": "A general-purpose assistant agent", "version": "1.0.0",
        "skills": [{"id": "qa", "name": "Q&A", "description": "Answer questions"}],
        "capabilities": {"streaming": true},
        "messages": [{"pattern": ".*", "parts": [{"text": "I can help you with that."}]}]
    }]}))
    .unwrap();
    let s = MockServer::builder().a2a(full_suite).start().await;
    let rpc = Rpc::new(&s, "/a2a");
    let r = rpc.ok("SendMessage", user("what is the weather?")).await;
    assert_eq!(
        r["message"]["parts"][0]["text"], "I can help you with that.",
        "{r}"
    );
    let frames = rpc.stream("SendStreamingMessage", user("anything")).await;
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].1["message"]["role"], "ROLE_AGENT");

    let example: A2aConfig = serde_json::from_value(json!({"agents": [{
        "name": "research-agent", "version": "1.0.0",
        "skills": [{"id": "web-research", "name": "Web Research",
            "description": "Search the web and summarize findings", "tags": ["research", "search"]}],
        "capabilities": {"streaming": true},
        "messages": [{"pattern": "research",
            "parts": [{"text": "Here is a summary of my research findings on the topic."}]}],
        "streamingTasks": [{"pattern": "deep-research", "delayMs": 100, "events": [
            {"type": "status", "state": "TASK_STATE_WORKING"},
            {"type": "artifact", "name": "research-report",
             "parts": [{"text": "## Research Report\n\nFindings from deep research..."}], "lastChunk": true},
            {"type": "status", "state": "TASK_STATE_COMPLETED"}
        ]}]
    }]}))
    .unwrap();
    let s = MockServer::builder().a2a(example).start().await;
    let rpc = Rpc::new(&s, "/a2a");
    let card: Value = reqwest::get(format!("{}/a2a/.well-known/agent-card.json", s.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["name"], "research-agent");
    assert_eq!(card["skills"][0]["tags"][1], "search");
    let r = rpc.ok("SendMessage", user("research cats")).await;
    assert!(r["message"]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Here is a summary"));
    // As in aimock, "deep-research" contains "research": the message fixture answers a plain
    // send, and the streaming task a streaming one.
    let r = rpc.ok("SendMessage", user("deep-research")).await;
    assert!(r.get("message").is_some(), "{r}");
    let frames = rpc
        .stream("SendStreamingMessage", user("deep-research"))
        .await;
    assert!(frames[0].1.get("task").is_some(), "{frames:?}");
    let art = frames
        .iter()
        .find_map(|(_, f)| f.get("artifactUpdate"))
        .expect("an artifact update");
    assert_eq!(art["artifact"]["name"], "research-report");
    let last = &frames.last().unwrap().1;
    assert_eq!(
        last["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    // A streaming request a message fixture answers gets the message.
    let frames = rpc.stream("SendStreamingMessage", user("research")).await;
    assert_eq!(frames.len(), 1);
    assert!(frames[0].1.get("message").is_some());
}

/// A task's push notifications arrive in order even when the receiver is slow to answer one.
#[tokio::test]
async fn push_notifications_of_a_task_arrive_in_order() {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let label = if let Some(s) = v.get("statusUpdate") {
                    s["status"]["state"].as_str().unwrap_or("?").to_owned()
                } else if v.get("artifactUpdate").is_some() {
                    "artifact".to_owned()
                } else {
                    v.to_string()
                };
                if label == "TASK_STATE_WORKING" {
                    // The first event's receiver is slow: the rest must wait for it.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
                seen.lock().unwrap().push(label);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    let mut p = user("report");
    p["configuration"] = json!({"taskPushNotificationConfig": {"url": hook}});
    let t = rpc.ok("SendMessage", p).await;
    assert_eq!(t["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    support::eventually(async || {
        let got = got.lock().unwrap();
        if got.len() >= 3 {
            Ok(())
        } else {
            Err(format!("notifications so far: {got:?}"))
        }
    })
    .await;
    assert_eq!(
        *got.lock().unwrap(),
        ["TASK_STATE_WORKING", "artifact", "TASK_STATE_COMPLETED"]
    );
}

/// A body over the size limit is a 413 on both bindings.
#[tokio::test]
async fn a_body_over_the_limit_is_413_on_both_bindings() {
    let config = aimock::server::ServerConfig {
        max_body_bytes: 1024,
        a2a: vec![config()],
        ..aimock::server::ServerConfig::default()
    };
    let s = MockServer::builder().config(config).start().await;
    let big = user(&"x".repeat(4096));
    let http = reqwest::Client::new();
    for path in ["/a2a", "/a2a/message:send"] {
        let r = http
            .post(format!("{}{path}", s.uri()))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": big}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
    }
}

/// The journal entry of the newest request whose body names `method`.
fn entry_for(s: &MockServer, method: &str) -> Option<aimock::journal::JournalEntry> {
    s.journal().into_iter().rev().find(|e| match &e.body {
        JournalBody::Json(v) => v.get("method").and_then(Value::as_str) == Some(method),
        _ => false,
    })
}

#[tokio::test]
async fn a_stream_is_journaled_as_delivered_or_as_interrupted_when_the_client_leaves() {
    let s = server().await;
    let rpc = Rpc::new(&s, "/a2a");
    // Read to the end: delivered.
    rpc.stream("SendStreamingMessage", user("quick")).await;
    let e = entry_for(&s, "SendStreamingMessage").expect("journaled");
    assert_eq!(e.response.delivered, Some(true));
    assert!(!e.response.interrupted);

    // Leave after the first event of a paced stream: interrupted.
    s.reset_journal();
    let body = json!({"jsonrpc": "2.0", "id": 8, "method": "SendStreamingMessage",
        "params": user("slow leaver")});
    let mut r = reqwest::Client::new()
        .post(format!("{}/a2a", s.uri()))
        .header("accept", "text/event-stream")
        .json(&body)
        .send()
        .await
        .unwrap();
    let first = r.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(r);
    let e =
        support::interrupted(|| entry_for(&s, "SendStreamingMessage").expect("journaled")).await;
    assert_eq!(e.response.delivered, Some(false));
    assert_eq!(
        e.response.interrupt_reason.as_deref(),
        Some("clientDisconnected")
    );
}

#[tokio::test]
async fn a_rest_error_is_journaled_with_its_status() {
    let s = server().await;
    let r = reqwest::Client::new()
        .get(format!("{}/a2a/tasks/no-such-task", s.uri()))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(status >= 400, "{status}");
    let last = s.journal().pop().expect("journaled");
    assert_eq!(last.response.status, status);
}

#[tokio::test]
async fn an_a2a_section_with_no_agents_serves_the_default_card() {
    let s = MockServer::builder()
        .a2a(A2aConfig::default())
        .start()
        .await;
    let http = reqwest::Client::new();
    for path in [
        "/a2a/.well-known/agent-card.json",
        "/a2a/.well-known/agent.json",
        "/.well-known/agent-card.json",
    ] {
        let r = http.get(format!("{}{path}", s.uri())).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let card: Value = r.json().await.unwrap();
        assert_eq!(card["name"], "a2a-mock", "{path}");
        assert_eq!(card["description"], "A2A mock agent");
        assert_eq!(card["version"], "1.0.0");
        assert_eq!(card["capabilities"]["streaming"], true);
        assert_eq!(card["skills"], json!([]));
        assert_eq!(
            card["supportedInterfaces"][0]["url"],
            format!("{}/a2a", s.uri())
        );
    }
    // A message reaches the default agent, which has nothing to answer with.
    let v: Value = http
        .post(format!("{}/a2a", s.uri()))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": user("hello")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("No matching pattern")),
        "{v}"
    );
    // An agent added at run time takes the card's place; a reset brings the default back.
    let a2a_server = s.a2a(None).unwrap();
    a2a_server
        .add_agent(support::config(json!({"name": "late"})))
        .unwrap();
    let card: Value = http
        .get(format!("{}/a2a/.well-known/agent-card.json", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["name"], "late");
    a2a_server.reset();
    let card: Value = http
        .get(format!("{}/a2a/.well-known/agent-card.json", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["name"], "a2a-mock");
}
