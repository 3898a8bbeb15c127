//! Streaming physics over a real socket: `disconnectAfterMs`, `replaySpeed`, the server's latency,
//! `streamingProfile`, a client that goes away mid-stream, and jitter bounds.
//!
//! Timing assertions only bound in the direction a slow machine cannot break: a paced stream can
//! be late, never early, so lower bounds on a real socket are tight; an upper bound ("took less
//! than") is only checked in-process on tokio's paused clock (see `support::router`), where a
//! delay takes exactly its milliseconds whatever the load.

use std::sync::Arc;
use std::time::Duration;

use aimock::fixture::StreamingProfile;
use aimock::server::{AppState, ServerConfig};
use aimock::{FixtureEntry, MatchSpec, MockServer, ResponseSpec};
use tokio::time::Instant;

use crate::support::{self, journal, router, stream_chat};

/// A fixture answering `text` with `reply`, streamed `chunk` characters at a time.
fn entry(text: &str, reply: &str, chunk: u64) -> FixtureEntry {
    FixtureEntry::new(MatchSpec::user_message(text), ResponseSpec::text(reply)).chunk_size(chunk)
}

/// What a client saw of a stream.
#[derive(Debug)]
struct Seen {
    /// Each read, with when it arrived (since the request was sent).
    reads: Vec<(Duration, String)>,
    /// The error that ended the body, if it did not end cleanly.
    error: Option<String>,
    /// When the body ended (cleanly or not).
    total: Duration,
}

impl From<support::Body> for Seen {
    fn from(b: support::Body) -> Seen {
        Seen {
            reads: b
                .reads
                .iter()
                .map(|(at, c)| (*at, String::from_utf8_lossy(c).into_owned()))
                .collect(),
            error: b.error,
            total: b.total,
        }
    }
}

impl Seen {
    fn text(&self) -> String {
        self.reads.iter().map(|(_, t)| t.as_str()).collect()
    }

    /// Number of SSE events received.
    fn events(&self) -> usize {
        self.text().matches("data: ").count()
    }

    /// The streamed assistant text.
    fn content(&self) -> String {
        support::content_deltas(&self.text()).concat()
    }
}

/// A streamed chat completion over the socket, read as it arrives.
async fn stream(s: &MockServer, text: &str) -> Seen {
    let started = Instant::now();
    let r = support::post(s, "/v1/chat/completions", &stream_chat(text), &[]).await;
    assert_eq!(r.status(), 200);
    support::read_body(r.bytes_stream(), started).await.into()
}

/// [`stream`] answered in-process by the router, timed on tokio's clock (paused in the tests
/// that use it).
async fn stream_in_process(s: &Arc<AppState>, text: &str) -> Seen {
    let started = Instant::now();
    let r = router::post(s, "/v1/chat/completions", &stream_chat(text), &[]).await;
    assert_eq!(r.status(), 200);
    router::read(r, started).await.into()
}

#[tokio::test]
async fn disconnect_after_ms_delivers_the_events_due_before_it_then_drops_the_connection() {
    let s = MockServer::start().await;
    // Role + 10 one-letter deltas + finish: 12 events, 100 ms apart, 1.2 s in all.
    let mut e = entry("cut", "abcdefghij", 1).latency(100.0);
    e.disconnect_after_ms = Some(250.0);
    s.add(e).unwrap();

    let seen = stream(&s, "cut").await;
    assert!(
        seen.error.is_some(),
        "the stream ended cleanly: {:?}",
        seen.text()
    );
    let text = seen.text();
    assert!(!text.contains("[DONE]"), "{text}");
    // Events are due at 100 and 200 ms; the cut at 250 ms. A slow server only delivers fewer.
    let events = seen.events();
    assert!(
        (1..=2).contains(&events),
        "{events} events before the cut: {text}"
    );
    assert!(
        seen.total >= Duration::from_millis(230),
        "cut after {:?}, before disconnectAfterMs",
        seen.total
    );

    let entry = s.last_request().unwrap();
    assert!(entry.response.interrupted);
    assert_eq!(
        entry.response.interrupt_reason.as_deref(),
        Some("disconnectAfterMs")
    );
    assert_eq!(entry.response.delivered, Some(false));
    let j = journal(&s).await;
    let r = &j[0]["response"];
    assert_eq!(r["status"], 200);
    assert_eq!(r["interrupted"], true);
    assert_eq!(r["interruptReason"], "disconnectAfterMs");
    assert_eq!(r["delivered"], false);
}

/// In-process on the paused clock: "less than 2 s" cannot race a loaded machine there.
#[tokio::test(start_paused = true)]
async fn replay_speed_divides_a_fixtures_latency_but_the_stream_is_still_paced() {
    let s = router::app(ServerConfig::default(), None);
    // Role + 6 deltas + finish: 8 events of 500 ms, 4 s unscaled; 80 ms at 50x.
    let mut e = entry("fast", "aaabbbcccdddeeefff", 3).latency(500.0);
    e.replay_speed = Some(50.0);
    support::add_entries(&s, [e]);

    let seen = stream_in_process(&s, "fast").await;
    assert!(seen.error.is_none());
    assert_eq!(seen.events(), 9, "{}", seen.text());
    assert!(seen.text().ends_with("data: [DONE]\n\n"));
    assert_eq!(seen.content(), "aaabbbcccdddeeefff");
    assert!(
        seen.total < Duration::from_secs(2),
        "replaySpeed 50 took {:?}",
        seen.total
    );
    assert!(
        seen.total >= Duration::from_millis(70),
        "8 events 10 ms apart came in {:?}",
        seen.total
    );
    assert!(
        seen.reads.len() > 1,
        "the paced stream came in one write: {:?}",
        seen.reads
    );
}

/// In-process on the paused clock: "less than 600 ms" cannot race a loaded machine there.
#[tokio::test(start_paused = true)]
async fn the_servers_latency_paces_fixtures_without_their_own_and_not_those_with_one() {
    let s = router::app(
        ServerConfig {
            latency: 100.0,
            ..ServerConfig::default()
        },
        None,
    );
    // Role + 6 deltas + finish: 8 events.
    support::add_entries(
        &s,
        [
            entry("server paced", "aaabbbcccdddeeefff", 3),
            entry("own latency", "aaabbbcccdddeeefff", 3).latency(0.0),
        ],
    );

    let paced = stream_in_process(&s, "server paced").await;
    assert!(paced.error.is_none());
    assert_eq!(paced.content(), "aaabbbcccdddeeefff");
    assert!(
        paced.total >= Duration::from_millis(780),
        "8 events at the server's 100 ms took {:?}",
        paced.total
    );
    assert!(
        paced.reads[0].0 >= Duration::from_millis(90),
        "first event after {:?}",
        paced.reads[0].0
    );
    assert!(paced.reads.len() > 1);

    let own = stream_in_process(&s, "own latency").await;
    assert!(own.error.is_none());
    assert_eq!(own.content(), "aaabbbcccdddeeefff");
    assert!(
        own.total < Duration::from_millis(600),
        "a fixture with latency 0 took {:?}",
        own.total
    );
}

#[tokio::test]
async fn a_streaming_profile_holds_the_first_event_for_ttft_and_paces_the_rest_by_tps() {
    let s = MockServer::start().await;
    // Role + 4 one-letter deltas + finish: 6 events; 300 ms, then 5 x 50 ms.
    let mut e = entry("profile", "abcd", 1);
    e.streaming_profile = Some(StreamingProfile {
        ttft: Some(300.0),
        tps: Some(20.0),
        ..Default::default()
    });
    s.add(e).unwrap();

    let seen = stream(&s, "profile").await;
    assert!(seen.error.is_none());
    assert_eq!(seen.content(), "abcd");
    let n = seen.events() - 1; // without [DONE]
    assert_eq!(n, 6);
    let first = seen
        .reads
        .iter()
        .find(|(_, t)| t.contains("data: "))
        .unwrap()
        .0;
    assert!(
        first >= Duration::from_millis(250),
        "first event after {first:?}, before ttft"
    );
    let floor = 300.0 + (n as f64 - 1.0) * 1000.0 / 20.0 - 50.0;
    assert!(
        seen.total.as_secs_f64() * 1000.0 >= floor,
        "{n} events took {:?}, less than ttft + (n-1)/tps",
        seen.total
    );
}

#[tokio::test]
async fn a_client_that_goes_away_mid_stream_leaves_delivered_false_in_the_journal() {
    let s = MockServer::start().await;
    // Role + 30 deltas + finish, 100 ms apart: 3.2 s if nobody hung up.
    s.add(entry("long", &"z".repeat(30), 1).latency(100.0))
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut r = client
        .post(format!("{}/v1/chat/completions", s.uri()))
        .json(&stream_chat("long"))
        .send()
        .await
        .unwrap();
    let first = r.chunk().await.unwrap().expect("a first event");
    assert!(String::from_utf8_lossy(&first).contains("data: "));
    assert_eq!(s.last_request().unwrap().response.delivered, None);
    drop(r);
    drop(client);

    // The server notices on its next writes; wait for it, boundedly.
    let entry = support::eventually(async || {
        let e = s.last_request().unwrap();
        match e.response.delivered {
            Some(_) => Ok(e),
            None => Err(format!("the stream never ended: {e:?}")),
        }
    })
    .await;
    assert_eq!(entry.response.delivered, Some(false));
    assert!(entry.response.interrupted);
    let j = journal(&s).await;
    assert_eq!(j[0]["response"]["delivered"], false);
}
