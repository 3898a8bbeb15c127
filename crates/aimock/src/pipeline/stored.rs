//! Server-side conversation state: the responses a stateful API keeps (OpenAI Responses with
//! `store`), so a later request naming one (`previous_response_id`) is matched with the turns
//! before it, and the client can read it back. Kept per server instance, bounded (the oldest
//! goes first), and emptied by a reset.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::conversation::Message;

/// How many stored responses a server keeps.
pub(crate) const MAX_STORED: usize = 1_000;

/// One stored response.
#[derive(Debug)]
pub(crate) struct Stored {
    /// The response object as `GET` returns it (JSON).
    pub(crate) body: String,
    /// The conversation up to and including this response, system messages left out (a later
    /// request's own instructions stand).
    pub(crate) history: Vec<Message>,
    /// The request's input items, each with its id, in order.
    pub(crate) input_items: Vec<Value>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Arc<Stored>>,
    order: VecDeque<String>,
}

/// The stored responses of a server.
#[derive(Debug, Default)]
pub(crate) struct StoredResponses {
    inner: Mutex<Inner>,
}

impl StoredResponses {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keep a response (the oldest goes when the store is full).
    pub(crate) fn put(&self, id: String, stored: Stored) {
        let mut g = self.lock();
        if g.by_id.insert(id.clone(), Arc::new(stored)).is_none() {
            g.order.push_back(id);
        }
        while g.order.len() > MAX_STORED {
            if let Some(old) = g.order.pop_front() {
                g.by_id.remove(&old);
            }
        }
    }

    /// A stored response.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Stored>> {
        self.lock().by_id.get(id).cloned()
    }

    /// Forget a response; false when there was none.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut g = self.lock();
        if g.by_id.remove(id).is_none() {
            return false;
        }
        g.order.retain(|k| k != id);
        true
    }

    /// Forget everything.
    pub(crate) fn clear(&self) {
        let mut g = self.lock();
        g.by_id.clear();
        g.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &str) -> Stored {
        Stored {
            body: body.to_owned(),
            history: Vec::new(),
            input_items: Vec::new(),
        }
    }

    #[test]
    fn the_store_is_bounded_oldest_first_and_forgets_on_request() {
        let s = StoredResponses::default();
        for i in 0..MAX_STORED + 5 {
            s.put(format!("r{i}"), stored(&i.to_string()));
        }
        assert!(s.get("r0").is_none() && s.get("r4").is_none());
        assert_eq!(s.get("r5").unwrap().body, "5");
        assert_eq!(s.lock().by_id.len(), MAX_STORED);
        assert!(s.remove("r5"));
        assert!(!s.remove("r5"));
        assert!(s.get("r5").is_none());
        s.clear();
        assert!(s.get(&format!("r{}", MAX_STORED + 4)).is_none());
    }
}
