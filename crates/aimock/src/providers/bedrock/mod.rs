//! AWS Bedrock: InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream, with AWS EventStream framing.
//!
//! Routes are `POST /model/{modelId}/{action}`; the model id arrives percent-encoded (`%3A` for
//! `:`, `%2F` in ARNs) and is decoded here. SigV4 `Authorization` headers are accepted and never
//! checked. Errors use AWS's REST-JSON shape: the `x-amzn-ErrorType` header names the exception
//! (`ValidationException`, `ThrottlingException`...) and the body is `{"message": ...}`, which is
//! what botocore and the AWS SDKs read into their typed errors.

pub(crate) mod collapse;
pub(crate) mod converse;
pub(crate) mod invoke;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::fixture::MessageReply;
use crate::http::ApiError;
use crate::metrics::PathLabel;
use crate::pipeline::{Route, RouteInfo, Vendor};
use crate::providers::endpoint;
use crate::record::Credential;

/// Amazon Bedrock: a Bedrock API key as a bearer token, or a SigV4 signature; every answer
/// carries `x-amzn-RequestId`.
pub(crate) static VENDOR: Vendor = Vendor {
    decorate: Some(decorate),
    ..super::vendor("bedrock", Credential::bearer().or_sigv4(), envelope)
};

/// This provider's routes; `None` for any other path.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    let rest = path.strip_prefix("/model/")?;
    let (id, action) = rest.rsplit_once('/')?;
    if id.is_empty() {
        return None;
    }
    let (endpoint, action): (crate::pipeline::Endpoint, &'static str) = match action {
        "converse" => (endpoint::message::<converse::Converse>, "converse"),
        "converse-stream" => (endpoint::message::<converse::Converse>, "converse-stream"),
        "invoke" => (endpoint::message::<invoke::Invoke>, "invoke"),
        "invoke-with-response-stream" => (
            endpoint::message::<invoke::Invoke>,
            "invoke-with-response-stream",
        ),
        _ => return None,
    };
    Some(
        Route::new(
            endpoint,
            &VENDOR,
            PathLabel::two("/model/{modelId}/", action),
        )
        .with_info(RouteInfo {
            model: Some(crate::http::percent::path(id).into_owned()),
            action: Some(action),
            ..Default::default()
        })
        .recorded(&collapse::COLLAPSER),
    )
}

/// `x-amzn-RequestId`, which botocore reports as `ResponseMetadata.RequestId`.
fn decorate(out: &mut HeaderMap, _request: &HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(&crate::http::ids::uuid()) {
        out.insert("x-amzn-requestid", v);
    }
}

/// The AWS exception an error is raised as: the fixture's own type or code when it names one
/// (`...Exception`), else the exception Bedrock uses for the status.
pub(crate) fn exception_name(e: &ApiError) -> &str {
    let named = |s: &str| s.ends_with("Exception") && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if named(&e.kind) {
        return &e.kind;
    }
    if let Some(code) = e.code.as_ref().and_then(|c| c.as_str()) {
        if named(code) {
            return code;
        }
    }
    match e.status.as_u16() {
        401 | 403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        s if s < 500 => "ValidationException",
        _ => "InternalServerException",
    }
}

/// AWS's REST-JSON error: `x-amzn-ErrorType: <Exception>` and `{"message": ...}`; a 429 also
/// carries `Retry-After`.
fn envelope(e: &ApiError, _request: &HeaderMap) -> Response {
    let mut body = String::with_capacity(e.message.len() + 16);
    body.push_str("{\"message\":");
    crate::http::push_json_str(&mut body, &e.message);
    body.push('}');
    let mut r = crate::http::json_body(body);
    *r.status_mut() = e.status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(exception_name(e)) {
        h.insert("x-amzn-errortype", v);
    }
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        let ra = e.retry_after.unwrap_or(1.0);
        let ra = if ra.fract() == 0.0 {
            format!("{}", ra.max(0.0) as u64)
        } else {
            format!("{ra}")
        };
        if let Ok(v) = HeaderValue::from_str(&ra) {
            h.insert("retry-after", v);
        }
    }
    r
}

/// Converse's stop reason for a reply: OpenAI names translated, Bedrock names kept.
pub(crate) fn stop_reason(reply: &MessageReply) -> &str {
    match reply.finish_reason() {
        "stop" => "end_turn",
        "tool_calls" | "function_call" => "tool_use",
        "length" => "max_tokens",
        "content_filter" | "refusal" => "content_filtered",
        r @ ("end_turn"
        | "tool_use"
        | "max_tokens"
        | "stop_sequence"
        | "guardrail_intervened"
        | "content_filtered"
        | "malformed_model_output"
        | "malformed_tool_use"
        | "model_context_window_exceeded") => r,
        _ => "end_turn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_decode_the_model_id_and_name_the_action() {
        let r = route(
            &Method::POST,
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        )
        .unwrap();
        assert_eq!(
            r.info.model.as_deref(),
            Some("anthropic.claude-3-haiku-20240307-v1:0")
        );
        assert_eq!(r.info.action, Some("converse"));
        for action in ["converse-stream", "invoke", "invoke-with-response-stream"] {
            let r = route(&Method::POST, &format!("/model/m/{action}")).unwrap();
            assert_eq!(r.info.action, Some(action));
        }
        let arn = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/invoke";
        assert_eq!(
            route(&Method::POST, arn).unwrap().info.model.as_deref(),
            Some("arn:aws:bedrock:us-east-1:1:inference-profile/us.x")
        );
        assert!(route(&Method::GET, "/model/m/converse").is_none());
        assert!(route(&Method::POST, "/model/m/other").is_none());
        assert!(route(&Method::POST, "/model//converse").is_none());
        assert!(route(&Method::POST, "/v1/chat/completions").is_none());
    }

    #[test]
    fn path_decoding_keeps_plus_and_bad_escapes() {
        assert_eq!(crate::http::percent::path("a+b%3Ac"), "a+b:c");
        assert_eq!(crate::http::percent::path("50%"), "50%");
        assert_eq!(crate::http::percent::path("x%zz%4"), "x%zz%4");
        assert_eq!(crate::http::percent::path("%E2%9C%93"), "✓");
    }

    #[test]
    fn errors_are_named_by_status_unless_the_fixture_names_an_exception() {
        let e = |s: u16, kind: &str| ApiError::new(StatusCode::from_u16(s).unwrap(), kind, "m");
        assert_eq!(
            exception_name(&e(400, "invalid_request_error")),
            "ValidationException"
        );
        assert_eq!(
            exception_name(&e(429, "rate_limit_error")),
            "ThrottlingException"
        );
        assert_eq!(
            exception_name(&e(404, "invalid_request_error")),
            "ResourceNotFoundException"
        );
        assert_eq!(
            exception_name(&e(503, "server_error")),
            "ServiceUnavailableException"
        );
        assert_eq!(
            exception_name(&e(500, "server_error")),
            "InternalServerException"
        );
        assert_eq!(
            exception_name(&e(400, "ServiceQuotaExceededException")),
            "ServiceQuotaExceededException"
        );
        let coded = e(429, "x").with_code("ModelNotReadyException");
        assert_eq!(exception_name(&coded), "ModelNotReadyException");
    }
}
