//! Server-side conversation state: the responses a stateful API keeps (OpenAI Responses with
//! `store`), so a later request naming one (`previous_response_id`) is matched with the turns
//! before it, and the client can read it back. Kept per server instance, bounded (the oldest
//! goes first), and emptied by a reset. The Conversations API's conversations are kept the same
//! way.

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

/// One conversation of the Conversations API: its items, in order.
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub(crate) created_at: i64,
    pub(crate) metadata: Value,
    pub(crate) items: Vec<Value>,
}

/// One uploaded file (the Files API), byte for byte.
#[derive(Debug)]
pub(crate) struct StoredFile {
    /// The file object as the API shows it (JSON).
    pub(crate) object: Value,
    pub(crate) purpose: String,
    pub(crate) bytes: bytes::Bytes,
}

/// The most bytes of uploaded files a server keeps: the oldest go first beyond it.
pub(crate) const MAX_FILE_BYTES: usize = 256 << 20;

/// The stored responses of a server.
pub(crate) type StoredResponses = Bounded<Arc<Stored>>;
/// The uploaded files of a server.
pub(crate) type StoredFiles = Bounded<Arc<StoredFile>>;

/// One batch of the Batches API: its object, and where its life stands.
#[derive(Debug, Clone)]
pub(crate) struct StoredBatch {
    /// The batch object as the API shows it.
    pub(crate) object: serde_json::Map<String, Value>,
    /// Retrieves so far (the first moves it to `in_progress`, the second ends it).
    pub(crate) polls: u32,
    /// Where it ends (`completed` unless the creator asked otherwise).
    pub(crate) outcome: String,
}

/// The batches of a server.
pub(crate) type StoredBatches = Bounded<StoredBatch>;

/// One fine-tuning job: its object, its event log (oldest first) and its checkpoints.
#[derive(Debug, Clone)]
pub(crate) struct StoredJob {
    pub(crate) object: serde_json::Map<String, Value>,
    pub(crate) polls: u32,
    pub(crate) events: Vec<Value>,
    pub(crate) checkpoints: Vec<Value>,
}

/// The fine-tuning jobs of a server.
pub(crate) type StoredJobs = Bounded<StoredJob>;

/// One interaction of the Gemini Interactions API (`store`).
#[derive(Debug, Clone)]
pub(crate) struct StoredInteraction {
    /// The finished interaction as `GET` returns it.
    pub(crate) object: Arc<Value>,
    /// The conversation up to and including its answer, system messages left out.
    pub(crate) history: Arc<Vec<Message>>,
    /// How many of `history`'s messages are the request's own (before the answer).
    pub(crate) asked: usize,
    /// A background interaction not read yet (`in_progress` until then).
    pub(crate) running: bool,
    /// Cancelled while running: it keeps no answer.
    pub(crate) cancelled: bool,
}

/// The interactions of a server.
pub(crate) type StoredInteractions = Bounded<StoredInteraction>;
/// The conversations of a server.
pub(crate) type StoredConversations = Bounded<Conversation>;

/// One queued fal request (the queue API in `providers::fal` moves it on).
#[derive(Debug, Clone)]
pub(crate) struct FalJob {
    pub(crate) status: FalStatus,
    /// Where its status, result and cancel URLs start (`.../requests/{id}`).
    pub(crate) base: String,
    /// What the result answers (the fixture's payload).
    pub(crate) result: Value,
    /// `x-fal-billable-units` of the completed result.
    pub(crate) billable_units: Option<f64>,
    /// Status and result polls so far.
    pub(crate) polls: u32,
    /// The polls before it is in progress, and before it is done.
    pub(crate) in_progress_after: u32,
    pub(crate) completed_after: u32,
    pub(crate) submitted: std::time::Instant,
    pub(crate) completed: Option<std::time::Instant>,
    pub(crate) cancelled: bool,
    /// Its log lines, oldest first.
    pub(crate) logs: Vec<Value>,
}

/// Where a fal request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FalStatus {
    InQueue,
    InProgress,
    Completed,
}

/// fal's queued requests, by test id and request id.
pub(crate) type StoredFalJobs = Bounded<FalJob>;

#[derive(Debug)]
struct Slots<T> {
    by_id: HashMap<String, T>,
    order: VecDeque<String>,
}

/// Values by id, at most [`MAX_STORED`] of them: the oldest goes first.
#[derive(Debug)]
pub(crate) struct Bounded<T> {
    inner: Mutex<Slots<T>>,
}

impl<T> Default for Bounded<T> {
    fn default() -> Self {
        Bounded {
            inner: Mutex::new(Slots {
                by_id: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }
}

impl<T> Bounded<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keep a value (one with the same id is replaced).
    pub(crate) fn put(&self, id: String, value: T) {
        let mut g = self.lock();
        if g.by_id.insert(id.clone(), value).is_none() {
            g.order.push_back(id);
        }
        while g.order.len() > MAX_STORED {
            if let Some(old) = g.order.pop_front() {
                g.by_id.remove(&old);
            }
        }
    }

    /// Read or change a value; `None` when there is none with this id.
    pub(crate) fn with<R>(&self, id: &str, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.lock().by_id.get_mut(id).map(f)
    }

    /// Forget a value; false when there was none.
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

impl<T: Clone> Bounded<T> {
    /// A stored value.
    pub(crate) fn get(&self, id: &str) -> Option<T> {
        self.with(id, |s| s.clone())
    }

    /// Every value, oldest first.
    pub(crate) fn all(&self) -> Vec<T> {
        let g = self.lock();
        g.order
            .iter()
            .filter_map(|k| g.by_id.get(k).cloned())
            .collect()
    }

    /// Every value with its id, oldest first.
    pub(crate) fn entries(&self) -> Vec<(String, T)> {
        let g = self.lock();
        g.order
            .iter()
            .filter_map(|k| g.by_id.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

impl StoredFiles {
    /// Keep a file, first letting the oldest go while the total would pass [`MAX_FILE_BYTES`].
    pub(crate) fn put_file(&self, id: String, file: StoredFile) {
        {
            let mut g = self.lock();
            let mut total: usize = g.by_id.values().map(|f| f.bytes.len()).sum();
            while total + file.bytes.len() > MAX_FILE_BYTES {
                let Some(old) = g.order.pop_front() else {
                    break;
                };
                if let Some(f) = g.by_id.remove(&old) {
                    total -= f.bytes.len();
                }
            }
        }
        self.put(id, Arc::new(file));
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
            s.put(format!("r{i}"), Arc::new(stored(&i.to_string())));
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

    #[test]
    fn conversations_are_bounded_changed_in_place_and_forgotten() {
        let c = StoredConversations::default();
        let conv = || Conversation {
            created_at: 0,
            metadata: Value::Null,
            items: Vec::new(),
        };
        for i in 0..MAX_STORED + 1 {
            c.put(format!("c{i}"), conv());
        }
        assert!(c.with("c0", |_| ()).is_none());
        c.with("c1", |k| k.items.push(Value::Bool(true))).unwrap();
        assert_eq!(c.with("c1", |k| k.items.len()), Some(1));
        assert!(c.remove("c1") && !c.remove("c1"));
        c.clear();
        assert!(c.with("c2", |_| ()).is_none());
    }
}
