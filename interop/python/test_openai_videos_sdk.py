"""OpenAI Sora (`/v1/videos`) through the official openai SDK: create (multipart, as the SDK sends
it, and JSON), retrieve with the fixture's progression (so `create_and_poll` really polls), list
pages, delete, `download_content` (the fixture's bytes, or a placeholder MP4 a reader walks),
remix, and typed errors."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, Callable

import openai
import pytest
from media_support import TINY_PNG, mp4_summary, png_size
from openai.types import Video

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CLIP = b"\x00\x00\x00\x18ftypisom fixture clip bytes"

FIXTURES = {
    "fixtures": [
        {
            "match": {"userMessage": "[sora] a fox", "endpoint": "video"},
            "response": {"video": {"status": "completed", "b64": base64.b64encode(CLIP).decode()}},
        },
        {
            "match": {"userMessage": "[sora] slowly", "endpoint": "video"},
            "response": {"video": {"status": "completed", "pollsBeforeInProgress": 1, "pollsBeforeCompleted": 3}},
        },
        {
            "match": {"userMessage": "[sora] made here", "endpoint": "video"},
            "response": {"video": {"status": "completed", "thumbnail": TINY_PNG}},
        },
        {
            "match": {"userMessage": "[sora] doomed", "endpoint": "video"},
            "response": {
                "video": {
                    "status": "failed",
                    "pollsBeforeCompleted": 1,
                    "error": {"code": "moderation_blocked", "message": "The prompt was blocked."},
                }
            },
        },
        {
            "match": {"userMessage": "[sora] forever", "endpoint": "video"},
            "response": {"video": {"status": "processing"}},
        },
        {
            "match": {"userMessage": "[sora] busy", "endpoint": "video"},
            "response": {"error": {"message": "Too many video jobs.", "type": "rate_limit_exceeded"}, "status": 429},
        },
        {
            "match": {"userMessage": "[sora] a chat fixture"},
            "response": {"content": "not a video"},
        },
    ]
}


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "videos.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


def test_create_is_multipart_and_the_content_is_the_fixtures_bytes(server: Any, sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(
        prompt="[sora] a fox",
        model="sora-2-pro",
        seconds="8",
        size="1280x720",
        input_reference=("ref.png", io.BytesIO(base64.b64decode(TINY_PNG)), "image/png"),
    )
    assert isinstance(v, Video)
    assert v.id.startswith("video_") and v.object == "video"
    assert (v.model, v.status, v.progress, v.size, v.seconds) == ("sora-2-pro", "completed", 100, "1280x720", "8")
    assert v.prompt == "[sora] a fox" and v.error is None and v.remixed_from_video_id is None
    assert v.completed_at is not None and v.expires_at is not None and v.expires_at > v.completed_at
    assert sdk.videos.retrieve(v.id) == v
    assert sdk.videos.download_content(v.id).content == CLIP
    # Matched and journaled like any request, the prompt as its user message.
    entry = [e for e in server.journal() if e["path"] == "/v1/videos"][-1]
    assert entry["response"]["status"] == 200
    assert "[sora] a fox" in json.dumps(entry["body"])


def test_a_json_body_is_taken_too(sdk: openai.OpenAI) -> None:
    v = sdk.post("/videos", body={"prompt": "[sora] a fox", "seconds": 4}, cast_to=Video)
    assert (v.model, v.seconds, v.size, v.status) == ("sora-2", "4", "720x1280", "completed")


def test_retrieve_walks_the_fixtures_progression(sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(prompt="[sora] slowly")
    assert (v.status, v.progress, v.completed_at) == ("queued", 0, None)
    seen = []
    for _ in range(4):
        r = sdk.videos.with_raw_response.retrieve(v.id)
        got = r.parse()
        seen.append((got.status, got.progress))
        if got.status != "completed":
            assert r.headers["openai-poll-after-ms"] == "20"
    assert seen == [("in_progress", 33), ("in_progress", 66), ("completed", 100), ("completed", 100)]


def test_create_and_poll_polls_until_done(sdk: openai.OpenAI) -> None:
    v = sdk.videos.create_and_poll(prompt="[sora] slowly", size="720x1280")
    assert (v.status, v.progress) == ("completed", 100)
    assert v.completed_at is not None
    # Three retrieves took it there: a fourth changes nothing.
    assert sdk.videos.retrieve(v.id).status == "completed"


def test_without_bytes_the_content_is_a_placeholder_mp4_of_the_videos_length(sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(prompt="[sora] made here", seconds="12", size="1792x1024")
    data = sdk.videos.download_content(v.id).content
    m = mp4_summary(data)
    assert m["boxes"] == ["ftyp", "moov", "mdat"]
    assert (m["seconds"], m["handler"], m["codec"]) == (12.0, "vide", "raw ")
    w, h = m["size"]  # type: ignore[misc]
    assert w > h and m["frame_in_mdat"]
    assert data == sdk.videos.download_content(v.id, variant="video").content
    # The previews: the fixture's thumbnail, a placeholder spritesheet.
    assert sdk.videos.download_content(v.id, variant="thumbnail").content == base64.b64decode(TINY_PNG)
    sprite = sdk.videos.download_content(v.id, variant="spritesheet").content
    assert png_size(sprite)[0] > png_size(sprite)[1]


def test_list_is_newest_first_in_cursor_pages(sdk: openai.OpenAI) -> None:
    ids = [sdk.videos.create(prompt="[sora] a fox").id for _ in range(3)]
    page = sdk.videos.list(limit=2)
    assert [v.id for v in page.data] == [ids[2], ids[1]]
    assert page.has_more is True
    nxt = page.get_next_page()
    assert [v.id for v in nxt.data] == [ids[0]]
    assert [v.id for v in sdk.videos.list(limit=1)] == list(reversed(ids))
    assert [v.id for v in sdk.videos.list(order="asc")] == ids


def test_delete_forgets_the_video(sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(prompt="[sora] a fox")
    d = sdk.videos.delete(v.id)
    assert (d.id, d.deleted, d.object) == (v.id, True, "video.deleted")
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(v.id)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.delete(v.id)


def test_remix_makes_a_new_video_from_a_completed_one(sdk: openai.OpenAI) -> None:
    src = sdk.videos.create(prompt="[sora] a fox", size="1024x1792", seconds="8")
    r = sdk.videos.remix(src.id, prompt="[sora] made here, at night")
    assert r.id != src.id and r.remixed_from_video_id == src.id
    assert (r.size, r.seconds, r.prompt, r.status) == ("1024x1792", "8", "[sora] made here, at night", "completed")
    assert mp4_summary(sdk.videos.download_content(r.id).content)["seconds"] == 8.0
    waiting = sdk.videos.create(prompt="[sora] forever")
    with pytest.raises(openai.BadRequestError):
        sdk.videos.remix(waiting.id, prompt="[sora] a fox")
    with pytest.raises(openai.NotFoundError):
        sdk.videos.remix("video_nope", prompt="[sora] a fox")


def test_a_failed_video_carries_the_fixtures_error(sdk: openai.OpenAI) -> None:
    v = sdk.videos.create_and_poll(prompt="[sora] doomed")
    assert v.status == "failed" and v.error is not None
    assert (v.error.code, v.error.message) == ("moderation_blocked", "The prompt was blocked.")
    assert v.expires_at is None
    with pytest.raises(openai.BadRequestError):
        sdk.videos.download_content(v.id)


def test_a_waiting_status_with_no_thresholds_stays(sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(prompt="[sora] forever")
    assert v.status == "in_progress"
    for _ in range(3):
        assert sdk.videos.retrieve(v.id).status == "in_progress"
    with pytest.raises(openai.BadRequestError):
        sdk.videos.download_content(v.id)


def test_errors_are_typed(server: Any, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve("video_unknown")
    with pytest.raises(openai.NotFoundError):
        sdk.videos.download_content("video_unknown")
    with pytest.raises(openai.RateLimitError) as e:
        sdk.videos.create(prompt="[sora] busy")
    assert "Too many video jobs." in str(e.value)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.create(prompt="[sora] nothing matches this")
    # A chat fixture never answers a video request.
    with pytest.raises(openai.NotFoundError):
        sdk.videos.create(prompt="[sora] a chat fixture")
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.videos.create(prompt="[sora] a fox", size="640x480")  # type: ignore[arg-type]
    assert bad.value.body["param"] == "size"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        sdk.videos.create(prompt="")
    v = sdk.videos.create(prompt="[sora] a fox")
    with pytest.raises(openai.BadRequestError):
        sdk.videos.download_content(v.id, variant="poster")  # type: ignore[arg-type]
    assert server.request("GET", "/__aimock/health").status == 200


def test_reset_forgets_every_video(server: Any, sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(prompt="[sora] a fox")
    server.reset()
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(v.id)


def test_a_miss_in_strict_mode_is_a_503(tmp_path: Path, start_aimock: Callable[..., Any], make_client: Callable[..., openai.OpenAI]) -> None:
    f = tmp_path / "videos.json"
    f.write_text(json.dumps(FIXTURES))
    strict = make_client(start_aimock([f], args=["--strict"]).url)
    with pytest.raises(openai.InternalServerError) as e:
        strict.videos.create(prompt="[sora] nothing matches this")
    assert e.value.status_code == 503
    assert strict.videos.create(prompt="[sora] a fox").status == "completed"


def test_polls_are_journaled_and_get_chaos(server: Any, sdk: openai.OpenAI) -> None:
    v = sdk.videos.create(prompt="[sora] slowly")
    server.reset_journal()
    sdk.videos.retrieve(v.id)
    [entry] = server.journal()
    assert (entry["method"], entry["path"], entry["service"], entry["response"]["status"]) == ("GET", f"/v1/videos/{v.id}", "videos", 200)
    # Chaos answers before the poll counts: the next retrieve is still the first step.
    with pytest.raises(openai.InternalServerError):
        sdk.with_options(max_retries=0).videos.retrieve(v.id, extra_headers={"x-aimock-chaos-drop": "1"})
    assert sdk.videos.retrieve(v.id).progress == 66
