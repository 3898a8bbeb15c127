"""Image output parts of `generateContent` (gemini-2.5-flash-image) through google-genai: a request
whose `response_modalities` names IMAGE is an image request, answered by an image fixture with
`inlineData` parts (the fixture's bytes, or a PNG the server makes) beside its text, plain and
streamed; a text-only fixture never answers it, and chat requests still get chat fixtures."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from media_support import TINY_PNG, png_size
from google import genai
from google.genai import errors, types

MODEL = "gemini-2.5-flash-image"
BOTH = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])

FIXTURES = {
    "fixtures": [
        {
            "match": {"userMessage": "[img] a lighthouse", "endpoint": "image"},
            "response": {"image": {"b64Json": TINY_PNG}, "content": "Here is your lighthouse."},
        },
        {"match": {"userMessage": "[img] two cats"}, "response": {"images": [{"url": "https://x/1.png"}, {"url": "https://x/2.png"}]}},
        {"match": {"userMessage": "[img] text only"}, "response": {"content": "I only speak."}},
        {
            "match": {"userMessage": "[img] blocked"},
            "response": {"error": {"message": "The prompt was blocked.", "type": "INVALID_ARGUMENT"}, "status": 400},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "images.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


@pytest.fixture
def client(server: Any) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=server.url, timeout=20_000))


def images(parts: list[types.Part]) -> list[types.Blob]:
    return [p.inline_data for p in parts if p.inline_data is not None]


def test_the_fixtures_bytes_come_back_as_an_inline_data_part_beside_the_text(client: genai.Client, server: Any) -> None:
    r = client.models.generate_content(model=MODEL, contents="[img] a lighthouse", config=BOTH)
    assert r.parts is not None
    assert r.text == "Here is your lighthouse."
    blobs = images(r.parts)
    assert len(blobs) == 1
    assert blobs[0].data == base64.b64decode(TINY_PNG)
    assert blobs[0].mime_type == "image/png"
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    entry = server.journal()[-1]
    assert entry["response"]["status"] == 200


def test_without_bytes_the_server_makes_one_png_per_image_of_the_aspect_ratio(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9")
    )
    r = client.models.generate_content(model=MODEL, contents="[img] two cats", config=config)
    blobs = images(r.parts or [])
    assert len(blobs) == 2
    assert all(png_size(b.data or b"") == (1344, 768) for b in blobs)
    assert blobs[0].data != blobs[1].data, "each picture has its own colour"
    again = client.models.generate_content(model=MODEL, contents="[img] two cats", config=config)
    assert [b.data for b in images(again.parts or [])] == [b.data for b in blobs], "deterministic"
    assert all(p.text is None for p in r.parts or []), "no empty text part beside pictures"


def test_streamed_the_picture_is_a_chunk_of_its_own(client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="[img] a lighthouse", config=BOTH))
    parts = [p for c in chunks for p in (c.parts or [])]
    assert "".join(p.text for p in parts if p.text) == "Here is your lighthouse."
    blobs = images(parts)
    assert len(blobs) == 1 and blobs[0].data == base64.b64decode(TINY_PNG)
    assert len(chunks) >= 2
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata is not None


def test_a_text_fixture_never_answers_an_image_request_but_still_answers_chat(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(model=MODEL, contents="[img] text only", config=BOTH)
    assert e.value.code == 404
    r = client.models.generate_content(model=MODEL, contents="[img] text only")
    assert r.text == "I only speak."
    # An `endpoint: image` fixture is for image requests only.
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(model=MODEL, contents="[img] a lighthouse")
    assert e.value.code == 404


def test_an_image_fixture_without_endpoint_answers_a_chat_request_but_text_only_modalities_get_no_pictures(
    client: genai.Client,
) -> None:
    r = client.models.generate_content(model=MODEL, contents="[img] two cats")
    assert len(images(r.parts or [])) == 2
    r = client.models.generate_content(
        model=MODEL, contents="[img] two cats", config=types.GenerateContentConfig(response_modalities=["TEXT"])
    )
    assert images(r.parts or []) == []


def test_errors_are_typed(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(model=MODEL, contents="[img] blocked", config=BOTH)
    assert e.value.code == 400 and e.value.status == "INVALID_ARGUMENT"
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(
            model=MODEL,
            contents="[img] two cats",
            config=types.GenerateContentConfig(response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="2:1")),
        )
    assert e.value.code == 400 and "aspect ratio" in (e.value.message or "")


def test_record_then_replay_keeps_the_upstreams_pictures(server: Any, tmp_path: Path, start_aimock: Callable[..., Any]) -> None:
    """An image-output miss goes to --provider-gemini (the server above): its inlineData pictures
    are saved beside the text as an image fixture, plain and streamed, and a fresh server with only
    the recordings gives the SDK the same parts."""
    from conftest import stop_server
    from record_support import wait_for_fixtures

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = start_aimock([rec_dir], ["--record", "--provider-gemini", server.url])
    via = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=recorder.url, timeout=20_000))
    plain = via.models.generate_content(model=MODEL, contents="[img] a lighthouse", config=BOTH)
    streamed = list(via.models.generate_content_stream(model=MODEL, contents="[img] two cats", config=BOTH))
    assert plain.parts is not None and len(images(plain.parts)) == 1
    streamed_blobs = [b for c in streamed if c.parts for b in images(c.parts)]
    assert len(streamed_blobs) == 2
    assert wait_for_fixtures(recorder, 2, timeout=5.0)
    saved = [json.loads(p.read_text()) for p in sorted((rec_dir / "recorded").rglob("*.json"))]
    fixtures = {f["match"]["userMessage"]["equals"]: f for doc in saved for f in doc["fixtures"]}
    assert {k: f["match"]["endpoint"] for k, f in fixtures.items()} == {"[img] a lighthouse": "image", "[img] two cats": "image"}
    assert fixtures["[img] a lighthouse"]["response"]["image"] == {"b64Json": TINY_PNG}
    assert fixtures["[img] a lighthouse"]["response"]["content"] == "Here is your lighthouse."
    assert len(fixtures["[img] two cats"]["response"]["images"]) == 2
    stop_server(recorder)
    stop_server(server)
    replay = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=start_aimock([rec_dir / "recorded"]).url, timeout=20_000))
    again = replay.models.generate_content(model=MODEL, contents="[img] a lighthouse", config=BOTH)
    assert again.text == plain.text and again.parts is not None
    assert [(b.data, b.mime_type) for b in images(again.parts)] == [(b.data, b.mime_type) for b in images(plain.parts)]
    cats = replay.models.generate_content(model=MODEL, contents="[img] two cats", config=BOTH)
    assert cats.parts is not None and [b.data for b in images(cats.parts)] == [b.data for b in streamed_blobs]
