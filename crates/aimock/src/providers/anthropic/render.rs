//! A fixture's reply as an Anthropic `message` object and as the Messages stream events.
//!
//! The events come out as `(event type, JSON)` pairs, so the SSE stream here and any other framing
//! of the same events (Bedrock's invoke stream) share one renderer.

use std::borrow::Cow;
use std::fmt::Write;

use crate::conversation::ChatRequest;
use crate::fixture::{Block, MessageReply};
use crate::http::ids::random_id;
use crate::http::push_json_str;
use crate::providers::{emit_reasoning, estimate_tokens};
use crate::stream::chunk_text;

/// The signature sent with a thinking block when the fixture has none.
pub(crate) const PLACEHOLDER_SIGNATURE: &str = "aimock-placeholder-signature";

/// Anthropic's stop reason for a reply: OpenAI names translated, Anthropic names kept.
pub(crate) fn stop_reason(reply: &MessageReply) -> &str {
    match reply.finish_reason() {
        "stop" => "end_turn",
        "tool_calls" | "function_call" => "tool_use",
        "length" => "max_tokens",
        "content_filter" => "refusal",
        r @ ("end_turn"
        | "max_tokens"
        | "stop_sequence"
        | "tool_use"
        | "pause_turn"
        | "refusal"
        | "model_context_window_exceeded") => r,
        _ => "end_turn",
    }
}

/// Everything needed to render one reply, computed once.
pub(crate) struct Rendered<'a> {
    id: String,
    model: &'a str,
    reply: &'a MessageReply,
    /// Thinking text (when the model reasons).
    reasoning: Option<&'a str>,
    signature: &'a str,
    redacted: &'a [String],
    tool_ids: Vec<String>,
    tool_inputs: Vec<Cow<'a, str>>,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation: u64,
    cache_read: u64,
}

impl<'a> Rendered<'a> {
    /// Prepare a reply to `req` (`strict` decides whether reasoning is dropped for a model that
    /// does not reason).
    pub(crate) fn new(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        let o = &reply.overrides;
        let model = o.model.as_deref().unwrap_or(if req.model.is_empty() {
            "claude-sonnet-4-5"
        } else {
            &req.model
        });
        let has_reasoning = reply.reasoning.is_some() || !reply.redacted_thinking.is_empty();
        let reasoning_ok = has_reasoning && emit_reasoning(&req.model, strict);
        let reasoning = reply.reasoning.as_deref().filter(|_| reasoning_ok);
        let redacted: &[String] = if reasoning_ok {
            &reply.redacted_thinking
        } else {
            &[]
        };
        let tool_ids = reply
            .tool_calls()
            .map(|c| c.id.clone().unwrap_or_else(|| random_id("toolu_01", 22)))
            .collect();
        let tool_inputs: Vec<Cow<'a, str>> = reply
            .tool_calls()
            .map(|c| crate::providers::tool_input(&c.arguments))
            .collect();
        let completion_chars: usize = reply
            .blocks
            .iter()
            .map(|b| match b {
                Block::Text(t) => t.len(),
                Block::ToolCall(c) => c.name.len() + c.arguments.len(),
            })
            .sum::<usize>()
            + reasoning.map_or(0, str::len);
        let input_tokens = o
            .usage_number(&["input_tokens", "prompt_tokens"])
            .unwrap_or_else(|| estimate_tokens(super::request::prompt_chars(req)));
        let output_tokens = o
            .usage_number(&["output_tokens", "completion_tokens"])
            .unwrap_or_else(|| estimate_tokens(completion_chars));
        Rendered {
            id: o.id.clone().unwrap_or_else(|| random_id("msg_01", 22)),
            model,
            reply,
            reasoning,
            signature: reply
                .reasoning_signature
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(PLACEHOLDER_SIGNATURE),
            redacted,
            tool_ids,
            tool_inputs,
            input_tokens,
            output_tokens,
            cache_creation: o
                .usage_number(&["cache_creation_input_tokens"])
                .unwrap_or(0),
            cache_read: o.usage_number(&["cache_read_input_tokens"]).unwrap_or(0),
        }
    }

    /// The full `usage` object of a message.
    fn push_usage(&self, b: &mut String, output_tokens: u64) {
        let _ = write!(
            b,
            "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"cache_creation\":",
            self.input_tokens, self.cache_creation, self.cache_read
        );
        match self
            .reply
            .overrides
            .usage
            .as_ref()
            .and_then(|u| u.get("cache_creation"))
            .filter(|v| v.is_object())
        {
            Some(v) => b.push_str(&v.to_string()),
            None => {
                let _ = write!(
                    b,
                    "{{\"ephemeral_5m_input_tokens\":{},\"ephemeral_1h_input_tokens\":0}}",
                    self.cache_creation
                );
            }
        }
        let _ = write!(
            b,
            ",\"output_tokens\":{output_tokens},\"service_tier\":\"standard\",\"inference_geo\":\"not_available\"}}"
        );
    }

    /// `{"id":...,"type":"message","role":"assistant","model":...,"content":` — the message up to
    /// its content.
    fn push_head(&self, b: &mut String) {
        b.push_str("{\"id\":");
        push_json_str(b, &self.id);
        b.push_str(",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
        push_json_str(b, self.model);
        b.push_str(",\"content\":");
    }

    fn push_thinking(&self, b: &mut String, thinking: &str, signature: &str) {
        b.push_str("{\"type\":\"thinking\",\"thinking\":");
        push_json_str(b, thinking);
        b.push_str(",\"signature\":");
        push_json_str(b, signature);
        b.push('}');
    }

    fn push_redacted(b: &mut String, data: &str) {
        b.push_str("{\"type\":\"redacted_thinking\",\"data\":");
        push_json_str(b, data);
        b.push('}');
    }

    fn push_tool_use(&self, b: &mut String, i: usize, name: &str, input: &str) {
        b.push_str("{\"type\":\"tool_use\",\"id\":");
        push_json_str(b, &self.tool_ids[i]);
        b.push_str(",\"name\":");
        push_json_str(b, name);
        b.push_str(",\"input\":");
        b.push_str(input);
        b.push('}');
    }

    /// The whole `message` object.
    pub(crate) fn json(&self) -> String {
        let mut b = String::with_capacity(640);
        self.push_head(&mut b);
        b.push('[');
        let mut first = true;
        let mut sep = |b: &mut String| {
            if !first {
                b.push(',');
            }
            first = false;
        };
        if let Some(r) = self.reasoning {
            sep(&mut b);
            self.push_thinking(&mut b, r, self.signature);
        }
        for d in self.redacted {
            sep(&mut b);
            Self::push_redacted(&mut b, d);
        }
        let mut call = 0usize;
        for block in &self.reply.blocks {
            sep(&mut b);
            match block {
                Block::Text(t) => {
                    b.push_str("{\"type\":\"text\",\"text\":");
                    push_json_str(&mut b, t);
                    b.push('}');
                }
                Block::ToolCall(c) => {
                    self.push_tool_use(&mut b, call, &c.name, &self.tool_inputs[call]);
                    call += 1;
                }
            }
        }
        b.push_str("],\"stop_reason\":");
        push_json_str(&mut b, stop_reason(self.reply));
        b.push_str(",\"stop_sequence\":null,\"stop_details\":null,\"usage\":");
        self.push_usage(&mut b, self.output_tokens);
        b.push('}');
        b
    }

    /// The stream's events in order, each as `(event type, JSON data)`: `message_start`, the
    /// content blocks (`ping` after the first block starts, as the API does), `message_delta`,
    /// `message_stop`. Text, thinking and tool arguments come in `chunk_size`-character deltas.
    pub(crate) fn events(&self, chunk_size: usize, mut emit: impl FnMut(&'static str, &str)) {
        let mut s = String::with_capacity(512);
        s.push_str("{\"type\":\"message_start\",\"message\":");
        self.push_head(&mut s);
        s.push_str(
            "[],\"stop_reason\":null,\"stop_sequence\":null,\"stop_details\":null,\"usage\":",
        );
        self.push_usage(&mut s, self.output_tokens.min(1));
        s.push_str("}}");
        emit("message_start", &s);

        let mut index = 0usize;
        let mut pinged = false;
        let mut start = |emit: &mut dyn FnMut(&'static str, &str), index: usize, block: &str| {
            let mut s = String::with_capacity(block.len() + 64);
            let _ = write!(
                s,
                "{{\"type\":\"content_block_start\",\"index\":{index},\"content_block\":{block}}}"
            );
            emit("content_block_start", &s);
            if !pinged {
                pinged = true;
                emit("ping", "{\"type\":\"ping\"}");
            }
        };
        let delta = |emit: &mut dyn FnMut(&'static str, &str),
                     index: usize,
                     kind: &str,
                     field: &str,
                     value: &str| {
            let mut s = String::with_capacity(value.len() + 96);
            let _ = write!(
                s,
                "{{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{{\"type\":\"{kind}\",\"{field}\":"
            );
            push_json_str(&mut s, value);
            s.push_str("}}");
            emit("content_block_delta", &s);
        };
        let stop = |emit: &mut dyn FnMut(&'static str, &str), index: usize| {
            emit(
                "content_block_stop",
                &format!("{{\"type\":\"content_block_stop\",\"index\":{index}}}"),
            );
        };

        if let Some(r) = self.reasoning {
            let mut block = String::new();
            self.push_thinking(&mut block, "", "");
            start(&mut emit, index, &block);
            for piece in chunk_text(r, chunk_size) {
                delta(&mut emit, index, "thinking_delta", "thinking", piece);
            }
            delta(
                &mut emit,
                index,
                "signature_delta",
                "signature",
                self.signature,
            );
            stop(&mut emit, index);
            index += 1;
        }
        for d in self.redacted {
            let mut block = String::new();
            Self::push_redacted(&mut block, d);
            start(&mut emit, index, &block);
            stop(&mut emit, index);
            index += 1;
        }
        let mut call = 0usize;
        for b in &self.reply.blocks {
            match b {
                Block::Text(t) => {
                    start(&mut emit, index, "{\"type\":\"text\",\"text\":\"\"}");
                    for piece in chunk_text(t, chunk_size) {
                        delta(&mut emit, index, "text_delta", "text", piece);
                    }
                }
                Block::ToolCall(c) => {
                    let mut block = String::new();
                    self.push_tool_use(&mut block, call, &c.name, "{}");
                    start(&mut emit, index, &block);
                    // The API opens every tool input with an empty fragment.
                    delta(&mut emit, index, "input_json_delta", "partial_json", "");
                    let input = &self.tool_inputs[call];
                    if input.as_ref() != "{}" {
                        for piece in chunk_text(input, chunk_size) {
                            delta(&mut emit, index, "input_json_delta", "partial_json", piece);
                        }
                    }
                    call += 1;
                }
            }
            stop(&mut emit, index);
            index += 1;
        }
        if !pinged {
            emit("ping", "{\"type\":\"ping\"}");
        }

        let mut s = String::with_capacity(256);
        s.push_str("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
        push_json_str(&mut s, stop_reason(self.reply));
        let _ = write!(
            s,
            ",\"stop_sequence\":null,\"stop_details\":null}},\"usage\":{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"output_tokens\":{}}}}}",
            self.input_tokens, self.cache_creation, self.cache_read, self.output_tokens
        );
        emit("message_delta", &s);
        emit("message_stop", "{\"type\":\"message_stop\"}");
    }
}
