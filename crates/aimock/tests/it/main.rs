//! aimock's integration tests, as one test binary (`cargo test -p aimock --test it`).
//!
//! Each module was once a test target of its own; as modules of one binary the crate and the
//! test dependencies are linked once instead of once a file. Test names carry their module:
//! `cargo test -p aimock --test it openai_chat::` runs one surface.
//!
//! What the modules share is in [`support`]: servers given fixtures, requests, bodies read as
//! they arrive, one SSE reader, waiting for what a server does after answering, and in-process
//! requests for tests on tokio's paused clock. No test bounds real time from above (a loaded
//! machine only makes things later): "took less than" is checked in-process on the paused clock,
//! or replaced by a check of cause and effect.
//!
//! Golden files live in `snapshots/` beside this file, named by insta after the module path
//! (`it__openai_chat__chat_text_json.snap`); `crates/aimock/tests/wire/` holds captured wire
//! bodies read by the crate's unit tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod a2a;
mod agui;
mod anthropic;
mod bedrock;
mod callbacks;
mod chaos;
mod cohere;
mod embeddings;
mod examples;
mod gemini;
mod gemini_live;
mod health;
mod journal_and_control;
mod layers;
mod live;
mod mcp;
mod mcp_rmcp;
mod media_mocks;
mod metrics_auth;
mod mock_api;
mod mounted_chaos;
mod ollama;
mod openai_chat;
mod openrouter;
mod realtime;
mod record;
mod responses;
mod rust_api;
mod services;
mod speech;
mod streaming;
mod support;
mod vector;
mod websocket;
