//! The HTTP client's TLS: rustls with the `ring` provider, installed once for the process before
//! the first client is built (record mode's upstreams, callbacks, A2A push notifications, remote
//! fixtures). `ring` instead of reqwest's default `aws-lc-rs` keeps the binary small.

/// Install the TLS provider for the process (once).
fn install_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Err: a provider is installed already (a program embedding the crate chose its own).
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client builder, with the TLS provider installed.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_provider();
    reqwest::Client::builder()
}

/// The TLS configuration of WebSocket clients (record mode's `wss://` upstreams): the platform's
/// root store, as reqwest verifies.
pub(crate) fn tls_config() -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
    use rustls_platform_verifier::ConfigVerifierExt;
    install_provider();
    rustls::ClientConfig::with_platform_verifier()
        .map(std::sync::Arc::new)
        .map_err(|e| format!("no TLS configuration: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_and_a_provider_is_installed() {
        assert!(super::client_builder().build().is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
