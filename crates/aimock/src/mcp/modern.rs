//! The 2026-07-28 revision: stateless requests, each carrying its protocol version, client
//! info and capabilities in `params._meta` (mirrored in the `MCP-Protocol-Version`,
//! `Mcp-Method` and `Mcp-Name` headers); `server/discover` instead of `initialize`;
//! `subscriptions/listen` streams instead of the GET stream and `resources/subscribe`.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::journal::EntryHandle;

use super::{
    accepts, code, rpc_http_error, sse_response, McpServer, RpcError, Sink, PROTOCOL_VERSIONS,
    VERSION_HEADER,
};

/// The per-request-envelope revisions served.
pub const MODERN_PROTOCOL_VERSIONS: [&str; 1] = ["2026-07-28"];

const PROTOCOL_VERSION_META_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_CAPABILITIES_META_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
const SERVER_INFO_META_KEY: &str = "io.modelcontextprotocol/serverInfo";
const SUBSCRIPTION_ID_META_KEY: &str = "io.modelcontextprotocol/subscriptionId";
const METHOD_HEADER: &str = "mcp-method";
const NAME_HEADER: &str = "mcp-name";

/// Sent by the client when its own header and body disagree.
const HEADER_MISMATCH: i64 = -32020;

/// Methods whose results carry `ttlMs` and `cacheScope`.
const CACHEABLE: [&str; 6] = [
    "server/discover",
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];

/// Methods of the handshake era that 2026-07-28 removed.
const REMOVED: [&str; 5] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// One open `subscriptions/listen` stream.
#[derive(Debug)]
pub(crate) struct Listener {
    id: Value,
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: HashSet<String>,
    tx: mpsc::UnboundedSender<Value>,
}

impl Listener {
    fn send(&self, method: &str, mut params: Map<String, Value>) -> bool {
        params.insert("_meta".into(), json!({ SUBSCRIPTION_ID_META_KEY: self.id }));
        self.tx
            .send(crate::jsonrpc::notification(
                method,
                Some(Value::Object(params)),
            ))
            .is_ok()
    }

    /// Forward a list change (`tools`, `prompts`, `resources`) when asked for.
    pub(crate) fn list_changed(&self, what: &str) -> bool {
        let wanted = match what {
            "tools" => self.tools,
            "prompts" => self.prompts,
            "resources" => self.resources,
            _ => false,
        };
        !wanted || self.send(&format!("notifications/{what}/list_changed"), Map::new())
    }

    /// Forward a resource update when subscribed to it.
    pub(crate) fn updated(&self, uri: &str) -> bool {
        if !self.uris.contains(uri) {
            return !self.tx.is_closed();
        }
        let mut p = Map::new();
        p.insert("uri".into(), Value::String(uri.to_owned()));
        self.send("notifications/resources/updated", p)
    }

    /// End the stream gracefully: the listen request's result.
    pub(crate) fn close(&self) {
        let _ = self.tx.send(crate::jsonrpc::result(
            &self.id,
            json!({"resultType": "complete", "_meta": { SUBSCRIPTION_ID_META_KEY: self.id }}),
        ));
    }
}

/// The HTTP status for a JSON-RPC error code at 2026-07-28.
fn status_for(code: i64) -> StatusCode {
    match code {
        code::PARSE_ERROR | code::INVALID_REQUEST | code::INVALID_PARAMS => StatusCode::BAD_REQUEST,
        -32022..=-32020 => StatusCode::BAD_REQUEST,
        code::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

fn error_response(id: &Value, e: RpcError) -> Response {
    crate::http::json_response(status_for(e.code), &e.to_response(id))
}

/// `Mcp-Name` as sent: verbatim, or `=?base64?...?=` for values a header cannot carry.
fn decode_header_value(v: &str) -> Option<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(payload) => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(v.to_owned()),
    }
}

/// `{supported, requested}` for -32022: every revision we speak, the newest last.
pub(crate) fn unsupported(requested: &str) -> RpcError {
    let mut supported: Vec<&str> = PROTOCOL_VERSIONS.to_vec();
    supported.extend(MODERN_PROTOCOL_VERSIONS);
    let mut e = RpcError::new(
        code::UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
    );
    e.data = Some(json!({"supported": supported, "requested": requested}));
    e
}

/// The request envelope checks (the official SDKs' order): `_meta` keys, header agreement,
/// then the version.
fn check_envelope(headers: &HeaderMap, m: &Value) -> Result<(), RpcError> {
    let Some(meta) = m
        .get("params")
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
    else {
        return Err(RpcError::params(format!(
            "params._meta must be an object carrying the required '{PROTOCOL_VERSION_META_KEY}' and '{CLIENT_CAPABILITIES_META_KEY}' envelope keys"
        )));
    };
    let missing: Vec<&str> = [PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY]
        .into_iter()
        .filter(|k| !meta.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(RpcError::params(format!(
            "params._meta is missing the required envelope key(s): {}",
            missing.join(", ")
        )));
    }
    let version = meta.get(PROTOCOL_VERSION_META_KEY);
    let header_version = headers.get(VERSION_HEADER).and_then(|v| v.to_str().ok());
    if header_version.is_none() || header_version != version.and_then(Value::as_str) {
        return Err(RpcError::new(
            HEADER_MISMATCH,
            "mcp-protocol-version header does not match the request envelope's protocol version",
        ));
    }
    let method = m.get("method").and_then(Value::as_str);
    if headers.get(METHOD_HEADER).and_then(|v| v.to_str().ok()) != method {
        return Err(RpcError::new(
            HEADER_MISMATCH,
            "mcp-method header does not match the request body's method",
        ));
    }
    let name_key = match method {
        Some("tools/call" | "prompts/get") => Some("name"),
        Some("resources/read") => Some("uri"),
        _ => None,
    };
    if let Some(key) = name_key {
        if let Some(body_value) = m
            .get("params")
            .and_then(|p| p.get(key))
            .filter(|v| !v.is_null())
        {
            let header = headers
                .get(NAME_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(decode_header_value);
            if header.as_deref() != body_value.as_str() {
                return Err(RpcError::new(
                    HEADER_MISMATCH,
                    format!("mcp-name header does not match the request body's '{key}' parameter"),
                ));
            }
        }
    }
    match version {
        Some(Value::String(v)) if MODERN_PROTOCOL_VERSIONS.contains(&v.as_str()) => Ok(()),
        Some(Value::String(v)) => Err(unsupported(v)),
        _ => Err(RpcError::params(
            "the protocol-version envelope value must be a string",
        )),
    }
}

impl McpServer {
    /// A POST at a revision past the handshake era (`MCP-Protocol-Version` says so).
    pub(crate) async fn post_modern(
        self: &Arc<Self>,
        headers: &HeaderMap,
        body: &Value,
        entry: &EntryHandle,
    ) -> Response {
        let requested = headers
            .get(VERSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let Some(obj) = body.as_object() else {
            return error_response(
                &Value::Null,
                RpcError::new(
                    code::INVALID_REQUEST,
                    "Body must be a single JSON-RPC request or notification object",
                ),
            );
        };
        if !obj.contains_key("id") {
            // A notification: acknowledged and dropped at a served version.
            if obj.get("method").and_then(Value::as_str).is_none()
                || !crate::jsonrpc::names_version(obj)
            {
                return error_response(
                    &Value::Null,
                    RpcError::new(
                        code::INVALID_REQUEST,
                        "Body must be a single JSON-RPC request or notification object",
                    ),
                );
            }
            if !MODERN_PROTOCOL_VERSIONS.contains(&requested.as_str()) {
                return error_response(&Value::Null, unsupported(&requested));
            }
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::ACCEPTED;
            return r;
        }
        let id = obj.get("id").cloned().unwrap_or(Value::Null);
        let method = obj.get("method").and_then(Value::as_str);
        let valid = crate::jsonrpc::names_version(obj)
            && crate::jsonrpc::is_request_id(&id)
            && method.is_some();
        let Some(method) = method.filter(|_| valid) else {
            return error_response(
                &Value::Null,
                RpcError::new(
                    code::INVALID_REQUEST,
                    "Body must be a single JSON-RPC request or notification object",
                ),
            );
        };
        let wants_sse = accepts(headers, "text/event-stream");
        if method == "subscriptions/listen" && !wants_sse {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_ACCEPTABLE;
            return r;
        }
        let enveloped = body
            .get("params")
            .and_then(|p| p.get("_meta"))
            .is_some_and(|m| m.get(PROTOCOL_VERSION_META_KEY).is_some());
        if !enveloped && !MODERN_PROTOCOL_VERSIONS.contains(&requested.as_str()) {
            // A handshake-era client naming a revision we do not know.
            return error_response(&id, unsupported(&requested));
        }
        if let Err(e) = check_envelope(headers, body) {
            return error_response(&id, e);
        }
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        if !params.is_object() {
            return error_response(&id, RpcError::params("Invalid params: must be an object"));
        }
        if REMOVED.contains(&method) {
            return error_response(
                &id,
                RpcError::new(
                    code::METHOD_NOT_FOUND,
                    format!("Method not found: {method} (removed in 2026-07-28)"),
                ),
            );
        }
        match method {
            "server/discover" => {
                let r = self.discover();
                json_result(&id, self.finish_result(method, r))
            }
            "subscriptions/listen" => self.listen(id, &params, entry),
            _ if wants_sse && self.will_notify("", body, true) => {
                let (tx, rx) = mpsc::unbounded_channel();
                let this = self.clone();
                let method = method.to_owned();
                tokio::spawn(async move {
                    let sink = Sink::Post(tx.clone());
                    let answer = match this.call("", &method, &params, &sink, true).await {
                        Ok(r) => crate::jsonrpc::result(&id, this.finish_result(&method, r)),
                        Err(e) => retire_codes(e).to_response(&id),
                    };
                    let _ = tx.send(answer);
                });
                sse_response(rx, None, None, Some(entry))
            }
            _ => {
                // Notifications raised here have nowhere to go (no SSE accepted, or none due).
                let (tx, _rx) = mpsc::unbounded_channel();
                match self.call("", method, &params, &Sink::Post(tx), true).await {
                    Ok(r) => json_result(&id, self.finish_result(method, r)),
                    Err(e) => error_response(&id, retire_codes(e)),
                }
            }
        }
    }

    fn server_info(&self) -> Value {
        let info = self.config().server_info.clone().unwrap_or_default();
        let mut v = json!({
            "name": if info.name.is_empty() { "mcp-mock" } else { info.name.as_str() },
            "version": if info.version.is_empty() { "1.0.0" } else { info.version.as_str() },
        });
        if let Some(t) = info.title {
            v["title"] = Value::String(t);
        }
        v
    }

    /// What every result at 2026-07-28 carries: `resultType`, cache hints where due, and the
    /// `serverInfo` stamp.
    fn finish_result(&self, method: &str, mut r: Value) -> Value {
        if let Some(o) = r.as_object_mut() {
            o.entry("resultType").or_insert_with(|| json!("complete"));
            if CACHEABLE.contains(&method) {
                o.entry("ttlMs").or_insert_with(|| json!(0));
                o.entry("cacheScope").or_insert_with(|| json!("private"));
            }
            let meta = o.entry("_meta").or_insert_with(|| json!({}));
            if let Some(m) = meta.as_object_mut() {
                m.insert(SERVER_INFO_META_KEY.into(), self.server_info());
            }
        }
        r
    }

    fn discover(&self) -> Value {
        let mut supported: Vec<&str> = PROTOCOL_VERSIONS.to_vec();
        supported.extend(MODERN_PROTOCOL_VERSIONS);
        let mut out = json!({
            "supportedVersions": supported,
            "capabilities": {
                "tools": {"listChanged": true},
                "resources": {"subscribe": true, "listChanged": true},
                "prompts": {"listChanged": true},
                "logging": {},
                "completions": {},
            },
        });
        if let Some(i) = &self.config().instructions {
            out["instructions"] = Value::String(i.clone());
        }
        out
    }

    /// `subscriptions/listen`: an SSE stream, acknowledged first, then the changes asked for.
    fn listen(&self, id: Value, params: &Value, entry: &EntryHandle) -> Response {
        let Some(filter) = params.get("notifications").and_then(Value::as_object) else {
            return error_response(
                &id,
                RpcError::params("Invalid params: `notifications` must be an object"),
            );
        };
        let flag = |k: &str| filter.get(k).and_then(Value::as_bool) == Some(true);
        let uris: Option<Vec<String>> =
            match filter.get("resourceSubscriptions") {
                None | Some(Value::Null) => None,
                Some(Value::Array(a)) => {
                    match a.iter().map(|u| u.as_str().map(str::to_owned)).collect() {
                        Some(v) => Some(v),
                        None => return error_response(
                            &id,
                            RpcError::params(
                                "Invalid params: `resourceSubscriptions` must be a list of strings",
                            ),
                        ),
                    }
                }
                Some(_) => {
                    return error_response(
                        &id,
                        RpcError::params(
                            "Invalid params: `resourceSubscriptions` must be a list of strings",
                        ),
                    )
                }
            };
        let mut honored = Map::new();
        for k in [
            "toolsListChanged",
            "promptsListChanged",
            "resourcesListChanged",
        ] {
            if flag(k) {
                honored.insert(k.into(), Value::Bool(true));
            }
        }
        if let Some(u) = &uris {
            honored.insert("resourceSubscriptions".into(), json!(u));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let listener = Listener {
            id: id.clone(),
            tools: flag("toolsListChanged"),
            prompts: flag("promptsListChanged"),
            resources: flag("resourcesListChanged"),
            uris: uris.unwrap_or_default().into_iter().collect(),
            tx,
        };
        let mut ack = Map::new();
        ack.insert("notifications".into(), Value::Object(honored));
        listener.send("notifications/subscriptions/acknowledged", ack);
        let mut inner = self.inner.lock();
        inner.listeners.retain(|l| !l.tx.is_closed());
        inner.listeners.push(listener);
        drop(inner);
        let mut r = sse_response(rx, None, self.shutdown_signal(), Some(entry));
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        r
    }
}

/// 2026-07-28 retired -32002 (resource not found): a missing resource is -32602 (SEP-2164).
fn retire_codes(mut e: RpcError) -> RpcError {
    if e.code == code::RESOURCE_NOT_FOUND {
        e.code = code::INVALID_PARAMS;
    }
    e
}

fn json_result(id: &Value, result: Value) -> Response {
    crate::http::json_response(StatusCode::OK, &crate::jsonrpc::result(id, result))
}

/// GET and DELETE naming a revision past the handshake era: 405 at 2026-07-28 (no such
/// transport there), 400 for a revision we do not know.
pub(crate) fn reject_get_or_delete(headers: &HeaderMap) -> Option<Response> {
    let v = headers.get(VERSION_HEADER)?.to_str().unwrap_or("");
    if PROTOCOL_VERSIONS.contains(&v) {
        None
    } else if MODERN_PROTOCOL_VERSIONS.contains(&v) {
        Some(method_not_allowed())
    } else {
        Some(error_response(&Value::Null, unsupported(v)))
    }
}

/// GET and DELETE are not part of 2026-07-28's transport.
fn method_not_allowed() -> Response {
    let mut r = rpc_http_error(
        StatusCode::METHOD_NOT_ALLOWED,
        RpcError::new(
            code::BAD_REQUEST,
            "Method not allowed at this protocol version: use POST",
        ),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}
