//! aimock: one fast mock server for everything an AI application talks to.
//!
//! # Layout
//! - [`conversation`]: the provider-neutral request every provider parses into.
//! - [`fixture`]: the fixture file format, validation, loading and matching.

pub mod conversation;
pub mod fixture;
