//! An AWS EventStream body decoded with the official decoder (`aws-smithy-eventstream`, which
//! checks the prelude and message CRC of every frame). Shared by the integration tests and the
//! encoder's unit tests (`src/stream/eventstream_tests.rs` includes this file).

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::Bytes;
use serde_json::{Map, Value};

/// One decoded frame: its headers, and its payload as JSON.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) headers: Map<String, Value>,
    pub(crate) payload: Value,
}

fn header_map(m: &Message) -> Map<String, Value> {
    m.headers()
        .iter()
        .map(|h| {
            let v = match h.value() {
                HeaderValue::String(s) => Value::String(s.as_str().to_owned()),
                other => panic!("header {} is not a string: {other:?}", h.name().as_str()),
            };
            (h.name().as_str().to_owned(), v)
        })
        .collect()
}

/// Decode a whole EventStream body; any bad frame fails the test.
pub(crate) fn decode(mut body: Bytes) -> Vec<Frame> {
    let mut frames = Vec::new();
    while !body.is_empty() {
        let m = read_message_from(&mut body).expect("a valid EventStream message");
        frames.push(Frame {
            headers: header_map(&m),
            payload: serde_json::from_slice(m.payload()).expect("a JSON payload"),
        });
    }
    frames
}
