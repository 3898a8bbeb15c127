//! Mounted services: MCP servers, A2A agents, AG-UI agents and vector databases, each under a
//! path of the main port (`/mcp`, `/a2a`, `/agui`, `/vector` by default) and, when its section
//! names a `port`, on a port of its own as well, where it answers at the root and at its path.
//!
//! A service is a `dyn MountedService` (the contract is in `crate::pipeline::service`): nothing
//! here names a surface but `KINDS`, the one table of how the configuration's sections become
//! services. The route table hands a request whose path is a mount path, or below one, to that
//! service with a `ServiceRequest`; chaos rolls first (`serve`). The control API finds the
//! service a request is about here too (`Mounts::for_control`).

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;

use super::ServerConfig;
use crate::http::{control_error, ApiError};
use crate::journal::{JournalBody, JournalEntry};
pub(crate) use crate::pipeline::clean_mount_path;
use crate::pipeline::{
    ChaosDecision, ControlDefault, Core, MountedService, ServiceRequest, Surface,
};
use crate::{a2a, agui, mcp, vector};

/// The services a configuration section names, in order, each with the path (`None`: the
/// kind's default) and the port of its own its configuration gives.
type Built = Result<Vec<(Arc<dyn MountedService>, Option<String>, Option<u16>)>, (usize, String)>;

/// A kind of mounted service and how its configuration section becomes services.
struct Kind {
    surface: &'static Surface,
    build: fn(&ServerConfig) -> Built,
}

impl Kind {
    const fn new(surface: &'static Surface, build: fn(&ServerConfig) -> Built) -> Kind {
        Kind { surface, build }
    }
}

/// Every kind of mounted service, in the order the configuration lists them: a new surface is
/// one line here.
#[rustfmt::skip]
static KINDS: [Kind; 4] = [
    Kind::new(&mcp::SURFACE, |c| each(&c.mcp, |m| (&m.path, m.port), mcp::McpServer::new)),
    Kind::new(&a2a::SURFACE, |c| each(&c.a2a, |a| (&a.path, a.port), a2a::A2aServer::new)),
    Kind::new(&agui::SURFACE, |c| each(&c.agui, |a| (&a.path, a.port), agui::AguiServer::new)),
    Kind::new(&vector::SURFACE, |c| each(&c.vector, |v| (&v.path, v.port), vector::VectorServer::new)),
];

/// Build one service per configuration; an error names the one that failed by its index.
fn each<C: Clone, S: MountedService>(
    configs: &[C],
    at: fn(&C) -> (&Option<String>, Option<u16>),
    new: fn(C) -> Result<Arc<S>, String>,
) -> Built {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (path, port) = at(c);
            let service = new(c.clone()).map_err(|e| (i, e))?;
            Ok((service as Arc<dyn MountedService>, path.clone(), port))
        })
        .collect()
}

/// One mounted service.
#[derive(Debug, Clone)]
pub struct Service {
    surface: &'static Surface,
    inner: Arc<dyn MountedService>,
}

impl Service {
    /// `mcp`, `a2a`, `agui` or `vector`: the journal's `service`.
    pub fn kind(&self) -> &'static str {
        self.surface.kind
    }

    /// Back to the configured state: run-time additions, sessions, tasks and counters go.
    pub fn reset(&self) {
        self.inner.reset();
    }

    /// Its entry in `GET /health`: `{"status": "ok", ...}` with aimock's counts for the kind.
    pub fn health(&self) -> serde_json::Value {
        self.inner.health()
    }

    /// The service as its own type, when it is a `T`.
    fn downcast<T: MountedService>(&self) -> Option<Arc<T>> {
        let any: Arc<dyn std::any::Any + Send + Sync> = self.inner.clone();
        any.downcast::<T>().ok()
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

impl Mount {
    /// Its name in `GET /health`'s `services`: the path without its leading `/`, as aimock
    /// names a mount (`mcp`, `tools/mcp`).
    pub fn name(&self) -> &str {
        self.path.trim_start_matches('/')
    }
}

/// Every mounted service, longest path first so `/mcp/b` wins over `/mcp`.
#[derive(Debug, Default)]
pub struct Mounts {
    mounts: Vec<Arc<Mount>>,
}

impl Mounts {
    /// The services a configuration names. Two services at one path, or a service whose own
    /// configuration is invalid, is an error naming it.
    pub fn build(
        config: &ServerConfig,
        shutdown: &tokio::sync::watch::Receiver<bool>,
    ) -> Result<Mounts, String> {
        let mut mounts = Vec::new();
        for kind in &KINDS {
            let built = (kind.build)(config)
                .map_err(|(i, e)| format!("{}[{i}]: {e}", kind.surface.kind))?;
            for (order, (inner, path, port)) in built.into_iter().enumerate() {
                inner.shutdown_on(shutdown.clone());
                mounts.push(Mount {
                    path: clean_mount_path(path.as_deref().unwrap_or(kind.surface.default_path)),
                    label: "",
                    order,
                    port,
                    service: Service {
                        surface: kind.surface,
                        inner,
                    },
                });
            }
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

    /// The service serving `path`, with the mount path and the rest of the path. Paths a kind
    /// serves at the root (A2A's well-known card, the vector databases' own paths) go to the
    /// first service of that kind, path intact.
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
        self.mounts
            .iter()
            .find(|m| (m.service.surface.serves_at_root)(path))
            .map(|m| (m, path))
    }

    /// The first MCP server at `path` (any when `None`).
    pub fn mcp(&self, path: Option<&str>) -> Option<Arc<crate::mcp::McpServer>> {
        self.first(path)
    }

    /// The first A2A service at `path` (any when `None`).
    pub fn a2a(&self, path: Option<&str>) -> Option<Arc<crate::a2a::A2aServer>> {
        self.first(path)
    }

    /// The first AG-UI agent at `path` (any when `None`).
    pub fn agui(&self, path: Option<&str>) -> Option<Arc<crate::agui::AguiServer>> {
        self.first(path)
    }

    /// The first vector service at `path` (any when `None`).
    pub fn vector(&self, path: Option<&str>) -> Option<Arc<crate::vector::VectorServer>> {
        self.first(path)
    }

    /// The first service of type `T`, in configuration order, mounted at `path` (any path when
    /// `None`).
    fn first<T: MountedService>(&self, path: Option<&str>) -> Option<Arc<T>> {
        let want = path.map(clean_mount_path);
        self.mounts
            .iter()
            .filter(|m| want.as_ref().is_none_or(|w| *w == m.path))
            .filter_map(|m| m.service.downcast::<T>().map(|s| (m.order, s)))
            .min_by_key(|(order, _)| *order)
            .map(|(_, s)| s)
    }

    /// The kind `/__aimock/<kind>` names, mounted or not.
    pub(crate) fn surface(kind: &str) -> Option<&'static Surface> {
        KINDS.iter().map(|k| k.surface).find(|s| s.kind == kind)
    }

    /// The service of a kind a control request is about: the one at `?path=`, else the kind's
    /// default ([`ControlDefault`]). `Err` is the answer when there is none, or when several
    /// are mounted and the request must name one.
    #[expect(clippy::result_large_err, reason = "the error is the answer")]
    pub(crate) fn for_control(
        &self,
        surface: &'static Surface,
        path: Option<&str>,
    ) -> Result<Arc<dyn MountedService>, Response> {
        let mut of_kind: Vec<&Mount> = self
            .mounts
            .iter()
            .filter(|m| std::ptr::eq(m.service.surface, surface))
            .map(|m| &**m)
            .collect();
        of_kind.sort_by_key(|m| m.order);
        let at = |p: &str| of_kind.iter().find(|m| m.path == p).copied();
        let noun = surface.noun;
        let found = match path {
            Some(p) => at(&clean_mount_path(p)).ok_or_else(|| {
                control_error(
                    StatusCode::NOT_FOUND,
                    format!("No {noun} is mounted at `{p}`"),
                )
            }),
            None => {
                let first = of_kind.first().copied();
                let picked = match (surface.control_default, of_kind.len()) {
                    (_, 0) | (ControlDefault::First, _) => first,
                    (ControlDefault::DefaultPathThenFirst, _) => at(surface.default_path).or(first),
                    (ControlDefault::OnlyOrDefaultPath, 1) => first,
                    (ControlDefault::OnlyOrDefaultPath, _) => match at(surface.default_path) {
                        Some(m) => Some(m),
                        None => {
                            let paths: Vec<&str> =
                                of_kind.iter().map(|m| m.path.as_str()).collect();
                            return Err(control_error(
                                StatusCode::BAD_REQUEST,
                                format!(
                                    "Several {noun}s are mounted ({}): name one with ?path=",
                                    paths.join(", ")
                                ),
                            ));
                        }
                    },
                };
                picked.ok_or_else(|| {
                    control_error(StatusCode::NOT_FOUND, format!("No {noun} is configured"))
                })
            }
        };
        found.map(|m| m.service.inner.clone())
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
    let service = &mount.service.inner;
    let Some(action) = roll.action else {
        let mut resp = service.clone().handle(core, req).await;
        decision.attach(&mut resp);
        return resp;
    };
    let err: ApiError = crate::pipeline::exchange::chaos_error(action);
    // Drop and rate limit answer in the service's own envelope; a malformed body and a cut
    // connection replace whatever this is.
    let mut resp = service.error(&err, &req);
    let mut e = JournalEntry::new(
        req.method.as_str(),
        &req.raw_path,
        req.headers,
        JournalBody::None,
    );
    e.service = Some(mount.service.kind());
    e.test_id = Some(test_id.into());
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
    fn a_control_request_without_a_path_picks_each_kinds_default() {
        let agui_at = |p: &str| AguiConfig {
            path: Some(p.into()),
            ..Default::default()
        };
        let config = ServerConfig {
            mcp: vec![mcp_at("/tools"), mcp_at("/mcp")],
            agui: vec![agui_at("/a"), agui_at("/b")],
            a2a: vec![A2aConfig::default()],
            ..Default::default()
        };
        let m = Mounts::build(&config, &tokio::sync::watch::channel(false).1).expect("builds");
        let pick = |kind: &str, path: Option<&str>| {
            let surface = Mounts::surface(kind).expect("a kind");
            m.for_control(surface, path)
                .map_err(|r| r.status().as_u16())
        };
        let is = |got: Arc<dyn MountedService>, want: Arc<crate::mcp::McpServer>| {
            let got: Arc<dyn std::any::Any + Send + Sync> = got;
            Arc::ptr_eq(&got.downcast().expect("an MCP server"), &want)
        };
        // MCP: the one at `/mcp`, though it is configured second.
        let at_mcp = m.mcp(Some("/mcp")).expect("at /mcp");
        assert!(is(pick("mcp", None).expect("picked"), at_mcp));
        let at_tools = m.mcp(Some("/tools")).expect("at /tools");
        assert!(is(pick("mcp", Some("/tools/")).expect("picked"), at_tools));
        assert_eq!(pick("mcp", Some("/nope")).err(), Some(404));
        // AG-UI: of several, none at `/agui`, the request must name one.
        assert_eq!(pick("agui", None).err(), Some(400));
        assert!(pick("agui", Some("/b")).is_ok());
        // A2A: the first; vector: none configured.
        assert!(pick("a2a", None).is_ok());
        assert_eq!(pick("vector", None).err(), Some(404));
        assert!(Mounts::surface("nope").is_none());
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
