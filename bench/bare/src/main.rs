//! `aimock-bench-bare`: the floor the benchmark measures our server against.
//!
//! A hand-written hyper server that does the least a server can do for the chat scenario: read
//! the whole request body, then answer `200` with fixed headers (`--headers-file`, one
//! `name: value` per line; `content-type: application/json` without it) and a fixed body
//! (`--body-file`), both loaded once at start. No routing, no parsing, no journal. `bench/run.sh`
//! feeds it the exact response our server gives to the chat request, its headers and its body
//! (hyper adds `content-length` and `date` to both), so both servers write the same bytes and the
//! difference in CPU per request between the two is what our server's own work costs.
//!
//! The setup is the same as our binary's, so the comparison is fair:
//! - one current-thread tokio runtime by default, a multi-thread one with `--threads N` (N > 1);
//! - mimalloc as the global allocator;
//! - TCP_NODELAY on every accepted connection;
//! - HTTP/1.1 with keep-alive (hyper's default), one task per connection.
//!
//! Usage: `aimock-bench-bare --body-file PATH [--headers-file PATH] [-p|--port PORT] [--host HOST]
//! [--threads N]`.
//! It prints `aimock-bench-bare listening on http://HOST:PORT` once it accepts connections, and
//! stops on SIGTERM or SIGINT (the default action).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const USAGE: &str = "usage: aimock-bench-bare --body-file PATH [--headers-file PATH] [-p|--port PORT] [--host HOST] [--threads N]";

/// The command line.
#[derive(Debug)]
struct Args {
    body_file: String,
    headers_file: Option<String>,
    host: String,
    port: u16,
    threads: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut body_file = None;
    let mut headers_file = None;
    let mut host = "127.0.0.1".to_owned();
    let mut port: u16 = 4010;
    let mut threads: usize = 1;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (flag.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{name} needs a value\n{USAGE}")),
        };
        match name.as_str() {
            "--body-file" => body_file = Some(value),
            "--headers-file" => headers_file = Some(value),
            "--host" => host = value,
            "-p" | "--port" => {
                port = value.parse().map_err(|e| format!("--port {value}: {e}"))?;
            }
            "--threads" => {
                threads = value
                    .parse()
                    .map_err(|e| format!("--threads {value}: {e}"))?;
                if threads == 0 {
                    return Err("--threads must be at least 1".to_owned());
                }
            }
            _ => return Err(format!("unknown argument {name}\n{USAGE}")),
        }
    }
    let body_file = body_file.ok_or_else(|| format!("--body-file is required\n{USAGE}"))?;
    Ok(Args {
        body_file,
        headers_file,
        host,
        port,
        threads,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let body = match std::fs::read(&args.body_file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read --body-file {}: {e}", args.body_file);
            return ExitCode::FAILURE;
        }
    };
    // Leaked once, so every response's body is a `Bytes::from_static`: cloning it costs nothing
    // (no reference count), as it should for the fastest server.
    let body: &'static [u8] = Box::leak(body.into_boxed_slice());
    let headers = match &args.headers_file {
        None => {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h
        }
        Some(path) => match read_headers(path) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("--headers-file {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    // Leaked too: every response clones it whole, as our server clones its fixed JSON headers.
    let headers: &'static HeaderMap = Box::leak(Box::new(headers));

    // The same runtime choice as our binary: one event loop unless more threads are asked for.
    let built = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args, body, headers)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `name: value` lines, in order; blank lines are skipped.
fn read_headers(path: &str) -> Result<HeaderMap, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("not a `name: value` line: {line:?}"))?;
        let name =
            HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| format!("{name:?}: {e}"))?;
        let value = HeaderValue::from_str(value.trim()).map_err(|e| format!("{value:?}: {e}"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

async fn run(args: &Args, body: &'static [u8], headers: &'static HeaderMap) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
    let port = listener.local_addr()?.port();
    let host = if args.host.contains(':') {
        format!("[{}]", args.host)
    } else {
        args.host.clone()
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "aimock-bench-bare listening on http://{host}:{port}")?;
        out.flush()?;
    }

    let builder = http1::Builder::new();
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            eprintln!("TCP_NODELAY not set on a connection: {e}");
        }
        let conn = builder.serve_connection(
            TokioIo::new(tcp),
            service_fn(move |req| answer(req, body, headers)),
        );
        tokio::spawn(async move {
            // A client that goes away mid-request is not worth a line under load.
            let _ = conn.await;
        });
    }
}

/// Read the whole request body, then answer the fixed headers and body.
async fn answer(
    req: Request<Incoming>,
    body: &'static [u8],
    headers: &'static HeaderMap,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let mut incoming = req.into_body();
    while let Some(frame) = incoming.frame().await {
        frame?;
    }
    let mut resp = Response::new(Full::new(Bytes::from_static(body)));
    *resp.headers_mut() = headers.clone();
    Ok(resp)
}
