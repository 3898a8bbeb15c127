"""The MCP server through the official ``mcp`` 2.3.0 Python client (Streamable HTTP).

Every method a client uses goes through ``ClientSession`` over ``streamable_http_client``:
initialize, ping, tools (pagination, replies by arguments, sequences, every content type,
structured output, ``isError``, JSON-RPC errors), resources (read, templates, subscribe ->
``notifications/resources/updated``), prompts, completion, logging (``setLevel`` and
``notifications/message``), progress during a tool call, and the ``list_changed``
notifications the GET stream carries after a run-time change through the control API.
The high-level ``mcp.Client`` (``mode="auto"``) probes ``server/discover`` first and falls back
to the ``initialize`` handshake.

The server is started with ``--config interop/fixtures/mcp/aimock.json``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Iterator

import anyio
import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from conftest import FIXTURES_DIR, AimockServer, start_server, stop_server

CONFIG = FIXTURES_DIR / "mcp" / "aimock.json"

# The 2025-era methods (setLevel, subscribe) are deprecated by the 2026 revision but are what a
# handshake session uses.
pytestmark = pytest.mark.filterwarnings("ignore:.*(deprecated|removed) as of 2026-07-28")
WAIT_S = 10


@pytest.fixture(scope="module")
def server() -> Iterator[AimockServer]:
    s = start_server([], ["--config", str(CONFIG)])
    try:
        yield s
    finally:
        stop_server(s)


@pytest.fixture(autouse=True)
def _fresh(server: AimockServer) -> None:
    server.reset()


def control(server: AimockServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        server.url + "/__aimock/mcp" + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=WAIT_S) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Inbox:
    """Notifications the session's message_handler and logging_callback received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logs: list[types.LoggingMessageNotificationParams] = []
        self._event = anyio.Event()

    async def handler(self, message: Any) -> None:
        self.messages.append(message)
        self._event.set()
        self._event = anyio.Event()

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def wait_for(self, kind: type) -> Any:
        with anyio.fail_after(WAIT_S):
            while True:
                for m in self.messages:
                    if isinstance(m, kind):
                        self.messages.remove(m)
                        return m
                await self._event.wait()


@asynccontextmanager
async def session(url: str, inbox: Inbox | None = None) -> AsyncIterator[ClientSession]:
    inbox = inbox or Inbox()
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write, message_handler=inbox.handler, logging_callback=inbox.on_log) as s:
            await s.initialize()
            yield s


def run(fn: Callable[[], Awaitable[None]]) -> None:
    anyio.run(fn)


def test_initialize_and_ping(server: AimockServer) -> None:
    async def main() -> None:
        async with streamable_http_client(server.url + "/mcp") as (read, write):
            async with ClientSession(read, write) as s:
                r = await s.initialize()
                assert r.protocol_version == "2025-11-25"
                assert r.server_info.name == "aimock-mcp-interop"
                assert r.server_info.version == "2.0.0"
                assert r.instructions == "A mock MCP server for the SDK interop tests."
                caps = r.capabilities
                assert caps.tools is not None and caps.tools.list_changed
                assert caps.resources is not None and caps.resources.subscribe and caps.resources.list_changed
                assert caps.prompts is not None and caps.prompts.list_changed
                assert caps.logging is not None and caps.completions is not None
                await s.send_ping()

    run(main)
    entries = [e for e in server.journal() if e.get("service") == "mcp"]
    methods = [(e.get("body") or {}).get("method") for e in entries if e["method"] == "POST"]
    assert methods[:3] == ["initialize", "notifications/initialized", "ping"]
    # The client opened the GET stream after initialization and ended the session with DELETE.
    assert any(e["method"] == "GET" for e in entries)
    assert any(e["method"] == "DELETE" and e["response"]["status"] == 200 for e in entries)


def test_tools_paginated_and_called(server: AimockServer) -> None:
    async def main() -> None:
        async with session(server.url + "/mcp") as s:
            names: list[str] = []
            cursor = None
            pages = 0
            while True:
                page = await s.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
                pages += 1
                assert len(page.tools) <= 2
                names += [t.name for t in page.tools]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert pages == 3
            assert names == ["echo", "weather", "forecast", "counter", "media", "slow"]

            r = await s.call_tool("echo", {})
            assert [c.text for c in r.content] == ["hello"] and not r.is_error
            assert (await s.call_tool("weather", {"city": "Paris"})).content[0].text == "sunny"
            assert (await s.call_tool("weather", {"city": "Rome"})).content[0].text == "cloudy"
            failed = await s.call_tool("weather", {"city": "London"})
            assert failed.is_error and failed.content[0].text == "rain, and the tool failed"
            with pytest.raises(MCPError) as err:
                await s.call_tool("weather", {"city": "Nowhere"})
            assert err.value.error.code == -32010 and err.value.error.message == "no such city"
            with pytest.raises(MCPError) as err:
                await s.call_tool("ghost", {})
            assert err.value.error.code == -32602

            seq = [(await s.call_tool("counter", {})).content[0].text for _ in range(4)]
            assert seq == ["one", "two", "three", "three"]

            structured = await s.call_tool("forecast", {})
            assert structured.structured_content == {"temp": 21}

            media = await s.call_tool("media", {})
            kinds = [type(c).__name__ for c in media.content]
            assert kinds == ["TextContent", "ImageContent", "AudioContent", "ResourceLink", "EmbeddedResource"]
            assert media.content[1].mime_type == "image/png"
            assert media.content[3].uri == "file:///readme.md"
            assert media.content[4].resource.text == "inline"

    run(main)


def test_progress_and_logging_during_a_tool_call(server: AimockServer) -> None:
    async def main() -> None:
        inbox = Inbox()
        async with session(server.url + "/mcp", inbox) as s:
            seen: list[tuple[float, float | None, str | None]] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                seen.append((progress, total, message))

            r = await s.call_tool("slow", {}, progress_callback=on_progress)
            assert r.content[0].text == "finished"
            assert seen == [(1, 3, "one third"), (2, 3, "two thirds"), (3, 3, None)]
            assert [(m.level, m.logger, m.data) for m in inbox.logs] == [
                ("debug", "slow", "debug detail"),
                ("warning", "slow", {"note": "careful"}),
            ]
            inbox.logs.clear()
            await s.set_logging_level("warning")
            await s.call_tool("slow", {})
            assert [m.level for m in inbox.logs] == ["warning"]

    run(main)


def test_resources_templates_and_subscription(server: AimockServer) -> None:
    async def main() -> None:
        inbox = Inbox()
        async with session(server.url + "/mcp", inbox) as s:
            listed = await s.list_resources()
            assert [str(r.uri) for r in listed.resources] == ["file:///readme.md", "file:///logo.png"]
            templates = await s.list_resource_templates()
            assert templates.resource_templates[0].uri_template == "file:///logs/{day}"
            readme = await s.read_resource("file:///readme.md")
            assert readme.contents[0].text == "# Hello"
            logo = await s.read_resource("file:///logo.png")
            assert logo.contents[0].blob == "iVBORw0KGgo="
            day = await s.read_resource("file:///logs/friday")
            assert day.contents[0].text == "log for friday"
            with pytest.raises(MCPError):
                await s.read_resource("file:///missing")

            await s.subscribe_resource("file:///readme.md")
            # The GET stream opens asynchronously after initialization: retry the change until
            # the notification arrives.
            got = None
            for text in ("# Changed", "# Changed again", "# Third"):
                status, _ = control(server, "POST", "/resources/update", {"uri": "file:///readme.md", "text": text})
                assert status == 200
                try:
                    with anyio.fail_after(2):
                        got = await inbox.wait_for(types.ResourceUpdatedNotification)
                    break
                except TimeoutError:
                    continue
            assert got is not None and str(got.params.uri) == "file:///readme.md"
            assert (await s.read_resource("file:///readme.md")).contents[0].text.startswith("# ")
            await s.unsubscribe_resource("file:///readme.md")

    run(main)


def test_list_changed_over_the_get_stream(server: AimockServer) -> None:
    async def main() -> None:
        inbox = Inbox()
        async with session(server.url + "/mcp", inbox) as s:
            got = None
            for i in range(3):
                status, _ = control(server, "POST", "/tools", {"name": f"added{i}", "result": f"new {i}"})
                assert status == 200
                try:
                    with anyio.fail_after(2):
                        got = await inbox.wait_for(types.ToolListChangedNotification)
                    break
                except TimeoutError:
                    continue
            assert got is not None
            assert (await s.call_tool("added0", {})).content[0].text == "new 0"

            status, _ = control(server, "DELETE", "/tools/added0")
            assert status == 200
            await inbox.wait_for(types.ToolListChangedNotification)

            control(server, "POST", "/prompts", {"name": "late", "description": "added at run time"})
            await inbox.wait_for(types.PromptListChangedNotification)
            first = await s.list_prompts()
            assert first.next_cursor is not None  # pageSize 2: the third prompt is on page two
            second = await s.list_prompts(params=types.PaginatedRequestParams(cursor=first.next_cursor))
            assert [p.name for p in second.prompts] == ["late"]

            control(server, "POST", "/resources", {"uri": "mem://new", "name": "new", "text": "fresh"})
            await inbox.wait_for(types.ResourceListChangedNotification)
            assert (await s.read_resource("mem://new")).contents[0].text == "fresh"

    run(main)


def test_prompts_and_completion(server: AimockServer) -> None:
    async def main() -> None:
        async with session(server.url + "/mcp") as s:
            prompts = await s.list_prompts()
            assert [p.name for p in prompts.prompts] == ["greet", "plain"]
            assert prompts.prompts[0].arguments[0].name == "who" and prompts.prompts[0].arguments[0].required
            got = await s.get_prompt("greet", {"who": "Ada"})
            assert got.description == "A greeting"
            assert got.messages[0].role == "user" and got.messages[0].content.text == "Say hello to Ada"
            assert (await s.get_prompt("plain")).messages == []
            with pytest.raises(MCPError) as err:
                await s.get_prompt("greet", {})
            assert err.value.error.code == -32602

            c = await s.complete(types.PromptReference(type="ref/prompt", name="greet"), {"name": "who", "value": "al"})
            assert c.completion.values == ["alice", "albert"] and c.completion.total == 2
            c = await s.complete(
                types.ResourceTemplateReference(type="ref/resource", uri="file:///logs/{day}"), {"name": "day", "value": "t"}
            )
            assert c.completion.values == ["tuesday"]

    run(main)


def test_second_mount_and_control_by_path(server: AimockServer) -> None:
    async def main() -> None:
        async with session(server.url + "/mcp2") as s:
            assert [t.name for t in (await s.list_tools()).tools] == ["only-here", "stalls", "interview"]
            status, _ = control(server, "POST", "/tools?path=/mcp2", {"name": "runtime", "result": "rt"})
            assert status == 200
            assert (await s.call_tool("runtime", {})).content[0].text == "rt"
        async with session(server.url + "/mcp") as s:
            with pytest.raises(MCPError):
                await s.call_tool("runtime", {})

    run(main)


def test_server_requests_during_a_tool_call(server: AimockServer) -> None:
    """A tool asks the client (elicitation, sampling, roots) over the call's SSE stream first."""

    async def main() -> None:
        asked: list[str] = []

        async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            asked.append("elicitation")
            assert params.message == "What is your name?"
            return types.ElicitResult(action="accept", content={"name": "Ada"})

        async def on_sample(ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
            asked.append("sampling")
            assert params.max_tokens == 20
            return types.CreateMessageResult(
                role="assistant", content=types.TextContent(type="text", text="hi there"), model="mock-model"
            )

        async def on_roots(ctx: Any) -> types.ListRootsResult:
            asked.append("roots")
            return types.ListRootsResult(roots=[types.Root(uri="file:///workspace")])

        async with streamable_http_client(server.url + "/mcp2") as (read, write):
            async with ClientSession(
                read, write, elicitation_callback=on_elicit, sampling_callback=on_sample, list_roots_callback=on_roots
            ) as s:
                await s.initialize()
                r = await s.call_tool("interview", {})
                assert asked == ["elicitation", "sampling", "roots"]
                assert r.content[0].text == "name=Ada model=mock-model said=hi there root=file:///workspace"

        # 2026-07-28: the same questions arrive as an input_required result; mcp.Client answers
        # them through the same callbacks and calls again.
        from mcp.client.client import Client

        asked.clear()
        async with Client(
            server.url + "/mcp2", elicitation_callback=on_elicit, sampling_callback=on_sample, list_roots_callback=on_roots
        ) as c:
            assert c.protocol_version == "2026-07-28"
            r = await c.call_tool("interview", {})
            assert sorted(asked) == ["elicitation", "roots", "sampling"]
            assert r.content[0].text == "name=Ada model=mock-model said=hi there root=file:///workspace"

    run(main)


def test_a_timed_out_call_is_cancelled(server: AimockServer) -> None:
    """The client gives up on a slow call and sends notifications/cancelled; the server stops it."""

    async def main() -> None:
        async with session(server.url + "/mcp2") as s:
            with pytest.raises(MCPError) as err:
                await s.call_tool("stalls", {}, read_timeout_seconds=0.5)
            assert err.value.error.code == types.REQUEST_TIMEOUT
            await s.send_ping()

    run(main)
    posts = [e["body"] for e in server.journal() if e.get("service") == "mcp" and e["method"] == "POST"]
    call = next(b for b in posts if b.get("method") == "tools/call")
    cancels = [b for b in posts if b.get("method") == "notifications/cancelled"]
    assert cancels and cancels[0]["params"]["requestId"] == call["id"]
    # The cancelled call's POST ended without an answer (202), long before its minute.
    entry = next(e for e in server.journal() if (e.get("body") or {}).get("method") == "tools/call")
    assert entry["response"]["status"] == 202


def test_auto_mode_client_speaks_2026_07_28(server: AimockServer) -> None:
    """`mcp.Client` (mode "auto") probes `server/discover`, adopts 2026-07-28 and stays stateless."""
    from mcp.client.client import Client

    async def main() -> None:
        logs: list[types.LoggingMessageNotificationParams] = []

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            logs.append(params)

        async with Client(server.url + "/mcp", logging_callback=on_log, log_level="warning") as c:
            assert c.protocol_version == "2026-07-28"
            assert c.server_info is not None and c.server_info.name == "aimock-mcp-interop"
            page = await c.list_tools()
            assert [t.name for t in page.tools] == ["echo", "weather"]
            page2 = await c.list_tools(cursor=page.next_cursor)
            assert [t.name for t in page2.tools] == ["forecast", "counter"]
            assert (await c.call_tool("weather", {"city": "Paris"})).content[0].text == "sunny"
            assert (await c.call_tool("forecast", {})).structured_content == {"temp": 21}
            with pytest.raises(MCPError) as err:
                await c.call_tool("weather", {"city": "Nowhere"})
            assert err.value.error.code == -32010

            seen: list[float] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                seen.append(progress)

            r = await c.call_tool("slow", {}, progress_callback=on_progress)
            assert r.content[0].text == "finished"
            assert seen == [1, 2, 3]
            # The request carried logLevel "warning": the debug line is not sent.
            assert [(m.level, m.data) for m in logs] == [("warning", {"note": "careful"})]

            assert (await c.read_resource("file:///logs/sunday")).contents[0].text == "log for sunday"
            got = await c.get_prompt("greet", {"who": "Lin"})
            assert got.messages[0].content.text == "Say hello to Lin"
            done = await c.complete(types.PromptReference(type="ref/prompt", name="greet"), {"name": "who", "value": "b"})
            assert done.completion.values == ["bob"]

            # subscriptions/listen: acknowledged, then the changes asked for, in order.
            async with c.listen(tools_list_changed=True, resource_subscriptions=["file:///readme.md"]) as sub:
                assert sub.honored.tools_list_changed
                status, _ = control(server, "POST", "/tools", {"name": "late", "result": "late"})
                assert status == 200
                with anyio.fail_after(WAIT_S):
                    event = await sub.__anext__()
                assert type(event).__name__ == "ToolsListChanged"
                control(server, "POST", "/resources/update", {"uri": "file:///readme.md", "text": "# New"})
                with anyio.fail_after(WAIT_S):
                    event = await sub.__anext__()
                assert type(event).__name__ == "ResourceUpdated" and event.uri == "file:///readme.md"
            assert (await c.read_resource("file:///readme.md", cache_mode="bypass")).contents[0].text == "# New"

    run(main)
    posts = [e for e in server.journal() if e.get("service") == "mcp" and e["method"] == "POST"]
    methods = [(e.get("body") or {}).get("method") for e in posts]
    assert methods[0] == "server/discover" and posts[0]["response"]["status"] == 200
    assert "initialize" not in methods
    assert not [e for e in server.journal() if e.get("service") == "mcp" and e["method"] in ("GET", "DELETE")]


def test_legacy_mode_client(server: AimockServer) -> None:
    from mcp.client.client import Client

    async def main() -> None:
        async with Client(server.url + "/mcp", mode="legacy") as c:
            assert c.protocol_version == "2025-11-25"
            assert (await c.call_tool("echo", {})).content[0].text == "hello"

    run(main)
