//! `aimock.json`'s `services` section.

use serde::{Deserialize, Serialize};

/// `services`: catch-all fixtures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicesConfig {
    /// Search returns empty results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<bool>,
    /// Rerank returns empty results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank: Option<bool>,
    /// Moderation returns unflagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderate: Option<bool>,
}
