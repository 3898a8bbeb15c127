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

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::StreamExt;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Route;
use crate::conversation::ChatRequest;
use crate::fixture::{Fixture, Reply, TextPattern};
use crate::http::ApiError;
use crate::server::exchange::{on_stream_end, Answer};
use crate::server::{AppState, Exchange, RequestCtx, RouteInfo};
use crate::stream::{paced_body, StreamPlan};

use render::Rendered;

/// The keep-alive comment OpenRouter sends before the first chunk (fixture `openRouterProcessing`).
const PROCESSING_COMMENT: &[u8] = b": OPENROUTER PROCESSING\n\n";

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let handler: super::Handler = match (method, path) {
        (&Method::POST, "/api/v1/chat/completions") => handle_chat,
        (&Method::GET, "/api/v1/models") => handle_models,
        (&Method::GET, "/api/v1/key") => handle_key,
        (&Method::GET, "/api/v1/credits") => handle_credits,
        _ => return None,
    };
    Some(Route {
        handler,
        render: error_response,
        info: RouteInfo {
            variant: Some("openrouter"),
            ..Default::default()
        },
    })
}

/// OpenRouter's error envelope: `{"error": {"code": <HTTP status>, "message", "metadata"?}}`; a 429
/// also carries `Retry-After` and the `x-ratelimit-*` headers.
pub(crate) fn error_response(e: &ApiError) -> Response {
    let mut error = serde_json::Map::new();
    error.insert("code".into(), json!(e.status.as_u16()));
    error.insert("message".into(), Value::String(e.message.clone()));
    if let Some(m) = &e.metadata {
        error.insert("metadata".into(), m.clone());
    }
    let mut r = crate::http::json_response(e.status, &json!({ "error": error }));
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        crate::http::add_rate_limit_headers(r.headers_mut(), e.retry_after.unwrap_or(1.0));
    }
    r
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

/// Whether an error is the matcher's "nothing answers" (a miss, strict or not).
fn is_miss(e: &ApiError) -> bool {
    e.code.as_ref().and_then(Value::as_str) == Some("no_fixture_match")
        && (e.status == StatusCode::NOT_FOUND || e.status == StatusCode::SERVICE_UNAVAILABLE)
}

/// Whether an error fixture lets `models[]` fail over past it (`fallthrough`, default true).
///
/// The matcher hands back the error as an [`ApiError`], which does not carry the fixture's
/// `fallthrough`; the error fixtures that could have produced it are found by their fields.
fn error_falls_through(state: &AppState, e: &ApiError) -> bool {
    let set = state.fixtures.snapshot();
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

/// The outcome of routing over the candidates.
enum Routed {
    /// A fixture answers; the slug that won.
    Served(Arc<Fixture>, String),
    /// An error is served.
    Failed(ApiError),
}

/// Match `[model, ...models]` in order: the first candidate answered by a non-error fixture wins;
/// an error on a candidate fails over to the next unless `provider.allow_fallbacks` is false or
/// the error fixture says `fallthrough: false`; when every candidate fails, the last error is
/// served (a miss only when no candidate matched anything).
fn route_candidates(ex: &mut Exchange, req: &ChatRequest, fields: &RouterFields) -> Routed {
    if !fields.has_models() {
        return match ex.resolve(req) {
            Answer::Fixture(f) => Routed::Served(f, req.model.clone()),
            Answer::Error(e) => Routed::Failed(e),
        };
    }
    let allow = fields.allow_fallbacks();
    let mut first_miss: Option<ApiError> = None;
    let mut last_error: Option<ApiError> = None;
    for candidate in fields.candidates(&req.model) {
        let mut probe = req.clone();
        probe.model = candidate.clone();
        match ex.resolve(&probe) {
            Answer::Fixture(f) => return Routed::Served(f, candidate),
            Answer::Error(e) if is_miss(&e) => {
                first_miss.get_or_insert(e);
                if !allow {
                    break;
                }
            }
            Answer::Error(e) => {
                if !allow || !error_falls_through(&ex.state, &e) {
                    return Routed::Failed(e);
                }
                last_error = Some(e);
            }
        }
    }
    match last_error.or(first_miss) {
        Some(e) => Routed::Failed(e),
        None => Routed::Failed(
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "No model to route to: set 'model' or 'models'.",
            )
            .with_code("missing_required_parameter"),
        ),
    }
}

/// `POST /api/v1/chat/completions`.
fn handle_chat(state: Arc<AppState>, ctx: RequestCtx, body: Bytes, _info: RouteInfo) -> Response {
    let mut ex = Exchange::new(state, ctx);
    let (req, opts) = match crate::providers::openai::chat::parse(&body, None) {
        Ok(r) => r,
        Err(e) => return ex.fail(e, error_response),
    };
    let _ = opts.include_usage; // OpenRouter streams always end with a usage chunk.
    let fields = RouterFields::parse(&body);
    let req = Arc::new(req);
    ex.set_request(req.clone(), body.len());
    let (fixture, winner) = match route_candidates(&mut ex, &req, &fields) {
        Routed::Served(f, m) => (f, m),
        Routed::Failed(e) => return ex.fail(e, error_response),
    };
    let reply = match crate::providers::message_reply(&fixture, "the chat completions endpoint") {
        Ok(m) => m,
        Err(e) => return ex.fail(e, error_response),
    };
    let r = Rendered::new(&req, &winner, reply, ex.ctx.strict);
    if !req.stream {
        ex.finish(StatusCode::OK);
        return crate::http::json_body(r.json());
    }
    let pacing = fixture
        .stream
        .pacing(ex.state.config.latency, ex.state.config.replay_speed);
    let chunk = fixture
        .stream
        .chunk_size
        .unwrap_or(ex.state.config.chunk_size);
    let (events, trailer) = r.sse(chunk);
    let handle = ex.start_stream();
    let plan = StreamPlan {
        events,
        trailer,
        pacing,
        truncate_after: fixture.stream.truncate_after_chunks,
        disconnect_after: fixture
            .stream
            .disconnect_after_ms
            .map(crate::stream::duration_ms),
        on_end: Some(on_stream_end(handle)),
    };
    let body = paced_body(plan);
    let body = if fixture.entry.open_router_processing == Some(true) {
        let head = futures_util::stream::once(async {
            Ok::<Bytes, axum::Error>(Bytes::from_static(PROCESSING_COMMENT))
        });
        Body::from_stream(head.chain(body.into_data_stream()))
    } else {
        body
    };
    crate::stream::sse_response(body)
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
fn handle_models(state: Arc<AppState>, ctx: RequestCtx, _body: Bytes, _i: RouteInfo) -> Response {
    let set = state.fixtures.snapshot();
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
    let resp = crate::http::json_response(StatusCode::OK, &json!({ "data": data }));
    Exchange::new(state.clone(), ctx).finish(StatusCode::OK);
    resp
}

/// `GET /api/v1/key`: the key's limits and usage (static: unlimited, nothing used).
fn handle_key(state: Arc<AppState>, ctx: RequestCtx, _body: Bytes, _i: RouteInfo) -> Response {
    Exchange::new(state, ctx).finish(StatusCode::OK);
    crate::http::json_response(
        StatusCode::OK,
        &json!({
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

/// `GET /api/v1/credits`: credit totals (static zeros).
fn handle_credits(state: Arc<AppState>, ctx: RequestCtx, _body: Bytes, _i: RouteInfo) -> Response {
    Exchange::new(state, ctx).finish(StatusCode::OK);
    crate::http::json_response(
        StatusCode::OK,
        &json!({ "data": { "total_credits": 0, "total_usage": 0 } }),
    )
}
