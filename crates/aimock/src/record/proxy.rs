//! The upstream call of record mode: forward the request, relay the reply to the caller as it
//! arrives (frame by frame for streams), time each frame, and save the result as a fixture.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::collapse::{self, Collapsed, Collapser, FrameSplitter, Framing};
use super::upstream::{upstream_parts, upstream_url, Credential};
use super::writer::FixtureWriter;
use super::{RecordConfig, MAX_PROXY_BUFFER_CEILING};
use crate::conversation::ChatRequest;
use crate::fixture::FixtureStore;
use crate::http::{ApiError, Envelope};
use crate::journal::{EntryHandle, Journal, JournalEntry};
use crate::metrics::Metrics;
use crate::stream::StreamEnd;

/// What record mode reaches of the server: implemented by the pipeline's core.
pub(crate) trait Host: Send + Sync + 'static {
    /// The recorder (record mode is on).
    fn recorder(&self) -> Option<&Recorder>;
    /// The journal.
    fn journal(&self) -> &Journal;
    /// The fixtures, where a recording is registered.
    fn fixtures(&self) -> &FixtureStore;
    /// The metrics, when on.
    fn metrics(&self) -> Option<&Metrics>;
    /// Whether inbound API keys are checked (the caller's key then never travels).
    fn auth_on(&self) -> bool;
}

/// Record mode's upstream client and fixture writer, built once at start.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) config: RecordConfig,
    client: reqwest::Client,
    writer: FixtureWriter,
    /// Relayed streams whose recording is not finished yet (shutdown waits for them).
    in_flight: std::sync::atomic::AtomicUsize,
}

impl Recorder {
    pub(crate) fn new(config: RecordConfig) -> Recorder {
        let client = crate::http::client::client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_millis(config.upstream_timeout_ms.max(1)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| {
                tracing::error!("record mode: cannot build the HTTP client: {e}");
                reqwest::Client::new()
            });
        Recorder {
            writer: FixtureWriter::new(config.fixture_path.clone()),
            client,
            config,
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Wait (at most `limit`) for the streams being relayed to finish and their recordings to
    /// be written: the server calls this when it shuts down.
    pub(crate) async fn settle(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.in_flight.load(std::sync::atomic::Ordering::Acquire) > 0 {
            if Instant::now() >= deadline {
                tracing::warn!("record: shutting down with a recording still being written");
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether a miss on the routes of the upstream named `key` goes upstream.
    pub(crate) fn proxies(&self, key: &str) -> bool {
        self.config.upstream(key).is_some()
    }
}

/// What a proxied miss needs, handed from the provider's handler to the route table (which holds
/// the body and can wait on the upstream).
#[derive(Debug)]
pub(crate) struct ProxyJobData {
    pub(crate) entry: JournalEntry,
    pub(crate) request: Option<Arc<ChatRequest>>,
    /// The upstream's name (`openai`, ...).
    pub(crate) upstream: &'static str,
    /// How its credential goes.
    pub(crate) credential: Credential,
    /// Reads its replies.
    pub(crate) collapse: &'static Collapser,
    pub(crate) test_id: String,
    pub(crate) context: Option<String>,
    pub(crate) envelope: Envelope,
    /// Chaos rolled "malformed": relay a broken body once the reply is recorded.
    pub(crate) malformed: bool,
}

/// Response headers not relayed to the caller.
fn relayable(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "content-length"
            | "content-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "set-cookie"
            | "x-request-id"
    )
}

/// Run a proxied miss: the caller gets the upstream's reply as it arrives; a complete 2xx reply
/// is saved (unless proxy-only) and answers the same request from then on.
pub(crate) async fn run<H: Host>(state: Arc<H>, job: ProxyJobData, body: Bytes) -> Response {
    let Some(recorder) = state.recorder() else {
        return fail(&*state, job, "record mode is off".to_owned());
    };
    let Some(base) = recorder.config.upstream(job.upstream) else {
        let msg = format!("no upstream for {}", job.upstream);
        return fail(&*state, job, msg);
    };
    let (headers, path) = match upstream_parts(
        &job.entry.headers,
        &job.entry.path,
        &recorder.config,
        job.upstream,
        job.credential,
        state.auth_on(),
    ) {
        Ok(h) => h,
        Err(e) => return fail(&*state, job, e),
    };
    let url = match upstream_url(base, &path) {
        Ok(u) => u,
        Err(e) => return fail(&*state, job, e),
    };
    let method =
        reqwest::Method::from_bytes(job.entry.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let started = Instant::now();
    let send = recorder
        .client
        .request(method, url.clone())
        .headers(headers)
        .body(body)
        .send();
    let head_timeout = Duration::from_millis(recorder.config.upstream_timeout_ms.max(1));
    let upstream = match tokio::time::timeout(head_timeout, send).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return fail(
                &*state,
                job,
                format!("Proxy to upstream failed: {}", describe_reqwest(&e)),
            )
        }
        Err(_) => {
            return fail(
                &*state,
                job,
                format!(
                    "Proxy to upstream failed: no response from {} within {} ms",
                    url.host_str().unwrap_or("upstream"),
                    head_timeout.as_millis()
                ),
            )
        }
    };
    let status = upstream.status();
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut relay_headers = HeaderMap::new();
    for (k, v) in upstream.headers() {
        if relayable(k) {
            relay_headers.append(k.clone(), v.clone());
        }
    }
    let wire = job.collapse;
    // A stream by its content type; Gemini's `streamGenerateContent` without `alt=sse` streams a
    // JSON array as `application/json`, relayed element by element all the same.
    // Otherwise a streamed reply is framed as its API frames streams.
    let framing = Framing::from_content_type(&content_type)
        .filter(|f| *f != Framing::JsonArray || job.entry.path.contains(":streamGenerateContent"))
        .map(|f| {
            if f == Framing::JsonArray {
                f
            } else {
                wire.framing
            }
        });
    if let (true, Some(framing)) = (status.is_success(), framing) {
        relay_stream(
            state.clone(),
            job,
            upstream,
            relay_headers,
            wire,
            framing,
            started,
        )
        .await
    } else {
        relay_whole(state.clone(), job, upstream, relay_headers, wire).await
    }
}

/// A reqwest error without its URL (whose query may hold a credential).
fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(url.as_str(), &crate::journal::redact_query(url.as_str()));
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// 502 in the provider's envelope, journaled as a proxy answer.
fn fail<H: Host + ?Sized>(state: &H, mut job: ProxyJobData, message: String) -> Response {
    tracing::warn!(provider = job.upstream, "{message}");
    job.entry.response.status = StatusCode::BAD_GATEWAY.as_u16();
    job.entry.response.source = Some("proxy");
    let err = ApiError::new(StatusCode::BAD_GATEWAY, "proxy_error", message);
    let resp = (job.envelope)(&err, &job.entry.headers);
    state.journal().record(job.entry);
    resp
}

/// A reply read whole, then relayed. 2xx JSON replies are recorded.
async fn relay_whole<H: Host>(
    state: Arc<H>,
    mut job: ProxyJobData,
    mut upstream: reqwest::Response,
    headers: HeaderMap,
    wire: &'static Collapser,
) -> Response {
    let Some(recorder) = state.recorder() else {
        return fail(&*state, job, "record mode is off".to_owned());
    };
    let status = upstream.status();
    let body_timeout = Duration::from_millis(recorder.config.body_timeout_ms.max(1));
    let mut buf: Vec<u8> = Vec::new();
    loop {
        match tokio::time::timeout(body_timeout, upstream.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                if buf.len() + chunk.len() > MAX_PROXY_BUFFER_CEILING {
                    return fail(
                        &*state,
                        job,
                        format!(
                            "Proxy to upstream failed: the reply is larger than {MAX_PROXY_BUFFER_CEILING} bytes"
                        ),
                    );
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                return fail(
                    &*state,
                    job,
                    format!(
                        "Proxy to upstream failed while reading the reply: {}",
                        describe_reqwest(&e)
                    ),
                )
            }
            Err(_) => {
                return fail(
                    &*state,
                    job,
                    format!(
                        "Proxy to upstream failed: the reply stalled for {} ms",
                        body_timeout.as_millis()
                    ),
                )
            }
        }
    }
    let mut record_error = None;
    let keep_error = records_error(status);
    if keep_error
        && !recorder.config.proxy_only
        && buf.len() <= recorder.config.max_proxy_buffer_bytes
    {
        let collapsed = collapse::collapse_error(wire, status.as_u16(), &buf);
        if let Err(e) = save(&*state, &job, collapsed, None).await {
            record_error = Some(e);
        }
    } else if status.is_success()
        && !recorder.config.proxy_only
        && buf.len() <= recorder.config.max_proxy_buffer_bytes
    {
        let audio = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|ct| ct.to_ascii_lowercase().starts_with("audio/"));
        let collapsed = match audio {
            Some(ct) => Some(collapse::collapse_audio(ct, &buf)),
            None => collapse::collapse_json(wire, &buf),
        };
        match collapsed {
            Some(collapsed) => {
                if let Err(e) = save(&*state, &job, collapsed, None).await {
                    record_error = Some(e);
                }
            }
            None => {
                tracing::warn!(
                    provider = job.upstream,
                    "record: the upstream reply could not be read as a {} reply; not recorded",
                    wire.name
                );
            }
        }
    }
    job.entry.response.status = status.as_u16();
    job.entry.response.source = Some("proxy");
    let malformed = job.malformed;
    if malformed {
        job.entry.response.chaos_action = Some("malformed");
        if let Some(m) = state.metrics() {
            m.chaos_triggered("malformed", "proxy");
        }
    }
    state.journal().record(job.entry);
    let mut resp = if malformed {
        crate::chaos::malformed_response()
    } else {
        let mut r = Response::new(Body::from(buf));
        *r.status_mut() = status;
        *r.headers_mut() = headers;
        r
    };
    if let Some(e) = record_error {
        if let Ok(v) = HeaderValue::from_str(&sanitize_header(&e)) {
            resp.headers_mut().insert("x-aimock-record-error", v);
        }
    }
    resp
}

/// Which upstream errors become fixtures: those that say something about the request (400 for a
/// bad parameter, 413, 422). Credential errors (401, 403), a 404, and transient ones (408, 409,
/// 429, every 5xx) are relayed but never saved: replaying them forever would turn a passing moment
/// or a misconfiguration into a permanent failure.
fn records_error(status: StatusCode) -> bool {
    // Not a 404: a wrong base URL (`https://api.openai.com/v1` + `/v1/...`) gives one, and it
    // would replay forever.
    matches!(status.as_u16(), 400 | 413 | 422)
}

fn sanitize_header(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(512)
        .collect()
}

/// A streamed reply: each upstream chunk goes to the caller as it arrives, and into the
/// recording buffer (within its cap) with the arrival time of every frame it completes.
async fn relay_stream<H: Host>(
    state: Arc<H>,
    mut job: ProxyJobData,
    upstream: reqwest::Response,
    headers: HeaderMap,
    wire: &'static Collapser,
    framing: Framing,
    started: Instant,
) -> Response {
    let Some(recorder) = state.recorder() else {
        return fail(&*state, job, "record mode is off".to_owned());
    };
    let body_timeout = Duration::from_millis(recorder.config.body_timeout_ms.max(1));
    let max_bytes = recorder
        .config
        .max_proxy_buffer_bytes
        .min(MAX_PROXY_BUFFER_CEILING);
    let max_frames = recorder.config.max_proxy_buffer_frames;
    let proxy_only = recorder.config.proxy_only;
    if job.malformed {
        // Chaos cannot break a body that is already streaming: the action is bypassed.
        job.malformed = false;
        tracing::warn!("chaos malformed bypassed on proxy: the upstream streamed its reply");
        if let Some(m) = state.metrics() {
            let reason = match framing {
                Framing::Ndjson => "ndjson_streamed",
                Framing::EventStream => "binary_streamed",
                Framing::Sse | Framing::JsonArray => "sse_streamed",
            };
            m.chaos_bypassed("malformed", "proxy", reason);
        }
    }
    job.entry.response.status = 200;
    job.entry.response.source = Some("proxy");
    job.entry.response.delivered = None;
    let handle = state.journal().record(std::mem::replace(
        &mut job.entry,
        JournalEntry::new("", "", HeaderMap::new(), crate::journal::JournalBody::None),
    ));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let task_state = state.clone();
    recorder
        .in_flight
        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    tokio::spawn(async move {
        let _done = InFlight(task_state.clone());
        pump(
            task_state,
            job,
            upstream,
            tx,
            Pump {
                wire,
                framing,
                started,
                body_timeout,
                max_bytes,
                max_frames,
                proxy_only,
                handle,
            },
        )
        .await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.headers_mut() = headers;
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Counts a relayed stream out of [`Recorder::settle`] when its task ends, however it ends.
struct InFlight<H: Host>(Arc<H>);

impl<H: Host> Drop for InFlight<H> {
    fn drop(&mut self) {
        if let Some(r) = self.0.recorder() {
            r.in_flight
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}

struct Pump {
    wire: &'static Collapser,
    framing: Framing,
    started: Instant,
    body_timeout: Duration,
    max_bytes: usize,
    max_frames: usize,
    proxy_only: bool,
    handle: EntryHandle,
}

/// How a relayed stream ended.
#[derive(Debug, PartialEq)]
enum End {
    Complete,
    ClientGone,
    UpstreamFailed(String),
}

async fn pump<H: Host>(
    state: Arc<H>,
    job: ProxyJobData,
    mut upstream: reqwest::Response,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    p: Pump,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut over_cap = false;
    let mut splitter = if p.framing == Framing::JsonArray {
        FrameSplitter::with_framing(Framing::JsonArray)
    } else {
        FrameSplitter::with_framing(p.wire.framing)
    };
    let mut frame_times: Vec<f64> = Vec::new();
    let end = loop {
        match tokio::time::timeout(p.body_timeout, upstream.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let now_ms = p.started.elapsed().as_secs_f64() * 1000.0;
                if !over_cap {
                    if buf.len() + chunk.len() > p.max_bytes {
                        over_cap = true;
                        buf = Vec::new();
                        tracing::warn!(
                            "record: the streamed reply is over the {}-byte buffer cap; relaying it without recording",
                            p.max_bytes
                        );
                    } else {
                        buf.extend_from_slice(&chunk);
                        let frames = splitter.push(&chunk);
                        for _ in 0..frames {
                            if frame_times.len() < p.max_frames {
                                frame_times.push(now_ms);
                            }
                        }
                    }
                }
                // A caller that stops reading for as long as the upstream may stall counts as
                // gone: it must not hold the upstream connection and the buffer for ever.
                match tokio::time::timeout(p.body_timeout, tx.send(Ok(chunk))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => break End::ClientGone,
                }
            }
            Ok(Ok(None)) => break End::Complete,
            Ok(Err(e)) => break End::UpstreamFailed(describe_reqwest(&e)),
            Err(_) => {
                break End::UpstreamFailed(format!(
                    "the stream stalled for {} ms",
                    p.body_timeout.as_millis()
                ))
            }
        }
    };
    if let End::UpstreamFailed(reason) = &end {
        tracing::warn!(
            provider = job.upstream,
            "record: upstream stream failed: {reason}"
        );
        let _ = tx
            .send(Err(std::io::Error::other(format!(
                "upstream stream failed: {reason}"
            ))))
            .await;
    }
    // `tx` lives to the end of this function: the caller's stream ends only once the recording
    // is written and registered, so an identical request sent the moment it ends replays.
    crate::journal::on_stream_end(p.handle.clone())(match &end {
        End::Complete => StreamEnd::Complete,
        End::ClientGone => StreamEnd::ClientGone,
        End::UpstreamFailed(_) => StreamEnd::Interrupted("upstreamFailed"),
    });
    if p.proxy_only || over_cap {
        return;
    }
    // Collapsing up to the buffer cap is CPU work: off the event loop.
    let (wire, framing, complete) = (p.wire, p.framing, end == End::Complete);
    let collapsed = tokio::task::spawn_blocking(move || {
        if framing == Framing::JsonArray {
            collapse::collapse_json(wire, &buf).map(|mut c| {
                c.complete = complete;
                c
            })
        } else {
            Some(collapse::collapse_stream(wire, &buf))
        }
    })
    .await
    .ok()
    .flatten();
    // Only a stream whose last event arrived is recorded: one the caller left, the upstream cut,
    // or that carried an error event instead of its end would replay as a broken reply forever.
    let Some(collapsed) = collapsed.filter(|c| c.complete) else {
        tracing::warn!(
            provider = job.upstream,
            "record: the stream ended before its last event ({end:?}); not recorded"
        );
        return;
    };
    let timings = timings(&frame_times);
    if let Err(e) = save(&*state, &job, collapsed, Some(timings)).await {
        tracing::error!("record: {e}");
        p.handle.update(|en| {
            en.miss_reason = Some(format!("recording failed: {e}"));
        });
    }
}

/// `recordedTimings` from frame arrival times (ms since the request was sent).
pub(crate) fn timings(frames: &[f64]) -> Value {
    let ttft = frames.first().copied().unwrap_or(0.0);
    let gaps: Vec<f64> = frames
        .windows(2)
        .map(|w| round2((w[1] - w[0]).max(0.0)))
        .collect();
    let total = frames.last().copied().unwrap_or(0.0);
    json!({
        "ttftMs": round2(ttft),
        "interChunkDelaysMs": gaps,
        "totalDurationMs": round2(total),
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Write the recording and register it, so the same request replays from now on.
async fn save<H: Host + ?Sized>(
    state: &H,
    job: &ProxyJobData,
    collapsed: Collapsed,
    timings: Option<Value>,
) -> Result<(), String> {
    let Some(req) = job.request.as_deref() else {
        return Err("the request was not kept; nothing recorded".to_owned());
    };
    let turn = Recording {
        upstream: job.upstream,
        request: req,
        test_id: &job.test_id,
        context: job.context.as_deref(),
    };
    save_recording(state, &turn, collapsed, timings).await
}

/// What a recording is keyed by: the upstream, the request as matched, its test id and context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recording<'a> {
    pub(crate) upstream: &'static str,
    pub(crate) request: &'a ChatRequest,
    pub(crate) test_id: &'a str,
    pub(crate) context: Option<&'a str>,
}

/// Write a collapsed reply as a fixture and register it (HTTP replies and WebSocket turns).
pub(crate) async fn save_recording<H: Host + ?Sized>(
    state: &H,
    rec: &Recording<'_>,
    collapsed: Collapsed,
    timings: Option<Value>,
) -> Result<(), String> {
    let Some(recorder) = state.recorder() else {
        return Ok(());
    };
    let req = rec.request;
    let (matcher, metadata) =
        super::key::recorded_match(req, rec.context, recorder.config.record_full_model_version);
    let mut entry = json!({ "match": matcher, "response": collapsed.response });
    if let (Some(t), Some(o)) = (timings, entry.as_object_mut()) {
        o.insert("recordedTimings".to_owned(), t);
    }
    if let Some(o) = entry.as_object_mut() {
        if metadata.as_object().is_some_and(|m| !m.is_empty()) {
            o.insert("metadata".to_owned(), metadata);
        }
    }
    let mut warnings = collapsed.warnings.clone();
    if !collapsed.complete {
        warnings.push("the stream ended without its final event".to_owned());
    }
    if collapsed.dropped_frames > 0 {
        warnings.push(format!(
            "{} malformed frame(s) skipped",
            collapsed.dropped_frames
        ));
    }
    // The recording must load back before it is written: a file that does not would stop the
    // next `--validate-on-load` start.
    let report =
        crate::fixture::load::parse_value(json!({ "fixtures": [entry.clone()] }), "recording");
    if report.has_errors() {
        let msgs: Vec<String> = report.errors().map(|p| p.to_string()).collect();
        return Err(format!(
            "the recording does not load back, so it was not written: {}",
            msgs.join("; ")
        ));
    }
    let test_id = Some(rec.test_id).filter(|t| *t != crate::fixture::DEFAULT_TEST_ID);
    let path = recorder
        .writer
        .write(rec.upstream, test_id, rec.context, entry.clone(), &warnings)
        .await
        .map_err(|e| format!("could not write the recording: {e}"))?;
    tracing::info!(file = %path.display(), "recorded a {} reply", rec.upstream);
    let registrable = entry.get("match").is_some_and(super::key::is_anchored);
    if !registrable {
        tracing::warn!(
            file = %path.display(),
            "record: the request had nothing to match on; saved, but not served until edited"
        );
        return Ok(());
    }
    state.fixtures().append(report.fixtures);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_are_the_first_frame_and_the_gaps() {
        let t = timings(&[12.0, 15.5, 20.0]);
        assert_eq!(t["ttftMs"], 12.0);
        assert_eq!(t["interChunkDelaysMs"], json!([3.5, 4.5]));
        assert_eq!(t["totalDurationMs"], 20.0);
    }
}
