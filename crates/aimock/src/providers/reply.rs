//! What every provider's renderer computes from a fixture's reply the same way, whatever its wire:
//! the reasoning it may show, each tool call's id, the token counts (the fixture's usage where it
//! gives them, else aimock's estimate), and the id, time and model it echoes. Each provider keeps
//! only the writing of its own JSON and stream around a [`RenderedReply`].

use crate::conversation::ChatRequest;
use crate::fixture::{MessageReply, ToolCall};
use crate::providers::{emit_reasoning, estimate_tokens};

/// How a provider counts a reply's tokens: the usage fields of a fixture it reads, and what its
/// estimate counts when the fixture gives none.
#[derive(Debug)]
pub(crate) struct Counting {
    /// The fixture's usage fields that give the prompt tokens, tried in turn.
    pub(crate) prompt: &'static [&'static str],
    /// The fixture's usage fields that give the completion tokens, tried in turn.
    pub(crate) completion: &'static [&'static str],
    /// The characters of the request that the prompt estimate counts.
    pub(crate) prompt_chars: fn(&ChatRequest) -> usize,
    /// How the completion estimate counts the reasoning shown.
    pub(crate) reasoning: ReasoningCount,
}

/// How a completion estimate counts the reasoning shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasoningCount {
    /// Not at all (it is counted apart, or not at all).
    Apart,
    /// Its characters with the reply's.
    Chars,
    /// Its own estimate, added to the reply's.
    Tokens,
}

/// A reply, with what every renderer computes from it: once per reply, before any writing.
#[derive(Debug)]
pub(crate) struct RenderedReply<'a> {
    /// The fixture's reply.
    pub(crate) reply: &'a MessageReply,
    /// The reasoning shown (see [`shown_reasoning`]).
    pub(crate) reasoning: Option<&'a str>,
    /// Each tool call's id, in order: the fixture's, else one in the provider's shape.
    pub(crate) call_ids: Vec<String>,
    /// The prompt's tokens.
    pub(crate) prompt_tokens: u64,
    /// The completion's tokens.
    pub(crate) completion_tokens: u64,
}

impl<'a> RenderedReply<'a> {
    /// `reply` to `req`, showing `reasoning`, counted as `counting` says; a tool call without a
    /// fixed id gets `call_id(index, call)`.
    pub(crate) fn new(
        req: &ChatRequest,
        reply: &'a MessageReply,
        reasoning: Option<&'a str>,
        counting: &Counting,
        mut call_id: impl FnMut(usize, &ToolCall) -> String,
    ) -> Self {
        let o = &reply.overrides;
        let call_ids = reply
            .tool_calls()
            .enumerate()
            .map(|(i, c)| c.id.clone().unwrap_or_else(|| call_id(i, c)))
            .collect();
        let prompt_tokens = o
            .usage_number(counting.prompt)
            .unwrap_or_else(|| estimate_tokens((counting.prompt_chars)(req)));
        let completion_tokens = o.usage_number(counting.completion).unwrap_or_else(|| {
            let text = reply.text_chars();
            let shown = reasoning.map_or(0, str::len);
            match counting.reasoning {
                ReasoningCount::Apart => estimate_tokens(text),
                ReasoningCount::Chars => estimate_tokens(text + shown),
                ReasoningCount::Tokens => {
                    estimate_tokens(text) + reasoning.map_or(0, |_| estimate_tokens(shown))
                }
            }
        });
        RenderedReply {
            reply,
            reasoning,
            call_ids,
            prompt_tokens,
            completion_tokens,
        }
    }

    /// The reply's id: the fixture's, else `generate()`.
    pub(crate) fn id(&self, generate: impl FnOnce() -> String) -> String {
        self.reply.overrides.id.clone().unwrap_or_else(generate)
    }

    /// The reply's time in Unix seconds: the fixture's, else now.
    pub(crate) fn created(&self) -> i64 {
        self.reply
            .overrides
            .created
            .unwrap_or_else(crate::http::time::unix_now)
    }

    /// The model echoed back: the fixture's, else the one asked for, else `default`.
    pub(crate) fn model<'m>(&self, asked: &'m str, default: &'m str) -> &'m str
    where
        'a: 'm,
    {
        match &self.reply.overrides.model {
            Some(m) => m,
            None if asked.is_empty() => default,
            None => asked,
        }
    }

    /// The total tokens: the fixture's (`names`), else the prompt's, the completion's and `more`.
    pub(crate) fn total_tokens(&self, names: &[&str], more: u64) -> u64 {
        self.reply
            .overrides
            .usage_number(names)
            .unwrap_or(self.prompt_tokens + self.completion_tokens + more)
    }

    /// The tool calls as a JSON list, `item(out, index, call, id)` writing each.
    pub(crate) fn push_calls(
        &self,
        b: &mut String,
        mut item: impl FnMut(&mut String, usize, &ToolCall, &str),
    ) {
        b.push('[');
        for (i, (c, id)) in self.reply.tool_calls().zip(&self.call_ids).enumerate() {
            if i > 0 {
                b.push(',');
            }
            item(b, i, c, id);
        }
        b.push(']');
    }
}

/// The fixture's `reasoning` (as the request lets it through) if the model may show it: see
/// [`emit_reasoning`]; a model that does not reason shows none under strict mode.
pub(crate) fn shown_reasoning<'a>(
    reasoning: Option<&'a str>,
    model: &str,
    strict: bool,
) -> Option<&'a str> {
    reasoning.filter(|_| emit_reasoning(model, strict))
}

/// The commas between the items of a JSON list written one by one: [`Commas::next`] before each.
#[derive(Debug, Default)]
pub(crate) struct Commas(bool);

impl Commas {
    /// Before an item: a comma unless it is the first.
    pub(crate) fn next(&mut self, b: &mut String) {
        if self.0 {
            b.push(',');
        }
        self.0 = true;
    }
}

/// Where an OpenAI-style function call carries its `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallIndex {
    /// Nowhere (OpenAI's and Cohere's messages).
    None,
    /// First (a streamed delta's).
    First(usize),
    /// After the id (OpenRouter's messages).
    AfterId(usize),
}

/// An OpenAI-style function call (OpenAI, OpenRouter, Cohere):
/// `{"id":...,"type":"function","function":{"name":...,"arguments":"..."}}`, with its `index`
/// where `index` says.
pub(crate) fn push_function_call(
    b: &mut String,
    index: CallIndex,
    id: &str,
    name: &str,
    arguments: &str,
) {
    b.push('{');
    if let CallIndex::First(i) = index {
        b.push_str("\"index\":");
        crate::http::push_int(b, i);
        b.push(',');
    }
    b.push_str("\"id\":");
    crate::http::push_json_str(b, id);
    if let CallIndex::AfterId(i) = index {
        b.push_str(",\"index\":");
        crate::http::push_int(b, i);
    }
    b.push_str(",\"type\":\"function\",\"function\":{\"name\":");
    crate::http::push_json_str(b, name);
    b.push_str(",\"arguments\":");
    crate::http::push_json_str(b, arguments);
    b.push_str("}}");
}
