//! `aimock.json`'s `services` section: search (Tavily), rerank (Cohere) and moderation (OpenAI).
//!
//! Each of `search`, `rerank` and `moderate` takes one of three forms:
//!
//! - `true`: a catch-all that answers every request no fixture matched (empty search results, a
//!   lexical rerank, an unflagged moderation), so even strict mode answers; `false` or absent:
//!   no catch-all (a miss still gets those answers, except in strict mode, where it is a 503).
//! - a list of fixtures: `"search": [{"match": "weather", "results": [...]}]`.
//! - an object: `"search": {"fixtures": [...], "pages": [...], "catchAll": true}`.
//!
//! A fixture's `match` is a string (case-insensitive substring), `{"regex": "...", "flags": "i"}`
//! (a regular expression, flags `i`, `m`, `s`, `x`) or absent (matches everything); the first
//! fixture that matches answers. The answer is written in the API's own wire shape:
//!
//! ```json
//! {"services": {
//!   "search": {"fixtures": [{"match": "weather", "answer": "Sunny.",
//!                             "results": [{"title": "Forecast", "url": "https://w.example",
//!                                          "content": "Sunny, 21 C", "score": 0.93}]}],
//!              "pages": [{"url": "https://w.example", "raw_content": "# Forecast ..."}]},
//!   "rerank": [{"match": {"regex": "^capital"}, "results": [{"index": 2, "relevance_score": 0.98}]}],
//!   "moderate": [{"match": "kill", "result": {"categories": {"violence": true},
//!                                             "category_scores": {"violence": 0.97}}}]
//! }}
//! ```
//!
//! Any fixture may answer with an error instead: `"error": {"status": 429, "message": "..."}`,
//! rendered in the provider's own envelope.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `services`: search, rerank and moderation fixtures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicesConfig {
    /// Tavily search (`POST /search`) fixtures, and pages for `/extract`, `/crawl` and `/map`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<ServiceSetting<SearchFixture, SearchSection>>,
    /// Cohere rerank (`POST /v2/rerank`, `/v1/rerank`) fixtures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank: Option<ServiceSetting<RerankFixture>>,
    /// OpenAI moderation (`POST /v1/moderations`) fixtures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderate: Option<ServiceSetting<ModerationFixture>>,
}

/// One service's setting: a catch-all switch, a list of fixtures, or a full section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServiceSetting<F, S = FixtureSection<F>> {
    /// `true`: answer every unmatched request (aimock's catch-all).
    Enabled(bool),
    /// A list of fixtures.
    Fixtures(Vec<F>),
    /// `{"fixtures": [...], ...}`.
    Section(S),
}

/// What a section holds.
pub trait Section<F> {
    /// The fixtures, in order.
    fn fixtures(&self) -> &[F];
    /// Whether unmatched requests get the default answer even in strict mode.
    fn catch_all(&self) -> bool;
}

impl<F, S: Section<F>> ServiceSetting<F, S> {
    /// The fixtures this setting lists.
    pub fn fixtures(&self) -> &[F] {
        match self {
            ServiceSetting::Enabled(_) => &[],
            ServiceSetting::Fixtures(f) => f,
            ServiceSetting::Section(s) => s.fixtures(),
        }
    }

    /// Whether unmatched requests get the default answer even in strict mode.
    pub fn catch_all(&self) -> bool {
        match self {
            ServiceSetting::Enabled(b) => *b,
            ServiceSetting::Fixtures(_) => false,
            ServiceSetting::Section(s) => s.catch_all(),
        }
    }
}

/// `{"fixtures": [...], "catchAll": true}` for rerank and moderation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureSection<F> {
    /// The fixtures, first match wins.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub fixtures: Vec<F>,
    /// Answer unmatched requests with the default answer even in strict mode.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub catch_all: bool,
}

impl<F> Section<F> for FixtureSection<F> {
    fn fixtures(&self) -> &[F] {
        &self.fixtures
    }
    fn catch_all(&self) -> bool {
        self.catch_all
    }
}

/// `{"fixtures": [...], "pages": [...], "catchAll": true}` for search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchSection {
    /// Search fixtures, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixtures: Vec<SearchFixture>,
    /// Pages that `/extract`, `/crawl` and `/map` serve, by URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageFixture>,
    /// Answer unmatched searches with empty results even in strict mode.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub catch_all: bool,
}

impl Section<SearchFixture> for SearchSection {
    fn fixtures(&self) -> &[SearchFixture] {
        &self.fixtures
    }
    fn catch_all(&self) -> bool {
        self.catch_all
    }
}

/// What a fixture matches: a case-insensitive substring or a regular expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServiceMatch {
    /// Case-insensitive substring.
    Text(String),
    /// A regular expression.
    Regex {
        /// The pattern (Rust `regex` syntax, close to JavaScript's).
        regex: String,
        /// Flags: `i` (case-insensitive), `m`, `s`, `x`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<String>,
    },
}

/// An error a fixture answers with, in the provider's envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceError {
    /// HTTP status (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The message.
    pub message: String,
}

/// A Tavily search fixture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchFixture {
    /// Matched against the request's `query`; absent: every query.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matcher: Option<ServiceMatch>,
    /// Results in Tavily's shape (`title`, `url`, `content`, `score`, `raw_content`, `favicon`,
    /// ...); missing `title`/`url`/`content`/`score` are filled in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<Value>,
    /// The answer, sent when the request asks for one (`include_answer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Image URLs (or `{url, description}` objects), sent when the request asks for images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Value>,
    /// `follow_up_questions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_questions: Option<Vec<String>>,
    /// Answer with an error instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
}

/// A page for Tavily's `/extract`, `/crawl` and `/map`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageFixture {
    /// The page's URL (matched exactly, a trailing `/` ignored).
    pub url: String,
    /// Its content (markdown or text).
    #[serde(default)]
    pub raw_content: String,
    /// Image URLs on the page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Favicon URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favicon: Option<String>,
}

/// One reranked document of a rerank fixture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RerankResult {
    /// Index into the request's documents.
    pub index: usize,
    /// Score in [0, 1].
    pub relevance_score: f64,
}

/// A Cohere rerank fixture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RerankFixture {
    /// Matched against the request's `query`; absent: every query.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matcher: Option<ServiceMatch>,
    /// The ranking; absent: the lexical ranking of the request's documents. Indexes beyond the
    /// request's documents are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<RerankResult>>,
    /// Answer with an error instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
}

/// An OpenAI moderation fixture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationFixture {
    /// Matched against each input's text; absent: every input.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matcher: Option<ServiceMatch>,
    /// The result in OpenAI's shape (`flagged`, `categories`, `category_scores`,
    /// `category_applied_input_types`); missing categories are filled in (false, 0), `categories`
    /// may also be a list of the names that are true, and `flagged` defaults to whether any is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Answer with an error instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
}
