//! dwmkerr/mock-llm's `mock-llm.yaml` as fixtures.
//!
//! Two shapes are read (any YAML, through `serde_yaml_ng`):
//!
//! - mock-llm's own, `rules:`, each `{path, method?, match?, response: {status, content}}`: the
//!   `match` is a JMESPath expression and `content` a template of the reply body. Rules on a
//!   chat-completions path become fixtures; the `match` is translated where it has a fixture
//!   equivalent (`@`: anything; `contains(<messages...content>, 'x')`: `userMessage`; `<...model>
//!   == 'x'`: `model`; `<messages...content> == 'x'`: `userMessage` equals; several joined by
//!   `&&`), else the rule is left out with a note; the reply is the content's message (text,
//!   tool calls), or with a non-2xx `status` an error with the body's `error` fields. mock-llm's
//!   last matching rule wins and ours is the first, so the rules are written in reverse order.
//!   A rule whose reply echoes the request (`{{jmes request body.messages[-1].content}}`, as
//!   mock-llm's default rule) has no fixture equivalent and is left out with a note. Top-level
//!   `streaming: {chunkSize, chunkIntervalMs}` becomes each fixture's `chunkSize` and
//!   `latency`.
//! - the shape aimock's converter reads, `routes:`, each `{path, method, match: {body:
//!   {messages}}, response: {choices}}`: the last user message is the `userMessage`; a route with
//!   none matches anything and carries `_comment: "<METHOD> <path>"`. Order is kept.
//!
//! `mcp.tools` (`{name, description, parameters}`) are returned as MCP tools.

use serde_json::{json, Map, Value};

use super::template::fill;
use super::{reply_of, Converted};

pub(crate) fn convert_text(text: &str) -> Result<Converted, String> {
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    if !doc.is_object() {
        return Err("not a mock-llm config (expected a mapping with `rules:`)".into());
    }
    let mut out = Converted::default();
    let streaming = doc.get("streaming");
    if let Some(rules) = doc.get("rules") {
        let rules = rules.as_array().ok_or("`rules` must be a list of rules")?;
        for (i, r) in rules.iter().enumerate().rev() {
            if let Some(f) = rule(r, i, streaming, &mut out.notes) {
                out.fixtures.push(f);
            }
        }
    }
    if let Some(routes) = doc.get("routes").and_then(Value::as_array) {
        for (i, r) in routes.iter().enumerate() {
            match route(r) {
                Some(f) => out.fixtures.push(f),
                None => out.notes.push(format!(
                    "routes[{i}]: no choices[0].message in its response; skipped"
                )),
            }
        }
    }
    if doc.get("rules").is_none() && doc.get("routes").is_none() {
        out.notes
            .push("no `rules:` (or `routes:`) in the config".into());
    }
    for t in doc
        .pointer("/mcp/tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut tool = json!({ "name": name });
        if let Some(d) = t.get("description").and_then(Value::as_str) {
            tool["description"] = d.into();
        }
        if let Some(p) = t.get("parameters").or_else(|| t.get("inputSchema")) {
            tool["inputSchema"] = p.clone();
        }
        out.mcp_tools.push(tool);
    }
    Ok(out)
}

fn rule(r: &Value, i: usize, streaming: Option<&Value>, notes: &mut Vec<String>) -> Option<Value> {
    let at = format!("rules[{i}]");
    let path = r.get("path").and_then(Value::as_str).unwrap_or("");
    if !path.ends_with("/chat/completions") {
        notes.push(format!(
            "{at}: `{path}` is not a chat-completions path; skipped (aimock serves /v1/models and \
             the rest itself)"
        ));
        return None;
    }
    let Some(response) = r.get("response") else {
        notes.push(format!("{at}: no `response`; skipped"));
        return None;
    };
    let expr = match r.get("match") {
        None | Some(Value::Null) => "@".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let m = match translate_match(&expr) {
        Ok(m) => m,
        Err(why) => {
            notes.push(format!("{at}: the match `{expr}` {why}; skipped"));
            return None;
        }
    };
    let status = response
        .get("status")
        .and_then(Value::as_u64)
        .unwrap_or(200);
    let body = match response.get("content") {
        Some(Value::String(s)) => {
            let filled = fill(s, mockllm_name);
            match serde_json::from_str::<Value>(filled.trim()) {
                Ok(v) => v,
                Err(_) => Value::String(filled),
            }
        }
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let mut fixture = Map::new();
    fixture.insert("match".into(), Value::Object(m));
    if !(200..300).contains(&status) {
        let e = body.get("error").unwrap_or(&body);
        let mut err = Map::new();
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| body.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("mock-llm rule answered {status}"));
        err.insert("message".into(), message.into());
        for k in ["type", "code"] {
            if let Some(v) = e.get(k).filter(|v| v.is_string()) {
                err.insert(k.into(), v.clone());
            }
        }
        fixture.insert("response".into(), json!({ "error": err, "status": status }));
    } else {
        let Some(reply) = reply_of(&body) else {
            notes.push(format!("{at}: its content holds no chat message; skipped"));
            return None;
        };
        if reply
            .get("content")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains("[body.messages"))
        {
            notes.push(format!(
                "{at}: its reply echoes the request (`{{{{jmes request body.messages...}}}}`), \
                 which a fixture cannot; skipped"
            ));
            return None;
        }
        fixture.insert("response".into(), reply);
    }
    if let Some(s) = streaming {
        if let Some(n) = s
            .get("chunkSize")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
        {
            fixture.insert("chunkSize".into(), n.into());
        }
        if let Some(ms) = s.get("chunkIntervalMs").and_then(Value::as_u64) {
            fixture.insert("latency".into(), ms.into());
        }
    }
    if r.get("sequence").is_some() {
        notes.push(format!(
            "{at}: `sequence` has no direct equivalent; use `sequenceIndex` on the fixture if \
             the order matters"
        ));
    }
    Some(Value::Object(fixture))
}

/// `{{jmes request body.model}}` → `body.model`; `{{timestamp}}` → `timestamp`.
fn mockllm_name(expr: &str) -> String {
    let e = expr.trim();
    let e = e.strip_prefix("jmes").map_or(e, str::trim_start);
    let e = e.strip_prefix("request").map_or(e, str::trim_start);
    e.to_owned()
}

/// A JMESPath `match` as fixture match fields, or why it has none.
pub(crate) fn translate_match(expr: &str) -> Result<Map<String, Value>, &'static str> {
    let mut m = Map::new();
    let e = expr.trim();
    if e.is_empty() || e == "@" || e == "`true`" || e == "true" {
        return Ok(m);
    }
    for part in split_and(e) {
        let part = strip_parens(part.trim());
        if let Some(args) = part
            .strip_prefix("contains(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let (field, lit) = args.split_once(',').ok_or("is not understood")?;
            let lit = literal(lit.trim()).ok_or("compares with something other than a string")?;
            if is_message_content(field) {
                set(&mut m, "userMessage", lit.into())?;
            } else {
                return Err("tests something other than the messages' content");
            }
        } else if let Some((field, lit)) = part.split_once("==") {
            let lit = literal(lit.trim()).ok_or("compares with something other than a string")?;
            let field = field.trim();
            if field.ends_with("model") {
                set(&mut m, "model", lit.into())?;
            } else if is_message_content(field) {
                set(&mut m, "userMessage", json!({ "equals": lit }))?;
            } else {
                return Err("compares a field that has no fixture match");
            }
        } else {
            return Err("has no fixture equivalent");
        }
    }
    Ok(m)
}

fn set(m: &mut Map<String, Value>, k: &str, v: Value) -> Result<(), &'static str> {
    if m.contains_key(k) {
        return Err("tests one field twice");
    }
    m.insert(k.into(), v);
    Ok(())
}

/// The last message's (or any message's) content.
fn is_message_content(field: &str) -> bool {
    let f = field.trim();
    f.contains("messages") && f.ends_with("content") && !f.contains("[0]")
}

fn split_and(e: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let b: Vec<(usize, char)> = e.char_indices().collect();
    let mut i = 0;
    while i < b.len() {
        let (at, c) = b[i];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '`' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, '&') if depth == 0 && b.get(i + 1).is_some_and(|n| n.1 == '&') => {
                out.push(&e[start..at]);
                start = at + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&e[start..]);
    out
}

fn strip_parens(s: &str) -> &str {
    let mut s = s.trim();
    while s.starts_with('(') && s.ends_with(')') && !s.starts_with("contains(") {
        s = s[1..s.len() - 1].trim();
    }
    s
}

/// `'x'`, `` `"x"` ``, `"x"` as a string.
fn literal(s: &str) -> Option<String> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.replace("\\'", "'"));
    }
    if let Some(inner) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return serde_json::from_str::<Value>(inner)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
    }
    if s.starts_with('"') {
        return serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
    }
    None
}

/// aimock's `routes:` shape.
fn route(r: &Value) -> Option<Value> {
    let reply = reply_of(r.get("response")?)?;
    let user = r
        .pointer("/match/body/messages")
        .and_then(Value::as_array)
        .and_then(|ms| {
            ms.iter()
                .rev()
                .find(|m| m["role"] == "user")
                .or_else(|| ms.last())
                .and_then(|m| m.get("content"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    Some(match user {
        Some(u) => json!({ "match": { "userMessage": u }, "response": reply }),
        None => json!({
            "match": {},
            "response": reply,
            "_comment": format!(
                "{} {}",
                r.get("method").and_then(Value::as_str).unwrap_or("POST"),
                r.get("path").and_then(Value::as_str).unwrap_or("")
            ),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jmespath_matches() {
        assert_eq!(translate_match("@").unwrap(), Map::new());
        assert_eq!(
            Value::Object(translate_match("contains(body.messages[-1].content, 'hello')").unwrap()),
            json!({"userMessage": "hello"})
        );
        assert_eq!(
            Value::Object(translate_match("(body.model == 'gpt-4')").unwrap()),
            json!({"model": "gpt-4"})
        );
        assert_eq!(
            Value::Object(
                translate_match(
                    "body.model == `\"gpt-4\"` && contains(body.messages[-1].content, 'x')"
                )
                .unwrap()
            ),
            json!({"model": "gpt-4", "userMessage": "x"})
        );
        assert!(translate_match("length(body.messages) > `2`").is_err());
        assert!(translate_match("contains(headers.authorization, 'x')").is_err());
    }

    #[test]
    fn rules_in_reverse_with_errors_and_notes() {
        let yaml = r#"
streaming:
  chunkSize: 5
  chunkIntervalMs: 10
rules:
  - path: "/v1/chat/completions"
    match: "@"
    response:
      status: 200
      content: |
        {"choices": [{"message": {"role": "assistant", "content": "{{jmes request body.messages[-1].content}}"}}]}
  - path: "/v1/chat/completions"
    match: "contains(body.messages[-1].content, 'hello')"
    response:
      status: 200
      content: |
        {"id": "chatcmpl-{{timestamp}}", "model": "{{jmes request body.model}}",
         "choices": [{"message": {"role": "assistant", "content": "Hi there!"}, "finish_reason": "stop"}]}
  - path: "/v1/chat/completions"
    match: "contains(body.messages[-1].content, 'error-401')"
    response:
      status: 401
      content: |
        {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}
  - path: "/v1/models"
    match: "@"
    response:
      status: 200
      content: '{"data": []}'
mcp:
  tools:
    - name: search
      description: Search things
      parameters: {type: object}
"#;
        let c = convert_text(yaml).unwrap();
        assert_eq!(
            c.fixtures,
            vec![
                json!({"match": {"userMessage": "error-401"}, "chunkSize": 5, "latency": 10,
                   "response": {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}, "status": 401}}),
                json!({"match": {"userMessage": "hello"}, "chunkSize": 5, "latency": 10, "response": {"content": "Hi there!"}}),
            ]
        );
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        assert_eq!(
            c.mcp_tools,
            vec![
                json!({"name": "search", "description": "Search things", "inputSchema": {"type": "object"}})
            ]
        );
    }

    #[test]
    fn aimocks_routes_shape() {
        let yaml = r#"
routes:
  - path: /v1/chat/completions
    method: POST
    match:
      body:
        messages:
          - role: user
            content: "What is 2+2?"
    response:
      choices:
        - message:
            role: assistant
            content: "4"
  - path: /v1/chat/completions
    response:
      choices:
        - message: {role: assistant, content: "fallback"}
"#;
        let c = convert_text(yaml).unwrap();
        assert_eq!(
            c.fixtures,
            vec![
                json!({"match": {"userMessage": "What is 2+2?"}, "response": {"content": "4"}}),
                json!({"match": {}, "response": {"content": "fallback"}, "_comment": "POST /v1/chat/completions"}),
            ]
        );
        assert!(convert_text("- a\n- b").is_err());
        assert!(convert_text("rules: [").is_err());
    }
}
