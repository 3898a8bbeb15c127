//! Our AWS EventStream encoder, checked against the official decoder
//! (`aws-smithy-eventstream`, which verifies both CRCs of every message).

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::HeaderValue;
use bytes::Bytes;
use serde_json::json;

#[path = "../../tests/it/support/eventstream.rs"]
mod decoder;
use decoder::decode;

#[test]
fn an_exception_frame_decodes_with_its_exception_type() {
    let frame =
        crate::stream::eventstream::exception("throttlingException", r#"{"message":"slow down"}"#);
    let frames = decode(frame);
    assert_eq!(frames[0].headers[":message-type"], "exception");
    assert_eq!(frames[0].headers[":exception-type"], "throttlingException");
    assert_eq!(frames[0].payload["message"], "slow down");
}

mod encoder {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_message_we_encode_decodes_to_the_same_headers_and_payload(
            headers in proptest::collection::vec((":?[a-z-]{1,20}", "\\PC{0,40}"), 0..6),
            payload in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let pairs: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let mut bytes = crate::stream::eventstream::message(&pairs, &payload);
            let m = read_message_from(&mut bytes).unwrap();
            prop_assert!(bytes.is_empty());
            prop_assert_eq!(m.payload().as_ref(), &payload[..]);
            let got: Vec<(String, String)> = m
                .headers()
                .iter()
                .map(|h| {
                    let v = match h.value() {
                        HeaderValue::String(s) => s.as_str().to_owned(),
                        other => panic!("{other:?}"),
                    };
                    (h.name().as_str().to_owned(), v)
                })
                .collect();
            prop_assert_eq!(got, headers);
        }
    }

    #[test]
    fn a_text_cut_into_frames_keeps_every_character_whole() {
        let text = "héllo wörld ✓ ok";
        let r = crate::stream::chunk_text(text, 3);
        let frames: Vec<Bytes> = r
            .iter()
            .map(|piece| {
                let json = json!({"contentBlockIndex": 0, "delta": {"text": piece}}).to_string();
                crate::stream::eventstream::event("contentBlockDelta", &json)
            })
            .collect();
        let mut all = Vec::new();
        for f in &frames {
            all.extend_from_slice(f);
        }
        let decoded = decode(Bytes::from(all));
        let joined: String = decoded
            .iter()
            .map(|f| f.payload["delta"]["text"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(joined, text);
    }
}
