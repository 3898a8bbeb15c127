//! Ollama: `/api/chat`, `/api/generate` (NDJSON by default), `/api/embed`, `/api/embeddings`, `/api/tags`, `/api/show`.

use http::Method;

use super::Route;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(_method: &Method, _path: &str) -> Option<Route> {
    None
}
