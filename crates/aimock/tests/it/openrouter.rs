//! OpenRouter over a real socket: `/api/v1/chat/completions` in OpenRouter's shape (golden files),
//! its error envelope, `models[]` fail-over, the processing comment, reasoning by model, and the
//! discovery routes.

use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;
use crate::support::get;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello from the router!"}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_or1"}]}},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Let me think.", "content": "42"}},
  {"match": {"userMessage": "signed"}, "response": {"reasoning": "Signed thought.", "reasoningSignature": "sig-123", "content": "ok"}},
  {"match": {"userMessage": "costly"}, "response": {"content": "x",
      "usage": {"prompt_tokens": 10, "completion_tokens": 2, "cost": 0.0015,
                "cost_details": {"upstream_inference_cost": 0.001},
                "prompt_tokens_details": {"audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 1},
                "is_byok": false}}},
  {"match": {"userMessage": "pinned"}, "response": {"content": "y", "id": "gen-fixed", "created": 1700000000,
      "provider": "Azure", "nativeFinishReason": "end_turn", "systemFingerprint": "fp_or"}},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Rate limited upstream", "metadata": {"provider_name": "OpenAI"}}, "status": 429}},
  {"match": {"userMessage": "processing"}, "response": {"content": "ok"}, "openRouterProcessing": true},

  {"match": {"userMessage": "failover", "model": "openai/gpt-4o"}, "response": {"error": {"message": "Provider down"}, "status": 503}},
  {"match": {"userMessage": "failover", "model": "anthropic/claude-sonnet-4"}, "response": {"content": "Served by the fallback"}},

  {"match": {"userMessage": "terminal", "model": "openai/gpt-4o"}, "response": {"error": {"message": "Forbidden by provider"}, "status": 403, "fallthrough": false}},
  {"match": {"userMessage": "terminal", "model": "anthropic/claude-sonnet-4"}, "response": {"content": "never"}},

  {"match": {"userMessage": "allfail", "model": "openai/gpt-4o"}, "response": {"error": {"message": "first failed"}, "status": 503}},
  {"match": {"userMessage": "allfail", "model": "anthropic/claude-sonnet-4"}, "response": {"error": {"message": "second failed"}, "status": 502}},

  {"match": {"userMessage": "skipmiss", "model": "google/gemini-2.5-pro"}, "response": {"content": "third time lucky"}}
]}"#;

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "openrouter.json").await
}

async fn post(s: &MockServer, body: Value) -> reqwest::Response {
    post_with(s, body, &[]).await
}

async fn post_with(s: &MockServer, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![
        ("authorization", "Bearer sk-or-v1-test"),
        ("HTTP-Referer", "https://example.com"),
        ("X-Title", "aimock tests"),
    ];
    all.extend_from_slice(headers);
    support::post(s, "/api/v1/chat/completions", &body, &all).await
}

fn chat(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

fn stream_chat(model: &str, text: &str) -> Value {
    json!({"model": model, "stream": true, "messages": [{"role": "user", "content": text}]})
}

fn failover(text: &str) -> Value {
    json!({"model": "openai/gpt-4o", "models": ["anthropic/claude-sonnet-4", "openai/gpt-4o"],
           "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn a_chat_completion_has_openrouters_shape() {
    let s = server().await;
    let r = post(&s, chat("openai/gpt-4o", "hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("gen-"), "{v}");
    insta::assert_json_snapshot!("chat_text_json", v, {".id" => "[id]", ".created" => "[created]"});
}

#[tokio::test]
async fn a_stream_has_openrouters_chunks_and_always_ends_with_usage() {
    let s = server().await;
    let r = post(&s, stream_chat("openai/gpt-4o", "hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let body = r.text().await.unwrap();
    assert!(!body.contains("OPENROUTER PROCESSING"));
    assert_eq!(support::sse::data(&body).last().unwrap(), "[DONE]");
    let chunks = support::sse::json(&body);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["total_tokens"].as_u64().unwrap() > 0);
    for c in &chunks {
        assert!(c["id"].as_str().unwrap().starts_with("gen-"));
        assert_eq!(c["provider"], "openai");
        for choice in c["choices"].as_array().unwrap() {
            if choice["delta"]["content"].is_string() {
                assert_eq!(choice["delta"]["role"], "assistant", "{c}");
            }
        }
    }
    insta::assert_json_snapshot!("chat_text_stream", chunks, {"[].id" => "[id]", "[].created" => "[created]"});
}

#[tokio::test]
async fn tool_calls_stream_as_indexed_deltas() {
    let s = server().await;
    let mut body = stream_chat("openai/gpt-4o", "weather");
    body["tools"] =
        json!([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]);
    let r = post(&s, body).await;
    let chunks = support::sse::json(&r.text().await.unwrap());
    insta::assert_json_snapshot!("chat_tool_calls_stream", chunks, {"[].id" => "[id]", "[].created" => "[created]"});
    let json: Value = post(&s, chat("openai/gpt-4o", "weather"))
        .await
        .json()
        .await
        .unwrap();
    let choice = &json["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["native_finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["tool_calls"][0]["id"], "call_or1");
    assert_eq!(
        choice["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Paris\"}"
    );
}

#[tokio::test]
async fn reasoning_is_mirrored_as_message_reasoning_and_reasoning_deltas() {
    let s = server().await;
    let v: Value = post(&s, chat("anthropic/claude-sonnet-4", "think"))
        .await
        .json()
        .await
        .unwrap();
    let m = &v["choices"][0]["message"];
    assert_eq!(m["reasoning"], "Let me think.");
    assert_eq!(m["reasoning_content"], "Let me think.");
    assert_eq!(m["content"], "42");
    let plain: Value = post(&s, chat("openai/gpt-4o", "hello"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain["choices"][0]["message"]["reasoning"], Value::Null);
    let r = post(&s, stream_chat("anthropic/claude-sonnet-4", "think")).await;
    let chunks = support::sse::json(&r.text().await.unwrap());
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning"].as_str())
        .collect();
    assert_eq!(reasoning, "Let me think.");
    let details: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_details"].as_array())
        .flatten()
        .collect();
    assert!(details.iter().all(|d| d["type"] == "reasoning.text"));
}

#[tokio::test]
async fn reasoning_details_carry_the_text_and_the_fixtures_signature() {
    let s = server().await;
    let v: Value = post(&s, chat("anthropic/claude-sonnet-4", "signed"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["choices"][0]["message"]["reasoning_details"],
        json!([{"type": "reasoning.text", "text": "Signed thought.", "signature": "sig-123",
                "format": "unknown", "index": 0}])
    );
    let plain: Value = post(&s, chat("openai/gpt-4o", "hello"))
        .await
        .json()
        .await
        .unwrap();
    assert!(plain["choices"][0]["message"]
        .get("reasoning_details")
        .is_none());
}

#[tokio::test]
async fn reasoning_is_suppressed_in_strict_mode_for_a_slug_of_a_model_that_does_not_reason() {
    let s = server().await;
    let strict = [("x-aimock-strict", "true")];
    let v: Value = post_with(&s, chat("openai/gpt-4o", "think"), &strict)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["reasoning"], Value::Null);
    assert!(v["choices"][0]["message"]
        .get("reasoning_content")
        .is_none());
    assert_eq!(v["choices"][0]["message"]["content"], "42");
    // A model that reasons keeps it under strict mode; so does a non-strict request.
    let v: Value = post_with(&s, chat("openai/o3-mini", "think"), &strict)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["reasoning"], "Let me think.");
    let v: Value = post(&s, chat("openai/gpt-4o", "think"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["reasoning"], "Let me think.");
}

#[tokio::test]
async fn usage_extras_appear_only_when_the_fixture_supplies_them() {
    let s = server().await;
    let v: Value = post(&s, chat("openai/gpt-4o", "costly"))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("usage_extras", v["usage"]);
    let plain: Value = post(&s, chat("openai/gpt-4o", "hello"))
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&String> = plain["usage"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["completion_tokens", "prompt_tokens", "total_tokens"],
        "{plain}"
    );
}

#[tokio::test]
async fn fixture_overrides_win_over_generated_values() {
    let s = server().await;
    let v: Value = post(&s, chat("openai/gpt-4o", "pinned"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["id"], "gen-fixed");
    assert_eq!(v["created"], 1700000000);
    assert_eq!(v["provider"], "Azure");
    assert_eq!(v["system_fingerprint"], "fp_or");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["choices"][0]["native_finish_reason"], "end_turn");
    let r = post(&s, stream_chat("openai/gpt-4o", "pinned")).await;
    let chunks = support::sse::json(&r.text().await.unwrap());
    let finish = chunks
        .iter()
        .find(|c| c["choices"][0]["finish_reason"].is_string())
        .unwrap();
    assert_eq!(finish["choices"][0]["native_finish_reason"], "end_turn");
    assert!(chunks.iter().all(|c| c["provider"] == "Azure"));
}

#[tokio::test]
async fn errors_use_openrouters_envelope_with_metadata() {
    let s = server().await;
    let r = post(&s, chat("openai/gpt-4o", "limit")).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error": {"code": 429, "message": "Rate limited upstream", "metadata": {"provider_name": "OpenAI"}}})
    );
    let r = post(&s, chat("openai/gpt-4o", "nothing matches this")).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], 404);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("No fixture matched"));
    assert!(v["error"].get("type").is_none());
    let r = post(&s, json!({"model": "openai/gpt-4o"})).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], 400);
    assert!(v["error"]["message"].as_str().unwrap().contains("messages"));
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/chat/completions", s.uri()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Malformed JSON"));
}

#[tokio::test]
async fn models_fail_over_past_an_error_and_echo_the_winning_slug() {
    let s = server().await;
    let r = post(&s, failover("failover")).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["model"], "anthropic/claude-sonnet-4");
    assert_eq!(v["provider"], "anthropic");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Served by the fallback"
    );
    let last = s.last_request().unwrap();
    assert_eq!(last.response.status, 200);
    // The journal keeps the request as sent.
    match &last.body {
        aimock::journal::JournalBody::Chat(req) => assert_eq!(req.model, "openai/gpt-4o"),
        other => panic!("unexpected journal body {other:?}"),
    }
}

#[tokio::test]
async fn fail_over_is_off_when_the_request_disallows_fallbacks() {
    let s = server().await;
    let mut body = failover("failover");
    body["provider"] = json!({"allow_fallbacks": false});
    let r = post(&s, body).await;
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error": {"code": 503, "message": "Provider down"}})
    );
}

#[tokio::test]
async fn an_error_fixture_with_fallthrough_false_is_terminal() {
    let s = server().await;
    let r = post(&s, failover("terminal")).await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "Forbidden by provider");
}

#[tokio::test]
async fn when_every_candidate_fails_the_last_error_is_served() {
    let s = server().await;
    let r = post(&s, failover("allfail")).await;
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "second failed");
}

#[tokio::test]
async fn candidates_without_a_fixture_are_skipped() {
    let s = server().await;
    let body = json!({"model": "openai/gpt-4o",
        "models": ["anthropic/claude-sonnet-4", "", 7, "google/gemini-2.5-pro"],
        "messages": [{"role": "user", "content": "skipmiss"}]});
    let r = post(&s, body).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["model"], "google/gemini-2.5-pro");
    assert_eq!(v["provider"], "google");
    // No candidate at all: the miss of the primary model.
    let body = json!({"model": "openai/gpt-4o", "models": ["x/y"],
        "messages": [{"role": "user", "content": "no such thing"}]});
    let r = post(&s, body).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_fail_over_stream_names_the_winning_model_in_every_chunk() {
    let s = server().await;
    let mut body = failover("failover");
    body["stream"] = json!(true);
    let r = post(&s, body).await;
    let chunks = support::sse::json(&r.text().await.unwrap());
    assert!(chunks
        .iter()
        .all(|c| c["model"] == "anthropic/claude-sonnet-4"));
}

#[tokio::test]
async fn the_processing_comment_comes_first_when_the_fixture_opts_in() {
    let s = server().await;
    let r = post(&s, stream_chat("openai/gpt-4o", "processing")).await;
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with(": OPENROUTER PROCESSING\n\ndata: {"),
        "{body}"
    );
    assert_eq!(body.matches("OPENROUTER PROCESSING").count(), 1);
    assert_eq!(support::sse::data(&body).last().unwrap(), "[DONE]");
    // Never on JSON responses.
    let v: Value = post(&s, chat("openai/gpt-4o", "processing"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "ok");
}

#[tokio::test]
async fn plain_openai_paths_keep_openais_shape() {
    let s = server().await;
    let v: Value = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .json(&chat("openai/gpt-4o", "hello"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(v.get("provider").is_none());
}

#[tokio::test]
async fn the_model_catalog_lists_fixture_models_or_defaults() {
    let s = server().await;
    let r = get(&s, "/api/v1/models").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "openai/gpt-4o",
            "anthropic/claude-sonnet-4",
            "google/gemini-2.5-pro"
        ]
    );
    let empty = MockServer::start().await;
    let v: Value = get(&empty, "/api/v1/models").await.json().await.unwrap();
    insta::assert_json_snapshot!("models_default", v);
}

#[tokio::test]
async fn key_and_credits_are_static_stubs_and_are_journaled() {
    let s = server().await;
    let key: Value = get(&s, "/api/v1/key").await.json().await.unwrap();
    assert_eq!(key["data"]["label"], "sk-or-v1-aimock");
    assert_eq!(key["data"]["limit"], Value::Null);
    let credits: Value = get(&s, "/api/v1/credits").await.json().await.unwrap();
    assert_eq!(
        credits,
        json!({"data": {"total_credits": 0, "total_usage": 0}})
    );
    let paths: Vec<String> = s.journal().iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, ["/api/v1/key", "/api/v1/credits"]);
}

#[tokio::test]
async fn a_truncated_stream_is_cut_and_journaled_as_interrupted() {
    let s = server().await;
    s.add(
        serde_json::from_value(json!({"match": {"userMessage": "cut"},
            "response": {"content": "abcdefghijklmnopqrstuvwxyz"},
            "chunkSize": 2, "truncateAfterChunks": 3}))
        .unwrap(),
    )
    .unwrap();
    let r = post(&s, stream_chat("openai/gpt-4o", "cut")).await;
    assert!(r.text().await.is_err());
    // The server marks the stream interrupted once the cut is made: wait for it, boundedly.
    let e = support::interrupted(|| s.last_request().unwrap()).await;
    assert!(e.response.interrupted);
    assert_eq!(
        e.response.interrupt_reason.as_deref(),
        Some("truncateAfterChunks")
    );
}
