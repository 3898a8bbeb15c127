//! OpenRouter: `/api/v1/chat/completions` with its differences from OpenAI and `models[]` fail-over, and its discovery routes.

use http::Method;

use super::Route;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(_method: &Method, _path: &str) -> Option<Route> {
    None
}
