//! Ids: the random ones providers put in their replies (`chatcmpl-...`, `call_...`), and the
//! request id every answer carries.

use http::HeaderValue;
use rand::Rng;

/// The 62 alphanumerics, then two of them again: six random bits pick one without a division.
const ALNUM: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789AB";

/// `prefix` followed by `n` random alphanumerics (`chatcmpl-`, `call_`, `resp_`...).
pub(crate) fn random_id(prefix: &str, n: usize) -> String {
    use std::cell::Cell;
    thread_local! {
        // wyrand, seeded once per thread from the OS: ids need to differ, not to be secret.
        static STATE: Cell<u64> = Cell::new(rand::thread_rng().gen());
    }
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    let mut buf = [0u8; 60];
    STATE.with(|state| {
        let mut rest = n;
        while rest > 0 {
            let take = rest.min(buf.len());
            // Ten characters (six bits each) from every 64 random bits, in a loop of fixed
            // length the compiler unrolls.
            for chunk in buf[..take].chunks_mut(10) {
                let x = state.get().wrapping_add(0xa076_1d64_78bd_642f);
                state.set(x);
                let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
                let bits = (t >> 64) as u64 ^ t as u64;
                for (i, b) in chunk.iter_mut().enumerate() {
                    *b = ALNUM[((bits >> (6 * i)) & 63) as usize];
                }
            }
            // Every byte is ASCII.
            s.push_str(std::str::from_utf8(&buf[..take]).unwrap_or_default());
            rest -= take;
        }
    });
    s
}

/// `x-request-id`, the header every answer carries its request's id in.
pub(crate) const X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// `req_` and 32 hex digits: a random per-process prefix (its 16 digits written once) and a
/// counter, so minting one costs a few instructions.
pub(crate) fn request_id() -> HeaderValue {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    static PREFIX: OnceLock<[u8; 20]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let seed: u64 = rand::random();
        let mut p = [0u8; 20];
        p[..4].copy_from_slice(b"req_");
        for (i, d) in p[4..].iter_mut().enumerate() {
            *d = HEX[((seed >> (60 - 4 * i)) & 0xf) as usize];
        }
        p
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut buf = [0u8; 36];
    buf[..20].copy_from_slice(prefix);
    for (i, d) in buf[20..].iter_mut().enumerate() {
        *d = HEX[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_maybe_shared(bytes::Bytes::copy_from_slice(&buf))
        .unwrap_or(HeaderValue::from_static("req"))
}

/// A random UUID (version 4), lower-case hex with dashes: the form of Tavily's, Cohere's and
/// AWS's request ids and of Chroma's ids.
pub(crate) fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[usize::from(byte >> 4)] as char);
        s.push(HEX[usize::from(byte & 0xf)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_req_and_32_hex_digits_and_differ() {
        let a = super::request_id();
        let b = super::request_id();
        for v in [&a, &b] {
            let s = v.to_str().unwrap();
            assert_eq!(s.len(), 36, "{s}");
            assert!(s.starts_with("req_"), "{s}");
            assert!(s[4..].bytes().all(|c| c.is_ascii_hexdigit()), "{s}");
        }
        assert_ne!(a, b);
        // Same process: same prefix, the counter after it.
        assert_eq!(a.as_bytes()[..20], b.as_bytes()[..20]);
    }

    #[test]
    fn random_ids_have_the_prefix_and_n_alphanumerics_and_differ() {
        for n in [0, 1, 9, 10, 11, 29, 60, 61, 130] {
            let a = super::random_id("chatcmpl-", n);
            let b = super::random_id("chatcmpl-", n);
            assert_eq!(a.len(), 9 + n, "{a}");
            assert!(a.starts_with("chatcmpl-"));
            assert!(a[9..].bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
            if n >= 9 {
                assert_ne!(a, b);
            }
        }
        // Every character position is random: over many ids each takes many values.
        let ids: Vec<String> = (0..200).map(|_| super::random_id("", 29)).collect();
        for i in 0..29 {
            let seen: std::collections::HashSet<u8> = ids.iter().map(|s| s.as_bytes()[i]).collect();
            assert!(seen.len() > 20, "position {i}: {} values", seen.len());
        }
    }

    #[test]
    fn uuids_have_the_v4_shape() {
        let u = super::uuid();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert!(u.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
    }
}
