//! The request journal: every request the server answered, newest last, bounded.
//!
//! Entries are cheap to record (the parsed request and the header map are shared, not copied into
//! JSON); they are turned into JSON only when someone reads the journal. Credentials never leave
//! the server: authorization headers are redacted on the way out.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use parking_lot::Mutex;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::conversation::ChatRequest;
use crate::fixture::Fixture;

/// Headers whose values are never shown.
pub const REDACTED_HEADERS: &[&str] = &[
    "x-amz-security-token",
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "xi-api-key",
    "proxy-authorization",
    "cookie",
];

/// Query parameters that carry credentials (Gemini's `?key=`, ...).
const REDACTED_PARAMS: &[&str] = &[
    "key",
    "api-key",
    "api_key",
    "apikey",
    "access_token",
    "token",
    "sig",
];

/// The path with the values of credential query parameters replaced by `[REDACTED]`.
pub fn redact_query(path: &str) -> std::borrow::Cow<'_, str> {
    let Some((base, query)) = path.split_once('?') else {
        return std::borrow::Cow::Borrowed(path);
    };
    let secret = |pair: &str| {
        let k = pair.split('=').next().unwrap_or("");
        REDACTED_PARAMS.iter().any(|r| k.eq_ignore_ascii_case(r))
    };
    if !query.split('&').any(secret) {
        return std::borrow::Cow::Borrowed(path);
    }
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            if secret(pair) {
                format!("{}=[REDACTED]", pair.split('=').next().unwrap_or(""))
            } else {
                pair.to_owned()
            }
        })
        .collect();
    std::borrow::Cow::Owned(format!("{base}?{}", parts.join("&")))
}

/// Bodies larger than this are not kept in the journal (aimock's limit).
pub(crate) const JOURNAL_BODY_MAX: usize = 64 * 1024;

/// What the journal keeps of a request body.
#[derive(Debug, Clone)]
pub enum JournalBody {
    /// A parsed LLM request.
    Chat(Arc<ChatRequest>),
    /// Any other JSON body.
    Json(Arc<Value>),
    /// A body too large to keep: its size in bytes.
    Truncated(usize),
    /// No body, or one that did not parse.
    None,
}

impl JournalBody {
    /// `body` for a request of `body_len` bytes, or only a note of its size when that is over
    /// [`JOURNAL_BODY_MAX`], so a long-running server's journal stays bounded in memory.
    pub(crate) fn capped(body_len: usize, body: impl FnOnce() -> JournalBody) -> JournalBody {
        if body_len > JOURNAL_BODY_MAX {
            JournalBody::Truncated(body_len)
        } else {
            body()
        }
    }
}

/// How a request was answered.
#[derive(Debug, Clone, Default)]
pub struct JournalResponse {
    /// HTTP status (0 when the connection was cut before a status).
    pub status: u16,
    /// The fixture that answered.
    pub fixture: Option<Arc<Fixture>>,
    /// `fixture`, `proxy` or `internal`.
    pub source: Option<&'static str>,
    /// The stream was cut on purpose or by the client.
    pub interrupted: bool,
    /// Why it was cut.
    pub interrupt_reason: Option<String>,
    /// For streams: whether the last event was written. `None` while still streaming.
    pub delivered: Option<bool>,
    /// Chaos applied to the request.
    pub chaos_action: Option<&'static str>,
    /// Set when `X-AIMock-Strict` differed from the server's setting.
    pub strict_override: Option<bool>,
    /// Why nothing matched.
    pub miss_reason: Option<String>,
}

/// One request.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// `req-...`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// HTTP method.
    pub method: Cow<'static, str>,
    /// Path and query as received.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: JournalBody,
    /// `mcp`, `a2a`, ... for non-LLM surfaces.
    pub service: Option<&'static str>,
    /// `X-Test-Id`.
    pub test_id: Option<Cow<'static, str>>,
    /// The answer.
    pub response: JournalResponse,
}

impl JournalEntry {
    /// A new entry stamped now.
    pub fn new(method: &str, path: &str, headers: HeaderMap, body: JournalBody) -> JournalEntry {
        let test_id = headers
            .get("x-test-id")
            .and_then(|v| v.to_str().ok())
            .map(|t| Cow::Owned(t.to_owned()));
        JournalEntry::with_test_id(method, path.to_owned(), headers, body, test_id)
    }

    /// A new entry stamped now, for a request whose test id is known already.
    pub(crate) fn with_test_id(
        method: &str,
        path: String,
        headers: HeaderMap,
        body: JournalBody,
        test_id: Option<Cow<'static, str>>,
    ) -> JournalEntry {
        JournalEntry {
            id: String::new(),
            timestamp: now_ms(),
            method: method_name(method),
            path,
            headers,
            body,
            service: None,
            test_id,
            response: JournalResponse::default(),
        }
    }
}

/// The method's name, without an allocation for the standard ones: a journal keeps a thousand
/// entries, and every allocation an entry keeps is one a request makes and an eviction frees.
fn method_name(method: &str) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    match STANDARD.iter().find(|m| **m == method) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(method.to_owned()),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Serialize for JournalEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("timestamp", &self.timestamp)?;
        m.serialize_entry("method", &self.method)?;
        m.serialize_entry("path", &redact_query(&self.path))?;
        m.serialize_entry("headers", &RedactedHeaders(&self.headers))?;
        match &self.body {
            JournalBody::Chat(c) => m.serialize_entry("body", c.as_ref())?,
            JournalBody::Json(v) => m.serialize_entry("body", v.as_ref())?,
            JournalBody::Truncated(n) => m.serialize_entry(
                "body",
                &serde_json::json!({
                    "__aimock_truncated": true,
                    "originalByteSize": n,
                    "note": "the request body was larger than 64 KB and is not kept in the journal",
                }),
            )?,
            JournalBody::None => m.serialize_entry("body", &Value::Null)?,
        }
        if let Some(s) = self.service {
            m.serialize_entry("service", s)?;
        }
        if let Some(t) = &self.test_id {
            m.serialize_entry("testId", t)?;
        }
        m.serialize_entry("response", &ResponseView(&self.response))?;
        m.end()
    }
}

struct RedactedHeaders<'a>(&'a HeaderMap);

impl Serialize for RedactedHeaders<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mut last: Option<&str> = None;
        for (name, value) in self.0 {
            let n = name.as_str();
            if last == Some(n) {
                continue;
            }
            last = Some(n);
            if REDACTED_HEADERS.contains(&n) {
                m.serialize_entry(n, "[REDACTED]")?;
            } else {
                let all: Vec<&str> = self
                    .0
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap_or("<binary>"))
                    .collect();
                let _ = value;
                m.serialize_entry(n, &all.join(", "))?;
            }
        }
        m.end()
    }
}

struct ResponseView<'a>(&'a JournalResponse);

impl Serialize for ResponseView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("status", &r.status)?;
        m.serialize_entry("fixture", &r.fixture.as_ref().map(|f| &f.entry))?;
        if let Some(src) = &r.fixture.as_ref().and_then(|f| f.source.as_ref()) {
            m.serialize_entry(
                "fixtureSource",
                &serde_json::json!({ "file": src.file, "index": src.index }),
            )?;
        }
        if let Some(v) = r.source {
            m.serialize_entry("source", v)?;
        }
        if r.interrupted {
            m.serialize_entry("interrupted", &true)?;
        }
        if let Some(v) = &r.interrupt_reason {
            m.serialize_entry("interruptReason", v)?;
        }
        if let Some(v) = r.delivered {
            m.serialize_entry("delivered", &v)?;
        }
        if let Some(v) = r.chaos_action {
            m.serialize_entry("chaosAction", v)?;
        }
        if let Some(v) = r.strict_override {
            m.serialize_entry("strictOverride", &v)?;
        }
        if let Some(v) = &r.miss_reason {
            m.serialize_entry("missReason", v)?;
        }
        m.end()
    }
}

/// Filters for reading the journal.
#[derive(Debug, Default, Clone)]
pub struct JournalFilter {
    /// Exact method (case-insensitive).
    pub method: Option<String>,
    /// Substring of the path.
    pub path: Option<String>,
    /// Exact status.
    pub status: Option<u16>,
    /// Exact service.
    pub service: Option<String>,
    /// Exact test id.
    pub test_id: Option<String>,
    /// Exact request id.
    pub request_id: Option<String>,
}

impl JournalFilter {
    fn accepts(&self, e: &JournalEntry) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| e.method.eq_ignore_ascii_case(m))
            && self
                .path
                .as_ref()
                .is_none_or(|p| e.path.contains(p.as_str()))
            && self.status.is_none_or(|s| e.response.status == s)
            && self.service.as_ref().is_none_or(|s| {
                e.service == Some(s.as_str()) || (s == "llm" && e.service.is_none())
            })
            && self
                .test_id
                .as_ref()
                .is_none_or(|t| e.test_id.as_deref() == Some(t.as_str()))
            && self.request_id.as_ref().is_none_or(|r| {
                e.id == *r
                    || e.headers.get("x-request-id").and_then(|v| v.to_str().ok())
                        == Some(r.as_str())
            })
    }
}

/// The journal: a bounded FIFO of entries.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<VecDeque<Arc<Mutex<JournalEntry>>>>,
    max: usize,
    seq: AtomicU64,
}

/// A handle to a recorded entry, to update it when a stream ends.
#[derive(Debug, Clone)]
pub struct EntryHandle(Arc<Mutex<JournalEntry>>);

impl EntryHandle {
    /// Change the entry.
    pub fn update(&self, f: impl FnOnce(&mut JournalEntry)) {
        f(&mut self.0.lock());
    }
}

impl Journal {
    /// A journal keeping at most `max` entries (0: unbounded).
    pub fn new(max: usize) -> Journal {
        Journal {
            entries: Mutex::new(VecDeque::new()),
            max,
            seq: AtomicU64::new(0),
        }
    }

    /// Record an entry; returns a handle to update it later.
    pub fn record(&self, mut entry: JournalEntry) -> EntryHandle {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        entry.id = request_id(n);
        own_values(&mut entry.headers);
        let cell = Arc::new(Mutex::new(entry));
        let mut q = self.entries.lock();
        q.push_back(cell.clone());
        while self.max > 0 && q.len() > self.max {
            q.pop_front();
        }
        EntryHandle(cell)
    }

    /// Entries accepted by the filter, oldest first, with the total before paging.
    pub fn query(
        &self,
        filter: &JournalFilter,
        offset: usize,
        limit: Option<usize>,
    ) -> (Vec<JournalEntry>, usize) {
        let q = self.entries.lock().clone();
        let matching: Vec<JournalEntry> = q
            .iter()
            .map(|c| c.lock().clone())
            .filter(|e| filter.accepts(e))
            .collect();
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect();
        (page, total)
    }

    /// Every entry, oldest first.
    pub fn all(&self) -> Vec<JournalEntry> {
        self.query(&JournalFilter::default(), 0, None).0
    }

    /// The newest entry.
    pub fn last(&self) -> Option<JournalEntry> {
        self.entries.lock().back().map(|c| c.lock().clone())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove every entry.
    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}

/// `req-` followed by 16 base64url characters: 8 random bytes drawn once per process, then the
/// entry's number, so ids are unique per journal and tell runs apart, for a few instructions.
fn request_id(n: u64) -> String {
    use std::sync::OnceLock;
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static SEED: OnceLock<u64> = OnceLock::new();
    let seed = *SEED.get_or_init(rand::random);
    let mut bytes = [0u8; 12];
    bytes[..8].copy_from_slice(&(seed ^ n.rotate_left(29)).to_le_bytes());
    bytes[8..].copy_from_slice(&(n as u32).to_be_bytes());
    let mut out = String::with_capacity(20);
    out.push_str("req-");
    for chunk in bytes.chunks_exact(3) {
        let v = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(B64[((v >> shift) & 63) as usize]));
        }
    }
    out
}

/// Hook a stream's end into its journal entry: delivered, interrupted on purpose (with the
/// reason), or cut short by the client leaving (`clientDisconnected`).
pub(crate) fn on_stream_end(
    handle: EntryHandle,
) -> Box<dyn FnOnce(crate::stream::StreamEnd) + Send> {
    Box::new(move |end| {
        handle.update(|e| match end {
            crate::stream::StreamEnd::Complete => e.response.delivered = Some(true),
            crate::stream::StreamEnd::Interrupted(reason) => {
                e.response.delivered = Some(false);
                e.response.interrupted = true;
                e.response.interrupt_reason = Some(reason.to_owned());
            }
            crate::stream::StreamEnd::ClientGone => {
                e.response.delivered = Some(false);
                e.response.interrupted = true;
                e.response.interrupt_reason = Some("clientDisconnected".to_owned());
            }
        })
    })
}

/// Give `headers` values of their own, all in one buffer. hyper parses a request's header values
/// as slices of the connection's read buffer (8 KiB or more): an entry kept with them would keep
/// that whole buffer alive, a thousand entries times over (19.5 MB resident after a chat load
/// with them, 16.2 MB without).
fn own_values(headers: &mut HeaderMap) {
    let total = headers.values().map(HeaderValue::len).sum();
    let mut buf = Vec::with_capacity(total);
    for v in headers.values() {
        buf.extend_from_slice(v.as_bytes());
    }
    let buf = bytes::Bytes::from(buf);
    let mut at = 0;
    // `values_mut` visits the values in the order `values` did.
    for v in headers.values_mut() {
        let len = v.len();
        if let Ok(mut owned) = HeaderValue::from_maybe_shared(buf.slice(at..at + len)) {
            owned.set_sensitive(v.is_sensitive());
            *v = owned;
        }
        at += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers_are_redacted_when_read() {
        let j = Journal::new(10);
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-secret".parse().unwrap());
        h.insert("x-api-key", "k".parse().unwrap());
        h.insert("user-agent", "t".parse().unwrap());
        j.record(JournalEntry::new("POST", "/v1/x", h, JournalBody::None));
        let v = serde_json::to_value(j.all()).unwrap();
        let text = v.to_string();
        assert!(!text.contains("sk-secret"));
        assert_eq!(v[0]["headers"]["authorization"], "[REDACTED]");
        assert_eq!(v[0]["headers"]["user-agent"], "t");
    }

    #[test]
    fn credentials_in_the_query_are_redacted() {
        assert_eq!(
            redact_query("/v1beta/models/m:generateContent?key=secret&alt=sse"),
            "/v1beta/models/m:generateContent?key=[REDACTED]&alt=sse"
        );
        assert_eq!(redact_query("/v1/chat?x=1"), "/v1/chat?x=1");
    }

    #[test]
    fn the_journal_is_bounded_oldest_first_out() {
        let j = Journal::new(2);
        for p in ["/a", "/b", "/c"] {
            j.record(JournalEntry::new(
                "GET",
                p,
                HeaderMap::new(),
                JournalBody::None,
            ));
        }
        let paths: Vec<String> = j.all().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/b", "/c"]);
    }

    #[test]
    fn kept_headers_let_go_of_the_buffer_they_were_parsed_from() {
        // hyper's header values are slices of its read buffer; a kept entry must not hold it.
        let read_buffer = bytes::Bytes::from(b"application/jsonBearer sk-x".to_vec());
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_maybe_shared(read_buffer.slice(0..16)).unwrap(),
        );
        let mut auth = HeaderValue::from_maybe_shared(read_buffer.slice(16..27)).unwrap();
        auth.set_sensitive(true);
        headers.append(http::header::AUTHORIZATION, auth.clone());
        headers.append(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("second"),
        );
        drop(auth);
        assert!(!read_buffer.is_unique());
        super::own_values(&mut headers);
        assert!(
            read_buffer.is_unique(),
            "a header value still points into the read buffer"
        );
        assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
        let auths: Vec<_> = headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .collect();
        assert_eq!(auths, ["Bearer sk-x", "second"]);
        assert!(auths[0].is_sensitive());
    }
}
