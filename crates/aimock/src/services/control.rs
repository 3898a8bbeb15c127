//! `/__aimock/services/...`: the service fixtures at run time (the table is in the module docs
//! of [`crate::services`]).

use axum::response::Response;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::config::{FixtureSection, SearchSection, ServiceSetting};
use super::{ModerationFixture, Pattern, RerankFixture, SearchFixture, ServiceMatch, Services};
use crate::http::{control_error, json_response, ControlRequest};

fn bad_request(message: impl Into<String>) -> Response {
    control_error(StatusCode::BAD_REQUEST, message)
}

/// `/__aimock/services` + `req.sub`.
pub(crate) fn control(s: &Services, req: &ControlRequest) -> Response {
    match (&req.method, req.sub.trim_end_matches('/')) {
        (&Method::GET, "") => json_response(StatusCode::OK, &summary(s)),
        (&Method::DELETE, "") => {
            s.reset();
            json_response(StatusCode::OK, &json!({ "reset": true }))
        }
        (&Method::POST, which @ ("/search" | "/rerank" | "/moderate")) => {
            let value = req.json().clone();
            let added = match which {
                "/search" => add_search(s, value),
                "/rerank" => add(
                    s,
                    value,
                    |f: &RerankFixture| f.matcher.as_ref(),
                    Services::push_rerank,
                    |s, on| s.rules.write().rerank_catch_all = on,
                ),
                _ => add(
                    s,
                    value,
                    |f: &ModerationFixture| f.matcher.as_ref(),
                    Services::push_moderate,
                    |s, on| s.rules.write().moderate_catch_all = on,
                ),
            };
            match added {
                Ok(n) => json_response(StatusCode::OK, &json!({ "added": n })),
                Err(e) => bad_request(e),
            }
        }
        _ => req.unknown("/services"),
    }
}

fn summary(s: &Services) -> Value {
    let r = s.rules.read();
    json!({
        "search": { "fixtures": r.search.len(), "pages": r.pages.len(), "catchAll": r.search_catch_all },
        "rerank": { "fixtures": r.rerank.len(), "catchAll": r.rerank_catch_all },
        "moderate": { "fixtures": r.moderate.len(), "catchAll": r.moderate_catch_all },
    })
}

/// A setting (`true`, a list, a section) or one fixture object.
fn parse<F: DeserializeOwned, S: DeserializeOwned>(
    value: Value,
) -> Result<ServiceSetting<F, S>, String> {
    // One fixture object (it has `match`, `results`, `result` or `error`) is a list of one.
    let single = value.as_object().is_some_and(|m| {
        ["match", "results", "result", "error"]
            .iter()
            .any(|k| m.contains_key(*k))
    });
    let value = if single {
        Value::Array(vec![value])
    } else {
        value
    };
    serde_json::from_value(value).map_err(|e| format!("Invalid services fixture: {e}"))
}

/// Compile every pattern first, so a bad one adds nothing.
fn compiled<F>(
    fixtures: Vec<F>,
    matcher: impl Fn(&F) -> Option<&ServiceMatch>,
) -> Result<Vec<(Pattern, F)>, String> {
    fixtures
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            Pattern::compile(matcher(&f))
                .map(|p| (p, f))
                .map_err(|e| format!("fixtures[{i}].match: {e}"))
        })
        .collect()
}

fn add<F: DeserializeOwned>(
    s: &Services,
    value: Value,
    matcher: impl Fn(&F) -> Option<&ServiceMatch>,
    push: impl Fn(&Services, Pattern, F),
    catch_all: impl Fn(&Services, bool),
) -> Result<usize, String> {
    let setting: ServiceSetting<F, FixtureSection<F>> = parse(value)?;
    let (fixtures, on) = match setting {
        ServiceSetting::Enabled(b) => (Vec::new(), Some(b)),
        ServiceSetting::Fixtures(f) => (f, None),
        ServiceSetting::Section(sec) => (sec.fixtures, sec.catch_all.then_some(true)),
    };
    let fixtures = compiled(fixtures, matcher)?;
    let n = fixtures.len();
    for (p, f) in fixtures {
        push(s, p, f);
    }
    if let Some(on) = on {
        catch_all(s, on);
    }
    Ok(n)
}

fn add_search(s: &Services, value: Value) -> Result<usize, String> {
    let setting: ServiceSetting<SearchFixture, SearchSection> = parse(value)?;
    let (fixtures, pages, on) = match setting {
        ServiceSetting::Enabled(b) => (Vec::new(), Vec::new(), Some(b)),
        ServiceSetting::Fixtures(f) => (f, Vec::new(), None),
        ServiceSetting::Section(sec) => (sec.fixtures, sec.pages, sec.catch_all.then_some(true)),
    };
    let fixtures = compiled(fixtures, |f| f.matcher.as_ref())?;
    let n = fixtures.len() + pages.len();
    for (p, f) in fixtures {
        s.push_search(p, f);
    }
    for p in pages {
        s.add_page_fixture(p);
    }
    if let Some(on) = on {
        s.rules.write().search_catch_all = on;
    }
    Ok(n)
}
