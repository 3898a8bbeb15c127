//! Search (Tavily), rerank (Cohere) and moderation (OpenAI): the APIs everyone forgets to mock.
//! (Being written.)

pub mod config;
