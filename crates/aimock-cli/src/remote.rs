//! Remote fixtures, `-f https://...` (aimock's §4.4): fetched once at boot, checked as JSON,
//! cached, and the cached copy used when a later fetch fails.
//!
//! - Only `http://` and `https://`; 10 s for the whole fetch; at most 50 MB (the
//!   `Content-Length` is checked first, then the bytes as they arrive); a redirect is an error,
//!   never followed.
//! - The host is resolved first and refused if any of its addresses is private or special:
//!   loopback, RFC 1918, CGNAT 100.64/10, link-local and cloud metadata 169.254/16, 0/8, the
//!   TEST-NETs, benchmarking 198.18/15, 6to4 anycast 192.88.99/24, the IETF 192.0.0/24,
//!   multicast, reserved 240/4, broadcast, `::`, `::1`, `fc00::/7`, `fe80::/10`, IPv6 multicast
//!   and IPv4-mapped forms of all those. `AIMOCK_ALLOW_PRIVATE_URLS=1` lifts it. The connection
//!   goes to the address that was checked (no second lookup a DNS answer could change).
//! - The body is written to `$XDG_CACHE_HOME/aimock/fixtures/<sha256(url)>/fixtures.json`
//!   (else `~/.cache/aimock/...`), through a temporary file renamed into place.
//! - A failed fetch (network, status, size, not JSON) uses that cached copy with a warning; with
//!   none, the caller skips the URL with a warning, or stops under `--validate-on-load`. A
//!   refused URL (scheme, private address) never falls back to the cache.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The whole fetch.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest body accepted.
pub(crate) const MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Lifts the private-address guard when `1` (or `true`).
pub(crate) const ALLOW_PRIVATE_ENV: &str = "AIMOCK_ALLOW_PRIVATE_URLS";

/// Whether a `-f` value is a URL (any scheme: only http and https are then accepted).
pub(crate) fn is_url(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Where a fetched URL is: the file to load, and a warning when it is the cached copy.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) path: PathBuf,
    pub(crate) warning: Option<String>,
}

/// The URL fetched (or its cached copy), or why there is nothing to load.
pub(crate) async fn resolve(url: &str) -> Result<Fetched, String> {
    let cache = cache_file(url)?;
    match fetch(url).await {
        Ok(body) => {
            write_cache(&cache, &body).map_err(|e| {
                format!(
                    "{url}: fetched, but cannot write the cache {}: {e}",
                    cache.display()
                )
            })?;
            Ok(Fetched {
                path: cache,
                warning: None,
            })
        }
        Err(Failure::Refused(why)) => Err(format!("{url}: {why}")),
        Err(Failure::Failed(why)) => {
            if cache.is_file() {
                Ok(Fetched {
                    warning: Some(format!(
                        "{url}: {why}; using the cached copy {}",
                        cache.display()
                    )),
                    path: cache,
                })
            } else {
                Err(format!("{url}: {why}; no cached copy"))
            }
        }
    }
}

#[derive(Debug)]
enum Failure {
    /// Not to be fetched at all: no cache either.
    Refused(String),
    /// Could not be fetched now: the cache may do.
    Failed(String),
}

async fn fetch(url: &str) -> Result<Vec<u8>, Failure> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| Failure::Refused(format!("not a valid URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Failure::Refused(format!(
            "the scheme `{}` is not supported (only http:// and https://)",
            parsed.scheme()
        )));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| Failure::Refused("the URL names no host".into()))?
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let lookup_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        TIMEOUT,
        tokio::net::lookup_host((lookup_host.as_str(), port)),
    )
    .await
    .map_err(|_| {
        Failure::Failed(format!(
            "resolving {host} took longer than {}s",
            TIMEOUT.as_secs()
        ))
    })?
    .map_err(|e| Failure::Failed(format!("cannot resolve {host}: {e}")))?
    .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(Failure::Failed(format!("{host} has no address")));
    };
    if !private_allowed() {
        if let Some(bad) = addrs.iter().find(|a| is_blocked(a.ip())) {
            return Err(Failure::Refused(format!(
                "{host} resolves to {}, a private or special address; remote fixtures are only \
                 fetched from public addresses (set {ALLOW_PRIVATE_ENV}=1 to allow it)",
                bad.ip()
            )));
        }
    }
    let client = aimock::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .no_proxy()
        .resolve(&lookup_host, first)
        .build()
        .map_err(|e| Failure::Failed(format!("cannot make an HTTP client: {e}")))?;
    let fetch =
        async {
            let mut resp = client
                .get(parsed.clone())
                .header("accept", "application/json")
                .send()
                .await
                .map_err(|e| Failure::Failed(format!("cannot fetch: {}", error_chain(&e))))?;
            let status = resp.status();
            if status.is_redirection() {
                let to = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?");
                return Err(Failure::Failed(format!(
                "answered {} redirecting to {to}; redirects are not followed (use the final URL)",
                status.as_u16()
            )));
            }
            if !status.is_success() {
                return Err(Failure::Failed(format!(
                    "answered HTTP {}",
                    status.as_u16()
                )));
            }
            if let Some(len) = resp.content_length() {
                if len > MAX_BYTES {
                    return Err(Failure::Failed(format!(
                        "its Content-Length {len} is over the {} MB limit",
                        MAX_BYTES / 1024 / 1024
                    )));
                }
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| {
                Failure::Failed(format!("reading the body failed: {}", error_chain(&e)))
            })? {
                if body.len() as u64 + chunk.len() as u64 > MAX_BYTES {
                    return Err(Failure::Failed(format!(
                        "the body is over the {} MB limit",
                        MAX_BYTES / 1024 / 1024
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
    let body = tokio::time::timeout(TIMEOUT, fetch).await.map_err(|_| {
        Failure::Failed(format!("no complete answer within {}s", TIMEOUT.as_secs()))
    })??;
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&body) {
        return Err(Failure::Failed(format!("the body is not valid JSON ({e})")));
    }
    Ok(body)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

fn private_allowed() -> bool {
    std::env::var(ALLOW_PRIVATE_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// `$XDG_CACHE_HOME/aimock/fixtures/<sha256(url)>/fixtures.json`, else under `~/.cache`.
pub(crate) fn cache_file(url: &str) -> Result<PathBuf, String> {
    let root = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(h) => PathBuf::from(h).join(".cache"),
            None => {
                return Err(format!(
                    "{url}: neither XDG_CACHE_HOME nor HOME is set, so there is no cache directory"
                ))
            }
        },
    };
    let digest = Sha256::digest(url.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(root
        .join("aimock")
        .join("fixtures")
        .join(hex)
        .join("fixtures.json"))
}

fn write_cache(path: &std::path::Path, body: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("fixtures.json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)
}

/// Whether fetching from `ip` is refused unless private addresses are allowed.
pub(crate) fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return blocked_v4(v4);
            }
            blocked_v6(v6)
        }
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn blocked_v4(ip: Ipv4Addr) -> bool {
    const NETS: [([u8; 4], u32); 16] = [
        ([0, 0, 0, 0], 8),          // "this network"
        ([10, 0, 0, 0], 8),         // RFC 1918
        ([100, 64, 0, 0], 10),      // CGNAT
        ([127, 0, 0, 0], 8),        // loopback
        ([169, 254, 0, 0], 16),     // link-local, cloud metadata
        ([172, 16, 0, 0], 12),      // RFC 1918
        ([192, 0, 0, 0], 24),       // IETF protocol assignments
        ([192, 0, 2, 0], 24),       // TEST-NET-1
        ([192, 88, 99, 0], 24),     // 6to4 relay anycast
        ([192, 168, 0, 0], 16),     // RFC 1918
        ([198, 18, 0, 0], 15),      // benchmarking
        ([198, 51, 100, 0], 24),    // TEST-NET-2
        ([203, 0, 113, 0], 24),     // TEST-NET-3
        ([224, 0, 0, 0], 4),        // multicast
        ([240, 0, 0, 0], 4),        // reserved
        ([255, 255, 255, 255], 32), // broadcast
    ];
    NETS.iter().any(|(net, bits)| in_v4(ip, *net, *bits))
}

fn blocked_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] & 0xff00) == 0xff00 // multicast
        // IPv4-compatible (deprecated) ::a.b.c.d
        || (s[..6].iter().all(|x| *x == 0) && blocked_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_refuses_private_and_special_addresses_only() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.1.2.3",
            "192.0.2.5",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "192.88.99.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_blocked(bad.parse().unwrap()), "{bad} should be refused");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(
                !is_blocked(good.parse().unwrap()),
                "{good} should be allowed"
            );
        }
    }

    #[test]
    fn urls_and_cache_paths() {
        assert!(is_url("https://x/y.json") && is_url("ftp://x") && is_url("HTTP://x"));
        assert!(!is_url("fixtures/a.json") && !is_url("./x://y") && !is_url("C:\\x"));
        let p = cache_file("https://example.com/f.json").unwrap();
        let s = p.to_string_lossy();
        assert!(s.ends_with("/fixtures.json"), "{s}");
        // sha256("https://example.com/f.json"), 64 hex digits.
        let dir = p
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(dir.len(), 64);
        assert!(dir.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
