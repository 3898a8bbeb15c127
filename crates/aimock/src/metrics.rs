//! Prometheus metrics (`--metrics`, served at `/metrics`).

/// The metric registry. (Stub: the metrics engineer fills this in.)
#[derive(Debug, Default)]
pub struct Metrics {}

impl Metrics {
    /// A registry with every aimock metric.
    pub fn new() -> Metrics {
        Metrics {}
    }

    /// `aimock_chaos_triggered_total{action, source}`.
    pub fn chaos_triggered(&self, _action: &str, _source: &str) {}

    /// `aimock_chaos_bypassed_total{action, source, reason}`.
    pub fn chaos_bypassed(&self, _action: &str, _source: &str, _reason: &str) {}
}
