//! `/__aimock/mcp/...`: run-time changes to an MCP server.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use super::config::{McpPrompt, McpResource, McpTool};
use super::McpServer;
use crate::http::json_response;
use crate::server::AppState;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "error": message.into() }))
}

async fn read_body<T: serde::de::DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .map_err(|e| {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Could not read the body: {e}"),
            )
        })?;
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("Invalid body at `{}`: {}", e.path(), e.inner()),
        )
    })
}

fn done(r: Result<(), String>, what: Value) -> Response {
    match r {
        Ok(()) => json_response(StatusCode::OK, &json!({ "ok": true, "added": what })),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

fn removed(ok: bool, what: &str) -> Response {
    if ok {
        json_response(StatusCode::OK, &json!({ "ok": true, "removed": what }))
    } else {
        error(StatusCode::NOT_FOUND, format!("No such entry: {what}"))
    }
}

/// `/__aimock/mcp/...`: run-time changes. `sub` is the path after `/__aimock/mcp`.
///
/// `GET /` (summary), `POST /tools` (a tool), `DELETE /tools/{name}`, `POST /resources` (a
/// resource), `DELETE /resources/{uri}` or `/resources?uri=`, `POST /resources/update {uri,
/// text|blob}`, `POST /prompts`, `DELETE /prompts/{name}`, `POST /notify {method, params?}`.
/// `?path=/mcp2` picks the server mounted there (default: the first).
pub(crate) async fn control(
    state: &Arc<AppState>,
    method: &Method,
    sub: &str,
    query: Option<&str>,
    _headers: HeaderMap,
    body: Body,
) -> Response {
    let path = crate::http::percent::query_param(query, "path");
    // Without `?path=`, the server at the default `/mcp` if there is one, else any.
    let found = match &path {
        Some(p) => state.mounts.mcp(Some(p)),
        None => state
            .mounts
            .mcp(Some("/mcp"))
            .or_else(|| state.mounts.mcp(None)),
    };
    let Some(server) = found else {
        return error(
            StatusCode::NOT_FOUND,
            match path {
                Some(p) => format!("No MCP server is mounted at `{p}`"),
                None => "No MCP server is configured".to_owned(),
            },
        );
    };
    let sub = sub.trim_end_matches('/');
    match (method, sub) {
        (&Method::GET, "") => json_response(StatusCode::OK, &server.summary()),
        (&Method::POST, "/tools") => match read_body::<McpTool>(body).await {
            Ok(t) => {
                let name = Value::String(t.name.clone());
                done(server.add_tool(t), name)
            }
            Err(r) => r,
        },
        (&Method::POST, "/resources") => match read_body::<McpResource>(body).await {
            Ok(r) => {
                let uri = Value::String(r.uri.clone());
                done(server.add_resource(r), uri)
            }
            Err(r) => r,
        },
        (&Method::POST, "/resources/update") => update(&server, body).await,
        (&Method::POST, "/prompts") => match read_body::<McpPrompt>(body).await {
            Ok(p) => {
                let name = Value::String(p.name.clone());
                done(server.add_prompt(p), name)
            }
            Err(r) => r,
        },
        (&Method::POST, "/notify") => match read_body::<Value>(body).await {
            Ok(v) => match v.get("method").and_then(Value::as_str) {
                Some(m) => {
                    let n = server.notify(m, v.get("params").cloned());
                    json_response(StatusCode::OK, &json!({ "ok": true, "sessions": n }))
                }
                None => error(
                    StatusCode::BAD_REQUEST,
                    "expected {\"method\": ..., \"params\"?: ...}",
                ),
            },
            Err(r) => r,
        },
        (&Method::DELETE, "/resources") => match crate::http::percent::query_param(query, "uri") {
            Some(uri) => removed(server.remove_resource(&uri), &uri),
            None => error(
                StatusCode::BAD_REQUEST,
                "name the resource: /resources?uri=...",
            ),
        },
        (&Method::DELETE, s) => {
            if let Some(name) = s.strip_prefix("/tools/") {
                let name = crate::http::percent::path(name).into_owned();
                removed(server.remove_tool(&name), &name)
            } else if let Some(uri) = s.strip_prefix("/resources/") {
                let uri = crate::http::percent::path(uri).into_owned();
                removed(server.remove_resource(&uri), &uri)
            } else if let Some(name) = s.strip_prefix("/prompts/") {
                let name = crate::http::percent::path(name).into_owned();
                removed(server.remove_prompt(&name), &name)
            } else {
                unknown(method, sub)
            }
        }
        _ => unknown(method, sub),
    }
}

async fn update(server: &McpServer, body: Body) -> Response {
    let v = match read_body::<Value>(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(uri) = v.get("uri").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"uri\": ..., \"text\" or \"blob\": ...}",
        );
    };
    let text = v.get("text").and_then(Value::as_str).map(str::to_owned);
    let blob = v.get("blob").and_then(Value::as_str).map(str::to_owned);
    if text.is_none() == blob.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "give one of `text` or `blob` (a string)",
        );
    }
    if server.update_resource(uri, text, blob) {
        json_response(StatusCode::OK, &json!({ "ok": true, "updated": uri }))
    } else {
        error(StatusCode::NOT_FOUND, format!("No such resource: {uri}"))
    }
}

fn unknown(method: &Method, sub: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("Unknown control endpoint: {method} /__aimock/mcp{sub}"),
    )
}
