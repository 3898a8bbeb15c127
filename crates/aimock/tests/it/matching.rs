//! The matcher: every match field, aimock's selection rules (first match wins, the turnIndex
//! tie-break, sequences per test id), and that the index gives the same answer as a plain scan.

use aimock::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use aimock::fixture::{
    parse_text, FixtureStore, Format, MatchContext, MatchOutcome, MessageReply, Reply,
};

fn store(json: &str) -> FixtureStore {
    let r = parse_text(json, "t.json", Format::Json);
    assert!(!r.has_errors(), "{:?}", r.problems);
    let s = FixtureStore::new(500);
    s.append(r.fixtures);
    s
}

fn answer(s: &FixtureStore, req: &ChatRequest, cx: &MatchContext<'_>) -> Option<String> {
    match s.resolve(req, cx) {
        MatchOutcome::Matched { slot, .. } => match &slot.fixture.reply {
            Reply::Message(m) => m.content(),
            Reply::Embedding(_) => Some("embedding".into()),
            Reply::Error(e) => Some(format!("error {}", e.status)),
            Reply::Other { kind, .. } => Some((*kind).to_owned()),
        },
        _ => None,
    }
}

fn user(text: &str) -> ChatRequest {
    ChatRequest::chat("gpt-4o", vec![Message::text(Role::User, text)])
}

fn fixtures(items: &[(&str, &str)]) -> String {
    let list: Vec<String> = items
        .iter()
        .map(|(m, c)| format!(r#"{{"match": {m}, "response": {{"content": "{c}"}}}}"#))
        .collect();
    format!(r#"{{"fixtures": [{}]}}"#, list.join(","))
}

#[test]
fn first_match_wins_in_registration_order() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": "hello"}"#, "A"),
        (r#"{"userMessage": "hello world"}"#, "B"),
    ]));
    let cx = MatchContext::default();
    assert_eq!(answer(&s, &user("hello world"), &cx).as_deref(), Some("A"));
}

#[test]
fn user_message_is_a_case_sensitive_substring_of_the_last_user_message() {
    let s = store(&fixtures(&[(r#"{"userMessage": "Weather"}"#, "W")]));
    let cx = MatchContext::default();
    assert_eq!(
        answer(&s, &user("the Weather today"), &cx).as_deref(),
        Some("W")
    );
    assert_eq!(answer(&s, &user("the weather today"), &cx), None);
    let mut req = user("Weather");
    req.messages.push(Message::text(Role::Assistant, "ok"));
    req.messages
        .push(Message::text(Role::User, "something else"));
    assert_eq!(answer(&s, &req, &cx), None);
}

#[test]
fn regex_and_equals_forms_match_beyond_aimock() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": {"regex": "^hi\\b", "flags": "i"}}"#, "R"),
        (r#"{"userMessage": {"equals": "architecture"}}"#, "E"),
    ]));
    let cx = MatchContext::default();
    assert_eq!(answer(&s, &user("HI there"), &cx).as_deref(), Some("R"));
    assert_eq!(answer(&s, &user("this"), &cx), None);
    assert_eq!(answer(&s, &user("architecture"), &cx).as_deref(), Some("E"));
    assert_eq!(answer(&s, &user("architectures"), &cx), None);
}

#[test]
fn system_message_matches_the_joined_system_text_and_lists_need_every_item() {
    let s = store(&fixtures(&[
        (r#"{"systemMessage": ["pirate", "polite"]}"#, "both"),
        (r#"{"systemMessage": "pirate"}"#, "one"),
    ]));
    let cx = MatchContext::default();
    let mut req = user("x");
    req.messages
        .insert(0, Message::text(Role::System, "be a pirate"));
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("one"));
    req.messages
        .insert(1, Message::text(Role::System, "be polite"));
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("both"));
    assert_eq!(answer(&s, &user("x"), &cx), None);
}

#[test]
fn tool_call_id_and_tool_result_contains_look_at_the_last_message() {
    let s = store(&fixtures(&[
        (r#"{"toolCallId": "call_1"}"#, "id"),
        (r#"{"toolResultContains": "sunny"}"#, "contains"),
    ]));
    let cx = MatchContext::default();
    let mut req = user("weather?");
    req.messages.push(Message {
        role: Role::Assistant,
        text: None,
        tool_calls: vec![ToolCallRef {
            id: "call_1".into(),
            name: "w".into(),
            arguments: "{}".into(),
        }],
        tool_call_id: None,
    });
    req.messages.push(Message::tool_result("call_1", "72F"));
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("id"));
    let mut req2 = req.clone();
    req2.messages.pop();
    req2.messages
        .push(Message::tool_result("call_2", "sunny, 72F"));
    assert_eq!(answer(&s, &req2, &cx).as_deref(), Some("contains"));
    req2.messages.push(Message::text(Role::User, "thanks"));
    assert_eq!(answer(&s, &req2, &cx), None);
}

#[test]
fn tool_name_needs_a_declared_tool() {
    let s = store(&fixtures(&[(r#"{"toolName": "get_weather"}"#, "T")]));
    let cx = MatchContext::default();
    let mut req = user("x");
    assert_eq!(answer(&s, &req, &cx), None);
    req.tools.push("get_weather".into());
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("T"));
}

#[test]
fn model_matches_exactly_or_as_a_prefix_before_a_dash_and_digit() {
    let s = store(&fixtures(&[
        (r#"{"model": "gpt-4"}"#, "gpt4"),
        (r#"{"model": "claude-opus-4"}"#, "opus"),
    ]));
    let cx = MatchContext::default();
    let mut req = user("x");
    req.model = "gpt-4o".into();
    assert_eq!(answer(&s, &req, &cx), None);
    req.model = "gpt-4-0613".into();
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("gpt4"));
    req.model = "claude-opus-4-20250514".into();
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("opus"));
}

#[test]
fn response_format_has_tool_result_endpoint_and_context() {
    let s = store(&fixtures(&[
        (r#"{"responseFormat": "json_object"}"#, "json"),
        (r#"{"context": "checkout", "userMessage": "x"}"#, "ctx"),
        (r#"{"hasToolResult": true, "userMessage": "x"}"#, "tool"),
        (r#"{"endpoint": "embedding"}"#, "emb"),
        (r#"{"userMessage": "x"}"#, "plain"),
    ]));
    let mut req = user("x");
    assert_eq!(
        answer(&s, &req, &MatchContext::default()).as_deref(),
        Some("plain")
    );
    let cx = MatchContext {
        context: Some("checkout"),
        ..Default::default()
    };
    assert_eq!(answer(&s, &req, &cx).as_deref(), Some("ctx"));
    req.messages.push(Message::tool_result("c", "r"));
    assert_eq!(
        answer(&s, &req, &MatchContext::default()).as_deref(),
        Some("tool")
    );
    req.response_format = Some("json_object".into());
    assert_eq!(
        answer(&s, &req, &MatchContext::default()).as_deref(),
        Some("json")
    );
    let emb = ChatRequest::embedding("m", "anything");
    assert_eq!(
        answer(&s, &emb, &MatchContext::default()).as_deref(),
        Some("emb")
    );
}

#[test]
fn input_text_only_matches_embedding_requests() {
    let s = store(
        r#"{"fixtures": [{"match": {"inputText": "hello"}, "response": {"embedding": [1, 2]}}]}"#,
    );
    let cx = MatchContext::default();
    assert_eq!(
        answer(&s, &ChatRequest::embedding("m", "say hello"), &cx).as_deref(),
        Some("embedding")
    );
    assert_eq!(answer(&s, &user("hello"), &cx), None);
}

#[test]
fn a_chat_fixture_never_answers_an_image_request() {
    let s = store(&fixtures(&[(r#"{}"#, "text")]));
    let mut req = user("draw");
    req.endpoint = Endpoint::Image;
    assert_eq!(answer(&s, &req, &MatchContext::default()), None);
}

#[test]
fn sequences_count_per_test_id_and_fall_through_when_exhausted() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": "joke", "sequenceIndex": 0}"#, "one"),
        (r#"{"userMessage": "joke", "sequenceIndex": 1}"#, "two"),
        (r#"{"userMessage": "joke"}"#, "fallback"),
    ]));
    let a = MatchContext {
        test_id: "a",
        ..Default::default()
    };
    let b = MatchContext {
        test_id: "b",
        ..Default::default()
    };
    let req = user("tell me a joke");
    assert_eq!(answer(&s, &req, &a).as_deref(), Some("one"));
    assert_eq!(answer(&s, &req, &a).as_deref(), Some("two"));
    assert_eq!(answer(&s, &req, &b).as_deref(), Some("one"));
    assert_eq!(answer(&s, &req, &a).as_deref(), Some("fallback"));
    s.reset_counts(Some("a"));
    assert_eq!(answer(&s, &req, &a).as_deref(), Some("one"));
}

fn with_assistants(n: usize) -> ChatRequest {
    let mut req = user("go");
    for _ in 0..n {
        req.messages.push(Message::text(Role::Assistant, "a"));
        req.messages.push(Message::text(Role::User, "go"));
    }
    req
}

#[test]
fn turn_index_picks_the_highest_turn_not_ahead_of_the_conversation() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": "go", "turnIndex": 0}"#, "t0"),
        (r#"{"userMessage": "go", "turnIndex": 1}"#, "t1"),
        (r#"{"userMessage": "go", "turnIndex": 3}"#, "t3"),
    ]));
    let cx = MatchContext::default();
    assert_eq!(answer(&s, &with_assistants(0), &cx).as_deref(), Some("t0"));
    assert_eq!(answer(&s, &with_assistants(1), &cx).as_deref(), Some("t1"));
    assert_eq!(answer(&s, &with_assistants(2), &cx).as_deref(), Some("t1"));
    assert_eq!(answer(&s, &with_assistants(5), &cx).as_deref(), Some("t3"));
}

#[test]
fn an_earlier_fallback_wins_over_a_turn_at_the_exact_position_but_not_over_a_turn_behind() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": "go"}"#, "fallback"),
        (r#"{"userMessage": "go", "turnIndex": 1}"#, "t1"),
    ]));
    let cx = MatchContext::default();
    assert_eq!(
        answer(&s, &with_assistants(1), &cx).as_deref(),
        Some("fallback")
    );
    assert_eq!(answer(&s, &with_assistants(2), &cx).as_deref(), Some("t1"));
    assert_eq!(
        answer(&s, &with_assistants(0), &cx).as_deref(),
        Some("fallback")
    );
}

#[test]
fn turns_all_ahead_serve_the_lowest_turn_without_a_fallback() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": "go", "turnIndex": 4}"#, "t4"),
        (r#"{"userMessage": "go", "turnIndex": 2}"#, "t2"),
    ]));
    assert_eq!(
        answer(&s, &with_assistants(0), &MatchContext::default()).as_deref(),
        Some("t2")
    );
}

#[test]
fn strict_turn_index_makes_turn_index_a_gate() {
    let s = store(&fixtures(&[(
        r#"{"userMessage": "go", "turnIndex": 1}"#,
        "t1",
    )]));
    let cx = MatchContext {
        strict_turn_index: true,
        ..Default::default()
    };
    assert_eq!(answer(&s, &with_assistants(0), &cx), None);
    assert_eq!(answer(&s, &with_assistants(1), &cx).as_deref(), Some("t1"));
}

#[test]
fn a_miss_names_the_closest_fixture_and_the_field_that_failed() {
    let s = store(&fixtures(&[
        (r#"{"userMessage": "weather", "model": "gpt-4o"}"#, "w"),
        (r#"{"userMessage": "other"}"#, "o"),
    ]));
    let mut req = user("weather please");
    req.model = "claude-3".into();
    let cx = MatchContext::default();
    assert_eq!(answer(&s, &req, &cx), None);
    let why = s.explain_miss(&req, &cx).unwrap();
    assert!(why.contains("fixtures[0]"), "{why}");
    assert!(why.contains("`model`"), "{why}");
    assert!(why.contains("claude-3"), "{why}");
}

#[test]
fn one_shot_errors_answer_exactly_one_request() {
    let s = store(&fixtures(&[(r#"{}"#, "ok")]));
    s.queue_error(aimock::fixture::ErrorReply {
        status: 500,
        message: "boom".into(),
        kind: None,
        param: None,
        code: None,
        retry_after: None,
        metadata: None,
        fallthrough: None,
    });
    let cx = MatchContext::default();
    assert!(matches!(
        s.resolve(&user("x"), &cx),
        MatchOutcome::OneShot(_)
    ));
    assert_eq!(answer(&s, &user("x"), &cx).as_deref(), Some("ok"));
}

/// The indexed matcher must choose exactly what a linear scan of aimock's rules would.
mod index_agrees_with_a_linear_scan {
    use super::*;
    use proptest::prelude::*;

    fn linear(entries: &[(String, Option<u32>)], text: &str) -> Option<usize> {
        entries.iter().position(|(m, _)| text.contains(m.as_str()))
    }

    proptest! {
        #[test]
        fn for_random_substring_fixtures(
            pats in proptest::collection::vec("[ab]{1,3}", 1..30),
            text in "[abc]{0,12}",
        ) {
            let items: Vec<(String, String)> = pats
                .iter()
                .enumerate()
                .map(|(i, p)| (format!(r#"{{"userMessage": "{p}"}}"#), format!("f{i}")))
                .collect();
            let refs: Vec<(&str, &str)> = items.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let s = store(&fixtures(&refs));
            let expected = linear(&pats.iter().map(|p| (p.clone(), None)).collect::<Vec<_>>(), &text)
                .map(|i| format!("f{i}"));
            let got = answer(&s, &user(&text), &MatchContext::default());
            prop_assert_eq!(got, expected);
        }
    }
}

#[test]
fn message_reply_keeps_legacy_text_before_tool_calls() {
    let s = store(
        r#"{"fixtures": [{"match": {}, "response": {"content": "Let me check", "toolCalls": [{"name": "w", "arguments": {"a": 1}}]}}]}"#,
    );
    let MatchOutcome::Matched { slot, .. } = s.resolve(&user("x"), &MatchContext::default()) else {
        panic!("no match")
    };
    let Reply::Message(MessageReply { blocks, .. }) = &slot.fixture.reply else {
        panic!("not a message")
    };
    assert_eq!(blocks.len(), 2);
    assert!(
        matches!(&blocks[1], aimock::fixture::Block::ToolCall(c) if c.arguments == r#"{"a":1}"#)
    );
}
