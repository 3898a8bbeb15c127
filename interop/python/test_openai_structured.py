"""Structured output: `chat.completions.parse` with a pydantic model and raw json_schema / json_object formats."""

from __future__ import annotations

import json
from typing import List

import openai
from pydantic import BaseModel

MODEL = "gpt-4o-2024-08-06"
ADA = {"name": "Ada Lovelace", "born": 1815, "fields": ["mathematics", "computing"]}


class Person(BaseModel):
    name: str
    born: int
    fields: List[str]


PERSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "born": {"type": "integer"},
                "fields": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["name", "born", "fields"],
            "additionalProperties": False,
        },
    },
}


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_parse_with_a_pydantic_model_returns_the_parsed_object(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL, messages=user("[structured] Who wrote the first program?"), response_format=Person
    )

    message = completion.choices[0].message
    assert message.refusal is None
    assert isinstance(message.parsed, Person)
    assert message.parsed == Person(**ADA)
    assert json.loads(message.content or "") == ADA


def test_json_schema_response_format_returns_the_fixture_object_as_json_text(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=user("[structured] Who wrote the first program?"), response_format=PERSON_SCHEMA
    )

    assert json.loads(completion.choices[0].message.content or "") == ADA
    assert completion.choices[0].finish_reason == "stop"


def test_without_response_format_the_json_schema_fixture_is_not_chosen(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=user("[structured] Who wrote the first program?"))

    assert completion.choices[0].message.content == "plain text because no response_format was sent"


def test_json_object_response_format_matches_its_own_fixture(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=user("[json-object] give me json"), response_format={"type": "json_object"}
    )

    assert json.loads(completion.choices[0].message.content or "") == {"ok": True, "items": [1, 2, 3]}


def test_streamed_parse_helper_yields_the_parsed_object_at_the_end(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=user("[structured] Who wrote the first program?"), response_format=Person
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()

    assert final.choices[0].message.parsed == Person(**ADA)
