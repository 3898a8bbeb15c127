//! `:embedContent`, `:batchEmbedContents` and `:countTokens`.

use std::sync::Arc;

use http::{header, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use super::generate::{conversation, Content, GenerateBody};
use crate::conversation::ChatRequest;
use crate::fixture::EmbeddingReply;
use crate::http::ApiError;
use crate::pipeline::{Answered, Call, Exchange};
use crate::providers::endpoint::EmbeddingApi;
use crate::providers::{estimate_tokens, push_fallback_embedding_json};

/// Dimensions of the fallback vector when the request names none (Gemini's text embeddings).
pub(crate) const DEFAULT_DIMENSIONS: usize = 768;
/// Gemini's limit on requests per `batchEmbedContents`.
pub(crate) const MAX_BATCH: usize = 100;
/// The largest `outputDimensionality` accepted.
const MAX_DIMENSIONS: u64 = 65_536;

/// An `EmbedContentRequest`. The Gemini API takes `outputDimensionality` at the top; Vertex puts
/// it in `embedContentConfig`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbedRequest {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default, alias = "output_dimensionality")]
    output_dimensionality: Option<i64>,
    #[serde(default, alias = "embed_content_config")]
    embed_content_config: Option<EmbedConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbedConfig {
    #[serde(default, alias = "output_dimensionality")]
    output_dimensionality: Option<i64>,
}

/// A Vertex `:predict` request for a text embedding model (`text-embedding-005`, ...).
#[derive(Deserialize)]
struct PredictRequest {
    #[serde(default)]
    instances: Option<Vec<PredictInstance>>,
    #[serde(default)]
    parameters: Option<EmbedConfig>,
}

#[derive(Deserialize)]
struct PredictInstance {
    #[serde(default)]
    content: Option<String>,
}

/// Which embedding request shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `embedContent`: one content, `{"embedding": {...}}`.
    Single,
    /// `batchEmbedContents`: `{"embeddings": [...]}`.
    Batch,
    /// Vertex `predict`: `{"predictions": [{"embeddings": {...}}]}`.
    Predict,
}

/// A `BatchEmbedContentsRequest`.
#[derive(Deserialize)]
struct BatchRequest {
    #[serde(default)]
    requests: Option<Vec<EmbedRequest>>,
}

fn invalid(message: impl Into<String>, field: &str) -> ApiError {
    let mut e = ApiError::invalid(message).with_code("invalid_value");
    e.param = Some(Value::String(field.to_owned()));
    e
}

/// The dimensions asked for, checked.
fn dimensions(d: Option<i64>, field: &str) -> Result<usize, ApiError> {
    match d {
        None => Ok(DEFAULT_DIMENSIONS),
        Some(d) if d >= 1 && d as u64 <= MAX_DIMENSIONS => Ok(d as usize),
        Some(d) => Err(invalid(
            format!("* {field}: must be between 1 and {MAX_DIMENSIONS}, got {d}"),
            field,
        )),
    }
}

/// Each input's text and dimensions.
fn inputs(body: &[u8], shape: Shape) -> Result<Vec<(String, usize)>, ApiError> {
    if shape == Shape::Predict {
        let p: PredictRequest = crate::http::parse_json_body(body)?;
        let instances = p.instances.unwrap_or_default();
        if instances.is_empty() {
            return Err(invalid("instances is not specified", "instances"));
        }
        if instances.len() > MAX_BATCH {
            return Err(invalid(
                format!("at most {MAX_BATCH} instances can be in one request"),
                "instances",
            ));
        }
        let dims = dimensions(
            p.parameters.and_then(|c| c.output_dimensionality),
            "parameters.outputDimensionality",
        )?;
        return instances
            .into_iter()
            .enumerate()
            .map(|(i, inst)| match inst.content {
                Some(text) => Ok((text, dims)),
                None => Err(invalid(
                    "only text embedding instances ({\"content\": ...}) are served",
                    &format!("instances[{i}].content"),
                )),
            })
            .collect();
    }
    let batch = shape == Shape::Batch;
    let requests = if batch {
        let b: BatchRequest = crate::http::parse_json_body(body)?;
        let requests = b.requests.unwrap_or_default();
        if requests.is_empty() {
            return Err(invalid(
                "* BatchEmbedContentsRequest.requests: requests is not specified",
                "requests",
            ));
        }
        if requests.len() > MAX_BATCH {
            return Err(invalid(
                format!(
                    "* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in one batch"
                ),
                "requests",
            ));
        }
        requests
    } else {
        vec![crate::http::parse_json_body::<EmbedRequest>(body)?]
    };
    let prefix = |i: usize| {
        if batch {
            format!("requests[{i}].")
        } else {
            String::new()
        }
    };
    let mut out = Vec::with_capacity(requests.len());
    for (i, r) in requests.into_iter().enumerate() {
        let Some(content) = r.content else {
            return Err(invalid(
                "* EmbedContentRequest.content: content is not specified",
                &format!("{}content", prefix(i)),
            ));
        };
        let text = content.text().unwrap_or_default();
        let dims = dimensions(
            r.output_dimensionality
                .or_else(|| r.embed_content_config.and_then(|c| c.output_dimensionality)),
            &format!("{}outputDimensionality", prefix(i)),
        )?;
        out.push((text, dims));
    }
    Ok(out)
}

/// `Embed<SINGLE>`: `embedContent`, one content, `{"embedding": {...}}`.
pub(super) const SINGLE: u8 = 0;
/// `Embed<BATCH>`: `batchEmbedContents`, `{"embeddings": [...]}`.
pub(super) const BATCH: u8 = 1;
/// `Embed<PREDICT>`: Vertex `predict`, `{"predictions": [{"embeddings": {...}}]}`.
pub(super) const PREDICT: u8 = 2;

/// `embedContent` (`{"embedding": {"values": [...]}}`) and `batchEmbedContents`
/// (`{"embeddings": [{"values": [...]}, ...]}`, one per request). The inputs are matched as one
/// embedding request (texts joined with a space); a fixture's vector answers every input, and a
/// miss gets each text's deterministic fallback vector. Vertex's `predict` for text embedding
/// models answers `{"predictions": [{"embeddings": {"values", "statistics"}}], "metadata"}`.
#[derive(Debug)]
pub(super) struct Embed<const SHAPE: u8>;

impl<const SHAPE: u8> Embed<SHAPE> {
    fn shape() -> Shape {
        match SHAPE {
            SINGLE => Shape::Single,
            BATCH => Shape::Batch,
            _ => Shape::Predict,
        }
    }
}

impl<const SHAPE: u8> EmbeddingApi for Embed<SHAPE> {
    type Opts = Vec<(String, usize)>;
    const SURFACE: &'static str = "the embedding endpoint";
    const JSON_TYPE: &'static str = "application/json; charset=UTF-8";

    fn parse(call: &Call) -> Result<(ChatRequest, Vec<(String, usize)>), ApiError> {
        let inputs = inputs(&call.body, Self::shape())?;
        let total_values = inputs.iter().map(|(_, d)| *d).sum::<usize>();
        if total_values > crate::providers::openai::embeddings::MAX_VALUES {
            return Err(invalid(
                format!(
                    "{} inputs of these dimensions is more than the {} numbers one reply may hold",
                    inputs.len(),
                    crate::providers::openai::embeddings::MAX_VALUES
                ),
                "outputDimensionality",
            ));
        }
        let model = call.route.info.model.clone().unwrap_or_default();
        let joined = inputs
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok((ChatRequest::embedding(model, joined), inputs))
    }

    fn json(
        _req: &ChatRequest,
        inputs: &Vec<(String, usize)>,
        vector: Option<&EmbeddingReply>,
    ) -> String {
        let total_values = inputs.iter().map(|(_, d)| *d).sum::<usize>();
        let mut out = String::with_capacity(64 + total_values.min(1 << 20) * 8);
        let push_values = |out: &mut String, text: &str, dims: usize| {
            out.push_str("{\"values\":");
            match vector {
                Some(v) => out.push_str(&v.json),
                None => push_fallback_embedding_json(out, text, dims),
            }
            out.push('}');
        };
        match Self::shape() {
            Shape::Batch => {
                out.push_str("{\"embeddings\":[");
                for (i, (text, dims)) in inputs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_values(&mut out, text, *dims);
                }
                out.push_str("]}");
            }
            Shape::Single => {
                out.push_str("{\"embedding\":");
                if let Some((text, dims)) = inputs.first() {
                    push_values(&mut out, text, *dims);
                }
                out.push('}');
            }
            Shape::Predict => {
                out.push_str("{\"predictions\":[");
                let mut chars = 0;
                for (i, (text, dims)) in inputs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    chars += text.chars().count();
                    out.push_str(
                        "{\"embeddings\":{\"statistics\":{\"truncated\":false,\"token_count\":",
                    );
                    out.push_str(&estimate_tokens(text.len()).to_string());
                    out.push_str("},\"values\":");
                    match vector {
                        Some(v) => out.push_str(&v.json),
                        None => push_fallback_embedding_json(&mut out, text, *dims),
                    }
                    out.push_str("}}");
                }
                out.push_str("],\"metadata\":{\"billableCharacterCount\":");
                out.push_str(&chars.to_string());
                out.push_str("}}");
            }
        }
        out
    }
}

/// A `CountTokensRequest`: `contents`, or a whole `generateContentRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountBody {
    #[serde(default)]
    contents: Option<Vec<Content>>,
    #[serde(default, alias = "generate_content_request")]
    generate_content_request: Option<GenerateBody>,
}

/// `countTokens`: `{"totalTokens": n, "promptTokensDetails": [...]}` with aimock's estimate (a
/// quarter of the characters); no fixture is consulted, the request is journaled.
pub(super) fn count_tokens(mut call: Call) -> Answered {
    let mut ex = Exchange::new(&mut call);
    let resp = match count(&call) {
        Ok((req, tokens)) => {
            ex.set_request(Arc::new(req), call.body.len());
            let mut r = crate::http::json_body(format!(
                "{{\"totalTokens\":{tokens},\"promptTokensDetails\":[{{\"modality\":\"TEXT\",\"tokenCount\":{tokens}}}]}}"
            ));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            ex.reply(r)
        }
        Err(e) => ex.fail(e),
    };
    Answered::Now(resp)
}

/// The request a `countTokens` body stands for, and its token estimate.
fn count(call: &Call) -> Result<(ChatRequest, u64), ApiError> {
    let parsed: CountBody = crate::http::parse_json_body(&call.body)?;
    let generate = match (parsed.generate_content_request, parsed.contents) {
        (Some(g), _) => g,
        (None, contents) => GenerateBody {
            contents,
            ..Default::default()
        },
    };
    let model = call.route.info.model.clone().unwrap_or_default();
    let (req, _) = conversation(generate, &model, false)?;
    let chars = crate::providers::message_chars(&req);
    let tokens = if chars == 0 {
        0
    } else {
        estimate_tokens(chars)
    };
    Ok((req, tokens))
}
