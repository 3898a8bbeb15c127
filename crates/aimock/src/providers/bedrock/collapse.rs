//! Amazon Bedrock: ConverseStream and InvokeModelWithResponseStream (AWS EventStream binary), and
//! Converse and InvokeModel JSON.
//!
//! An EventStream message is a 12-byte prelude (total length, headers length, CRC32 of those 8
//! bytes), headers (name length u8, name, type u8, value), the payload, and a CRC32 of everything
//! before it. `:message-type` is `event` (else `exception` or `error`), `:event-type` names the
//! event. ConverseStream events: `messageStart`, `contentBlockStart` {start: {toolUse: {toolUseId,
//! name}}}, `contentBlockDelta` {delta: {text} | {toolUse: {input}} | {reasoningContent: {text |
//! signature | redactedContent}}}, `contentBlockStop`, `messageStop` {stopReason} and `metadata`
//! {usage}. InvokeModelWithResponseStream sends `chunk` events whose payload is
//! `{"bytes": "<base64 of one Anthropic streaming event>"}`.

use std::collections::HashMap;

use base64::Engine;
use serde_json::Value;

use crate::providers::anthropic::collapse as anthropic;
use crate::record::collapse::{str_of, Builder, Finish};

/// The largest message Bedrock sends is far below this; a bigger length means the framing is lost.
const MAX_MESSAGE: u32 = 24 * 1024 * 1024;

/// One decoded EventStream message.
#[derive(Debug)]
pub(crate) struct Message<'a> {
    pub(super) headers: Vec<(String, HeaderValue<'a>)>,
    pub(super) payload: &'a [u8],
}

/// A header value (only strings matter here; the rest are read to skip them).
#[derive(Debug)]
pub(crate) enum HeaderValue<'a> {
    Str(&'a str),
    Other,
}

impl Message<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::Str(s) if n == name => Some(*s),
            _ => None,
        })
    }
}

/// Decode every message of a body. A message whose CRC does not match is skipped and counted; a
/// cut-short or unreadable prelude ends the decoding (the framing is lost) and is counted too.
/// The second value is whether the body ended cleanly on a message boundary with no bad frame.
pub(crate) fn decode<'a>(b: &mut Builder, body: &'a [u8]) -> (Vec<Message<'a>>, bool) {
    let mut out = Vec::new();
    let mut clean = true;
    let mut at = 0usize;
    while at < body.len() {
        let rest = &body[at..];
        if rest.len() < 12 {
            b.drop_frame(&format!(
                "{} trailing bytes, short of a prelude",
                rest.len()
            ));
            clean = false;
            break;
        }
        let total = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let headers_len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let prelude_crc = u32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if crc32fast::hash(&rest[..8]) != prelude_crc
            || !(16..=MAX_MESSAGE).contains(&total)
            || u64::from(headers_len) + 16 > u64::from(total)
        {
            b.drop_frame("an EventStream prelude that does not check out");
            clean = false;
            break;
        }
        let total = total as usize;
        if rest.len() < total {
            b.drop_frame(&format!(
                "an EventStream message cut short ({} of {total} bytes)",
                rest.len()
            ));
            clean = false;
            break;
        }
        let msg = &rest[..total];
        at += total;
        let crc = u32::from_be_bytes([
            msg[total - 4],
            msg[total - 3],
            msg[total - 2],
            msg[total - 1],
        ]);
        if crc32fast::hash(&msg[..total - 4]) != crc {
            b.drop_frame("an EventStream message whose CRC does not match");
            clean = false;
            continue;
        }
        let headers_end = 12 + headers_len as usize;
        match headers(&msg[12..headers_end]) {
            Some(h) => out.push(Message {
                headers: h,
                payload: &msg[headers_end..total - 4],
            }),
            None => {
                b.drop_frame("EventStream headers that cannot be read");
                clean = false;
            }
        }
    }
    (out, clean)
}

fn headers(mut h: &[u8]) -> Option<Vec<(String, HeaderValue<'_>)>> {
    let mut out = Vec::new();
    while !h.is_empty() {
        let name_len = usize::from(*h.first()?);
        let name = std::str::from_utf8(h.get(1..1 + name_len)?)
            .ok()?
            .to_owned();
        h = h.get(1 + name_len..)?;
        let kind = *h.first()?;
        h = h.get(1..)?;
        let fixed = |n: usize, h: &mut &[u8]| -> Option<()> {
            *h = h.get(n..)?;
            Some(())
        };
        let value = match kind {
            0 | 1 => HeaderValue::Other,
            2 => {
                fixed(1, &mut h)?;
                HeaderValue::Other
            }
            3 => {
                fixed(2, &mut h)?;
                HeaderValue::Other
            }
            4 => {
                fixed(4, &mut h)?;
                HeaderValue::Other
            }
            5 | 8 => {
                fixed(8, &mut h)?;
                HeaderValue::Other
            }
            9 => {
                fixed(16, &mut h)?;
                HeaderValue::Other
            }
            6 | 7 => {
                let len = usize::from(u16::from_be_bytes([*h.first()?, *h.get(1)?]));
                let bytes = h.get(2..2 + len)?;
                h = h.get(2 + len..)?;
                if kind == 7 {
                    HeaderValue::Str(std::str::from_utf8(bytes).ok()?)
                } else {
                    HeaderValue::Other
                }
            }
            _ => return None,
        };
        out.push((name, value));
    }
    Some(out)
}

#[derive(Default)]
struct Converse {
    /// contentBlockIndex -> tool slot.
    tools: HashMap<i64, usize>,
}

impl Converse {
    fn event(&mut self, b: &mut Builder, kind: &str, v: &Value) {
        let index = v
            .get("contentBlockIndex")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        match kind {
            "contentBlockStart" => {
                if let Some(tu) = v.get("start").and_then(|s| s.get("toolUse")) {
                    let slot = b.tool(
                        str_of(tu.get("name")).unwrap_or(""),
                        str_of(tu.get("toolUseId")),
                    );
                    self.tools.insert(index, slot);
                }
            }
            "contentBlockDelta" => {
                let Some(d) = v.get("delta") else { return };
                if let Some(t) = str_of(d.get("text")) {
                    b.text(t);
                }
                if let Some(tu) = d.get("toolUse") {
                    let slot = match self.tools.get(&index) {
                        Some(&s) => s,
                        None => {
                            let s = b.tool("", None);
                            self.tools.insert(index, s);
                            s
                        }
                    };
                    if let Some(frag) = str_of(tu.get("input")) {
                        b.tool_args(slot, frag);
                    }
                }
                if let Some(rc) = d.get("reasoningContent") {
                    reasoning(b, rc);
                }
            }
            "messageStop" => {
                b.complete = true;
                if let Some(r) = str_of(v.get("stopReason")) {
                    b.finish = Some(stop_reason(r));
                }
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    b.merge_usage(u);
                }
            }
            _ => {}
        }
    }
}

/// `reasoningContent`: streamed `{text}`, `{signature}`, `{redactedContent}`, or whole
/// `{reasoningText: {text, signature}}`.
fn reasoning(b: &mut Builder, rc: &Value) {
    let rt = rc.get("reasoningText").unwrap_or(rc);
    if let Some(t) = str_of(rt.get("text")) {
        b.reasoning(t);
    }
    if let Some(s) = str_of(rt.get("signature")).filter(|s| !s.is_empty()) {
        b.signature = Some(s.to_owned());
    }
    if let Some(r) = str_of(rc.get("redactedContent")).filter(|r| !r.is_empty()) {
        b.redacted.push(r.to_owned());
    }
}

/// Converse's stop reason in OpenAI's names where one fits.
fn stop_reason(r: &str) -> Finish {
    match r {
        "end_turn" => Finish::Named("stop".into()),
        "tool_use" => Finish::Named("tool_calls".into()),
        "max_tokens" => Finish::Named("length".into()),
        "content_filtered" => Finish::Named("content_filter".into()),
        other => Finish::Named(other.to_owned()),
    }
}

pub(crate) fn stream(b: &mut Builder, body: &[u8]) {
    let (messages, clean) = decode(b, body);
    let mut converse = Converse::default();
    let mut invoke = anthropic::Events::default();
    let mut warned_foreign = false;
    for m in &messages {
        match m.header(":message-type").unwrap_or("event") {
            "event" => {}
            _ => {
                let what = m
                    .header(":exception-type")
                    .or_else(|| m.header(":error-code"))
                    .unwrap_or("error");
                let payload = String::from_utf8_lossy(m.payload);
                let message = serde_json::from_str::<Value>(&payload)
                    .ok()
                    .and_then(|v| str_of(v.get("message")).map(str::to_owned))
                    .or_else(|| m.header(":error-message").map(str::to_owned))
                    .unwrap_or_else(|| payload.into_owned());
                b.stream_error(&serde_json::json!({"type": what, "message": message}));
                continue;
            }
        }
        let kind = m.header(":event-type").unwrap_or("");
        let v: Value = match serde_json::from_slice(m.payload) {
            Ok(v) => v,
            Err(_) => {
                b.drop_frame(&String::from_utf8_lossy(m.payload));
                continue;
            }
        };
        if kind == "chunk" {
            let decoded = str_of(v.get("bytes")).and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
            });
            match decoded.and_then(|d| serde_json::from_slice::<Value>(&d).ok()) {
                Some(inner) if inner.get("type").is_none() => {
                    if !warned_foreign {
                        warned_foreign = true;
                        b.warn("InvokeModel stream chunks that are not Anthropic events were not recorded");
                    }
                }
                Some(inner) => invoke.event(b, &inner),
                None => b.drop_frame(&v.to_string()),
            }
        } else {
            converse.event(b, kind, &v);
        }
    }
    if !clean {
        b.complete = false;
    }
}

/// A non-streamed Converse reply, or an InvokeModel reply holding an Anthropic Messages body.
pub(crate) fn json(b: &mut Builder, v: &Value) -> bool {
    if let Some(content) = v
        .get("output")
        .and_then(|o| o.get("message"))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
    {
        for c in content {
            if let Some(t) = str_of(c.get("text")) {
                b.text(t);
            }
            if let Some(tu) = c.get("toolUse") {
                let slot = b.tool(
                    str_of(tu.get("name")).unwrap_or(""),
                    str_of(tu.get("toolUseId")),
                );
                if let Some(input) = tu.get("input") {
                    b.tool_whole_args(slot, input);
                }
            }
            if let Some(rc) = c.get("reasoningContent") {
                reasoning(b, rc);
            }
        }
        if let Some(r) = str_of(v.get("stopReason")) {
            b.finish = Some(stop_reason(r));
        }
        if let Some(u) = v.get("usage") {
            b.merge_usage(u);
        }
        return true;
    }
    anthropic::json(b, v)
}

/// How record mode reads this API's replies into fixtures.
pub(crate) static COLLAPSER: crate::record::Collapser = crate::record::Collapser {
    name: "Bedrock",
    stream,
    json,
    framing: crate::record::collapse::Framing::EventStream,
    status_in_code: false,
    compat: None,
};
