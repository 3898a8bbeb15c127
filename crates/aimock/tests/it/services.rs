//! Search (Tavily), rerank (Cohere) and moderation (OpenAI) over a real socket: fixtures from
//! `aimock.json`'s `services` section and from the Rust API, the defaults with no fixture (empty
//! results, a lexical ranking, an unflagged result with every category), strict mode, errors in
//! each provider's envelope, the journal and reset.

use aimock::config::{Config, ServicesConfig};
use aimock::services::{Pattern, RerankResult};
use aimock::MockServer;
use serde_json::{json, Value};

use crate::support;

const CONFIG: &str = r##"{"services": {
  "search": {
    "fixtures": [
      {"match": "weather", "answer": "Sunny and 21 C.", "images": ["https://img.example/sun.png"],
       "followUpQuestions": ["And tomorrow?"],
       "results": [
         {"title": "Forecast", "url": "https://w.example/today", "content": "Sunny, 21 C", "score": 0.93,
          "raw_content": "# Today\nSunny, 21 C"},
         {"title": "Radar", "url": "https://w.example/radar", "content": "No rain"},
         {"title": "3", "url": "https://w.example/3", "content": "c3"},
         {"title": "4", "url": "https://w.example/4", "content": "c4"},
         {"title": "5", "url": "https://w.example/5", "content": "c5"},
         {"title": "6", "url": "https://w.example/6", "content": "c6"},
         {"title": "7", "url": "https://w.example/7", "content": "c7"}
       ]},
      {"match": {"regex": "^stock (price|quote)", "flags": "i"},
       "results": [{"title": "ACME", "url": "https://s.example/acme", "content": "ACME 42.00", "score": 0.8}]},
      {"match": "quota", "error": {"status": 429, "message": "Usage limit exceeded"}}
    ],
    "pages": [
      {"url": "https://docs.example/guide", "raw_content": "# Guide\nStep one.", "images": ["https://docs.example/a.png"]},
      {"url": "https://docs.example/guide/install", "raw_content": "# Install\npip install it"}
    ]
  },
  "rerank": [
    {"match": {"regex": "^pinned"}, "results": [{"index": 1, "relevance_score": 0.97}, {"index": 0, "relevance_score": 0.12}, {"index": 9, "relevance_score": 0.1}]}
  ],
  "moderate": {"fixtures": [
    {"match": "kill", "result": {"categories": {"violence": true, "harassment/threatening": true},
                                 "category_scores": {"violence": 0.97}}},
    {"match": {"regex": "sh[o0]plift"}, "result": {"categories": ["illicit"]}},
    {"match": "overload", "error": {"status": 503, "message": "The server is overloaded"}}
  ]}
}}"##;

const CATEGORIES: [&str; 13] = [
    "sexual",
    "hate",
    "harassment",
    "self-harm",
    "sexual/minors",
    "hate/threatening",
    "violence/graphic",
    "self-harm/intent",
    "self-harm/instructions",
    "harassment/threatening",
    "violence",
    "illicit",
    "illicit/violent",
];

fn services_config() -> ServicesConfig {
    let (config, warnings) = Config::parse(CONFIG).expect("the config parses");
    assert!(warnings.is_empty(), "{warnings:?}");
    config.services.expect("a services section")
}

async fn server() -> MockServer {
    MockServer::builder()
        .services(services_config())
        .start()
        .await
}

async fn post_raw(
    s: &MockServer,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    support::status_json(support::post_raw(s, path, body.to_owned(), headers).await).await
}

async fn post(s: &MockServer, path: &str, body: Value) -> (u16, Value) {
    post_raw(s, path, &body.to_string(), &[]).await
}

// ------------------------------------------------------------------------------------- search

#[tokio::test]
async fn search_answers_from_a_fixture_in_tavilys_shape() {
    let s = server().await;
    let (status, r) = post(
        &s,
        "/search",
        json!({"query": "What is the WEATHER in Paris?", "include_answer": "advanced",
               "include_images": true, "include_raw_content": "markdown"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["query"], "What is the WEATHER in Paris?");
    assert_eq!(r["answer"], "Sunny and 21 C.");
    assert_eq!(r["images"], json!(["https://img.example/sun.png"]));
    assert_eq!(r["follow_up_questions"], json!(["And tomorrow?"]));
    assert!(r["response_time"].is_number());
    assert_eq!(r["request_id"].as_str().map(str::len), Some(36));
    let results = r["results"].as_array().unwrap();
    // Tavily's default max_results is 5.
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["title"], "Forecast");
    assert_eq!(results[0]["score"], 0.93);
    assert_eq!(results[0]["raw_content"], "# Today\nSunny, 21 C");
    // No raw_content in the fixture: the content stands in; a missing score is filled in.
    assert_eq!(results[1]["raw_content"], "No rain");
    assert!(results[1]["score"].as_f64().unwrap() > 0.0);

    // Not asked for: no answer, no images, raw_content null; max_results slices.
    let (_, r) = post(&s, "/search", json!({"query": "weather", "max_results": 2})).await;
    assert_eq!(r["answer"], Value::Null);
    assert_eq!(r["images"], json!([]));
    assert_eq!(r["results"].as_array().unwrap().len(), 2);
    assert_eq!(r["results"][0]["raw_content"], Value::Null);
    let (_, r) = post(&s, "/search", json!({"query": "weather", "max_results": 7})).await;
    assert_eq!(r["results"].as_array().unwrap().len(), 7);
    // Descriptions asked for: images become objects.
    let (_, r) = post(
        &s,
        "/search",
        json!({"query": "weather", "include_images": true, "include_image_descriptions": true}),
    )
    .await;
    assert_eq!(r["images"][0]["url"], "https://img.example/sun.png");
}

#[tokio::test]
async fn search_regex_fixtures_misses_and_the_journal() {
    let s = server().await;
    let (_, r) = post(&s, "/search", json!({"query": "Stock QUOTE for ACME"})).await;
    assert_eq!(r["results"][0]["title"], "ACME");
    // The regex is anchored: no match, so empty results (200).
    let (status, r) = post(&s, "/search", json!({"query": "the stock price"})).await;
    assert_eq!(status, 200);
    assert_eq!(r["results"], json!([]));
    assert_eq!(r["query"], "the stock price");

    // Domain filters apply to the fixture's results.
    let (_, r) = post(
        &s,
        "/search",
        json!({"query": "weather", "include_domains": ["https://www.W.example/"], "max_results": 10}),
    )
    .await;
    assert_eq!(r["results"].as_array().unwrap().len(), 7);
    let (_, r) = post(
        &s,
        "/search",
        json!({"query": "weather", "include_domains": ["example"], "exclude_domains": ["w.example"]}),
    )
    .await;
    assert_eq!(r["results"], json!([]));
    let (_, r) = post(
        &s,
        "/search",
        json!({"query": "stock price", "include_domains": ["other.example"]}),
    )
    .await;
    assert_eq!(r["results"], json!([]));

    let journal = s.journal();
    assert_eq!(journal.len(), 5);
    let last = serde_json::to_value(&journal[1]).unwrap();
    assert_eq!(journal[0].response.source, Some("fixture"));
    assert_eq!(journal[1].response.source, Some("internal"));
    assert_eq!(last["service"], "search");
    assert_eq!(last["body"]["query"], "the stock price");
    assert_eq!(last["response"]["status"], 200);
}

#[tokio::test]
async fn search_errors_use_tavilys_envelope() {
    let s = server().await;
    let (status, r) = post_raw(&s, "/search", "{not json", &[]).await;
    assert_eq!(status, 400);
    assert!(
        r["detail"]["error"]
            .as_str()
            .unwrap()
            .contains("Malformed JSON"),
        "{r}"
    );
    let (status, r) = post(&s, "/search", json!({"max_results": 3})).await;
    assert_eq!(status, 400);
    assert!(r["detail"]["error"].as_str().unwrap().contains("query"));
    let (status, r) = post(&s, "/search", json!(["query"])).await;
    assert_eq!(status, 400, "{r}");
    let (status, r) = post(&s, "/search", json!({"query": "my quota"})).await;
    assert_eq!(status, 429);
    assert_eq!(r["detail"]["error"], "Usage limit exceeded");
    let journal = s.journal();
    assert_eq!(journal.len(), 4);
    assert!(journal.iter().all(|e| e.service == Some("search")));
    assert_eq!(journal[3].response.status, 429);
}

#[tokio::test]
async fn strict_mode_refuses_a_miss_unless_the_catch_all_is_on() {
    let s = MockServer::builder()
        .strict(true)
        .services(services_config())
        .start()
        .await;
    let (status, r) = post(&s, "/search", json!({"query": "nothing matches"})).await;
    assert_eq!(status, 503);
    assert!(r["detail"]["error"]
        .as_str()
        .unwrap()
        .starts_with("Strict mode: no fixture matched"));
    let (status, r) = post(&s, "/v2/rerank", json!({"query": "q", "documents": ["a"]})).await;
    assert_eq!(status, 503);
    assert!(r["message"].as_str().unwrap().starts_with("Strict mode"));
    let (status, r) = post(&s, "/v1/moderations", json!({"input": "hello"})).await;
    assert_eq!(status, 503);
    assert_eq!(r["error"]["code"], "no_fixture_match");
    // A hit still answers.
    let (status, _) = post(&s, "/search", json!({"query": "weather"})).await;
    assert_eq!(status, 200);
    let journal = s.journal();
    assert_eq!(journal[0].response.status, 503);

    // The header turns strict mode on for one request.
    let s = server().await;
    let (status, _) = post_raw(
        &s,
        "/v1/moderations",
        &json!({"input": "hello"}).to_string(),
        &[("x-aimock-strict", "true")],
    )
    .await;
    assert_eq!(status, 503);

    // `true` is a catch-all: strict mode answers.
    let (config, _) =
        Config::parse(r#"{"services": {"search": true, "rerank": true, "moderate": true}}"#)
            .expect("parses");
    let s = MockServer::builder()
        .strict(true)
        .services(config.services.unwrap())
        .start()
        .await;
    let (status, r) = post(&s, "/search", json!({"query": "anything"})).await;
    assert_eq!((status, r["results"].clone()), (200, json!([])));
    let (status, _) = post(&s, "/v2/rerank", json!({"query": "q", "documents": ["a"]})).await;
    assert_eq!(status, 200);
    let (status, _) = post(&s, "/v1/moderations", json!({"input": "hello"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn extract_crawl_and_map_serve_pages() {
    let s = server().await;
    let (status, r) = post(
        &s,
        "/extract",
        json!({"urls": ["https://docs.example/guide/", "https://nowhere.example"], "include_images": true}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["results"].as_array().unwrap().len(), 1);
    assert_eq!(r["results"][0]["url"], "https://docs.example/guide");
    assert_eq!(r["results"][0]["raw_content"], "# Guide\nStep one.");
    assert_eq!(
        r["results"][0]["images"],
        json!(["https://docs.example/a.png"])
    );
    assert_eq!(r["failed_results"][0]["url"], "https://nowhere.example");
    assert!(r["failed_results"][0]["error"].is_string());
    // One URL as a string.
    let (_, r) = post(
        &s,
        "/extract",
        json!({"urls": "https://docs.example/guide/install"}),
    )
    .await;
    assert_eq!(r["results"][0]["raw_content"], "# Install\npip install it");
    assert_eq!(r["failed_results"], json!([]));

    let (_, r) = post(&s, "/crawl", json!({"url": "https://docs.example/guide"})).await;
    assert_eq!(r["base_url"], "https://docs.example/guide");
    assert_eq!(r["results"].as_array().unwrap().len(), 2);
    let (_, r) = post(
        &s,
        "/map",
        json!({"url": "https://docs.example/guide", "limit": 1}),
    )
    .await;
    assert_eq!(r["results"], json!(["https://docs.example/guide"]));
    let (status, r) = post(&s, "/extract", json!({"urls": 5})).await;
    assert_eq!(status, 400);
    assert!(r["detail"]["error"].is_string());
}

// ------------------------------------------------------------------------------------- rerank

#[tokio::test]
async fn rerank_without_fixtures_ranks_lexically() {
    let s = server().await;
    let docs = json!([
        "Carson City is the capital city of the American state of Nevada.",
        "Bananas are yellow and rich in potassium.",
        "Washington, D.C. is the capital of the United States.",
        "Capital punishment has existed in the United States since before it was a country.",
    ]);
    let (status, r) = post(
        &s,
        "/v2/rerank",
        json!({"model": "rerank-v3.5", "query": "What is the capital of the United States?", "documents": docs, "top_n": 3}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["index"], 2, "{r}");
    let scores: Vec<f64> = results
        .iter()
        .map(|x| x["relevance_score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores.iter().all(|x| *x > 0.0 && *x <= 1.0));
    // The banana document is not among the top 3.
    assert!(results.iter().all(|x| x["index"] != 1));
    assert_eq!(r["meta"]["api_version"]["version"], "2");
    assert_eq!(r["meta"]["billed_units"]["search_units"], 1);
    assert_eq!(r["id"].as_str().map(str::len), Some(36));
    // Deterministic: the same request, the same ranking.
    let (_, again) = post(
        &s,
        "/v2/rerank",
        json!({"model": "rerank-v3.5", "query": "What is the capital of the United States?", "documents": docs, "top_n": 3}),
    )
    .await;
    assert_eq!(again["results"], r["results"]);
    let j = serde_json::to_value(s.journal().last().unwrap()).unwrap();
    assert_eq!(j["service"], "rerank");
    assert_eq!(j["body"]["top_n"], 3);
}

#[tokio::test]
async fn rerank_fixtures_v1_documents_and_errors() {
    let s = server().await;
    let (_, r) = post(
        &s,
        "/v2/rerank",
        json!({"model": "m", "query": "pinned query", "documents": ["a", "b"]}),
    )
    .await;
    // The fixture's order; an index beyond the documents is dropped.
    assert_eq!(
        r["results"],
        json!([{"index": 1, "relevance_score": 0.97}, {"index": 0, "relevance_score": 0.12}])
    );

    // v1: objects, rank_fields, return_documents.
    let (status, r) = post(
        &s,
        "/v1/rerank",
        json!({"query": "install guide", "return_documents": true, "rank_fields": ["title"],
               "documents": [{"title": "Cooking pasta", "body": "install"}, {"title": "Install guide", "body": "x"}, "plain"]}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["results"][0]["index"], 1);
    assert_eq!(r["results"][0]["document"]["title"], "Install guide");
    assert_eq!(r["meta"]["api_version"]["version"], "1");

    // Run-time fixtures come after the configured ones.
    s.services().on_rerank(
        "apples",
        vec![RerankResult {
            index: 0,
            relevance_score: 0.5,
        }],
    );
    let (_, r) = post(
        &s,
        "/v2/rerank",
        json!({"query": "APPLES", "documents": ["x", "y"]}),
    )
    .await;
    assert_eq!(r["results"], json!([{"index": 0, "relevance_score": 0.5}]));

    let (status, r) = post_raw(&s, "/v2/rerank", "{", &[]).await;
    assert_eq!(status, 400);
    assert!(
        r["message"].as_str().unwrap().contains("invalid request"),
        "{r}"
    );
    let (status, r) = post(&s, "/v2/rerank", json!({"query": "q"})).await;
    assert_eq!(status, 400);
    assert!(r["message"].as_str().unwrap().contains("documents"));
    let (status, _) = post(
        &s,
        "/v2/rerank",
        json!({"query": "q", "documents": ["a"], "top_n": 0}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(&s, "/v2/rerank", json!({"query": "q", "documents": [1]})).await;
    assert_eq!(status, 400);
}

// --------------------------------------------------------------------------------- moderation

#[tokio::test]
async fn moderation_defaults_to_unflagged_with_every_category() {
    let s = server().await;
    let (status, r) = post(
        &s,
        "/v1/moderations",
        json!({"input": ["hello", "good day"]}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert!(r["id"].as_str().unwrap().starts_with("modr-"));
    assert_eq!(r["model"], "omni-moderation-latest");
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for res in results {
        assert_eq!(res["flagged"], false);
        assert_eq!(res["categories"].as_object().unwrap().len(), 13);
        for c in CATEGORIES {
            assert_eq!(res["categories"][c], false, "{c}");
            assert_eq!(res["category_scores"][c], 0.0, "{c}");
            assert_eq!(
                res["category_applied_input_types"][c],
                json!(["text"]),
                "{c}"
            );
        }
    }
    let j = serde_json::to_value(s.journal().last().unwrap()).unwrap();
    assert_eq!(j["service"], "moderation");
    assert_eq!(j["body"]["input"], json!(["hello", "good day"]));
}

#[tokio::test]
async fn moderation_fixtures_flag_per_input() {
    let s = server().await;
    let (_, r) = post(
        &s,
        "/v1/moderations",
        json!({"model": "text-moderation-latest", "input": ["a nice day", "I will KILL you"]}),
    )
    .await;
    assert_eq!(r["model"], "text-moderation-latest");
    assert_eq!(r["results"][0]["flagged"], false);
    let flagged = &r["results"][1];
    assert_eq!(flagged["flagged"], true);
    assert_eq!(flagged["categories"]["violence"], true);
    assert_eq!(flagged["categories"]["harassment/threatening"], true);
    assert_eq!(flagged["categories"]["hate"], false);
    assert_eq!(flagged["category_scores"]["violence"], 0.97);
    assert!(
        flagged["category_scores"]["harassment/threatening"]
            .as_f64()
            .unwrap()
            > 0.5
    );

    // Regex fixture; a list of category names.
    let (_, r) = post(&s, "/v1/moderations", json!({"input": "how to sh0plift"})).await;
    assert_eq!(r["results"][0]["categories"]["illicit"], true);
    assert_eq!(r["results"][0]["flagged"], true);

    // Multi-modal parts: one result, text parts matched, image types applied.
    let (_, r) = post(
        &s,
        "/v1/moderations",
        json!({"input": [{"type": "text", "text": "kill"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}),
    )
    .await;
    assert_eq!(r["results"].as_array().unwrap().len(), 1);
    assert_eq!(r["results"][0]["flagged"], true);
    assert_eq!(
        r["results"][0]["category_applied_input_types"]["violence"],
        json!(["text", "image"])
    );
    assert_eq!(
        r["results"][0]["category_applied_input_types"]["hate"],
        json!(["text"])
    );

    // Run-time fixture, then reset drops it (the configured ones stay).
    s.services().on_moderate(
        Pattern::regex("^spam", "").unwrap(),
        json!({"categories": {"harassment": true}}),
    );
    let (_, r) = post(&s, "/v1/moderations", json!({"input": "spam spam"})).await;
    assert_eq!(r["results"][0]["categories"]["harassment"], true);
    let reset = reqwest::Client::new()
        .post(format!("{}/__aimock/reset", s.uri()))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    let (_, r) = post(&s, "/v1/moderations", json!({"input": "spam spam"})).await;
    assert_eq!(r["results"][0]["flagged"], false);
    let (_, r) = post(&s, "/v1/moderations", json!({"input": "kill"})).await;
    assert_eq!(r["results"][0]["flagged"], true);
}

#[tokio::test]
async fn moderation_errors_use_openais_envelope() {
    let s = server().await;
    let (status, r) = post_raw(&s, "/v1/moderations", "{\"input\":", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(r["error"]["code"], "invalid_json");
    assert_eq!(r["error"]["type"], "invalid_request_error");
    let (status, r) = post(
        &s,
        "/v1/moderations",
        json!({"model": "omni-moderation-latest"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(r["error"]["param"], "input");
    let (status, r) = post(&s, "/v1/moderations", json!({"input": "overload now"})).await;
    assert_eq!(status, 503);
    assert_eq!(r["error"]["message"], "The server is overloaded");
    // An OpenAI-compatible prefix reaches the same route.
    let (status, _) = post(&s, "/openai/v1/moderations", json!({"input": "x"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rust_api_search_fixtures_and_reset() {
    let s = MockServer::start().await;
    s.services().on_search(
        "rust",
        vec![json!({"title": "Rust", "url": "https://rust-lang.org", "content": "A language"})],
    );
    s.services().add_page("https://rust-lang.org", "# Rust");
    let (_, r) = post(&s, "/search", json!({"query": "learn Rust"})).await;
    assert_eq!(r["results"][0]["url"], "https://rust-lang.org");
    let (_, r) = post(&s, "/extract", json!({"urls": ["https://rust-lang.org"]})).await;
    assert_eq!(r["results"][0]["raw_content"], "# Rust");
    s.reset();
    let (_, r) = post(&s, "/search", json!({"query": "learn Rust"})).await;
    assert_eq!(r["results"], json!([]));
}

#[test]
fn config_forms_and_unknown_keys() {
    let (c, w) = Config::parse(
        r#"{"services": {"search": [{"match": "a", "results": [{"title": "t"}]}], "rerank": false,
                          "moderate": {"catchAll": true, "fixtures": [{"match": "x", "colour": "red"}]}}}"#,
    )
    .expect("parses");
    let fields: Vec<_> = w.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["services.moderate.fixtures[0].colour"]);
    let services = c.services.expect("section");
    assert_eq!(
        services.search.as_ref().map(|s| s.fixtures().len()),
        Some(1)
    );
    assert!(services.moderate.as_ref().is_some_and(|m| m.catch_all()));
    // A bad regex is refused when the server is built, naming the fixture.
    let (c, _) =
        Config::parse(r#"{"services": {"rerank": [{"match": {"regex": "("}}]}}"#).expect("parses");
    let mut server = aimock::server::ServerConfig::default();
    c.apply_to(&mut server);
    let err = aimock::server::AppState::try_new(server).expect_err("refused");
    assert!(err.contains("services.rerank[0].match"), "{err}");
}

#[tokio::test]
async fn control_api_adds_lists_and_resets_fixtures() {
    let s = server().await;
    let client = reqwest::Client::new();
    let control = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = client.request(method, format!("{}/__aimock/services{path}", s.uri()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, r) = control(reqwest::Method::GET, "", None).await;
    assert_eq!(status, 200);
    assert_eq!(r["search"]["fixtures"], 3);
    assert_eq!(r["search"]["pages"], 2);
    assert_eq!(r["moderate"]["catchAll"], false);

    // One fixture object; a list; a section with pages; `true` for the catch-all.
    let (status, r) = control(
        reqwest::Method::POST,
        "/search",
        Some(json!({"match": "tides", "results": [{"title": "Tide table", "url": "https://t.example"}]})),
    )
    .await;
    assert_eq!((status, r["added"].clone()), (200, json!(1)));
    let (_, r) = control(
        reqwest::Method::POST,
        "/search",
        Some(json!({"pages": [{"url": "https://t.example", "raw_content": "High tide at 6"}]})),
    )
    .await;
    assert_eq!(r["added"], 1);
    let (_, r) = control(
        reqwest::Method::POST,
        "/rerank",
        Some(json!([{"match": "fixed", "results": [{"index": 0, "relevance_score": 0.3}]}])),
    )
    .await;
    assert_eq!(r["added"], 1);
    let (_, _) = control(reqwest::Method::POST, "/moderate", Some(json!(true))).await;
    let (_, r) = control(reqwest::Method::GET, "", None).await;
    assert_eq!(r["moderate"]["catchAll"], true);
    assert_eq!(r["search"]["fixtures"], 4);

    let (_, r) = post(&s, "/search", json!({"query": "TIDES today"})).await;
    assert_eq!(r["results"][0]["title"], "Tide table");
    let (_, r) = post(&s, "/extract", json!({"urls": ["https://t.example"]})).await;
    assert_eq!(r["results"][0]["raw_content"], "High tide at 6");
    let (_, r) = post(
        &s,
        "/v2/rerank",
        json!({"query": "fixed", "documents": ["a", "b"]}),
    )
    .await;
    assert_eq!(r["results"], json!([{"index": 0, "relevance_score": 0.3}]));

    // A bad pattern adds nothing; bad JSON is a 400; unknown routes 404.
    let (status, r) = control(
        reqwest::Method::POST,
        "/moderate",
        Some(json!([{"match": "ok"}, {"match": {"regex": "("}}])),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        r["error"].as_str().unwrap().contains("fixtures[1].match"),
        "{r}"
    );
    let (_, r) = control(reqwest::Method::GET, "", None).await;
    assert_eq!(r["moderate"]["fixtures"], 3);
    let (status, _) = control(reqwest::Method::POST, "/translate", Some(json!({}))).await;
    assert_eq!(status, 404);

    // DELETE: back to the configured fixtures.
    let (status, _) = control(reqwest::Method::DELETE, "", None).await;
    assert_eq!(status, 200);
    let (_, r) = control(reqwest::Method::GET, "", None).await;
    assert_eq!(r["search"]["fixtures"], 3);
    assert_eq!(r["rerank"]["fixtures"], 1);
    assert_eq!(r["moderate"]["catchAll"], false);
    let (_, r) = post(&s, "/search", json!({"query": "tides"})).await;
    assert_eq!(r["results"], json!([]));
}
