//! Tavily: `POST /search`, `/extract`, `/crawl` and `/map`.

use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::http::ids::uuid;
use crate::http::ApiError;
use crate::pipeline::RequestCtx;
use crate::providers::endpoint::Outcome;
use crate::services::{fixture_error, strict_miss, Services};

fn invalid(message: &str) -> ApiError {
    ApiError::invalid(message)
}

/// Tavily's default `max_results`.
const DEFAULT_MAX_RESULTS: usize = 5;
/// Tavily's largest `max_results`.
const MAX_RESULTS: usize = 20;

fn seconds(started: Instant) -> Value {
    let s = (started.elapsed().as_secs_f64() * 100.0).round() / 100.0;
    json!(s)
}

/// `include_answer`, `include_raw_content`: `true` or a mode string asks; `false`/absent doesn't.
fn asks(body: &Value, key: &str) -> bool {
    match body.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty() && s != "false",
        _ => false,
    }
}

pub(crate) fn search(s: &Services, ctx: &RequestCtx, body: &Value, started: Instant) -> Outcome {
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return Outcome::err(
            invalid("Invalid request: `query` is required and must be a string."),
            false,
        );
    };
    let max_results = match body.get("max_results") {
        None | Some(Value::Null) => DEFAULT_MAX_RESULTS,
        Some(v) => match v.as_u64() {
            Some(n) => (n as usize).min(MAX_RESULTS),
            None => {
                return Outcome::err(
                    invalid("Invalid request: `max_results` must be a non-negative integer."),
                    false,
                )
            }
        },
    };
    let (hit, catch_all) = s.find_search(query);
    let fixture = match &hit {
        Some(rule) => {
            if let Some(e) = &rule.fixture.error {
                return Outcome::err(fixture_error(e), true);
            }
            Some(&rule.fixture)
        }
        None if ctx.strict && !catch_all => {
            return Outcome::err(strict_miss(&format!("search query {query:?}")), false)
        }
        None => None,
    };

    let raw = asks(body, "include_raw_content");
    let favicon = asks(body, "include_favicon");
    let include = domains(body, "include_domains");
    let exclude = domains(body, "exclude_domains");
    let results: Vec<Value> = fixture
        .map(|f| f.results.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            let host = r.get("url").and_then(Value::as_str).map(host_of);
            let within = |list: &[String]| {
                host.as_deref().is_some_and(|h| {
                    list.iter().any(|d| {
                        h == d.as_str()
                            || h.strip_suffix(d.as_str()).is_some_and(|p| p.ends_with('.'))
                    })
                })
            };
            (include.is_empty() || within(&include)) && !within(&exclude)
        })
        .take(max_results)
        .enumerate()
        .map(|(i, r)| search_result(r, i, raw, favicon))
        .collect();

    let answer = if asks(body, "include_answer") {
        fixture
            .and_then(|f| f.answer.clone())
            .or_else(|| {
                results
                    .first()
                    .and_then(|r| r.get("content"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .map_or(Value::Null, Value::String)
    } else {
        Value::Null
    };
    let images: Vec<Value> = if asks(body, "include_images") {
        let described = asks(body, "include_image_descriptions");
        fixture
            .map(|f| f.images.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|img| image(img, described))
            .collect()
    } else {
        Vec::new()
    };
    let follow_up = fixture
        .and_then(|f| f.follow_up_questions.clone())
        .map_or(Value::Null, |q| json!(q));

    let mut out = json!({
        "query": query,
        "follow_up_questions": follow_up,
        "answer": answer,
        "images": images,
        "results": results,
        "response_time": seconds(started),
        "request_id": uuid(),
    });
    if asks(body, "auto_parameters") {
        out["auto_parameters"] = json!({
            "topic": body.get("topic").cloned().unwrap_or_else(|| json!("general")),
            "search_depth": body.get("search_depth").cloned().unwrap_or_else(|| json!("basic")),
        });
    }
    if asks(body, "include_usage") {
        let advanced = body.get("search_depth").and_then(Value::as_str) == Some("advanced");
        out["usage"] = json!({ "credits": if advanced { 2 } else { 1 } });
    }
    Outcome::ok(out, hit.is_some())
}

/// `include_domains` / `exclude_domains`, lower-cased, without a scheme or `www.`.
fn domains(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|d| host_of(d).to_owned())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The host of a URL (or of a bare domain), lower-cased, without a port or `www.`.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("").to_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

/// A fixture's result in Tavily's shape: `title`, `url`, `content` and `score` always there,
/// `raw_content` when asked for (else null), `favicon` only when asked for.
fn search_result(r: &Value, i: usize, raw: bool, favicon: bool) -> Value {
    let mut m = match r {
        Value::Object(m) => m.clone(),
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("content".into(), Value::String(s.clone()));
            m
        }
        _ => Map::new(),
    };
    for key in ["title", "url", "content"] {
        if !m.get(key).is_some_and(Value::is_string) {
            m.insert(key.into(), Value::String(String::new()));
        }
    }
    if !m.get("score").is_some_and(Value::is_number) {
        // Falling scores, in the order the fixture lists its results.
        let score = (0.99 - 0.05 * i as f64).max(0.01);
        m.insert("score".into(), json!((score * 100.0).round() / 100.0));
    }
    let raw_content = if raw {
        m.get("raw_content")
            .filter(|v| v.is_string())
            .or_else(|| m.get("content"))
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    m.insert("raw_content".into(), raw_content);
    if favicon {
        let f = m.get("favicon").cloned().unwrap_or(Value::Null);
        m.insert("favicon".into(), f);
    } else {
        m.remove("favicon");
    }
    Value::Object(m)
}

/// An image as Tavily sends it: a URL, or `{url, description}` with `include_image_descriptions`.
fn image(img: &Value, described: bool) -> Option<Value> {
    let (url, description) = match img {
        Value::String(u) => (u.clone(), String::new()),
        Value::Object(m) => (
            m.get("url")?.as_str()?.to_owned(),
            m.get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ),
        _ => return None,
    };
    Some(if described {
        json!({ "url": url, "description": description })
    } else {
        Value::String(url)
    })
}

fn page_json(p: &crate::services::PageFixture, images: bool, favicon: bool) -> Value {
    let mut out = json!({ "url": p.url, "raw_content": p.raw_content });
    if images {
        out["images"] = json!(p.images);
    } else {
        out["images"] = json!([]);
    }
    if favicon {
        out["favicon"] = p.favicon.clone().map_or(Value::Null, Value::String);
    }
    out
}

pub(crate) fn extract(s: &Services, ctx: &RequestCtx, body: &Value, started: Instant) -> Outcome {
    let urls: Vec<&str> = match body.get("urls") {
        Some(Value::String(u)) => vec![u.as_str()],
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
            a.iter().filter_map(Value::as_str).collect()
        }
        _ => {
            return Outcome::err(
                invalid("Invalid request: `urls` is required: a URL or a list of URLs."),
                false,
            )
        }
    };
    if urls.len() > MAX_RESULTS {
        return Outcome::err(
            invalid("Invalid request: at most 20 URLs can be extracted at once."),
            false,
        );
    }
    let images = asks(body, "include_images");
    let favicon = asks(body, "include_favicon");
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for url in &urls {
        match s.find_page(url) {
            Some(p) => results.push(page_json(&p, images, favicon)),
            None => failed.push(*url),
        }
    }
    let catch_all = s.search_catch_all();
    if ctx.strict && !catch_all && !failed.is_empty() {
        return Outcome::err(
            strict_miss(&format!("extract URL(s) {}", failed.join(", "))),
            !results.is_empty(),
        );
    }
    let matched = !results.is_empty();
    let mut out = json!({
        "results": results,
        "failed_results": failed
            .iter()
            .map(|u| json!({ "url": u, "error": "Failed to fetch url" }))
            .collect::<Vec<_>>(),
        "response_time": seconds(started),
        "request_id": uuid(),
    });
    if asks(body, "include_usage") {
        let credits = urls.len().div_ceil(5).max(1);
        out["usage"] = json!({ "credits": credits });
    }
    Outcome::ok(out, matched)
}

/// `/crawl` (pages with content) and `/map` (their URLs): the pages at and below `url`.
pub(crate) fn crawl(
    s: &Services,
    ctx: &RequestCtx,
    body: &Value,
    started: Instant,
    map: bool,
) -> Outcome {
    let Some(url) = body.get("url").and_then(Value::as_str) else {
        return Outcome::err(
            invalid("Invalid request: `url` is required and must be a string."),
            false,
        );
    };
    let limit = body
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(50, |n| n as usize);
    let (pages, catch_all) = s.pages_under(url);
    if pages.is_empty() && ctx.strict && !catch_all {
        return Outcome::err(strict_miss(&format!("crawl of {url:?}")), false);
    }
    let images = asks(body, "include_images");
    let favicon = asks(body, "include_favicon");
    let results: Vec<Value> = pages
        .iter()
        .take(limit)
        .map(|p| {
            if map {
                Value::String(p.url.clone())
            } else {
                page_json(p, images, favicon)
            }
        })
        .collect();
    let mut out = json!({
        "base_url": url,
        "results": results,
        "response_time": seconds(started),
        "request_id": uuid(),
    });
    if asks(body, "include_usage") {
        out["usage"] = json!({ "credits": pages.len().min(limit).div_ceil(10).max(1) });
    }
    Outcome::ok(out, !pages.is_empty())
}
