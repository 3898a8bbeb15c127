//! [`MockGuard`]: a mock mounted for a scope ([`Mock::mount_as_scoped`](super::Mock::mount_as_scoped)).

use std::sync::Arc;

use super::expectations::{report, Mounted, Registry};
use crate::journal::JournalEntry;
use crate::server::AppState;

/// A mock mounted until this guard is dropped. Dropping it checks the mock's expectation
/// (panicking with the same report as [`MockServer::verify`](super::MockServer::verify) when it
/// failed, unless the thread is panicking already) and unmounts the mock: later requests no
/// longer see it.
#[derive(Debug)]
#[must_use = "dropping the guard unmounts the mock at once"]
pub struct MockGuard {
    mounted: Arc<Mounted>,
    state: Arc<AppState>,
    registry: Registry,
}

impl MockGuard {
    pub(crate) fn new(mounted: Arc<Mounted>, state: Arc<AppState>, registry: Registry) -> Self {
        MockGuard {
            mounted,
            state,
            registry,
        }
    }

    /// The requests this mock answered, oldest first (from the server's journal, so bounded
    /// like it).
    pub fn received_requests(&self) -> Vec<JournalEntry> {
        self.mounted.received(&self.state)
    }

    /// How many requests this mock answered.
    pub fn match_count(&self) -> u64 {
        self.mounted.matched()
    }
}

impl Drop for MockGuard {
    fn drop(&mut self) {
        let failed = if std::thread::panicking() {
            None
        } else {
            report(
                "scoped mock expectation failed",
                std::slice::from_ref(&self.mounted),
                &self.state,
            )
        };
        self.state.core.fixtures.remove(&self.mounted.fixture);
        self.registry
            .lock()
            .retain(|m| !Arc::ptr_eq(m, &self.mounted));
        if let Some(report) = failed {
            panic!("{report}");
        }
    }
}
