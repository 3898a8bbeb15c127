//! Ollama over a real socket: `/api/chat` and `/api/generate` as NDJSON (the default) and JSON,
//! tool calls and a multi-turn loop without call ids, thinking, embeddings, the model list and
//! errors in Ollama's `{"error": ...}` envelope. Golden files for the wire formats.

use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;
use crate::support::get;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello from Ollama!"}, "chunkSize": 6},
  {"match": {"userMessage": "weather", "hasToolResult": true}, "response": {"content": "It is sunny in Paris."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}}]}},
  {"match": {"toolCallId": "call_ollama_get_time_1"}, "response": {"content": "Both answered."}},
  {"match": {"userMessage": "two tools"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}},
      {"name": "get_time", "arguments": {"tz": "CET"}}]}},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Let me think.", "content": "42"}, "chunkSize": 8},
  {"match": {"userMessage": "long"}, "response": {"content": "cut short", "finishReason": "length"}},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Slow down", "type": "rate_limit_error"}, "status": 429}},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijklmnopqrstuvwxyz"}, "chunkSize": 2, "truncateAfterChunks": 3},
  {"match": {"inputText": "vector me"}, "response": {"embedding": [0.5, -0.25, 1.0]}},
  {"match": {"userMessage": "named", "model": "llama3.2"}, "response": {"content": "x"}}
]}"#;

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "ollama.json").await
}

async fn post(s: &MockServer, path: &str, body: Value) -> reqwest::Response {
    support::post(s, path, &body, &[]).await
}

fn chat(text: &str, stream: bool) -> Value {
    json!({"model": "llama3.2", "stream": stream, "messages": [{"role": "user", "content": text}]})
}

fn lines(body: &str) -> Vec<Value> {
    body.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn chat_streams_ndjson_by_default_and_ends_with_done() {
    let s = server().await;
    let r = post(
        &s,
        "/api/chat",
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hello"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let body = r.text().await.unwrap();
    assert!(body.ends_with('\n'));
    let chunks = lines(&body);
    insta::assert_json_snapshot!("chat_stream", chunks, {"[].created_at" => "[created_at]"});
    let text: String = chunks
        .iter()
        .map(|c| c["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from Ollama!");
    let last = chunks.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert!(chunks[..chunks.len() - 1]
        .iter()
        .all(|c| c["done"] == false));
}

#[tokio::test]
async fn chat_with_stream_false_is_one_json_object() {
    let s = server().await;
    let r = post(&s, "/api/chat", chat("hello", false)).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("chat_json", v, {".created_at" => "[created_at]"});
    let created = v["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 30, "{created}");
}

#[tokio::test]
async fn tool_calls_carry_object_arguments_and_stable_ids() {
    let s = server().await;
    let v: Value = post(&s, "/api/chat", chat("two tools", false))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("chat_tool_calls_json", v, {".created_at" => "[created_at]"});
    let calls = v["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls[0]["function"]["arguments"], json!({"city": "Paris"}));
    assert_eq!(calls[1]["id"], "call_ollama_get_time_1");
    assert_eq!(v["done_reason"], "stop");
}

#[tokio::test]
async fn streamed_tool_calls_arrive_whole_in_one_line() {
    let s = server().await;
    let body = post(&s, "/api/chat", chat("weather", true))
        .await
        .text()
        .await
        .unwrap();
    let chunks = lines(&body);
    insta::assert_json_snapshot!("chat_tool_calls_stream", chunks, {"[].created_at" => "[created_at]"});
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        chunks[0]["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
}

#[tokio::test]
async fn a_tool_loop_without_ids_matches_by_has_tool_result_and_by_derived_ids() {
    let s = server().await;
    // The client sends the calls back without ids, and the results with only tool_name.
    let v: Value = post(
        &s,
        "/api/chat",
        json!({"model": "llama3.2", "stream": false, "messages": [
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
            {"role": "tool", "content": "sunny", "tool_name": "get_weather"}
        ]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["message"]["content"], "It is sunny in Paris.");

    let v: Value = post(
        &s,
        "/api/chat",
        json!({"model": "llama3.2", "stream": false, "messages": [
            {"role": "user", "content": "two tools please"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"function": {"name": "get_time", "arguments": {"tz": "CET"}}}]},
            {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
            {"role": "tool", "content": "noon", "tool_name": "get_time"}
        ]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["message"]["content"], "Both answered.");
}

#[tokio::test]
async fn thinking_streams_before_content_and_think_false_hides_it() {
    let s = server().await;
    let body = post(&s, "/api/chat", chat("think", true))
        .await
        .text()
        .await
        .unwrap();
    let chunks = lines(&body);
    insta::assert_json_snapshot!("chat_thinking_stream", chunks, {"[].created_at" => "[created_at]"});
    assert_eq!(chunks[0]["message"]["thinking"], "Let me t");
    let v: Value = post(
        &s,
        "/api/chat",
        json!({"model": "qwen3", "stream": false, "think": false,
               "messages": [{"role": "user", "content": "think"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(v["message"].get("thinking").is_none());
    assert_eq!(v["message"]["content"], "42");
}

#[tokio::test]
async fn generate_streams_response_slices_and_answers_json_when_asked() {
    let s = server().await;
    let body = post(
        &s,
        "/api/generate",
        json!({"model": "llama3.2", "prompt": "hello", "system": "be brief"}),
    )
    .await
    .text()
    .await
    .unwrap();
    let chunks = lines(&body);
    insta::assert_json_snapshot!("generate_stream", chunks, {"[].created_at" => "[created_at]"});
    let text: String = chunks
        .iter()
        .map(|c| c["response"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from Ollama!");
    let v: Value = post(
        &s,
        "/api/generate",
        json!({"model": "llama3.2", "prompt": "long", "stream": false}),
    )
    .await
    .json()
    .await
    .unwrap();
    insta::assert_json_snapshot!("generate_json_length", v, {".created_at" => "[created_at]"});
    assert_eq!(v["done_reason"], "length");
}

#[tokio::test]
async fn embed_gives_one_vector_per_input() {
    let s = server().await;
    let v: Value = post(
        &s,
        "/api/embed",
        json!({"model": "nomic-embed-text", "input": ["first", "second"], "dimensions": 4}),
    )
    .await
    .json()
    .await
    .unwrap();
    insta::assert_json_snapshot!("embed_fallback", v);
    let e = v["embeddings"].as_array().unwrap();
    assert_eq!(e.len(), 2);
    assert_ne!(e[0], e[1]);
    let one: Value = post(
        &s,
        "/api/embed",
        json!({"model": "nomic-embed-text", "input": "first"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(one["embeddings"][0].as_array().unwrap().len(), 1536);
    let fixture: Value = post(
        &s,
        "/api/embed",
        json!({"model": "nomic-embed-text", "input": "vector me"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(fixture["embeddings"], json!([[0.5, -0.25, 1.0]]));
    let legacy: Value = post(
        &s,
        "/api/embeddings",
        json!({"model": "nomic-embed-text", "prompt": "vector me"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(legacy, json!({"embedding": [0.5, -0.25, 1.0]}));
}

#[tokio::test]
async fn tags_list_fixture_models_and_show_and_version_answer() {
    let s = server().await;
    let v: Value = get(&s, "/api/tags").await.json().await.unwrap();
    insta::assert_json_snapshot!("tags", v);
    assert_eq!(v["models"][0]["name"], "llama3.2:latest");
    let show: Value = post(&s, "/api/show", json!({"model": "llama3.2"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(show["details"]["family"], "llama");
    assert!(show["model_info"].is_object());
    let version: Value = get(&s, "/api/version").await.json().await.unwrap();
    assert!(version["version"].is_string());
}

#[tokio::test]
async fn errors_use_the_ollama_envelope() {
    let s = server().await;
    let r = post(&s, "/api/chat", chat("limit", false)).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("error_429", v);
    let r = post(&s, "/api/chat", json!({"messages": []})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "model is required"})
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/chat", s.uri()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = post(&s, "/api/chat", chat("nothing matches this", false)).await;
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .starts_with("No fixture matched"));
    let r = post(
        &s,
        "/api/chat",
        json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
    )
    .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn truncate_after_chunks_cuts_the_ndjson_stream_and_the_journal_says_so() {
    let s = server().await;
    let r = post(&s, "/api/chat", chat("cut", true)).await;
    let body = r.text().await;
    assert!(body.is_err() || body.unwrap().lines().count() <= 3);
    support::interrupted(|| s.last_request().unwrap()).await;
    let journal: Value = get(&s, "/__aimock/journal").await.json().await.unwrap();
    let last = journal.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["response"]["interrupted"], true, "{last}");
}
