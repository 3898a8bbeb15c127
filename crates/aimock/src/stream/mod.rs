//! Streams on the wire: framing (SSE and NDJSON here, AWS EventStream in [`eventstream`]),
//! pacing ([`Pacing`]: when each event is due), and the one engine that sends every stream over
//! time (`engine`): a provider's reply rendered in advance ([`paced_body`]), events rendered when
//! due (AG-UI), or messages produced while the stream is open (MCP, A2A), each written when due
//! and its end reported (delivered, interrupted, client gone).
//!
//! This module knows nothing about providers, fixtures or chaos: what to cut and when comes in the
//! plan.

use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};

use std::sync::Arc;

mod engine;
pub(crate) mod eventstream;
#[cfg(test)]
mod eventstream_tests;
pub(crate) mod socket;

pub(crate) use engine::{paced_body, StreamEnd, StreamPlan};
pub(crate) use engine::{EventStream, Feed};

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
pub(crate) fn ndjson_line(json: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + 1);
    b.extend_from_slice(json.as_bytes());
    b.extend_from_slice(b"\n");
    b.freeze()
}

/// An SSE event with only a `data:` line.
pub(crate) fn sse_data(json: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + 8);
    b.extend_from_slice(b"data: ");
    b.extend_from_slice(json.as_bytes());
    b.extend_from_slice(b"\n\n");
    b.freeze()
}

/// An SSE event with an `event:` line and a `data:` line.
pub(crate) fn sse_event(event: &str, json: &str) -> Bytes {
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
pub(crate) const MAX_DELAY_MS: f64 = 86_400_000.0;

/// A delay in milliseconds as a `Duration`, clamped to [0, [`MAX_DELAY_MS`]]; NaN counts as 0.
pub(crate) fn duration_ms(ms: f64) -> Duration {
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
    /// No delay before the first event, `ms` before each later one.
    pub(crate) fn after_first(ms: f64) -> Pacing {
        Pacing {
            recorded: Some(Recorded {
                ttft_ms: 0.0,
                // Past the recorded gaps, every gap is their average: `ms`.
                gaps_ms: Arc::from([ms]),
            }),
            replay_speed: 1.0,
            ..Pacing::default()
        }
    }

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

/// Cut text into pieces of at most `size` characters (never inside a character).
pub(crate) fn chunk_text(text: &str, size: usize) -> Vec<&str> {
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

    #[test]
    fn jitter_keeps_every_delay_within_base_times_one_plus_or_minus_jitter() {
        for (jitter, speed) in [(0.25, 1.0), (0.1, 2.0), (1.0, 1.0)] {
            let p = Pacing {
                latency: 7.0,
                profile: Some(StreamingProfile {
                    ttft: Some(200.0),
                    tps: Some(40.0),
                    jitter: Some(jitter),
                    ..Default::default()
                }),
                replay_speed: speed,
                ..Default::default()
            };
            for (index, base) in [(0usize, 200.0), (1, 25.0), (17, 25.0)] {
                let lo = base * (1.0 - jitter) / speed;
                let hi = base * (1.0 + jitter) / speed;
                let draws: Vec<f64> = (0..4000).map(|_| p.delay_ms(index)).collect();
                for d in &draws {
                    assert!(
                        *d >= lo - 1e-9 && *d <= hi + 1e-9,
                        "jitter {jitter}, speed {speed}, event {index}: {d} outside [{lo}, {hi}]"
                    );
                }
                // The draws really vary across the band (4000 draws: missing either outer quarter
                // has probability 0.75^4000).
                let min = draws.iter().copied().fold(f64::INFINITY, f64::min);
                let max = draws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let quarter = (hi - lo) / 4.0;
                assert!(min < lo + quarter, "min {min} for [{lo}, {hi}]");
                assert!(max > hi - quarter, "max {max} for [{lo}, {hi}]");
            }
        }

        // No jitter: exactly the base.
        let p = Pacing {
            profile: Some(StreamingProfile {
                ttft: Some(200.0),
                tps: Some(40.0),
                ..Default::default()
            }),
            replay_speed: 1.0,
            ..Default::default()
        };
        for _ in 0..100 {
            assert_eq!(p.delay_ms(0), 200.0);
            assert_eq!(p.delay_ms(3), 25.0);
        }
    }
}
