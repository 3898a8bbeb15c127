//! `aimock.json`'s `a2a` section.

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
    /// Skills, as in the agent card.
    #[serde(default)]
    pub skills: Vec<Value>,
    /// Capabilities, as in the agent card (`{streaming}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Value>,
    /// `{pattern, parts}`: reply with a message when the text contains `pattern`.
    #[serde(default)]
    pub messages: Vec<Value>,
    /// `{pattern, artifacts}`: reply with a completed task.
    #[serde(default)]
    pub tasks: Vec<Value>,
    /// `{pattern, events, delayMs}`: stream task events.
    #[serde(default)]
    pub streaming_tasks: Vec<Value>,
}
