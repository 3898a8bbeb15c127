//! Gemini Live (`BidiGenerateContent`) over a real socket with a tungstenite client: the setup
//! rule, chaos rolled per turn (drop and rate limit close with the error, malformed sends a frame
//! that is not JSON, disconnect cuts), `truncateAfterChunks` and `disconnectAfterMs` mid-turn, an
//! unknown resumption handle, each turn journaled as `WS` with the matched fixture, and record
//! mode (missed turns relayed to an upstream Gemini Live session, saved, replayed without it; a
//! dead or failing upstream closing the session with 1011).

use aimock::MockServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::support::ws::{self, event as message, next, send, Ws};
use crate::support::WAIT;

const PATH: &str = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi there, friend!"}, "chunkSize": 4},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 2, "truncateAfterChunks": 3},
  {"match": {"userMessage": "late"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 2, "latency": 200, "disconnectAfterMs": 300},
  {"match": {"userMessage": "weather", "hasToolResult": true}, "response": {"content": "Sunny."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]}}
]}"#;

async fn server() -> MockServer {
    let s = MockServer::start().await;
    s.load_str_as(FIXTURES, "live.json").unwrap();
    s
}

async fn connect(s: &MockServer, headers: &[(&str, &str)]) -> Ws {
    ws::connect(s, PATH, headers).await
}

/// Connect and set up a session.
async fn session(s: &MockServer, headers: &[(&str, &str)], setup: Value) -> Ws {
    let mut ws = connect(s, headers).await;
    send(&mut ws, json!({ "setup": setup })).await;
    let done = message(&mut ws).await;
    assert!(done["setupComplete"]["sessionId"].is_string(), "{done}");
    ws
}

fn say(text: &str) -> Value {
    json!({"clientContent": {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": true}})
}

/// Messages up to the `turnComplete`, or the close frame that ends the session instead.
async fn turn(ws: &mut Ws) -> (Vec<Value>, Option<CloseFrame>) {
    let mut out = Vec::new();
    loop {
        match next(ws).await {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                let done = v["serverContent"]["turnComplete"] == true;
                out.push(v);
                if done {
                    return (out, None);
                }
            }
            Some(Message::Close(f)) => return (out, f),
            None => return (out, None),
            Some(other) => panic!("{other:?}"),
        }
    }
}

fn text_of(msgs: &[Value]) -> String {
    msgs.iter()
        .filter_map(|m| m["serverContent"]["modelTurn"]["parts"][0]["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_turn_is_text_chunks_then_generation_and_turn_complete_journaled_as_ws() {
    let s = server().await;
    let mut ws = session(&s, &[], json!({"model": "models/gemini-live-2.5-flash"})).await;
    send(&mut ws, say("hello")).await;
    let (msgs, close) = turn(&mut ws).await;
    assert!(close.is_none());
    assert_eq!(text_of(&msgs), "Hi there, friend!");
    assert_eq!(
        msgs.len(),
        5 + 2,
        "5 chunks of 4, generationComplete, turnComplete"
    );
    assert_eq!(msgs[5]["serverContent"]["generationComplete"], true);
    assert!(
        msgs[6]["usageMetadata"]["totalTokenCount"]
            .as_u64()
            .unwrap()
            > 0
    );
    let j = s.journal();
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].method, "WS");
    assert_eq!(j[0].path, PATH);
    assert!(j[0].response.fixture.is_some());
}

#[tokio::test]
async fn input_before_setup_is_the_precondition_error_then_1008() {
    let s = server().await;
    let mut ws = connect(&s, &[]).await;
    send(&mut ws, say("hello")).await;
    assert_eq!(
        message(&mut ws).await,
        json!({"error": {"code": 9, "message": "Setup required", "status": "FAILED_PRECONDITION"}})
    );
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => {
            assert_eq!(f.code, CloseCode::Policy);
            assert_eq!(f.reason.as_str(), "Setup required");
        }
        other => panic!("{other:?}"),
    }
    assert!(s.journal().is_empty(), "no turn was taken");
}

#[tokio::test]
async fn a_tool_call_then_its_response_continues_with_the_tool_result() {
    let s = server().await;
    let setup = json!({"model": "models/g", "tools": [{"functionDeclarations": [{"name": "get_weather"}]}]});
    let mut ws = session(&s, &[], setup).await;
    send(&mut ws, say("weather")).await;
    let (msgs, _) = turn(&mut ws).await;
    let call = &msgs[0]["toolCall"]["functionCalls"][0];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["args"], json!({"city": "Paris"}));
    let id = call["id"].as_str().unwrap().to_owned();
    send(
        &mut ws,
        json!({"tool_response": {"functionResponses": [{"id": id, "name": "get_weather", "response": {"t": 21}}]}}),
    )
    .await;
    let (msgs, _) = turn(&mut ws).await;
    assert_eq!(text_of(&msgs), "Sunny.");
    let j = s.journal();
    let aimock::journal::JournalBody::Chat(body) = &j[1].body else {
        panic!("{:?}", j[1].body)
    };
    assert_eq!(body.tools, vec!["get_weather".to_owned()]);
    assert_eq!(
        body.messages.last().unwrap().tool_call_id.as_deref(),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn an_unknown_resumption_handle_is_invalid_argument_then_1007() {
    let s = server().await;
    let mut ws = connect(&s, &[]).await;
    send(
        &mut ws,
        json!({"setup": {"model": "m", "sessionResumption": {"handle": "sess_nope"}}}),
    )
    .await;
    let e = message(&mut ws).await;
    assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
    match next(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Invalid),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_miss_closes_with_1008_and_the_reason_and_is_journaled_404() {
    let s = server().await;
    let mut ws = session(&s, &[], json!({"model": "m"})).await;
    send(&mut ws, say("nothing matches")).await;
    let (msgs, close) = turn(&mut ws).await;
    assert!(msgs.is_empty());
    let close = close.expect("a close frame");
    assert_eq!(close.code, CloseCode::Policy);
    assert!(
        close.reason.as_str().contains("No fixture matched"),
        "{}",
        close.reason
    );
    assert_eq!(s.journal()[0].response.status, 404);
}

// --- chaos, per turn ----------------------------------------------------------------------------

#[tokio::test]
async fn chaos_drop_closes_the_session_with_the_error() {
    let s = server().await;
    let mut ws = session(&s, &[("x-aimock-chaos-drop", "1")], json!({"model": "m"})).await;
    send(&mut ws, say("hello")).await;
    let (msgs, close) = turn(&mut ws).await;
    assert!(msgs.is_empty());
    assert_eq!(close.expect("a close frame").code, CloseCode::Error);
    assert_eq!(s.journal()[0].response.chaos_action, Some("drop"));
}

#[tokio::test]
async fn chaos_rate_limit_closes_with_1011() {
    let s = server().await;
    let mut ws = session(
        &s,
        &[("x-aimock-chaos-ratelimit", "1")],
        json!({"model": "m"}),
    )
    .await;
    send(&mut ws, say("hello")).await;
    let (_, close) = turn(&mut ws).await;
    assert_eq!(close.expect("a close frame").code, CloseCode::Error);
    assert_eq!(s.journal()[0].response.status, 429);
}

#[tokio::test]
async fn chaos_malformed_sends_a_frame_that_is_not_json_and_the_session_goes_on() {
    let s = server().await;
    let mut ws = session(
        &s,
        &[("x-aimock-chaos-malformed", "1")],
        json!({"model": "m"}),
    )
    .await;
    send(&mut ws, say("hello")).await;
    match next(&mut ws).await {
        Some(Message::Text(t)) => {
            assert!(serde_json::from_str::<Value>(t.as_str()).is_err(), "{t}")
        }
        other => panic!("{other:?}"),
    }
    send(&mut ws, say("hello")).await;
    assert!(matches!(next(&mut ws).await, Some(Message::Text(_))));
    assert_eq!(s.journal()[0].response.chaos_action, Some("malformed"));
}

#[tokio::test]
async fn chaos_disconnect_cuts_the_socket_without_a_close_frame() {
    let s = server().await;
    let mut ws = session(
        &s,
        &[("x-aimock-chaos-disconnect", "1")],
        json!({"model": "m"}),
    )
    .await;
    send(&mut ws, say("hello")).await;
    match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
        None | Some(Err(_)) => {}
        Some(Ok(m)) => panic!("expected the connection to end, got {m:?}"),
    }
    assert_eq!(s.journal()[0].response.status, 0);
}

#[tokio::test]
async fn truncate_after_chunks_cuts_a_turn_after_that_many_messages() {
    let s = server().await;
    let mut ws = session(&s, &[], json!({"model": "m"})).await;
    send(&mut ws, say("cut")).await;
    let (msgs, close) = turn(&mut ws).await;
    assert_eq!(msgs.len(), 3);
    assert!(close.is_none(), "cut, not closed");
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
async fn disconnect_after_ms_cuts_a_paced_turn() {
    let s = server().await;
    let mut ws = session(&s, &[], json!({"model": "m"})).await;
    send(&mut ws, say("late")).await;
    let (msgs, close) = turn(&mut ws).await;
    assert!(close.is_none());
    assert!(msgs.len() < 8, "the turn was cut before its end: {msgs:?}");
    let end = crate::support::eventually(async || {
        s.journal()
            .first()
            .filter(|e| e.response.delivered.is_some())
            .map(|e| e.response.interrupt_reason.clone())
            .ok_or_else(|| "the turn has not ended yet".to_owned())
    })
    .await;
    assert_eq!(end.as_deref(), Some("disconnectAfterMs"));
}

// --- record and replay ----------------------------------------------------------------------------

/// The turns of the record-then-replay tests: a turn answered here, then a text turn, a tool call
/// and the turn after its response from the upstream. Returns the call's id.
async fn record_turns(ws: &mut Ws) -> String {
    send(ws, say("local")).await;
    let (msgs, _) = turn(ws).await;
    assert_eq!(text_of(&msgs), "Answered here.");
    send(ws, say("hello")).await;
    let (msgs, close) = turn(ws).await;
    assert!(close.is_none(), "{close:?}");
    assert_eq!(text_of(&msgs), "Hi there, friend!");
    let done = msgs.last().unwrap();
    assert!(done["usageMetadata"]["totalTokenCount"].as_u64().unwrap() > 0);
    send(ws, say("weather")).await;
    let (msgs, _) = turn(ws).await;
    let call = &msgs[0]["toolCall"]["functionCalls"][0];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["args"], json!({"city": "Paris"}));
    let id = call["id"].as_str().unwrap().to_owned();
    send(
        ws,
        json!({"toolResponse": {"functionResponses": [{"id": id, "name": "get_weather", "response": {"t": 21}}]}}),
    )
    .await;
    let (msgs, _) = turn(ws).await;
    assert_eq!(text_of(&msgs), "Sunny.");
    id
}

fn live_setup() -> Value {
    json!({
        "model": "models/gemini-live-2.5-flash",
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "get_weather"}]}],
        "sessionResumption": {}
    })
}

#[tokio::test]
async fn missed_turns_are_recorded_from_the_upstream_session_and_replay_without_it() {
    let upstream = server().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    recorder
        .load_str_as(
            r#"{"fixtures": [{"match": {"userMessage": "local"}, "response": {"content": "Answered here."}}]}"#,
            "local.json",
        )
        .unwrap();

    let mut ws = session(&recorder, &[], live_setup()).await;
    let id = record_turns(&mut ws).await;
    drop(ws);

    // The upstream took the three missed turns, on one socket, with the history in sync: the
    // turn answered here went up with the first miss, the tool result as a tool response.
    let up = upstream.journal();
    assert_eq!(up.len(), 3, "{up:?}");
    let bodies: Vec<_> = up
        .iter()
        .map(|e| match &e.body {
            aimock::journal::JournalBody::Chat(b) => b.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let texts = |i: usize| -> Vec<Option<String>> {
        bodies[i].messages.iter().map(|m| m.text.clone()).collect()
    };
    assert_eq!(
        texts(0),
        [
            Some("Be brief.".to_owned()),
            Some("local".to_owned()),
            Some("Answered here.".to_owned()),
            Some("hello".to_owned())
        ]
    );
    assert_eq!(bodies[1].messages.len(), 6, "{:?}", texts(1));
    let last = bodies[2].messages.last().unwrap();
    assert_eq!(last.tool_call_id.as_deref(), Some(id.as_str()));
    assert_eq!(last.text.as_deref(), Some(r#"{"t":21}"#));
    assert_eq!(bodies[2].messages.len(), 8);
    assert_eq!(bodies[2].tools, vec!["get_weather".to_owned()]);
    let sources: Vec<_> = recorder
        .journal()
        .iter()
        .map(|e| e.response.source)
        .collect();
    assert_eq!(
        sources,
        [Some("fixture"), Some("proxy"), Some("proxy"), Some("proxy")]
    );

    // Three recordings on disk; the upstream stops; a fresh socket replays the same turns.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    drop(upstream);
    let mut ws = session(&recorder, &[], live_setup()).await;
    let replayed_id = record_turns(&mut ws).await;
    assert_eq!(replayed_id, id);
    let j = recorder.journal();
    assert_eq!(j.len(), 8);
    for e in &j[4..] {
        assert_eq!(e.response.source, Some("fixture"), "{:?}", e.path);
        assert_eq!(e.response.status, 200);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

/// Messages until the socket closes: the close frame.
async fn close_frame(ws: &mut Ws) -> CloseFrame {
    loop {
        match next(ws).await {
            Some(Message::Close(Some(f))) => return f,
            Some(Message::Text(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_dead_upstream_closes_the_session_with_1011_naming_it_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::dead_upstream_recorder(dir.path()).await;
    recorder.load_str_as(FIXTURES, "live.json").unwrap();
    let mut ws = session(&recorder, &[], json!({"model": "m"})).await;
    send(&mut ws, say("not in any fixture")).await;
    let f = close_frame(&mut ws).await;
    assert_eq!(f.code, CloseCode::Error);
    assert!(
        f.reason.as_str().starts_with("gemini upstream: "),
        "{}",
        f.reason
    );
    assert!(f.reason.as_str().contains("127.0.0.1:9"), "{}", f.reason);
    let j = recorder.journal();
    assert_eq!(j[0].response.status, 502);
    assert_eq!(j[0].response.source, Some("proxy"));
    // The server is up, and fixtures still answer.
    let mut ws = session(&recorder, &[], json!({"model": "m"})).await;
    send(&mut ws, say("hello")).await;
    assert_eq!(text_of(&turn(&mut ws).await.0), "Hi there, friend!");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn an_upstream_that_ends_the_session_mid_turn_closes_ours_with_1011_and_its_reason() {
    // The upstream has no fixture for the turn: it closes its session (1008, "No fixture ...").
    let upstream = server().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    let mut ws = session(&recorder, &[], json!({"model": "m"})).await;
    send(&mut ws, say("nothing matches upstream either")).await;
    let f = close_frame(&mut ws).await;
    assert_eq!(f.code, CloseCode::Error);
    let reason = f.reason.as_str();
    assert!(reason.starts_with("gemini upstream: "), "{reason}");
    assert!(reason.contains("mid-turn (1008"), "{reason}");
    assert_eq!(upstream.journal()[0].response.status, 404);
    assert_eq!(recorder.journal()[0].response.status, 502);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A Gemini Live upstream that answers as the real service does around a tool call: the
/// `toolCall` alone (no `turnComplete` until the function responses come), then the text and
/// `turnComplete`. The task gives back every message it heard, once its socket closes.
async fn real_like_upstream() -> (String, tokio::task::JoinHandle<Vec<Value>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        let mut heard = Vec::new();
        while let Some(Ok(m)) = ws.next().await {
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            let replies = if v.get("setup").is_some() {
                vec![json!({"setupComplete": {}})]
            } else if v.get("clientContent").is_some() {
                vec![
                    json!({"toolCall": {"functionCalls": [{"id": "fc_1", "name": "get_weather", "args": {"city": "Paris"}}]}}),
                ]
            } else if v.get("toolResponse").is_some() {
                vec![
                    json!({"serverContent": {"modelTurn": {"role": "model", "parts": [{"text": "Sunny."}]}}}),
                    json!({"serverContent": {"turnComplete": true}, "usageMetadata": {"totalTokenCount": 9}}),
                ]
            } else {
                Vec::new()
            };
            heard.push(v);
            for r in replies {
                ws.send(Message::text(r.to_string())).await.unwrap();
            }
        }
        heard
    });
    (url, task)
}

#[tokio::test]
async fn an_upstream_that_waits_after_its_tool_call_ends_that_turn_when_the_client_answers() {
    let (url, upstream) = real_like_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut rc = aimock::record::RecordConfig::default();
    rc.providers.insert("gemini".into(), url);
    rc.fixture_path = dir.path().to_path_buf();
    let recorder = MockServer::builder().record(rc).start().await;
    let setup =
        json!({"model": "m", "tools": [{"functionDeclarations": [{"name": "get_weather"}]}]});
    let tool_response = json!({"toolResponse": {"functionResponses": [
        {"id": "fc_1", "name": "get_weather", "response": {"t": 21}}
    ]}});

    let mut ws = session(&recorder, &[], setup.clone()).await;
    send(&mut ws, say("weather")).await;
    // The call is relayed as it comes; nothing ends the turn until the client answers it.
    let call = message(&mut ws).await;
    assert_eq!(call["toolCall"]["functionCalls"][0]["id"], "fc_1", "{call}");
    send(&mut ws, tool_response.clone()).await;
    let (msgs, _) = turn(&mut ws).await;
    assert_eq!(text_of(&msgs), "Sunny.");
    assert!(msgs.iter().all(|m| m.get("toolCall").is_none()), "{msgs:?}");
    drop(ws);
    // The session's end closes the upstream socket: what it heard is the setup, the turn, and the
    // function response as a `toolResponse`.
    let heard = tokio::time::timeout(WAIT, upstream)
        .await
        .expect("the upstream socket closed")
        .unwrap();
    assert_eq!(heard.len(), 3, "{heard:?}");
    assert_eq!(heard[0]["setup"]["model"], "m");
    assert_eq!(
        heard[1]["clientContent"]["turns"][0]["parts"][0]["text"],
        "weather"
    );
    assert_eq!(heard[2], tool_response);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    // Both turns replay, the upstream gone.
    let mut ws = session(&recorder, &[], setup).await;
    send(&mut ws, say("weather")).await;
    let (msgs, _) = turn(&mut ws).await;
    assert_eq!(msgs[0]["toolCall"]["functionCalls"][0]["id"], "fc_1");
    assert_eq!(
        msgs[0]["toolCall"]["functionCalls"][0]["args"],
        json!({"city": "Paris"})
    );
    send(&mut ws, tool_response).await;
    let (msgs, _) = turn(&mut ws).await;
    assert_eq!(text_of(&msgs), "Sunny.");
    let sources: Vec<_> = recorder
        .journal()
        .iter()
        .map(|e| e.response.source)
        .collect();
    assert_eq!(
        sources,
        [
            Some("proxy"),
            Some("proxy"),
            Some("fixture"),
            Some("fixture")
        ]
    );
}
