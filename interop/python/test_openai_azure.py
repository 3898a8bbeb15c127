"""AzureOpenAI client: deployment-scoped chat and embeddings routes."""

from __future__ import annotations

import openai

DEPLOYMENT = "my-gpt4o-deployment"
EMBED_DEPLOYMENT = "my-embedding-deployment"


def test_azure_chat_on_a_deployment_returns_the_fixture_content(aimock, azure_client: openai.AzureOpenAI) -> None:  # type: ignore[no-untyped-def]
    completion = azure_client.chat.completions.create(
        model=DEPLOYMENT, messages=[{"role": "user", "content": "[azure] hello"}]
    )

    assert completion.choices[0].message.content == "Hello from the Azure deployment."
    assert completion.choices[0].finish_reason == "stop"

    entries = aimock.journal()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["path"].startswith(f"/openai/deployments/{DEPLOYMENT}/chat/completions")
    assert "api-version=2024-10-21" in entry["path"]
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    assert headers.get("api-key") not in (None, "x"), "the Azure api-key header is redacted in the journal"


def test_azure_streamed_chat_on_a_deployment_joins_to_the_fixture_content(azure_client: openai.AzureOpenAI) -> None:
    chunks = list(
        azure_client.chat.completions.create(
            model=DEPLOYMENT, messages=[{"role": "user", "content": "[azure] hello"}], stream=True
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the Azure deployment."


def test_azure_embeddings_on_a_deployment_return_the_fixture_vector(aimock, azure_client: openai.AzureOpenAI) -> None:  # type: ignore[no-untyped-def]
    as_float = azure_client.embeddings.create(model=EMBED_DEPLOYMENT, input="[azure-embed] text", encoding_format="float")
    # The SDK's default asks for base64, which its strict validation (List[float]) would reject.
    lenient = openai.AzureOpenAI(
        azure_endpoint=aimock.url, api_version="2024-10-21", api_key="x", max_retries=0, timeout=20
    )
    try:
        sdk_default = lenient.embeddings.create(model=EMBED_DEPLOYMENT, input="[azure-embed] text")
    finally:
        lenient.close()

    assert as_float.data[0].embedding == [0.5, 0.25, -0.125]
    assert sdk_default.data[0].embedding == [0.5, 0.25, -0.125]


def test_azure_embeddings_fall_back_to_the_deterministic_vector(azure_client: openai.AzureOpenAI) -> None:
    result = azure_client.embeddings.create(
        model=EMBED_DEPLOYMENT, input="azure fallback text", dimensions=8, encoding_format="float"
    )

    assert len(result.data[0].embedding) == 8
