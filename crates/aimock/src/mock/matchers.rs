//! Matchers: what a request must look like for a [`Mock`](super::Mock) to answer it.
//!
//! Each function returns a small named struct that sets one field of the fixture format's
//! [`MatchSpec`]: [`user_message`] sets `userMessage`, [`model`] sets `model`, and so on, one
//! function per match field. A mock's matchers are AND-ed into one `MatchSpec`, the very one a
//! fixture file would hold, so a mock matches exactly what the same fixture in a file matches.
//!
//! A fixture holds one value per field, so two matchers that set the same field (`user_message`
//! twice) are refused when the mock is mounted, naming both; write one pattern that says both
//! (a regex), or check the second in a closure.
//!
//! Any closure `Fn(&ChatRequest) -> bool + Send + Sync + 'static` is a matcher too: it is checked
//! after the match fields, only on requests they let through. A closure cannot be written to a
//! fixture file. Annotate its argument (`|req: &ChatRequest| ...`) so that Rust can tell what it
//! takes.
//!
//! ```
//! use aimock::conversation::{ChatRequest, Endpoint};
//! use aimock::fixture::TextPattern;
//! use aimock::matchers::{endpoint, model, system_message, tool_name, user_message};
//! use aimock::responders::text;
//! use aimock::Mock;
//!
//! let mock = Mock::given(user_message("weather"))
//!     .and(model(TextPattern::regex("^gpt-4")))
//!     .and(system_message(["terse", "helpful"])) // every substring must appear
//!     .and(tool_name("get_weather"))
//!     .and(endpoint(Endpoint::Chat))
//!     .and(|req: &ChatRequest| req.messages.len() < 10)
//!     .respond_with(text("Sunny."));
//! # let _ = mock;
//! ```

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::conversation::{ChatRequest, Endpoint};
use crate::fixture::hooks::Predicate;
use crate::fixture::spec::Extra;
use crate::fixture::{MatchSpec, SystemPattern, TextPattern};

/// Something that says what a request must look like: the structs the functions of this module
/// return, a whole [`MatchSpec`], or a closure `Fn(&ChatRequest) -> bool`.
pub trait Matcher {
    /// Add this matcher to a mock's match.
    fn lower(self, into: &mut Lowering);
}

/// A mock's matchers as they are being combined: the match fields they set (in the fixture
/// format's JSON form, so that a field is named as a fixture file names it), which matcher set
/// each one, and the closures.
#[derive(Default)]
pub struct Lowering {
    fields: serde_json::Map<String, Value>,
    extra: Extra,
    set_by: BTreeMap<String, String>,
    conflicts: Vec<String>,
    predicates: Vec<Predicate>,
    /// Each matcher, described, in the order given.
    described: Vec<String>,
}

impl std::fmt::Debug for Lowering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lowering")
            .field("fields", &self.fields)
            .field("conflicts", &self.conflicts)
            .field("closures", &self.predicates.len())
            .finish()
    }
}

impl Lowering {
    /// Set the fields `part` sets; a field set already is a conflict, reported at mount.
    pub(crate) fn spec(&mut self, part: MatchSpec, by: String) {
        // Unknown fields are not serialised; they are kept so that mounting can refuse them.
        let unknown = part.extra.clone();
        // A `MatchSpec` always serialises to an object.
        if let Ok(Value::Object(fields)) = serde_json::to_value(&part) {
            for (key, value) in fields {
                if self.claim(&key, &by) {
                    self.fields.insert(key, value);
                }
            }
        }
        for (key, value) in unknown {
            if self.claim(&key, &by) {
                self.extra.insert(key, value);
            }
        }
        self.described.push(by);
    }

    /// Record that `by` sets `key`; `false` (and a conflict) when another matcher did already.
    fn claim(&mut self, key: &str, by: &str) -> bool {
        match self.set_by.get(key) {
            Some(first) => {
                self.conflicts.push(format!(
                    "two matchers set `match.{key}`: {first} and {by}; a fixture has one `{key}`, so say both in one pattern (a regex) or check one of them in a closure matcher"
                ));
                false
            }
            None => {
                self.set_by.insert(key.to_owned(), by.to_owned());
                true
            }
        }
    }

    pub(crate) fn predicate(&mut self, p: Predicate) {
        self.predicates.push(p);
        self.described.push("a closure".to_owned());
    }

    /// The match the spec-based matchers lowered to, or every conflict between them.
    pub(crate) fn match_spec(&self) -> Result<MatchSpec, Vec<String>> {
        if !self.conflicts.is_empty() {
            return Err(self.conflicts.clone());
        }
        let mut spec: MatchSpec = serde_json::from_value(Value::Object(self.fields.clone()))
            .map_err(|e| vec![format!("the match does not read back as a fixture's: {e}")])?;
        spec.extra.extend(self.extra.clone());
        Ok(spec)
    }

    /// Whether a closure is among the matchers.
    pub(crate) fn has_closures(&self) -> bool {
        !self.predicates.is_empty()
    }

    /// The closures, taken out (at mount).
    pub(crate) fn take_predicates(&mut self) -> Vec<Predicate> {
        std::mem::take(&mut self.predicates)
    }

    /// `given(user_message("hi")).and(model("gpt-4o"))`: the matchers as written, for messages.
    pub(crate) fn describe(&self) -> String {
        let mut out = String::new();
        for (i, d) in self.described.iter().enumerate() {
            out.push_str(if i == 0 { "given(" } else { ".and(" });
            out.push_str(d);
            out.push(')');
        }
        out
    }
}

/// `name(value)`, the value in its fixture-file JSON form.
fn describe(name: &str, value: &impl Serialize) -> String {
    format!(
        "{name}({})",
        serde_json::to_string(value).unwrap_or_default()
    )
}

/// A whole match, as a fixture file has it: every field it sets is set.
impl Matcher for MatchSpec {
    fn lower(self, into: &mut Lowering) {
        let by = describe("MatchSpec", &self);
        into.spec(self, by);
    }
}

/// A closure: checked after the match fields.
impl<F> Matcher for F
where
    F: Fn(&ChatRequest) -> bool + Send + Sync + 'static,
{
    fn lower(self, into: &mut Lowering) {
        into.predicate(Box::new(self));
    }
}

/// Matches every request ([`any`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnyMatcher;

impl Matcher for AnyMatcher {
    fn lower(self, into: &mut Lowering) {
        into.described.push("any()".to_owned());
    }
}

/// Matches every request: `Mock::given(any())` is a catch-all.
pub fn any() -> AnyMatcher {
    AnyMatcher
}

/// One struct per match field: it holds the field's value and sets that field.
macro_rules! field_matchers {
    ($($(#[$doc:meta])* $name:ident($ty:ty) => $field:ident, $label:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name($ty);

        impl Matcher for $name {
            fn lower(self, into: &mut Lowering) {
                let by = describe($label, &self.0);
                into.spec(
                    MatchSpec {
                        $field: Some(self.0),
                        ..MatchSpec::default()
                    },
                    by,
                );
            }
        }
    )*};
}

field_matchers! {
    /// `userMessage` ([`user_message`], [`user_message_regex`]).
    UserMessageMatcher(TextPattern) => user_message, "user_message";
    /// `systemMessage` ([`system_message`]).
    SystemMessageMatcher(SystemPattern) => system_message, "system_message";
    /// `inputText` ([`input_text`]).
    InputTextMatcher(TextPattern) => input_text, "input_text";
    /// `toolCallId` ([`tool_call_id`]).
    ToolCallIdMatcher(String) => tool_call_id, "tool_call_id";
    /// `toolResultContains` ([`tool_result_contains`]).
    ToolResultContainsMatcher(String) => tool_result_contains, "tool_result_contains";
    /// `toolName` ([`tool_name`]).
    ToolNameMatcher(String) => tool_name, "tool_name";
    /// `model` ([`model`]).
    ModelMatcher(TextPattern) => model, "model";
    /// `responseFormat` ([`response_format`]).
    ResponseFormatMatcher(String) => response_format, "response_format";
    /// `sequenceIndex` ([`sequence_index`]).
    SequenceIndexMatcher(u32) => sequence_index, "sequence_index";
    /// `turnIndex` ([`turn_index`]).
    TurnIndexMatcher(u32) => turn_index, "turn_index";
    /// `hasToolResult` ([`has_tool_result`]).
    HasToolResultMatcher(bool) => has_tool_result, "has_tool_result";
    /// `endpoint` ([`endpoint`]).
    EndpointMatcher(Endpoint) => endpoint, "endpoint";
    /// `context` ([`context`]).
    ContextMatcher(String) => context, "context";
    /// `systemHash` ([`system_hash`]).
    SystemHashMatcher(String) => system_hash, "system_hash";
    /// `toolsHash` ([`tools_hash`]).
    ToolsHashMatcher(String) => tools_hash, "tools_hash";
}

/// The last user message contains `pattern` (`userMessage`): a `&str` or `String` is a
/// substring; [`TextPattern::regex`] and [`TextPattern::equals`] give the other kinds.
pub fn user_message(pattern: impl Into<TextPattern>) -> UserMessageMatcher {
    UserMessageMatcher(pattern.into())
}

/// The last user message matches a regular expression (`userMessage: {"regex": ...}`).
pub fn user_message_regex(regex: impl Into<String>) -> UserMessageMatcher {
    UserMessageMatcher(TextPattern::regex(regex))
}

/// The system text (every system message, joined with newlines) contains `pattern`
/// (`systemMessage`); a list (`["a", "b"]`) needs every substring.
pub fn system_message(pattern: impl Into<SystemPattern>) -> SystemMessageMatcher {
    SystemMessageMatcher(pattern.into())
}

/// An embedding request's input (all inputs joined with a space) contains `pattern`
/// (`inputText`).
pub fn input_text(pattern: impl Into<TextPattern>) -> InputTextMatcher {
    InputTextMatcher(pattern.into())
}

/// The last message is the result of the tool call with this id (`toolCallId`).
pub fn tool_call_id(id: impl Into<String>) -> ToolCallIdMatcher {
    ToolCallIdMatcher(id.into())
}

/// The last message is a tool result containing this text (`toolResultContains`).
pub fn tool_result_contains(text: impl Into<String>) -> ToolResultContainsMatcher {
    ToolResultContainsMatcher(text.into())
}

/// The request declares a tool with this name (`toolName`).
pub fn tool_name(name: impl Into<String>) -> ToolNameMatcher {
    ToolNameMatcher(name.into())
}

/// The model (`model`): a `&str` matches that name exactly or followed by `-<digit>...`
/// (`gpt-4o` matches `gpt-4o-2024-08-06`); [`TextPattern::regex`] and [`TextPattern::equals`]
/// give the other kinds.
pub fn model(pattern: impl Into<TextPattern>) -> ModelMatcher {
    ModelMatcher(pattern.into())
}

/// The request's `response_format.type` (or its provider's equivalent), e.g. `json_schema`
/// (`responseFormat`).
pub fn response_format(kind: impl Into<String>) -> ResponseFormatMatcher {
    ResponseFormatMatcher(kind.into())
}

/// Only the n-th time (from 0, per test id) the mock's other fields are met (`sequenceIndex`).
/// Closure matchers are not part of what a sequence counts.
pub fn sequence_index(n: u32) -> SequenceIndexMatcher {
    SequenceIndexMatcher(n)
}

/// The number of assistant messages in the request (`turnIndex`): a tie-breaker between mocks
/// that match on content, a hard gate in strict turn mode.
pub fn turn_index(n: u32) -> TurnIndexMatcher {
    TurnIndexMatcher(n)
}

/// Whether the current turn (after the last user message) holds a tool result
/// (`hasToolResult`).
pub fn has_tool_result(yes: bool) -> HasToolResultMatcher {
    HasToolResultMatcher(yes)
}

/// The kind of endpoint (`endpoint`). A mock without one answers chat and embedding requests;
/// give one to answer images, speech, transcription or video.
pub fn endpoint(kind: Endpoint) -> EndpointMatcher {
    EndpointMatcher(kind)
}

/// The request's `X-AIMock-Context` header equals this (`context`).
pub fn context(value: impl Into<String>) -> ContextMatcher {
    ContextMatcher(value.into())
}

/// The first 8 hex characters of the SHA-256 of the request's system text (`systemHash`), as
/// the recorder writes it ([`ChatRequest::system_hash`]).
pub fn system_hash(hash: impl Into<String>) -> SystemHashMatcher {
    SystemHashMatcher(hash.into())
}

/// The first 8 hex characters of the SHA-256 of the request's tool names (`toolsHash`), as the
/// recorder writes it ([`ChatRequest::tools_hash`]).
pub fn tools_hash(hash: impl Into<String>) -> ToolsHashMatcher {
    ToolsHashMatcher(hash.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::fields::MATCH_FIELDS;

    #[test]
    fn there_is_a_matcher_for_every_match_field_of_the_fixture_format() {
        let mut l = Lowering::default();
        user_message("a").lower(&mut l);
        system_message("s").lower(&mut l);
        input_text("i").lower(&mut l);
        tool_call_id("c").lower(&mut l);
        tool_result_contains("r").lower(&mut l);
        tool_name("t").lower(&mut l);
        model("m").lower(&mut l);
        response_format("json_object").lower(&mut l);
        sequence_index(0).lower(&mut l);
        turn_index(0).lower(&mut l);
        has_tool_result(true).lower(&mut l);
        endpoint(Endpoint::Chat).lower(&mut l);
        context("x").lower(&mut l);
        system_hash("97dd3b60").lower(&mut l);
        tools_hash("dbe6049e").lower(&mut l);
        let set: Vec<&str> = l.set_by.keys().map(String::as_str).collect();
        let mut known = MATCH_FIELDS.to_vec();
        known.sort_unstable();
        assert_eq!(set, known);
        let spec = l.match_spec().unwrap();
        assert!(spec.extra.is_empty());
    }

    #[test]
    fn two_matchers_on_one_field_are_a_conflict_naming_both() {
        let mut l = Lowering::default();
        user_message("a").lower(&mut l);
        user_message_regex("^b").lower(&mut l);
        let problems = l.match_spec().unwrap_err();
        assert_eq!(
            problems[0],
            "two matchers set `match.userMessage`: user_message(\"a\") and user_message({\"regex\":\"^b\"}); a fixture has one `userMessage`, so say both in one pattern (a regex) or check one of them in a closure matcher"
        );
    }

    #[test]
    fn the_matchers_are_described_as_written() {
        let mut l = Lowering::default();
        user_message("hi").lower(&mut l);
        (|_: &ChatRequest| true).lower(&mut l);
        sequence_index(2).lower(&mut l);
        assert_eq!(
            l.describe(),
            "given(user_message(\"hi\")).and(a closure).and(sequence_index(2))"
        );
    }
}
