"""Fine-tuning jobs through the official openai SDK: a deterministic life (one step per
retrieve), its events, its checkpoints, its result file, cancel, and the API's errors."""

from __future__ import annotations

import io

import openai
import pytest


def training_file(sdk: openai.OpenAI) -> str:
    data = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    return sdk.files.create(file=("train.jsonl", io.BytesIO(data)), purpose="fine-tune").id


def test_a_job_runs_its_course_with_events_checkpoints_and_results(sdk: openai.OpenAI) -> None:
    job = sdk.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=training_file(sdk),
        suffix="capitals",
        seed=42,
        hyperparameters={"n_epochs": 2},
        metadata={"team": "geo"},
    )
    assert job.id.startswith("ftjob-") and job.status == "validating_files"
    assert job.seed == 42 and job.hyperparameters.n_epochs == 2
    statuses = [sdk.fine_tuning.jobs.retrieve(job.id).status for _ in range(4)]
    assert statuses == ["queued", "running", "succeeded", "succeeded"]
    done = sdk.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model and done.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:aimock:capitals:")
    assert done.finished_at is not None and done.trained_tokens
    # Events, newest first.
    events = [e.message for e in sdk.fine_tuning.jobs.list_events(job.id).data]
    assert events[0].startswith("Training complete")
    assert events[-1] == "Job created, validating training file"
    assert len(events) == 4
    assert [e.message for e in sdk.fine_tuning.jobs.list_events(job.id, limit=1).data] == events[:1]
    # A checkpoint per epoch, newest first; the last is the model itself.
    points = sdk.fine_tuning.jobs.checkpoints.list(job.id).data
    assert len(points) == 2
    assert points[0].fine_tuned_model_checkpoint == done.fine_tuned_model
    assert points[0].step_number > points[1].step_number
    assert points[0].metrics.train_loss is not None and points[0].metrics.train_loss < points[1].metrics.train_loss  # type: ignore[operator]
    # The result file is a real file.
    csv = sdk.files.content(done.result_files[0]).content.decode()
    assert csv.splitlines()[0] == "step,train_loss,train_accuracy"
    assert len(csv.splitlines()) == 1 + points[0].step_number
    # The same seed gives the same course.
    again = sdk.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18", training_file=done.training_file, seed=42, hyperparameters={"n_epochs": 2}
    )
    for _ in range(3):
        sdk.fine_tuning.jobs.retrieve(again.id)
    assert [p.step_number for p in sdk.fine_tuning.jobs.checkpoints.list(again.id).data] == [p.step_number for p in points]
    assert {j.id for j in sdk.fine_tuning.jobs.list().data} == {job.id, again.id}
    with pytest.raises(openai.BadRequestError):
        sdk.fine_tuning.jobs.cancel(job.id)


def test_cancel_and_the_errors(sdk: openai.OpenAI) -> None:
    job = sdk.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=training_file(sdk))
    sdk.fine_tuning.jobs.retrieve(job.id)
    assert sdk.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    assert sdk.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    assert sdk.fine_tuning.jobs.list_events(job.id).data[0].message == "Job cancelled"
    with pytest.raises(openai.NotFoundError):
        sdk.fine_tuning.jobs.retrieve("ftjob-nope")
    with pytest.raises(openai.BadRequestError) as e:
        sdk.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file="file-nope")
    assert e.value.param == "training_file"
    with pytest.raises(openai.BadRequestError) as e:
        sdk.fine_tuning.jobs.create(
            model="gpt-4o-mini-2024-07-18", training_file=training_file(sdk), hyperparameters={"n_epochs": -1}
        )
    assert e.value.param == "hyperparameters.n_epochs"
