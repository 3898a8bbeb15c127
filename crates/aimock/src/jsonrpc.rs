//! JSON-RPC 2.0 as data, shared by the surfaces that speak it (MCP, A2A): the error object and
//! the codes the specification defines ([`code`]), the envelopes of a result, an error, a request
//! and a notification, and the rules for ids.
//!
//! It writes and checks envelopes only. What a method means, a protocol's own error codes (kept
//! as constants in its module) and the HTTP status an answer travels with are the protocol's.
//! It imports nothing of the crate but serde.

use serde_json::{json, Map, Value};

/// The version every message names (`"jsonrpc": "2.0"`).
pub(crate) const VERSION: &str = "2.0";

/// The error codes the specification defines.
pub(crate) mod code {
    /// The body is not JSON.
    pub(crate) const PARSE_ERROR: i64 = -32700;
    /// Not a JSON-RPC request.
    pub(crate) const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad parameters.
    pub(crate) const INVALID_PARAMS: i64 = -32602;
    /// Server error.
    pub(crate) const INTERNAL_ERROR: i64 = -32603;
}

/// A JSON-RPC error object: a code, a message and optional data.
#[derive(Debug, Clone)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
}

impl RpcError {
    /// An error with a code and a message, without data.
    pub(crate) fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32602`, invalid params.
    pub(crate) fn params(message: impl Into<String>) -> RpcError {
        RpcError::new(code::INVALID_PARAMS, message)
    }

    /// The error object: `{code, message, data?}`.
    pub(crate) fn object(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.data {
            e["data"] = d.clone();
        }
        e
    }

    /// The error response to the request `id` (`null` when it could not be read).
    pub(crate) fn to_response(&self, id: &Value) -> Value {
        error_response(id, self.object())
    }
}

/// A result response: `{"jsonrpc": "2.0", "id", "result"}`.
pub(crate) fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": VERSION, "id": id, "result": result})
}

/// An error response around an error object already built (a protocol that adds its own
/// `data`): `{"jsonrpc": "2.0", "id", "error"}`.
pub(crate) fn error_response(id: &Value, error: Value) -> Value {
    json!({"jsonrpc": VERSION, "id": id, "error": error})
}

/// A request: `{"jsonrpc": "2.0", "id", "method", "params"}`.
pub(crate) fn request(id: &Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc": VERSION, "id": id, "method": method, "params": params})
}

/// A notification: `{"jsonrpc": "2.0", "method", "params"?}` (no `params` when `None`).
pub(crate) fn notification(method: &str, params: Option<Value>) -> Value {
    let mut m = json!({"jsonrpc": VERSION, "method": method});
    if let Some(p) = params {
        m["params"] = p;
    }
    m
}

/// Whether a message names version 2.0.
pub(crate) fn names_version(m: &Map<String, Value>) -> bool {
    m.get("jsonrpc").and_then(Value::as_str) == Some(VERSION)
}

/// Whether `id` can name a request: a string or a number (`null` only answers a request whose
/// id could not be read).
pub(crate) fn is_request_id(id: &Value) -> bool {
    id.is_string() || id.is_number()
}

/// An id as a map key: `"1"` and `1` stay apart.
pub(crate) fn id_key(id: &Value) -> String {
    id.to_string()
}

/// Whether a message is a response (an id and a result or an error, no method).
pub(crate) fn is_response(m: &Value) -> bool {
    m.get("method").is_none()
        && (m.get("result").is_some() || m.get("error").is_some())
        && m.get("id").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_the_specifications() {
        let id = json!(7);
        assert_eq!(
            result(&id, json!({"ok": true})),
            json!({"jsonrpc": "2.0", "id": 7, "result": {"ok": true}})
        );
        let mut e = RpcError::new(code::METHOD_NOT_FOUND, "Method not found: x");
        assert_eq!(
            e.to_response(&Value::Null),
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32601, "message": "Method not found: x"}})
        );
        e.data = Some(json!({"why": 1}));
        assert_eq!(e.object()["data"], json!({"why": 1}));
        assert_eq!(
            notification("notifications/x", None),
            json!({"jsonrpc": "2.0", "method": "notifications/x"})
        );
        assert_eq!(
            request(&json!("a"), "ping", json!({})),
            json!({"jsonrpc": "2.0", "id": "a", "method": "ping", "params": {}})
        );
    }

    #[test]
    fn ids_are_strings_or_numbers_and_keys_keep_them_apart() {
        assert!(is_request_id(&json!(1)) && is_request_id(&json!("1")));
        assert!(!is_request_id(&Value::Null) && !is_request_id(&json!([1])));
        assert_ne!(id_key(&json!(1)), id_key(&json!("1")));
        assert!(is_response(&json!({"id": 1, "result": {}})));
        assert!(!is_response(&json!({"id": 1, "method": "x"})));
    }
}
