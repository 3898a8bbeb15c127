//! VidaiMock's response templates (Tera) as fixtures.
//!
//! As aimock's converter: every template file (`.tera`, `.j2`, `.jinja`, `.jinja2`, `.json`,
//! `.txt`, `.html`) of a directory, or one file, becomes a fixture whose `userMessage` comes from
//! the file name (`003-tell_me_a_joke.json` → `tell me a joke`) and whose reply is the
//! template's text: a JSON template gives the reply it holds (OpenAI Chat
//! `choices[0].message.content`, and here also its tool calls and the Anthropic, Gemini,
//! Responses and Ollama shapes), any other the text with its tags removed and each `{{ expr }}`
//! as `[expr]`.
//!
//! Beyond aimock's: directories are read recursively (VidaiMock keeps one folder per provider),
//! compound extensions are dropped whole (`chat.json.j2` → `chat`), and a template whose first
//! top-level `{% if %}` chooses between replies gives one fixture per branch; a branch chosen by
//! `has_tool_result(...)` (VidaiMock's agentic-loop helper) gets `hasToolResult: true`, and a
//! branch chosen by the request's tools whose reply is a tool call named in the template gets a
//! `toolName` match (a tool name taken from the request cannot be, and is left out with a note).

use std::path::Path;

use serde_json::{json, Value};

use super::template::{branches, fill, plain_text, strip_comments, tera_name};
use super::{reply_of, Converted};

const EXTENSIONS: [&str; 7] = ["tera", "j2", "jinja", "jinja2", "json", "txt", "html"];

/// A file or a directory (recursive, sorted).
pub(crate) fn convert_path(input: &Path) -> Result<Converted, String> {
    let meta =
        std::fs::metadata(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let mut out = Converted::default();
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(input, &mut files).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
        files.sort();
        for f in files {
            convert_file(&f, &mut out);
        }
    } else {
        convert_file(input, &mut out);
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
        {
            out.push(p);
        }
    }
    Ok(())
}

fn convert_file(path: &Path, out: &mut Converted) {
    let Ok(raw) = std::fs::read_to_string(path) else {
        out.notes.push(format!(
            "{}: not readable as UTF-8 text; skipped",
            path.display()
        ));
        return;
    };
    let name = match_from_file_name(path);
    let before = out.fixtures.len();
    for f in convert_template(&raw, &name, &mut |n| {
        out.notes.push(format!("{}: {n}", path.display()));
    }) {
        if !out.fixtures.contains(&f) {
            out.fixtures.push(f);
        }
    }
    if out.fixtures.len() == before {
        out.notes
            .push(format!("{}: no reply found in it; skipped", path.display()));
    }
}

/// `003-tell_me_a_joke.json.j2` → `tell me a joke`.
pub(crate) fn match_from_file_name(path: &Path) -> String {
    let mut name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    while let Some((stem, ext)) = name.rsplit_once('.') {
        if stem.is_empty() || !EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
            break;
        }
        name = stem.to_owned();
    }
    let digits = name.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && matches!(name[digits..].chars().next(), Some('-' | '_')) {
        name = name[digits + 1..].to_owned();
    }
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned()
}

/// One template's fixtures, matched on `user_message`.
pub(crate) fn convert_template(
    raw: &str,
    user_message: &str,
    note: &mut dyn FnMut(String),
) -> Vec<Value> {
    let text = strip_comments(raw);
    let mut out = Vec::new();
    for b in branches(&text) {
        let filled = fill(&b.text, tera_name);
        let (reply, was_json) = match serde_json::from_str::<Value>(filled.trim()) {
            Ok(v) => (reply_of(&v), true),
            Err(_) => {
                let t = plain_text(&b.text);
                ((!t.is_empty()).then(|| json!({ "content": t })), false)
            }
        };
        let Some(mut reply) = reply else {
            if was_json && b.cond.is_some() {
                note(format!(
                    "the branch `{{% if {} %}}` holds no reply; skipped",
                    b.cond.as_deref().unwrap_or("")
                ));
            }
            continue;
        };
        let mut m = serde_json::Map::new();
        if !user_message.is_empty() {
            m.insert("userMessage".into(), user_message.into());
        }
        let cond = b.cond.as_deref().unwrap_or("");
        if cond.contains("has_tool_result") && !cond.contains("not has_tool_result") {
            m.insert("hasToolResult".into(), true.into());
        }
        if let Some(calls) = reply.get_mut("toolCalls").and_then(Value::as_array_mut) {
            let before = calls.len();
            calls.retain(|c| !c["name"].as_str().is_some_and(|n| n.contains('[')));
            if calls.len() < before {
                note(format!(
                    "a tool call whose name comes from the request{} cannot be a fixture; left out",
                    if cond.is_empty() {
                        String::new()
                    } else {
                        format!(" (branch `{cond}`)")
                    }
                ));
            }
            // A branch taken when the request declares tools answers only requests that do.
            if cond.contains("tools") {
                if let Some(first) = calls.first().and_then(|c| c["name"].as_str()) {
                    m.insert("toolName".into(), first.into());
                }
            }
            if calls.is_empty() {
                if let Some(o) = reply.as_object_mut() {
                    o.remove("toolCalls");
                }
            }
        }
        if reply.as_object().is_none_or(serde_json::Map::is_empty) {
            continue;
        }
        out.push(json!({ "match": m, "response": reply }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            match_from_file_name(Path::new("003-tell_me_a_joke.json.j2")),
            "tell me a joke"
        );
        assert_eq!(match_from_file_name(Path::new("greeting.tera")), "greeting");
        assert_eq!(
            match_from_file_name(Path::new("a/b/weather.txt")),
            "weather"
        );
    }

    #[test]
    fn a_branching_template_gives_a_fixture_per_branch() {
        let t = r#"{# c #}
{% set has_tools = json.tools is defined %}
{% if has_tools and has_tool_result(messages=json.messages) %}
{"choices": [{"message": {"role": "assistant", "content": "Based on the tool results."}}], "created": {{ timestamp }}}
{% elif has_tools %}
{"choices": [{"message": {"content": null, "tool_calls": [{"id": "c_{{ uuid }}", "function": {"name": "{{ json.tools.0.function.name }}", "arguments": "{}"}}]}}]}
{% else %}
{"choices": [{"message": {"content": "Echo: {{ last.content | default(value='Hello!') }}"}}]}
{% endif %}"#;
        let mut notes = Vec::new();
        let fx = convert_template(t, "chat", &mut |n| notes.push(n));
        assert_eq!(
            fx,
            vec![
                json!({"match": {"userMessage": "chat", "hasToolResult": true}, "response": {"content": "Based on the tool results."}}),
                json!({"match": {"userMessage": "chat"}, "response": {"content": "Echo: [last.content]"}}),
            ]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn literal_tool_calls_and_plain_text() {
        let t = r#"{"choices": [{"message": {"tool_calls": [{"function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}]}"#;
        let fx = convert_template(t, "weather", &mut |_| {});
        assert_eq!(
            fx,
            vec![json!({"match": {"userMessage": "weather"},
                   "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]}})]
        );
        let fx = convert_template("Hello {{ name }}!\n", "hi", &mut |_| {});
        assert_eq!(
            fx,
            vec![json!({"match": {"userMessage": "hi"}, "response": {"content": "Hello [name]!"}})]
        );
    }
}
