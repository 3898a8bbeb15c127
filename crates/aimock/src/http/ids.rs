//! Ids: the random ones providers put in their replies (`chatcmpl-...`, `call_...`), and the
//! request id every answer carries.

use http::HeaderValue;
use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `prefix` followed by `n` random alphanumerics (`chatcmpl-`, `call_`, `resp_`...).
pub(crate) fn random_id(prefix: &str, n: usize) -> String {
    use std::cell::Cell;
    thread_local! {
        // wyrand, seeded once per thread from the OS: ids need to differ, not to be secret.
        static STATE: Cell<u64> = Cell::new(rand::thread_rng().gen());
    }
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    STATE.with(|state| {
        let mut left = 0u32;
        let mut bits = 0u64;
        for _ in 0..n {
            if left == 0 {
                let x = state.get().wrapping_add(0xa076_1d64_78bd_642f);
                state.set(x);
                let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
                bits = (t >> 64) as u64 ^ t as u64;
                left = 10;
            }
            // 6 bits per character; 62 symbols, so fold the two spare values back in.
            let i = (bits & 63) as usize % ALNUM.len();
            bits >>= 6;
            left -= 1;
            s.push(ALNUM[i] as char);
        }
    });
    s
}

/// `req_` and 32 hex digits: a random per-process prefix and a counter, so minting one costs a
/// few instructions.
pub(crate) fn request_id() -> HeaderValue {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(rand::random);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut buf = [0u8; 36];
    buf[..4].copy_from_slice(b"req_");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in seed
        .to_be_bytes()
        .iter()
        .chain(n.to_be_bytes().iter())
        .enumerate()
    {
        buf[4 + i * 2] = HEX[usize::from(byte >> 4)];
        buf[5 + i * 2] = HEX[usize::from(byte & 0xf)];
    }
    HeaderValue::from_bytes(&buf).unwrap_or(HeaderValue::from_static("req"))
}
