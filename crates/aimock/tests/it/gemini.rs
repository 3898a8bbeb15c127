//! Google Gemini and Vertex AI (Gemini models) over a real socket: generateContent JSON, the SSE
//! and JSON-array streams, function-call ids across turns, thought parts, embeddings, countTokens,
//! Google's error envelope and the Vertex paths (golden files).

use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello from Gemini!"}},
  {"match": {"toolCallId": "call_fixed1"}, "response": {"content": "It is sunny in Paris."}},
  {"match": {"toolCallId": "call_gemini_lookup_0"}, "response": {"content": "Order A-17 has shipped."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_fixed1"},
      {"name": "get_time", "arguments": "{\"tz\":\"CET\"}", "id": "call_fixed2"}]}},
  {"match": {"userMessage": "order"}, "response": {"toolCalls": [{"name": "lookup", "arguments": {"id": "A-17"}}]}},
  {"match": {"userMessage": "mixed"}, "response": {"blocks": [
      {"type": "toolCall", "name": "first", "arguments": "{}", "id": "call_a"},
      {"type": "text", "text": "between"},
      {"type": "toolCall", "name": "second", "arguments": {"x": 1}, "id": "call_b"}]}},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Six times seven.", "content": "42"}, "chunkSize": 8},
  {"match": {"userMessage": "slow"}, "response": {"content": "one two three four five"}, "chunkSize": 4, "latency": 120},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijklmnopqrstuvwxyz"}, "chunkSize": 2, "truncateAfterChunks": 3},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Quota exceeded", "type": "rate_limit_error"}, "status": 429, "retryAfter": 2}},
  {"match": {"userMessage": "crash"}, "response": {"error": {"message": "Boom"}}},
  {"match": {"userMessage": "override"}, "response": {"content": "x", "id": "resp-fixed", "model": "gemini-fixed-001", "finishReason": "content_filter", "usage": {"promptTokenCount": 7, "candidatesTokenCount": 3}}},
  {"match": {"userMessage": "json please", "responseFormat": "json_object"}, "response": {"content": "{\"a\":1}"}},
  {"match": {"inputText": "vector me"}, "response": {"embedding": [0.5, -0.25, 1.0]}}
]}"#;

const MODEL_PATH: &str = "/v1beta/models/gemini-2.5-flash";

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "gemini.json").await
}

async fn post(s: &MockServer, path: &str, body: Value) -> reqwest::Response {
    support::post(s, path, &body, &[("x-goog-api-key", "test-key")]).await
}

fn user(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

/// The last journaled request, as the journal shows it.
fn last_body(s: &MockServer) -> Value {
    match s.last_request().unwrap().body {
        aimock::journal::JournalBody::Chat(r) => serde_json::to_value(&*r).unwrap(),
        other => panic!("not a parsed request: {other:?}"),
    }
}

#[tokio::test]
async fn generate_content_json_matches_the_golden_file() {
    let s = server().await;
    let r = post(&s, &format!("{MODEL_PATH}:generateContent"), user("hello")).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("gemini_text_json", v, {".responseId" => "[id]"});
    let last = s.last_request().unwrap();
    assert_eq!(last.path, format!("{MODEL_PATH}:generateContent"));
}

#[tokio::test]
async fn every_api_version_reaches_the_handler() {
    let s = server().await;
    for version in ["v1", "v1beta", "v1beta1", "v1alpha"] {
        let r = post(
            &s,
            &format!("/{version}/models/gemini-2.5-flash:generateContent?key=abc"),
            user("hello"),
        )
        .await;
        assert_eq!(r.status(), 200, "{version}");
    }
}

#[tokio::test]
async fn function_calls_carry_ids_and_object_args_and_finish_stop() {
    let s = server().await;
    let v: Value = post(
        &s,
        &format!("{MODEL_PATH}:generateContent"),
        user("weather"),
    )
    .await
    .json()
    .await
    .unwrap();
    insta::assert_json_snapshot!("gemini_tool_calls_json", v, {".responseId" => "[id]"});
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        v["candidates"][0]["content"]["parts"][1]["functionCall"]["args"],
        json!({"tz": "CET"})
    );
}

#[tokio::test]
async fn a_function_response_continues_the_loop_by_the_id_sent_back() {
    let s = server().await;
    let first: Value = post(
        &s,
        &format!("{MODEL_PATH}:generateContent"),
        user("weather"),
    )
    .await
    .json()
    .await
    .unwrap();
    let model_turn = first["candidates"][0]["content"].clone();
    let second = json!({"contents": [
        {"role": "user", "parts": [{"text": "weather"}]},
        model_turn,
        {"role": "user", "parts": [
            {"functionResponse": {"id": "call_fixed2", "name": "get_time", "response": {"t": "noon"}}},
            {"functionResponse": {"id": "call_fixed1", "name": "get_weather", "response": {"sky": "clear"}}}]}
    ]});
    let v: Value = post(&s, &format!("{MODEL_PATH}:generateContent"), second)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "It is sunny in Paris."
    );
}

#[tokio::test]
async fn calls_without_fixture_ids_get_stable_ids_that_match_across_turns() {
    let s = server().await;
    let first: Value = post(&s, &format!("{MODEL_PATH}:generateContent"), user("order"))
        .await
        .json()
        .await
        .unwrap();
    let call = &first["candidates"][0]["content"]["parts"][0]["functionCall"];
    assert_eq!(call["id"], "call_gemini_lookup_0");
    // A client that drops the ids on both sides still reaches the same toolCallId.
    let second = json!({"contents": [
        {"role": "user", "parts": [{"text": "order"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"id": "A-17"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {"status": "shipped"}}}]}
    ]});
    let v: Value = post(&s, &format!("{MODEL_PATH}:generateContent"), second)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "Order A-17 has shipped."
    );
}

#[tokio::test]
async fn the_sse_stream_matches_the_golden_file() {
    let s = server().await;
    let r = post(
        &s,
        &format!("{MODEL_PATH}:streamGenerateContent?alt=sse"),
        user("hello"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let chunks = support::sse::json_crlf(&r.text().await.unwrap());
    insta::assert_json_snapshot!("gemini_text_sse", chunks, {"[].responseId" => "[id]"});
    let text: String = chunks
        .iter()
        .map(|c| {
            c["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(text, "Hello from Gemini!");
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last["usageMetadata"]["totalTokenCount"].as_u64().unwrap() > 0);
    assert_eq!(s.last_request().unwrap().response.delivered, Some(true));
}

#[tokio::test]
async fn without_alt_sse_the_stream_is_a_json_array_sent_element_by_element() {
    let s = server().await;
    let r = post(
        &s,
        &format!("{MODEL_PATH}:streamGenerateContent"),
        user("mixed"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body = r.text().await.unwrap();
    assert!(body.starts_with("[{") && body.ends_with("}]"), "{body}");
    assert!(body.contains("},\r\n{"), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    insta::assert_json_snapshot!("gemini_json_array_stream", v, {"[].responseId" => "[id]"});
    assert_eq!(v.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn streamed_function_calls_come_in_fixture_block_order() {
    let s = server().await;
    let body = post(
        &s,
        &format!("{MODEL_PATH}:streamGenerateContent?alt=sse"),
        user("mixed"),
    )
    .await
    .text()
    .await
    .unwrap();
    let chunks = support::sse::json_crlf(&body);
    insta::assert_json_snapshot!("gemini_blocks_sse", chunks, {"[].responseId" => "[id]"});
    let parts: Vec<&Value> = chunks
        .iter()
        .flat_map(|c| c["candidates"][0]["content"]["parts"].as_array().unwrap())
        .collect();
    assert_eq!(parts[0]["functionCall"]["name"], "first");
    assert!(chunks[0].get("usageMetadata").is_none());
    assert!(chunks[0]["candidates"][0].get("finishReason").is_none());
    assert_eq!(parts[1]["text"], "between");
    assert_eq!(parts[2]["functionCall"]["args"], json!({"x": 1}));
    let weather = support::sse::json_crlf(
        &post(
            &s,
            &format!("{MODEL_PATH}:streamGenerateContent?alt=sse"),
            user("weather"),
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    assert_eq!(weather.len(), 1, "both calls in one chunk");
    assert_eq!(
        weather[0]["candidates"][0]["content"]["parts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(weather[0]["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn thought_parts_lead_the_reply_of_a_reasoning_model() {
    let s = server().await;
    let mut req = user("think");
    req["generationConfig"] = json!({"thinkingConfig": {"includeThoughts": true}});
    let v: Value = post(&s, &format!("{MODEL_PATH}:generateContent"), req.clone())
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("gemini_thinking_json", v, {".responseId" => "[id]"});
    let body = post(
        &s,
        &format!("{MODEL_PATH}:streamGenerateContent?alt=sse"),
        req.clone(),
    )
    .await
    .text()
    .await
    .unwrap();
    let chunks = support::sse::json_crlf(&body);
    insta::assert_json_snapshot!("gemini_thinking_sse", chunks, {"[].responseId" => "[id]"});

    // A model that does not reason shows no thoughts under strict mode.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-1.5-pro:generateContent",
            s.uri()
        ))
        .header("x-aimock-strict", "true")
        .json(&req)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["candidates"][0]["content"]["parts"],
        json!([{"text": "42"}])
    );
    assert!(v["usageMetadata"].get("thoughtsTokenCount").is_none());

    // A zero thinking budget turns thinking off.
    let mut off = user("think");
    off["generationConfig"] = json!({"thinkingConfig": {"thinkingBudget": 0}});
    let v: Value = post(&s, &format!("{MODEL_PATH}:generateContent"), off)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["candidates"][0]["content"]["parts"],
        json!([{"text": "42"}])
    );
}

#[tokio::test]
async fn override_fields_set_the_id_model_finish_reason_and_usage() {
    let s = server().await;
    let v: Value = post(
        &s,
        &format!("{MODEL_PATH}:generateContent"),
        user("override"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["responseId"], "resp-fixed");
    assert_eq!(v["modelVersion"], "gemini-fixed-001");
    assert_eq!(v["candidates"][0]["finishReason"], "SAFETY");
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 7);
    assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 3);
    assert_eq!(v["usageMetadata"]["totalTokenCount"], 10);
}

#[tokio::test]
async fn json_mode_and_system_instruction_reach_the_matcher() {
    let s = server().await;
    let mut req = user("json please");
    req["generationConfig"] = json!({"responseMimeType": "application/json"});
    req["systemInstruction"] = json!({"parts": [{"text": "Answer in JSON."}]});
    let v: Value = post(&s, &format!("{MODEL_PATH}:generateContent"), req)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "{\"a\":1}"
    );
    let body = last_body(&s);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["response_format"]["type"], "json_object");
}

#[tokio::test]
async fn a_truncated_stream_stops_after_n_chunks_and_is_journaled() {
    let s = server().await;
    let r = post(
        &s,
        &format!("{MODEL_PATH}:streamGenerateContent?alt=sse"),
        user("cut"),
    )
    .await;
    let body = support::read_body(r.bytes_stream(), tokio::time::Instant::now()).await;
    let (got, failed) = (body.bytes(), body.error.is_some());
    assert!(failed, "the body must end in an error");
    let text = String::from_utf8(got).unwrap();
    assert_eq!(text.matches("data: ").count(), 3);
    let entry = s.last_request().unwrap();
    assert!(entry.response.interrupted);
    assert_eq!(
        entry.response.interrupt_reason.as_deref(),
        Some("truncateAfterChunks")
    );
}

#[tokio::test]
async fn errors_use_googles_envelope() {
    let s = server().await;
    let url = format!("{MODEL_PATH}:generateContent");
    let r = post(&s, &url, user("limit")).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let limit: Value = r.json().await.unwrap();

    let r = post(&s, &url, user("crash")).await;
    assert_eq!(r.status(), 500);
    let crash: Value = r.json().await.unwrap();

    let r = post(&s, &url, user("no such fixture")).await;
    assert_eq!(r.status(), 404);
    let miss: Value = r.json().await.unwrap();
    assert!(miss["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("No fixture matched"));

    let r = reqwest::Client::new()
        .post(format!("{}{url}", s.uri()))
        .header("x-aimock-strict", "true")
        .json(&user("no such fixture"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let strict: Value = r.json().await.unwrap();
    assert_eq!(strict["error"]["status"], "UNAVAILABLE");

    let r = reqwest::Client::new()
        .post(format!("{}{url}", s.uri()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let malformed: Value = r.json().await.unwrap();

    let r = post(&s, &url, json!({"contents": []})).await;
    assert_eq!(r.status(), 400);
    let no_contents: Value = r.json().await.unwrap();

    let r = post(
        &s,
        &url,
        json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let bad_role: Value = r.json().await.unwrap();

    let r = post(&s, &url, json!({"contents": [{"parts": "x"}]})).await;
    assert_eq!(r.status(), 400);
    let bad_parts: Value = r.json().await.unwrap();

    insta::assert_json_snapshot!(
        "gemini_errors",
        json!({
            "rate_limit_429": limit,
            "fixture_500": crash,
            "strict_503": strict,
            "malformed_400": malformed,
            "no_contents_400": no_contents,
            "bad_role_400": bad_role,
            "bad_parts_400": bad_parts,
        }),
        {".malformed_400.error.message" => "[message]"}
    );
    assert_eq!(miss["error"]["code"], 404);
    assert_eq!(miss["error"]["status"], "NOT_FOUND");
}

#[tokio::test]
async fn embed_content_and_batch_embed_contents_match_the_golden_file() {
    let s = server().await;
    let fixture: Value = post(
        &s,
        "/v1/models/gemini-embedding-001:embedContent",
        json!({"content": {"parts": [{"text": "vector me"}]}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let fallback: Value = post(
        &s,
        "/v1/models/gemini-embedding-001:embedContent",
        json!({"content": {"parts": [{"text": "anything"}]}, "outputDimensionality": 4}),
    )
    .await
    .json()
    .await
    .unwrap();
    let batch: Value = post(
        &s,
        "/v1/models/gemini-embedding-001:batchEmbedContents",
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "one"}]}, "outputDimensionality": 3},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "two"}]}, "outputDimensionality": 2}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    insta::assert_json_snapshot!(
        "gemini_embeddings",
        json!({"fixture": fixture, "fallback_4": fallback, "batch": batch})
    );
    let full: Value = post(
        &s,
        "/v1/models/gemini-embedding-001:embedContent",
        json!({"content": {"parts": [{"text": "anything"}]}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let values = full["embedding"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 768);
    assert_eq!(
        values[..4],
        fallback["embedding"]["values"].as_array().unwrap()[..]
    );
    let body = last_body(&s);
    assert_eq!(body["_endpointType"], "embedding");

    let r = post(
        &s,
        "/v1/models/gemini-embedding-001:batchEmbedContents",
        json!({"requests": []}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post(
        &s,
        "/v1/models/gemini-embedding-001:embedContent",
        json!({"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 0}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn count_tokens_estimates_contents_and_generate_content_requests() {
    let s = server().await;
    let v: Value = post(
        &s,
        &format!("{MODEL_PATH}:countTokens"),
        user("sixteen chars!!!"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        v,
        json!({"totalTokens": 4, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]})
    );
    let v: Value = post(
        &s,
        &format!("{MODEL_PATH}:countTokens"),
        json!({"generateContentRequest": {"model": "models/gemini-2.5-flash",
            "systemInstruction": {"parts": [{"text": "1234"}]},
            "contents": [{"role": "user", "parts": [{"text": "12345678"}]}]}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["totalTokens"], 3);
}

#[tokio::test]
async fn vertex_paths_serve_gemini_models_with_a_create_time() {
    let s = server().await;
    let project_path = "/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent";
    let v: Value = post(&s, project_path, user("hello"))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("gemini_vertex_json", v, {".responseId" => "[id]", ".createTime" => "[time]"});
    let created = v["createTime"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 27, "{created}");

    let express =
        "/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
    let chunks =
        support::sse::json_crlf(&post(&s, express, user("hello")).await.text().await.unwrap());
    assert_eq!(
        chunks.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
    assert!(chunks[0]["createTime"].is_string());

    let r = post(
        &s,
        "/v1/publishers/google/models/text-embedding-005:embedContent",
        json!({"content": {"parts": [{"text": "vector me"}]}}),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Model ids are percent-decoded.
    let r = post(
        &s,
        "/v1beta1/publishers/google/models/gemini%2D2.5%2Dflash:generateContent",
        user("hello"),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["modelVersion"], "gemini-2.5-flash");

    // Other publishers are not served here.
    let r = post(
        &s,
        "/v1/projects/p/locations/l/publishers/meta/models/llama:generateContent",
        user("hello"),
    )
    .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn both_stream_forms_send_each_element_when_it_is_due() {
    let s = server().await;
    for path in [
        format!("{MODEL_PATH}:streamGenerateContent?alt=sse"),
        format!("{MODEL_PATH}:streamGenerateContent"),
    ] {
        let started = std::time::Instant::now();
        let mut r = post(&s, &path, user("slow")).await;
        let first = r.chunk().await.unwrap().expect("a first chunk");
        assert!(
            String::from_utf8_lossy(&first).contains("\"one \""),
            "{path}"
        );
        assert_eq!(
            s.last_request().unwrap().response.delivered,
            None,
            "{path}: the stream ended before its first element was read"
        );
        let mut writes = 1;
        while r.chunk().await.unwrap().is_some() {
            writes += 1;
        }
        // 6 slices, 120 ms apart.
        assert!(writes >= 4, "{path}: {writes} writes");
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(600),
            "{path}"
        );
        assert_eq!(s.last_request().unwrap().response.delivered, Some(true));
    }
}

#[tokio::test]
async fn vertex_embeddings_take_embed_content_config_and_predict_instances() {
    let s = server().await;
    let v: Value = post(
        &s,
        "/v1beta1/publishers/google/models/gemini-embedding-001:embedContent",
        json!({"content": {"parts": [{"text": "anything"}]}, "embedContentConfig": {"outputDimensionality": 4}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["embedding"]["values"].as_array().unwrap().len(), 4);

    let r = post(
        &s,
        "/v1beta1/projects/p/locations/us-central1/publishers/google/models/text-embedding-005:predict",
        json!({"instances": [{"content": "vector me"}, {"content": "anything"}],
               "parameters": {"outputDimensionality": 4}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("gemini_vertex_predict_embeddings", v);

    // `predict` is a Vertex action only; on an Imagen model it is an image request, which no
    // fixture of this server answers (a miss, not an embedding).
    let r = post(
        &s,
        "/v1beta/models/text-embedding-005:predict",
        json!({"instances": [{"content": "x"}]}),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = post(
        &s,
        "/v1/publishers/google/models/imagen-3.0:predict",
        json!({"instances": [{"prompt": "a cat"}]}),
    )
    .await;
    assert_eq!(r.status(), 404);
    let miss: Value = r.json().await.unwrap();
    assert!(miss.to_string().contains("an image request"), "{miss}");
}

/// The Interactions API in record mode: a miss goes to the upstream (another of our servers),
/// the interaction (plain, streamed, a tool call) is saved as a fixture, and a fresh server with
/// only the recordings answers the same.
#[tokio::test]
async fn interactions_are_recorded_and_replayed() {
    let up = support::fixture_server(
        r#"{"fixtures": [
          {"match": {"userMessage": "hello"}, "response": {"content": "Hello from upstream!", "reasoning": "Say hi."}},
          {"match": {"userMessage": "stream me"}, "response": {"content": "one two three four"}, "chunkSize": 4},
          {"match": {"userMessage": "weather"}, "response": {"toolCalls": [{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_up1"}]}}
        ]}"#,
        "upstream.json",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let rec = support::recorder(&up, dir.path()).await;
    let create = |s: &MockServer, body: Value| {
        let url = format!("{}/v1beta/interactions", s.uri());
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-goog-api-key", "k")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let plain = json!({"model": "gemini-2.5-flash", "input": "hello"});
    let streamed = json!({"model": "gemini-2.5-flash", "input": "stream me", "stream": true});
    let tool = json!({"model": "gemini-2.5-flash", "input": "weather", "tools": [{"type": "function", "name": "get_weather"}]});
    let first: Value = create(&rec, plain.clone()).await.json().await.unwrap();
    assert_eq!(
        first["steps"][1]["content"][0]["text"],
        "Hello from upstream!"
    );
    let body = create(&rec, streamed.clone()).await.text().await.unwrap();
    assert!(body.contains("event: step.delta"), "{body}");
    let called: Value = create(&rec, tool.clone()).await.json().await.unwrap();
    assert_eq!(called["status"], "requires_action");
    assert_eq!(up.journal().len(), 3);
    support::eventually(async || {
        let n = aimock::fixture::load_paths(&[dir.path()]).fixtures.len();
        if n == 3 {
            Ok(())
        } else {
            Err(format!("{n} of 3 recorded"))
        }
    })
    .await;
    drop(rec);
    drop(up);

    let (replay, n) = support::file_server(dir.path()).await;
    assert_eq!(n, 3);
    let again: Value = create(&replay, plain).await.json().await.unwrap();
    assert_eq!(again["status"], "completed");
    assert_eq!(again["steps"][0]["type"], "thought");
    assert_eq!(again["steps"][0]["summary"][0]["text"], "Say hi.");
    assert_eq!(
        again["steps"][1]["content"][0]["text"],
        "Hello from upstream!"
    );
    let body = create(&replay, streamed).await.text().await.unwrap();
    let text: String = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|v| v["event_type"] == "step.delta")
        .filter_map(|v| v["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "one two three four");
    let called: Value = create(&replay, tool).await.json().await.unwrap();
    assert_eq!(called["steps"][0]["id"], "call_up1");
    assert_eq!(called["steps"][0]["arguments"], json!({"city": "Paris"}));
}
