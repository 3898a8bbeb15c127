//! The provider-neutral conversation: what every provider parses its request into, and what the fixture
//! matcher looks at.
//!
//! A provider module turns its native body (OpenAI chat, Responses input items, Anthropic blocks, ...)
//! into a [`ChatRequest`]; the matcher never sees provider JSON. The reply side is
//! [`crate::fixture::Reply`]: providers render it back into their own wire format.
//!
//! This module must never depend on a provider.

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Instructions (OpenAI `system`/`developer`, Anthropic `system`, Gemini `systemInstruction`).
    System,
    /// The human side.
    User,
    /// The model side.
    Assistant,
    /// A tool result.
    Tool,
}

impl Role {
    /// The OpenAI-style name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// The role an OpenAI-style name (`system`, `user`, `assistant`, `tool`) names; `None` for
    /// any other.
    pub fn from_name(name: &str) -> Option<Role> {
        [Role::System, Role::User, Role::Assistant, Role::Tool]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// A tool call made by the assistant earlier in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCallRef {
    /// The call id (`call_...`, `toolu_...`).
    pub id: String,
    /// The function name.
    pub name: String,
    /// The arguments, as a JSON string.
    pub arguments: String,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// Its text, parts joined with `""`; `None` when it has no text part at all (an attachment-only
    /// message), `Some("")` when the text is present but empty.
    pub text: Option<String>,
    /// Tool calls made in an assistant message.
    pub tool_calls: Vec<ToolCallRef>,
    /// For a tool result: the id of the call it answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A plain text message.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            text: Some(text.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A tool result answering `tool_call_id`.
    pub fn tool_result(tool_call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            role: Role::Tool,
            text: Some(text.into()),
            tool_calls: Vec::new(),
            tool_call_id: Some(tool_call_id.into()),
        }
    }
}

/// What kind of endpoint a request came through; fixtures may restrict themselves with
/// `match.endpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// Chat-like text generation (every LLM API).
    Chat,
    /// Image generation.
    Image,
    /// Text to speech.
    Speech,
    /// Speech to text.
    Transcription,
    /// Speech translation.
    Translation,
    /// Video generation.
    Video,
    /// Embeddings.
    Embedding,
    /// Music and sound generation.
    AudioGen,
    /// ElevenLabs text to speech.
    ElevenlabsTts,
    /// ElevenLabs Voice Design previews (`/v1/text-to-voice/design`).
    ElevenlabsVoiceDesign,
    /// fal.ai audio.
    FalAudio,
    /// fal.ai general.
    Fal,
    /// Realtime conversation sessions.
    Realtime,
    /// Realtime transcription sessions.
    RealtimeTranscription,
    /// Realtime translation sessions.
    RealtimeTranslation,
    /// GPT-Live sessions (`/v1/live/sessions`); aimock's name, `openai-live`.
    #[serde(rename = "openai-live")]
    Live,
}

impl Endpoint {
    /// The name used in fixtures (`match.endpoint`) and in the journal (`_endpointType`).
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Chat => "chat",
            Endpoint::Image => "image",
            Endpoint::Speech => "speech",
            Endpoint::Transcription => "transcription",
            Endpoint::Translation => "translation",
            Endpoint::Video => "video",
            Endpoint::Embedding => "embedding",
            Endpoint::AudioGen => "audio-gen",
            Endpoint::ElevenlabsTts => "elevenlabs-tts",
            Endpoint::ElevenlabsVoiceDesign => "elevenlabs-voice-design",
            Endpoint::FalAudio => "fal-audio",
            Endpoint::Fal => "fal",
            Endpoint::Realtime => "realtime",
            Endpoint::RealtimeTranscription => "realtime-transcription",
            Endpoint::RealtimeTranslation => "realtime-translation",
            Endpoint::Live => "openai-live",
        }
    }

    /// Every endpoint name, for error messages.
    pub const NAMES: &'static [&'static str] = &[
        "chat",
        "image",
        "speech",
        "transcription",
        "translation",
        "video",
        "embedding",
        "audio-gen",
        "elevenlabs-tts",
        "elevenlabs-voice-design",
        "fal-audio",
        "fal",
        "realtime",
        "realtime-transcription",
        "realtime-translation",
        "openai-live",
    ];
}

/// A request, as the matcher sees it, whatever provider it came through.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The requested model (empty when the API has none).
    pub model: String,
    /// The conversation, in order, system messages included.
    pub messages: Vec<Message>,
    /// Names of the tools declared in the request.
    pub tools: Vec<String>,
    /// `response_format.type` (or the provider's equivalent), e.g. `json_schema`.
    pub response_format: Option<String>,
    /// The kind of endpoint.
    pub endpoint: Endpoint,
    /// For embeddings: every input, joined with a space.
    pub embedding_input: Option<String>,
    /// Whether the client asked for a stream.
    pub stream: bool,
}

impl ChatRequest {
    /// A chat request for `model` with these messages.
    pub fn chat(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            tools: Vec::new(),
            response_format: None,
            endpoint: Endpoint::Chat,
            embedding_input: None,
            stream: false,
        }
    }

    /// An embedding request.
    pub fn embedding(model: impl Into<String>, input: impl Into<String>) -> Self {
        ChatRequest {
            model: model.into(),
            messages: Vec::new(),
            tools: Vec::new(),
            response_format: None,
            endpoint: Endpoint::Embedding,
            embedding_input: Some(input.into()),
            stream: false,
        }
    }

    /// Text of the last user message that has text (a trailing attachment-only user message is
    /// skipped, as some SDKs split one multimodal turn into two messages).
    pub fn last_user_text(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .filter(|m| m.role == Role::User)
            .find_map(|m| m.text.as_deref())
    }

    /// Every system message's text, joined with newlines.
    pub fn system_text(&self) -> String {
        let mut out = String::new();
        let mut first = true;
        for m in &self.messages {
            if m.role != Role::System {
                continue;
            }
            if let Some(t) = &m.text {
                if !first {
                    out.push('\n');
                }
                out.push_str(t);
                first = false;
            }
        }
        out
    }

    /// Characters of text in every message: what token estimates count.
    pub fn text_chars(&self) -> usize {
        self.messages
            .iter()
            .map(|m| m.text.as_deref().map_or(0, str::len))
            .sum()
    }

    /// Number of assistant messages: the conversation's turn index.
    pub fn assistant_count(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .count()
    }

    /// Whether the current turn (the messages after the last user message, or the whole
    /// conversation when there is none) holds a tool result.
    pub fn current_turn_has_tool_result(&self) -> bool {
        let start = self
            .messages
            .iter()
            .rposition(|m| m.role == Role::User)
            .map_or(0, |i| i + 1);
        self.messages[start..].iter().any(|m| m.role == Role::Tool)
    }

    /// The last message, when it is a tool result.
    pub fn last_tool_result(&self) -> Option<&Message> {
        self.messages.last().filter(|m| m.role == Role::Tool)
    }

    /// `match.systemHash`: the first 8 hex characters of the SHA-256 of [`Self::system_text`].
    /// A request without a system prompt hashes the empty string (`e3b0c442`), so a fixture
    /// with that value matches only requests that have no system text.
    pub fn system_hash(&self) -> String {
        short_sha256(self.system_text().as_bytes())
    }

    /// `match.toolsHash`: the first 8 hex characters of the SHA-256 of the declared tool names,
    /// in request order, joined with `"\n"`. A request without tools hashes the empty string
    /// (`e3b0c442`). Only names count: a changed tool description or schema keeps the hash.
    pub fn tools_hash(&self) -> String {
        short_sha256(self.tools.join("\n").as_bytes())
    }
}

/// First 8 lowercase hex characters of a SHA-256 digest.
fn short_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(8);
    for b in &digest[..4] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Serialized in the OpenAI-chat-like shape aimock's journal uses, so tools written against aimock's
/// journal keep working.
impl Serialize for ChatRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ChatRequest", 7)?;
        s.serialize_field("model", &self.model)?;
        s.serialize_field("messages", &self.messages)?;
        if self.stream {
            s.serialize_field("stream", &true)?;
        }
        if !self.tools.is_empty() {
            let tools: Vec<ToolDecl<'_>> = self.tools.iter().map(|n| ToolDecl(n)).collect();
            s.serialize_field("tools", &tools)?;
        }
        if let Some(rf) = &self.response_format {
            s.serialize_field("response_format", &serde_json::json!({ "type": rf }))?;
        }
        s.serialize_field("_endpointType", self.endpoint.as_str())?;
        if let Some(input) = &self.embedding_input {
            s.serialize_field("embeddingInput", input)?;
        }
        s.end()
    }
}

struct ToolDecl<'a>(&'a str);

impl Serialize for ToolDecl<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(2))?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry("function", &serde_json::json!({ "name": self.0 }))?;
        m.end()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("role", self.role.as_str())?;
        m.serialize_entry("content", &self.text)?;
        if !self.tool_calls.is_empty() {
            let calls: Vec<serde_json::Value> = self
                .tool_calls
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id,
                        "type": "function",
                        "function": { "name": c.name, "arguments": c.arguments },
                    })
                })
                .collect();
            m.serialize_entry("tool_calls", &calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            m.serialize_entry("tool_call_id", id)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_named_back_by_its_name_and_no_other_name_is_a_role() {
        for r in [Role::System, Role::User, Role::Assistant, Role::Tool] {
            assert_eq!(Role::from_name(r.as_str()), Some(r));
        }
        for other in ["developer", "function", "model", "", "User"] {
            assert_eq!(Role::from_name(other), None, "{other}");
        }
    }

    #[test]
    fn last_user_text_skips_a_trailing_attachment_only_message() {
        let mut attachment = Message::text(Role::User, "");
        attachment.text = None;
        let req = ChatRequest::chat(
            "m",
            vec![Message::text(Role::User, "describe this"), attachment],
        );
        assert_eq!(req.last_user_text(), Some("describe this"));
    }

    #[test]
    fn current_turn_has_tool_result_only_looks_after_the_last_user_message() {
        let req = ChatRequest::chat(
            "m",
            vec![
                Message::text(Role::User, "one"),
                Message::tool_result("call_1", "r"),
                Message::text(Role::User, "two"),
            ],
        );
        assert!(!req.current_turn_has_tool_result());
        let mut req2 = req.clone();
        req2.messages.push(Message::tool_result("call_2", "r"));
        assert!(req2.current_turn_has_tool_result());
    }

    #[test]
    fn system_text_joins_every_system_message_with_newlines() {
        let req = ChatRequest::chat(
            "m",
            vec![
                Message::text(Role::System, "a"),
                Message::text(Role::User, "u"),
                Message::text(Role::System, "b"),
            ],
        );
        assert_eq!(req.system_text(), "a\nb");
    }

    #[test]
    fn system_hash_is_the_first_8_hex_chars_of_the_sha256_of_the_system_text() {
        let mut req = ChatRequest::chat(
            "m",
            vec![
                Message::text(Role::System, "You are terse."),
                Message::text(Role::User, "hi"),
            ],
        );
        // printf 'You are terse.' | sha256sum
        assert_eq!(req.system_hash(), "97dd3b60");
        req.messages.remove(0);
        assert_eq!(
            req.system_hash(),
            "e3b0c442",
            "no system text hashes the empty string"
        );
    }

    #[test]
    fn tools_hash_covers_the_tool_names_in_order() {
        let mut req = ChatRequest::chat("m", vec![Message::text(Role::User, "hi")]);
        assert_eq!(req.tools_hash(), "e3b0c442");
        req.tools = vec!["get_weather".into(), "search".into()];
        // printf 'get_weather\nsearch' | sha256sum
        assert_eq!(req.tools_hash(), "dbe6049e");
        req.tools.reverse();
        assert_ne!(req.tools_hash(), "dbe6049e");
    }
}
