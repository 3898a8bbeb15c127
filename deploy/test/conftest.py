"""Shared helpers for scripts/test-deploy: tool paths (from its environment), free ports, and
starting the aimock binary and talking to it over 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    path = os.environ.get(name)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"{name} is not set to an executable (run the tests through scripts/test-deploy)")
    return path


@pytest.fixture(scope="session")
def aimock_bin() -> str:
    return tool("AIMOCK_BIN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: object | None = None, headers: dict | None = None, timeout: float = 5):
    """(status, headers, parsed JSON body or text) of one request; HTTP errors are returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, hdrs, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    text = raw.decode()
    try:
        return status, hdrs, json.loads(text)
    except json.JSONDecodeError:
        return status, hdrs, text


def chat(base: str, text: str) -> dict:
    status, _, body = http(
        "POST",
        f"{base}/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]},
    )
    assert status == 200, (status, body)
    return body["choices"][0]["message"]


def wait_ready(base: str, proc: subprocess.Popen | None = None, path: str = "/health", timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"aimock exited with {proc.returncode} before answering {path}:\n{out}")
        try:
            if http("GET", base + path, timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{base}{path} did not answer within {timeout}s")


class Server:
    """The binary run with an argv, stopped (and its output kept) at the end of the test."""

    def __init__(self, argv: list[str], cwd: Path | str | None = None):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stdout.read() if self.proc.stdout else ""


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(argv: list[str], cwd: Path | str | None = None) -> Server:
        s = Server(argv, cwd)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
