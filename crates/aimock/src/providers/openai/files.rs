//! The Files API (`/v1/files`), as the `openai` SDK's `client.files` speaks it: upload
//! (`multipart/form-data` with `file` and `purpose`), list (by `purpose`, as cursor pages),
//! retrieve, delete, and `content`, which gives the uploaded bytes back exactly. Files are kept
//! per server instance (at most 1,000, and 256 MiB in all: the oldest go first) and forgotten by
//! a reset.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::error_response;
use super::responses::cursor_page_of;
use crate::http::ids::random_id;
use crate::http::{json_response, ApiError};
use crate::pipeline::stored::StoredFile;
use crate::pipeline::{Answered, Call, Core, Route};

/// The purposes the API takes.
const PURPOSES: &[&str] = &[
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

/// The route of a `/v1/files...` path, if it is one.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let parts = super::segments(path, "/v1/files")?;
    let (action, label, id) = match (method, parts.as_slice()) {
        (&Method::POST, []) => ("upload", "/v1/files", None),
        (&Method::GET, []) => ("list", "/v1/files", None),
        (&Method::GET, [id]) => ("get", "/v1/files/{id}", Some(*id)),
        (&Method::DELETE, [id]) => ("delete", "/v1/files/{id}", Some(*id)),
        (&Method::GET, [id, "content"]) => ("content", "/v1/files/{id}/content", Some(*id)),
        _ => return None,
    };
    super::resource(serve, label, action, id, None)
}

fn bad(param: &str, message: impl Into<String>) -> ApiError {
    super::invalid_param(Some(param), message)
}

fn not_found(id: &str) -> ApiError {
    let mut e = super::no_such(format!("No such File object: {id}"));
    e.param = Some(json!("id"));
    e
}

/// Keep a file in the Files API (an upload, or a result a job made); its file object.
pub(crate) fn keep(core: &Core, filename: &str, purpose: &str, bytes: Bytes) -> Value {
    let id = random_id("file-", 24);
    let object = json!({
        "id": id,
        "object": "file",
        "bytes": bytes.len(),
        "created_at": crate::http::time::unix_now(),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": null,
        "status_details": null,
    });
    core.files.put_file(
        id,
        StoredFile {
            object: object.clone(),
            purpose: purpose.to_owned(),
            bytes,
        },
    );
    object
}

fn serve(call: Call) -> Answered {
    if call.route.info.action == Some("upload") {
        return super::answer_now(upload(&call));
    }
    Answered::Now(match answer(&call) {
        Ok(r) => r,
        Err(e) => error_response(&e),
    })
}

fn answer(call: &Call) -> Result<Response, ApiError> {
    let files = &call.core.files;
    let id = call.route.info.id.as_deref().unwrap_or_default();
    let ok = |v: &Value| json_response(StatusCode::OK, v);
    match call.route.info.action.unwrap_or_default() {
        "list" => {
            let purpose = crate::http::percent::query_param(call.query.as_deref(), "purpose");
            let objects: Vec<Value> = files
                .all()
                .into_iter()
                .filter(|f| purpose.as_deref().is_none_or(|p| p == f.purpose))
                .map(|f| f.object.clone())
                .collect();
            Ok(ok(&cursor_page_of(
                &objects,
                call.query.as_deref(),
                10_000,
                10_000,
            )?))
        }
        "get" => Ok(ok(&files.get(id).ok_or_else(|| not_found(id))?.object)),
        "delete" => {
            if !files.remove(id) {
                return Err(not_found(id));
            }
            Ok(ok(&json!({"id": id, "object": "file", "deleted": true})))
        }
        "content" => {
            let f = files.get(id).ok_or_else(|| not_found(id))?;
            let mut resp = f.bytes.clone().into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            Ok(resp)
        }
        _ => Err(ApiError::invalid("Unknown files operation.")),
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) name: String,
    /// Set for a file part.
    pub(crate) filename: Option<String>,
    pub(crate) bytes: Bytes,
}

/// The parts of a `multipart/form-data` body. The body is already whole, so reading it never
/// waits.
pub(crate) fn form_now(call: &Call, headers: &http::HeaderMap) -> Result<Vec<Part>, ApiError> {
    use futures_util::FutureExt as _;
    form(call, headers)
        .now_or_never()
        .unwrap_or_else(|| Err(ApiError::invalid("Malformed multipart body.")))
}

async fn form(call: &Call, headers: &http::HeaderMap) -> Result<Vec<Part>, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(ctype).map_err(|_| {
        ApiError::invalid(
            "Invalid Content-Type header: the body must be multipart/form-data with a boundary.",
        )
    })?;
    let body = call.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let malformed = |e: multer::Error| ApiError::invalid(format!("Malformed multipart body: {e}."));
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(malformed)?;
        parts.push(Part {
            name,
            filename,
            bytes,
        });
    }
    Ok(parts)
}

/// `POST /v1/files`: the multipart body's `file` and `purpose`.
fn upload(call: &Call) -> Result<Value, ApiError> {
    let (mut file, mut purpose) = (None, None);
    for p in form_now(call, &call.ctx.headers)? {
        match p.name.as_str() {
            "file" => file = Some((p.filename.unwrap_or_else(|| "file".into()), p.bytes)),
            "purpose" => purpose = Some(String::from_utf8_lossy(&p.bytes).into_owned()),
            _ => {}
        }
    }
    let Some((filename, bytes)) = file else {
        return Err(bad("file", "Missing required parameter: 'file'."));
    };
    let purpose = match purpose {
        None => return Err(bad("purpose", "Missing required parameter: 'purpose'.")),
        Some(p) if PURPOSES.contains(&p.as_str()) => p,
        Some(p) => {
            let supported = PURPOSES
                .iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(bad(
                "purpose",
                format!("Invalid value: '{p}'. Supported values are: {supported}."),
            ));
        }
    };
    Ok(keep(&call.core, &filename, &purpose, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_files_paths_are_routed() {
        let action = |m: Method, p: &str| route(&m, p).and_then(|r| r.info.action);
        assert_eq!(action(Method::POST, "/v1/files"), Some("upload"));
        assert_eq!(action(Method::GET, "/v1/files/f1/content"), Some("content"));
        assert_eq!(action(Method::DELETE, "/v1/files/f1"), Some("delete"));
        assert_eq!(action(Method::POST, "/v1/filesx"), None);
        assert_eq!(action(Method::GET, "/v1/files/"), None);
        assert_eq!(action(Method::POST, "/v1/files/f1"), None);
    }
}
