//! A fixture's message reply in OpenRouter's chat completion shape, as JSON and as SSE chunks.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::conversation::ChatRequest;
use crate::fixture::{Block, MessageReply};
use crate::http::ids::random_id;
use crate::http::push_json_str;
use crate::http::time::unix_now;
use crate::providers::{emit_reasoning, estimate_tokens};
use crate::stream::{chunk_text, sse_data};

/// The author segment of a slug (`openai/gpt-4o` -> `openai`); a slug without `/` is its own.
pub(super) fn provider_of(model: &str) -> &str {
    model.split_once('/').map_or(model, |(author, _)| author)
}

/// Everything needed to render one reply, computed once.
pub(super) struct Rendered<'a> {
    id: String,
    created: i64,
    model: &'a str,
    provider: &'a str,
    reply: &'a MessageReply,
    reasoning: Option<&'a str>,
    call_ids: Vec<String>,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl<'a> Rendered<'a> {
    /// `winner` is the slug that answered (the requested model, or a `models[]` fallback).
    pub(super) fn new(
        req: &'a ChatRequest,
        winner: &'a str,
        reply: &'a MessageReply,
        strict: bool,
    ) -> Self {
        let o = &reply.overrides;
        let model = o.model.as_deref().unwrap_or(winner);
        let provider = o.provider.as_deref().unwrap_or(provider_of(winner));
        let reasoning = reply
            .reasoning
            .as_deref()
            .filter(|_| emit_reasoning(winner, strict));
        let call_ids = reply
            .tool_calls()
            .map(|c| c.id.clone().unwrap_or_else(|| random_id("call_", 24)))
            .collect();
        let prompt_chars = req.text_chars();
        let completion_chars = reply.text_chars();
        let prompt_tokens = o
            .usage_number(&["prompt_tokens", "input_tokens"])
            .unwrap_or_else(|| estimate_tokens(prompt_chars));
        let completion_tokens = o
            .usage_number(&["completion_tokens", "output_tokens"])
            .unwrap_or_else(|| estimate_tokens(completion_chars));
        Rendered {
            id: o.id.clone().unwrap_or_else(|| random_id("gen-", 29)),
            created: o.created.unwrap_or_else(unix_now),
            model,
            provider,
            reply,
            reasoning,
            call_ids,
            prompt_tokens,
            completion_tokens,
        }
    }

    fn finish_reason(&self) -> &str {
        self.reply.finish_reason()
    }

    fn native_finish_reason(&self) -> &str {
        self.reply
            .overrides
            .native_finish_reason
            .as_deref()
            .unwrap_or(self.finish_reason())
    }

    /// The usage object: the token counts, then the extras the fixture's usage supplies.
    fn push_usage(&self, b: &mut String) {
        use std::fmt::Write;
        let o = &self.reply.overrides;
        let total = o
            .usage_number(&["total_tokens"])
            .unwrap_or(self.prompt_tokens + self.completion_tokens);
        let _ = write!(
            b,
            "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{total}",
            self.prompt_tokens, self.completion_tokens
        );
        let Some(u) = o.usage.as_ref() else {
            b.push('}');
            return;
        };
        if let Some(cost) = u.get("cost") {
            b.push_str(",\"cost\":");
            b.push_str(&cost.to_string());
            let mut details = u
                .get("cost_details")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for k in [
                "upstream_inference_cost",
                "upstream_inference_prompt_cost",
                "upstream_inference_completions_cost",
            ] {
                if details.get(k).is_none_or(Value::is_null) {
                    details.insert(k.to_owned(), Value::from(0));
                }
            }
            b.push_str(",\"cost_details\":");
            b.push_str(&Value::Object(details).to_string());
        }
        let with_default = |key: &str, member: &str| -> Option<String> {
            let v = u.get(key)?;
            let mut m: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
            if m.get(member).is_none_or(Value::is_null) {
                m.insert(member.to_owned(), Value::from(0));
            }
            Some(Value::Object(m).to_string())
        };
        if let Some(d) = with_default("prompt_tokens_details", "cached_tokens") {
            b.push_str(",\"prompt_tokens_details\":");
            b.push_str(&d);
        }
        if let Some(d) = with_default("completion_tokens_details", "reasoning_tokens") {
            b.push_str(",\"completion_tokens_details\":");
            b.push_str(&d);
        }
        if let Some(v) = u.get("is_byok") {
            b.push_str(",\"is_byok\":");
            b.push_str(&v.to_string());
        }
        b.push('}');
    }

    /// The tool calls array of a message.
    fn push_tool_calls(&self, b: &mut String) {
        b.push('[');
        for (i, (c, id)) in self.reply.tool_calls().zip(&self.call_ids).enumerate() {
            if i > 0 {
                b.push(',');
            }
            b.push_str("{\"id\":");
            push_json_str(b, id);
            b.push_str(",\"index\":");
            b.push_str(&i.to_string());
            b.push_str(",\"type\":\"function\",\"function\":{\"name\":");
            push_json_str(b, &c.name);
            b.push_str(",\"arguments\":");
            push_json_str(b, &c.arguments);
            b.push_str("}}");
        }
        b.push(']');
    }

    /// `"id":...,"provider":...,"model":...,"object":<object>,"created":...,` (shared by the JSON
    /// body and every chunk).
    fn head(&self, object: &str) -> String {
        let mut p = String::with_capacity(160);
        p.push_str("{\"id\":");
        push_json_str(&mut p, &self.id);
        p.push_str(",\"provider\":");
        push_json_str(&mut p, self.provider);
        p.push_str(",\"model\":");
        push_json_str(&mut p, self.model);
        p.push_str(",\"object\":\"");
        p.push_str(object);
        p.push_str("\",\"created\":");
        p.push_str(&self.created.to_string());
        p.push(',');
        p
    }

    fn push_fingerprint(&self, b: &mut String) {
        b.push_str(",\"system_fingerprint\":");
        match &self.reply.overrides.system_fingerprint {
            Some(fp) => push_json_str(b, fp),
            None => b.push_str("null"),
        }
    }

    /// One `reasoning.text` entry of `reasoning_details`; the fixture's signature goes on the last.
    fn push_reasoning_detail(&self, b: &mut String, text: &str, last: bool) {
        b.push_str("{\"type\":\"reasoning.text\",\"text\":");
        push_json_str(b, text);
        if last {
            if let Some(sig) = &self.reply.reasoning_signature {
                b.push_str(",\"signature\":");
                push_json_str(b, sig);
            }
        }
        b.push_str(",\"format\":\"unknown\",\"index\":0}");
    }

    /// The whole `chat.completion` object.
    pub(super) fn json(&self) -> String {
        let mut b = self.head("chat.completion");
        b.push_str("\"choices\":[{\"logprobs\":null,\"finish_reason\":");
        push_json_str(&mut b, self.finish_reason());
        b.push_str(",\"native_finish_reason\":");
        push_json_str(&mut b, self.native_finish_reason());
        b.push_str(",\"index\":0,\"message\":{\"role\":");
        push_json_str(
            &mut b,
            self.reply.overrides.role.as_deref().unwrap_or("assistant"),
        );
        b.push_str(",\"content\":");
        match self.reply.content() {
            Some(c) => push_json_str(&mut b, &c),
            None => b.push_str("null"),
        }
        b.push_str(",\"refusal\":null,\"reasoning\":");
        match self.reasoning {
            Some(r) => push_json_str(&mut b, r),
            None => b.push_str("null"),
        }
        if let Some(r) = self.reasoning {
            b.push_str(",\"reasoning_content\":");
            push_json_str(&mut b, r);
            b.push_str(",\"reasoning_details\":[");
            self.push_reasoning_detail(&mut b, r, true);
            b.push(']');
        }
        if self.reply.has_tool_calls() {
            b.push_str(",\"tool_calls\":");
            self.push_tool_calls(&mut b);
        }
        b.push_str("}}]");
        self.push_fingerprint(&mut b);
        b.push_str(",\"service_tier\":null,\"usage\":");
        self.push_usage(&mut b);
        b.push('}');
        b
    }

    /// The SSE events (paced) and the trailer (the usage chunk, always, and `[DONE]`).
    pub(super) fn sse(&self, chunk_size: usize) -> (Vec<Bytes>, Vec<Bytes>) {
        let prefix = self.head("chat.completion.chunk");
        let mut events = Vec::new();
        let delta = |inner: &str, finish: Option<(&str, &str)>| -> Bytes {
            let mut s = String::with_capacity(prefix.len() + inner.len() + 128);
            s.push_str(&prefix);
            s.push_str("\"choices\":[{\"index\":0,\"delta\":");
            s.push_str(inner);
            s.push_str(",\"finish_reason\":");
            match finish {
                Some((f, _)) => push_json_str(&mut s, f),
                None => s.push_str("null"),
            }
            s.push_str(",\"native_finish_reason\":");
            match finish {
                Some((_, n)) => push_json_str(&mut s, n),
                None => s.push_str("null"),
            }
            s.push_str(",\"logprobs\":null}]");
            self.push_fingerprint(&mut s);
            s.push('}');
            sse_data(&s)
        };
        let role = self.reply.overrides.role.as_deref().unwrap_or("assistant");
        let mut inner = String::from("{\"role\":");
        push_json_str(&mut inner, role);
        if self.reply.content().is_some() || !self.reply.has_tool_calls() {
            inner.push_str(",\"content\":\"\"");
        } else {
            inner.push_str(",\"content\":null");
        }
        inner.push_str(",\"refusal\":null}");
        events.push(delta(&inner, None));
        if let Some(r) = self.reasoning {
            let pieces = chunk_text(r, chunk_size);
            let n = pieces.len();
            for (i, piece) in pieces.into_iter().enumerate() {
                let mut inner =
                    String::from("{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":");
                push_json_str(&mut inner, piece);
                inner.push_str(",\"reasoning_content\":");
                push_json_str(&mut inner, piece);
                inner.push_str(",\"reasoning_details\":[");
                self.push_reasoning_detail(&mut inner, piece, i + 1 == n);
                inner.push_str("]}");
                events.push(delta(&inner, None));
            }
        }
        let mut call_index = 0usize;
        for block in &self.reply.blocks {
            match block {
                Block::Text(t) => {
                    for piece in chunk_text(t, chunk_size) {
                        let mut inner = String::from("{\"role\":\"assistant\",\"content\":");
                        push_json_str(&mut inner, piece);
                        inner.push('}');
                        events.push(delta(&inner, None));
                    }
                }
                Block::ToolCall(c) => {
                    let id = &self.call_ids[call_index];
                    let mut inner = format!("{{\"tool_calls\":[{{\"index\":{call_index},\"id\":");
                    push_json_str(&mut inner, id);
                    inner.push_str(",\"type\":\"function\",\"function\":{\"name\":");
                    push_json_str(&mut inner, &c.name);
                    inner.push_str(",\"arguments\":\"\"}}]}");
                    events.push(delta(&inner, None));
                    for piece in chunk_text(&c.arguments, chunk_size) {
                        let mut inner = format!(
                            "{{\"tool_calls\":[{{\"index\":{call_index},\"function\":{{\"arguments\":"
                        );
                        push_json_str(&mut inner, piece);
                        inner.push_str("}}]}");
                        events.push(delta(&inner, None));
                    }
                    call_index += 1;
                }
            }
        }
        events.push(delta(
            "{}",
            Some((self.finish_reason(), self.native_finish_reason())),
        ));
        let mut usage = prefix.clone();
        usage.push_str("\"choices\":[]");
        self.push_fingerprint(&mut usage);
        usage.push_str(",\"service_tier\":null,\"usage\":");
        self.push_usage(&mut usage);
        usage.push('}');
        let trailer = vec![sse_data(&usage), Bytes::from_static(b"data: [DONE]\n\n")];
        (events, trailer)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_provider_is_the_author_segment_of_the_slug() {
        assert_eq!(super::provider_of("openai/gpt-4o"), "openai");
        assert_eq!(super::provider_of("meta-llama/llama-3/x"), "meta-llama");
        assert_eq!(super::provider_of("gpt-4o"), "gpt-4o");
        assert_eq!(super::provider_of(""), "");
    }
}
