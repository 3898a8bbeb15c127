//! Short constructors for the fixture format's types, for [`MockServer::add`] and
//! [`MockServer::mock`](super::MockServer::mock), and for the responders built on them.
//!
//! [`MockServer::add`]: super::MockServer::add

use crate::fixture::{ErrorSpec, FixtureEntry, MatchSpec, ResponseSpec, TextPattern, ToolCallSpec};

impl FixtureEntry {
    /// A fixture from a match and a response.
    pub fn new(matcher: MatchSpec, response: ResponseSpec) -> FixtureEntry {
        FixtureEntry {
            matcher,
            response,
            ..Default::default()
        }
    }

    /// Characters per streamed chunk.
    #[must_use]
    pub fn chunk_size(mut self, n: u64) -> Self {
        self.chunk_size = Some(n);
        self
    }

    /// Delay before each streamed event (ms).
    #[must_use]
    pub fn latency(mut self, ms: f64) -> Self {
        self.latency = Some(ms);
        self
    }
}

impl MatchSpec {
    /// Matches requests whose last user message contains `text`.
    pub fn user_message(text: impl Into<String>) -> MatchSpec {
        MatchSpec {
            user_message: Some(TextPattern::Text(text.into())),
            ..Default::default()
        }
    }

    /// Matches requests whose last user message matches a regular expression.
    pub fn user_message_regex(regex: impl Into<String>) -> MatchSpec {
        MatchSpec {
            user_message: Some(TextPattern::Regex {
                regex: regex.into(),
                flags: None,
            }),
            ..Default::default()
        }
    }

    /// Matches embedding requests whose input contains `text`.
    pub fn input_text(text: impl Into<String>) -> MatchSpec {
        MatchSpec {
            input_text: Some(TextPattern::Text(text.into())),
            ..Default::default()
        }
    }

    /// Matches requests whose last message is the result of this tool call.
    pub fn tool_call_id(id: impl Into<String>) -> MatchSpec {
        MatchSpec {
            tool_call_id: Some(id.into()),
            ..Default::default()
        }
    }

    /// Also require the model (exact, or this prefix followed by `-<digit>`).
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(TextPattern::Text(model.into()));
        self
    }

    /// Also require the n-th occurrence (per test id).
    #[must_use]
    pub fn sequence_index(mut self, n: u32) -> Self {
        self.sequence_index = Some(n);
        self
    }

    /// Also require a declared tool with this name.
    #[must_use]
    pub fn tool_name(mut self, name: impl Into<String>) -> Self {
        self.tool_name = Some(name.into());
        self
    }
}

impl ResponseSpec {
    /// A text reply.
    pub fn text(content: impl Into<String>) -> ResponseSpec {
        ResponseSpec {
            content: Some(serde_json::Value::String(content.into())),
            ..Default::default()
        }
    }

    /// A reply calling one tool with these arguments (a JSON value).
    pub fn tool_call(name: impl Into<String>, arguments: serde_json::Value) -> ResponseSpec {
        ResponseSpec {
            tool_calls: Some(vec![ToolCallSpec::new(name, arguments)]),
            ..Default::default()
        }
    }

    /// An error reply with this HTTP status.
    pub fn error(status: u16, message: impl Into<String>) -> ResponseSpec {
        ResponseSpec {
            error: Some(ErrorSpec {
                message: message.into(),
                ..Default::default()
            }),
            status: Some(status),
            ..Default::default()
        }
    }

    /// An embedding vector.
    pub fn embedding(vector: Vec<f64>) -> ResponseSpec {
        ResponseSpec {
            embedding: Some(vector),
            ..Default::default()
        }
    }

    /// Add reasoning, streamed before the content by models that reason.
    #[must_use]
    pub fn with_reasoning(mut self, reasoning: impl Into<String>) -> Self {
        self.reasoning = Some(reasoning.into());
        self
    }
}

impl ToolCallSpec {
    /// A call of `name` with these arguments (a JSON object, or a string holding JSON); its id
    /// is generated per request.
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> ToolCallSpec {
        ToolCallSpec {
            name: name.into(),
            arguments,
            id: None,
            extra: Default::default(),
        }
    }

    /// A fixed call id, for a later request's `toolCallId` to match.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// `(name, arguments)`.
impl<N: Into<String>> From<(N, serde_json::Value)> for ToolCallSpec {
    fn from((name, arguments): (N, serde_json::Value)) -> Self {
        ToolCallSpec::new(name, arguments)
    }
}
