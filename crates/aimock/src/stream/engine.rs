//! The one engine that sends a stream over time, for every streaming surface: a provider's
//! reply rendered in advance ([`paced_body`] with a [`StreamPlan`]), an AG-UI run whose events
//! are rendered when due ([`EventStream::rendered`]), and messages produced elsewhere while the
//! stream is open (MCP notifications, A2A task events: [`EventStream::live`] over a [`Feed`]).
//!
//! Each event goes out when it is due; events due at the same moment are written together, and
//! nothing waits for the rest of the stream. A stream can be cut on purpose
//! (`truncateAfterChunks`, `disconnectAfterMs`): the body then fails, and hyper drops the
//! connection without the final chunk, exactly what a client sees when a real connection dies.
//! How a stream ended is reported once ([`StreamEnd`]), a client that left included.

use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::{duration_ms, Pacing};

/// How a stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// Every event was written.
    Complete,
    /// Cut on purpose.
    Interrupted(&'static str),
    /// The client went away before the end.
    ClientGone,
}

/// A stream to send.
pub(crate) struct StreamPlan {
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

/// The response body for a plan.
pub(crate) fn paced_body(plan: StreamPlan) -> Body {
    let mut s = EventStream::new(Source::Ready(plan.events.into_iter()));
    s.head = plan.head;
    s.trailer = plan.trailer;
    s.pacing = plan.pacing;
    s.truncate_after = plan.truncate_after;
    s.disconnect_after = plan.disconnect_after;
    s.end = EndGuard::new(plan.on_end);
    s.into_body()
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

/// Messages produced elsewhere while a stream is open (a channel's receiving end): the engine
/// asks for the next one and writes it the moment it arrives.
pub(crate) trait Feed: Send + 'static {
    /// The next event, framed; `None` when there will be no more.
    fn next(&mut self) -> BoxFuture<'_, Option<Bytes>>;
}

/// Renders event `i` when it is due (its timestamp is the moment it is sent).
type Render = Box<dyn FnMut(usize) -> Bytes + Send>;

/// Where a stream's events come from.
enum Source {
    /// Rendered in advance.
    Ready(std::vec::IntoIter<Bytes>),
    /// `count` events, each rendered when due.
    Rendered { count: usize, render: Render },
    /// Produced elsewhere over time: each is written as it arrives; the stream ends with it.
    Live(Box<dyn Feed>),
}

/// A stream of events sent over time: its source, what goes before and after, when events are
/// due, where it is cut, and who hears how it ended.
pub(crate) struct EventStream {
    source: Source,
    head: Option<Bytes>,
    trailer: Vec<Bytes>,
    pacing: Pacing,
    truncate_after: Option<usize>,
    disconnect_after: Option<Duration>,
    /// A live stream writes this after this long without an event (an SSE comment), so idle
    /// streams stay open through proxies and a client that left is noticed.
    keepalive: Option<(Duration, Bytes)>,
    /// A live stream ends when this turns true (a graceful shutdown).
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    end: EndGuard,
}

impl EventStream {
    fn new(source: Source) -> EventStream {
        EventStream {
            source,
            head: None,
            trailer: Vec::new(),
            pacing: Pacing {
                replay_speed: 1.0,
                ..Pacing::default()
            },
            truncate_after: None,
            disconnect_after: None,
            keepalive: None,
            stop: None,
            end: EndGuard::new(None),
        }
    }

    /// `count` events rendered when due, at the times `pacing` gives.
    pub(crate) fn rendered(
        count: usize,
        pacing: Pacing,
        render: impl FnMut(usize) -> Bytes + Send + 'static,
    ) -> EventStream {
        let mut s = EventStream::new(Source::Rendered {
            count,
            render: Box::new(render),
        });
        s.pacing = pacing;
        s
    }

    /// Events from a feed, each written as it arrives; the stream ends when the feed does.
    pub(crate) fn live(feed: impl Feed) -> EventStream {
        EventStream::new(Source::Live(Box::new(feed)))
    }

    /// Written at once, before the first event.
    pub(crate) fn head(mut self, head: Bytes) -> EventStream {
        self.head = Some(head);
        self
    }

    /// After `every` without an event, write `comment` (a live stream only).
    pub(crate) fn keepalive(mut self, every: Duration, comment: Bytes) -> EventStream {
        self.keepalive = Some((every, comment));
        self
    }

    /// End (as complete) when `stop` turns true (a live stream only).
    pub(crate) fn until(mut self, stop: Option<tokio::sync::watch::Receiver<bool>>) -> EventStream {
        self.stop = stop;
        self
    }

    /// Tell `on_end` how the stream ended.
    pub(crate) fn on_end(
        mut self,
        on_end: Option<Box<dyn FnOnce(StreamEnd) + Send>>,
    ) -> EventStream {
        self.end = EndGuard::new(on_end);
        self
    }

    /// The response body.
    pub(crate) fn into_body(self) -> Body {
        let deadline = self.disconnect_after.map(|d| Instant::now() + d);
        let engine = Engine {
            s: self,
            index: 0,
            deadline,
            done: false,
        };
        Body::from_stream(futures_util::stream::unfold(engine, |mut e| async move {
            let out = e.next_frame().await?;
            Some((out, e))
        }))
    }
}

/// A stream being sent.
struct Engine {
    s: EventStream,
    /// Events written so far.
    index: usize,
    /// When `disconnectAfterMs` cuts it.
    deadline: Option<Instant>,
    done: bool,
}

/// What waiting for the next event gave.
enum Next {
    Event(Bytes),
    /// The source has no more (or the server is shutting down).
    End,
    /// `disconnectAfterMs` came first.
    Cut,
    /// A live stream was idle for the keepalive interval.
    Idle,
}

fn cut(reason: &'static str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, reason)
}

impl Engine {
    fn finish(&mut self, end: StreamEnd) {
        self.done = true;
        self.s.end.finish(end);
    }

    /// The frame to write next: every event due now, a keepalive, or the cut; `None` once the
    /// stream has ended.
    async fn next_frame(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        if let Some(head) = self.s.head.take() {
            return Some(Ok(head));
        }
        let mut buf = BytesMut::new();
        loop {
            if self.s.truncate_after.is_some_and(|n| self.index >= n) {
                if buf.is_empty() {
                    // Let hyper flush what was written before the cut, so the client sees the
                    // first events and then a dead connection.
                    tokio::task::yield_now().await;
                    self.finish(StreamEnd::Interrupted("truncateAfterChunks"));
                    return Some(Err(cut("truncateAfterChunks")));
                }
                // Send what is due first; the cut comes on the next poll.
                return Some(Ok(buf.freeze()));
            }
            let delay = match &self.s.source {
                Source::Ready(events) if events.as_slice().is_empty() => return self.end(buf),
                Source::Rendered { count, .. } if self.index >= *count => return self.end(buf),
                // What arrived goes out before waiting for more.
                Source::Live(_) if !buf.is_empty() => return Some(Ok(buf.freeze())),
                Source::Live(_) => 0.0,
                _ => self.s.pacing.delay_ms(self.index),
            };
            if delay > 0.0 && !buf.is_empty() {
                // Flush what is due now before waiting for the next event.
                return Some(Ok(buf.freeze()));
            }
            match self.wait(delay).await {
                Next::Event(event) => {
                    buf.extend_from_slice(&event);
                    self.index += 1;
                }
                Next::End => return self.end(buf),
                Next::Cut => {
                    self.finish(StreamEnd::Interrupted("disconnectAfterMs"));
                    return Some(Err(cut("disconnectAfterMs")));
                }
                Next::Idle => {
                    let comment = self.s.keepalive.as_ref().map(|(_, c)| c.clone());
                    return Some(Ok(comment.unwrap_or_default()));
                }
            }
        }
    }

    /// The end: the trailer goes with the last events, and the stream is complete.
    fn end(&mut self, mut buf: BytesMut) -> Option<Result<Bytes, std::io::Error>> {
        for t in std::mem::take(&mut self.s.trailer) {
            buf.extend_from_slice(&t);
        }
        self.finish(StreamEnd::Complete);
        (!buf.is_empty()).then(|| Ok(buf.freeze()))
    }

    /// Wait `delay_ms` (the cut first when it is due sooner), then the next event.
    async fn wait(&mut self, delay_ms: f64) -> Next {
        if delay_ms > 0.0 {
            let due = Instant::now() + duration_ms(delay_ms);
            if let Some(dl) = self.deadline.filter(|dl| *dl <= due) {
                tokio::time::sleep_until(dl).await;
                return Next::Cut;
            }
            tokio::time::sleep_until(due).await;
        } else if self.deadline.is_some_and(|dl| Instant::now() >= dl) {
            return Next::Cut;
        }
        let index = self.index;
        let s = &mut self.s;
        match &mut s.source {
            Source::Ready(events) => events.next().map_or(Next::End, Next::Event),
            Source::Rendered { render, .. } => Next::Event(render(index)),
            Source::Live(feed) => {
                let stop = async {
                    match s.stop.as_mut() {
                        Some(rx) => {
                            let _ = rx.wait_for(|down| *down).await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                let idle = async {
                    match &s.keepalive {
                        Some((every, _)) => tokio::time::sleep(*every).await,
                        None => std::future::pending::<()>().await,
                    }
                };
                let cut = async {
                    match self.deadline {
                        Some(dl) => tokio::time::sleep_until(dl).await,
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    got = feed.next() => got.map_or(Next::End, Next::Event),
                    () = stop => Next::End,
                    () = cut => Next::Cut,
                    () = idle => Next::Idle,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

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

    #[tokio::test(start_paused = true)]
    async fn rendered_events_are_made_when_due() {
        let pacing = Pacing::after_first(50.0);
        let start = tokio::time::Instant::now();
        let mut body = EventStream::rendered(3, pacing, move |i| {
            Bytes::from(format!("{i}@{};", start.elapsed().as_millis()))
        })
        .into_body();
        let mut frames = Vec::new();
        while let Some(f) = body.frame().await {
            frames.push(f.unwrap().into_data().unwrap());
        }
        assert_eq!(frames, ["0@0;", "1@50;", "2@100;"]);
    }

    struct Channel(tokio::sync::mpsc::UnboundedReceiver<&'static str>);

    impl Feed for Channel {
        fn next(&mut self) -> BoxFuture<'_, Option<Bytes>> {
            Box::pin(async { self.0.recv().await.map(Bytes::from) })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_stream_writes_each_event_as_it_arrives_and_keeps_idle_streams_open() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (end_tx, end_rx) = std::sync::mpsc::channel();
        let mut body = EventStream::live(Channel(rx))
            .head(Bytes::from_static(b"head;"))
            .keepalive(Duration::from_secs(15), Bytes::from_static(b": keepalive;"))
            .on_end(Some(Box::new(move |e| end_tx.send(e).unwrap())))
            .into_body();
        let mut next = async || body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(next().await, "head;");
        tx.send("a;").unwrap();
        assert_eq!(next().await, "a;");
        let start = tokio::time::Instant::now();
        assert_eq!(next().await, ": keepalive;");
        assert_eq!(start.elapsed(), Duration::from_secs(15));
        tx.send("b;").unwrap();
        assert_eq!(next().await, "b;");
        drop(tx);
        assert!(body.frame().await.is_none());
        assert_eq!(end_rx.recv().unwrap(), StreamEnd::Complete);
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_stream_ends_when_the_server_stops_and_reports_a_client_that_left() {
        let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut body = EventStream::live(Channel(rx))
            .until(Some(stop_rx))
            .into_body();
        stop_tx.send_replace(true);
        assert!(body.frame().await.is_none());

        let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (end_tx, end_rx) = std::sync::mpsc::channel();
        let body = EventStream::live(Channel(rx))
            .on_end(Some(Box::new(move |e| end_tx.send(e).unwrap())))
            .into_body();
        drop(body);
        assert_eq!(end_rx.recv().unwrap(), StreamEnd::ClientGone);
    }
}
