"""Runs the aimock binary and drives it through its control API (``/__aimock/*``).

The method names, arguments and return values are aimock-pytest's, so a test suite written for
that plugin runs unchanged. HTTP goes through the standard library (urllib), with any proxy
settings of the environment ignored: the server is always on loopback.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aimock_rs._binary import find_binary
from aimock_rs._callbacks import CallbackServer

__all__ = ["AIMockServer", "ControlAPIError", "MATCH_LEVEL_OPT_KEYS"]

# The keys of a fixture's `match` block (the server's MATCH_FIELDS). `add_fixture`'s keyword
# options with one of these names go under `match`; every other one goes onto the fixture entry
# itself (latency, chunkSize, truncateAfterChunks, disconnectAfterMs, streamingProfile, chaos, ...),
# where the server validates it: an unknown name is a 400, not a silently dropped option.
MATCH_LEVEL_OPT_KEYS = frozenset(
    {
        "userMessage",
        "systemMessage",
        "inputText",
        "toolCallId",
        "toolResultContains",
        "toolName",
        "model",
        "responseFormat",
        "sequenceIndex",
        "turnIndex",
        "hasToolResult",
        "endpoint",
        "context",
        "systemHash",
        "toolsHash",
    }
)

_LISTENING = re.compile(r"listening on (http://\S+)")
# The loopback server needs no proxy, whatever HTTP(S)_PROXY says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlAPIError(RuntimeError):
    """The control API answered with an error status."""

    def __init__(self, message: str, status: int, payload: Any, text: str) -> None:
        super().__init__(message)
        self.status = status
        self.payload = payload
        self.text = text


class _Response:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.text = body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


class AIMockServer:
    """One aimock process on a free loopback port, and its control API as methods.

    ``binary`` defaults to :func:`aimock_rs.find_binary` (``AIMOCK_BIN``, the wheel's binary, or
    PATH). ``fixtures_path`` is loaded at start (a file or a directory); without one the server
    starts with an empty temporary directory, so a ``./fixtures`` in the working directory is
    never picked up by accident. ``api_key`` turns on the server's inbound key check
    (``AIMOCK_API_KEYS``), and the control calls carry it. ``args`` are further CLI flags.
    """

    def __init__(
        self,
        binary: str | os.PathLike[str] | None = None,
        port: int = 0,
        fixtures_path: str | os.PathLike[str] | None = None,
        api_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        args: Sequence[str] = (),
        startup_timeout: float = 15.0,
    ) -> None:
        self.binary = Path(binary) if binary is not None else None
        self.port = port
        self.fixtures_path = fixtures_path
        self.api_key = api_key
        self.host = host
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=400)
        self._listening = threading.Event()
        self._listen_url: str | None = None
        self._base_url: str | None = None
        self._tmp_fixtures: str | None = None
        self._callbacks = CallbackServer()

    # ── lifecycle ───────────────────────────────────────────────────────

    def start(self) -> str:
        """Start the server, wait until ``/health`` answers, and return its base URL."""
        if self._proc is not None:
            return self.base_url
        binary = self.binary or find_binary()
        if self.fixtures_path is not None:
            fixtures = str(self.fixtures_path)
        else:
            self._tmp_fixtures = tempfile.mkdtemp(prefix="aimock-fixtures-")
            fixtures = self._tmp_fixtures
        cmd = [
            str(binary),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--log-level",
            "info",
            "--fixtures",
            fixtures,
            *self.args,
        ]
        env = os.environ.copy()
        # The api_key argument owns the server's auth: an ambient AIMOCK_API_KEYS of the
        # developer's shell or the CI runner does not turn an ordinary fixture into a keyed one.
        env.pop("AIMOCK_API_KEYS", None)
        if self.api_key is not None:
            env["AIMOCK_API_KEYS"] = self.api_key
        self._listening.clear()
        self._listen_url = None
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        atexit.register(self.stop)
        self._reader = threading.Thread(target=self._drain, args=(self._proc,), daemon=True)
        self._reader.start()
        try:
            self._base_url = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self._base_url

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        """Read the child's output for its whole life (so its pipe never fills)."""
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                self._output.append(line)
                if self._listen_url is None:
                    m = _LISTENING.search(line)
                    if m:
                        self._listen_url = m.group(1).rstrip("/")
                        self._listening.set()
        except (OSError, ValueError):
            pass
        finally:
            self._listening.set()

    def _wait_ready(self) -> str:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        if not self._listening.wait(self.startup_timeout) or self._listen_url is None:
            try:
                # Its output ended (or the time is up): it has exited or is about to.
                code: int | None = self._proc.wait(timeout=2 if self._listening.is_set() else 0.01)
            except subprocess.TimeoutExpired:
                code = None
            what = f"exited with code {code}" if code is not None else f"did not start within {self.startup_timeout}s"
            raise RuntimeError(f"aimock {what}: {self.output.strip()}")
        url = self._listen_url
        last = ""
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"aimock exited with code {self._proc.returncode}: {self.output.strip()}")
            try:
                with _OPENER.open(f"{url}/health", timeout=1) as r:
                    if r.status == 200:
                        return url
                    last = f"status {r.status}"
            except (urllib.error.URLError, OSError) as e:
                last = str(e)
            time.sleep(0.02)
        raise RuntimeError(f"aimock at {url} did not answer /health ({last}): {self.output.strip()}")

    def stop(self) -> None:
        """Stop the server (and the callback endpoint, if one was started)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        # The child is gone, so its output ends: let the reader finish before closing the pipe.
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        self._callbacks.stop()
        if self._tmp_fixtures:
            shutil.rmtree(self._tmp_fixtures, ignore_errors=True)
            self._tmp_fixtures = None
        atexit.unregister(self.stop)

    def __enter__(self) -> AIMockServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:54321`` (append ``/v1`` for SDKs)."""
        if self._base_url is None:
            raise RuntimeError("Server has not been started yet")
        return self._base_url

    @property
    def url(self) -> str:
        """Alias for :attr:`base_url`."""
        return self.base_url

    @property
    def output(self) -> str:
        """The server's recent log lines (stdout and stderr)."""
        return "".join(self._output)

    # ── HTTP ────────────────────────────────────────────────────────────

    def _control_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _control_request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float = 10,
    ) -> _Response:
        url = f"{self.base_url}/__aimock{path}"
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        headers = self._control_headers()
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(req, timeout=timeout) as r:
                return _Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return _Response(e.code, e.headers, e.read())

    @staticmethod
    def _check(r: _Response, what: str) -> _Response:
        if r.status >= 400:
            payload = r.json_or_none()
            message = f"{what}: HTTP {r.status}"
            if isinstance(payload, dict):
                err = payload.get("error")
                if isinstance(err, dict):
                    err = err.get("message")
                if err:
                    message += f": {err}"
                details = payload.get("details")
                if isinstance(details, list):
                    for d in details:
                        message += "\n  - " + (d.get("text") if isinstance(d, dict) and d.get("text") else json.dumps(d))
            elif r.text:
                message += f": {r.text}"
            raise ControlAPIError(message, r.status, payload, r.text)
        return r

    # ── callbacks ───────────────────────────────────────────────────────

    def callback(self, fn: Callable[..., Any], timeout_ms: int | None = None) -> dict[str, Any]:
        """Serve ``fn`` on the loopback callback endpoint and return the response that names it:
        ``{"callback": {"url": ..., "timeoutMs": ...}}``. ``add_fixture`` and the ``on_*``
        methods do this for any callable response; use it directly where a fixture file, an MCP
        tool or a vector collection takes a callback."""
        spec: dict[str, Any] = {"url": self._callbacks.register(fn)}
        if timeout_ms is not None:
            spec["timeoutMs"] = timeout_ms
        return {"callback": spec}

    # ── fixtures ────────────────────────────────────────────────────────

    def add_fixture(
        self,
        match: dict[str, Any],
        response: dict[str, Any] | Callable[..., Any],
        **opts: Any,
    ) -> AIMockServer:
        """Add one fixture (``POST /__aimock/fixtures``).

        ``response`` is a fixture response, or a function: it is then called for each request
        the fixture matches, with the request, and returns the response (see
        :mod:`aimock_rs._callbacks`); ``callback_timeout_ms=`` bounds it (default 5000 ms).
        Options named like a match key (``model``, ``sequenceIndex``, ``turnIndex``, ...,
        :data:`MATCH_LEVEL_OPT_KEYS`) go under ``match``; the others (``latency``,
        ``chunkSize``, ``chaos``, ``streamingProfile``, ...) onto the fixture entry.
        """
        timeout_ms = opts.pop("callback_timeout_ms", None)
        if callable(response):
            response = self.callback(response, timeout_ms)
        elif timeout_ms is not None:
            raise TypeError("callback_timeout_ms is only for a callable response")
        fixture_match = dict(match)
        fixture: dict[str, Any] = {"match": fixture_match, "response": response}
        for key, value in opts.items():
            if key in MATCH_LEVEL_OPT_KEYS:
                fixture_match[key] = value
            else:
                fixture[key] = value
        self._check(self._control_request("POST", "/fixtures", {"fixtures": [fixture]}), "add_fixture")
        return self

    def on_message(self, pattern: Any, response: dict[str, Any] | Callable[..., Any], **opts: Any) -> AIMockServer:
        """A fixture matching the last user message (``userMessage``: a substring, or
        ``{"regex": ...}`` / ``{"equals": ...}``)."""
        return self.add_fixture({"userMessage": pattern}, response, **opts)

    def on_embedding(self, pattern: Any, response: dict[str, Any] | Callable[..., Any], **opts: Any) -> AIMockServer:
        """A fixture matching an embedding request's input (``inputText``). The response is a
        literal ``{"embedding": [...]}``: the server renders callbacks for chat replies only."""
        if callable(response):
            raise TypeError(
                "on_embedding takes a literal {'embedding': [...]}: the server renders "
                "function (callback) responses for chat replies only, not embeddings"
            )
        return self.add_fixture({"inputText": pattern}, response, **opts)

    def on_system_message(
        self,
        pattern: str | list[str],
        response: dict[str, Any] | Callable[..., Any],
        *,
        user_message: str | None = None,
        **opts: Any,
    ) -> AIMockServer:
        """A fixture matching the system prompt (``systemMessage``); a list of substrings must
        all appear. ``user_message=`` also gates on the user's message."""
        match: dict[str, Any] = {"systemMessage": pattern}
        if user_message is not None:
            match["userMessage"] = user_message
        return self.add_fixture(match, response, **opts)

    def load_fixtures(self, path: str | os.PathLike[str]) -> AIMockServer:
        """POST a JSON fixture file: ``{"fixtures": [...]}``, a list of fixtures, or one fixture.

        A 400 raises :class:`ControlAPIError` naming the file and every problem the server found.
        """
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict) and "mcpFakes" in data:
            raise RuntimeError(f"{path}: mcpFakes are not supported by aimock-rs (configure MCP tools with `mcp`)")
        if isinstance(data, list):
            body: dict[str, Any] = {"fixtures": data}
        elif isinstance(data, dict) and "fixtures" in data:
            body = {"fixtures": data["fixtures"]}
        elif isinstance(data, dict):
            body = {"fixtures": [data]}
        else:
            raise ValueError(f"Invalid fixture file {path}: expected a JSON object or array, got {type(data).__name__}")
        self._check(self._control_request("POST", "/fixtures", body), f"aimock rejected fixtures from {path}")
        return self

    def clear_fixtures(self) -> AIMockServer:
        """Remove every fixture (``DELETE /__aimock/fixtures``)."""
        self._check(self._control_request("DELETE", "/fixtures"), "clear_fixtures")
        return self

    def reset(self) -> AIMockServer:
        """Full reset (``POST /__aimock/reset``): fixtures, journal, sequence counts, queued errors."""
        self._check(self._control_request("POST", "/reset"), "reset")
        return self

    def reset_fixtures(self) -> AIMockServer:
        """Alias for :meth:`reset` (a full reset, as in aimock-pytest)."""
        return self.reset()

    def reset_journal(self) -> AIMockServer:
        """Clear the journal only; fixtures stay (``POST /__aimock/reset/journal``)."""
        self._check(self._control_request("POST", "/reset/journal"), "reset_journal")
        return self

    # ── journal and errors ──────────────────────────────────────────────

    def get_journal(self, **filters: Any) -> list[dict[str, Any]]:
        """The recorded requests, oldest first. Optional filters: ``method``, ``path``,
        ``status``, ``service``, ``testId``, ``requestId``, ``limit``, ``offset``."""
        r = self._check(self._control_request("GET", "/journal", params=filters), "get_journal")
        return r.json()  # type: ignore[no-any-return]

    def get_last_request(self) -> dict[str, Any] | None:
        """The most recent journal entry, or ``None``."""
        journal = self.get_journal()
        return journal[-1] if journal else None

    def next_error(self, status: int, body: dict[str, Any] | None = None) -> AIMockServer:
        """The next request fails once with ``status`` and ``body`` (``message``, ``type``,
        ``code``), in the provider's error envelope (``POST /__aimock/error``)."""
        self._check(
            self._control_request("POST", "/error", {"status": status, "body": body or {}}),
            "next_error",
        )
        return self
