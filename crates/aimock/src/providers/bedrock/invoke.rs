//! `POST /model/{modelId}/invoke` and `/invoke-with-response-stream`, for Anthropic models: the
//! body is an Anthropic Messages body (`anthropic_version`, `messages`, `system`, `tools`,
//! `max_tokens`; the model is the path's), parsed and rendered by the Anthropic provider.
//!
//! The JSON reply is the Anthropic `message` object. The stream is an EventStream whose `chunk`
//! events each carry one Anthropic stream event as a `PayloadPart`: `{"bytes": "<base64 of the
//! event JSON>"}`. As Bedrock does, `ping` events are not forwarded, and `message_stop` carries
//! `amazon-bedrock-invocationMetrics`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use base64::Engine;
use http::{HeaderValue, StatusCode};
use serde_json::Value;

use super::error_response;
use crate::http::ApiError;
use crate::providers::anthropic::render::Rendered;
use crate::providers::anthropic::request::{self, BodyKind};
use crate::server::exchange::{on_stream_end, Answer};
use crate::server::{AppState, Exchange, RequestCtx, RouteInfo};
use crate::stream::eventstream;
use crate::stream::{paced_body, StreamPlan};

/// The handler of both actions.
pub(crate) fn handle(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Bytes,
    info: RouteInfo,
) -> Response {
    let mut ex = Exchange::new(state, ctx);
    let stream = info.action.as_deref() == Some("invoke-with-response-stream");
    let (mut req, opts) = match request::parse(&body, BodyKind::ModelInPath, info.model.as_deref())
    {
        Ok(r) => r,
        Err(e) => return ex.fail(as_validation(e), error_response),
    };
    // The action decides, whatever the body says.
    req.stream = stream;
    let req = Arc::new(req);
    ex.set_request(req.clone(), body.len());
    if let Some(msg) = opts.thinking_violation {
        if ex.ctx.strict {
            return ex.fail(as_validation(ApiError::invalid(msg)), error_response);
        }
        tracing::warn!(
            model = req.model.as_str(),
            "extended thinking request would be rejected by the API: {msg}"
        );
    }
    let fixture = match ex.resolve(&req) {
        Answer::Fixture(f) => f,
        Answer::Error(e) => return ex.fail(e, error_response),
    };
    let reply = match crate::providers::message_reply(&fixture, "Bedrock InvokeModel") {
        Ok(m) => m,
        Err(e) => return ex.fail(e, error_response),
    };
    let r = Rendered::new(&req, reply, ex.ctx.strict);
    if !stream {
        ex.finish(StatusCode::OK);
        return super::json_ok(r.json());
    }
    let chunk = fixture
        .stream
        .chunk_size
        .unwrap_or(ex.state.config.chunk_size);
    let events = chunks(&r, chunk);
    let plan = StreamPlan {
        events,
        trailer: Vec::new(),
        pacing: fixture
            .stream
            .pacing(ex.state.config.latency, ex.state.config.replay_speed),
        truncate_after: fixture.stream.truncate_after_chunks,
        disconnect_after: fixture
            .stream
            .disconnect_after_ms
            .map(crate::stream::duration_ms),
        on_end: None,
    };
    let handle = ex.start_stream();
    let plan = StreamPlan {
        on_end: Some(on_stream_end(handle)),
        ..plan
    };
    let mut resp = super::eventstream_ok(paced_body(plan));
    resp.headers_mut().insert(
        "x-amzn-bedrock-content-type",
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A request error from the Anthropic parser, raised as Bedrock's `ValidationException`.
fn as_validation(mut e: ApiError) -> ApiError {
    e.code = None;
    e.kind = "ValidationException".to_owned();
    e
}

/// The Anthropic stream events, each wrapped as a `chunk` frame.
fn chunks(r: &Rendered<'_>, chunk_size: usize) -> Vec<Bytes> {
    let mut events = Vec::with_capacity(16);
    let mut tokens = (0u64, 0u64);
    r.events(chunk_size, |event, data| match event {
        "ping" => {}
        "message_delta" => {
            if let Ok(v) = serde_json::from_str::<Value>(data) {
                let n = |k: &str| v["usage"][k].as_u64().unwrap_or(0);
                tokens = (n("input_tokens"), n("output_tokens"));
            }
            events.push(chunk_frame(data));
        }
        "message_stop" => {
            let stop = format!(
                "{{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{{\"inputTokenCount\":{},\"outputTokenCount\":{},\"invocationLatency\":0,\"firstByteLatency\":0}}}}",
                tokens.0, tokens.1
            );
            events.push(chunk_frame(&stop));
        }
        _ => events.push(chunk_frame(data)),
    });
    events
}

/// One `chunk` event: `{"bytes": "<base64 of the event JSON>"}`.
fn chunk_frame(event_json: &str) -> Bytes {
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut s = String::with_capacity(event_json.len() * 4 / 3 + 16);
    s.push_str("{\"bytes\":\"");
    engine.encode_string(event_json.as_bytes(), &mut s);
    s.push_str("\"}");
    eventstream::event("chunk", &s)
}
