//! An AG-UI agent. (Stub: being written.)

pub mod config;

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};

use crate::server::mounts::ServiceRequest;
use crate::server::AppState;

pub use config::AguiConfig;

/// An AG-UI agent.
#[derive(Debug)]
pub struct AguiServer {
    config: AguiConfig,
}

impl AguiServer {
    /// Build it from its configuration; an error says what in it is wrong.
    pub fn new(config: AguiConfig) -> Result<Arc<AguiServer>, String> {
        Ok(Arc::new(AguiServer { config }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &AguiConfig {
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

/// `/__aimock/agui/...`: run-time changes. `sub` is the path after `/__aimock/agui`.
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
        &serde_json::json!({ "error": format!("Unknown control endpoint: {method} /__aimock/agui{sub}") }),
    )
}
