//! Callbacks ("functions as responses"): a fixture, an MCP tool or a vector collection may name an
//! HTTP endpoint that computes the answer per request instead of a literal reply. The npm and
//! PyPI libraries serve such endpoints on loopback for functions written in JavaScript or Python.
//!
//! A callback is `"http://..."` or `{"url": "http://...", "timeoutMs": 5000}`; only `http://`
//! URLs are accepted, and the timeout is 1 to [`MAX_TIMEOUT_MS`] milliseconds (default
//! [`DEFAULT_TIMEOUT_MS`]). [`Callback::call`] POSTs a JSON payload and reads the JSON reply; what
//! the payload and the reply hold is the caller's business (an LLM fixture, a tool, a query).

use std::sync::OnceLock;
use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};

use crate::http::ApiError;

/// The timeout when the callback names none.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// The longest timeout a callback may ask for.
pub const MAX_TIMEOUT_MS: u64 = 60_000;
/// The largest reply read from a callback.
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// A checked callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// `http://...`.
    pub url: String,
    /// How long the server waits for the answer.
    pub timeout_ms: u64,
}

/// Why a callback gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackError {
    /// Unreachable, non-2xx, not JSON, or not a valid answer: the message says which.
    Failed(String),
    /// No answer within the timeout.
    Timeout(u64),
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallbackError::Failed(m) => f.write_str(m),
            CallbackError::Timeout(ms) => write!(f, "the callback did not answer within {ms} ms"),
        }
    }
}

impl CallbackError {
    /// `callback_failed` or `callback_timeout`.
    pub fn code(&self) -> &'static str {
        match self {
            CallbackError::Failed(_) => "callback_failed",
            CallbackError::Timeout(_) => "callback_timeout",
        }
    }

    /// The error a provider puts in its envelope: 502 `callback_failed`, 504 `callback_timeout`.
    pub(crate) fn to_api_error(&self) -> ApiError {
        let status = match self {
            CallbackError::Failed(_) => StatusCode::BAD_GATEWAY,
            CallbackError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        };
        ApiError::new(status, "server_error", format!("Callback: {self}")).with_code(self.code())
    }
}

impl Callback {
    /// Read a callback: `"http://..."` or `{"url": "http://...", "timeoutMs": n}`. An error says
    /// what is wrong, for the caller to put beside the field's name.
    pub fn from_value(v: &Value) -> Result<Callback, String> {
        let (url, timeout) =
            match v {
                Value::String(s) => (s.as_str(), None),
                Value::Object(o) => {
                    if let Some(k) = o
                        .keys()
                        .find(|k| !k.starts_with('_') && *k != "url" && *k != "timeoutMs")
                    {
                        return Err(format!(
                            "unknown field `{k}` in a callback (known fields: url, timeoutMs)"
                        ));
                    }
                    let url = match o.get("url") {
                        Some(Value::String(s)) => s.as_str(),
                        Some(_) => return Err("`url` must be a string".into()),
                        None => return Err("a callback needs a `url` (\"http://...\")".into()),
                    };
                    (url, o.get("timeoutMs"))
                }
                _ => return Err(
                    "a callback is a URL string or {\"url\": \"http://...\", \"timeoutMs\": 5000}"
                        .into(),
                ),
            };
        check_url(url)?;
        let timeout_ms = match timeout {
            None | Some(Value::Null) => DEFAULT_TIMEOUT_MS,
            Some(t) => match t.as_u64() {
                Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => ms,
                _ => {
                    return Err(format!(
                        "`timeoutMs` must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}, got {t}"
                    ))
                }
            },
        };
        Ok(Callback {
            url: url.to_owned(),
            timeout_ms,
        })
    }

    /// The callback as JSON (`{"url", "timeoutMs"}`).
    pub fn to_value(&self) -> Value {
        json!({ "url": self.url, "timeoutMs": self.timeout_ms })
    }

    /// POST `payload` and read the JSON reply, within the timeout.
    pub async fn call(&self, payload: &Value) -> Result<Value, CallbackError> {
        let timeout = Duration::from_millis(self.timeout_ms);
        match tokio::time::timeout(timeout, self.exchange(payload)).await {
            Ok(r) => r,
            Err(_) => Err(CallbackError::Timeout(self.timeout_ms)),
        }
    }

    async fn exchange(&self, payload: &Value) -> Result<Value, CallbackError> {
        let Some(client) = client() else {
            return Err(CallbackError::Failed(
                "the server could not build its HTTP client".into(),
            ));
        };
        let body = serde_json::to_vec(payload)
            .map_err(|e| CallbackError::Failed(format!("the payload could not be written: {e}")))?;
        let resp = client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                CallbackError::Failed(format!("{} is unreachable: {}", self.url, source_chain(&e)))
            })?;
        let status = resp.status();
        let bytes = read_capped(resp).await?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(CallbackError::Failed(format!(
                "{} answered {}{}",
                self.url,
                status.as_u16(),
                if text.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", text.trim())
                }
            )));
        }
        serde_json::from_slice::<Value>(&bytes).map_err(|e| {
            CallbackError::Failed(format!("{} answered with invalid JSON: {e}", self.url))
        })
    }
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, CallbackError> {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if out.len() + c.len() > MAX_REPLY_BYTES {
                    return Err(CallbackError::Failed(format!(
                        "the callback's reply is over {MAX_REPLY_BYTES} bytes"
                    )));
                }
                out.extend_from_slice(&c);
            }
            Ok(None) => return Ok(out),
            Err(e) => {
                return Err(CallbackError::Failed(format!(
                    "the callback's reply was cut: {}",
                    source_chain(&e)
                )))
            }
        }
    }
}

/// An error with its causes (`error sending request: connection refused`).
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "the callback URL must start with http:// (got {url:?})"
        ));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("the callback URL has no host: {url:?}"));
    }
    if reqwest::Url::parse(url).is_err() {
        return Err(format!("the callback URL is not a valid URL: {url:?}"));
    }
    Ok(())
}

/// One client for every callback: connections to a callback server are reused. No proxy: a
/// callback is on loopback, and an `HTTP_PROXY` of the environment must not catch it.
fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            crate::http::client::client_builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| tracing::error!("callbacks: cannot build the HTTP client: {e}"))
                .ok()
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_checks() {
        let c = Callback::from_value(&json!("http://127.0.0.1:9/x")).unwrap();
        assert_eq!(c.timeout_ms, DEFAULT_TIMEOUT_MS);
        let c =
            Callback::from_value(&json!({"url": "http://127.0.0.1:9", "timeoutMs": 250})).unwrap();
        assert_eq!(c.timeout_ms, 250);
        for bad in [
            json!("https://127.0.0.1/x"),
            json!("ftp://x"),
            json!("http://"),
            json!({"url": "http://a", "timeoutMs": 0}),
            json!({"url": "http://a", "timeoutMs": 60001}),
            json!({"url": "http://a", "timeoutMs": "5"}),
            json!({"url": "http://a", "timeout": 5}),
            json!({"timeoutMs": 5}),
            json!(3),
        ] {
            assert!(Callback::from_value(&bad).is_err(), "{bad}");
        }
    }
}
