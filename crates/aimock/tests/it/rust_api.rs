//! The Rust API at wiremock's level: `Mock::given(..).and(..).respond_with(..)`, expectations and
//! their reports, limits, priorities, scoped mocks, closures as matchers and responders, base
//! URLs per provider, fixtures from strings, and the round trip that keeps mocks and fixture
//! files from drifting apart.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aimock::conversation::{ChatRequest, Endpoint};
use aimock::fixture::{FixtureFile, StreamingProfile, TextPattern, ToolCallSpec};
use aimock::matchers::{
    any, context, endpoint, has_tool_result, input_text, model, response_format, sequence_index,
    system_hash, system_message, tool_call_id, tool_name, tool_result_contains, tools_hash,
    turn_index, user_message, user_message_regex,
};
use aimock::responders::{embedding, error, reasoning, text, tool_call, tool_calls};
use aimock::{MatchSpec, Mock, MockServer, Provider, ResponseSpec};
use serde_json::{json, Value};

use crate::support::{chat, post as post_with};

/// Status and JSON body of an OpenAI chat completion.
async fn ask(s: &MockServer, body: &Value) -> (u16, Value) {
    let r = post_with(s, "/v1/chat/completions", body, &[]).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The assistant text of a successful chat completion of one user message.
async fn answer(s: &MockServer, text: &str) -> String {
    let (status, v) = ask(s, &chat(text)).await;
    assert_eq!(status, 200, "{text:?} was answered {status}: {v}");
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {v}"))
        .to_owned()
}

/// The message of a panic payload.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().unwrap().to_string(),
    }
}

#[tokio::test]
async fn a_mock_answers_the_async_openai_client_at_the_openai_base_url() {
    use async_openai::config::OpenAIConfig;
    use async_openai::types::chat::{
        ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
    };

    let s = MockServer::start().await;
    Mock::given(user_message("hello"))
        .and(model("gpt-4o"))
        .respond_with(text("Hi from a mock"))
        .expect(1)
        .mount(&s)
        .await;
    let client = async_openai::Client::with_config(
        OpenAIConfig::new()
            .with_api_base(s.base_url(Provider::OpenAi))
            .with_api_key("sk-test"),
    );
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-2024-08-06")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("well hello")
            .build()
            .unwrap()
            .into()])
        .build()
        .unwrap();
    let reply = client.chat().create(request).await.unwrap();
    assert_eq!(
        reply.choices[0].message.content.as_deref(),
        Some("Hi from a mock")
    );
    s.verify();
}

#[tokio::test]
async fn expectations_met_by_a_number_or_a_range_verify_quietly() {
    let s = MockServer::start().await;
    Mock::given(user_message("one"))
        .respond_with(text("1"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(user_message("many"))
        .respond_with(text("n"))
        .expect(2..)
        .mount(&s)
        .await;
    Mock::given(user_message("few"))
        .respond_with(text("f"))
        .expect(..=1)
        .mount(&s)
        .await;
    Mock::given(user_message("some"))
        .respond_with(text("s"))
        .expect(2..4)
        .mount(&s)
        .await;
    Mock::given(user_message("never"))
        .respond_with(text("x"))
        .expect(0)
        .mount(&s)
        .await;
    for t in ["one", "many", "many", "many", "some", "some", "some"] {
        answer(&s, t).await;
    }
    s.verify();
}

#[tokio::test]
async fn verify_lists_each_failed_mock_with_its_expected_and_matched_counts_and_the_closest_miss() {
    let s = MockServer::start().await;
    Mock::given(user_message("hello"))
        .respond_with(text("Hi"))
        .expect(1)
        .named("greeting")
        .mount(&s)
        .await;
    Mock::given(user_message("bye"))
        .respond_with(text("Bye"))
        .expect(..=1)
        .mount(&s)
        .await;
    Mock::given(user_message("dup"))
        .respond_with(text("first"))
        .mount(&s)
        .await;
    Mock::given(user_message("dup"))
        .respond_with(text("second"))
        .named("shadowed")
        .expect(1..)
        .mount(&s)
        .await;
    Mock::given(user_message("fine"))
        .respond_with(text("ok"))
        .expect(1)
        .mount(&s)
        .await;
    answer(&s, "say goodbye").await;
    answer(&s, "goodbye again").await;
    answer(&s, "fine").await;
    answer(&s, "dup").await;
    assert_eq!(ask(&s, &chat("helo world")).await.0, 404);

    let report = panic_text(catch_unwind(AssertUnwindSafe(|| s.verify())).unwrap_err());
    assert_eq!(
        report,
        "mock expectations failed:\n\
         - mock \"greeting\" { userMessage(\"hello\") }: expected exactly 1 matching request, got 0\n    \
         closest miss: request 5 of 5 (POST /v1/chat/completions) failed on `userMessage`: the last user message is \"helo world\"\n\
         - mock { userMessage(\"bye\") }: expected at most 1 matching request, got 2\n\
         - mock \"shadowed\" { userMessage(\"dup\") }: expected at least 1 matching request, got 0\n    \
         closest miss: request 4 of 5 (POST /v1/chat/completions) matches it, but mock { userMessage(\"dup\") } answered it"
    );
    // reset() forgets the mocks and their expectations, so dropping the server passes.
    s.reset();
    s.verify();
}

#[tokio::test]
#[should_panic(
    expected = "mock expectations failed:\n- mock \"never called\" { model(\"gpt-4o\") }: expected at least 1 matching request, got 0\n    no request reached the server"
)]
async fn a_dropped_server_whose_expectation_failed_panics() {
    let s = MockServer::start().await;
    Mock::given(model("gpt-4o"))
        .respond_with(text("x"))
        .expect(1..)
        .named("never called")
        .mount(&s)
        .await;
}

#[test]
fn a_server_dropped_while_its_thread_panics_does_not_panic_again() {
    // A second panic while unwinding would abort the whole test binary.
    let result = catch_unwind(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let s = MockServer::start().await;
            Mock::given(any())
                .respond_with(text("x"))
                .expect(1)
                .mount(&s)
                .await;
            panic!("the test's own failure");
        });
    });
    assert_eq!(panic_text(result.unwrap_err()), "the test's own failure");
}

#[tokio::test]
async fn up_to_n_times_hands_over_to_the_next_mock() {
    let s = MockServer::start().await;
    Mock::given(user_message("joke"))
        .respond_with(text("first"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(user_message("joke"))
        .respond_with(text("fallback"))
        .expect(2)
        .mount(&s)
        .await;
    for want in ["first", "first", "fallback", "fallback"] {
        assert_eq!(answer(&s, "joke").await, want);
    }
    s.verify();
}

#[tokio::test]
async fn a_mock_used_up_is_named_as_the_closest_fixture_of_a_miss() {
    let s = MockServer::start().await;
    Mock::given(user_message("once"))
        .respond_with(text("only once"))
        .up_to_n_times(1)
        .named("one-shot")
        .mount(&s)
        .await;
    assert_eq!(answer(&s, "once").await, "only once");
    let (status, v) = ask(&s, &chat("once")).await;
    assert_eq!(status, 404);
    assert_eq!(
        v["error"]["message"],
        "No fixture matched; closest fixture: mock \"one-shot\" { userMessage(\"once\") } failed on `upToNTimes`: it has answered 1 time(s), as many as it may"
    );
}

#[tokio::test]
async fn a_lower_priority_number_wins_over_insertion_order_and_equal_ones_keep_it() {
    let s = MockServer::start().await;
    Mock::given(user_message("who"))
        .respond_with(text("default, mounted first"))
        .mount(&s)
        .await;
    Mock::given(user_message("who"))
        .respond_with(text("priority 1, mounted last"))
        .with_priority(1)
        .mount(&s)
        .await;
    assert_eq!(answer(&s, "who").await, "priority 1, mounted last");

    Mock::given(user_message("tie"))
        .respond_with(text("first of two at 3"))
        .with_priority(3)
        .mount(&s)
        .await;
    Mock::given(user_message("tie"))
        .respond_with(text("second of two at 3"))
        .with_priority(3)
        .mount(&s)
        .await;
    assert_eq!(answer(&s, "tie").await, "first of two at 3");

    // File fixtures have the default priority, 5: a mock at 6 comes after one loaded later.
    Mock::given(user_message("file"))
        .respond_with(text("mock at 6"))
        .with_priority(6)
        .mount(&s)
        .await;
    s.load_str(r#"{"fixtures": [{"match": {"userMessage": "file"}, "response": {"content": "from the file"}}]}"#)
        .unwrap();
    assert_eq!(answer(&s, "file").await, "from the file");
}

#[tokio::test]
async fn a_scoped_mock_answers_until_its_guard_drops_and_lists_what_it_answered() {
    let s = MockServer::start().await;
    Mock::given(user_message("ping"))
        .respond_with(text("base"))
        .mount(&s)
        .await;
    {
        let guard = Mock::given(user_message("ping"))
            .respond_with(text("scoped"))
            .with_priority(1)
            .expect(2)
            .mount_as_scoped(&s)
            .await;
        assert_eq!(answer(&s, "ping").await, "scoped");
        assert_eq!(answer(&s, "ping once more").await, "scoped");
        assert_eq!(guard.match_count(), 2);
        let seen = guard.received_requests();
        assert_eq!(seen.len(), 2);
        let first = serde_json::to_value(&seen[0]).unwrap();
        assert_eq!(first["body"]["messages"][0]["content"], "ping");
        assert_eq!(seen[1].path, "/v1/chat/completions");
    }
    assert_eq!(answer(&s, "ping").await, "base");
    let fixtures: Value = crate::support::get(&s, "/__aimock/fixtures")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fixtures["count"], 1, "the scoped mock is still mounted");
    // The control API's own requests are not journaled.
    assert_eq!(s.received_requests().len(), 3);
}

#[tokio::test]
#[should_panic(
    expected = "scoped mock expectation failed:\n- mock \"scoped\" { userMessage(\"ping\") }: expected exactly 1 matching request, got 0\n    closest miss: request 1 of 1 (POST /v1/chat/completions) failed on `userMessage`: the last user message is \"pong\""
)]
async fn a_scoped_mock_whose_expectation_failed_panics_when_its_guard_drops() {
    let s = MockServer::start().await;
    let _guard = Mock::given(user_message("ping"))
        .respond_with(text("x"))
        .named("scoped")
        .expect(1)
        .mount_as_scoped(&s)
        .await;
    assert_eq!(ask(&s, &chat("pong")).await.0, 404);
}

#[tokio::test]
async fn a_closure_matcher_is_checked_only_after_the_match_fields_hold() {
    let s = MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    Mock::given(user_message("order"))
        .and(move |req: &ChatRequest| {
            seen.fetch_add(1, Ordering::Relaxed);
            req.messages.len() == 1
        })
        .respond_with(text("one message"))
        .expect(1)
        .mount(&s)
        .await;
    assert_eq!(answer(&s, "order pizza").await, "one message");
    assert_eq!(ask(&s, &chat("something else")).await.0, 404);
    let two = json!({"model": "gpt-4o", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "order pizza"}]});
    let (status, v) = ask(&s, &two).await;
    assert_eq!(status, 404);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("closest fixture: mock { userMessage(\"order\"), closure } failed on `closure`: a closure matcher returned false"),
        "{v}"
    );
    // Called for the two requests whose user message holds "order", not for the other one
    // (the miss's explanation asks it once more).
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn a_closure_responder_answers_each_request_in_each_providers_format() {
    let s = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &ChatRequest| {
            text(format!(
                "{} heard {:?}",
                req.model,
                req.last_user_text().unwrap_or("")
            ))
            .chunk_size(4)
        })
        .expect(2)
        .mount(&s)
        .await;
    assert_eq!(answer(&s, "hi").await, "gpt-4o heard \"hi\"");
    let v: Value = post_with(
        &s,
        "/v1/messages",
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 50,
                "messages": [{"role": "user", "content": "hey"}]}),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["content"][0]["text"], "claude-sonnet-4-5 heard \"hey\"");
    // The journal names the mounted mock as the fixture that answered.
    let j = serde_json::to_value(s.last_request().unwrap()).unwrap();
    assert_eq!(
        j["response"]["fixture"]["response"]["content"],
        "(computed per request by a Rust closure)"
    );
}

#[tokio::test]
async fn a_closure_reply_that_is_not_a_valid_response_is_an_error_in_the_providers_envelope() {
    let s = MockServer::start().await;
    Mock::given(user_message("empty"))
        .respond_with(|_: &ChatRequest| ResponseSpec::default())
        .named("empty reply")
        .mount(&s)
        .await;
    Mock::given(user_message("boom"))
        .respond_with(|_: &ChatRequest| -> ResponseSpec { panic!("boom in a responder") })
        .mount(&s)
        .await;
    let (status, v) = ask(&s, &chat("empty")).await;
    assert_eq!(status, 500);
    assert_eq!(v["error"]["type"], "server_error");
    assert_eq!(v["error"]["code"], "invalid_mock_reply");
    assert_eq!(
        v["error"]["message"],
        "the reply closure of mock \"empty reply\" { userMessage(\"empty\") } returned a response that is not a valid fixture response: `response`: the response has no known kind: give `content`, `toolCalls`, `blocks`, `error`, `embedding`, `image`, `audio`, `transcription`, `video`, `json` or `live`"
    );

    let r = post_with(
        &s,
        "/v1/messages",
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 50,
                "messages": [{"role": "user", "content": "boom"}]}),
        &[],
    )
    .await;
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error", "not Anthropic's envelope: {v}");
    assert_eq!(
        v["error"]["message"],
        "the reply closure of mock { userMessage(\"boom\") } panicked: boom in a responder"
    );
    // The server still answers.
    assert_eq!(ask(&s, &chat("empty")).await.0, 500);
}

#[tokio::test]
async fn two_matchers_on_one_field_are_refused_at_mount_naming_both() {
    let s = MockServer::start().await;
    let err = Mock::given(user_message("a"))
        .and(model("gpt-4o"))
        .and(user_message_regex("^b"))
        .respond_with(text("x"))
        .try_mount(&s)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid mock given(user_message(\"a\")).and(model(\"gpt-4o\")).and(user_message({\"regex\":\"^b\"})): two matchers set `match.userMessage`: user_message(\"a\") and user_message({\"regex\":\"^b\"}); a fixture has one `userMessage`, so say both in one pattern (a regex) or check one of them in a closure matcher"
    );
    let bad_status = Mock::given(user_message("a"))
        .respond_with(error(42, "nope"))
        .named("bad status")
        .try_mount(&s)
        .await
        .unwrap_err();
    assert_eq!(
        bad_status.problems(),
        ["`response.status`: 42 cannot be an error reply's status: use 200-599 (errors are 4xx or 5xx)"]
    );
    let bad_regex = Mock::given(user_message_regex("(")).respond_with(text("x"));
    assert!(bad_regex.try_mount(&s).await.is_err());
    assert!(s.fixtures().is_empty());
}

#[tokio::test]
#[should_panic(expected = "invalid mock \"twice\": two matchers set `match.model`")]
async fn mount_panics_on_an_invalid_mock() {
    let s = MockServer::start().await;
    Mock::given(model("a"))
        .and(model("b"))
        .respond_with(text("x"))
        .named("twice")
        .mount(&s)
        .await;
}

#[tokio::test]
async fn base_url_points_each_providers_sdk_where_it_expects_the_api() {
    let s = MockServer::start().await;
    Mock::given(user_message("hi"))
        .respond_with(text("hello"))
        .mount(&s)
        .await;
    let root = s.uri();
    let openai = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let cases: [(Provider, &str, &str, Value, &str); 10] = [
        (Provider::OpenAi, "/v1", "/chat/completions", openai.clone(), "/choices/0/message/content"),
        (Provider::OpenRouter, "/api/v1", "/chat/completions", openai.clone(), "/choices/0/message/content"),
        (Provider::AzureOpenAi, "", "/openai/deployments/gpt4/chat/completions?api-version=2024-10-21", openai.clone(), "/choices/0/message/content"),
        (Provider::Mistral, "", "/v1/chat/completions", openai.clone(), "/choices/0/message/content"),
        (Provider::Anthropic, "", "/v1/messages",
            json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
            "/content/0/text"),
        (Provider::Gemini, "", "/v1beta/models/gemini-2.0-flash:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
            "/candidates/0/content/parts/0/text"),
        (Provider::VertexAi, "", "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
            "/candidates/0/content/parts/0/text"),
        (Provider::Bedrock, "", "/model/anthropic.claude-3-haiku/converse",
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}),
            "/output/message/content/0/text"),
        (Provider::Ollama, "", "/api/chat",
            json!({"model": "llama3", "stream": false, "messages": [{"role": "user", "content": "hi"}]}),
            "/message/content"),
        (Provider::Cohere, "", "/v2/chat",
            json!({"model": "command-r", "messages": [{"role": "user", "content": "hi"}]}),
            "/message/content/0/text"),
    ];
    assert_eq!(cases.len(), Provider::ALL.len());
    for (provider, path, call, body, answer_at) in cases {
        let base = s.base_url(provider);
        assert_eq!(base, format!("{root}{path}"), "{provider:?}");
        let r = crate::support::client()
            .post(format!("{base}{call}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{provider:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v.pointer(answer_at),
            Some(&json!("hello")),
            "{provider:?}: {v}"
        );
    }
}

#[tokio::test]
async fn load_str_and_the_builders_fixtures_str_read_json_and_yaml() {
    let s = MockServer::builder()
        .fixtures_str(r#"{"fixtures": [{"match": {"userMessage": "json"}, "response": {"content": "from JSON"}}]}"#)
        .fixtures_str("fixtures:\n  - match:\n      userMessage: yaml\n    response:\n      content: from YAML\n")
        .start()
        .await;
    assert_eq!(answer(&s, "json").await, "from JSON");
    assert_eq!(answer(&s, "yaml").await, "from YAML");
    assert_eq!(
        s.load_str("  {\"fixtures\": [{\"match\": {\"model\": \"m\"}, \"response\": {\"content\": \"x\"}}]}")
            .unwrap(),
        1
    );
    let problems = s
        .load_str(
            r#"{"fixtures": [{"match": {"userMesage": "typo"}, "response": {"content": "x"}}]}"#,
        )
        .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "match.userMesage");
    assert!(
        problems[0].message.contains("did you mean `userMessage`"),
        "{problems:?}"
    );
    assert_eq!(s.fixtures().len(), 3);
}

#[tokio::test]
async fn received_requests_are_the_journal_oldest_first() {
    let s = MockServer::start().await;
    Mock::given(user_message("a"))
        .respond_with(text("A"))
        .mount(&s)
        .await;
    answer(&s, "a").await;
    assert_eq!(ask(&s, &chat("b")).await.0, 404);
    let seen = s.received_requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].response.status, 200);
    assert_eq!(seen[1].response.status, 404);
    assert_eq!(seen[1].id, s.last_request().unwrap().id);
}

#[tokio::test]
async fn a_mock_with_a_closure_has_no_fixture_entry() {
    let closure = Mock::given(user_message("x"))
        .and(|_: &ChatRequest| true)
        .respond_with(|_: &ChatRequest| text("y"));
    let err = closure.fixture_entry().unwrap_err();
    assert_eq!(
        err.problems(),
        [
            "it has a closure matcher, which a fixture file cannot hold",
            "it answers through a closure, which a fixture file cannot hold"
        ]
    );
    let plain = Mock::given(user_message("x"))
        .respond_with(text("y"))
        .expect(1);
    assert_eq!(
        serde_json::to_value(plain.fixture_entry().unwrap()).unwrap(),
        json!({"match": {"userMessage": "x"}, "response": {"content": "y"}})
    );
}

mod round_trip {
    use super::*;

    /// Mocks with every matcher and every responder, spec-based only.
    fn mocks() -> Vec<Mock> {
        let profile = StreamingProfile {
            ttft: Some(1.0),
            tps: Some(1000.0),
            jitter: Some(0.0),
            ..StreamingProfile::default()
        };
        vec![
            Mock::given(user_message("hello"))
                .and(model("gpt-4o"))
                .respond_with(
                    reasoning("Let me think.", "Hi there!")
                        .chunk_size(3)
                        .latency_ms(0.0),
                ),
            Mock::given(user_message_regex(r"^weather in \w+$"))
                .and(tool_name("get_weather"))
                .respond_with(tool_call("get_weather", json!({"city": "Paris"}))),
            Mock::given(system_message(["terse", "helpful"]))
                .and(user_message("plan"))
                .respond_with(tool_calls([
                    ToolCallSpec::new("search", json!({"q": "a"})),
                    ToolCallSpec::new("fetch", json!("{\"url\":\"x\"}")).with_id("call_fixed"),
                ])),
            Mock::given(input_text("embed me")).respond_with(embedding(vec![0.5, -0.25, 1.0])),
            Mock::given(response_format("json_object"))
                .and(user_message("json please"))
                .respond_with(text("{\"a\":1}")),
            Mock::given(tool_call_id("call_fixed")).respond_with(text("thanks for the result")),
            Mock::given(tool_result_contains("sunny"))
                .and(has_tool_result(true))
                .respond_with(text("glad it is sunny")),
            Mock::given(user_message("seq"))
                .and(sequence_index(0))
                .respond_with(text("first")),
            Mock::given(user_message("seq"))
                .and(sequence_index(1))
                .respond_with(text("second")),
            Mock::given(user_message("turn"))
                .and(turn_index(1))
                .respond_with(text("turn one")),
            Mock::given(endpoint(Endpoint::Chat))
                .and(user_message("endpoint"))
                .respond_with(text("chat only")),
            Mock::given(context("ctx-a"))
                .and(user_message("ctx"))
                .respond_with(text("context a")),
            // printf 'You are terse.' | sha256sum
            Mock::given(system_hash("97dd3b60"))
                .and(user_message("hashed"))
                .respond_with(text("system hash")),
            // printf 'get_weather\nsearch' | sha256sum
            Mock::given(tools_hash("dbe6049e"))
                .and(user_message("tools"))
                .respond_with(text("tools hash")),
            Mock::given(user_message("limit")).respond_with(error(429, "Slow down")),
            Mock::given(user_message("profile")).respond_with(
                text("streamed with a profile")
                    .streaming_profile(profile)
                    .chunk_size(2)
                    .truncate_after_chunks(3),
            ),
            Mock::given(user_message("long stream"))
                .respond_with(text("not cut in time").disconnect_after_ms(60_000.0)),
            Mock::given(MatchSpec {
                user_message: Some("spec".into()),
                ..MatchSpec::default()
            })
            .respond_with(ResponseSpec {
                content: Some(json!("from a spec")),
                finish_reason: Some("length".into()),
                ..ResponseSpec::default()
            }),
            Mock::given(any())
                .and(model(TextPattern::regex("^claude")))
                .respond_with(text("any claude").with_spec(|r| r.model = Some("echoed".into()))),
            Mock::given(user_message(TextPattern::equals("exact"))).respond_with(text("exactly")),
        ]
    }

    /// A request: path, body, headers.
    type Request = (&'static str, Value, Vec<(&'static str, &'static str)>);

    /// Every request the mocks are for.
    fn requests() -> Vec<Request> {
        let user = |t: &str| json!([{"role": "user", "content": t}]);
        let tools = |names: &[&str]| {
            Value::Array(
                names
                    .iter()
                    .map(|n| json!({"type": "function", "function": {"name": n, "parameters": {}}}))
                    .collect(),
            )
        };
        let chat = "/v1/chat/completions";
        vec![
            (
                chat,
                json!({"model": "gpt-4o-2024-08-06", "messages": user("well hello")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "stream": true, "messages": user("hello")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("weather in Paris"), "tools": tools(&["get_weather"])}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": [
                {"role": "system", "content": "be terse and helpful"},
                {"role": "user", "content": "plan a trip"}]}),
                vec![],
            ),
            (
                "/v1/embeddings",
                json!({"model": "text-embedding-3-small", "input": "please embed me"}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("json please"), "response_format": {"type": "json_object"}}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_fixed", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_fixed", "content": "done"}]}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_other", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_other", "content": "sunny and warm"}]}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("seq")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("seq")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("seq")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "next turn"}]}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("endpoint")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("ctx")}),
                vec![("x-aimock-context", "ctx-a")],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("ctx")}),
                vec![("x-aimock-context", "ctx-b")],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "hashed"}]}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("tools"), "tools": tools(&["get_weather", "search"])}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("limit")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "stream": true, "messages": user("profile")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "stream": true, "messages": user("long stream")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("spec")}),
                vec![],
            ),
            (
                "/v1/messages",
                json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": user("anything")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("exact")}),
                vec![],
            ),
            (
                chat,
                json!({"model": "gpt-4o", "messages": user("not exact")}),
                vec![],
            ),
        ]
    }

    /// A body without what differs per request (ids, times).
    fn stable(mut v: Value) -> Value {
        fn scrub(v: &mut Value) {
            match v {
                Value::Object(o) => {
                    for k in ["id", "created", "created_at", "responseId"] {
                        o.remove(k);
                    }
                    o.values_mut().for_each(scrub);
                }
                Value::Array(a) => a.iter_mut().for_each(scrub),
                // A miss names the closest fixture, which is a mock on one side and a line of
                // the file on the other.
                Value::String(t) if t.starts_with("No fixture matched") => {
                    *t = "No fixture matched".to_owned();
                }
                _ => {}
            }
        }
        scrub(&mut v);
        v
    }

    async fn exchange(
        s: &MockServer,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        use futures_util::StreamExt;
        let r = post_with(s, path, body, headers).await;
        let status = r.status().as_u16();
        // A stream cut on purpose (`truncateAfterChunks`) ends in an error: keep what came.
        let mut bytes = Vec::new();
        let mut body = r.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes).unwrap();
        let parsed = match serde_json::from_str::<Value>(&text) {
            Ok(v) => stable(v),
            // A stream: its events, each scrubbed.
            Err(_) => Value::Array(
                text.split("\n\n")
                    .filter_map(|e| e.strip_prefix("data: "))
                    .map(|d| serde_json::from_str(d).map_or_else(|_| json!(d), stable))
                    .collect(),
            ),
        };
        (status, parsed)
    }

    #[tokio::test]
    async fn every_matcher_and_responder_lowers_to_a_fixture_file_that_matches_and_answers_the_same(
    ) {
        let mocks = mocks();
        let entries: Vec<_> = mocks.iter().map(|m| m.fixture_entry().unwrap()).collect();
        let file = serde_json::to_string_pretty(&FixtureFile {
            fixtures: entries,
            extra: Default::default(),
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mocks.json");
        std::fs::write(&path, &file).unwrap();

        let from_code = MockServer::start().await;
        for m in mocks {
            m.mount(&from_code).await;
        }
        let from_file = MockServer::start().await;
        assert_eq!(from_file.load(&path).unwrap(), 20);

        // The compiled fixtures are the same: match, reply and streaming settings.
        let code = from_code.fixtures();
        let loaded = from_file.fixtures();
        assert_eq!(code.len(), loaded.len());
        for (a, b) in code.iter().zip(&loaded) {
            assert_eq!(a.entry, b.entry);
            assert_eq!(a.reply, b.reply);
            assert_eq!(a.stream, b.stream);
        }
        // And the file reads back through the control API's loader too.
        let report = aimock::fixture::parse_value(serde_json::from_str(&file).unwrap(), "body");
        assert!(!report.has_errors(), "{:?}", report.problems);
        assert_eq!(report.fixtures.len(), 20);

        // Real requests get the same answers from both servers.
        let mut statuses = Vec::new();
        for (path, body, headers) in requests() {
            let a = exchange(&from_code, path, &body, &headers).await;
            let b = exchange(&from_file, path, &body, &headers).await;
            assert_eq!(a, b, "{path} {body}");
            statuses.push(a.0);
        }
        // Every mock answered something: the misses are the ones meant to miss (the third
        // "seq", the other context, "not exact") and the 429 is the error mock's.
        let misses = statuses.iter().filter(|s| **s == 404).count();
        assert_eq!(misses, 3, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1);
    }
}
