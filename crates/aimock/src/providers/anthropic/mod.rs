//! Anthropic Messages (`/v1/messages`, `count_tokens`) and Anthropic models on Vertex AI (`:rawPredict`, `:streamRawPredict`).

use http::Method;

use super::Route;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(_method: &Method, _path: &str) -> Option<Route> {
    None
}
