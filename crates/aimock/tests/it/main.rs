//! aimock's integration tests, as one test binary (`cargo test -p aimock --test it`).
//!
//! Each module was once a test target of its own; as modules of one binary the crate and the
//! test dependencies are linked once instead of once a file. Test names carry their module:
//! `cargo test -p aimock --test it openai_chat::` runs one surface.
//!
//! Golden files live in `snapshots/` beside this file, named by insta after the module path
//! (`it__openai_chat__chat_text_json.snap`); `crates/aimock/tests/wire/` holds captured wire
//! bodies read by the crate's unit tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod a2a;
mod agui;
mod anthropic;
mod bedrock;
mod chaos;
mod cohere;
mod embeddings;
mod examples;
mod gemini;
mod journal_and_control;
mod matching;
mod mcp;
mod mcp_rmcp;
mod metrics_auth;
mod mock_api;
mod ollama;
mod openai_chat;
mod openrouter;
mod record;
mod record_files;
mod responses;
mod services;
mod streaming;
mod vector;
