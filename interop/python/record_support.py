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

import base64
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

from conftest import FIXTURES_DIR, REPO_ROOT, AimockServer, start_server, stop_server

# A recognisable fake credential: every SDK sends it (or, for Bedrock, its access key id carries
# ``SECRET123``); no recorded file and no journal entry may contain it.
SECRET = "sk-test-SECRET123"
SECRET_MARK = "SECRET123"
AWS_ACCESS_KEY = "AKIASECRET123EXAMPLE"

RECORD_FIXTURES = FIXTURES_DIR / "record"
UPSTREAM_FIXTURES = RECORD_FIXTURES / "upstream"
OWN_WIRE_DIR = RECORD_FIXTURES / "wire"
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
    """Files under ``root`` whose bytes contain ``needle`` (also base64-encoded)."""
    variants = {needle.encode(), base64.b64encode(needle.encode()).rstrip(b"=")}
    hits = []
    for p in all_files(root):
        data = p.read_bytes()
        if any(v in data for v in variants):
            hits.append(p)
    return hits


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


# --------------------------------------------------------------------------- record and replay


@dataclass
class Case:
    """One SDK call: ``call(base_url)`` returns its summary."""

    id: str
    provider: str
    call: Callable[[str], Any]
    trigger: str
    stream: bool = False
    # Fields the direct (upstream) answer must have, as a partial summary.
    expect: dict[str, Any] = field(default_factory=dict)


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
    except Exception:  # noqa: BLE001 - kept and re-raised by the test that needs it
        outcome.errors[phase] = traceback.format_exc(limit=6)
        return None
    setattr(outcome, phase, value)
    return value


def record_and_replay(cases: Sequence[Case], workdir: Path, extra_args: Sequence[str] = ()) -> RecordRun:
    """Direct, recorded (twice), then replayed after a restart without upstream."""
    fixtures_dir = workdir / "fixtures"
    fixtures_dir.mkdir(parents=True, exist_ok=True)
    run = RecordRun(dir=fixtures_dir, outcomes={c.id: Outcome() for c in cases})

    upstream = start_server([UPSTREAM_FIXTURES])
    recorder: AimockServer | None = None
    try:
        for c in cases:
            _attempt(run.outcomes[c.id], "direct", lambda c=c: c.call(upstream.url))
        recorder = start_server([fixtures_dir], ["--record", *provider_flags(upstream.url), *extra_args])
        for c in cases:
            o = run.outcomes[c.id]
            n0 = upstream_count(upstream)
            _attempt(o, "recorded", lambda c=c: c.call(recorder.url))
            n1 = upstream_count(upstream)
            _attempt(o, "second", lambda c=c: c.call(recorder.url))
            n2 = upstream_count(upstream)
            o.upstream_calls_recording = n1 - n0
            o.upstream_calls_second = n2 - n1
        run.recorder_journal = json.dumps(recorder.journal())
        run.recorder_output = recorder.output(200)
    finally:
        if recorder is not None:
            stop_server(recorder)
        stop_server(upstream)

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


def partial_match(summary: Any, expect: dict[str, Any]) -> None:
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


def summarize_chat_completion(c: Any) -> dict[str, Any]:
    choice = c.choices[0]
    msg = choice.message
    calls = [
        {"id": t.id, "name": t.function.name, "arguments": _args(t.function.arguments)} for t in (msg.tool_calls or [])
    ]
    return {"text": msg.content or "", "tool_calls": calls, "finish_reason": choice.finish_reason}


def summarize_chat_stream(chunks: Iterable[Any]) -> dict[str, Any]:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    n = 0
    for ch in chunks:
        n += 1
        for choice in ch.choices or []:
            d = choice.delta
            if d is not None:
                text.append(d.content or "")
                for t in d.tool_calls or []:
                    slot = calls.setdefault(t.index, {"id": None, "name": "", "arguments": ""})
                    if t.id:
                        slot["id"] = t.id
                    if t.function is not None:
                        slot["name"] += t.function.name or ""
                        slot["arguments"] += t.function.arguments or ""
            if choice.finish_reason:
                finish = choice.finish_reason
    assert n > 0, "the stream had no chunk"
    tool_calls = [{**v, "arguments": _args(v["arguments"])} for _, v in sorted(calls.items())]
    return {"text": "".join(text), "tool_calls": tool_calls, "finish_reason": finish}


def summarize_response(r: Any) -> dict[str, Any]:
    calls = []
    reasoning: list[str] = []
    for item in r.output:
        if item.type == "function_call":
            calls.append({"call_id": item.call_id, "name": item.name, "arguments": _args(item.arguments)})
        elif item.type == "reasoning":
            reasoning += [s.text for s in (item.summary or [])]
            reasoning += [c.text for c in (getattr(item, "content", None) or [])]
    return {"text": r.output_text, "tool_calls": calls, "reasoning": "".join(reasoning), "status": r.status}


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
    for p in parts:
        if p.function_call is not None:
            fc = p.function_call
            calls.append({"id": fc.id, "name": fc.name, "args": _args(fc.args)})
        elif p.text is not None:
            (thoughts if p.thought else text).append(p.text)
    return {
        "text": "".join(text),
        "thoughts": "".join(thoughts),
        "function_calls": calls,
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


def wire_file(*names: str) -> Path | None:
    """The first of ``names`` found in the shared wire directory, then in ours."""
    for d in (SHARED_WIRE_DIR, OWN_WIRE_DIR):
        for n in names:
            p = d / n
            if p.is_file():
                return p
    return None

