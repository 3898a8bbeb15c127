//! `POST /v1/responses`: JSON and typed SSE, through the router and through async-openai.

use std::sync::Arc;

use aimock::journal::JournalBody;
use aimock::server::{AppState, ServerConfig};
use http::StatusCode;
use serde_json::{json, Value};

use crate::support::{self, router, types};

const FIXTURES: &str = r#"{"fixtures": [
  { "match": { "userMessage": "[text]" }, "response": { "content": "Hello from the Responses API." } },
  { "match": { "userMessage": "[stream]" }, "chunkSize": 8,
    "response": { "content": "Streams arrive in pieces." } },
  { "match": { "userMessage": "[sys]", "systemMessage": "Answer in French" },
    "response": { "content": "Bonjour !" } },
  { "match": { "toolCallId": "call_oslo_1" }, "response": { "content": "It is 3 degrees in Oslo." } },
  { "match": { "userMessage": "[tool]" },
    "response": { "toolCalls": [{ "id": "call_oslo_1", "name": "get_weather", "arguments": { "city": "Oslo" } }] } },
  { "match": { "userMessage": "[tool-first]" },
    "response": { "blocks": [
      { "type": "toolCall", "id": "call_first", "name": "lookup", "arguments": "{\"q\":1}" },
      { "type": "text", "text": "Looked it up." }
    ] } },
  { "match": { "userMessage": "[think]" }, "chunkSize": 10,
    "response": { "content": "42.", "reasoning": "Add six and seven, then..." } },
  { "match": { "userMessage": "[search]" },
    "response": { "content": "Found it.", "webSearches": ["rust sse"] } },
  { "match": { "userMessage": "[long]" },
    "response": { "content": "Cut sho", "finishReason": "length" } },
  { "match": { "userMessage": "[override]" },
    "response": { "content": "Fixed.", "id": "resp_fixed", "created": 1700000000, "model": "gpt-4.1-fixed",
                  "usage": { "input_tokens": 11, "output_tokens": 7 } } },
  { "match": { "userMessage": "[cut]" }, "chunkSize": 2, "truncateAfterChunks": 4,
    "response": { "content": "This stream is cut short." } },
  { "match": { "userMessage": "[json]", "responseFormat": "json_schema" },
    "response": { "content": "{\"ok\":true}" } }
]}"#;

/// The server's state, without a socket: these tests call the router in-process.
fn state() -> Arc<AppState> {
    router::app(ServerConfig::default(), Some((FIXTURES, "t.json")))
}

async fn post_raw(state: &Arc<AppState>, body: String) -> (StatusCode, String, Vec<u8>) {
    router::collect(router::post_raw(state, "/v1/responses", body, &[]).await).await
}

async fn post(state: &Arc<AppState>, body: Value) -> (StatusCode, Value) {
    let (status, ctype, bytes) = post_raw(state, body.to_string()).await;
    assert_eq!(ctype, "application/json");
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// The events of an SSE body: the `event:` name must equal the data's `type`.
fn events(body: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(body).unwrap();
    assert!(!text.contains("[DONE]"));
    support::sse::typed(text)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

async fn stream(state: &Arc<AppState>, mut body: Value) -> Vec<Value> {
    body["stream"] = json!(true);
    let (status, ctype, bytes) = post_raw(state, body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "text/event-stream");
    events(&bytes)
}

/// What every Responses stream must satisfy for the SDKs' stream helpers.
fn assert_well_formed(events: &[Value]) {
    assert_eq!(events[0]["type"], "response.created");
    assert_eq!(events[1]["type"], "response.in_progress");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], i, "event {i}");
    }
    let id = &events[0]["response"]["id"];
    let last = events.last().unwrap();
    assert_eq!(&last["response"]["id"], id);
    let mut added: Vec<&Value> = Vec::new();
    for e in events {
        match e["type"].as_str().unwrap() {
            "response.output_item.added" => {
                assert_eq!(e["output_index"], added.len());
                added.push(&e["item"]);
            }
            "response.output_item.done" => {
                let a = added[e["output_index"].as_u64().unwrap() as usize];
                assert_eq!(a["id"], e["item"]["id"]);
                assert_eq!(a["call_id"], e["item"]["call_id"]);
            }
            t if t.starts_with("response.") && e.get("item_id").is_some() => {
                let a = added[e["output_index"].as_u64().unwrap() as usize];
                assert_eq!(a["id"], e["item_id"], "{t}");
            }
            _ => {}
        }
    }
    let output = last["response"]["output"].as_array().unwrap();
    assert_eq!(output.len(), added.len());
}

macro_rules! snapshot {
    ($value:expr) => {
        snapshot!(None::<&str>, $value)
    };
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".**.id" => "[id]",
            ".**.item_id" => "[id]",
            ".**.created_at" => "[ts]",
            ".**.completed_at" => insta::dynamic_redaction(|v, _| {
                if v.as_u64().is_some() { "[ts]".into() } else { v }
            }),
            ".**.encrypted_content" => "[blob]",
        })
    };
}

#[tokio::test]
async fn responses_json_returns_the_fixture_text_as_a_message_item() {
    let s = state();
    let (status, body) = post(&s, json!({"model": "gpt-4o-mini", "input": "[text] hi"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["id"].as_str().unwrap().starts_with("resp_"));
    assert!(body["output"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("msg_"));
    snapshot!(body);
}

#[tokio::test]
async fn responses_stream_sends_typed_events_in_order_with_sequence_numbers() {
    let s = state();
    let ev = stream(&s, json!({"model": "gpt-4o-mini", "input": "[stream] go"})).await;
    assert_well_formed(&ev);
    assert_eq!(
        types(&ev),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let text: String = ev
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Streams arrive in pieces.");
    snapshot!(ev);
}

#[tokio::test]
async fn responses_function_call_is_an_output_item_with_the_fixture_call_id() {
    let s = state();
    let tool = json!({"type": "function", "name": "get_weather", "parameters": {"type": "object"}});
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o-mini", "input": "[tool] weather?", "tools": [tool]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["output"][0]["id"].as_str().unwrap().starts_with("fc_"));
    snapshot!(body);
}

#[tokio::test]
async fn streamed_function_call_sends_argument_deltas_then_done() {
    let s = state();
    let ev = stream(
        &s,
        json!({"model": "gpt-4o-mini", "input": "[tool] weather?"}),
    )
    .await;
    assert_well_formed(&ev);
    assert_eq!(ev[2]["item"]["call_id"], "call_oslo_1");
    assert_eq!(ev[2]["item"]["arguments"], "");
    assert_eq!(ev[2]["item"]["status"], "in_progress");
    let args: String = ev
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(args, r#"{"city":"Oslo"}"#);
    let done = ev
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done["arguments"], args);
    snapshot!(ev);
}

#[tokio::test]
async fn tool_first_blocks_keep_their_order_in_json_and_stream() {
    let s = state();
    let (_, body) = post(&s, json!({"model": "gpt-4o-mini", "input": "[tool-first]"})).await;
    let kinds: Vec<_> = body["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["function_call", "message"]);
    let ev = stream(&s, json!({"model": "gpt-4o-mini", "input": "[tool-first]"})).await;
    assert_well_formed(&ev);
    let added: Vec<_> = ev
        .iter()
        .filter(|e| e["type"] == "response.output_item.added")
        .map(|e| (e["output_index"].clone(), e["item"]["type"].clone()))
        .collect();
    assert_eq!(
        added,
        [
            (json!(0), json!("function_call")),
            (json!(1), json!("message"))
        ]
    );
}

#[tokio::test]
async fn reasoning_item_leads_the_output_with_its_summary() {
    let s = state();
    let (_, body) = post(&s, json!({"model": "o3-mini", "input": "[think]"})).await;
    assert!(body["output"][0]["id"].as_str().unwrap().starts_with("rs_"));
    assert!(body["output"][0].get("encrypted_content").is_none());
    assert_eq!(
        body["usage"]["output_tokens_details"]["reasoning_tokens"],
        7
    );
    snapshot!(body);

    let ev = stream(&s, json!({"model": "o3-mini", "input": "[think]"})).await;
    assert_well_formed(&ev);
    assert_eq!(
        types(&ev)[2..9],
        [
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
        ]
    );
    snapshot!("reasoning_item_stream", ev);
}

#[tokio::test]
async fn encrypted_reasoning_is_added_when_the_request_includes_it() {
    let s = state();
    let (_, body) = post(
        &s,
        json!({"model": "o3-mini", "input": "[think]", "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    let item = &body["output"][0];
    assert!(item["encrypted_content"]
        .as_str()
        .is_some_and(|b| !b.is_empty()));
    // Without a summary in the fixture, a reasoning model still returns the blob's carrier.
    let (_, body) = post(
        &s,
        json!({"model": "o3-mini", "input": "[text]", "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    assert_eq!(body["output"][0]["type"], "reasoning");
    assert_eq!(body["output"][0]["summary"], json!([]));
    assert!(body["output"][0]["encrypted_content"].is_string());
    // ... but a model that does not reason does not.
    let (_, body) = post(
        &s,
        json!({"model": "gpt-4o", "input": "[text]", "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    assert_eq!(body["output"][0]["type"], "message");
}

#[tokio::test]
async fn web_searches_become_web_search_call_items() {
    let s = state();
    let (_, body) = post(&s, json!({"model": "gpt-4o", "input": "[search]"})).await;
    assert_eq!(body["output"][0]["type"], "web_search_call");
    assert!(body["output"][0]["id"].as_str().unwrap().starts_with("ws_"));
    assert_eq!(body["output"][0]["action"]["query"], "rust sse");
    let ev = stream(&s, json!({"model": "gpt-4o", "input": "[search]"})).await;
    assert_well_formed(&ev);
    assert_eq!(
        types(&ev)[2..7],
        [
            "response.output_item.added",
            "response.web_search_call.in_progress",
            "response.web_search_call.searching",
            "response.web_search_call.completed",
            "response.output_item.done",
        ]
    );
}

#[tokio::test]
async fn a_function_call_output_is_matched_by_tool_call_id() {
    let s = state();
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o-mini", "input": [
            {"role": "user", "content": "[tool] weather in Oslo?"},
            {"type": "function_call", "call_id": "call_oslo_1", "name": "get_weather",
             "arguments": "{\"city\":\"Oslo\"}"},
            {"type": "function_call_output", "call_id": "call_oslo_1", "output": "3C, cloudy"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["output"][0]["content"][0]["text"],
        "It is 3 degrees in Oslo."
    );
    let entry = s.last_request().unwrap();
    let JournalBody::Chat(req) = &entry.body else {
        panic!("not a chat body");
    };
    insta::assert_json_snapshot!(req);
}

#[tokio::test]
async fn instructions_are_matched_as_the_system_message() {
    let s = state();
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o-mini", "instructions": "Answer in French, please.",
               "input": [{"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": "[sys] hello"}]}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["output"][0]["content"][0]["text"], "Bonjour !");
    assert_eq!(body["instructions"], "Answer in French, please.");
    // Without the instructions the fixture does not match.
    let (status, _) = post(&s, json!({"model": "gpt-4o-mini", "input": "[sys] hello"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn text_format_is_matched_as_the_response_format() {
    let s = state();
    let format =
        json!({"format": {"type": "json_schema", "name": "r", "schema": {"type": "object"}}});
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o", "input": "[json]", "text": format}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["text"], format);
    let (status, _) = post(&s, json!({"model": "gpt-4o", "input": "[json]"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn length_finish_reason_makes_an_incomplete_response() {
    let s = state();
    let (_, body) = post(&s, json!({"model": "gpt-4o", "input": "[long]"})).await;
    assert_eq!(body["status"], "incomplete");
    assert_eq!(body["incomplete_details"]["reason"], "max_output_tokens");
    let ev = stream(&s, json!({"model": "gpt-4o", "input": "[long]"})).await;
    assert_well_formed(&ev);
    let last = ev.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["status"], "incomplete");
}

#[tokio::test]
async fn overrides_set_id_created_model_and_usage() {
    let s = state();
    let (_, body) = post(&s, json!({"model": "gpt-4o", "input": "[override]"})).await;
    assert_eq!(body["id"], "resp_fixed");
    assert_eq!(body["created_at"], 1700000000);
    assert_eq!(body["model"], "gpt-4.1-fixed");
    assert_eq!(body["usage"]["input_tokens"], 11);
    assert_eq!(body["usage"]["output_tokens"], 7);
    assert_eq!(body["usage"]["total_tokens"], 18);
}

#[tokio::test]
async fn truncate_after_chunks_cuts_the_stream_and_the_journal_says_so() {
    let s = state();
    let body = json!({"model": "gpt-4o", "input": "[cut]", "stream": true});
    let resp = router::post(&s, "/v1/responses", &body, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = router::read(resp, tokio::time::Instant::now()).await;
    let (got, failed) = (body.bytes(), body.error.is_some());
    assert!(failed);
    assert_eq!(events(&got).len(), 4);
    let entry = s.last_request().unwrap();
    assert!(entry.response.interrupted);
    assert_eq!(
        entry.response.interrupt_reason.as_deref(),
        Some("truncateAfterChunks")
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_invalid_json() {
    let s = state();
    let (status, _, bytes) = post_raw(&s, "{\"model\": \"gpt-4o\", \"input\": ".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn missing_input_and_wrong_types_are_400s_naming_the_field() {
    let s = state();
    let (status, body) = post(&s, json!({"model": "gpt-4o"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Missing required parameter: 'input'."
    );
    assert_eq!(body["error"]["param"], "input");
    let (status, body) = post(&s, json!({"model": "gpt-4o", "input": 42})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "input");
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o", "input": [{"role": "robot", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "input[0].role");
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o", "input": "x", "stream": "yes"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "stream");
}

#[tokio::test]
async fn a_miss_is_a_404_in_openai_envelope() {
    let s = state();
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o", "input": "nothing matches this"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "no_fixture_match");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("No fixture matched"));
}

mod sdk {
    use async_openai::config::OpenAIConfig;
    use async_openai::types::responses::{
        CreateResponseArgs, OutputItem, ResponseStreamEvent, Status,
    };
    use async_openai::Client;
    use futures_util::StreamExt;

    use crate::support;

    #[tokio::test]
    async fn async_openai_reads_a_response_and_a_stream() {
        let s = support::fixture_server(super::FIXTURES, "t.json").await;
        let base = format!("{}/v1", s.uri());
        let client = Client::with_config(
            OpenAIConfig::new()
                .with_api_base(base)
                .with_api_key("sk-test"),
        );

        let req = CreateResponseArgs::default()
            .model("gpt-4o-mini")
            .input("[text] hi")
            .build()
            .unwrap();
        let resp = client.responses().create(req).await.unwrap();
        assert_eq!(resp.status, Status::Completed);
        assert_eq!(
            resp.output_text().as_deref(),
            Some("Hello from the Responses API.")
        );
        let usage = resp.usage.unwrap();
        assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens);

        let req = CreateResponseArgs::default()
            .model("o3-mini")
            .input("[think] and stream")
            .build()
            .unwrap();
        let mut stream = client.responses().create_stream(req).await.unwrap();
        let mut text = String::new();
        let mut completed = None;
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                ResponseStreamEvent::ResponseOutputTextDelta(d) => text.push_str(&d.delta),
                ResponseStreamEvent::ResponseCompleted(c) => completed = Some(c.response),
                _ => {}
            }
        }
        assert_eq!(text, "42.");
        let completed = completed.unwrap();
        assert!(matches!(completed.output[0], OutputItem::Reasoning(_)));
        assert_eq!(completed.output_text().as_deref(), Some("42."));

        let req = CreateResponseArgs::default()
            .model("gpt-4o-mini")
            .input("[tool] weather?")
            .build()
            .unwrap();
        let resp = client.responses().create(req).await.unwrap();
        let OutputItem::FunctionCall(call) = &resp.output[0] else {
            panic!("expected a function call, got {:?}", resp.output);
        };
        assert_eq!(call.call_id, "call_oslo_1");
        assert_eq!(call.name, "get_weather");
    }
}

#[tokio::test]
async fn previous_response_id_puts_the_stored_turns_before_the_new_input() {
    let s = state();
    let (status, first) = post(
        &s,
        json!({"model": "gpt-4o-mini", "instructions": "Old rules.", "input": "[text] hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = first["id"].as_str().unwrap().to_owned();
    let (status, second) = post(
        &s,
        json!({"model": "gpt-4o-mini", "instructions": "New rules.", "input": "[text] again",
               "previous_response_id": id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["previous_response_id"], json!(id));
    // Matched (and journaled) with the stored turn between the new instructions and the new
    // input; the old instructions do not carry over.
    let entry = s.last_request().unwrap();
    let JournalBody::Chat(req) = &entry.body else {
        panic!("not a chat body");
    };
    let turns: Vec<(String, Option<String>)> = req
        .messages
        .iter()
        .map(|m| (format!("{:?}", m.role), m.text.clone()))
        .collect();
    assert_eq!(
        turns,
        [
            ("System".to_owned(), Some("New rules.".to_owned())),
            ("User".to_owned(), Some("[text] hi".to_owned())),
            (
                "Assistant".to_owned(),
                Some("Hello from the Responses API.".to_owned())
            ),
            ("User".to_owned(), Some("[text] again".to_owned())),
        ]
    );
    // The stored response reads back as it was answered.
    let resp = router::send(
        &s,
        http::Request::get(format!("/v1/responses/{id}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    let (status, _, bytes) = router::collect(resp).await;
    assert_eq!(status, StatusCode::OK);
    let got: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(got, first);
}

#[tokio::test]
async fn an_unknown_previous_response_id_is_the_apis_400() {
    let s = state();
    let (status, body) = post(
        &s,
        json!({"model": "gpt-4o-mini", "input": "[text] hi", "previous_response_id": "resp_gone"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "previous_response_not_found");
    assert_eq!(body["error"]["param"], "previous_response_id");
    assert_eq!(
        body["error"]["message"],
        "Previous response with id 'resp_gone' not found."
    );
}
