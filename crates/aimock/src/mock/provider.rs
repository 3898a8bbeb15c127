//! [`Provider`]: which SDK a base URL is for.

/// The APIs whose official SDKs take a base URL, for [`MockServer::base_url`](super::MockServer::base_url).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// OpenAI (`OpenAI(base_url=...)`, async-openai's `with_api_base`): `/v1`.
    OpenAi,
    /// Azure OpenAI (`AzureOpenAI(azure_endpoint=...)`): the root.
    AzureOpenAi,
    /// Anthropic (`Anthropic(base_url=...)`): the root.
    Anthropic,
    /// Gemini (`genai.Client(http_options=HttpOptions(base_url=...))`): the root.
    Gemini,
    /// Vertex AI (`genai.Client(vertexai=True, ...)`, `AnthropicVertex(base_url=...)`): the root.
    VertexAi,
    /// AWS Bedrock (`boto3.client("bedrock-runtime", endpoint_url=...)`): the root.
    Bedrock,
    /// Ollama (`ollama.Client(host=...)`): the root.
    Ollama,
    /// Cohere v2 (`cohere.ClientV2(base_url=...)`): the root.
    Cohere,
    /// OpenRouter (an OpenAI client with `base_url=.../api/v1`): `/api/v1`.
    OpenRouter,
    /// Mistral (`Mistral(server_url=...)`): the root.
    Mistral,
}

impl Provider {
    /// Every provider.
    pub const ALL: &'static [Provider] = &[
        Provider::OpenAi,
        Provider::AzureOpenAi,
        Provider::Anthropic,
        Provider::Gemini,
        Provider::VertexAi,
        Provider::Bedrock,
        Provider::Ollama,
        Provider::Cohere,
        Provider::OpenRouter,
        Provider::Mistral,
    ];

    /// The path the SDK's base URL ends with (empty: the server's root).
    pub fn base_path(self) -> &'static str {
        match self {
            Provider::OpenAi => "/v1",
            Provider::OpenRouter => "/api/v1",
            Provider::AzureOpenAi
            | Provider::Anthropic
            | Provider::Gemini
            | Provider::VertexAi
            | Provider::Bedrock
            | Provider::Ollama
            | Provider::Cohere
            | Provider::Mistral => "",
        }
    }
}
