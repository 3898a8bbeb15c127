//! `/__aimock/mcp/...`: run-time changes to an MCP server.

use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::config::{McpPrompt, McpResource, McpTool};
use super::McpServer;
use crate::http::{control_error as error, json_response, ControlRequest};

/// The body as a `T`; an error names where in it the problem is.
#[expect(clippy::result_large_err, reason = "the error is the answer")]
fn body<T: serde::de::DeserializeOwned>(req: &ControlRequest) -> Result<T, Response> {
    serde_path_to_error::deserialize(req.json()).map_err(|e| {
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

/// `/__aimock/mcp/...`: run-time changes. `req.sub` is the path after `/__aimock/mcp`.
///
/// `GET /` (summary), `POST /tools` (a tool), `DELETE /tools/{name}`, `POST /resources` (a
/// resource), `DELETE /resources/{uri}` or `/resources?uri=`, `POST /resources/update {uri,
/// text|blob}`, `POST /prompts`, `DELETE /prompts/{name}`, `POST /notify {method, params?}`.
/// The server picks the MCP server (`?path=/mcp2`; by default the one at `/mcp`, else the
/// first).
pub(super) fn control(server: &McpServer, req: &ControlRequest) -> Response {
    let method = &req.method;
    let sub = req.sub.trim_end_matches('/');
    match (method, sub) {
        (&Method::GET, "") => json_response(StatusCode::OK, &server.summary()),
        (&Method::POST, "/tools") => match body::<McpTool>(req) {
            Ok(t) => {
                let name = Value::String(t.name.clone());
                done(server.add_tool(t), name)
            }
            Err(r) => r,
        },
        (&Method::POST, "/resources") => match body::<McpResource>(req) {
            Ok(r) => {
                let uri = Value::String(r.uri.clone());
                done(server.add_resource(r), uri)
            }
            Err(r) => r,
        },
        (&Method::POST, "/resources/update") => update(server, req.json()),
        (&Method::POST, "/prompts") => match body::<McpPrompt>(req) {
            Ok(p) => {
                let name = Value::String(p.name.clone());
                done(server.add_prompt(p), name)
            }
            Err(r) => r,
        },
        (&Method::POST, "/notify") => {
            let v = req.json();
            match v.get("method").and_then(Value::as_str) {
                Some(m) => {
                    let n = server.notify(m, v.get("params").cloned());
                    json_response(StatusCode::OK, &json!({ "ok": true, "sessions": n }))
                }
                None => error(
                    StatusCode::BAD_REQUEST,
                    "expected {\"method\": ..., \"params\"?: ...}",
                ),
            }
        }
        (&Method::DELETE, "/resources") => match req.param("uri") {
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
                req.unknown("/mcp")
            }
        }
        _ => req.unknown("/mcp"),
    }
}

fn update(server: &McpServer, v: &Value) -> Response {
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
