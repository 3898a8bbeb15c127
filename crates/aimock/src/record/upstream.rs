//! What goes upstream in record mode: the URL, and the caller's headers less what must not
//! travel, with the server's own credential where the caller's cannot or must not be used.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::RecordConfig;
use crate::auth::CREDENTIAL_HEADERS;

/// Request headers never forwarded: hop-by-hop, framing, cookies, and aimock's own.
fn forwardable(name: &HeaderName) -> bool {
    let n = name.as_str();
    !matches!(
        n,
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authorization"
            | "proxy-authenticate"
            | "host"
            | "content-length"
            | "cookie"
            | "accept-encoding"
            | "x-test-id"
            | "x-aimock-strict"
            | "x-aimock-context"
            | "x-request-id"
    ) && !n.starts_with("x-aimock-chaos-")
}

/// How an upstream takes a credential: the header (and prefix) the server's own key goes in, and
/// the other forms a caller's credential may take there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credential {
    /// The header the server's key goes in.
    pub(crate) header: &'static str,
    /// Its prefix (`Bearer `).
    pub(crate) prefix: &'static str,
    /// A `?key=` query parameter is a credential too (Google).
    pub(crate) query_key: bool,
    /// The caller may sign with SigV4 instead (Bedrock): such a signature cannot survive the
    /// proxy.
    pub(crate) sigv4: bool,
    /// A bearer token is a real credential too (Azure's Entra ID tokens).
    pub(crate) bearer_too: bool,
}

impl Credential {
    /// `Authorization: Bearer <key>`.
    pub(crate) const fn bearer() -> Credential {
        Credential::header("authorization", "Bearer ")
    }

    /// The key in `header`, after `prefix`.
    pub(crate) const fn header(header: &'static str, prefix: &'static str) -> Credential {
        Credential {
            header,
            prefix,
            query_key: false,
            sigv4: false,
            bearer_too: false,
        }
    }

    /// Also `?key=` in the query.
    pub(crate) const fn or_query_key(mut self) -> Credential {
        self.query_key = true;
        self
    }

    /// Or a SigV4 signature.
    pub(crate) const fn or_sigv4(mut self) -> Credential {
        self.sigv4 = true;
        self
    }

    /// Or a bearer token.
    pub(crate) const fn or_bearer(mut self) -> Credential {
        self.bearer_too = true;
        self
    }
}

/// AWS signing headers, dropped with a SigV4 signature the proxy replaces.
const SIGV4_HEADERS: &[&str] = &["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

/// What the caller sent as its credential for the provider.
#[derive(Debug, PartialEq)]
enum CallerKey {
    /// Nothing, or a placeholder (`sk-aimock-...`): the server's own key goes instead.
    Placeholder,
    /// A SigV4 signature: it covers the host, so it cannot survive the proxy; the server's own
    /// key replaces it when there is one.
    Signature,
    /// A real credential, forwarded as it is.
    Real,
}

fn caller_key(
    headers: &HeaderMap,
    query_key: Option<&str>,
    c: Credential,
    marker: &str,
) -> CallerKey {
    let (name, prefix) = (c.header, c.prefix);
    let value = headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .or(query_key.filter(|_| c.query_key));
    // Azure takes Entra ID tokens as a bearer token too.
    let value = value.or_else(|| {
        c.bearer_too
            .then(|| headers.get("authorization").and_then(|v| v.to_str().ok()))
            .flatten()
    });
    let Some(v) = value else {
        return CallerKey::Placeholder;
    };
    if c.sigv4 && v.starts_with("AWS4-") {
        return CallerKey::Signature;
    }
    let v = if !prefix.is_empty()
        && v.len() >= prefix.len()
        && v.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    {
        &v[prefix.len()..]
    } else {
        v
    };
    let v = v.trim();
    if v.is_empty() || v.starts_with(marker) {
        CallerKey::Placeholder
    } else {
        CallerKey::Real
    }
}

/// The `key` query parameter (Gemini's credential), percent-decoded.
fn query_key(path_and_query: &str) -> Option<String> {
    let (_, q) = path_and_query.split_once('?')?;
    crate::http::percent::query_param(Some(q), "key")
}

/// The path and query without its `key` parameter.
fn without_query_key(path_and_query: &str) -> String {
    let Some((path, q)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|kv| kv.split('=').next() != Some("key"))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The headers and path sent upstream: the caller's, less what must not travel, with the
/// server's own key where the caller sent none, a placeholder, or a signature that cannot
/// survive the proxy. With inbound auth on, the caller's (test) credential never travels, in a
/// header or in the query, and a server key is required.
pub(crate) fn upstream_parts(
    incoming: &HeaderMap,
    path_and_query: &str,
    config: &RecordConfig,
    key: &str,
    credential: Credential,
    inbound_auth: bool,
) -> Result<(HeaderMap, String), String> {
    let own = config.provider_keys.get(key);
    let qkey = query_key(path_and_query);
    let caller = caller_key(
        incoming,
        qkey.as_deref(),
        credential,
        &config.dummy_key_marker,
    );
    let replace = own.is_some() && (inbound_auth || caller != CallerKey::Real);
    if inbound_auth && own.is_none() {
        return Err(format!(
            "No configured provider credential for {key} (set {} or llm.record.providerKeys)",
            super::key_env(key)
        ));
    }
    let mut out = HeaderMap::with_capacity(incoming.len());
    for (k, v) in incoming {
        let n = k.as_str();
        let credential = CREDENTIAL_HEADERS.contains(&n);
        let signing = SIGV4_HEADERS.contains(&n) && caller == CallerKey::Signature;
        if forwardable(k) && !((inbound_auth || replace) && (credential || signing)) {
            out.append(k.clone(), v.clone());
        }
    }
    if let (true, Some(own_key)) = (replace, own) {
        let v =
            HeaderValue::from_str(&format!("{}{own_key}", credential.prefix)).map_err(|_| {
                format!(
                    "the configured {} key is not a valid header",
                    credential.header
                )
            })?;
        out.insert(HeaderName::from_static(credential.header), v);
    }
    let path = if (inbound_auth || replace) && qkey.is_some() {
        without_query_key(path_and_query)
    } else {
        path_and_query.to_owned()
    };
    Ok((out, path))
}

/// `base` + the request's path and query, keeping the base's own path (`https://host/api` +
/// `/v1/x` = `https://host/api/v1/x`).
pub(crate) fn upstream_url(base: &str, path_and_query: &str) -> Result<reqwest::Url, String> {
    let joined = format!("{}{}", base.trim_end_matches('/'), path_and_query);
    let shown = crate::journal::redact_query(&joined).into_owned();
    let url =
        reqwest::Url::parse(&joined).map_err(|e| format!("invalid upstream URL {shown:?}: {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("upstream URL {shown:?} is not http(s)"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upstream_url_keeps_the_base_path() {
        let u = upstream_url("http://127.0.0.1:9/api/", "/v1/chat/completions?x=1").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9/api/v1/chat/completions?x=1");
        assert!(upstream_url("ftp://x", "/a").is_err());
        assert!(upstream_url("not a url", "/a").is_err());
    }

    const OPENAI: (&str, Credential) = ("openai", Credential::bearer());
    const ANTHROPIC: (&str, Credential) = ("anthropic", Credential::header("x-api-key", ""));
    const GEMINI: (&str, Credential) = (
        "gemini",
        Credential::header("x-goog-api-key", "").or_query_key(),
    );
    const VERTEX: (&str, Credential) = ("vertexai", Credential::bearer().or_query_key());
    const BEDROCK: (&str, Credential) = ("bedrock", Credential::bearer().or_sigv4());
    const AZURE: (&str, Credential) = ("azure", Credential::header("api-key", "").or_bearer());

    fn config_with_key(p: (&str, Credential), key: &str) -> RecordConfig {
        let mut c = RecordConfig::default();
        c.provider_keys.insert(p.0.to_owned(), key.to_owned());
        c
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_placeholder_key_is_replaced_by_the_servers_own() {
        let c = config_with_key(OPENAI, "sk-real");
        let h = headers(&[
            ("authorization", "Bearer sk-aimock-dummy"),
            ("x-test-id", "t"),
            ("x-aimock-chaos-drop", "1"),
            ("openai-organization", "org"),
        ]);
        let (out, _) = upstream_parts(&h, "/v1/x", &c, OPENAI.0, OPENAI.1, false).unwrap();
        assert_eq!(out["authorization"], "Bearer sk-real");
        assert!(out.get("x-test-id").is_none());
        assert!(out.get("x-aimock-chaos-drop").is_none());
        assert_eq!(out["openai-organization"], "org");
    }

    #[test]
    fn a_real_caller_key_is_forwarded_verbatim() {
        let c = config_with_key(ANTHROPIC, "sk-ant-server");
        let h = headers(&[("x-api-key", "sk-ant-caller")]);
        let (out, _) =
            upstream_parts(&h, "/v1/messages", &c, ANTHROPIC.0, ANTHROPIC.1, false).unwrap();
        assert_eq!(out["x-api-key"], "sk-ant-caller");
        let (none, _) = upstream_parts(
            &HeaderMap::new(),
            "/v1/messages",
            &c,
            ANTHROPIC.0,
            ANTHROPIC.1,
            false,
        )
        .unwrap();
        assert_eq!(none["x-api-key"], "sk-ant-server");
    }

    #[test]
    fn with_inbound_auth_the_test_key_never_travels_and_a_server_key_is_required() {
        let h = headers(&[("authorization", "Bearer test-key")]);
        let err = upstream_parts(
            &h,
            "/v1/x",
            &RecordConfig::default(),
            OPENAI.0,
            OPENAI.1,
            true,
        );
        assert!(err
            .unwrap_err()
            .contains("No configured provider credential"));
        let c = config_with_key(OPENAI, "sk-real");
        let (out, _) = upstream_parts(&h, "/v1/x", &c, OPENAI.0, OPENAI.1, true).unwrap();
        assert_eq!(out["authorization"], "Bearer sk-real");
        // Vertex and Bedrock too: nothing goes upstream without the server's own credential.
        for p in [VERTEX, BEDROCK] {
            let err = upstream_parts(&h, "/x", &RecordConfig::default(), p.0, p.1, true);
            assert!(err.is_err(), "{}", p.0);
        }
    }

    #[test]
    fn a_gemini_query_key_is_a_credential_like_any_other() {
        let c = config_with_key(GEMINI, "server-key");
        let path = "/v1beta/models/m:generateContent?alt=sse&key=test-key";
        // Inbound auth on: the test key is dropped from the query, the server's key sent.
        let (out, up) =
            upstream_parts(&HeaderMap::new(), path, &c, GEMINI.0, GEMINI.1, true).unwrap();
        assert_eq!(up, "/v1beta/models/m:generateContent?alt=sse");
        assert_eq!(out["x-goog-api-key"], "server-key");
        // A real caller key in the query travels as sent, and no server key is added.
        let (out, up) =
            upstream_parts(&HeaderMap::new(), path, &c, GEMINI.0, GEMINI.1, false).unwrap();
        assert_eq!(up, path);
        assert!(out.get("x-goog-api-key").is_none());
        // A placeholder in the query is replaced.
        let (out, up) = upstream_parts(
            &HeaderMap::new(),
            "/v1beta/models/m:generateContent?key=sk-aimock-x",
            &c,
            GEMINI.0,
            GEMINI.1,
            false,
        )
        .unwrap();
        assert_eq!(up, "/v1beta/models/m:generateContent");
        assert_eq!(out["x-goog-api-key"], "server-key");
    }

    #[test]
    fn a_sigv4_signature_is_forwarded_unless_the_server_holds_a_bedrock_key() {
        let h = headers(&[
            ("authorization", "AWS4-HMAC-SHA256 Credential=x"),
            ("x-amz-date", "20261125T000000Z"),
            ("x-amz-security-token", "tok"),
        ]);
        let (out, _) = upstream_parts(
            &h,
            "/model/m/converse",
            &RecordConfig::default(),
            BEDROCK.0,
            BEDROCK.1,
            false,
        )
        .unwrap();
        assert_eq!(out["authorization"], "AWS4-HMAC-SHA256 Credential=x");
        let c = config_with_key(BEDROCK, "bedrock-api-key");
        let (out, _) =
            upstream_parts(&h, "/model/m/converse", &c, BEDROCK.0, BEDROCK.1, false).unwrap();
        assert_eq!(out["authorization"], "Bearer bedrock-api-key");
        assert!(out.get("x-amz-date").is_none());
        assert!(out.get("x-amz-security-token").is_none());
    }

    #[test]
    fn an_azure_entra_token_is_a_real_credential() {
        let c = config_with_key(AZURE, "azure-key");
        let h = headers(&[("authorization", "Bearer eyJ-entra")]);
        let (out, _) = upstream_parts(&h, "/openai/x", &c, AZURE.0, AZURE.1, false).unwrap();
        assert_eq!(out["authorization"], "Bearer eyJ-entra");
        assert!(out.get("api-key").is_none());
    }
}
