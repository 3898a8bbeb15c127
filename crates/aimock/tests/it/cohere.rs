//! Cohere v2 over a real socket: `/v2/chat` as JSON and typed SSE (text, thinking, tool plan and
//! tool calls), a multi-turn tool loop, `/v2/embed` and errors in Cohere's envelope. Golden
//! files for the wire formats.

use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello from Cohere!"}, "chunkSize": 6},
  {"match": {"toolCallId": "get_weather_fixed1"}, "response": {"content": "It is sunny in Paris."}},
  {"match": {"userMessage": "weather"}, "response": {"content": "I will look up the weather.", "toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "get_weather_fixed1"}]}, "chunkSize": 10},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Let me think.", "content": "42"}},
  {"match": {"userMessage": "long"}, "response": {"content": "cut", "finishReason": "length", "usage": {"input_tokens": 7, "output_tokens": 3}}},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Slow down", "type": "rate_limit_error"}, "status": 429}},
  {"match": {"inputText": "vector me"}, "response": {"embedding": [0.5, -0.25, 1.0]}}
]}"#;

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "cohere.json").await
}

async fn post(s: &MockServer, path: &str, body: Value) -> reqwest::Response {
    support::post(s, path, &body, &[("authorization", "Bearer co-test")]).await
}

fn chat(text: &str, stream: bool) -> Value {
    json!({"model": "command-a-03-2025", "stream": stream,
           "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn chat_json_matches_the_golden_file() {
    let s = server().await;
    let r = post(&s, "/v2/chat", chat("hello", false)).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("chat_json", v, {".id" => "[id]"});
    assert_eq!(v["finish_reason"], "COMPLETE");
    assert_eq!(v["message"]["content"][0]["text"], "Hello from Cohere!");
}

#[tokio::test]
async fn chat_stream_sends_typed_events_from_message_start_to_message_end() {
    let s = server().await;
    let r = post(&s, "/v2/chat", chat("hello", true)).await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let evs = support::sse::named(&r.text().await.unwrap());
    let data: Vec<&Value> = evs.iter().map(|(_, d)| d).collect();
    insta::assert_json_snapshot!("chat_stream", data, {"[].id" => "[id]"});
    for (ev, d) in &evs {
        assert_eq!(d["type"], ev.as_str());
    }
    let kinds: Vec<&str> = evs.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"message-start"));
    assert_eq!(kinds.last(), Some(&"message-end"));
    let text: String = evs
        .iter()
        .filter(|(e, _)| e == "content-delta")
        .map(|(_, d)| d["delta"]["message"]["content"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from Cohere!");
}

#[tokio::test]
async fn tool_calls_come_with_a_tool_plan_as_json_and_as_events() {
    let s = server().await;
    let v: Value = post(&s, "/v2/chat", chat("weather", false))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("chat_tool_calls_json", v, {".id" => "[id]"});
    assert_eq!(v["finish_reason"], "TOOL_CALL");
    assert_eq!(
        v["message"]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Paris"}"#
    );
    let evs = support::sse::named(
        &post(&s, "/v2/chat", chat("weather", true))
            .await
            .text()
            .await
            .unwrap(),
    );
    let data: Vec<&Value> = evs.iter().map(|(_, d)| d).collect();
    insta::assert_json_snapshot!("chat_tool_calls_stream", data, {"[].id" => "[id]"});
    let args: String = evs
        .iter()
        .filter(|(e, _)| e == "tool-call-delta")
        .map(|(_, d)| {
            d["delta"]["message"]["tool_calls"]["function"]["arguments"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(args, r#"{"city":"Paris"}"#);
}

#[tokio::test]
async fn a_tool_result_continues_the_loop_by_tool_call_id() {
    let s = server().await;
    let v: Value = post(
        &s,
        "/v2/chat",
        json!({"model": "command-a-03-2025", "messages": [
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "tool_plan": "I will look up the weather.", "tool_calls": [
                {"id": "get_weather_fixed1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "get_weather_fixed1",
             "content": [{"type": "document", "document": {"data": "{\"sky\":\"sunny\"}"}}]}
        ]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["message"]["content"][0]["text"], "It is sunny in Paris.");
}

#[tokio::test]
async fn thinking_is_a_content_item_before_the_text() {
    let s = server().await;
    let v: Value = post(&s, "/v2/chat", chat("think", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["message"]["content"],
        json!([{"type": "thinking", "thinking": "Let me think."}, {"type": "text", "text": "42"}])
    );
    let evs = support::sse::named(
        &post(&s, "/v2/chat", chat("think", true))
            .await
            .text()
            .await
            .unwrap(),
    );
    let data: Vec<&Value> = evs.iter().map(|(_, d)| d).collect();
    insta::assert_json_snapshot!("chat_thinking_stream", data, {"[].id" => "[id]"});
}

#[tokio::test]
async fn finish_reason_and_usage_follow_the_fixture() {
    let s = server().await;
    let v: Value = post(&s, "/v2/chat", chat("long", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["finish_reason"], "MAX_TOKENS");
    assert_eq!(
        v["usage"],
        json!({"billed_units": {"input_tokens": 7, "output_tokens": 3},
               "tokens": {"input_tokens": 7, "output_tokens": 3}})
    );
}

#[tokio::test]
async fn embed_answers_each_requested_type_for_every_text() {
    let s = server().await;
    let v: Value = post(
        &s,
        "/v2/embed",
        json!({"model": "embed-v4.0", "texts": ["first", "second"], "input_type": "search_document",
               "embedding_types": ["float", "int8"], "output_dimension": 8}),
    )
    .await
    .json()
    .await
    .unwrap();
    insta::assert_json_snapshot!("embed_fallback", v, {".id" => "[id]"});
    assert_eq!(v["embeddings"]["float"].as_array().unwrap().len(), 2);
    let d: Value = post(
        &s,
        "/v2/embed",
        json!({"model": "embed-v4.0", "texts": ["first"], "input_type": "search_query"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(d["embeddings"]["float"][0].as_array().unwrap().len(), 1024);
    let f: Value = post(
        &s,
        "/v2/embed",
        json!({"model": "embed-v4.0", "inputs": [{"content": [{"type": "text", "text": "vector me"}]}],
               "input_type": "search_query"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(f["embeddings"]["float"], json!([[0.5, -0.25, 1.0]]));
}

#[tokio::test]
async fn errors_use_cohere_envelope_and_status() {
    let s = server().await;
    let r = post(&s, "/v2/chat", chat("limit", false)).await;
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("error_429", v, {".id" => "[id]"});
    let r = post(
        &s,
        "/v2/chat",
        json!({"messages": [{"role": "user", "content": "hello"}]}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("model"));
    let r = post(&s, "/v2/chat", chat("nothing matches this", false)).await;
    assert_eq!(r.status(), 404);
    let r = post(&s, "/v2/embed", json!({"model": "embed-v4.0"})).await;
    assert_eq!(r.status(), 400);
    let r = post(
        &s,
        "/v2/embed",
        json!({"model": "embed-v4.0", "texts": ["a"], "embedding_types": ["nope"]}),
    )
    .await;
    assert_eq!(r.status(), 400);
}
