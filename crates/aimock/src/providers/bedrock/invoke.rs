//! `POST /model/{modelId}/invoke` and `/invoke-with-response-stream`, for Anthropic models: the
//! body is an Anthropic Messages body (`anthropic_version`, `messages`, `system`, `tools`,
//! `max_tokens`; the model is the path's), parsed and rendered by the Anthropic provider.
//!
//! The JSON reply is the Anthropic `message` object. The stream is an EventStream whose `chunk`
//! events each carry one Anthropic stream event as a `PayloadPart`: `{"bytes": "<base64 of the
//! event JSON>"}`. As Bedrock does, `ping` events are not forwarded, and `message_stop` carries
//! `amazon-bedrock-invocationMetrics`.

use axum::body::Bytes;
use axum::response::Response;
use base64::Engine;
use http::HeaderValue;
use serde_json::Value;

use crate::conversation::ChatRequest;
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::anthropic::render::AnthropicReply;
use crate::providers::anthropic::request::{self, BodyKind, MessagesOptions};
use crate::providers::endpoint::{MessageApi, Render, Streamed};
use crate::stream::eventstream;

/// `invoke` and `invoke-with-response-stream`, for Anthropic models.
#[derive(Debug)]
pub(crate) struct Invoke;

impl MessageApi for Invoke {
    type Opts = MessagesOptions;
    const SURFACE: &'static str = "Bedrock InvokeModel";

    fn parse(call: &Call) -> Result<(ChatRequest, MessagesOptions), ApiError> {
        let info = &call.route.info;
        let (mut req, opts) =
            request::parse(&call.body, BodyKind::ModelInPath, info.model.as_deref())
                .map_err(as_validation)?;
        // The action decides, whatever the body says.
        req.stream = info.action == Some("invoke-with-response-stream");
        Ok((req, opts))
    }

    fn refusal(_req: &ChatRequest, opts: &MessagesOptions) -> Option<ApiError> {
        opts.thinking_violation
            .as_deref()
            .map(|m| as_validation(ApiError::invalid(m)))
    }

    fn json(r: &Render<'_, MessagesOptions>) -> String {
        AnthropicReply::new(r.req, r.reply, r.strict).json()
    }

    fn stream(r: &Render<'_, MessagesOptions>) -> Streamed {
        Streamed {
            events: chunks(&AnthropicReply::new(r.req, r.reply, r.strict), r.chunk_size),
            trailer: Vec::new(),
            head: None,
            content_type: eventstream::CONTENT_TYPE,
        }
    }

    fn finish(resp: &mut Response, streamed: bool) {
        if streamed {
            resp.headers_mut().insert(
                "x-amzn-bedrock-content-type",
                HeaderValue::from_static("application/json"),
            );
        }
    }
}

/// A request error from the Anthropic parser, raised as Bedrock's `ValidationException`.
fn as_validation(mut e: ApiError) -> ApiError {
    e.code = None;
    e.kind = "ValidationException".to_owned();
    e
}

/// The Anthropic stream events, each wrapped as a `chunk` frame.
fn chunks(r: &AnthropicReply<'_>, chunk_size: usize) -> Vec<Bytes> {
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
