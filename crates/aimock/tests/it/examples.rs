//! Compatibility corpus: every fixture file that ships with aimock (vendored in
//! `vendor/aimock-examples` at the repository root, MIT) and every one of ours
//! (`examples/fixtures`) loads unchanged, and each of its fixtures answers a request built from
//! its `match`, plain and streamed.
//!
//! Nothing is skipped silently: a `.json` file that does not parse fails the test, files that are
//! not fixture files (configs) are listed, and a match field or response kind this test cannot
//! build a request for or check fails it with the file and fixture named.

use std::path::{Path, PathBuf};

use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Sample user messages for fixtures whose `userMessage` is a regular expression (a test cannot
/// invent a matching text in general). Each sample is checked against its regex first.
const REGEX_SAMPLES: &[(&str, &str)] = &[("^(bye|goodbye)\\b", "Goodbye for now")];

/// A neutral user message for fixtures that do not constrain it.
const NEUTRAL: &str = "neutral request";

/// aimock's own examples, vendored in the repository.
fn vendored_dir() -> PathBuf {
    Path::new(MANIFEST).join("../../vendor/aimock-examples")
}

fn our_dir() -> PathBuf {
    Path::new(MANIFEST).join("../../examples/fixtures")
}

/// The fixture files under `dir` (JSON, and YAML when `yaml`), each with its parsed content.
/// A fixture file is an object with a top-level `fixtures` key.
fn fixture_files(dir: &Path, yaml: bool) -> Vec<(PathBuf, Value)> {
    assert!(
        dir.is_dir(),
        "the example directory {} is missing: the compatibility corpus must be present",
        dir.display()
    );
    let mut out = Vec::new();
    for path in support::files(dir) {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let text = || std::fs::read_to_string(&path).unwrap();
        let v: Value = match ext {
            "json" => serde_json::from_str(&text())
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display())),
            "yaml" | "yml" if yaml => serde_yaml_ng::from_str(&text())
                .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display())),
            _ => continue,
        };
        if v.get("fixtures").is_some() {
            out.push((path, v));
        } else {
            eprintln!(
                "not a fixture file (no top-level `fixtures`): {}",
                path.display()
            );
        }
    }
    assert!(!out.is_empty(), "no fixture file under {}", dir.display());
    out
}

/// The request a fixture's match describes.
enum Probe {
    Chat(Value),
    Embedding(Value),
}

struct Case {
    probe: Probe,
    context: Option<String>,
}

fn user_text(m: &Value, at: &str) -> String {
    match m.get("userMessage") {
        None => NEUTRAL.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) if o.contains_key("regex") => {
            let regex = o["regex"].as_str().unwrap();
            let flags = o.get("flags").and_then(Value::as_str).unwrap_or("");
            let sample = REGEX_SAMPLES
                .iter()
                .find(|(r, _)| *r == regex)
                .unwrap_or_else(|| {
                    panic!(
                        "{at}: add a sample user message for the regex {regex:?} to REGEX_SAMPLES"
                    )
                })
                .1;
            let re = regex::RegexBuilder::new(regex)
                .case_insensitive(flags.contains('i'))
                .build()
                .unwrap();
            assert!(
                re.is_match(sample),
                "{at}: sample {sample:?} does not match {regex:?}"
            );
            sample.to_owned()
        }
        Some(Value::Object(o)) if o.contains_key("equals") => {
            o["equals"].as_str().unwrap().to_owned()
        }
        Some(other) => panic!("{at}: cannot build a user message for userMessage {other}"),
    }
}

/// Build the request for one fixture's `match`.
fn case_for(m: &Value, stream: bool, at: &str) -> Case {
    const HANDLED: &[&str] = &[
        "userMessage",
        "model",
        "toolName",
        "toolCallId",
        "inputText",
        "sequenceIndex",
        "endpoint",
        "context",
        "systemMessage",
        "responseFormat",
    ];
    let obj = m
        .as_object()
        .unwrap_or_else(|| panic!("{at}: match is not an object"));
    for key in obj.keys() {
        assert!(
            HANDLED.contains(&key.as_str()) || key.starts_with('_'),
            "{at}: this test cannot build a request for match field `{key}`; teach it"
        );
    }
    let context = m.get("context").and_then(Value::as_str).map(str::to_owned);
    let endpoint = m.get("endpoint").and_then(Value::as_str);
    if let Some(input) = m.get("inputText") {
        assert!(
            endpoint.is_none_or(|e| e == "embedding"),
            "{at}: inputText with endpoint {endpoint:?}"
        );
        let input = input
            .as_str()
            .unwrap_or_else(|| panic!("{at}: inputText {input} is not a string"));
        let mut body = json!({"model": "text-embedding-3-small", "input": input});
        if let Some(model) = m.get("model").and_then(Value::as_str) {
            body["model"] = json!(model);
        }
        return Case {
            probe: Probe::Embedding(body),
            context,
        };
    }
    assert!(
        endpoint.is_none_or(|e| e == "chat"),
        "{at}: endpoint {endpoint:?} is not served by this test"
    );
    let model = match m.get("model") {
        None => "gpt-4o".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => panic!("{at}: cannot build a model name for {other}"),
    };
    let mut messages = Vec::new();
    match m.get("systemMessage") {
        None => {}
        Some(Value::String(s)) => messages.push(json!({"role": "system", "content": s})),
        Some(Value::Array(items)) => {
            let all: Vec<&str> = items.iter().map(|i| i.as_str().unwrap()).collect();
            messages.push(json!({"role": "system", "content": all.join("\n")}));
        }
        Some(other) => panic!("{at}: cannot build a system message for {other}"),
    }
    messages.push(json!({"role": "user", "content": user_text(m, at)}));
    if let Some(id) = m.get("toolCallId") {
        let id = id.as_str().unwrap();
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "some_tool", "arguments": "{}"}}
        ]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": "{\"ok\": true}"}));
    }
    let mut body = json!({"model": model, "messages": messages});
    if let Some(tool) = m.get("toolName") {
        body["tools"] = json!([{"type": "function",
            "function": {"name": tool, "parameters": {"type": "object", "properties": {}}}}]);
    }
    if let Some(kind) = m.get("responseFormat") {
        body["response_format"] = json!({"type": kind});
    }
    if stream {
        body["stream"] = json!(true);
    }
    Case {
        probe: Probe::Chat(body),
        context,
    }
}

/// The assistant message of a chat reply, from JSON or from an SSE stream: content and tool calls
/// (name, arguments text) in order.
fn chat_reply(body: &str, stream: bool, at: &str) -> (Option<String>, Vec<(String, String)>) {
    if !stream {
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{at}: {e}: {body}"));
        let msg = &v["choices"][0]["message"];
        let calls = msg["tool_calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .map(|c| {
                        (
                            c["function"]["name"].as_str().unwrap().to_owned(),
                            c["function"]["arguments"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        return (msg["content"].as_str().map(str::to_owned), calls);
    }
    assert!(
        body.ends_with("data: [DONE]\n\n"),
        "{at}: stream did not end with [DONE]: {body}"
    );
    let mut content: Option<String> = None;
    let mut calls: Vec<(String, String)> = Vec::new();
    for v in support::sse::json(body) {
        let delta = &v["choices"][0]["delta"];
        if let Some(t) = delta["content"].as_str() {
            if !t.is_empty() {
                content.get_or_insert_with(String::new).push_str(t);
            }
        }
        for c in delta["tool_calls"].as_array().into_iter().flatten() {
            let i = c["index"].as_u64().unwrap() as usize;
            if calls.len() <= i {
                calls.resize(i + 1, (String::new(), String::new()));
            }
            if let Some(n) = c["function"]["name"].as_str() {
                calls[i].0.push_str(n);
            }
            if let Some(a) = c["function"]["arguments"].as_str() {
                calls[i].1.push_str(a);
            }
        }
    }
    (content, calls)
}

/// Arguments as the fixture gives them (an object, or a JSON string), as a value.
fn args_value(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        other => other.clone(),
    }
}

/// What a fixture's reply must contain: content and tool calls (name, arguments).
fn expected_message(resp: &Value, at: &str) -> (Option<Value>, Vec<(String, Value)>) {
    if let Some(blocks) = resp.get("blocks").and_then(Value::as_array) {
        let mut text = String::new();
        let mut calls = Vec::new();
        for b in blocks {
            match b["type"].as_str() {
                Some("text") => text.push_str(b["text"].as_str().unwrap()),
                Some("toolCall") => calls.push((
                    b["name"].as_str().unwrap().to_owned(),
                    args_value(&b["arguments"]),
                )),
                other => panic!("{at}: unknown block type {other:?}"),
            }
        }
        let content = (!text.is_empty()).then_some(Value::String(text));
        return (content, calls);
    }
    let calls = resp
        .get("toolCalls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap().to_owned(),
                        args_value(&c["arguments"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (resp.get("content").cloned(), calls)
}

async fn check_fixture(s: &MockServer, fixture: &Value, test_id: &str, stream: bool, at: &str) {
    let m = fixture.get("match").cloned().unwrap_or(json!({}));
    let resp = &fixture["response"];
    let case = case_for(&m, stream, at);
    let (path, body, is_chat) = match &case.probe {
        Probe::Chat(b) => ("/v1/chat/completions", b, true),
        Probe::Embedding(b) => ("/v1/embeddings", b, false),
    };
    let mut req = support::client()
        .post(format!("{}{path}", s.uri()))
        .header("x-test-id", test_id)
        .json(body);
    if let Some(c) = &case.context {
        req = req.header("x-aimock-context", c);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let at = format!("{at} (request {body})");

    if let Some(err) = resp.get("error") {
        let want = resp.get("status").and_then(Value::as_u64).unwrap_or(500) as u16;
        assert_eq!(status, want, "{at}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["message"], err["message"], "{at}");
        if let Some(kind) = err.get("type") {
            assert_eq!(&v["error"]["type"], kind, "{at}");
        }
        if let Some(code) = err.get("code") {
            assert_eq!(&v["error"]["code"], code, "{at}");
        }
        if let Some(ra) = resp.get("retryAfter").and_then(Value::as_f64) {
            let got: f64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert_eq!(got, ra, "{at}: retry-after");
        }
        return;
    }
    assert_eq!(status, 200, "{at}: {text}");

    if let Some(vector) = resp.get("embedding") {
        assert!(
            !is_chat,
            "{at}: an embedding fixture matched by a chat request"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        let got = v["data"][0]["embedding"].as_array().unwrap();
        let want = vector.as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{at}: {text}");
        for (g, w) in got.iter().zip(want) {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{at}: {g} != {w}"
            );
        }
        return;
    }
    for kind in ["image", "images", "audio", "transcription", "video", "json"] {
        assert!(
            resp.get(kind).is_none(),
            "{at}: this test cannot check a `{kind}` response; teach it"
        );
    }
    assert!(
        is_chat,
        "{at}: a chat fixture answered an embedding request"
    );
    let (want_content, want_calls) = expected_message(resp, &at);
    assert!(
        want_content.is_some() || !want_calls.is_empty(),
        "{at}: the fixture's response has nothing this test can check"
    );
    let (content, calls) = chat_reply(&text, stream, &at);
    match &want_content {
        Some(Value::String(w)) => assert_eq!(content.as_deref(), Some(w.as_str()), "{at}"),
        Some(obj) => {
            let got: Value = serde_json::from_str(content.as_deref().unwrap_or("null")).unwrap();
            assert_eq!(&got, obj, "{at}");
        }
        None => assert_eq!(content, None, "{at}"),
    }
    let got_calls: Vec<(String, Value)> = calls
        .iter()
        .map(|(n, a)| {
            (
                n.clone(),
                serde_json::from_str(a).unwrap_or_else(|e| panic!("{at}: arguments {a:?}: {e}")),
            )
        })
        .collect();
    assert_eq!(got_calls, want_calls, "{at}");
}

/// Load every fixture file under `dir` into a fresh server and check each fixture's answer.
async fn check_corpus(dir: &Path, yaml: bool, stream: bool) -> usize {
    let files = fixture_files(dir, yaml);
    let mut checked = 0;
    for (path, content) in &files {
        let rel = path.strip_prefix(dir).unwrap().display().to_string();
        let fixtures = content["fixtures"]
            .as_array()
            .unwrap_or_else(|| panic!("{rel}: `fixtures` is not a list"));
        let (s, loaded) = support::file_server(path).await;
        assert_eq!(loaded, fixtures.len(), "{rel}: fixtures loaded");
        // One test id per file: sequences in a file advance together, fixture after fixture.
        let test_id = format!("examples/{rel}");
        for (i, f) in fixtures.iter().enumerate() {
            let at = format!(
                "{rel} fixtures[{i}]{}",
                if stream { " streamed" } else { "" }
            );
            check_fixture(&s, f, &test_id, stream, &at).await;
            checked += 1;
        }
        eprintln!("checked {} fixture(s) of {rel}", fixtures.len());
    }
    checked
}

#[tokio::test]
async fn every_aimock_example_fixture_loads_unchanged_and_answers_its_match() {
    // The walk reaches nested folders (aimock keeps most examples in `examples/<framework>/`).
    let dir = vendored_dir();
    let nested = fixture_files(&dir, false)
        .iter()
        .filter(|(p, _)| p.strip_prefix(&dir).unwrap().components().count() > 2)
        .count();
    assert!(
        nested > 0,
        "no fixture file found below the top folders of {}",
        dir.display()
    );
    let n = check_corpus(&dir, false, false).await;
    assert!(n > 0);
}

#[tokio::test]
async fn every_aimock_example_fixture_answers_its_match_when_streamed() {
    check_corpus(&vendored_dir(), false, true).await;
}

#[tokio::test]
async fn every_fixture_in_our_examples_including_yaml_answers_its_match() {
    let files = fixture_files(&our_dir(), true);
    assert!(
        files
            .iter()
            .any(|(p, _)| p.extension().is_some_and(|e| e == "yaml" || e == "yml")),
        "our examples have no YAML fixture file any more"
    );
    check_corpus(&our_dir(), true, false).await;
}

#[tokio::test]
async fn every_fixture_in_our_examples_answers_its_match_when_streamed() {
    check_corpus(&our_dir(), true, true).await;
}
