//! Embeddings, the model list and chat error envelopes over a real socket: golden files for the
//! deterministic replies, OpenAI's 400 envelope for every bad input, and the body-size limit for a
//! chunked body.

use aimock::server::ServerConfig;
use aimock::{MatchSpec, MockServer, ResponseSpec};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::support::{self, chat};

async fn post(s: &MockServer, path: &str, body: &Value) -> (u16, Value) {
    support::status_json(support::post(s, path, body, &[]).await).await
}

async fn embed(s: &MockServer, body: Value) -> (u16, Value) {
    post(s, "/v1/embeddings", &body).await
}

/// The error object, checked to be exactly OpenAI's envelope.
fn envelope(v: &Value) -> &Value {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    assert_eq!(obj.len(), 1, "more than `error` at the top: {v}");
    let e = &v["error"];
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["code", "message", "param", "type"], "{v}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    e
}

async fn vector_server() -> MockServer {
    let s = MockServer::start().await;
    s.mock(
        MatchSpec::input_text("vector me"),
        ResponseSpec::embedding(vec![0.5, -0.25, 1.0]),
    )
    .unwrap();
    s
}

#[tokio::test]
async fn a_fixture_vector_reply_matches_the_golden_file() {
    let s = vector_server().await;
    let (status, v) = embed(
        &s,
        json!({"model": "text-embedding-3-small", "input": "please vector me"}),
    )
    .await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("embeddings_fixture_vector", v);
    assert_eq!(v["data"][0]["embedding"], json!([0.5, -0.25, 1.0]));
}

#[tokio::test]
async fn the_fallback_with_four_dimensions_matches_the_golden_file_and_is_stable() {
    let s = vector_server().await;
    let body = json!({"model": "text-embedding-3-small", "input": "hello world", "dimensions": 4});
    let (status, v) = embed(&s, body.clone()).await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("embeddings_fallback_dimensions_4", v);
    let again = embed(&s, body).await.1;
    assert_eq!(v, again);
    // The same values as the library's fallback.
    let want = aimock::fallback_embedding("hello world", 4);
    let got: Vec<f64> = v["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(got.len(), 4);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[tokio::test]
async fn bad_embedding_requests_get_a_400_in_openais_envelope_naming_the_field() {
    let s = vector_server().await;
    let cases = [
        ("missing input", json!({"model": "m"}), "input"),
        (
            "input is a number",
            json!({"model": "m", "input": 5}),
            "input",
        ),
        (
            "input is an empty list",
            json!({"model": "m", "input": []}),
            "input",
        ),
        (
            "input mixes kinds",
            json!({"model": "m", "input": ["a", {"x": 1}]}),
            "input",
        ),
        (
            "dimensions 0",
            json!({"model": "m", "input": "a", "dimensions": 0}),
            "dimensions",
        ),
        (
            "encoding_format hex",
            json!({"model": "m", "input": "a", "encoding_format": "hex"}),
            "encoding_format",
        ),
    ];
    let mut golden = serde_json::Map::new();
    for (name, body, param) in cases {
        let (status, v) = embed(&s, body).await;
        assert_eq!(status, 400, "{name}: {v}");
        let e = envelope(&v);
        assert_eq!(e["type"], "invalid_request_error", "{name}: {v}");
        assert_eq!(e["param"], param, "{name}: {v}");
        golden.insert(name.to_owned(), v);
    }
    insta::assert_json_snapshot!("embeddings_invalid_requests", Value::Object(golden));
    // None of them reached the journal as a success.
    assert!(s.journal().iter().all(|e| e.response.status == 400));
}

#[tokio::test]
async fn more_than_2048_inputs_is_a_400_naming_input_and_2048_is_accepted() {
    let s = MockServer::start().await;
    let inputs = |n: usize| -> Vec<String> { (0..n).map(|i| format!("t{i}")).collect() };
    let (status, v) = embed(
        &s,
        json!({"model": "m", "input": inputs(2049), "dimensions": 1}),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    let e = envelope(&v);
    assert_eq!(e["type"], "invalid_request_error");
    assert_eq!(e["param"], "input");

    let (status, v) = embed(
        &s,
        json!({"model": "m", "input": inputs(2048), "dimensions": 1}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2048);
    assert_eq!(data[2047]["index"], 2047);
}

#[tokio::test]
async fn token_array_input_is_accepted() {
    let s = MockServer::start().await;
    let (status, v) = embed(
        &s,
        json!({"model": "m", "input": [[1, 2, 3]], "dimensions": 4}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["embedding"].as_array().unwrap().len(), 4);

    let (status, v) = embed(
        &s,
        json!({"model": "m", "input": [[1, 2, 3], [4, 5]], "dimensions": 4}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_ne!(v["data"][0]["embedding"], v["data"][1]["embedding"]);

    // A flat token list is one input.
    let (status, v) = embed(
        &s,
        json!({"model": "m", "input": [1, 2, 3], "dimensions": 4}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
}

fn chunked(parts: Vec<String>) -> reqwest::Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        parts.into_iter().map(|p| Ok(Bytes::from(p))).collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_a_413_and_one_under_it_is_served() {
    let s = MockServer::builder()
        .config(ServerConfig {
            max_body_bytes: 1024,
            ..Default::default()
        })
        .start()
        .await;
    let url = format!("{}/v1/embeddings", s.uri());
    let client = reqwest::Client::new();

    let big = vec![
        r#"{"model": "m", "input": ""#.to_owned(),
        "x".repeat(800),
        "y".repeat(800),
        r#""}"#.to_owned(),
    ];
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .body(chunked(big))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    let e = envelope(&v);
    assert_eq!(e["type"], "invalid_request_error");

    let small = vec![
        r#"{"model": "m", "input": ""#.to_owned(),
        "x".repeat(100),
        r#"", "dimensions": 2}"#.to_owned(),
    ];
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .body(chunked(small))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_model_list_names_the_models_of_the_fixtures() {
    let s = MockServer::start().await;
    s.mock(
        MatchSpec::user_message("hi").model("my-custom-model"),
        ResponseSpec::text("x"),
    )
    .unwrap();
    let r = reqwest::get(format!("{}/v1/models", s.uri()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("models_with_a_fixture_model", v);
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"my-custom-model"), "{ids:?}");
}

async fn chat_server() -> MockServer {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("hello"), ResponseSpec::text("Hi!"))
        .unwrap();
    let mut limit = ResponseSpec::error(429, "Rate limit reached for requests");
    if let Some(e) = limit.error.as_mut() {
        e.kind = Some("rate_limit_error".into());
        e.code = Some(json!("rate_limit_exceeded"));
    }
    limit.retry_after = Some(2.0);
    s.mock(MatchSpec::user_message("busy"), limit).unwrap();
    s
}

#[tokio::test]
async fn a_chat_miss_is_a_404_envelope_matching_the_golden_file() {
    let s = chat_server().await;
    let (status, v) = post(&s, "/v1/chat/completions", &chat("hellp")).await;
    assert_eq!(status, 404);
    let e = envelope(&v);
    assert_eq!(e["code"], "no_fixture_match");
    insta::assert_json_snapshot!("chat_miss_404", v);
}

#[tokio::test]
async fn a_chat_rate_limit_fixture_is_a_429_envelope_matching_the_golden_file() {
    let s = chat_server().await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .json(&chat("busy"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["retry-after-ms"], "2000");
    let v: Value = r.json().await.unwrap();
    envelope(&v);
    insta::assert_json_snapshot!("chat_rate_limit_429", v);
}

#[tokio::test]
async fn a_chat_request_without_messages_is_a_400_envelope_matching_the_golden_file() {
    let s = chat_server().await;
    let (status, v) = post(&s, "/v1/chat/completions", &json!({"model": "gpt-4o"})).await;
    assert_eq!(status, 400);
    let e = envelope(&v);
    assert_eq!(e["param"], "messages");
    insta::assert_json_snapshot!("chat_missing_messages_400", v);
}
