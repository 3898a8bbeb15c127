//! One folder per provider API. Each parses its requests into a [`crate::conversation::ChatRequest`],
//! renders a [`crate::fixture::Reply`] as that API's JSON and stream, and puts errors in that API's
//! envelope. What they share lives here: ids, token estimates, JSON string writing and which models
//! reason.

pub mod anthropic;
pub mod bedrock;
pub mod cohere;
pub mod gemini;
pub mod ollama;
pub mod openai;
pub mod openrouter;

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use http::Method;

use crate::http::ApiError;
use crate::record::Provider;
use crate::server::{AppState, RequestCtx, RouteInfo};

/// A provider's request handler: the body has been read (bounded) already.
pub(crate) type Handler = fn(Arc<AppState>, RequestCtx, Bytes, RouteInfo) -> Response;

/// Puts an error in a provider's own envelope.
pub(crate) type ErrorRenderer = fn(&ApiError) -> Response;

/// Where a request goes.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) handler: Handler,
    pub(crate) render: ErrorRenderer,
    pub(crate) info: RouteInfo,
}

/// The provider APIs whose paths are their own, tried in order on the path as sent, before
/// OpenAI path normalization. Each provider's `route` recognises its paths and nothing else.
/// The provider named is record mode's upstream for the route.
pub(crate) fn native_route(method: &Method, path: &str) -> Option<(Route, Provider)> {
    let vertex_or = |r: Route, other: Provider| {
        let p = if r.info.variant == Some("vertex") {
            Provider::VertexAi
        } else {
            other
        };
        (r, p)
    };
    ollama::route(method, path)
        .map(|r| (r, Provider::Ollama))
        .or_else(|| openrouter::route(method, path).map(|r| (r, Provider::OpenRouter)))
        .or_else(|| anthropic::route(method, path).map(|r| vertex_or(r, Provider::Anthropic)))
        .or_else(|| gemini::route(method, path).map(|r| vertex_or(r, Provider::Gemini)))
        .or_else(|| bedrock::route(method, path).map(|r| (r, Provider::Bedrock)))
        .or_else(|| cohere::route(method, path).map(|r| (r, Provider::Cohere)))
}

/// The fixture's reply as a model message, or a 500 naming the fixture and saying that `surface`
/// cannot serve its kind (an embedding fixture matched by a chat request, say).
pub(crate) fn message_reply<'f>(
    fixture: &'f crate::fixture::Fixture,
    surface: &str,
) -> Result<&'f crate::fixture::MessageReply, ApiError> {
    match &fixture.reply {
        crate::fixture::Reply::Message(m) => Ok(m),
        other => Err(ApiError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!(
                "Fixture {} answers with {}, which {surface} cannot serve",
                fixture.describe(),
                other.kind()
            ),
        )),
    }
}

/// A tool call's arguments as the JSON object Anthropic's and Bedrock's `input` must be; anything
/// else (a fixture with non-object arguments) becomes `{}`.
pub(crate) fn tool_input(arguments: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = arguments.trim();
    if trimmed.starts_with('{')
        && matches!(
            serde_json::from_str::<serde_json::Value>(trimmed),
            Ok(serde_json::Value::Object(_))
        )
    {
        std::borrow::Cow::Borrowed(trimmed)
    } else {
        if !trimmed.is_empty() {
            tracing::warn!(
                arguments,
                "tool call arguments are not a JSON object; sending input {{}}"
            );
        }
        std::borrow::Cow::Borrowed("{}")
    }
}

/// aimock's token estimate: a quarter of the characters, rounded up, at least 1.
pub(crate) fn estimate_tokens(chars: usize) -> u64 {
    (chars.div_ceil(4)).max(1) as u64
}

/// Model families that do not reason (aimock's list); everything else is assumed to.
const NON_REASONING: &[&str] = &[
    "gpt-4.1",
    "gpt-4o",
    "gpt-4-turbo",
    "gpt-4",
    "gpt-3.5",
    "claude-3-5-",
    "claude-3.5-",
    "claude-3-haiku",
    "claude-3-opus",
    "claude-3-sonnet",
    "gemini-1.5-",
    "gemini-flash-1.5",
    "gemini-pro-1.5",
    "mistral-",
    "open-mistral",
    "open-mixtral",
    "codestral",
    "ministral",
    "pixtral",
];

fn env_list(name: &str) -> Vec<String> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A model id without provider/region prefixes (`us.anthropic.`, `openai/`), lower-cased.
pub(crate) fn normalize_model(model: &str) -> String {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m).to_owned();
    // Bedrock ids: `us.anthropic.claude-...` -> `claude-...`.
    match m.rfind('.') {
        Some(i)
            if m[..i]
                .split('.')
                .all(|p| p.chars().all(|c| c.is_ascii_alphabetic()))
                && i < m.len() - 1
                && !m[..i].is_empty() =>
        {
            m[i + 1..].to_owned()
        }
        _ => m,
    }
}

/// Whether a model reasons: `AIMOCK_NONREASONING_MODELS`, then `AIMOCK_REASONING_MODELS`, then
/// the built-in list of families that do not; unknown models are assumed to.
pub(crate) fn is_reasoning_model(model: &str) -> bool {
    let m = normalize_model(model);
    if m.is_empty() {
        return true;
    }
    // Entries are normalized like model ids, so `openai/gpt-5` names the same family as `gpt-5`.
    if env_list("AIMOCK_NONREASONING_MODELS")
        .iter()
        .any(|p| m.starts_with(normalize_model(p).as_str()))
    {
        return false;
    }
    if env_list("AIMOCK_REASONING_MODELS")
        .iter()
        .any(|p| m.starts_with(normalize_model(p).as_str()))
    {
        return true;
    }
    !NON_REASONING.iter().any(|p| m.starts_with(p))
}

/// Whether to emit a fixture's reasoning for this model: always, except for a model that does not
/// reason under strict mode (then it is suppressed; otherwise emitted with a warning).
pub(crate) fn emit_reasoning(model: &str, strict: bool) -> bool {
    if is_reasoning_model(model) {
        return true;
    }
    if strict {
        tracing::warn!(
            model,
            "reasoning suppressed: the model does not reason (strict mode)"
        );
        false
    } else {
        tracing::warn!(
            model,
            "fixture has reasoning but the model does not reason; emitting it anyway"
        );
        true
    }
}

/// aimock's deterministic embedding for a text: SHA-256 of the text, re-hashed every 32 values;
/// each byte `b` gives `b / 127.5 - 1`. Equal texts give equal vectors, on every provider.
pub fn fallback_embedding(text: &str, dims: usize) -> Vec<f64> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::with_capacity(dims);
    let mut digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    for i in 0..dims {
        if i > 0 && i % 32 == 0 {
            digest = Sha256::digest(digest).into();
        }
        out.push(f64::from(digest[i % 32]) / 127.5 - 1.0);
    }
    out
}

/// [`fallback_embedding`] written straight into `out` as a JSON array. Every value is one of 256
/// numbers (`b / 127.5 - 1`), so their text is computed once.
pub(crate) fn push_fallback_embedding_json(out: &mut String, text: &str, dims: usize) {
    use sha2::{Digest, Sha256};
    use std::sync::OnceLock;
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=255u8)
            .map(|b| serde_json::to_string(&(f64::from(b) / 127.5 - 1.0)).unwrap_or_default())
            .collect()
    });
    out.reserve(dims * 8 + 2);
    out.push('[');
    let mut digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    for i in 0..dims {
        if i > 0 {
            if i % 32 == 0 {
                digest = Sha256::digest(digest).into();
            }
            out.push(',');
        }
        out.push_str(&table[usize::from(digest[i % 32])]);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fallback_json_equals_the_serialized_fallback_vector() {
        let mut s = String::new();
        super::push_fallback_embedding_json(&mut s, "some text", 100);
        assert_eq!(
            s,
            serde_json::to_string(&super::fallback_embedding("some text", 100)).unwrap()
        );
    }

    use super::*;

    #[test]
    fn reasoning_models_are_told_apart_by_family() {
        assert!(!is_reasoning_model("gpt-4o-mini"));
        assert!(!is_reasoning_model("gpt-4.1"));
        assert!(is_reasoning_model("o3-mini"));
        assert!(is_reasoning_model("claude-sonnet-4-5"));
        assert!(!is_reasoning_model(
            "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
        ));
        assert!(is_reasoning_model("some-new-model"));
        assert!(!is_reasoning_model("anthropic/claude-3.5-sonnet"));
        assert!(!is_reasoning_model("mistral-large-latest"));
    }
}
