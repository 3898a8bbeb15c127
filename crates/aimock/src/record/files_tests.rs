//! The parts of recordings that fixture files see: the `systemHash` and `toolsHash` match fields
//! (so that recordings of one user message under different system prompts or tool sets do not
//! collide, aimock #185) and normalisation rules.
//!
//! The file writer, slugs and recorded keys have their own unit tests in
//! `src/record/{writer,key,normalize}.rs`.

use crate::conversation::{ChatRequest, Message, Role};
use crate::fixture::{parse_value, FixtureStore, LoadReport, MatchContext, MatchOutcome};
use crate::record::normalize::{NormalizeRule, NormalizeRuleSpec};
use serde_json::json;

fn ask(system: Option<&str>, tools: &[&str], user: &str) -> ChatRequest {
    let mut messages = Vec::new();
    if let Some(s) = system {
        messages.push(Message::text(Role::System, s));
    }
    messages.push(Message::text(Role::User, user));
    let mut req = ChatRequest::chat("gpt-4o", messages);
    req.tools = tools.iter().map(|t| (*t).to_owned()).collect();
    req
}

fn store(fixtures: serde_json::Value) -> (FixtureStore, LoadReport) {
    let report = parse_value(json!({ "fixtures": fixtures }), "test.json");
    let store = FixtureStore::default();
    store.append(report.fixtures.iter().cloned());
    (store, report)
}

fn answer(store: &FixtureStore, req: &ChatRequest) -> Option<String> {
    match store.resolve(req, &MatchContext::default()) {
        MatchOutcome::Matched { slot, .. } => {
            slot.fixture.entry.response.content.clone().map(|c| {
                c.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| c.to_string())
            })
        }
        _ => None,
    }
}

#[test]
fn a_fixture_with_system_hash_matches_only_the_request_with_that_system_prompt() {
    let pirate = ask(Some("You are a pirate."), &[], "tell me a joke");
    let lawyer = ask(Some("You are a lawyer."), &[], "tell me a joke");
    let plain = ask(None, &[], "tell me a joke");
    let (store, report) = store(json!([
        {"match": {"userMessage": "joke", "systemHash": pirate.system_hash()}, "response": {"content": "arr"}},
        {"match": {"userMessage": "joke", "systemHash": lawyer.system_hash().to_uppercase()}, "response": {"content": "objection"}},
    ]));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(answer(&store, &pirate).as_deref(), Some("arr"));
    assert_eq!(
        answer(&store, &lawyer).as_deref(),
        Some("objection"),
        "hashes compare without regard to case"
    );
    assert_eq!(answer(&store, &plain), None);
}

#[test]
fn a_fixture_with_tools_hash_matches_only_the_request_with_those_tools() {
    let weather = ask(None, &["get_weather", "get_time"], "help");
    let search = ask(None, &["web_search"], "help");
    let none = ask(None, &[], "help");
    let (store, report) = store(json!([
        {"match": {"userMessage": "help", "toolsHash": weather.tools_hash()}, "response": {"content": "weather"}},
        {"match": {"userMessage": "help", "toolsHash": none.tools_hash()}, "response": {"content": "no tools"}},
    ]));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(answer(&store, &weather).as_deref(), Some("weather"));
    assert_eq!(answer(&store, &none).as_deref(), Some("no tools"));
    assert_eq!(answer(&store, &search), None);
}

#[test]
fn a_malformed_hash_is_refused_and_a_misspelt_field_is_named() {
    let report = parse_value(
        json!({"fixtures": [
            {"match": {"systemHash": "not-hex!"}, "response": {"content": "x"}},
            {"match": {"tools_hash": "abcd1234"}, "response": {"content": "y"}},
        ]}),
        "bad.json",
    );
    assert!(report.fixtures.is_empty());
    let messages: Vec<String> = report.errors().map(ToString::to_string).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("match.systemHash") && m.contains("8 hex characters")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("did you mean `toolsHash`")),
        "{messages:?}"
    );
}

#[test]
fn a_miss_on_system_hash_is_explained_with_the_requests_hash() {
    let (store, _) = store(json!([
        {"match": {"userMessage": "joke", "systemHash": "00000000"}, "response": {"content": "x"}},
    ]));
    let req = ask(Some("You are terse."), &[], "tell me a joke");
    let why = store
        .explain_miss(&req, &MatchContext::default())
        .unwrap_or_default();
    assert!(why.contains("`systemHash`"), "{why}");
    assert!(why.contains(&req.system_hash()), "{why}");
    assert!(
        why.contains("systemHash(\"00000000\")"),
        "describe() names the field: {why}"
    );
}

#[test]
fn a_normalisation_rule_is_built_from_its_config_form() {
    let spec: NormalizeRuleSpec = serde_json::from_value(json!({
        "pattern": "req_[a-z0-9]+",
        "replacement": "req_X",
        "flags": "i"
    }))
    .unwrap();
    let rule = NormalizeRule::try_from(&spec).unwrap();
    assert_eq!(rule.pattern(), "req_[a-z0-9]+");
    assert_eq!(rule.replacement(), "req_X");
    let bad = NormalizeRuleSpec {
        pattern: "[".into(),
        replacement: String::new(),
        flags: None,
    };
    assert!(NormalizeRule::try_from(bad)
        .unwrap_err()
        .contains("invalid normalisation pattern"));
}
