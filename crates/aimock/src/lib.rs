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
//!
//! The modules form layers; a module imports only the layers below its own, so the module graph
//! has no cycle (`tests/it/layers.rs` fails the build on an import that breaks this). Bottom to
//! top:
//!
//! 1. `http` (errors a provider puts in its envelope, JSON responses and writing, bounded bodies,
//!    percent-decoding, ids, times, CORS, control requests) and [`conversation`] (the
//!    provider-neutral request every provider parses into).
//! 2. [`callback`] (a fixture's, a tool's or a query's answer computed by an HTTP endpoint:
//!    the POST, its timeout, its errors), `chaos` (rates, the roll), `stream` (framing: SSE, NDJSON, AWS EventStream; pacing; one
//!    engine for every stream), `jsonrpc` (JSON-RPC 2.0 as data, for MCP and A2A).
//! 3. [`fixture`]: the fixture file format, checking, loading, matching.
//! 4. [`journal`], `metrics`, `auth` (inbound keys), [`services`] (the search, rerank and
//!    moderation fixtures).
//! 5. [`record`]: record and replay (the upstream call, the relay, the collapse engine, files).
//! 6. `pipeline`: what a request goes through below every surface: the shared core, the
//!    request's settings, routes and vendors (envelope, headers, upstream credential), the
//!    exchange (matching, a real miss, chaos as a value carried on the answer, the journal
//!    entry), and the contract of mounted services.
//! 7. The surfaces: `providers` (one folder per API, each with its routes, parser, renderer,
//!    envelope and collapser, over one generic endpoint), [`mcp`], [`a2a`], [`agui`],
//!    [`vector`].
//! 8. [`server`]: dispatch (one target per request, the key check, chaos applied, CORS,
//!    metrics), the control API, the mounts, and [`server::Server`], which binds the main port
//!    and every service's own.
//! 9. [`config`]: `aimock.json`, applied onto a [`server::ServerConfig`].
//! 10. [`mock`]: the API for Rust tests: [`MockServer`], [`Mock`], [`matchers`],
//!     [`responders`].
//!
//! Adding a provider means its folder under `providers/` and one line in
//! `providers::ROUTES`; adding a mounted service, its module, its `MountedService` impl and one
//! line in the server's table of kinds.

pub mod a2a;
pub mod agui;
pub(crate) mod auth;
pub mod callback;
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
pub(crate) mod providers;
pub mod record;
pub mod server;
pub mod services;
pub(crate) mod stream;
pub mod vector;

pub use chaos::ChaosRates;
pub use fixture::{FixtureEntry, MatchSpec, ResponseSpec};
/// A reqwest client builder with the crate's TLS provider (rustls with `ring`) installed: build
/// HTTP clients with it, as the `aimock` binary does for remote fixtures.
pub use http::client::client_builder as http_client_builder;
pub use mock::{
    matchers, responders, Mock, MockBuilder, MockError, MockGuard, MockServer, MockServerBuilder,
    Provider, Response, Times,
};
pub use providers::{fallback_embedding, upstreams};
