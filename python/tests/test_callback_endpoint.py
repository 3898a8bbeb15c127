"""The plugin's side of the callback contract on its own: the loopback endpoint that runs the
Python functions, posted to as the server posts (the contract's payload), without a server."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aimock_rs import CallbackRequest, CallbackServer

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

LLM_PAYLOAD = {
    "kind": "llm",
    "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "weather in Paris"}]},
    "provider": "openai",
    "endpoint": "chat",
    "path": "/v1/chat/completions",
    "stream": True,
    "testId": "t-1",
}


def post(url: str, body: Any, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def endpoint() -> Any:
    server = CallbackServer()
    yield server
    server.stop()


def test_the_function_gets_the_request_and_the_envelope(endpoint: CallbackServer) -> None:
    seen: list[CallbackRequest] = []

    def fn(req: CallbackRequest) -> dict[str, Any]:
        seen.append(req)
        return {"content": "sunny"}

    url = endpoint.register(fn)
    assert url.startswith("http://127.0.0.1:")
    assert post(url, LLM_PAYLOAD) == (200, {"content": "sunny"})
    req = seen[0]
    assert dict(req) == LLM_PAYLOAD["request"]
    assert (req.kind, req.provider, req.endpoint, req.path, req.stream, req.test_id) == (
        "llm",
        "openai",
        "chat",
        "/v1/chat/completions",
        True,
        "t-1",
    )
    assert req.payload == LLM_PAYLOAD


def test_other_kinds_get_the_whole_payload(endpoint: CallbackServer) -> None:
    url = endpoint.register(lambda req: {"content": [{"type": "text", "text": req["name"]}], "isError": False})
    payload = {"kind": "mcp.tool", "name": "search", "arguments": {"q": "x"}}
    assert post(url, payload) == (200, {"content": [{"type": "text", "text": "search"}], "isError": False})
    vurl = endpoint.register(lambda req: [{"id": "a", "score": 0.9}] if req["topK"] == 1 else [])
    assert post(vurl, {"kind": "vector.query", "collection": "docs", "vector": [0.1], "topK": 1}) == (
        200,
        [{"id": "a", "score": 0.9}],
    )


def test_a_string_is_the_content(endpoint: CallbackServer) -> None:
    url = endpoint.register(lambda req: "plain text")
    assert post(url, LLM_PAYLOAD) == (200, {"content": "plain text"})


def test_failures_are_500s_that_say_why(endpoint: CallbackServer) -> None:
    def broken(req: CallbackRequest) -> Any:
        raise KeyError("no such city")

    status, body = post(endpoint.register(broken), LLM_PAYLOAD)
    assert status == 500 and "broken raised KeyError" in body["error"] and "no such city" in body["error"]
    status, body = post(endpoint.register(lambda req: 42), LLM_PAYLOAD)
    assert status == 500 and "returned int" in body["error"]


def test_bad_payloads_and_unknown_paths(endpoint: CallbackServer) -> None:
    url = endpoint.register(lambda req: {"content": "x"})
    status, body = post(url, None, raw=b"{not json")
    assert status == 400 and "bad callback payload" in body["error"]
    status, body = post(url, [1, 2])
    assert status == 400
    status, body = post(url.rsplit("/", 1)[0] + "/fn999", LLM_PAYLOAD)
    assert status == 404 and "no callback" in body["error"]


def test_register_refuses_what_is_not_callable(endpoint: CallbackServer) -> None:
    with pytest.raises(TypeError, match="callable"):
        endpoint.register({"content": "x"})  # type: ignore[arg-type]


def test_calls_run_in_parallel_threads(endpoint: CallbackServer) -> None:
    def slow(req: CallbackRequest) -> dict[str, Any]:
        time.sleep(0.6)
        return {"content": "done"}

    url = endpoint.register(slow)
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: post(url, LLM_PAYLOAD), range(8)))
    assert results == [(200, {"content": "done"})] * 8
    assert time.monotonic() - t0 < 3.0  # one after another: 4.8 s


def test_stop_closes_the_endpoint(endpoint: CallbackServer) -> None:
    url = endpoint.register(lambda req: "x")
    endpoint.stop()
    assert not endpoint.running
    with pytest.raises(urllib.error.URLError):
        OPENER.open(urllib.request.Request(url, data=b"{}", method="POST"), timeout=2)
