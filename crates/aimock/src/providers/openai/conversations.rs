//! The Conversations API (`/v1/conversations`), as the `openai` SDK's `client.conversations`
//! speaks it: create (with first items and metadata), retrieve, update the metadata, delete, and
//! the items (add, list as cursor pages, retrieve, delete). A Responses request naming a
//! conversation (`conversation: "conv_..."` or `{"id": ...}`) is matched with the conversation's
//! items before its own input, and its input and output items join the conversation. State is
//! per server instance, bounded, and forgotten by a reset ([`crate::pipeline::stored`]).

use http::Method;
use serde_json::{json, Map, Value};

use super::responses::{cursor_page, with_ids};
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::pipeline::stored::Conversation;
use crate::pipeline::{Answered, Call, Route};

/// The route of a `/v1/conversations...` path, if it is one.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let parts = super::segments(path, "/v1/conversations")?;
    let (action, label, id, item) = match (method, parts.as_slice()) {
        (&Method::POST, []) => ("create", "/v1/conversations", None, None),
        (&Method::GET, [id]) => ("get", "/v1/conversations/{id}", Some(*id), None),
        (&Method::POST, [id]) => ("update", "/v1/conversations/{id}", Some(*id), None),
        (&Method::DELETE, [id]) => ("delete", "/v1/conversations/{id}", Some(*id), None),
        (&Method::POST, [id, "items"]) => (
            "items.create",
            "/v1/conversations/{id}/items",
            Some(*id),
            None,
        ),
        (&Method::GET, [id, "items"]) => (
            "items.list",
            "/v1/conversations/{id}/items",
            Some(*id),
            None,
        ),
        (&Method::GET, [id, "items", item]) => (
            "items.get",
            "/v1/conversations/{id}/items/{item_id}",
            Some(*id),
            Some(*item),
        ),
        (&Method::DELETE, [id, "items", item]) => (
            "items.delete",
            "/v1/conversations/{id}/items/{item_id}",
            Some(*id),
            Some(*item),
        ),
        _ => return None,
    };
    super::resource(serve, label, action, id, item)
}

/// The 404 for a conversation the server does not keep.
pub(crate) fn not_found(id: &str) -> ApiError {
    super::no_such(format!("Conversation with id '{id}' not found."))
}

fn item_not_found(id: &str) -> ApiError {
    super::no_such(format!("Item with id '{id}' not found."))
}

fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    super::invalid_param(Some(param), message).with_code("invalid_type")
}

/// The conversation object.
fn object(id: &str, c: &Conversation) -> Value {
    json!({
        "id": id,
        "object": "conversation",
        "created_at": c.created_at,
        "metadata": if c.metadata.is_null() { json!({}) } else { c.metadata.clone() },
    })
}

/// The request body: a JSON object (an empty body is an empty object).
fn body(call: &Call) -> Result<Map<String, Value>, ApiError> {
    if call.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match crate::http::parse_json_body::<Value>(&call.body)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::invalid("The body must be a JSON object.")),
    }
}

/// `metadata`: an object of strings, or absent.
fn metadata(b: &Map<String, Value>) -> Result<Option<Value>, ApiError> {
    match b.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => {
            Ok(Some(Value::Object(m.clone())))
        }
        Some(_) => Err(invalid(
            "metadata",
            "Invalid type for 'metadata': expected an object of strings.",
        )),
    }
}

/// `items`: an array of objects, each given its id, type and status; absent is none.
fn items(b: &Map<String, Value>) -> Result<Vec<Value>, ApiError> {
    match b.get("items") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => {
            if let Some(i) = a.iter().position(|v| !v.is_object()) {
                return Err(invalid(
                    &format!("items[{i}]"),
                    format!("Invalid type for 'items[{i}]': expected an object."),
                ));
            }
            // Checked as a Responses input would be, so a bad item is refused here, not later.
            let mut scratch = Vec::new();
            super::responses::push_items(a, &mut scratch).map_err(|mut e| {
                if let Some(Value::String(p)) = &e.param {
                    e.param = Some(Value::String(p.replacen("input", "items", 1)));
                }
                e
            })?;
            Ok(with_ids(Some(&Value::Array(a.clone()))))
        }
        Some(_) => Err(invalid(
            "items",
            "Invalid type for 'items': expected an array.",
        )),
    }
}

fn serve(call: Call) -> Answered {
    super::answer_now(answer(&call))
}

fn answer(call: &Call) -> Result<Value, ApiError> {
    let store = &call.core.conversations;
    let info = &call.route.info;
    let id = info.id.as_deref().unwrap_or_default();
    match info.action.unwrap_or_default() {
        "create" => {
            let b = body(call)?;
            let c = Conversation {
                created_at: crate::http::time::unix_now(),
                metadata: metadata(&b)?.unwrap_or(Value::Null),
                items: items(&b)?,
            };
            let id = random_id("conv_", 48);
            let out = object(&id, &c);
            store.put(id, c);
            Ok(out)
        }
        "get" => store
            .with(id, |c| object(id, c))
            .ok_or_else(|| not_found(id)),
        "update" => {
            let b = body(call)?;
            let m = metadata(&b)?;
            store
                .with(id, |c| {
                    if let Some(m) = m {
                        c.metadata = m;
                    }
                    object(id, c)
                })
                .ok_or_else(|| not_found(id))
        }
        "delete" => {
            if !store.remove(id) {
                return Err(not_found(id));
            }
            Ok(json!({"id": id, "object": "conversation.deleted", "deleted": true}))
        }
        "items.create" => {
            let b = body(call)?;
            let added = items(&b)?;
            store
                .with(id, |c| c.items.extend(added.iter().cloned()))
                .ok_or_else(|| not_found(id))?;
            let id_of = |v: Option<&Value>| v.and_then(|v| v.get("id")).cloned();
            Ok(json!({
                "object": "list",
                "data": added,
                "first_id": id_of(added.first()),
                "last_id": id_of(added.last()),
                "has_more": false,
            }))
        }
        "items.list" => {
            let items = store
                .with(id, |c| c.items.clone())
                .ok_or_else(|| not_found(id))?;
            cursor_page(&items, call.query.as_deref())
        }
        "items.get" | "items.delete" => {
            let item = info.item.as_deref().unwrap_or_default();
            let delete = info.action == Some("items.delete");
            store
                .with(id, |c| {
                    let at = c
                        .items
                        .iter()
                        .position(|i| i.get("id").and_then(Value::as_str) == Some(item))?;
                    Some(if delete {
                        c.items.remove(at);
                        object(id, c)
                    } else {
                        c.items[at].clone()
                    })
                })
                .ok_or_else(|| not_found(id))?
                .ok_or_else(|| item_not_found(item))
        }
        _ => Err(ApiError::invalid("Unknown conversations operation.")),
    }
}

/// The conversation a Responses request names: `"conv_..."` or `{"id": "conv_..."}`.
pub(crate) fn named(v: &Value) -> Result<&str, ApiError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Object(m) => match m.get("id") {
            Some(Value::String(s)) => Ok(s),
            _ => Err(invalid(
                "conversation.id",
                "Missing required parameter: 'conversation.id'.",
            )),
        },
        _ => Err(invalid(
            "conversation",
            "Invalid type for 'conversation': expected a string or an object.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_conversations_paths_are_routed() {
        let action = |m: Method, p: &str| route(&m, p).and_then(|r| r.info.action);
        assert_eq!(action(Method::POST, "/v1/conversations"), Some("create"));
        assert_eq!(action(Method::GET, "/v1/conversations/c1"), Some("get"));
        assert_eq!(
            action(Method::DELETE, "/v1/conversations/c1/items/i1"),
            Some("items.delete")
        );
        assert_eq!(action(Method::POST, "/v1/conversationsx"), None);
        assert_eq!(action(Method::GET, "/v1/conversations/"), None);
        assert_eq!(action(Method::PUT, "/v1/conversations/c1"), None);
        assert_eq!(action(Method::GET, "/v1/conversations/c1/items/i1/x"), None);
    }
}
