//! aimock: one fast mock server for everything an AI application talks to: OpenAI, Anthropic,
//! Gemini, Bedrock, Ollama, Cohere, OpenRouter and more, plus MCP, A2A, AG-UI and vector
//! databases, driven by fixtures.
//!
//! This crate is the server and, for Rust tests, a wiremock-style API: start a [`MockServer`],
//! mount [`Mock`]s on it, point the SDK under test at [`MockServer::base_url`], and the server
//! checks each mock's expectation when it is dropped.
//!
//! ```
//! use aimock::matchers::{tool_name, user_message};
//! use aimock::responders::{text, tool_call};
//! use aimock::{Mock, MockServer, Provider};
//! use serde_json::{json, Value};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let server = MockServer::start().await;
//!     Mock::given(user_message("weather"))
//!         .and(tool_name("get_weather"))
//!         .respond_with(tool_call("get_weather", json!({"city": "Paris"})))
//!         .expect(1)
//!         .mount(&server)
//!         .await;
//!     Mock::given(user_message("hello"))
//!         .respond_with(text("Hi!"))
//!         .mount(&server)
//!         .await;
//!
//!     // Any client: here the Anthropic Messages API, at the root.
//!     let reply: Value = reqwest::Client::new()
//!         .post(format!("{}/v1/messages", server.base_url(Provider::Anthropic)))
//!         .json(&json!({
//!             "model": "claude-sonnet-4-5",
//!             "max_tokens": 100,
//!             "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
//!             "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
//!         }))
//!         .send()
//!         .await
//!         .unwrap()
//!         .json()
//!         .await
//!         .unwrap();
//!     assert_eq!(reply["content"][0]["type"], "tool_use");
//!     assert_eq!(reply["content"][0]["input"], json!({"city": "Paris"}));
//! } // the server is dropped here: the first mock's `expect(1)` is checked
//! ```
//!
//! A mock lowers onto one fixture of aimock's fixture format (`{"fixtures": [{"match": {...},
//! "response": {...}}]}`), the same a fixture file holds, so the Rust API and the files cannot
//! drift apart: [`Mock::fixture_entry`] gives the entry a mock stands for. The [`mock`] module is
//! the guide: expectations and their reports, closures as matchers and responders, limits,
//! priorities, scoped mocks and the official SDKs.
//!
//! # Layout
//! - [`config`]: the `aimock.json` configuration file: schema and loader.
//! - `http`: the leaf layer: provider-neutral errors, JSON responses, bounded bodies,
//!   percent-decoding, ids and times.
//! - `jsonrpc`: JSON-RPC 2.0 as data (error object, standard codes, envelopes, ids), for MCP
//!   and A2A.
//! - [`conversation`]: the provider-neutral request every provider parses into.
//! - [`fixture`]: the fixture file format, validation, loading and matching.
//! - [`providers`]: one module per provider API (parse, render, stream, errors).
//! - [`stream`]: SSE framing and pacing (streaming physics, interruptions).
//! - [`journal`]: every request answered, bounded, credentials redacted.
//! - [`server`]: configuration, route table, control API, `serve`.
//! - [`mock`]: the API for Rust tests: [`MockServer`], [`Mock`], [`matchers`], [`responders`].
//! - [`record`]: record and replay through the real providers.
//! - [`chaos`]: injected failures (drop, malformed, disconnect, rate limit, latency).
//! - [`metrics`]: Prometheus metrics.
//! - [`auth`]: inbound API-key checks.

pub mod a2a;
pub mod agui;
pub(crate) mod auth;
pub(crate) mod chaos;
pub mod config;
pub mod conversation;
pub mod fixture;
pub(crate) mod http;
pub mod journal;
pub(crate) mod jsonrpc;
pub mod mcp;
pub(crate) mod metrics;
pub mod mock;
pub(crate) mod pipeline;
pub mod providers;
pub mod record;
pub mod server;
pub mod services;
pub(crate) mod stream;
pub mod vector;

pub use chaos::ChaosRates;
pub use fixture::{FixtureEntry, MatchSpec, ResponseSpec};
pub use mock::{
    matchers, responders, Mock, MockBuilder, MockError, MockGuard, MockServer, MockServerBuilder,
    Provider, Response, Times,
};
pub use providers::fallback_embedding;
