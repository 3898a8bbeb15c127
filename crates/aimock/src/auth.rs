//! Inbound API-key checks (`AIMOCK_API_KEYS`, `auth.apiKeys`).
//!
//! When keys are configured, every request except `GET /health`, `GET /ready`, `GET /metrics` and
//! genuine CORS preflights must carry a configured key. The credential may come in any header the
//! providers' SDKs use (`Authorization: Bearer|Key <key>`, `x-api-key`, `x-goog-api-key`,
//! `api-key`, `xi-api-key`) or in Gemini's `?key=` query parameter; every credential supplied
//! must be a configured key, and all of them the same one. Keys are compared in constant time and
//! never logged.
//!
//! A refusal is `401` with `WWW-Authenticate: Bearer realm="aimock"`, its body in the envelope of
//! the API the path belongs to, so each SDK raises its own authentication error: Anthropic's
//! `{"type":"error","error":{"type":"authentication_error",...}}`, Google's
//! `{"error":{"code":401,"status":"UNAUTHENTICATED",...}}`, Bedrock's `{"message"}` with
//! `x-amzn-ErrorType`, Cohere's `{"id","message"}`, Ollama's `{"error": "..."}`, OpenRouter's
//! `{"error":{"code":401,...}}`, and aimock's own
//! `{"error":{"message":"Invalid API key","type":"authentication_error","code":"invalid_api_key"}}`
//! (OpenAI's shape) everywhere else.

use http::{header, HeaderMap, HeaderValue, Method};
use subtle::ConstantTimeEq;

/// The headers a credential may come in.
pub(crate) const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "xi-api-key",
];

/// The message of every refusal.
pub(crate) const INVALID_KEY_MESSAGE: &str = "Invalid API key";

/// Why a request was refused (for logs and tests; the client always sees the same 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No credential at all.
    Missing,
    /// A credential that is malformed or not a configured key.
    Invalid,
    /// Credentials naming two different configured keys.
    Conflict,
}

impl Refusal {
    /// A short name, safe to log.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Invalid => "invalid",
            Refusal::Conflict => "conflict",
        }
    }
}

/// The accepted inbound keys.
pub(crate) struct ApiKeys {
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the keys.
        f.debug_struct("ApiKeys")
            .field("count", &self.keys.len())
            .finish()
    }
}

/// Spaces and tabs around a value (HTTP's optional whitespace).
fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map_or(start, |i| i + 1);
    &b[start..end.max(start)]
}

fn has_control(b: &[u8]) -> bool {
    b.iter().any(|c| *c <= 31 || *c == 127)
}

impl ApiKeys {
    /// Keys to accept; `None` when the list is empty (no check). Keys are trimmed of surrounding
    /// spaces; a list whose every entry is blank still enables the check (and admits nothing),
    /// so a misconfiguration fails closed.
    pub(crate) fn new(keys: &[String]) -> Option<ApiKeys> {
        (!keys.is_empty()).then(|| ApiKeys {
            keys: keys
                .iter()
                .map(|k| trim_ows(k.as_bytes()).to_vec())
                .filter(|k| !k.is_empty() && !has_control(k))
                .collect(),
        })
    }

    /// The index of the configured key equal to `candidate`, comparing against every key in
    /// constant time for a given length.
    fn find(&self, candidate: &[u8]) -> Option<usize> {
        let mut found = None;
        for (i, key) in self.keys.iter().enumerate() {
            if bool::from(key.as_slice().ct_eq(candidate)) {
                found = Some(i);
            }
        }
        found
    }

    /// Check a request's credentials: `Ok` when at least one is supplied and all of them are
    /// the same configured key.
    pub(crate) fn check(&self, headers: &HeaderMap, query: Option<&str>) -> Result<(), Refusal> {
        let mut resolved: Option<usize> = None;
        let mut admit = |candidate: &[u8]| -> Result<(), Refusal> {
            let index = self.find(candidate).ok_or(Refusal::Invalid)?;
            match resolved {
                Some(r) if r != index => Err(Refusal::Conflict),
                _ => {
                    resolved = Some(index);
                    Ok(())
                }
            }
        };
        for name in CREDENTIAL_HEADERS {
            for value in headers.get_all(*name) {
                admit(header_credential(name, value)?)?;
            }
        }
        if let Some(query) = query {
            for pair in query.split('&') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                if name == "key" {
                    let decoded = crate::http::percent::query(value);
                    let candidate = trim_ows(decoded.as_bytes());
                    if candidate.is_empty() || has_control(candidate) {
                        return Err(Refusal::Invalid);
                    }
                    admit(candidate)?;
                }
            }
        }
        if resolved.is_some() {
            Ok(())
        } else {
            Err(Refusal::Missing)
        }
    }
}

/// The key a credential header carries: `Authorization` must be `Bearer <key>` or `Key <key>`
/// (scheme in any case); the others carry the key alone.
fn header_credential<'v>(name: &str, value: &'v HeaderValue) -> Result<&'v [u8], Refusal> {
    let v = trim_ows(value.as_bytes());
    if has_control(v) {
        return Err(Refusal::Invalid);
    }
    let key = if name == "authorization" {
        let split = v
            .iter()
            .position(|c| *c == b' ' || *c == b'\t')
            .ok_or(Refusal::Invalid)?;
        let (scheme, rest) = v.split_at(split);
        if !scheme.eq_ignore_ascii_case(b"bearer") && !scheme.eq_ignore_ascii_case(b"key") {
            return Err(Refusal::Invalid);
        }
        trim_ows(rest)
    } else {
        v
    };
    if key.is_empty() {
        Err(Refusal::Invalid)
    } else {
        Ok(key)
    }
}

/// Whether a request needs no key: `GET /health`, `GET /ready`, `GET /metrics`, and CORS
/// preflights (`OPTIONS` with `Access-Control-Request-Method`).
pub(crate) fn is_public(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    match *method {
        Method::GET => matches!(path, "/health" | "/ready" | "/metrics"),
        Method::OPTIONS => headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> ApiKeys {
        ApiKeys::new(&["alpha".to_owned(), " beta ".to_owned()]).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn no_keys_means_no_check() {
        assert!(ApiKeys::new(&[]).is_none());
    }

    #[test]
    fn every_credential_header_is_accepted_with_a_configured_key() {
        let k = keys();
        for (name, value) in [
            ("authorization", "Bearer alpha"),
            ("authorization", "bearer   beta"),
            ("authorization", "KEY alpha"),
            ("x-api-key", "alpha"),
            ("x-goog-api-key", "beta"),
            ("api-key", "alpha"),
            ("xi-api-key", " alpha "),
        ] {
            assert_eq!(
                k.check(&headers(&[(name, value)]), None),
                Ok(()),
                "{name}: {value}"
            );
        }
        assert_eq!(
            k.check(&HeaderMap::new(), Some("alt=sse&key=alpha")),
            Ok(())
        );
    }

    #[test]
    fn missing_wrong_malformed_and_conflicting_credentials_are_refused() {
        let k = keys();
        assert_eq!(k.check(&HeaderMap::new(), None), Err(Refusal::Missing));
        assert_eq!(
            k.check(&headers(&[("x-api-key", "gamma")]), None),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            k.check(&headers(&[("authorization", "Basic alpha")]), None),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            k.check(&headers(&[("authorization", "alpha")]), None),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            k.check(&headers(&[("x-api-key", "")]), None),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            k.check(
                &headers(&[("authorization", "Bearer alpha"), ("x-api-key", "beta")]),
                None
            ),
            Err(Refusal::Conflict)
        );
        assert_eq!(
            k.check(&headers(&[("x-api-key", "alpha")]), Some("key=beta")),
            Err(Refusal::Conflict)
        );
        assert_eq!(
            k.check(&headers(&[("x-api-key", "alpha")]), Some("key=nope")),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            k.check(
                &headers(&[("x-api-key", "alpha"), ("x-api-key", "alphax")]),
                None
            ),
            Err(Refusal::Invalid)
        );
        // The same key twice is fine.
        assert_eq!(
            k.check(
                &headers(&[("authorization", "Bearer alpha"), ("x-api-key", "alpha")]),
                None
            ),
            Ok(())
        );
    }

    #[test]
    fn a_blank_key_list_admits_nothing() {
        let k = ApiKeys::new(&["  ".to_owned()]).unwrap();
        assert_eq!(
            k.check(&headers(&[("x-api-key", "x")]), None),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn debug_output_hides_the_keys() {
        assert!(!format!("{:?}", keys()).contains("alpha"));
    }
}
