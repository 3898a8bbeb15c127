"""Imagen on Vertex AI through google-genai's `models.generate_images`: the fixture's images, or
PNGs of the aspect ratio's size made by the server, and typed errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from media_support import TINY_PNG, png_size
from google import genai
from google.genai import errors, types

MODEL = "imagen-3.0-generate-002"

FIXTURES = {
    "fixtures": [
        {
            "match": {"userMessage": "[imagen] a lighthouse", "endpoint": "image"},
            "response": {"image": {"b64Json": TINY_PNG, "revisedPrompt": "A lighthouse at dusk, oil painting"}},
        },
        {"match": {"userMessage": "[imagen] made here"}, "response": {"image": {"url": "https://img.example/x.png"}}},
        {
            "match": {"userMessage": "[imagen] refused"},
            "response": {"error": {"message": "The prompt was blocked.", "type": "INVALID_ARGUMENT"}, "status": 400},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "imagen.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture
def vertex(server: Any) -> genai.Client:
    return genai.Client(vertexai=True, api_key="test-key", http_options=types.HttpOptions(base_url=server.url, timeout=20_000))


def test_generate_images_gives_the_fixtures_bytes(vertex: genai.Client) -> None:
    r = vertex.models.generate_images(
        model=MODEL, prompt="[imagen] a lighthouse", config=types.GenerateImagesConfig(number_of_images=2)
    )
    assert r.generated_images is not None and len(r.generated_images) == 2
    first = r.generated_images[0]
    assert first.image is not None and first.image.image_bytes == base64.b64decode(TINY_PNG)
    assert first.image.mime_type == "image/png"
    assert first.enhanced_prompt == "A lighthouse at dusk, oil painting"


def test_without_bytes_the_server_makes_pngs_of_the_aspect_ratio(vertex: genai.Client) -> None:
    r = vertex.models.generate_images(
        model=MODEL,
        prompt="[imagen] made here",
        config=types.GenerateImagesConfig(number_of_images=1, aspect_ratio="16:9"),
    )
    assert r.generated_images is not None and len(r.generated_images) == 1
    image = r.generated_images[0].image
    assert image is not None and image.image_bytes is not None
    assert png_size(image.image_bytes) == (1408, 768)


def test_errors_are_typed(vertex: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as e:
        vertex.models.generate_images(model=MODEL, prompt="[imagen] refused")
    assert e.value.code == 400
    with pytest.raises(errors.ClientError) as e:
        vertex.models.generate_images(model=MODEL, prompt="[imagen] nothing matches")
    assert e.value.code == 404
    with pytest.raises(errors.ClientError) as e:
        vertex.models.generate_images(
            model=MODEL, prompt="[imagen] made here", config=types.GenerateImagesConfig(aspect_ratio="2:1")
        )
    assert e.value.code == 400


def test_record_then_replay_keeps_the_upstreams_images(server: Any, tmp_path: Path, start_aimock: Callable[..., Any]) -> None:
    from conftest import stop_server

    def client(url: str) -> genai.Client:
        return genai.Client(vertexai=True, api_key="test-key", http_options=types.HttpOptions(base_url=url, timeout=20_000))

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = start_aimock([rec_dir], ["--record", "--provider-vertexai", server.url])
    config = types.GenerateImagesConfig(number_of_images=2)
    via = client(recorder.url)
    first = via.models.generate_images(model=MODEL, prompt="[imagen] a lighthouse", config=config)
    assert first.generated_images is not None and len(first.generated_images) == 2
    saved = [json.loads(p.read_text()) for p in sorted((rec_dir / "recorded").rglob("*.json"))]
    [fixture] = [f for doc in saved for f in doc["fixtures"]]
    assert fixture["match"]["endpoint"] == "image"
    assert fixture["response"] == {
        "images": [{"b64Json": TINY_PNG, "revisedPrompt": "A lighthouse at dusk, oil painting"}] * 2
    }
    stop_server(recorder)
    stop_server(server)
    replay = client(start_aimock([rec_dir / "recorded"]).url)
    again = replay.models.generate_images(model=MODEL, prompt="[imagen] a lighthouse", config=config)
    assert again.generated_images is not None
    assert [(g.image.image_bytes, g.enhanced_prompt) for g in again.generated_images if g.image] == [
        (base64.b64decode(TINY_PNG), "A lighthouse at dusk, oil painting")
    ] * 2
