//! The MCP methods.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::catalog::{log_rank, LOG_LEVELS};
use super::config::{McpClientRequest, McpReply, McpResource};
use super::{code, McpServer, RpcError, Sink, LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS};

/// The 2026-07-28 request `_meta` key naming the least severe log level wanted.
const LOG_LEVEL_META_KEY: &str = "io.modelcontextprotocol/logLevel";

/// Resources one session may subscribe to at once (a client cannot grow a session forever).
const MAX_SUBSCRIPTIONS: usize = 1_000;

/// At most this many completion values are returned.
const MAX_COMPLETIONS: usize = 100;

impl Sink {
    fn send(&self, server: &McpServer, msg: Value) {
        match self {
            Sink::Post(tx) => {
                let _ = tx.send(msg);
            }
            Sink::Session(id) => server.send_to_session(id, &msg),
        }
    }
}

fn str_param<'a>(params: &'a Value, key: &str) -> Result<&'a str, RpcError> {
    params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params(format!("Invalid params: `{key}` must be a string")))
}

fn progress_token(params: &Value) -> Option<Value> {
    params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .filter(|t| t.is_string() || t.is_number())
        .cloned()
}

fn tool_args(params: &Value) -> Result<Map<String, Value>, RpcError> {
    match params.get("arguments") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(RpcError::params(
            "Invalid params: `arguments` must be an object",
        )),
    }
}

/// One page of `items` from `cursor`, with `nextCursor` when more follow.
fn page(
    items: Vec<Value>,
    key: &str,
    params: &Value,
    size: Option<usize>,
) -> Result<Value, RpcError> {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => c
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| RpcError::params(format!("Invalid params: unknown cursor `{c}`")))?,
        Some(_) => {
            return Err(RpcError::params(
                "Invalid params: `cursor` must be a string",
            ))
        }
    };
    let size = size.unwrap_or(usize::MAX);
    let end = start.saturating_add(size).min(items.len());
    let mut out = json!({ key: items.get(start..end).unwrap_or_default() });
    if end < items.len() {
        out["nextCursor"] = Value::String(end.to_string());
    }
    Ok(out)
}

fn put(o: &mut Value, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        o[key] = v;
    }
}

fn resource_json(r: &McpResource) -> Value {
    let mut o = json!({"uri": r.uri, "name": r.name.clone().unwrap_or_else(|| r.uri.clone())});
    put(&mut o, "title", r.title.clone().map(Value::String));
    put(
        &mut o,
        "description",
        r.description.clone().map(Value::String),
    );
    put(&mut o, "mimeType", r.mime_type.clone().map(Value::String));
    put(&mut o, "size", r.size.map(Value::from));
    put(&mut o, "annotations", r.annotations.clone());
    o
}

fn contents_json(
    uri: &str,
    mime: Option<&String>,
    text: Option<&String>,
    blob: Option<&String>,
) -> Value {
    let mut c = json!({ "uri": uri });
    put(&mut c, "mimeType", mime.cloned().map(Value::String));
    match (text, blob) {
        (_, Some(b)) => c["blob"] = Value::String(b.clone()),
        (Some(t), None) => c["text"] = Value::String(t.clone()),
        (None, None) => c["text"] = Value::String(String::new()),
    }
    c
}

/// A configured result as a `CallToolResult`.
/// A tool whose result a callback computes: POST `{"kind": "mcp.tool", "name", "arguments"}`;
/// a `CallToolResult` (an object with `content`) is the result, anything else one text item.
/// A failure is -32603 naming its cause (`callback_failed`, `callback_timeout` in `data.code`).
async fn call_back(cb: &Value, name: &str, args: &Map<String, Value>) -> Result<Value, RpcError> {
    let cb = crate::callback::Callback::from_value(cb)
        .map_err(|e| RpcError::new(code::INTERNAL_ERROR, format!("Callback: {e}")))?;
    let payload = json!({"kind": "mcp.tool", "name": name, "arguments": args});
    match cb.call(&payload).await {
        Ok(Value::Object(mut o)) if o.get("content").is_some_and(Value::is_array) => {
            if !o.get("isError").is_some_and(Value::is_boolean) {
                o.insert("isError".into(), Value::Bool(false));
            }
            Ok(Value::Object(o))
        }
        Ok(v) => {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            Ok(json!({"content": [{"type": "text", "text": text}], "isError": false}))
        }
        Err(e) => {
            let mut err = RpcError::new(
                code::INTERNAL_ERROR,
                format!("Callback failed ({}): {e}", e.code()),
            );
            err.data = Some(json!({ "code": e.code(), "url": cb.url }));
            Err(err)
        }
    }
}

fn tool_result(v: Option<&Value>, reply: &McpReply) -> Value {
    let mut out = match v {
        None | Some(Value::Null) => json!({"content": []}),
        Some(Value::String(s)) => json!({"content": [{"type": "text", "text": s}]}),
        Some(Value::Array(items)) => json!({ "content": items }),
        Some(Value::Object(o)) if o.contains_key("content") => Value::Object(o.clone()),
        Some(item @ Value::Object(o)) if o.contains_key("type") => json!({ "content": [item] }),
        Some(other) => json!({
            "content": [{"type": "text", "text": other.to_string()}],
            "structuredContent": other,
        }),
    };
    if let Some(sc) = &reply.structured_content {
        out["structuredContent"] = sc.clone();
        if out["content"].as_array().is_some_and(Vec::is_empty) {
            out["content"] = json!([{"type": "text", "text": sc.to_string()}]);
        }
    }
    if reply.is_error == Some(true) {
        out["isError"] = Value::Bool(true);
    } else if out.get("isError").is_none() {
        out["isError"] = Value::Bool(false);
    }
    out
}

/// `s` with each `{open}name{close}` that `value` knows replaced, in one pass: a value put in
/// is not searched again (a client's argument holding placeholders cannot multiply the text).
pub(crate) fn substitute(
    s: &str,
    open: &str,
    close: &str,
    value: impl Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let found = after
            .find(close)
            .and_then(|end| value(&after[..end]).map(|v| (end, v)));
        match found {
            Some((end, v)) => {
                out.push_str(&v);
                rest = &after[end + close.len()..];
            }
            None => {
                // Not a placeholder here: keep its first character and look on.
                let skip = rest[start..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[start..start + skip]);
                rest = &rest[start + skip..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replace `{{name}}` in every string of `v` by the argument's value.
fn fill(v: &Value, args: &Map<String, Value>) -> Value {
    match v {
        Value::String(s) if s.contains("{{") => Value::String(substitute(s, "{{", "}}", |k| {
            args.get(k).map(|a| match a {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            })
        })),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, args)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, args))).collect())
        }
        other => other.clone(),
    }
}

/// The value at a dot-separated path (`0.content.text`) in `root`.
fn at_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, key| match v {
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        Value::Object(o) => o.get(key),
        _ => None,
    })
}

/// Replace `{{responses.PATH}}` in every string of `v` by that value of the client's answers.
fn fill_responses(v: &Value, responses: &[Value]) -> Value {
    match v {
        Value::String(s) if s.contains("{{responses.") => {
            let all = Value::Array(responses.to_vec());
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{responses.") {
                out.push_str(&rest[..start]);
                let after = &rest[start + "{{responses.".len()..];
                let Some(end) = after.find("}}") else {
                    out.push_str(&rest[start..]);
                    rest = "";
                    break;
                };
                match at_path(&all, &after[..end]) {
                    Some(Value::String(t)) => out.push_str(t),
                    Some(other) => out.push_str(&other.to_string()),
                    None => {}
                }
                rest = &after[end + 2..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_responses(x, responses)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill_responses(x, responses)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl McpServer {
    /// Send one request to the client and wait for its answer: the answer's `result`, or
    /// `{"error": ...}` when it answered with an error.
    async fn ask_client(
        &self,
        session: &str,
        q: &McpClientRequest,
        reply: &McpReply,
        sink: &Sink,
    ) -> Result<Value, RpcError> {
        let n = self
            .next_request
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = Value::String(format!("aimock-{n}"));
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Keyed as answers are looked up.
        let key = (session.to_owned(), crate::jsonrpc::id_key(&id));
        self.inner.lock().pending.insert(key.clone(), tx);
        let params = q.params.clone().unwrap_or_else(|| json!({}));
        sink.send(self, crate::jsonrpc::request(&id, &q.method, params));
        let wait = Duration::from_millis(reply.request_timeout_ms.unwrap_or(30_000));
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(answer)) => Ok(match answer.get("error") {
                Some(e) => json!({ "error": e }),
                None => answer.get("result").cloned().unwrap_or(Value::Null),
            }),
            Ok(Err(_)) => Err(RpcError::new(
                code::INTERNAL_ERROR,
                format!("The session ended before the client answered {}", q.method),
            )),
            Err(_) => {
                self.inner.lock().pending.remove(&key);
                Err(RpcError::new(
                    code::INTERNAL_ERROR,
                    format!(
                        "The client did not answer {} within {} ms",
                        q.method,
                        wait.as_millis()
                    ),
                ))
            }
        }
    }

    /// Whether answering `m` raises notifications (progress, logs): then an SSE answer is due.
    /// The least severe log level sent for a request: the session's (legacy; all when unset) or
    /// the request's `_meta` log level (2026-07-28; none when absent).
    fn log_floor(&self, session: &str, params: &Value, modern: bool) -> usize {
        if modern {
            params
                .get("_meta")
                .and_then(|m| m.get(LOG_LEVEL_META_KEY))
                .and_then(Value::as_str)
                .and_then(log_rank)
                .unwrap_or(usize::MAX)
        } else {
            self.inner
                .lock()
                .sessions
                .get(session)
                .and_then(|s| s.log_level)
                .unwrap_or(0)
        }
    }

    pub(crate) fn will_notify(&self, session: &str, m: &Value, modern: bool) -> bool {
        if m.get("method").and_then(Value::as_str) != Some("tools/call") || m.get("id").is_none() {
            return false;
        }
        let params = m.get("params").cloned().unwrap_or(Value::Null);
        let (Some(name), Ok(args)) = (
            params.get("name").and_then(Value::as_str),
            tool_args(&params),
        ) else {
            return false;
        };
        let floor = self.log_floor(session, &params, modern);
        let inner = self.inner.lock();
        let Some(tool) = inner.catalog.tools.iter().find(|t| t.def.name == name) else {
            return false;
        };
        let (_, reply) = tool.pick(&args);
        let logs = reply
            .logs
            .iter()
            .any(|l| log_rank(&l.level).unwrap_or(0) >= floor);
        logs || (!reply.progress.is_empty() && progress_token(&params).is_some())
            || (!modern && !reply.requests.is_empty())
    }

    /// Answer one request.
    pub(crate) async fn call(
        self: &Arc<Self>,
        session: &str,
        method: &str,
        params: &Value,
        sink: &Sink,
        modern: bool,
    ) -> Result<Value, RpcError> {
        let size = self.config().page_size;
        match method {
            "initialize" => self.initialize(session, params),
            "ping" => Ok(json!({})),
            "tools/list" => {
                let tools: Vec<Value> = self
                    .inner
                    .lock()
                    .catalog
                    .tools
                    .iter()
                    .map(|t| {
                        let d = &t.def;
                        let mut schema = d
                            .input_schema
                            .clone()
                            .unwrap_or_else(|| json!({"type": "object"}));
                        if let Some(o) = schema.as_object_mut() {
                            o.entry("type").or_insert_with(|| json!("object"));
                        }
                        let mut o = json!({"name": d.name, "inputSchema": schema});
                        put(&mut o, "title", d.title.clone().map(Value::String));
                        put(
                            &mut o,
                            "description",
                            d.description.clone().map(Value::String),
                        );
                        put(&mut o, "outputSchema", d.output_schema.clone());
                        put(&mut o, "annotations", d.annotations.clone());
                        o
                    })
                    .collect();
                page(tools, "tools", params, size)
            }
            "tools/call" => self.call_tool(session, params, sink, modern).await,
            "resources/list" => {
                let items = self
                    .inner
                    .lock()
                    .catalog
                    .resources
                    .iter()
                    .map(resource_json)
                    .collect();
                page(items, "resources", params, size)
            }
            "resources/templates/list" => {
                let items = self
                    .inner
                    .lock()
                    .catalog
                    .templates
                    .iter()
                    .map(|t| {
                        let d = &t.def;
                        let mut o = json!({"uriTemplate": d.uri_template,
                            "name": d.name.clone().unwrap_or_else(|| d.uri_template.clone())});
                        put(&mut o, "title", d.title.clone().map(Value::String));
                        put(
                            &mut o,
                            "description",
                            d.description.clone().map(Value::String),
                        );
                        put(&mut o, "mimeType", d.mime_type.clone().map(Value::String));
                        o
                    })
                    .collect();
                page(items, "resourceTemplates", params, size)
            }
            "resources/read" => self.read_resource(params),
            "resources/subscribe" | "resources/unsubscribe" => {
                let uri = str_param(params, "uri")?.to_owned();
                if let Some(s) = self.inner.lock().sessions.get_mut(session) {
                    if method == "resources/subscribe" {
                        if s.subscriptions.len() >= MAX_SUBSCRIPTIONS
                            && !s.subscriptions.contains(&uri)
                        {
                            return Err(RpcError::params(format!(
                                "Invalid params: a session subscribes to at most {MAX_SUBSCRIPTIONS} resources"
                            )));
                        }
                        s.subscriptions.insert(uri);
                    } else {
                        s.subscriptions.remove(&uri);
                    }
                }
                Ok(json!({}))
            }
            "prompts/list" => {
                let items = self
                    .inner
                    .lock()
                    .catalog
                    .prompts
                    .iter()
                    .map(|p| {
                        let mut o = json!({"name": p.name, "arguments": p.arguments});
                        put(&mut o, "title", p.title.clone().map(Value::String));
                        put(
                            &mut o,
                            "description",
                            p.description.clone().map(Value::String),
                        );
                        o
                    })
                    .collect();
                page(items, "prompts", params, size)
            }
            "prompts/get" => self.get_prompt(params),
            "completion/complete" => self.complete(params),
            "logging/setLevel" => {
                let level = str_param(params, "level")?;
                let rank = log_rank(level).ok_or_else(|| {
                    RpcError::params(format!(
                        "Invalid params: unknown level `{level}` (one of {})",
                        LOG_LEVELS.join(", ")
                    ))
                })?;
                if let Some(s) = self.inner.lock().sessions.get_mut(session) {
                    s.log_level = Some(rank);
                }
                Ok(json!({}))
            }
            other => Err(RpcError::new(
                code::METHOD_NOT_FOUND,
                format!("Method not found: {other}"),
            )),
        }
    }

    fn initialize(&self, session: &str, params: &Value) -> Result<Value, RpcError> {
        let asked = str_param(params, "protocolVersion")?;
        let version = if PROTOCOL_VERSIONS.contains(&asked) {
            asked
        } else {
            LATEST_PROTOCOL_VERSION
        };
        if let Some(s) = self.inner.lock().sessions.get_mut(session) {
            s.protocol_version = version.to_owned();
            s.client_info = params.get("clientInfo").cloned().unwrap_or(Value::Null);
        }
        let info = self.config().server_info.clone().unwrap_or_default();
        let mut server_info = json!({
            "name": if info.name.is_empty() { "mcp-mock" } else { info.name.as_str() },
            "version": if info.version.is_empty() { "1.0.0" } else { info.version.as_str() },
        });
        put(&mut server_info, "title", info.title.map(Value::String));
        let mut caps = json!({
            "tools": {"listChanged": true},
            "resources": {"subscribe": true, "listChanged": true},
            "prompts": {"listChanged": true},
            "logging": {},
        });
        if version != "2024-11-05" {
            caps["completions"] = json!({});
        }
        let mut out =
            json!({"protocolVersion": version, "capabilities": caps, "serverInfo": server_info});
        put(
            &mut out,
            "instructions",
            self.config().instructions.clone().map(Value::String),
        );
        Ok(out)
    }

    async fn call_tool(
        self: &Arc<Self>,
        session: &str,
        params: &Value,
        sink: &Sink,
        modern: bool,
    ) -> Result<Value, RpcError> {
        let name = str_param(params, "name")?;
        let args = tool_args(params)?;
        let floor = self.log_floor(session, params, modern);
        let (reply, nth) = {
            let mut inner = self.inner.lock();
            let Some(tool) = inner.catalog.tools.iter().find(|t| t.def.name == name) else {
                return Err(RpcError::params(format!("Unknown tool: {name}")));
            };
            let (idx, reply) = tool.pick(&args);
            let reply = reply.clone();
            // 2026-07-28: what a 2025 session is asked in-band is asked by an
            // `input_required` result, and the client calls again with the answers.
            let answered = params.get("inputResponses").is_some_and(Value::is_object);
            if modern && !reply.requests.is_empty() && !answered {
                drop(inner);
                let n = self
                    .next_request
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let requests: Map<String, Value> = reply
                    .requests
                    .iter()
                    .enumerate()
                    .map(|(i, q)| {
                        let params = q.params.clone().unwrap_or_else(|| json!({}));
                        (
                            format!("r{i}"),
                            json!({"method": q.method, "params": params}),
                        )
                    })
                    .collect();
                return Ok(
                    json!({"resultType": "input_required", "inputRequests": requests,
                    "requestState": format!("aimock-{n}")}),
                );
            }
            let n = inner.calls.entry((name.to_owned(), idx)).or_insert(0);
            let nth = *n;
            *n += 1;
            (reply, nth)
        };
        for l in &reply.logs {
            if log_rank(&l.level).unwrap_or(0) >= floor {
                let mut p = json!({"level": l.level, "data": l.data});
                put(&mut p, "logger", l.logger.clone().map(Value::String));
                sink.send(
                    self,
                    crate::jsonrpc::notification("notifications/message", Some(p)),
                );
            }
        }
        if let Some(token) = progress_token(params) {
            for p in &reply.progress {
                if let Some(ms) = p.delay_ms.filter(|ms| *ms > 0) {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let mut n = json!({"progressToken": token, "progress": p.progress});
                put(&mut n, "total", p.total.map(Value::from));
                put(&mut n, "message", p.message.clone().map(Value::String));
                sink.send(
                    self,
                    crate::jsonrpc::notification("notifications/progress", Some(n)),
                );
            }
        }
        let mut responses = Vec::new();
        if modern {
            if let Some(answers) = params.get("inputResponses").and_then(Value::as_object) {
                for i in 0..reply.requests.len() {
                    responses.push(
                        answers
                            .get(&format!("r{i}"))
                            .cloned()
                            .unwrap_or(Value::Null),
                    );
                }
            }
        } else {
            for q in &reply.requests {
                responses.push(self.ask_client(session, q, &reply, sink).await?);
            }
        }
        if let Some(ms) = reply.delay_ms.filter(|ms| *ms > 0) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }

        if let Some(cb) = &reply.callback {
            return call_back(cb, name, &args).await;
        }
        if let Some(e) = &reply.error {
            return Err(RpcError {
                code: e.code.unwrap_or(code::INTERNAL_ERROR),
                message: e.message.clone(),
                data: e.data.clone(),
            });
        }
        let value = match &reply.results {
            Some(seq) => seq.get(nth).or_else(|| seq.last()),
            None => reply.result.as_ref(),
        };
        if responses.is_empty() {
            return Ok(tool_result(value, &reply));
        }
        let filled = value.map(|v| fill_responses(v, &responses));
        Ok(tool_result(filled.as_ref(), &reply))
    }

    fn read_resource(&self, params: &Value) -> Result<Value, RpcError> {
        let uri = str_param(params, "uri")?;
        let inner = self.inner.lock();
        if let Some(r) = inner.catalog.resources.iter().find(|r| r.uri == uri) {
            return Ok(
                json!({"contents": [contents_json(uri, r.mime_type.as_ref(), r.text.as_ref(), r.blob.as_ref())]}),
            );
        }
        for t in &inner.catalog.templates {
            if let Some(caps) = t.re.captures(uri) {
                let text = t.def.text.as_ref().map(|s| {
                    substitute(s, "{", "}", |name| {
                        let i = t.vars.iter().position(|v| v == name)?;
                        Some(
                            caps.name(&format!("v{i}"))
                                .map_or("", |m| m.as_str())
                                .to_owned(),
                        )
                    })
                });
                return Ok(
                    json!({"contents": [contents_json(uri, t.def.mime_type.as_ref(), text.as_ref(), t.def.blob.as_ref())]}),
                );
            }
        }
        let mut e = RpcError::new(
            code::RESOURCE_NOT_FOUND,
            format!("Resource not found: {uri}"),
        );
        e.data = Some(json!({ "uri": uri }));
        Err(e)
    }

    fn get_prompt(&self, params: &Value) -> Result<Value, RpcError> {
        let name = str_param(params, "name")?;
        let args = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(_) => {
                return Err(RpcError::params(
                    "Invalid params: `arguments` must be an object",
                ))
            }
        };
        let inner = self.inner.lock();
        let Some(p) = inner.catalog.prompts.iter().find(|p| p.name == name) else {
            return Err(RpcError::params(format!("Unknown prompt: {name}")));
        };
        for a in &p.arguments {
            let required = a.get("required").and_then(Value::as_bool) == Some(true);
            if let Some(an) = a.get("name").and_then(Value::as_str) {
                if required && !args.contains_key(an) {
                    return Err(RpcError::params(format!(
                        "Invalid params: missing required argument `{an}` of prompt `{name}`"
                    )));
                }
            }
        }
        let mut out = match &p.result {
            Some(r) => fill(r, &args),
            None => json!({"messages": []}),
        };
        if out.get("description").is_none() {
            put(
                &mut out,
                "description",
                p.description.clone().map(Value::String),
            );
        }
        Ok(out)
    }

    fn complete(&self, params: &Value) -> Result<Value, RpcError> {
        let Some(reference) = params.get("ref").filter(|r| r.is_object()) else {
            return Err(RpcError::params("Invalid params: `ref` must be an object"));
        };
        let Some(argument) = params.get("argument").filter(|a| a.is_object()) else {
            return Err(RpcError::params(
                "Invalid params: `argument` must be an object",
            ));
        };
        let arg_name = str_param(argument, "name")?;
        let typed = argument
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        let kind = reference.get("type").and_then(Value::as_str).unwrap_or("");
        let key = match kind {
            "ref/prompt" => "name",
            "ref/resource" => "uri",
            other => {
                return Err(RpcError::params(format!(
                    "Invalid params: unknown ref type `{other}`"
                )))
            }
        };
        let target = reference.get(key).and_then(Value::as_str).unwrap_or("");
        let inner = self.inner.lock();
        let values: Vec<&String> = inner
            .catalog
            .completions
            .iter()
            .filter(|c| {
                c.argument == arg_name
                    && c.reference.get("type").and_then(Value::as_str) == Some(kind)
                    && c.reference.get(key).and_then(Value::as_str) == Some(target)
            })
            .flat_map(|c| c.values.iter())
            .filter(|v| v.to_lowercase().starts_with(&typed))
            .collect();
        let total = values.len();
        let shown: Vec<&String> = values.into_iter().take(MAX_COMPLETIONS).collect();
        Ok(
            json!({"completion": {"values": shown, "total": total, "hasMore": total > MAX_COMPLETIONS}}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::McpConfig;

    #[test]
    fn placeholders_in_arguments_are_not_expanded_again() {
        let cfg: McpConfig = serde_json::from_value(json!({
            "prompts": [{"name": "greet", "result": {"messages": [
                {"role": "user", "content": {"type": "text", "text": "Hello {{who}}"}}]}}],
            "resourceTemplates": [{"uriTemplate": "file:///{a}/{b}", "text": "{a}-{b}"}]
        }))
        .unwrap();
        let server = McpServer::new(cfg).unwrap();
        // Each value goes in as given: `{{x}}` in `who` is not replaced by `x`, so a client
        // cannot make the text grow as the product of its arguments.
        let args = json!({"who": "{{x}}{{x}}", "x": "{{y}}{{y}}", "y": "boom"});
        let got = server
            .get_prompt(&json!({"name": "greet", "arguments": args}))
            .unwrap();
        assert_eq!(got["messages"][0]["content"]["text"], "Hello {{x}}{{x}}");
        let got = server
            .read_resource(&json!({"uri": "file:///{b}{b}/x"}))
            .unwrap();
        assert_eq!(got["contents"][0]["text"], "{b}{b}-x");
        assert_eq!(
            substitute("{{{a}}}", "{{", "}}", |k| (k == "a").then(|| "v".into())),
            "{v}"
        );
        assert_eq!(substitute("é{{a}}ü{{", "{{", "}}", |_| None), "é{{a}}ü{{");
    }

    #[tokio::test]
    async fn subscriptions_per_session_are_capped() {
        let server = McpServer::new(McpConfig::default()).unwrap();
        let id = server.new_session();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Sink::Post(tx);
        for i in 0..MAX_SUBSCRIPTIONS {
            let p = json!({"uri": format!("mem://{i}")});
            assert!(server
                .call(&id, "resources/subscribe", &p, &sink, false)
                .await
                .is_ok());
        }
        let again = json!({"uri": "mem://0"});
        assert!(server
            .call(&id, "resources/subscribe", &again, &sink, false)
            .await
            .is_ok());
        let more = json!({"uri": "mem://one-too-many"});
        let e = server
            .call(&id, "resources/subscribe", &more, &sink, false)
            .await
            .unwrap_err();
        assert_eq!(e.code, code::INVALID_PARAMS);
        let n = server.inner.lock().sessions[&id].subscriptions.len();
        assert_eq!(n, MAX_SUBSCRIPTIONS);
    }
}
