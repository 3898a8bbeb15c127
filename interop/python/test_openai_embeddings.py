"""Embeddings: fixture vectors, the deterministic fallback, `dimensions` and base64 encoding."""

from __future__ import annotations

import array
import base64
import hashlib

import openai
import pytest

MODEL = "text-embedding-3-small"
FIXTURE_VECTOR = [0.125, -0.25, 0.5, -0.75]  # exactly representable in float32


def fallback_vector(text: str, dimensions: int = 1536) -> list[float]:
    """aimock's deterministic fallback: SHA-256 bytes mapped to [-1, 1], re-hashed every 32 values."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    out: list[float] = []
    for i in range(dimensions):
        if i > 0 and i % 32 == 0:
            digest = hashlib.sha256(digest).digest()
        out.append(digest[i % 32] / 127.5 - 1)
    return out


def decode_base64_floats(data: str) -> list[float]:
    return array.array("f", base64.b64decode(data)).tolist()


@pytest.fixture
def b64_client(aimock, make_client) -> openai.OpenAI:  # type: ignore[no-untyped-def]
    """A client without strict response validation.

    The SDK types `Embedding.embedding` as `List[float]`, so its strict mode rejects the
    base64 string that a correct server returns for `encoding_format="base64"` (which is
    also what the SDK asks for when no encoding_format is given).
    """
    return make_client(aimock.url, _strict_response_validation=False)


def test_fixture_embedding_is_returned_for_matching_input(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model=MODEL, input="[embed-fixture] some text", encoding_format="float")

    assert result.object == "list"
    assert result.model == MODEL
    assert len(result.data) == 1
    item = result.data[0]
    assert item.object == "embedding"
    assert item.index == 0
    assert item.embedding == FIXTURE_VECTOR
    assert result.usage.prompt_tokens >= 0
    assert result.usage.total_tokens >= result.usage.prompt_tokens


def test_sdk_default_asks_for_base64_and_decodes_the_fixture_vector(b64_client: openai.OpenAI) -> None:
    # With no encoding_format the SDK sends "base64" and decodes float32 data itself.
    result = b64_client.embeddings.create(model=MODEL, input="[embed-fixture] some text")

    assert result.data[0].embedding == FIXTURE_VECTOR


def test_fallback_embedding_has_1536_dimensions_and_is_deterministic(client: openai.OpenAI) -> None:
    text = "no fixture matches this sentence about lighthouses"
    first = client.embeddings.create(model=MODEL, input=text, encoding_format="float").data[0].embedding
    second = client.embeddings.create(model=MODEL, input=text, encoding_format="float").data[0].embedding

    assert len(first) == 1536
    assert first == second
    assert all(-1.0 <= v <= 1.0 for v in first)
    assert first == pytest.approx(fallback_vector(text), rel=1e-6, abs=1e-7)


def test_fallback_embeddings_differ_for_different_texts(client: openai.OpenAI) -> None:
    a = client.embeddings.create(model=MODEL, input="alpha lighthouse", encoding_format="float").data[0].embedding
    b = client.embeddings.create(model=MODEL, input="beta lighthouse", encoding_format="float").data[0].embedding

    assert len(a) == len(b) == 1536
    assert a != b


def test_dimensions_parameter_sets_the_fallback_vector_length(client: openai.OpenAI) -> None:
    text = "eight dimensions please"
    result = client.embeddings.create(model=MODEL, input=text, dimensions=8, encoding_format="float")

    vector = result.data[0].embedding
    assert len(vector) == 8
    assert vector == pytest.approx(fallback_vector(text, 8), rel=1e-6, abs=1e-7)


def test_explicit_base64_encoding_decodes_to_the_same_floats_as_float_format(
    client: openai.OpenAI, b64_client: openai.OpenAI
) -> None:
    text = "base64 versus float"
    as_float = client.embeddings.create(model=MODEL, input=text, encoding_format="float").data[0].embedding
    # An explicit encoding_format makes the SDK hand back the raw base64 string.
    raw = b64_client.embeddings.create(model=MODEL, input=text, encoding_format="base64").data[0].embedding

    assert isinstance(raw, str), "encoding_format=base64 must return a base64 string"
    decoded = decode_base64_floats(raw)
    assert len(decoded) == 1536
    assert decoded == pytest.approx(as_float, rel=1e-6, abs=1e-7)

    sdk_decoded = b64_client.embeddings.create(model=MODEL, input=text).data[0].embedding
    assert sdk_decoded == decoded


def test_base64_fixture_vector_round_trips_exactly(b64_client: openai.OpenAI) -> None:
    raw = b64_client.embeddings.create(model=MODEL, input="[embed-fixture] b64", encoding_format="base64").data[0].embedding

    assert isinstance(raw, str)
    assert decode_base64_floats(raw) == FIXTURE_VECTOR


def test_several_inputs_get_one_vector_each_in_order(client: openai.OpenAI) -> None:
    texts = ["first lighthouse", "second lighthouse", "third lighthouse"]
    result = client.embeddings.create(model=MODEL, input=texts, dimensions=16, encoding_format="float")

    assert [d.index for d in result.data] == [0, 1, 2]
    for text, item in zip(texts, result.data):
        assert item.embedding == pytest.approx(fallback_vector(text, 16), rel=1e-6, abs=1e-7)
