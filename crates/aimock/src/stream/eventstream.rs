//! AWS EventStream framing (`application/vnd.amazon.eventstream`): each message is a prelude
//! (total length, headers length, prelude CRC32), headers, payload and a message CRC32.
//!
//! ```text
//! [total len: u32 BE][headers len: u32 BE][prelude CRC32: u32 BE]
//! [headers: (name len u8, name, type u8 = 7, value len u16 BE, value)*]
//! [payload]
//! [message CRC32 over everything before it: u32 BE]
//! ```
//!
//! Only string headers (type 7) are written: that is all Bedrock's events and exceptions use.

use bytes::{BufMut, Bytes, BytesMut};

/// The content type of an EventStream response.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Header value type 7: a UTF-8 string with a u16 length.
const STRING: u8 = 7;

/// Prelude (12 bytes) and message CRC (4 bytes).
const OVERHEAD: usize = 16;

/// One message with string headers, in the order given. A header name longer than 255 bytes, or
/// a value longer than 65535 bytes, is cut to fit (names and values here are fixed and short).
pub(crate) fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let headers_len: usize = headers
        .iter()
        .map(|(n, v)| 1 + n.len().min(255) + 1 + 2 + v.len().min(usize::from(u16::MAX)))
        .sum();
    let total = OVERHEAD + headers_len + payload.len();
    let mut b = BytesMut::with_capacity(total);
    b.put_u32(total as u32);
    b.put_u32(headers_len as u32);
    let prelude_crc = crc32fast::hash(&b[..8]);
    b.put_u32(prelude_crc);
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(usize::from(u16::MAX))];
        b.put_u8(name.len() as u8);
        b.put_slice(name);
        b.put_u8(STRING);
        b.put_u16(value.len() as u16);
        b.put_slice(value);
    }
    b.put_slice(payload);
    let crc = crc32fast::hash(&b);
    b.put_u32(crc);
    b.freeze()
}

/// An event: `:event-type`, `:content-type: application/json`, `:message-type: event`, and the
/// event's JSON as the payload.
pub(crate) fn event(event_type: &str, json: &str) -> Bytes {
    message(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        json.as_bytes(),
    )
}

/// An exception sent inside a stream: `:exception-type` names the stream's error member
/// (`throttlingException`, `internalServerException`...), the payload is `{"message": ...}`.
#[cfg(test)]
pub(crate) fn exception(exception_type: &str, json: &str) -> Bytes {
    message(
        &[
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        json.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_has_its_lengths_and_both_crcs_in_place() {
        let m = event("messageStart", r#"{"role":"assistant"}"#);
        let total = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize;
        let headers = u32::from_be_bytes([m[4], m[5], m[6], m[7]]) as usize;
        assert_eq!(total, m.len());
        assert_eq!(
            u32::from_be_bytes([m[8], m[9], m[10], m[11]]),
            crc32fast::hash(&m[..8])
        );
        let end = m.len() - 4;
        assert_eq!(
            u32::from_be_bytes([m[end], m[end + 1], m[end + 2], m[end + 3]]),
            crc32fast::hash(&m[..end])
        );
        assert_eq!(&m[12 + headers..end], br#"{"role":"assistant"}"#);
        // First header: `:event-type` = `messageStart`.
        assert_eq!(m[12] as usize, ":event-type".len());
        assert_eq!(&m[13..24], b":event-type");
        assert_eq!(m[24], 7);
        assert_eq!(u16::from_be_bytes([m[25], m[26]]), 12);
        assert_eq!(&m[27..39], b"messageStart");
    }

    #[test]
    fn crc32_is_the_ieee_checksum() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }
}
