//! The Rust API for tests ([`MockServer`]): starting, adding fixtures in code and from files, the
//! journal, the resets, the builder's settings, isolation between servers, and stopping on drop.

use aimock::fixture::Severity;
use aimock::{FixtureEntry, MatchSpec, MockServer, ResponseSpec};
use serde_json::{json, Value};

use crate::support::{self, chat, sequence, stream_chat};

async fn post(s: &MockServer, path: &str, body: &Value) -> reqwest::Response {
    support::post(s, path, body, &[]).await
}

/// Status and body of a chat completion.
async fn ask(s: &MockServer, text: &str) -> (u16, Value) {
    support::status_json(post(s, "/v1/chat/completions", &chat(text)).await).await
}

/// The assistant text of a successful chat completion.
async fn answer(s: &MockServer, text: &str) -> String {
    let (status, v) = ask(s, text).await;
    assert_eq!(status, 200, "{text:?} was answered {status}: {v}");
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {v}"))
        .to_owned()
}

/// The `content` deltas of a streamed chat completion, in order.
async fn streamed_pieces(s: &MockServer, text: &str) -> Vec<String> {
    let r = post(s, "/v1/chat/completions", &stream_chat(text)).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("data: [DONE]"), "{body}");
    support::content_deltas(&body)
}

async fn fixture_count(s: &MockServer) -> u64 {
    let v: Value = reqwest::get(format!("{}/__aimock/fixtures", s.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["count"].as_u64().unwrap()
}

#[tokio::test]
async fn start_serves_on_a_free_loopback_port_named_by_uri_and_address() {
    let s = MockServer::start().await;
    let addr = s.address();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(s.uri(), format!("http://127.0.0.1:{}", addr.port()));
    let health: Value = reqwest::get(format!("{}/health", s.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert!(s.journal().is_empty());
    assert!(s.last_request().is_none());
}

#[tokio::test]
async fn mock_adds_a_fixture_that_answers_matching_requests_only() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("hello"), ResponseSpec::text("Hi!"))
        .unwrap();
    s.mock(
        MatchSpec::user_message("weather").tool_name("get_weather"),
        ResponseSpec::tool_call("get_weather", json!({"city": "Paris"})),
    )
    .unwrap();
    assert_eq!(answer(&s, "well hello there").await, "Hi!");
    let (status, _) = ask(&s, "something else").await;
    assert_eq!(status, 404);

    let with_tool = json!({"model": "gpt-4o",
        "messages": [{"role": "user", "content": "weather?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]});
    let v: Value = post(&s, "/v1/chat/completions", &with_tool)
        .await
        .json()
        .await
        .unwrap();
    let call = &v["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
    // Without the declared tool the second fixture does not hold.
    let (status, _) = ask(&s, "weather?").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn add_refuses_a_fixture_with_an_empty_response_and_adds_nothing() {
    let s = MockServer::start().await;
    let problems = s
        .add(FixtureEntry::new(
            MatchSpec::user_message("x"),
            ResponseSpec::default(),
        ))
        .expect_err("a fixture with nothing in its response must be refused");
    assert!(!problems.is_empty());
    assert!(problems.iter().all(|p| p.severity == Severity::Error));
    assert!(
        problems.iter().any(|p| p.field.starts_with("response")),
        "no problem names the response: {problems:?}"
    );
    assert_eq!(fixture_count(&s).await, 0);
    let (status, _) = ask(&s, "x").await;
    assert_eq!(status, 404);

    // The same through mock(): an error status outside HTTP's range is refused too.
    let bad = s.mock(
        MatchSpec::user_message("y"),
        ResponseSpec::error(42, "nope"),
    );
    assert!(bad.is_err(), "status 42 was accepted");
    assert_eq!(fixture_count(&s).await, 0);
}

#[tokio::test]
async fn load_reads_json_and_yaml_files_from_a_directory_tree() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"fixtures": [
            {"match": {"userMessage": "from json"}, "response": {"content": "JSON answer"}},
            {"match": {"inputText": "embed me"}, "response": {"embedding": [0.25, 0.5]}}
        ]}"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(
        dir.path().join("nested").join("b.yaml"),
        "fixtures:\n  - match:\n      userMessage: from yaml\n    response:\n      content: YAML answer\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a fixture file").unwrap();

    let s = MockServer::start().await;
    assert_eq!(s.load(dir.path()).unwrap(), 3);
    assert_eq!(fixture_count(&s).await, 3);
    assert_eq!(answer(&s, "from json").await, "JSON answer");
    assert_eq!(answer(&s, "from yaml").await, "YAML answer");
    let v: Value = post(
        &s,
        "/v1/embeddings",
        &json!({"model": "text-embedding-3-small", "input": "embed me"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["data"][0]["embedding"], json!([0.25, 0.5]));

    // A single file loads too, after what is there.
    let single = dir.path().join("nested").join("b.yaml");
    assert_eq!(s.load(&single).unwrap(), 1);
    assert_eq!(fixture_count(&s).await, 4);
}

#[tokio::test]
async fn load_of_a_file_with_a_bad_fixture_adds_nothing_and_names_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        r#"{"fixtures": [{"match": {"userMessage": "ok"}, "response": {"content": "fine"}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"fixtures": [{"match": {"userMessage": "oops"}, "response": {"text": "typo"}}]}"#,
    )
    .unwrap();
    let s = MockServer::start().await;
    let problems = s
        .load(dir.path())
        .expect_err("a bad fixture must fail the load");
    assert!(problems.iter().all(|p| p.severity == Severity::Error));
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems.iter().any(|p| p.file.ends_with("bad.json")
            && p.fixture == Some(0)
            && p.field.contains("text")),
        "{text:?}"
    );
    assert_eq!(fixture_count(&s).await, 0, "a failed load added fixtures");
}

#[tokio::test]
async fn journal_and_last_request_show_every_request_oldest_first() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("one"), ResponseSpec::text("1"))
        .unwrap();
    answer(&s, "one").await;
    let (status, _) = ask(&s, "two").await;
    assert_eq!(status, 404);

    let j = s.journal();
    assert_eq!(j.len(), 2);
    assert_eq!(j[0].method, "POST");
    assert_eq!(j[0].path, "/v1/chat/completions");
    assert_eq!(j[0].response.status, 200);
    assert!(j[0].response.fixture.is_some());
    assert_eq!(j[1].response.status, 404);
    assert!(j[1].response.fixture.is_none());
    assert_ne!(j[0].id, j[1].id);
    assert!(j[0].id.starts_with("req-"), "{}", j[0].id);
    assert!(j[0].timestamp <= j[1].timestamp);

    let last = s.last_request().unwrap();
    assert_eq!(last.id, j[1].id);
    let body = serde_json::to_value(&last).unwrap();
    assert_eq!(body["body"]["messages"][0]["content"], "two");
}

#[tokio::test]
async fn reset_forgets_fixtures_journal_and_sequences() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["first", "second"]);
    assert_eq!(answer(&s, "joke").await, "first");
    s.reset();
    assert!(s.journal().is_empty());
    assert!(s.last_request().is_none());
    assert_eq!(fixture_count(&s).await, 0);
    let (status, _) = ask(&s, "joke").await;
    assert_eq!(status, 404, "fixtures survived reset()");

    // Fixtures added after a reset start their sequences at 0.
    s.reset();
    sequence(&s, "joke", &["first", "second"]);
    assert_eq!(answer(&s, "joke").await, "first");
}

#[tokio::test]
async fn reset_journal_keeps_fixtures_and_sequence_positions() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["first", "second", "third"]);
    assert_eq!(answer(&s, "joke").await, "first");
    assert_eq!(s.journal().len(), 1);
    s.reset_journal();
    assert!(s.journal().is_empty());
    assert_eq!(answer(&s, "joke").await, "second");
    assert_eq!(s.journal().len(), 1);
    assert_eq!(fixture_count(&s).await, 3);
}

#[tokio::test]
async fn reset_sequences_restarts_every_sequence_but_keeps_the_journal() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["first", "second"]);
    assert_eq!(answer(&s, "joke").await, "first");
    assert_eq!(answer(&s, "joke").await, "second");
    let (status, _) = ask(&s, "joke").await;
    assert_eq!(status, 404, "an exhausted sequence still answered");
    s.reset_sequences();
    assert_eq!(answer(&s, "joke").await, "first");
    assert_eq!(s.journal().len(), 4);
}

#[tokio::test]
async fn a_strict_builder_answers_a_miss_with_503_and_a_default_one_with_404() {
    let strict = MockServer::builder().strict(true).start().await;
    strict
        .mock(MatchSpec::user_message("known"), ResponseSpec::text("yes"))
        .unwrap();
    assert_eq!(answer(&strict, "known").await, "yes");
    let (status, v) = ask(&strict, "nothing like it").await;
    assert_eq!(status, 503, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Strict mode"),
        "{v}"
    );
    // Strict by configuration is not an override.
    assert_eq!(
        strict.last_request().unwrap().response.strict_override,
        None
    );

    let lenient = MockServer::start().await;
    let (status, _) = ask(&lenient, "nothing like it").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn chunk_size_from_the_builder_changes_how_a_stream_is_cut() {
    let text = "abcdefghij";
    let small = MockServer::builder().chunk_size(3).start().await;
    small
        .mock(MatchSpec::user_message("cut"), ResponseSpec::text(text))
        .unwrap();
    assert_eq!(
        streamed_pieces(&small, "cut").await,
        ["abc", "def", "ghi", "j"]
    );

    let default = MockServer::start().await;
    default
        .mock(MatchSpec::user_message("cut"), ResponseSpec::text(text))
        .unwrap();
    assert_eq!(streamed_pieces(&default, "cut").await, [text]);

    // A fixture's own chunkSize wins over the builder's.
    small
        .add(
            FixtureEntry::new(MatchSpec::user_message("own"), ResponseSpec::text(text))
                .chunk_size(5),
        )
        .unwrap();
    assert_eq!(streamed_pieces(&small, "own").await, ["abcde", "fghij"]);
}

#[tokio::test]
async fn fixtures_given_to_the_builder_answer_from_the_start() {
    let s = MockServer::builder()
        .fixture(FixtureEntry::new(
            MatchSpec::user_message("hello"),
            ResponseSpec::text("built in"),
        ))
        .fixture(FixtureEntry::new(
            MatchSpec::input_text("vec"),
            ResponseSpec::embedding(vec![1.0, 2.0]),
        ))
        .start()
        .await;
    assert_eq!(fixture_count(&s).await, 2);
    assert_eq!(answer(&s, "hello").await, "built in");
}

#[tokio::test]
#[should_panic(expected = "invalid fixture given to MockServer::builder")]
async fn an_invalid_fixture_given_to_the_builder_panics_at_start() {
    let _ = MockServer::builder()
        .fixture(FixtureEntry::new(
            MatchSpec::user_message("x"),
            ResponseSpec::default(),
        ))
        .start()
        .await;
}

#[tokio::test]
async fn two_servers_in_one_test_share_neither_fixtures_nor_journal_nor_sequences() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    assert_ne!(a.uri(), b.uri());
    a.mock(MatchSpec::user_message("alpha"), ResponseSpec::text("A"))
        .unwrap();
    b.mock(MatchSpec::user_message("beta"), ResponseSpec::text("B"))
        .unwrap();
    sequence(&a, "seq", &["a0", "a1"]);
    sequence(&b, "seq", &["b0", "b1"]);

    assert_eq!(answer(&a, "alpha").await, "A");
    assert_eq!(ask(&a, "beta").await.0, 404, "a sees b's fixture");
    assert_eq!(ask(&b, "alpha").await.0, 404, "b sees a's fixture");
    assert_eq!(answer(&a, "seq").await, "a0");
    assert_eq!(answer(&a, "seq").await, "a1");
    // b's sequence did not move when a's did.
    assert_eq!(answer(&b, "seq").await, "b0");

    assert_eq!(a.journal().len(), 4);
    assert_eq!(b.journal().len(), 2);
    b.reset();
    assert_eq!(a.journal().len(), 4, "resetting b cleared a");
    assert_eq!(answer(&a, "alpha").await, "A");
}

#[tokio::test]
async fn dropping_a_server_stops_it_and_its_port_refuses_connections() {
    let s = MockServer::start().await;
    let uri = s.uri();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert_eq!(
        client
            .get(format!("{uri}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    drop(s);
    // Shutting down is asynchronous: wait (boundedly) for the listener to close.
    support::eventually(
        async || match client.get(format!("{uri}/health")).send().await {
            Err(e) if e.is_connect() => Ok(()),
            other => Err(format!("the dropped server still answers: {other:?}")),
        },
    )
    .await;
}
