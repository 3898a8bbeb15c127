//! An MCP server (Streamable HTTP). (Stub: being written.)

pub mod config;

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};

use crate::server::mounts::ServiceRequest;
use crate::server::AppState;

pub use config::McpConfig;

/// An MCP server (Streamable HTTP).
#[derive(Debug)]
pub struct McpServer {
    config: McpConfig,
}

impl McpServer {
    /// Build it from its configuration; an error says what in it is wrong.
    pub fn new(config: McpConfig) -> Result<Arc<McpServer>, String> {
        Ok(Arc::new(McpServer { config }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &McpConfig {
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

/// `/__aimock/mcp/...`: run-time changes. `sub` is the path after `/__aimock/mcp`.
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
        &serde_json::json!({ "error": format!("Unknown control endpoint: {method} /__aimock/mcp{sub}") }),
    )
}
