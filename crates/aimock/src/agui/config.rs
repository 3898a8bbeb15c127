//! `aimock.json`'s `agui` section.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `agui`: an AG-UI agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AguiConfig {
    /// Mount path (aimock: `/agui`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Serve on a port of its own as well (at the root and at `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Fixtures, first match wins: `{match: {message?, toolCallId?, toolName?, stateKey?},
    /// events? | text? | toolCall(s)? | reasoning? | stateSnapshot? | stateDelta? |
    /// messagesSnapshot? | error?, delayMs?}`; `message` is a substring or `{"regex": "...",
    /// "flags"?: "i"}`. Checked when the server is built (see [`crate::agui::AguiFixture`]).
    #[serde(default)]
    pub fixtures: Vec<Value>,
}
