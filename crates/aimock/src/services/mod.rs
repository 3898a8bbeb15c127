//! Search (Tavily), rerank (Cohere) and moderation (OpenAI): the APIs everyone forgets to mock.
//!
//! Endpoints, on the main port:
//!
//! | Endpoint | Matched on | With no fixture |
//! | --- | --- | --- |
//! | `POST /search` (Tavily) | `query` | empty `results` |
//! | `POST /extract` (Tavily) | each URL, against the pages | the URL in `failed_results` |
//! | `POST /crawl`, `/map` (Tavily) | the pages at and below `url` | no results |
//! | `POST /v2/rerank`, `/v1/rerank` (Cohere) | `query` | a lexical (BM25) ranking of the documents |
//! | `POST /v1/moderations` (OpenAI) | each input's text | unflagged, every category false / 0 |
//!
//! Fixtures come from `aimock.json`'s `services` section (see [`config`] for its shape), from the
//! Rust API ([`Services::on_search`], [`Services::on_rerank`], [`Services::on_moderate`],
//! [`Services::add_page`], reached through `MockServer::services()`) and from the control API
//! (below). A string pattern matches as a case-insensitive substring, a regular expression as
//! written; the first fixture that matches answers, configured fixtures before those added at run
//! time. Moderation matches each input on its own and answers one result per input (a list of
//! multi-modal parts is one input: its text parts joined by spaces).
//!
//! Search answers in Tavily's shape: `max_results` (default 5, at most 20) cuts the fixture's
//! results, `include_domains` / `exclude_domains` filter them by host, `raw_content` is the
//! fixture's (or its `content`) when `include_raw_content` asks and null otherwise, and `answer`
//! and `images` carry the fixture's only when `include_answer` / `include_images` ask for them
//! (otherwise `null` and `[]`, as in aimock).
//!
//! A request no fixture matches gets the answer in the table above, except in strict mode (the
//! server's `strict`, or `X-AIMock-Strict: true`), where it is a 503 in the provider's error
//! envelope unless the service's catch-all is on (`"search": true`); an extract with any unknown
//! URL counts as a miss. Every request is journaled with `service` `search`, `rerank` or
//! `moderation`, its JSON body and its status; the request metrics count it as any route. Malformed
//! JSON is a 400 in the provider's envelope: Tavily's `{"detail": {"error": ...}}`, Cohere's
//! `{"id": ..., "message": ...}`, OpenAI's `{"error": {...}}`.
//!
//! The lexical ranking: documents and query are lower-cased and split into words (letters and
//! digits; a trailing plural `s` is dropped from words longer than three letters; a document
//! counts only its first `max_tokens_per_doc` words, 4096 by default), each document is scored
//! with BM25 (k1 = 1.2, b = 0.75, document frequencies over the request's documents), and the
//! score `s` becomes a relevance in (0, 1) as `0.0001 + 0.9999 * s / (s + 1)`. Results are sorted
//! by relevance, ties by index, then cut to `top_n`. Documents are strings, or (v1) objects ranked
//! on their `text`, on their `rank_fields`, or else on all their fields.
//!
//! # Control API
//!
//! | Route | Body | Does |
//! | --- | --- | --- |
//! | `GET /__aimock/services` | | counts: `{"search": {"fixtures", "pages", "catchAll"}, "rerank": {..}, "moderate": {..}}` |
//! | `POST /__aimock/services/search` | what `services.search` takes, or one fixture | adds the fixtures (and pages); `true`/`false` sets the catch-all |
//! | `POST /__aimock/services/rerank` | what `services.rerank` takes, or one fixture | the same |
//! | `POST /__aimock/services/moderate` | what `services.moderate` takes, or one fixture | the same |
//! | `DELETE /__aimock/services` | | back to the configured fixtures (`POST /__aimock/reset` does this too) |
//!
//! The POST routes answer `{"added": n}`; a body that does not parse, or a pattern that does not
//! compile, is a 400 naming the problem, and adds nothing.

pub mod config;
mod control;

use std::sync::Arc;

use http::StatusCode;
use parking_lot::RwLock;
use serde_json::Value;

use crate::http::ApiError;
pub use config::{
    ModerationFixture, PageFixture, RerankFixture, RerankResult, SearchFixture, ServiceMatch,
    ServicesConfig,
};
pub(crate) use control::control;

/// What a service fixture matches.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Everything.
    Any,
    /// A case-insensitive substring (kept lower-cased).
    Contains(String),
    /// A regular expression.
    Regex(regex::Regex),
}

impl Pattern {
    /// A case-insensitive substring pattern.
    pub fn contains(text: &str) -> Pattern {
        Pattern::Contains(text.to_lowercase())
    }

    /// A regular expression with JavaScript-style flags (`i`, `m`, `s`, `x`; `g` and `u` are
    /// accepted and change nothing).
    pub fn regex(pattern: &str, flags: &str) -> Result<Pattern, String> {
        let mut b = regex::RegexBuilder::new(pattern);
        for f in flags.chars() {
            match f {
                'i' => b.case_insensitive(true),
                'm' => b.multi_line(true),
                's' => b.dot_matches_new_line(true),
                'x' => b.ignore_whitespace(true),
                'g' | 'u' | 'y' => &mut b,
                other => return Err(format!("unknown regular expression flag `{other}`")),
            };
        }
        b.build().map(Pattern::Regex).map_err(|e| e.to_string())
    }

    fn compile(spec: Option<&ServiceMatch>) -> Result<Pattern, String> {
        match spec {
            None => Ok(Pattern::Any),
            Some(ServiceMatch::Text(t)) => Ok(Pattern::contains(t)),
            Some(ServiceMatch::Regex { regex, flags }) => {
                Pattern::regex(regex, flags.as_deref().unwrap_or(""))
            }
        }
    }

    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Contains(needle) => {
                needle.is_empty()
                    || if text.is_ascii() && needle.is_ascii() {
                        text.to_ascii_lowercase().contains(needle.as_str())
                    } else {
                        text.to_lowercase().contains(needle.as_str())
                    }
            }
            Pattern::Regex(r) => r.is_match(text),
        }
    }
}

impl From<&str> for Pattern {
    fn from(s: &str) -> Pattern {
        Pattern::contains(s)
    }
}

impl From<String> for Pattern {
    fn from(s: String) -> Pattern {
        Pattern::contains(&s)
    }
}

impl From<regex::Regex> for Pattern {
    fn from(r: regex::Regex) -> Pattern {
        Pattern::Regex(r)
    }
}

/// A fixture with its compiled pattern.
#[derive(Debug)]
pub(crate) struct Rule<F> {
    pub(crate) pattern: Pattern,
    pub(crate) fixture: F,
}

/// Every fixture in force.
#[derive(Debug, Clone, Default)]
struct Rules {
    search: Vec<Arc<Rule<SearchFixture>>>,
    pages: Vec<Arc<PageFixture>>,
    rerank: Vec<Arc<Rule<RerankFixture>>>,
    moderate: Vec<Arc<Rule<ModerationFixture>>>,
    search_catch_all: bool,
    rerank_catch_all: bool,
    moderate_catch_all: bool,
}

/// The search, rerank and moderation fixtures of a server: those of `aimock.json` and those
/// added at run time.
#[derive(Debug)]
pub struct Services {
    config: Option<ServicesConfig>,
    configured: Rules,
    rules: RwLock<Rules>,
}

fn compile_all<F: Clone>(
    list: &[F],
    field: &str,
    matcher: impl Fn(&F) -> Option<&ServiceMatch>,
) -> Result<Vec<Arc<Rule<F>>>, String> {
    list.iter()
        .enumerate()
        .map(|(i, f)| {
            Pattern::compile(matcher(f))
                .map(|pattern| {
                    Arc::new(Rule {
                        pattern,
                        fixture: f.clone(),
                    })
                })
                .map_err(|e| format!("services.{field}[{i}].match: {e}"))
        })
        .collect()
}

impl Services {
    /// The services of a configuration; an error names the fixture whose pattern does not
    /// compile.
    pub fn new(config: Option<&ServicesConfig>) -> Result<Services, String> {
        let mut rules = Rules::default();
        if let Some(c) = config {
            if let Some(s) = &c.search {
                let field = match s {
                    config::ServiceSetting::Section(_) => "search.fixtures",
                    _ => "search",
                };
                rules.search = compile_all(s.fixtures(), field, |f| f.matcher.as_ref())?;
                rules.search_catch_all = s.catch_all();
                if let config::ServiceSetting::Section(sec) = s {
                    rules.pages = sec.pages.iter().cloned().map(Arc::new).collect();
                }
            }
            if let Some(s) = &c.rerank {
                let field = match s {
                    config::ServiceSetting::Section(_) => "rerank.fixtures",
                    _ => "rerank",
                };
                rules.rerank = compile_all(s.fixtures(), field, |f| f.matcher.as_ref())?;
                rules.rerank_catch_all = s.catch_all();
            }
            if let Some(s) = &c.moderate {
                let field = match s {
                    config::ServiceSetting::Section(_) => "moderate.fixtures",
                    _ => "moderate",
                };
                rules.moderate = compile_all(s.fixtures(), field, |f| f.matcher.as_ref())?;
                rules.moderate_catch_all = s.catch_all();
            }
        }
        Ok(Services {
            config: config.cloned(),
            rules: RwLock::new(rules.clone()),
            configured: rules,
        })
    }

    /// The configuration the services were built from.
    pub fn config(&self) -> Option<&ServicesConfig> {
        self.config.as_ref()
    }

    /// Back to the configured fixtures: run-time additions are dropped.
    pub fn reset(&self) {
        *self.rules.write() = self.configured.clone();
    }

    /// Answer searches whose query matches `pattern` with `results` (Tavily's result objects:
    /// `title`, `url`, `content`, `score`, ...).
    pub fn on_search(&self, pattern: impl Into<Pattern>, results: Vec<Value>) {
        let fixture = SearchFixture {
            results,
            ..Default::default()
        };
        self.push_search(pattern.into(), fixture);
    }

    /// Add a search fixture (answer, images, follow-up questions, an error...).
    pub fn add_search(&self, fixture: SearchFixture) -> Result<(), String> {
        let pattern = Pattern::compile(fixture.matcher.as_ref())?;
        self.push_search(pattern, fixture);
        Ok(())
    }

    fn push_search(&self, pattern: Pattern, fixture: SearchFixture) {
        self.rules
            .write()
            .search
            .push(Arc::new(Rule { pattern, fixture }));
    }

    /// Serve a page to `/extract`, `/crawl` and `/map`.
    pub fn add_page(&self, url: &str, raw_content: &str) {
        self.add_page_fixture(PageFixture {
            url: url.to_owned(),
            raw_content: raw_content.to_owned(),
            ..Default::default()
        });
    }

    /// Serve a page (with images, a favicon) to `/extract`, `/crawl` and `/map`.
    pub fn add_page_fixture(&self, page: PageFixture) {
        self.rules.write().pages.push(Arc::new(page));
    }

    /// Answer reranks whose query matches `pattern` with `results` (in the order given).
    pub fn on_rerank(&self, pattern: impl Into<Pattern>, results: Vec<RerankResult>) {
        let fixture = RerankFixture {
            results: Some(results),
            ..Default::default()
        };
        self.push_rerank(pattern.into(), fixture);
    }

    /// Add a rerank fixture.
    pub fn add_rerank(&self, fixture: RerankFixture) -> Result<(), String> {
        let pattern = Pattern::compile(fixture.matcher.as_ref())?;
        self.push_rerank(pattern, fixture);
        Ok(())
    }

    fn push_rerank(&self, pattern: Pattern, fixture: RerankFixture) {
        self.rules
            .write()
            .rerank
            .push(Arc::new(Rule { pattern, fixture }));
    }

    /// Answer moderation inputs that match `pattern` with `result` (OpenAI's shape; missing
    /// categories are filled in, e.g. `{"categories": {"violence": true}}`).
    pub fn on_moderate(&self, pattern: impl Into<Pattern>, result: Value) {
        let fixture = ModerationFixture {
            result: Some(result),
            ..Default::default()
        };
        self.push_moderate(pattern.into(), fixture);
    }

    /// Add a moderation fixture.
    pub fn add_moderation(&self, fixture: ModerationFixture) -> Result<(), String> {
        let pattern = Pattern::compile(fixture.matcher.as_ref())?;
        self.push_moderate(pattern, fixture);
        Ok(())
    }

    fn push_moderate(&self, pattern: Pattern, fixture: ModerationFixture) {
        self.rules
            .write()
            .moderate
            .push(Arc::new(Rule { pattern, fixture }));
    }

    /// Turn the catch-alls on or off (`true` in `aimock.json`): search, rerank, moderation.
    pub fn set_catch_all(&self, search: bool, rerank: bool, moderate: bool) {
        let mut r = self.rules.write();
        r.search_catch_all = search;
        r.rerank_catch_all = rerank;
        r.moderate_catch_all = moderate;
    }

    /// Whether the search catch-all is on.
    pub(crate) fn search_catch_all(&self) -> bool {
        self.rules.read().search_catch_all
    }

    pub(crate) fn find_search(&self, query: &str) -> (Option<Arc<Rule<SearchFixture>>>, bool) {
        let r = self.rules.read();
        let hit = r.search.iter().find(|x| x.pattern.matches(query)).cloned();
        (hit, r.search_catch_all)
    }

    pub(crate) fn find_page(&self, url: &str) -> Option<Arc<PageFixture>> {
        let want = trim_url(url);
        let r = self.rules.read();
        r.pages.iter().find(|p| trim_url(&p.url) == want).cloned()
    }

    pub(crate) fn pages_under(&self, base: &str) -> (Vec<Arc<PageFixture>>, bool) {
        let base = trim_url(base);
        let r = self.rules.read();
        let pages = r
            .pages
            .iter()
            .filter(|p| {
                let u = trim_url(&p.url);
                u == base
                    || u.strip_prefix(base)
                        .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
            })
            .cloned()
            .collect();
        (pages, r.search_catch_all)
    }

    pub(crate) fn find_rerank(&self, query: &str) -> (Option<Arc<Rule<RerankFixture>>>, bool) {
        let r = self.rules.read();
        let hit = r.rerank.iter().find(|x| x.pattern.matches(query)).cloned();
        (hit, r.rerank_catch_all)
    }

    pub(crate) fn find_moderation(
        &self,
        text: &str,
    ) -> (Option<Arc<Rule<ModerationFixture>>>, bool) {
        let r = self.rules.read();
        let hit = r.moderate.iter().find(|x| x.pattern.matches(text)).cloned();
        (hit, r.moderate_catch_all)
    }
}

fn trim_url(u: &str) -> &str {
    u.trim().trim_end_matches('/')
}

/// The 503 of a strict miss.
pub(crate) fn strict_miss(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "invalid_request_error",
        format!("Strict mode: no fixture matched {what}"),
    )
    .with_code("no_fixture_match")
}

/// The error a fixture answers with.
pub(crate) fn fixture_error(e: &config::ServiceError) -> ApiError {
    let status = e
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = match status.as_u16() {
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    let mut err = ApiError::new(status, kind, e.message.clone());
    if status == StatusCode::TOO_MANY_REQUESTS {
        err.retry_after = Some(1.0);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_case_insensitively_or_by_regex() {
        assert!(Pattern::from("Weather").matches("what is the WEATHER today"));
        assert!(!Pattern::from("weather").matches("climate"));
        assert!(Pattern::from("").matches("anything"));
        let r = Pattern::regex("^capital of", "i").expect("compiles");
        assert!(r.matches("Capital of France"));
        assert!(!r.matches("the capital of France"));
        assert!(Pattern::regex("(", "").is_err());
        assert!(Pattern::regex("a", "q").is_err());
    }

    #[test]
    fn config_forms_parse_and_bad_patterns_name_the_fixture() {
        let c: ServicesConfig = serde_json::from_str(
            r#"{"search": true, "rerank": [{"match": "x", "results": [{"index": 0, "relevance_score": 0.5}]}],
                "moderate": {"fixtures": [{"match": {"regex": "kill"}, "result": {"flagged": true}}], "catchAll": true}}"#,
        )
        .expect("parses");
        let s = Services::new(Some(&c)).expect("builds");
        let r = s.rules.read();
        assert!(r.search_catch_all && r.search.is_empty());
        assert!(!r.rerank_catch_all && r.rerank.len() == 1);
        assert!(r.moderate_catch_all && r.moderate.len() == 1);
        drop(r);
        let bad: ServicesConfig = serde_json::from_str(
            r#"{"search": {"fixtures": [{"match": "a"}, {"match": {"regex": "("}}]}}"#,
        )
        .expect("parses");
        let e = Services::new(Some(&bad)).expect_err("bad regex");
        assert!(e.starts_with("services.search.fixtures[1].match"), "{e}");
    }

    #[test]
    fn reset_drops_run_time_fixtures() {
        let s = Services::new(None).expect("builds");
        s.on_search("x", vec![]);
        s.add_page("https://a.example", "A");
        assert!(s.find_search("x").0.is_some());
        s.reset();
        assert!(s.find_search("x").0.is_none());
        assert!(s.find_page("https://a.example/").is_none());
    }
}
