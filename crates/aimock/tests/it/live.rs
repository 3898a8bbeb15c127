//! GPT-Live (`/v1/live/sessions`) and Realtime translations (`/v1/realtime/translations`) over a
//! real socket with a tungstenite client: a session's start, a spoken turn and its close; the
//! error events for bad input, the socket staying open; the turn limit; a translation flushed
//! at close; a translation socket without a model closed with 1008. (The openai SDK drives both
//! in `interop/python/test_openai_live_sdk.py`.)

use aimock::MockServer;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::support::WAIT;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"endpoint": "openai-live", "userMessage": "hello"}, "response": {"content": "Hi there, caller!"}, "chunkSize": 4},
  {"match": {"endpoint": "realtime-translation"}, "response": {"content": "Bonjour"}}
]}"#;

async fn server() -> MockServer {
    let s = MockServer::builder().start().await;
    s.load_str_as(FIXTURES, "live.json").unwrap();
    s
}

async fn connect(s: &MockServer, path: &str, headers: &[(&'static str, &'static str)]) -> Ws {
    let mut req = format!("ws://{}{}", s.address(), path)
        .into_client_request()
        .unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    let (ws, resp) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("connect in time")
        .expect("upgrade accepted");
    assert_eq!(resp.status(), 101);
    ws
}

async fn next(ws: &mut Ws) -> Option<Message> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(m)) => return Some(m),
            Some(Err(_)) | None => return None,
        }
    }
}

async fn event(ws: &mut Ws) -> Value {
    match next(ws).await {
        Some(Message::Text(t)) => serde_json::from_str(t.as_str()).expect("a JSON event"),
        other => panic!("expected a text event, got {other:?}"),
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// Events up to and including the first of `kind`.
async fn until(ws: &mut Ws, kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let e = event(ws).await;
        let done = e["type"] == kind || e["type"] == "error";
        out.push(e);
        if done {
            return out;
        }
    }
}

fn transcript(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "session.output_transcript.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect()
}

#[tokio::test]
async fn a_live_session_starts_speaks_the_fixture_and_closes_as_requested() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/live/sessions", &[]).await;
    send(
        &mut ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
    )
    .await;
    let started = event(&mut ws).await;
    assert_eq!(started["type"], "session.started");
    let id = started["session"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("live_"), "{id}");
    send(
        &mut ws,
        json!({"type": "session.commentary.append", "content": "hello", "delegation_id": null}),
    )
    .await;
    let turn = until(&mut ws, "session.usage.updated").await;
    assert_eq!(turn[0]["type"], "session.commentary.appended");
    assert_eq!(transcript(&turn), "Hi there, caller!");
    let audio: usize = turn
        .iter()
        .filter(|e| e["type"] == "session.output_audio.delta")
        .map(|e| {
            base64::engine::general_purpose::STANDARD
                .decode(e["delta"].as_str().unwrap())
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(
        audio,
        48 * 60 * "Hi there, caller!".len(),
        "silent 24 kHz PCM16"
    );
    send(&mut ws, json!({"type": "session.close", "event_id": "bye"})).await;
    let closed = event(&mut ws).await;
    assert_eq!(closed["type"], "session.closed");
    assert_eq!(closed["reason"], "close_requested");
    assert_eq!(closed["client_event_id"], "bye");
    assert_eq!(closed["session"]["id"], id.as_str());
    assert!(closed["usage"]["seconds"].is_number());
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Normal),
        other => panic!("expected a normal close, got {other:?}"),
    }
    let journal = s.journal();
    let ws_turns: Vec<_> = journal
        .iter()
        .filter(|e| e.method == "WS" && e.path == "/v1/live/sessions")
        .collect();
    assert_eq!(ws_turns.len(), 1, "one turn: the spoken reply");
}

#[tokio::test]
async fn bad_live_input_gets_error_events_and_the_socket_stays_open() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/live/sessions", &[]).await;
    send(
        &mut ws,
        json!({"type": "response.create", "event_id": "early"}),
    )
    .await;
    let e = event(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["code"], "session_not_started");
    assert_eq!(e["client_event_id"], "early");
    ws.send(Message::text("{oops")).await.unwrap();
    assert_eq!(event(&mut ws).await["error"]["code"], "invalid_json");
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(event(&mut ws).await["error"]["code"], "invalid_message");
    send(&mut ws, json!({"type": "session.teleport"})).await;
    assert_eq!(event(&mut ws).await["error"]["param"], "type");
    send(&mut ws, json!({"type": "session.start", "session": {}})).await;
    assert_eq!(event(&mut ws).await["error"]["param"], "session.model");
    send(
        &mut ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
    )
    .await;
    assert_eq!(event(&mut ws).await["type"], "session.started");
}

#[tokio::test]
async fn a_model_in_the_live_url_is_refused_and_the_socket_closed() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/live/sessions?model=gpt-live-1", &[]).await;
    let e = event(&mut ws).await;
    assert_eq!(e["error"]["code"], "unknown_parameter");
    assert_eq!(e["error"]["param"], "model");
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Policy),
        other => panic!("expected a policy close, got {other:?}"),
    }
}

#[tokio::test]
async fn the_turn_limit_ends_a_live_session_as_expired() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/live/sessions", &[("x-aimock-live-max-turns", "1")]).await;
    send(
        &mut ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
    )
    .await;
    event(&mut ws).await;
    let say =
        json!({"type": "session.commentary.append", "content": "hello", "delegation_id": null});
    send(&mut ws, say.clone()).await;
    until(&mut ws, "session.usage.updated").await;
    send(&mut ws, say).await;
    let rest = until(&mut ws, "session.closed").await;
    assert_eq!(rest.last().unwrap()["reason"], "expired");
    assert!(matches!(
        next(&mut ws).await,
        Some(Message::Close(_)) | None
    ));
}

#[tokio::test]
async fn a_translation_is_flushed_at_close_and_a_socket_without_a_model_is_refused() {
    let s = server().await;
    let mut ws = connect(
        &s,
        "/v1/realtime/translations?model=gpt-realtime-translate",
        &[],
    )
    .await;
    let created = event(&mut ws).await;
    assert_eq!(created["type"], "session.created");
    assert_eq!(created["session"]["type"], "translation");
    // 100 ms of a square wave: speech, and no silence after it.
    let speech: Vec<u8> = (0..2400)
        .flat_map(|i: i32| (if i % 2 == 0 { 9000i16 } else { -9000 }).to_le_bytes())
        .collect();
    let audio = base64::engine::general_purpose::STANDARD.encode(speech);
    send(
        &mut ws,
        json!({"type": "session.input_audio_buffer.append", "audio": audio}),
    )
    .await;
    send(&mut ws, json!({"type": "session.close"})).await;
    let events = until(&mut ws, "session.closed").await;
    assert_eq!(transcript(&events), "Bonjour");
    assert_eq!(events[0]["elapsed_ms"], 0);

    let mut ws = connect(&s, "/v1/realtime/translations", &[]).await;
    let e = event(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["error"]["param"].as_str()),
        (Some("error"), Some("model"))
    );
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Policy),
        other => panic!("expected a policy close, got {other:?}"),
    }
}

#[tokio::test]
async fn aimock_onlive_fixtures_load_and_a_malformed_transcript_is_refused() {
    let s = MockServer::builder().start().await;
    let fixture = |live: &str, timing: &str| {
        format!(
            r#"{{"fixtures": [{{"match": {{"endpoint": "openai-live"}}, "response": {{"live": {live}, "liveTiming": "{timing}"}}}}]}}"#
        )
    };
    let good = r#"{"version": 1, "entries": [{"direction": "client", "atMs": 0, "event": {"type": "session.start"}}], "bindings": []}"#;
    s.load_str_as(&fixture(good, "immediate"), "good.json")
        .expect("an onLive fixture loads");
    let e = s
        .load_str_as(&fixture(good, "slowly"), "timing.json")
        .expect_err("a bad timing");
    assert!(format!("{e:?}").contains("liveTiming"), "{e:?}");
    let sideways = r#"{"entries": [{"direction": "sideways", "atMs": 0, "event": {"type": "x"}}]}"#;
    let e = s
        .load_str_as(&fixture(sideways, "recorded"), "dir.json")
        .expect_err("a bad direction");
    assert!(format!("{e:?}").contains("direction"), "{e:?}");
    let e = s
        .load_str_as(&fixture(r#"{"version": 1}"#, "recorded"), "entries.json")
        .expect_err("no entries");
    assert!(format!("{e:?}").contains("entries"), "{e:?}");
}
