"""An ``a2a`` section with no agents, through the official Python SDK (a2a-sdk).

aimock builds its agent card from the first registered agent, or from defaults when there is
none (``a2a-mock``, "A2A mock agent", 1.0.0). The server here (interop/fixtures/a2a/no-agents.json)
has an ``a2a`` section and no agent: the SDK must still resolve a card at ``/a2a`` and at the
root, connect, and get the protocol's "no matching pattern" error for a message; an agent added
at run time then takes the card's place and answers. Every address used is 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, create_client
from a2a.client.errors import A2AClientError
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest

from conftest import FIXTURES_DIR, AimockServer, start_server, stop_server

CONFIG = FIXTURES_DIR / "a2a" / "no-agents.json"


@pytest.fixture(scope="module")
def server() -> Iterator[AimockServer]:
    s = start_server(fixtures=(), args=["--config", str(CONFIG)])
    try:
        yield s
    finally:
        stop_server(s)


@pytest.fixture(autouse=True)
def _fresh(server: AimockServer) -> None:
    server.request("POST", "/__aimock/reset")


def msg(text: str) -> SendMessageRequest:
    return SendMessageRequest(message=Message(message_id=f"m-{abs(hash(text))}", role=Role.ROLE_USER, parts=[Part(text=text)]))


def test_the_default_card_is_served_and_the_sdk_connects(server: AimockServer) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as http:
            for base in (server.url + "/a2a", server.url):
                card = await A2ACardResolver(http, base).get_agent_card()
                assert card.name == "a2a-mock"
                assert card.description == "A2A mock agent"
                assert card.version == "1.0.0"
                assert card.capabilities.streaming
                assert card.supported_interfaces[0].url == server.url + "/a2a"
        client = await create_client(server.url + "/a2a", client_config=ClientConfig(streaming=False))
        try:
            assert client._card.name == "a2a-mock"
            with pytest.raises(A2AClientError, match="No matching pattern"):
                [ev async for ev in client.send_message(msg("hello"))]
        finally:
            await client.close()

    asyncio.run(go())


def test_an_agent_added_at_run_time_replaces_the_default(server: AimockServer) -> None:
    added = server.request(
        "POST",
        "/__aimock/a2a/agents",
        {"name": "late", "description": "Added later", "messages": [{"pattern": "hello", "parts": [{"text": "Hi, late here"}]}]},
    )
    assert added.status == 200, added

    async def go() -> None:
        client = await create_client(server.url + "/a2a", client_config=ClientConfig(streaming=False))
        try:
            assert client._card.name == "late"
            events: list[Any] = [ev async for ev in client.send_message(msg("hello"))]
            assert [p.text for p in events[0].message.parts] == ["Hi, late here"]
        finally:
            await client.close()

    asyncio.run(go())
    # reset brings the default back.
    server.request("POST", "/__aimock/reset")
    health = server.request("GET", "/health").json()
    assert health["services"]["a2a"] == {"status": "ok", "agents": 0, "tasks": 0}
