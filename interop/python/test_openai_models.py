"""GET /v1/models through the SDK's paginated list."""

from __future__ import annotations

import openai
from openai.types import Model


def test_models_list_returns_the_models_named_by_fixtures(client: openai.OpenAI) -> None:
    page = client.models.list()
    models = list(page)

    assert models, "the model list is never empty"
    assert all(isinstance(m, Model) for m in models)
    assert all(m.object == "model" and m.owned_by and isinstance(m.created, int) for m in models)
    ids = [m.id for m in models]
    assert "gpt-4o" in ids, "string match.model values of loaded fixtures are listed"
    assert len(ids) == len(set(ids)), "no duplicate ids"
