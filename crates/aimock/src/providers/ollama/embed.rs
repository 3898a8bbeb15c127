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

/// The fixture's vector for these inputs, or `None` for the fallback.
pub(super) fn embedding_answer(
    ex: &mut Exchange,
    model: &str,
    texts: &[String],
    body_len: usize,
) -> Result<Option<EmbeddingReply>, ApiError> {
    let req = Arc::new(ChatRequest::embedding(model.to_owned(), texts.join(" ")));
    ex.set_request(req.clone(), body_len);
    ex.explain_misses = false;
    match ex.resolve(&req) {
        Answer::Fixture(f) => match &f.reply {
            Reply::Embedding(v) => Ok(Some(v.clone())),
            other => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                format!(
                    "Fixture {} answers with {}, which Ollama's embed endpoint cannot serve",
                    f.describe(),
                    other.kind()
                ),
            )),
        },
        Answer::Error(e)
            if e.status == StatusCode::NOT_FOUND
                && e.code.as_ref().and_then(Value::as_str) == Some("no_fixture_match") =>
        {
            Ok(None)
        }
        Answer::Error(e) => Err(e),
    }
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

/// `POST /api/embed`: one vector per input.
pub(super) fn handle_embed(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Bytes,
    _info: RouteInfo,
) -> Response {
    let mut ex = Exchange::new(state, ctx);
    let prepared = (|| {
        let v: EmbedBody = crate::http::parse_json_body(&body)?;
        let model = model_of(v.model)?;
        let texts = embed_inputs(v.input)?;
        let dims = dims_of(v.dimensions)?;
        if texts.len().saturating_mul(dims) > MAX_VALUES {
            return Err(ApiError::invalid(format!(
                "{} inputs of {dims} dimensions is more than the {MAX_VALUES} numbers one reply may hold",
                texts.len()
            )));
        }
        Ok((model, texts, dims))
    })();
    let (model, texts, dims) = match prepared {
        Ok(p) => p,
        Err(e) => return ex.fail(e, error_response),
    };
    let vector = match embedding_answer(&mut ex, &model, &texts, body.len()) {
        Ok(v) => v,
        Err(e) => return ex.fail(e, error_response),
    };
    let mut out = String::with_capacity(128 + texts.len().min(64) * (dims.min(4096) * 8 + 4));
    out.push_str("{\"model\":");
    push_json_str(&mut out, &model);
    out.push_str(",\"embeddings\":[");
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match &vector {
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
    ex.finish(StatusCode::OK);
    json_body(StatusCode::OK, out)
}

/// `POST /api/embeddings` (legacy): `{prompt}` -> `{embedding}`.
pub(super) fn handle_embeddings(
    state: Arc<AppState>,
    ctx: RequestCtx,
    body: Bytes,
    _info: RouteInfo,
) -> Response {
    let mut ex = Exchange::new(state, ctx);
    let prepared = (|| {
        let v: EmbedBody = crate::http::parse_json_body(&body)?;
        let model = model_of(v.model)?;
        let text = match (v.prompt, v.input) {
            (Some(p), _) => p,
            (None, Some(Value::String(s))) => s,
            _ => String::new(),
        };
        Ok((model, text, dims_of(v.dimensions)?))
    })();
    let (model, text, dims) = match prepared {
        Ok(p) => p,
        Err(e) => return ex.fail(e, error_response),
    };
    let texts = [text];
    let vector = match embedding_answer(&mut ex, &model, &texts, body.len()) {
        Ok(v) => v,
        Err(e) => return ex.fail(e, error_response),
    };
    let mut out = String::from("{\"embedding\":");
    match &vector {
        Some(v) => out.push_str(&v.json),
        None => push_fallback_embedding_json(&mut out, &texts[0], dims),
    }
    out.push('}');
    ex.finish(StatusCode::OK);
    json_body(StatusCode::OK, out)
}

// ---------------------------------------------------------------------------------------- models
