//! OpenAI Realtime (GA) over a real socket with a tungstenite client: the paths it is served on
//! (`/v1/realtime`, `/openai/v1/realtime`, Azure's `/openai/realtime?deployment=`), fixture audio
//! read from a file beside the fixture file, a `response.create` refused while a response
//! streams, and chaos per response turn (drop, rate limit, disconnect, truncateAfterChunks,
//! disconnectAfterMs) journaled as `WS` turns.

use aimock::MockServer;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::support::WAIT;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi there, friend!"}, "chunkSize": 4},
  {"match": {"userMessage": "slow"}, "response": {"content": "one two three"}, "chunkSize": 3, "streamingProfile": {"ttft": 0, "tps": 5}},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 2, "truncateAfterChunks": 5},
  {"match": {"userMessage": "later"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 1, "latency": 30, "disconnectAfterMs": 60}
]}"#;

async fn server() -> MockServer {
    let s = MockServer::start().await;
    s.load_str_as(FIXTURES, "rt.json").unwrap();
    s
}

async fn connect(s: &MockServer, path: &str, headers: &[(&str, &str)]) -> Ws {
    let mut req = format!("ws://{}{}", s.address(), path)
        .into_client_request()
        .unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let (ws, resp) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("connect in time")
        .expect("upgrade accepted");
    assert_eq!(resp.status(), 101);
    ws
}

/// The next text event as JSON; `None` once the connection is gone.
async fn event(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => panic!("unexpected {other:?}"),
            Some(Err(_)) | None => return None,
        }
    }
}

async fn until(ws: &mut Ws, last: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let e = event(ws).await.expect("an event");
        let done = e["type"] == last || e["type"] == "error";
        out.push(e);
        if done {
            return out;
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

async fn ask(ws: &mut Ws, text: &str) {
    send(
        ws,
        json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
               "content": [{"type": "input_text", "text": text}]}}),
    )
    .await;
    until(ws, "conversation.item.done").await;
    send(ws, json!({"type": "response.create"})).await;
}

fn text_of(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn realtime_is_served_at_the_openai_and_azure_paths() {
    let s = server().await;
    for (path, headers, model) in [
        (
            "/v1/realtime?model=gpt-realtime-mini",
            vec![],
            "gpt-realtime-mini",
        ),
        (
            "/openai/v1/realtime?model=gpt-realtime",
            vec![],
            "gpt-realtime",
        ),
        ("/v1/realtime", vec![], "gpt-realtime-2"),
        (
            "/openai/realtime?api-version=2025-04-01-preview&deployment=my-voice",
            vec![("api-key", "k")],
            "my-voice",
        ),
    ] {
        let mut ws = connect(&s, path, &headers).await;
        let created = event(&mut ws).await.unwrap();
        assert_eq!(created["type"], "session.created", "{path}");
        assert_eq!(created["session"]["model"], model, "{path}");
        ask(&mut ws, "hello").await;
        let evs = until(&mut ws, "response.done").await;
        assert_eq!(text_of(&evs), "Hi there, friend!", "{path}");
    }
    let paths: Vec<_> = s.journal().iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths.len(), 4);
    assert!(paths[3].starts_with("/openai/realtime"), "{paths:?}");
}

#[tokio::test]
async fn fixture_audio_is_read_from_a_file_beside_the_fixture_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::create_dir(dir.path().join("audio")).unwrap();
    std::fs::write(dir.path().join("audio/hi.pcm"), &bytes).unwrap();
    std::fs::write(
        dir.path().join("f.json"),
        r#"{"fixtures": [{"match": {"userMessage": "speak"},
            "response": {"content": "Hello!", "audio": {"file": "audio/hi.pcm"}}, "chunkSize": 2}]}"#,
    )
    .unwrap();
    let s = MockServer::start().await;
    s.load(dir.path()).unwrap();
    let mut ws = connect(&s, "/v1/realtime", &[]).await;
    event(&mut ws).await.unwrap();
    send(
        &mut ws,
        json!({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["audio"]}}),
    )
    .await;
    until(&mut ws, "session.updated").await;
    ask(&mut ws, "speak").await;
    let evs = until(&mut ws, "response.done").await;
    let deltas: Vec<&Value> = evs
        .iter()
        .filter(|e| e["type"] == "response.output_audio.delta")
        .collect();
    assert_eq!(deltas.len(), 3, "one audio delta per transcript piece");
    let got: Vec<u8> = deltas
        .iter()
        .flat_map(|e| {
            base64::engine::general_purpose::STANDARD
                .decode(e["delta"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(got, bytes);

    // A file that is not there rejects the fixture, naming the field.
    std::fs::write(
        dir.path().join("g.json"),
        r#"{"fixtures": [{"match": {"userMessage": "x"}, "response": {"content": "x", "audio": {"file": "nope.pcm"}}}]}"#,
    )
    .unwrap();
    let problems = s.load(dir.path().join("g.json")).unwrap_err();
    assert_eq!(problems[0].field, "response.audio.file");
    assert!(
        problems[0].message.contains("nope.pcm"),
        "{}",
        problems[0].message
    );
    // Audio that is not base64 is a warning at load, and an error event when spoken.
    let report = aimock::fixture::parse_text(
        r#"{"fixtures": [{"match": {"userMessage": "garbled"}, "response": {"content": "x", "audio": "%%%"}}]}"#,
        "w.json",
        aimock::fixture::Format::Json,
    );
    assert!(!report.has_errors());
    assert_eq!(report.problems[0].field, "response.audio");
    s.load_str(r#"{"fixtures": [{"match": {"userMessage": "garbled"}, "response": {"content": "x", "audio": "%%%"}}]}"#)
        .unwrap();
    ask(&mut ws, "garbled").await;
    let e = until(&mut ws, "error").await.pop().unwrap();
    assert_eq!(e["type"], "error");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("base64"),
        "{e}"
    );
}

#[tokio::test]
async fn a_second_response_create_while_one_streams_is_refused_and_the_first_completes() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/realtime", &[]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "slow").await;
    let first = event(&mut ws).await.unwrap();
    assert_eq!(first["type"], "response.created");
    send(
        &mut ws,
        json!({"type": "response.create", "event_id": "evt_2"}),
    )
    .await;
    let evs = until(&mut ws, "response.done").await;
    let err = evs.iter().find(|e| e["type"] == "error").expect("an error");
    assert_eq!(
        err["error"]["code"],
        "conversation_already_has_active_response"
    );
    assert_eq!(err["error"]["event_id"], "evt_2");
    let rest = until(&mut ws, "response.done").await;
    assert_eq!(rest.last().unwrap()["response"]["status"], "completed");
    assert_eq!(text_of(&[evs, rest].concat()), "one two three");
}

#[tokio::test]
async fn chaos_rolls_once_per_response_turn() {
    let s = server().await;
    // Drop: an error event, the socket stays open.
    let mut ws = connect(&s, "/v1/realtime", &[("x-aimock-chaos-drop", "1")]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "hello").await;
    let e = until(&mut ws, "error").await.pop().unwrap();
    assert_eq!(e["type"], "error");
    assert!(e["error"]["message"].is_string());
    // Rate limit: the error event says so.
    let mut ws = connect(&s, "/v1/realtime", &[("x-aimock-chaos-ratelimit", "1")]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "hello").await;
    let e = until(&mut ws, "error").await.pop().unwrap();
    assert_eq!(e["error"]["type"], "rate_limit_error", "{e}");
    // Disconnect: the socket is cut.
    let mut ws = connect(&s, "/v1/realtime", &[("x-aimock-chaos-disconnect", "1")]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "hello").await;
    assert_eq!(event(&mut ws).await, None);
    // truncateAfterChunks: five events, then the cut.
    let mut ws = connect(&s, "/v1/realtime", &[]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "cut").await;
    let mut n = 0;
    while event(&mut ws).await.is_some() {
        n += 1;
    }
    assert_eq!(n, 5);
    // disconnectAfterMs: cut before the last event.
    let mut ws = connect(&s, "/v1/realtime", &[]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "later").await;
    let mut kinds = Vec::new();
    while let Some(e) = event(&mut ws).await {
        kinds.push(e["type"].as_str().unwrap().to_owned());
    }
    assert!(!kinds.iter().any(|k| k == "response.done"), "{kinds:?}");
    let j: Vec<_> = s
        .journal()
        .into_iter()
        .filter(|e| e.method == "WS")
        .collect();
    assert_eq!(j.len(), 5);
    assert_eq!(j[1].response.status, 429);
    assert_eq!(j[3].response.delivered, Some(false));
    assert_eq!(j[4].response.delivered, Some(false));
}
