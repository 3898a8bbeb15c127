"""Every surface on one port: one `aimock --config` serves an LLM fixture set, an MCP server, an
A2A agent, an AG-UI agent and OpenAI moderations together, each reached by its official client
at the same 127.0.0.1 port (interop/fixtures/one_port/aimock.json). The journal names the
service of every request, and one reset clears them all.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest
from ag_ui.core import Event, RunAgentInput, UserMessage
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from pydantic import TypeAdapter

from conftest import FIXTURES_DIR, AimockServer, new_client, start_server, stop_server

CONFIG = FIXTURES_DIR / "one_port" / "aimock.json"


@pytest.fixture(scope="module")
def server() -> Iterator[AimockServer]:
    s = start_server([], ["--config", str(CONFIG)])
    try:
        yield s
    finally:
        stop_server(s)


def services(server: AimockServer) -> list[str | None]:
    return [e.get("service") for e in server.journal()]


def test_every_surface_answers_on_the_same_port(server: AimockServer) -> None:
    server.reset_journal()

    # LLM: the OpenAI SDK at /v1.
    client = new_client(server.url)
    chat = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "what is the capital of France"}]
    )
    assert chat.choices[0].message.content == "Paris is the capital of France."

    # Moderation, through the same OpenAI client.
    mod = client.moderations.create(input="a kind word")
    assert mod.results[0].flagged is False

    # MCP: the official client at /mcp.
    async def mcp_call() -> tuple[str, str]:
        async with streamable_http_client(server.url + "/mcp") as (read, write):
            async with ClientSession(read, write) as s:
                init = await s.initialize()
                result = await s.call_tool("lookup", {"city": "Paris"})
                return init.server_info.name, result.content[0].text

    name, text = asyncio.run(mcp_call())
    assert name == "one-port-mcp"
    assert text == "Paris: 2.1 million people"

    # A2A: the official client finds the card under /a2a and sends a message.
    async def a2a_send() -> list[str]:
        a2a = await create_client(server.url + "/a2a", client_config=ClientConfig(streaming=False))
        try:
            msg = Message(message_id="m-1", role=Role.ROLE_USER, parts=[Part(text="plan my day")])
            out = []
            async for ev in a2a.send_message(SendMessageRequest(message=msg)):
                out.extend(p.text for p in ev.message.parts)
            return out
        finally:
            await a2a.close()

    assert asyncio.run(a2a_send()) == ["A day in Paris: Louvre, then lunch."]

    # AG-UI: a RunAgentInput POSTed to /agui, every event valid for the official models.
    run_input = RunAgentInput(
        thread_id="t-1",
        run_id="r-1",
        state={},
        messages=[UserMessage(id="u-1", role="user", content="hello")],
        tools=[],
        context=[],
        forwarded_props={},
    )
    adapter: TypeAdapter[Any] = TypeAdapter(Event)
    events = []
    with httpx.Client(timeout=10) as h:
        with h.stream(
            "POST",
            server.url + "/agui",
            content=run_input.model_dump_json(by_alias=True),
            headers={"content-type": "application/json", "accept": "text/event-stream"},
        ) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data: "):
                    events.append(adapter.validate_python(json.loads(line[6:])))
    kinds = [e.type.value if hasattr(e.type, "value") else e.type for e in events]
    assert kinds == ["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]
    assert "".join(e.delta for e in events if getattr(e, "delta", None)) == "Hello from the one-port agent"

    seen = set(services(server))
    assert {None, "moderation", "mcp", "a2a", "agui"} <= seen, seen

    # One reset clears the journal of every surface, and the LLM fixtures with it (aimock's
    # reset), while the configured MCP tools stay.
    server.reset()
    assert services(server) == []
    assert asyncio.run(mcp_call())[1] == "Paris: 2.1 million people"
