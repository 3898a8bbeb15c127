//! `aimock convert vidaimock <input dir|file> [output]` and `aimock convert mockllm
//! <config.yaml> [output]`: other mock servers' files turned into our fixture JSON, as aimock's
//! converters do (and a little more: see each module).
//!
//! - [`vidaimock`]: VidaiMock's Tera response templates (`.tera`, `.j2`, `.jinja`, `.json`,
//!   `.txt`, ...), one fixture per template (per branch of a top-level `{% if %}`).
//! - [`mockllm`]: dwmkerr/mock-llm's `mock-llm.yaml` (`rules:` with JMESPath matches and
//!   templated responses; also the `routes:` shape aimock's converter reads), and its MCP tools
//!   as an `aimock.json`.
//!
//! The output is checked with the fixture loader before it is written, so what `convert` writes
//! is what `aimock -f` loads. What could not be converted is said on stderr, one line each.

pub(crate) mod mockllm;
mod template;
pub(crate) mod vidaimock;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};

use crate::flags::{ConvertArgs, ConvertFormat};

/// What a converter produced.
#[derive(Debug, Default)]
pub(crate) struct Converted {
    /// Fixture entries (`{"match", "response", ...}`), in matching order.
    pub(crate) fixtures: Vec<Value>,
    /// MCP tools (`{"name", "description", "inputSchema"}`) the input declares.
    pub(crate) mcp_tools: Vec<Value>,
    /// One line per thing left out or approximated.
    pub(crate) notes: Vec<String>,
}

pub(crate) fn run(args: &ConvertArgs) -> ExitCode {
    match convert(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn convert(args: &ConvertArgs) -> Result<(), String> {
    let input = &args.input;
    let converted = match args.format {
        ConvertFormat::Vidaimock => vidaimock::convert_path(input)?,
        ConvertFormat::Mockllm => {
            let text = std::fs::read_to_string(input)
                .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
            mockllm::convert_text(&text).map_err(|e| format!("{}: {e}", input.display()))?
        }
    };
    for n in &converted.notes {
        eprintln!("note: {n}");
    }
    if converted.fixtures.is_empty() {
        return Err(format!(
            "no fixtures produced from {}: check that it holds {} files",
            input.display(),
            match args.format {
                ConvertFormat::Vidaimock => "VidaiMock template",
                ConvertFormat::Mockllm => "mock-llm YAML",
            }
        ));
    }
    let text = fixture_file(&converted.fixtures)?;
    let Some(out) = output_path(args) else {
        println!("{}", text.trim_end());
        if !converted.mcp_tools.is_empty() {
            eprintln!(
                "note: the input declares MCP tools; give an output path to get an aimock.json \
                 with them, or put this in one:\n{}",
                pretty(&json!({ "mcp": { "tools": mcp_config_tools(&converted.mcp_tools) } }))
            );
        }
        return Ok(());
    };
    write(&out, &text)?;
    eprintln!(
        "Wrote {} fixture(s) to {}",
        converted.fixtures.len(),
        out.display()
    );
    if !converted.mcp_tools.is_empty() {
        let config_path = config_path_for(&out);
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let config = json!({
            "llm": { "fixtures": name },
            "mcp": { "tools": mcp_config_tools(&converted.mcp_tools) },
        });
        write(&config_path, &pretty(&config))?;
        eprintln!(
            "Wrote an aimock.json with {} MCP tool(s) to {} (run: aimock --config {})",
            converted.mcp_tools.len(),
            config_path.display(),
            config_path.display()
        );
    }
    Ok(())
}

/// `{"fixtures": [...]}`, pretty, checked by the fixture loader.
pub(crate) fn fixture_file(fixtures: &[Value]) -> Result<String, String> {
    let text = pretty(&json!({ "fixtures": fixtures }));
    let report = aimock::fixture::parse_text(&text, "converted", aimock::fixture::Format::Json);
    if let Some(p) = report.errors().next() {
        return Err(format!("the converted fixtures do not load: {p}"));
    }
    Ok(text)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// MCP tools as `aimock.json`'s `mcp.tools`, each with a canned result (as aimock writes them).
fn mcp_config_tools(tools: &[Value]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| {
            let name = t.get("name").and_then(Value::as_str).unwrap_or("tool");
            json!({
                "name": name,
                "description": t.get("description").cloned().unwrap_or_else(|| "".into()),
                "inputSchema": t.get("inputSchema").cloned().unwrap_or_else(|| json!({"type": "object"})),
                "result": format!("Mock result for {name}"),
            })
        })
        .collect()
}

/// The output file: the path given, or `<dir>/<input name>.json` when it is a directory.
fn output_path(args: &ConvertArgs) -> Option<PathBuf> {
    let out = args.output.as_ref()?;
    let is_dir = out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/');
    if !is_dir {
        return Some(out.clone());
    }
    let stem = args
        .input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty() && s != ".")
        .unwrap_or_else(|| "converted".into());
    Some(out.join(format!("{stem}.json")))
}

/// `x.json` → `x.aimock.json`; anything else gets `.aimock.json` appended.
fn config_path_for(out: &Path) -> PathBuf {
    let s = out.to_string_lossy();
    match s.strip_suffix(".json") {
        Some(stem) => PathBuf::from(format!("{stem}.aimock.json")),
        None => PathBuf::from(format!("{s}.aimock.json")),
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// What a provider-shaped JSON reply says, as a fixture `response`: text (`content`) and tool
/// calls (`toolCalls`), from OpenAI Chat (message or stream delta), the Responses API,
/// Anthropic Messages, Gemini and Ollama shapes. `None` when it holds neither.
pub(crate) fn reply_of(v: &Value) -> Option<Value> {
    let mut text: Vec<String> = Vec::new();
    let mut calls: Vec<Value> = Vec::new();
    let mut call = |name: &Value, args: Option<&Value>| {
        if let Some(name) = name.as_str() {
            let arguments = match args {
                Some(Value::String(s)) => Value::String(s.clone()),
                Some(v) if !v.is_null() => Value::String(v.to_string()),
                _ => Value::String("{}".into()),
            };
            calls.push(json!({ "name": name, "arguments": arguments }));
        }
    };
    if let Some(choice) = v.get("choices").and_then(|c| c.get(0)) {
        let m = choice.get("message").or_else(|| choice.get("delta"));
        if let Some(m) = m {
            if let Some(t) = m.get("content").and_then(Value::as_str) {
                text.push(t.to_owned());
            }
            for tc in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(f) = tc.get("function") {
                    call(&f["name"], f.get("arguments"));
                }
            }
        } else if let Some(t) = choice.get("text").and_then(Value::as_str) {
            text.push(t.to_owned());
        }
    } else if let Some(blocks) = v.get("content").and_then(Value::as_array) {
        // Anthropic Messages.
        for b in blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => text.extend(b["text"].as_str().map(str::to_owned)),
                Some("tool_use") => call(&b["name"], b.get("input")),
                _ => {}
            }
        }
    } else if let Some(parts) = v
        .pointer("/candidates/0/content/parts")
        .and_then(Value::as_array)
    {
        // Gemini.
        for p in parts {
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                text.push(t.to_owned());
            } else if let Some(f) = p.get("functionCall") {
                call(&f["name"], f.get("args"));
            }
        }
    } else if let Some(items) = v.get("output").and_then(Value::as_array) {
        // OpenAI Responses.
        for it in items {
            match it.get("type").and_then(Value::as_str) {
                Some("message") => {
                    for c in it
                        .get("content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        text.extend(c.get("text").and_then(Value::as_str).map(str::to_owned));
                    }
                }
                Some("function_call") => call(&it["name"], it.get("arguments")),
                _ => {}
            }
        }
    } else if let Some(t) = v.pointer("/message/content").and_then(Value::as_str) {
        // Ollama chat.
        text.push(t.to_owned());
    }
    let text = text.concat();
    let mut out = serde_json::Map::new();
    if !text.is_empty() {
        out.insert("content".into(), text.into());
    }
    if !calls.is_empty() {
        out.insert("toolCalls".into(), calls.into());
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_of_every_provider_shape() {
        let openai = json!({"choices": [{"message": {"content": "hi", "tool_calls": [
            {"function": {"name": "f", "arguments": "{\"a\":1}"}}]}}]});
        assert_eq!(
            reply_of(&openai),
            Some(json!({"content": "hi", "toolCalls": [{"name": "f", "arguments": "{\"a\":1}"}]}))
        );
        let anthropic = json!({"content": [{"type": "text", "text": "a"}, {"type": "tool_use", "name": "g", "input": {"x": 2}}]});
        assert_eq!(
            reply_of(&anthropic),
            Some(json!({"content": "a", "toolCalls": [{"name": "g", "arguments": "{\"x\":2}"}]}))
        );
        let gemini =
            json!({"candidates": [{"content": {"parts": [{"text": "g1"}, {"text": "g2"}]}}]});
        assert_eq!(reply_of(&gemini), Some(json!({"content": "g1g2"})));
        let responses = json!({"output": [{"type": "message", "content": [{"type": "output_text", "text": "r"}]}]});
        assert_eq!(reply_of(&responses), Some(json!({"content": "r"})));
        assert_eq!(
            reply_of(&json!({"message": {"content": "o"}})),
            Some(json!({"content": "o"}))
        );
        assert_eq!(reply_of(&json!({"object": "list", "data": []})), None);
    }

    #[test]
    fn output_paths() {
        assert_eq!(
            config_path_for(Path::new("out/x.json")),
            PathBuf::from("out/x.aimock.json")
        );
        assert_eq!(
            config_path_for(Path::new("x")),
            PathBuf::from("x.aimock.json")
        );
    }
}
