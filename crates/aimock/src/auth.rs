//! Inbound API-key checks (`AIMOCK_API_KEYS`, `auth.apiKeys`).

/// The accepted inbound keys. (Stub: the auth engineer fills this in.)
#[derive(Debug, Default)]
pub struct ApiKeys {
    keys: Vec<String>,
}

impl ApiKeys {
    /// Keys to accept; `None` when the list is empty (no check).
    pub fn new(keys: &[String]) -> Option<ApiKeys> {
        (!keys.is_empty()).then(|| ApiKeys {
            keys: keys.to_vec(),
        })
    }
}
