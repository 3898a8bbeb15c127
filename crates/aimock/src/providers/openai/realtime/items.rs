//! The conversation: the items a socket accumulates (`conversation.item.create`, committed input
//! audio, the model's output items), checked as the API checks them, and turned into the
//! provider-neutral [`ChatRequest`] the fixtures are matched against.

use serde_json::{json, Map, Value};

use super::WithParam;
use crate::conversation::{ChatRequest, Endpoint, Message, Role, ToolCallRef};
use crate::http::ids::random_id;
use crate::http::ApiError;

/// A new item id (`item_...`).
pub(super) fn item_id() -> String {
    random_id("item_", 24)
}

/// The items of one socket, in conversation order.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    pub(super) items: Vec<Value>,
    /// `items` as matching history, kept up to date while items are only appended (the usual
    /// conversation); any other change drops it and the next turn rebuilds it.
    history: Option<Vec<Message>>,
}

impl Conversation {
    /// The items as messages, for a turn's request.
    pub(super) fn history(&mut self) -> &[Message] {
        let items = &self.items;
        self.history.get_or_insert_with(|| {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                push_message(&mut out, item);
            }
            out
        })
    }

    /// The id of the last item.
    pub(super) fn last_id(&self) -> Option<String> {
        self.items.last().and_then(id_of).map(str::to_owned)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|i| id_of(i) == Some(id))
    }

    /// The item with this id.
    pub(super) fn get(&self, id: &str) -> Option<&Value> {
        self.items.iter().find(|i| id_of(i) == Some(id))
    }

    /// The item with this id, to change it.
    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.history = None;
        self.items.iter_mut().find(|i| id_of(i) == Some(id))
    }

    /// Insert an item after `previous` (`None` appends, `"root"` puts it first); the id of the
    /// item before it comes back.
    pub(super) fn insert(
        &mut self,
        item: Value,
        previous: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        if let Some(id) = id_of(&item) {
            if self.position(id).is_some() {
                return Err(ApiError::invalid(format!(
                    "Item with item_id '{id}' already exists in the conversation."
                ))
                .with_code("item_already_exists")
                .with_param("item.id"));
            }
        }
        let at = match previous {
            None => self.items.len(),
            Some("root") => 0,
            Some(p) => match self.position(p) {
                Some(i) => i + 1,
                None => {
                    return Err(ApiError::invalid(format!(
                        "Previous item with item_id '{p}' not found in the conversation."
                    ))
                    .with_code("item_not_found")
                    .with_param("previous_item_id"))
                }
            },
        };
        let before = at
            .checked_sub(1)
            .and_then(|i| self.items.get(i))
            .and_then(id_of)
            .map(str::to_owned);
        match &mut self.history {
            Some(history) if at == self.items.len() => push_message(history, &item),
            _ => self.history = None,
        }
        self.items.insert(at, item);
        Ok(before)
    }

    /// Remove an item.
    pub(super) fn delete(&mut self, id: &str) -> bool {
        match self.position(id) {
            Some(i) => {
                self.items.remove(i);
                self.history = None;
                true
            }
            None => false,
        }
    }
}

/// An item's id.
pub(super) fn id_of(item: &Value) -> Option<&str> {
    item.get("id").and_then(Value::as_str)
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid(format!("Missing required parameter: '{param}'."))
        .with_code("missing_required_parameter")
        .with_param(param)
}

fn invalid_value(got: &str, supported: &str, param: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid value: '{got}'. Supported values are: {supported}."
    ))
    .with_code("invalid_value")
    .with_param(param)
}

fn wrong_type(param: &str, want: &str) -> ApiError {
    ApiError::invalid(format!("Invalid type for '{param}': expected {want}."))
        .with_code("invalid_type")
        .with_param(param)
}

fn str_of<'a>(
    item: &'a Map<String, Value>,
    k: &str,
    at: &str,
) -> Result<Option<&'a str>, ApiError> {
    match item.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(&format!("{at}.{k}"), "a string")),
    }
}

/// Check a client's item (`conversation.item.create`'s `item`) and give it the server's form: an
/// id (`item_...` when the client gave none), `object`, `status: "completed"`; input audio keeps
/// its transcript, not its bytes.
pub(super) fn client_item(v: &Value) -> Result<Value, ApiError> {
    const AT: &str = "item";
    let Value::Object(item) = v else {
        return Err(wrong_type(AT, "an object"));
    };
    let mut out = item.clone();
    let id = match str_of(item, "id", AT)? {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => item_id(),
    };
    out.insert("id".into(), json!(id));
    out.insert("object".into(), json!("realtime.item"));
    out.insert("status".into(), json!("completed"));
    match str_of(item, "type", AT)? {
        Some("message") | None => {
            out.insert("type".into(), json!("message"));
            let role = match str_of(item, "role", AT)? {
                Some(r @ ("user" | "system" | "assistant")) => r,
                Some(other) => {
                    return Err(invalid_value(
                        other,
                        "'user', 'assistant', and 'system'",
                        "item.role",
                    ))
                }
                None => return Err(missing("item.role")),
            };
            let allowed: &[&str] = match role {
                "user" => &["input_text", "input_audio", "input_image"],
                "system" => &["input_text"],
                _ => &["output_text", "output_audio"],
            };
            let Some(Value::Array(parts)) = item.get("content") else {
                return Err(match item.get("content") {
                    None => missing("item.content"),
                    Some(_) => wrong_type("item.content", "an array"),
                });
            };
            let mut content = Vec::with_capacity(parts.len());
            for (i, p) in parts.iter().enumerate() {
                let at = format!("item.content[{i}]");
                let Value::Object(p) = p else {
                    return Err(wrong_type(&at, "an object"));
                };
                let kind = str_of(p, "type", &at)?.ok_or_else(|| missing(&format!("{at}.type")))?;
                if !allowed.contains(&kind) {
                    let supported = allowed
                        .iter()
                        .map(|k| format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(invalid_value(kind, &supported, &format!("{at}.type")));
                }
                let mut part = p.clone();
                match kind {
                    "input_text" | "output_text" => {
                        if str_of(p, "text", &at)?.is_none() {
                            return Err(missing(&format!("{at}.text")));
                        }
                    }
                    "input_audio" => {
                        if let Some(audio) = str_of(p, "audio", &at)? {
                            if super::audio::decode_base64(audio).is_none() {
                                return Err(super::audio::bad_audio(&format!("{at}.audio")));
                            }
                        }
                        part.remove("audio");
                        part.entry("transcript").or_insert(Value::Null);
                    }
                    "output_audio" => {
                        part.remove("audio");
                        part.entry("transcript").or_insert(Value::Null);
                    }
                    _ => {
                        // input_image
                        if str_of(p, "image_url", &at)?.is_none() {
                            return Err(missing(&format!("{at}.image_url")));
                        }
                        part.entry("detail").or_insert(json!("auto"));
                    }
                }
                content.push(Value::Object(part));
            }
            out.insert("content".into(), Value::Array(content));
        }
        Some("function_call") => {
            for k in ["name", "call_id"] {
                if str_of(item, k, AT)?.is_none() {
                    return Err(missing(&format!("item.{k}")));
                }
            }
            if str_of(item, "arguments", AT)?.is_none() {
                out.insert("arguments".into(), json!(""));
            }
        }
        Some("function_call_output") => {
            if str_of(item, "call_id", AT)?.is_none() {
                return Err(missing("item.call_id"));
            }
            if str_of(item, "output", AT)?.is_none() {
                return Err(missing("item.output"));
            }
        }
        Some(other) => {
            return Err(invalid_value(
                other,
                "'message', 'function_call', 'function_call_output', and 'mcp_approval_response'",
                "item.type",
            ))
        }
    }
    Ok(Value::Object(out))
}

/// The user item committed input audio becomes.
pub(super) fn audio_item(id: &str) -> Value {
    json!({
        "id": id,
        "object": "realtime.item",
        "type": "message",
        "status": "completed",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": null}],
    })
}

/// The text of a message item's parts: text, and audio transcripts; `None` with neither.
fn item_text(item: &Value) -> Option<String> {
    let mut out: Option<String> = None;
    for p in item.get("content").and_then(Value::as_array)?.iter() {
        let t = match p.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => p.get("text"),
            Some("input_audio" | "output_audio" | "audio") => p.get("transcript"),
            _ => None,
        };
        if let Some(t) = t.and_then(Value::as_str) {
            out.get_or_insert_with(String::new).push_str(t);
        }
    }
    out
}

/// The conversation as messages: a `function_call` joins the assistant message before it (one
/// model turn may speak and call several tools), a `function_call_output` is a tool result.
pub(super) fn messages(items: &[Value]) -> Vec<Message> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        push_message(&mut out, item);
    }
    out
}

/// One more item of the conversation, added to its messages.
fn push_message(out: &mut Vec<Message>, item: &Value) {
    let s = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match item.get("type").and_then(Value::as_str) {
        Some("message") => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("system") => Role::System,
                Some("assistant") => Role::Assistant,
                _ => Role::User,
            };
            out.push(Message {
                role,
                text: item_text(item),
                tool_calls: Vec::new(),
                tool_call_id: None,
            });
        }
        Some("function_call") => {
            let call = ToolCallRef {
                id: s("call_id"),
                name: s("name"),
                arguments: s("arguments"),
            };
            match out.last_mut() {
                Some(m) if m.role == Role::Assistant => m.tool_calls.push(call),
                _ => out.push(Message {
                    role: Role::Assistant,
                    text: None,
                    tool_calls: vec![call],
                    tool_call_id: None,
                }),
            }
        }
        Some("function_call_output") => {
            out.push(Message::tool_result(s("call_id"), s("output")));
        }
        _ => {}
    }
}

/// The request a turn is matched with.
pub(super) fn request(
    model: &str,
    instructions: &str,
    history: &[Message],
    tools: &[Value],
    endpoint: Endpoint,
) -> ChatRequest {
    let mut messages = Vec::with_capacity(history.len() + 1);
    if !instructions.is_empty() {
        messages.push(Message::text(Role::System, instructions));
    }
    messages.extend_from_slice(history);
    let mut req = ChatRequest::chat(model, messages);
    req.endpoint = endpoint;
    req.stream = true;
    req.tools = tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_items_are_checked_and_given_the_server_form() {
        let i = client_item(&json!({"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "hi"}, {"type": "input_audio", "audio": "AAAA"}]}))
        .unwrap();
        assert!(id_of(&i).unwrap().starts_with("item_"));
        assert_eq!(i["object"], "realtime.item");
        assert_eq!(
            i["content"][1],
            json!({"type": "input_audio", "transcript": null})
        );
        let bad = [
            (
                json!({"type": "message", "role": "robot", "content": []}),
                "item.role",
            ),
            (json!({"type": "message", "content": []}), "item.role"),
            (json!({"type": "message", "role": "user"}), "item.content"),
            (
                json!({"type": "message", "role": "user", "content": [{"type": "output_text", "text": "x"}]}),
                "item.content[0].type",
            ),
            (
                json!({"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "%%%"}]}),
                "item.content[0].audio",
            ),
            (
                json!({"type": "function_call", "name": "f"}),
                "item.call_id",
            ),
            (
                json!({"type": "function_call_output", "call_id": "c"}),
                "item.output",
            ),
            (json!({"type": "video"}), "item.type"),
        ];
        for (v, param) in bad {
            let e = client_item(&v).expect_err(&v.to_string());
            assert_eq!(e.param, Some(json!(param)), "{v}");
        }
    }

    #[test]
    fn items_become_the_matching_history() {
        let items = [
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]}),
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]}),
            json!({"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"}),
            json!({"type": "function_call_output", "call_id": "c1", "output": "sunny"}),
            json!({"type": "message", "role": "user", "content": [{"type": "input_audio", "transcript": "and tomorrow"}]}),
        ];
        let m = request(
            "gpt-realtime",
            "Be brief.",
            &messages(&items),
            &[],
            Endpoint::Realtime,
        )
        .messages;
        let roles: Vec<_> = m.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::User
            ]
        );
        assert_eq!(m[2].tool_calls[0].id, "c1");
        assert_eq!(m[3].tool_call_id.as_deref(), Some("c1"));
        assert_eq!(m[4].text.as_deref(), Some("and tomorrow"));
    }

    #[test]
    fn the_kept_history_follows_every_change_to_the_items() {
        let user = |id: &str, t: &str| {
            json!({"id": id, "type": "message", "role": "user",
                   "content": [{"type": "input_text", "text": t}]})
        };
        let mut c = Conversation::default();
        let check = |c: &mut Conversation| {
            let fresh = messages(&c.items);
            assert_eq!(c.history(), fresh.as_slice());
        };
        check(&mut c);
        c.insert(user("a", "one"), None).unwrap();
        c.insert(
            json!({"id": "b", "type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}),
            None,
        )
        .unwrap();
        check(&mut c);
        // Appends after the history was built extend it.
        c.insert(
            json!({"id": "c", "type": "function_call_output", "call_id": "c1", "output": "ok"}),
            None,
        )
        .unwrap();
        check(&mut c);
        // An insert in the middle, a change in place and a delete all show.
        c.insert(user("d", "zero"), Some("root")).unwrap();
        check(&mut c);
        c.get_mut("a").unwrap()["content"][0]["text"] = json!("uno");
        check(&mut c);
        assert_eq!(c.history()[1].text.as_deref(), Some("uno"));
        assert!(c.delete("b"));
        check(&mut c);
        assert_eq!(c.history().len(), 3);
    }

    #[test]
    fn items_go_where_previous_item_id_says() {
        let mut c = Conversation::default();
        let a = json!({"id": "a"});
        assert_eq!(c.insert(a, None).unwrap(), None);
        assert_eq!(
            c.insert(json!({"id": "b"}), None).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(c.insert(json!({"id": "c"}), Some("root")).unwrap(), None);
        assert_eq!(
            c.insert(json!({"id": "d"}), Some("a")).unwrap().as_deref(),
            Some("a")
        );
        let ids: Vec<_> = c.items.iter().filter_map(id_of).collect();
        assert_eq!(ids, ["c", "a", "d", "b"]);
        assert!(c.insert(json!({"id": "e"}), Some("zzz")).is_err());
        assert!(c.insert(json!({"id": "a"}), None).is_err());
    }
}
