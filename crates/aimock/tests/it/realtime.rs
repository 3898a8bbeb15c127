//! OpenAI Realtime (GA) over a real socket with a tungstenite client: the paths it is served on
//! (`/v1/realtime`, `/openai/v1/realtime`, Azure's `/openai/realtime?deployment=`), fixture audio
//! read from a file beside the fixture file, a `response.create` refused while a response
//! streams, and chaos per response turn (drop, rate limit, disconnect, truncateAfterChunks,
//! disconnectAfterMs) journaled as `WS` turns.

use aimock::MockServer;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::support::ws::{connect, maybe_event as event, output_text as text_of, send, until, Ws};

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

// --- record mode ----------------------------------------------------------------------------------

/// The upstream's fixtures for record mode: a text turn, a tool call, the answer after the tool's
/// output (told apart from the call by `hasToolResult`), and a spoken turn with its audio.
const UPSTREAM: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hi there, friend!"}, "chunkSize": 4},
  {"match": {"userMessage": "weather in Paris?", "hasToolResult": false},
   "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "id": "call_paris"}]}},
  {"match": {"userMessage": "weather in Paris?", "hasToolResult": true},
   "response": {"content": "Sunny, 22 degrees."}, "chunkSize": 5},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 2, "truncateAfterChunks": 5},
  {"match": {"userMessage": "speak"}, "response": {"content": "Hello!", "audio": "AQIDBAUGBwgJCgsMDQ4PEA=="}, "chunkSize": 2}
]}"#;

async fn upstream() -> MockServer {
    let s = MockServer::start().await;
    s.load_str_as(UPSTREAM, "upstream.json").unwrap();
    s
}

/// A session set up as the record tests' client sets it: instructions and the weather tool.
async fn configured(s: &MockServer) -> Ws {
    let mut ws = connect(s, "/v1/realtime?model=gpt-realtime", &[]).await;
    assert_eq!(event(&mut ws).await.unwrap()["type"], "session.created");
    send(
        &mut ws,
        json!({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief.",
               "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]}}),
    )
    .await;
    until(&mut ws, "session.updated").await;
    ws
}

/// The three turns of the record test, on one socket: hello, the tool call, and the answer after
/// the tool's output. Gives each turn's events.
async fn three_turns(ws: &mut Ws) -> [Vec<Value>; 3] {
    ask(ws, "hello").await;
    let hello = until(ws, "response.done").await;
    ask(ws, "weather in Paris?").await;
    let call = until(ws, "response.done").await;
    let call_id = call.last().unwrap()["response"]["output"][0]["call_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    send(
        ws,
        json!({"type": "conversation.item.create", "item": {"type": "function_call_output",
               "call_id": call_id, "output": "{\"temperature\":22}"}}),
    )
    .await;
    until(ws, "conversation.item.done").await;
    send(ws, json!({"type": "response.create"})).await;
    let answer = until(ws, "response.done").await;
    [hello, call, answer]
}

fn check_three_turns([hello, call, answer]: &[Vec<Value>; 3]) {
    assert_eq!(text_of(hello), "Hi there, friend!");
    assert_eq!(hello.last().unwrap()["response"]["status"], "completed");
    let item = &call.last().unwrap()["response"]["output"][0];
    assert_eq!(item["type"], "function_call", "{item}");
    assert_eq!(item["name"], "get_weather");
    assert_eq!(item["call_id"], "call_paris");
    assert_eq!(item["arguments"], "{\"city\":\"Paris\"}");
    let args: String = call
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(args, "{\"city\":\"Paris\"}");
    assert_eq!(text_of(answer), "Sunny, 22 degrees.");
    for turn in [hello, call, answer] {
        // The turn's own events only: no acknowledgement of the upstream's sync messages.
        assert_eq!(turn[0]["type"], "response.created", "{turn:?}");
        assert!(
            !turn
                .iter()
                .any(|e| e["type"] == "session.updated" || e["type"] == "error"),
            "{turn:?}"
        );
    }
}

#[tokio::test]
async fn a_realtime_session_is_recorded_turn_by_turn_and_replays_without_the_upstream() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;

    let mut ws = configured(&recorder).await;
    let turns = three_turns(&mut ws).await;
    check_three_turns(&turns);
    // The upstream answered each turn, over one socket, in step with the session: it had the
    // instructions and tools of the session.update, the user's items, the call it made and the
    // tool's output.
    let up = crate::support::upstream_socket_turns(&upstream, 3, "/v1/realtime?model=gpt-realtime");
    let last = &up[2];
    assert_eq!(
        crate::support::roles(last),
        ["System", "User", "Assistant", "User", "Assistant", "Tool"],
        "{last:?}"
    );
    assert_eq!(last.messages[0].text.as_deref(), Some("Be brief."));
    assert_eq!(last.messages[4].tool_calls[0].id, "call_paris");
    assert_eq!(last.messages[5].tool_call_id.as_deref(), Some("call_paris"));
    assert_eq!(last.tools, ["get_weather"]);
    let j = recorder.journal();
    assert_eq!(j.len(), 3);
    assert!(
        j.iter().all(|e| e.response.source == Some("proxy")),
        "{j:?}"
    );
    drop(ws);

    // The recordings are on disk, one per turn, keyed as the session saw each turn.
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 3, "{saved:?}");
    let by_leg = |has: bool| {
        saved
            .iter()
            .find(|f| {
                f["match"]["userMessage"]["equals"] == "weather in Paris?"
                    && f["match"]["hasToolResult"] == has
            })
            .unwrap_or_else(|| panic!("no leg with hasToolResult {has}: {saved:?}"))
    };
    assert_eq!(by_leg(false)["match"]["endpoint"], "realtime");
    assert_eq!(
        by_leg(false)["response"]["toolCalls"][0],
        json!({"name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "id": "call_paris"})
    );
    assert_eq!(by_leg(true)["response"]["content"], "Sunny, 22 degrees.");
    assert!(by_leg(true)["response"]["usage"]["output_tokens"].is_u64());

    // With the upstream gone, the same turns on a fresh socket replay from the recordings: on the
    // recorder (they were registered as they were saved) and on a server loaded from the files.
    drop(upstream);
    let fresh = MockServer::start().await;
    fresh.load(dir.path()).unwrap();
    for s in [&recorder, &fresh] {
        let mut ws = configured(s).await;
        let turns = three_turns(&mut ws).await;
        check_three_turns(&turns);
    }
    let j = recorder.journal();
    assert_eq!(j.len(), 6);
    assert!(
        j[3..].iter().all(|e| e.response.source == Some("fixture")),
        "{j:?}"
    );
    let j = fresh.journal();
    assert_eq!(j.len(), 3);
    assert!(j
        .iter()
        .all(|e| e.response.source == Some("fixture") && e.response.status == 200));
}

#[tokio::test]
async fn a_spoken_turn_is_recorded_with_its_audio() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    let spoken = |evs: &[Value]| -> (Vec<u8>, String) {
        let audio = evs
            .iter()
            .filter(|e| e["type"] == "response.output_audio.delta")
            .flat_map(|e| {
                base64::engine::general_purpose::STANDARD
                    .decode(e["delta"].as_str().unwrap())
                    .unwrap()
            })
            .collect();
        let transcript = evs
            .iter()
            .filter(|e| e["type"] == "response.output_audio_transcript.delta")
            .map(|e| e["delta"].as_str().unwrap().to_owned())
            .collect();
        (audio, transcript)
    };
    let mut heard = Vec::new();
    for s in [&recorder, &recorder] {
        let mut ws = connect(s, "/v1/realtime", &[]).await;
        event(&mut ws).await.unwrap();
        send(
            &mut ws,
            json!({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["audio"]}}),
        )
        .await;
        until(&mut ws, "session.updated").await;
        ask(&mut ws, "speak").await;
        heard.push(spoken(&until(&mut ws, "response.done").await));
    }
    let want: Vec<u8> = (1..=16).collect();
    assert_eq!(heard[0], (want.clone(), "Hello!".to_owned()));
    assert_eq!(heard[1], heard[0]);
    let j = recorder.journal();
    assert_eq!(
        j.iter().map(|e| e.response.source).collect::<Vec<_>>(),
        [Some("proxy"), Some("fixture")]
    );
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 1);
    assert_eq!(
        saved[0]["response"]["audio"],
        base64::engine::general_purpose::STANDARD.encode(&want)
    );
    assert_eq!(saved[0]["response"]["content"], "Hello!");
}

#[tokio::test]
async fn a_dead_upstream_gets_an_error_event_and_the_realtime_socket_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::dead_upstream_recorder(dir.path()).await;
    recorder.load_str_as(FIXTURES, "rt.json").unwrap();
    let mut ws = connect(&recorder, "/v1/realtime", &[]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "not in any fixture").await;
    let e = event(&mut ws).await.unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["code"], "upstream_unavailable");
    assert_eq!(e["error"]["type"], "server_error");
    ask(&mut ws, "hello").await;
    assert_eq!(
        text_of(&until(&mut ws, "response.done").await),
        "Hi there, friend!"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let j = recorder.journal();
    assert_eq!(j[0].response.status, 502);
    assert_eq!(j[0].response.source, Some("proxy"));
}

#[tokio::test]
async fn an_upstream_that_drops_mid_turn_gets_an_error_event_and_the_next_miss_reconnects() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    let mut ws = connect(&recorder, "/v1/realtime", &[]).await;
    event(&mut ws).await.unwrap();
    ask(&mut ws, "cut").await;
    // The five events the upstream sent before its cut, then the error.
    let evs = until(&mut ws, "response.done").await;
    let kinds: Vec<_> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    assert_eq!(kinds[0], "response.created");
    let e = evs.last().unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["code"], "upstream_failed");
    // The next miss opens a new upstream socket, brought in step with the whole conversation.
    ask(&mut ws, "hello").await;
    assert_eq!(
        text_of(&until(&mut ws, "response.done").await),
        "Hi there, friend!"
    );
    let up = upstream.journal();
    assert_eq!(up.len(), 2);
    let aimock::journal::JournalBody::Chat(req) = &up[1].body else {
        panic!("no request: {:?}", up[1].body);
    };
    let texts: Vec<_> = req.messages.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, [Some("cut".to_owned()), Some("hello".to_owned())]);
    // Only the completed turn was saved.
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0]["match"]["userMessage"]["equals"], "hello");
}
