//! Streams on the wire: framing (SSE and NDJSON here, AWS EventStream in [`eventstream`]) and pacing.
//!
//! A provider renders its reply into a list of already-framed events; [`paced_body`] sends each
//! when it is due. Events due at the same moment are written together; nothing waits for the rest
//! of the stream. A stream can be cut on purpose (`truncateAfterChunks`, `disconnectAfterMs`):
//! the body then fails, and hyper drops the connection without the final chunk, exactly what a
//! client sees when a real connection dies.
//!
//! This module knows nothing about providers, fixtures or chaos: what to cut and when comes in the
//! plan.

use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::stream;

use std::sync::Arc;

pub mod eventstream;

/// A `text/event-stream` response around a body.
pub(crate) fn sse_response(body: Body) -> axum::response::Response {
    stream_response(body, "text/event-stream")
}

/// A streamed response of a content type, with the headers that keep proxies from buffering it.
pub(crate) fn stream_response(body: Body, content_type: &'static str) -> axum::response::Response {
    use http::{header, HeaderValue};
    let mut resp = axum::response::Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// One NDJSON line.
pub fn ndjson_line(json: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + 1);
    b.extend_from_slice(json.as_bytes());
    b.extend_from_slice(b"\n");
    b.freeze()
}

/// An SSE event with only a `data:` line.
pub fn sse_data(json: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + 8);
    b.extend_from_slice(b"data: ");
    b.extend_from_slice(json.as_bytes());
    b.extend_from_slice(b"\n\n");
    b.freeze()
}

/// An SSE event with an `event:` line and a `data:` line.
pub fn sse_event(event: &str, json: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + event.len() + 16);
    b.extend_from_slice(b"event: ");
    b.extend_from_slice(event.as_bytes());
    b.extend_from_slice(b"\ndata: ");
    b.extend_from_slice(json.as_bytes());
    b.extend_from_slice(b"\n\n");
    b.freeze()
}

/// The longest any single delay can be (one day): fixture values beyond it are clamped, so no
/// value overflows a timer.
pub const MAX_DELAY_MS: f64 = 86_400_000.0;

/// A delay in milliseconds as a `Duration`, clamped to [0, [`MAX_DELAY_MS`]]; NaN counts as 0.
pub fn duration_ms(ms: f64) -> Duration {
    let ms = if ms.is_nan() {
        0.0
    } else {
        ms.clamp(0.0, MAX_DELAY_MS)
    };
    Duration::from_secs_f64(ms / 1000.0)
}

/// Streaming physics, as a fixture's `streamingProfile` gives it: the time to the first event and
/// the event rate after it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StreamingProfile {
    /// Milliseconds before the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft: Option<f64>,
    /// Events per second after the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tps: Option<f64>,
    /// Random variance, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
    /// Unknown fields (reported when a fixture is loaded).
    #[serde(flatten, skip_serializing)]
    pub extra: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Timings a recording captured: the first event's, then the gap before each later one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    /// Milliseconds to the first event.
    pub ttft_ms: f64,
    /// The gap before event `i + 1`, in milliseconds.
    pub gaps_ms: Arc<[f64]>,
}

/// When each event is due: aimock's precedence (streaming profile, then recorded timings, then
/// flat latency), divided by the replay speed. Cheap to clone (recorded gaps are shared).
#[derive(Debug, Clone, Default)]
pub struct Pacing {
    /// Flat delay before each event (ms).
    pub latency: f64,
    /// Profile.
    pub profile: Option<StreamingProfile>,
    /// Recorded timings.
    pub recorded: Option<Recorded>,
    /// Divides every delay.
    pub replay_speed: f64,
}

impl Pacing {
    /// Delay in ms before event `i`.
    pub fn delay_ms(&self, i: usize) -> f64 {
        let mut d = if let Some(p) = &self.profile {
            let (base, from_profile) = if i == 0 && p.ttft.is_some() {
                (p.ttft.unwrap_or(0.0), true)
            } else if let Some(tps) = p.tps.filter(|t| *t > 0.0) {
                (1000.0 / tps, true)
            } else {
                (self.latency, false)
            };
            match p.jitter {
                Some(j) if from_profile && j > 0.0 => {
                    let u: f64 = rand::random::<f64>() * 2.0 - 1.0;
                    (base * (1.0 + u * j)).max(0.0)
                }
                _ => base,
            }
        } else if let Some(r) = &self.recorded {
            if i == 0 {
                r.ttft_ms
            } else if let Some(d) = r.gaps_ms.get(i - 1) {
                *d
            } else if r.gaps_ms.is_empty() {
                0.0
            } else {
                r.gaps_ms.iter().sum::<f64>() / r.gaps_ms.len() as f64
            }
        } else {
            self.latency
        };
        d = d.max(0.0);
        if self.replay_speed > 0.0 {
            d /= self.replay_speed;
        }
        if d.is_finite() {
            d.min(MAX_DELAY_MS)
        } else {
            MAX_DELAY_MS
        }
    }
}

/// How a stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every event was written.
    Complete,
    /// Cut on purpose.
    Interrupted(&'static str),
    /// The client went away before the end.
    ClientGone,
}

/// A stream to send.
pub struct StreamPlan {
    /// Written at once, before the first event is due (not an event: never paced or counted).
    pub head: Option<Bytes>,
    /// Paced events (each counts as a chunk for truncation).
    pub events: Vec<Bytes>,
    /// Written right after the last event, unpaced (`data: [DONE]`, a usage chunk).
    pub trailer: Vec<Bytes>,
    /// When events are due.
    pub pacing: Pacing,
    /// Cut after this many events.
    pub truncate_after: Option<usize>,
    /// Cut this long after the start.
    pub disconnect_after: Option<Duration>,
    /// Told how the stream ended, once.
    pub on_end: Option<Box<dyn FnOnce(StreamEnd) + Send>>,
}

impl std::fmt::Debug for StreamPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamPlan")
            .field("events", &self.events.len())
            .field("pacing", &self.pacing)
            .finish()
    }
}

/// Reports how a stream ended, once: [`EndGuard::finish`] says how, and a guard dropped
/// before that (the body was dropped: the client left) reports [`StreamEnd::ClientGone`].
pub(crate) struct EndGuard(Option<Box<dyn FnOnce(StreamEnd) + Send>>);

impl EndGuard {
    /// A guard calling `on_end`, if any.
    pub(crate) fn new(on_end: Option<Box<dyn FnOnce(StreamEnd) + Send>>) -> EndGuard {
        EndGuard(on_end)
    }

    /// Report how the stream ended (only the first call counts).
    pub(crate) fn finish(&mut self, end: StreamEnd) {
        if let Some(f) = self.0.take() {
            f(end);
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.finish(StreamEnd::ClientGone);
    }
}

struct Sender {
    head: Option<Bytes>,
    events: std::vec::IntoIter<Bytes>,
    trailer: Vec<Bytes>,
    pacing: Pacing,
    index: usize,
    truncate_after: Option<usize>,
    deadline: Option<tokio::time::Instant>,
    end: EndGuard,
    done: bool,
}

impl Sender {
    fn finish(&mut self, end: StreamEnd) {
        self.done = true;
        self.end.finish(end);
    }
}

fn cut(reason: &'static str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, reason)
}

/// The response body for a plan.
pub fn paced_body(plan: StreamPlan) -> Body {
    let deadline = plan
        .disconnect_after
        .map(|d| tokio::time::Instant::now() + d);
    let sender = Sender {
        head: plan.head,
        events: plan.events.into_iter(),
        trailer: plan.trailer,
        pacing: plan.pacing,
        index: 0,
        truncate_after: plan.truncate_after,
        deadline,
        end: EndGuard::new(plan.on_end),
        done: false,
    };
    let s = stream::unfold(sender, |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(head) = st.head.take() {
            return Some((Ok(head), st));
        }
        let mut buf = BytesMut::new();
        loop {
            if st.truncate_after.is_some_and(|n| st.index >= n) {
                if buf.is_empty() {
                    // Let hyper flush what was written before the cut, so the client sees the
                    // first events and then a dead connection.
                    tokio::task::yield_now().await;
                    st.finish(StreamEnd::Interrupted("truncateAfterChunks"));
                    return Some((Err(cut("truncateAfterChunks")), st));
                }
                // Send what is due first; the cut comes on the next poll.
                return Some((Ok(buf.freeze()), st));
            }
            if st.events.as_slice().is_empty() {
                // The trailer is due with the last event.
                for t in std::mem::take(&mut st.trailer) {
                    buf.extend_from_slice(&t);
                }
                st.finish(StreamEnd::Complete);
                return Some((Ok(buf.freeze()), st));
            }
            let delay = st.pacing.delay_ms(st.index);
            if delay > 0.0 && !buf.is_empty() {
                // Flush what is due now before waiting for the next event.
                return Some((Ok(buf.freeze()), st));
            }
            let Some(event) = st.events.next() else {
                continue;
            };
            if delay > 0.0 {
                let due = tokio::time::Instant::now() + duration_ms(delay);
                if let Some(dl) = st.deadline.filter(|dl| *dl <= due) {
                    tokio::time::sleep_until(dl).await;
                    st.finish(StreamEnd::Interrupted("disconnectAfterMs"));
                    return Some((Err(cut("disconnectAfterMs")), st));
                }
                tokio::time::sleep_until(due).await;
            } else if let Some(dl) = st.deadline {
                if tokio::time::Instant::now() >= dl {
                    st.finish(StreamEnd::Interrupted("disconnectAfterMs"));
                    return Some((Err(cut("disconnectAfterMs")), st));
                }
            }
            buf.extend_from_slice(&event);
            st.index += 1;
        }
    });
    Body::from_stream(s)
}

/// Cut text into pieces of at most `size` characters (never inside a character).
pub fn chunk_text(text: &str, size: usize) -> Vec<&str> {
    let size = size.max(1);
    if text.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(text.len() / size + 1);
    let mut start = 0;
    let mut count = 0;
    for (i, _) in text.char_indices() {
        if count == size {
            out.push(&text[start..i]);
            start = i;
            count = 0;
        }
        count += 1;
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn chunk_text_cuts_by_characters_not_bytes() {
        assert_eq!(chunk_text("héllo wörld", 4), vec!["héll", "o wö", "rld"]);
        assert!(chunk_text("", 3).is_empty());
    }

    #[test]
    fn a_profile_sets_ttft_then_one_over_tps() {
        let p = Pacing {
            latency: 5.0,
            profile: Some(StreamingProfile {
                ttft: Some(200.0),
                tps: Some(40.0),
                ..Default::default()
            }),
            replay_speed: 2.0,
            ..Default::default()
        };
        assert_eq!(p.delay_ms(0), 100.0);
        assert_eq!(p.delay_ms(1), 12.5);
    }

    #[test]
    fn recorded_timings_beyond_the_recording_use_the_average_gap() {
        let p = Pacing {
            recorded: Some(Recorded {
                ttft_ms: 30.0,
                gaps_ms: vec![10.0, 20.0].into(),
            }),
            replay_speed: 1.0,
            ..Default::default()
        };
        assert_eq!(p.delay_ms(0), 30.0);
        assert_eq!(p.delay_ms(2), 20.0);
        assert_eq!(p.delay_ms(5), 15.0);
    }

    fn plan(events: &[&str], latency: f64) -> StreamPlan {
        StreamPlan {
            head: None,
            events: events.iter().map(|e| Bytes::from(e.to_string())).collect(),
            trailer: vec![Bytes::from_static(b"END")],
            pacing: Pacing {
                latency,
                replay_speed: 1.0,
                ..Default::default()
            },
            truncate_after: None,
            disconnect_after: None,
            on_end: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn events_due_later_are_written_separately_when_due() {
        let mut body = paced_body(plan(&["a", "b", "c"], 100.0));
        let start = tokio::time::Instant::now();
        let mut frames = Vec::new();
        while let Some(f) = body.frame().await {
            let f = f.unwrap().into_data().unwrap();
            frames.push((f, start.elapsed().as_millis()));
        }
        assert_eq!(frames[0].0, "a");
        assert_eq!(frames[0].1, 100);
        assert_eq!(frames[1].0, "b");
        assert_eq!(frames[1].1, 200);
        assert_eq!(frames.last().unwrap().0, "cEND");
        assert_eq!(frames.last().unwrap().1, 300);
    }

    #[tokio::test(start_paused = true)]
    async fn truncation_fails_the_body_after_n_events() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut p = plan(&["a", "b", "c"], 0.0);
        p.truncate_after = Some(2);
        p.on_end = Some(Box::new(move |e| tx.send(e).unwrap()));
        let mut body = paced_body(p);
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "ab");
        assert!(body.frame().await.unwrap().is_err());
        assert_eq!(
            rx.recv().unwrap(),
            StreamEnd::Interrupted("truncateAfterChunks")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn disconnect_after_ms_cuts_the_stream_when_the_timer_fires() {
        let mut p = plan(&["a", "b", "c", "d"], 100.0);
        p.disconnect_after = Some(Duration::from_millis(250));
        let mut body = paced_body(p);
        let start = tokio::time::Instant::now();
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "a"
        );
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "b"
        );
        assert!(body.frame().await.unwrap().is_err());
        assert_eq!(start.elapsed().as_millis(), 250);
    }
}
