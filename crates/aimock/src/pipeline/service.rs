//! What a mounted service (MCP, A2A, AG-UI, the vector databases) gets for a request under its
//! path: [`ServiceRequest`]. A service reads its own body (bounded by the server's limit),
//! writes its own journal entry (with `service` set) and builds its own response; CORS,
//! `x-request-id`, the API-key check, chaos and the request metrics are the server's, as for
//! every route.

use axum::body::{Body, Bytes};
use http::{HeaderMap, Method};

use super::Core;
use crate::http::BodyError;
use crate::journal::{EntryHandle, JournalBody, JournalEntry};

/// A request for a mounted service.
#[derive(Debug)]
pub(crate) struct ServiceRequest {
    /// HTTP method.
    pub(crate) method: Method,
    /// The path below the mount: `""` for the mount itself, else starting with `/`.
    pub(crate) rest: String,
    /// The mount path as served (`/mcp`; `""` at the root of a port of its own).
    pub(crate) mount: String,
    /// Path and query as received (for the journal).
    pub(crate) raw_path: String,
    /// The query string.
    pub(crate) query: Option<String>,
    /// Request headers.
    pub(crate) headers: HeaderMap,
    /// The body, unread.
    pub(crate) body: Body,
}

impl ServiceRequest {
    /// The body, at most the server's `max_body_bytes`.
    pub(crate) async fn bytes(&mut self, core: &Core) -> Result<Bytes, BodyError> {
        let body = std::mem::take(&mut self.body);
        crate::http::read_limited(&self.headers, body, core.max_body_bytes()).await
    }

    /// `http://host:port` + the mount path, from the `Host` header (what a client used to reach
    /// us, so a URL built from it works from that client).
    pub(crate) fn base_url(&self) -> String {
        let host = self
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}{}", self.mount)
    }

    /// Write a journal entry for this request, tagged with `service`; the handle updates it later
    /// (a stream's end, a status known only after the body was read).
    pub(crate) fn journal(
        &self,
        core: &Core,
        service: &'static str,
        body: JournalBody,
        status: u16,
    ) -> EntryHandle {
        let mut e = JournalEntry::new(
            self.method.as_str(),
            &self.raw_path,
            self.headers.clone(),
            body,
        );
        e.service = Some(service);
        e.response.status = status;
        e.response.source = Some("fixture");
        core.journal.record(e)
    }
}
