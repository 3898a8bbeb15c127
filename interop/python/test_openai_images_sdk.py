"""OpenAI images through the official openai SDK: generate (URL and base64), edit (multipart),
the removed variations endpoint, generated PNGs of the requested size, and typed errors."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, Callable

import openai
import pytest
from media_support import TINY_PNG, png_size


FIXTURES = {
    "fixtures": [
        {
            "match": {"userMessage": "[img] a red fox", "endpoint": "image"},
            "response": {"image": {"url": "https://img.example/fox.png", "revisedPrompt": "A red fox in the snow"}},
        },
        {"match": {"userMessage": "[img] given bytes"}, "response": {"image": {"b64Json": TINY_PNG}}},
        {
            "match": {"userMessage": "[img] two"},
            "response": {"images": [{"url": "https://img.example/1.png"}, {"url": "https://img.example/2.png"}]},
        },
        {"match": {"userMessage": "[img] no bytes"}, "response": {"image": {"url": "https://img.example/x.png"}}},
        {
            "match": {"userMessage": "[img] refused"},
            "response": {
                "error": {"message": "Your request was rejected by the safety system.", "type": "invalid_request_error", "code": "content_policy_violation"},
                "status": 400,
            },
        },
        # A chat fixture for the same words never answers an image request.
        {"match": {"userMessage": "[img] chat only"}, "response": {"content": "words"}},
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "images.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


def test_generate_answers_with_the_fixture_as_url_or_bytes(sdk: openai.OpenAI) -> None:
    r = sdk.images.generate(model="dall-e-3", prompt="[img] a red fox", response_format="url")
    assert r.data is not None and len(r.data) == 1
    assert r.data[0].url == "https://img.example/fox.png"
    assert r.data[0].revised_prompt == "A red fox in the snow"
    given = sdk.images.generate(model="dall-e-2", prompt="[img] given bytes", response_format="b64_json")
    assert given.data is not None and given.data[0].b64_json == TINY_PNG
    two = sdk.images.generate(model="dall-e-2", prompt="[img] two", n=2)
    assert two.data is not None and [d.url for d in two.data] == ["https://img.example/1.png", "https://img.example/2.png"]
    # n copies of a single image.
    three = sdk.images.generate(model="dall-e-2", prompt="[img] a red fox", n=3, response_format="url")
    assert three.data is not None and len(three.data) == 3


def test_without_bytes_the_server_makes_a_png_of_the_size_asked(sdk: openai.OpenAI) -> None:
    r = sdk.images.generate(model="gpt-image-1", prompt="[img] no bytes", size="1536x1024", quality="low")
    assert r.data is not None and r.data[0].b64_json
    assert png_size(base64.b64decode(r.data[0].b64_json)) == (1536, 1024)
    assert r.size == "1536x1024" and r.quality == "low" and r.output_format == "png"
    assert r.usage is not None and r.usage.output_tokens > 0 and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    again = sdk.images.generate(model="gpt-image-1", prompt="[img] no bytes", size="1536x1024")
    assert again.data is not None and again.data[0].b64_json == r.data[0].b64_json, "deterministic"
    # Asking a URL of a fixture that has only bytes gives a data: URL.
    url = sdk.images.generate(model="dall-e-2", prompt="[img] given bytes", response_format="url")
    assert url.data is not None and url.data[0].url == "data:image/png;base64," + TINY_PNG


def test_edit_takes_the_image_and_mask_as_multipart(sdk: openai.OpenAI) -> None:
    r = sdk.images.edit(
        model="gpt-image-1",
        image=("fox.png", io.BytesIO(base64.b64decode(TINY_PNG)), "image/png"),
        mask=("mask.png", io.BytesIO(base64.b64decode(TINY_PNG)), "image/png"),
        prompt="[img] no bytes",
        size="1024x1024",
    )
    assert r.data is not None and png_size(base64.b64decode(r.data[0].b64_json or "")) == (1024, 1024)


def test_errors_misses_and_the_removed_variations(server: Any, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        sdk.images.generate(model="dall-e-3", prompt="[img] refused")
    assert e.value.code == "content_policy_violation"
    with pytest.raises(openai.NotFoundError):
        sdk.images.generate(model="dall-e-3", prompt="[img] chat only")
    with pytest.raises(openai.BadRequestError) as e:
        sdk.images.generate(model="dall-e-3", prompt="[img] a red fox", size="huge")  # type: ignore[arg-type]
    assert e.value.param == "size"
    with pytest.raises(openai.BadRequestError) as e:
        sdk.images.generate(model="dall-e-3", prompt="")
    assert e.value.param == "prompt"
    with pytest.raises(openai.NotFoundError):
        sdk.images.create_variation(image=("fox.png", io.BytesIO(base64.b64decode(TINY_PNG)), "image/png"))
    # Strict mode: a miss is the 503 that names it, and chaos reaches image requests too.
    with pytest.raises(openai.InternalServerError) as strict:
        sdk.with_options(max_retries=0).images.generate(
            model="dall-e-3", prompt="[img] nothing", extra_headers={"X-AIMock-Strict": "true"}
        )
    assert strict.value.status_code == 503
    with pytest.raises(openai.RateLimitError):
        sdk.with_options(max_retries=0).images.generate(
            model="dall-e-3", prompt="[img] a red fox", extra_headers={"x-aimock-chaos-ratelimit": "1"}
        )
    # Journaled as image requests, the prompt as the user message.
    entry = [e for e in server.journal() if e["path"] == "/v1/images/generations"][0]
    assert entry["body"]["_endpointType"] == "image"
    assert entry["body"]["messages"] == [{"role": "user", "content": "[img] refused"}]


def test_record_then_replay_keeps_the_upstreams_images(
    server: Any, tmp_path: Path, start_aimock: Callable[..., Any], make_client: Callable[..., openai.OpenAI]
) -> None:
    """A miss goes to the upstream (here the server above), its images are saved as an image
    fixture, and a fresh server with only the recording answers the SDK the same."""
    from conftest import stop_server

    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = start_aimock([rec_dir], ["--record", "--provider-openai", server.url])
    via = make_client(recorder.url)
    first = via.images.generate(model="dall-e-3", prompt="[img] two", n=2)
    fox = via.images.edit(model="dall-e-2", image=("in.png", io.BytesIO(base64.b64decode(TINY_PNG)), "image/png"), prompt="[img] a red fox")
    assert first.data is not None and [d.url for d in first.data] == ["https://img.example/1.png", "https://img.example/2.png"]
    assert fox.data is not None and fox.data[0].url == "https://img.example/fox.png"
    saved = [json.loads(p.read_text()) for p in sorted((rec_dir / "recorded").rglob("*.json"))]
    fixtures = [f for doc in saved for f in doc["fixtures"]]
    # The recorder keys a prompt exactly: {"equals": prompt}.
    by_prompt = {f["match"]["userMessage"]["equals"]: f for f in fixtures}
    assert set(by_prompt) == {"[img] two", "[img] a red fox"}, fixtures
    assert all(f["match"]["endpoint"] == "image" for f in fixtures)
    assert by_prompt["[img] two"]["response"] == {
        "images": [{"url": "https://img.example/1.png"}, {"url": "https://img.example/2.png"}]
    }
    assert by_prompt["[img] a red fox"]["response"] == {
        "image": {"url": "https://img.example/fox.png", "revisedPrompt": "A red fox in the snow"}
    }
    stop_server(recorder)
    stop_server(server)
    replay = make_client(start_aimock([rec_dir / "recorded"]).url)
    again = replay.images.generate(model="dall-e-3", prompt="[img] two", n=2)
    assert again.data is not None and [d.url for d in again.data] == ["https://img.example/1.png", "https://img.example/2.png"]
    fox2 = replay.images.generate(model="dall-e-2", prompt="[img] a red fox")
    assert fox2.data is not None and fox2.data[0].revised_prompt == "A red fox in the snow"


def test_an_image_fixture_added_through_the_control_api_answers(server: Any, sdk: openai.OpenAI) -> None:
    r = server.add_fixtures(
        [{"match": {"userMessage": "[img] added live", "endpoint": "image"}, "response": {"image": {"b64Json": TINY_PNG}}}]
    )
    assert r.status == 200, r
    got = sdk.images.generate(model="gpt-image-1", prompt="[img] added live")
    assert got.data is not None and got.data[0].b64_json == TINY_PNG
    # An unknown field in a media fixture is refused with the reason, as in a fixture file.
    bad = server.add_fixtures([{"match": {"endpoint": "image"}, "response": {"image": {"b64json": TINY_PNG}}}])
    assert bad.status == 400 and "b64json" in bad.body.decode(), bad
