//! WebSocket sessions, over a real socket with a tungstenite client: the handshake (subprotocol
//! echoed, a plain GET refused with 426, a wrong key refused with 401 before the upgrade), the
//! socket's rules (ping answered, fragmented messages joined, an oversized message closed with
//! 1009, invalid UTF-8 with 1007), the Responses API over WebSocket (events, errors, the
//! connection-local `previous_response_id`), turns journaled as `WS` and counted in the metrics,
//! and chaos rolled per turn.

use aimock::server::ServerConfig;
use aimock::MockServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::Message;

use crate::support::ws::{
    close_code, connect, event, next, output_text as text_of, send, until as events_until,
    url as ws_url,
};
use crate::support::WAIT;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi there, friend!"}},
  {"match": {"userMessage": "weather", "hasToolResult": true}, "response": {"content": "It is sunny in Paris."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]}},
  {"match": {"userMessage": "slow"}, "response": {"content": "one two three four"}, "chunkSize": 4, "streamingProfile": {"ttft": 0, "tps": 5}},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 2, "truncateAfterChunks": 3}
]}"#;

async fn server_with(config: ServerConfig) -> MockServer {
    let s = MockServer::builder().config(config).start().await;
    s.load_str_as(FIXTURES, "ws.json").unwrap();
    s
}

async fn server() -> MockServer {
    server_with(ServerConfig::default()).await
}

fn create(input: Value) -> Value {
    json!({"type": "response.create", "model": "gpt-4o", "input": input})
}

#[tokio::test]
async fn the_handshake_echoes_the_first_subprotocol() {
    let s = server().await;
    let mut req = ws_url(&s, "/v1/responses").into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "realtime, openai-insecure-api-key.sk-x".parse().unwrap(),
    );
    let (_ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(resp.headers()["sec-websocket-protocol"], "realtime");
    assert!(resp.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn a_plain_get_on_a_socket_path_is_426_in_the_openai_envelope() {
    let s = server().await;
    let r = reqwest::get(format!("{}/v1/responses", s.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), 426);
    assert_eq!(r.headers()["upgrade"], "websocket");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "websocket_upgrade_required");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("WebSocket"));
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_401_before_the_upgrade() {
    let s = server_with(ServerConfig {
        api_keys: vec!["sk-good".to_owned()],
        ..ServerConfig::default()
    })
    .await;
    let mut req = ws_url(&s, "/v1/responses").into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", "Bearer sk-bad".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 401);
            let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "invalid_api_key");
        }
        other => panic!("expected a 401, got {other:?}"),
    }
    // The right key upgrades, and nothing of the refused attempt was journaled.
    let mut ws = connect(&s, "/v1/responses", &[("authorization", "Bearer sk-good")]).await;
    send(&mut ws, create(json!("hello"))).await;
    let ev = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&ev), "Hi there, friend!");
    assert_eq!(s.journal().len(), 1);
}

#[tokio::test]
async fn responses_over_websocket_sends_the_http_streams_events_one_frame_each() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("hello"))).await;
    let ev = events_until(&mut ws, "response.completed").await;
    let kinds: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
    assert_eq!(text_of(&ev), "Hi there, friend!");
    assert_eq!(
        ev.last().unwrap()["response"]["output"][0]["content"][0]["text"],
        "Hi there, friend!"
    );
    // The socket serves the next response too.
    send(&mut ws, create(json!("hello again? no: hello"))).await;
    let ev = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&ev), "Hi there, friend!");
}

#[tokio::test]
async fn bad_messages_get_error_events_and_the_socket_stays_usable() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    ws.send(Message::text("{not json")).await.unwrap();
    let e = event(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["status"], 400);
    assert_eq!(e["error"]["type"], "invalid_request_error");

    send(&mut ws, json!({"type": "response.cancel"})).await;
    let e = event(&mut ws).await;
    assert_eq!(e["error"]["code"], "invalid_message_type");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Expected message type \"response.create\""));

    ws.send(Message::binary(b"{}".to_vec())).await.unwrap();
    let e = event(&mut ws).await;
    assert_eq!(e["error"]["code"], "invalid_message");

    send(&mut ws, json!({"type": "response.create", "model": "m"})).await;
    let e = event(&mut ws).await;
    assert_eq!(
        e["error"]["message"],
        "Missing required parameter: 'input'."
    );

    send(&mut ws, create(json!("nothing matches this"))).await;
    let e = event(&mut ws).await;
    assert_eq!(e["status"], 404);
    assert_eq!(e["error"]["code"], "no_fixture_match");

    send(&mut ws, create(json!("hello"))).await;
    let ev = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&ev), "Hi there, friend!");
}

#[tokio::test]
async fn a_stream_id_is_echoed_on_every_event_it_causes() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    let mut msg = create(json!("hello"));
    msg["stream_id"] = json!("lane-7");
    send(&mut ws, msg).await;
    let ev = events_until(&mut ws, "response.completed").await;
    assert!(ev.iter().all(|e| e["stream_id"] == "lane-7"));
}

#[tokio::test]
async fn previous_response_id_continues_a_conversation_this_socket_answered() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("weather"))).await;
    let ev = events_until(&mut ws, "response.completed").await;
    let done = ev.last().unwrap();
    let resp_id = done["response"]["id"].as_str().unwrap().to_owned();
    let call = &done["response"]["output"][0];
    assert_eq!(call["type"], "function_call");
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    // Only the tool output is sent: the earlier turn comes from the socket's cache, so the
    // request is matched as "weather" with a tool result.
    send(
        &mut ws,
        json!({"type": "response.create", "model": "gpt-4o", "previous_response_id": resp_id,
               "input": [{"type": "function_call_output", "call_id": call_id, "output": "sunny"}]}),
    )
    .await;
    let ev = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&ev), "It is sunny in Paris.");

    // An id this socket never answered is no context: the output alone matches nothing.
    let mut other = connect(&s, "/v1/responses", &[]).await;
    send(
        &mut other,
        json!({"type": "response.create", "model": "gpt-4o", "previous_response_id": "resp_unknown",
               "input": [{"type": "function_call_output", "call_id": call_id, "output": "sunny"}]}),
    )
    .await;
    let e = event(&mut other).await;
    assert_eq!(e["type"], "error");
}

#[tokio::test]
async fn each_turn_is_journaled_as_ws_on_the_socket_path_and_counted() {
    let s = server_with(ServerConfig {
        metrics: true,
        ..ServerConfig::default()
    })
    .await;
    let mut ws = connect(&s, "/v1/responses?x=1", &[("x-test-id", "ws-journal")]).await;
    send(&mut ws, create(json!("hello"))).await;
    events_until(&mut ws, "response.completed").await;
    send(&mut ws, create(json!("no such fixture"))).await;
    event(&mut ws).await;
    let journal = s.journal();
    assert_eq!(journal.len(), 2);
    assert!(journal.iter().all(|e| e.method == "WS"));
    assert_eq!(journal[0].path, "/v1/responses?x=1");
    assert_eq!(journal[0].test_id.as_deref(), Some("ws-journal"));
    assert_eq!(journal[0].response.status, 200);
    assert!(journal[0].response.fixture.is_some());
    assert_eq!(journal[1].response.status, 404);
    // Delivery is recorded once the turn's last event is out.
    let delivered = crate::support::eventually(async || {
        s.journal()
            .first()
            .and_then(|e| e.response.delivered)
            .filter(|d| *d)
            .ok_or_else(|| "the turn is not delivered yet".to_owned())
    })
    .await;
    assert!(delivered);
    let text = reqwest::get(format!("{}/metrics", s.uri()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines().any(|l| l.contains("method=\"WS\"")
            && l.contains("path=\"/v1/responses\"")
            && l.contains("status=\"200\"")),
        "{text}"
    );
}

#[tokio::test]
async fn pings_are_answered_and_fragmented_messages_are_joined() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Pong(p))) => return p,
                Some(Ok(_)) => continue,
                other => panic!("no pong: {other:?}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(&pong[..], b"are you there");

    // One response.create in three frames.
    let text = create(json!("hello")).to_string();
    let (a, rest) = text.split_at(10);
    let (b, c) = rest.split_at(10);
    let frag = |op, fin, data: &str| {
        let header = FrameHeader {
            opcode: op,
            is_final: fin,
            ..FrameHeader::default()
        };
        Message::Frame(Frame::from_payload(header, data.as_bytes().to_vec().into()))
    };
    ws.send(frag(OpCode::Data(Data::Text), false, a))
        .await
        .unwrap();
    ws.send(frag(OpCode::Data(Data::Continue), false, b))
        .await
        .unwrap();
    ws.send(frag(OpCode::Data(Data::Continue), true, c))
        .await
        .unwrap();
    let ev = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&ev), "Hi there, friend!");
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009_and_the_server_stays_up() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    let huge = "x".repeat(17 << 20);
    let _ = ws.send(Message::text(huge)).await;
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Size));
    let mut again = connect(&s, "/v1/responses", &[]).await;
    send(&mut again, create(json!("hello"))).await;
    assert_eq!(
        text_of(&events_until(&mut again, "response.completed").await),
        "Hi there, friend!"
    );
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        is_final: true,
        ..FrameHeader::default()
    };
    ws.send(Message::Frame(Frame::from_payload(
        header,
        vec![0xff, 0xfe, 0x80].into(),
    )))
    .await
    .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Invalid));
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_close() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    ws.close(None).await.unwrap();
    // The server's close reply ends the stream cleanly.
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("{e}"),
        }
    }
}

// --- chaos, per turn ----------------------------------------------------------------------------

#[tokio::test]
async fn chaos_drop_answers_a_turn_with_an_error_event_and_the_socket_stays_open() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[("x-aimock-chaos-drop", "1")]).await;
    send(&mut ws, create(json!("hello"))).await;
    let e = event(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["code"], "chaos_drop");
    send(&mut ws, create(json!("hello"))).await;
    assert_eq!(event(&mut ws).await["error"]["code"], "chaos_drop");
    let j = s.journal();
    assert_eq!(j.len(), 2);
    assert_eq!(j[0].response.chaos_action, Some("drop"));
}

#[tokio::test]
async fn chaos_rate_limit_sends_a_rate_limit_error_event() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[("x-aimock-chaos-ratelimit", "1")]).await;
    send(&mut ws, create(json!("hello"))).await;
    let e = event(&mut ws).await;
    assert_eq!(e["status"], 429);
    assert_eq!(e["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn chaos_malformed_sends_a_frame_that_is_not_json() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[("x-aimock-chaos-malformed", "1")]).await;
    send(&mut ws, create(json!("hello"))).await;
    match next(&mut ws).await {
        Some(Message::Text(t)) => {
            assert!(serde_json::from_str::<Value>(t.as_str()).is_err(), "{t}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.journal()[0].response.chaos_action, Some("malformed"));
}

#[tokio::test]
async fn chaos_disconnect_cuts_the_socket_without_a_close_frame() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[("x-aimock-chaos-disconnect", "1")]).await;
    send(&mut ws, create(json!("hello"))).await;
    // No event and no close frame: the connection just ends.
    match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
        None | Some(Err(_)) => {}
        Some(Ok(m)) => panic!("expected the connection to end, got {m:?}"),
    }
    assert_eq!(s.journal()[0].response.status, 0);
}

#[tokio::test]
async fn truncate_after_chunks_cuts_a_turn_after_that_many_events() {
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("cut"))).await;
    let mut got = Vec::new();
    while let Some(m) = next(&mut ws).await {
        match m {
            Message::Text(t) => got.push(serde_json::from_str::<Value>(t.as_str()).unwrap()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got.len(), 3);
    let end = crate::support::eventually(async || {
        s.journal()
            .first()
            .filter(|e| e.response.delivered.is_some())
            .map(|e| (e.response.delivered, e.response.interrupt_reason.clone()))
            .ok_or_else(|| "the turn has not ended yet".to_owned())
    })
    .await;
    assert_eq!(end, (Some(false), Some("truncateAfterChunks".to_owned())));
}

#[tokio::test]
async fn a_paced_turn_sends_its_first_event_before_its_last_is_due() {
    // 5 events a second after the first: the first arrives while the rest are still pending.
    let s = server().await;
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("slow"))).await;
    let first = event(&mut ws).await;
    assert_eq!(first["type"], "response.created");
    let j = s.journal();
    assert_eq!(j.len(), 1);
    assert_eq!(
        j[0].response.delivered, None,
        "the turn is still being sent"
    );
    let rest = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&rest), "one two three four");
}

// --- record and replay ----------------------------------------------------------------------------

#[tokio::test]
async fn a_missed_turn_is_recorded_from_the_upstream_socket_and_replays_without_it() {
    let upstream = server().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;

    let mut ws = connect(&recorder, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("hello"))).await;
    let relayed = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&relayed), "Hi there, friend!");
    // The upstream answered it (its journal has the turn), as a proxy turn here.
    assert_eq!(upstream.journal().len(), 1);
    assert_eq!(recorder.journal()[0].response.source, Some("proxy"));
    // A second miss on the same socket goes through the same upstream socket.
    send(&mut ws, create(json!("weather"))).await;
    let relayed = events_until(&mut ws, "response.completed").await;
    assert_eq!(
        relayed.last().unwrap()["response"]["output"][0]["name"],
        "get_weather"
    );
    drop(ws);

    // The recordings are on disk, and they answer with the upstream gone.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    drop(upstream);
    let mut ws = connect(&recorder, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("hello"))).await;
    let replayed = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&replayed), "Hi there, friend!");
    send(&mut ws, create(json!("weather"))).await;
    let replayed = events_until(&mut ws, "response.completed").await;
    let call = &replayed.last().unwrap()["response"]["output"][0];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], "{\"city\":\"Paris\"}");
    let j = recorder.journal();
    assert_eq!(j.len(), 4);
    assert_eq!(j[2].response.source, Some("fixture"));
}

#[tokio::test]
async fn a_dead_upstream_gets_an_error_event_and_the_socket_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::dead_upstream_recorder(dir.path()).await;
    recorder.load_str_as(FIXTURES, "ws.json").unwrap();
    let mut ws = connect(&recorder, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("not in any fixture"))).await;
    let e = event(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["status"], 502);
    assert_eq!(e["error"]["code"], "upstream_unavailable");
    send(&mut ws, create(json!("hello"))).await;
    assert_eq!(
        text_of(&events_until(&mut ws, "response.completed").await),
        "Hi there, friend!"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// --- the control API ------------------------------------------------------------------------------

#[tokio::test]
async fn fixtures_added_over_the_control_api_answer_socket_turns_and_the_journal_filters_ws() {
    let s = server().await;
    let http = reqwest::Client::new();
    let added = http
        .post(format!("{}/__aimock/fixtures", s.uri()))
        .json(&json!({"fixtures": [
            {"match": {"userMessage": "added at runtime"}, "response": {"content": "From the control API."}}
        ]}))
        .send()
        .await
        .unwrap();
    assert!(
        added.status().is_success(),
        "{}",
        added.text().await.unwrap()
    );
    let mut ws = connect(&s, "/v1/responses", &[]).await;
    send(&mut ws, create(json!("added at runtime"))).await;
    let ev = events_until(&mut ws, "response.completed").await;
    assert_eq!(text_of(&ev), "From the control API.");
    // One HTTP request beside the socket's turn: the filter keeps the turn only.
    http.post(format!("{}/v1/responses", s.uri()))
        .json(&create(json!("hello")))
        .send()
        .await
        .unwrap();
    let page: Value = http
        .get(format!("{}/__aimock/journal?method=WS", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = page
        .as_array()
        .cloned()
        .unwrap_or_else(|| page["entries"].as_array().cloned().unwrap_or_default());
    assert_eq!(entries.len(), 1, "{page}");
    assert_eq!(entries[0]["method"], "WS");
}

#[tokio::test]
async fn runtime_chaos_for_a_test_id_applies_to_that_test_ids_sockets_only() {
    let s = server().await;
    let http = reqwest::Client::new();
    let set = http
        .post(format!("{}/__aimock/chaos", s.uri()))
        .header("x-test-id", "chaotic")
        .json(&json!({"dropRate": 1.0}))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success(), "{}", set.text().await.unwrap());
    let mut hit = connect(&s, "/v1/responses", &[("x-test-id", "chaotic")]).await;
    send(&mut hit, create(json!("hello"))).await;
    assert_eq!(event(&mut hit).await["error"]["code"], "chaos_drop");
    let mut calm = connect(&s, "/v1/responses", &[("x-test-id", "calm")]).await;
    send(&mut calm, create(json!("hello"))).await;
    assert_eq!(
        text_of(&events_until(&mut calm, "response.completed").await),
        "Hi there, friend!"
    );
}
