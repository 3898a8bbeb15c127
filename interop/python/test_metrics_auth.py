"""``--metrics`` and inbound API keys (``AIMOCK_API_KEYS``), seen by real clients.

* ``/metrics`` is scraped and parsed by ``prometheus_client``'s own parsers: the Prometheus text
  parser (``prometheus_client.parser``) on the default answer and the OpenMetrics parser when the
  scrape asks for OpenMetrics, as Prometheus does. Counts, histogram buckets and the fixtures gauge
  are checked after known requests.
* With keys configured, each official SDK sends its key its own way: ``openai`` (Bearer),
  ``AzureOpenAI`` (``api-key``), ``anthropic`` (``x-api-key``), ``google-genai``
  (``x-goog-api-key``), ``cohere`` (Bearer). A right key is answered; a wrong key makes each SDK
  raise its own authentication error. Gemini REST users' ``?key=`` works too.

The server is started here, not with ``conftest.start_server``: that helper takes no environment
and waits on ``/__aimock/health``, which the key check protects. This module waits on the public
``/health`` instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any, Callable, Iterator

import anthropic
import cohere
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gtypes
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from conftest import (
    FIXTURES_DIR,
    REPO_ROOT,
    REQUEST_TIMEOUT_S,
    STARTUP_TIMEOUT_S,
    AimockServer,
    aimock_bin,
    http_request,
    stop_server,
)

CROSS = FIXTURES_DIR / "cross" / "conversation.json"
GREETING = "Hello"
GREETING_REPLY = "Hello! I am the aimock travel assistant. Ask me about the weather anywhere."
KEY = "sk-aimock-right-key"
OTHER_KEY = "sk-aimock-second-key"
WRONG_KEY = "sk-aimock-wrong-key"
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf")]


def start_with_env(args: list[str], env: dict[str, str]) -> AimockServer:
    cmd = [str(aimock_bin()), "-f", str(CROSS), "-p", "0", "--host", "127.0.0.1", *args]
    if not aimock_bin().exists():
        pytest.fail(f"aimock binary not found at {aimock_bin()}; set AIMOCK_BIN", pytrace=False)
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
        # The caller's keys only: an AIMOCK_API_KEYS in the runner's environment is not inherited.
        env={**{k: v for k, v in os.environ.items() if k != "AIMOCK_API_KEYS"}, **env},
    )
    server = AimockServer(proc, cmd)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    if not server._listening.wait(STARTUP_TIMEOUT_S) or not server.url:
        server.stop()
        raise RuntimeError(f"aimock did not start:\n{server.output()}")
    while time.monotonic() < deadline:
        try:
            if http_request("GET", server.url + "/health", timeout=2).status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"/health never answered:\n{server.output()}")


@pytest.fixture(scope="module")
def keyed() -> Iterator[AimockServer]:
    """Metrics on, two accepted keys."""
    server = start_with_env(["--metrics"], {"AIMOCK_API_KEYS": f"{KEY},{OTHER_KEY}"})
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def fresh() -> Iterator[AimockServer]:
    """Metrics on, no keys."""
    server = start_with_env(["--metrics"], {})
    try:
        yield server
    finally:
        stop_server(server)


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample_value(family: Any, name: str, **labels: str) -> float | None:
    for s in family.samples:
        if s.name == name and s.labels == labels:
            return s.value
    return None


def openai_client(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=REQUEST_TIMEOUT_S)


# ------------------------------------------------------------------------------------- metrics


def test_a_scrape_parses_with_the_prometheus_text_parser_and_counts_known_requests(fresh: AimockServer) -> None:
    client = openai_client(fresh.url, "sk-test")
    for _ in range(3):
        r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": GREETING}])
        assert r.choices[0].message.content == GREETING_REPLY
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "no fixture for this"}])
    for i in range(4):
        assert fresh.request("GET", f"/random/{i}").status == 404

    r = fresh.request("GET", "/metrics")
    assert r.status == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    fams = families(r.body.decode())

    requests = fams["aimock_requests"]
    assert requests.type == "counter"
    total = "aimock_requests_total"
    assert sample_value(requests, total, method="POST", path="/v1/chat/completions", status="200") == 3
    assert sample_value(requests, total, method="POST", path="/v1/chat/completions", status="404") == 1
    assert sample_value(requests, total, method="GET", path="{unknown}", status="404") == 4
    assert not any("random" in s.labels.get("path", "") for s in requests.samples)

    hist = fams["aimock_request_duration_seconds"]
    assert hist.type == "histogram"
    labels = {"method": "POST", "path": "/v1/chat/completions"}
    buckets = [s for s in hist.samples if s.name.endswith("_bucket") and all(s.labels[k] == v for k, v in labels.items())]
    assert [float(s.labels["le"]) for s in buckets] == BUCKETS
    values = [s.value for s in buckets]
    assert values == sorted(values), "buckets are cumulative"
    count = sample_value(hist, "aimock_request_duration_seconds_count", **labels)
    assert count == 4 and values[-1] == count

    fixtures = len(json.loads(CROSS.read_text())["fixtures"])
    assert sample_value(fams["aimock_fixtures_loaded"], "aimock_fixtures_loaded") == fixtures

    for name in ("aimock_chaos_triggered", "aimock_chaos_bypassed", "aimock_mcp_requests", "aimock_a2a_requests",
                 "aimock_vector_requests", "aimock_agui_requests"):
        assert fams[name].type == "counter", name


def test_the_fixtures_gauge_and_chaos_counters_follow_the_server(fresh: AimockServer) -> None:
    def gauge() -> float | None:
        fams = families(fresh.request("GET", "/metrics").body.decode())
        return sample_value(fams["aimock_fixtures_loaded"], "aimock_fixtures_loaded")

    before = gauge()
    assert before and before > 0
    r = fresh.add_fixtures([{"match": {"userMessage": "x"}, "response": {"content": "y"}}])
    assert r.status < 300, r
    assert gauge() == before + 1
    assert fresh.clear_fixtures().status < 300
    assert gauge() == 0

    client = openai_client(fresh.url, "sk-test")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": GREETING}],
            extra_headers={"x-aimock-chaos-drop": "1"},
        )
    fams = families(fresh.request("GET", "/metrics").body.decode())
    drops = [s for s in fams["aimock_chaos_triggered"].samples if s.labels.get("action") == "drop"]
    assert sum(s.value for s in drops) == 1, drops


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(fresh: AimockServer) -> None:
    def health_count() -> float | None:
        r = fresh.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert r.headers["content-type"].startswith("application/openmetrics-text")
        fams = {f.name: f for f in parse_openmetrics(r.body.decode())}
        return sample_value(fams["aimock_requests"], "aimock_requests_total", method="GET", path="/health", status="200")

    before = health_count() or 0
    fresh.request("GET", "/health")
    fresh.request("GET", "/health")
    assert health_count() == before + 2


# ---------------------------------------------------------------------------------------- auth


def openai_chat(url: str, key: str) -> str | None:
    c = openai_client(url, key)
    return c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": GREETING}]).choices[0].message.content


def azure_chat(url: str, key: str) -> str | None:
    c = openai.AzureOpenAI(azure_endpoint=url, api_version="2024-10-21", api_key=key, max_retries=0, timeout=REQUEST_TIMEOUT_S)
    r = c.chat.completions.create(model="my-gpt4o-deployment", messages=[{"role": "user", "content": GREETING}])
    return r.choices[0].message.content


def anthropic_chat(url: str, key: str) -> str | None:
    c = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0, timeout=REQUEST_TIMEOUT_S)
    r = c.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": GREETING}])
    return r.content[0].text  # type: ignore[union-attr]


def gemini_chat(url: str, key: str) -> str | None:
    options = gtypes.HttpOptions(base_url=url, timeout=int(REQUEST_TIMEOUT_S * 1000))
    c = genai.Client(api_key=key, http_options=options)
    return c.models.generate_content(model="gemini-2.0-flash", contents=GREETING).text


def cohere_chat(url: str, key: str) -> str | None:
    c = cohere.ClientV2(api_key=key, base_url=url, timeout=REQUEST_TIMEOUT_S)
    r = c.chat(model="command-r-plus", messages=[{"role": "user", "content": GREETING}])
    return r.message.content[0].text  # type: ignore[index,union-attr]


def is_gemini_401(e: BaseException) -> bool:
    return isinstance(e, genai_errors.ClientError) and e.code == 401 and e.status == "UNAUTHENTICATED"


def is_cohere_401(e: BaseException) -> bool:
    from cohere.errors import UnauthorizedError

    return isinstance(e, UnauthorizedError) and e.status_code == 401


SDKS: list[tuple[str, Callable[[str, str], str | None], Callable[[BaseException], bool]]] = [
    ("openai-bearer", openai_chat, lambda e: isinstance(e, openai.AuthenticationError)),
    ("azure-api-key", azure_chat, lambda e: isinstance(e, openai.AuthenticationError)),
    ("anthropic-x-api-key", anthropic_chat, lambda e: isinstance(e, anthropic.AuthenticationError)),
    ("gemini-x-goog-api-key", gemini_chat, is_gemini_401),
    ("cohere-bearer", cohere_chat, is_cohere_401),
]


@pytest.mark.parametrize("name,call,is_auth_error", SDKS, ids=[s[0] for s in SDKS])
def test_each_sdk_is_answered_with_a_right_key_and_raises_its_auth_error_with_a_wrong_one(
    keyed: AimockServer, name: str, call: Callable[[str, str], str | None], is_auth_error: Callable[[BaseException], bool]
) -> None:
    assert call(keyed.url, KEY) == GREETING_REPLY
    assert call(keyed.url, OTHER_KEY) == GREETING_REPLY
    with pytest.raises(Exception) as info:
        call(keyed.url, WRONG_KEY)
    assert is_auth_error(info.value), f"{name}: {type(info.value).__mro__}: {info.value}"


def test_gemini_rest_users_key_query_parameter_is_checked(keyed: AimockServer) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": GREETING}]}]}
    path = "/v1beta/models/gemini-2.0-flash:generateContent"
    ok = keyed.request("POST", f"{path}?key={KEY}", body=body)
    assert ok.status == 200, ok
    refused = keyed.request("POST", f"{path}?key={WRONG_KEY}", body=body)
    assert refused.status == 401
    assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
    assert refused.headers["www-authenticate"] == 'Bearer realm="aimock"'


def test_health_and_metrics_are_public_and_the_control_api_needs_a_key(keyed: AimockServer) -> None:
    assert keyed.request("GET", "/health").status == 200
    assert keyed.request("GET", "/ready").status == 200
    assert keyed.request("GET", "/metrics").status == 200
    refused = keyed.request("GET", "/__aimock/journal")
    assert refused.status == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert "x-request-id" in refused.headers
    assert refused.headers["access-control-allow-origin"] == "*"
    journal = keyed.request("GET", "/__aimock/journal", headers={"Authorization": f"Bearer {KEY}"})
    assert journal.status == 200
    assert KEY not in journal.body.decode()
    assert WRONG_KEY not in "\n".join(keyed.lines), "a key reached the server's output"
