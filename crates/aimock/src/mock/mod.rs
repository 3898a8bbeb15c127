//! The Rust API for tests, in the spirit of wiremock: start a server on a free port, give it
//! fixtures (built in code with the same types a fixture file deserialises into, or loaded from
//! files), point a client at [`MockServer::uri`], then read the journal.
//!
//! ```no_run
//! # async fn demo() {
//! use aimock::{MatchSpec, MockServer, ResponseSpec};
//!
//! let server = MockServer::start().await;
//! server
//!     .mock(MatchSpec::user_message("hello"), ResponseSpec::text("Hi there!"))
//!     .expect("a valid fixture");
//! let base_url = format!("{}/v1", server.uri()); // give this to your OpenAI client
//! # let _ = base_url;
//! assert_eq!(server.journal().len(), 0);
//! # }
//! ```
//!
//! Every server is its own world: fixtures, match counts and journal belong to the instance.
//! Dropping the server stops it.

mod server;
mod spec_builders;

pub use server::{MockServer, MockServerBuilder};
