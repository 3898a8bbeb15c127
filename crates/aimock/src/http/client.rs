//! The HTTP client's TLS: rustls with the `ring` provider, installed once for the process before
//! the first client is built (record mode's upstreams, callbacks, A2A push notifications, remote
//! fixtures). `ring` instead of reqwest's default `aws-lc-rs` keeps the binary small.

/// A reqwest client builder, with the TLS provider installed.
pub fn client_builder() -> reqwest::ClientBuilder {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Err: a provider is installed already (a program embedding the crate chose its own).
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_and_a_provider_is_installed() {
        assert!(super::client_builder().build().is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
