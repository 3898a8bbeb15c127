//! Anthropic Messages over a real socket: the message object and the typed SSE stream (golden
//! files), tool round trips, thinking, the extended-thinking check, errors in Anthropic's
//! envelope, count_tokens, and Anthropic models on Vertex AI.

use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello! How can I help you today?"}},
  {"match": {"toolCallId": "toolu_fixed1"}, "response": {"content": "It is sunny in Paris."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "toolu_fixed1"},
      {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}]}},
  {"match": {"userMessage": "plan", "hasToolResult": true}, "response": {"content": "All done."}},
  {"match": {"userMessage": "plan"}, "response": {"content": "Let me look.", "toolCalls": [
      {"name": "search", "arguments": {"q": "x"}, "id": "toolu_plan"}]}},
  {"match": {"userMessage": "tool first"}, "response": {"blocks": [
      {"type": "toolCall", "name": "f", "arguments": {}, "id": "toolu_f"},
      {"type": "text", "text": "after the call"}]}},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Let me think it through.", "reasoningSignature": "sig-abc", "content": "42"}},
  {"match": {"userMessage": "redact"}, "response": {"reasoning": "Visible.", "redactedThinking": ["ENCRYPTED=="], "content": "ok"}},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Slow down", "type": "rate_limit_error"}, "status": 429, "retryAfter": 2}},
  {"match": {"userMessage": "overloaded"}, "response": {"error": {"message": "Overloaded", "type": "overloaded_error"}, "status": 529}},
  {"match": {"userMessage": "crash"}, "response": {"error": {"message": "Boom"}}},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijklmnopqrstuvwxyz"}, "chunkSize": 2, "truncateAfterChunks": 4},
  {"match": {"userMessage": "override"}, "response": {"content": "x", "id": "msg_fixed", "model": "my-model", "finishReason": "length", "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 5}}}
]}"#;

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "anthropic.json").await
}

async fn post_with(
    s: &MockServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![
        ("x-api-key", "sk-ant-test"),
        ("anthropic-version", "2023-06-01"),
    ];
    all.extend_from_slice(headers);
    support::post(s, path, body, &all).await
}

async fn post(s: &MockServer, body: &Value) -> reqwest::Response {
    post_with(s, "/v1/messages", body, &[]).await
}

fn msg(text: &str) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 1024,
           "messages": [{"role": "user", "content": text}]})
}

fn stream_msg(text: &str) -> Value {
    let mut v = msg(text);
    v["stream"] = json!(true);
    v
}

async fn stream_events(s: &MockServer, path: &str, body: &Value) -> Vec<(String, Value)> {
    let r = post_with(s, path, body, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    support::sse::typed(&r.text().await.unwrap())
}

fn data_of(events: &[(String, Value)]) -> Vec<Value> {
    events.iter().map(|(_, d)| d.clone()).collect()
}

/// Reassemble a stream the way the SDK does: text, thinking, signature and tool inputs per index.
fn accumulate(events: &[(String, Value)]) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    let mut json_bufs: Vec<String> = Vec::new();
    for (event, d) in events {
        match event.as_str() {
            "content_block_start" => {
                assert_eq!(d["index"].as_u64().unwrap() as usize, blocks.len());
                blocks.push(d["content_block"].clone());
                json_bufs.push(String::new());
            }
            "content_block_delta" => {
                let i = d["index"].as_u64().unwrap() as usize;
                let delta = &d["delta"];
                let b = &mut blocks[i];
                match delta["type"].as_str().unwrap() {
                    "text_delta" => {
                        let t = b["text"].as_str().unwrap().to_owned()
                            + delta["text"].as_str().unwrap();
                        b["text"] = json!(t);
                    }
                    "thinking_delta" => {
                        let t = b["thinking"].as_str().unwrap().to_owned()
                            + delta["thinking"].as_str().unwrap();
                        b["thinking"] = json!(t);
                    }
                    "signature_delta" => b["signature"] = delta["signature"].clone(),
                    "input_json_delta" => {
                        json_bufs[i].push_str(delta["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unexpected delta {other}"),
                }
            }
            "content_block_stop" => {
                let i = d["index"].as_u64().unwrap() as usize;
                if !json_bufs[i].is_empty() {
                    blocks[i]["input"] = serde_json::from_str(&json_bufs[i]).unwrap();
                }
            }
            _ => {}
        }
    }
    blocks
}

#[tokio::test]
async fn a_text_reply_matches_the_golden_message() {
    let s = server().await;
    let r = post(&s, &msg("hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.headers()["request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));
    let v: Value = r.json().await.unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("msg_"));
    insta::assert_json_snapshot!("text_json", v, {".id" => "[id]"});
}

#[tokio::test]
async fn a_streamed_text_reply_sends_typed_events_from_message_start_to_message_stop() {
    let s = server().await;
    let events = stream_events(&s, "/v1/messages", &stream_msg("hello")).await;
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names[..3], ["message_start", "content_block_start", "ping"]);
    assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
    insta::assert_json_snapshot!("text_stream", data_of(&events), {"[0].message.id" => "[id]"});
    let blocks = accumulate(&events);
    assert_eq!(
        blocks,
        vec![json!({"type": "text", "text": "Hello! How can I help you today?"})]
    );
}

#[tokio::test]
async fn tool_calls_are_tool_use_blocks_with_object_inputs() {
    let s = server().await;
    let v: Value = post(&s, &msg("weather")).await.json().await.unwrap();
    insta::assert_json_snapshot!("tool_use_json", v, {".id" => "[id]", ".content[1].id" => "[toolu]"});
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["content"][0]["id"], "toolu_fixed1");
    assert!(v["content"][1]["id"]
        .as_str()
        .unwrap()
        .starts_with("toolu_"));
    assert_eq!(v["content"][1]["input"], json!({"tz": "CET"}));
}

#[tokio::test]
async fn streamed_tool_calls_send_input_json_deltas_that_reassemble_the_input() {
    let s = server().await;
    let mut body = stream_msg("weather");
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    let events = stream_events(&s, "/v1/messages", &body).await;
    insta::assert_json_snapshot!("tool_use_stream", data_of(&events), {
        "[0].message.id" => "[id]",
        "[].content_block.id" => insta::dynamic_redaction(|v, _| {
            let id = v.as_str().unwrap().to_owned();
            assert!(id.starts_with("toolu_"));
            if id == "toolu_fixed1" {
                id
            } else {
                "[toolu]".to_owned()
            }
        })
    });
    let blocks = accumulate(&events);
    assert_eq!(blocks[0]["input"], json!({"city": "Paris"}));
    assert_eq!(blocks[1]["input"], json!({"tz": "CET"}));
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn a_tool_result_continues_the_loop_by_tool_call_id() {
    let s = server().await;
    let first: Value = post(&s, &msg("weather")).await.json().await.unwrap();
    let second = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [
        {"role": "user", "content": "weather"},
        {"role": "assistant", "content": [first["content"][0]]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_fixed1", "content": "20C"},
            {"type": "text", "text": "what now?"}
        ]}
    ]});
    // The user's text comes before the tool result, so `toolCallId` (last message) matches.
    let v: Value = post(&s, &second).await.json().await.unwrap();
    assert_eq!(v["content"][0]["text"], "It is sunny in Paris.");
    assert_eq!(v["stop_reason"], "end_turn");
    let j = s.last_request().unwrap();
    let aimock::journal::JournalBody::Chat(req) = &j.body else {
        panic!("the journal keeps the parsed request")
    };
    let roles: Vec<&str> = req.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "tool"]);
}

#[tokio::test]
async fn has_tool_result_drives_a_multi_turn_loop_to_the_final_answer() {
    let s = server().await;
    let first: Value = post(&s, &msg("plan")).await.json().await.unwrap();
    assert_eq!(
        first["content"][0],
        json!({"type": "text", "text": "Let me look."})
    );
    assert_eq!(first["content"][1]["name"], "search");
    let second = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [
        {"role": "user", "content": "plan"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_plan", "content": "found"}]}
    ]});
    let v: Value = post(&s, &second).await.json().await.unwrap();
    assert_eq!(v["content"], json!([{"type": "text", "text": "All done."}]));
}

#[tokio::test]
async fn ordered_blocks_keep_their_order_in_json_and_stream() {
    let s = server().await;
    let v: Value = post(&s, &msg("tool first")).await.json().await.unwrap();
    assert_eq!(v["content"][0]["type"], "tool_use");
    assert_eq!(v["content"][0]["input"], json!({}));
    assert_eq!(
        v["content"][1],
        json!({"type": "text", "text": "after the call"})
    );
    let events = stream_events(&s, "/v1/messages", &stream_msg("tool first")).await;
    let blocks = accumulate(&events);
    assert_eq!(blocks[0]["type"], "tool_use");
    assert_eq!(blocks[0]["input"], json!({}));
    assert_eq!(blocks[1]["text"], "after the call");
}

#[tokio::test]
async fn thinking_comes_first_with_its_signature() {
    let s = server().await;
    let v: Value = post(&s, &msg("think")).await.json().await.unwrap();
    assert_eq!(
        v["content"],
        json!([
            {"type": "thinking", "thinking": "Let me think it through.", "signature": "sig-abc"},
            {"type": "text", "text": "42"}
        ])
    );
    let events = stream_events(&s, "/v1/messages", &stream_msg("think")).await;
    insta::assert_json_snapshot!("thinking_stream", data_of(&events), {"[0].message.id" => "[id]"});
    let blocks = accumulate(&events);
    assert_eq!(
        blocks[0],
        json!({"type": "thinking", "thinking": "Let me think it through.", "signature": "sig-abc"})
    );
    // The signature arrives in one signature_delta right before the block stops.
    let sig = events
        .iter()
        .position(|(_, d)| d["delta"]["type"] == "signature_delta")
        .unwrap();
    assert_eq!(
        events[sig + 1].1,
        json!({"type": "content_block_stop", "index": 0})
    );
}

#[tokio::test]
async fn redacted_thinking_blocks_follow_the_thinking_block_and_a_missing_signature_gets_a_placeholder(
) {
    let s = server().await;
    let v: Value = post(&s, &msg("redact")).await.json().await.unwrap();
    assert_eq!(
        v["content"],
        json!([
            {"type": "thinking", "thinking": "Visible.", "signature": "aimock-placeholder-signature"},
            {"type": "redacted_thinking", "data": "ENCRYPTED=="},
            {"type": "text", "text": "ok"}
        ])
    );
    let events = stream_events(&s, "/v1/messages", &stream_msg("redact")).await;
    let blocks = accumulate(&events);
    assert_eq!(
        blocks[1],
        json!({"type": "redacted_thinking", "data": "ENCRYPTED=="})
    );
}

#[tokio::test]
async fn a_model_that_does_not_reason_gets_no_thinking_in_strict_mode() {
    let s = server().await;
    let mut body = msg("think");
    body["model"] = json!("claude-3-5-sonnet-20241022");
    let v: Value = post_with(&s, "/v1/messages", &body, &[("x-aimock-strict", "true")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["content"], json!([{"type": "text", "text": "42"}]));
    let v: Value = post(&s, &body).await.json().await.unwrap();
    assert_eq!(
        v["content"][0]["type"], "thinking",
        "emitted with a warning when not strict"
    );
}

fn thinking_loop(first_block: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 2048,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "messages": [
        {"role": "user", "content": "weather"},
        {"role": "assistant", "content": [first_block,
            {"type": "tool_use", "id": "toolu_fixed1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_fixed1", "content": "20C"}]}
    ]})
}

#[tokio::test]
async fn extended_thinking_without_a_signed_thinking_block_is_a_400_in_strict_mode() {
    let s = server().await;
    let bad = thinking_loop(json!({"type": "text", "text": "Let me check."}));
    let r = post_with(&s, "/v1/messages", &bad, &[("x-aimock-strict", "true")]).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("messages.1.content.0.type: Expected `thinking` or `redacted_thinking`"));

    // Not strict: a warning, and the fixture answers.
    let r = post(&s, &bad).await;
    assert_eq!(r.status(), 200);

    let good = thinking_loop(json!({"type": "thinking", "thinking": "hm", "signature": "sig"}));
    let r = post_with(&s, "/v1/messages", &good, &[("x-aimock-strict", "true")]).await;
    assert_eq!(r.status(), 200);
    let good = thinking_loop(json!({"type": "redacted_thinking", "data": "abc"}));
    let r = post_with(&s, "/v1/messages", &good, &[("x-aimock-strict", "true")]).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn overrides_set_the_id_model_stop_reason_and_usage() {
    let s = server().await;
    let v: Value = post(&s, &msg("override")).await.json().await.unwrap();
    assert_eq!(v["id"], "msg_fixed");
    assert_eq!(v["model"], "my-model");
    assert_eq!(v["stop_reason"], "max_tokens");
    assert_eq!(v["usage"]["input_tokens"], 7);
    assert_eq!(v["usage"]["output_tokens"], 3);
    assert_eq!(v["usage"]["cache_read_input_tokens"], 5);
    let events = stream_events(&s, "/v1/messages", &stream_msg("override")).await;
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
    assert_eq!(delta["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn a_429_fixture_is_a_rate_limit_error_with_retry_after() {
    let s = server().await;
    let r = post(&s, &msg("limit")).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["anthropic-ratelimit-requests-remaining"], "0");
    assert!(r.headers()["anthropic-ratelimit-requests-reset"]
        .to_str()
        .unwrap()
        .ends_with('Z'));
    let request_id = r.headers()["request-id"].to_str().unwrap().to_owned();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["request_id"], request_id.as_str());
    insta::assert_json_snapshot!("rate_limit_429", v, {".request_id" => "[request_id]"});
}

#[tokio::test]
async fn error_types_follow_the_status_unless_the_fixture_names_one() {
    let s = server().await;
    let r = post(&s, &msg("crash")).await;
    assert_eq!(r.status(), 500);
    let mut v: Value = r.json().await.unwrap();
    assert!(v["request_id"].as_str().unwrap().starts_with("req_"));
    v.as_object_mut().unwrap().remove("request_id");
    assert_eq!(
        v,
        json!({"type": "error", "error": {"type": "api_error", "message": "Boom"}})
    );
    let r = post(&s, &msg("overloaded")).await;
    assert_eq!(r.status(), 529);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn a_miss_is_a_404_not_found_error_and_strict_makes_it_503() {
    let s = server().await;
    let r = post(&s, &msg("nothing like it")).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "not_found_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("No fixture matched"));
    let r = post_with(
        &s,
        "/v1/messages",
        &msg("nothing like it"),
        &[("x-aimock-strict", "true")],
    )
    .await;
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "api_error");
}

#[tokio::test]
async fn bad_requests_get_a_400_invalid_request_error_naming_the_field() {
    let s = server().await;
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]}),
            "max_tokens: Field required",
        ),
        (
            json!({"max_tokens": 5, "messages": [{"role": "user", "content": "hello"}]}),
            "model: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 5}),
            "messages: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
    ];
    for (body, message) in cases {
        let r = post(&s, &body).await;
        assert_eq!(r.status(), 400, "{body}");
        let mut v: Value = r.json().await.unwrap();
        v.as_object_mut().unwrap().remove("request_id");
        assert_eq!(
            v,
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
        );
    }
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", s.uri()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn either_auth_header_works_and_anthropic_version_is_not_required() {
    let s = server().await;
    for (k, v) in [("authorization", "Bearer sk-ant"), ("x-api-key", "sk-ant")] {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/messages", s.uri()))
            .header(k, v)
            .json(&msg("hello"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The SDK's beta namespace adds `?beta=true`.
    let r = post_with(&s, "/v1/messages?beta=true", &msg("hello"), &[]).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_truncated_stream_is_cut_and_journaled_as_interrupted() {
    let s = server().await;
    let r = post(&s, &stream_msg("cut")).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await;
    if let Ok(text) = &body {
        assert!(!text.contains("message_stop"), "{text}");
    }
    let entry = s.last_request().unwrap();
    assert!(entry.response.interrupted);
    assert_eq!(
        entry.response.interrupt_reason.as_deref(),
        Some("truncateAfterChunks")
    );
}

#[tokio::test]
async fn count_tokens_estimates_the_prompt_like_the_reply_usage() {
    let s = server().await;
    let body = json!({"model": "claude-sonnet-4-5", "system": "Be brief.",
        "messages": [{"role": "user", "content": "hello"}]});
    let r = post_with(&s, "/v1/messages/count_tokens", &body, &[]).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    // "Be brief." + "hello": 14 characters, a quarter rounded up.
    assert_eq!(v, json!({"input_tokens": 4}));
    let reply: Value = post(
        &s,
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 9, "system": "Be brief.",
        "messages": [{"role": "user", "content": "hello"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(reply["usage"]["input_tokens"], 4);
    let r = post_with(&s, "/v1/messages/count_tokens", &json!({"model": "m"}), &[]).await;
    assert_eq!(r.status(), 400);
}

const VERTEX: &str = "/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models";

#[tokio::test]
async fn vertex_raw_predict_answers_with_the_model_from_the_path() {
    let s = server().await;
    let body = json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
        "messages": [{"role": "user", "content": "hello"}]});
    let r = post_with(
        &s,
        &format!("{VERTEX}/claude-sonnet-4-5@20250929:rawPredict"),
        &body,
        &[("authorization", "Bearer ya29.token")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["model"], "claude-sonnet-4-5@20250929");
    assert_eq!(v["content"][0]["text"], "Hello! How can I help you today?");
    insta::assert_json_snapshot!("vertex_raw_predict_json", v, {".id" => "[id]"});
}

#[tokio::test]
async fn vertex_stream_raw_predict_always_streams() {
    let s = server().await;
    let body = json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
        "messages": [{"role": "user", "content": "hello"}]});
    let events = stream_events(
        &s,
        "/v1beta1/projects/p/locations/global/publishers/anthropic/models/claude-haiku-4-5%4020251001:streamRawPredict",
        &body,
    )
    .await;
    assert_eq!(events[0].1["message"]["model"], "claude-haiku-4-5@20251001");
    assert_eq!(events.last().unwrap().0, "message_stop");
    insta::assert_json_snapshot!("vertex_stream_raw_predict", data_of(&events), {"[0].message.id" => "[id]"});
    // A miss on Vertex is in Anthropic's envelope too.
    let mut miss = body.clone();
    miss["messages"][0]["content"] = json!("unknown");
    let r = post_with(
        &s,
        &format!("{VERTEX}/claude-haiku-4-5:rawPredict"),
        &miss,
        &[],
    )
    .await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "not_found_error");
}

#[tokio::test]
async fn vertex_count_tokens_is_served() {
    let s = server().await;
    let body = json!({"anthropic_version": "vertex-2023-10-16", "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": "hello"}]});
    let r = post_with(&s, &format!("{VERTEX}/count-tokens:rawPredict"), &body, &[]).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({"input_tokens": 2}));
}
