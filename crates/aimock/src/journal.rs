//! The request journal: every request the server answered, newest last, bounded.
//!
//! Entries are cheap to record: the parsed request is shared, the path and headers are packed
//! into one reused buffer, and nothing becomes JSON until someone reads the journal. Credentials never leave
//! the server: authorization headers are redacted on the way out.

use std::borrow::Cow;
use std::collections::VecDeque;
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
///
/// Entries are kept compact, because a server keeps a thousand of them and every request both
/// writes one and (once the journal is full) evicts one: the path and the headers are packed into
/// one byte buffer per entry, the id is its number (rendered when read), and a full journal
/// reuses the evicted entry's buffer for the new one. Recording allocates nothing in the steady
/// state and eviction frees little; reading rebuilds [`JournalEntry`] values.
#[derive(Debug)]
pub struct Journal {
    ring: Arc<Mutex<Ring>>,
    max: usize,
}

/// The kept entries, oldest first. Numbers are assigned under the lock, so they are consecutive
/// from the front: entry `n` is at index `n - front.n`.
#[derive(Debug, Default)]
struct Ring {
    slots: VecDeque<Stored>,
    next: u64,
}

impl Ring {
    fn get_mut(&mut self, n: u64) -> Option<&mut Stored> {
        let first = self.slots.front()?.n;
        let at = usize::try_from(n.checked_sub(first)?).ok()?;
        self.slots.get_mut(at)
    }
}

/// One entry at rest.
#[derive(Debug)]
struct Stored {
    n: u64,
    timestamp: u64,
    method: Cow<'static, str>,
    /// The path, then each header: see [`pack`].
    packed: Vec<u8>,
    body: JournalBody,
    service: Option<&'static str>,
    test_id: Option<Cow<'static, str>>,
    response: JournalResponse,
}

impl Stored {
    fn view(&self) -> JournalEntry {
        let (path, headers) = unpack(&self.packed);
        JournalEntry {
            id: request_id(self.n),
            timestamp: self.timestamp,
            method: self.method.clone(),
            path,
            headers,
            body: self.body.clone(),
            service: self.service,
            test_id: self.test_id.clone(),
            response: self.response.clone(),
        }
    }
}

/// A handle to a recorded entry, to update its answer later (when a stream ends). An entry
/// evicted or cleared in the meantime is left alone.
#[derive(Debug, Clone)]
pub struct EntryHandle {
    ring: Arc<Mutex<Ring>>,
    n: u64,
}

impl EntryHandle {
    /// Change the entry's answer.
    pub fn update(&self, f: impl FnOnce(&mut JournalResponse)) {
        if let Some(s) = self.ring.lock().get_mut(self.n) {
            f(&mut s.response);
        }
    }
}

impl Journal {
    /// A journal keeping at most `max` entries (0: unbounded).
    pub fn new(max: usize) -> Journal {
        Journal {
            ring: Arc::default(),
            max,
        }
    }

    /// Record an entry; returns a handle to update it later.
    pub fn record(&self, entry: JournalEntry) -> EntryHandle {
        let JournalEntry {
            id: _,
            timestamp,
            method,
            path,
            headers,
            body,
            service,
            test_id,
            response,
        } = entry;
        let mut ring = self.ring.lock();
        let n = ring.next;
        ring.next += 1;
        // A full journal gives the oldest entry's buffer to the new one.
        let mut packed = match self.max {
            0 => Vec::new(),
            max if ring.slots.len() >= max => {
                let mut old = ring.slots.pop_front().map(|s| s.packed).unwrap_or_default();
                while ring.slots.len() >= max {
                    ring.slots.pop_front();
                }
                old.clear();
                old
            }
            _ => Vec::new(),
        };
        pack(&mut packed, &path, &headers);
        ring.slots.push_back(Stored {
            n,
            timestamp,
            method,
            packed,
            body,
            service,
            test_id,
            response,
        });
        drop(ring);
        EntryHandle {
            ring: self.ring.clone(),
            n,
        }
    }

    /// Entries accepted by the filter, oldest first, with the total before paging.
    pub fn query(
        &self,
        filter: &JournalFilter,
        offset: usize,
        limit: Option<usize>,
    ) -> (Vec<JournalEntry>, usize) {
        let matching: Vec<JournalEntry> = {
            let ring = self.ring.lock();
            ring.slots
                .iter()
                .map(Stored::view)
                .filter(|e| filter.accepts(e))
                .collect()
        };
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
        self.ring.lock().slots.back().map(Stored::view)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ring.lock().slots.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove every entry.
    pub fn clear(&self) {
        self.ring.lock().slots.clear();
    }
}

/// Pack a path and headers into `out`: each as a little-endian `u32` length and its bytes, the
/// path first, then for each header its name, its value, and a byte that says whether the value
/// is sensitive. Copying the values also lets go of hyper's read buffer, whose slices they are:
/// an entry kept with them would keep that whole buffer (8 KiB or more) alive.
fn pack(out: &mut Vec<u8>, path: &str, headers: &HeaderMap) {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        // Paths and headers are bounded by hyper far below 4 GiB.
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    // A reused buffer has room already; a new one gets a guess (a typical header is under 64
    // bytes packed), not a second walk of the headers.
    out.reserve(4 + path.len() + 64 * headers.len());
    put(out, path.as_bytes());
    for (name, value) in headers {
        put(out, name.as_str().as_bytes());
        put(out, value.as_bytes());
        out.push(u8::from(value.is_sensitive()));
    }
}

/// The path and headers [`pack`] wrote.
fn unpack(mut packed: &[u8]) -> (String, HeaderMap) {
    fn take<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (bytes, tail) = (tail.get(..len)?, tail.get(len..)?);
        *rest = tail;
        Some(bytes)
    }
    let path = take(&mut packed)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    while let (Some(name), Some(value)) = (take(&mut packed), take(&mut packed)) {
        let Some((&sensitive, rest)) = packed.split_first() else {
            break;
        };
        packed = rest;
        if let (Ok(name), Ok(mut value)) = (
            http::HeaderName::from_bytes(name),
            HeaderValue::from_bytes(value),
        ) {
            value.set_sensitive(sensitive == 1);
            headers.append(name, value);
        }
    }
    (path, headers)
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
            crate::stream::StreamEnd::Complete => e.delivered = Some(true),
            crate::stream::StreamEnd::Interrupted(reason) => {
                e.delivered = Some(false);
                e.interrupted = true;
                e.interrupt_reason = Some(reason.to_owned());
            }
            crate::stream::StreamEnd::ClientGone => {
                e.delivered = Some(false);
                e.interrupted = true;
                e.interrupt_reason = Some("clientDisconnected".to_owned());
            }
        })
    })
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
        headers.append(http::header::AUTHORIZATION, auth);
        headers.append(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("second"),
        );
        headers.insert("x-custom", HeaderValue::from_static("c"));
        let j = Journal::new(4);
        j.record(JournalEntry::new(
            "POST",
            "/v1/x?y=1",
            headers,
            JournalBody::None,
        ));
        assert!(
            read_buffer.is_unique(),
            "a header value still points into the read buffer"
        );
        let e = j.last().unwrap();
        assert_eq!(e.path, "/v1/x?y=1");
        assert_eq!(e.headers[http::header::CONTENT_TYPE], "application/json");
        assert_eq!(e.headers["x-custom"], "c");
        let auths: Vec<_> = e
            .headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .collect();
        assert_eq!(auths, ["Bearer sk-x", "second"]);
        assert!(auths[0].is_sensitive());
        assert!(!auths[1].is_sensitive());
        assert_eq!(e.headers.len(), 4);
    }

    fn entry(path: &str) -> JournalEntry {
        let mut h = HeaderMap::new();
        h.insert("x-path", HeaderValue::from_str(path).unwrap());
        JournalEntry::new("GET", path, h, JournalBody::None)
    }

    #[test]
    fn a_full_journal_reuses_the_oldest_buffer_without_mixing_entries() {
        let j = Journal::new(3);
        // Paths of different lengths, so a reused buffer that was not cleared would show.
        let paths: Vec<String> = (0..20)
            .map(|i| format!("/{}", "p".repeat(i % 7 + 1)))
            .collect();
        for p in &paths {
            j.record(entry(p));
        }
        let kept = j.all();
        assert_eq!(kept.len(), 3);
        for (e, p) in kept.iter().zip(&paths[17..]) {
            assert_eq!(&e.path, p);
            assert_eq!(e.headers.len(), 1);
            assert_eq!(e.headers["x-path"], p.as_str());
        }
        // Ids are unique, and the same each time the journal is read.
        let ids: Vec<String> = kept.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, j.all().into_iter().map(|e| e.id).collect::<Vec<_>>());
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 3);
        assert!(ids.iter().all(|i| i.starts_with("req-") && i.len() == 20));
    }

    #[test]
    fn a_handle_updates_its_own_entry_and_nothing_once_it_is_gone() {
        let j = Journal::new(2);
        let a = j.record(entry("/a"));
        let b = j.record(entry("/b"));
        b.update(|r| r.status = 201);
        a.update(|r| r.status = 202);
        let st: Vec<u16> = j.all().iter().map(|e| e.response.status).collect();
        assert_eq!(st, [202, 201]);
        // `/a` is evicted: its handle changes nothing, least of all the entry in its place.
        j.record(entry("/c"));
        a.update(|r| r.status = 500);
        let st: Vec<(String, u16)> = j
            .all()
            .into_iter()
            .map(|e| (e.path, e.response.status))
            .collect();
        assert_eq!(st, [("/b".to_owned(), 201), ("/c".to_owned(), 0)]);
        // After a clear, old handles reach none of the new entries.
        j.clear();
        j.record(entry("/d"));
        b.update(|r| r.status = 500);
        assert_eq!(j.last().unwrap().response.status, 0);
    }

    #[test]
    fn an_unbounded_journal_keeps_everything() {
        let j = Journal::new(0);
        for i in 0..50 {
            j.record(entry(&format!("/{i}")));
        }
        assert_eq!(j.len(), 50);
        assert_eq!(j.all()[49].path, "/49");
    }
}
