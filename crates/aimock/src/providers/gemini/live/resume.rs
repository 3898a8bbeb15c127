//! Session resumption: the conversations a `sessionResumptionUpdate.newHandle` stands for, so a
//! new connection whose `setup.sessionResumption.handle` names one carries on with its history.
//!
//! Handles live in one store for the process (a static), bounded at [`KEPT`] handles: the
//! oldest is forgotten first. Handles are random (`sess_` and 32 characters), so servers in one
//! process (Rust tests start many) never see each other's; a handle is only ever a key. A
//! resumed session gets new handles; its old ones stay valid until evicted, as the real API's
//! stay valid for a while.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use crate::conversation::Message;

/// How many handles are kept.
pub(crate) const KEPT: usize = 1024;

/// What a handle resumes: the conversation (system messages left out: the new setup gives its
/// own) and the calls not answered yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Saved {
    pub(crate) history: Vec<Message>,
    /// `(name, id)` of calls made and not answered.
    pub(crate) pending: Vec<(String, String)>,
    /// Calls made so far (numbers the ids of the next ones).
    pub(crate) calls: usize,
}

/// Handles and what they resume, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Store {
    map: HashMap<String, Saved>,
    order: VecDeque<String>,
    cap: usize,
}

impl Store {
    pub(crate) fn with_capacity(cap: usize) -> Store {
        Store {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Keep `saved` under `handle`, forgetting the oldest handle when full.
    pub(crate) fn put(&mut self, handle: String, saved: Saved) {
        if self.map.insert(handle.clone(), saved).is_none() {
            self.order.push_back(handle);
        }
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    /// What `handle` resumes.
    pub(crate) fn get(&self, handle: &str) -> Option<Saved> {
        self.map.get(handle).cloned()
    }
}

fn store() -> &'static Mutex<Store> {
    static STORE: OnceLock<Mutex<Store>> = OnceLock::new();
    STORE.get_or_init(|| Mutex::new(Store::with_capacity(KEPT)))
}

/// Save a session's state under a new handle, and return the handle.
pub(crate) fn save(saved: Saved) -> String {
    let handle = crate::http::ids::random_id("sess_", 32);
    if let Ok(mut s) = store().lock() {
        s.put(handle.clone(), saved);
    }
    handle
}

/// The state a handle resumes.
pub(crate) fn load(handle: &str) -> Option<Saved> {
    store().lock().ok().and_then(|s| s.get(handle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Role;

    #[test]
    fn the_store_forgets_the_oldest_handle_first() {
        let mut s = Store::with_capacity(2);
        let saved = |t: &str| Saved {
            history: vec![Message::text(Role::User, t)],
            ..Default::default()
        };
        s.put("a".into(), saved("1"));
        s.put("b".into(), saved("2"));
        s.put("c".into(), saved("3"));
        assert!(s.get("a").is_none());
        assert_eq!(s.get("b"), Some(saved("2")));
        assert_eq!(s.get("c"), Some(saved("3")));
    }

    #[test]
    fn saved_sessions_load_by_handle() {
        let h = save(Saved {
            calls: 4,
            ..Default::default()
        });
        assert!(h.starts_with("sess_"));
        assert_eq!(load(&h).map(|s| s.calls), Some(4));
        assert!(load("sess_unknown").is_none());
    }
}
