//! The journal and the control API over HTTP: every journal filter, paging with `X-Total-Count`,
//! test ids (header and `?testId=`), request ids, `X-AIMock-Context`, the fixture listing, the
//! strict-mode explanation, `POST /__aimock/error` validation, the legacy `/v1/_requests`, large
//! bodies and credentials in the query string.

use aimock::{FixtureEntry, MatchSpec, MockServer, ResponseSpec};
use serde_json::{json, Value};

use crate::support::{self, chat, sequence};

fn client() -> reqwest::Client {
    support::client()
}

async fn post(s: &MockServer, path: &str, body: &Value) -> reqwest::Response {
    support::post(s, path, body, &[]).await
}

/// The assistant text (or the status, for an error) of a chat request.
async fn reply_text(r: reqwest::Response) -> String {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    if status != 200 {
        return format!("status {status}");
    }
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or("<no text>")
        .to_owned()
}

/// `GET /__aimock/journal?<query>`: the entries and the `X-Total-Count` header.
async fn journal(s: &MockServer, query: &str) -> (Vec<Value>, usize) {
    let r = client()
        .get(format!("{}/__aimock/journal?{query}", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "journal?{query}");
    let total = r
        .headers()
        .get("x-total-count")
        .expect("X-Total-Count header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let v: Value = r.json().await.unwrap();
    (v.as_array().unwrap().clone(), total)
}

/// The last user message of a journaled chat request.
fn user_text(entry: &Value) -> &str {
    entry["body"]["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
}

/// Five requests: three chat hits, a chat miss, an embedding.
async fn five_requests() -> MockServer {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("hit"), ResponseSpec::text("ok"))
        .unwrap();
    for text in ["hit 1", "hit 2", "miss", "hit 3"] {
        post(&s, "/v1/chat/completions", &chat(text)).await;
    }
    post(
        &s,
        "/v1/embeddings",
        &json!({"model": "text-embedding-3-small", "input": "embed"}),
    )
    .await;
    assert_eq!(s.journal().len(), 5);
    s
}

#[tokio::test]
async fn journal_filters_by_method_path_substring_and_status() {
    let s = five_requests().await;

    let (all, total) = journal(&s, "").await;
    assert_eq!((all.len(), total), (5, 5));

    let (posts, total) = journal(&s, "method=POST").await;
    assert_eq!((posts.len(), total), (5, 5));
    let (gets, total) = journal(&s, "method=GET").await;
    assert_eq!((gets.len(), total), (0, 0));

    let (emb, total) = journal(&s, "path=embed").await;
    assert_eq!((emb.len(), total), (1, 1));
    assert_eq!(emb[0]["path"], "/v1/embeddings");
    let (chat_entries, _) = journal(&s, "path=chat/completions").await;
    assert_eq!(chat_entries.len(), 4);

    let (misses, total) = journal(&s, "status=404").await;
    assert_eq!((misses.len(), total), (1, 1));
    assert_eq!(user_text(&misses[0]), "miss");
    let (oks, _) = journal(&s, "status=200").await;
    assert_eq!(oks.len(), 4);

    let (both, total) = journal(&s, "path=chat&status=200").await;
    assert_eq!((both.len(), total), (3, 3));

    let bad = client()
        .get(format!("{}/__aimock/journal?status=abc", s.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn journal_limit_and_offset_page_oldest_first_and_x_total_count_is_the_total_before_paging() {
    let s = five_requests().await;
    let (page, total) = journal(&s, "limit=2&offset=1").await;
    assert_eq!(total, 5);
    assert_eq!(page.len(), 2);
    assert_eq!(user_text(&page[0]), "hit 2");
    assert_eq!(user_text(&page[1]), "miss");

    let (page, total) = journal(&s, "path=chat&limit=1&offset=3").await;
    assert_eq!(total, 4);
    assert_eq!(page.len(), 1);
    assert_eq!(user_text(&page[0]), "hit 3");

    let (page, total) = journal(&s, "offset=10").await;
    assert_eq!((page.len(), total), (0, 5));
    let (page, total) = journal(&s, "limit=0").await;
    assert_eq!((page.len(), total), (0, 5));
}

#[tokio::test]
async fn a_test_id_in_the_query_string_has_its_own_sequence_and_is_found_in_the_journal() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["first", "second"]);
    let q1 = "/v1/chat/completions?testId=q1";
    assert_eq!(reply_text(post(&s, q1, &chat("joke")).await).await, "first");
    assert_eq!(
        reply_text(post(&s, q1, &chat("joke")).await).await,
        "second"
    );
    // The default test id has a sequence of its own, still at 0.
    assert_eq!(
        reply_text(post(&s, "/v1/chat/completions", &chat("joke")).await).await,
        "first"
    );

    let (entries, total) = journal(&s, "testId=q1").await;
    assert_eq!((entries.len(), total), (2, 2));
    for e in &entries {
        assert_eq!(e["testId"], "q1");
        assert!(e["path"].as_str().unwrap().contains("testId=q1"));
    }
    let (default, _) = journal(&s, "testId=__default__").await;
    assert_eq!(default.len(), 1);
    assert!(!default[0]["path"].as_str().unwrap().contains("testId"));
}

#[tokio::test]
async fn the_x_test_id_header_and_the_default_id_are_each_found_by_test_id() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["first", "second"]);
    for _ in 0..2 {
        let r = client()
            .post(format!("{}/v1/chat/completions", s.uri()))
            .header("x-test-id", "h1")
            .json(&chat("joke"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        reply_text(post(&s, "/v1/chat/completions", &chat("joke")).await).await,
        "first"
    );
    let (h1, total) = journal(&s, "testId=h1").await;
    assert_eq!((h1.len(), total), (2, 2));
    let (default, total) = journal(&s, "testId=__default__").await;
    assert_eq!((default.len(), total), (1, 1));
    assert_eq!(
        s.last_request().unwrap().test_id.as_deref(),
        Some("__default__")
    );
    let (none, _) = journal(&s, "testId=nobody").await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_minted_x_request_id_finds_exactly_its_request() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("a"), ResponseSpec::text("A"))
        .unwrap();
    let first = post(&s, "/v1/chat/completions", &chat("a first")).await;
    let second = post(&s, "/v1/chat/completions", &chat("a second")).await;
    let id1 = first.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id2 = second.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!id1.is_empty());
    assert_ne!(id1, id2, "two requests got the same minted id");

    let (found, total) = journal(&s, &format!("requestId={id2}")).await;
    assert_eq!((found.len(), total), (1, 1), "requestId={id2}");
    assert_eq!(user_text(&found[0]), "a second");
    let (found, _) = journal(&s, &format!("requestId={id1}")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(user_text(&found[0]), "a first");
}

#[tokio::test]
async fn a_client_x_request_id_is_echoed_and_finds_its_request() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("a"), ResponseSpec::text("A"))
        .unwrap();
    post(&s, "/v1/chat/completions", &chat("a other")).await;
    let r = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("x-request-id", "client-req-42")
        .json(&chat("a mine"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-req-42");
    let (found, total) = journal(&s, "requestId=client-req-42").await;
    assert_eq!((found.len(), total), (1, 1));
    assert_eq!(user_text(&found[0]), "a mine");
    // The journal's own id finds the entry too.
    let id = found[0]["id"].as_str().unwrap();
    let (by_id, _) = journal(&s, &format!("requestId={id}")).await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(user_text(&by_id[0]), "a mine");
}

#[tokio::test]
async fn x_aimock_context_selects_a_fixture_with_that_context_and_only_that() {
    let s = MockServer::start().await;
    s.add(FixtureEntry::new(
        MatchSpec {
            context: Some("checkout".into()),
            ..MatchSpec::user_message("pay")
        },
        ResponseSpec::text("checkout reply"),
    ))
    .unwrap();
    s.mock(
        MatchSpec::user_message("pay"),
        ResponseSpec::text("generic reply"),
    )
    .unwrap();
    let with = |ctx: &'static str| {
        client()
            .post(format!("{}/v1/chat/completions", s.uri()))
            .header("x-aimock-context", ctx)
            .json(&chat("pay now"))
            .send()
    };
    assert_eq!(
        reply_text(with("checkout").await.unwrap()).await,
        "checkout reply"
    );
    assert_eq!(
        reply_text(with("cart").await.unwrap()).await,
        "generic reply"
    );
    assert_eq!(
        reply_text(post(&s, "/v1/chat/completions", &chat("pay now")).await).await,
        "generic reply"
    );

    // With only the context fixture, a request without the header misses.
    let only = MockServer::start().await;
    only.add(FixtureEntry::new(
        MatchSpec {
            context: Some("checkout".into()),
            ..MatchSpec::user_message("pay")
        },
        ResponseSpec::text("checkout reply"),
    ))
    .unwrap();
    assert_eq!(
        post(&only, "/v1/chat/completions", &chat("pay now"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_fixture_list_with_include_fixtures_gives_each_match_and_kind() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("hello"), ResponseSpec::text("hi"))
        .unwrap();
    s.mock(
        MatchSpec::user_message("weather").model("gpt-4o"),
        ResponseSpec::tool_call("get_weather", json!({"city": "Paris"})),
    )
    .unwrap();
    s.mock(
        MatchSpec::user_message("busy"),
        ResponseSpec::error(429, "slow down"),
    )
    .unwrap();
    s.mock(
        MatchSpec::input_text("vec"),
        ResponseSpec::embedding(vec![1.0]),
    )
    .unwrap();

    let plain: Value = client()
        .get(format!("{}/__aimock/fixtures", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain, json!({"count": 4}));

    let v: Value = client()
        .get(format!("{}/__aimock/fixtures?include=fixtures", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["count"], 4);
    let list = v["fixtures"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    let summary: Vec<(Value, Value)> = list
        .iter()
        .map(|f| (f["match"].clone(), f["kind"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!({"userMessage": "hello"}), json!("text")),
            (
                json!({"userMessage": "weather", "model": "gpt-4o"}),
                json!("tool calls")
            ),
            (json!({"userMessage": "busy"}), json!("error")),
            (json!({"inputText": "vec"}), json!("embedding")),
        ]
    );
}

#[tokio::test]
async fn strict_503_says_candidates_were_skipped_by_sequence_state_once_a_sequence_is_exhausted() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["only once"]);
    assert_eq!(
        reply_text(post(&s, "/v1/chat/completions", &chat("joke")).await).await,
        "only once"
    );
    let strict = |text: &'static str| {
        client()
            .post(format!("{}/v1/chat/completions", s.uri()))
            .header("x-aimock-strict", "true")
            .json(&chat(text))
            .send()
    };
    let r = strict("joke").await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("skipped by sequence/turn state"), "{msg}");
    assert_eq!(v["error"]["code"], "no_fixture_match");

    // A plain miss under strict says no fixture matched, without the sequence explanation.
    let r = strict("unrelated").await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(!msg.contains("skipped by sequence"), "{msg}");
    assert_eq!(
        s.last_request().unwrap().response.strict_override,
        Some(true)
    );
}

#[tokio::test]
async fn post_error_refuses_bad_input_with_400_and_queues_nothing() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("a"), ResponseSpec::text("A"))
        .unwrap();
    for bad in [
        json!({"status": 99}),
        json!({"status": 600}),
        json!({"status": "500"}),
        json!({"status": 500, "body": "down"}),
        json!([1, 2]),
    ] {
        let r = client()
            .post(format!("{}/__aimock/error", s.uri()))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].is_string(), "{v}");
    }
    assert_eq!(
        post(&s, "/v1/chat/completions", &chat("a")).await.status(),
        200,
        "a refused error was queued"
    );

    let r = client()
        .post(format!("{}/__aimock/error", s.uri()))
        .json(&json!({"status": 418, "body": {"message": "teapot", "type": "odd", "code": "tea"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(&s, "/v1/chat/completions", &chat("a")).await;
    assert_eq!(r.status(), 418);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "teapot");
    assert_eq!(v["error"]["type"], "odd");
    assert_eq!(v["error"]["code"], "tea");
    assert_eq!(
        post(&s, "/v1/chat/completions", &chat("a")).await.status(),
        200
    );
}

#[tokio::test]
async fn the_legacy_requests_route_with_limit_1_returns_the_newest_entry() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("m"), ResponseSpec::text("M"))
        .unwrap();
    for text in ["m1", "m2", "m3"] {
        post(&s, "/v1/chat/completions", &chat(text)).await;
    }
    let v: Value = client()
        .get(format!("{}/v1/_requests?limit=1", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(user_text(&list[0]), "m3");
    let all: Value = client()
        .get(format!("{}/v1/_requests", s.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_request_body_over_64_kb_is_journaled_as_a_truncation_marker() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("big"), ResponseSpec::text("got it"))
        .unwrap();
    let filler = "x".repeat(100_000);
    let body = chat(&format!("big {filler}"));
    let bytes = serde_json::to_vec(&body).unwrap();
    let r = client()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .header("content-type", "application/json")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply_text(r).await,
        "got it",
        "the large request was not served"
    );

    let entry = serde_json::to_value(s.last_request().unwrap()).unwrap();
    let logged = &entry["body"];
    assert_eq!(
        logged["__aimock_truncated"],
        true,
        "body journaled as {:.200}",
        logged.to_string()
    );
    let size = logged["originalByteSize"]
        .as_u64()
        .expect("originalByteSize is a number");
    assert!(
        size > 64 * 1024 && size <= bytes.len() as u64 + 1024,
        "originalByteSize {size} for a {}-byte body",
        bytes.len()
    );

    let text = support::get_text(&s, "/__aimock/journal").await;
    assert!(text.len() < 16 * 1024, "journal is {} bytes", text.len());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["body"]["__aimock_truncated"], true);
    assert_eq!(v[0]["response"]["status"], 200);
}

#[tokio::test]
async fn a_request_body_under_64_kb_is_journaled_whole() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("big"), ResponseSpec::text("got it"))
        .unwrap();
    let text = format!("big {}", "y".repeat(30_000));
    post(&s, "/v1/chat/completions", &chat(&text)).await;
    let entry = serde_json::to_value(s.last_request().unwrap()).unwrap();
    assert!(entry["body"].get("__aimock_truncated").is_none());
    assert_eq!(user_text(&entry), text);
}

#[tokio::test]
async fn credentials_in_the_query_string_are_redacted_in_the_journal_path() {
    let s = MockServer::start().await;
    s.mock(MatchSpec::user_message("hello"), ResponseSpec::text("hi"))
        .unwrap();
    let r = post(
        &s,
        "/v1/chat/completions?key=secret&api-version=2024-10-21",
        &chat("hello"),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Redacted on the way out, as headers are: the serialised entry is what leaves the process.
    let entry = serde_json::to_value(s.last_request().unwrap()).unwrap();
    let path = entry["path"].as_str().unwrap().to_owned();
    assert!(!path.contains("secret"), "credential kept in {path}");
    assert!(path.starts_with("/v1/chat/completions?"), "{path}");
    assert!(path.contains("key="), "{path}");
    assert!(path.contains("REDACTED"), "{path}");
    assert!(path.contains("api-version=2024-10-21"), "{path}");

    let text = support::get_text(&s, "/__aimock/journal").await;
    assert!(!text.contains("secret"), "{text}");
    let legacy = support::get_text(&s, "/v1/_requests").await;
    assert!(!legacy.contains("secret"), "{legacy}");
}

#[tokio::test]
async fn reset_counts_restarts_sequences_for_one_test_id_or_all_and_keeps_the_journal() {
    let s = MockServer::start().await;
    sequence(&s, "joke", &["first", "second"]);
    let (a, b) = (
        "/v1/chat/completions?testId=a",
        "/v1/chat/completions?testId=b",
    );
    for p in [a, b] {
        assert_eq!(reply_text(post(&s, p, &chat("joke")).await).await, "first");
    }
    let reset = |q: &'static str| {
        let url = format!("{}/__aimock/reset/counts{q}", s.uri());
        async move { client().post(url).send().await.unwrap() }
    };
    let r = reset("?testId=a").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["testId"], "a");
    // `a` starts over; `b` goes on.
    assert_eq!(reply_text(post(&s, a, &chat("joke")).await).await, "first");
    assert_eq!(reply_text(post(&s, b, &chat("joke")).await).await, "second");
    let r = reset("").await;
    assert_eq!(r.json::<Value>().await.unwrap()["testId"], Value::Null);
    assert_eq!(reply_text(post(&s, b, &chat("joke")).await).await, "first");
    // Fixtures and the journal are kept.
    let (entries, total) = journal(&s, "").await;
    assert_eq!((entries.len(), total), (5, 5));
}
