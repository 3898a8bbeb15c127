//! One folder per provider API, each with the same shape: its routes (`route(method, path)`, with
//! the endpoint, the metrics label and its [`Vendor`](crate::pipeline::Vendor): envelope, headers,
//! record mode's upstream and credential), its request parser into the provider-neutral
//! [`ChatRequest`](crate::conversation::ChatRequest), its renderer of a fixture's reply as that
//! API's JSON and stream, its error envelope, and its collapser for record mode (`collapse.rs`).
//! [`endpoint`] runs the skeleton they share.
//!
//! Adding a provider means adding its folder and one line to [`ROUTES`] (its routes and its
//! upstreams); nothing else knows it, the CLI's `--provider-<key>` flags included.
//! What the providers share besides the skeleton lives here: vendors and error envelopes, token
//! estimates, which models reason, tool arguments as objects, the deterministic fallback
//! embedding; [`reply`] holds what every reply renderer computes, and [`wire`] the OpenAI-style
//! chat request that several providers take.

pub(crate) mod anthropic;
pub(crate) mod audio;
pub(crate) mod bedrock;
pub(crate) mod cohere;
pub(crate) mod elevenlabs;
pub(crate) mod endpoint;
pub(crate) mod fal;
pub(crate) mod gemini;
pub(crate) mod media;
pub(crate) mod ollama;
pub(crate) mod openai;
pub(crate) mod openrouter;
pub(crate) mod reply;
pub(crate) mod speech;
pub(crate) mod tavily;
pub(crate) mod video;
pub(crate) mod wire;

#[cfg(test)]
mod collapse_tests;

use axum::response::Response;
use http::{Method, StatusCode};

use crate::conversation::ChatRequest;
use crate::http::{ApiError, Envelope};
use crate::metrics::PathLabel;
use crate::pipeline::{Route, Vendor};
use crate::record::Credential;

/// A provider, as the server knows it: its routes, and the upstreams record mode can send its
/// misses to (`--provider-<key>`, `llm.record.providers.<key>`), each with the name the CLI's help
/// gives it.
pub(crate) struct Provider {
    /// Recognises the provider's paths.
    pub(crate) route: fn(&Method, &str) -> Option<Route>,
    /// The vendors it records from, with their names.
    pub(crate) upstreams: &'static [(&'static Vendor, &'static str)],
}

/// The provider table: each provider's `route`, tried in order on the path as sent, and its
/// upstreams. Providers with paths of their own come first; OpenAI comes last, because it takes
/// any path that ends in an OpenAI suffix (`/v4/chat/completions`,
/// `/openai/deployments/{id}/embeddings`).
pub(crate) static ROUTES: &[Provider] = &[
    Provider {
        route: ollama::route,
        upstreams: &[(&ollama::VENDOR, "Ollama")],
    },
    Provider {
        route: openrouter::route,
        upstreams: &[(&openrouter::VENDOR, "OpenRouter")],
    },
    Provider {
        route: anthropic::route,
        upstreams: &[(&anthropic::VENDOR, "Anthropic")],
    },
    Provider {
        route: gemini::route,
        upstreams: &[(&gemini::VENDOR, "Gemini"), (&gemini::VERTEX, "Vertex AI")],
    },
    Provider {
        route: bedrock::route,
        upstreams: &[(&bedrock::VENDOR, "Bedrock")],
    },
    Provider {
        route: cohere::route,
        upstreams: &[(&cohere::VENDOR, "Cohere")],
    },
    // fal.ai (`/fal/...`) is answered from fixtures only.
    Provider {
        route: fal::route,
        upstreams: &[],
    },
    // Web search is answered from fixtures only.
    Provider {
        route: tavily::route,
        upstreams: &[],
    },
    // Video jobs (Sora, OpenRouter, Veo, Grok, BytePlus Ark): answered from fixtures only.
    Provider {
        route: video::route,
        upstreams: &[],
    },
    Provider {
        route: elevenlabs::route,
        upstreams: &[(&elevenlabs::VENDOR, "ElevenLabs")],
    },
    Provider {
        route: openai::route,
        upstreams: &[
            (&openai::VENDOR, "OpenAI"),
            (&openai::AZURE, "Azure OpenAI"),
        ],
    },
];

/// The upstreams record mode knows, as (key, name): `--provider-<key>` and
/// `llm.record.providers.<key>` name them. Taken from the provider table, so a new provider's
/// flag comes with its line there.
pub fn upstreams() -> impl Iterator<Item = (&'static str, &'static str)> {
    ROUTES
        .iter()
        .flat_map(|p| p.upstreams.iter())
        .map(|(vendor, name)| (vendor.key, *name))
}

/// The provider route serving a request, if any.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    // The most asked route goes straight to OpenAI's, the last in the table: no provider before
    // it serves this path (a test holds the table to that).
    if method == Method::POST && path == "/v1/chat/completions" {
        return openai::route(method, path);
    }
    ROUTES.iter().find_map(|p| (p.route)(method, path))
}

/// The API a WebSocket upgrade on `path` is for (realtime sessions, Responses over WebSocket,
/// Gemini Live).
pub(crate) fn socket_route(path: &str) -> Option<crate::pipeline::socket::SocketRoute> {
    openai::socket_route(path).or_else(|| gemini::socket_route(path))
}

/// The vendor whose envelope answers a path no route serves (a 404, a refused key): Google's
/// under `/v1beta/`, OpenAI's elsewhere.
pub(crate) fn fallback_vendor(path: &str) -> &'static Vendor {
    if path.starts_with("/v1beta/") {
        &gemini::VENDOR
    } else {
        &openai::VENDOR
    }
}

/// A vendor: its record-mode key, its credential and its error envelope (with no headers of its
/// own on every answer).
pub(crate) const fn vendor(
    key: &'static str,
    credential: Credential,
    envelope: Envelope,
) -> Vendor {
    Vendor {
        key,
        credential,
        envelope,
        decorate: None,
    }
}

/// An error envelope `body` with the error's status; a 429 also carries `Retry-After` and the
/// `x-ratelimit-*` headers (the fixture's `retry_after`, else one second).
pub(crate) fn error_json(e: &ApiError, body: &serde_json::Value) -> Response {
    let mut r = crate::http::json_response(e.status, body);
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        crate::http::add_rate_limit_headers(r.headers_mut(), e.retry_after.unwrap_or(1.0));
    }
    r
}

/// The metrics label of a Vertex AI model path: the version, whether it names a project and
/// location, the publisher (`google`, `anthropic`), then `{m}:` and the action.
pub(crate) fn vertex_label(
    version: &'static str,
    projects: bool,
    publisher: &str,
    action: &'static str,
) -> PathLabel {
    let head = match (version, projects, publisher) {
        ("v1beta1", true, "google") => {
            "/v1beta1/projects/{p}/locations/{l}/publishers/google/models/"
        }
        ("v1beta1", true, _) => "/v1beta1/projects/{p}/locations/{l}/publishers/anthropic/models/",
        ("v1beta1", false, "google") => "/v1beta1/publishers/google/models/",
        ("v1beta1", false, _) => "/v1beta1/publishers/anthropic/models/",
        ("v1beta", true, "google") => {
            "/v1beta/projects/{p}/locations/{l}/publishers/google/models/"
        }
        ("v1beta", true, _) => "/v1beta/projects/{p}/locations/{l}/publishers/anthropic/models/",
        ("v1beta", false, "google") => "/v1beta/publishers/google/models/",
        ("v1beta", false, _) => "/v1beta/publishers/anthropic/models/",
        ("v1alpha", true, "google") => {
            "/v1alpha/projects/{p}/locations/{l}/publishers/google/models/"
        }
        ("v1alpha", true, _) => "/v1alpha/projects/{p}/locations/{l}/publishers/anthropic/models/",
        ("v1alpha", false, "google") => "/v1alpha/publishers/google/models/",
        ("v1alpha", false, _) => "/v1alpha/publishers/anthropic/models/",
        (_, true, "google") => "/v1/projects/{p}/locations/{l}/publishers/google/models/",
        (_, true, _) => "/v1/projects/{p}/locations/{l}/publishers/anthropic/models/",
        (_, false, "google") => "/v1/publishers/google/models/",
        (_, false, _) => "/v1/publishers/anthropic/models/",
    };
    PathLabel::three(head, "{m}:", action)
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

/// Tool call arguments sent as a JSON value (Anthropic's and Bedrock's `input`, Gemini's `args`)
/// as the conversation holds them: the value's JSON, `{}` for none.
pub(crate) fn object_arguments(input: Option<serde_json::Value>) -> String {
    match input {
        None | Some(serde_json::Value::Null) => "{}".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// aimock's token estimate: a quarter of the characters, rounded up, at least 1.
pub(crate) fn estimate_tokens(chars: usize) -> u64 {
    (chars.div_ceil(4)).max(1) as u64
}

/// The characters of a conversation that the prompt estimates of Anthropic, Bedrock and Gemini
/// count: each message's text, and each tool call's name and arguments.
pub(crate) fn message_chars(req: &ChatRequest) -> usize {
    req.messages
        .iter()
        .map(|m| {
            m.text.as_deref().map_or(0, str::len)
                + m.tool_calls
                    .iter()
                    .map(|c| c.name.len() + c.arguments.len())
                    .sum::<usize>()
        })
        .sum()
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
    fn chat_completions_is_only_openais() {
        let (last, before) = ROUTES.split_last().unwrap();
        assert_eq!(last.upstreams[0].1, "OpenAI");
        for p in before {
            assert!((p.route)(&Method::POST, "/v1/chat/completions").is_none());
        }
        let r = route(&Method::POST, "/v1/chat/completions").unwrap();
        assert_eq!(r.vendor.key, openai::VENDOR.key);
    }

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
