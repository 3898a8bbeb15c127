"""Shared fixtures for the official-SDK conformance suite.

The suite drives the real `aimock` binary (``AIMOCK_BIN``, default
``<repo>/target/release/aimock``) with the official ``openai`` Python SDK.

* ``aimock`` (session scope) is one server on ``interop/fixtures/openai``.
  Before every test its journal is cleared with ``POST /__aimock/reset/journal``
  (fixtures and sequence counters are kept; tests that use ``sequenceIndex``
  use their own ``X-Test-Id`` values so counters never leak between tests).
* ``start_aimock`` (function scope) starts extra servers with other flags
  (``--strict``, ``--chunk-size``...) or for tests that change fixtures through
  the control API; they are stopped when the test ends.
* ``client`` / ``make_client`` build ``openai.OpenAI`` clients with
  ``max_retries=0`` and, unless ``AIMOCK_INTEROP_LENIENT=1``, the SDK's own
  ``_strict_response_validation=True``: every JSON body, SSE chunk and Responses
  event is then validated against the SDK's pydantic types, so a missing
  required field (``object``, ``created``, ``sequence_number``...) fails the test
  instead of being silently tolerated. (Exception: the SDK types embeddings as
  ``List[float]``, so base64 embedding tests use a non-strict client.)

Every address used is 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import openai
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "interop" / "fixtures"
OPENAI_FIXTURES = FIXTURES_DIR / "openai"
API_KEY = "sk-test"
LISTENING_RE = re.compile(r"listening on (http://\S+)")
STARTUP_TIMEOUT_S = float(os.environ.get("AIMOCK_STARTUP_TIMEOUT", "30"))
REQUEST_TIMEOUT_S = 20.0

# Never send loopback traffic through a proxy, whatever the environment says.
for _var in ("NO_PROXY", "no_proxy"):
    _current = os.environ.get(_var, "")
    os.environ[_var] = ",".join(p for p in (_current, "127.0.0.1", "localhost") if p)


def aimock_bin() -> Path:
    return Path(os.environ.get("AIMOCK_BIN") or REPO_ROOT / "target" / "release" / "aimock")


def strict_validation() -> bool:
    return os.environ.get("AIMOCK_INTEROP_LENIENT", "") not in ("1", "true", "yes")


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self) -> str:
        return f"ControlResponse(status={self.status}, body={self.body[:300]!r})"


def http_request(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT_S,
    raw: bytes | None = None,
) -> ControlResponse:
    """Plain HTTP call (stdlib only) for the control API and raw checks.

    ``body`` is sent as JSON; ``raw`` is sent as-is (for malformed-body tests).
    """
    data = raw
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _NO_PROXY_OPENER.open(req, timeout=timeout) as resp:
            return ControlResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return ControlResponse(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


class AimockServer:
    """A running aimock process and helpers for its control API."""

    def __init__(self, proc: subprocess.Popen[str], args: list[str]) -> None:
        self.proc = proc
        self.args = args
        self.url = ""
        self.lines: list[str] = []
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read_output, name="aimock-output", daemon=True)
        self._reader.start()

    # -- process management -------------------------------------------------
    def _read_output(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            if not self._listening.is_set():
                m = LISTENING_RE.search(line)
                if m:
                    self.url = m.group(1).rstrip("/")
                    self._listening.set()
        self._listening.set()  # EOF: unblock the waiter; it checks self.url

    def output(self, last: int = 60) -> str:
        return "\n".join(self.lines[-last:])

    def _fail(self, why: str) -> None:
        self.stop()
        raise RuntimeError(
            f"aimock did not start ({why}).\ncommand: {' '.join(self.args)}\n--- output ---\n{self.output()}"
        )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        if not self._listening.wait(timeout):
            self._fail(f"no 'listening on' line within {timeout:.0f}s")
        if not self.url:
            try:
                code = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            self._fail(f"output closed before a 'listening on' line (exit code {code})")
        if not self.url.startswith("http://127.0.0.1:"):
            self._fail(f"server announced {self.url!r}, expected http://127.0.0.1:<port>")
        last_err: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._fail(f"process exited with code {self.proc.returncode}")
            try:
                r = http_request("GET", self.url + "/__aimock/health", timeout=2)
                if r.status == 200:
                    return
                last_err = r
            except OSError as err:
                last_err = err
            time.sleep(0.05)
        self._fail(f"GET /__aimock/health never returned 200 (last: {last_err!r})")

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(2)
        return self.proc.returncode

    # -- control API ----------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> ControlResponse:
        return http_request(method, self.url + path, body=body, headers=headers, raw=raw)

    def journal(self) -> list[dict[str, Any]]:
        r = self.request("GET", "/__aimock/journal")
        assert r.status == 200, r
        entries = r.json()
        assert isinstance(entries, list), entries
        return entries

    def reset_journal(self) -> None:
        r = self.request("POST", "/__aimock/reset/journal")
        assert r.status == 200, r

    def reset(self) -> None:
        r = self.request("POST", "/__aimock/reset")
        assert r.status == 200, r

    def add_fixtures(self, fixtures: list[dict[str, Any]]) -> ControlResponse:
        return self.request("POST", "/__aimock/fixtures", {"fixtures": fixtures})

    def clear_fixtures(self) -> ControlResponse:
        return self.request("DELETE", "/__aimock/fixtures")


_RUNNING: list[AimockServer] = []


def start_server(fixtures: Sequence[os.PathLike[str] | str] = (OPENAI_FIXTURES,), args: Sequence[str] = ()) -> AimockServer:
    """Start `aimock -f <each fixture path> -p 0 --host 127.0.0.1 <args>` and wait until it is healthy."""
    binary = aimock_bin()
    if not binary.exists():
        pytest.fail(
            f"aimock binary not found at {binary}. Build it (cargo build --release -p aimock-cli) "
            "or set AIMOCK_BIN.",
            pytrace=False,
        )
    cmd = [str(binary)]
    for f in fixtures:
        cmd += ["-f", str(f)]
    cmd += ["-p", "0", "--host", "127.0.0.1", *args]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        cwd=REPO_ROOT,
    )
    server = AimockServer(proc, cmd)
    server.wait_ready()
    _RUNNING.append(server)
    return server


def stop_server(server: AimockServer) -> None:
    server.stop()
    if server in _RUNNING:
        _RUNNING.remove(server)


@contextlib.contextmanager
def aimock_server(fixtures: Sequence[os.PathLike[str] | str] = (OPENAI_FIXTURES,), args: Sequence[str] = ()) -> Iterator[AimockServer]:
    server = start_server(fixtures, args)
    try:
        yield server
    finally:
        stop_server(server)


def new_client(base_url: str, **kwargs: Any) -> openai.OpenAI:
    opts: dict[str, Any] = {
        "base_url": base_url + "/v1",
        "api_key": API_KEY,
        "max_retries": 0,
        "timeout": REQUEST_TIMEOUT_S,
        "_strict_response_validation": strict_validation(),
    }
    opts.update(kwargs)
    return openai.OpenAI(**opts)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def aimock() -> Iterator[AimockServer]:
    server = start_server([OPENAI_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def aimock_url(aimock: AimockServer) -> str:
    return aimock.url


@pytest.fixture(autouse=True)
def _fresh_journal(aimock: AimockServer) -> None:
    """Each test starts with an empty journal on the shared server."""
    aimock.reset_journal()


@pytest.fixture
def start_aimock() -> Iterator[Callable[..., AimockServer]]:
    """Factory: ``start_aimock(args=["--strict"])`` -> a private server, stopped after the test."""
    started: list[AimockServer] = []

    def _start(fixtures: Sequence[os.PathLike[str] | str] = (OPENAI_FIXTURES,), args: Sequence[str] = ()) -> AimockServer:
        server = start_server(fixtures, args)
        started.append(server)
        return server

    yield _start
    for server in started:
        stop_server(server)


@pytest.fixture
def make_client() -> Iterator[Callable[..., openai.OpenAI]]:
    clients: list[openai.OpenAI] = []

    def _make(base_url: str, **kwargs: Any) -> openai.OpenAI:
        c = new_client(base_url, **kwargs)
        clients.append(c)
        return c

    yield _make
    for c in clients:
        c.close()


@pytest.fixture
def client(aimock: AimockServer, make_client: Callable[..., openai.OpenAI]) -> openai.OpenAI:
    return make_client(aimock.url)


@pytest.fixture
def server(start_aimock: Callable[..., AimockServer]) -> AimockServer:
    """A private server on the OpenAI fixtures, for tests that change its state (a module may
    override it, with its own fixtures)."""
    return start_aimock()


@pytest.fixture
def sdk(server: AimockServer, make_client: Callable[..., openai.OpenAI]) -> openai.OpenAI:
    """An openai client of `server`."""
    return make_client(server.url)


@pytest.fixture
def azure_client(aimock: AimockServer) -> Iterator[openai.AzureOpenAI]:
    c = openai.AzureOpenAI(
        azure_endpoint=aimock.url,
        api_version="2024-10-21",
        api_key="x",
        max_retries=0,
        timeout=REQUEST_TIMEOUT_S,
        _strict_response_validation=strict_validation(),
    )
    yield c
    c.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and _RUNNING:
        for server in _RUNNING:
            report.sections.append((f"aimock output ({server.url or 'not listening'})", server.output(40)))
