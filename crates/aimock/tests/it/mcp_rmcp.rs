//! The official MCP Rust SDK (`rmcp` 3.11, Streamable HTTP client) against aimock's MCP server.
//!
//! 2025 revisions (`initialize`, sessions, GET stream): version negotiation, ping, tools
//! (pagination, every content kind, structuredContent, isError, argument-matched replies,
//! sequences, errors, delays, cancellation), resources (list, templates, read, subscribe →
//! `notifications/resources/updated`), list_changed notifications over the GET stream after
//! run-time changes (control API and Rust API), prompts, completion, logging, progress during a
//! tool call, reset, several mounts and an own port, and the end of a session (DELETE).
//!
//! 2026-07-28 (`server/discover`, stateless requests): rmcp's `Auto` and `Discover` lifecycles,
//! every method, `subscriptions/listen`, progress and the per-request log level.
// `resources/subscribe` and `logging/setLevel` are marked deprecated in rmcp (legacy-only in
// the 2026 revision) but are what a 2025-11-25 session uses.
#![allow(deprecated)]

use std::time::Duration;

use aimock::MockServer;
use rmcp::model::{CallToolRequestParams, CallToolResult, GetPromptRequestParams};
use rmcp::model::{
    ClientConfig, ClientRequest, ErrorCode, Implementation, LoggingLevel,
    LoggingMessageNotificationParam, PaginatedRequestParams, PingRequest,
    ProgressNotificationParam, ProtocolVersion, ReadResourceRequestParams, Request,
    ResourceContents, ServerResult, SetLevelRequestParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, RoleClient, ServiceError, ServiceExt};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::support::{self, mcp_url, WAIT};

// ---------------------------------------------------------------------------------------------
// The client: an rmcp `ClientHandler` that records every notification it is given.
// ---------------------------------------------------------------------------------------------

/// A server-to-client notification, as rmcp delivered it to the handler.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Progress(ProgressNotificationParam),
    ResourceUpdated(String),
    ToolsChanged,
    ResourcesChanged,
    PromptsChanged,
    Log(LoggingMessageNotificationParam),
    /// A request the server made of the client: its method and params.
    Asked(&'static str, Value),
}

struct Recorder {
    tx: mpsc::UnboundedSender<Event>,
    info: ClientConfig,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.tx.send(Event::Progress(params));
    }

    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.tx.send(Event::ResourceUpdated(params.uri));
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.tx.send(Event::ToolsChanged);
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.tx.send(Event::ResourcesChanged);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.tx.send(Event::PromptsChanged);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.tx.send(Event::Log(params));
    }

    async fn list_roots(
        &self,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::ListRootsResult, rmcp::ErrorData> {
        let _ = self.tx.send(Event::Asked("roots/list", Value::Null));
        Ok(rmcp::model::ListRootsResult::new(vec![
            rmcp::model::Root::new("file:///project"),
        ]))
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        let _ = self.tx.send(Event::Asked(
            "elicitation/create",
            serde_json::to_value(&request).unwrap_or_default(),
        ));
        Ok(
            rmcp::model::ElicitResult::new(rmcp::model::ElicitationAction::Accept)
                .with_content(json!({"name": "Ada"})),
        )
    }

    async fn create_message(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ErrorData> {
        let _ = self.tx.send(Event::Asked(
            "sampling/createMessage",
            serde_json::to_value(&params).unwrap_or_default(),
        ));
        Ok(rmcp::model::CreateMessageResult::new(
            rmcp::model::SamplingMessage::assistant_text("sampled hi"),
            "mock-llm".to_owned(),
        )
        .with_stop_reason("endTurn"))
    }

    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }
}

type Client = RunningService<RoleClient, Recorder>;

struct Connected {
    client: Client,
    events: mpsc::UnboundedReceiver<Event>,
}

fn client_info(version: Option<ProtocolVersion>) -> ClientConfig {
    let mut info = ClientConfig::default();
    info.client_info = Implementation::new("aimock-rmcp-conformance", "0.0.1");
    // What the handler above answers: roots, sampling and form elicitation.
    info.capabilities = serde_json::from_value(json!({
        "roots": {"listChanged": true}, "sampling": {}, "elicitation": {"form": {}}
    }))
    .expect("client capabilities");
    if let Some(v) = version {
        info.protocol_version = v;
    }
    info
}

/// Connect rmcp's Streamable HTTP client to `/mcp` (initialize + notifications/initialized).
async fn connect_version(server: &MockServer, version: Option<ProtocolVersion>) -> Connected {
    let (tx, events) = mpsc::unbounded_channel();
    let transport = StreamableHttpClientTransport::from_uri(mcp_url(server));
    let recorder = Recorder {
        tx,
        info: client_info(version),
    };
    let client = tokio::time::timeout(WAIT, recorder.serve(transport))
        .await
        .expect("initialize timed out")
        .expect("rmcp client failed to initialize");
    Connected { client, events }
}

async fn connect(server: &MockServer) -> Connected {
    connect_version(server, None).await
}

async fn start(config: Value) -> MockServer {
    MockServer::builder()
        .mcp(support::config(config))
        .start()
        .await
}

/// The next notification satisfying `want`; the ones skipped on the way are returned too.
async fn wait_for(
    events: &mut mpsc::UnboundedReceiver<Event>,
    what: &str,
    want: impl Fn(&Event) -> bool,
) -> (Event, Vec<Event>) {
    let mut skipped = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Some(e) if want(&e) => return e,
                Some(e) => skipped.push(e),
                None => panic!("client closed while waiting for {what}"),
            }
        }
    })
    .await;
    match found {
        Ok(e) => (e, skipped),
        Err(_) => panic!("no {what} within {WAIT:?}; got instead: {skipped:?}"),
    }
}

/// Every notification already delivered.
fn drain(events: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        out.push(e);
    }
    out
}

/// Wait until the client's GET stream (server → client messages) is open, as seen by the
/// server's journal, so a run-time change made next is not sent before anyone listens.
async fn wait_for_get_stream(server: &MockServer) {
    support::eventually(async || {
        let journal = server.journal();
        if journal
            .iter()
            .any(|e| e.service == Some("mcp") && e.method == "GET" && e.path == "/mcp")
        {
            return Ok(());
        }
        let seen: Vec<String> = journal
            .iter()
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        Err(format!(
            "rmcp never opened the GET stream (no journaled GET /mcp): {seen:?}"
        ))
    })
    .await;
}

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("arguments must be an object, got {other}"),
    }
}

async fn call(client: &Client, name: &str, arguments: Option<Value>) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name.to_owned());
    if let Some(a) = arguments {
        params = params.with_arguments(args(a));
    }
    tokio::time::timeout(WAIT, client.call_tool(params))
        .await
        .expect("tools/call timed out")
        .unwrap_or_else(|e| panic!("tools/call {name} failed: {e}"))
}

async fn call_err(client: &Client, name: &str, arguments: Option<Value>) -> rmcp::ErrorData {
    let mut params = CallToolRequestParams::new(name.to_owned());
    if let Some(a) = arguments {
        params = params.with_arguments(args(a));
    }
    match tokio::time::timeout(WAIT, client.call_tool(params))
        .await
        .expect("tools/call timed out")
    {
        Err(ServiceError::McpError(e)) => e,
        other => panic!("tools/call {name}: expected a JSON-RPC error, got {other:?}"),
    }
}

fn mcp_error<T: std::fmt::Debug>(r: Result<T, ServiceError>, what: &str) -> rmcp::ErrorData {
    match r {
        Err(ServiceError::McpError(e)) => e,
        other => panic!("{what}: expected a JSON-RPC error, got {other:?}"),
    }
}

/// The only text item of a tool result.
fn only_text(r: &CallToolResult) -> String {
    assert_eq!(r.content.len(), 1, "one content item: {r:?}");
    r.content[0]
        .as_text()
        .unwrap_or_else(|| panic!("a text item: {r:?}"))
        .text
        .clone()
}

fn not_error(r: &CallToolResult) -> bool {
    matches!(r.is_error, None | Some(false))
}

/// `POST|DELETE /__aimock/mcp/<sub>` with an optional JSON body; the status must be 2xx.
async fn control(server: &MockServer, method: reqwest::Method, sub: &str, body: Option<Value>) {
    let url = format!("{}/__aimock/mcp{sub}", server.uri());
    let mut req = support::client().request(method.clone(), &url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "{method} {url} answered {status}: {text}"
    );
}

fn tool_names(tools: &[rmcp::model::Tool]) -> Vec<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// The configuration most tests use (the shape documented in crates/aimock/src/mcp/mod.rs).
// ---------------------------------------------------------------------------------------------

const PNG: &str = "iVBORw0KGgo=";
const WAV: &str = "UklGRiQAAABXQVZF";

fn config() -> Value {
    json!({
        "path": "/mcp",
        "serverInfo": {"name": "rmcp-conformance", "version": "3.1.4", "title": "RMCP Conformance"},
        "instructions": "Use the tools.",
        "tools": [
            {"name": "echo", "title": "Echo tool", "description": "Echo", "inputSchema": {"type": "object"},
             "annotations": {"readOnlyHint": true, "openWorldHint": false}, "result": "hello"},
            {"name": "kinds", "description": "Every content kind", "result": [
                {"type": "text", "text": "plain"},
                {"type": "image", "data": PNG, "mimeType": "image/png"},
                {"type": "audio", "data": WAV, "mimeType": "audio/wav"},
                {"type": "resource_link", "uri": "file:///readme.md", "name": "readme",
                 "mimeType": "text/markdown", "description": "The readme"},
                {"type": "resource", "resource": {"uri": "file:///note.txt", "mimeType": "text/plain", "text": "a note"}},
                {"type": "resource", "resource": {"uri": "file:///logo.png", "mimeType": "image/png", "blob": PNG}}
            ]},
            {"name": "weather",
             "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
             "outputSchema": {"type": "object", "properties": {"t": {"type": "number"}}},
             "replies": [
                {"match": {"exact": {"city": "Paris"}}, "result": "sunny"},
                {"match": {"subset": {"city": "Oslo"}}, "result": [{"type": "text", "text": "snow"}]},
                {"match": {"regex": {"city": "^Lon"}}, "isError": true, "result": "rain"},
                {"match": {"exact": {"city": "Nowhere"}}, "error": {"code": -32602, "message": "no such city", "data": {"hint": "try Paris"}}}
             ],
             "result": {"content": [{"type": "text", "text": "{\"t\":20}"}], "structuredContent": {"t": 20}}},
            {"name": "counter", "results": ["one", "two", "three"]},
            {"name": "broken", "isError": true, "result": "the tool failed"},
            {"name": "slow", "delayMs": 50, "result": "done",
             "progress": [
                {"progress": 1, "total": 2, "message": "half", "delayMs": 10},
                {"progress": 2, "total": 2}
             ]},
            {"name": "sleepy", "delayMs": 400, "result": "awake"},
            {"name": "ask",
             "requests": [
                {"method": "roots/list"},
                {"method": "elicitation/create",
                 "params": {"mode": "form", "message": "Your name?",
                            "requestedSchema": {"type": "object",
                                                "properties": {"name": {"type": "string"}},
                                                "required": ["name"]}}},
                {"method": "sampling/createMessage",
                 "params": {"messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
                            "maxTokens": 50}}
             ],
             "result": "root={{responses.0.roots.0.uri}} name={{responses.1.content.name}} llm={{responses.2.content.text}}"},
            {"name": "stepper", "result": "stepped",
             "progress": [
                {"progress": 1, "total": 2, "message": "first"},
                {"progress": 2, "total": 2, "message": "second", "delayMs": 1500}
             ]},
            {"name": "forever", "delayMs": 30000, "result": "too late"},
            {"name": "noisy", "result": "logged",
             "logs": [
                {"level": "info", "logger": "noisy", "data": "quiet detail"},
                {"level": "error", "logger": "noisy", "data": {"problem": "loud"}}
             ]}
        ],
        "resources": [
            {"uri": "file:///readme.md", "name": "readme", "title": "Read me", "mimeType": "text/markdown",
             "description": "The readme", "text": "# Hi"},
            {"uri": "file:///logo.png", "name": "logo", "mimeType": "image/png", "blob": PNG}
        ],
        "resourceTemplates": [
            {"uriTemplate": "file:///logs/{day}", "name": "logs", "description": "Daily log",
             "mimeType": "text/plain", "text": "log of {day}"}
        ],
        "prompts": [
            {"name": "greet", "title": "Greeting", "description": "Greet someone",
             "arguments": [{"name": "who", "description": "Whom", "required": true},
                           {"name": "mood", "required": false}],
             "result": {"description": "A greeting",
                        "messages": [{"role": "user", "content": {"type": "text", "text": "Hello {{who}}"}},
                                     {"role": "assistant", "content": {"type": "text", "text": "Hi, I am here."}}]}},
            {"name": "plain", "result": {"messages": [{"role": "user", "content": {"type": "text", "text": "just text"}}]}}
        ],
        "completions": [
            {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": "who", "values": ["alice", "albert", "bob"]},
            {"ref": {"type": "ref/resource", "uri": "file:///logs/{day}"}, "argument": "day",
             "values": ["monday", "tuesday", "wednesday"]}
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// initialize, ping
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn initialize_reports_server_info_capabilities_and_negotiated_version() {
    let server = start(config()).await;
    // rmcp 3.11 offers 2026-07-28 in `initialize`; that revision has no initialize handshake,
    // so the server answers with the newest revision that does: 2025-11-25.
    let c = connect(&server).await;
    let info = c.client.peer_info().expect("peer info after initialize");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    let si = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(si.name, "rmcp-conformance");
    assert_eq!(si.version, "3.1.4");
    assert_eq!(si.title.as_deref(), Some("RMCP Conformance"));
    assert_eq!(info.instructions.as_deref(), Some("Use the tools."));

    let caps = &info.capabilities;
    let tools = caps.tools.as_ref().expect("tools capability");
    assert_eq!(tools.list_changed, Some(true), "tools.listChanged");
    let resources = caps.resources.as_ref().expect("resources capability");
    assert_eq!(resources.subscribe, Some(true), "resources.subscribe");
    assert_eq!(resources.list_changed, Some(true), "resources.listChanged");
    let prompts = caps.prompts.as_ref().expect("prompts capability");
    assert_eq!(prompts.list_changed, Some(true), "prompts.listChanged");
    assert!(caps.completions.is_some(), "completions capability");
    assert!(caps.logging.is_some(), "logging capability");

    // The handshake carried the client's identity.
    let init = server
        .journal()
        .into_iter()
        .find(|e| {
            e.service == Some("mcp")
                && matches!(&e.body, aimock::journal::JournalBody::Json(v) if v["method"] == "initialize")
        })
        .expect("initialize in the journal");
    let aimock::journal::JournalBody::Json(body) = &init.body else {
        unreachable!()
    };
    assert_eq!(
        body["params"]["clientInfo"]["name"],
        "aimock-rmcp-conformance"
    );
    assert_eq!(body["params"]["protocolVersion"], "2026-07-28");
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn initialize_negotiates_each_2025_and_2024_revision_the_client_asks_for() {
    let server = start(config()).await;
    for v in [
        ProtocolVersion::V_2024_11_05,
        ProtocolVersion::V_2025_03_26,
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
    ] {
        let c = connect_version(&server, Some(v.clone())).await;
        let info = c.client.peer_info().expect("peer info");
        assert_eq!(info.protocol_version, v, "negotiated version");
        // The session works at that version.
        let tools = c.client.list_all_tools().await.unwrap();
        assert!(
            tool_names(&tools).contains(&"echo".to_owned()),
            "{v}: {tools:?}"
        );
        assert_eq!(only_text(&call(&c.client, "echo", None).await), "hello");
        c.client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn ping_answers_empty_result() {
    let server = start(config()).await;
    let c = connect(&server).await;
    for _ in 0..3 {
        let r = tokio::time::timeout(
            WAIT,
            c.client
                .send_request(ClientRequest::PingRequest(PingRequest::default())),
        )
        .await
        .expect("ping timed out")
        .expect("ping failed");
        assert!(matches!(r, ServerResult::EmptyResult(_)), "ping: {r:?}");
    }
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// tools/list with pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_tools_paginates_with_cursors() {
    let mut cfg = config();
    cfg["pageSize"] = json!(2);
    let server = start(cfg).await;
    let c = connect(&server).await;
    let all = [
        "echo", "kinds", "weather", "counter", "broken", "slow", "sleepy", "ask", "stepper",
        "forever", "noisy",
    ];

    // Manual cursor walk: five pages of 2, then 1.
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = cursor
            .clone()
            .map(|cur| PaginatedRequestParams::default().with_cursor(Some(cur)));
        let page = c.client.list_tools(params).await.unwrap();
        pages.push(tool_names(&page.tools));
        match page.next_cursor {
            Some(next) => {
                assert!(pages.len() < 10, "cursors never end: {pages:?}");
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(
        pages,
        vec![
            vec!["echo".to_owned(), "kinds".to_owned()],
            vec!["weather".to_owned(), "counter".to_owned()],
            vec!["broken".to_owned(), "slow".to_owned()],
            vec!["sleepy".to_owned(), "ask".to_owned()],
            vec!["stepper".to_owned(), "forever".to_owned()],
            vec!["noisy".to_owned()],
        ]
    );

    // rmcp's own page walker.
    let tools = c.client.list_all_tools().await.unwrap();
    assert_eq!(tool_names(&tools), all);

    // Tool definitions come through intact.
    let echo = &tools[0];
    assert_eq!(echo.description.as_deref(), Some("Echo"));
    assert_eq!(echo.title.as_deref(), Some("Echo tool"));
    let ann = echo.annotations.as_ref().expect("annotations");
    assert_eq!(
        (ann.read_only_hint, ann.open_world_hint),
        (Some(true), Some(false))
    );
    assert_eq!(
        Value::Object((*echo.input_schema).clone()),
        json!({"type": "object"})
    );
    let weather = tools.iter().find(|t| t.name == "weather").unwrap();
    assert_eq!(
        Value::Object((*weather.input_schema).clone()),
        json!({"type": "object", "properties": {"city": {"type": "string"}}})
    );
    assert_eq!(
        weather.output_schema.as_deref().cloned().map(Value::Object),
        Some(json!({"type": "object", "properties": {"t": {"type": "number"}}}))
    );
    // A tool configured without a schema still gets the required object schema.
    let counter = tools.iter().find(|t| t.name == "counter").unwrap();
    assert_eq!(counter.input_schema.get("type"), Some(&json!("object")));

    // A cursor the server never gave out is invalid params.
    let e = mcp_error(
        c.client
            .list_tools(Some(
                PaginatedRequestParams::default().with_cursor(Some("not-a-cursor".to_owned())),
            ))
            .await,
        "tools/list with a bogus cursor",
    );
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn list_resources_and_prompts_paginate_too() {
    let mut cfg = config();
    cfg["pageSize"] = json!(1);
    let server = start(cfg).await;
    let c = connect(&server).await;
    let first = c.client.list_resources(None).await.unwrap();
    assert_eq!(first.resources.len(), 1);
    assert!(first.next_cursor.is_some(), "a second page of resources");
    let resources = c.client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["file:///readme.md", "file:///logo.png"]);
    let prompts = c.client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["greet", "plain"]);
    let templates = c.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// tools/call
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn call_tool_returns_every_content_kind() {
    let server = start(config()).await;
    let c = connect(&server).await;

    let r = call(&c.client, "echo", Some(json!({"x": 1}))).await;
    assert_eq!(only_text(&r), "hello");
    assert!(not_error(&r));

    let r = call(&c.client, "kinds", None).await;
    assert!(not_error(&r));
    assert_eq!(r.content.len(), 6, "{r:?}");
    assert_eq!(r.content[0].as_text().expect("text").text, "plain");
    let img = r.content[1].as_image().expect("image");
    assert_eq!(
        (img.data.as_str(), img.mime_type.as_str()),
        (PNG, "image/png")
    );
    let audio = r.content[2].as_audio().expect("audio");
    assert_eq!(
        (audio.data.as_str(), audio.mime_type.as_str()),
        (WAV, "audio/wav")
    );
    let link = r.content[3].as_resource_link().expect("resource_link");
    assert_eq!(link.uri, "file:///readme.md");
    assert_eq!(link.name, "readme");
    assert_eq!(link.mime_type.as_deref(), Some("text/markdown"));
    assert_eq!(link.description.as_deref(), Some("The readme"));
    let embedded = r.content[4].as_resource().expect("embedded text resource");
    assert_eq!(
        embedded.resource,
        ResourceContents::TextResourceContents {
            uri: "file:///note.txt".into(),
            mime_type: Some("text/plain".into()),
            text: "a note".into(),
            meta: None,
        }
    );
    let embedded = r.content[5].as_resource().expect("embedded blob resource");
    assert_eq!(
        embedded.resource,
        ResourceContents::BlobResourceContents {
            uri: "file:///logo.png".into(),
            mime_type: Some("image/png".into()),
            blob: PNG.into(),
            meta: None,
        }
    );
    // And the whole list, as rmcp re-serializes what it parsed.
    assert_eq!(
        serde_json::to_value(&r.content).unwrap(),
        json!([
            {"type": "text", "text": "plain"},
            {"type": "image", "data": PNG, "mimeType": "image/png"},
            {"type": "audio", "data": WAV, "mimeType": "audio/wav"},
            {"type": "resource_link", "uri": "file:///readme.md", "name": "readme",
             "mimeType": "text/markdown", "description": "The readme"},
            {"type": "resource", "resource": {"uri": "file:///note.txt", "mimeType": "text/plain", "text": "a note"}},
            {"type": "resource", "resource": {"uri": "file:///logo.png", "mimeType": "image/png", "blob": PNG}}
        ])
    );
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn call_tool_structured_content_is_error_and_argument_matched_replies() {
    let server = start(config()).await;
    let c = connect(&server).await;

    // Default reply: text plus structuredContent.
    let r = call(&c.client, "weather", Some(json!({"city": "Rome"}))).await;
    assert_eq!(only_text(&r), "{\"t\":20}");
    assert_eq!(r.structured_content, Some(json!({"t": 20})));
    assert!(not_error(&r));

    // exact
    let r = call(&c.client, "weather", Some(json!({"city": "Paris"}))).await;
    assert_eq!(only_text(&r), "sunny");
    assert_eq!(r.structured_content, None);
    // exact does not hold with an extra argument: the default answers.
    let r = call(
        &c.client,
        "weather",
        Some(json!({"city": "Paris", "units": "C"})),
    )
    .await;
    assert_eq!(only_text(&r), "{\"t\":20}");
    // subset holds with extra arguments.
    let r = call(
        &c.client,
        "weather",
        Some(json!({"city": "Oslo", "units": "C"})),
    )
    .await;
    assert_eq!(only_text(&r), "snow");
    // regex, with isError.
    let r = call(&c.client, "weather", Some(json!({"city": "London"}))).await;
    assert_eq!(only_text(&r), "rain");
    assert_eq!(r.is_error, Some(true));
    // regex does not hold.
    let r = call(&c.client, "weather", Some(json!({"city": "Berlin"}))).await;
    assert_eq!(only_text(&r), "{\"t\":20}");
    // A configured JSON-RPC error.
    let e = call_err(&c.client, "weather", Some(json!({"city": "Nowhere"}))).await;
    assert_eq!(e.code, ErrorCode(-32602));
    assert_eq!(e.message, "no such city");
    assert_eq!(e.data, Some(json!({"hint": "try Paris"})));

    // A tool whose only reply is a failure.
    let r = call(&c.client, "broken", None).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(only_text(&r), "the tool failed");
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn call_tool_reply_sequences_advance_and_repeat_the_last() {
    let server = start(config()).await;
    let c = connect(&server).await;
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(only_text(&call(&c.client, "counter", None).await));
    }
    assert_eq!(got, ["one", "two", "three", "three", "three"]);
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn call_unknown_tool_is_a_json_rpc_error() {
    let server = start(config()).await;
    let c = connect(&server).await;
    let e = call_err(&c.client, "no_such_tool", Some(json!({}))).await;
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
    assert!(
        e.message.contains("no_such_tool"),
        "the message names the tool: {e:?}"
    );
    // The session is still usable afterwards.
    assert_eq!(only_text(&call(&c.client, "echo", None).await), "hello");
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// resources
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn resources_list_templates_and_read() {
    let server = start(config()).await;
    let c = connect(&server).await;

    let list = c.client.list_resources(None).await.unwrap();
    assert_eq!(list.next_cursor, None);
    assert_eq!(
        serde_json::to_value(&list.resources).unwrap(),
        json!([
            {"uri": "file:///readme.md", "name": "readme", "title": "Read me",
             "mimeType": "text/markdown", "description": "The readme"},
            {"uri": "file:///logo.png", "name": "logo", "mimeType": "image/png"}
        ])
    );

    let templates = c.client.list_resource_templates(None).await.unwrap();
    assert_eq!(
        serde_json::to_value(&templates.resource_templates).unwrap(),
        json!([{"uriTemplate": "file:///logs/{day}", "name": "logs", "description": "Daily log",
                "mimeType": "text/plain"}])
    );

    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///readme.md"))
        .await
        .unwrap();
    assert_eq!(
        read.contents,
        vec![ResourceContents::TextResourceContents {
            uri: "file:///readme.md".into(),
            mime_type: Some("text/markdown".into()),
            text: "# Hi".into(),
            meta: None,
        }]
    );
    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///logo.png"))
        .await
        .unwrap();
    assert_eq!(
        read.contents,
        vec![ResourceContents::BlobResourceContents {
            uri: "file:///logo.png".into(),
            mime_type: Some("image/png".into()),
            blob: PNG.into(),
            meta: None,
        }]
    );
    // A URI matching the template.
    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///logs/monday"))
        .await
        .unwrap();
    assert_eq!(
        read.contents,
        vec![ResourceContents::TextResourceContents {
            uri: "file:///logs/monday".into(),
            mime_type: Some("text/plain".into()),
            text: "log of monday".into(),
            meta: None,
        }]
    );
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn subscribe_then_update_through_control_api_notifies_and_unsubscribe_stops_it() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    c.client
        .subscribe(SubscribeRequestParams::new("file:///readme.md"))
        .await
        .unwrap();
    wait_for_get_stream(&server).await;

    control(
        &server,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///readme.md", "text": "# Changed"})),
    )
    .await;
    let (e, _) = wait_for(&mut c.events, "notifications/resources/updated", |e| {
        matches!(e, Event::ResourceUpdated(_))
    })
    .await;
    assert_eq!(e, Event::ResourceUpdated("file:///readme.md".into()));

    // The new content is served.
    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///readme.md"))
        .await
        .unwrap();
    assert_eq!(
        read.contents,
        vec![ResourceContents::TextResourceContents {
            uri: "file:///readme.md".into(),
            mime_type: Some("text/markdown".into()),
            text: "# Changed".into(),
            meta: None,
        }]
    );

    // After unsubscribing, readme updates are not sent; a logo subscription still is, so the
    // next update notification must be the logo's.
    c.client
        .unsubscribe(UnsubscribeRequestParams::new("file:///readme.md"))
        .await
        .unwrap();
    c.client
        .subscribe(SubscribeRequestParams::new("file:///logo.png"))
        .await
        .unwrap();
    control(
        &server,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///readme.md", "text": "# Again"})),
    )
    .await;
    control(
        &server,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///logo.png", "blob": "AAAA"})),
    )
    .await;
    let (e, skipped) = wait_for(&mut c.events, "the logo's update", |e| {
        matches!(e, Event::ResourceUpdated(_))
    })
    .await;
    assert_eq!(
        e,
        Event::ResourceUpdated("file:///logo.png".into()),
        "readme was unsubscribed; skipped: {skipped:?}"
    );
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn subscription_update_through_the_rust_api() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    c.client
        .subscribe(SubscribeRequestParams::new("file:///readme.md"))
        .await
        .unwrap();
    wait_for_get_stream(&server).await;
    let mcp = server.mcp(None).expect("the MCP server");
    mcp_rust_api::update_resource_text(&mcp, "file:///readme.md", "# From Rust");
    let (e, _) = wait_for(&mut c.events, "notifications/resources/updated", |e| {
        matches!(e, Event::ResourceUpdated(_))
    })
    .await;
    assert_eq!(e, Event::ResourceUpdated("file:///readme.md".into()));
    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///readme.md"))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[..], [ResourceContents::TextResourceContents { text, .. }] if text == "# From Rust"),
        "{read:?}"
    );
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// list_changed over the GET stream after run-time changes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tool_list_change_is_notified_over_the_get_stream() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    let before = tool_names(&c.client.list_all_tools().await.unwrap());
    assert!(!before.contains(&"added".to_owned()));
    wait_for_get_stream(&server).await;

    // No request of this client is in flight: the notification can only come over GET.
    control(
        &server,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "added", "description": "Added at run time", "result": "fresh"})),
    )
    .await;
    wait_for(&mut c.events, "notifications/tools/list_changed", |e| {
        *e == Event::ToolsChanged
    })
    .await;
    let after = c.client.list_all_tools().await.unwrap();
    let added = after
        .iter()
        .find(|t| t.name == "added")
        .unwrap_or_else(|| panic!("the added tool is listed: {after:?}"));
    assert_eq!(added.description.as_deref(), Some("Added at run time"));
    assert_eq!(only_text(&call(&c.client, "added", None).await), "fresh");

    control(&server, reqwest::Method::DELETE, "/tools/added", None).await;
    wait_for(&mut c.events, "a second tools/list_changed", |e| {
        *e == Event::ToolsChanged
    })
    .await;
    let after = tool_names(&c.client.list_all_tools().await.unwrap());
    assert_eq!(after, before);
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn resource_and_prompt_list_changes_are_notified() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    wait_for_get_stream(&server).await;

    control(
        &server,
        reqwest::Method::POST,
        "/resources",
        Some(json!({"uri": "file:///new.txt", "name": "new", "mimeType": "text/plain", "text": "new!"})),
    )
    .await;
    wait_for(&mut c.events, "notifications/resources/list_changed", |e| {
        *e == Event::ResourcesChanged
    })
    .await;
    let uris: Vec<String> = c
        .client
        .list_all_resources()
        .await
        .unwrap()
        .iter()
        .map(|r| r.uri.clone())
        .collect();
    assert!(uris.contains(&"file:///new.txt".to_owned()), "{uris:?}");
    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///new.txt"))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[..], [ResourceContents::TextResourceContents { text, .. }] if text == "new!"),
        "{read:?}"
    );

    control(
        &server,
        reqwest::Method::POST,
        "/prompts",
        Some(json!({"name": "later", "result": {"messages": [
            {"role": "user", "content": {"type": "text", "text": "added later"}}]}})),
    )
    .await;
    wait_for(&mut c.events, "notifications/prompts/list_changed", |e| {
        *e == Event::PromptsChanged
    })
    .await;
    let names: Vec<String> = c
        .client
        .list_all_prompts()
        .await
        .unwrap()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["greet", "plain", "later"]);

    control(&server, reqwest::Method::DELETE, "/prompts/later", None).await;
    wait_for(&mut c.events, "prompts/list_changed after delete", |e| {
        *e == Event::PromptsChanged
    })
    .await;
    control(
        &server,
        reqwest::Method::DELETE,
        "/resources?uri=file:///new.txt",
        None,
    )
    .await;
    wait_for(&mut c.events, "resources/list_changed after delete", |e| {
        *e == Event::ResourcesChanged
    })
    .await;
    let uris: Vec<String> = c
        .client
        .list_all_resources()
        .await
        .unwrap()
        .iter()
        .map(|r| r.uri.clone())
        .collect();
    assert_eq!(uris, ["file:///readme.md", "file:///logo.png"]);
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn tool_added_through_the_rust_api_is_notified() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    wait_for_get_stream(&server).await;
    let mcp = server.mcp(None).expect("the MCP server");
    mcp_rust_api::add_tool(
        &mcp,
        json!({"name": "rusty", "description": "From Rust", "result": "oxidised"}),
    );
    wait_for(&mut c.events, "notifications/tools/list_changed", |e| {
        *e == Event::ToolsChanged
    })
    .await;
    assert_eq!(only_text(&call(&c.client, "rusty", None).await), "oxidised");
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// prompts, completion
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn prompts_list_and_get() {
    let server = start(config()).await;
    let c = connect(&server).await;
    let list = c.client.list_prompts(None).await.unwrap();
    assert_eq!(list.next_cursor, None);
    assert_eq!(list.prompts.len(), 2, "{:?}", list.prompts);
    assert_eq!(
        serde_json::to_value(&list.prompts[0]).unwrap(),
        json!({"name": "greet", "title": "Greeting", "description": "Greet someone",
               "arguments": [{"name": "who", "description": "Whom", "required": true},
                             {"name": "mood", "required": false}]})
    );
    let plain = &list.prompts[1];
    assert_eq!(plain.name, "plain");
    assert_eq!(
        (plain.title.as_deref(), plain.description.as_deref()),
        (None, None)
    );
    // No arguments: the field absent or an empty list.
    assert!(
        plain.arguments.as_deref().unwrap_or_default().is_empty(),
        "{plain:?}"
    );

    let got = c
        .client
        .get_prompt(
            GetPromptRequestParams::new("greet").with_arguments(args(json!({"who": "Ada"}))),
        )
        .await
        .unwrap();
    assert_eq!(got.description.as_deref(), Some("A greeting"));
    assert_eq!(
        serde_json::to_value(&got.messages).unwrap(),
        json!([
            {"role": "user", "content": {"type": "text", "text": "Hello Ada"}},
            {"role": "assistant", "content": {"type": "text", "text": "Hi, I am here."}}
        ])
    );

    let got = c
        .client
        .get_prompt(GetPromptRequestParams::new("plain"))
        .await
        .unwrap();
    assert_eq!(got.messages.len(), 1);
    assert_eq!(
        got.messages[0].content.as_text().map(|t| t.text.as_str()),
        Some("just text")
    );

    // A required argument missing, and an unknown prompt: invalid params.
    let e = mcp_error(
        c.client
            .get_prompt(GetPromptRequestParams::new("greet"))
            .await,
        "prompts/get without a required argument",
    );
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
    let e = mcp_error(
        c.client
            .get_prompt(GetPromptRequestParams::new("nope"))
            .await,
        "prompts/get of an unknown prompt",
    );
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn completion_complete_for_prompt_and_resource_arguments() {
    let server = start(config()).await;
    let c = connect(&server).await;
    let got = c
        .client
        .complete_prompt_simple("greet", "who", "al")
        .await
        .unwrap();
    assert_eq!(got, ["alice", "albert"]);
    let got = c
        .client
        .complete_prompt_simple("greet", "who", "")
        .await
        .unwrap();
    assert_eq!(got, ["alice", "albert", "bob"]);
    let got = c
        .client
        .complete_prompt_simple("greet", "who", "zz")
        .await
        .unwrap();
    assert!(got.is_empty(), "{got:?}");
    let info = c
        .client
        .complete_resource_argument("file:///logs/{day}", "day", "t", None)
        .await
        .unwrap();
    assert_eq!(info.values, ["tuesday"]);
    assert_ne!(info.has_more, Some(true));
    // An argument nothing is configured for: no values.
    let got = c
        .client
        .complete_prompt_simple("greet", "mood", "h")
        .await
        .unwrap();
    assert!(got.is_empty(), "{got:?}");
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// logging, progress
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn set_level_filters_the_log_messages_a_tool_sends() {
    let server = start(config()).await;
    let mut c = connect(&server).await;

    c.client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Warning))
        .await
        .unwrap();
    assert_eq!(only_text(&call(&c.client, "noisy", None).await), "logged");
    let (e, skipped) = wait_for(&mut c.events, "notifications/message", |e| {
        matches!(e, Event::Log(_))
    })
    .await;
    // The info message comes first in the config: had it been sent, it would be here first.
    let Event::Log(log) = e else { unreachable!() };
    assert_eq!(
        log.level,
        LoggingLevel::Error,
        "only >= warning; skipped {skipped:?}"
    );
    assert_eq!(log.logger.as_deref(), Some("noisy"));
    assert_eq!(log.data, json!({"problem": "loud"}));

    c.client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Debug))
        .await
        .unwrap();
    assert_eq!(only_text(&call(&c.client, "noisy", None).await), "logged");
    let (first, _) = wait_for(&mut c.events, "the info message", |e| {
        matches!(e, Event::Log(_))
    })
    .await;
    let (second, _) = wait_for(&mut c.events, "the error message", |e| {
        matches!(e, Event::Log(_))
    })
    .await;
    let (Event::Log(first), Event::Log(second)) = (first, second) else {
        unreachable!()
    };
    assert_eq!(
        (first.level, first.data),
        (LoggingLevel::Info, json!("quiet detail"))
    );
    assert_eq!(second.level, LoggingLevel::Error);
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn progress_notifications_arrive_during_a_tool_call_with_the_token() {
    let server = start(config()).await;
    let mut c = connect(&server).await;

    let handle = c
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(CallToolRequestParams::new("slow"))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let token = handle.progress_token.clone();
    let first = wait_for(&mut c.events, "the first progress notification", |e| {
        matches!(e, Event::Progress(_))
    })
    .await
    .0;
    let second = wait_for(&mut c.events, "the second progress notification", |e| {
        matches!(e, Event::Progress(_))
    })
    .await
    .0;
    let response = tokio::time::timeout(WAIT, handle.await_response())
        .await
        .expect("tools/call timed out")
        .expect("tools/call failed");
    let ServerResult::CallToolResult(result) = response else {
        panic!("a CallToolResult: {response:?}")
    };
    assert_eq!(only_text(&result), "done");

    let (Event::Progress(p1), Event::Progress(p2)) = (first, second) else {
        unreachable!()
    };
    assert_eq!(p1.progress_token, token);
    assert_eq!(
        (p1.progress, p1.total, p1.message.as_deref()),
        (1.0, Some(2.0), Some("half"))
    );
    assert_eq!(p2.progress_token, token);
    assert_eq!((p2.progress, p2.total, p2.message), (2.0, Some(2.0), None));
    assert!(
        !drain(&mut c.events)
            .iter()
            .any(|e| matches!(e, Event::Progress(_))),
        "exactly two progress notifications"
    );

    c.client.cancel().await.unwrap();
}

/// Progress is streamed when due: the first notification arrives while the call is still
/// running (the second one is 1.5 s later), not buffered with the result.
#[tokio::test]
async fn progress_is_streamed_before_the_call_completes() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    let handle = c
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(CallToolRequestParams::new("stepper"))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let token = handle.progress_token.clone();
    let call = tokio::spawn(handle.await_response());
    let (first, _) = wait_for(&mut c.events, "the first progress notification", |e| {
        matches!(e, Event::Progress(_))
    })
    .await;
    assert!(
        !call.is_finished(),
        "the call had already completed when its first progress arrived"
    );
    let Event::Progress(first) = first else {
        unreachable!()
    };
    assert_eq!(
        (
            &first.progress_token,
            first.progress,
            first.message.as_deref()
        ),
        (&token, 1.0, Some("first"))
    );
    let response = tokio::time::timeout(WAIT, call)
        .await
        .expect("tools/call timed out")
        .unwrap()
        .expect("tools/call failed");
    assert!(matches!(&response, ServerResult::CallToolResult(r) if only_text(r) == "stepped"));
    let (second, _) = wait_for(&mut c.events, "the second progress notification", |e| {
        matches!(e, Event::Progress(_))
    })
    .await;
    let Event::Progress(second) = second else {
        unreachable!()
    };
    assert_eq!(
        (second.progress, second.message.as_deref()),
        (2.0, Some("second"))
    );
    c.client.cancel().await.unwrap();
}

/// The three requests of the `ask` tool, in order, as rmcp's handler received them.
async fn assert_asked(events: &mut mpsc::UnboundedReceiver<Event>) {
    let mut asked = Vec::new();
    for what in ["roots/list", "elicitation/create", "sampling/createMessage"] {
        let (e, _) = wait_for(events, what, |e| matches!(e, Event::Asked(..))).await;
        asked.push(e);
    }
    let Event::Asked(m0, _) = &asked[0] else {
        unreachable!()
    };
    assert_eq!(*m0, "roots/list");
    let Event::Asked(m1, p1) = &asked[1] else {
        unreachable!()
    };
    assert_eq!(*m1, "elicitation/create");
    assert_eq!(p1["message"], "Your name?");
    assert_eq!(
        p1["requestedSchema"]["properties"]["name"]["type"],
        "string"
    );
    let Event::Asked(m2, p2) = &asked[2] else {
        unreachable!()
    };
    assert_eq!(*m2, "sampling/createMessage");
    assert_eq!(p2["messages"][0]["content"]["text"], "Say hi");
    assert_eq!(p2["maxTokens"], 50);
}

/// A 2025 session: the server asks roots, elicitation and sampling over the call's SSE stream,
/// rmcp's handler answers each, and the result is built from the answers.
#[tokio::test]
async fn tool_call_asks_the_client_roots_elicitation_and_sampling() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    let r = call(&c.client, "ask", None).await;
    assert_eq!(
        only_text(&r),
        "root=file:///project name=Ada llm=sampled hi"
    );
    assert_asked(&mut c.events).await;
    c.client.cancel().await.unwrap();
}

/// At 2026-07-28 the same tool answers `input_required`; rmcp fulfils the input requests with
/// its handler and calls again (multi-round-trip requests).
#[tokio::test]
async fn discover_lifecycle_tool_call_with_input_required_rounds() {
    let server = start(config()).await;
    let mut c = connect_modern(&server).await;
    let r = call(&c.client, "ask", None).await;
    assert_eq!(
        only_text(&r),
        "root=file:///project name=Ada llm=sampled hi"
    );
    assert_asked(&mut c.events).await;
    let calls = journaled_methods(&server)
        .iter()
        .filter(|m| *m == "tools/call")
        .count();
    assert_eq!(calls, 2, "one input_required round, then the answer");
    c.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// session end
// ---------------------------------------------------------------------------------------------

fn session_ids(server: &MockServer, method: &str) -> Vec<String> {
    server
        .journal()
        .into_iter()
        .filter(|e| e.service == Some("mcp") && e.method == method)
        .filter_map(|e| {
            e.headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn closing_the_client_deletes_the_session() {
    let server = start(config()).await;
    let c = connect(&server).await;
    assert_eq!(only_text(&call(&c.client, "echo", None).await), "hello");
    let used = session_ids(&server, "POST");
    let session = used.last().cloned().expect("POSTs carry Mcp-Session-Id");
    assert!(used.iter().all(|s| *s == session), "one session: {used:?}");

    c.client.cancel().await.unwrap();

    let deletes: Vec<_> = server
        .journal()
        .into_iter()
        .filter(|e| e.service == Some("mcp") && e.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "one DELETE");
    assert_eq!(
        deletes[0]
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok()),
        Some(session.as_str())
    );
    assert_eq!(deletes[0].response.status, 200);

    // The session is gone: a request on it is 404, which tells a client to initialize again.
    let r = reqwest::Client::new()
        .post(mcp_url(&server))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // A new client gets a new session.
    let c2 = connect(&server).await;
    assert_eq!(only_text(&call(&c2.client, "echo", None).await), "hello");
    let latest = session_ids(&server, "POST").last().cloned().unwrap();
    assert_ne!(latest, session);
    assert_eq!(
        server.mcp(None).unwrap().sessions(),
        std::slice::from_ref(&latest)
    );

    // Dropping the client (no explicit cancel) ends the session too.
    drop(c2);
    support::eventually(async || {
        if session_ids(&server, "DELETE").contains(&latest) {
            Ok(())
        } else {
            Err("no DELETE after dropping the client".to_owned())
        }
    })
    .await;
    assert!(server.mcp(None).unwrap().sessions().is_empty());
}

#[tokio::test]
async fn configured_delay_holds_the_reply_back() {
    let server = start(config()).await;
    let c = connect(&server).await;
    let t0 = std::time::Instant::now();
    assert_eq!(only_text(&call(&c.client, "sleepy", None).await), "awake");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "delayMs 400, answered in {took:?}"
    );
    c.client.cancel().await.unwrap();
}

/// rmcp cancels an in-flight call with `notifications/cancelled`; the server takes it, and the
/// session goes on.
#[tokio::test]
async fn cancelling_a_slow_call_sends_notifications_cancelled() {
    let server = start(config()).await;
    let c = connect(&server).await;
    let handle = c
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(CallToolRequestParams::new("forever"))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let id = serde_json::to_value(&handle.id).unwrap();
    // Wait until the call reached the server before cancelling it.
    support::eventually(async || {
        if journaled_methods(&server).contains(&"tools/call".to_owned()) {
            Ok(())
        } else {
            Err("the call does not reach the server".to_owned())
        }
    })
    .await;
    handle
        .cancel(Some("changed my mind".to_owned()))
        .await
        .unwrap();
    let cancelled = support::eventually(async || {
        let found = server.journal().into_iter().find_map(|e| match &e.body {
            aimock::journal::JournalBody::Json(v) if v["method"] == "notifications/cancelled" => {
                Some(((**v).clone(), e.response.status))
            }
            _ => None,
        });
        found.ok_or_else(|| "notifications/cancelled does not reach the server".to_owned())
    })
    .await;
    assert_eq!(cancelled.0["params"]["requestId"], id);
    assert_eq!(cancelled.0["params"]["reason"], "changed my mind");
    assert_eq!(cancelled.1, 202, "a notification is accepted with 202");
    // The session still answers at once.
    assert_eq!(only_text(&call(&c.client, "echo", None).await), "hello");
    c.client.cancel().await.unwrap();
}

/// The JSON-RPC methods journaled so far, oldest first.
fn journaled_methods(server: &MockServer) -> Vec<String> {
    server
        .journal()
        .into_iter()
        .filter_map(|e| match &e.body {
            aimock::journal::JournalBody::Json(v) => v["method"].as_str().map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// `POST /__aimock/reset` drops run-time tools, call counts and sessions; rmcp sees its session
/// answered 404 and initializes a new one by itself.
#[tokio::test]
async fn reset_ends_sessions_and_rmcp_reinitializes_transparently() {
    let server = start(config()).await;
    let mut c = connect(&server).await;
    wait_for_get_stream(&server).await;
    assert_eq!(only_text(&call(&c.client, "counter", None).await), "one");
    assert_eq!(only_text(&call(&c.client, "counter", None).await), "two");
    control(
        &server,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "temp", "result": "t"})),
    )
    .await;
    wait_for(&mut c.events, "tools/list_changed", |e| {
        *e == Event::ToolsChanged
    })
    .await;
    let old_session = session_ids(&server, "POST").last().cloned().unwrap();
    assert!(server.mcp(None).unwrap().sessions().contains(&old_session));

    let r = reqwest::Client::new()
        .post(format!("{}/__aimock/reset", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(server.mcp(None).unwrap().sessions().is_empty());

    // The next request gets 404 on the old session; rmcp re-initializes and retries.
    let tools = tool_names(
        &tokio::time::timeout(WAIT, c.client.list_all_tools())
            .await
            .expect("tools/list after reset timed out")
            .expect("tools/list after reset"),
    );
    assert!(!tools.contains(&"temp".to_owned()), "{tools:?}");
    assert!(tools.contains(&"echo".to_owned()), "{tools:?}");
    assert_eq!(only_text(&call(&c.client, "counter", None).await), "one");
    let sessions = server.mcp(None).unwrap().sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_ne!(sessions[0], old_session);
    c.client.cancel().await.unwrap();
}

/// Two MCP servers: one at `/mcp`, one at `/mcp-b` that also has a port of its own.
#[tokio::test]
async fn several_mounts_and_an_own_port_are_separate_servers() {
    let a: aimock::config::McpConfig = serde_json::from_value(config()).unwrap();
    let b: aimock::config::McpConfig = serde_json::from_value(json!({
        "path": "/mcp-b",
        "port": 0,
        "serverInfo": {"name": "second", "version": "0.2.0"},
        "tools": [{"name": "only_b", "result": "from b"}]
    }))
    .unwrap();
    let server = MockServer::builder().mcp(a).mcp(b).start().await;
    let own = server
        .own_ports()
        .iter()
        .find(|(p, _)| p == "/mcp-b")
        .map(|(_, addr)| *addr)
        .expect("/mcp-b has a port of its own");

    let mut a_client = connect(&server).await;
    let urls = [
        format!("{}/mcp-b", server.uri()),
        format!("http://{own}/"),
        format!("http://{own}/mcp-b"),
    ];
    for url in &urls {
        let (tx, _events) = mpsc::unbounded_channel();
        let client = Recorder {
            tx,
            info: client_info(None),
        }
        .serve(StreamableHttpClientTransport::from_uri(url.clone()))
        .await
        .unwrap_or_else(|e| panic!("initialize at {url}: {e}"));
        let info = client.peer_info().unwrap();
        assert_eq!(
            info.server_info.as_ref().map(|s| s.name.as_str()),
            Some("second"),
            "{url}"
        );
        assert_eq!(
            tool_names(&client.list_all_tools().await.unwrap()),
            ["only_b"],
            "{url}"
        );
        assert_eq!(only_text(&call(&client, "only_b", None).await), "from b");
        client.cancel().await.unwrap();
    }

    // A change to /mcp-b is not announced to /mcp's sessions: after it and a prompt change on
    // /mcp, the first thing /mcp's client hears is the prompt change.
    wait_for_get_stream(&server).await;
    control(
        &server,
        reqwest::Method::POST,
        "/tools?path=/mcp-b",
        Some(json!({"name": "b2", "result": "x"})),
    )
    .await;
    assert!(tool_names(&a_client.client.list_all_tools().await.unwrap())
        .iter()
        .all(|n| n != "b2"));
    control(
        &server,
        reqwest::Method::POST,
        "/prompts",
        Some(json!({"name": "p2", "result": {"messages": []}})),
    )
    .await;
    let (first, skipped) = wait_for(&mut a_client.events, "a list_changed", |e| {
        matches!(e, Event::ToolsChanged | Event::PromptsChanged)
    })
    .await;
    assert_eq!(first, Event::PromptsChanged, "skipped: {skipped:?}");
    let b = server.mcp(Some("/mcp-b")).expect("the /mcp-b server");
    assert!(b.summary()["tools"]
        .as_array()
        .unwrap()
        .contains(&json!("b2")));
    a_client.client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The 2026-07-28 revision: `server/discover`, stateless requests, `subscriptions/listen`.
// ---------------------------------------------------------------------------------------------

async fn connect_lifecycle(
    server: &MockServer,
    mode: rmcp::service::ClientLifecycleMode,
) -> Connected {
    use rmcp::service::ClientServiceExt;
    let (tx, events) = mpsc::unbounded_channel();
    let recorder = Recorder {
        tx,
        info: client_info(None),
    };
    let transport = StreamableHttpClientTransport::from_uri(mcp_url(server));
    let client = tokio::time::timeout(
        Duration::from_secs(30),
        recorder.serve_with_lifecycle(transport, mode),
    )
    .await
    .expect("startup timed out")
    .expect("startup failed");
    Connected { client, events }
}

async fn connect_modern(server: &MockServer) -> Connected {
    connect_lifecycle(
        server,
        rmcp::service::ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await
}

/// rmcp's `Auto` lifecycle (what the `mcp` 2.x Python client does by default too): probe
/// `server/discover`, and use 2026-07-28 when the server speaks it.
#[tokio::test]
async fn auto_lifecycle_probes_server_discover_and_adopts_2026_07_28() {
    let server = start(config()).await;
    let c = connect_lifecycle(
        &server,
        rmcp::service::ClientLifecycleMode::Auto {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            legacy_version: Some(ProtocolVersion::V_2025_11_25),
        },
    )
    .await;
    let info = c.client.peer_info().expect("peer info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    let methods = journaled_methods(&server);
    assert_eq!(
        methods.first().map(String::as_str),
        Some("server/discover"),
        "{methods:?}"
    );
    assert!(!methods.contains(&"initialize".to_owned()), "{methods:?}");
    assert_eq!(only_text(&call(&c.client, "echo", None).await), "hello");
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn discover_lifecycle_serves_every_method_statelessly() {
    let server = start(config()).await;
    let c = connect_modern(&server).await;
    let info = c.client.peer_info().expect("peer info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    assert_eq!(info.instructions.as_deref(), Some("Use the tools."));
    let caps = &info.capabilities;
    assert_eq!(caps.tools.as_ref().and_then(|t| t.list_changed), Some(true));
    assert_eq!(
        caps.resources.as_ref().and_then(|r| r.subscribe),
        Some(true)
    );
    assert!(caps.completions.is_some());

    // Tools.
    let tools = c.client.list_all_tools().await.unwrap();
    assert_eq!(tool_names(&tools)[..3], ["echo", "kinds", "weather"]);
    assert_eq!(only_text(&call(&c.client, "echo", None).await), "hello");
    let kinds = call(&c.client, "kinds", None).await;
    assert_eq!(kinds.content.len(), 6);
    assert!(kinds.content[2].as_audio().is_some());
    assert!(kinds.content[3].as_resource_link().is_some());
    let r = call(&c.client, "weather", Some(json!({"city": "Oslo", "x": 1}))).await;
    assert_eq!(only_text(&r), "snow");
    let r = call(&c.client, "weather", Some(json!({"city": "Lima"}))).await;
    assert_eq!(r.structured_content, Some(json!({"t": 20})));
    let r = call(&c.client, "weather", Some(json!({"city": "London"}))).await;
    assert_eq!(r.is_error, Some(true));
    let got: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(only_text(&call(&c.client, "counter", None).await));
        }
        v
    };
    assert_eq!(got, ["one", "two", "three", "three"]);
    let e = call_err(&c.client, "no_such_tool", None).await;
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);

    // Resources.
    let read = c
        .client
        .read_resource(ReadResourceRequestParams::new("file:///logs/friday"))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[..], [ResourceContents::TextResourceContents { text, .. }] if text == "log of friday"),
        "{read:?}"
    );
    let templates = c.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "file:///logs/{day}");

    // Prompts and completion.
    let got = c
        .client
        .get_prompt(
            GetPromptRequestParams::new("greet").with_arguments(args(json!({"who": "Lin"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        got.messages[0].content.as_text().map(|t| t.text.as_str()),
        Some("Hello Lin")
    );
    assert_eq!(
        c.client
            .complete_prompt_simple("greet", "who", "b")
            .await
            .unwrap(),
        ["bob"]
    );

    // No session: nothing carried Mcp-Session-Id, and no GET stream was opened.
    assert!(session_ids(&server, "POST").is_empty());
    assert!(!server.journal().iter().any(|e| e.method == "GET"));
    c.client.cancel().await.unwrap();
}

/// A missing resource is `-32002` (resource not found) up to 2025-11-25 and `-32602` (invalid
/// params) from 2026-07-28 on (SEP-2164), as rmcp's own server answers.
#[tokio::test]
async fn resource_not_found_code_follows_the_protocol_version() {
    let server = start(config()).await;
    let legacy = connect(&server).await;
    let e = mcp_error(
        legacy
            .client
            .read_resource(ReadResourceRequestParams::new("file:///missing"))
            .await,
        "resources/read of an unknown URI at 2025-11-25",
    );
    assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND, "{e:?}");
    legacy.client.cancel().await.unwrap();

    let modern = connect_modern(&server).await;
    let e = mcp_error(
        modern
            .client
            .read_resource(ReadResourceRequestParams::new("file:///missing"))
            .await,
        "resources/read of an unknown URI at 2026-07-28",
    );
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
    modern.client.cancel().await.unwrap();
}

#[tokio::test]
async fn listen_delivers_list_changes_and_resource_updates() {
    use rmcp::model::{ServerNotification, SubscriptionFilter};
    let server = start(config()).await;
    let c = connect_modern(&server).await;
    let filter = SubscriptionFilter::builder()
        .tools_list_changed()
        .prompts_list_changed()
        .resource_subscription("file:///readme.md")
        .build();
    let mut sub = tokio::time::timeout(WAIT, c.client.listen(filter.clone()))
        .await
        .expect("subscriptions/listen timed out")
        .expect("subscriptions/listen");
    assert_eq!(sub.acknowledged(), &filter);

    async fn next(sub: &mut rmcp::service::Subscription, what: &str) -> ServerNotification {
        tokio::time::timeout(WAIT, sub.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .unwrap_or_else(|| panic!("the subscription ended before {what}"))
    }

    control(
        &server,
        reqwest::Method::POST,
        "/tools",
        Some(json!({"name": "added", "result": "fresh"})),
    )
    .await;
    let n = next(&mut sub, "tools/list_changed").await;
    assert!(
        matches!(n, ServerNotification::ToolListChangedNotification(_)),
        "{n:?}"
    );
    assert_eq!(only_text(&call(&c.client, "added", None).await), "fresh");

    control(
        &server,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///readme.md", "text": "# New"})),
    )
    .await;
    let n = next(&mut sub, "resources/updated").await;
    match &n {
        ServerNotification::ResourceUpdatedNotification(u) => {
            assert_eq!(u.params.uri, "file:///readme.md");
        }
        other => panic!("expected resources/updated, got {other:?}"),
    }

    // Not asked for: the logo's update and resource list changes. The prompt change that
    // follows them must be the next thing heard.
    control(
        &server,
        reqwest::Method::POST,
        "/resources/update",
        Some(json!({"uri": "file:///logo.png", "blob": "AAAA"})),
    )
    .await;
    control(
        &server,
        reqwest::Method::POST,
        "/resources",
        Some(json!({"uri": "file:///x.txt", "name": "x", "text": "x"})),
    )
    .await;
    control(
        &server,
        reqwest::Method::POST,
        "/prompts",
        Some(json!({"name": "later", "result": {"messages": []}})),
    )
    .await;
    let n = next(&mut sub, "prompts/list_changed").await;
    assert!(
        matches!(n, ServerNotification::PromptListChangedNotification(_)),
        "{n:?}"
    );

    sub.cancel().await.unwrap();
    c.client.cancel().await.unwrap();
}

#[tokio::test]
async fn discover_lifecycle_progress_and_per_request_log_level() {
    let server = start(config()).await;
    let mut c = connect_modern(&server).await;
    let handle = c
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(CallToolRequestParams::new("slow"))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let token = handle.progress_token.clone();
    let response = tokio::time::timeout(WAIT, handle.await_response())
        .await
        .expect("tools/call timed out")
        .expect("tools/call failed");
    assert!(matches!(&response, ServerResult::CallToolResult(r) if only_text(r) == "done"));
    let (p1, _) = wait_for(&mut c.events, "progress 1", |e| {
        matches!(e, Event::Progress(_))
    })
    .await;
    let (p2, _) = wait_for(&mut c.events, "progress 2", |e| {
        matches!(e, Event::Progress(_))
    })
    .await;
    let (Event::Progress(p1), Event::Progress(p2)) = (p1, p2) else {
        unreachable!()
    };
    assert_eq!(
        (&p1.progress_token, p1.progress, p1.total),
        (&token, 1.0, Some(2.0))
    );
    assert_eq!((&p2.progress_token, p2.progress), (&token, 2.0));

    // The log level travels in each request's `_meta` at 2026-07-28.
    let mut meta = rmcp::model::RequestMetaObject::new();
    meta.set_log_level(LoggingLevel::Warning);
    let handle = c
        .client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(CallToolRequestParams::new("noisy"))),
            {
                let mut o = PeerRequestOptions::no_options();
                o.meta = Some(meta);
                o
            },
        )
        .await
        .unwrap();
    let response = tokio::time::timeout(WAIT, handle.await_response())
        .await
        .expect("tools/call timed out")
        .expect("tools/call failed");
    assert!(matches!(&response, ServerResult::CallToolResult(r) if only_text(r) == "logged"));
    let (e, skipped) = wait_for(&mut c.events, "a log message", |e| {
        matches!(e, Event::Log(_))
    })
    .await;
    let Event::Log(log) = e else { unreachable!() };
    assert_eq!(log.level, LoggingLevel::Error, "skipped {skipped:?}");
    assert_eq!(log.data, json!({"problem": "loud"}));
    c.client.cancel().await.unwrap();
}

/// The Rust API of `aimock::mcp::McpServer` used above, in one place so a rename is one edit.
mod mcp_rust_api {
    use aimock::mcp::McpServer;
    use serde_json::Value;

    pub(super) fn add_tool(mcp: &McpServer, tool: Value) {
        let tool = serde_json::from_value(tool).expect("a tool");
        mcp.add_tool(tool).expect("the tool is accepted");
    }

    pub(super) fn update_resource_text(mcp: &McpServer, uri: &str, text: &str) {
        assert!(
            mcp.update_resource(uri, Some(text.to_owned()), None),
            "{uri} is a resource"
        );
    }
}
