//! The one endpoint every provider route runs. A provider supplies the parts that are its own
//! (parse the body into the provider-neutral request, render a reply as its JSON and its stream,
//! its envelope and headers through its [`Vendor`](crate::pipeline::Vendor)); the skeleton here
//! does the rest, the same way for all of them: the journal, matching, strict mode, chaos, the
//! streaming plan (pacing, cuts, the journal's view of how a stream ended), record mode's upstream
//! for a miss, and the deterministic fallback of embedding endpoints.
//!
//! - [`MessageApi`]: endpoints that answer with a model message (chat, messages, generate,
//!   converse...), whole or streamed.
//! - [`EmbeddingApi`]: endpoints that answer with vectors; a miss gets each input's fallback vector.
//! - [`ServiceApi`]: search, rerank and moderation, matched against their own fixtures.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::conversation::ChatRequest;
use crate::fixture::{EmbeddingReply, Fixture, MessageReply, Reply};
use crate::http::ApiError;
use crate::journal::JournalBody;
use crate::pipeline::{Answer, Answered, Call, Exchange, Miss, RequestCtx};
use crate::stream::StreamPlan;

/// What a renderer gets: the request, the options its parser kept, the fixture and its reply,
/// and the settings that shape a stream.
#[derive(Debug)]
pub(crate) struct Render<'a, O> {
    pub(crate) req: &'a ChatRequest,
    pub(crate) opts: &'a O,
    pub(crate) fixture: &'a Fixture,
    pub(crate) reply: &'a MessageReply,
    /// The request is strict.
    pub(crate) strict: bool,
    /// Characters per streamed text chunk (the fixture's, else the server's).
    pub(crate) chunk_size: usize,
    /// The request's headers.
    pub(crate) headers: &'a HeaderMap,
    /// The call (route info, query).
    pub(crate) call: &'a Call,
}

/// A rendered stream: framed events (each paced, each counting for a cut), and what follows them.
#[derive(Debug, Default)]
pub(crate) struct Streamed {
    /// The events.
    pub(crate) events: Vec<Bytes>,
    /// Written right after the last event, unpaced (`data: [DONE]`, a usage chunk).
    pub(crate) trailer: Vec<Bytes>,
    /// Written at once, before the first event is due (OpenRouter's processing comment).
    pub(crate) head: Option<Bytes>,
    /// The stream's content type.
    pub(crate) content_type: &'static str,
}

impl Streamed {
    /// Server-sent events.
    pub(crate) fn sse(events: Vec<Bytes>, trailer: Vec<Bytes>) -> Streamed {
        Streamed {
            events,
            trailer,
            head: None,
            content_type: "text/event-stream",
        }
    }
}

/// An endpoint answering with a model message.
pub(crate) trait MessageApi: 'static {
    /// What the request says beside the conversation.
    type Opts: Send + Sync + 'static;
    /// The endpoint, as errors name it (`the chat completions endpoint`).
    const SURFACE: &'static str;
    /// The content type of a whole reply.
    const JSON_TYPE: &'static str = "application/json";

    /// The body as the provider-neutral request.
    fn parse(call: &Call) -> Result<(ChatRequest, Self::Opts), ApiError>;

    /// An error the real API would answer this request with although it is well formed (a
    /// thinking budget out of range): strict mode answers it, otherwise it is a warning.
    fn refusal(_req: &ChatRequest, _opts: &Self::Opts) -> Option<ApiError> {
        None
    }

    /// Choose what answers (the default: match the request).
    fn resolve(ex: &mut Exchange, req: &ChatRequest, _opts: &mut Self::Opts) -> Answer {
        ex.resolve(req)
    }

    /// The reply, whole.
    fn json(r: &Render<'_, Self::Opts>) -> String;

    /// The reply, streamed.
    fn stream(r: &Render<'_, Self::Opts>) -> Streamed;

    /// Headers a successful answer carries beyond the vendor's.
    fn finish(_resp: &mut Response, _streamed: bool) {}
}

/// The endpoint of a [`MessageApi`].
pub(crate) fn message<A: MessageApi>(call: Call) -> Answered {
    serve_message::<A>(call)
}

enum Rendered {
    Whole(String),
    Stream(Box<Streamed>),
}

/// A stream's plan: its events, paced and cut as the fixture (or the server) says.
fn stream_plan(s: Streamed, fixture: &Fixture, call: &Call) -> StreamPlan {
    let settings = &call.core.settings;
    StreamPlan {
        head: s.head,
        events: s.events,
        trailer: s.trailer,
        pacing: fixture
            .stream
            .pacing(settings.latency, settings.replay_speed),
        truncate_after: fixture.stream.truncate_after_chunks,
        disconnect_after: fixture
            .stream
            .disconnect_after_ms
            .map(crate::stream::duration_ms),
        on_end: None,
    }
}

fn serve_message<A: MessageApi>(mut call: Call) -> Answered {
    let mut ex = Exchange::new(&mut call);
    let (req, mut opts) = match A::parse(&call) {
        Ok(p) => p,
        Err(e) => return ex.fail(e).into(),
    };
    let req = Arc::new(req);
    ex.set_request(req.clone(), call.body.len());
    if let Some(e) = A::refusal(&req, &opts) {
        if ex.strict() {
            return ex.fail(e).into();
        }
        tracing::warn!(
            model = req.model.as_str(),
            "{}: the real API would refuse this request: {}",
            A::SURFACE,
            e.message
        );
    }
    let fixture = match A::resolve(&mut ex, &req, &mut opts) {
        Answer::Fixture(f) => f,
        Answer::Error(e) => return ex.fail(e).into(),
        Answer::Miss(m) => return miss(ex, m, &call),
    };
    if let Reply::Callback(cb) = &fixture.reply {
        let cb = cb.clone();
        return Answered::Later(Box::pin(by_callback::<A>(ex, call, req, opts, fixture, cb)));
    }
    render_message::<A>(ex, &call, &req, &opts, &fixture).into()
}

/// Render a fixture's message reply, whole or streamed, and journal it.
fn render_message<A: MessageApi>(
    ex: Exchange,
    call: &Call,
    req: &ChatRequest,
    opts: &A::Opts,
    fixture: &Fixture,
) -> Response {
    let reply = match message_reply(fixture, A::SURFACE) {
        Ok(m) => m,
        Err(e) => return ex.fail(e),
    };
    let settings = &call.core.settings;
    let rendered = {
        let r = Render {
            req,
            opts,
            fixture,
            reply,
            strict: ex.strict(),
            chunk_size: fixture.stream.chunk_size.unwrap_or(settings.chunk_size),
            headers: ex.headers(),
            call,
        };
        if req.stream {
            Rendered::Stream(Box::new(A::stream(&r)))
        } else {
            Rendered::Whole(A::json(&r))
        }
    };
    match rendered {
        Rendered::Whole(body) => {
            let mut resp = crate::http::json_body(body);
            if A::JSON_TYPE != "application/json" {
                resp.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static(A::JSON_TYPE),
                );
            }
            A::finish(&mut resp, false);
            ex.reply(resp)
        }
        Rendered::Stream(s) => {
            let content_type = s.content_type;
            let mut resp = ex.stream(stream_plan(*s, fixture, call), content_type);
            A::finish(&mut resp, true);
            resp
        }
    }
}

/// What a callback is sent for an LLM request (see [`crate::callback`]).
fn llm_payload(ex: &Exchange, call: &Call, req: &ChatRequest) -> Value {
    serde_json::json!({
        "kind": "llm",
        "request": req,
        "provider": call.route.vendor.key,
        "endpoint": req.endpoint.as_str(),
        "path": ex.path(),
        "stream": req.stream,
        "testId": &*ex.ctx.test_id,
    })
}

/// A fixture whose reply is a callback: ask it, then render its reply as the fixture's (its
/// streaming settings apply). On a task of its own, like the proxy: a caller that leaves while
/// the callback computes must not cut the journal entry short, and a slow callback holds no
/// other request up.
async fn by_callback<A: MessageApi>(
    ex: Exchange,
    call: Call,
    req: Arc<ChatRequest>,
    opts: A::Opts,
    fixture: Arc<Fixture>,
    cb: crate::callback::Callback,
) -> Response {
    let payload = llm_payload(&ex, &call, &req);
    let envelope = call.route.vendor;
    let headers = ex.headers().clone();
    let task = async move {
        let value = match cb.call(&payload).await {
            Ok(v) => v,
            Err(e) => return ex.fail(e.to_api_error()),
        };
        let answered = match crate::fixture::compile::compile_response(value) {
            Ok((reply, spec)) => {
                let mut f = (*fixture).clone();
                f.entry.response = spec;
                f.reply = reply;
                f
            }
            Err(m) => {
                let e = crate::callback::CallbackError::Failed(format!(
                    "{} answered with an invalid response: {m}",
                    cb.url
                ));
                return ex.fail(e.to_api_error());
            }
        };
        match &answered.reply {
            Reply::Error(e) => ex.fail(e.to_api_error()),
            _ => render_message::<A>(ex, &call, &req, &opts, &answered),
        }
    };
    on_own_task(task, envelope, &headers).await
}

/// Run a callback's answer on a task of its own; a task that fails (it panicked) is a 502
/// `callback_failed` in the vendor's envelope.
async fn on_own_task(
    task: impl std::future::Future<Output = Response> + Send + 'static,
    vendor: &'static crate::pipeline::Vendor,
    headers: &http::HeaderMap,
) -> Response {
    match tokio::spawn(task).await {
        Ok(r) => r,
        Err(e) => vendor.error(
            &ApiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                format!("Callback: the task answering it failed: {e}"),
            )
            .with_code("callback_failed"),
            headers,
        ),
    }
}

/// An endpoint answering with a media reply (`image`, ...): the request as a conversation (the
/// prompt as its user message) matched like any other, the fixture's reply of [`MediaApi::KIND`]
/// rendered by the API. A miss is the miss's error (404, 503 in strict mode) or record mode's
/// upstream, as for messages.
pub(crate) trait MediaApi: 'static {
    /// What the request says beside the prompt.
    type Opts: Send + 'static;
    /// The endpoint, as errors name it.
    const SURFACE: &'static str;
    /// The kind of fixture reply that answers it.
    const KIND: &'static str;

    /// The body, with the request's headers (a multipart body needs its boundary).
    fn parse(call: &Call, headers: &HeaderMap) -> Result<(ChatRequest, Self::Opts), ApiError>;

    /// Whether a fixture reply of `kind` answers it (the default: [`MediaApi::KIND`] only).
    fn accepts(kind: &str) -> bool {
        kind == Self::KIND
    }

    /// The answer from the fixture's reply (the fixture's `response` object).
    fn render(req: &ChatRequest, opts: &Self::Opts, reply: &Value) -> Result<Response, ApiError>;

    /// Whether a text reply (a fixture of this endpoint with `content`) answers too: the API
    /// renders it from the fixture's `response` object (a speech endpoint speaks silence).
    const SERVES_TEXT: bool = false;

    /// The answer, whole or streamed (by default whole, from [`MediaApi::render`]). A stream's
    /// events go out paced as the fixture's streaming settings say; `chunk` is the characters per
    /// text event (the fixture's or the server's).
    fn answer(
        req: &ChatRequest,
        opts: &Self::Opts,
        reply: &Value,
        _chunk: usize,
    ) -> Result<MediaAnswer, ApiError> {
        Self::render(req, opts, reply).map(MediaAnswer::Whole)
    }
}

/// A media endpoint's answer.
#[derive(Debug)]
pub(crate) enum MediaAnswer {
    /// A whole response.
    Whole(Response),
    /// A stream (paced as the fixture says), with headers of its own.
    Stream(Streamed, HeaderMap),
}

/// The endpoint of a [`MediaApi`].
pub(crate) fn media<A: MediaApi>(mut call: Call) -> Answered {
    let mut ex = Exchange::new(&mut call);
    let (req, opts) = match A::parse(&call, ex.headers()) {
        Ok(p) => p,
        Err(e) => return ex.fail(e).into(),
    };
    let req = Arc::new(req);
    ex.set_request(req.clone(), call.body.len());
    let fixture = match ex.resolve(&req) {
        Answer::Fixture(f) => f,
        Answer::Error(e) => return ex.fail(e).into(),
        Answer::Miss(m) => return miss(ex, m, &call),
    };
    let text;
    let value = match &fixture.reply {
        Reply::Other { kind, value } if A::accepts(kind) => value,
        Reply::Message(_) if A::SERVES_TEXT => {
            text = serde_json::to_value(&fixture.entry.response).unwrap_or(Value::Null);
            &text
        }
        other => {
            let e = wrong_kind(&fixture, other, A::SURFACE);
            return ex.fail(e).into();
        }
    };
    let chunk = (fixture.stream.chunk_size)
        .unwrap_or(call.core.settings.chunk_size)
        .max(1);
    match A::answer(&req, &opts, value, chunk) {
        Ok(MediaAnswer::Whole(resp)) => ex.reply(resp).into(),
        Ok(MediaAnswer::Stream(s, headers)) => {
            let content_type = s.content_type;
            let mut resp = ex.stream(stream_plan(s, &fixture, &call), content_type);
            resp.headers_mut().extend(headers);
            resp.into()
        }
        Err(e) => ex.fail(e).into(),
    }
}

/// A miss: record mode's upstream when it proxies this route, else the miss's error.
fn miss(ex: Exchange, m: Miss, call: &Call) -> Answered {
    match call.route.collapse {
        Some(collapse) if m.proxy => {
            Answered::Later(Box::pin(proxy(ex, collapse, call.body.clone())))
        }
        _ => ex.fail(m.error).into(),
    }
}

/// Send the request upstream, relay the reply and record it. On a task of its own: a caller
/// that leaves while the upstream answers must not cut the journal entry or the recording short.
async fn proxy(ex: Exchange, collapse: &'static crate::record::Collapser, body: Bytes) -> Response {
    let core = ex.core.clone();
    let latency = ex.chaos().latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let job = ex.into_proxy_job(collapse);
    let envelope = job.envelope;
    match tokio::spawn(crate::record::proxy::run(core, job, body)).await {
        Ok(r) => r,
        Err(e) => envelope(
            &ApiError::new(
                StatusCode::BAD_GATEWAY,
                "proxy_error",
                format!("Proxy to upstream failed: {e}"),
            ),
            &HeaderMap::new(),
        ),
    }
}

/// The fixture's reply as a model message, or a 500 naming the fixture and saying that `surface`
/// cannot serve its kind (an embedding fixture matched by a chat request, say).
pub(crate) fn message_reply<'f>(
    fixture: &'f Fixture,
    surface: &str,
) -> Result<&'f MessageReply, ApiError> {
    match &fixture.reply {
        Reply::Message(m) => Ok(m),
        other => Err(wrong_kind(fixture, other, surface)),
    }
}

/// The 500 for a fixture whose kind of reply `surface` cannot serve.
pub(crate) fn wrong_kind(fixture: &Fixture, reply: &Reply, surface: &str) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        format!(
            "Fixture {} answers with {}, which {surface} cannot serve",
            fixture.describe(),
            reply.kind()
        ),
    )
}

/// An endpoint answering with embedding vectors.
pub(crate) trait EmbeddingApi: 'static {
    /// What the request says beside its inputs.
    type Opts: Send + Sync + 'static;
    /// The endpoint, as errors name it.
    const SURFACE: &'static str;
    /// The content type of the reply.
    const JSON_TYPE: &'static str = "application/json";

    /// The body as an embedding request (its inputs joined, for matching) and the options.
    fn parse(call: &Call) -> Result<(ChatRequest, Self::Opts), ApiError>;

    /// The reply: a fixture's vector for every input, or (`None`) each input's fallback.
    fn json(req: &ChatRequest, opts: &Self::Opts, vector: Option<&EmbeddingReply>) -> String;
}

/// The endpoint of an [`EmbeddingApi`].
pub(crate) fn embedding<A: EmbeddingApi>(mut call: Call) -> Answered {
    let mut ex = Exchange::new(&mut call);
    let (req, opts) = match A::parse(&call) {
        Ok(p) => p,
        Err(e) => return ex.fail(e).into(),
    };
    let req = Arc::new(req);
    ex.set_request(req.clone(), call.body.len());
    // A miss has a fallback: finding the closest fixture would cost a scan for nothing.
    ex.explain_misses = false;
    let fixture = match ex.resolve(&req) {
        Answer::Fixture(f) => match &f.reply {
            Reply::Embedding(_) => Some(f),
            Reply::Callback(cb) => {
                let cb = cb.clone();
                return Answered::Later(Box::pin(embedding_by_callback::<A>(
                    ex, call, req, opts, cb,
                )));
            }
            other => {
                let e = wrong_kind(&f, other, A::SURFACE);
                return ex.fail(e).into();
            }
        },
        Answer::Miss(m) if m.proxy || m.strict => return miss(ex, m, &call),
        Answer::Miss(_) => None,
        Answer::Error(e) => return ex.fail(e).into(),
    };
    let vector = fixture.as_deref().and_then(|f| match &f.reply {
        Reply::Embedding(v) => Some(v),
        _ => None,
    });
    let mut resp = crate::http::json_body(A::json(&req, &opts, vector));
    if A::JSON_TYPE != "application/json" {
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(A::JSON_TYPE),
        );
    }
    ex.reply(resp).into()
}

/// An embedding fixture whose reply is a callback: ask it (on a task of its own, as for a
/// message); its reply must be an `embedding` (or an error).
async fn embedding_by_callback<A: EmbeddingApi>(
    ex: Exchange,
    call: Call,
    req: Arc<ChatRequest>,
    opts: A::Opts,
    cb: crate::callback::Callback,
) -> Response {
    let payload = llm_payload(&ex, &call, &req);
    let vendor = call.route.vendor;
    let headers = ex.headers().clone();
    let task = async move {
        let value = match cb.call(&payload).await {
            Ok(v) => v,
            Err(e) => return ex.fail(e.to_api_error()),
        };
        let failed = |m: String| {
            crate::callback::CallbackError::Failed(format!(
                "{} answered with an invalid response: {m}",
                cb.url
            ))
            .to_api_error()
        };
        match crate::fixture::compile::compile_response(value) {
            Ok((Reply::Embedding(v), _)) => {
                let mut resp = crate::http::json_body(A::json(&req, &opts, Some(&v)));
                if A::JSON_TYPE != "application/json" {
                    resp.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static(A::JSON_TYPE),
                    );
                }
                ex.reply(resp)
            }
            Ok((Reply::Error(e), _)) => ex.fail(e.to_api_error()),
            Ok((other, _)) => ex.fail(failed(format!(
                "it answers with {}, which {} cannot serve (give `embedding`)",
                other.kind(),
                A::SURFACE
            ))),
            Err(m) => ex.fail(failed(m)),
        }
    };
    on_own_task(task, vendor, &headers).await
}

/// What a service endpoint answers: a body, or an error; and whether a fixture answered.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) result: Result<Value, ApiError>,
    pub(crate) matched: bool,
}

impl Outcome {
    /// A body.
    pub(crate) fn ok(v: Value, matched: bool) -> Outcome {
        Outcome {
            result: Ok(v),
            matched,
        }
    }

    /// An error.
    pub(crate) fn err(e: ApiError, matched: bool) -> Outcome {
        Outcome {
            result: Err(e),
            matched,
        }
    }
}

/// Search, rerank and moderation: a JSON object in, an answer from the service fixtures out.
pub(crate) trait ServiceApi: 'static {
    /// The journal's `service`.
    const SERVICE: &'static str;

    /// 400 for a body that is not JSON, worded as the provider words it.
    fn malformed(e: &serde_json::Error) -> ApiError {
        ApiError::malformed_json(e)
    }

    /// 400 for a body that is JSON but not what the API takes.
    fn invalid(message: &str) -> ApiError {
        ApiError::invalid(message)
    }

    /// The answer.
    fn answer(call: &Call, ctx: &RequestCtx, body: &Value, started: std::time::Instant) -> Outcome;
}

/// The endpoint of a [`ServiceApi`].
pub(crate) fn service<A: ServiceApi>(call: Call) -> Answered {
    serve_service::<A>(call).into()
}

fn serve_service<A: ServiceApi>(mut call: Call) -> Response {
    let started = std::time::Instant::now();
    let mut ex = Exchange::new(&mut call);
    ex.set_service(A::SERVICE);
    // No fixture of the LLM pool answers here: chaos rolls with the request's and the server's
    // rates (and a fixture-less journal entry).
    if let Some(e) = ex.roll_chaos_unmatched() {
        return ex.fail(e);
    }
    let outcome = match serde_json::from_slice::<Value>(&call.body) {
        Err(e) => Outcome::err(A::malformed(&e), false),
        Ok(v) => {
            let v = Arc::new(v);
            ex.set_body(JournalBody::capped(call.body.len(), || {
                JournalBody::Json(v.clone())
            }));
            if v.is_object() {
                A::answer(&call, &ex.ctx, &v, started)
            } else {
                Outcome::err(A::invalid("the request body must be a JSON object"), false)
            }
        }
    };
    ex.set_source(if outcome.matched {
        "fixture"
    } else {
        "internal"
    });
    match outcome.result {
        Ok(v) => ex.reply(crate::http::json_response(StatusCode::OK, &v)),
        Err(e) => {
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                ex.set_miss_reason(e.message.clone());
            }
            ex.fail(e)
        }
    }
}
