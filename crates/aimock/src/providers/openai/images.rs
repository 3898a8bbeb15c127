//! OpenAI images: `POST /v1/images/generations` (JSON) and `/v1/images/edits`
//! (`multipart/form-data`; the image and the mask are accepted and not read), matched as
//! `endpoint: "image"` with the prompt as the user message, answered from the fixture's `image` or
//! `images`. `/v1/images/variations` gets the real API's 404: it was removed (aimock 1.43 does the
//! same).
//!
//! `response_format` picks `url` or `b64_json` (the `gpt-image-*` models always answer
//! `b64_json`, with `usage`, `size`, `quality`, `background` and `output_format`). When the
//! format asks for bytes and the fixture has none, the server makes a valid PNG of the requested
//! size, one colour chosen from the prompt. Asking for a URL when the fixture has only bytes gets a
//! `data:` URL.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};

use super::invalid_param;
use crate::conversation::{ChatRequest, Endpoint, Message, Role};
use crate::http::ApiError;
use crate::pipeline::Call;
use crate::providers::endpoint::MediaApi;

/// The default model (aimock 1.43's).
const DEFAULT_MODEL: &str = "gpt-image-1";

/// What an images request asks for beside its prompt.
#[derive(Debug)]
pub(crate) struct ImageOpts {
    n: usize,
    width: u32,
    height: u32,
    size: String,
    /// `b64_json` rather than `url`.
    b64: bool,
    gpt_image: bool,
    quality: String,
    background: String,
    output_format: String,
    prompt: String,
}

/// The request's fields, from JSON or from a form.
fn opts(fields: &Map<String, Value>) -> Result<(ChatRequest, ImageOpts), ApiError> {
    let str_of = |k: &str| -> Result<Option<String>, ApiError> {
        match fields.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(invalid_param(
                Some(k),
                format!("Invalid type for '{k}': expected a string."),
            )),
        }
    };
    let prompt = str_of("prompt")?
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid_param(Some("prompt"), "Missing required parameter: 'prompt'."))?;
    let model = str_of("model")?
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| DEFAULT_MODEL.to_owned());
    let gpt_image = model.starts_with("gpt-image");
    let n = match str_of("n")? {
        None => 1,
        Some(n) => match n.parse::<usize>() {
            Ok(n @ 1..=10) => n,
            _ => {
                return Err(invalid_param(
                    Some("n"),
                    format!("Invalid 'n': integer between 1 and 10 expected, got '{n}'."),
                ))
            }
        },
    };
    let size = str_of("size")?.unwrap_or_else(|| "auto".to_owned());
    let (width, height) = if size == "auto" {
        (1024, 1024)
    } else {
        size.split_once('x')
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
            .filter(|(w, h)| (1..=4096).contains(w) && (1..=4096).contains(h))
            .ok_or_else(|| {
                invalid_param(
                    Some("size"),
                    format!(
                        "Invalid value: '{size}'. Expected 'auto' or WIDTHxHEIGHT, each 1 to 4096."
                    ),
                )
            })?
    };
    let b64 = match str_of("response_format")?.as_deref() {
        None => gpt_image,
        Some("url") => gpt_image,
        Some("b64_json") => true,
        Some(other) => {
            return Err(invalid_param(
                Some("response_format"),
                format!("Invalid value: '{other}'. Supported values are: 'url' and 'b64_json'."),
            ))
        }
    };
    let mut req = ChatRequest::chat(model, vec![Message::text(Role::User, prompt.as_str())]);
    req.endpoint = Endpoint::Image;
    Ok((
        req,
        ImageOpts {
            n,
            width,
            height,
            size: if size == "auto" {
                "1024x1024".to_owned()
            } else {
                size
            },
            b64,
            gpt_image,
            // The answer names what `auto` became.
            quality: str_of("quality")?
                .filter(|q| q != "auto" && q != "standard" && q != "hd")
                .unwrap_or_else(|| "medium".to_owned()),
            background: str_of("background")?
                .filter(|b| b != "auto")
                .unwrap_or_else(|| "opaque".to_owned()),
            output_format: str_of("output_format")?.unwrap_or_else(|| "png".to_owned()),
            prompt,
        },
    ))
}

/// The `data` entries of the answer.
fn data(reply: &Value, o: &ImageOpts) -> Result<Vec<Value>, ApiError> {
    use crate::providers::media;
    let items =
        media::fixture_images(reply, o.n).ok_or_else(|| media::no_images("server_error"))?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let bytes =
                || media::image_base64(item, o.width, o.height, &format!("{}#{i}", o.prompt));
            let mut e = Map::new();
            if o.b64 {
                e.insert("b64_json".into(), json!(bytes()));
            } else {
                let u = item.get("url").and_then(Value::as_str).map_or_else(
                    || format!("data:image/png;base64,{}", bytes()),
                    str::to_owned,
                );
                e.insert("url".into(), json!(u));
            }
            if let Some(r) = item.get("revisedPrompt").and_then(Value::as_str) {
                e.insert("revised_prompt".into(), json!(r));
            }
            Value::Object(e)
        })
        .collect())
}

fn answer(req: &ChatRequest, o: &ImageOpts, reply: &Value) -> Result<Response, ApiError> {
    let data = data(reply, o)?;
    let mut body = json!({
        "created": crate::http::time::unix_now(),
        "data": data,
    });
    if o.gpt_image {
        let input = crate::providers::estimate_tokens(req.text_chars());
        // An image costs tokens by its area (about 1,000 a megapixel per image).
        let out = (u64::from(o.width) * u64::from(o.height) / 1_000).max(1) * data.len() as u64;
        body["background"] = json!(o.background);
        body["output_format"] = json!(o.output_format);
        body["quality"] = json!(o.quality);
        body["size"] = json!(o.size);
        body["usage"] = json!({
            "input_tokens": input,
            "output_tokens": out,
            "total_tokens": input + out,
            "input_tokens_details": {"text_tokens": input, "image_tokens": 0},
        });
    }
    Ok(crate::http::json_response(StatusCode::OK, &body))
}

/// `POST /v1/images/generations`.
#[derive(Debug)]
pub(crate) struct Generations;

impl MediaApi for Generations {
    type Opts = ImageOpts;
    const SURFACE: &'static str = "the images endpoint";
    const KIND: &'static str = "image";

    fn parse(call: &Call, _headers: &HeaderMap) -> Result<(ChatRequest, ImageOpts), ApiError> {
        match crate::http::parse_json_body::<Value>(&call.body)? {
            Value::Object(m) => opts(&m),
            _ => Err(ApiError::invalid("The body must be a JSON object.")),
        }
    }

    fn render(req: &ChatRequest, o: &ImageOpts, reply: &Value) -> Result<Response, ApiError> {
        answer(req, o, reply)
    }
}

/// `POST /v1/images/edits` (multipart).
#[derive(Debug)]
pub(crate) struct Edits;

impl MediaApi for Edits {
    type Opts = ImageOpts;
    const SURFACE: &'static str = "the image edits endpoint";
    const KIND: &'static str = "image";

    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, ImageOpts), ApiError> {
        let parts = super::files::form_now(call, headers)?;
        if !parts
            .iter()
            .any(|p| p.name == "image" || p.name == "image[]")
        {
            return Err(invalid_param(
                Some("image"),
                "Missing required parameter: 'image'.",
            ));
        }
        let fields: Map<String, Value> = parts
            .into_iter()
            .filter(|p| p.filename.is_none())
            .map(|p| {
                (
                    p.name,
                    Value::String(String::from_utf8_lossy(&p.bytes).into_owned()),
                )
            })
            .collect();
        opts(&fields)
    }

    fn render(req: &ChatRequest, o: &ImageOpts, reply: &Value) -> Result<Response, ApiError> {
        answer(req, o, reply)
    }
}

/// `POST /v1/images/variations`: removed from the API, which answers 404 with no body.
pub(crate) fn variations(_call: Call) -> crate::pipeline::Answered {
    crate::pipeline::Answered::Now(StatusCode::NOT_FOUND.into_response())
}
