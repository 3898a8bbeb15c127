//! `aimock.json`'s `mcp` section. See the example in [`crate::mcp`]'s module documentation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `mcp`: a Model Context Protocol server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpConfig {
    /// Mount path (aimock: `/mcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Serve on a port of its own as well (at the root and at `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `{name, version}` reported on initialize (default `{name: "mcp-mock", version: "1.0.0"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<McpServerInfo>,
    /// `instructions` reported on initialize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Items per page of `tools/list`, `resources/list`, `resources/templates/list` and
    /// `prompts/list` (none: everything on one page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<usize>,
    /// Tools.
    #[serde(default)]
    pub tools: Vec<McpTool>,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<McpResource>,
    /// Resource templates (`resources/templates/list`); a read of a URI matching one answers
    /// with its `text`/`blob`, `{var}` replaced by the URI's value.
    #[serde(default)]
    pub resource_templates: Vec<McpResourceTemplate>,
    /// Prompts.
    #[serde(default)]
    pub prompts: Vec<McpPrompt>,
    /// Answers to `completion/complete`.
    #[serde(default)]
    pub completions: Vec<McpCompletion>,
}

/// `mcp.serverInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpServerInfo {
    /// Server name.
    #[serde(default)]
    pub name: String,
    /// Server version.
    #[serde(default)]
    pub version: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `mcp.tools[]`: a tool, with its default reply and replies chosen by the call's arguments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpTool {
    /// Tool name.
    pub name: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (default `{"type": "object"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// JSON Schema of `structuredContent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Tool annotations (`readOnlyHint`, ...), passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    /// Replies chosen by the arguments: the first whose `match` holds answers; when none does,
    /// the tool's own reply fields below answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<McpToolReply>,
    /// The default reply.
    #[serde(flatten)]
    pub reply: McpReply,
}

/// `mcp.tools[].replies[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpToolReply {
    /// When this reply answers (none: always).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<McpArgsMatch>,
    /// The reply.
    #[serde(flatten)]
    pub reply: McpReply,
}

/// Which arguments a reply answers. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpArgsMatch {
    /// The arguments equal this object exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<Map<String, Value>>,
    /// The arguments contain these keys with these values (objects compared as subsets too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<Map<String, Value>>,
    /// Argument name → regular expression its value matches (non-strings as JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<BTreeMap<String, String>>,
}

/// What a tool call answers.
///
/// `result` is a string (one text item), a list of content items (`text`, `image`, `audio`,
/// `resource_link`, `resource`), or a whole `CallToolResult` object (`{content,
/// structuredContent?, isError?}`). `results` is a sequence: the nth call gets the nth entry
/// and the last repeats. `error` answers with a JSON-RPC error instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpReply {
    /// The result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// A sequence of results (nth call → nth entry, the last repeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<Value>>,
    /// `structuredContent` of the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Mark the result `isError: true` (a tool failure the model sees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Answer with this JSON-RPC error instead of a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<McpError>,
    /// Wait this long before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Progress notifications sent first (when the call has a `progressToken`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<McpProgress>,
    /// Log messages (`notifications/message`) sent first, at or above the session's level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<McpLog>,
    /// Requests sent to the client before answering, one after the other, each answer awaited
    /// (`sampling/createMessage`, `elicitation/create`, `roots/list`; sessions of the 2025
    /// revisions). `{{responses.N.path}}` in the result's texts is replaced by the value at
    /// `path` (dot-separated) in the Nth answer's result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<McpClientRequest>,
    /// How long to wait for each answer (default 30000 ms); then the call fails (-32603).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_ms: Option<u64>,
    /// Beyond aimock: the result is computed per call by an HTTP endpoint (`"http://..."` or
    /// `{"url", "timeoutMs"}`), POSTed `{"kind": "mcp.tool", "name", "arguments"}`; it answers
    /// with a `CallToolResult` (anything else is one text item). See [`crate::callback`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Value>,
}

/// A request the server sends the client during a tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpClientRequest {
    /// The method (`sampling/createMessage`, `elicitation/create`, `roots/list`, ...).
    pub method: String,
    /// Its params.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

/// A JSON-RPC error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpError {
    /// Error code (default -32603).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// One `notifications/progress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpProgress {
    /// Progress so far.
    pub progress: f64,
    /// Total, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wait this long before sending it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

/// One `notifications/message`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpLog {
    /// `debug`, `info`, `notice`, `warning`, `error`, `critical`, `alert` or `emergency`.
    pub level: String,
    /// Logger name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The data (any JSON).
    #[serde(default)]
    pub data: Value,
}

/// `mcp.resources[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpResource {
    /// Resource URI.
    pub uri: String,
    /// Name (default: the URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Size in bytes, as listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Annotations, passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    /// Text content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Base64 content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

/// `mcp.resourceTemplates[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpResourceTemplate {
    /// RFC 6570 template (`file:///logs/{day}`); simple `{var}` expressions match on read.
    pub uri_template: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Text of a read, `{var}` replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Base64 content of a read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

/// `mcp.prompts[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpPrompt {
    /// Prompt name.
    pub name: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Arguments (`{name, description, required}`); a missing required one is -32602.
    #[serde(default)]
    pub arguments: Vec<Value>,
    /// What `prompts/get` returns (`{description?, messages: [...]}`); `{{arg}}` in a text is
    /// replaced by the argument's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

/// `mcp.completions[]`: values offered for one argument of a prompt or resource template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpCompletion {
    /// `{type: "ref/prompt", name}` or `{type: "ref/resource", uri}`.
    #[serde(rename = "ref")]
    pub reference: Value,
    /// The argument's name.
    pub argument: String,
    /// Candidate values; those starting with the typed value are offered.
    #[serde(default)]
    pub values: Vec<String>,
}
