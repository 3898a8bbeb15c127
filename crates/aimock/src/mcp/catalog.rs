//! The configured tools, resources and prompts, checked and with their patterns compiled.

use regex::Regex;
use serde_json::{Map, Value};

use super::config::{
    McpArgsMatch, McpCompletion, McpConfig, McpPrompt, McpReply, McpResource, McpResourceTemplate,
    McpTool,
};

/// Log levels, least severe first.
pub(crate) const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// The rank of a log level (`None`: not a level).
pub(crate) fn log_rank(level: &str) -> Option<usize> {
    LOG_LEVELS.iter().position(|l| *l == level)
}

/// A reply's `match`, compiled.
#[derive(Debug, Clone)]
pub(crate) struct ArgsMatcher {
    exact: Option<Map<String, Value>>,
    subset: Option<Map<String, Value>>,
    regex: Vec<(String, Regex)>,
}

impl ArgsMatcher {
    fn compile(m: &McpArgsMatch, field: &str) -> Result<ArgsMatcher, String> {
        let mut regex = Vec::new();
        for (name, pattern) in m.regex.iter().flatten() {
            let re = Regex::new(pattern).map_err(|e| {
                format!("{field}.regex.{name}: invalid regular expression `{pattern}`: {e}")
            })?;
            regex.push((name.clone(), re));
        }
        Ok(ArgsMatcher {
            exact: m.exact.clone(),
            subset: m.subset.clone(),
            regex,
        })
    }

    /// Whether `args` satisfies every condition.
    pub(crate) fn matches(&self, args: &Map<String, Value>) -> bool {
        if let Some(exact) = &self.exact {
            if exact != args {
                return false;
            }
        }
        if let Some(subset) = &self.subset {
            if !subset
                .iter()
                .all(|(k, v)| args.get(k).is_some_and(|a| is_subset(v, a)))
            {
                return false;
            }
        }
        self.regex.iter().all(|(name, re)| match args.get(name) {
            Some(Value::String(s)) => re.is_match(s),
            Some(other) => re.is_match(&other.to_string()),
            None => false,
        })
    }
}

/// `want` is contained in `have`: equal, or objects whose every key of `want` is in `have` with
/// a contained value.
fn is_subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| is_subset(v, hv))),
        _ => want == have,
    }
}

/// A tool with its replies' matchers.
#[derive(Debug, Clone)]
pub(crate) struct ToolEntry {
    pub(crate) def: McpTool,
    pub(crate) matchers: Vec<Option<ArgsMatcher>>,
}

impl ToolEntry {
    /// The reply for `args`: its index (`usize::MAX` for the tool's own) and the reply.
    pub(crate) fn pick(&self, args: &Map<String, Value>) -> (usize, &McpReply) {
        for (i, r) in self.def.replies.iter().enumerate() {
            let hit = self
                .matchers
                .get(i)
                .and_then(|m| m.as_ref())
                .is_none_or(|m| m.matches(args));
            if hit {
                return (i, &r.reply);
            }
        }
        (usize::MAX, &self.def.reply)
    }
}

/// A resource template with the pattern a URI is matched by.
#[derive(Debug, Clone)]
pub(crate) struct TemplateEntry {
    pub(crate) def: McpResourceTemplate,
    pub(crate) re: Regex,
    pub(crate) vars: Vec<String>,
}

/// Everything served.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub(crate) tools: Vec<ToolEntry>,
    pub(crate) resources: Vec<McpResource>,
    pub(crate) templates: Vec<TemplateEntry>,
    pub(crate) prompts: Vec<McpPrompt>,
    pub(crate) completions: Vec<McpCompletion>,
}

impl Catalog {
    /// Check a configuration and compile it; an error names the field.
    pub(crate) fn build(c: &McpConfig) -> Result<Catalog, String> {
        if c.page_size == Some(0) {
            return Err("pageSize: must be at least 1".into());
        }
        let mut cat = Catalog::default();
        for (i, t) in c.tools.iter().enumerate() {
            let field = format!("tools[{i}]");
            if c.tools[..i].iter().any(|o| o.name == t.name) {
                return Err(format!("{field}.name: duplicate tool `{}`", t.name));
            }
            cat.tools.push(compile_tool(t, &field)?);
        }
        for (i, r) in c.resources.iter().enumerate() {
            let field = format!("resources[{i}]");
            if c.resources[..i].iter().any(|o| o.uri == r.uri) {
                return Err(format!("{field}.uri: duplicate resource `{}`", r.uri));
            }
            check_resource(r, &field)?;
            cat.resources.push(r.clone());
        }
        for (i, t) in c.resource_templates.iter().enumerate() {
            cat.templates
                .push(compile_template(t, &format!("resourceTemplates[{i}]"))?);
        }
        for (i, p) in c.prompts.iter().enumerate() {
            let field = format!("prompts[{i}]");
            if c.prompts[..i].iter().any(|o| o.name == p.name) {
                return Err(format!("{field}.name: duplicate prompt `{}`", p.name));
            }
            check_prompt(p, &field)?;
            cat.prompts.push(p.clone());
        }
        for (i, comp) in c.completions.iter().enumerate() {
            check_completion(comp, &format!("completions[{i}]"))?;
            cat.completions.push(comp.clone());
        }
        Ok(cat)
    }
}

/// Check and compile one tool.
pub(crate) fn compile_tool(t: &McpTool, field: &str) -> Result<ToolEntry, String> {
    if t.name.is_empty() {
        return Err(format!("{field}.name: must not be empty"));
    }
    for (key, schema) in [
        ("inputSchema", &t.input_schema),
        ("outputSchema", &t.output_schema),
    ] {
        if let Some(s) = schema {
            let sf = format!("{field}.{key}");
            if !s.is_object() {
                return Err(format!("{sf}: must be an object"));
            }
            match s.get("type") {
                None => {}
                Some(Value::String(t)) if t == "object" => {}
                Some(_) => return Err(format!("{sf}.type: must be \"object\"")),
            }
            check_schema(s, &sf)?;
        }
    }
    check_reply(&t.reply, field)?;
    let mut matchers = Vec::new();
    for (j, r) in t.replies.iter().enumerate() {
        let rf = format!("{field}.replies[{j}]");
        check_reply(&r.reply, &rf)?;
        matchers.push(match &r.match_ {
            Some(m) => Some(ArgsMatcher::compile(m, &format!("{rf}.match"))?),
            None => None,
        });
    }
    Ok(ToolEntry {
        def: t.clone(),
        matchers,
    })
}

/// JSON Schema `type` names.
const SCHEMA_TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Check every `type` keyword in a JSON Schema names a JSON Schema type.
fn check_schema(s: &Value, field: &str) -> Result<(), String> {
    let Some(o) = s.as_object() else {
        return Ok(());
    };
    let known = |v: &Value| v.as_str().is_some_and(|t| SCHEMA_TYPES.contains(&t));
    match o.get("type") {
        None => {}
        Some(Value::Array(ts)) if ts.iter().all(known) => {}
        Some(t) if known(t) => {}
        Some(t) => {
            return Err(format!(
                "{field}.type: unknown type {t} (one of {})",
                SCHEMA_TYPES.join(", ")
            ))
        }
    }
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(Value::Object(props)) = o.get(key) {
            for (name, sub) in props {
                check_schema(sub, &format!("{field}.{key}.{name}"))?;
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = o.get(key) {
            check_schema(sub, &format!("{field}.{key}"))?;
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = o.get(key) {
            for (i, sub) in subs.iter().enumerate() {
                check_schema(sub, &format!("{field}.{key}[{i}]"))?;
            }
        }
    }
    Ok(())
}

fn check_reply(r: &McpReply, field: &str) -> Result<(), String> {
    if let Some(cb) = &r.callback {
        crate::callback::Callback::from_value(cb).map_err(|e| format!("{field}.callback: {e}"))?;
        if r.result.is_some() || r.results.is_some() || r.error.is_some() {
            return Err(format!(
                "{field}.callback: a callback computes the result: remove `result`, `results` and `error` beside it"
            ));
        }
    }
    if let Some(v) = &r.result {
        check_result(v, &format!("{field}.result"))?;
    }
    for (i, v) in r.results.iter().flatten().enumerate() {
        check_result(v, &format!("{field}.results[{i}]"))?;
    }
    if r.results.as_ref().is_some_and(Vec::is_empty) {
        return Err(format!("{field}.results: must not be empty"));
    }
    for (i, p) in r.progress.iter().enumerate() {
        if !p.progress.is_finite() || p.total.is_some_and(|t| !t.is_finite()) {
            return Err(format!(
                "{field}.progress[{i}]: progress and total must be numbers"
            ));
        }
    }
    for (i, q) in r.requests.iter().enumerate() {
        if q.method.is_empty() {
            return Err(format!("{field}.requests[{i}].method: must not be empty"));
        }
        if q.params.as_ref().is_some_and(|p| !p.is_object()) {
            return Err(format!("{field}.requests[{i}].params: must be an object"));
        }
    }
    for (i, l) in r.logs.iter().enumerate() {
        if log_rank(&l.level).is_none() {
            return Err(format!(
                "{field}.logs[{i}].level: unknown level `{}` (one of {})",
                l.level,
                LOG_LEVELS.join(", ")
            ));
        }
    }
    Ok(())
}

fn check_result(v: &Value, field: &str) -> Result<(), String> {
    match v {
        Value::String(_) | Value::Null => Ok(()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_content(item, &format!("{field}[{i}]"))?;
            }
            Ok(())
        }
        Value::Object(o) if o.contains_key("type") => check_content(v, field),
        Value::Object(o) if o.contains_key("content") => match o.get("content") {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    check_content(item, &format!("{field}.content[{i}]"))?;
                }
                Ok(())
            }
            _ => Err(format!("{field}.content: must be a list of content items")),
        },
        Value::Object(_) => Ok(()),
        _ => Err(format!(
            "{field}: must be a string, a list of content items or an object"
        )),
    }
}

fn need_str(o: &Map<String, Value>, key: &str, field: &str) -> Result<(), String> {
    match o.get(key) {
        Some(Value::String(_)) => Ok(()),
        _ => Err(format!("{field}.{key}: must be a string")),
    }
}

/// Check one content item (`text`, `image`, `audio`, `resource_link`, `resource`).
pub(crate) fn check_content(v: &Value, field: &str) -> Result<(), String> {
    let Some(o) = v.as_object() else {
        return Err(format!("{field}: a content item must be an object"));
    };
    let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => need_str(o, "text", field),
        "image" | "audio" => {
            need_str(o, "data", field)?;
            need_str(o, "mimeType", field)
        }
        "resource_link" => {
            need_str(o, "uri", field)?;
            need_str(o, "name", field)
        }
        "resource" => {
            let rf = format!("{field}.resource");
            let Some(r) = o.get("resource").and_then(Value::as_object) else {
                return Err(format!("{rf}: must be an object"));
            };
            need_str(r, "uri", &rf)?;
            if !r.contains_key("text") && !r.contains_key("blob") {
                return Err(format!("{rf}: needs `text` or `blob`"));
            }
            Ok(())
        }
        other => Err(format!(
            "{field}.type: unknown content type `{other}` (one of text, image, audio, resource_link, resource)"
        )),
    }
}

/// Check one resource.
pub(crate) fn check_resource(r: &McpResource, field: &str) -> Result<(), String> {
    if r.uri.is_empty() {
        return Err(format!("{field}.uri: must not be empty"));
    }
    if r.text.is_some() && r.blob.is_some() {
        return Err(format!("{field}: give `text` or `blob`, not both"));
    }
    Ok(())
}

/// Check one prompt.
pub(crate) fn check_prompt(p: &McpPrompt, field: &str) -> Result<(), String> {
    if p.name.is_empty() {
        return Err(format!("{field}.name: must not be empty"));
    }
    for (i, a) in p.arguments.iter().enumerate() {
        if a.get("name").and_then(Value::as_str).is_none() {
            return Err(format!("{field}.arguments[{i}].name: must be a string"));
        }
    }
    if let Some(r) = &p.result {
        let Some(msgs) = r.get("messages").and_then(Value::as_array) else {
            return Err(format!("{field}.result.messages: must be a list"));
        };
        for (i, m) in msgs.iter().enumerate() {
            let mf = format!("{field}.result.messages[{i}]");
            match m.get("role").and_then(Value::as_str) {
                Some("user" | "assistant") => {}
                _ => return Err(format!("{mf}.role: must be `user` or `assistant`")),
            }
            match m.get("content") {
                Some(c) => check_content(c, &format!("{mf}.content"))?,
                None => return Err(format!("{mf}.content: missing")),
            }
        }
    }
    Ok(())
}

fn check_completion(c: &McpCompletion, field: &str) -> Result<(), String> {
    match c.reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") if c.reference.get("name").is_some_and(Value::is_string) => Ok(()),
        Some("ref/resource") if c.reference.get("uri").is_some_and(Value::is_string) => Ok(()),
        _ => Err(format!(
            "{field}.ref: must be {{\"type\": \"ref/prompt\", \"name\"}} or {{\"type\": \"ref/resource\", \"uri\"}}"
        )),
    }
}

/// Compile a URI template's simple `{var}` expressions into a pattern.
pub(crate) fn compile_template(
    t: &McpResourceTemplate,
    field: &str,
) -> Result<TemplateEntry, String> {
    let src = &t.uri_template;
    let mut pattern = String::from("^");
    let mut vars = Vec::new();
    let mut rest = src.as_str();
    while let Some(open) = rest.find('{') {
        pattern.push_str(&regex::escape(&rest[..open]));
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("{field}.uriTemplate: unclosed `{{` in `{src}`"));
        };
        let expr = &after[..close];
        let (op, names) = match expr.chars().next() {
            Some(c @ ('+' | '#' | '/' | '.' | ';' | '?' | '&')) => (Some(c), &expr[1..]),
            _ => (None, expr),
        };
        for (k, name) in names.split(',').enumerate() {
            let name = name.trim_end_matches('*');
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "{field}.uriTemplate: bad variable `{name}` in `{src}`"
                ));
            }
            let sep = match (op, k) {
                (Some('/'), _) => "/",
                (Some('.'), _) => "\\.",
                (Some('#'), 0) => "#",
                (Some('?'), 0) => "\\?",
                (Some('?' | '&'), _) => "&",
                (_, 0) => "",
                _ => ",",
            };
            pattern.push_str(sep);
            if matches!(op, Some('?' | '&' | ';')) {
                pattern.push_str(&regex::escape(name));
                pattern.push('=');
            }
            let class = if matches!(op, Some('+' | '#')) {
                ".*?"
            } else {
                "[^/?#&,]*"
            };
            pattern.push_str(&format!("(?P<v{}>{class})", vars.len()));
            vars.push(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    let re =
        Regex::new(&pattern).map_err(|e| format!("{field}.uriTemplate: cannot be matched: {e}"))?;
    Ok(TemplateEntry {
        def: t.clone(),
        re,
        vars,
    })
}
