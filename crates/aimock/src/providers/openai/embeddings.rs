//! `POST /v1/embeddings`: a fixture's vector, else the deterministic fallback; `dimensions` and
//! `encoding_format: base64` honoured.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use crate::conversation::ChatRequest;
use crate::fixture::EmbeddingReply;
use crate::http::push_json_str;
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::endpoint::EmbeddingApi;
use crate::providers::{estimate_tokens, fallback_embedding, push_fallback_embedding_json};

/// Dimensions of the fallback vector when the request names none.
pub(crate) const DEFAULT_DIMENSIONS: usize = 1536;
/// OpenAI's limit on inputs per request.
pub(crate) const MAX_INPUTS: usize = 2048;
/// The most numbers one reply may hold (inputs × dimensions), so no request can make the server
/// build an enormous reply.
pub(crate) const MAX_VALUES: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
struct Body_ {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<u64>,
}

/// The inputs as texts: a string, a list of strings, or token arrays (shown as their numbers).
fn inputs(v: Value) -> Result<Vec<String>, ApiError> {
    let bad = || {
        let mut e = ApiError::invalid(
            "'input' must be a string, an array of strings, or an array of token arrays",
        )
        .with_code("invalid_type");
        e.param = Some(Value::String("input".into()));
        e
    };
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) if items.is_empty() => {
            let mut e = ApiError::invalid("'input' must not be empty").with_code("invalid_value");
            e.param = Some(Value::String("input".into()));
            Err(e)
        }
        Value::Array(items) => {
            if items.iter().all(Value::is_number) {
                return Ok(vec![tokens_text(&items)]);
            }
            items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s),
                    Value::Array(t) if t.iter().all(Value::is_number) => Ok(tokens_text(&t)),
                    _ => Err(bad()),
                })
                .collect()
        }
        _ => Err(bad()),
    }
}

fn tokens_text(t: &[Value]) -> String {
    t.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the reply needs beside the matched request.
#[derive(Debug)]
pub(crate) struct EmbedOptions {
    texts: Vec<String>,
    dims: usize,
    base64: bool,
    model: String,
}

/// `POST /v1/embeddings`.
#[derive(Debug)]
pub(crate) struct Embeddings;

impl EmbeddingApi for Embeddings {
    type Opts = EmbedOptions;
    const SURFACE: &'static str = "the embeddings endpoint";

    fn parse(call: &Call) -> Result<(ChatRequest, EmbedOptions), ApiError> {
        parse(&call.body, call.route.info.deployment.as_deref())
    }

    fn json(_req: &ChatRequest, o: &EmbedOptions, vector: Option<&EmbeddingReply>) -> String {
        let (texts, dims) = (&o.texts, o.dims);
        let mut out = String::with_capacity(256 + texts.len().min(64) * (dims.min(4096) * 8 + 64));
        out.push_str("{\"object\":\"list\",\"data\":[");
        for (index, text) in texts.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str("{\"object\":\"embedding\",\"index\":");
            out.push_str(&index.to_string());
            out.push_str(",\"embedding\":");
            match (vector, o.base64) {
                (Some(v), false) => out.push_str(&v.json),
                (Some(v), true) => push_base64(&mut out, v.values.iter().copied()),
                (None, false) => push_fallback_embedding_json(&mut out, text, dims),
                (None, true) => push_base64(&mut out, fallback_embedding(text, dims).into_iter()),
            }
            out.push('}');
        }
        let tokens = estimate_tokens(texts.iter().map(String::len).sum());
        out.push_str("],\"model\":");
        push_json_str(&mut out, &o.model);
        out.push_str(&format!(
            ",\"usage\":{{\"prompt_tokens\":{tokens},\"total_tokens\":{tokens}}}}}"
        ));
        out
    }
}

/// Parse and check an embeddings body.
fn parse(body: &[u8], deployment: Option<&str>) -> Result<(ChatRequest, EmbedOptions), ApiError> {
    let parsed: Body_ = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(ApiError::malformed_json(&e)),
        Err(e) => return Err(ApiError::invalid(format!("Invalid request body: {e}"))),
    };
    let param = |e: ApiError, p: &str| {
        let mut e = e;
        e.param = Some(Value::String(p.into()));
        e
    };
    let Some(input) = parsed.input else {
        return Err(param(
            ApiError::invalid("Missing required parameter: 'input'.")
                .with_code("missing_required_parameter"),
            "input",
        ));
    };
    let texts = inputs(input)?;
    if texts.len() > MAX_INPUTS {
        return Err(param(
            ApiError::invalid(format!(
                "'input' has {} items; at most {MAX_INPUTS} are allowed per request",
                texts.len()
            ))
            .with_code("invalid_value"),
            "input",
        ));
    }
    let dims = match parsed.dimensions {
        None => DEFAULT_DIMENSIONS,
        Some(0) => {
            return Err(param(
                ApiError::invalid("'dimensions' must be at least 1").with_code("invalid_value"),
                "dimensions",
            ))
        }
        Some(d) if d > 65_536 => {
            return Err(param(
                ApiError::invalid("'dimensions' must be at most 65536").with_code("invalid_value"),
                "dimensions",
            ))
        }
        Some(d) => d as usize,
    };
    if texts.len().saturating_mul(dims) > MAX_VALUES {
        return Err(param(
            ApiError::invalid(format!(
                "{} inputs of {dims} dimensions is more than the {MAX_VALUES} numbers one reply may hold",
                texts.len()
            ))
            .with_code("invalid_value"),
            "dimensions",
        ));
    }
    let base64 = match parsed.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(param(
                ApiError::invalid(format!(
                    "Invalid value: '{other}'. Supported values are: 'float' and 'base64'."
                ))
                .with_code("invalid_value"),
                "encoding_format",
            ))
        }
    };
    let model = parsed
        .model
        .filter(|m| !m.is_empty())
        .or_else(|| deployment.map(str::to_owned))
        .unwrap_or_else(|| "text-embedding-3-small".to_owned());
    let req = ChatRequest::embedding(model.clone(), texts.join(" "));
    Ok((
        req,
        EmbedOptions {
            texts,
            dims,
            base64,
            model,
        },
    ))
}

/// The vector as OpenAI's base64: little-endian float32s, as a JSON string.
fn push_base64(out: &mut String, values: impl Iterator<Item = f64>) {
    let mut bytes = Vec::new();
    for x in values {
        bytes.extend_from_slice(&(x as f32).to_le_bytes());
    }
    out.push('"');
    out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
    out.push('"');
}
