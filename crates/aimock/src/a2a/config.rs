//! `aimock.json`'s `a2a` section.
//!
//! ```json
//! {"a2a": {"path": "/a2a", "agents": [{
//!   "name": "travel", "path": "/travel", "protocolVersions": ["1.0", "0.3"],
//!   "skills": [{"id": "book", "name": "Book", "tags": ["travel"]}],
//!   "capabilities": {"streaming": true, "pushNotifications": true},
//!   "messages": [{"pattern": "hello", "parts": [{"text": "Hi!"}]}],
//!   "tasks": [
//!     {"pattern": "book a flight", "state": "input-required", "statusMessage": "Where to?"},
//!     {"pattern": "Paris", "contextContains": "book a flight", "artifacts": [{"name": "ticket", "parts": [{"text": "CDG"}]}]}
//!   ],
//!   "streamingTasks": [{"pattern": {"regex": "^research"}, "delayMs": 100, "events": [
//!     {"type": "status", "state": "working"},
//!     {"type": "artifact", "name": "report", "parts": [{"text": "part 1"}]},
//!     {"type": "artifact", "name": "report", "parts": [{"text": "part 2"}], "append": true, "lastChunk": true, "delayMs": 300},
//!     {"type": "status", "state": "completed"}
//!   ]}]
//! }]}}
//! ```
//!
//! Matching: the text parts of the incoming message, joined with a space, are tested against
//! `pattern` (a string is a case-sensitive substring, `{"regex": "..."}` a regular expression; no
//! pattern matches everything). The string `".*"` alone matches everything too: aimock would take
//! it as a substring that hardly ever occurs (its `full-suite.json` example uses it), but whoever
//! wrote it meant "anything". A fixture may also require things of the conversation so far (the
//! earlier messages with the same `contextId`, user and agent alike):
//! - `contextContains`: some earlier message's text contains this substring;
//! - `turn`: this is the n-th user message of the context (1 for the first);
//! - `previousReply`: the agent's last reply in the context (a message, or a task's status
//!   message or artifacts) contains this substring.
//!
//! Fixtures are tried `messages`, then `tasks`, then `streamingTasks`, each in order; the first
//! that matches answers (put the more specific ones first). A streaming request
//! (`SendStreamingMessage`, `message/stream`) tries `streamingTasks` first, as aimock (which
//! tries only those) does, then the others.
//!
//! A task that ends in `input-required` or `auth-required` waits: the next message naming it (its
//! `taskId`, or only its `contextId`) continues the same task, answered by whichever fixture
//! matches that message (typically one with `contextContains`). Events after a final state
//! (completed, failed, canceled, rejected, input-required, auth-required) are not sent; a
//! streaming task whose events end in no final state completes. At the mount URL (the default agent) fixtures of the other agents are tried
//! after the default agent's own.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `a2a`: Agent-to-Agent agents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A2aConfig {
    /// Mount path (aimock: `/a2a`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Serve on a port of its own as well (at the root and at `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The agents.
    #[serde(default)]
    pub agents: Vec<A2aAgent>,
    /// At most this many tasks are kept (10,000 by default); a new task pushes out the least
    /// recently updated one, a finished one first. Clients create tasks at will, so the store
    /// is bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tasks: Option<usize>,
    /// At most this many conversations (`contextId`s) are remembered for matching (10,000 by
    /// default); a new one pushes out the least recently used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_contexts: Option<usize>,
}

/// `a2a.agents[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A2aAgent {
    /// Agent name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the agent is served, below the mount (`/travel` → `<mount>/travel`). Every agent is
    /// also served at `<mount>/<name>`, and the first agent at the mount itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Protocol versions the agent card advertises (`"1.0"`, `"0.3"`); both by default. A card
    /// naming only `0.3` makes clients use the older `message/send` methods. The server answers
    /// both generations whatever the card says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_versions: Option<Vec<String>>,
    /// Skills, as in the agent card (`id`, `name`, `description`, `tags` get defaults).
    #[serde(default)]
    pub skills: Vec<Value>,
    /// Capabilities, as in the agent card (`{streaming, pushNotifications}`, both true by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Value>,
    /// `defaultInputModes` of the card (`["text/plain"]` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_input_modes: Option<Vec<String>>,
    /// `defaultOutputModes` of the card (`["text/plain"]` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_output_modes: Option<Vec<String>>,
    /// `{pattern, parts}`: reply with a message.
    #[serde(default)]
    pub messages: Vec<A2aMessageFixture>,
    /// `{pattern, artifacts, state}`: reply with a task.
    #[serde(default)]
    pub tasks: Vec<A2aTaskFixture>,
    /// `{pattern, events, delayMs}`: a task whose events are streamed.
    #[serde(default)]
    pub streaming_tasks: Vec<A2aStreamingTaskFixture>,
}

/// A pattern: a substring, or `{"regex": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum A2aPattern {
    /// Case-sensitive substring.
    Text(String),
    /// A regular expression.
    Regex {
        /// The expression (Rust `regex` syntax).
        regex: String,
    },
}

/// What a fixture requires of the conversation, besides its pattern.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A2aMatch {
    /// Tested against the message's text parts, joined with a space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<A2aPattern>,
    /// An earlier message of the same context contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_contains: Option<String>,
    /// The n-th user message of the context (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    /// The agent's last reply in the context contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_reply: Option<String>,
}

/// `messages[]`: answer with a message (or, with `error`, a JSON-RPC error).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A2aMessageFixture {
    /// When it applies.
    #[serde(flatten)]
    pub when: A2aMatch,
    /// The reply's parts (`{text}`, `{data}`, `{url, mediaType}`, `{raw}`, or v0.3 `{kind, ...}`).
    #[serde(default)]
    pub parts: Vec<Value>,
    /// Answer with this JSON-RPC error instead: `{code, message, data?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// `tasks[]`: answer with a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A2aTaskFixture {
    /// When it applies.
    #[serde(flatten)]
    pub when: A2aMatch,
    /// Artifacts: `{name?, artifactId?, description?, parts}`.
    #[serde(default)]
    pub artifacts: Vec<Value>,
    /// Final state: `completed` (default), `failed`, `rejected`, `canceled`, `input-required`,
    /// `auth-required` (or the `TASK_STATE_*` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The status message: a string, or a list of parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<Value>,
    /// The task works this long (milliseconds) before its artifacts and final state come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

/// `streamingTasks[]`: a task built by events over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct A2aStreamingTaskFixture {
    /// When it applies.
    #[serde(flatten)]
    pub when: A2aMatch,
    /// `{type: "status", state, message?}` or `{type: "artifact", name?, artifactId?, parts,
    /// append?, lastChunk?}`, each with an optional `delayMs` of its own.
    #[serde(default)]
    pub events: Vec<Value>,
    /// Wait before each event, in milliseconds (an event's own `delayMs` wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}
