"""Helpers for the record-and-replay tests (``test_record_*.py``).

* :func:`record_and_replay` runs a list of :class:`Case` (one official-SDK call each) in three
  phases against the real binary: straight to an upstream aimock; through a recording server
  (``--record --provider-* <upstream>``, empty fixture dir) twice; then, with the recording server
  and the upstream stopped, through a fresh server started with only ``-f <dir>/recorded``.
  Every call returns a *summary*: the SDK-level answer (text, tool calls, finish reason, vectors)
  as plain data, so the phases compare with ``==``.
* :class:`WireUpstream` is a tiny local upstream that answers every request with the bytes of a
  captured wire body, written in several chunks with pauses so it really streams.
* ``summarize_*`` turn each SDK's objects (plain or streamed) into summaries.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import anthropic
import boto3
import cohere
import ollama
import openai
from botocore.config import Config
from google import genai
from google.genai import types as gtypes
from mistralai.client import Mistral

from conftest import FIXTURES_DIR, REPO_ROOT, REQUEST_TIMEOUT_S, AimockServer, new_client, start_server, stop_server

# A recognisable fake credential: every SDK sends it (or, for Bedrock, its access key id carries
# ``SECRET123``); no recorded file and no journal entry may contain it.
SECRET = "sk-test-SECRET123"
SECRET_MARK = "SECRET123"
AWS_ACCESS_KEY = "AKIASECRET123EXAMPLE"

RECORD_FIXTURES = FIXTURES_DIR / "record"
UPSTREAM_FIXTURES = RECORD_FIXTURES / "upstream"
SHARED_WIRE_DIR = REPO_ROOT / "crates" / "aimock" / "tests" / "wire"

PROVIDERS = ("openai", "anthropic", "gemini", "vertexai", "bedrock", "azure", "ollama", "cohere", "openrouter")


def provider_flags(url: str, providers: Iterable[str] = PROVIDERS) -> list[str]:
    """``--provider-<name> <url>`` for each provider."""
    flags: list[str] = []
    for p in providers:
        flags += [f"--provider-{p}", url]
    return flags


def dead_url() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def json_files(root: Path) -> list[Path]:
    """Every ``*.json`` file under ``root`` (none when it does not exist)."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*.json") if p.is_file())


def all_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


def files_containing(root: Path, needle: str) -> list[Path]:
    """Files under ``root`` whose bytes contain ``needle``."""
    return [p for p in all_files(root) if needle.encode() in p.read_bytes()]


def recorded_fixtures(root: Path) -> list[dict[str, Any]]:
    """Every fixture in every recorded file under ``root``."""
    out: list[dict[str, Any]] = []
    for p in json_files(root):
        doc = json.loads(p.read_text("utf-8"))
        for fx in doc.get("fixtures", []):
            fx = dict(fx)
            fx["_file"] = str(p)
            out.append(fx)
    return out


def fixture_mentioning(fixtures: list[dict[str, Any]], trigger: str) -> dict[str, Any] | None:
    """The recorded fixture whose ``match`` mentions ``trigger``."""
    for fx in fixtures:
        if trigger in json.dumps(fx.get("match", {})):
            return fx
    return None


def upstream_count(server: AimockServer) -> int:
    return len(server.journal())


def fixture_count(server: AimockServer) -> int:
    r = server.request("GET", "/__aimock/fixtures")
    assert r.status == 200, r
    return int(r.json()["count"])


def wait_for_fixtures(server: AimockServer, at_least: int, timeout: float = 2.0) -> bool:
    """Whether the server holds ``at_least`` fixtures within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while fixture_count(server) < at_least:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --------------------------------------------------------------------------- record and replay


@dataclass
class Case:
    """One SDK call: ``call(base_url)`` returns its summary."""

    id: str
    provider: str
    call: Callable[[str], Any]
    trigger: str
    stream: bool = False
    # Fields the direct (upstream) answer must have, as a partial summary (a list for multi-call cases).
    expect: Any = field(default_factory=dict)
    # Upstream requests one call makes (multi-call cases make several).
    upstream_calls: int = 1
    # Called before the direct and the recorded call (a wire upstream loads the case's body).
    prepare: Callable[[], None] = lambda: None


@dataclass
class Outcome:
    direct: Any = None
    recorded: Any = None
    second: Any = None
    replayed: Any = None
    upstream_calls_recording: int | None = None
    upstream_calls_second: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, phase: str) -> Any:
        if phase in self.errors:
            raise AssertionError(f"the {phase} call failed:\n{self.errors[phase]}")
        return getattr(self, phase)


@dataclass
class RecordRun:
    dir: Path
    outcomes: dict[str, Outcome]
    recorder_journal: str = ""
    recorder_output: str = ""
    replay_output: str = ""
    files_after_recording: list[Path] = field(default_factory=list)


def _attempt(outcome: Outcome, phase: str, fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except Exception as err:  # noqa: BLE001 - kept and re-raised by the test that needs it
        where = traceback.extract_tb(err.__traceback__)
        frames = [f"{Path(f.filename).name}:{f.lineno}" for f in where if "site-packages" not in f.filename][-3:]
        outcome.errors[phase] = f"{type(err).__name__}: {str(err)[:800]} (at {' > '.join(frames)})"
        return None
    setattr(outcome, phase, value)
    return value


def record_and_replay(
    cases: Sequence[Case],
    workdir: Path,
    upstream_url: str,
    upstream_count: Callable[[], int],
    stop_upstream: Callable[[], None],
    extra_args: Sequence[str] = (),
) -> RecordRun:
    """Direct, recorded (twice), then replayed after a restart without upstream.

    ``upstream_count`` says how many requests the upstream has answered so far;
    ``stop_upstream`` is called once the recording server has stopped.
    """
    fixtures_dir = workdir / "fixtures"
    fixtures_dir.mkdir(parents=True, exist_ok=True)
    run = RecordRun(dir=fixtures_dir, outcomes={c.id: Outcome() for c in cases})

    recorder: AimockServer | None = None
    try:
        for c in cases:
            c.prepare()
            _attempt(run.outcomes[c.id], "direct", lambda c=c: c.call(upstream_url))
        recorder = start_server([fixtures_dir], ["--record", *provider_flags(upstream_url), *extra_args])
        for c in cases:
            o = run.outcomes[c.id]
            c.prepare()
            n0 = upstream_count()
            _attempt(o, "recorded", lambda c=c: c.call(recorder.url))
            n1 = upstream_count()
            # No waiting: a stream ends for the caller only once its recording is registered.
            _attempt(o, "second", lambda c=c: c.call(recorder.url))
            n2 = upstream_count()
            o.upstream_calls_recording = n1 - n0
            o.upstream_calls_second = n2 - n1
        run.recorder_journal = json.dumps(recorder.journal())
        run.recorder_output = recorder.output(200)
    finally:
        if recorder is not None:
            stop_server(recorder)
        stop_upstream()

    run.files_after_recording = all_files(fixtures_dir)
    recorded_dir = fixtures_dir / "recorded"
    recorded_dir.mkdir(exist_ok=True)
    replay = start_server([recorded_dir])
    try:
        for c in cases:
            _attempt(run.outcomes[c.id], "replayed", lambda c=c: c.call(replay.url))
        run.replay_output = replay.output(200)
    finally:
        stop_server(replay)
    return run


def record_through_aimock(cases: Sequence[Case], workdir: Path, extra_args: Sequence[str] = ()) -> RecordRun:
    """:func:`record_and_replay` with a second aimock on ``interop/fixtures/record/upstream`` as the upstream."""
    upstream = start_server([UPSTREAM_FIXTURES])
    return record_and_replay(
        cases, workdir, upstream.url, lambda: upstream_count(upstream), lambda: stop_server(upstream), extra_args
    )


def partial_match(summary: Any, expect: Any) -> None:
    """Every field of ``expect`` (a dict, or a list of dicts for multi-call cases) is in ``summary``."""
    if isinstance(expect, list):
        assert isinstance(summary, list) and len(summary) == len(expect), summary
        for s, e in zip(summary, expect):
            partial_match(s, e)
        return
    assert isinstance(summary, dict), summary
    for k, v in expect.items():
        assert summary.get(k) == v, f"{k}: {summary.get(k)!r} != {v!r} in {summary!r}"


# --------------------------------------------------------------------------- summaries


def _args(raw: Any) -> Any:
    """Tool arguments as data (JSON strings are parsed; an unparsable string stays a string)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw
    if hasattr(raw, "items"):
        return dict(raw)
    return raw


def _reasoning_of(obj: Any) -> str:
    """The reasoning text an OpenAI-compatible message or delta carries as an extra field."""
    for name in ("reasoning_content", "reasoning"):
        v = getattr(obj, name, None)
        if isinstance(v, str):
            return v
    return ""


def summarize_chat_completion(c: Any) -> dict[str, Any]:
    choice = c.choices[0]
    msg = choice.message
    calls = [
        {"id": t.id, "name": t.function.name, "arguments": _args(t.function.arguments)} for t in (msg.tool_calls or [])
    ]
    return {
        "text": msg.content or "",
        "reasoning": _reasoning_of(msg),
        "tool_calls": calls,
        "finish_reason": choice.finish_reason,
    }


def summarize_chat_stream(chunks: Iterable[Any]) -> dict[str, Any]:
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    n = 0
    for ch in chunks:
        n += 1
        for choice in ch.choices or []:
            d = choice.delta
            if d is not None:
                text.append(d.content or "")
                reasoning.append(_reasoning_of(d))
                for t in d.tool_calls or []:
                    # Some OpenAI-compatible servers send no index: an id starts the next call.
                    index = t.index if t.index is not None else (len(calls) if t.id or not calls else len(calls) - 1)
                    slot = calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
                    if t.id:
                        slot["id"] = t.id
                    if t.function is not None:
                        slot["name"] += t.function.name or ""
                        slot["arguments"] += t.function.arguments or ""
            if choice.finish_reason:
                finish = choice.finish_reason
    assert n > 0, "the stream had no chunk"
    tool_calls = [{**v, "arguments": _args(v["arguments"])} for _, v in sorted(calls.items())]
    return {"text": "".join(text), "reasoning": "".join(reasoning), "tool_calls": tool_calls, "finish_reason": finish}


def summarize_response(r: Any) -> dict[str, Any]:
    calls = []
    reasoning: list[str] = []
    for item in r.output:
        if item.type == "function_call":
            calls.append({"call_id": item.call_id, "name": item.name, "arguments": _args(item.arguments)})
        elif item.type == "reasoning":
            reasoning += [s.text for s in (item.summary or [])]
            reasoning += [c.text for c in (getattr(item, "content", None) or [])]
    return {
        "text": r.output_text,
        "tool_calls": calls,
        "reasoning": "".join(reasoning),
        "items": [item.type for item in r.output],
        "status": r.status,
    }


def summarize_response_stream(events: Iterable[Any]) -> dict[str, Any]:
    deltas: list[str] = []
    final = None
    types_seen: list[str] = []
    for e in events:
        types_seen.append(e.type)
        if e.type == "response.output_text.delta":
            deltas.append(e.delta)
        elif e.type == "response.completed":
            final = e.response
    assert final is not None, f"no response.completed event in {types_seen}"
    out = summarize_response(final)
    out["streamed_text"] = "".join(deltas)
    return out


def summarize_anthropic_message(m: Any) -> dict[str, Any]:
    blocks = []
    for b in m.content:
        if b.type == "text":
            blocks.append({"type": "text", "text": b.text})
        elif b.type == "thinking":
            blocks.append({"type": "thinking", "thinking": b.thinking, "signature": b.signature})
        elif b.type == "tool_use":
            blocks.append({"type": "tool_use", "id": b.id, "name": b.name, "input": _args(b.input)})
        else:
            blocks.append({"type": b.type})
    return {"blocks": blocks, "stop_reason": m.stop_reason}


def summarize_gemini_parts(parts: Iterable[Any], finish: Any) -> dict[str, Any]:
    text: list[str] = []
    thoughts: list[str] = []
    calls = []
    order: list[str] = []  # kinds of the parts in order, runs of the same kind merged
    for p in parts:
        if p.function_call is not None:
            fc = p.function_call
            calls.append({"id": fc.id, "name": fc.name, "args": _args(fc.args)})
            kind = "call"
        elif p.text is not None:
            (thoughts if p.thought else text).append(p.text)
            kind = "thought" if p.thought else "text"
        else:
            continue
        if kind == "call" or not order or order[-1] != kind:
            order.append(kind)
    return {
        "text": "".join(text),
        "thoughts": "".join(thoughts),
        "function_calls": calls,
        "order": order,
        "finish_reason": str(finish) if finish is not None else None,
    }


def summarize_gemini(r: Any) -> dict[str, Any]:
    cand = r.candidates[0]
    return summarize_gemini_parts(cand.content.parts or [], cand.finish_reason)


def summarize_gemini_stream(chunks: Iterable[Any]) -> dict[str, Any]:
    parts: list[Any] = []
    finish = None
    for ch in chunks:
        for cand in ch.candidates or []:
            if cand.content is not None:
                parts += cand.content.parts or []
            if cand.finish_reason is not None:
                finish = cand.finish_reason
    return summarize_gemini_parts(parts, finish)


def summarize_converse(r: dict[str, Any]) -> dict[str, Any]:
    blocks = []
    for b in r["output"]["message"]["content"]:
        if "toolUse" in b:
            t = b["toolUse"]
            blocks.append({"toolUse": {"id": t["toolUseId"], "name": t["name"], "input": t["input"]}})
        else:
            blocks.append(b)
    return {"blocks": blocks, "stop_reason": r["stopReason"]}


def summarize_converse_stream(r: dict[str, Any]) -> dict[str, Any]:
    blocks: dict[int, dict[str, Any]] = {}
    stop = None
    for e in r["stream"]:
        if "contentBlockStart" in e:
            ev = e["contentBlockStart"]
            tu = ev.get("start", {}).get("toolUse")
            if tu:
                blocks[ev["contentBlockIndex"]] = {"toolUse": {"id": tu["toolUseId"], "name": tu["name"], "input": ""}}
        elif "contentBlockDelta" in e:
            ev = e["contentBlockDelta"]
            i, d = ev["contentBlockIndex"], ev["delta"]
            if "text" in d:
                blocks.setdefault(i, {"text": ""})["text"] += d["text"]
            elif "toolUse" in d:
                blocks[i]["toolUse"]["input"] += d["toolUse"].get("input", "")
            elif "reasoningContent" in d:
                rc = blocks.setdefault(i, {"reasoningContent": {"reasoningText": {"text": ""}}})
                rt = rc["reasoningContent"]["reasoningText"]
                rt["text"] += d["reasoningContent"].get("text", "")
                if "signature" in d["reasoningContent"]:
                    rt["signature"] = d["reasoningContent"]["signature"]
        elif "messageStop" in e:
            stop = e["messageStop"]["stopReason"]
    out = []
    for _, b in sorted(blocks.items()):
        if "toolUse" in b:
            b["toolUse"]["input"] = _args(b["toolUse"]["input"])
        out.append(b)
    return {"blocks": out, "stop_reason": stop}


def summarize_anthropic_events(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Anthropic stream events as JSON dicts (Bedrock InvokeModelWithResponseStream)."""
    blocks: dict[int, dict[str, Any]] = {}
    stop = None
    for e in events:
        t = e.get("type")
        if t == "content_block_start":
            cb = dict(e["content_block"])
            if cb.get("type") == "tool_use":
                cb["input"] = ""
            blocks[e["index"]] = cb
        elif t == "content_block_delta":
            d = e["delta"]
            b = blocks.setdefault(e["index"], {"type": "text", "text": ""})
            if d["type"] == "text_delta":
                b["text"] = b.get("text", "") + d["text"]
            elif d["type"] == "input_json_delta":
                b["input"] = b.get("input", "") + d["partial_json"]
            elif d["type"] == "thinking_delta":
                b["thinking"] = b.get("thinking", "") + d["thinking"]
            elif d["type"] == "signature_delta":
                b["signature"] = d["signature"]
        elif t == "message_delta":
            stop = e["delta"].get("stop_reason")
    out = []
    for _, b in sorted(blocks.items()):
        if b.get("type") == "tool_use":
            b["input"] = _args(b["input"])
        out.append(b)
    return {"blocks": out, "stop_reason": stop}


def summarize_ollama_chat(r: Any) -> dict[str, Any]:
    m = r.message
    calls = [{"name": t.function.name, "arguments": _args(t.function.arguments)} for t in (m.tool_calls or [])]
    return {"text": m.content or "", "thinking": m.thinking or "", "tool_calls": calls, "done_reason": r.done_reason}


def summarize_ollama_chat_stream(parts: Iterable[Any]) -> dict[str, Any]:
    text: list[str] = []
    thinking: list[str] = []
    calls = []
    done = None
    for p in parts:
        m = p.message
        text.append(m.content or "")
        thinking.append(m.thinking or "")
        calls += [{"name": t.function.name, "arguments": _args(t.function.arguments)} for t in (m.tool_calls or [])]
        if p.done:
            done = p.done_reason
    return {"text": "".join(text), "thinking": "".join(thinking), "tool_calls": calls, "done_reason": done}


def summarize_cohere_chat(r: Any) -> dict[str, Any]:
    m = r.message
    text = "".join(c.text for c in (m.content or []) if c.type == "text")
    thinking = "".join(c.thinking for c in (m.content or []) if c.type == "thinking")
    calls = [{"id": t.id, "name": t.function.name, "arguments": _args(t.function.arguments)} for t in (m.tool_calls or [])]
    return {
        "text": text,
        "thinking": thinking,
        "tool_plan": m.tool_plan or "",
        "tool_calls": calls,
        "finish_reason": r.finish_reason,
    }


def summarize_cohere_stream(events: Iterable[Any]) -> dict[str, Any]:
    text: list[str] = []
    thinking: list[str] = []
    plan: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    for e in events:
        if e.type == "content-delta":
            c = e.delta.message.content
            text.append(c.text or "")
            thinking.append(getattr(c, "thinking", None) or "")
        elif e.type == "tool-plan-delta":
            plan.append(e.delta.message.tool_plan or "")
        elif e.type == "tool-call-start":
            tc = e.delta.message.tool_calls
            calls[e.index] = {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments or ""}
        elif e.type == "tool-call-delta":
            calls[e.index]["arguments"] += e.delta.message.tool_calls.function.arguments or ""
        elif e.type == "message-end":
            finish = e.delta.finish_reason
    tool_calls = [{**v, "arguments": _args(v["arguments"])} for _, v in sorted(calls.items())]
    return {
        "text": "".join(text),
        "thinking": "".join(thinking),
        "tool_plan": "".join(plan),
        "tool_calls": tool_calls,
        "finish_reason": finish,
    }


# --------------------------------------------------------------------------- SDK calls
# Each builder returns ``call(base_url) -> summary``; every client sends the fake credential.

OPENAI_MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-6"
GEMINI_MODEL = "gemini-2.5-flash"
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
OLLAMA_MODEL = "llama3.2"
COHERE_MODEL = "command-a-03-2025"

WEATHER_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city"],
}
OPENAI_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS}}
RESPONSES_TOOL = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS}
ANTHROPIC_TOOL = {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_PARAMS}
BEDROCK_TOOLS = {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": WEATHER_PARAMS}}}]}


def msgs(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# --------------------------------------------------------------------------- clients


def oai(url: str) -> openai.OpenAI:
    return new_client(url, api_key=SECRET)


def azure(url: str) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=url, api_version="2024-10-21", api_key=SECRET, max_retries=0, timeout=REQUEST_TIMEOUT_S
    )


def router(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/api/v1", api_key=SECRET, max_retries=0, timeout=REQUEST_TIMEOUT_S)


def claude(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=SECRET, max_retries=0, timeout=REQUEST_TIMEOUT_S)


def gem(url: str, vertex: bool = False) -> genai.Client:
    opts = gtypes.HttpOptions(base_url=url, timeout=int(REQUEST_TIMEOUT_S * 1000))
    return genai.Client(vertexai=vertex, api_key=SECRET, http_options=opts) if vertex else genai.Client(api_key=SECRET, http_options=opts)


def bedrock(url: str) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=AWS_ACCESS_KEY,
        aws_secret_access_key="x",
        config=Config(
            retries={"total_max_attempts": 1}, connect_timeout=REQUEST_TIMEOUT_S, read_timeout=REQUEST_TIMEOUT_S
        ),
    )


def olla(url: str) -> ollama.Client:
    return ollama.Client(host=url, timeout=REQUEST_TIMEOUT_S, headers={"Authorization": f"Bearer {SECRET}"})


def co(url: str) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=SECRET, base_url=url, timeout=REQUEST_TIMEOUT_S)


NO_RETRIES: Any = {"max_retries": 0}


# --------------------------------------------------------------------------- calls


def openai_chat(trigger: str, stream: bool = False, tools: bool = False, client=oai) -> Any:  # type: ignore[no-untyped-def]
    def call(url: str) -> Any:
        with client(url) as c:
            extra: dict[str, Any] = {"tools": [OPENAI_TOOL]} if tools else {}
            r = c.chat.completions.create(model=OPENAI_MODEL, messages=msgs(trigger), stream=stream, **extra)
            return summarize_chat_stream(r) if stream else summarize_chat_completion(r)

    return call


def lenient_oai(url: str) -> openai.OpenAI:
    """An OpenAI client without strict validation (base64 embeddings are not ``List[float]`` on the wire)."""
    return new_client(url, api_key=SECRET, _strict_response_validation=False)


def openai_tool_loop(trigger: str) -> Any:
    """Two turns: the tool call, then the answer to the tool result (told apart by turnIndex and
    hasToolResult in the recorded match)."""

    def call(url: str) -> Any:
        with oai(url) as c:
            messages: list[Any] = msgs(trigger)
            first = c.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=[OPENAI_TOOL])
            tc = first.choices[0].message.tool_calls[0]
            messages += [
                {"role": "assistant", "tool_calls": [tc.model_dump(exclude_none=True)]},
                {"role": "tool", "tool_call_id": tc.id, "content": "sunny"},
            ]
            final = c.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=[OPENAI_TOOL])
            return [summarize_chat_completion(first), summarize_chat_completion(final)]

    return call


def anthropic_tool_loop(trigger: str) -> Any:
    def call(url: str) -> Any:
        with claude(url) as c:
            messages: list[Any] = msgs(trigger)
            first = c.messages.create(model=ANTHROPIC_MODEL, max_tokens=1024, messages=messages, tools=[ANTHROPIC_TOOL])
            tu = next(b for b in first.content if b.type == "tool_use")
            messages += [
                {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu.id, "content": "41 degrees"}]},
            ]
            final = c.messages.create(model=ANTHROPIC_MODEL, max_tokens=1024, messages=messages, tools=[ANTHROPIC_TOOL])
            return [summarize_anthropic_message(first), summarize_anthropic_message(final)]

    return call


def openai_system_pair(trigger: str) -> Any:
    """The same user message under two system prompts: two recordings (the system hash differs)."""

    def call(url: str) -> Any:
        out = []
        with oai(url) as c:
            for system in ("You are a pirate.", "You are a poet."):
                r = c.chat.completions.create(
                    model=OPENAI_MODEL, messages=[{"role": "system", "content": system}, *msgs(trigger)]
                )
                out.append(summarize_chat_completion(r))
        return out

    return call


def openai_embed(text: str, client=oai, encoding: str | None = "float") -> Any:  # type: ignore[no-untyped-def]
    """``encoding=None`` lets the SDK ask for base64 (its default) and decode it."""

    def call(url: str) -> Any:
        with client(url) as c:
            extra: dict[str, Any] = {"encoding_format": encoding} if encoding else {}
            r = c.embeddings.create(model="text-embedding-3-small", input=text, **extra)
            return {"vectors": [list(d.embedding) for d in r.data]}

    return call


def responses(trigger: str, stream: bool = False, tools: bool = False, client=oai) -> Any:  # type: ignore[no-untyped-def]
    def call(url: str) -> Any:
        with client(url) as c:
            extra: dict[str, Any] = {"tools": [RESPONSES_TOOL]} if tools else {}
            if stream:
                with c.responses.stream(model=OPENAI_MODEL, input=trigger, **extra) as s:
                    return summarize_response_stream(s)
            return summarize_response(c.responses.create(model=OPENAI_MODEL, input=trigger, **extra))

    return call


def anthropic_call(trigger: str, stream: bool = False, tools: bool = False, thinking: bool = False) -> Any:
    def call(url: str) -> Any:
        with claude(url) as c:
            extra: dict[str, Any] = {}
            if tools:
                extra["tools"] = [ANTHROPIC_TOOL]
            if thinking:
                extra["thinking"] = {"type": "enabled", "budget_tokens": 1024}
            if stream:
                with c.messages.stream(model=ANTHROPIC_MODEL, max_tokens=2048, messages=msgs(trigger), **extra) as s:
                    streamed = "".join(s.text_stream)
                    out = summarize_anthropic_message(s.get_final_message())
                out["streamed_text"] = streamed
                return out
            m = c.messages.create(model=ANTHROPIC_MODEL, max_tokens=2048, messages=msgs(trigger), **extra)
            return summarize_anthropic_message(m)

    return call


def gemini_call(trigger: str, stream: bool = False, tools: bool = False, thinking: bool = False, vertex: bool = False) -> Any:
    def call(url: str) -> Any:
        c = gem(url, vertex)
        cfg: dict[str, Any] = {}
        if tools:
            decl = gtypes.FunctionDeclaration(name="get_weather", description="Weather", parameters_json_schema=WEATHER_PARAMS)
            cfg["tools"] = [gtypes.Tool(function_declarations=[decl])]
            cfg["automatic_function_calling"] = gtypes.AutomaticFunctionCallingConfig(disable=True)
        if thinking:
            cfg["thinking_config"] = gtypes.ThinkingConfig(include_thoughts=True)
        config = gtypes.GenerateContentConfig(**cfg) if cfg else None
        if stream:
            return summarize_gemini_stream(c.models.generate_content_stream(model=GEMINI_MODEL, contents=trigger, config=config))
        return summarize_gemini(c.models.generate_content(model=GEMINI_MODEL, contents=trigger, config=config))

    return call


def gemini_embed(text: str | list[str]) -> Any:
    def call(url: str) -> Any:
        c = gem(url)
        r = c.models.embed_content(model="gemini-embedding-001", contents=text)
        return {"vectors": [e.values for e in r.embeddings]}

    return call


def converse(trigger: str, stream: bool = False, tools: bool = False) -> Any:
    def call(url: str) -> Any:
        c = bedrock(url)
        extra: dict[str, Any] = {"toolConfig": BEDROCK_TOOLS} if tools else {}
        messages = [{"role": "user", "content": [{"text": trigger}]}]
        if stream:
            return summarize_converse_stream(c.converse_stream(modelId=BEDROCK_MODEL, messages=messages, **extra))
        return summarize_converse(c.converse(modelId=BEDROCK_MODEL, messages=messages, **extra))

    return call


def invoke(trigger: str, stream: bool = False) -> Any:
    def call(url: str) -> Any:
        c = bedrock(url)
        body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 512, "messages": msgs(trigger)})
        if stream:
            r = c.invoke_model_with_response_stream(modelId=BEDROCK_MODEL, body=body, contentType="application/json")
            return summarize_anthropic_events(json.loads(ev["chunk"]["bytes"]) for ev in r["body"])
        r = c.invoke_model(modelId=BEDROCK_MODEL, body=body, contentType="application/json", accept="application/json")
        msg = json.loads(r["body"].read())
        return {"blocks": msg["content"], "stop_reason": msg["stop_reason"]}

    return call


def ollama_chat(trigger: str, stream: bool = False, tools: bool = False, think: bool = False) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            extra: dict[str, Any] = {}
            if tools:
                extra["tools"] = [OPENAI_TOOL]
            if think:
                extra["think"] = True
            model = "qwen3" if think else OLLAMA_MODEL
            r = c.chat(model=model, messages=msgs(trigger), stream=stream, **extra)
            return summarize_ollama_chat_stream(r) if stream else summarize_ollama_chat(r)

    return call


def ollama_generate(trigger: str, stream: bool = False) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            r = c.generate(model=OLLAMA_MODEL, prompt=trigger, stream=stream)
            if stream:
                parts = list(r)
                return {"text": "".join(p.response for p in parts), "done_reason": parts[-1].done_reason}
            return {"text": r.response, "done_reason": r.done_reason}

    return call


def ollama_embed(text: str) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            return {"vectors": [list(e) for e in c.embed(model="nomic-embed-text", input=text).embeddings]}

    return call


def ollama_embeddings_legacy(text: str) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            return {"vectors": [list(c.embeddings(model="nomic-embed-text", prompt=text).embedding)]}

    return call


def titan_embed(text: str) -> Any:
    def call(url: str) -> Any:
        c = bedrock(url)
        r = c.invoke_model(
            modelId="amazon.titan-embed-text-v2:0",
            body=json.dumps({"inputText": text}),
            contentType="application/json",
            accept="application/json",
        )
        return {"vectors": [json.loads(r["body"].read())["embedding"]]}

    return call


def cohere_chat(trigger: str, stream: bool = False, tools: bool = False) -> Any:
    def call(url: str) -> Any:
        c = co(url)
        extra: dict[str, Any] = {"tools": [OPENAI_TOOL]} if tools else {}
        if stream:
            return summarize_cohere_stream(
                c.chat_stream(model=COHERE_MODEL, messages=msgs(trigger), request_options=NO_RETRIES, **extra)
            )
        return summarize_cohere_chat(c.chat(model=COHERE_MODEL, messages=msgs(trigger), request_options=NO_RETRIES, **extra))

    return call


def cohere_embed(text: str) -> Any:
    def call(url: str) -> Any:
        r = co(url).embed(
            model="embed-v4.0", texts=[text], input_type="search_query", embedding_types=["float"], request_options=NO_RETRIES
        )
        return {"vectors": r.embeddings.float_}

    return call


def mistral_chat(trigger: str, stream: bool = False) -> Any:
    def call(url: str) -> Any:
        with Mistral(api_key=SECRET, server_url=url, timeout_ms=int(REQUEST_TIMEOUT_S * 1000)) as m:
            if stream:
                text, finish = [], None
                for ev in m.chat.stream(model="mistral-large-latest", messages=msgs(trigger)):
                    ch = ev.data.choices[0]
                    text.append(ch.delta.content or "")
                    finish = ch.finish_reason or finish
                return {"text": "".join(text), "finish_reason": str(finish)}
            r = m.chat.complete(model="mistral-large-latest", messages=msgs(trigger))
            return {"text": r.choices[0].message.content, "finish_reason": str(r.choices[0].finish_reason)}

    return call



# --------------------------------------------------------------------------- wire replayer


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class WireUpstream:
    """A local upstream answering every request with one captured wire body.

    The body is written in ``chunks`` pieces with ``pause`` seconds between them (chunked
    transfer encoding), so the recording server really sees a stream. ``set_body`` changes what
    the next requests get; ``seen`` lists the requests it answered.
    """

    def __init__(self, body: bytes = b"", content_type: str = "application/json", chunks: int = 5, pause: float = 0.02):
        self.body = body
        self.content_type = content_type
        self.chunks = chunks
        self.pause = pause
        self.status = 200
        self.extra_headers: dict[str, str] = {}
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req_body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.seen.append(
                        SeenRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, req_body)
                    )
                    body, ctype, n, pause, status = owner.body, owner.content_type, owner.chunks, owner.pause, owner.status
                    extra = dict(owner.extra_headers)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Transfer-Encoding", "chunked")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    for piece in split_bytes(body, n):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                        time.sleep(pause)
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_POST = _answer
            do_GET = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="wire-upstream", daemon=True)
        self._thread.start()

    def set_body(self, body: bytes, content_type: str, status: int = 200, extra_headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.body = body
            self.content_type = content_type
            self.status = status
            self.extra_headers = dict(extra_headers or {})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def split_bytes(data: bytes, n: int) -> list[bytes]:
    """``data`` cut into ``n`` roughly equal non-empty pieces (cuts fall anywhere, even inside a frame)."""
    if not data:
        return []
    n = max(1, min(n, len(data)))
    step = -(-len(data) // n)
    return [data[i : i + step] for i in range(0, len(data), step)]


@contextlib.contextmanager
def wire_upstream(**kwargs: Any) -> Iterator[WireUpstream]:
    up = WireUpstream(**kwargs)
    try:
        yield up
    finally:
        up.close()


def wire_body(name: str) -> bytes:
    path = wire_file(name)
    assert path is not None, f"wire file {name} is missing"
    return path.read_bytes()


def wire_file(name: str) -> Path | None:
    """A captured wire body from ``crates/aimock/tests/wire/``, if it is there."""
    p = SHARED_WIRE_DIR / name
    return p if p.is_file() else None
