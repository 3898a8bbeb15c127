//! `aimock.json`'s `vector` section.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `vector`: Pinecone, Qdrant and ChromaDB mocks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorConfig {
    /// Mount path (aimock: `/vector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Serve on a port of its own as well (at the root and at `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The collections.
    #[serde(default)]
    pub collections: Vec<VectorCollection>,
}

/// `vector.collections[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorCollection {
    /// Collection name.
    pub name: String,
    /// Vector dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<usize>,
    /// `{id, values, metadata}` stored vectors.
    #[serde(default)]
    pub vectors: Vec<Value>,
    /// `{id, score, metadata, values}` returned by every query.
    #[serde(default)]
    pub query_results: Vec<Value>,
}
