//! The leaf layer every surface builds on, importing nothing else of the crate: errors that a
//! provider puts in its envelope ([`ApiError`]), JSON responses and JSON writing ([`json`]),
//! bounded body reading ([`body`]), a control API request read once ([`control`]),
//! percent-decoding with explicit path and query semantics ([`percent`]), ids ([`ids`]) and
//! times ([`time`]), and the HTTP client's TLS ([`client`]).

pub(crate) mod body;
pub(crate) mod client;
pub(crate) mod control;
pub(crate) mod cors;
pub(crate) mod error;
pub(crate) mod ids;
pub(crate) mod json;
pub(crate) mod percent;
pub(crate) mod time;

pub(crate) use body::{poll_whole, read_limited, read_rest, refuse_over, BodyError, Polled};
pub(crate) use control::{control_error, ControlRequest};
pub(crate) use error::{add_rate_limit_headers, ApiError, Envelope};
pub(crate) use json::{json_body, json_response, parse_json_body, push_int, push_json_str};

/// The test id of a request that names none (no `X-Test-Id`, no `?testId=`).
pub const DEFAULT_TEST_ID: &str = "__default__";
