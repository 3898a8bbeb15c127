//! The CORS headers every answer carries, so a browser client can call the mock directly.

use http::{header, HeaderMap, HeaderValue};

/// Add the CORS headers (replacing any the answer set).
pub(crate) fn add(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    // `*` does not cover `Authorization` in a browser's preflight check: name it.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*, Authorization"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Total-Count, X-Request-Id, Mcp-Session-Id"),
    );
}

/// Whether an answer already carries them (it was built from a template that has them).
pub(crate) fn present(h: &HeaderMap) -> bool {
    h.get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .is_some_and(|v| v == "X-Total-Count, X-Request-Id, Mcp-Session-Id")
}
