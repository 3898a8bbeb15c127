//! Expectations: how many requests a mock should answer ([`Times`]), and the report when it did
//! not: what was expected, what it matched, and for a mock that matched too few, the request
//! that came closest and the first field that failed on it.

use std::fmt;
use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::fixture::hooks::Hooks;
use crate::fixture::{Fixture, MatchContext, DEFAULT_TEST_ID};
use crate::journal::{JournalBody, JournalEntry};
use crate::server::AppState;

/// How many matching requests a mock expects: a number (`1`) or any range (`1..`, `..=3`,
/// `2..5`, `..`). The default, `..`, is no expectation at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    min: u64,
    /// Inclusive; `None`: no upper bound.
    max: Option<u64>,
}

impl Times {
    /// Whether `n` matching requests meet the expectation.
    pub fn contains(&self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }

    /// Whether fewer than `n` requests would have been too few (the expectation wants more).
    fn wants_more_than(&self, n: u64) -> bool {
        n < self.min
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Self {
        Times {
            min: n,
            max: Some(n),
        }
    }
}

impl From<Range<u64>> for Times {
    fn from(r: Range<u64>) -> Self {
        match r.end.checked_sub(1) {
            Some(max) => Times {
                min: r.start,
                max: Some(max),
            },
            // `..0`: nothing can meet it.
            None => Times {
                min: 1,
                max: Some(0),
            },
        }
    }
}

impl From<RangeInclusive<u64>> for Times {
    fn from(r: RangeInclusive<u64>) -> Self {
        Times {
            min: *r.start(),
            max: Some(*r.end()),
        }
    }
}

impl From<RangeFrom<u64>> for Times {
    fn from(r: RangeFrom<u64>) -> Self {
        Times {
            min: r.start,
            max: None,
        }
    }
}

impl From<RangeTo<u64>> for Times {
    fn from(r: RangeTo<u64>) -> Self {
        Times::from(0..r.end)
    }
}

impl From<RangeToInclusive<u64>> for Times {
    fn from(r: RangeToInclusive<u64>) -> Self {
        Times {
            min: 0,
            max: Some(r.end),
        }
    }
}

impl From<RangeFull> for Times {
    fn from(_: RangeFull) -> Self {
        Times::default()
    }
}

/// `exactly 1 matching request`, `at least 2 matching requests`, `between 2 and 4 matching
/// requests`, ...
impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = |n: u64| {
            if n == 1 {
                "matching request"
            } else {
                "matching requests"
            }
        };
        match (self.min, self.max) {
            (0, None) => write!(f, "any number of matching requests"),
            (min, None) => write!(f, "at least {min} {}", noun(min)),
            (min, Some(max)) if min == max => write!(f, "exactly {min} {}", noun(min)),
            (0, Some(max)) => write!(f, "at most {max} {}", noun(max)),
            (min, Some(max)) if max < min => {
                write!(f, "a number of matching requests in an empty range")
            }
            (min, Some(max)) => write!(f, "between {min} and {max} matching requests"),
        }
    }
}

/// A mounted mock: its fixture (which the store holds too) and its expectation.
#[derive(Debug)]
pub(crate) struct Mounted {
    pub(crate) fixture: Arc<Fixture>,
    pub(crate) times: Times,
}

/// The mocks of a server that [`MockServer::verify`](super::MockServer::verify) checks.
pub(crate) type Registry = Arc<Mutex<Vec<Arc<Mounted>>>>;

impl Mounted {
    fn hooks(&self) -> Option<&Hooks> {
        self.fixture.hooks.as_deref()
    }

    /// Requests it answered.
    pub(crate) fn matched(&self) -> u64 {
        self.hooks().map_or(0, Hooks::matched)
    }

    /// Whether this journal entry is a request the mock answered.
    fn answered(&self, e: &JournalEntry) -> bool {
        e.response
            .fixture
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, &self.fixture))
    }

    /// The requests it answered, oldest first.
    pub(crate) fn received(&self, state: &AppState) -> Vec<JournalEntry> {
        let mut all = state.core.journal.all();
        all.retain(|e| self.answered(e));
        all
    }

    /// When its expectation failed: what was expected, what it matched, and (for too few) the
    /// closest miss.
    pub(crate) fn failure(&self, state: &AppState) -> Option<String> {
        let matched = self.matched();
        if self.times.contains(matched) {
            return None;
        }
        let mut out = format!(
            "- {}: expected {}, got {matched}",
            self.fixture.describe(),
            self.times
        );
        if self.times.wants_more_than(matched) {
            out.push_str("\n    ");
            out.push_str(&self.closest_miss(state));
        }
        Some(out)
    }

    /// Among the requests the mock did not answer, the one it came closest to matching.
    fn closest_miss(&self, state: &AppState) -> String {
        let journal = state.core.journal.all();
        if journal.is_empty() {
            return "no request reached the server".to_owned();
        }
        let total = journal.len();
        let others: Vec<(usize, &JournalEntry, &crate::conversation::ChatRequest)> = journal
            .iter()
            .enumerate()
            .filter(|(_, e)| !self.answered(e))
            .filter_map(|(i, e)| match &e.body {
                JournalBody::Chat(req) => Some((i, e, req.as_ref())),
                _ => None,
            })
            .collect();
        let contexts: Vec<MatchContext<'_>> = others
            .iter()
            .map(|(_, e, _)| MatchContext {
                test_id: e.test_id.as_deref().unwrap_or(DEFAULT_TEST_ID),
                context: e
                    .headers
                    .get("x-aimock-context")
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim),
                strict_turn_index: false,
            })
            .collect();
        let candidates = others
            .iter()
            .zip(&contexts)
            .map(|((_, _, req), cx)| (*req, *cx));
        let Some((k, failed)) = state.core.fixtures.explain_for(&self.fixture, candidates) else {
            return format!(
                "none of the {total} request(s) received was one it could match (an LLM request it did not answer)"
            );
        };
        let (i, e, _) = others[k];
        let which = format!(
            "request {} of {total} ({} {})",
            i + 1,
            e.method,
            crate::journal::redact_query(&e.path)
        );
        match failed {
            Some(sentence) => format!("closest miss: {which} failed on {sentence}"),
            None => match &e.response.fixture {
                Some(other) => format!(
                    "closest miss: {which} matches it, but {} answered it",
                    other.describe()
                ),
                None => format!(
                    "closest miss: {which} matches it now, but came before the mock was mounted"
                ),
            },
        }
    }
}

/// The report of every mock whose expectation failed, under `title`; `None` when all held.
pub(crate) fn report(title: &str, mocks: &[Arc<Mounted>], state: &AppState) -> Option<String> {
    let failures: Vec<String> = mocks.iter().filter_map(|m| m.failure(state)).collect();
    if failures.is_empty() {
        return None;
    }
    Some(format!("{title}:\n{}", failures.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_form_says_which_counts_meet_it() {
        let cases: [(Times, &[u64], &[u64], &str); 7] = [
            (1.into(), &[1], &[0, 2], "exactly 1 matching request"),
            ((1..).into(), &[1, 9], &[0], "at least 1 matching request"),
            ((..=3).into(), &[0, 3], &[4], "at most 3 matching requests"),
            (
                (2..5).into(),
                &[2, 4],
                &[1, 5],
                "between 2 and 4 matching requests",
            ),
            (
                (..).into(),
                &[0, 100],
                &[],
                "any number of matching requests",
            ),
            (
                (..0).into(),
                &[],
                &[0, 1],
                "a number of matching requests in an empty range",
            ),
            ((..2).into(), &[0, 1], &[2], "at most 1 matching request"),
        ];
        for (times, ok, bad, shown) in cases {
            for n in ok {
                assert!(times.contains(*n), "{times} should hold {n}");
            }
            for n in bad {
                assert!(!times.contains(*n), "{times} should not hold {n}");
            }
            assert_eq!(times.to_string(), shown);
        }
        assert_eq!(Times::from(0).to_string(), "exactly 0 matching requests");
    }
}
