//! Dispatch: every request finds its target once ([`Target`]: the control API, a fixed route, a
//! mounted service, or a provider route from the providers' table), and everything around the
//! target is done here, the same way for all of them: the request id, the API-key check (refused
//! in the envelope of the target's API), chaos's decision applied to the answer (added latency,
//! a malformed body, a cut connection), CORS, and the request metrics under the target's label.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method, StatusCode};
use serde_json::json;

use super::mounts::Mount;
use super::{control, AppState};
use crate::chaos::ChaosAction;
use crate::http::{json_response, ApiError};
use crate::metrics::{PathLabel, RequestKey};
use crate::pipeline::socket::SocketRoute;
use crate::pipeline::{Answered, Call, ChaosDecision, RequestCtx, Route, ServiceRequest, Vendor};

pub(super) async fn dispatch(State(state): State<Arc<AppState>>, req: Request) -> Response {
    respond(state, req, None).await
}

/// A request body, whatever carries it (hyper's, or axum's in the socket-free router).
pub(crate) trait RequestBody:
    http_body::Body<Data = axum::body::Bytes, Error: std::fmt::Display + Into<axum::BoxError>>
    + Send
    + 'static
{
}

impl<B> RequestBody for B where
    B: http_body::Body<Data = axum::body::Bytes, Error: std::fmt::Display + Into<axum::BoxError>>
        + Send
        + 'static
{
}

/// Where a request goes.
enum Target {
    /// A CORS preflight.
    Preflight,
    /// `/health`, `/ready`.
    Probe(&'static str, serde_json::Value),
    /// `/metrics`.
    Metrics,
    /// `/__aimock/...`.
    Control,
    /// `/v1/_requests`.
    LegacyRequests,
    /// A mounted service: the mount, where it is served, and the path below it.
    Mount(Arc<Mount>, String, String),
    /// A provider route.
    Provider(Route),
    /// A realtime API over WebSocket.
    Socket(SocketRoute),
    /// Nothing serves it.
    NotFound,
}

impl Target {
    fn label(&self, path: &str) -> PathLabel {
        match self {
            Target::Preflight | Target::NotFound => PathLabel::UNKNOWN,
            Target::Probe(p, _) => PathLabel::one(p),
            Target::Metrics => PathLabel::one("/metrics"),
            Target::Control => PathLabel::control(path),
            Target::LegacyRequests => PathLabel::one("/v1/_requests"),
            Target::Mount(m, _, _) => PathLabel::one(m.label),
            Target::Provider(r) => r.label,
            Target::Socket(r) => r.label,
        }
    }

    /// The envelope a refusal (or a 404) is answered in.
    fn vendor(&self, path: &str) -> &'static Vendor {
        match self {
            Target::Provider(r) => r.vendor,
            Target::Socket(r) => r.vendor,
            _ => crate::providers::fallback_vendor(path),
        }
    }
}

fn target(state: &AppState, method: &Method, path: &str, only: Option<&Arc<Mount>>) -> Target {
    if method == Method::OPTIONS {
        return Target::Preflight;
    }
    if let Some(mount) = only {
        // A port of its own: the service at the root and at its path; probes answer there too,
        // `/health` with that service's entry.
        match (method, path) {
            (&Method::GET, "/health") => {
                return Target::Probe("/health", health(state, std::slice::from_ref(mount)))
            }
            (&Method::GET, "/ready") => {
                return Target::Probe("/ready", json!({ "status": "ready" }))
            }
            _ => {}
        }
        let (served_at, rest) = match path.strip_prefix(mount.path.as_str()) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => (mount.path.clone(), rest),
            _ => (String::new(), path),
        };
        return Target::Mount(mount.clone(), served_at, rest.to_owned());
    }
    if path == "/__aimock" || path.starts_with("/__aimock/") {
        return Target::Control;
    }
    match (method, path) {
        (&Method::GET, "/health") => {
            return Target::Probe("/health", health(state, state.mounts.all()))
        }
        (&Method::GET, "/ready") => return Target::Probe("/ready", json!({ "status": "ready" })),
        (&Method::GET, "/metrics") if state.core.metrics.is_some() => return Target::Metrics,
        (&Method::GET | &Method::DELETE, "/v1/_requests") => return Target::LegacyRequests,
        _ => {}
    }
    // Mounted services (MCP, A2A, AG-UI, vector) own everything under their paths.
    if let Some((mount, rest)) = state.mounts.find(path) {
        let served_at = if rest == path {
            String::new()
        } else {
            mount.path.clone()
        };
        return Target::Mount(mount.clone(), served_at, rest.to_owned());
    }
    // A GET on a realtime API's path is its WebSocket upgrade (a plain GET gets a 426).
    if method == Method::GET {
        if let Some(route) = crate::providers::socket_route(path) {
            return Target::Socket(route);
        }
    }
    match crate::providers::route(method, path) {
        Some(route) => Target::Provider(route),
        None => Target::NotFound,
    }
}

/// `GET /health`, as aimock answers it: `{"status": "ok"}`, and with mounted services
/// `{"status": "ok", "services": {"llm": {"status": "ok", "fixtures": N}, "<mount>": {...}}}`,
/// each service's entry its own `health()` under its mount path (without the leading `/`).
fn health(state: &AppState, mounts: &[Arc<Mount>]) -> serde_json::Value {
    if mounts.is_empty() {
        return json!({ "status": "ok" });
    }
    let mut services = serde_json::Map::new();
    services.insert(
        "llm".into(),
        json!({ "status": "ok", "fixtures": state.fixture_count() }),
    );
    for m in mounts {
        services.insert(m.name().to_owned(), m.service.health());
    }
    json!({ "status": "ok", "services": services })
}

/// The request id, the target, the API-key check, the answer, chaos, then CORS and
/// `x-request-id` on whatever answered (a 401 included), and the metrics.
///
/// The returned future does all of it in its first poll when it can: a provider request whose
/// body came with its head (the usual case) is answered then and there, with no state machine
/// to build, move and poll. What must wait (a body still arriving, the control API, a mounted
/// service, record mode's upstream call, chaos's latency) continues in a boxed future.
pub(crate) fn respond<B: RequestBody + Unpin>(
    state: Arc<AppState>,
    req: http::Request<B>,
    only: Option<Arc<Mount>>,
) -> Respond<B> {
    Respond(Step::Start(state, req, only))
}

/// The future of [`respond`].
pub(crate) struct Respond<B>(Step<B>);

// The request is kept inline: the future lives in hyper's slot, which it reuses per connection,
// and a boxed request would be one more allocation per request.
#[allow(clippy::large_enum_variant)]
enum Step<B> {
    Start(Arc<AppState>, http::Request<B>, Option<Arc<Mount>>),
    Waiting(futures_util::future::BoxFuture<'static, Response>),
    Done,
}

impl<B: RequestBody + Unpin> std::future::Future for Respond<B> {
    type Output = Response;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Response> {
        use std::task::Poll;
        let this = self.get_mut();
        let mut waiting = match std::mem::replace(&mut this.0, Step::Done) {
            Step::Start(state, req, only) => match start(state, req, only, cx) {
                Ok(resp) => return Poll::Ready(resp),
                Err(fut) => fut,
            },
            Step::Waiting(fut) => fut,
            // Polled again after it answered: hyper never does; answer rather than panic.
            Step::Done => {
                return Poll::Ready(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            }
        };
        match waiting.as_mut().poll(cx) {
            Poll::Ready(resp) => Poll::Ready(resp),
            Poll::Pending => {
                this.0 = Step::Waiting(waiting);
                Poll::Pending
            }
        }
    }
}

/// What every answer gets once it is there.
struct Finish {
    state: Arc<AppState>,
    request_id: HeaderValue,
    key: Option<RequestKey>,
    started: Option<std::time::Instant>,
}

impl Finish {
    /// Chaos's decision first (it may wait: then the rest is boxed), then [`Finish::headers`].
    fn apply(
        self,
        mut resp: Response,
    ) -> Result<Response, futures_util::future::BoxFuture<'static, Response>> {
        match resp.extensions_mut().remove::<ChaosDecision>() {
            None => Ok(self.headers(resp)),
            Some(decision) => Err(Box::pin(async move {
                let resp = apply_chaos(decision, resp).await;
                self.headers(resp)
            })),
        }
    }

    /// [`Finish::apply`], for an answer that was waited for already.
    async fn apply_later(self, resp: Response) -> Response {
        match self.apply(resp) {
            Ok(r) => r,
            Err(fut) => fut.await,
        }
    }

    /// CORS and the request id, then the metrics.
    fn headers(self, mut resp: Response) -> Response {
        let h = resp.headers_mut();
        match h.get_mut(crate::http::ids::X_REQUEST_ID) {
            // An answer made from the JSON header template: CORS is in it, and so is the id's
            // empty slot, filled in place.
            Some(slot) if slot.is_empty() => *slot = self.request_id,
            _ => {
                if !crate::http::cors::present(h) {
                    crate::http::cors::add(h);
                }
                h.insert(crate::http::ids::X_REQUEST_ID, self.request_id);
            }
        }
        // Counted once the response head is built: for a stream, the time to its first byte.
        if let (Some(m), Some(key), Some(started)) =
            (&self.state.core.metrics, self.key, self.started)
        {
            let status = if resp
                .extensions()
                .get::<crate::chaos::Disconnected>()
                .is_some()
            {
                0
            } else {
                resp.status().as_u16()
            };
            m.observe_request(key, status, started.elapsed());
        }
        resp
    }
}

/// The first poll: the answer, or the future that will give it.
fn start<B: RequestBody + Unpin>(
    state: Arc<AppState>,
    mut req: http::Request<B>,
    only: Option<Arc<Mount>>,
    cx: &mut std::task::Context<'_>,
) -> Result<Response, futures_util::future::BoxFuture<'static, Response>> {
    let started = state.core.metrics.is_some().then(std::time::Instant::now);
    // One id per request: the client's, or one minted here and put on the request too, so the
    // journal (and its `requestId` filter) knows the id the client sees.
    use crate::http::ids::X_REQUEST_ID;
    // One look-up for both (the name hashed once): the client's, or the slot the minted one
    // goes in.
    let request_id = match req.headers_mut().entry(X_REQUEST_ID) {
        http::header::Entry::Occupied(e) => e.get().clone(),
        http::header::Entry::Vacant(e) => e.insert(crate::http::ids::request_id()).clone(),
    };
    let target = target(&state, req.method(), req.uri().path(), only.as_ref());
    let key = started.map(|_| RequestKey::new(req.method(), target.label(req.uri().path())));
    let refused = state.auth.as_ref().and_then(|keys| {
        let (method, path, headers) = (req.method(), req.uri().path(), req.headers());
        if crate::auth::is_public(method, path, headers) {
            return None;
        }
        keys.check(headers, req.uri().query()).err()
    });
    let finish = Finish {
        state,
        request_id,
        key,
        started,
    };
    let answer = match refused {
        // Refused before any handler: not journaled, and the key is never logged.
        Some(why) => {
            tracing::debug!(
                reason = why.as_str(),
                path = req.uri().path(),
                "API key refused"
            );
            Ok(rejection(target.vendor(req.uri().path()), req.headers()))
        }
        None => serve(&finish.state, req, target, cx),
    };
    match answer {
        Ok(resp) => finish.apply(resp),
        Err(later) => Err(Box::pin(
            async move { finish.apply_later(later.await).await },
        )),
    }
}

/// The 401 for a refused request, in the envelope of the API it was for.
fn rejection(vendor: &'static Vendor, headers: &http::HeaderMap) -> Response {
    let err = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "authentication_error",
        crate::auth::INVALID_KEY_MESSAGE,
    )
    .with_code("invalid_api_key");
    let mut resp = vendor.error(&err, headers);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"aimock\""),
    );
    resp
}

/// What chaos decided, done to the answer: the added latency first, then a malformed body or a
/// cut connection in place of the answer (drop and rate limit are already rendered in the
/// provider's envelope).
async fn apply_chaos(decision: ChaosDecision, resp: Response) -> Response {
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    match decision.action {
        Some(ChaosAction::Malformed | ChaosAction::Disconnect) => decision
            .action
            .and_then(crate::chaos::replacement)
            .unwrap_or(resp),
        _ => resp,
    }
}

/// The target's answer: at once, or a future for what must wait.
fn serve<B: RequestBody + Unpin>(
    state: &Arc<AppState>,
    req: http::Request<B>,
    target: Target,
    cx: &mut std::task::Context<'_>,
) -> Result<Response, futures_util::future::BoxFuture<'static, Response>> {
    let (parts, mut body) = req.into_parts();
    let path = parts.uri.path();
    let raw_path = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.to_owned(), |p| p.as_str().to_owned());
    match target {
        Target::Preflight => Ok(StatusCode::NO_CONTENT.into_response()),
        Target::Probe(_, body) => Ok(json_response(StatusCode::OK, &body)),
        Target::Metrics => Ok(match &state.core.metrics {
            Some(m) => {
                let openmetrics =
                    crate::metrics::wants_openmetrics(parts.headers.get(header::ACCEPT));
                let (text, content_type) =
                    m.render(state.core.fixtures.snapshot().len(), openmetrics);
                let mut r = Response::new(Body::from(text));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                r
            }
            None => not_found(&parts.method, path),
        }),
        Target::Control => {
            let state = state.clone();
            Err(Box::pin(async move {
                control::handle(
                    &state,
                    &parts.method,
                    parts.uri.path(),
                    parts.uri.query(),
                    parts.headers,
                    Body::new(body),
                )
                .await
            }))
        }
        Target::LegacyRequests => Ok(control::legacy_requests(
            state,
            &parts.method,
            parts.uri.query(),
        )),
        Target::Mount(mount, served_at, rest) => {
            let req = ServiceRequest {
                method: parts.method,
                rest,
                mount: served_at,
                raw_path,
                query: parts.uri.query().map(str::to_owned),
                headers: parts.headers,
                body: Body::new(body),
            };
            let core = state.core.clone();
            Err(Box::pin(async move {
                super::mounts::serve(&core, &mount, req).await
            }))
        }
        Target::Provider(route) => {
            let query = parts.uri.query().map(str::to_owned);
            let ctx = RequestCtx::new(
                &state.core.settings,
                parts.method,
                raw_path,
                query.as_deref(),
                parts.headers,
            );
            let core = state.core.clone();
            let limit = core.max_body_bytes();
            // hyper has read the `Content-Length` already: the body's exact size hint is it.
            let declared = http_body::Body::size_hint(&body).exact();
            let whole = crate::http::refuse_over(declared, limit)
                .map(|declared| (declared, crate::http::poll_whole(&mut body, limit, cx)));
            let call = ProviderCall {
                core,
                ctx,
                route,
                query,
            };
            match whole {
                Err(e) => Ok(call.refuse(e)),
                Ok((_, crate::http::Polled::Whole(Err(e)))) => Ok(call.refuse(e)),
                Ok((_, crate::http::Polled::Whole(Ok(bytes)))) => match call.answer(bytes) {
                    Answered::Now(r) => Ok(r),
                    Answered::Later(f) => Err(f),
                },
                Ok((declared, crate::http::Polled::More(first))) => Err(Box::pin(async move {
                    match crate::http::read_rest(first, body, limit, declared).await {
                        Ok(bytes) => call.answer(bytes).get().await,
                        Err(e) => call.refuse(e),
                    }
                })),
            }
        }
        Target::Socket(route) => Ok(upgrade(state, parts, route, raw_path)),
        Target::NotFound => Ok(not_found(&parts.method, path)),
    }
}

/// A WebSocket upgrade: checked (a broken handshake is a 4xx in the API's envelope), answered
/// `101`, and the session run on the upgraded connection.
fn upgrade(
    state: &Arc<AppState>,
    mut parts: http::request::Parts,
    route: SocketRoute,
    raw_path: String,
) -> Response {
    use crate::stream::socket::{Handshake, Socket};
    let refuse = |status: StatusCode, message: &str, headers: &http::HeaderMap| {
        let err = ApiError::new(status, "invalid_request_error", message)
            .with_code("websocket_upgrade_required");
        let mut resp = route.vendor.error(&err, headers);
        if status == StatusCode::UPGRADE_REQUIRED {
            resp.headers_mut()
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        resp
    };
    let handshake = match Handshake::check(&parts.headers) {
        Ok(h) => h,
        Err(e) => return refuse(e.status, e.message, &parts.headers),
    };
    // The socket-free router (`oneshot`) has no connection to upgrade.
    let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
        return refuse(
            StatusCode::UPGRADE_REQUIRED,
            "This connection cannot be upgraded to a WebSocket.",
            &parts.headers,
        );
    };
    let session = crate::pipeline::socket::Session {
        core: state.core.clone(),
        query: parts.uri.query().map(str::to_owned),
        raw_path,
        headers: parts.headers,
        label: route.label,
        vendor: route.vendor,
    };
    let stop = state.shutdown_signal();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = Socket::new(upgraded, stop).await;
                (route.run)(session, socket).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    handshake.response()
}

/// A provider route's request, its body not read yet.
struct ProviderCall {
    core: Arc<crate::pipeline::Core>,
    ctx: RequestCtx,
    route: Route,
    query: Option<String>,
}

impl ProviderCall {
    /// Hand the call, with its body, to the route's endpoint.
    fn answer(self, body: axum::body::Bytes) -> Answered {
        // A stateful API is journaled and chaos-rolled here, as the services are, so its
        // endpoint only keeps the state.
        let stateful = match self.route.stateful {
            None => None,
            Some(service) => {
                let mut ex = crate::pipeline::Exchange::start(
                    self.core.clone(),
                    self.ctx.clone(),
                    self.route.vendor,
                    false,
                );
                ex.explain_misses = false;
                ex.set_service(service);
                if let Some(e) = ex.roll_chaos_unmatched() {
                    return Answered::Now(ex.fail(e));
                }
                ex.set_source("internal");
                // A JSON body is kept in the journal (parsed only when under the journal's cap).
                ex.set_body(crate::journal::JournalBody::capped(body.len(), || {
                    serde_json::from_slice::<serde_json::Value>(&body)
                        .map_or(crate::journal::JournalBody::None, |v| {
                            crate::journal::JournalBody::Json(std::sync::Arc::new(v))
                        })
                }));
                Some(ex)
            }
        };
        let call = Call {
            core: self.core,
            ctx: self.ctx,
            route: self.route,
            query: self.query,
            body,
        };
        let answered = (call.route.endpoint)(call);
        match (stateful, answered) {
            (None, answered) => answered,
            (Some(ex), Answered::Now(r)) => Answered::Now(ex.reply(r)),
            (Some(ex), Answered::Later(f)) => {
                Answered::Later(Box::pin(async move { ex.reply(f.await) }))
            }
        }
    }

    /// A body that could not be read (too large, broken): journaled with the provider's
    /// envelope, as any answer of the route.
    fn refuse(self, e: crate::http::BodyError) -> Response {
        let mut ex =
            crate::pipeline::Exchange::start(self.core, self.ctx, self.route.vendor, false);
        ex.explain_misses = false;
        ex.fail(e.into_api_error())
    }
}

fn not_found(method: &Method, path: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": { "message": format!("Not found: {method} {path}"), "type": "not_found" } }),
    )
}

#[cfg(test)]
mod tests {
    use crate::providers::openai::normalize_path;

    #[test]
    fn compat_paths_normalize_to_v1() {
        assert_eq!(
            normalize_path("/v1/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/openai/v1/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/v4/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/api/v1/chat/completions").path,
            "/v1/chat/completions"
        );
        assert_eq!(
            normalize_path("/some/prefix/embeddings").path,
            "/v1/embeddings"
        );
        assert_eq!(normalize_path("/health").path, "/health");
    }

    #[test]
    fn azure_deployment_paths_carry_the_deployment() {
        let n = normalize_path("/openai/deployments/my-dep/chat/completions");
        assert_eq!(n.path, "/v1/chat/completions");
        assert_eq!(n.deployment.as_deref(), Some("my-dep"));
    }
}
