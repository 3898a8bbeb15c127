//! Normalisation rules: regular-expression replacements applied to a request's texts before it is
//! matched *and* before a recording's key is derived from it, so that volatile parts (timestamps,
//! UUIDs, request ids) neither make a replay miss nor end up in a recorded key. This is the
//! configuration-file form of aimock's programmatic `requestTransform` (§6.6).
//!
//! In `aimock.json` a rule is `{"pattern": "<regex>", "replacement": "<text>", "flags": "i"}`
//! ([`NormalizeRuleSpec`]). Rules apply in order, each to the output of the one before, to every
//! message text (system, user, assistant and tool results) and to the embedding input. Every
//! occurrence is replaced (as with JavaScript's `g` flag, which is implied). The replacement may
//! refer to groups as `$1` or `${name}`; `$$` is a literal `$`.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::conversation::ChatRequest;

/// A normalisation rule as written in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeRuleSpec {
    /// The regular expression (Rust `regex` syntax; no look-around or back-references).
    pub pattern: String,
    /// What each match becomes (`$1`, `${name}` expand groups). Default: the empty string.
    #[serde(default)]
    pub replacement: String,
    /// JavaScript-style flags: `i`, `m`, `s`, `x`; `g`, `u` are accepted and change nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
}

/// A checked normalisation rule.
#[derive(Debug, Clone)]
pub struct NormalizeRule {
    pattern: Regex,
    replacement: String,
}

impl NormalizeRule {
    /// A rule replacing every match of `pattern` (with JavaScript-style `flags`) by
    /// `replacement`. Errors name what is wrong: an invalid pattern, an unknown flag, or a
    /// pattern that matches the empty string (it would insert the replacement between every
    /// character).
    pub fn new(
        pattern: &str,
        replacement: impl Into<String>,
        flags: Option<&str>,
    ) -> Result<NormalizeRule, String> {
        let mut b = RegexBuilder::new(pattern);
        for f in flags.unwrap_or("").chars() {
            match f {
                'i' => {
                    b.case_insensitive(true);
                }
                'm' => {
                    b.multi_line(true);
                }
                's' => {
                    b.dot_matches_new_line(true);
                }
                'x' => {
                    b.ignore_whitespace(true);
                }
                'g' | 'u' => {}
                other => {
                    return Err(format!(
                    "unknown flag `{other}` in normalisation rule {pattern:?} (use i, m, s or x)"
                ))
                }
            }
        }
        let pattern_re = b
            .build()
            .map_err(|e| format!("invalid normalisation pattern {pattern:?}: {e}"))?;
        if pattern_re.is_match("") {
            return Err(format!(
                "normalisation pattern {pattern:?} matches the empty string; it must match at least one character"
            ));
        }
        Ok(NormalizeRule {
            pattern: pattern_re,
            replacement: replacement.into(),
        })
    }

    /// The pattern, as given.
    pub fn pattern(&self) -> &str {
        self.pattern.as_str()
    }

    /// The replacement.
    pub fn replacement(&self) -> &str {
        &self.replacement
    }
}

impl TryFrom<&NormalizeRuleSpec> for NormalizeRule {
    type Error = String;

    fn try_from(spec: &NormalizeRuleSpec) -> Result<Self, String> {
        NormalizeRule::new(
            &spec.pattern,
            spec.replacement.clone(),
            spec.flags.as_deref(),
        )
    }
}

impl TryFrom<NormalizeRuleSpec> for NormalizeRule {
    type Error = String;

    fn try_from(spec: NormalizeRuleSpec) -> Result<Self, String> {
        NormalizeRule::try_from(&spec)
    }
}

/// The request with every rule applied, or `None` when no rule changed anything (then nothing
/// is allocated: the request is only read).
pub(crate) fn normalize(req: &ChatRequest, rules: &[NormalizeRule]) -> Option<ChatRequest> {
    if rules.is_empty() {
        return None;
    }
    let mut out: Option<ChatRequest> = None;
    for (i, m) in req.messages.iter().enumerate() {
        if let Some(new) = m.text.as_deref().and_then(|t| apply(rules, t)) {
            out.get_or_insert_with(|| req.clone()).messages[i].text = Some(new);
        }
    }
    if let Some(new) = req.embedding_input.as_deref().and_then(|t| apply(rules, t)) {
        out.get_or_insert_with(|| req.clone()).embedding_input = Some(new);
    }
    out
}

/// The text with every rule applied, or `None` when it did not change.
fn apply(rules: &[NormalizeRule], text: &str) -> Option<String> {
    let mut cur: Cow<'_, str> = Cow::Borrowed(text);
    for r in rules {
        let replaced = r.pattern.replace_all(&cur, r.replacement.as_str());
        if let Cow::Owned(s) = replaced {
            cur = Cow::Owned(s);
        }
    }
    match cur {
        Cow::Owned(s) if s != text => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Message, Role};

    fn rules() -> Vec<NormalizeRule> {
        vec![
            NormalizeRule::new(
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z",
                "<time>",
                None,
            )
            .unwrap(),
            NormalizeRule::new(
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "<uuid>",
                Some("i"),
            )
            .unwrap(),
        ]
    }

    #[test]
    fn a_request_that_no_rule_touches_gives_none() {
        let req = ChatRequest::chat("m", vec![Message::text(Role::User, "hello")]);
        assert!(normalize(&req, &rules()).is_none());
        assert!(normalize(&req, &[]).is_none());
    }

    #[test]
    fn every_message_text_tool_result_and_embedding_input_is_rewritten() {
        let req = ChatRequest::chat(
            "m",
            vec![
                Message::text(Role::System, "Now is 2026-01-02T03:04:05.678Z."),
                Message::text(Role::User, "order 0F8FAD5B-D9CB-469F-A165-70867728950E"),
                Message::tool_result("call_1", "done at 2026-01-02T03:04:05Z"),
                Message::text(Role::User, "thanks"),
            ],
        );
        let out = normalize(&req, &rules()).unwrap();
        let texts: Vec<_> = out
            .messages
            .iter()
            .map(|m| m.text.clone().unwrap())
            .collect();
        assert_eq!(
            texts,
            ["Now is <time>.", "order <uuid>", "done at <time>", "thanks"]
        );
        assert_eq!(out.messages[2].tool_call_id.as_deref(), Some("call_1"));
        let emb = ChatRequest::embedding("e", "id 0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(
            normalize(&emb, &rules())
                .unwrap()
                .embedding_input
                .as_deref(),
            Some("id <uuid>")
        );
    }

    #[test]
    fn rules_apply_in_order_and_groups_expand() {
        let rules = vec![
            NormalizeRule::new(r"user-(\d+)", "user-$1-x", None).unwrap(),
            NormalizeRule::new(r"\d+", "N", None).unwrap(),
        ];
        let req = ChatRequest::chat("m", vec![Message::text(Role::User, "user-42 and 7")]);
        let out = normalize(&req, &rules).unwrap();
        assert_eq!(out.messages[0].text.as_deref(), Some("user-N-x and N"));
    }

    #[test]
    fn a_rule_whose_replacement_equals_the_match_changes_nothing() {
        let rules = vec![NormalizeRule::new("abc", "abc", None).unwrap()];
        let req = ChatRequest::chat("m", vec![Message::text(Role::User, "xabcx")]);
        assert!(normalize(&req, &rules).is_none());
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        let e = NormalizeRule::new("(", "", None).unwrap_err();
        assert!(e.contains("invalid normalisation pattern"), "{e}");
        let e = NormalizeRule::new("a", "", Some("q")).unwrap_err();
        assert!(e.contains("unknown flag `q`"), "{e}");
        let e = NormalizeRule::new("a*", "", None).unwrap_err();
        assert!(e.contains("empty string"), "{e}");
    }

    #[test]
    fn the_config_spec_deserializes_and_refuses_unknown_fields() {
        let spec: NormalizeRuleSpec =
            serde_json::from_str(r#"{"pattern": "ID-\\d+", "flags": "i"}"#).unwrap();
        let rule = NormalizeRule::try_from(&spec).unwrap();
        assert_eq!(rule.replacement(), "");
        let req = ChatRequest::chat("m", vec![Message::text(Role::User, "see id-77")]);
        assert_eq!(
            normalize(&req, &[rule]).unwrap().messages[0]
                .text
                .as_deref(),
            Some("see ")
        );
        let err = serde_json::from_str::<NormalizeRuleSpec>(r#"{"pattern": "a", "replace": "b"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `replace`"), "{err}");
    }

    #[test]
    fn a_key_recorded_from_a_normalized_request_matches_a_later_run_with_other_volatile_values() {
        use crate::fixture::{parse_value, FixtureStore, MatchContext, MatchOutcome};
        let run = |stamp: &str| {
            ChatRequest::chat(
                "gpt-4o",
                vec![
                    Message::text(Role::System, format!("Today is {stamp}.")),
                    Message::text(Role::User, format!("remind me at {stamp}")),
                ],
            )
        };
        let first = run("2026-01-01T00:00:00Z");
        let first = normalize(&first, &rules()).unwrap();
        let (m, _) = super::super::key::recorded_match(&first, None, false);
        assert_eq!(m["userMessage"]["equals"], "remind me at <time>");
        let report = parse_value(
            serde_json::json!({"fixtures": [{"match": m, "response": {"content": "ok"}}]}),
            "r.json",
        );
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let store = FixtureStore::default();
        store.append(report.fixtures);
        let second = run("2026-06-30T12:34:56.789Z");
        let cx = MatchContext::default();
        assert!(matches!(
            store.resolve(&second, &cx),
            MatchOutcome::Miss { .. }
        ));
        let second = normalize(&second, &rules()).unwrap();
        assert!(matches!(
            store.resolve(&second, &cx),
            MatchOutcome::Matched { .. }
        ));
    }
}
