//! Chaos: injected failures, per server, per fixture, per request and per test id.
//!
//! Four levels set the rates, highest first: the request's `x-aimock-chaos-*` headers, the matched
//! fixture's `chaos`, the run-time override for the request's test id (`POST /__aimock/chaos`,
//! which replaces the server's rates wholesale for that scope), and the server's rates
//! (`--chaos-*`, `llm.chaos`, [`crate::MockServerBuilder::chaos`]). The first three merge field by
//! field (a header that sets only the drop rate keeps the fixture's latency).
//!
//! One roll per request, after matching: drop, then malformed, then rate limit, then disconnect,
//! each its own draw; the first that hits wins, so the later rates are conditional on the earlier
//! ones missing (aimock 1.43's order). A seed makes the draws a pure function of the seed and the
//! draw's sequence number, so the same requests in the same order get the same actions.
//!
//! When nothing is configured a roll costs a handful of header look-ups and one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderMap, HeaderName};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::http::DEFAULT_TEST_ID;

/// The largest latency any level may ask for, in milliseconds (aimock's bound).
pub(crate) const MAX_LATENCY_MS: f64 = 30_000.0;

/// The body a malformed answer carries.
pub(crate) const MALFORMED_BODY: &str = "{malformed json: <<<chaos>>>";

/// Chaos settings: each rate is a probability in [0, 1].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosRates {
    /// Answer with a 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_rate: Option<f64>,
    /// Answer 200 with a body that is not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_rate: Option<f64>,
    /// Cut the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_rate: Option<f64>,
    /// Answer 429 with Retry-After.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_rate: Option<f64>,
    /// Added delay before answering, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// The fields, their JSON names, their upper bounds and whether they take whole numbers.
const FIELDS: [(&str, f64, bool); 5] = [
    ("dropRate", 1.0, false),
    ("malformedRate", 1.0, false),
    ("disconnectRate", 1.0, false),
    ("rateLimitRate", 1.0, false),
    ("latencyMs", MAX_LATENCY_MS, true),
];

impl ChaosRates {
    /// Nothing set.
    pub const NONE: ChaosRates = ChaosRates {
        drop_rate: None,
        malformed_rate: None,
        disconnect_rate: None,
        rate_limit_rate: None,
        latency_ms: None,
    };

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == ChaosRates::NONE
    }

    fn field_mut(&mut self, i: usize) -> &mut Option<f64> {
        match i {
            0 => &mut self.drop_rate,
            1 => &mut self.malformed_rate,
            2 => &mut self.disconnect_rate,
            3 => &mut self.rate_limit_rate,
            _ => &mut self.latency_ms,
        }
    }

    fn field(&self, i: usize) -> Option<f64> {
        match i {
            0 => self.drop_rate,
            1 => self.malformed_rate,
            2 => self.disconnect_rate,
            3 => self.rate_limit_rate,
            _ => self.latency_ms,
        }
    }

    /// Each field from `self`, else from `lower`.
    #[must_use]
    pub fn over(self, lower: &ChaosRates) -> ChaosRates {
        ChaosRates {
            drop_rate: self.drop_rate.or(lower.drop_rate),
            malformed_rate: self.malformed_rate.or(lower.malformed_rate),
            disconnect_rate: self.disconnect_rate.or(lower.disconnect_rate),
            rate_limit_rate: self.rate_limit_rate.or(lower.rate_limit_rate),
            latency_ms: self.latency_ms.or(lower.latency_ms),
        }
    }

    /// The same rates with every value outside its range dropped (with a warning naming `what`),
    /// so a bad value lets the level below apply instead.
    #[must_use]
    pub fn sanitized(mut self, what: &str) -> ChaosRates {
        for (i, (name, max, integer)) in FIELDS.iter().enumerate() {
            if let Some(v) = self.field(i) {
                if !valid_number(v, *max, *integer) {
                    tracing::warn!("[chaos] {what}: rejected {name} value {v}; ignoring it");
                    *self.field_mut(i) = None;
                }
            }
        }
        self
    }

    /// The first problem with the values, in the words the control API answers with.
    pub fn check(&self) -> Result<(), String> {
        for (i, (name, max, integer)) in FIELDS.iter().enumerate() {
            if let Some(v) = self.field(i) {
                if !valid_number(v, *max, *integer) {
                    return Err(invalid_message(name, *max, *integer));
                }
            }
        }
        Ok(())
    }

    /// Rates from a JSON object (the body of `POST /__aimock/chaos`): every field optional, no
    /// other field, numbers in range.
    pub fn from_json(v: &Value) -> Result<ChaosRates, String> {
        let Some(obj) = v.as_object() else {
            return Err("Invalid body: expected a JSON object".to_owned());
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !FIELDS.iter().any(|f| f.0 == k.as_str()))
        {
            return Err(format!("Unknown chaos field: '{k}'"));
        }
        let mut out = ChaosRates::NONE;
        for (i, (name, max, integer)) in FIELDS.iter().enumerate() {
            match obj.get(*name) {
                None => {}
                Some(n) => match n.as_f64().filter(|x| valid_number(*x, *max, *integer)) {
                    Some(x) => *out.field_mut(i) = Some(x),
                    None => return Err(invalid_message(name, *max, *integer)),
                },
            }
        }
        Ok(out)
    }

    /// As JSON, with the latency as a whole number and unset fields left out.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (i, (name, _, integer)) in FIELDS.iter().enumerate() {
            if let Some(v) = self.field(i) {
                let n = if *integer && v.fract() == 0.0 && v >= 0.0 {
                    json!(v as u64)
                } else {
                    json!(v)
                };
                m.insert((*name).to_owned(), n);
            }
        }
        Value::Object(m)
    }
}

fn invalid_message(name: &str, max: f64, integer: bool) -> String {
    let shape = if integer {
        "a whole number of ms"
    } else {
        "a number"
    };
    format!("Invalid '{name}': must be {shape} between 0 and {max}")
}

fn valid_number(v: f64, max: f64, integer: bool) -> bool {
    v.is_finite() && (0.0..=max).contains(&v) && !(integer && v.fract() != 0.0)
}

/// A plain decimal (`0.5`, `1`, `.25`, `1.`): no sign, exponent, hex or `Infinity`, so a typo on
/// the wire never becomes a 100% outage. Whole numbers only for `integer` fields.
fn parse_decimal(text: &str, max: f64, integer: bool) -> Option<f64> {
    let t = text.trim();
    let (int, frac) = match t.split_once('.') {
        Some(_) if integer => return None,
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if !ok {
        return None;
    }
    t.parse::<f64>()
        .ok()
        .filter(|v| valid_number(*v, max, integer))
}

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChaosAction {
    /// 500 in the provider's error envelope.
    Drop,
    /// 200 whose body is not JSON.
    Malformed,
    /// 429 with Retry-After and rate-limit headers.
    RateLimit,
    /// The connection is cut without an answer.
    Disconnect,
}

impl ChaosAction {
    /// The name the journal and metrics use (aimock's).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChaosAction::Drop => "drop",
            ChaosAction::Malformed => "malformed",
            ChaosAction::RateLimit => "rateLimit",
            ChaosAction::Disconnect => "disconnect",
        }
    }
}

/// What one roll decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Roll {
    /// The failure to inject, if any.
    pub action: Option<ChaosAction>,
    /// Delay before answering, in milliseconds.
    pub latency_ms: u64,
    /// Cut a stream after this many events (`x-aimock-chaos-disconnect-after-chunks`).
    pub cut_after_chunks: Option<usize>,
}

/// `x-aimock-chaos-drop`.
pub(crate) const HEADER_DROP: HeaderName = HeaderName::from_static("x-aimock-chaos-drop");
/// `x-aimock-chaos-malformed`.
pub(crate) const HEADER_MALFORMED: HeaderName = HeaderName::from_static("x-aimock-chaos-malformed");
/// `x-aimock-chaos-disconnect`.
pub(crate) const HEADER_DISCONNECT: HeaderName =
    HeaderName::from_static("x-aimock-chaos-disconnect");
/// `x-aimock-chaos-ratelimit`.
pub(crate) const HEADER_RATE_LIMIT: HeaderName =
    HeaderName::from_static("x-aimock-chaos-ratelimit");
/// `x-aimock-chaos-latency` (milliseconds).
pub(crate) const HEADER_LATENCY: HeaderName = HeaderName::from_static("x-aimock-chaos-latency");
/// `x-aimock-chaos-disconnect-after-chunks` (ours): cut a stream after this many events.
pub(crate) const HEADER_CUT_AFTER_CHUNKS: HeaderName =
    HeaderName::from_static("x-aimock-chaos-disconnect-after-chunks");

/// The rates the request's headers ask for. `None` when no chaos header is present.
pub(crate) fn header_rates(headers: &HeaderMap) -> Option<ChaosRates> {
    let names = [
        &HEADER_DROP,
        &HEADER_MALFORMED,
        &HEADER_DISCONNECT,
        &HEADER_RATE_LIMIT,
        &HEADER_LATENCY,
    ];
    let mut out: Option<ChaosRates> = None;
    for (i, name) in names.into_iter().enumerate() {
        let Some(v) = headers.get(name) else { continue };
        let rates = out.get_or_insert(ChaosRates::NONE);
        let (field, max, integer) = FIELDS[i];
        // A repeated header folded with commas: the first non-empty value wins.
        let text = v
            .to_str()
            .ok()
            .and_then(|s| s.split(',').map(str::trim).find(|s| !s.is_empty()));
        let Some(text) = text else { continue };
        match parse_decimal(text, max, integer) {
            Some(x) => *rates.field_mut(i) = Some(x),
            None => tracing::warn!(
                "[chaos] {name}: rejected {field} value {text:?}; must be {} in [0,{max}]; ignoring it",
                if integer { "a whole number of ms" } else { "a plain decimal" }
            ),
        }
    }
    out
}

/// `x-aimock-chaos-disconnect-after-chunks`, when valid.
pub(crate) fn header_cut_after_chunks(headers: &HeaderMap) -> Option<usize> {
    let v = headers.get(&HEADER_CUT_AFTER_CHUNKS)?;
    let text = v.to_str().ok()?.trim();
    match text.parse::<usize>() {
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!(
                "[chaos] {HEADER_CUT_AFTER_CHUNKS}: rejected value {text:?}; must be a whole number"
            );
            None
        }
    }
}

#[derive(Debug, Default)]
struct Scopes {
    /// The server's rates (construction time, or [`ChaosState::set_server_rates`]).
    server: ChaosRates,
    /// Run-time overrides per test id; [`DEFAULT_TEST_ID`] is the server-wide one.
    by_test: HashMap<String, ChaosRates>,
}

impl Scopes {
    fn effective(&self, test_id: &str) -> ChaosRates {
        self.by_test
            .get(test_id)
            .or_else(|| self.by_test.get(DEFAULT_TEST_ID))
            .copied()
            .unwrap_or(self.server)
    }

    fn any(&self) -> bool {
        !self.server.is_empty() || !self.by_test.is_empty()
    }
}

/// Run-time chaos state: server rates, per-test-id overrides, the seeded roll sequence.
#[derive(Debug, Default)]
pub(crate) struct ChaosState {
    /// The construction-time rates, restored by [`ChaosState::reset`].
    initial: ChaosRates,
    scopes: RwLock<Scopes>,
    /// Whether any server-level rate or override exists (the lock is skipped when not).
    active: AtomicBool,
    seed: Option<u64>,
    draws: AtomicU64,
}

impl ChaosState {
    /// State for the server's rates and seed.
    pub(crate) fn new(base: ChaosRates, seed: Option<u64>) -> ChaosState {
        let base = base.sanitized("server chaos");
        ChaosState {
            initial: base,
            scopes: RwLock::new(Scopes {
                server: base,
                by_test: HashMap::new(),
            }),
            active: AtomicBool::new(!base.is_empty()),
            seed,
            draws: AtomicU64::new(0),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Scopes)) {
        let mut s = self.scopes.write();
        f(&mut s);
        self.active.store(s.any(), Ordering::Release);
    }

    /// The server-level rates in effect for a test id: its override, else the server-wide
    /// override, else the server's rates (never a merge of them).
    pub(crate) fn effective(&self, test_id: &str) -> ChaosRates {
        if !self.active.load(Ordering::Acquire) {
            return ChaosRates::NONE;
        }
        self.scopes.read().effective(test_id)
    }

    /// Install the override for a test id (replacing whatever was in effect for it); returns the
    /// rates now in effect.
    pub(crate) fn set_override(&self, test_id: &str, rates: ChaosRates) -> ChaosRates {
        let mut out = rates;
        self.update(|s| {
            let before = s.effective(test_id);
            let lost: Vec<&str> = FIELDS
                .iter()
                .enumerate()
                .filter(|(i, _)| before.field(*i).is_some() && rates.field(*i).is_none())
                .map(|(_, f)| f.0)
                .collect();
            if !lost.is_empty() {
                tracing::warn!(
                    "[chaos] POST /__aimock/chaos (testId '{test_id}') replaces the chaos config for this scope wholesale: {} no longer applies",
                    lost.join(", ")
                );
            }
            s.by_test.insert(test_id.to_owned(), rates);
            out = s.effective(test_id);
        });
        out
    }

    /// Remove the override for a test id; returns the rates now in effect for it.
    pub(crate) fn remove_override(&self, test_id: &str) -> ChaosRates {
        let mut out = ChaosRates::NONE;
        self.update(|s| {
            s.by_test.remove(test_id);
            out = s.effective(test_id);
        });
        out
    }

    /// Drop every run-time override and go back to the rates the server started with.
    pub(crate) fn reset(&self) {
        let initial = self.initial;
        self.update(|s| {
            s.by_test.clear();
            s.server = initial;
        });
    }

    /// Replace the server's rates (overrides for test ids stay; the server-wide one goes).
    pub(crate) fn set_server_rates(&self, rates: ChaosRates) {
        let rates = rates.sanitized("server chaos");
        self.update(|s| {
            s.server = rates;
            s.by_test.remove(DEFAULT_TEST_ID);
        });
    }

    /// Turn chaos off at every server level (the server's rates and every override).
    pub(crate) fn clear(&self) {
        self.update(|s| {
            s.server = ChaosRates::NONE;
            s.by_test.clear();
        });
    }

    /// The next draw in [0, 1): from the seed and the draw's number when seeded, else random.
    fn draw(&self) -> f64 {
        match self.seed {
            Some(seed) => {
                let n = self.draws.fetch_add(1, Ordering::Relaxed);
                let x = splitmix64(seed ^ splitmix64(n));
                (x >> 11) as f64 / (1u64 << 53) as f64
            }
            None => rand::random::<f64>(),
        }
    }

    /// Roll for one request: the rates from its headers, the matched fixture's and the server's
    /// for its test id, then one draw per configured rate in aimock's order until one hits.
    pub(crate) fn roll(
        &self,
        headers: &HeaderMap,
        fixture: Option<&ChaosRates>,
        test_id: &str,
    ) -> Roll {
        let active = self.active.load(Ordering::Acquire);
        // Nothing configured and no chaos header (the usual request): one pass over the names
        // instead of six hashed look-ups.
        if !active
            && fixture.is_none()
            && !headers
                .keys()
                .any(|k| k.as_str().starts_with("x-aimock-chaos-"))
        {
            return Roll::default();
        }
        let from_headers = header_rates(headers);
        let cut_after_chunks = header_cut_after_chunks(headers);
        if from_headers.is_none() && fixture.is_none() && !active {
            return Roll {
                cut_after_chunks,
                ..Roll::default()
            };
        }
        let server = self.effective(test_id);
        let fixture = fixture.copied().unwrap_or(ChaosRates::NONE);
        let rates = from_headers
            .unwrap_or(ChaosRates::NONE)
            .over(&fixture)
            .over(&server);
        Roll {
            cut_after_chunks,
            ..self.roll_rates(&rates)
        }
    }

    /// Roll for rates already resolved.
    pub(crate) fn roll_rates(&self, rates: &ChaosRates) -> Roll {
        let latency_ms = rates
            .latency_ms
            .map_or(0, |l| l.clamp(0.0, MAX_LATENCY_MS) as u64);
        let order = [
            (rates.drop_rate, ChaosAction::Drop),
            (rates.malformed_rate, ChaosAction::Malformed),
            (rates.rate_limit_rate, ChaosAction::RateLimit),
            (rates.disconnect_rate, ChaosAction::Disconnect),
        ];
        for (rate, action) in order {
            if let Some(r) = rate.filter(|r| *r > 0.0) {
                if self.draw() < r {
                    return Roll {
                        action: Some(action),
                        latency_ms,
                        cut_after_chunks: None,
                    };
                }
            }
        }
        Roll {
            action: None,
            latency_ms,
            cut_after_chunks: None,
        }
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The response for an action that replaces the handler's: the broken body, or a cut connection.
/// `None` for actions the provider already rendered.
pub(crate) fn replacement(action: ChaosAction) -> Option<Response> {
    match action {
        ChaosAction::Malformed => Some(malformed_response()),
        ChaosAction::Disconnect => Some(disconnect_response()),
        ChaosAction::Drop | ChaosAction::RateLimit => None,
    }
}

/// 200, `Content-Type: application/json`, a body that is not JSON.
pub(crate) fn malformed_response() -> Response {
    crate::http::json_body(MALFORMED_BODY)
}

/// A response whose body fails before its first byte: the server drops the connection without
/// completing an answer, and the client sees a transport error.
pub(crate) fn disconnect_response() -> Response {
    let s = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "chaos disconnect",
        ))
    });
    let mut r = crate::http::json_body(Body::from_stream(s));
    r.extensions_mut().insert(Disconnected);
    r
}

/// Marks a response that cuts the connection instead of answering: the metrics count it as
/// status 0, as the journal does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Disconnected;

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_values_are_plain_decimals_in_range() {
        assert_eq!(parse_decimal("0.5", 1.0, false), Some(0.5));
        assert_eq!(parse_decimal(" 1 ", 1.0, false), Some(1.0));
        assert_eq!(parse_decimal(".25", 1.0, false), Some(0.25));
        for bad in [
            "", "2", "-0", "+1", "1e-1", "0x1", "Infinity", "NaN", "0.5abc", ".",
        ] {
            assert_eq!(parse_decimal(bad, 1.0, false), None, "{bad}");
        }
        assert_eq!(parse_decimal("500", MAX_LATENCY_MS, true), Some(500.0));
        assert_eq!(parse_decimal("500.5", MAX_LATENCY_MS, true), None);
        assert_eq!(parse_decimal("40000", MAX_LATENCY_MS, true), None);
    }

    #[test]
    fn headers_override_fixture_which_overrides_the_server_field_by_field() {
        let state = ChaosState::new(
            ChaosRates {
                latency_ms: Some(7.0),
                disconnect_rate: Some(1.0),
                ..ChaosRates::NONE
            },
            Some(1),
        );
        let mut h = HeaderMap::new();
        h.insert(&HEADER_DROP, HeaderValue::from_static("1"));
        let fixture = ChaosRates {
            drop_rate: Some(0.0),
            malformed_rate: Some(0.0),
            ..ChaosRates::NONE
        };
        let roll = state.roll(&h, Some(&fixture), DEFAULT_TEST_ID);
        assert_eq!(roll.action, Some(ChaosAction::Drop));
        assert_eq!(roll.latency_ms, 7);
        let roll = state.roll(&HeaderMap::new(), Some(&fixture), DEFAULT_TEST_ID);
        assert_eq!(roll.action, Some(ChaosAction::Disconnect));
    }

    #[test]
    fn a_test_id_override_replaces_the_server_rates_wholesale() {
        let state = ChaosState::new(
            ChaosRates {
                latency_ms: Some(500.0),
                ..ChaosRates::NONE
            },
            None,
        );
        let eff = state.set_override(
            "t1",
            ChaosRates {
                drop_rate: Some(1.0),
                ..ChaosRates::NONE
            },
        );
        assert_eq!(eff.latency_ms, None);
        assert_eq!(state.effective("t2").latency_ms, Some(500.0));
        assert_eq!(state.remove_override("t1").latency_ms, Some(500.0));
        state.set_override(DEFAULT_TEST_ID, ChaosRates::NONE);
        assert_eq!(state.effective("t2"), ChaosRates::NONE);
        state.reset();
        assert_eq!(state.effective("t2").latency_ms, Some(500.0));
    }

    #[test]
    fn the_same_seed_draws_the_same_numbers() {
        let a = ChaosState::new(ChaosRates::NONE, Some(42));
        let b = ChaosState::new(ChaosRates::NONE, Some(42));
        let c = ChaosState::new(ChaosRates::NONE, Some(43));
        let xa: Vec<f64> = (0..20).map(|_| a.draw()).collect();
        let xb: Vec<f64> = (0..20).map(|_| b.draw()).collect();
        let xc: Vec<f64> = (0..20).map(|_| c.draw()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        assert!(xa.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn the_request_header_cut_is_part_of_the_roll() {
        let mut h = HeaderMap::new();
        assert_eq!(
            ChaosState::default()
                .roll(&h, None, DEFAULT_TEST_ID)
                .cut_after_chunks,
            None
        );
        h.insert(&HEADER_CUT_AFTER_CHUNKS, HeaderValue::from_static("2"));
        let roll = ChaosState::default().roll(&h, None, DEFAULT_TEST_ID);
        assert_eq!(roll.cut_after_chunks, Some(2));
        assert_eq!(roll.action, None);
    }

    #[test]
    fn control_bodies_are_checked() {
        let ok = ChaosRates::from_json(&json!({"dropRate": 0.5, "latencyMs": 100})).unwrap();
        assert_eq!(ok.drop_rate, Some(0.5));
        assert_eq!(ok.to_json(), json!({"dropRate": 0.5, "latencyMs": 100}));
        assert_eq!(
            ChaosRates::from_json(&json!({"dropRat": 1})).unwrap_err(),
            "Unknown chaos field: 'dropRat'"
        );
        assert!(ChaosRates::from_json(&json!({"dropRate": 2})).is_err());
        assert!(ChaosRates::from_json(&json!({"dropRate": "0.5"})).is_err());
        assert!(ChaosRates::from_json(&json!({"latencyMs": 1.5})).is_err());
        assert!(ChaosRates::from_json(&json!([1])).is_err());
    }
}
