//! Imagen on Vertex AI: `POST .../publishers/google/models/imagen-*:predict`, as google-genai's
//! `client.models.generate_images` sends it (`instances[0].prompt`, `parameters.sampleCount`,
//! `aspectRatio`, `outputOptions.mimeType`). Matched as `endpoint: "image"`, with the prompt as the
//! user message. The answer is `predictions[]` of `{bytesBase64Encoded, mimeType}` (plus `prompt`,
//! the enhanced prompt, from a fixture's `revisedPrompt`), from the fixture's `image` or `images`.
//! A fixture without bytes gets a PNG of the aspect ratio's size, coloured from the prompt.

use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};

use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::endpoint::MediaApi;

/// What the request asks for beside its prompt.
#[derive(Debug)]
pub(crate) struct ImagenOpts {
    count: usize,
    width: u32,
    height: u32,
    prompt: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// Imagen's output size for an aspect ratio.
fn size(aspect: &str) -> Option<(u32, u32)> {
    Some(match aspect {
        "1:1" => (1024, 1024),
        "3:4" => (896, 1280),
        "4:3" => (1280, 896),
        "9:16" => (768, 1408),
        "16:9" => (1408, 768),
        _ => return None,
    })
}

/// `:predict` on an Imagen model.
#[derive(Debug)]
pub(crate) struct Imagen;

impl MediaApi for Imagen {
    type Opts = ImagenOpts;
    const SURFACE: &'static str = "Imagen's predict";
    const KIND: &'static str = "image";

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, ImagenOpts), ApiError> {
        let body: Value = crate::http::parse_json_body(&call.body)?;
        let prompt = body
            .pointer("/instances/0/prompt")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| invalid("instances[0].prompt is required."))?
            .to_owned();
        let params = body.get("parameters").and_then(Value::as_object);
        let get = |k: &str| params.and_then(|p| p.get(k));
        let count = match get("sampleCount") {
            None | Some(Value::Null) => 4,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=8) => n as usize,
                _ => {
                    return Err(invalid(format!(
                        "parameters.sampleCount must be 1 to 8, got {v}."
                    )))
                }
            },
        };
        let aspect = get("aspectRatio").and_then(Value::as_str).unwrap_or("1:1");
        let (width, height) = size(aspect).ok_or_else(|| {
            invalid(format!(
                "parameters.aspectRatio '{aspect}' is not one of 1:1, 3:4, 4:3, 9:16, 16:9."
            ))
        })?;
        let model = call.route.info.model.clone().unwrap_or_default();
        let mut req = ChatRequest::chat(model, vec![Message::text(Role::User, prompt.as_str())]);
        req.endpoint = Endpoint::Image;
        Ok((
            req,
            ImagenOpts {
                count,
                width,
                height,
                prompt,
            },
        ))
    }

    fn render(_req: &ChatRequest, o: &ImagenOpts, reply: &Value) -> Result<Response, ApiError> {
        use crate::providers::media;
        let items =
            media::fixture_images(reply, o.count).ok_or_else(|| media::no_images("INTERNAL"))?;
        let predictions: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let bytes =
                    media::image_base64(item, o.width, o.height, &format!("{}#{i}", o.prompt));
                let mut p = Map::new();
                p.insert("bytesBase64Encoded".into(), json!(bytes));
                p.insert("mimeType".into(), json!("image/png"));
                if let Some(r) = item.get("revisedPrompt").and_then(Value::as_str) {
                    p.insert("prompt".into(), json!(r));
                }
                Value::Object(p)
            })
            .collect();
        Ok(crate::http::json_response(
            StatusCode::OK,
            &json!({ "predictions": predictions }),
        ))
    }
}
