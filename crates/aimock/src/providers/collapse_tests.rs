//! Tests of the collapsers against captured-style wire bodies under `tests/wire/`: field by field
//! per format, the fixture loader accepting every result, and a replay round trip (collapse,
//! serve the fixture from a mock server, collapse what it streams, compare).
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

use crate::fixture::{parse_value, Reply};
use crate::providers::bedrock::collapse as bedrock;
use crate::record::collapse::*;

/// The API families, each with its collapser (declared in its provider's folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Wire {
    OpenAiChat,
    OpenAiResponses,
    Anthropic,
    Gemini,
    Cohere,
    Ollama,
    Bedrock,
}

impl Wire {
    fn collapser(self) -> &'static Collapser {
        match self {
            Wire::OpenAiChat => &crate::providers::openai::collapse::COLLAPSER,
            Wire::OpenAiResponses => &crate::providers::openai::responses::collapse::COLLAPSER,
            Wire::Anthropic => &crate::providers::anthropic::collapse::COLLAPSER,
            Wire::Gemini => &crate::providers::gemini::collapse::COLLAPSER,
            Wire::Cohere => &crate::providers::cohere::collapse::COLLAPSER,
            Wire::Ollama => &crate::providers::ollama::collapse::COLLAPSER,
            Wire::Bedrock => &crate::providers::bedrock::collapse::COLLAPSER,
        }
    }

    fn framing(self) -> Framing {
        self.collapser().framing
    }
}

fn collapse_stream(w: Wire, body: &[u8]) -> Collapsed {
    crate::record::collapse::collapse_stream(w.collapser(), body)
}

fn collapse_stream_capped(w: Wire, body: &[u8], cap: usize) -> Collapsed {
    crate::record::collapse::collapse_stream_capped(w.collapser(), body, cap)
}

fn collapse_json(w: Wire, body: &[u8]) -> Option<Collapsed> {
    crate::record::collapse::collapse_json(w.collapser(), body)
}

fn collapse_error(w: Wire, status: u16, body: &[u8]) -> Collapsed {
    crate::record::collapse::collapse_error(w.collapser(), status, body)
}

macro_rules! wire {
    ($f:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wire/", $f)).as_slice()
    };
}

/// Every wire file, with its format and whether it is a stream.
fn all_wire_files() -> Vec<(&'static str, Wire, bool, &'static [u8])> {
    use Wire::*;
    vec![
        (
            "openai-chat-text.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-text.sse"),
        ),
        (
            "openai-chat-truncated.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-truncated.sse"),
        ),
        (
            "openai-chat-garbage.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-garbage.sse"),
        ),
        (
            "openai-chat-tools-parallel.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-tools-parallel.sse"),
        ),
        (
            "openai-chat-text-then-tool.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-text-then-tool.sse"),
        ),
        (
            "openai-chat-reasoning.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-reasoning.sse"),
        ),
        (
            "openai-chat-tool-first.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-tool-first.sse"),
        ),
        (
            "openai-chat-indexless.sse",
            OpenAiChat,
            true,
            wire!("openai-chat-indexless.sse"),
        ),
        (
            "openai-chat-text.json",
            OpenAiChat,
            false,
            wire!("openai-chat-text.json"),
        ),
        (
            "openai-chat-tools.json",
            OpenAiChat,
            false,
            wire!("openai-chat-tools.json"),
        ),
        (
            "openai-embeddings.json",
            OpenAiChat,
            false,
            wire!("openai-embeddings.json"),
        ),
        (
            "openai-embeddings-base64.json",
            OpenAiChat,
            false,
            wire!("openai-embeddings-base64.json"),
        ),
        (
            "responses-text.sse",
            OpenAiResponses,
            true,
            wire!("responses-text.sse"),
        ),
        (
            "responses-truncated.sse",
            OpenAiResponses,
            true,
            wire!("responses-truncated.sse"),
        ),
        (
            "responses-garbage.sse",
            OpenAiResponses,
            true,
            wire!("responses-garbage.sse"),
        ),
        (
            "responses-tools-parallel.sse",
            OpenAiResponses,
            true,
            wire!("responses-tools-parallel.sse"),
        ),
        (
            "responses-tool-first.sse",
            OpenAiResponses,
            true,
            wire!("responses-tool-first.sse"),
        ),
        (
            "responses-reasoning.sse",
            OpenAiResponses,
            true,
            wire!("responses-reasoning.sse"),
        ),
        (
            "responses-text.json",
            OpenAiResponses,
            false,
            wire!("responses-text.json"),
        ),
        (
            "anthropic-text.sse",
            Anthropic,
            true,
            wire!("anthropic-text.sse"),
        ),
        (
            "anthropic-truncated.sse",
            Anthropic,
            true,
            wire!("anthropic-truncated.sse"),
        ),
        (
            "anthropic-garbage.sse",
            Anthropic,
            true,
            wire!("anthropic-garbage.sse"),
        ),
        (
            "anthropic-tool-use.sse",
            Anthropic,
            true,
            wire!("anthropic-tool-use.sse"),
        ),
        (
            "anthropic-tools-parallel.sse",
            Anthropic,
            true,
            wire!("anthropic-tools-parallel.sse"),
        ),
        (
            "anthropic-tool-first.sse",
            Anthropic,
            true,
            wire!("anthropic-tool-first.sse"),
        ),
        (
            "anthropic-interleaved.sse",
            Anthropic,
            true,
            wire!("anthropic-interleaved.sse"),
        ),
        (
            "anthropic-thinking.sse",
            Anthropic,
            true,
            wire!("anthropic-thinking.sse"),
        ),
        (
            "anthropic-redacted-thinking.sse",
            Anthropic,
            true,
            wire!("anthropic-redacted-thinking.sse"),
        ),
        (
            "anthropic-error-event.sse",
            Anthropic,
            true,
            wire!("anthropic-error-event.sse"),
        ),
        (
            "anthropic-text.json",
            Anthropic,
            false,
            wire!("anthropic-text.json"),
        ),
        (
            "anthropic-tool-use.json",
            Anthropic,
            false,
            wire!("anthropic-tool-use.json"),
        ),
        ("gemini-text.sse", Gemini, true, wire!("gemini-text.sse")),
        (
            "gemini-truncated.sse",
            Gemini,
            true,
            wire!("gemini-truncated.sse"),
        ),
        (
            "gemini-garbage.sse",
            Gemini,
            true,
            wire!("gemini-garbage.sse"),
        ),
        (
            "gemini-stream-array.json",
            Gemini,
            true,
            wire!("gemini-stream-array.json"),
        ),
        (
            "gemini-tools-parallel.sse",
            Gemini,
            true,
            wire!("gemini-tools-parallel.sse"),
        ),
        (
            "gemini-tool-first.sse",
            Gemini,
            true,
            wire!("gemini-tool-first.sse"),
        ),
        (
            "gemini-thinking.sse",
            Gemini,
            true,
            wire!("gemini-thinking.sse"),
        ),
        ("gemini-text.json", Gemini, false, wire!("gemini-text.json")),
        (
            "gemini-embed.json",
            Gemini,
            false,
            wire!("gemini-embed.json"),
        ),
        (
            "gemini-batch-embed.json",
            Gemini,
            false,
            wire!("gemini-batch-embed.json"),
        ),
        ("cohere-text.sse", Cohere, true, wire!("cohere-text.sse")),
        (
            "cohere-truncated.sse",
            Cohere,
            true,
            wire!("cohere-truncated.sse"),
        ),
        (
            "cohere-garbage.sse",
            Cohere,
            true,
            wire!("cohere-garbage.sse"),
        ),
        (
            "cohere-tool-calls.sse",
            Cohere,
            true,
            wire!("cohere-tool-calls.sse"),
        ),
        (
            "cohere-thinking.sse",
            Cohere,
            true,
            wire!("cohere-thinking.sse"),
        ),
        ("cohere-text.json", Cohere, false, wire!("cohere-text.json")),
        (
            "cohere-tool-calls.json",
            Cohere,
            false,
            wire!("cohere-tool-calls.json"),
        ),
        (
            "cohere-embed.json",
            Cohere,
            false,
            wire!("cohere-embed.json"),
        ),
        (
            "ollama-chat-text.ndjson",
            Ollama,
            true,
            wire!("ollama-chat-text.ndjson"),
        ),
        (
            "ollama-chat-truncated.ndjson",
            Ollama,
            true,
            wire!("ollama-chat-truncated.ndjson"),
        ),
        (
            "ollama-chat-garbage.ndjson",
            Ollama,
            true,
            wire!("ollama-chat-garbage.ndjson"),
        ),
        (
            "ollama-chat-tools.ndjson",
            Ollama,
            true,
            wire!("ollama-chat-tools.ndjson"),
        ),
        (
            "ollama-chat-tool-first.ndjson",
            Ollama,
            true,
            wire!("ollama-chat-tool-first.ndjson"),
        ),
        (
            "ollama-chat-thinking.ndjson",
            Ollama,
            true,
            wire!("ollama-chat-thinking.ndjson"),
        ),
        (
            "ollama-generate.ndjson",
            Ollama,
            true,
            wire!("ollama-generate.ndjson"),
        ),
        ("ollama-chat.json", Ollama, false, wire!("ollama-chat.json")),
        (
            "ollama-generate.json",
            Ollama,
            false,
            wire!("ollama-generate.json"),
        ),
        (
            "ollama-embed.json",
            Ollama,
            false,
            wire!("ollama-embed.json"),
        ),
        (
            "ollama-embeddings.json",
            Ollama,
            false,
            wire!("ollama-embeddings.json"),
        ),
        (
            "bedrock-converse-text.bin",
            Bedrock,
            true,
            wire!("bedrock-converse-text.bin"),
        ),
        (
            "bedrock-converse-truncated.bin",
            Bedrock,
            true,
            wire!("bedrock-converse-truncated.bin"),
        ),
        (
            "bedrock-converse-bad-crc.bin",
            Bedrock,
            true,
            wire!("bedrock-converse-bad-crc.bin"),
        ),
        (
            "bedrock-converse-tools.bin",
            Bedrock,
            true,
            wire!("bedrock-converse-tools.bin"),
        ),
        (
            "bedrock-converse-tool-first.bin",
            Bedrock,
            true,
            wire!("bedrock-converse-tool-first.bin"),
        ),
        (
            "bedrock-converse-reasoning.bin",
            Bedrock,
            true,
            wire!("bedrock-converse-reasoning.bin"),
        ),
        (
            "bedrock-invoke-stream.bin",
            Bedrock,
            true,
            wire!("bedrock-invoke-stream.bin"),
        ),
        (
            "bedrock-converse.json",
            Bedrock,
            false,
            wire!("bedrock-converse.json"),
        ),
        (
            "bedrock-invoke.json",
            Bedrock,
            false,
            wire!("bedrock-invoke.json"),
        ),
        (
            "bedrock-titan-embed.json",
            Bedrock,
            false,
            wire!("bedrock-titan-embed.json"),
        ),
    ]
}

fn stream(w: Wire, body: &[u8]) -> (Value, Collapsed) {
    let c = collapse_stream(w, body);
    (c.response.clone(), c)
}

fn json_body(w: Wire, body: &[u8]) -> Value {
    let c = collapse_json(w, body).unwrap();
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    c.response
}

/// The fixture loader takes the response with no problem at all; its compiled reply.
fn loads(response: &Value) -> Reply {
    let report = parse_value(
        json!({"fixtures": [{"match": {"userMessage": "x"}, "response": response}]}),
        "recorded.json",
    );
    assert!(
        report.problems.is_empty(),
        "{response}: {:?}",
        report.problems
    );
    assert_eq!(report.fixtures.len(), 1);
    report.fixtures[0].reply.clone()
}

fn calls(v: &Value) -> Vec<(String, String, Option<String>)> {
    v["toolCalls"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap().to_owned(),
                        c["arguments"].as_str().unwrap().to_owned(),
                        c["id"].as_str().map(str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn call(name: &str, args: &str, id: Option<&str>) -> (String, String, Option<String>) {
    (name.to_owned(), args.to_owned(), id.map(str::to_owned))
}

// ---- OpenAI chat ----

#[test]
fn openai_chat_text_stream_collapses_to_its_text_finish_reason_usage_and_model() {
    let (r, c) = stream(Wire::OpenAiChat, wire!("openai-chat-text.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(r["content"], "Hello! How can I help you today?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(r["usage"]["prompt_tokens"], 19);
    assert_eq!(r["usage"]["completion_tokens"], 10);
    assert_eq!(
        r["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );
    assert!(r.get("toolCalls").is_none() && r.get("blocks").is_none());
    loads(&r);
}

#[test]
fn openai_chat_parallel_tool_calls_are_assembled_by_index_with_their_ids() {
    let (r, c) = stream(Wire::OpenAiChat, wire!("openai-chat-tools-parallel.sse"));
    assert!(c.complete);
    assert!(r.get("content").is_none());
    assert_eq!(
        calls(&r),
        vec![
            call(
                "get_weather",
                r#"{"city": "Paris"}"#,
                Some("call_Qx1AbCdEfGhIjKlMnOpQrStU")
            ),
            call(
                "get_time",
                r#"{"tz": "Europe/Paris"}"#,
                Some("call_Zy9XwVuTsRqPoNmLkJiHgFeD")
            ),
        ]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    assert_eq!(r["usage"]["total_tokens"], 137);
    loads(&r);
}

#[test]
fn openai_chat_text_before_a_tool_call_keeps_the_content_and_tool_calls_shape() {
    let (r, _) = stream(Wire::OpenAiChat, wire!("openai-chat-text-then-tool.sse"));
    assert_eq!(r["content"], "Let me check.");
    assert_eq!(
        calls(&r),
        vec![call(
            "search",
            r#"{"q":"rust"}"#,
            Some("call_Ab12Cd34Ef56Gh78Ij90Kl12")
        )]
    );
    assert!(r.get("blocks").is_none());
}

#[test]
fn openai_chat_reasoning_content_becomes_reasoning() {
    let (r, c) = stream(Wire::OpenAiChat, wire!("openai-chat-reasoning.sse"));
    assert!(c.complete);
    assert_eq!(r["reasoning"], "The user wants 6*7. That is 42.");
    assert_eq!(r["content"], "6 × 7 = 42");
    assert_eq!(r["model"], "deepseek-reasoner");
    assert_eq!(
        r["usage"]["completion_tokens_details"]["reasoning_tokens"],
        20
    );
    loads(&r);
}

#[test]
fn openai_chat_tool_call_before_text_gives_ordered_blocks_and_reasoning() {
    let (r, c) = stream(Wire::OpenAiChat, wire!("openai-chat-tool-first.sse"));
    assert!(c.complete);
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "toolCall", "name": "lookup", "arguments": "{\"id\":7}", "id": "toolu_01A2b3C4d5E6f7G8h9I0j1K2"},
            {"type": "text", "text": "Looking that up now."}
        ])
    );
    assert!(r.get("content").is_none() && r.get("toolCalls").is_none());
    assert_eq!(r["reasoning"], "I should look it up first.");
    assert_eq!(r["finishReason"], "tool_calls");
    assert_eq!(r["usage"]["cost"], 0.000495);
    assert_eq!(r["model"], "anthropic/claude-sonnet-4");
    let Reply::Message(m) = loads(&r) else {
        panic!()
    };
    assert!(m.ordered);
}

#[test]
fn openai_chat_index_less_tool_deltas_are_keyed_by_id() {
    let (r, _) = stream(Wire::OpenAiChat, wire!("openai-chat-indexless.sse"));
    assert_eq!(
        calls(&r),
        vec![
            call("get_weather", r#"{"city": "Paris"}"#, Some("D681PevKs")),
            call("get_weather", r#"{"city": "Lyon"}"#, Some("x7Qk2LmZp")),
        ]
    );
}

#[test]
fn openai_chat_stream_cut_short_is_incomplete_and_keeps_what_arrived() {
    let (r, c) = stream(Wire::OpenAiChat, wire!("openai-chat-truncated.sse"));
    assert!(!c.complete);
    assert_eq!(r["content"], "Hello! How can I");
    // The cut-short last frame cannot be read.
    assert_eq!(c.dropped_frames, 1);
    loads(&r);
}

#[test]
fn openai_chat_garbage_frames_are_skipped_and_counted() {
    let (r, c) = stream(Wire::OpenAiChat, wire!("openai-chat-garbage.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 2);
    assert_eq!(r["content"], "Still here.");
    assert!(
        c.warnings[0].contains("malformed frame"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn openai_chat_json_replies_collapse_like_streams() {
    let r = json_body(Wire::OpenAiChat, wire!("openai-chat-text.json"));
    assert_eq!(r["content"], "Hello! How can I help you today?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["usage"]["prompt_tokens"], 19);
    let r = json_body(Wire::OpenAiChat, wire!("openai-chat-tools.json"));
    assert!(r.get("content").is_none());
    assert_eq!(
        calls(&r),
        vec![
            call(
                "get_weather",
                r#"{"city":"Paris"}"#,
                Some("call_Qx1AbCdEfGhIjKlMnOpQrStU")
            ),
            call(
                "get_time",
                r#"{"tz":"Europe/Paris"}"#,
                Some("call_Zy9XwVuTsRqPoNmLkJiHgFeD")
            ),
        ]
    );
    loads(&r);
}

#[test]
fn embeddings_collapse_to_the_first_vector_in_every_providers_shape() {
    let cases: [(Wire, &[u8], Vec<f64>); 8] = [
        (
            Wire::OpenAiChat,
            wire!("openai-embeddings.json"),
            vec![0.0023064255, -0.009327292, 0.015797347, -0.0077780345],
        ),
        (
            Wire::OpenAiChat,
            wire!("openai-embeddings-base64.json"),
            vec![0.25, -0.5, 0.125, 1.0],
        ),
        (
            Wire::Gemini,
            wire!("gemini-embed.json"),
            vec![0.013168523, -0.008711934, -0.046782676, 0.000699695],
        ),
        (
            Wire::Gemini,
            wire!("gemini-batch-embed.json"),
            vec![0.1, 0.2, 0.3],
        ),
        (
            Wire::Cohere,
            wire!("cohere-embed.json"),
            vec![0.016296387, -0.008354187, -0.04699707, 0.0234375],
        ),
        (
            Wire::Ollama,
            wire!("ollama-embed.json"),
            vec![0.010071029, -0.0017594862, 0.05007221, 0.04692972],
        ),
        (
            Wire::Ollama,
            wire!("ollama-embeddings.json"),
            vec![
                0.5670403838157654,
                0.009260174818336964,
                0.23178744316101074,
            ],
        ),
        (
            Wire::Bedrock,
            wire!("bedrock-titan-embed.json"),
            vec![0.123, -0.456, 0.789],
        ),
    ];
    for (w, body, want) in cases {
        let r = json_body(w, body);
        let got: Vec<f64> = r["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{w:?}");
        // serde_json's default float parsing may be off by one unit in the last place.
        for (g, x) in got.iter().zip(&want) {
            assert!(
                (g - x).abs() <= x.abs() * 1e-15,
                "{w:?}: {got:?} != {want:?}"
            );
        }
        assert!(matches!(loads(&r), Reply::Embedding(_)));
    }
}

#[test]
fn error_bodies_collapse_to_an_error_with_each_providers_type_and_the_status() {
    let cases: [(Wire, u16, &[u8], Value); 6] = [
        (
            Wire::OpenAiChat,
            429,
            wire!("openai-error-429.json"),
            json!({"message": "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 3, Used 3, Requested 1.", "type": "requests", "code": "rate_limit_exceeded"}),
        ),
        (
            Wire::Anthropic,
            429,
            wire!("anthropic-error-429.json"),
            json!({"message": "Number of request tokens has exceeded your per-minute rate limit", "type": "rate_limit_error"}),
        ),
        (
            Wire::Gemini,
            429,
            wire!("gemini-error-429.json"),
            json!({"message": "You exceeded your current quota, please check your plan and billing details.", "type": "RESOURCE_EXHAUSTED"}),
        ),
        (
            Wire::Cohere,
            429,
            wire!("cohere-error-429.json"),
            json!({"message": "You are using a Trial key, which is limited to 10 API calls / minute."}),
        ),
        (
            Wire::Ollama,
            404,
            wire!("ollama-error.json"),
            json!({"message": "model \"llama9\" not found, try pulling it first"}),
        ),
        (
            Wire::Bedrock,
            429,
            wire!("bedrock-error-throttling.json"),
            json!({"message": "Too many requests, please wait before trying again."}),
        ),
    ];
    for (w, status, body, want) in cases {
        let c = collapse_error(w, status, body);
        assert_eq!(c.response["error"], want, "{w:?}");
        assert_eq!(c.response["status"], status);
        assert!(matches!(loads(&c.response), Reply::Error(e) if e.status == status));
    }
    let c = collapse_error(Wire::OpenAiChat, 502, b"<html>Bad Gateway</html>");
    assert_eq!(c.response["error"]["message"], "<html>Bad Gateway</html>");
    let c = collapse_error(Wire::OpenAiChat, 503, b"");
    assert_eq!(c.response["error"]["message"], "upstream returned HTTP 503");
    loads(&c.response);
}

#[test]
fn openai_compatible_endpoints_of_other_providers_are_read_as_openai_chat() {
    for w in [Wire::Ollama, Wire::Gemini, Wire::Anthropic, Wire::Cohere] {
        let (r, c) = stream(w, wire!("openai-chat-text.sse"));
        assert!(c.complete, "{w:?}");
        assert_eq!(r["content"], "Hello! How can I help you today?", "{w:?}");
        let r = json_body(w, wire!("openai-chat-text.json"));
        assert_eq!(r["content"], "Hello! How can I help you today?", "{w:?}");
    }
}

// ---- Responses ----

#[test]
fn responses_text_stream_collapses_to_text_usage_and_model() {
    let (r, c) = stream(Wire::OpenAiResponses, wire!("responses-text.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    assert_eq!(r["content"], "Hello! How can I help?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["usage"]["input_tokens"], 36);
    assert_eq!(r["usage"]["total_tokens"], 48);
    assert_eq!(r["model"], "gpt-4.1-2025-04-14");
    loads(&r);
    assert_eq!(
        json_body(Wire::OpenAiResponses, wire!("responses-text.json")),
        r
    );
}

#[test]
fn responses_function_calls_are_collapsed_by_call_id() {
    let (r, c) = stream(Wire::OpenAiResponses, wire!("responses-tools-parallel.sse"));
    assert!(c.complete);
    assert_eq!(
        calls(&r),
        vec![
            call(
                "get_weather",
                r#"{"city":"Paris"}"#,
                Some("call_Qx1AbCdEfGhIjKlMnOpQrStU")
            ),
            call(
                "get_time",
                r#"{"tz":"Europe/Paris"}"#,
                Some("call_Zy9XwVuTsRqPoNmLkJiHgFeD")
            ),
        ]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    loads(&r);
}

#[test]
fn responses_function_call_before_the_message_gives_blocks_in_output_order() {
    let (r, _) = stream(Wire::OpenAiResponses, wire!("responses-tool-first.sse"));
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "toolCall", "name": "lookup", "arguments": "{\"id\":7}", "id": "call_Ab12Cd34Ef56Gh78Ij90Kl12"},
            {"type": "text", "text": "Looking it up."}
        ])
    );
    loads(&r);
}

#[test]
fn responses_reasoning_summary_becomes_reasoning() {
    let (r, _) = stream(Wire::OpenAiResponses, wire!("responses-reasoning.sse"));
    assert_eq!(r["reasoning"], "**Multiplying**\n\nSix times seven is 42.");
    assert_eq!(r["content"], "42");
    assert_eq!(r["usage"]["output_tokens_details"]["reasoning_tokens"], 128);
    loads(&r);
}

#[test]
fn responses_stream_cut_short_or_with_garbage_is_handled() {
    let (r, c) = stream(Wire::OpenAiResponses, wire!("responses-truncated.sse"));
    assert!(!c.complete);
    assert!(r["content"].as_str().unwrap().starts_with("Hello"));
    assert!(r.get("usage").is_none());
    loads(&r);
    let (r, c) = stream(Wire::OpenAiResponses, wire!("responses-garbage.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 2);
    assert_eq!(r["content"], "Fine anyway.");
}

#[test]
fn responses_web_search_calls_become_web_searches() {
    let body = concat!(
        "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"id\":\"ws_1\",\"type\":\"web_search_call\",\"status\":\"completed\",\"action\":{\"type\":\"search\",\"query\":\"rust release\"}}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":1,\"content_index\":0,\"delta\":\"Found.\"}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"model\":\"gpt-4.1\"}}\n\n",
    );
    let (r, c) = stream(Wire::OpenAiResponses, body.as_bytes());
    assert!(c.complete);
    assert_eq!(
        r,
        json!({"content": "Found.", "webSearches": ["rust release"], "finishReason": "stop", "model": "gpt-4.1"})
    );
    loads(&r);
}

#[test]
fn an_incomplete_responses_stream_records_why_it_stopped() {
    let body = concat!(
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Once upon\"}\n\n",
        "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"}}}\n\n",
    );
    let (r, c) = stream(Wire::OpenAiResponses, body.as_bytes());
    assert!(c.complete);
    assert_eq!(r, json!({"content": "Once upon", "finishReason": "length"}));
}

#[test]
fn openai_legacy_function_call_deltas_become_a_tool_call() {
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"function_call\":{\"name\":\"get_weather\",\"arguments\":\"\"}}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"function_call\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"function_call\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let (r, c) = stream(Wire::OpenAiChat, body.as_bytes());
    assert!(c.complete);
    assert_eq!(
        calls(&r),
        vec![call("get_weather", r#"{"city":"Paris"}"#, None)]
    );
    assert_eq!(r["finishReason"], "function_call");
    loads(&r);
}

// ---- Anthropic ----

#[test]
fn anthropic_text_stream_merges_start_and_delta_usage() {
    let (r, c) = stream(Wire::Anthropic, wire!("anthropic-text.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    assert_eq!(r["content"], "Hello! How can I help you today?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["model"], "claude-sonnet-4-20250514");
    assert_eq!(r["usage"]["input_tokens"], 25);
    assert_eq!(r["usage"]["output_tokens"], 15);
    assert_eq!(r["usage"]["service_tier"], "standard");
    loads(&r);
    let j = json_body(Wire::Anthropic, wire!("anthropic-text.json"));
    assert_eq!(j["content"], r["content"]);
    assert_eq!(j["usage"]["output_tokens"], 15);
}

#[test]
fn anthropic_tool_use_after_text_keeps_content_and_serializes_the_input() {
    let (r, _) = stream(Wire::Anthropic, wire!("anthropic-tool-use.sse"));
    assert_eq!(r["content"], "I'll check the weather in Paris.");
    assert_eq!(
        calls(&r),
        vec![call(
            "get_weather",
            r#"{"city": "Paris"}"#,
            Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6")
        )]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    let (r, _) = stream(Wire::Anthropic, wire!("anthropic-tools-parallel.sse"));
    assert_eq!(
        calls(&r),
        vec![
            call(
                "get_weather",
                r#"{"city":"Paris"}"#,
                Some("toolu_01A09q90qw90lq917835lq9")
            ),
            call(
                "get_time",
                r#"{"tz":"Europe/Paris"}"#,
                Some("toolu_01B19q90qw90lq917835lq8")
            ),
        ]
    );
    let j = json_body(Wire::Anthropic, wire!("anthropic-tool-use.json"));
    assert_eq!(j["content"], "I'll check.");
    assert_eq!(
        calls(&j),
        vec![call(
            "get_weather",
            r#"{"city":"Paris"}"#,
            Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6")
        )]
    );
    assert_eq!(j["reasoning"], "Need weather.");
    assert_eq!(j["reasoningSignature"], "EqQBCgIYAhIMsig");
    loads(&j);
}

#[test]
fn anthropic_tool_first_and_interleaved_streams_give_blocks() {
    let (r, _) = stream(Wire::Anthropic, wire!("anthropic-tool-first.sse"));
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "toolCall", "name": "lookup", "arguments": "{\"id\":7}", "id": "toolu_01C29q90qw90lq917835lq7"},
            {"type": "text", "text": "Looking it up."}
        ])
    );
    let (r, _) = stream(Wire::Anthropic, wire!("anthropic-interleaved.sse"));
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "text", "text": "First I'll search."},
            {"type": "toolCall", "name": "search", "arguments": "{\"q\":\"a\"}", "id": "toolu_01D39q90qw90lq917835lq6"},
            {"type": "text", "text": "Then I'll summarize."}
        ])
    );
    loads(&r);
}

#[test]
fn anthropic_thinking_signature_and_redacted_thinking_are_kept() {
    let (r, c) = stream(Wire::Anthropic, wire!("anthropic-thinking.sse"));
    assert!(c.complete);
    assert_eq!(
        r["reasoning"],
        "Let me solve this step by step.\n\n6 times 7 is 42."
    );
    assert_eq!(
        r["reasoningSignature"],
        "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    );
    assert_eq!(r["content"], "The answer is 42.");
    loads(&r);
    let (r, _) = stream(Wire::Anthropic, wire!("anthropic-redacted-thinking.sse"));
    assert_eq!(
        r["redactedThinking"],
        json!(["EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB4URj2pLmN3kvF8wLiQ8="])
    );
    assert_eq!(r["content"], "Done.");
    loads(&r);
}

#[test]
fn anthropic_stream_cut_short_garbage_or_error_event_is_handled() {
    let (r, c) = stream(Wire::Anthropic, wire!("anthropic-truncated.sse"));
    assert!(!c.complete);
    assert_eq!(r["content"], "Hello! How can I");
    let (r, c) = stream(Wire::Anthropic, wire!("anthropic-garbage.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 2);
    assert_eq!(r["content"], "Still fine.");
    let (r, c) = stream(Wire::Anthropic, wire!("anthropic-error-event.sse"));
    assert!(!c.complete);
    assert_eq!(r["content"], "Partial");
    assert!(c.warnings.iter().any(|w| w.contains("overloaded_error")));
    // A stream that carried only an error is that error.
    let body = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let (r, c) = stream(Wire::Anthropic, body.as_bytes());
    assert!(!c.complete);
    assert_eq!(
        r,
        json!({"error": {"message": "Overloaded", "type": "overloaded_error"}, "status": 529})
    );
    loads(&r);
}

#[test]
fn anthropic_server_tool_use_is_not_recorded_as_a_tool_call() {
    let body = concat!(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_01\",\"name\":\"web_search\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"query\\\":\\\"x\\\"}\"}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_01\",\"content\":[]}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"Found it.\"}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let (r, c) = stream(Wire::Anthropic, body.as_bytes());
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    assert_eq!(r, json!({"content": "Found it."}));
    assert!(c.warnings.iter().any(|w| w.contains("web_search")));
}

// ---- Gemini ----

#[test]
fn gemini_text_stream_with_crlf_framing_takes_the_last_usage() {
    let (r, c) = stream(Wire::Gemini, wire!("gemini-text.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    assert_eq!(r["content"], "Hello! How can I help you today?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["model"], "gemini-2.5-flash");
    assert_eq!(r["usage"]["totalTokenCount"], 20);
    assert_eq!(r["usage"]["candidatesTokenCount"], 12);
    loads(&r);
    assert_eq!(json_body(Wire::Gemini, wire!("gemini-text.json")), r);
}

#[test]
fn gemini_json_array_stream_collapses_like_sse_as_a_stream_or_a_json_body() {
    let (sse, _) = stream(Wire::Gemini, wire!("gemini-text.sse"));
    let (arr, c) = stream(Wire::Gemini, wire!("gemini-stream-array.json"));
    assert!(c.complete);
    assert_eq!(arr, sse);
    let j = collapse_json(Wire::Gemini, wire!("gemini-stream-array.json")).unwrap();
    assert_eq!(j.response, sse);
    // Cut short inside the last element: the complete ones are kept, no finish reason.
    let body = wire!("gemini-stream-array.json");
    let (cut, c) = stream(Wire::Gemini, &body[..body.len() - 200]);
    assert!(!c.complete);
    assert_eq!(cut["content"], "Hello! How can I help");
}

#[test]
fn gemini_function_calls_serialize_their_args_and_order_into_blocks() {
    let (r, _) = stream(Wire::Gemini, wire!("gemini-tools-parallel.sse"));
    assert_eq!(
        calls(&r),
        vec![
            call("get_weather", r#"{"city":"Paris"}"#, None),
            call("get_time", r#"{"tz":"Europe/Paris"}"#, None),
        ]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    loads(&r);
    let (r, _) = stream(Wire::Gemini, wire!("gemini-tool-first.sse"));
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "toolCall", "name": "lookup", "arguments": "{\"id\":7}", "id": "fc-7Jx2"},
            {"type": "text", "text": "Looking it up."}
        ])
    );
}

#[test]
fn gemini_thought_parts_become_reasoning() {
    let (r, _) = stream(Wire::Gemini, wire!("gemini-thinking.sse"));
    assert_eq!(
        r["reasoning"],
        "**Multiplying**\n\nSix times seven is forty-two."
    );
    assert_eq!(r["content"], "42");
    assert_eq!(r["usage"]["thoughtsTokenCount"], 80);
    loads(&r);
}

#[test]
fn gemini_stream_cut_short_or_with_garbage_is_handled() {
    let (r, c) = stream(Wire::Gemini, wire!("gemini-truncated.sse"));
    assert!(!c.complete);
    assert_eq!(r["content"], "Hello");
    let (r, c) = stream(Wire::Gemini, wire!("gemini-garbage.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 2);
    assert_eq!(r["content"], "Hello you today?");
}

// ---- Cohere ----

#[test]
fn cohere_text_stream_lifts_token_counts_to_the_top_of_usage() {
    let (r, c) = stream(Wire::Cohere, wire!("cohere-text.sse"));
    assert!(c.complete);
    assert_eq!(r["content"], "Hello! How can I help?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["usage"]["input_tokens"], 5);
    assert_eq!(r["usage"]["output_tokens"], 9);
    assert_eq!(r["usage"]["tokens"]["input_tokens"], 71);
    loads(&r);
    let j = json_body(Wire::Cohere, wire!("cohere-text.json"));
    assert_eq!(j["content"], r["content"]);
    assert_eq!(j["usage"], r["usage"]);
}

#[test]
fn cohere_tool_plan_is_the_text_and_tool_calls_are_assembled() {
    let (r, _) = stream(Wire::Cohere, wire!("cohere-tool-calls.sse"));
    assert_eq!(r["content"], "I will look up the weather and the time.");
    assert_eq!(
        calls(&r),
        vec![
            call(
                "get_weather",
                r#"{"city": "Paris"}"#,
                Some("get_weather_8ca9yh3d1zpd")
            ),
            call(
                "get_time",
                r#"{"tz": "Europe/Paris"}"#,
                Some("get_time_k3m2n1p0q9r8")
            ),
        ]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    loads(&r);
    let j = json_body(Wire::Cohere, wire!("cohere-tool-calls.json"));
    assert_eq!(j["content"], "I will look up the weather.");
    assert_eq!(
        calls(&j),
        vec![call(
            "get_weather",
            r#"{"city":"Paris"}"#,
            Some("get_weather_8ca9yh3d1zpd")
        )]
    );
}

#[test]
fn cohere_thinking_content_becomes_reasoning() {
    let (r, _) = stream(Wire::Cohere, wire!("cohere-thinking.sse"));
    assert_eq!(r["reasoning"], "The user asks for 6*7.");
    assert_eq!(r["content"], "42");
}

#[test]
fn cohere_stream_cut_short_or_with_garbage_is_handled() {
    let (r, c) = stream(Wire::Cohere, wire!("cohere-truncated.sse"));
    assert!(!c.complete);
    assert_eq!(r["content"], "Hello!");
    let (r, c) = stream(Wire::Cohere, wire!("cohere-garbage.sse"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 2);
    assert_eq!(r["content"], "Ok.");
}

// ---- Ollama ----

#[test]
fn ollama_chat_stream_collapses_with_its_counts_as_usage() {
    let (r, c) = stream(Wire::Ollama, wire!("ollama-chat-text.ndjson"));
    assert!(c.complete);
    assert_eq!(r["content"], "Hello! How can I help?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(r["model"], "llama3.2");
    assert_eq!(r["usage"]["prompt_eval_count"], 26);
    assert_eq!(r["usage"]["eval_count"], 282);
    assert_eq!(r["usage"]["total_duration"], 4883583458_u64);
    loads(&r);
    assert_eq!(json_body(Wire::Ollama, wire!("ollama-chat.json")), r);
}

#[test]
fn ollama_tool_calls_serialize_their_object_arguments() {
    let (r, _) = stream(Wire::Ollama, wire!("ollama-chat-tools.ndjson"));
    assert_eq!(
        calls(&r),
        vec![
            call("get_weather", r#"{"city":"Paris"}"#, None),
            call("get_time", r#"{"tz":"Europe/Paris"}"#, None),
        ]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    loads(&r);
    let (r, _) = stream(Wire::Ollama, wire!("ollama-chat-tool-first.ndjson"));
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "toolCall", "name": "lookup", "arguments": "{\"id\":7}", "id": "call_k2j3h4g5"},
            {"type": "text", "text": "Looking it up."}
        ])
    );
}

#[test]
fn ollama_thinking_and_generate_replies_collapse() {
    let (r, _) = stream(Wire::Ollama, wire!("ollama-chat-thinking.ndjson"));
    assert_eq!(r["reasoning"], "Six times seven.");
    assert_eq!(r["content"], "42");
    assert_eq!(r["model"], "qwen3");
    let (r, c) = stream(Wire::Ollama, wire!("ollama-generate.ndjson"));
    assert!(c.complete);
    assert_eq!(r["content"], "The sky is blue.");
    assert_eq!(r["finishReason"], "length");
    loads(&r);
    let j = json_body(Wire::Ollama, wire!("ollama-generate.json"));
    assert_eq!(j["content"], "The sky is blue.");
}

#[test]
fn ollama_stream_cut_short_or_with_garbage_is_handled() {
    let (r, c) = stream(Wire::Ollama, wire!("ollama-chat-truncated.ndjson"));
    assert!(!c.complete);
    assert_eq!(r["content"], "Hello!");
    assert_eq!(c.dropped_frames, 1);
    let (r, c) = stream(Wire::Ollama, wire!("ollama-chat-garbage.ndjson"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 2);
    assert_eq!(r["content"], "Ok.");
}

// ---- Bedrock ----

#[test]
fn bedrock_converse_stream_frames_are_decoded_and_collapsed() {
    let (r, c) = stream(Wire::Bedrock, wire!("bedrock-converse-text.bin"));
    assert!(c.complete);
    assert_eq!(c.dropped_frames, 0);
    assert_eq!(r["content"], "Hello! How can I help?");
    assert_eq!(r["finishReason"], "stop");
    assert_eq!(
        r["usage"],
        json!({"inputTokens": 12, "outputTokens": 9, "totalTokens": 21})
    );
    loads(&r);
}

#[test]
fn bedrock_converse_tool_use_reasoning_and_tool_first_order() {
    let (r, _) = stream(Wire::Bedrock, wire!("bedrock-converse-tools.bin"));
    assert_eq!(
        calls(&r),
        vec![
            call(
                "get_weather",
                r#"{"city":"Paris"}"#,
                Some("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q")
            ),
            call(
                "get_time",
                r#"{"tz":"Europe/Paris"}"#,
                Some("tooluse_9aBcDeFgHiJkLmNoPqRsTu")
            ),
        ]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    loads(&r);
    let (r, _) = stream(Wire::Bedrock, wire!("bedrock-converse-tool-first.bin"));
    assert_eq!(
        r["blocks"],
        json!([
            {"type": "toolCall", "name": "lookup", "arguments": "{\"id\":7}", "id": "tooluse_Xy12Zw34Vu56Ts78Rq90Po"},
            {"type": "text", "text": "Looking it up."}
        ])
    );
    let (r, _) = stream(Wire::Bedrock, wire!("bedrock-converse-reasoning.bin"));
    assert_eq!(r["reasoning"], "Six times seven is 42.");
    assert_eq!(r["reasoningSignature"], "ErcBCkgIBhABGAIiQHf3sig");
    assert_eq!(r["content"], "42");
    loads(&r);
}

#[test]
fn bedrock_invoke_stream_chunks_are_decoded_as_anthropic_events() {
    let (r, c) = stream(Wire::Bedrock, wire!("bedrock-invoke-stream.bin"));
    assert!(c.complete);
    assert_eq!(r["content"], "Hello there.");
    assert_eq!(
        calls(&r),
        vec![call(
            "get_weather",
            r#"{"city": "Paris"}"#,
            Some("toolu_bdrk_01XyZ")
        )]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    assert_eq!(r["model"], "claude-3-5-haiku-20241022");
    assert_eq!(r["usage"]["input_tokens"], 14);
    assert_eq!(r["usage"]["output_tokens"], 30);
    loads(&r);
}

#[test]
fn bedrock_bad_crc_and_cut_short_frames_make_the_result_incomplete() {
    let (r, c) = stream(Wire::Bedrock, wire!("bedrock-converse-bad-crc.bin"));
    assert!(!c.complete);
    assert_eq!(c.dropped_frames, 1);
    assert_eq!(r["content"], "Hello");
    let (r, c) = stream(Wire::Bedrock, wire!("bedrock-converse-truncated.bin"));
    assert!(!c.complete);
    assert_eq!(c.dropped_frames, 1);
    assert_eq!(r["content"], "Hello! How can I help?");
    // An exception frame is an error, not a reply.
    let mut body = wire!("bedrock-converse-text.bin")[..60].to_vec();
    body.clear();
    body.extend_from_slice(&crate::stream::eventstream::exception(
        "throttlingException",
        r#"{"message":"slow down"}"#,
    ));
    let (r, c) = stream(Wire::Bedrock, &body);
    assert!(!c.complete);
    assert!(c.warnings.iter().any(|w| w.contains("throttlingException")));
    assert_eq!(
        r,
        json!({"error": {"message": "slow down", "type": "throttlingException"}, "status": 429})
    );
    loads(&r);
}

#[test]
fn bedrock_json_replies_read_converse_and_invoke_model_bodies() {
    let r = json_body(Wire::Bedrock, wire!("bedrock-converse.json"));
    assert_eq!(r["reasoning"], "Need the weather.");
    assert_eq!(r["reasoningSignature"], "ErcBsig");
    assert_eq!(r["content"], "Let me check.");
    assert_eq!(
        calls(&r),
        vec![call(
            "get_weather",
            r#"{"city":"Paris"}"#,
            Some("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q")
        )]
    );
    assert_eq!(r["finishReason"], "tool_calls");
    assert_eq!(r["usage"]["totalTokens"], 345);
    loads(&r);
    let r = json_body(Wire::Bedrock, wire!("bedrock-invoke.json"));
    assert_eq!(r["content"], "Hello there.");
    assert_eq!(r["finishReason"], "stop");
}

// ---- Robustness ----

#[test]
fn accumulated_strings_are_capped_with_a_warning() {
    let c = collapse_stream_capped(Wire::OpenAiChat, wire!("openai-chat-text.sse"), 10);
    assert_eq!(c.response["content"], "Hello! How");
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("content exceeded 10 bytes")));
    let c = collapse_stream_capped(Wire::Anthropic, wire!("anthropic-thinking.sse"), 8);
    assert_eq!(c.response["reasoning"], "Let me s");
    // A multi-byte character is never split, and nothing is appended after the cut.
    let c = collapse_stream_capped(Wire::OpenAiChat, wire!("openai-chat-reasoning.sse"), 3);
    assert_eq!(c.response["content"], "6 ");
    // Arguments are capped too; the cut-short JSON is recorded as `{}` with a warning.
    let c = collapse_stream_capped(Wire::OpenAiChat, wire!("openai-chat-tools-parallel.sse"), 6);
    assert_eq!(c.response["toolCalls"][0]["arguments"], "{}");
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("tool call arguments exceeded")));
    loads(&c.response);
}

#[test]
fn every_prefix_of_every_stream_collapses_without_panic_to_a_loadable_response() {
    for (name, w, is_stream, body) in all_wire_files() {
        if !is_stream {
            continue;
        }
        let mut cut = 0;
        while cut <= body.len() {
            let c = collapse_stream(w, &body[..cut]);
            let report = parse_value(
                json!({"fixtures": [{"match": {"userMessage": "x"}, "response": c.response}]}),
                "recorded.json",
            );
            assert!(
                !report.has_errors(),
                "{name} cut at {cut}: {:?}",
                report.problems
            );
            cut += 41;
        }
        // Only the whole body can be complete (the bad-CRC and error ones never are).
        let whole = collapse_stream(w, body);
        if whole.complete {
            assert!(
                !collapse_stream(w, &body[..body.len() / 2]).complete,
                "{name}"
            );
        }
    }
}

#[test]
fn the_frame_splitter_counts_the_frames_the_collapsers_read_whatever_the_chunking() {
    for (name, w, is_stream, body) in all_wire_files() {
        if !is_stream {
            continue;
        }
        let framing = if name.ends_with(".json") {
            Framing::JsonArray
        } else {
            w.framing()
        };
        let count = |piece: usize| -> usize {
            let mut s = FrameSplitter::with_framing(framing);
            body.chunks(piece).map(|c| s.push(c)).sum()
        };
        let whole = count(body.len());
        assert_eq!(count(1), whole, "{name}");
        assert_eq!(count(17), whole, "{name}");
        let complete = collapse_stream(w, body);
        if !complete.complete || complete.dropped_frames > 0 {
            continue;
        }
        let frames = match framing {
            Framing::Sse => sse_events(body).iter().filter(|e| e.data.is_some()).count(),
            Framing::Ndjson => body
                .split(|c| *c == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            Framing::EventStream => bedrock::decode(&mut Builder::new(MAX_STRING), body).0.len(),
            Framing::JsonArray => json_array(&mut Builder::new(MAX_STRING), body).0.len(),
        };
        assert_eq!(whole, frames, "{name}");
    }
}

#[test]
fn arbitrary_bytes_never_panic_in_any_collapser() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let wires = [
        Wire::OpenAiChat,
        Wire::OpenAiResponses,
        Wire::Anthropic,
        Wire::Gemini,
        Wire::Cohere,
        Wire::Ollama,
        Wire::Bedrock,
    ];
    for _ in 0..300 {
        let len = (next() % 300) as usize;
        let body: Vec<u8> = (0..len).map(|_| (next() & 0xFF) as u8).collect();
        for w in wires {
            let _ = collapse_stream(w, &body);
            let _ = collapse_json(w, &body);
            let _ = collapse_error(w, 500, &body);
            let mut s = FrameSplitter::with_framing(w.framing());
            s.push(&body);
        }
    }
    // Structurally valid JSON of the wrong shapes.
    for body in [
        &b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-5}]}}]}\n\n"[..],
        b"data: {\"choices\":\"x\",\"usage\":[1]}\n\n",
        b"data: {\"type\":\"content_block_delta\",\"index\":99,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":7}}\n\n",
        b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":3}]}}]}\n\n",
        b"[1,2,{\"candidates\":null}",
        b"{\"done\":true,\"message\":{\"tool_calls\":[null,{}]}}\n",
    ] {
        for w in wires {
            let c = collapse_stream(w, body);
            loads(&c.response);
        }
    }
}

// ---- Replay round trip ----

/// The provider request that streams a fixture back in the given wire format.
fn replay_request(w: Wire, model: &str) -> (String, Value) {
    let user = json!([{"role": "user", "content": "x"}]);
    match w {
        Wire::OpenAiChat => (
            "/v1/chat/completions".into(),
            json!({"model": model, "stream": true, "stream_options": {"include_usage": true}, "messages": user}),
        ),
        Wire::OpenAiResponses => (
            "/v1/responses".into(),
            json!({"model": model, "stream": true, "input": "x"}),
        ),
        Wire::Anthropic => (
            "/v1/messages".into(),
            json!({"model": model, "stream": true, "max_tokens": 2048, "messages": user,
                   "thinking": {"type": "enabled", "budget_tokens": 1024}}),
        ),
        Wire::Gemini => (
            format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}]}),
        ),
        Wire::Cohere => (
            "/v2/chat".into(),
            json!({"model": model, "stream": true, "messages": user}),
        ),
        Wire::Ollama => (
            "/api/chat".into(),
            json!({"model": model, "stream": true, "messages": user}),
        ),
        Wire::Bedrock => (
            format!("/model/{model}/converse-stream"),
            json!({"messages": [{"role": "user", "content": [{"text": "x"}]}]}),
        ),
    }
}

/// Serve `response` as a catch-all fixture, stream it in `w`'s format, collapse what came back.
async fn replay(w: Wire, response: &Value) -> Collapsed {
    let entry: crate::FixtureEntry =
        serde_json::from_value(json!({"match": {}, "response": response})).unwrap();
    let server = crate::MockServer::builder().fixture(entry).start().await;
    let model = response["model"].as_str().unwrap_or("m-1");
    let (path, body) = replay_request(w, model);
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", server.uri()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{w:?}: {}", resp.status());
    let bytes = resp.bytes().await.unwrap();
    collapse_stream(w, &bytes)
}

/// A collapsed response without what replay cannot reproduce: the usage (compared number by
/// number instead), and tool call ids the original did not have (replay generates them).
fn comparable(v: &Value, original: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("usage");
    }
    for key in ["toolCalls", "blocks"] {
        let Some(items) = v.get_mut(key).and_then(Value::as_array_mut) else {
            continue;
        };
        for (i, item) in items.iter_mut().enumerate() {
            if original[key][i].get("id").is_none() {
                if let Some(o) = item.as_object_mut() {
                    o.remove("id");
                }
            }
        }
    }
    v
}

async fn assert_replays(w: Wire, files: &[&[u8]]) {
    for body in files {
        let first = collapse_stream(w, body);
        assert!(first.complete, "{w:?}");
        loads(&first.response);
        let second = replay(w, &first.response).await;
        assert!(second.complete, "{w:?}: {:?}", second.warnings);
        assert_eq!(second.dropped_frames, 0);
        assert_eq!(
            comparable(&second.response, &first.response),
            comparable(&first.response, &first.response),
            "{w:?}"
        );
        // Every recorded usage number the replay reports comes back unchanged.
        let (a, b) = (&first.response["usage"], &second.response["usage"]);
        let mut same = 0;
        for (k, n) in a.as_object().into_iter().flatten() {
            if n.is_number() && b.get(k).is_some() {
                assert_eq!(b[k], *n, "{w:?} usage.{k}");
                same += 1;
            }
        }
        assert!(same >= 2, "{w:?}: usage {a} replayed as {b}");
    }
}

#[tokio::test]
async fn openai_chat_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::OpenAiChat,
        &[
            wire!("openai-chat-text.sse"),
            wire!("openai-chat-tools-parallel.sse"),
            wire!("openai-chat-text-then-tool.sse"),
            wire!("openai-chat-reasoning.sse"),
            wire!("openai-chat-tool-first.sse"),
        ],
    )
    .await;
}

#[tokio::test]
async fn responses_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::OpenAiResponses,
        &[
            wire!("responses-text.sse"),
            wire!("responses-tools-parallel.sse"),
            wire!("responses-tool-first.sse"),
            wire!("responses-reasoning.sse"),
        ],
    )
    .await;
}

#[tokio::test]
async fn anthropic_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::Anthropic,
        &[
            wire!("anthropic-text.sse"),
            wire!("anthropic-tool-use.sse"),
            wire!("anthropic-tools-parallel.sse"),
            wire!("anthropic-tool-first.sse"),
            wire!("anthropic-interleaved.sse"),
            wire!("anthropic-thinking.sse"),
            wire!("anthropic-redacted-thinking.sse"),
        ],
    )
    .await;
}

#[tokio::test]
async fn gemini_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::Gemini,
        &[
            wire!("gemini-text.sse"),
            wire!("gemini-tools-parallel.sse"),
            wire!("gemini-tool-first.sse"),
            wire!("gemini-thinking.sse"),
        ],
    )
    .await;
}

#[tokio::test]
async fn cohere_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::Cohere,
        &[
            wire!("cohere-text.sse"),
            wire!("cohere-tool-calls.sse"),
            wire!("cohere-thinking.sse"),
        ],
    )
    .await;
}

#[tokio::test]
async fn ollama_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::Ollama,
        &[
            wire!("ollama-chat-text.ndjson"),
            wire!("ollama-chat-tools.ndjson"),
            // Not `ollama-chat-tool-first.ndjson`: the Ollama renderer sends a reply's text
            // before its tool calls whatever the fixture's `blocks` order.
            wire!("ollama-chat-thinking.ndjson"),
        ],
    )
    .await;
}

#[tokio::test]
async fn bedrock_recordings_replay_to_the_same_response() {
    assert_replays(
        Wire::Bedrock,
        &[
            wire!("bedrock-converse-text.bin"),
            wire!("bedrock-converse-tools.bin"),
            wire!("bedrock-converse-tool-first.bin"),
            wire!("bedrock-converse-reasoning.bin"),
        ],
    )
    .await;
}
