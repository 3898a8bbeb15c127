"""Python functions as fixture responses.

A fixture whose response is ``{"callback": {"url": ..., "timeoutMs": ...}}`` makes the server POST
the matched request to that URL and render the JSON object that comes back as the fixture's
response. :class:`CallbackServer` is that URL's other end: a loopback HTTP server (standard
library, one thread per request, so a slow function never holds up another) that calls the
registered Python function and answers with what it returns.

What the function gets: for an LLM request (``"kind": "llm"``) a :class:`CallbackRequest`, the
provider-neutral request as a dict (``model``, ``messages``, ``tools``, ...) with the rest of the
envelope as attributes (``provider``, ``endpoint``, ``path``, ``stream``, ``test_id``). For the
other kinds (``mcp.tool``, ``vector.query``) the whole envelope, as a ``CallbackRequest`` too.

What it may return: a dict (a fixture response: ``{"content": ...}``, ``{"toolCalls": [...]}``,
``{"error": {...}, "status": 429}``, an MCP ``CallToolResult``, vector matches ...), a list (for
``vector.query``: the matches), or a str (``{"content": str}`` for LLM requests). Anything else,
or an exception, is answered with a 500 that names it, which the server turns into a 502
``callback_failed`` in the provider's error envelope.
"""

from __future__ import annotations

import itertools
import json
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["CallbackRequest", "CallbackServer"]


class CallbackRequest(dict):  # type: ignore[type-arg]
    """The request a callback answers: a dict, with the envelope's other fields as attributes."""

    kind: str
    provider: str | None
    endpoint: str | None
    path: str | None
    stream: bool
    test_id: str | None
    payload: dict[str, Any]

    def __init__(self, payload: dict[str, Any]) -> None:
        kind = payload.get("kind", "llm")
        body = payload.get("request") if kind == "llm" else payload
        super().__init__(body if isinstance(body, dict) else {})
        self.kind = kind
        self.provider = payload.get("provider")
        self.endpoint = payload.get("endpoint")
        self.path = payload.get("path")
        self.stream = bool(payload.get("stream", False))
        self.test_id = payload.get("testId")
        self.payload = payload


Handler = Callable[[CallbackRequest], Any]


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    # Many concurrent callbacks queue here before a thread picks each up.
    request_queue_size = 128
    handlers: dict[str, Handler]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The server gave up on a slow callback (its timeout) and closed the connection
        # before the answer was written: nothing to report.
        pass


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Http
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        key = self.path.rstrip("/").rsplit("/", 1)[-1]
        handler = self.server.handlers.get(key)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if handler is None:
            self._answer(404, {"error": f"no callback registered at {self.path}"})
            return
        try:
            payload = json.loads(raw or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the callback payload is not a JSON object")
        except ValueError as e:
            self._answer(400, {"error": f"bad callback payload: {e}"})
            return
        request = CallbackRequest(payload)
        try:
            result = handler(request)
        except Exception as e:  # the test's function failed: say how, the server answers 502
            tb = traceback.format_exception_only(type(e), e)[-1].strip()
            self._answer(500, {"error": f"callback {getattr(handler, '__name__', key)} raised {tb}"})
            return
        if isinstance(result, str) and request.kind == "llm":
            result = {"content": result}
        if not isinstance(result, (dict, list, str)):
            name = getattr(handler, "__name__", key)
            self._answer(
                500,
                {"error": f"callback {name} returned {type(result).__name__}, not a dict (a fixture response)"},
            )
            return
        self._answer(200, result)


class CallbackServer:
    """A loopback HTTP endpoint that runs Python functions for the fixtures that name them."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._http: _Http | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._handlers: dict[str, Handler] = {}

    @property
    def running(self) -> bool:
        return self._http is not None

    def start(self) -> None:
        with self._lock:
            if self._http is not None:
                return
            http = _Http((self._host, 0), _RequestHandler)
            http.handlers = self._handlers
            self._thread = threading.Thread(
                target=http.serve_forever, kwargs={"poll_interval": 0.1}, name="aimock-callbacks", daemon=True
            )
            self._thread.start()
            self._http = http

    def stop(self) -> None:
        with self._lock:
            http, self._http = self._http, None
            thread, self._thread = self._thread, None
        if http is not None:
            http.shutdown()
            http.server_close()
        if thread is not None:
            thread.join(timeout=2)

    def register(self, fn: Handler) -> str:
        """Serve ``fn`` and return the URL that calls it."""
        if not callable(fn):
            raise TypeError(f"a callback must be callable, got {type(fn).__name__}")
        self.start()
        assert self._http is not None
        key = f"fn{next(self._ids)}"
        self._handlers[key] = fn
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}/aimock-callback/{key}"
