//! OpenAI moderation: `POST /v1/moderations`.

use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::http::ApiError;
use crate::pipeline::{Call, RequestCtx};
use crate::providers::endpoint::{Outcome, ServiceApi};
use crate::services::{fixture_error, strict_miss, Services};

/// `POST /v1/moderations`.
#[derive(Debug)]
pub(crate) struct Moderation;

impl ServiceApi for Moderation {
    const SERVICE: &'static str = "moderation";

    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, _started: Instant) -> Outcome {
        moderate(&call.core.services, ctx, body)
    }
}

/// Every category of the current API, in the order OpenAI sends them.
pub(crate) const CATEGORIES: [&str; 13] = [
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

/// The categories that omni models also score on images.
const IMAGE_CATEGORIES: [&str; 6] = [
    "sexual",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "violence",
    "violence/graphic",
];

/// The default score of a category a fixture sets true without a score.
const FLAGGED_SCORE: f64 = 0.9;

/// One input: its text (matched against fixtures) and what kinds of content it has.
struct Input {
    text: String,
    has_text: bool,
    has_image: bool,
}

fn param_error(message: &str) -> ApiError {
    let mut e = ApiError::invalid(message);
    e.param = Some(json!("input"));
    e
}

/// `input`: a string, a list of strings (one result each), or a list of multi-modal parts (one
/// result for them all).
fn inputs(body: &Value) -> Result<Vec<Input>, ApiError> {
    match body.get("input") {
        None | Some(Value::Null) => Err(param_error("Missing required parameter: 'input'.")
            .with_code("missing_required_parameter")),
        Some(Value::String(s)) => Ok(vec![Input {
            text: s.clone(),
            has_text: true,
            has_image: false,
        }]),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| Input {
                text: s.to_owned(),
                has_text: true,
                has_image: false,
            })
            .collect()),
        Some(Value::Array(items)) => {
            let mut texts = Vec::new();
            let mut has_image = false;
            for (i, part) in items.iter().enumerate() {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => match part.get("text").and_then(Value::as_str) {
                        Some(t) => texts.push(t.to_owned()),
                        None => {
                            return Err(param_error(&format!(
                                "Invalid 'input[{i}].text': expected a string."
                            )))
                        }
                    },
                    Some("image_url") => {
                        if part.pointer("/image_url/url").and_then(Value::as_str).is_none() {
                            return Err(param_error(&format!(
                                "Invalid 'input[{i}].image_url': expected an object with a 'url' string."
                            )));
                        }
                        has_image = true;
                    }
                    _ => {
                        return Err(param_error(&format!(
                            "Invalid 'input[{i}]': expected a string, or an object of type 'text' or 'image_url'."
                        )))
                    }
                }
            }
            Ok(vec![Input {
                has_text: !texts.is_empty(),
                text: texts.join(" "),
                has_image,
            }])
        }
        Some(_) => Err(param_error(
            "Invalid 'input': expected a string, a list of strings or a list of content parts.",
        )),
    }
}

fn moderate(s: &Services, ctx: &RequestCtx, body: &Value) -> Outcome {
    let model = match body.get("model") {
        None | Some(Value::Null) => "omni-moderation-latest".to_owned(),
        Some(Value::String(m)) => m.clone(),
        Some(_) => {
            let mut e = ApiError::invalid("Invalid 'model': expected a string.");
            e.param = Some(json!("model"));
            return Outcome::err(e, false);
        }
    };
    let inputs = match inputs(body) {
        Ok(i) => i,
        Err(e) => return Outcome::err(e, false),
    };
    let mut results = Vec::with_capacity(inputs.len());
    let mut matched = false;
    for (i, input) in inputs.iter().enumerate() {
        let (hit, catch_all) = s.find_moderation(&input.text);
        let fixture_result = match &hit {
            Some(rule) => {
                matched = true;
                if let Some(e) = &rule.fixture.error {
                    return Outcome::err(fixture_error(e), true);
                }
                rule.fixture.result.as_ref()
            }
            None if ctx.strict && !catch_all => {
                let what = if inputs.len() > 1 {
                    format!("moderation input {i} ({:?})", input.text)
                } else {
                    format!("moderation input {:?}", input.text)
                };
                return Outcome::err(strict_miss(&what), matched);
            }
            None => None,
        };
        results.push(result(fixture_result, input));
    }
    Outcome::ok(
        json!({
            "id": crate::http::ids::random_id("modr-", 29),
            "model": model,
            "results": results,
        }),
        matched,
    )
}

/// A full moderation result: the fixture's values over every category false / 0.
fn result(fixture: Option<&Value>, input: &Input) -> Value {
    let mut categories = Map::new();
    let mut scores = Map::new();
    let mut applied = Map::new();
    for c in CATEGORIES {
        categories.insert(c.into(), json!(false));
        scores.insert(c.into(), json!(0.0));
        let mut kinds = Vec::new();
        if input.has_text {
            kinds.push("text");
        }
        if input.has_image && IMAGE_CATEGORIES.contains(&c) {
            kinds.push("image");
        }
        applied.insert(c.into(), json!(kinds));
    }
    let f = fixture.and_then(Value::as_object);
    let given_scores = f
        .and_then(|f| f.get("category_scores"))
        .and_then(Value::as_object);
    match f.and_then(|f| f.get("categories")) {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                categories.insert(k.clone(), Value::Bool(v.as_bool().unwrap_or(false)));
            }
        }
        Some(Value::Array(names)) => {
            for n in names.iter().filter_map(Value::as_str) {
                categories.insert(n.to_owned(), json!(true));
            }
        }
        _ => {}
    }
    // A category set true without a score gets a high one; given scores win.
    for (k, v) in &categories {
        if v.as_bool() == Some(true) && !given_scores.is_some_and(|g| g.contains_key(k)) {
            scores.insert(k.clone(), json!(FLAGGED_SCORE));
        }
    }
    if let Some(g) = given_scores {
        for (k, v) in g {
            if v.is_number() {
                scores.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(Value::Object(m)) = f.and_then(|f| f.get("category_applied_input_types")) {
        for (k, v) in m {
            applied.insert(k.clone(), v.clone());
        }
    }
    let flagged = f
        .and_then(|f| f.get("flagged"))
        .and_then(Value::as_bool)
        .unwrap_or_else(|| categories.values().any(|v| v.as_bool() == Some(true)));
    json!({
        "flagged": flagged,
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Input {
        Input {
            text: t.to_owned(),
            has_text: true,
            has_image: false,
        }
    }

    #[test]
    fn the_default_result_has_every_category_unflagged() {
        let r = result(None, &text("hello"));
        assert_eq!(r["flagged"], false);
        for c in CATEGORIES {
            assert_eq!(r["categories"][c], false, "{c}");
            assert_eq!(r["category_scores"][c], 0.0, "{c}");
            assert_eq!(r["category_applied_input_types"][c], json!(["text"]), "{c}");
        }
    }

    #[test]
    fn fixture_categories_flag_and_score() {
        let r = result(
            Some(&json!({"categories": ["violence"], "category_scores": {"hate": 0.2}})),
            &text("x"),
        );
        assert_eq!(r["flagged"], true);
        assert_eq!(r["categories"]["violence"], true);
        assert_eq!(r["category_scores"]["violence"], FLAGGED_SCORE);
        assert_eq!(r["category_scores"]["hate"], 0.2);
        assert_eq!(r["categories"]["illicit/violent"], false);
    }

    #[test]
    fn multimodal_parts_are_one_input_with_image_types() {
        let body = json!({"input": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "data:x"}}]});
        let i = inputs(&body).map_err(|e| e.message.clone()).expect("valid");
        assert_eq!(i.len(), 1);
        let r = result(None, &i[0]);
        assert_eq!(
            r["category_applied_input_types"]["violence"],
            json!(["text", "image"])
        );
        assert_eq!(r["category_applied_input_types"]["hate"], json!(["text"]));
        assert!(inputs(&json!({"input": 3})).is_err());
        assert!(inputs(&json!({})).is_err());
        assert_eq!(
            inputs(&json!({"input": ["a", "b"]})).map(|v| v.len()).ok(),
            Some(2)
        );
    }
}
