"""sequenceIndex fixtures are counted per X-Test-Id."""

from __future__ import annotations

import uuid

import openai

MODEL = "gpt-4o-mini"


def ask(client: openai.OpenAI, test_id: str) -> str | None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "[seq] next please"}],
        extra_headers={"X-Test-Id": test_id},
    )
    return completion.choices[0].message.content


def test_each_test_id_sees_the_sequence_from_the_start(client: openai.OpenAI) -> None:
    # Fresh ids on every run: the shared server keeps counters across tests.
    alice = f"seq-alice-{uuid.uuid4()}"
    bob = f"seq-bob-{uuid.uuid4()}"

    assert ask(client, alice) == "first answer"
    assert ask(client, alice) == "second answer"
    assert ask(client, bob) == "first answer"
    assert ask(client, alice) == "sequence exhausted"
    assert ask(client, bob) == "second answer"
    assert ask(client, bob) == "sequence exhausted"


def test_sequence_counters_are_kept_when_only_the_journal_is_reset(aimock, client: openai.OpenAI) -> None:  # type: ignore[no-untyped-def]
    carol = f"seq-carol-{uuid.uuid4()}"

    assert ask(client, carol) == "first answer"
    aimock.reset_journal()
    assert aimock.journal() == []
    assert ask(client, carol) == "second answer"
