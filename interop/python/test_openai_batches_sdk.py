"""The Batches API through the official openai SDK: a batch's input file is answered line by
line by the fixture engine, as each line's endpoint would answer it; the output and error files
are read back through `files.content`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import openai
import pytest

FIXTURES = {
    "fixtures": [
        {"match": {"userMessage": "[batch] capital of France"}, "response": {"content": "Paris."}},
        {"match": {"userMessage": "[batch] capital of Norway"}, "response": {"content": "Oslo."}},
        {
            "match": {"userMessage": "[batch] broken"},
            "response": {"error": {"message": "Slow down.", "type": "rate_limit_exceeded"}, "status": 429},
        },
    ]
}


def line(custom_id: str, text: str) -> str:
    return json.dumps(
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
        }
    )


@pytest.fixture
def server(tmp_path: Path, start_aimock: Callable[..., Any]) -> Any:
    f = tmp_path / "batch.json"
    f.write_text(json.dumps(FIXTURES))
    return start_aimock([f])


def upload(sdk: openai.OpenAI, lines: list[str]) -> str:
    data = ("\n".join(lines) + "\n").encode()
    return sdk.files.create(file=("input.jsonl", io.BytesIO(data)), purpose="batch").id


def read_jsonl(sdk: openai.OpenAI, file_id: str) -> dict[str, Any]:
    rows = [json.loads(l) for l in sdk.files.content(file_id).content.decode().splitlines()]
    return {r["custom_id"]: r for r in rows}


def test_a_batch_runs_every_line_through_the_fixtures(server: Any, sdk: openai.OpenAI) -> None:
    file_id = upload(
        sdk,
        [
            line("fr", "[batch] capital of France"),
            line("no", "[batch] capital of Norway"),
            line("miss", "[batch] nothing answers this"),
            line("err", "[batch] broken"),
            "this line is not json",
        ],
    )
    batch = sdk.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"job": "capitals"}
    )
    assert batch.status == "validating" and batch.metadata == {"job": "capitals"}
    running = sdk.batches.retrieve(batch.id)
    assert running.status == "in_progress"
    assert running.request_counts is not None and running.request_counts.total == 5
    done = sdk.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 3)
    assert done.output_file_id and done.error_file_id
    out = read_jsonl(sdk, done.output_file_id)
    assert set(out) == {"fr", "no"}
    assert out["fr"]["response"]["status_code"] == 200
    assert out["fr"]["response"]["body"]["choices"][0]["message"]["content"] == "Paris."
    assert out["no"]["response"]["body"]["choices"][0]["message"]["content"] == "Oslo."
    errors = read_jsonl(sdk, done.error_file_id)
    assert errors["miss"]["response"]["status_code"] == 404
    assert errors["err"]["response"]["status_code"] == 429
    assert errors["err"]["response"]["body"]["error"]["message"] == "Slow down."
    assert errors["request-5"]["error"]["code"] == "invalid_json_line"
    # Each line was a request of its own, in the journal.
    paths = [e["path"] for e in server.journal()]
    assert paths.count("/v1/chat/completions") == 4
    # Finished: it stays as it is, and cannot be cancelled.
    assert sdk.batches.retrieve(batch.id).status == "completed"
    with pytest.raises(openai.BadRequestError):
        sdk.batches.cancel(batch.id)
    assert [b.id for b in sdk.batches.list().data] == [batch.id]


def test_cancel_and_the_chosen_outcomes(sdk: openai.OpenAI) -> None:
    file_id = upload(sdk, [line("fr", "[batch] capital of France")])
    live = sdk.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    assert sdk.batches.cancel(live.id).status == "cancelling"
    assert sdk.batches.retrieve(live.id).status == "cancelled"
    failing = sdk.batches.create(
        input_file_id=file_id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_headers={"X-AIMock-Batch-Outcome": "failed"},
    )
    sdk.batches.retrieve(failing.id)
    failed = sdk.batches.retrieve(failing.id)
    assert failed.status == "failed"
    assert failed.errors is not None and failed.errors.data and failed.errors.data[0].code == "mock_failure"
    assert failed.error_file_id
    assert read_jsonl(sdk, failed.error_file_id)["fr"]["error"]["code"] == "mock_failure"


def test_bad_batches_get_the_apis_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk.batches.retrieve("batch_nope")
    with pytest.raises(openai.BadRequestError) as e:
        sdk.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")
    assert e.value.param == "input_file_id"
    file_id = upload(sdk, [line("fr", "[batch] capital of France")])
    with pytest.raises(openai.BadRequestError) as e:
        sdk.batches.create(input_file_id=file_id, endpoint="/v1/videos", completion_window="24h")  # type: ignore[arg-type]
    assert e.value.param == "endpoint"
