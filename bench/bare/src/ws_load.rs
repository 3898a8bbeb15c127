//! The benchmark's WebSocket load generator: many concurrent sockets, each running short turns
//! (send the turn's messages, read events until the one that ends the turn), or many idle
//! sockets held open (for memory per idle socket).
//!
//! ```text
//! aimock-bench-ws turns [--per-socket=N] URL SOCKETS SECONDS UNTIL MESSAGE...
//!     Each of SOCKETS sockets runs turns for SECONDS: every MESSAGE (JSON text) is sent, then
//!     events are read until one whose top-level "type" is UNTIL. With --per-socket, a socket
//!     closes after N turns and a new one opens (a session of N turns: the Realtime API keeps
//!     the conversation, which grows with every turn). Prints
//!     `BENCH turns=<n> secs=<s> errors=<n> sockets=<n>`.
//! aimock-bench-ws idle URL SOCKETS
//!     Opens SOCKETS sockets, prints `READY <n>` once all are open, and holds them until stdin
//!     closes.
//! ```
//! Loopback only: the URL is the server under test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

fn usage() -> ! {
    eprintln!(
        "usage: aimock-bench-ws turns [--per-socket=N] URL SOCKETS SECONDS UNTIL MESSAGE... \
         | idle URL SOCKETS"
    );
    std::process::exit(2)
}

fn arg<T: std::str::FromStr>(v: Option<&String>) -> T {
    v.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage())
}

/// An event's top-level `type`; nested objects are skipped, not built (the generator must not be
/// the bottleneck). Servers order keys as they like: ours sorts them, so a nested `"type"` (an
/// item's, a content part's) often comes first in the text.
#[derive(serde::Deserialize)]
struct Kind<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// Whether an event's top-level `type` is `until`.
fn ends_turn(text: &str, until: &str) -> bool {
    serde_json::from_str::<Kind<'_>>(text).is_ok_and(|k| k.kind.as_deref() == Some(until))
}

/// The longest wait for a turn's next event: a server that stops answering is an error, not a
/// hung benchmark.
const STALL: Duration = Duration::from_secs(10);

/// What a `turns` run does.
struct Run {
    url: String,
    sockets: usize,
    secs: f64,
    until: String,
    messages: Vec<String>,
    /// Turns per socket before it is replaced (`None`: one socket for the whole run).
    per_socket: Option<u64>,
}

async fn turns(run: Run) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let opened = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(run.secs);
    let run = Arc::new(run);
    let mut tasks = Vec::new();
    for _ in 0..run.sockets {
        let run = run.clone();
        let (done, errors, opened) = (done.clone(), errors.clone(), opened.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let Ok((mut ws, _)) = tokio_tungstenite::connect_async(run.url.as_str()).await
                else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                opened.fetch_add(1, Ordering::Relaxed);
                let mut here = 0u64;
                'turns: while Instant::now() < end && run.per_socket.is_none_or(|n| here < n) {
                    for m in &run.messages {
                        if ws.send(Message::text(m.clone())).await.is_err() {
                            errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                    loop {
                        let Ok(next) = tokio::time::timeout(STALL, ws.next()).await else {
                            eprintln!("no event for {} s: the turn stalled", STALL.as_secs());
                            errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        };
                        match next {
                            Some(Ok(Message::Text(t))) => {
                                if ends_turn(t.as_str(), &run.until) {
                                    done.fetch_add(1, Ordering::Relaxed);
                                    here += 1;
                                    break;
                                }
                                if ends_turn(t.as_str(), "error") {
                                    errors.fetch_add(1, Ordering::Relaxed);
                                    break 'turns;
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                        }
                    }
                }
                let _ = ws.close(None).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "BENCH turns={} secs={:.3} errors={} sockets={}",
        done.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed),
        opened.load(Ordering::Relaxed)
    );
}

async fn idle(url: String, sockets: usize) {
    let mut held = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => held.push(ws),
            Err(e) => {
                eprintln!("connect failed after {} sockets: {e}", held.len());
                break;
            }
        }
    }
    println!("READY {}", held.len());
    // Hold them until stdin closes; keep reading each socket's first messages meanwhile (a
    // server that greets, `session.created`, must not block on a full buffer).
    let stdin = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        while std::io::stdin()
            .read_line(&mut s)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            s.clear();
        }
    });
    let _ = stdin.await;
    drop(held);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("no runtime: {e}");
            std::process::exit(1)
        });
    match args.get(1).map(String::as_str) {
        Some("turns") => {
            let mut rest = &args[2..];
            let mut per_socket = None;
            if let Some(n) = rest.first().and_then(|a| a.strip_prefix("--per-socket=")) {
                per_socket = Some(
                    n.parse::<u64>()
                        .ok()
                        .filter(|&n| n > 0)
                        .unwrap_or_else(|| usage()),
                );
                rest = &rest[1..];
            }
            if rest.len() < 5 {
                usage()
            }
            rt.block_on(turns(Run {
                url: rest[0].clone(),
                sockets: arg(rest.get(1)),
                secs: arg(rest.get(2)),
                until: rest[3].clone(),
                messages: rest[4..].to_vec(),
                per_socket,
            }))
        }
        Some("idle") if args.len() == 4 => rt.block_on(idle(args[2].clone(), arg(args.get(3)))),
        _ => usage(),
    }
}

#[cfg(test)]
mod tests {
    use super::ends_turn;

    #[test]
    fn the_turn_ends_on_its_type_only() {
        assert!(ends_turn(
            r#"{"type":"response.completed","x":1}"#,
            "response.completed"
        ));
        assert!(ends_turn(r#"{"type" : "response.done"}"#, "response.done"));
        assert!(!ends_turn(
            r#"{"type":"response.completed_x"}"#,
            "response.completed"
        ));
        assert!(!ends_turn(
            r#"{"type":"response.created"}"#,
            "response.completed"
        ));
        assert!(!ends_turn(r#"{"delta":"type"}"#, "response.completed"));
        // The top-level type, wherever it is, and not a nested one.
        assert!(ends_turn(
            r#"{"event_id":"e","response":{"output":[{"type":"message"}]},"type":"response.done"}"#,
            "response.done"
        ));
        assert!(!ends_turn(
            r#"{"item":{"type":"response.done"},"type":"conversation.item.done"}"#,
            "response.done"
        ));
    }
}
