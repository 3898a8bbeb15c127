//! Cohere v2: `/v2/chat` (JSON and typed SSE) and `/v2/embed`.

use http::Method;

use super::Route;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(_method: &Method, _path: &str) -> Option<Route> {
    None
}
