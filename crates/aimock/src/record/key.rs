//! The `match` a recording gets: what tells one upstream call apart from the others, so that the
//! same request replays the same answer and a different one does not (aimock #166, #185, #316).
//!
//! The key is derived from the request exactly as the matcher will see it on replay (after
//! normalisation rules), and it must match that request: see the property test below.
//!
//! | field | when | why |
//! | --- | --- | --- |
//! | `userMessage` | the request has user text | the content anchor, `{"equals": text}` |
//! | `inputText` | embeddings | the content anchor for embeddings, `{"equals": text}` |
//! | `endpoint` | every endpoint but chat | keeps image/speech/embedding recordings off chat |
//! | `model` | a model is named | date suffix stripped unless `recordFullModelVersion` |
//! | `turnIndex` | chat | assistant messages so far: tells turns with the same user text apart |
//! | `hasToolResult` | chat | the current turn holds a tool result: the leg after a tool call |
//! | `toolCallId` | chat without user text whose last message is a tool result | see below |
//! | `context` | `X-AIMock-Context` given | aimock's per-context recordings |
//! | `systemHash` | chat | same user text, different system prompt (#185) |
//! | `toolsHash` | chat | same user text, different tool set (#185) |
//!
//! "Chat" here is every conversation: chat requests, and the socket sessions' turns: Realtime
//! (endpoint `realtime`, whose history is a conversation with tool calls and results like
//! chat's), GPT-Live (`openai-live`: commentary, utterances, delegations and their results) and
//! Realtime translations (`realtime-translation`: one translation per utterance, the target
//! language as the system prompt). An utterance of audio has no text, so such turns are told
//! apart by `turnIndex`, and a delegation's result (which has no user text) by `toolCallId`.
//!
//! **Absent means "any".** A match field that is left out matches every value, so a key must
//! carry every field that could tell it apart from a later call, or the earlier recording answers
//! the later call in record mode and that call is never recorded. Hence, where aimock differs:
//! - texts are recorded as `{"equals": ...}`, not as aimock's substring: a recording of "hi"
//!   must not answer "hi there" (CopilotKit #4578). The matcher indexes `equals` texts like
//!   substrings, so this costs nothing at match time.
//! - `systemHash` and `toolsHash` are recorded for every chat request, also without a system
//!   prompt or tools (then the hash of the empty string, `e3b0c442`): otherwise a recording
//!   made without a system prompt would answer the same question asked with one. aimock keeps
//!   the hashes in `metadata` only; `metadata` still carries them, when present, as aimock does.
//!
//! **Tool loops.** A tool-loop continuation (user asks, model calls a tool, the client sends the
//! result) keeps the user message, so it is told apart by `hasToolResult: true` (the first leg
//! records `false`, which is what keeps the first leg from answering the continuation and looping
//! for ever, #316) and by `turnIndex` (1 after one tool call, 2 after two...: the matcher
//! prefers the highest `turnIndex` not past the conversation's assistant count). `toolCallId` is
//! *not* recorded when there is user text: call ids are minted by the upstream or the client and
//! need not be the same on the next run, and a key that depends on them would miss on replay.
//! Only a request with no user text at all (an agent leg made of system and tool messages) gets
//! `toolCallId` as its content anchor, since nothing else tells its legs apart.
//!
//! A request with no content anchor (no user text, no embedding input, no tool result, chat
//! endpoint) still gets a key; [`is_anchored`] says so and the caller decides (aimock saves such
//! a recording to disk but does not register it, since it would answer everything).

use serde_json::{Map, Value};

use crate::conversation::{ChatRequest, Endpoint};

/// The recorded `match` and `metadata` for a request. `context` is the `X-AIMock-Context`
/// header; `full_model_version` keeps date suffixes in the model name.
///
/// `metadata` is `{"systemHash"?, "toolsHash"?, "recordedAt"}`: the hashes only when the request
/// has a system prompt / tools (as aimock writes them), `recordedAt` as an ISO-8601 UTC time.
pub(crate) fn recorded_match(
    req: &ChatRequest,
    context: Option<&str>,
    full_model_version: bool,
) -> (Value, Value) {
    let mut m = Map::new();
    let mut meta = Map::new();
    if req.endpoint != Endpoint::Chat {
        m.insert("endpoint".into(), req.endpoint.as_str().into());
    }
    if req.endpoint == Endpoint::Embedding {
        if let Some(input) = req.embedding_input.as_deref().filter(|t| !t.is_empty()) {
            m.insert("inputText".into(), equals(input));
        }
    }
    let user_text = req.last_user_text().filter(|t| !t.is_empty());
    if req.endpoint != Endpoint::Embedding {
        if let Some(t) = user_text {
            m.insert("userMessage".into(), equals(t));
        }
    }
    if !req.model.is_empty() {
        let model = if full_model_version {
            req.model.clone()
        } else {
            strip_date_suffix(&req.model).to_owned()
        };
        m.insert("model".into(), model.into());
    }
    // Socket sessions are conversations too (Realtime's items, GPT-Live's commentary and
    // delegations, a translation's utterances), and an utterance of audio has no text: each
    // turn is told apart by its position, a tool (delegation) result, the instructions (a
    // translation's target language) and the tools, as chat's turns are.
    let conversation = matches!(
        req.endpoint,
        Endpoint::Chat | Endpoint::Realtime | Endpoint::Live | Endpoint::RealtimeTranslation
    );
    if conversation && !req.messages.is_empty() {
        m.insert("turnIndex".into(), req.assistant_count().into());
        m.insert(
            "hasToolResult".into(),
            req.current_turn_has_tool_result().into(),
        );
        if user_text.is_none() {
            if let Some(id) = req
                .last_tool_result()
                .and_then(|t| t.tool_call_id.as_deref())
                .filter(|id| !id.is_empty())
            {
                m.insert("toolCallId".into(), id.into());
            }
        }
    }
    if let Some(c) = context {
        m.insert("context".into(), c.into());
    }
    if conversation {
        let h = req.system_hash();
        if !req.system_text().is_empty() {
            meta.insert("systemHash".into(), h.clone().into());
        }
        m.insert("systemHash".into(), h.into());
        let h = req.tools_hash();
        if !req.tools.is_empty() {
            meta.insert("toolsHash".into(), h.clone().into());
        }
        m.insert("toolsHash".into(), h.into());
    }
    meta.insert(
        "recordedAt".into(),
        super::writer::iso_now(std::time::SystemTime::now()).into(),
    );
    (Value::Object(m), Value::Object(meta))
}

fn equals(text: &str) -> Value {
    serde_json::json!({ "equals": text })
}

/// Whether a recorded match has a content anchor (`userMessage`, `inputText`, `toolCallId`, or
/// a non-chat `endpoint`): without one it would answer every request of its model and turn, so
/// it should be saved but not registered.
pub(crate) fn is_anchored(m: &Value) -> bool {
    ["userMessage", "inputText", "toolCallId", "endpoint"]
        .iter()
        .any(|k| m.get(*k).is_some())
}

/// The model name without a date suffix: `-YYYYMMDD` (optionally followed by a Bedrock-style
/// version, `-v2:0`, `-v1.2`) or `-YYYY-MM-DD`, at the end of the name. What is left is never
/// empty, and the full name still matches it on replay: the `model` matcher accepts a name
/// followed by `-<digit>...`, and every stripped suffix starts with `-<digit>`.
///
/// `claude-3-5-sonnet-20241022` → `claude-3-5-sonnet`;
/// `anthropic.claude-3-5-sonnet-20241022-v2:0` → `anthropic.claude-3-5-sonnet`;
/// `gpt-4o-2024-08-06` → `gpt-4o`; `gpt-4-0613`, `gemini-1.5-pro-002` are kept.
pub(crate) fn strip_date_suffix(model: &str) -> &str {
    let b = model.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    // -YYYY-MM-DD
    if b.len() > 11 {
        let tail = &b[b.len() - 11..];
        if tail[0] == b'-'
            && digits(&tail[1..5])
            && tail[5] == b'-'
            && digits(&tail[6..8])
            && tail[8] == b'-'
            && digits(&tail[9..11])
        {
            return &model[..model.len() - 11];
        }
    }
    // -YYYYMMDD, optionally followed by -v<digits>([:.]<digits>)*
    let mut i = 0;
    while let Some(pos) = model[i..].find('-') {
        let start = i + pos;
        i = start + 1;
        if start == 0 {
            continue;
        }
        let rest = &b[start + 1..];
        if rest.len() < 8 || !digits(&rest[..8]) {
            continue;
        }
        let after = &rest[8..];
        if after.is_empty() || is_version_suffix(after) {
            return &model[..start];
        }
    }
    model
}

/// `-v<digits>` followed by any number of `:<digits>` or `.<digits>`.
fn is_version_suffix(s: &[u8]) -> bool {
    let Some(s) = s.strip_prefix(b"-v") else {
        return false;
    };
    let mut groups = s.split(|c| *c == b':' || *c == b'.');
    let first_ok = groups
        .next()
        .is_some_and(|g| !g.is_empty() && g.iter().all(u8::is_ascii_digit));
    first_ok && groups.all(|g| !g.is_empty() && g.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::conversation::{Message, Role, ToolCallRef};
    use crate::fixture::{parse_value, FixtureStore, MatchContext, MatchOutcome};

    fn chat(system: Option<&str>, user: &str) -> ChatRequest {
        let mut messages = Vec::new();
        if let Some(s) = system {
            messages.push(Message::text(Role::System, s));
        }
        messages.push(Message::text(Role::User, user));
        ChatRequest::chat("claude-3-5-sonnet-20241022", messages)
    }

    fn assistant_calls(id: &str, name: &str) -> Message {
        Message {
            role: Role::Assistant,
            text: None,
            tool_calls: vec![ToolCallRef {
                id: id.into(),
                name: name.into(),
                arguments: "{}".into(),
            }],
            tool_call_id: None,
        }
    }

    #[test]
    fn date_suffixes_are_stripped_in_every_documented_form() {
        for (full, stripped) in [
            ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
            (
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "anthropic.claude-3-5-sonnet",
            ),
            (
                "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
                "us.anthropic.claude-3-7-sonnet",
            ),
            ("claude-x-20240101-v1.2", "claude-x"),
            ("gpt-4-0613", "gpt-4-0613"),
            ("gemini-1.5-pro-002", "gemini-1.5-pro-002"),
            ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
            ("model-20240101-preview", "model-20240101-preview"),
            ("20240101", "20240101"),
            ("-20240101", "-20240101"),
            ("gpt-4o", "gpt-4o"),
        ] {
            assert_eq!(strip_date_suffix(full), stripped, "{full}");
        }
    }

    #[test]
    fn a_stripped_model_still_matches_the_full_model_on_replay() {
        use crate::fixture::compile::ModelMatcher;
        for full in [
            "claude-3-5-sonnet-20241022",
            "gpt-4o-2024-08-06",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
        ] {
            let m = ModelMatcher::Name(strip_date_suffix(full).to_owned());
            assert!(m.is_match(full), "{full}");
        }
    }

    #[test]
    fn the_chat_key_has_user_text_model_turn_and_hashes() {
        let mut req = chat(Some("be brief"), "hello");
        req.tools = vec!["get_weather".into()];
        let (m, meta) = recorded_match(&req, Some("checkout"), false);
        assert_eq!(
            m,
            json!({
                "userMessage": {"equals": "hello"},
                "model": "claude-3-5-sonnet",
                "turnIndex": 0,
                "hasToolResult": false,
                "context": "checkout",
                "systemHash": req.system_hash(),
                "toolsHash": req.tools_hash(),
            })
        );
        assert_eq!(meta["systemHash"], json!(req.system_hash()));
        assert_eq!(meta["toolsHash"], json!(req.tools_hash()));
        assert!(meta["recordedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
        let (full, _) = recorded_match(&req, None, true);
        assert_eq!(full["model"], json!("claude-3-5-sonnet-20241022"));
        assert!(full.get("context").is_none());
    }

    #[test]
    fn the_embedding_key_has_input_text_endpoint_and_model() {
        let req = ChatRequest::embedding("text-embedding-3-small", "a cat");
        let (m, meta) = recorded_match(&req, None, false);
        assert_eq!(
            m,
            json!({"endpoint": "embedding", "inputText": {"equals": "a cat"}, "model": "text-embedding-3-small"})
        );
        assert!(meta.get("systemHash").is_none());
        assert!(meta.get("toolsHash").is_none());
        assert!(is_anchored(&m));
    }

    #[test]
    fn a_request_without_user_text_is_not_anchored_unless_it_ends_in_a_tool_result() {
        let req = ChatRequest::chat("m", vec![Message::text(Role::System, "agent")]);
        let (m, _) = recorded_match(&req, None, false);
        assert!(!is_anchored(&m));
        assert!(m.get("userMessage").is_none());
        let req = ChatRequest::chat(
            "m",
            vec![
                Message::text(Role::System, "agent"),
                assistant_calls("call_1", "lookup"),
                Message::tool_result("call_1", "42"),
            ],
        );
        let (m, _) = recorded_match(&req, None, false);
        assert_eq!(m["toolCallId"], json!("call_1"));
        assert!(is_anchored(&m));
    }

    #[test]
    fn a_continuation_with_user_text_is_keyed_by_turn_not_by_call_id() {
        let req = ChatRequest::chat(
            "m",
            vec![
                Message::text(Role::User, "weather?"),
                assistant_calls("call_abc", "get_weather"),
                Message::tool_result("call_abc", "sunny"),
            ],
        );
        let (m, _) = recorded_match(&req, None, false);
        assert!(m.get("toolCallId").is_none());
        assert_eq!(m["turnIndex"], json!(1));
        assert_eq!(m["hasToolResult"], json!(true));
    }

    /// A three-leg tool loop, each leg recorded from the request that produced it.
    fn tool_loop() -> Vec<ChatRequest> {
        let q = Message::text(Role::User, "plan my trip");
        let tools_req = |messages: Vec<Message>| {
            let mut r = ChatRequest::chat("gpt-4o-2024-08-06", messages);
            r.tools = vec!["flights".into(), "hotels".into()];
            r
        };
        vec![
            tools_req(vec![q.clone()]),
            tools_req(vec![
                q.clone(),
                assistant_calls("call_1", "flights"),
                Message::tool_result("call_1", "BA123"),
            ]),
            tools_req(vec![
                q.clone(),
                assistant_calls("call_1", "flights"),
                Message::tool_result("call_1", "BA123"),
                assistant_calls("call_2", "hotels"),
                Message::tool_result("call_2", "Ritz"),
            ]),
        ]
    }

    #[test]
    fn every_recorded_key_matches_its_own_request_and_no_other() {
        // Most general first: each later request would be answered by an earlier recording if
        // its key left out what tells them apart.
        let mut requests = vec![
            chat(None, "tell me a joke"),
            chat(None, "tell me a joke, please"),
            chat(Some("You are a pirate."), "tell me a joke"),
            chat(Some("You are a lawyer."), "tell me a joke"),
            ChatRequest::chat(
                "gpt-4o-mini",
                vec![Message::text(Role::User, "tell me a joke")],
            ),
            ChatRequest::embedding("text-embedding-3-small", "the quick brown fox"),
            ChatRequest::embedding("text-embedding-3-large", "the quick brown fox"),
            ChatRequest::embedding("text-embedding-3-small", "the quick brown fox jumps"),
        ];
        let mut with_tools = chat(None, "tell me a joke");
        with_tools.tools = vec!["joke_db".into()];
        requests.push(with_tools);
        // A second user turn with the same text as the first.
        requests.push(ChatRequest::chat(
            "claude-3-5-sonnet-20241022",
            vec![
                Message::text(Role::User, "tell me a joke"),
                Message::text(Role::Assistant, "knock knock"),
                Message::text(Role::User, "tell me a joke"),
            ],
        ));
        requests.extend(tool_loop());
        // Same user text as the loop, no tools.
        requests.push(ChatRequest::chat(
            "gpt-4o-2024-08-06",
            vec![Message::text(Role::User, "plan my trip")],
        ));

        let fixtures: Vec<Value> = requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (m, meta) = recorded_match(r, None, false);
                let response = if r.endpoint == Endpoint::Embedding {
                    json!({"embedding": [i as f64]})
                } else {
                    json!({"content": format!("answer {i}")})
                };
                json!({"match": m, "response": response, "metadata": meta})
            })
            .collect();
        let report = parse_value(json!({ "fixtures": fixtures }), "recorded.json");
        assert!(
            report.problems.is_empty(),
            "recorded fixtures load without problems: {:?}",
            report.problems
        );
        assert_eq!(report.fixtures.len(), requests.len());

        let store = FixtureStore::default();
        store.append(report.fixtures.iter().map(Arc::clone));
        for strict in [false, true] {
            let cx = MatchContext {
                strict_turn_index: strict,
                ..MatchContext::default()
            };
            for (i, r) in requests.iter().enumerate() {
                match store.resolve(r, &cx) {
                    MatchOutcome::Matched { slot, .. } => assert!(
                        Arc::ptr_eq(&slot.fixture, &report.fixtures[i]),
                        "request {i} (strict turnIndex: {strict}) resolved to {}",
                        slot.fixture.describe()
                    ),
                    other => panic!("request {i} (strict: {strict}) missed: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn the_first_leg_of_a_tool_loop_does_not_answer_the_continuation() {
        let legs = tool_loop();
        let (m, _) = recorded_match(&legs[0], None, false);
        let report = parse_value(
            json!({"fixtures": [{"match": m, "response": {"content": "first"}}]}),
            "r.json",
        );
        let store = FixtureStore::default();
        store.append(report.fixtures);
        assert!(matches!(
            store.resolve(&legs[1], &MatchContext::default()),
            MatchOutcome::Miss { .. }
        ));
    }

    #[test]
    fn a_realtime_tool_loop_is_keyed_like_chats_each_leg_by_its_own_recording() {
        let legs: Vec<ChatRequest> = tool_loop()
            .into_iter()
            .map(|mut r| {
                r.endpoint = Endpoint::Realtime;
                r
            })
            .collect();
        let fixtures: Vec<Value> = legs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (m, _) = recorded_match(r, None, false);
                assert_eq!(m["endpoint"], "realtime");
                assert_eq!(m["hasToolResult"], i > 0, "{m}");
                json!({"match": m, "response": {"content": format!("leg {i}")}})
            })
            .collect();
        // The first leg alone does not answer the continuation (it would loop for ever).
        let store = FixtureStore::default();
        let first = parse_value(json!({"fixtures": [fixtures[0].clone()]}), "r.json");
        store.append(first.fixtures);
        assert!(matches!(
            store.resolve(&legs[1], &MatchContext::default()),
            MatchOutcome::Miss { .. }
        ));
        let store = FixtureStore::default();
        let report = parse_value(json!({ "fixtures": fixtures }), "r.json");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        store.append(report.fixtures.iter().map(Arc::clone));
        for (i, r) in legs.iter().enumerate() {
            match store.resolve(r, &MatchContext::default()) {
                MatchOutcome::Matched { slot, .. } => {
                    assert!(Arc::ptr_eq(&slot.fixture, &report.fixtures[i]), "leg {i}")
                }
                other => panic!("leg {i} missed: {other:?}"),
            }
        }
    }

    #[test]
    fn live_and_translation_turns_are_keyed_as_conversations_each_utterance_by_its_position() {
        // Two utterances of audio (no text) in a translation session, then GPT-Live's turn after
        // a delegation's result.
        let utterance = |n: usize| {
            let mut messages = vec![Message::text(Role::System, "Translate into fr.")];
            for i in 0..n {
                messages.push(Message::text(Role::Assistant, format!("translation {i}")));
            }
            let mut r = ChatRequest::chat("gpt-realtime-translate", messages);
            r.endpoint = Endpoint::RealtimeTranslation;
            r
        };
        let mut live = ChatRequest::chat(
            "gpt-live",
            vec![
                Message::text(Role::User, "book it"),
                assistant_calls("dlg_1", "client"),
                Message::tool_result("dlg_1", "booked"),
            ],
        );
        live.endpoint = Endpoint::Live;
        let requests = [utterance(0), utterance(1), live.clone()];
        let keys: Vec<Value> = requests
            .iter()
            .map(|r| recorded_match(r, None, false).0)
            .collect();
        assert_eq!(keys[0]["turnIndex"], json!(0));
        assert_eq!(keys[1]["turnIndex"], json!(1));
        assert_eq!(keys[0]["systemHash"], json!(requests[0].system_hash()));
        assert_eq!(keys[2]["endpoint"], json!("openai-live"));
        assert_eq!(keys[2]["hasToolResult"], json!(true));
        assert!(keys.iter().all(is_anchored));
        let fixtures: Vec<Value> = keys
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"match": m, "response": {"content": format!("turn {i}")}}))
            .collect();
        let report = parse_value(json!({ "fixtures": fixtures }), "r.json");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let store = FixtureStore::default();
        store.append(report.fixtures.iter().map(Arc::clone));
        for (i, r) in requests.iter().enumerate() {
            match store.resolve(r, &MatchContext::default()) {
                MatchOutcome::Matched { slot, .. } => {
                    assert!(Arc::ptr_eq(&slot.fixture, &report.fixtures[i]), "turn {i}")
                }
                other => panic!("turn {i} missed: {other:?}"),
            }
        }
    }

    #[test]
    fn a_context_key_matches_only_under_that_context() {
        let req = chat(None, "hi");
        let (m, _) = recorded_match(&req, Some("suite-a"), false);
        let report = parse_value(
            json!({"fixtures": [{"match": m, "response": {"content": "a"}}]}),
            "r.json",
        );
        let store = FixtureStore::default();
        store.append(report.fixtures);
        let under = |c: Option<&str>| {
            matches!(
                store.resolve(
                    &req,
                    &MatchContext {
                        context: c,
                        ..MatchContext::default()
                    }
                ),
                MatchOutcome::Matched { .. }
            )
        };
        assert!(under(Some("suite-a")));
        assert!(!under(Some("suite-b")));
        assert!(!under(None));
    }
}
