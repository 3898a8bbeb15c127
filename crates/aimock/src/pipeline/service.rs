//! The contract of a mounted service (MCP, A2A, AG-UI, the vector databases): what it is
//! ([`Surface`]: its kind, where it mounts, which one a control request means), and what it does
//! ([`MountedService`]: answer a request under its path, its control API, its error envelope,
//! reset). The server holds services as `dyn MountedService` and never names one; a new surface
//! is its module, its impl of the trait, and one line where the server builds mounts.
//!
//! A request under a mount path arrives as a [`ServiceRequest`]. A service reads its own body
//! (bounded by the server's limit), writes its own journal entry (with `service` set) and builds
//! its own response; CORS, `x-request-id`, the API-key check, chaos and the request metrics are
//! the server's, as for every route. A service sees the [`Core`], never the server.

use std::any::Any;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method};

use super::Core;
use crate::http::{ApiError, BodyError, ControlRequest};
use crate::journal::{EntryHandle, JournalBody, JournalEntry};

/// A kind of mounted service, known before any is built.
#[derive(Debug)]
pub(crate) struct Surface {
    /// `mcp`, `a2a`, `agui`, `vector`: the configuration section, the journal's `service`, the
    /// control API's `/__aimock/<kind>`.
    pub(crate) kind: &'static str,
    /// What one is called in messages (`MCP server`).
    pub(crate) noun: &'static str,
    /// Its path when its configuration names none (`/mcp`).
    pub(crate) default_path: &'static str,
    /// Which one a control request without `?path=` is about.
    pub(crate) control_default: ControlDefault,
    /// Paths at the root of the main port it serves besides its mount (the first service of the
    /// kind answers them): A2A's well-known agent card, the vector databases' own paths.
    pub(crate) serves_at_root: fn(&str) -> bool,
}

/// Which service of a kind a control request naming no `?path=` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ControlDefault {
    /// The first configured.
    First,
    /// The one at the kind's default path, else the first configured.
    DefaultPathThenFirst,
    /// The only one; of several, the one at the default path, else the request must name one.
    OnlyOrDefaultPath,
}

/// What a service's `handle` returns: its answer, later.
pub(crate) type Handled<'a> = BoxFuture<'a, Response>;

/// A mounted service: MCP servers, A2A agents, AG-UI agents, vector databases.
///
/// Its kind ([`Surface`]) and where it is mounted are the server's, known from the table that
/// built it.
pub(crate) trait MountedService: Any + Send + Sync + std::fmt::Debug {
    /// Answer a request under its path.
    fn handle(self: Arc<Self>, core: &Arc<Core>, req: ServiceRequest) -> Handled<'_>;

    /// Answer `/__aimock/<kind>/...` (`req.sub` is what follows); the body is already read and
    /// parsed.
    fn control(&self, req: &ControlRequest) -> Response;

    /// An error in its own envelope, for a request under its path (chaos's drop and rate
    /// limit): the error's status, and a 429's rate-limit headers.
    fn error(&self, e: &ApiError, req: &ServiceRequest) -> Response;

    /// Back to the configured state: run-time additions, sessions, tasks and counters go.
    fn reset(&self);

    /// Its entry in `GET /health`, with aimock's fields (`{status, tools, resources, prompts,
    /// sessions}` for MCP, `{status, agents, tasks}` for A2A, `{status, fixtures}` for AG-UI,
    /// `{status, collections}` for vector databases), counts all.
    fn health(&self) -> serde_json::Value;

    /// Told once, when mounted: turns true when the server begins a graceful shutdown (streams
    /// that never end on their own end then).
    fn shutdown_on(&self, _signal: tokio::sync::watch::Receiver<bool>) {}
}

/// `/x/` and `x` become `/x`; `/` becomes `` (the root).
pub(crate) fn clean_mount_path(p: &str) -> String {
    let t = p.trim().trim_end_matches('/');
    if t.is_empty() {
        String::new()
    } else if t.starts_with('/') {
        t.to_owned()
    } else {
        format!("/{t}")
    }
}

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
