//! aimock: one fast mock server for everything an AI application talks to.
//!
//! # Layout
//! - [`conversation`]: the provider-neutral request every provider parses into.
//! - [`fixture`]: the fixture file format, validation, loading and matching.
//! - [`providers`]: one module per provider API (parse, render, stream, errors).
//! - [`stream`]: SSE framing and pacing (streaming physics, interruptions).
//! - [`journal`]: every request answered, bounded, credentials redacted.
//! - [`server`]: configuration, route table, control API, `serve`.

pub mod conversation;
pub mod fixture;
pub mod journal;
pub mod providers;
pub mod server;
pub mod stream;
