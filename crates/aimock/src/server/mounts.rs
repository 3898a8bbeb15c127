//! Mounted services: MCP servers, A2A agents and AG-UI agents, each under a path of the main port
//! (`/mcp`, `/a2a`, `/agui` by default) and, when its section names a `port`, on a port of its own
//! as well, where it answers at the root and at its path.
//!
//! The route table hands a request whose path is a mount path, or below one, to that service with
//! a [`ServiceRequest`]. A service reads its own body, writes its own journal entry (with
//! `service` set) and builds its own response; CORS, `x-request-id`, the API-key check and the
//! request metrics are the dispatcher's, as for every route.

use std::sync::Arc;

use axum::response::Response;

use super::ServerConfig;
use crate::http::ApiError;
use crate::journal::{JournalBody, JournalEntry};
use crate::pipeline::{ChaosDecision, Core, ServiceRequest};

/// One mounted service.
#[derive(Debug, Clone)]
pub enum Service {
    /// An MCP server.
    Mcp(Arc<crate::mcp::McpServer>),
    /// A set of A2A agents.
    A2a(Arc<crate::a2a::A2aServer>),
    /// An AG-UI agent.
    Agui(Arc<crate::agui::AguiServer>),
    /// Vector databases (Qdrant, Pinecone, Chroma APIs over one store).
    Vector(Arc<crate::vector::VectorServer>),
}

impl Service {
    /// `mcp`, `a2a` or `agui`: the journal's `service`.
    pub fn kind(&self) -> &'static str {
        match self {
            Service::Mcp(_) => "mcp",
            Service::A2a(_) => "a2a",
            Service::Agui(_) => "agui",
            Service::Vector(_) => "vector",
        }
    }

    pub(crate) async fn handle(&self, state: &Arc<Core>, req: ServiceRequest) -> Response {
        match self {
            Service::Mcp(s) => s.handle(state, req).await,
            Service::A2a(s) => s.handle(state, req).await,
            Service::Agui(s) => s.handle(state, req).await,
            Service::Vector(s) => s.handle(state, req).await,
        }
    }

    /// Back to the configured state: run-time additions, sessions, tasks and counters go.
    pub fn reset(&self) {
        match self {
            Service::Mcp(s) => s.reset(),
            Service::A2a(s) => s.reset(),
            Service::Agui(s) => s.reset(),
            Service::Vector(s) => s.reset(),
        }
    }
}

/// A service and where it is served.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The path on the main port, without a trailing slash (`/mcp`).
    pub path: String,
    /// The same, for the metrics' `path` label (made once per mount when the server is built).
    pub label: &'static str,
    /// A port of its own, when configured (0: any free port).
    pub port: Option<u16>,
    /// Its place in the configuration (services of one kind are found in this order).
    pub order: usize,
    /// The service.
    pub service: Service,
}

/// Every mounted service, longest path first so `/mcp/b` wins over `/mcp`.
#[derive(Debug, Default)]
pub struct Mounts {
    mounts: Vec<Arc<Mount>>,
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

impl Mounts {
    /// The services a configuration names. Two services at one path, or a service whose own
    /// configuration is invalid, is an error naming it.
    pub fn build(
        config: &ServerConfig,
        shutdown: &tokio::sync::watch::Receiver<bool>,
    ) -> Result<Mounts, String> {
        let mut mounts = Vec::new();
        for (i, c) in config.mcp.iter().enumerate() {
            let s = crate::mcp::McpServer::new(c.clone()).map_err(|e| format!("mcp[{i}]: {e}"))?;
            s.set_shutdown(shutdown.clone());
            mounts.push(Mount {
                path: clean_mount_path(c.path.as_deref().unwrap_or("/mcp")),
                label: "",
                order: i,
                port: c.port,
                service: Service::Mcp(s),
            });
        }
        for (i, c) in config.a2a.iter().enumerate() {
            let s = crate::a2a::A2aServer::new(c.clone()).map_err(|e| format!("a2a[{i}]: {e}"))?;
            mounts.push(Mount {
                path: clean_mount_path(c.path.as_deref().unwrap_or("/a2a")),
                label: "",
                order: i,
                port: c.port,
                service: Service::A2a(s),
            });
        }
        for (i, c) in config.agui.iter().enumerate() {
            let s =
                crate::agui::AguiServer::new(c.clone()).map_err(|e| format!("agui[{i}]: {e}"))?;
            mounts.push(Mount {
                path: clean_mount_path(c.path.as_deref().unwrap_or("/agui")),
                label: "",
                order: i,
                port: c.port,
                service: Service::Agui(s),
            });
        }
        for (i, c) in config.vector.iter().enumerate() {
            let s = crate::vector::VectorServer::new(c.clone())
                .map_err(|e| format!("vector[{i}]: {e}"))?;
            mounts.push(Mount {
                path: clean_mount_path(c.path.as_deref().unwrap_or("/vector")),
                label: "",
                order: i,
                port: c.port,
                service: Service::Vector(s),
            });
        }
        for (i, m) in mounts.iter().enumerate() {
            if m.path.is_empty() || m.path == "/__aimock" || m.path.starts_with("/__aimock/") {
                return Err(format!(
                    "a {} service cannot be mounted at `{}`",
                    m.service.kind(),
                    if m.path.is_empty() { "/" } else { &m.path }
                ));
            }
            if let Some(other) = mounts[..i].iter().find(|o| o.path == m.path) {
                return Err(format!(
                    "{} and {} are both mounted at `{}`",
                    other.service.kind(),
                    m.service.kind(),
                    m.path
                ));
            }
        }
        mounts.sort_by_key(|m| std::cmp::Reverse(m.path.len()));
        for m in &mut mounts {
            // One small string per configured service, for as long as the process runs.
            m.label = Box::leak(m.path.clone().into_boxed_str());
        }
        Ok(Mounts {
            mounts: mounts.into_iter().map(Arc::new).collect(),
        })
    }

    /// Whether nothing is mounted.
    pub fn is_empty(&self) -> bool {
        self.mounts.is_empty()
    }

    /// Every mount.
    pub fn all(&self) -> &[Arc<Mount>] {
        &self.mounts
    }

    /// The service serving `path`, with the mount path and the rest of the path. The A2A
    /// well-known card paths at the root go to the first A2A service.
    pub fn find<'p>(&self, path: &'p str) -> Option<(&Arc<Mount>, &'p str)> {
        // Nothing mounted (most LLM-only servers): one branch on the hot path.
        if self.mounts.is_empty() {
            return None;
        }
        for m in &self.mounts {
            if let Some(rest) = path.strip_prefix(m.path.as_str()) {
                if rest.is_empty() || rest.starts_with('/') {
                    return Some((m, rest));
                }
            }
        }
        if path.starts_with("/.well-known/agent") {
            let first = self
                .mounts
                .iter()
                .find(|m| matches!(m.service, Service::A2a(_)));
            return first.map(|m| (m, path));
        }
        if crate::vector::serves_at_root(path) {
            let first = self
                .mounts
                .iter()
                .find(|m| matches!(m.service, Service::Vector(_)));
            return first.map(|m| (m, path));
        }
        None
    }

    /// The first MCP server at `path` (any when `None`).
    pub fn mcp(&self, path: Option<&str>) -> Option<Arc<crate::mcp::McpServer>> {
        self.first(path, |s| match s {
            Service::Mcp(s) => Some(s),
            _ => None,
        })
    }

    /// The first A2A service at `path` (any when `None`).
    pub fn a2a(&self, path: Option<&str>) -> Option<Arc<crate::a2a::A2aServer>> {
        self.first(path, |s| match s {
            Service::A2a(s) => Some(s),
            _ => None,
        })
    }

    /// The first AG-UI agent at `path` (any when `None`).
    pub fn agui(&self, path: Option<&str>) -> Option<Arc<crate::agui::AguiServer>> {
        self.first(path, |s| match s {
            Service::Agui(s) => Some(s),
            _ => None,
        })
    }

    /// The first vector service at `path` (any when `None`).
    pub fn vector(&self, path: Option<&str>) -> Option<Arc<crate::vector::VectorServer>> {
        self.first(path, |s| match s {
            Service::Vector(s) => Some(s),
            _ => None,
        })
    }

    /// The first service, in configuration order, that `pick` accepts and that is mounted at
    /// `path` (any path when `None`).
    fn first<T>(
        &self,
        path: Option<&str>,
        pick: impl Fn(&Service) -> Option<&Arc<T>>,
    ) -> Option<Arc<T>> {
        let want = path.map(clean_mount_path);
        self.mounts
            .iter()
            .filter(|m| want.as_ref().is_none_or(|w| *w == m.path))
            .filter_map(|m| pick(&m.service).map(|s| (m.order, s)))
            .min_by_key(|(order, _)| *order)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Reset every service.
    pub fn reset(&self) {
        for m in &self.mounts {
            m.service.reset();
        }
    }
}

/// Answer a request for a mounted service. Chaos rolls first, with the request's and the
/// server's rates (a mounted service has no LLM fixture): an action answers instead of the
/// service, journaled with the service's name and counted with source `internal`; the latency
/// is added to the service's own answer.
pub(crate) async fn serve(core: &Arc<Core>, mount: &Mount, req: ServiceRequest) -> Response {
    let test_id = crate::pipeline::test_id(&req.headers, req.query.as_deref()).into_owned();
    let roll = core.chaos.roll(&req.headers, None, &test_id);
    let decision = ChaosDecision {
        action: roll.action,
        latency_ms: roll.latency_ms,
    };
    let Some(action) = roll.action else {
        let mut resp = mount.service.handle(core, req).await;
        decision.attach(&mut resp);
        return resp;
    };
    let err: ApiError = crate::pipeline::exchange::chaos_error(action);
    let mut resp = crate::pipeline::SURFACE.error(&err, &req.headers);
    let mut e = JournalEntry::new(
        req.method.as_str(),
        &req.raw_path,
        req.headers,
        JournalBody::None,
    );
    e.service = Some(mount.service.kind());
    e.test_id = Some(test_id);
    e.response.source = Some("internal");
    e.response.chaos_action = Some(action.as_str());
    e.response.status = match action {
        crate::chaos::ChaosAction::Malformed => 200,
        crate::chaos::ChaosAction::Disconnect => 0,
        _ => err.status.as_u16(),
    };
    core.journal.record(e);
    if let Some(m) = &core.metrics {
        m.chaos_triggered(action.as_str(), "internal");
    }
    decision.attach(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a2a::A2aConfig;
    use crate::agui::AguiConfig;
    use crate::mcp::McpConfig;

    fn mcp_at(path: &str) -> McpConfig {
        McpConfig {
            path: Some(path.into()),
            ..Default::default()
        }
    }

    #[test]
    fn mount_paths_are_cleaned() {
        assert_eq!(clean_mount_path("/mcp/"), "/mcp");
        assert_eq!(clean_mount_path("mcp"), "/mcp");
        assert_eq!(clean_mount_path(" /a/b// "), "/a/b");
        assert_eq!(clean_mount_path("/"), "");
    }

    #[test]
    fn the_longest_mount_wins_and_only_whole_segments_match() {
        let config = ServerConfig {
            mcp: vec![mcp_at("/mcp"), mcp_at("/mcp/b")],
            a2a: vec![A2aConfig::default()],
            agui: vec![AguiConfig::default()],
            ..Default::default()
        };
        let m = Mounts::build(&config, &tokio::sync::watch::channel(false).1).expect("builds");
        let (mount, rest) = m.find("/mcp/b/x").expect("found");
        assert_eq!((mount.path.as_str(), rest), ("/mcp/b", "/x"));
        assert_eq!(mount.label, "/mcp/b");
        let (mount, rest) = m.find("/mcp").expect("found");
        assert_eq!((mount.path.as_str(), rest), ("/mcp", ""));
        assert!(m.find("/mcpx").is_none());
        assert!(m.find("/v1/chat/completions").is_none());
        let (mount, rest) = m.find("/agui").expect("found");
        assert_eq!((mount.service.kind(), rest), ("agui", ""));
        // The well-known card at the root reaches the first A2A service, path intact.
        let (mount, rest) = m.find("/.well-known/agent-card.json").expect("found");
        assert_eq!(
            (mount.service.kind(), rest),
            ("a2a", "/.well-known/agent-card.json")
        );
        assert!(m.mcp(Some("/mcp/b/")).is_some());
        // Without a path: the first configured, not the longest path.
        let first = m.mcp(None).expect("an MCP server");
        assert!(Arc::ptr_eq(&first, &m.mcp(Some("/mcp")).expect("at /mcp")));
        assert!(m.mcp(Some("/nope")).is_none());
    }

    #[test]
    fn two_services_at_one_path_or_one_at_the_root_are_refused() {
        let config = ServerConfig {
            mcp: vec![mcp_at("/x")],
            agui: vec![AguiConfig {
                path: Some("/x/".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let err =
            Mounts::build(&config, &tokio::sync::watch::channel(false).1).expect_err("refused");
        assert!(err.contains("both mounted at `/x`"), "{err}");
        for bad in ["/", "/__aimock/mcp"] {
            let config = ServerConfig {
                mcp: vec![mcp_at(bad)],
                ..Default::default()
            };
            let err =
                Mounts::build(&config, &tokio::sync::watch::channel(false).1).expect_err("refused");
            assert!(err.contains("cannot be mounted"), "{err}");
        }
    }
}
