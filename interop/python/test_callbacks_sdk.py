"""Callback responses ("functions as responses"), seen by the official ``openai`` SDK.

A fixture added through the control API names a callback (a small HTTP server this test runs on
127.0.0.1); aimock POSTs it the provider-neutral request and renders its reply as a fixture reply,
whole or streamed; a failing callback reaches the SDK as its exception with aimock's status.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import openai
import pytest

MODEL = "gpt-4o-mini"


class _Callbacks:
    """A callback server: POST /echo answers with the last user message; /fail answers 500."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                payload = json.loads(self.rfile.read(length))
                outer.payloads.append(payload)
                if self.path == "/fail":
                    self._send(500, b"callback exploded")
                    return
                text = payload["request"]["messages"][-1]["content"]
                reply = {"content": f"callback saw: {text}", "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
                self._send(200, json.dumps(reply).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def callbacks() -> Iterator[_Callbacks]:
    cb = _Callbacks()
    yield cb
    cb.close()


@pytest.fixture
def served(start_aimock: Callable[..., Any], make_client: Callable[..., openai.OpenAI], callbacks: _Callbacks):  # type: ignore[no-untyped-def]
    server = start_aimock(fixtures=())
    r = server.add_fixtures(
        [
            {"match": {"userMessage": "[cb-fail]"}, "response": {"callback": f"{callbacks.url}/fail"}},
            {"match": {"userMessage": "[cb]"}, "response": {"callback": {"url": f"{callbacks.url}/echo", "timeoutMs": 5000}}},
        ]
    )
    assert r.status == 200, r
    return server, make_client(server.url)


def test_a_callback_reply_is_a_chat_completion(served, callbacks: _Callbacks) -> None:  # type: ignore[no-untyped-def]
    server, client = served
    done = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[cb] hello"}])
    assert done.choices[0].message.content == "callback saw: [cb] hello"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.completion_tokens == 4

    assert len(callbacks.payloads) == 1
    p = callbacks.payloads[0]
    assert p["kind"] == "llm"
    assert p["provider"] == "openai"
    assert p["endpoint"] == "chat"
    assert p["path"] == "/v1/chat/completions"
    assert p["stream"] is False
    assert p["testId"] == "__default__"
    assert p["request"]["model"] == MODEL
    # The request is the one the journal shows.
    assert server.journal()[0]["body"] == p["request"]


def test_a_callback_reply_streams(served, callbacks: _Callbacks) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[cb] stream please"}], stream=True
    )
    chunks = [c for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "callback saw: [cb] stream please"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert callbacks.payloads[0]["stream"] is True


def test_a_failing_callback_is_the_sdks_502_error(served) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[cb-fail] now"}])
    assert info.value.status_code == 502
    body = info.value.body
    assert isinstance(body, dict)
    assert body["code"] == "callback_failed"
    assert "callback exploded" in body["message"]
