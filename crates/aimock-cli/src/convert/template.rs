//! Just enough of template syntax (Tera's `{# #}`, `{% %}`, `{{ }}`; mock-llm's `{{ }}`) to
//! turn a response template into a literal: comments go, the first top-level `{% if %}` chain
//! becomes one text per branch, other tags go, and every expression becomes a `[placeholder]`
//! (quoted where it stood outside a JSON string, so a JSON template stays JSON).

/// One branch of a template: the condition that selects it (`None`: the `else`, or a template
/// with no `if`) and its text with the rest of the template around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Branch {
    pub(crate) cond: Option<String>,
    pub(crate) text: String,
}

/// Remove `{# ... #}` comments.
pub(crate) fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("{#") {
        out.push_str(&rest[..i]);
        match rest[i..].find("#}") {
            Some(j) => rest = &rest[i + j + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `{% ... %}` tag's words, trimmed of `-` (whitespace control): `("if", "x and y")`.
fn tag_words(inner: &str) -> (&str, &str) {
    let t = inner
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim();
    match t.split_once(char::is_whitespace) {
        Some((kw, rest)) => (kw, rest.trim()),
        None => (t, ""),
    }
}

/// Every `{% %}` tag: (start, end, keyword, argument).
fn tags(s: &str) -> Vec<(usize, usize, String, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = s[from..].find("{%") {
        let start = from + i;
        let Some(j) = s[start..].find("%}") else {
            break;
        };
        let end = start + j + 2;
        let (kw, arg) = tag_words(&s[start + 2..end - 2]);
        out.push((start, end, kw.to_owned(), arg.to_owned()));
        from = end;
    }
    out
}

/// The template once per branch of its first top-level `if` chain (an `if` without `else`
/// gets an empty `else`); the template itself when it has none.
pub(crate) fn branches(s: &str) -> Vec<Branch> {
    let tags = tags(s);
    let mut depth = 0usize;
    // (condition, start of the branch's text) and where the chain began and ended.
    let mut chain: Vec<(Option<String>, usize, usize)> = Vec::new();
    let mut begin = None;
    for (start, end, kw, arg) in &tags {
        match kw.as_str() {
            "if" => {
                if depth == 0 && begin.is_none() {
                    begin = Some(*start);
                    chain.push((Some(arg.clone()), *end, 0));
                }
                depth += 1;
            }
            "elif" if depth == 1 && begin.is_some() => {
                if let Some(last) = chain.last_mut() {
                    last.2 = *start;
                }
                chain.push((Some(arg.clone()), *end, 0));
            }
            "else" if depth == 1 && begin.is_some() => {
                if let Some(last) = chain.last_mut() {
                    last.2 = *start;
                }
                chain.push((None, *end, 0));
            }
            "endif" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(b) = begin {
                        if let Some(last) = chain.last_mut() {
                            last.2 = *start;
                        }
                        let prefix = &s[..b];
                        let suffix = &s[*end..];
                        let has_else = chain.iter().any(|c| c.0.is_none());
                        let mut out: Vec<Branch> = chain
                            .iter()
                            .map(|(cond, from, to)| Branch {
                                cond: cond.clone(),
                                text: format!("{prefix}{}{suffix}", &s[*from..*to]),
                            })
                            .collect();
                        if !has_else {
                            out.push(Branch {
                                cond: None,
                                text: format!("{prefix}{suffix}"),
                            });
                        }
                        return out;
                    }
                }
            }
            _ => {}
        }
    }
    vec![Branch {
        cond: None,
        text: s.to_owned(),
    }]
}

/// Tags removed, each `{{ expr }}` replaced by `[name(expr)]`, quoted when it stands outside a
/// JSON string.
pub(crate) fn fill(s: &str, name: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        if s[i..].starts_with("{%") {
            match s[i..].find("%}") {
                Some(j) => {
                    i += j + 2;
                    continue;
                }
                None => break,
            }
        }
        if s[i..].starts_with("{{") {
            if let Some(j) = s[i + 2..].find("}}") {
                let expr = s[i + 2..i + 2 + j].trim();
                let placeholder = format!("[{}]", name(expr).replace(['"', '\\'], ""));
                if in_str {
                    out.push_str(&placeholder);
                } else {
                    out.push('"');
                    out.push_str(&placeholder);
                    out.push('"');
                }
                i += 2 + j + 2;
                continue;
            }
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A Tera expression's name: its variable path (`last_msg.content | default(...)` →
/// `last_msg.content`).
pub(crate) fn tera_name(expr: &str) -> String {
    let n: String = expr
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
        .collect();
    if n.is_empty() {
        "value".into()
    } else {
        n
    }
}

/// A template as plain text: tags go, expressions become `[name]`, lines are trimmed and empty
/// ones dropped.
pub(crate) fn plain_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let next_tag = rest.find("{%");
        let next_expr = rest.find("{{");
        let (i, is_tag) = match (next_tag, next_expr) {
            (Some(t), Some(e)) if t < e => (t, true),
            (Some(t), None) => (t, true),
            (_, Some(e)) => (e, false),
            (None, None) => break,
        };
        out.push_str(&rest[..i]);
        let close = if is_tag { "%}" } else { "}}" };
        match rest[i + 2..].find(close) {
            Some(j) => {
                if !is_tag {
                    out.push_str(&format!("[{}]", tera_name(rest[i + 2..i + 2 + j].trim())));
                }
                rest = &rest[i + 2 + j + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_branches() {
        let t = strip_comments("{# a #}x{% if a %}A{% elif b %}B{% else %}C{% endif %}y");
        let bs = branches(&t);
        assert_eq!(
            bs,
            vec![
                Branch {
                    cond: Some("a".into()),
                    text: "xAy".into()
                },
                Branch {
                    cond: Some("b".into()),
                    text: "xBy".into()
                },
                Branch {
                    cond: None,
                    text: "xCy".into()
                },
            ]
        );
        // Nested ifs stay inside their branch; no else gives an empty one.
        let bs = branches("{%- if a -%}A{% if b %}B{% endif %}{%- endif -%}!");
        assert_eq!(bs.len(), 2);
        assert_eq!(bs[0].text, "A{% if b %}B{% endif %}!");
        assert_eq!(bs[1].text, "!");
        assert_eq!(branches("plain").len(), 1);
    }

    #[test]
    fn expressions_become_placeholders_and_json_stays_json() {
        let t = r#"{"id": "c-{{ uuid }}", "created": {{ timestamp }}, "x": "{{ a | default(value='q') }}"{% set z = 1 %}}"#;
        let f = fill(t, tera_name);
        let v: serde_json::Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["id"], "c-[uuid]");
        assert_eq!(v["created"], "[timestamp]");
        assert_eq!(v["x"], "[a]");
        assert_eq!(
            plain_text("Hello {{ name }}!\n\n  {% if x %}bye{% endif %}  "),
            "Hello [name]!\nbye"
        );
    }
}
