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
use crate::providers::emit_reasoning;
use crate::providers::reply::{Commas, Counting, ReasoningCount, RenderedReply};
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

/// What Anthropic's content blocks are made of, rendered (Anthropic's messages, Bedrock's Converse):
/// the thinking shown with its signature, the redacted thinking, and the tool uses with their input
/// as a JSON object.
pub(crate) struct BlockReply<'a> {
    pub(crate) core: RenderedReply<'a>,
    /// The signature of the thinking: the fixture's, else a placeholder.
    pub(crate) signature: &'a str,
    /// Redacted thinking, when the thinking shows.
    pub(crate) redacted: &'a [String],
    /// Each tool call's input: its arguments when they are a JSON object, else `{}`.
    pub(crate) tool_inputs: Vec<Cow<'a, str>>,
}

/// One content block of a [`BlockReply`], in order: thinking, redacted thinking, then the
/// fixture's text and tool uses.
pub(crate) enum Part<'r> {
    Thinking(&'r str),
    Redacted(&'r str),
    Text(&'r str),
    ToolUse {
        id: &'r str,
        name: &'r str,
        input: &'r str,
    },
}

impl<'a> BlockReply<'a> {
    /// `reply` to `req`, counted as `counting` says, a tool call without an id getting one of
    /// `id_prefix` (`strict` decides whether thinking is dropped for a model that does not reason).
    pub(crate) fn new(
        req: &ChatRequest,
        reply: &'a MessageReply,
        strict: bool,
        counting: &Counting,
        id_prefix: &str,
    ) -> Self {
        let has_reasoning = reply.reasoning.is_some() || !reply.redacted_thinking.is_empty();
        let reasoning_ok = has_reasoning && emit_reasoning(&req.model, strict);
        let reasoning = reply.reasoning.as_deref().filter(|_| reasoning_ok);
        BlockReply {
            core: RenderedReply::new(req, reply, reasoning, counting, |_, _| {
                random_id(id_prefix, 22)
            }),
            signature: reply
                .reasoning_signature
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(PLACEHOLDER_SIGNATURE),
            redacted: if reasoning_ok {
                &reply.redacted_thinking
            } else {
                &[]
            },
            tool_inputs: reply
                .tool_calls()
                .map(|c| crate::providers::tool_input(&c.arguments))
                .collect(),
        }
    }

    /// The content blocks, in order.
    pub(crate) fn parts(&self) -> impl Iterator<Item = Part<'_>> {
        let mut call = 0usize;
        let blocks = self.core.reply.blocks.iter().map(move |b| match b {
            Block::Text(t) => Part::Text(t),
            Block::ToolCall(c) => {
                call += 1;
                Part::ToolUse {
                    id: &self.core.call_ids[call - 1],
                    name: &c.name,
                    input: &self.tool_inputs[call - 1],
                }
            }
        });
        self.core
            .reasoning
            .map(Part::Thinking)
            .into_iter()
            .chain(self.redacted.iter().map(|d| Part::Redacted(d)))
            .chain(blocks)
    }
}

/// How Anthropic counts tokens: declared tools count toward the prompt, thinking toward the
/// completion.
const COUNTING: Counting = Counting {
    prompt: &["input_tokens", "prompt_tokens"],
    completion: &["output_tokens", "completion_tokens"],
    prompt_chars: super::request::prompt_chars,
    reasoning: ReasoningCount::Chars,
};

/// A reply as an Anthropic `message` and its stream events.
pub(crate) struct AnthropicReply<'a> {
    blocks: BlockReply<'a>,
    id: String,
    model: &'a str,
    cache_creation: u64,
    cache_read: u64,
}

impl<'a> AnthropicReply<'a> {
    /// Prepare a reply to `req` (`strict` decides whether reasoning is dropped for a model that
    /// does not reason).
    pub(crate) fn new(req: &'a ChatRequest, reply: &'a MessageReply, strict: bool) -> Self {
        let blocks = BlockReply::new(req, reply, strict, &COUNTING, "toolu_01");
        let o = &reply.overrides;
        AnthropicReply {
            id: blocks.core.id(|| random_id("msg_01", 22)),
            model: blocks.core.model(&req.model, "claude-sonnet-4-5"),
            cache_creation: o
                .usage_number(&["cache_creation_input_tokens"])
                .unwrap_or(0),
            cache_read: o.usage_number(&["cache_read_input_tokens"]).unwrap_or(0),
            blocks,
        }
    }

    fn reply(&self) -> &'a MessageReply {
        self.blocks.core.reply
    }

    /// The full `usage` object of a message.
    fn push_usage(&self, b: &mut String, output_tokens: u64) {
        let _ = write!(
            b,
            "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"cache_creation\":",
            self.blocks.core.prompt_tokens, self.cache_creation, self.cache_read
        );
        match self
            .reply()
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

    /// A content block as the message holds it; streamed, a block starts with its thinking,
    /// signature and tool input empty (`opening`).
    fn push_block(&self, b: &mut String, part: &Part<'_>, opening: bool) {
        match *part {
            Part::Thinking(thinking) => {
                let (thinking, signature) = if opening {
                    ("", "")
                } else {
                    (thinking, self.blocks.signature)
                };
                b.push_str("{\"type\":\"thinking\",\"thinking\":");
                push_json_str(b, thinking);
                b.push_str(",\"signature\":");
                push_json_str(b, signature);
                b.push('}');
            }
            Part::Redacted(data) => {
                b.push_str("{\"type\":\"redacted_thinking\",\"data\":");
                push_json_str(b, data);
                b.push('}');
            }
            Part::Text(text) => {
                b.push_str("{\"type\":\"text\",\"text\":");
                push_json_str(b, if opening { "" } else { text });
                b.push('}');
            }
            Part::ToolUse { id, name, input } => {
                b.push_str("{\"type\":\"tool_use\",\"id\":");
                push_json_str(b, id);
                b.push_str(",\"name\":");
                push_json_str(b, name);
                b.push_str(",\"input\":");
                b.push_str(if opening { "{}" } else { input });
                b.push('}');
            }
        }
    }

    /// The whole `message` object.
    pub(crate) fn json(&self) -> String {
        let mut b = String::with_capacity(640);
        self.push_head(&mut b);
        b.push('[');
        let mut commas = Commas::default();
        for part in self.blocks.parts() {
            commas.next(&mut b);
            self.push_block(&mut b, &part, false);
        }
        b.push_str("],\"stop_reason\":");
        push_json_str(&mut b, stop_reason(self.reply()));
        b.push_str(",\"stop_sequence\":null,\"stop_details\":null,\"usage\":");
        self.push_usage(&mut b, self.blocks.core.completion_tokens);
        b.push('}');
        b
    }

    /// The stream's events in order, each as `(event type, JSON data)`: `message_start`, the
    /// content blocks (`ping` after the first block starts, as the API does), `message_delta`,
    /// `message_stop`. Text, thinking and tool arguments come in `chunk_size`-character deltas.
    pub(crate) fn events(&self, chunk_size: usize, mut emit: impl FnMut(&'static str, &str)) {
        let core = &self.blocks.core;
        let mut s = String::with_capacity(512);
        s.push_str("{\"type\":\"message_start\",\"message\":");
        self.push_head(&mut s);
        s.push_str(
            "[],\"stop_reason\":null,\"stop_sequence\":null,\"stop_details\":null,\"usage\":",
        );
        self.push_usage(&mut s, core.completion_tokens.min(1));
        s.push_str("}}");
        emit("message_start", &s);

        let mut pinged = false;
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
        for (index, part) in self.blocks.parts().enumerate() {
            let mut block = String::new();
            self.push_block(&mut block, &part, true);
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
            match part {
                Part::Thinking(r) => {
                    for piece in chunk_text(r, chunk_size) {
                        delta(&mut emit, index, "thinking_delta", "thinking", piece);
                    }
                    delta(
                        &mut emit,
                        index,
                        "signature_delta",
                        "signature",
                        self.blocks.signature,
                    );
                }
                Part::Redacted(_) => {}
                Part::Text(t) => {
                    for piece in chunk_text(t, chunk_size) {
                        delta(&mut emit, index, "text_delta", "text", piece);
                    }
                }
                Part::ToolUse { input, .. } => {
                    // The API opens every tool input with an empty fragment.
                    delta(&mut emit, index, "input_json_delta", "partial_json", "");
                    if input != "{}" {
                        for piece in chunk_text(input, chunk_size) {
                            delta(&mut emit, index, "input_json_delta", "partial_json", piece);
                        }
                    }
                }
            }
            emit(
                "content_block_stop",
                &format!("{{\"type\":\"content_block_stop\",\"index\":{index}}}"),
            );
        }
        if !pinged {
            emit("ping", "{\"type\":\"ping\"}");
        }

        let mut s = String::with_capacity(256);
        s.push_str("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
        push_json_str(&mut s, stop_reason(self.reply()));
        let _ = write!(
            s,
            ",\"stop_sequence\":null,\"stop_details\":null}},\"usage\":{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"output_tokens\":{}}}}}",
            core.prompt_tokens, self.cache_creation, self.cache_read, core.completion_tokens
        );
        emit("message_delta", &s);
        emit("message_stop", "{\"type\":\"message_stop\"}");
    }
}
