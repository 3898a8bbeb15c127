//! GPT-Live (`/v1/live/sessions`) and Realtime translations (`/v1/realtime/translations`) over a
//! real socket with a tungstenite client: a session's start, a spoken turn and its close; the
//! error events for bad input, the socket staying open; the turn limit; a translation flushed
//! at close; a translation socket without a model closed with 1008; record mode (each API's
//! session recorded from an upstream server and replayed with it gone, a dead upstream, an
//! upstream dropping mid-turn). (The openai SDK drives both in
//! `interop/python/test_openai_live_sdk.py`.)

use aimock::MockServer;
use base64::Engine;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::support::ws::{connect, event, next, send, until, Ws};

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"endpoint": "openai-live", "userMessage": "hello"}, "response": {"content": "Hi there, caller!"}, "chunkSize": 4},
  {"match": {"endpoint": "realtime-translation"}, "response": {"content": "Bonjour"}}
]}"#;

async fn server() -> MockServer {
    let s = MockServer::builder().start().await;
    s.load_str_as(FIXTURES, "live.json").unwrap();
    s
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

// --- record mode ----------------------------------------------------------------------------------

/// The upstream's fixtures for record mode: a spoken turn, a turn that speaks and delegates, the
/// answer after the delegation's result (told apart by `hasToolResult`), and translations (the
/// second utterance told apart by `turnIndex`, with its own audio).
const UPSTREAM: &str = r#"{"fixtures": [
  {"match": {"endpoint": "openai-live", "userMessage": "hello"}, "response": {"content": "Hi there, caller!"}, "chunkSize": 4},
  {"match": {"endpoint": "openai-live", "userMessage": "book a table", "hasToolResult": true}, "response": {"content": "Booked for two."}},
  {"match": {"endpoint": "openai-live", "userMessage": "book a table"}, "response": {"content": "One moment.", "toolCalls": [{"name": "book_table", "arguments": "{\"people\":2}", "id": "dlg_upstream_1"}]}},
  {"match": {"endpoint": "openai-live", "userMessage": "cut"}, "response": {"content": "abcdefghijkl"}, "chunkSize": 2, "truncateAfterChunks": 3},
  {"match": {"endpoint": "openai-live", "userMessage": "weather in Tokyo", "hasToolResult": true}, "response": {"content": "Rainy, 18 degrees."}, "chunkSize": 6},
  {"match": {"endpoint": "openai-live", "userMessage": "weather in Tokyo"}, "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}", "id": "call_tokyo"}]}},
  {"match": {"endpoint": "realtime-translation", "turnIndex": 1}, "response": {"content": "Adios.", "audio": "AQIDBAUGBwgJCgsMDQ4PEA=="}},
  {"match": {"endpoint": "realtime-translation"}, "response": {"content": "Bonjour tout le monde"}, "chunkSize": 5}
]}"#;

async fn upstream() -> MockServer {
    let s = MockServer::start().await;
    s.load_str_as(UPSTREAM, "upstream.json").unwrap();
    s
}

fn audio_of(events: &[Value]) -> Vec<u8> {
    events
        .iter()
        .filter(|e| e["type"] == "session.output_audio.delta")
        .flat_map(|e| {
            base64::engine::general_purpose::STANDARD
                .decode(e["delta"].as_str().unwrap())
                .unwrap()
        })
        .collect()
}

/// The record test's Live turns on one socket: hello, the turn that delegates, and the answer
/// after the delegation's result. Gives each turn's events (the commentary's acknowledgement
/// first).
async fn live_turns(ws: &mut Ws) -> [Vec<Value>; 3] {
    send(
        ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1", "instructions": "Be brief."}}),
    )
    .await;
    assert_eq!(event(ws).await["type"], "session.started");
    let say = |text: &str, delegation: Value| json!({"type": "session.commentary.append", "content": text, "delegation_id": delegation});
    send(ws, say("hello", Value::Null)).await;
    let hello = until(ws, "session.usage.updated").await;
    send(ws, say("book a table", Value::Null)).await;
    let delegating = until(ws, "session.usage.updated").await;
    let id = delegating
        .iter()
        .find(|e| e["type"] == "session.delegation.created")
        .and_then(|e| e["delegation"]["id"].as_str())
        .unwrap_or("none")
        .to_owned();
    send(ws, say("booked: table 4", json!(id))).await;
    let answer = until(ws, "session.usage.updated").await;
    [hello, delegating, answer]
}

/// A turn's event types (what a failure shows: the audio deltas are long).
fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?"))
        .collect()
}

fn check_live_turns([hello, delegating, answer]: &[Vec<Value>; 3]) {
    assert_eq!(transcript(hello), "Hi there, caller!");
    assert_eq!(
        audio_of(hello).len(),
        48 * 60 * "Hi there, caller!".len(),
        "the upstream's silent PCM16"
    );
    assert_eq!(transcript(delegating), "One moment.");
    let created: Vec<_> = delegating
        .iter()
        .filter(|e| e["type"] == "session.delegation.created")
        .collect();
    assert_eq!(created.len(), 1, "{:?}", kinds(delegating));
    assert_eq!(created[0]["delegation"]["id"], "dlg_upstream_1");
    assert_eq!(created[0]["delegation"]["target"], "client");
    assert_eq!(transcript(answer), "Booked for two.");
    for turn in [hello, delegating, answer] {
        // The client's acknowledgement, then the turn's own events: none of the upstream's
        // acknowledgements of what it was sent (its session.started, its commentary.appended).
        assert_eq!(
            turn[0]["type"],
            "session.commentary.appended",
            "{:?}",
            kinds(turn)
        );
        assert!(
            turn[1..]
                .iter()
                .all(|e| e["type"] != "session.commentary.appended"
                    && e["type"] != "session.started"
                    && e["type"] != "error"),
            "{:?}",
            kinds(turn)
        );
        assert_eq!(turn.last().unwrap()["type"], "session.usage.updated");
    }
}

#[tokio::test]
async fn a_live_session_is_recorded_turn_by_turn_and_replays_without_the_upstream() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;

    let mut ws = connect(&recorder, "/v1/live/sessions", &[]).await;
    let turns = live_turns(&mut ws).await;
    check_live_turns(&turns);
    // The upstream answered each turn over one socket, in step with the session: the last turn
    // had the instructions, both commentaries, the delegation and its result.
    let up = crate::support::upstream_socket_turns(&upstream, 3, "/v1/live/sessions");
    let last = &up[2];
    assert_eq!(
        crate::support::roles(last),
        ["System", "User", "Assistant", "User", "Assistant", "Tool"],
        "{last:?}"
    );
    assert_eq!(
        last.messages[5].tool_call_id.as_deref(),
        Some("dlg_upstream_1")
    );
    let j = recorder.journal();
    assert_eq!(j.len(), 3);
    assert!(
        j.iter()
            .all(|e| e.response.source == Some("proxy") && e.response.status == 200),
        "{j:?}"
    );
    drop(ws);

    // One recording per turn, with the transcript, the audio and the delegation as a tool call.
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 3, "{saved:?}");
    let by = |text: &str, has: bool| {
        saved
            .iter()
            .find(|f| {
                f["match"]["userMessage"]["equals"] == text && f["match"]["hasToolResult"] == has
            })
            .unwrap_or_else(|| panic!("no recording of {text} ({has}): {saved:?}"))
    };
    assert_eq!(by("hello", false)["match"]["endpoint"], "openai-live");
    assert_eq!(
        by("hello", false)["response"]["content"],
        "Hi there, caller!"
    );
    assert!(by("hello", false)["response"]["audio"].is_string());
    let delegating = &by("book a table", false)["response"];
    assert_eq!(delegating["content"], "One moment.");
    assert_eq!(delegating["toolCalls"][0]["id"], "dlg_upstream_1");
    assert_eq!(
        by("book a table", true)["response"]["content"],
        "Booked for two."
    );

    // With the upstream gone, the same turns on a fresh socket replay from the recordings: on
    // the recorder (registered as saved) and on a server loaded from the files.
    drop(upstream);
    let fresh = MockServer::start().await;
    fresh.load(dir.path()).unwrap();
    for s in [&recorder, &fresh] {
        let mut ws = connect(s, "/v1/live/sessions", &[]).await;
        let turns = live_turns(&mut ws).await;
        check_live_turns(&turns);
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

/// Base64 PCM16 at 24 kHz: a square wave (speech) or silence.
fn pcm(ms: usize, speech: bool) -> String {
    let samples: Vec<u8> = (0..ms * 24)
        .flat_map(|i| {
            let v: i16 = if !speech {
                0
            } else if i % 2 == 0 {
                9000
            } else {
                -9000
            };
            v.to_le_bytes()
        })
        .collect();
    base64::engine::general_purpose::STANDARD.encode(samples)
}

/// Two utterances in a French translation session; each one's events, up to its last audio.
async fn translation_turns(ws: &mut Ws) -> [Vec<Value>; 2] {
    assert_eq!(event(ws).await["type"], "session.created");
    send(
        ws,
        json!({"type": "session.update", "session": {"audio": {"output": {"language": "fr"}}}}),
    )
    .await;
    assert_eq!(event(ws).await["type"], "session.updated");
    let mut turns = [Vec::new(), Vec::new()];
    let wants = [("Bonjour tout le monde", 48 * 60 * 21), ("Adios.", 16)];
    for (i, (want, audio_len)) in wants.into_iter().enumerate() {
        for (ms, speech) in [(100, false), (300, true), (600, false)] {
            send(
                ws,
                json!({"type": "session.input_audio_buffer.append", "audio": pcm(ms, speech)}),
            )
            .await;
        }
        // Until the whole translation is in (the recording's chunks need not be the upstream's).
        while transcript(&turns[i]) != want || audio_of(&turns[i]).len() < audio_len {
            let e = event(ws).await;
            assert_ne!(e["type"], "error", "{e}");
            assert_ne!(
                e["type"], "session.updated",
                "an acknowledgement is not relayed"
            );
            turns[i].push(e);
        }
    }
    turns
}

fn check_translation_turns([first, second]: &[Vec<Value>; 2]) {
    assert_eq!(transcript(first), "Bonjour tout le monde");
    assert_eq!(
        audio_of(first).len(),
        48 * 60 * "Bonjour tout le monde".len()
    );
    assert_eq!(transcript(second), "Adios.");
    assert_eq!(audio_of(second), (1..=16).collect::<Vec<u8>>());
}

#[tokio::test]
async fn a_translation_session_is_recorded_utterance_by_utterance_and_replays_without_the_upstream()
{
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    let path = "/v1/realtime/translations?model=gpt-realtime-translate";

    let mut ws = connect(&recorder, path, &[]).await;
    let turns = translation_turns(&mut ws).await;
    check_translation_turns(&turns);
    // One upstream socket, in step: the second utterance was its second turn, in French.
    let up = upstream.journal();
    assert_eq!(up.len(), 2, "{up:?}");
    assert!(up.iter().all(|e| e.method == "WS"
        && e.path
            .starts_with("/v1/realtime/translations?model=gpt-realtime-translate")));
    let aimock::journal::JournalBody::Chat(last) = &up[1].body else {
        panic!("the upstream's turn has no request: {:?}", up[1].body);
    };
    assert_eq!(last.messages[0].text.as_deref(), Some("Translate into fr."));
    assert_eq!(
        last.messages[1].text.as_deref(),
        Some("Bonjour tout le monde")
    );
    // Each turn is journaled (source proxy) once saved.
    send(&mut ws, json!({"type": "session.close"})).await;
    until(&mut ws, "session.closed").await;
    let j = recorder.journal();
    assert_eq!(j.len(), 2, "{j:?}");
    assert!(
        j.iter()
            .all(|e| e.response.source == Some("proxy") && e.response.status == 200),
        "{j:?}"
    );
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 2, "{saved:?}");
    let at = |n: u64| {
        saved
            .iter()
            .find(|f| f["match"]["turnIndex"] == n)
            .unwrap_or_else(|| panic!("no recording of turn {n}: {saved:?}"))
    };
    assert_eq!(at(0)["match"]["endpoint"], "realtime-translation");
    assert_eq!(at(0)["response"]["content"], "Bonjour tout le monde");
    assert_eq!(at(1)["response"]["content"], "Adios.");
    assert_eq!(at(1)["response"]["audio"], "AQIDBAUGBwgJCgsMDQ4PEA==");

    drop(upstream);
    let fresh = MockServer::start().await;
    fresh.load(dir.path()).unwrap();
    for s in [&recorder, &fresh] {
        let mut ws = connect(s, path, &[]).await;
        let turns = translation_turns(&mut ws).await;
        check_translation_turns(&turns);
    }
    let j = recorder.journal();
    assert_eq!(j.len(), 4);
    assert!(
        j[2..].iter().all(|e| e.response.source == Some("fixture")),
        "{j:?}"
    );
    let j = fresh.journal();
    assert_eq!(j.len(), 2);
    assert!(j.iter().all(|e| e.response.source == Some("fixture")));
}

#[tokio::test]
async fn a_dead_upstream_gets_an_error_event_and_the_live_and_translation_sockets_stay_open() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::dead_upstream_recorder(dir.path()).await;
    recorder.load_str_as(FIXTURES, "live.json").unwrap();

    let mut ws = connect(&recorder, "/v1/live/sessions", &[]).await;
    send(
        &mut ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
    )
    .await;
    assert_eq!(event(&mut ws).await["type"], "session.started");
    send(
        &mut ws,
        json!({"type": "session.commentary.append", "content": "in no fixture", "delegation_id": null, "event_id": "c1"}),
    )
    .await;
    let turn = until(&mut ws, "session.usage.updated").await;
    let e = turn.last().unwrap();
    assert_eq!(e["type"], "error", "{turn:?}");
    assert_eq!(e["error"]["code"], "upstream_unavailable");
    assert_eq!(e["client_event_id"], "c1");
    // The socket is open: a turn a fixture answers is still spoken.
    send(
        &mut ws,
        json!({"type": "session.commentary.append", "content": "hello", "delegation_id": null}),
    )
    .await;
    assert_eq!(
        transcript(&until(&mut ws, "session.usage.updated").await),
        "Hi there, caller!"
    );

    // A translation no fixture answers (the catch-all fixture only answers French... here, no
    // fixture at all on a server of its own).
    let bare = crate::support::dead_upstream_recorder(dir.path()).await;
    let mut ws = connect(
        &bare,
        "/v1/realtime/translations?model=gpt-realtime-translate",
        &[],
    )
    .await;
    assert_eq!(event(&mut ws).await["type"], "session.created");
    for (ms, speech) in [(300, true), (600, false)] {
        send(
            &mut ws,
            json!({"type": "session.input_audio_buffer.append", "audio": pcm(ms, speech)}),
        )
        .await;
    }
    let e = event(&mut ws).await;
    assert_eq!(e["type"], "error", "{e}");
    assert_eq!(e["error"]["code"], "upstream_unavailable");
    send(&mut ws, json!({"type": "session.update", "session": {}})).await;
    assert_eq!(event(&mut ws).await["type"], "session.updated");

    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let j = recorder.journal();
    assert_eq!(j[0].response.status, 502);
    assert_eq!(j[0].response.source, Some("proxy"));
    assert_eq!(bare.journal()[0].response.status, 502);
}

#[tokio::test]
async fn an_upstream_that_drops_mid_live_turn_gets_an_error_event_and_the_next_miss_reconnects() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    let mut ws = connect(&recorder, "/v1/live/sessions", &[]).await;
    send(
        &mut ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
    )
    .await;
    assert_eq!(event(&mut ws).await["type"], "session.started");
    let say = |text: &str| json!({"type": "session.commentary.append", "content": text, "delegation_id": null});
    send(&mut ws, say("cut")).await;
    // The three events the upstream sent before its cut, then the error.
    let evs = until(&mut ws, "session.usage.updated").await;
    assert_eq!(
        kinds(&evs),
        [
            "session.commentary.appended",
            "session.output_transcript.delta",
            "session.output_audio.delta",
            "session.output_transcript.delta",
            "error"
        ]
    );
    assert_eq!(evs[4]["error"]["code"], "upstream_failed");
    // The socket is open; the next miss opens a new upstream socket.
    send(&mut ws, say("hello")).await;
    assert_eq!(
        transcript(&until(&mut ws, "session.usage.updated").await),
        "Hi there, caller!"
    );
    assert_eq!(upstream.journal().len(), 2);
    let j = recorder.journal();
    assert_eq!(
        j.iter().map(|e| e.response.status).collect::<Vec<_>>(),
        [502, 200]
    );
    // Only the completed turn was saved.
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0]["match"]["userMessage"]["equals"], "hello");
}

/// A Responses-delegation turn's nested events, up to `response.completed`.
async fn nested_turn(ws: &mut Ws) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let e = event(ws).await;
        assert_eq!(e["type"], "response.event", "{e}");
        let done = e["event"]["type"] == "response.completed";
        out.push(e["event"].clone());
        if done {
            return out;
        }
    }
}

/// A Responses-delegation session's two turns: the tool call, and the answer after its output.
/// Gives each turn's nested Responses events.
async fn responses_turns(ws: &mut Ws) -> [Vec<Value>; 2] {
    send(
        ws,
        json!({"type": "session.start", "session": {"model": "gpt-live-1", "delegation": {"type": "responses",
               "responses": {"model": "gpt-5.5", "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]}}}}),
    )
    .await;
    assert_eq!(event(ws).await["type"], "session.started");
    send(
        ws,
        json!({"type": "response.item.create", "item": {"type": "message", "role": "user",
               "content": [{"type": "input_text", "text": "weather in Tokyo"}]}}),
    )
    .await;
    send(ws, json!({"type": "response.create"})).await;
    let call = nested_turn(ws).await;
    let call_id = call
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .and_then(|e| e["item"]["call_id"].as_str())
        .unwrap_or("none")
        .to_owned();
    send(
        ws,
        json!({"type": "response.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": "rain"}}),
    )
    .await;
    send(ws, json!({"type": "response.create"})).await;
    let answer = nested_turn(ws).await;
    [call, answer]
}

fn check_responses_turns([call, answer]: &[Vec<Value>; 2]) {
    let item = call
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .map(|e| e["item"].clone())
        .unwrap_or_default();
    assert_eq!(item["type"], "function_call", "{call:?}");
    assert_eq!(item["name"], "get_weather");
    assert_eq!(item["call_id"], "call_tokyo");
    assert_eq!(item["arguments"], "{\"city\":\"Tokyo\"}");
    let text: String = answer
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert_eq!(text, "Rainy, 18 degrees.");
}

#[tokio::test]
async fn a_responses_delegation_tool_loop_is_recorded_and_replays_without_the_upstream() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = crate::support::recorder(&upstream, dir.path()).await;
    let mut ws = connect(&recorder, "/v1/live/sessions", &[]).await;
    check_responses_turns(&responses_turns(&mut ws).await);
    // The upstream's second turn had the user's item, its call and the tool's output.
    let up = upstream.journal();
    assert_eq!(up.len(), 2, "{up:?}");
    let aimock::journal::JournalBody::Chat(last) = &up[1].body else {
        panic!("the upstream's turn has no request: {:?}", up[1].body);
    };
    assert_eq!(
        last.messages.last().and_then(|m| m.tool_call_id.as_deref()),
        Some("call_tokyo")
    );
    let saved = crate::support::recordings(dir.path());
    assert_eq!(saved.len(), 2, "{saved:?}");
    assert!(saved
        .iter()
        .any(|f| f["response"]["toolCalls"][0]["id"] == "call_tokyo"));

    drop(upstream);
    let fresh = MockServer::start().await;
    fresh.load(dir.path()).unwrap();
    let mut ws = connect(&fresh, "/v1/live/sessions", &[]).await;
    check_responses_turns(&responses_turns(&mut ws).await);
    assert!(fresh
        .journal()
        .iter()
        .all(|e| e.response.source == Some("fixture")));
    assert_eq!(fresh.journal().len(), 2);
}
