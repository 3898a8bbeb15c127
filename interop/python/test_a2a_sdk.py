"""A2A through the official Python SDK (a2a-sdk 1.3.0), on both protocol generations.

The server (interop/fixtures/a2a/config.json) has two agents:

* ``travel`` at ``/a2a`` (and ``/a2a/travel``): its card offers JSON-RPC with protocol versions
  1.0 and 0.3, so ``create_client`` picks 1.0 and the SDK's ``JsonRpcTransport`` sends
  ``SendMessage``, ``GetTask``, ...
* ``legacy`` at ``/a2a/old`` (and ``/a2a/legacy``): its card offers only 0.3, so the SDK picks
  its v0.3 compat transport (``CompatJsonRpcTransport``), which sends ``message/send``,
  ``tasks/get``, ``tasks/resubscribe``, ``tasks/pushNotificationConfig/set``...

Every test runs against both (``gen`` = ``"1.0"`` / ``"0.3"``) and checks in the journal which
method names went over the wire. Every address used is 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory, create_client
from a2a.client.errors import A2AClientError
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    TaskPushNotificationConfig,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError, UnsupportedOperationError

from conftest import FIXTURES_DIR, AimockServer, start_server, stop_server

CONFIG = FIXTURES_DIR / "a2a" / "config.json"
GENS = ["1.0", "0.3"]
AGENT_PATH = {"1.0": "/a2a", "0.3": "/a2a/old"}
SEND = {"1.0": "SendMessage", "0.3": "message/send"}
STREAM = {"1.0": "SendStreamingMessage", "0.3": "message/stream"}


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


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def msg(text: str, context_id: str = "", task_id: str = "") -> SendMessageRequest:
    m = Message(message_id=f"m-{abs(hash((text, context_id, task_id)))}", role=Role.ROLE_USER, parts=[Part(text=text)])
    if context_id:
        m.context_id = context_id
    if task_id:
        m.task_id = task_id
    return SendMessageRequest(message=m)


async def client_for(server: AimockServer, gen: str, **cfg: Any) -> Any:
    return await create_client(server.url + AGENT_PATH[gen], client_config=ClientConfig(**cfg))


async def collect(client: Any, req: SendMessageRequest) -> list[StreamResponse]:
    return [ev async for ev in client.send_message(req)]


def texts(parts: Any) -> list[str]:
    return [p.text for p in parts if p.text]


def rpc_methods(server: AimockServer) -> list[str]:
    out = []
    for e in server.journal():
        if e.get("service") == "a2a" and isinstance(e.get("body"), dict):
            out.append(e["body"].get("method"))
    return out


def transport_name(client: Any) -> str:
    return type(client._transport).__name__


# ----------------------------------------------------------------------------------- card


@pytest.mark.parametrize("gen", GENS)
def test_card_picks_the_generation(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen)
        try:
            want = "JsonRpcTransport" if gen == "1.0" else "CompatJsonRpcTransport"
            assert transport_name(client) == want
            card = client._card
            assert card.capabilities.streaming and card.capabilities.push_notifications
            if gen == "1.0":
                assert card.name == "travel" and card.version == "2.1.0"
                assert [s.id for s in card.skills] == ["book"]
                offered = sorted((i.protocol_binding, i.protocol_version) for i in card.supported_interfaces)
                assert offered == [("HTTP+JSON", "1.0"), ("JSONRPC", "0.3"), ("JSONRPC", "1.0")]
            else:
                assert card.name == "legacy"
                assert [i.protocol_version for i in card.supported_interfaces] == ["0.3"]
            assert all(i.url == server.url + AGENT_PATH[gen] for i in card.supported_interfaces)
        finally:
            await client.close()

    run(go())


def test_card_at_every_path(server: AimockServer) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as h:
            root = await A2ACardResolver(h, server.url).get_agent_card()
            assert root.name == "travel"
            assert root.supported_interfaces[0].url == server.url + "/a2a"
            by_name = await A2ACardResolver(h, server.url + "/a2a/legacy").get_agent_card()
            assert by_name.name == "legacy"
            old = await A2ACardResolver(h, server.url + "/a2a/travel").get_agent_card(
                relative_card_path="/.well-known/agent.json"
            )
            assert old.name == "travel"
        # ClientFactory, on the agent's by-name URL.
        client = await ClientFactory(ClientConfig(streaming=False)).create_from_url(server.url + "/a2a/travel")
        try:
            (ev,) = await collect(client, msg("hello"))
            assert texts(ev.message.parts) == ["Hello from travel"]
        finally:
            await client.close()

    run(go())


# ----------------------------------------------------------------------------------- send


@pytest.mark.parametrize("gen", GENS)
def test_send_message_reply(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            events = await collect(client, msg("hello there"))
            assert len(events) == 1 and events[0].HasField("message")
            m = events[0].message
            assert m.role == Role.ROLE_AGENT
            assert texts(m.parts) == ["Hello from " + ("travel" if gen == "1.0" else "legacy")]
            assert m.context_id
        finally:
            await client.close()

    run(go())
    assert rpc_methods(server) == [SEND[gen]]


@pytest.mark.parametrize("gen", GENS)
def test_streaming_client_gets_a_plain_message(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen)  # streaming=True by default
        try:
            events = await collect(client, msg("hello"))
            assert [e.WhichOneof("payload") for e in events] == ["message"]
            assert texts(events[0].message.parts)[0].startswith("Hello from")
        finally:
            await client.close()

    run(go())
    assert rpc_methods(server) == [STREAM[gen]]


@pytest.mark.parametrize("gen", GENS)
def test_task_reply_and_get_task(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            (ev,) = await collect(client, msg("give me the report"))
            task = ev.task
            assert task.status.state == TaskState.TASK_STATE_COMPLETED
            assert [a.name for a in task.artifacts] == ["report"]
            assert "All good" in texts(task.artifacts[0].parts)
            got = await client.get_task(GetTaskRequest(id=task.id))
            assert got.id == task.id and got.context_id == task.context_id
            assert got.status.state == TaskState.TASK_STATE_COMPLETED
            assert texts(got.history[0].parts) == ["give me the report"]
            with pytest.raises(TaskNotFoundError):
                await client.get_task(GetTaskRequest(id="task-nope"))
        finally:
            await client.close()

    run(go())
    get = "GetTask" if gen == "1.0" else "tasks/get"
    assert rpc_methods(server) == [SEND[gen], get, get]


@pytest.mark.parametrize("gen", GENS)
def test_streaming_task_events(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen)
        try:
            events = await collect(client, msg("research the topic"))
            kinds = [e.WhichOneof("payload") for e in events]
            assert kinds[0] == "task"
            assert kinds.count("artifact_update") == 2
            assert kinds[-1] == "status_update"
            assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
            ups = [e.artifact_update for e in events if e.HasField("artifact_update")]
            assert texts(ups[0].artifact.parts) == ["part one"] and not ups[0].append
            assert texts(ups[1].artifact.parts) == ["part two"] and ups[1].append and ups[1].last_chunk
            task_id = events[0].task.id
            got = await client.get_task(GetTaskRequest(id=task_id))
            assert texts(got.artifacts[0].parts) == ["part one", "part two"]
        finally:
            await client.close()

    run(go())


@pytest.mark.parametrize("gen", GENS)
def test_streaming_task_via_send_message_is_collected(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            (ev,) = await collect(client, msg("research more"))
            assert ev.task.status.state == TaskState.TASK_STATE_COMPLETED
            assert texts(ev.task.artifacts[0].parts) == ["part one", "part two"]
        finally:
            await client.close()

    run(go())


# ----------------------------------------------------------------------------------- conversation


@pytest.mark.parametrize("gen", GENS)
def test_input_required_then_continued_on_the_same_context(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            (first,) = await collect(client, msg("please book a flight"))
            t = first.task
            assert t.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
            assert texts(t.status.message.parts) == ["Where to?"]
            (second,) = await collect(client, msg("Paris", context_id=t.context_id, task_id=t.id))
            t2 = second.task
            assert t2.id == t.id and t2.context_id == t.context_id
            assert t2.status.state == TaskState.TASK_STATE_COMPLETED
            assert texts(t2.artifacts[0].parts) == ["Flight to Paris booked"]
            # "Paris" alone, in a new context, matches nothing: the answer depended on turn 1.
            with pytest.raises(A2AClientError):
                await collect(client, msg("Paris"))
        finally:
            await client.close()

    run(go())


@pytest.mark.parametrize("gen", GENS)
def test_context_dependent_answers(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            (a,) = await collect(client, msg("my name is Ada"))
            ctx = a.message.context_id
            (b,) = await collect(client, msg("what did I say?", context_id=ctx))
            assert texts(b.message.parts) == ["You are Ada"]
            (c,) = await collect(client, msg("what did I say?"))
            assert texts(c.message.parts) == ["I do not know"]
            # turn 2 of a context
            (d,) = await collect(client, msg("hello"))
            (e,) = await collect(client, msg("again", context_id=d.message.context_id))
            assert texts(e.message.parts) == ["second turn"]
            with pytest.raises(A2AClientError):
                await collect(client, msg("again"))  # turn 1 of a fresh context
        finally:
            await client.close()

    run(go())


# ----------------------------------------------------------------------------------- tasks


def test_list_tasks_filters_and_pages(server: AimockServer) -> None:
    async def go() -> None:
        client = await client_for(server, "1.0", streaming=False)
        try:
            (a,) = await collect(client, msg("report one"))
            (b,) = await collect(client, msg("book a flight"))
            (c,) = await collect(client, msg("report two", context_id=a.task.context_id))
            everything = await client.list_tasks(ListTasksRequest())
            assert {t.id for t in everything.tasks} == {a.task.id, b.task.id, c.task.id}
            assert everything.total_size == 3
            in_ctx = await client.list_tasks(ListTasksRequest(context_id=a.task.context_id))
            assert {t.id for t in in_ctx.tasks} == {a.task.id, c.task.id}
            waiting = await client.list_tasks(ListTasksRequest(status=TaskState.TASK_STATE_INPUT_REQUIRED))
            assert [t.id for t in waiting.tasks] == [b.task.id]
            page1 = await client.list_tasks(ListTasksRequest(page_size=2))
            assert len(page1.tasks) == 2 and page1.next_page_token
            page2 = await client.list_tasks(ListTasksRequest(page_size=2, page_token=page1.next_page_token))
            assert len(page2.tasks) == 1 and not page2.next_page_token
            seen = {t.id for t in page1.tasks} | {t.id for t in page2.tasks}
            assert seen == {a.task.id, b.task.id, c.task.id}
        finally:
            await client.close()

    run(go())
    assert "ListTasks" in rpc_methods(server)


def test_list_tasks_is_not_in_v03(server: AimockServer) -> None:
    async def go() -> None:
        client = await client_for(server, "0.3")
        try:
            with pytest.raises(NotImplementedError):
                await client.list_tasks(ListTasksRequest())
        finally:
            await client.close()

    run(go())


@pytest.mark.parametrize("gen", GENS)
def test_subscribe_then_cancel_a_running_task(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        poller = await client_for(server, gen, streaming=False, polling=True)
        client = await client_for(server, gen)
        try:
            (ev,) = await collect(poller, msg("slow job"))
            task = ev.task
            assert task.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)
            seen: list[str] = []
            canceled = None
            async for e in client.subscribe(SubscribeToTaskRequest(id=task.id)):
                kind = e.WhichOneof("payload")
                seen.append(kind)
                if kind == "artifact_update" and canceled is None:
                    canceled = await client.cancel_task(CancelTaskRequest(id=task.id))
            assert seen[0] == "task"
            assert "artifact_update" in seen and seen[-1] == "status_update"
            assert canceled is not None and canceled.status.state == TaskState.TASK_STATE_CANCELED
            got = await client.get_task(GetTaskRequest(id=task.id))
            assert got.status.state == TaskState.TASK_STATE_CANCELED
            assert len(got.artifacts) < 4  # the rest never ran
            with pytest.raises(TaskNotCancelableError):
                await client.cancel_task(CancelTaskRequest(id=task.id))
            with pytest.raises(TaskNotFoundError):
                await client.cancel_task(CancelTaskRequest(id="task-missing"))
            with pytest.raises(UnsupportedOperationError):
                async for _ in client.subscribe(SubscribeToTaskRequest(id=task.id)):
                    pass  # a terminal task cannot be subscribed to
        finally:
            await client.close()
            await poller.close()

    run(go())
    methods = rpc_methods(server)
    if gen == "1.0":
        assert "SubscribeToTask" in methods and "CancelTask" in methods
    else:
        assert "tasks/resubscribe" in methods and "tasks/cancel" in methods


# ----------------------------------------------------------------------------------- push


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(n) or b"null")
        type(self).got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("gen", GENS)
def test_push_notification_configs(server: AimockServer, gen: str) -> None:
    _Receiver.got = []
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hook.server_address[1]}/hook"

    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            (ev,) = await collect(client, msg("book a flight"))
            tid = ev.task.id
            made = await client.create_task_push_notification_config(
                TaskPushNotificationConfig(task_id=tid, id="cfg-1", url=hook_url, token="tok-1")
            )
            assert made.task_id == tid and made.id == "cfg-1" and made.url == hook_url
            await client.create_task_push_notification_config(
                TaskPushNotificationConfig(task_id=tid, id="cfg-2", url=hook_url + "2")
            )
            got = await client.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=tid, id="cfg-1")
            )
            assert got.url == hook_url and got.token == "tok-1"
            listed = await client.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=tid)
            )
            assert sorted(c.id for c in listed.configs) == ["cfg-1", "cfg-2"]
            await client.delete_task_push_notification_config(
                DeleteTaskPushNotificationConfigRequest(task_id=tid, id="cfg-2")
            )
            listed = await client.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=tid)
            )
            assert [c.id for c in listed.configs] == ["cfg-1"]
            with pytest.raises(TaskNotFoundError):
                await client.get_task_push_notification_config(
                    GetTaskPushNotificationConfigRequest(task_id="task-none", id="x")
                )
            # Continuing the task sends its updates to cfg-1.
            (done,) = await collect(client, msg("Paris", context_id=ev.task.context_id, task_id=tid))
            assert done.task.status.state == TaskState.TASK_STATE_COMPLETED
        finally:
            await client.close()

    try:
        run(go())
        for _ in range(50):
            if len(_Receiver.got) >= 2:
                break
            threading.Event().wait(0.1)
        assert _Receiver.got, "no push notification arrived"
        assert all(h.get("x-a2a-notification-token") == "tok-1" for h, _ in _Receiver.got)
        bodies = [b for _, b in _Receiver.got]
        if gen == "1.0":
            states = [b["statusUpdate"]["status"]["state"] for b in bodies if "statusUpdate" in b]
            assert "TASK_STATE_COMPLETED" in states
            assert any("artifactUpdate" in b for b in bodies)
        else:
            assert all(b["kind"] == "task" for b in bodies)
            assert "completed" in [b["status"]["state"] for b in bodies]
    finally:
        hook.shutdown()
    methods = rpc_methods(server)
    if gen == "1.0":
        assert {"CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig",
                "ListTaskPushNotificationConfigs", "DeleteTaskPushNotificationConfig"} <= set(methods)
    else:
        assert {"tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get",
                "tasks/pushNotificationConfig/list", "tasks/pushNotificationConfig/delete"} <= set(methods)


# ----------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("gen", GENS)
def test_errors_surface_as_sdk_errors(server: AimockServer, gen: str) -> None:
    async def go() -> None:
        client = await client_for(server, gen, streaming=False)
        try:
            with pytest.raises(A2AClientError, match="No matching pattern"):
                await collect(client, msg("nothing matches this"))
            if gen == "1.0":
                with pytest.raises(A2AClientError, match="boom"):
                    await collect(client, msg("explode"))
        finally:
            await client.close()

    run(go())


# ----------------------------------------------------------------------------------- REST binding


def test_rest_binding(server: AimockServer) -> None:
    """The card also offers HTTP+JSON (1.0); a client preferring it uses the REST transport."""

    async def go() -> None:
        rest = await client_for(server, "1.0", streaming=False, supported_protocol_bindings=["HTTP+JSON"])
        streaming = await client_for(server, "1.0", supported_protocol_bindings=["HTTP+JSON"])
        try:
            assert transport_name(rest) == "RestTransport"
            (hello,) = await collect(rest, msg("hello"))
            assert texts(hello.message.parts) == ["Hello from travel"]
            (first,) = await collect(rest, msg("book a flight"))
            t = first.task
            assert t.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
            (done,) = await collect(rest, msg("Paris", context_id=t.context_id, task_id=t.id))
            assert done.task.id == t.id and done.task.status.state == TaskState.TASK_STATE_COMPLETED
            got = await rest.get_task(GetTaskRequest(id=t.id))
            assert texts(got.artifacts[0].parts) == ["Flight to Paris booked"]
            listed = await rest.list_tasks(ListTasksRequest(context_id=t.context_id, include_artifacts=True))
            assert [x.id for x in listed.tasks] == [t.id] and listed.tasks[0].artifacts
            with pytest.raises(TaskNotFoundError):
                await rest.get_task(GetTaskRequest(id="task-nope"))
            with pytest.raises(TaskNotCancelableError):
                await rest.cancel_task(CancelTaskRequest(id=t.id))
            events = await collect(streaming, msg("research it"))
            assert events[0].HasField("task")
            assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
            (w,) = await collect(rest, msg("book a flight"))
            cfg = await rest.create_task_push_notification_config(
                TaskPushNotificationConfig(task_id=w.task.id, id="c1", url="http://127.0.0.1:9/h")
            )
            assert cfg.id == "c1"
            got_cfg = await rest.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=w.task.id, id="c1")
            )
            assert got_cfg.url == "http://127.0.0.1:9/h"
            lst = await rest.list_task_push_notification_configs(ListTaskPushNotificationConfigsRequest(task_id=w.task.id))
            assert [c.id for c in lst.configs] == ["c1"]
            await rest.delete_task_push_notification_config(
                DeleteTaskPushNotificationConfigRequest(task_id=w.task.id, id="c1")
            )
            canceled = await rest.cancel_task(CancelTaskRequest(id=w.task.id))
            assert canceled.status.state == TaskState.TASK_STATE_CANCELED
        finally:
            await rest.close()
            await streaming.close()

    run(go())
    paths = [e["path"] for e in server.journal() if e.get("service") == "a2a"]
    assert any(p.endswith("/message:send") for p in paths)
    assert any(p.endswith("/message:stream") for p in paths)


# ----------------------------------------------------------------------------------- strict shapes


def test_v1_results_parse_strictly_as_the_proto_types(server: AimockServer) -> None:
    """Every v1.0 result parses with protobuf's strict ParseDict (no unknown field tolerated)."""
    from google.protobuf.json_format import ParseDict
    from a2a.types import a2a_pb2 as pb

    url = server.url + "/a2a"

    def call(method: str, params: dict[str, Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": "1", "method": method, "params": params}
        r = httpx.post(url, json=body, headers={"A2A-Version": "1.0"})
        assert r.headers["a2a-version"] == "1.0"
        return r.json()["result"]

    def message(text: str, **extra: Any) -> dict[str, Any]:
        return {"message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": text}], **extra}}

    ParseDict(call("SendMessage", message("hello")), pb.SendMessageResponse())
    sent = call("SendMessage", message("report"))
    ParseDict(sent, pb.SendMessageResponse())
    task_id = sent["task"]["id"]
    ParseDict(call("GetTask", {"id": task_id}), pb.Task())
    ParseDict(call("ListTasks", {"includeArtifacts": True}), pb.ListTasksResponse())
    waiting = call("SendMessage", message("book a flight"))["task"]
    made = call("CreateTaskPushNotificationConfig", {"taskId": waiting["id"], "url": "http://127.0.0.1:9/x", "token": "t"})
    ParseDict(made, pb.TaskPushNotificationConfig())
    ParseDict(call("ListTaskPushNotificationConfigs", {"taskId": waiting["id"]}), pb.ListTaskPushNotificationConfigsResponse())
    ParseDict(call("CancelTask", {"id": waiting["id"]}), pb.Task())
    with httpx.stream("POST", url, json={"jsonrpc": "2.0", "id": 2, "method": "SendStreamingMessage",
                                         "params": message("research x")}) as r:
        frames = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert len(frames) == 5
    for f in frames:
        ParseDict(f["result"], pb.StreamResponse())
