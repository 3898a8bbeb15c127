//! The benchmark's WebSocket load generator: many concurrent sockets, each running short turns
//! (send the turn's messages, read events until the one that ends the turn), or many idle
//! sockets held open (for memory per idle socket).
//!
//! ```text
//! aimock-bench-ws turns URL SOCKETS SECONDS UNTIL MESSAGE...
//!     Each of SOCKETS sockets runs turns for SECONDS: every MESSAGE (JSON text) is sent, then
//!     events are read until one whose "type" is UNTIL. Prints
//!     `BENCH turns=<n> secs=<s> errors=<n>`.
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
        "usage: aimock-bench-ws turns URL SOCKETS SECONDS UNTIL MESSAGE... | idle URL SOCKETS"
    );
    std::process::exit(2)
}

fn arg<T: std::str::FromStr>(v: Option<&String>) -> T {
    v.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage())
}

/// Whether an event's `type` is `until` (a scan for the key, not a parse: the generator must not
/// be the bottleneck).
fn ends_turn(text: &str, until: &str) -> bool {
    let Some(at) = text.find("\"type\"") else {
        return false;
    };
    let rest = text[at + 6..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let rest = rest.trim_start();
    rest.strip_prefix('"')
        .and_then(|r| r.strip_prefix(until))
        .is_some_and(|r| r.starts_with('"'))
}

async fn turns(url: String, sockets: usize, secs: f64, until: String, messages: Vec<String>) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..sockets {
        let (url, until, messages) = (url.clone(), until.clone(), messages.clone());
        let (done, errors) = (done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            'turns: while Instant::now() < end {
                for m in &messages {
                    if ws.send(Message::text(m.clone())).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        break 'turns;
                    }
                }
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) => {
                            if ends_turn(t.as_str(), &until) {
                                done.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            if ends_turn(t.as_str(), "error") {
                                errors.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            break 'turns;
                        }
                    }
                }
            }
            let _ = ws.close(None).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "BENCH turns={} secs={:.3} errors={}",
        done.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed)
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
        Some("turns") if args.len() >= 7 => rt.block_on(turns(
            args[2].clone(),
            arg(args.get(3)),
            arg(args.get(4)),
            args[5].clone(),
            args[6..].to_vec(),
        )),
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
    }
}
