//! A fixture's message reply in OpenRouter's chat completion shape, as JSON and as SSE chunks.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::conversation::ChatRequest;
use crate::fixture::MessageReply;
use crate::http::{push_int, push_json_str};
use crate::providers::openai::chat::Completion;
use crate::stream::sse_data;

/// The author segment of a slug (`openai/gpt-4o` -> `openai`); a slug without `/` is its own.
pub(super) fn provider_of(model: &str) -> &str {
    model.split_once('/').map_or(model, |(author, _)| author)
}

/// A reply in OpenRouter's chat completion shape: OpenAI's [`Completion`], with a top-level
/// `provider`, `gen-` ids, `native_finish_reason`, `message.reasoning` and `reasoning_details`,
/// `system_fingerprint` and `service_tier` always present, a usage chunk ending every stream, and
/// the usage extras a fixture supplies.
pub(super) struct RouterCompletion<'a> {
    c: Completion<'a>,
    provider: &'a str,
}

impl<'a> RouterCompletion<'a> {
    /// `winner` is the slug that answered (the requested model, or a `models[]` fallback).
    pub(super) fn new(
        req: &ChatRequest,
        winner: &'a str,
        reply: &'a MessageReply,
        strict: bool,
    ) -> Self {
        RouterCompletion {
            c: Completion::new(req, reply, strict, winner, "", "gen-"),
            provider: reply
                .overrides
                .provider
                .as_deref()
                .unwrap_or(provider_of(winner)),
        }
    }

    fn reply(&self) -> &'a MessageReply {
        self.c.core.reply
    }

    fn finish_reason(&self) -> &'a str {
        self.reply().finish_reason()
    }

    fn native_finish_reason(&self) -> &'a str {
        self.reply()
            .overrides
            .native_finish_reason
            .as_deref()
            .unwrap_or(self.finish_reason())
    }

    /// The usage object: the token counts, then the extras the fixture's usage supplies.
    fn push_usage(&self, b: &mut String) {
        self.c.push_counts(b);
        let Some(u) = self.reply().overrides.usage.as_ref() else {
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

    /// `"id":...,"provider":...,"model":...,"object":<object>,"created":...,` (shared by the JSON
    /// body and every chunk).
    fn head(&self, object: &str) -> String {
        let mut p = String::with_capacity(160);
        p.push_str("{\"id\":");
        push_json_str(&mut p, &self.c.id);
        p.push_str(",\"provider\":");
        push_json_str(&mut p, self.provider);
        p.push_str(",\"model\":");
        push_json_str(&mut p, self.c.model);
        p.push_str(",\"object\":\"");
        p.push_str(object);
        p.push_str("\",\"created\":");
        push_int(&mut p, self.c.created);
        p.push(',');
        p
    }

    fn push_fingerprint(&self, b: &mut String) {
        b.push_str(",\"system_fingerprint\":");
        match &self.reply().overrides.system_fingerprint {
            Some(fp) => push_json_str(b, fp),
            None => b.push_str("null"),
        }
    }

    /// One `reasoning.text` entry of `reasoning_details`; the fixture's signature goes on the last.
    fn push_reasoning_detail(&self, b: &mut String, text: &str, last: bool) {
        b.push_str("{\"type\":\"reasoning.text\",\"text\":");
        push_json_str(b, text);
        if last {
            if let Some(sig) = &self.reply().reasoning_signature {
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
        b.push_str(",\"index\":0,\"message\":{");
        self.c.push_role_content(&mut b);
        b.push_str(",\"reasoning\":");
        let reasoning = self.c.core.reasoning;
        match reasoning {
            Some(r) => push_json_str(&mut b, r),
            None => b.push_str("null"),
        }
        if let Some(r) = reasoning {
            b.push_str(",\"reasoning_content\":");
            push_json_str(&mut b, r);
            b.push_str(",\"reasoning_details\":[");
            self.push_reasoning_detail(&mut b, r, true);
            b.push(']');
        }
        if self.reply().has_tool_calls() {
            b.push_str(",\"tool_calls\":");
            self.c.push_tool_calls(&mut b, true);
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
        let events = self.c.deltas(
            chunk_size,
            false,
            "{\"role\":\"assistant\",\"content\":",
            |inner, piece, last| {
                inner.push_str("{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":");
                push_json_str(inner, piece);
                inner.push_str(",\"reasoning_content\":");
                push_json_str(inner, piece);
                inner.push_str(",\"reasoning_details\":[");
                self.push_reasoning_detail(inner, piece, last);
                inner.push_str("]}");
            },
            |inner, last| {
                let mut s = String::with_capacity(prefix.len() + inner.len() + 128);
                s.push_str(&prefix);
                s.push_str("\"choices\":[{\"index\":0,\"delta\":");
                s.push_str(inner);
                if last {
                    s.push_str(",\"finish_reason\":");
                    push_json_str(&mut s, self.finish_reason());
                    s.push_str(",\"native_finish_reason\":");
                    push_json_str(&mut s, self.native_finish_reason());
                } else {
                    s.push_str(",\"finish_reason\":null,\"native_finish_reason\":null");
                }
                s.push_str(",\"logprobs\":null}]");
                self.push_fingerprint(&mut s);
                s.push('}');
                sse_data(&s)
            },
        );
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
