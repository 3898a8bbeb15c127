//! The embedding routes: `/api/embed` (one vector per input) and the legacy `/api/embeddings`.

use super::*;

#[derive(Deserialize)]
pub(super) struct EmbedBody {
    #[serde(default)]
    pub(super) model: Option<String>,
    #[serde(default)]
    pub(super) input: Option<Value>,
    #[serde(default)]
    pub(super) prompt: Option<String>,
    #[serde(default)]
    pub(super) dimensions: Option<u64>,
}

pub(super) fn embed_inputs(v: Option<Value>) -> Result<Vec<String>, ApiError> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::invalid(
                    "invalid input type: input must be a string or an array of strings",
                )),
            })
            .collect(),
        Some(_) => Err(ApiError::invalid(
            "invalid input type: input must be a string or an array of strings",
        )),
    }
}

pub(super) fn dims_of(d: Option<u64>) -> Result<usize, ApiError> {
    match d {
        None => Ok(DEFAULT_DIMENSIONS),
        Some(0) => Err(ApiError::invalid("dimensions must be at least 1")),
        Some(d) if d > 65_536 => Err(ApiError::invalid("dimensions must be at most 65536")),
        Some(d) => Ok(d as usize),
    }
}

/// `POST /api/embed` ([`Embed`]: one vector per input) and the legacy `POST /api/embeddings`
/// ([`LegacyEmbeddings`]: `{prompt}` -> `{embedding}`).
#[derive(Debug)]
pub(super) struct EmbedApi<const LEGACY: bool>;

/// `POST /api/embed`.
pub(super) type Embed = EmbedApi<false>;

/// `POST /api/embeddings`.
pub(super) type LegacyEmbeddings = EmbedApi<true>;

/// The inputs and their dimensions.
#[derive(Debug)]
pub(super) struct EmbedOptions {
    model: String,
    texts: Vec<String>,
    dims: usize,
}

impl<const LEGACY: bool> EmbeddingApi for EmbedApi<LEGACY> {
    type Opts = EmbedOptions;
    const SURFACE: &'static str = "Ollama's embed endpoint";
    const JSON_TYPE: &'static str = JSON_TYPE;

    fn parse(call: &Call) -> Result<(ChatRequest, EmbedOptions), ApiError> {
        let v: EmbedBody = crate::http::parse_json_body(&call.body)?;
        let model = model_of(v.model)?;
        let texts = if LEGACY {
            vec![match (v.prompt, v.input) {
                (Some(p), _) => p,
                (None, Some(Value::String(s))) => s,
                _ => String::new(),
            }]
        } else {
            embed_inputs(v.input)?
        };
        let dims = dims_of(v.dimensions)?;
        if !LEGACY && texts.len().saturating_mul(dims) > MAX_VALUES {
            return Err(ApiError::invalid(format!(
                "{} inputs of {dims} dimensions is more than the {MAX_VALUES} numbers one reply may hold",
                texts.len()
            )));
        }
        let req = ChatRequest::embedding(model.clone(), texts.join(" "));
        Ok((req, EmbedOptions { model, texts, dims }))
    }

    fn json(_req: &ChatRequest, o: &EmbedOptions, vector: Option<&EmbeddingReply>) -> String {
        let (texts, dims) = (&o.texts, o.dims);
        if LEGACY {
            let mut out = String::from("{\"embedding\":");
            match vector {
                Some(v) => out.push_str(&v.json),
                None => push_fallback_embedding_json(&mut out, &texts[0], dims),
            }
            out.push('}');
            return out;
        }
        let mut out = String::with_capacity(128 + texts.len().min(64) * (dims.min(4096) * 8 + 4));
        out.push_str("{\"model\":");
        push_json_str(&mut out, &o.model);
        out.push_str(",\"embeddings\":[");
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match vector {
                Some(v) => out.push_str(&v.json),
                None => push_fallback_embedding_json(&mut out, t, dims),
            }
        }
        let tokens = if texts.is_empty() {
            0
        } else {
            estimate_tokens(texts.iter().map(String::len).sum())
        };
        out.push_str(&format!(
            "],\"total_duration\":0,\"load_duration\":0,\"prompt_eval_count\":{tokens}}}"
        ));
        out
    }
}
