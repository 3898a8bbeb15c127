//! AWS Bedrock over a real socket: Converse and InvokeModel as JSON, ConverseStream and
//! InvokeModelWithResponseStream as AWS EventStream (decoded with `aws-smithy-eventstream`, which
//! checks both CRCs), golden files, AWS-shaped errors and percent-decoded model ids.

use std::time::Duration;

use aimock::MockServer;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support;
use crate::support::eventstream::{decode, Frame};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const MODEL_IN_PATH: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0";

const FIXTURES: &str = r#"{"fixtures": [
  {"match": {"userMessage": "hello"}, "response": {"content": "Hello from Bedrock!"}},
  {"match": {"toolCallId": "tooluse_weather1"}, "response": {"content": "It is 21C and sunny in Paris."}},
  {"match": {"userMessage": "weather"}, "response": {"toolCalls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "tooluse_weather1"}]}},
  {"match": {"userMessage": "mixed"}, "response": {"content": "Let me check.", "toolCalls": [
      {"name": "get_time", "arguments": {"tz": "CET"}}]}},
  {"match": {"userMessage": "think"}, "response": {"reasoning": "Six times seven.", "reasoningSignature": "sig-abc", "content": "42"}},
  {"match": {"userMessage": "limit"}, "response": {"error": {"message": "Too many requests, please wait before trying again.", "type": "rate_limit_error"}, "status": 429, "retryAfter": 2}},
  {"match": {"userMessage": "crash"}, "response": {"error": {"message": "Boom"}}},
  {"match": {"userMessage": "quota"}, "response": {"error": {"message": "Quota exceeded", "type": "ServiceQuotaExceededException"}, "status": 400}},
  {"match": {"userMessage": "cut"}, "response": {"content": "abcdefghijklmnopqrstuvwxyz"}, "chunkSize": 2, "truncateAfterChunks": 3},
  {"match": {"userMessage": "slow"}, "response": {"content": "one two three"}, "chunkSize": 4, "latency": 100},
  {"match": {"model": "anthropic.claude-3-haiku-20240307-v1:0", "userMessage": "which model"}, "response": {"content": "haiku"}},
  {"match": {"userMessage": "which model"}, "response": {"content": "another model"}},
  {"match": {"userMessage": "usage"}, "response": {"content": "x", "usage": {"inputTokens": 11, "outputTokens": 3}, "finishReason": "length"}},
  {"match": {"userMessage": "vector"}, "response": {"embedding": [0.5, 0.25]}}
]}"#;

async fn server() -> MockServer {
    support::fixture_server(FIXTURES, "bedrock.json").await
}

/// A POST as boto3 sends it: SigV4 headers that are accepted and never checked.
async fn post(s: &MockServer, path: &str, body: &Value) -> reqwest::Response {
    const SIGV4: &[(&str, &str)] = &[
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef",
        ),
        ("x-amz-date", "20261125T150000Z"),
        ("amz-sdk-request", "attempt=1; max=3"),
    ];
    support::post(s, path, body, SIGV4).await
}

fn converse_path(action: &str) -> String {
    format!("/model/{MODEL_IN_PATH}/{action}")
}

fn converse_body(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": text}]}],
           "inferenceConfig": {"maxTokens": 256}})
}

fn invoke_body(text: &str) -> Value {
    json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256,
           "messages": [{"role": "user", "content": text}]})
}

impl Frame {
    fn event_type(&self) -> &str {
        self.headers[":event-type"].as_str().unwrap()
    }

    fn snapshot(&self) -> Value {
        json!({"headers": self.headers, "payload": self.payload})
    }
}

async fn stream_frames(r: reqwest::Response) -> Vec<Frame> {
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    decode(r.bytes().await.unwrap())
}

/// The Anthropic events inside an invoke stream's `chunk` frames.
fn chunk_events(frames: &[Frame]) -> Vec<Value> {
    frames
        .iter()
        .map(|f| {
            assert_eq!(f.event_type(), "chunk");
            assert_eq!(f.headers[":message-type"], "event");
            let b64 = f.payload["bytes"].as_str().expect("bytes is a string");
            assert_eq!(f.payload.as_object().unwrap().len(), 1, "{}", f.payload);
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            serde_json::from_slice(&raw).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn converse_json_matches_the_golden_file() {
    let s = server().await;
    let r = post(&s, &converse_path("converse"), &converse_body("hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.headers().contains_key("x-amzn-requestid"));
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("converse_text_json", v);
}

#[tokio::test]
async fn converse_tool_use_json_has_the_input_as_an_object_and_stop_reason_tool_use() {
    let s = server().await;
    let mut body = converse_body("mixed");
    body["toolConfig"] = json!({"tools": [{"toolSpec": {"name": "get_time",
        "inputSchema": {"json": {"type": "object"}}}}]});
    let v: Value = post(&s, &converse_path("converse"), &body)
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("converse_tool_use_json", v, {
        ".output.message.content[1].toolUse.toolUseId" => "[id]"
    });
    let id = v["output"]["message"]["content"][1]["toolUse"]["toolUseId"]
        .as_str()
        .unwrap();
    assert!(id.starts_with("tooluse_"), "{id}");
    assert_eq!(v["stopReason"], "tool_use");
}

#[tokio::test]
async fn converse_reasoning_comes_first_with_its_signature() {
    let s = server().await;
    let v: Value = post(&s, &converse_path("converse"), &converse_body("think"))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("converse_reasoning_json", v);
}

#[tokio::test]
async fn converse_usage_and_finish_reason_overrides_are_served_in_bedrock_names() {
    let s = server().await;
    let v: Value = post(&s, &converse_path("converse"), &converse_body("usage"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["usage"],
        json!({"inputTokens": 11, "outputTokens": 3, "totalTokens": 14})
    );
    assert_eq!(v["stopReason"], "max_tokens");
}

#[tokio::test]
async fn converse_stream_frames_decode_with_valid_crcs_and_match_the_golden_file() {
    let s = server().await;
    let r = post(
        &s,
        &converse_path("converse-stream"),
        &converse_body("hello"),
    )
    .await;
    let frames = stream_frames(r).await;
    for f in &frames {
        assert_eq!(f.headers[":message-type"], "event");
        assert_eq!(f.headers[":content-type"], "application/json");
    }
    let snap: Vec<Value> = frames.iter().map(Frame::snapshot).collect();
    insta::assert_json_snapshot!("converse_stream_text_frames", snap);
    let types: Vec<&str> = frames.iter().map(Frame::event_type).collect();
    assert_eq!(types.first(), Some(&"messageStart"));
    assert_eq!(&types[types.len() - 2..], ["messageStop", "metadata"]);
    assert!(
        !types.contains(&"contentBlockStart"),
        "text blocks have no contentBlockStart: {types:?}"
    );
    let text: String = frames
        .iter()
        .filter_map(|f| f.payload["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello from Bedrock!");
}

#[tokio::test]
async fn converse_stream_opens_a_tool_use_block_with_its_id_and_name() {
    let s = server().await;
    let r = post(
        &s,
        &converse_path("converse-stream"),
        &converse_body("mixed"),
    )
    .await;
    let frames = stream_frames(r).await;
    let snap: Vec<Value> = frames.iter().map(Frame::snapshot).collect();
    insta::assert_json_snapshot!("converse_stream_tool_use_frames", snap, {
        "[].payload.start.toolUse.toolUseId" => "[id]"
    });
    let start = frames
        .iter()
        .find(|f| f.event_type() == "contentBlockStart")
        .unwrap();
    assert_eq!(start.payload["contentBlockIndex"], 1);
    assert_eq!(start.payload["start"]["toolUse"]["name"], "get_time");
    let input: String = frames
        .iter()
        .filter_map(|f| f.payload["delta"]["toolUse"]["input"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"tz": "CET"})
    );
    let stop = frames
        .iter()
        .find(|f| f.event_type() == "messageStop")
        .unwrap();
    assert_eq!(stop.payload["stopReason"], "tool_use");
}

#[tokio::test]
async fn converse_stream_reasoning_deltas_end_with_the_signature() {
    let s = server().await;
    let r = post(
        &s,
        &converse_path("converse-stream"),
        &converse_body("think"),
    )
    .await;
    let frames = stream_frames(r).await;
    let snap: Vec<Value> = frames.iter().map(Frame::snapshot).collect();
    insta::assert_json_snapshot!("converse_stream_reasoning_frames", snap);
}

#[tokio::test]
async fn a_model_that_does_not_reason_gets_no_reasoning_under_strict_mode() {
    let s = server().await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
            s.uri()
        ))
        .header("x-aimock-strict", "true")
        .json(&converse_body("think"))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["output"]["message"]["content"],
        json!([{"text": "42"}]),
        "{v}"
    );
}

#[tokio::test]
async fn the_model_id_is_percent_decoded_for_matching_and_the_journal() {
    let s = server().await;
    let haiku = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    let v: Value = post(&s, haiku, &converse_body("which model"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["output"]["message"]["content"][0]["text"], "haiku");
    match s.last_request().unwrap().body {
        aimock::journal::JournalBody::Chat(req) => {
            assert_eq!(req.model, "anthropic.claude-3-haiku-20240307-v1:0");
        }
        other => panic!("not a chat body: {other:?}"),
    }
    let v: Value = post(
        &s,
        &converse_path("converse"),
        &converse_body("which model"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        v["output"]["message"]["content"][0]["text"],
        "another model"
    );
}

#[tokio::test]
async fn a_tool_result_answers_the_tool_use_by_its_id() {
    let s = server().await;
    let mut body = converse_body("weather in Paris?");
    let first: Value = post(&s, &converse_path("converse"), &body)
        .await
        .json()
        .await
        .unwrap();
    let tool_use = &first["output"]["message"]["content"][0]["toolUse"];
    assert_eq!(tool_use["toolUseId"], "tooluse_weather1");
    assert_eq!(tool_use["input"], json!({"city": "Paris"}));
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(first["output"]["message"].clone());
    body["messages"].as_array_mut().unwrap().push(json!({
        "role": "user",
        "content": [{"toolResult": {"toolUseId": "tooluse_weather1",
                                    "content": [{"json": {"temp": 21, "sky": "sunny"}}]}}]
    }));
    let second: Value = post(&s, &converse_path("converse"), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        second["output"]["message"]["content"],
        json!([{"text": "It is 21C and sunny in Paris."}])
    );
    assert_eq!(second["stopReason"], "end_turn");
}

#[tokio::test]
async fn invoke_json_is_an_anthropic_message() {
    let s = server().await;
    let path = format!("/model/{MODEL_IN_PATH}/invoke");
    let r = post(&s, &path, &invoke_body("hello")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("invoke_text_json", v, {".id" => "[id]"});
    assert_eq!(v["model"], MODEL);
}

#[tokio::test]
async fn invoke_stream_wraps_each_anthropic_event_as_base64_bytes() {
    let s = server().await;
    let path = format!("/model/{MODEL_IN_PATH}/invoke-with-response-stream");
    let r = post(&s, &path, &invoke_body("hello")).await;
    assert_eq!(
        r.headers()["x-amzn-bedrock-content-type"],
        "application/json"
    );
    let frames = stream_frames(r).await;
    let events = chunk_events(&frames);
    insta::assert_json_snapshot!("invoke_stream_text_events", events, {
        "[0].message.id" => "[id]"
    });
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "message_start");
    assert!(!types.contains(&"ping"), "{types:?}");
    let stop = events.last().unwrap();
    assert_eq!(stop["type"], "message_stop");
    let metrics = &stop["amazon-bedrock-invocationMetrics"];
    assert!(metrics["inputTokenCount"].as_u64().unwrap() > 0);
    assert!(metrics["outputTokenCount"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn invoke_stream_carries_tool_use_and_thinking_events() {
    let s = server().await;
    let path = format!("/model/{MODEL_IN_PATH}/invoke-with-response-stream");
    let frames = stream_frames(post(&s, &path, &invoke_body("weather")).await).await;
    let events = chunk_events(&frames);
    insta::assert_json_snapshot!("invoke_stream_tool_use_events", events, {
        "[0].message.id" => "[id]"
    });
    let frames = stream_frames(post(&s, &path, &invoke_body("think")).await).await;
    let events = chunk_events(&frames);
    let sig = events
        .iter()
        .find(|e| e["delta"]["type"] == "signature_delta")
        .unwrap();
    assert_eq!(sig["delta"]["signature"], "sig-abc");
}

#[tokio::test]
async fn errors_carry_the_aws_error_type_header_and_a_message() {
    let s = server().await;
    let cases = [
        ("limit", 429, "ThrottlingException"),
        ("crash", 500, "InternalServerException"),
        ("quota", 400, "ServiceQuotaExceededException"),
        ("nothing matches this", 404, "ResourceNotFoundException"),
        ("vector", 500, "InternalServerException"),
    ];
    let mut snaps = Vec::new();
    for action in ["converse", "converse-stream"] {
        for (text, status, exception) in cases {
            let r = post(&s, &converse_path(action), &converse_body(text)).await;
            assert_eq!(r.status(), status, "{action} {text}");
            assert_eq!(r.headers()["x-amzn-errortype"], exception);
            assert_eq!(r.headers()["content-type"], "application/json");
            if status == 429 {
                assert_eq!(r.headers()["retry-after"], "2");
            }
            let v: Value = r.json().await.unwrap();
            assert!(v["message"].is_string(), "{v}");
            assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
            if action == "converse" && text != "nothing matches this" && text != "vector" {
                snaps.push(json!({"status": status, "type": exception, "body": v}));
            }
        }
    }
    insta::assert_json_snapshot!("converse_errors", snaps);
    let r = post(
        &s,
        &format!("/model/{MODEL_IN_PATH}/invoke"),
        &invoke_body("limit"),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-amzn-errortype"], "ThrottlingException");
}

#[tokio::test]
async fn bad_request_bodies_are_validation_exceptions() {
    let s = server().await;
    let converse = converse_path("converse");
    let invoke = format!("/model/{MODEL_IN_PATH}/invoke");
    let cases = [
        (&converse, json!({})),
        (
            &converse,
            json!({"messages": [{"role": "robot", "content": [{"text": "x"}]}]}),
        ),
        (&converse, json!({"messages": "hello"})),
        (
            &invoke,
            json!({"anthropic_version": "bedrock-2023-05-31", "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (&invoke, json!({"max_tokens": 10})),
    ];
    for (path, body) in cases {
        let r = post(&s, path, &body).await;
        assert_eq!(r.status(), 400, "{path} {body}");
        assert_eq!(r.headers()["x-amzn-errortype"], "ValidationException");
        let v: Value = r.json().await.unwrap();
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
    let r = reqwest::Client::new()
        .post(format!("{}{converse}", s.uri()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-amzn-errortype"], "ValidationException");
}

#[tokio::test]
async fn truncate_after_chunks_cuts_the_event_stream_after_whole_frames() {
    let s = server().await;
    let r = post(&s, &converse_path("converse-stream"), &converse_body("cut")).await;
    assert_eq!(r.status(), 200);
    let body = support::read_body(r.bytes_stream(), Instant::now()).await;
    let (got, failed) = (body.bytes(), body.error.is_some());
    assert!(failed, "the stream ended cleanly");
    let frames = decode(Bytes::from(got));
    let types: Vec<&str> = frames.iter().map(Frame::event_type).collect();
    assert_eq!(
        types,
        ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    );
    let entry = s.last_request().unwrap();
    assert!(entry.response.interrupted);
    assert_eq!(
        entry.response.interrupt_reason.as_deref(),
        Some("truncateAfterChunks")
    );
}

#[tokio::test]
async fn frames_are_paced_by_the_fixture_latency() {
    let s = server().await;
    let started = Instant::now();
    let r = post(
        &s,
        &converse_path("converse-stream"),
        &converse_body("slow"),
    )
    .await;
    let body = support::read_body(r.bytes_stream(), started).await;
    assert_eq!(body.error, None);
    let reads = body.reads.len();
    // messageStart, 4 text deltas, stop, messageStop: 7 frames, 100 ms apart.
    assert!(
        reads >= 5,
        "{reads} reads: frames were not sent as they came due"
    );
    assert!(started.elapsed() >= Duration::from_millis(650));
    assert_eq!(s.last_request().unwrap().response.delivered, Some(true));
}
