"""The AG-UI agent against the official AG-UI Python package (ag-ui-protocol 1.0).

Requests are built with ``ag_ui.core`` types (``RunAgentInput``, ``UserMessage``, ``Tool``,
``ToolMessage``...) and serialized by the package itself; AG-UI has no official Python client
for consuming a stream, so ``httpx`` is the transport. Every SSE event received is validated
against the package's discriminated union ``ag_ui.core.Event`` (a pydantic ``TypeAdapter``),
must carry no field the schema does not know (``model_extra`` empty) and must round-trip to the
same JSON; sequences are asserted exactly. The package's ``EventEncoder`` is compared with our
wire bytes event by event.

The config (interop/fixtures/agui/aimock.json) mounts two agents, ``/agui`` and ``/agent-b``;
one of its fixtures emits every AG-UI 1.0 event type, another the deprecated ``THINKING_*``
events (which left the protocol in 1.0 and so are checked by shape, not by the 1.0 models).
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import httpx
import pytest
from ag_ui.core import (
    AssistantMessage,
    Event,
    EventType,
    FunctionCall,
    RunAgentInput,
    Tool,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from ag_ui.encoder import EventEncoder
from pydantic import BaseModel, TypeAdapter

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server

CONFIG = FIXTURES_DIR / "agui" / "aimock.json"
EVENT = TypeAdapter(Event)
ALL_1_0_TYPES = {t.value for t in EventType}
THINKING_TYPES = [
    "THINKING_START",
    "THINKING_TEXT_MESSAGE_START",
    "THINKING_TEXT_MESSAGE_CONTENT",
    "THINKING_TEXT_MESSAGE_END",
    "THINKING_END",
]


@pytest.fixture(scope="module")
def agui() -> Iterator[AimockServer]:
    server = start_server(fixtures=(), args=["--config", str(CONFIG)])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(autouse=True)
def _fresh(agui: AimockServer) -> None:
    agui.reset()


def run_input(
    text: str | None = "hello",
    *,
    thread_id: str = "thread-1",
    run_id: str = "run-1",
    tools: list[Tool] | None = None,
    state: Any = None,
    extra_messages: list[Any] | None = None,
) -> RunAgentInput:
    messages: list[Any] = []
    if text is not None:
        messages.append(UserMessage(id="user-1", content=text))
    messages += extra_messages or []
    return RunAgentInput(
        thread_id=thread_id,
        run_id=run_id,
        state=state if state is not None else {},
        messages=messages,
        tools=tools or [],
        context=[],
        forwarded_props={},
    )


class Received:
    def __init__(self, raw: list[str], events: list[BaseModel], status: int, headers: httpx.Headers) -> None:
        self.raw = raw  # each "data: ...\n\n" block as sent
        self.events = events
        self.status = status
        self.headers = headers

    @property
    def types(self) -> list[str]:
        return [e["type"] if isinstance(e, dict) else e.type.value for e in self.events]


def check_event(data: dict[str, Any]) -> BaseModel:
    """Validate one event against the official models, strictly."""
    ev = EVENT.validate_python(data)
    assert not ev.model_extra, f"fields the schema does not know: {ev.model_extra} in {data}"
    assert json.loads(ev.model_dump_json(by_alias=True)) == data, data
    assert isinstance(data.get("timestamp"), int), data
    return ev


def post_run(server: AimockServer, body: RunAgentInput | dict[str, Any], path: str = "/agui") -> Received:
    content = body.model_dump_json(by_alias=True) if isinstance(body, RunAgentInput) else json.dumps(body)
    with httpx.Client(timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
        with client.stream(
            "POST",
            server.url + path,
            content=content,
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
        ) as resp:
            text = "".join(resp.iter_text())
            if resp.status_code != 200:
                return Received([text], [], resp.status_code, resp.headers)
            assert resp.headers["content-type"] == "text/event-stream"
            assert text.endswith("\n\n"), text
            raw = [block + "\n\n" for block in text.split("\n\n") if block]
            events = []
            for block in raw:
                assert block.startswith("data: "), block
                data = json.loads(block[len("data: ") :])
                if data["type"] in THINKING_TYPES:
                    events.append(data)
                else:
                    events.append(check_event(data))
            return Received(raw, events, resp.status_code, resp.headers)


def test_text_run_is_the_five_event_sequence(agui: AimockServer) -> None:
    r = post_run(agui, run_input("hello there"))
    assert r.types == [
        "RUN_STARTED",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    started, start, content, end, finished = r.events
    assert (started.thread_id, started.run_id) == ("thread-1", "run-1")
    assert started.protocol_version == "1.0"
    assert (finished.thread_id, finished.run_id) == ("thread-1", "run-1")
    assert start.role == "assistant"
    assert start.message_id == content.message_id == end.message_id
    assert content.delta == "Hello from aimock!"


def test_encoder_output_matches_our_bytes(agui: AimockServer) -> None:
    """The official EventEncoder writes every flat event exactly as we did."""
    r = post_run(agui, run_input("every event"))
    encoder = EventEncoder()
    assert encoder.get_content_type() == r.headers["content-type"]
    compared = 0
    for raw, ev in zip(r.raw, r.events):
        data = json.loads(raw[len("data: ") :])
        nested = any(isinstance(v, (dict, list)) for k, v in data.items() if k != "type")
        if nested:
            # Nested objects: pydantic writes keys in model order, we in sorted order; same JSON.
            assert json.loads(encoder.encode(ev)[len("data: ") :]) == data
            continue
        assert encoder.encode(ev) == raw, raw
        compared += 1
    assert compared >= 15


def test_every_ag_ui_1_0_event_type_validates(agui: AimockServer) -> None:
    r = post_run(agui, run_input("every event"))
    seen = set(r.types)
    # A run ends with RUN_FINISHED or RUN_ERROR, never both: RUN_ERROR comes from another run.
    assert seen == ALL_1_0_TYPES - {"RUN_ERROR"}, ALL_1_0_TYPES - seen
    assert "RUN_ERROR" in post_run(agui, run_input("run error")).types
    assert r.types[0] == "RUN_STARTED" and r.types[-1] == "RUN_FINISHED"
    by_type = {t: e for t, e in zip(r.types, r.events)}
    assert by_type["RUN_STARTED"].thread_id == "thread-1"
    assert by_type["RUN_FINISHED"].run_id == "run-1"
    assert by_type["RUN_FINISHED"].usage[0].total_tokens == 15
    assert by_type["RUN_FINISHED"].outcome.type == "success"
    assert by_type["STATE_DELTA"].delta[3].from_ == "/count"
    snapshot = by_type["MESSAGES_SNAPSHOT"].messages
    assert [m.role for m in snapshot] == ["user", "assistant", "tool", "system", "developer", "reasoning", "activity"]
    assert snapshot[1].tool_calls[0].function.name == "get_weather"
    assert by_type["REASONING_ENCRYPTED_VALUE"].subtype == "message"
    assert by_type["SUBAGENT_ERROR"].code == "E_SUB"
    chunks = [e for e in r.events if e.type == EventType.TEXT_MESSAGE_CHUNK]
    assert chunks[1].subagent_run_id == "sub-1"


def test_run_error_and_interrupt_outcome(agui: AimockServer) -> None:
    r = post_run(agui, run_input("run error"))
    assert r.types == ["RUN_STARTED", "RUN_ERROR"]
    assert r.events[1].message == "the agent failed"
    assert r.events[1].code == "AGENT_ERROR"

    r = post_run(agui, run_input("broken please"))
    assert r.types == ["RUN_STARTED", "RUN_ERROR"]
    assert (r.events[1].message, r.events[1].code) == ("upstream down", "UPSTREAM")

    r = post_run(agui, run_input("interrupt me"))
    assert r.types == ["RUN_STARTED", "RUN_FINISHED"]
    outcome = r.events[1].outcome
    assert outcome.type == "interrupt"
    assert outcome.interrupts[0].id == "int-1"


def test_deprecated_thinking_events_keep_their_0x_shape(agui: AimockServer) -> None:
    r = post_run(agui, run_input("old thinking"))
    assert r.types == ["RUN_STARTED", *THINKING_TYPES, "RUN_FINISHED"]
    # A stream with retired 0.x events is a pre-1.0 producer's: no version declared.
    assert "protocolVersion" not in r.events[0].model_dump(by_alias=True)
    thinking = r.events[1:6]
    assert thinking[0] == {"type": "THINKING_START", "timestamp": thinking[0]["timestamp"], "title": "Pondering"}
    assert thinking[2]["delta"] == "hmm"
    for e in thinking:
        assert isinstance(e["timestamp"], int)
        assert set(e) <= {"type", "timestamp", "title", "delta"}


def test_tool_call_flow_with_the_result_sent_back(agui: AimockServer) -> None:
    weather = Tool(name="get_weather", description="Weather by city", parameters={"type": "object"})
    r = post_run(agui, run_input("what is the weather in Paris?", tools=[weather]))
    assert r.types == [
        "RUN_STARTED",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "RUN_FINISHED",
    ]
    start, args, end = r.events[4:7]
    assert start.tool_call_id == args.tool_call_id == end.tool_call_id == "call-weather-1"
    assert start.tool_call_name == "get_weather"
    assert start.parent_message_id == r.events[1].message_id
    assert json.loads(args.delta) == {"city": "Paris"}

    # Without the tool declared, the fixture does not match (toolName) and a later one does not either.
    r = post_run(agui, run_input("what is the weather in Paris?"))
    assert r.status == 404
    assert json.loads(r.raw[0]) == {"error": "No matching AG-UI fixture"}

    # The client runs the tool and sends the result back: the toolCallId fixture answers.
    follow_up = run_input(
        "what is the weather in Paris?",
        run_id="run-2",
        tools=[weather],
        extra_messages=[
            AssistantMessage(
                id="assistant-1",
                tool_calls=[
                    ToolCall(id="call-weather-1", function=FunctionCall(name="get_weather", arguments='{"city":"Paris"}'))
                ],
            ),
            ToolMessage(id="tool-1", tool_call_id="call-weather-1", content="sunny, 24C"),
        ],
    )
    r = post_run(agui, follow_up)
    assert r.types[0] == "RUN_STARTED" and r.events[0].run_id == "run-2"
    assert r.events[2].delta == "It is sunny in Paris."


def test_tool_call_with_result_shorthand(agui: AimockServer) -> None:
    r = post_run(agui, run_input("lookup x"))
    assert r.types == [
        "RUN_STARTED",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "RUN_FINISHED",
    ]
    result = r.events[4]
    assert result.tool_call_id == r.events[1].tool_call_id
    assert json.loads(result.content) == {"hits": 2}
    assert result.role == "tool"


def test_state_flow(agui: AimockServer) -> None:
    r = post_run(agui, run_input("count", state={"counter": 0}))
    assert r.types == [
        "RUN_STARTED",
        "STATE_SNAPSHOT",
        "STATE_DELTA",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    assert r.events[1].snapshot == {"counter": 1}
    op = r.events[2].delta[0]
    assert (op.op, op.path, op.value) == ("replace", "/counter", 2)


def test_reasoning_flow(agui: AimockServer) -> None:
    r = post_run(agui, run_input("reason about it"))
    assert r.types == [
        "RUN_STARTED",
        "REASONING_START",
        "REASONING_MESSAGE_START",
        "REASONING_MESSAGE_CONTENT",
        "REASONING_MESSAGE_END",
        "REASONING_END",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    ids = {e.message_id for e in r.events[1:6]}
    assert len(ids) == 1 and ids != {r.events[6].message_id}
    assert r.events[2].role == "reasoning"
    assert r.events[3].delta == "First, consider the question."


def test_messages_snapshot_shorthand(agui: AimockServer) -> None:
    r = post_run(agui, run_input("show history"))
    assert r.types == ["RUN_STARTED", "MESSAGES_SNAPSHOT", "RUN_FINISHED"]
    assert [m.content for m in r.events[1].messages] == ["hi", "hello"]


def test_events_stream_when_due(agui: AimockServer) -> None:
    t0 = time.monotonic()
    arrivals: list[float] = []
    with httpx.Client(timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
        with client.stream("POST", agui.url + "/agui", content=run_input("slow one").model_dump_json(by_alias=True),
                           headers={"Content-Type": "application/json"}) as resp:
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    check_event(json.loads(line[6:]))
                    arrivals.append(time.monotonic() - t0)
    assert len(arrivals) == 5
    # Four gaps of 150 ms: the first event comes well before the last is due.
    assert arrivals[-1] - arrivals[0] >= 0.5, arrivals


def test_second_agent_and_errors(agui: AimockServer) -> None:
    r = post_run(agui, run_input("anything"), path="/agent-b")
    assert r.events[2].delta == "I am agent B."

    bad = agui.request("POST", "/agui", raw=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status == 400 and "Invalid JSON" in bad.json()["error"]
    bad = agui.request("POST", "/agui", {"threadId": "t", "runId": "r", "messages": "hi"})
    assert bad.status == 400 and "messages" in bad.json()["error"]
    assert agui.request("GET", "/agui").status == 405


def test_control_api_and_journal(agui: AimockServer) -> None:
    agui.reset_journal()
    added = agui.request(
        "POST",
        "/__aimock/agui/fixtures",
        {"fixtures": [{"match": {"message": "runtime"}, "events": [
            {"type": "RUN_STARTED"},
            {"type": "CUSTOM", "name": "added", "value": 1},
            {"type": "RUN_FINISHED"},
        ]}]},
    )
    assert added.status == 200 and added.json() == {"added": 1}
    r = post_run(agui, run_input("runtime thing"))
    assert r.types == ["RUN_STARTED", "CUSTOM", "RUN_FINISHED"]

    bad = agui.request("POST", "/__aimock/agui/fixtures", {"fixtures": [{"events": [{"type": "TEXT_MESSAGE_CONTENT"}]}]})
    assert bad.status == 400
    assert "needs `delta`" in bad.json()["details"][0]["message"]

    listed = agui.request("GET", "/__aimock/agui/fixtures").json()
    assert listed["count"] == len(listed["fixtures"])
    assert listed["fixtures"][-1]["match"] == {"message": "runtime"}

    other = agui.request("GET", "/__aimock/agui/fixtures?path=/agent-b").json()
    assert other["count"] == 1 and other["fixtures"][0]["text"] == "I am agent B."

    entries = agui.request("GET", "/__aimock/journal?service=agui").json()
    assert [e["response"]["status"] for e in entries] == [200]
    assert entries[0]["body"]["threadId"] == "thread-1"
    assert entries[0]["body"]["messages"][0]["content"] == "runtime thing"

    agui.reset()
    assert post_run(agui, run_input("runtime thing")).status == 404


def test_a_typo_in_a_configured_event_is_a_startup_error_naming_the_fixture(tmp_path) -> None:
    import subprocess

    from conftest import aimock_bin

    bad = tmp_path / "aimock.json"
    bad.write_text(json.dumps({"agui": {"fixtures": [
        {"text": "fine"},
        {"match": {"message": "x"}, "events": [{"type": "RUN_STARTED"}, {"type": "TEXT_MESSAGE_CONTENT", "mesageId": "m", "delta": "d"}]},
    ]}}))
    proc = subprocess.run(
        [str(aimock_bin()), "--config", str(bad), "-p", "0", "--host", "127.0.0.1"],
        capture_output=True, text=True, timeout=REQUEST_TIMEOUT_S,
    )
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "agui[0]: fixtures[1]: events[1]: TEXT_MESSAGE_CONTENT has no field `mesageId`" in out, out
