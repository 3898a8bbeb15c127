//! The Rust API for tests, in the spirit of wiremock: start a [`MockServer`] on a free port,
//! mount [`Mock`]s on it (`Mock::given(matcher).and(matcher).respond_with(responder)`), point
//! your client at [`MockServer::base_url`], and let the server check, when it is dropped, that
//! each mock saw the requests it expected.
//!
//! A mock is a fixture. Its matchers set the fields of the fixture format's `match`
//! ([`matchers`]: [`user_message`](matchers::user_message) sets `userMessage`, ...), its
//! responder gives the `response` and its streaming settings ([`responders`]), and mounting
//! compiles that entry exactly as a fixture file's entry is compiled. So a mock matches and
//! answers as the same fixture in a file would, on every provider's API; [`Mock::fixture_entry`]
//! gives the entry, ready to be written to a file. What a file cannot say is added beside it:
//! closures (as matcher or responder), a name, an expectation, a limit and a priority.
//!
//! # A mock and its expectation
//!
//! ```
//! use aimock::matchers::{model, user_message};
//! use aimock::responders::text;
//! use aimock::{Mock, MockServer, Provider};
//! use serde_json::{json, Value};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let server = MockServer::start().await;
//!     Mock::given(user_message("hello"))
//!         .and(model("gpt-4o"))
//!         .respond_with(text("Hi there!"))
//!         .expect(1)
//!         .named("greeting")
//!         .mount(&server)
//!         .await;
//!
//!     let reply: Value = reqwest::Client::new()
//!         .post(format!("{}/chat/completions", server.base_url(Provider::OpenAi)))
//!         .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello!"}]}))
//!         .send()
//!         .await
//!         .unwrap()
//!         .json()
//!         .await
//!         .unwrap();
//!     assert_eq!(reply["choices"][0]["message"]["content"], "Hi there!");
//!
//!     // Dropping the server would check this too.
//!     server.verify();
//! }
//! ```
//!
//! [`Mock::expect`] takes a number or any range: `.expect(1)`, `.expect(1..)`, `.expect(..=3)`,
//! `.expect(2..5)`. A mock without one may match any number of requests.
//!
//! # When an expectation fails
//!
//! [`MockServer::verify`], and dropping the server, panic with every mock whose expectation
//! failed: its name and match, the expected count, the count it got, and for a mock that got too
//! few the request that came closest and the first field that failed on it:
//!
//! ```should_panic
//! # use aimock::matchers::user_message;
//! # use aimock::responders::text;
//! # use aimock::{Mock, MockServer, Provider};
//! # use serde_json::json;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = MockServer::start().await;
//! Mock::given(user_message("hello"))
//!     .respond_with(text("Hi there!"))
//!     .expect(1)
//!     .named("greeting")
//!     .mount(&server)
//!     .await;
//! reqwest::Client::new()
//!     .post(format!("{}/chat/completions", server.base_url(Provider::OpenAi)))
//!     .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "goodbye"}]}))
//!     .send()
//!     .await
//!     .unwrap();
//! server.verify();
//! // mock expectations failed:
//! // - mock "greeting" { userMessage("hello") }: expected exactly 1 matching request, got 0
//! //     closest miss: request 1 of 1 (POST /v1/chat/completions) failed on `userMessage`: the last user message is "goodbye"
//! # }
//! ```
//!
//! # Closures, limits and priorities
//!
//! Any closure `Fn(&ChatRequest) -> bool` is a matcher, checked after the match fields; a
//! closure `Fn(&ChatRequest) -> Response` is a responder, called per request.
//! [`Mock::up_to_n_times`] makes a mock stop matching after n answers, so that a later one takes
//! over; [`Mock::with_priority`] puts a mock before those with a higher number (default 5, which
//! is also every file fixture's), whatever the order they were mounted in.
//!
//! ```
//! use aimock::conversation::ChatRequest;
//! use aimock::matchers::{any, user_message};
//! use aimock::responders::{error, text};
//! use aimock::{Mock, MockServer, Provider};
//! use serde_json::{json, Value};
//!
//! async fn ask(server: &MockServer, text: &str) -> (u16, Value) {
//!     let r = reqwest::Client::new()
//!         .post(format!("{}/chat/completions", server.base_url(Provider::OpenAi)))
//!         .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}))
//!         .send()
//!         .await
//!         .unwrap();
//!     (r.status().as_u16(), r.json().await.unwrap())
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let server = MockServer::start().await;
//!     // Echo every request...
//!     Mock::given(any())
//!         .respond_with(|req: &ChatRequest| {
//!             text(format!("You said: {}", req.last_user_text().unwrap_or("")))
//!         })
//!         .mount(&server)
//!         .await;
//!     // ...but fail the first long one, whatever was mounted before.
//!     Mock::given(|req: &ChatRequest| req.last_user_text().is_some_and(|t| t.len() > 20))
//!         .respond_with(error(429, "Slow down"))
//!         .up_to_n_times(1)
//!         .with_priority(1)
//!         .expect(1)
//!         .mount(&server)
//!         .await;
//!
//!     let long = "a question of more than twenty characters";
//!     assert_eq!(ask(&server, long).await.0, 429);
//!     let (status, body) = ask(&server, long).await;
//!     assert_eq!(status, 200);
//!     assert_eq!(body["choices"][0]["message"]["content"], format!("You said: {long}"));
//! }
//! ```
//!
//! # Scoped mocks
//!
//! [`Mock::mount_as_scoped`] returns a [`MockGuard`]: the mock answers until the guard is
//! dropped, and dropping it checks the mock's expectation. The guard lists what the mock
//! answered.
//!
//! ```
//! use aimock::matchers::input_text;
//! use aimock::responders::embedding;
//! use aimock::{Mock, MockServer, Provider};
//! use serde_json::json;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let server = MockServer::start().await;
//!     let embed = || {
//!         reqwest::Client::new()
//!             .post(format!("{}/embeddings", server.base_url(Provider::OpenAi)))
//!             .json(&json!({"model": "text-embedding-3-small", "input": "a cat"}))
//!             .send()
//!     };
//!     {
//!         let guard = Mock::given(input_text("cat"))
//!             .respond_with(embedding(vec![0.25, 0.5]))
//!             .expect(1)
//!             .mount_as_scoped(&server)
//!             .await;
//!         assert_eq!(embed().await.unwrap().status(), 200);
//!         assert_eq!(guard.received_requests().len(), 1);
//!     } // checked and unmounted here
//!     // An unmatched embedding request gets a vector derived from its input, not the mock's.
//!     let v: serde_json::Value = embed().await.unwrap().json().await.unwrap();
//!     assert_ne!(v["data"][0]["embedding"], json!([0.25, 0.5]));
//! }
//! ```
//!
//! # Official SDKs
//!
//! [`MockServer::base_url`] gives the base URL each SDK wants for a [`Provider`]: `/v1` for
//! OpenAI, `/api/v1` for OpenRouter, the root for Anthropic, Gemini, Bedrock, Ollama, Cohere,
//! Azure and Mistral.
//!
//! ```
//! use aimock::matchers::user_message;
//! use aimock::responders::text;
//! use aimock::{Mock, MockServer, Provider};
//! use async_openai::config::OpenAIConfig;
//! use async_openai::types::chat::{
//!     ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
//! };
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let server = MockServer::start().await;
//!     Mock::given(user_message("hello"))
//!         .respond_with(text("Hi from aimock"))
//!         .expect(1)
//!         .mount(&server)
//!         .await;
//!     let client = async_openai::Client::with_config(
//!         OpenAIConfig::new()
//!             .with_api_base(server.base_url(Provider::OpenAi))
//!             .with_api_key("sk-test"),
//!     );
//!     let request = CreateChatCompletionRequestArgs::default()
//!         .model("gpt-4o")
//!         .messages([ChatCompletionRequestUserMessageArgs::default()
//!             .content("hello")
//!             .build()
//!             .unwrap()
//!             .into()])
//!         .build()
//!         .unwrap();
//!     let reply = client.chat().create(request).await.unwrap();
//!     assert_eq!(reply.choices[0].message.content.as_deref(), Some("Hi from aimock"));
//! }
//! ```
//!
//! # Fixtures from files and strings
//!
//! Mocks and fixtures mix: [`MockServer::load`] reads fixture files and directories,
//! [`MockServer::load_str`] (and [`MockServerBuilder::fixtures_str`]) the text of one. File
//! fixtures have the default priority, so they and the mocks are tried in the order they were
//! added. [`MockServer::add`] and [`MockServer::mock`] add one fixture from the file format's
//! types, without an expectation.
//!
//! Every server is its own world: fixtures, mocks, match counts and journal belong to the
//! instance.

mod builder;
mod expectations;
mod guard;
pub mod matchers;
mod provider;
pub mod responders;
mod server;
mod spec_builders;

pub use builder::{Mock, MockBuilder, MockError};
pub use expectations::Times;
pub use guard::MockGuard;
pub use provider::Provider;
pub use responders::Response;
pub use server::{MockServer, MockServerBuilder};
