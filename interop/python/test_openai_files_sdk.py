"""The Files API through the official openai SDK: upload, list, retrieve, content byte for byte,
delete, and the API's errors."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

EVERY_BYTE = bytes(range(256)) * 64


def test_upload_list_retrieve_content_and_delete(sdk: openai.OpenAI) -> None:
    lines = b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n'
    batch = sdk.files.create(file=("requests.jsonl", io.BytesIO(lines)), purpose="batch")
    blob = sdk.files.create(file=("blob.bin", io.BytesIO(EVERY_BYTE)), purpose="user_data")
    assert batch.id.startswith("file-") and batch.id != blob.id
    assert (batch.object, batch.filename, batch.purpose, batch.bytes, batch.status) == (
        "file",
        "requests.jsonl",
        "batch",
        len(lines),
        "processed",
    )
    # Byte for byte, binary included.
    assert sdk.files.content(blob.id).content == EVERY_BYTE
    assert sdk.files.content(batch.id).content == lines
    assert sdk.files.retrieve(blob.id).model_dump() == blob.model_dump()
    # Newest first; filtered by purpose; paged.
    assert [f.id for f in sdk.files.list().data] == [blob.id, batch.id]
    assert [f.id for f in sdk.files.list(purpose="batch").data] == [batch.id]
    first = sdk.files.list(limit=1, order="asc")
    assert [f.id for f in first.data] == [batch.id] and first.has_more is True
    deleted = sdk.files.delete(batch.id)
    assert deleted.deleted is True and deleted.id == batch.id
    with pytest.raises(openai.NotFoundError) as e:
        sdk.files.retrieve(batch.id)
    assert batch.id in e.value.message
    with pytest.raises(openai.NotFoundError):
        sdk.files.content(batch.id)
    assert [f.id for f in sdk.files.list().data] == [blob.id]


def test_bad_uploads_get_the_apis_errors(server: Any, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        sdk.files.create(file=("x.txt", io.BytesIO(b"x")), purpose="bogus")  # type: ignore[arg-type]
    assert e.value.param == "purpose"
    with pytest.raises(openai.NotFoundError):
        sdk.files.delete("file-nope")
    # A multipart body without its file (the SDK always sends one, so by hand).
    boundary = "aimockboundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        server.url + "/v1/files",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10)
    assert raw.value.code == 400
    assert json.loads(raw.value.read())["error"]["param"] == "file"
    # Not multipart at all.
    with pytest.raises(openai.BadRequestError):
        sdk.post("/files", body={"purpose": "batch"}, cast_to=dict)


def test_a_reset_forgets_the_files(server: Any, sdk: openai.OpenAI) -> None:
    f = sdk.files.create(file=("a.txt", io.BytesIO(b"a")), purpose="assistants")
    assert server.request("POST", "/__aimock/reset").status == 200
    with pytest.raises(openai.NotFoundError):
        sdk.files.retrieve(f.id)


def test_the_stateful_apis_are_journaled_and_get_chaos(server: Any, sdk: openai.OpenAI) -> None:
    server.reset_journal()
    f = sdk.files.create(file=("a.txt", io.BytesIO(b"abc")), purpose="user_data")
    sdk.files.retrieve(f.id)
    with pytest.raises(openai.NotFoundError):
        sdk.batches.retrieve("batch_nope")
    entries = server.journal()
    assert [(e["method"], e["path"], e["service"], e["response"]["status"]) for e in entries] == [
        ("POST", "/v1/files", "files", 200),
        ("GET", f"/v1/files/{f.id}", "files", 200),
        ("GET", "/v1/batches/batch_nope", "batches", 404),
    ]
    # Chaos answers before the API keeps anything: a dropped upload stores no file.
    with pytest.raises(openai.InternalServerError):
        sdk.with_options(max_retries=0).files.create(
            file=("b.txt", io.BytesIO(b"b")),
            purpose="user_data",
            extra_headers={"x-aimock-chaos-drop": "1"},
        )
    assert [x.id for x in sdk.files.list().data] == [f.id]
    last = server.journal()[-2]
    assert (last["service"], last["response"]["status"], last["response"]["chaosAction"]) == (
        "files",
        500,
        "drop",
    )


def test_an_upload_over_the_body_limit_is_refused_and_the_server_stays_up(sdk: openai.OpenAI) -> None:
    big = b"x" * (10 * 1024 * 1024 + 1)
    with pytest.raises(openai.APIStatusError) as e:
        sdk.with_options(max_retries=0).files.create(file=("big.jsonl", io.BytesIO(big)), purpose="batch")
    assert e.value.status_code == 413
    body = e.value.body
    assert isinstance(body, dict) and "10485760" in json.dumps(body), body
    assert sdk.files.list().data == []
    small = sdk.files.create(file=("s.txt", io.BytesIO(b"ok")), purpose="user_data")
    assert sdk.files.content(small.id).content == b"ok"
