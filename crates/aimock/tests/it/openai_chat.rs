//! OpenAI Chat Completions and Embeddings over a real socket: wire formats (golden files), errors,
//! path compatibility, streaming that really streams, and the async-openai client.

use std::time::Duration;

use aimock::server::ServerConfig;
use aimock::MockServer;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::{self, chat, router};

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello! How can I help you today?"}},
  {"match": {"toolCallId": "call_fixed1"}, "response": {"content": "It is sunny in Paris."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_fixed1"},
      {"name": "get_time", "arguments": "{\"tz\":\"CET\"}", "id": "call_fixed2"}]}},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Let me think.", "content": "42"}},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}, "status": 429, "retryAfter": 2}},
  {"match": {"userMessage": "crash"}, "response": {"error": {"message": "Boom"}}},
  {"match": {"userMessage": "slow"}, "response": {"content": "one two three four five"}, "chunkSize": 4, "latency": 150},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijklmnopqrstuvwxyz"}, "chunkSize": 2, "truncateAfterChunks": 3},
  {"match": {"userMessage": "override"}, "response": {"content": "x", "id": "chatcmpl-fixed", "created": 1700000000, "model": "my-model", "systemFingerprint": "fp_1", "finishReason": "length", "usage": {"prompt_tokens": 7, "completion_tokens": 3}}},
  {"match": {"inputText": "vector me"}, "response": {"embedding": [0.5, -0.25, 1.0]}}
]}"#;

const AUTH: &[(&str, &str)] = &[("authorization", "Bearer sk-secret-test")];

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "chat.json").await
}

async fn post(s: &MockServer, path: &str, body: Value) -> reqwest::Response {
    support::post(s, path, &body, AUTH).await
}

fn stream_chat(text: &str) -> Value {
    json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn chat_json_matches_the_golden_file() {
    let s = server().await;
    let r = post(&s, "/v1/chat/completions", chat("hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("chat_text_json", v, {".id" => "[id]", ".created" => "[created]"});
}

#[tokio::test]
async fn chat_stream_sends_role_first_then_content_finish_usage_and_done() {
    let s = server().await;
    let r = post(&s, "/v1/chat/completions", stream_chat("hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    assert!(r.headers().get("content-length").is_none());
    let body = r.text().await.unwrap();
    let payloads = support::sse::data(&body);
    assert_eq!(payloads.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = payloads[..payloads.len() - 1]
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    insta::assert_json_snapshot!("chat_text_stream", chunks, {"[].id" => "[id]", "[].created" => "[created]"});
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! How can I help you today?");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn tool_calls_stream_as_indexed_deltas_with_ids_first() {
    let s = server().await;
    let body = post(&s, "/v1/chat/completions", stream_chat("weather"))
        .await
        .text()
        .await
        .unwrap();
    let payloads = support::sse::data(&body);
    let chunks: Vec<Value> = payloads[..payloads.len() - 1]
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    insta::assert_json_snapshot!("chat_tool_calls_stream", chunks, {"[].id" => "[id]", "[].created" => "[created]"});
    let mut args = [String::new(), String::new()];
    for c in &chunks {
        if let Some(calls) = c["choices"][0]["delta"]["tool_calls"].as_array() {
            for call in calls {
                let i = call["index"].as_u64().unwrap() as usize;
                args[i].push_str(call["function"]["arguments"].as_str().unwrap());
            }
        }
    }
    assert_eq!(args[0], r#"{"city":"Paris"}"#);
    assert_eq!(args[1], r#"{"tz":"CET"}"#);
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn a_tool_result_continues_the_loop_by_tool_call_id() {
    let s = server().await;
    let first: Value = post(&s, "/v1/chat/completions", chat("weather"))
        .await
        .json()
        .await
        .unwrap();
    let msg = &first["choices"][0]["message"];
    assert_eq!(msg["content"], Value::Null);
    assert_eq!(msg["tool_calls"][0]["id"], "call_fixed1");
    let second = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "weather"},
        msg,
        {"role": "tool", "tool_call_id": "call_fixed1", "content": "{\"temp\": 20}"}
    ]});
    let v: Value = post(&s, "/v1/chat/completions", second)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "It is sunny in Paris."
    );
}

#[tokio::test]
async fn reasoning_is_sent_as_reasoning_content() {
    let s = server().await;
    let mut req = chat("think");
    req["model"] = json!("o3-mini");
    let v: Value = post(&s, "/v1/chat/completions", req)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["choices"][0]["message"]["reasoning_content"],
        "Let me think."
    );
    assert_eq!(v["choices"][0]["message"]["content"], "42");
}

#[tokio::test]
async fn override_fields_replace_generated_values() {
    let s = server().await;
    let v: Value = post(&s, "/v1/chat/completions", chat("override"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["id"], "chatcmpl-fixed");
    assert_eq!(v["created"], 1700000000);
    assert_eq!(v["model"], "my-model");
    assert_eq!(v["system_fingerprint"], "fp_1");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["prompt_tokens"], 7);
    assert_eq!(v["usage"]["total_tokens"], 10);
}

#[tokio::test]
async fn a_429_fixture_carries_retry_after_and_rate_limit_headers() {
    let s = server().await;
    let r = post(&s, "/v1/chat/completions", chat("limit")).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["x-ratelimit-remaining-requests"], "0");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error": {"message": "Slow down", "type": "rate_limit_error", "param": null, "code": "rate_limit_exceeded"}})
    );
}

#[tokio::test]
async fn an_error_fixture_without_status_is_a_500_server_error() {
    let s = server().await;
    let r = post(&s, "/v1/chat/completions", chat("crash")).await;
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "server_error");
    assert_eq!(v["error"]["message"], "Boom");
}

#[tokio::test]
async fn a_miss_is_a_404_naming_the_closest_fixture() {
    let s = server().await;
    let r = post(&s, "/v1/chat/completions", chat("hellp there")).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "no_fixture_match");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("No fixture matched"), "{msg}");
    assert!(msg.contains("chat.json fixtures["), "{msg}");
    assert!(msg.contains("userMessage"), "{msg}");
}

#[tokio::test]
async fn strict_mode_by_header_turns_a_miss_into_503() {
    let s = server().await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("x-aimock-strict", "true")
        .json(&chat("nothing like it"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Strict mode"));
    let j = s.journal();
    assert_eq!(j.last().unwrap().response.strict_override, Some(true));
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_in_openais_envelope() {
    let s = server().await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", s.uri());
    let r = client.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_json");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Malformed JSON"));

    let r = post(&s, "/v1/chat/completions", json!({"model": "gpt-4o"})).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["param"], "messages");

    let r = post(
        &s,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "messages": "hi"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("messages"),
        "{v}"
    );

    let r = post(&s, "/v1/chat/completions", json!([1, 2])).await;
    assert_eq!(r.status(), 400);

    let r = post(
        &s,
        "/v1/chat/completions",
        json!({"messages": [{"role": "wizard", "content": "x"}]}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["param"], "messages[0].role");
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let s = MockServer::builder()
        .config(aimock::server::ServerConfig {
            max_body_bytes: 1024,
            ..Default::default()
        })
        .start()
        .await;
    let big = "x".repeat(4096);
    let r = post(&s, "/v1/chat/completions", chat(&big)).await;
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn compat_paths_reach_the_chat_handler() {
    let s = server().await;
    for path in [
        "/openai/v1/chat/completions",
        "/v4/chat/completions",
        "/api/paas/v4/chat/completions",
        "/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21",
    ] {
        let r = post(&s, path, chat("hello")).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    let v: Value = post(
        &s,
        "/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21",
        json!({"messages": [{"role": "user", "content": "hello"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["model"], "my-deploy");
    let last = s.last_request().unwrap();
    assert_eq!(
        last.path,
        "/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21"
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_health_ready_models_answer() {
    let s = server().await;
    let c = reqwest::Client::new();
    let r = c.get(format!("{}/nope", s.uri())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let h: Value = c
        .get(format!("{}/health", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    let h: Value = c
        .get(format!("{}/ready", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ready");
    let m: Value = c
        .get(format!("{}/v1/models", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["object"], "list");
    assert!(!m["data"].as_array().unwrap().is_empty());
}

/// In-process on tokio's paused clock (see `support::router`): the times are the fixture's
/// delays, whatever the load on the machine.
#[tokio::test(start_paused = true)]
async fn the_first_event_arrives_before_the_last_is_produced() {
    let s = router::app(ServerConfig::default(), Some((FIXTURES, "chat.json")));
    let started = Instant::now();
    let r = router::post(&s, "/v1/chat/completions", &stream_chat("slow"), AUTH).await;
    let mut r = r.into_body().into_data_stream();
    let first = r.next().await.expect("a first chunk").unwrap();
    let first_at = started.elapsed();
    assert!(String::from_utf8_lossy(&first).contains("\"role\":\"assistant\""));
    // The stream has 8 paced events 150 ms apart: when the first arrives, the journal must still
    // show the stream as not yet delivered.
    let entry = s.last_request().unwrap();
    assert_eq!(
        entry.response.delivered, None,
        "stream finished before the first event was read"
    );
    let mut rest = Vec::new();
    while let Some(c) = r.next().await {
        rest.push(c.unwrap());
    }
    let total = started.elapsed();
    assert!(
        rest.len() >= 3,
        "events were not sent separately: {} writes",
        rest.len() + 1
    );
    assert!(
        total >= Duration::from_millis(1000),
        "paced stream finished in {total:?}"
    );
    assert!(
        first_at < total / 2,
        "first {first_at:?} vs total {total:?}"
    );
    assert_eq!(s.last_request().unwrap().response.delivered, Some(true));
}

#[tokio::test]
async fn truncate_after_chunks_really_drops_the_connection() {
    let s = server().await;
    let r = post(&s, "/v1/chat/completions", stream_chat("cut")).await;
    let body = support::read_body(r.bytes_stream(), Instant::now()).await;
    let (got, err) = (body.bytes(), body.error);
    assert!(err.is_some(), "the stream ended cleanly");
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("data: ").count(), 3);
    assert!(!text.contains("[DONE]"));
    let entry = s.last_request().unwrap();
    assert!(entry.response.interrupted);
    assert_eq!(
        entry.response.interrupt_reason.as_deref(),
        Some("truncateAfterChunks")
    );
}

#[tokio::test]
async fn the_journal_records_requests_with_credentials_redacted() {
    let s = server().await;
    post(&s, "/v1/chat/completions", chat("hello")).await;
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{}/__aimock/journal", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-count"], "1");
    let text = r.text().await.unwrap();
    assert!(!text.contains("sk-secret-test"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["headers"]["authorization"], "[REDACTED]");
    assert_eq!(v[0]["body"]["messages"][0]["content"], "hello");
    assert_eq!(v[0]["response"]["status"], 200);
    assert_eq!(v[0]["response"]["fixture"]["match"]["userMessage"], "hello");
}

#[tokio::test]
async fn the_control_api_adds_lists_and_clears_fixtures_and_queues_errors() {
    let s = MockServer::start().await;
    let c = reqwest::Client::new();
    let base = s.uri();
    let bad = c
        .post(format!("{base}/__aimock/fixtures"))
        .json(&json!({"fixtures": [{"match": {"userMessage": "a"}, "response": {"text": "oops"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.unwrap();
    assert_eq!(v["error"], "Validation failed");
    assert!(v["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `content`"));

    let ok: Value = c
        .post(format!("{base}/__aimock/fixtures"))
        .json(&json!({"fixtures": [{"match": {"userMessage": "a"}, "response": {"content": "A"}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["added"], 1);
    let count: Value = c
        .get(format!("{base}/__aimock/fixtures"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count["count"], 1);

    let q: Value = c
        .post(format!("{base}/__aimock/error"))
        .json(&json!({"status": 503, "body": {"message": "down", "type": "server_error"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["queued"], true);
    assert_eq!(
        post(&s, "/v1/chat/completions", chat("a")).await.status(),
        503
    );
    assert_eq!(
        post(&s, "/v1/chat/completions", chat("a")).await.status(),
        200
    );

    let journal: Value = c
        .get(format!("{base}/__aimock/journal?status=503&limit=5"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(journal.as_array().unwrap().len(), 1);
    let unknown = c
        .get(format!("{base}/__aimock/journal?bogus=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);

    c.post(format!("{base}/__aimock/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(s.journal().len(), 0);
    assert_eq!(
        post(&s, "/v1/chat/completions", chat("a")).await.status(),
        404
    );
    let legacy = c.get(format!("{base}/v1/_requests")).send().await.unwrap();
    assert_eq!(legacy.status(), 200);
    let del = c
        .delete(format!("{base}/v1/_requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
}

#[tokio::test]
async fn embeddings_use_the_fixture_vector_or_a_deterministic_fallback() {
    let s = server().await;
    let v: Value = post(
        &s,
        "/v1/embeddings",
        json!({"model": "text-embedding-3-small", "input": ["vector me", "and me"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["data"][0]["embedding"], json!([0.5, -0.25, 1.0]));
    assert_eq!(v["data"][1]["index"], 1);

    let a: Value = post(
        &s,
        "/v1/embeddings",
        json!({"model": "m", "input": "some text", "dimensions": 8}),
    )
    .await
    .json()
    .await
    .unwrap();
    let b: Value = post(
        &s,
        "/v1/embeddings",
        json!({"model": "m", "input": "some text", "dimensions": 8}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(a["data"][0]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(a["data"][0]["embedding"], b["data"][0]["embedding"]);
    let full: Value = post(
        &s,
        "/v1/embeddings",
        json!({"model": "m", "input": "some text"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(full["data"][0]["embedding"].as_array().unwrap().len(), 1536);
    assert_eq!(
        full["data"][0]["embedding"].as_array().unwrap()[..8],
        a["data"][0]["embedding"].as_array().unwrap()[..]
    );

    let b64: Value = post(
        &s,
        "/v1/embeddings",
        json!({"model": "m", "input": "vector me", "encoding_format": "base64"}),
    )
    .await
    .json()
    .await
    .unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let floats: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(floats, vec![0.5, -0.25, 1.0]);
}

#[tokio::test]
async fn the_fallback_embedding_is_sha256_derived_as_aimock_does() {
    // First byte of SHA-256("hello") is 0x2c = 44: 44 / 127.5 - 1.
    let v = aimock::fallback_embedding("hello", 33);
    assert!((v[0] - (44.0 / 127.5 - 1.0)).abs() < 1e-12);
    assert_eq!(v.len(), 33);
}

mod async_openai_client {
    use super::*;
    use async_openai::config::OpenAIConfig;
    use async_openai::types::chat::{
        ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
    };
    use async_openai::types::embeddings::CreateEmbeddingRequestArgs;
    use async_openai::Client;
    use futures_util::StreamExt;

    fn client(s: &MockServer) -> Client<OpenAIConfig> {
        Client::with_config(
            OpenAIConfig::new()
                .with_api_base(format!("{}/v1", s.uri()))
                .with_api_key("sk-test"),
        )
    }

    fn request(text: &str, stream: bool) -> async_openai::types::chat::CreateChatCompletionRequest {
        CreateChatCompletionRequestArgs::default()
            .model("gpt-4o")
            .stream(stream)
            .messages([ChatCompletionRequestUserMessageArgs::default()
                .content(text)
                .build()
                .unwrap()
                .into()])
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn async_openai_chat_plain_and_streamed() {
        let s = server().await;
        let c = client(&s);
        let r = c.chat().create(request("hello", false)).await.unwrap();
        assert_eq!(
            r.choices[0].message.content.as_deref(),
            Some("Hello! How can I help you today?")
        );
        let mut stream = c
            .chat()
            .create_stream(request("hello", true))
            .await
            .unwrap();
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            for choice in chunk.choices {
                if let Some(t) = choice.delta.content {
                    text.push_str(&t);
                }
            }
        }
        assert_eq!(text, "Hello! How can I help you today?");
        let r = c.chat().create(request("weather", false)).await.unwrap();
        let calls = r.choices[0].message.tool_calls.as_ref().unwrap();
        assert_eq!(calls.len(), 2);
    }

    #[tokio::test]
    async fn async_openai_embeddings() {
        let s = server().await;
        let c = client(&s);
        let req = CreateEmbeddingRequestArgs::default()
            .model("text-embedding-3-small")
            .input("vector me")
            .build()
            .unwrap();
        let r = c.embeddings().create(req).await.unwrap();
        assert_eq!(r.data[0].embedding, vec![0.5, -0.25, 1.0]);
    }
}

/// Write a request by hand: its head, then its body in pieces with pauses between them, and read
/// the whole answer (the connection is closed after it).
async fn post_in_pieces(addr: &str, head: &str, pieces: &[&str], pause: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    for p in pieces {
        tokio::time::sleep(pause).await;
        tcp.write_all(p.as_bytes()).await.unwrap();
    }
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_body_that_arrives_after_its_head_in_pieces_is_read_whole() {
    // The first look at the body finds nothing (Content-Length) or a first piece (chunked): the
    // request waits for the rest, then is answered as any other.
    let s = server().await;
    let addr = s.uri().trim_start_matches("http://").to_owned();
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}"#;
    let (a, b) = body.split_at(20);
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = post_in_pieces(&addr, &head, &[a, b], Duration::from_millis(60)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("Hello! How can I help you today?"),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id: req_"),
        "{answer}"
    );

    let head =
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                connection: close\r\ntransfer-encoding: chunked\r\n\r\n";
    let first = format!("{:x}\r\n{a}\r\n", a.len());
    let second = format!("{:x}\r\n{b}\r\n0\r\n\r\n", b.len());
    let answer = post_in_pieces(&addr, head, &[&first, &second], Duration::from_millis(60)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("Hello! How can I help you today?"),
        "{answer}"
    );
    // The head and the first piece together: the first look finds that piece, and keeps it.
    let answer = post_in_pieces(
        &addr,
        &format!("{head}{first}"),
        &[&second],
        Duration::from_millis(60),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("Hello! How can I help you today?"),
        "{answer}"
    );
    assert_eq!(s.journal().len(), 3);
}

#[tokio::test]
async fn a_slow_body_over_the_limit_is_a_413_in_the_provider_envelope() {
    let s = MockServer::builder()
        .config(ServerConfig {
            max_body_bytes: 64,
            ..Default::default()
        })
        .start()
        .await;
    let addr = s.uri().trim_start_matches("http://").to_owned();
    let head =
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                connection: close\r\ntransfer-encoding: chunked\r\n\r\n";
    let piece = "x".repeat(40);
    let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
    let answer = post_in_pieces(
        &addr,
        head,
        &[&chunk, &chunk, "0\r\n\r\n"],
        Duration::from_millis(40),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"invalid_request_error\""), "{answer}");
    assert!(answer.contains("64-byte limit"), "{answer}");
    // One frame over the limit on its own is refused too.
    let big = "y".repeat(100);
    let chunk = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let answer = post_in_pieces(&addr, head, &[&chunk], Duration::from_millis(1)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn every_kind_of_answer_carries_cors_and_a_filled_request_id() {
    // JSON answers get their headers from a template with an empty request-id slot; every other
    // answer gets them added. Either way the id is there, filled, and CORS is complete.
    let s = server().await;
    let c = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", s.uri());
    let answers = vec![
        (
            "chat",
            c.post(url("/v1/chat/completions")).json(&chat("hello")),
        ),
        (
            "stream",
            c.post(url("/v1/chat/completions"))
                .json(&stream_chat("hello")),
        ),
        (
            "miss",
            c.post(url("/v1/chat/completions"))
                .json(&chat("nothing matches this")),
        ),
        (
            "bad json",
            c.post(url("/v1/chat/completions"))
                .header("content-type", "application/json")
                .body("{"),
        ),
        ("control", c.get(url("/__aimock/journal"))),
        ("health", c.get(url("/health"))),
        (
            "preflight",
            c.request(reqwest::Method::OPTIONS, url("/v1/chat/completions")),
        ),
        ("not found", c.get(url("/nowhere"))),
    ];
    for (name, req) in answers {
        let r = req.send().await.unwrap();
        let h = r.headers();
        let id = h["x-request-id"].to_str().unwrap();
        assert!(id.starts_with("req_") && id.len() == 36, "{name}: {id:?}");
        assert_eq!(h["access-control-allow-origin"], "*", "{name}");
        assert_eq!(
            h["access-control-expose-headers"], "X-Total-Count, X-Request-Id, Mcp-Session-Id",
            "{name}"
        );
        assert_eq!(h.get_all("x-request-id").iter().count(), 1, "{name}");
    }
    // A client's own id is the one it gets back.
    let r = c
        .post(url("/v1/chat/completions"))
        .header("x-request-id", "mine-1")
        .json(&chat("hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "mine-1");
}
