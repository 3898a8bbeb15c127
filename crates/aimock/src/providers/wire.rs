//! The OpenAI-style chat request, as OpenAI's Chat Completions, Cohere v2 and Ollama take it: a
//! list of messages with `role`, `content`, `tool_calls` (`[{id, function: {name, arguments}}]`)
//! and `tool_call_id`, and `tools` declaring functions by name. What one API reads differently
//! from another is its [`Dialect`]: the content it takes, whether a call's id or name may be null,
//! and the fields only it reads.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::Value;

use crate::conversation::{Message, Role, ToolCallRef};
use crate::http::ApiError;

/// How one API's body differs from the others'.
pub(crate) trait Dialect: 'static {
    /// A message's `content`.
    type Content: DeserializeOwned;
    /// A tool call's `id`.
    type CallId: Text;
    /// A called function's `name`.
    type FunctionName: Text;
    /// A message's `images` (Ollama).
    type Images: DeserializeOwned;
    /// A message's `tool_name` (Ollama).
    type ToolName: Text;
    /// A tool's `function`.
    type Function: Declared;
    /// A tool's own `name`, beside `function` (OpenAI's flat form).
    type ToolOwnName: Text;
}

/// A field a dialect does not read: taken as any value and dropped, as an unknown field is.
pub(crate) type Skip = IgnoredAny;

/// A string field as a dialect reads it: `String` (a null is refused), `Option<String>` (a null
/// is none), or [`Skip`] (not read).
pub(crate) trait Text: DeserializeOwned + Default {
    /// The string, if there is one.
    fn into_text(self) -> Option<String>;
}

impl Text for String {
    fn into_text(self) -> Option<String> {
        Some(self)
    }
}

impl Text for Option<String> {
    fn into_text(self) -> Option<String> {
        self
    }
}

impl Text for Skip {
    fn into_text(self) -> Option<String> {
        None
    }
}

/// One message.
#[derive(Deserialize)]
#[serde(bound = "")]
pub(crate) struct Msg<D: Dialect> {
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) content: Option<D::Content>,
    #[serde(default)]
    pub(crate) tool_calls: Option<Vec<MsgToolCall<D>>>,
    #[serde(default)]
    pub(crate) tool_call_id: Option<String>,
    #[serde(default)]
    pub(crate) images: Option<D::Images>,
    #[serde(default)]
    pub(crate) tool_name: D::ToolName,
}

/// A tool call of an assistant message.
#[derive(Deserialize)]
#[serde(bound = "")]
pub(crate) struct MsgToolCall<D: Dialect> {
    #[serde(default)]
    pub(crate) id: D::CallId,
    #[serde(default)]
    pub(crate) function: Option<MsgFunction<D>>,
}

/// The function a tool call calls.
#[derive(Deserialize)]
#[serde(bound = "")]
pub(crate) struct MsgFunction<D: Dialect> {
    #[serde(default)]
    pub(crate) name: D::FunctionName,
    /// A JSON string as OpenAI sends it; an object as Ollama sends it (and some frameworks).
    #[serde(default)]
    pub(crate) arguments: Value,
}

impl<D: Dialect> MsgToolCall<D> {
    /// The call's id (when it has one), name and arguments; arguments that are null (or absent)
    /// read as `null_arguments`.
    pub(crate) fn into_parts(self, null_arguments: &str) -> (Option<String>, String, String) {
        let (name, arguments) = match self.function {
            Some(f) => (f.name.into_text().unwrap_or_default(), f.arguments),
            None => (String::new(), Value::Null),
        };
        let arguments = match arguments {
            Value::String(s) => s,
            Value::Null => null_arguments.to_owned(),
            other => other.to_string(),
        };
        (self.id.into_text(), name, arguments)
    }

    /// The call as the conversation holds it (OpenAI's and Cohere's: null arguments are empty).
    pub(crate) fn into_ref(self) -> ToolCallRef {
        let (id, name, arguments) = self.into_parts("");
        ToolCallRef {
            id: id.unwrap_or_default(),
            name,
            arguments,
        }
    }
}

/// A declared tool: `{"type": "function", "function": {"name", ...}}`.
#[derive(Deserialize)]
#[serde(bound = "")]
pub(crate) struct Tool<D: Dialect> {
    #[serde(default)]
    pub(crate) function: Option<D::Function>,
    #[serde(default)]
    pub(crate) name: D::ToolOwnName,
}

/// A declared function of which only the name is read.
pub(crate) trait Declared: DeserializeOwned {
    /// Its name.
    fn into_name(self) -> Option<String>;
}

/// A declared function: OpenAI's (a tool's `function`, and `functions`) and Gemini's.
#[derive(Deserialize)]
pub(crate) struct FunctionDecl {
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// A declared function as Cohere's and Ollama's tools hold it: a [`FunctionDecl`] under the name
/// their errors give it.
#[derive(Deserialize)]
pub(crate) struct ToolFunction {
    #[serde(default)]
    name: Option<String>,
}

impl Declared for FunctionDecl {
    fn into_name(self) -> Option<String> {
        self.name
    }
}

impl Declared for ToolFunction {
    fn into_name(self) -> Option<String> {
        self.name
    }
}

/// The names of the declared tools, in order: each function's, else the tool's own.
pub(crate) fn tool_names<D: Dialect>(tools: Option<Vec<Tool<D>>>) -> Vec<String> {
    tools
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| {
            t.function
                .and_then(Declared::into_name)
                .or(t.name.into_text())
        })
        .collect()
}

/// The messages as the conversation holds them: `role` names each message's role (or refuses it,
/// given its index), `text` reads its content.
pub(crate) fn messages<D: Dialect>(
    msgs: Vec<Msg<D>>,
    role: impl Fn(usize, &str) -> Result<Role, ApiError>,
    text: impl Fn(Option<D::Content>) -> Option<String>,
) -> Result<Vec<Message>, ApiError> {
    let mut messages = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.into_iter().enumerate() {
        let role = role(i, &m.role)?;
        let tool_calls = m
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(MsgToolCall::into_ref)
            .collect();
        messages.push(Message {
            role,
            text: text(m.content),
            tool_calls,
            tool_call_id: m.tool_call_id,
        });
    }
    Ok(messages)
}

/// A message's `content`: a string, or a list of parts. Read directly (an untagged enum would
/// buffer the value and read it twice).
pub(crate) enum Content<P> {
    Text(String),
    Parts(Vec<P>),
}

impl<'de, P: Deserialize<'de>> Deserialize<'de> for Content<P> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Content<P>, D::Error> {
        struct V<P>(std::marker::PhantomData<P>);
        impl<'de, P: Deserialize<'de>> serde::de::Visitor<'de> for V<P> {
            type Value = Content<P>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Content<P>, E> {
                Ok(Content::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Content<P>, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Content<P>, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(p) = seq.next_element::<P>()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<P> Content<P> {
    /// Its text: the string, or what `piece` takes from each part, joined; `None` when no part
    /// gives any.
    pub(crate) fn text(self, mut piece: impl FnMut(P) -> Option<String>) -> Option<String> {
        match self {
            Content::Text(t) => Some(t),
            Content::Parts(parts) => {
                let mut out: Option<String> = None;
                for t in parts.into_iter().filter_map(&mut piece) {
                    out.get_or_insert_with(String::new).push_str(&t);
                }
                out
            }
        }
    }
}

/// One part of a content list; `Doc` is what a dialect reads of a `document` part (Cohere's).
#[derive(Deserialize)]
#[serde(bound = "Doc: DeserializeOwned")]
pub(crate) struct Part<Doc = Skip> {
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) document: Option<Doc>,
}

/// The text of an OpenAI content: a string, or its `text`, `input_text` and `output_text` parts
/// joined; `None` when there is no text part.
pub(crate) fn openai_text(c: Option<Content<Part>>) -> Option<String> {
    c?.text(|p| match p.kind.as_str() {
        "text" | "input_text" | "output_text" => p.text,
        _ => None,
    })
}
