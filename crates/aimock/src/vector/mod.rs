//! Vector databases: an in-memory engine with exact nearest-neighbour search, behind the Qdrant,
//! Pinecone and Chroma APIs. (The APIs: being written.)

pub mod config;
pub mod engine;

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};

use crate::server::mounts::ServiceRequest;
use crate::server::AppState;

pub use config::VectorConfig;

/// Whether a path at the root of the main port is a vector database's own path (Qdrant's
/// `/collections`, Chroma's `/api/v1`/`/api/v2`, Pinecone's `/indexes`, ...), served by the first
/// vector service.
pub(crate) fn serves_at_root(_path: &str) -> bool {
    false
}

/// Vector databases over one in-memory store.
#[derive(Debug)]
pub struct VectorServer {
    config: VectorConfig,
}

impl VectorServer {
    /// Build it from its configuration; an error says what in it is wrong.
    pub fn new(config: VectorConfig) -> Result<Arc<VectorServer>, String> {
        Ok(Arc::new(VectorServer { config }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &VectorConfig {
        &self.config
    }

    pub(crate) async fn handle(
        self: &Arc<Self>,
        _state: &Arc<AppState>,
        _req: ServiceRequest,
    ) -> Response {
        crate::server::json_response(
            StatusCode::NOT_IMPLEMENTED,
            &serde_json::json!({"error": "not served yet"}),
        )
    }

    /// Back to the configured state.
    pub fn reset(&self) {}
}

/// `/__aimock/vector/...`: run-time changes. `sub` is the path after `/__aimock/vector`.
pub(crate) async fn control(
    _state: &Arc<AppState>,
    method: &Method,
    sub: &str,
    _query: Option<&str>,
    _headers: HeaderMap,
    _body: Body,
) -> Response {
    crate::server::json_response(
        StatusCode::NOT_FOUND,
        &serde_json::json!({ "error": format!("Unknown control endpoint: {method} /__aimock/vector{sub}") }),
    )
}
