//! AWS EventStream framing (`application/vnd.amazon.eventstream`): each message is a prelude
//! (total length, headers length, prelude CRC32), headers, payload and a message CRC32.
