//! Google Gemini and Vertex AI (Gemini models): generateContent, streamGenerateContent, embedContent, batchEmbedContents, countTokens.

use http::Method;

use super::Route;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(_method: &Method, _path: &str) -> Option<Route> {
    None
}
