//! aimock: one fast mock server for everything an AI application talks to.
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
//! - [`mock`]: [`MockServer`], the API for Rust tests.
//! - [`record`]: record and replay through the real providers.
//! - [`chaos`]: injected failures (drop, malformed, disconnect, rate limit, latency).
//! - [`metrics`]: Prometheus metrics.
//! - [`auth`]: inbound API-key checks.

pub mod a2a;
pub mod agui;
pub mod auth;
pub mod chaos;
pub mod config;
pub mod conversation;
pub mod fixture;
pub(crate) mod http;
pub mod journal;
pub(crate) mod jsonrpc;
pub mod mcp;
pub mod metrics;
pub mod mock;
pub(crate) mod pipeline;
pub mod providers;
pub mod record;
pub mod server;
pub mod services;
pub mod stream;
pub mod vector;

pub use fixture::{FixtureEntry, MatchSpec, ResponseSpec};
pub use mock::{MockServer, MockServerBuilder};
