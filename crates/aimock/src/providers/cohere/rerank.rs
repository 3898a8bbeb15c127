//! Cohere rerank: `POST /v2/rerank` (documents are strings) and `POST /v1/rerank` (strings or
//! objects, `rank_fields`, `return_documents`).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Value};

use crate::http::ids::uuid;
use crate::http::ApiError;
use crate::pipeline::{Call, RequestCtx};
use crate::providers::endpoint::{Outcome, ServiceApi};
use crate::services::{fixture_error, strict_miss, Services};

/// `POST /v1/rerank` (`V` = 1) and `POST /v2/rerank` (`V` = 2).
#[derive(Debug)]
pub(crate) struct Rerank<const V: u8>;

impl<const V: u8> ServiceApi for Rerank<V> {
    const SERVICE: &'static str = "rerank";

    fn malformed(e: &serde_json::Error) -> ApiError {
        ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("invalid request: malformed JSON: {e}"),
        )
        .with_code("invalid_json")
    }

    fn invalid(message: &str) -> ApiError {
        ApiError::invalid(format!("invalid request: {message}"))
    }

    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, _started: Instant) -> Outcome {
        rerank(&call.core.services, ctx, body, V)
    }
}

/// One document: the text ranked, and what `return_documents` sends back.
struct Doc {
    text: String,
    returned: Value,
}

fn document(d: &Value, rank_fields: Option<&[String]>) -> Option<Doc> {
    match d {
        Value::String(s) => Some(Doc {
            text: s.clone(),
            returned: json!({ "text": s }),
        }),
        Value::Object(m) => {
            let field_text = |k: &str| match m.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let text = match rank_fields {
                Some(fields) => fields
                    .iter()
                    .map(|f| format!("{f}: {}", field_text(f)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                None if m.contains_key("text") => field_text("text"),
                None => m
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => format!("{k}: {s}"),
                        other => format!("{k}: {other}"),
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            Some(Doc {
                text,
                returned: d.clone(),
            })
        }
        _ => None,
    }
}

pub(crate) fn rerank(s: &Services, ctx: &RequestCtx, body: &Value, version: u8) -> Outcome {
    let bad = |m: &str| Outcome::err(Rerank::<1>::invalid(m), false);
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return bad("query is required and must be a string");
    };
    let Some(raw_docs) = body.get("documents").and_then(Value::as_array) else {
        return bad("documents is required and must be a list");
    };
    if raw_docs.is_empty() {
        return bad("documents must not be empty");
    }
    let rank_fields: Option<Vec<String>> = match body.get("rank_fields") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Some(_) => return bad("rank_fields must be a list of strings"),
    };
    let mut docs = Vec::with_capacity(raw_docs.len());
    for (i, d) in raw_docs.iter().enumerate() {
        match document(d, rank_fields.as_deref()) {
            Some(doc) => docs.push(doc),
            None => {
                return bad(&format!(
                    "documents[{i}] must be a string{}",
                    if version == 1 { " or an object" } else { "" }
                ))
            }
        }
    }
    let top_n = match body.get("top_n") {
        None | Some(Value::Null) => docs.len(),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => (n as usize).min(docs.len()),
            _ => return bad("top_n must be a positive integer"),
        },
    };
    let return_documents = body.get("return_documents").and_then(Value::as_bool) == Some(true);
    let max_tokens = match body.get("max_tokens_per_doc") {
        None | Some(Value::Null) => 4096,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => n as usize,
            _ => return bad("max_tokens_per_doc must be a positive integer"),
        },
    };

    let (hit, catch_all) = s.find_rerank(query);
    let ranked: Vec<(usize, f64)> = match &hit {
        Some(rule) => {
            if let Some(e) = &rule.fixture.error {
                return Outcome::err(fixture_error(e), true);
            }
            match &rule.fixture.results {
                Some(results) => results
                    .iter()
                    .filter(|r| r.index < docs.len())
                    .map(|r| (r.index, r.relevance_score))
                    .collect(),
                None => lexical(query, &docs, max_tokens),
            }
        }
        None if ctx.strict && !catch_all => {
            return Outcome::err(strict_miss(&format!("rerank query {query:?}")), false)
        }
        None => lexical(query, &docs, max_tokens),
    };

    let results: Vec<Value> = ranked
        .into_iter()
        .take(top_n)
        .map(|(index, score)| {
            let mut r = json!({ "index": index, "relevance_score": score });
            if return_documents {
                if let Some(d) = docs.get(index) {
                    r["document"] = d.returned.clone();
                }
            }
            r
        })
        .collect();
    let out = json!({
        "id": uuid(),
        "results": results,
        "meta": {
            "api_version": if version == 2 {
                json!({ "version": "2", "is_experimental": false })
            } else {
                json!({ "version": "1" })
            },
            "billed_units": { "search_units": docs.len().div_ceil(100).max(1) },
        },
    });
    Outcome::ok(out, hit.is_some())
}

/// Lower-cased words of letters and digits, a plural `s` dropped from words over three letters.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix('s') {
                Some(stem) if stem.chars().count() > 2 && !stem.ends_with('s') => stem.to_owned(),
                _ => w,
            }
        })
        .collect()
}

/// Every document's BM25 relevance to the query, mapped into (0, 1), best first, ties by index.
/// Only the first `max_tokens` words of a document count (Cohere truncates long documents to
/// `max_tokens_per_doc`, 4096 by default).
fn lexical(query: &str, docs: &[Doc], max_tokens: usize) -> Vec<(usize, f64)> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let mut q = tokens(query);
    q.sort();
    q.dedup();
    let doc_tokens: Vec<Vec<String>> = docs
        .iter()
        .map(|d| {
            let mut t = tokens(&d.text);
            t.truncate(max_tokens);
            t
        })
        .collect();
    let n = docs.len() as f64;
    let avg_len = (doc_tokens.iter().map(Vec::len).sum::<usize>() as f64 / n).max(1.0);
    let mut df: HashMap<&str, f64> = HashMap::new();
    for toks in &doc_tokens {
        let mut seen: Vec<&str> = toks.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_default() += 1.0;
        }
    }
    let mut scored: Vec<(usize, f64)> = doc_tokens
        .iter()
        .enumerate()
        .map(|(i, toks)| {
            let len = toks.len() as f64;
            let mut tf: HashMap<&str, f64> = HashMap::new();
            for t in toks {
                *tf.entry(t.as_str()).or_default() += 1.0;
            }
            let bm25: f64 = q
                .iter()
                .filter_map(|term| {
                    let f = *tf.get(term.as_str())?;
                    let d = df.get(term.as_str()).copied().unwrap_or(0.0);
                    let idf = (1.0 + (n - d + 0.5) / (d + 0.5)).ln();
                    Some(idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len / avg_len)))
                })
                .sum();
            let rel = 0.0001 + 0.9999 * bm25 / (bm25 + 1.0);
            (i, (rel * 1e8).round() / 1e8)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(texts: &[&str]) -> Vec<Doc> {
        texts
            .iter()
            .map(|t| document(&json!(t), None).expect("a string"))
            .collect()
    }

    #[test]
    fn lexical_ranking_puts_the_relevant_document_first() {
        let d = docs(&[
            "Carson City is the capital city of the American state of Nevada.",
            "The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean. Its capital is Saipan.",
            "Washington, D.C. is the capital of the United States.",
            "Capital punishment has existed in the United States since before it was a country.",
            "Bananas are yellow.",
        ]);
        let r = lexical("What is the capital of the United States?", &d, 4096);
        assert_eq!(r[0].0, 2, "{r:?}");
        assert_eq!(r.last().map(|x| x.0), Some(4), "{r:?}");
        for (_, s) in &r {
            assert!(*s > 0.0 && *s <= 1.0);
        }
        // Sorted, ties by index.
        let tie = lexical("zzz", &docs(&["a", "b", "c"]), 4096);
        // Words past max_tokens_per_doc do not count.
        let cut = lexical("needle", &docs(&["hay hay needle", "needle"]), 2);
        assert_eq!(cut[0].0, 1);
        assert_eq!(tie.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(tie.iter().all(|x| x.1 > 0.0));
    }

    #[test]
    fn tokens_fold_case_and_plurals() {
        assert_eq!(
            tokens("Cats, DOGS and glass!"),
            ["cat", "dog", "and", "glass"]
        );
    }

    #[test]
    fn object_documents_use_text_or_rank_fields() {
        let d = json!({"title": "T", "text": "body"});
        assert_eq!(document(&d, None).expect("object").text, "body");
        let f = ["title".to_owned()];
        assert_eq!(document(&d, Some(&f)).expect("object").text, "title: T");
        assert!(document(&json!(3), None).is_none());
    }
}
