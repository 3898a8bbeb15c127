"""Helpers for the aimock-rs plugin suite. The fixtures under test (`aimock`, `aimock_session`)
come from the installed wheel's pytest11 entry point, not from here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

# Never send loopback traffic through a proxy, whatever the environment says.
for _var in ("NO_PROXY", "no_proxy"):
    _current = os.environ.get(_var, "")
    os.environ[_var] = ",".join(p for p in (_current, "127.0.0.1", "localhost") if p)

API_KEY = "sk-test"
TIMEOUT_S = 20.0


def openai_client(server: Any, **opts: Any) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{server.url}/v1",
        api_key=opts.pop("api_key", API_KEY),
        max_retries=0,
        timeout=opts.pop("timeout", TIMEOUT_S),
        _strict_response_validation=opts.pop("_strict_response_validation", True),
        **opts,
    )


def anthropic_client(server: Any, **opts: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.url,
        api_key=opts.pop("api_key", API_KEY),
        max_retries=0,
        timeout=opts.pop("timeout", TIMEOUT_S),
        _strict_response_validation=opts.pop("_strict_response_validation", True),
        **opts,
    )


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def oai(aimock: Any) -> Iterator[openai.OpenAI]:
    c = openai_client(aimock)
    yield c
    c.close()


@pytest.fixture
def claude(aimock: Any) -> Iterator[anthropic.Anthropic]:
    c = anthropic_client(aimock)
    yield c
    c.close()
