//! `aimock.json`'s `vector` section.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `vector`: Pinecone, Qdrant and ChromaDB mocks over one in-memory store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorConfig {
    /// Mount path (aimock: `/vector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Serve on a port of its own as well (at the root and at `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The collections (Qdrant collections, Pinecone indexes, Chroma collections: one store).
    #[serde(default)]
    pub collections: Vec<VectorCollection>,
}

/// `vector.collections[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorCollection {
    /// Collection name.
    pub name: String,
    /// Vector dimension (else fixed by the first vector stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<usize>,
    /// How vectors compare: `cosine` (default), `dot` (`dotproduct`, `ip`), `euclidean`
    /// (`euclid`, `l2`) or `manhattan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Stored vectors: `{id, values, metadata, document?, namespace?}` (Qdrant's `vector` and
    /// `payload` are accepted for `values` and `metadata`).
    #[serde(default)]
    pub vectors: Vec<Value>,
    /// `{id, score, metadata?, values?}`: when set, every query of the collection returns these
    /// (cut to the query's top-k) instead of searching. Or, beyond aimock, `{"callback": ...}`:
    /// an HTTP endpoint computes each query's matches (see [`crate::callback`]).
    #[serde(default)]
    pub query_results: QueryResults,
}

/// `vector.collections[].queryResults`: canned matches, or a callback that computes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueryResults {
    /// Every query returns these (an empty list: queries search).
    List(Vec<Value>),
    /// Every query is answered by this callback (`"http://..."` or `{"url", "timeoutMs"}`),
    /// POSTed `{"kind": "vector.query", "collection", "vector", "topK", "filter"}`; it answers
    /// `{"matches": [{"id", "score", "metadata"?}]}` or the bare list.
    Handler {
        /// The callback.
        callback: Value,
    },
}

impl Default for QueryResults {
    fn default() -> Self {
        QueryResults::List(Vec::new())
    }
}

impl From<Vec<Value>> for QueryResults {
    fn from(v: Vec<Value>) -> Self {
        QueryResults::List(v)
    }
}
