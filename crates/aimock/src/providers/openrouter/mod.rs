//! OpenRouter: `/api/v1/chat/completions` with its differences from OpenAI and `models[]` fail-over, and its discovery routes.
//!
//! A request reaches this module when its path, as sent, starts with `/api/v1/` (an OpenAI SDK with
//! `base_url=https://openrouter.ai/api/v1`). The body is OpenAI's, so it is parsed by the OpenAI
//! chat parser; the reply is rendered here in OpenRouter's shape: `gen-` ids, a top-level
//! `provider`, `system_fingerprint`/`service_tier` always present (null), `native_finish_reason`
//! beside every `finish_reason`, `message.reasoning`, `role:"assistant"` on every content delta, a
//! usage chunk at the end of every stream, the usage extras a fixture supplies (`cost`,
//! `cost_details`, token details, `is_byok`), and errors as `{"error":{"code":<status>,"message",
//! "metadata"?}}`.

mod render;

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::conversation::ChatRequest;
use crate::fixture::{FixtureStore, Reply, TextPattern};
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Answer, Answered, Call, Exchange, Route, Vendor};
use crate::providers::endpoint::{self, MessageApi, Render, Streamed};
use crate::record::Credential;

use render::RouterCompletion;

/// The keep-alive comment OpenRouter sends before the first chunk (fixture `openRouterProcessing`).
const PROCESSING_COMMENT: &[u8] = b": OPENROUTER PROCESSING\n\n";

/// OpenRouter: a bearer token.
pub(crate) static VENDOR: Vendor = super::vendor("openrouter", Credential::bearer(), envelope);

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let (endpoint, label): (crate::pipeline::Endpoint, &'static str) = match (method, path) {
        (&Method::POST, "/api/v1/chat/completions") => {
            (endpoint::message::<Chat>, "/api/v1/chat/completions")
        }
        (&Method::GET, "/api/v1/models") => (handle_models, "/api/v1/models"),
        (&Method::GET, "/api/v1/key") => (handle_key, "/api/v1/key"),
        (&Method::GET, "/api/v1/credits") => (handle_credits, "/api/v1/credits"),
        _ => return None,
    };
    let route = Route::new(endpoint, &VENDOR, PathLabel::one(label));
    Some(if label == "/api/v1/chat/completions" {
        route.recorded(&crate::providers::openai::collapse::COLLAPSER)
    } else {
        route
    })
}

/// OpenRouter's error envelope: `{"error": {"code": <HTTP status>, "message", "metadata"?}}`; a 429
/// also carries `Retry-After` and the `x-ratelimit-*` headers.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut error = serde_json::Map::new();
    error.insert("code".into(), json!(e.status.as_u16()));
    error.insert("message".into(), Value::String(e.message.clone()));
    if let Some(m) = &e.metadata {
        error.insert("metadata".into(), m.clone());
    }
    super::error_json(e, &json!({ "error": error }))
}

/// The OpenRouter-only request fields this mock acts on. Everything else OpenRouter accepts
/// (`route`, `reasoning`, `plugins`, `usage`, `transforms`...) is accepted and ignored; shapes
/// that do not fit are ignored too (the real API's own validation is not reproduced).
#[derive(Deserialize, Default)]
struct RouterFields {
    #[serde(default)]
    models: Option<Value>,
    #[serde(default)]
    provider: Option<Value>,
}

impl RouterFields {
    fn parse(body: &[u8]) -> RouterFields {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// `provider.allow_fallbacks`, true unless it is `false`.
    fn allow_fallbacks(&self) -> bool {
        self.provider
            .as_ref()
            .and_then(|p| p.get("allow_fallbacks"))
            .and_then(Value::as_bool)
            != Some(false)
    }

    /// `[model, ...models]`, without empty or repeated slugs, in order.
    fn candidates(&self, model: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let extra = self
            .models
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for m in std::iter::once(model).chain(extra) {
            if !m.is_empty() && !out.iter().any(|c| c == m) {
                out.push(m.to_owned());
            }
        }
        out
    }

    fn has_models(&self) -> bool {
        self.models
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    }
}

/// Whether an error fixture lets `models[]` fail over past it (`fallthrough`, default true).
///
/// The matcher hands back the error as an [`ApiError`], which does not carry the fixture's
/// `fallthrough`; the error fixtures that could have produced it are found by their fields.
fn error_falls_through(fixtures: &FixtureStore, e: &ApiError) -> bool {
    let set = fixtures.snapshot();
    let terminal = set.slots().iter().any(|slot| match &slot.fixture.reply {
        Reply::Error(r) => {
            r.fallthrough == Some(false)
                && r.status == e.status.as_u16()
                && r.message == e.message
                && r.kind.as_deref().unwrap_or("server_error") == e.kind
                && r.code == e.code
                && r.metadata == e.metadata
        }
        _ => false,
    });
    !terminal
}

/// Match `[model, ...models]` in order: the first candidate answered by a non-error fixture wins;
/// an error on a candidate fails over to the next unless `provider.allow_fallbacks` is false or
/// the error fixture says `fallthrough: false`; when every candidate fails, the last error is
/// served (a miss only when no candidate matched anything).
fn route_candidates(ex: &mut Exchange, req: &ChatRequest, opts: &mut ChatOpts) -> Answer {
    let fields = &opts.fields;
    if !fields.has_models() {
        opts.winner = req.model.clone();
        return ex.resolve(req);
    }
    let allow = fields.allow_fallbacks();
    let mut first_miss: Option<Answer> = None;
    let mut last_error: Option<ApiError> = None;
    for candidate in fields.candidates(&req.model) {
        let mut probe = req.clone();
        probe.model = candidate.clone();
        match ex.resolve(&probe) {
            Answer::Fixture(f) => {
                opts.winner = candidate;
                return Answer::Fixture(f);
            }
            miss @ Answer::Miss(_) => {
                first_miss.get_or_insert(miss);
                if !allow {
                    break;
                }
            }
            Answer::Error(e) => {
                if !allow || !error_falls_through(&ex.core.fixtures, &e) {
                    return Answer::Error(e);
                }
                last_error = Some(e);
            }
        }
    }
    match (last_error, first_miss) {
        (Some(e), _) => Answer::Error(e),
        (None, Some(miss)) => miss,
        (None, None) => Answer::Error(
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "No model to route to: set 'model' or 'models'.",
            )
            .with_code("missing_required_parameter"),
        ),
    }
}

/// What the reply needs beside the conversation.
#[derive(Default)]
struct ChatOpts {
    fields: RouterFields,
    /// The candidate model that answered.
    winner: String,
}

/// `POST /api/v1/chat/completions`.
#[derive(Debug)]
struct Chat;

impl MessageApi for Chat {
    type Opts = ChatOpts;
    const SURFACE: &'static str = "the chat completions endpoint";

    fn parse(call: &Call) -> Result<(ChatRequest, ChatOpts), ApiError> {
        // OpenRouter streams always end with a usage chunk: `stream_options` changes nothing.
        let (req, _) = crate::providers::openai::chat::parse(&call.body, None)?;
        let opts = ChatOpts {
            fields: RouterFields::parse(&call.body),
            winner: String::new(),
        };
        Ok((req, opts))
    }

    fn resolve(ex: &mut Exchange, req: &ChatRequest, opts: &mut ChatOpts) -> Answer {
        route_candidates(ex, req, opts)
    }

    fn json(r: &Render<'_, ChatOpts>) -> String {
        RouterCompletion::new(r.req, &r.opts.winner, r.reply, r.strict).json()
    }

    fn stream(r: &Render<'_, ChatOpts>) -> Streamed {
        let (events, trailer) =
            RouterCompletion::new(r.req, &r.opts.winner, r.reply, r.strict).sse(r.chunk_size);
        let mut s = Streamed::sse(events, trailer);
        if r.fixture.entry.open_router_processing == Some(true) {
            s.head = Some(Bytes::from_static(PROCESSING_COMMENT));
        }
        s
    }
}

/// The slugs `GET /api/v1/models` lists when no chat fixture names a model.
const DEFAULT_MODELS: &[&str] = &[
    "openai/gpt-4o",
    "anthropic/claude-3.5-sonnet",
    "google/gemini-2.0-flash-001",
];

/// One catalog entry, with the fields of OpenRouter's model object (static filler values).
fn model_object(id: &str) -> Value {
    json!({
        "id": id,
        "canonical_slug": id,
        "hugging_face_id": null,
        "name": id,
        "created": 0,
        "description": format!("Mock OpenRouter model {id} served by aimock."),
        "context_length": 128000,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": null
        },
        "pricing": {
            "prompt": "0",
            "completion": "0",
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
            "input_cache_read": "0",
            "input_cache_write": "0"
        },
        "top_provider": {
            "context_length": 128000,
            "max_completion_tokens": 16384,
            "is_moderated": false
        },
        "per_request_limits": null,
        "supported_parameters": [
            "tools", "tool_choice", "max_tokens", "temperature", "top_p", "stop", "reasoning"
        ],
        "default_parameters": null,
        "supported_voices": null,
        "knowledge_cutoff": null,
        "expiration_date": null,
        "links": { "details": format!("/api/v1/models/{id}/endpoints") },
        "reasoning": { "mandatory": false, "default_enabled": false }
    })
}

/// `GET /api/v1/models`: the models named (as plain strings) by chat fixtures, in the order
/// first seen, else a default catalog.
fn handle_models(mut call: Call) -> Answered {
    let ex = Exchange::new(&mut call);
    let set = call.core.fixtures.snapshot();
    let mut ids: Vec<&str> = Vec::new();
    for slot in set.slots() {
        let m = &slot.fixture.entry.matcher;
        if m.endpoint
            .is_some_and(|e| e != crate::conversation::Endpoint::Chat)
        {
            continue;
        }
        if let Some(TextPattern::Text(id) | TextPattern::Equals(id)) = &m.model {
            if !id.is_empty() && !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
    }
    if ids.is_empty() {
        ids.extend_from_slice(DEFAULT_MODELS);
    }
    let data: Vec<Value> = ids.iter().map(|id| model_object(id)).collect();
    let resp = ex.reply(crate::http::json_response(
        StatusCode::OK,
        &json!({ "data": data }),
    ));
    Answered::Now(resp)
}

/// `GET /api/v1/key`: the key's limits and usage (static: unlimited, nothing used).
fn handle_key(call: Call) -> Answered {
    fixed(
        call,
        json!({
            "data": {
                "label": "sk-or-v1-aimock",
                "is_management_key": false,
                "is_provisioning_key": false,
                "limit": null,
                "limit_reset": null,
                "limit_remaining": null,
                "include_byok_in_limit": false,
                "usage": 0,
                "usage_daily": 0,
                "usage_weekly": 0,
                "usage_monthly": 0,
                "byok_usage": 0,
                "byok_usage_daily": 0,
                "byok_usage_weekly": 0,
                "byok_usage_monthly": 0,
                "is_free_tier": false,
                "expires_at": null,
                "creator_user_id": null,
                "rate_limit": {
                    "requests": -1,
                    "interval": "10s",
                    "note": "This field is deprecated and safe to ignore."
                }
            }
        }),
    )
}

/// A fixed answer, journaled.
fn fixed(mut call: Call, body: Value) -> Answered {
    let ex = Exchange::new(&mut call);
    let resp = ex.reply(crate::http::json_response(StatusCode::OK, &body));
    Answered::Now(resp)
}

/// `GET /api/v1/credits`: credit totals (static zeros).
fn handle_credits(call: Call) -> Answered {
    fixed(
        call,
        json!({ "data": { "total_credits": 0, "total_usage": 0 } }),
    )
}
