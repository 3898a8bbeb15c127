"""Vertex AI (Gemini models) through the official ``google-genai`` SDK in express mode
(``vertexai=True`` with an API key): ``/v1beta1/publishers/google/models/{m}:{action}``."""

from __future__ import annotations

from typing import Callable

import pytest
from google import genai
from google.genai import errors, types

from conftest import FIXTURES_DIR, AimockServer, http_request

GEMINI_FIXTURES = FIXTURES_DIR / "gemini"
MODEL = "gemini-2.5-flash"


@pytest.fixture
def gemini(start_aimock: Callable[..., AimockServer]) -> AimockServer:
    return start_aimock([GEMINI_FIXTURES])


@pytest.fixture
def vertex(gemini: AimockServer) -> genai.Client:
    return genai.Client(vertexai=True, api_key="test-key", http_options=types.HttpOptions(base_url=gemini.url, timeout=20_000))


def test_vertex_express_mode_generate_content_returns_the_fixture_text(vertex: genai.Client, gemini: AimockServer) -> None:
    r = vertex.models.generate_content(model=MODEL, contents="[gemini-hello]")

    assert r.text == "Hello from the Gemini mock! How can I help?"
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.create_time is not None
    assert r.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND
    entry = gemini.journal()[-1]
    assert entry["path"] == f"/v1beta1/publishers/google/models/{MODEL}:generateContent"
    assert entry["headers"].get("x-goog-api-key")


def test_vertex_express_mode_stream_delivers_text_slices(vertex: genai.Client, gemini: AimockServer) -> None:
    chunks = list(vertex.models.generate_content_stream(model=MODEL, contents="[gemini-stream]"))

    assert "".join(c.text for c in chunks) == "Streaming replies arrive one slice at a time."
    assert len(chunks) == 5
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert gemini.journal()[-1]["path"] == f"/v1beta1/publishers/google/models/{MODEL}:streamGenerateContent?alt=sse"


def test_vertex_function_calls_round_trip(vertex: genai.Client) -> None:
    decl = types.FunctionDeclaration(
        name="get_time", parameters_json_schema={"type": "object", "properties": {"timezone": {"type": "string"}}}
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[decl])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    first = vertex.models.generate_content(model=MODEL, contents="[gemini-loop]", config=config)
    call = first.function_calls[0]
    assert call.id == "call_gemini_loop_1"
    final = vertex.models.generate_content(
        model=MODEL,
        contents=[
            types.Content(role="user", parts=[types.Part.from_text(text="[gemini-loop]")]),
            first.candidates[0].content,
            types.Content(
                role="user",
                parts=[types.Part(function_response=types.FunctionResponse(id=call.id, name=call.name, response={"t": "14:05"}))],
            ),
        ],
        config=config,
    )
    assert final.text == "It is 14:05 in Berlin."


def test_vertex_errors_raise_the_sdks_typed_error(vertex: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as exc:
        vertex.models.generate_content(model=MODEL, contents="[gemini-rate-limit]")
    assert exc.value.code == 429
    assert exc.value.status == "RESOURCE_EXHAUSTED"


def test_the_project_and_location_form_of_the_vertex_path_is_served(gemini: AimockServer) -> None:
    path = f"/v1/projects/my-proj/locations/us-central1/publishers/google/models/{MODEL}:generateContent"
    r = http_request("POST", gemini.url + path, body={"contents": [{"role": "user", "parts": [{"text": "[gemini-hello]"}]}]})

    assert r.status == 200, r
    body = r.json()
    assert body["candidates"][0]["content"]["parts"] == [{"text": "Hello from the Gemini mock! How can I help?"}]
    assert body["modelVersion"] == MODEL


def test_vertex_embed_content_serves_gemini_and_text_embedding_models(vertex: genai.Client, gemini: AimockServer) -> None:
    one = vertex.models.embed_content(
        model="gemini-embedding-001", contents="[gemini-vector] one", config=types.EmbedContentConfig(output_dimensionality=4)
    )
    assert [e.values for e in one.embeddings] == [[0.25, -0.5, 0.75, 1.0]]
    assert gemini.journal()[-1]["path"] == "/v1beta1/publishers/google/models/gemini-embedding-001:embedContent"

    two = vertex.models.embed_content(
        model="gemini-embedding-001", contents=["a", "b"], config=types.EmbedContentConfig(output_dimensionality=8)
    )
    assert [len(e.values) for e in two.embeddings] == [8, 8]
    assert gemini.journal()[-1]["path"].endswith("gemini-embedding-001:batchEmbedContents")

    # Text embedding models go through :predict.
    legacy = vertex.models.embed_content(
        model="text-embedding-005", contents=["a", "b"], config=types.EmbedContentConfig(output_dimensionality=8)
    )
    assert [len(e.values) for e in legacy.embeddings] == [8, 8]
    assert legacy.embeddings[0].values == two.embeddings[0].values
    assert legacy.embeddings[0].statistics.truncated is False
    assert gemini.journal()[-1]["path"] == "/v1beta1/publishers/google/models/text-embedding-005:predict"
