#!/usr/bin/env python3
"""Helpers for bench/run.sh (standard library only).

Sub-commands:
  gen OUTDIR                 write the fixture sets and request bodies
  freeport                   print a free TCP port on 127.0.0.1
  spawn ...                  start a server, time spawn -> first good answer
  check SCENARIO PORT        send one request and verify the answer
  capture SCENARIO PORT OUT  send one request, verify it, write the body to OUT
                             and its headers to OUT.headers
  provider-scenarios         list the non-OpenAI scenarios, in run order
  report TSV OUT.md          turn the collected figures into markdown

All scenario definitions (fixtures, request bodies, expected answers) live in
this file so that the generator, the sanity checks and the load bodies cannot
drift apart.
"""

import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import time

# ---------------------------------------------------------------------------
# Scenario data
# ---------------------------------------------------------------------------

TARGET_MESSAGE = "benchmark target question"
TARGET_REPLY = "This is the benchmark reply to the target question."
STREAM_MESSAGE = "benchmark streaming question"
EMBED_INPUT = "benchmark embedding input"
EMBED_MISS_INPUT = "benchmark input that no fixture matches"
EMBED_DIMS = 1536
STREAM_CHARS = 800
STREAM_CHUNK = 20
LARGE_COUNT = 10_000
SMALL_COUNT = 10

_WORDS = ("the quick brown fox jumps over lazy dogs while mock servers "
          "stream tokens back to eager test suites every single day").split()


def filler_message(i):
    # Fixed width, so no filler is a substring of another one or of the
    # target (aimock matches userMessage as a substring).
    return "benchmark filler question %05d" % i


def filler_reply(i):
    return "Filler reply number %05d." % i


def stream_content():
    out, i = [], 0
    while sum(len(w) + 1 for w in out) < STREAM_CHARS + 20:
        out.append(_WORDS[i % len(_WORDS)])
        i += 1
    return " ".join(out)[:STREAM_CHARS]


def embed_vector():
    return [round(math.sin(i * 0.37) * 0.5, 6) for i in range(EMBED_DIMS)]


def chat_fixture(msg, reply):
    return {"match": {"userMessage": msg}, "response": {"content": reply}}


def small_set():
    """10 fixtures: stream, embedding, 7 chat fillers, chat target (last)."""
    fx = [
        {"match": {"userMessage": STREAM_MESSAGE},
         "response": {"content": stream_content()},
         "chunkSize": STREAM_CHUNK},
        {"match": {"inputText": EMBED_INPUT},
         "response": {"embedding": embed_vector()}},
    ]
    fx += [chat_fixture(filler_message(i), filler_reply(i))
           for i in range(SMALL_COUNT - 3)]
    fx.append(chat_fixture(TARGET_MESSAGE, TARGET_REPLY))
    assert len(fx) == SMALL_COUNT
    return {"fixtures": fx}


def large_set():
    """10,000 chat fixtures, every userMessage distinct; target is the last."""
    fx = [chat_fixture(filler_message(i), filler_reply(i))
          for i in range(LARGE_COUNT - 1)]
    fx.append(chat_fixture(TARGET_MESSAGE, TARGET_REPLY))
    assert len(fx) == LARGE_COUNT
    return {"fixtures": fx}


BODIES = {
    "chat": {"model": "gpt-4o",
             "messages": [{"role": "user", "content": TARGET_MESSAGE}]},
    "stream": {"model": "gpt-4o", "stream": True,
               "messages": [{"role": "user", "content": STREAM_MESSAGE}]},
    "embed_hit": {"model": "text-embedding-3-small", "input": EMBED_INPUT},
    "embed_miss": {"model": "text-embedding-3-small", "input": EMBED_MISS_INPUT},
}
BODIES["chat10k"] = BODIES["chat"]

# The other providers' native APIs, answered from the same two fixtures as the
# OpenAI chat scenarios: "<p>" gets the plain target reply, "<p>_stream" the
# 800-character streaming fixture (chunkSize 20).
BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1%3A0"
PROVIDERS = [
    # key, label, plain path, streamed path
    ("anth", "Anthropic Messages", "/v1/messages", "/v1/messages"),
    ("gemini", "Gemini", "/v1beta/models/gemini-2.5-flash:generateContent",
     "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
    ("bedrock", "Bedrock Converse", "/model/%s/converse" % BEDROCK_MODEL,
     "/model/%s/converse-stream" % BEDROCK_MODEL),
    ("ollama", "Ollama chat", "/api/chat", "/api/chat"),
]


def provider_body(key, msg, stream):
    if key == "anth":
        b = {"model": "claude-sonnet-4-5", "max_tokens": 100,
             "messages": [{"role": "user", "content": msg}]}
        if stream:
            b["stream"] = True
        return b
    if key == "gemini":
        return {"contents": [{"role": "user", "parts": [{"text": msg}]}]}
    if key == "bedrock":
        return {"messages": [{"role": "user", "content": [{"text": msg}]}]}
    if key == "ollama":
        return {"model": "llama3.2", "stream": stream,
                "messages": [{"role": "user", "content": msg}]}
    raise KeyError(key)


PROVIDER_SCENARIOS = []
for _k, _label, _plain, _streamed in PROVIDERS:
    BODIES[_k] = provider_body(_k, TARGET_MESSAGE, False)
    BODIES[_k + "_stream"] = provider_body(_k, STREAM_MESSAGE, True)
    PROVIDER_SCENARIOS += [_k, _k + "_stream"]

# Record mode's cost: the same chat and stream requests sent through a server in
# --proxy-only mode (no fixtures) whose upstream is a second server of the same kind.
# Chaos evaluated but never firing: the chat request on a server started with every
# chaos rate at 0.
BODIES["proxy_chat"] = BODIES["chat"]
BODIES["proxy_stream"] = BODIES["stream"]
BODIES["chat_chaos0"] = BODIES["chat"]
SAME_AS = {"proxy_chat": "chat", "proxy_stream": "stream", "chat_chaos0": "chat"}

PATHS = {
    "proxy_chat": "/v1/chat/completions",
    "proxy_stream": "/v1/chat/completions",
    "chat_chaos0": "/v1/chat/completions",
    "chat": "/v1/chat/completions",
    "chat10k": "/v1/chat/completions",
    "stream": "/v1/chat/completions",
    "embed_hit": "/v1/embeddings",
    "embed_miss": "/v1/embeddings",
}
for _k, _label, _plain, _streamed in PROVIDERS:
    PATHS[_k] = _plain
    PATHS[_k + "_stream"] = _streamed


def cmd_gen(outdir):
    os.makedirs(os.path.join(outdir, "bodies"), exist_ok=True)
    with open(os.path.join(outdir, "fixtures-small.json"), "w") as f:
        json.dump(small_set(), f, indent=1)
    with open(os.path.join(outdir, "fixtures-10k.json"), "w") as f:
        json.dump(large_set(), f)
    for name, body in BODIES.items():
        with open(os.path.join(outdir, "bodies", name + ".json"), "w") as f:
            json.dump(body, f, separators=(",", ":"))
        with open(os.path.join(outdir, "bodies", name + ".path"), "w") as f:
            f.write(PATHS[name] + "\n")
    print("fixtures: %d small, %d large; stream %d chars / chunkSize %d = %d "
          "content events" % (SMALL_COUNT, LARGE_COUNT, STREAM_CHARS,
                              STREAM_CHUNK, math.ceil(STREAM_CHARS / STREAM_CHUNK)))


# ---------------------------------------------------------------------------
# Checking one answer
# ---------------------------------------------------------------------------

def verify(scenario, status, data):
    """Return None if the answer is right, else a short reason."""
    scenario = SAME_AS.get(scenario, scenario)
    if status != 200:
        return "HTTP %d: %s" % (status, data[:200].decode("utf-8", "replace"))
    text = data.decode("utf-8", "replace")
    try:
        if scenario in ("chat", "chat10k"):
            got = json.loads(text)["choices"][0]["message"]["content"]
            if got != TARGET_REPLY:
                return "wrong content %r" % got[:80]
        elif scenario == "stream":
            content, events, done = [], 0, False
            for line in text.splitlines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    done = True
                    continue
                events += 1
                for ch in json.loads(payload).get("choices", []):
                    c = (ch.get("delta") or {}).get("content")
                    if c:
                        content.append(c)
            if "".join(content) != stream_content():
                return "streamed content differs from fixture (%d chars)" % len("".join(content))
            want = math.ceil(STREAM_CHARS / STREAM_CHUNK)
            if events < want:
                return "only %d data events, want >= %d" % (events, want)
            if not done:
                return "no [DONE] terminator"
        elif scenario == "embed_hit":
            emb = json.loads(text)["data"][0]["embedding"]
            want = embed_vector()
            if len(emb) != len(want) or any(abs(a - b) > 1e-9 for a, b in zip(emb, want)):
                return "embedding differs from fixture (len %d)" % len(emb)
        elif scenario == "embed_miss":
            emb = json.loads(text)["data"][0]["embedding"]
            if len(emb) != EMBED_DIMS:
                return "fallback embedding has %d dims, want %d" % (len(emb), EMBED_DIMS)
        elif scenario in PROVIDER_SCENARIOS:
            return verify_provider(scenario, data)
        else:
            return "unknown scenario " + scenario
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return "unparseable answer (%s): %s" % (e, text[:200])
    return None


def sse_events(text):
    """(event-name or None, JSON payload) for every `data:` line of an SSE body."""
    out, event = [], None
    for line in text.splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                out.append((event, json.loads(payload)))
        elif not line.strip():
            event = None
    return out


def eventstream_frames(data):
    """Decode AWS EventStream (application/vnd.amazon.eventstream) frames,
    checking both CRCs. Returns [(headers dict, payload bytes)]."""
    import struct
    import zlib
    frames, i = [], 0
    while i < len(data):
        if len(data) - i < 16:
            raise ValueError("truncated frame prelude at byte %d" % i)
        total, hlen, pcrc = struct.unpack(">III", data[i:i + 12])
        if zlib.crc32(data[i:i + 8]) != pcrc:
            raise ValueError("bad prelude CRC at byte %d" % i)
        if total < 16 + hlen or i + total > len(data):
            raise ValueError("bad frame length %d at byte %d" % (total, i))
        (mcrc,) = struct.unpack(">I", data[i + total - 4:i + total])
        if zlib.crc32(data[i:i + total - 4]) != mcrc:
            raise ValueError("bad message CRC at byte %d" % i)
        h, j, end = {}, i + 12, i + 12 + hlen
        while j < end:
            n = data[j]
            name = data[j + 1:j + 1 + n].decode()
            j += 1 + n
            t = data[j]
            j += 1
            if t in (0, 1):
                v = t == 0
            elif t in (2, 3, 4, 5, 8, 9):
                size = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}[t]
                v = data[j:j + size]
                j += size
            elif t in (6, 7):
                (ln,) = struct.unpack(">H", data[j:j + 2])
                v = data[j + 2:j + 2 + ln]
                j += 2 + ln
                if t == 7:
                    v = v.decode()
            else:
                raise ValueError("unknown header type %d" % t)
            h[name] = v
        frames.append((h, data[end:i + total - 4]))
        i += total
    return frames


def check_stream_text(parts, events, what):
    got = "".join(parts)
    if got != stream_content():
        return "streamed %s text differs from fixture (%d chars, want %d)" % (what, len(got), STREAM_CHARS)
    want = math.ceil(STREAM_CHARS / STREAM_CHUNK)
    if events < want:
        return "only %d %s text events, want >= %d" % (events, what, want)
    return None


def verify_provider(scenario, data):
    text = data.decode("utf-8", "replace")
    key, streamed = scenario.replace("_stream", ""), scenario.endswith("_stream")
    if not streamed:
        j = json.loads(text)
        if key == "anth":
            got = "".join(b.get("text", "") for b in j["content"] if b.get("type") == "text")
        elif key == "gemini":
            got = "".join(p.get("text", "") for p in j["candidates"][0]["content"]["parts"])
        elif key == "bedrock":
            got = "".join(b.get("text", "") for b in j["output"]["message"]["content"])
        elif key == "ollama":
            got = j["message"]["content"]
            if j.get("done") is not True:
                return "no \"done\": true"
        if got != TARGET_REPLY:
            return "wrong content %r" % got[:80]
        return None
    parts, n = [], 0
    if key == "anth":
        evs = sse_events(text)
        for _, ev in evs:
            if ev.get("type") == "content_block_delta" and ev["delta"].get("type") == "text_delta":
                parts.append(ev["delta"]["text"])
                n += 1
        if not any(ev.get("type") == "message_stop" for _, ev in evs):
            return "no message_stop event"
    elif key == "gemini":
        evs = sse_events(text)
        for _, ev in evs:
            for p in ev["candidates"][0].get("content", {}).get("parts", []):
                if p.get("text"):
                    parts.append(p["text"])
                    n += 1
        if not evs or not evs[-1][1]["candidates"][0].get("finishReason"):
            return "last event has no finishReason"
    elif key == "bedrock":
        frames = eventstream_frames(data)
        kinds = []
        for h, payload in frames:
            kind = h.get(":event-type")
            kinds.append(kind)
            if kind == "contentBlockDelta":
                t = json.loads(payload)["delta"].get("text")
                if t:
                    parts.append(t)
                    n += 1
        if "messageStop" not in kinds:
            return "no messageStop event (events: %s)" % ",".join(map(str, kinds[:8]))
    elif key == "ollama":
        lines = [json.loads(l) for l in text.splitlines() if l.strip()]
        for ln in lines:
            c = (ln.get("message") or {}).get("content")
            if c:
                parts.append(c)
                n += 1
        if not lines or lines[-1].get("done") is not True:
            return "last NDJSON line is not done: true"
    return check_stream_text(parts, n, key)


def request(port, scenario, timeout=5.0, with_headers=False):
    body = json.dumps(BODIES[scenario]).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", PATHS[scenario], body=body,
                     headers={"Content-Type": "application/json",
                              "Authorization": "Bearer sk-bench"})
        resp = conn.getresponse()
        if with_headers:
            return resp.status, resp.read(), resp.getheaders()
        return resp.status, resp.read()
    finally:
        conn.close()


def cmd_check(scenario, port):
    try:
        status, data = request(int(port), scenario)
    except OSError as e:
        print("request failed: %s" % e)
        return 1
    why = verify(scenario, status, data)
    if why:
        print(why)
        return 1
    return 0


# Headers hyper writes itself, from the body and the clock: the bare server's hyper writes them too.
HYPER_OWN_HEADERS = {"content-length", "date", "transfer-encoding", "connection"}


def cmd_capture(scenario, port, out):
    """The exact answer a server gives to SCENARIO's request, for the bare server: the body to
    OUT, and the response headers (one `name: value` per line, in order) to OUT.headers."""
    try:
        status, data, headers = request(int(port), scenario, with_headers=True)
    except OSError as e:
        print("request failed: %s" % e)
        return 1
    why = verify(scenario, status, data)
    if why:
        print(why)
        return 1
    with open(out, "wb") as f:
        f.write(data)
    with open(out + ".headers", "w") as f:
        for name, value in headers:
            if name.lower() not in HYPER_OWN_HEADERS:
                f.write("%s: %s\n" % (name.lower(), value))
    return 0


# ---------------------------------------------------------------------------
# Spawning a server and timing its first answer
# ---------------------------------------------------------------------------

def cmd_spawn(argv):
    """spawn PORT LOGFILE TIMEOUT_S -- CMD...

    Starts CMD (stdout+stderr to LOGFILE, own session so ^C reaches only the
    script), then sends the chat request every ~1 ms until the right answer
    arrives. Prints "PID MS" where MS is spawn -> first correct answer. Then
    waits (up to 5 s) for the "listening on http://" line in the log.
    The server keeps running after this helper exits.
    """
    sep = argv.index("--")
    port, logfile, timeout = int(argv[0]), argv[1], float(argv[2])
    cmd = argv[sep + 1:]
    body = json.dumps(BODIES["chat"]).encode()
    headers = {"Content-Type": "application/json"}
    log = open(logfile, "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    ms = None
    last_err = ""
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            sys.stderr.write("server exited with code %s before answering\n" % proc.returncode)
            return 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            why = verify("chat", resp.status, data)
            if why is None:
                ms = (time.perf_counter() - t0) * 1000.0
                break
            last_err = why
        except OSError as e:
            last_err = str(e)
        finally:
            conn.close()
        time.sleep(0.001)
    if ms is None:
        sys.stderr.write("no correct answer within %.0f s (last: %s)\n" % (timeout, last_err))
        print("%d -1" % proc.pid)
        return 2
    # The ready line is required by the brief of both servers.
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline:
        with open(logfile, "rb") as f:
            if b"listening on http://" in f.read():
                break
        time.sleep(0.01)
    else:
        sys.stderr.write("warning: answered, but no 'listening on http://' line in %s\n" % logfile)
    print("%d %.2f" % (proc.pid, ms))
    return 0


def cmd_freeport():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

SCENARIOS = [
    ("chat", "Chat, non-streamed (10 fixtures)"),
    ("stream", "Chat, streamed SSE (~%d events)" % (math.ceil(STREAM_CHARS / STREAM_CHUNK) + 3)),
    ("embed_hit", "Embeddings, fixture hit (%d dims)" % EMBED_DIMS),
    ("embed_miss", "Embeddings, fallback (no fixture)"),
    ("chat10k", "Chat, non-streamed, 10,000 fixtures, last matches"),
    ("chat_chaos0", "Chat, non-streamed, every chaos rate set to 0"),
    ("proxy_chat", "Chat, non-streamed, through --proxy-only to an upstream of the same kind"),
    ("proxy_stream", "Chat, streamed, through --proxy-only to an upstream of the same kind"),
]
_STREAM_FORMAT = {"anth": "SSE", "gemini": "SSE", "bedrock": "EventStream", "ollama": "NDJSON"}
for _k, _label, _plain, _streamed in PROVIDERS:
    SCENARIOS.append((_k, "%s, non-streamed" % _label))
    SCENARIOS.append((_k + "_stream", "%s, streamed %s (%d chunks)" % (
        _label, _STREAM_FORMAT[_k], math.ceil(STREAM_CHARS / STREAM_CHUNK))))


def load_tsv(path):
    r = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    r[(parts[0], parts[1])] = parts[2]
    return r


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def pairs(r, first, second):
    """The figures of alternated runs: (FIRST, SECOND) for each pair in which both were measured.
    Each is (server, key prefix); pair i's keys are "<prefix>.cpu_us", then "<prefix>#i.cpu_us"."""
    out = []
    for i in range(1, 100):
        sfx = "" if i == 1 else "#%d" % i
        a = num(r, first[0], "%s%s.cpu_us" % (first[1], sfx))
        b = num(r, second[0], "%s%s.cpu_us" % (second[1], sfx))
        if a is None and b is None:
            break
        if a and b:
            out.append((a, b))
    return out


def chat_pairs(r):
    """(ours, bare) chat CPU µs/req of each alternated floor pair."""
    return pairs(r, ("ours", "chat"), ("bare", "chat"))


def scale_pairs(r):
    """(10 fixtures, 10,000 fixtures) chat CPU µs/req of ours' alternated scale pairs."""
    return pairs(r, ("ours", "chat_ref"), ("ours", "chat10k"))


def num(r, server, key):
    v = r.get((server, key))
    if v is None or v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return None


def fmt(v, digits=0):
    if v is None:
        return "—"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{d}f}".format(v, d=digits)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return "%.2fx" % (a / b)


def na(r, server, key):
    """True if SERVER could not answer scenario KEY (it was not measured)."""
    return (server, key + ".na") in r


def cell(r, server, key, text):
    return "n/a" if na(r, server, key) else text


def cmd_report(tsv, out):
    r = load_tsv(tsv)
    for server in ("ours", "aimock"):
        samples = r.get((server, "startup_ms_samples"))
        if samples:
            xs = [float(x) for x in samples.split(",") if x]
            r[(server, "startup_ms_median")] = str(statistics.median(xs))
            r[(server, "startup_ms_min")] = str(min(xs))
    meta = {k[1]: v for k, v in r.items() if k[0] == "meta"}
    L = []
    L.append("# aimock benchmark: ours (Rust) vs @copilotkit/aimock %s" % meta.get("aimock_version", "?"))
    L.append("")
    L.append("- Date: %s" % meta.get("date", "?"))
    L.append("- Machine: %s, %s cores, %s; load average at start %s (should be near 0)" % (
        meta.get("cpu", "?"), meta.get("nproc", "?"), meta.get("kernel", "?"), meta.get("loadavg", "?")))
    L.append("- Load: `%s` per scenario, after a %s warm-up run; one server at a time" % (meta.get("wrk_cmd", "?"), meta.get("warmup", "?")))
    if "provider_load" in meta:
        L.append("- Anthropic, Gemini, Bedrock Converse and Ollama scenarios: same wrk command with %s" % meta["provider_load"])
    L.append("- Ours: `%s` (%s)" % (meta.get("ours_bin", "?"), meta.get("ours_info", "?")))
    L.append("- aimock: node %s, `%s`" % (meta.get("node_version", "?"), meta.get("aimock_cmd", "?")))
    if "bare_cmd" in meta:
        L.append("- Bare hyper server (the floor, chat only): `%s`, BODY and HEADERS being our server's chat answer (its body, and its headers but for the `content-length` and `date` hyper writes)" % meta["bare_cmd"])
    for note in sorted(k for k in meta if k.startswith("note")):
        L.append("- Note: %s" % meta[note])
    L.append("")

    L.append("## Throughput and server CPU per request")
    L.append("")
    L.append("| Scenario | ours req/s | aimock req/s | ours/aimock | ours CPU µs/req | aimock CPU µs/req | aimock/ours CPU | server cores busy ours / aimock | wrk cores busy ours / aimock |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label in SCENARIOS:
        o_rps, a_rps = num(r, "ours", key + ".rps"), num(r, "aimock", key + ".rps")
        o_cpu, a_cpu = num(r, "ours", key + ".cpu_us"), num(r, "aimock", key + ".cpu_us")
        cores = "%s / %s" % (cell(r, "ours", key, fmt(num(r, "ours", key + ".cores"), 2)),
                             cell(r, "aimock", key, fmt(num(r, "aimock", key + ".cores"), 2)))
        wcores = "%s / %s" % (cell(r, "ours", key, fmt(num(r, "ours", key + ".wrk_cores"), 2)),
                              cell(r, "aimock", key, fmt(num(r, "aimock", key + ".wrk_cores"), 2)))
        n_a = na(r, "ours", key) or na(r, "aimock", key)
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, cell(r, "ours", key, fmt(o_rps)), cell(r, "aimock", key, fmt(a_rps)),
            "n/a" if n_a else ratio(o_rps, a_rps),
            cell(r, "ours", key, fmt(o_cpu, 1)), cell(r, "aimock", key, fmt(a_cpu, 1)),
            "n/a" if n_a else ratio(a_cpu, o_cpu), cores, wcores))
    L.append("")
    threads = float(meta.get("threads", "1") or 1)
    saturated = []
    for key, label in SCENARIOS:
        for srv in ("ours", "aimock"):
            w = num(r, srv, key + ".wrk_cores")
            if w is not None and w >= 0.9 * threads:
                saturated.append("%s / %s (%.2f cores)" % (srv, key, w))
    if saturated:
        L.append("**Load generator near saturation** (wrk used >= 90%% of its %d thread(s)) in: %s. "
                 "There req/s is a lower bound of what the server can do on this machine; "
                 "CPU µs/req is the figure to compare." % (threads, "; ".join(saturated)))
        L.append("")

    L.append("## The floor: a bare hyper server (chat, non-streamed, 10 fixtures)")
    L.append("")
    if num(r, "bare", "chat.cpu_us") is None and not any(k[0] == "bare" for k in r):
        L.append("Not measured in this run (see the notes above).")
    else:
        L.append("`bench/bare` reads the request and answers the %s bytes our server answered to the "
                 "chat request, with the same headers (all but `content-length` and `date`, which hyper "
                 "writes for both), the same runtime, allocator and socket setup; its chat run came "
                 "right after ours. ours÷bare is what our own work costs over the floor (lower is "
                 "better); ours÷aimock req/s above 1 means we are faster." % fmt(num(r, "bare", "body_bytes")))
    L.append("")
    L.append("| Scenario | bare CPU µs/req | ours CPU µs/req | aimock CPU µs/req | ours÷bare CPU | bare req/s | ours req/s | aimock req/s | ours÷aimock req/s | server cores busy bare / ours / aimock |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    b_cpu, o_cpu, a_cpu = (num(r, s_, "chat.cpu_us") for s_ in ("bare", "ours", "aimock"))
    b_rps, o_rps, a_rps = (num(r, s_, "chat.rps") for s_ in ("bare", "ours", "aimock"))
    L.append("| Chat, non-streamed (10 fixtures) | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        fmt(b_cpu, 1), fmt(o_cpu, 1), fmt(a_cpu, 1), ratio(o_cpu, b_cpu),
        fmt(b_rps), fmt(o_rps), fmt(a_rps), ratio(o_rps, a_rps),
        " / ".join(fmt(num(r, s_, "chat.cores"), 2) for s_ in ("bare", "ours", "aimock"))))
    L.append("")
    pairs = chat_pairs(r)
    if len(pairs) > 1:
        L.append("The chat scenario ran as %d alternated pairs (ours, then bare, each with its warm-up); "
                 "the first pair is the row above. CPU µs/req of each pair, ours / bare = ratio:" % len(pairs))
        L.append("")
        for i, (o, b) in enumerate(pairs, 1):
            L.append("- pair %d: %s / %s = %.2fx" % (i, fmt(o, 2), fmt(b, 2), o / b))
        L.append("- median ratio **%.2fx**; ours median %s µs/req, bare median %s µs/req" % (
            median([o / b for o, b in pairs]), fmt(median([o for o, _ in pairs]), 2),
            fmt(median([b for _, b in pairs]), 2)))
        L.append("")

    pairs10k = scale_pairs(r)
    if pairs10k:
        L.append("The 10,000-fixture chat scenario of ours ran as %d alternated pairs against a "
                 "10-fixture instance started beside it (10 fixtures, then 10,000, each with its "
                 "warm-up). CPU µs/req of each pair, 10,000 / 10 = ratio:" % len(pairs10k))
        L.append("")
        for i, (s_, b) in enumerate(pairs10k, 1):
            L.append("- pair %d: %s / %s = %.3fx" % (i, fmt(b, 2), fmt(s_, 2), b / s_))
        L.append("- median ratio **%.3fx**" % median([b / s_ for s_, b in pairs10k]))
        L.append("")

    L.append("## Latency (ms, full response)")
    L.append("")
    L.append("| Scenario | ours p50 | aimock p50 | aimock/ours p50 | ours p99 | aimock p99 | aimock/ours p99 | errors ours / aimock |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label in SCENARIOS:
        v = {}
        for s in ("ours", "aimock"):
            for p in ("p50", "p99"):
                x = num(r, s, key + "." + p + "_us")
                v[s, p] = None if x is None else x / 1000.0
        errs = "%s / %s" % (cell(r, "ours", key, r.get(("ours", key + ".errors"), "—")),
                            cell(r, "aimock", key, r.get(("aimock", key + ".errors"), "—")))
        n_a = na(r, "ours", key) or na(r, "aimock", key)
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, cell(r, "ours", key, fmt(v["ours", "p50"], 2)), cell(r, "aimock", key, fmt(v["aimock", "p50"], 2)),
            "n/a" if n_a else ratio(v["aimock", "p50"], v["ours", "p50"]),
            cell(r, "ours", key, fmt(v["ours", "p99"], 2)), cell(r, "aimock", key, fmt(v["aimock", "p99"], 2)),
            "n/a" if n_a else ratio(v["aimock", "p99"], v["ours", "p99"]), errs))
    L.append("")

    L.append("## Start-up and memory")
    L.append("")
    L.append("| Measure | ours | aimock | aimock/ours |")
    L.append("| --- | ---: | ---: | ---: |")
    rows = [
        ("Spawn to first chat answer, median (ms)", "startup_ms_median", 1, 1.0),
        ("Spawn to first chat answer, min (ms)", "startup_ms_min", 1, 1.0),
        ("Spawn to first chat answer, 10,000 fixtures (ms)", "startup10k_ms", 1, 1.0),
        ("RSS idle after start, 10 fixtures (MB)", "rss_idle_kb", 1, 1 / 1024.0),
        ("RSS peak during chat load (MB)", "rss_load_kb", 1, 1 / 1024.0),
        ("RSS idle, 10,000 fixtures loaded (MB)", "rss_idle10k_kb", 1, 1 / 1024.0),
    ]
    for label, key, d, scale in rows:
        o, a = num(r, "ours", key), num(r, "aimock", key)
        o = None if o is None else o * scale
        a = None if a is None else a * scale
        L.append("| %s | %s | %s | %s |" % (label, fmt(o, d), fmt(a, d), ratio(a, o)))
    L.append("")

    L.append("## Realtime (WebSocket)")
    L.append("")
    L.append("| Scenario | ours turns/s | aimock turns/s | ours CPU µs/turn | aimock CPU µs/turn | ours÷aimock CPU | errors ours / aimock |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label in (("ws_responses", "Responses over WebSocket, text turns"),
                       ("ws_realtime", "Realtime (GA), conversation.item.create + response.create")):
        o_t, a_t = num(r, "ours", key + ".tps"), num(r, "aimock", key + ".tps")
        o_c, a_c = num(r, "ours", key + ".cpu_us"), num(r, "aimock", key + ".cpu_us")
        L.append("| %s | %s | %s | %s | %s | %s | %s / %s |" % (
            label, cell(r, "ours", key, fmt(o_t)), cell(r, "aimock", key, fmt(a_t)),
            cell(r, "ours", key, fmt(o_c, 1)), cell(r, "aimock", key, fmt(a_c, 1)), ratio(o_c, a_c),
            r.get(("ours", key + ".errors"), "—"), r.get(("aimock", key + ".errors"), "—")))
    o_m, a_m = num(r, "ours", "ws_idle.bytes_per_socket"), num(r, "aimock", "ws_idle.bytes_per_socket")
    L.append("")
    L.append("Memory per idle socket (RSS growth over %s idle sockets / their number): ours %s KiB, aimock %s KiB." % (
        fmt(num(r, "ours", "ws_idle.sockets")), fmt(None if o_m is None else o_m / 1024, 1),
        fmt(None if a_m is None else a_m / 1024, 1)))
    L.append("")

    L.append("## Bars (see BENCHMARKS.md)")
    L.append("")
    L.append("The first six are the headline bars. A bar shows \"—\" and neither passes nor fails "
             "when one of its figures was not measured.")
    L.append("")
    L.append("| Bar | Target | Measured | Result |")
    L.append("| --- | --- | --- | --- |")
    headline, others = {}, []

    def bar(name, target, measured, ok, key=None):
        res = "—" if ok is None else ("PASS" if ok else "FAIL")
        row = "| %s | %s | %s | %s |" % (name, target, measured, res)
        if key is None:
            others.append(row)
        else:
            headline[key] = row

    pairs = chat_pairs(r)
    x = median([o / b for o, b in pairs]) if pairs else None
    bar("Chat CPU per request vs the bare hyper server", "<= 1.3x bare's CPU µs/req",
        "—" if x is None else "%.2fx (median of %d alternated pairs; ours %s vs bare %s µs, medians)" % (
            x, len(pairs), fmt(median([o for o, _ in pairs]), 1), fmt(median([b for _, b in pairs]), 1)),
        None if x is None else x <= 1.3, key=1)
    o, a = num(r, "ours", "chat.rps"), num(r, "aimock", "chat.rps")
    x = None if o is None or a is None or a == 0 else o / a
    bar("Non-streamed chat throughput", ">= 8x aimock req/s", "—" if x is None else "%.2fx" % x, None if x is None else x >= 8, key=2)
    o, a = num(r, "ours", "stream.cpu_us"), num(r, "aimock", "stream.cpu_us")
    x = None if o is None or a is None or a == 0 else o / a
    bar("CPU per streamed reply", "<= 1/5 of aimock (<= 0.20x)", "—" if x is None else "%.3fx (%s vs %s µs)" % (x, fmt(o, 1), fmt(a, 1)), None if x is None else x <= 0.2, key=4)
    for key, label, _plain, _streamed in PROVIDERS:
        for sc, what in ((key, "non-streamed throughput"), (key + "_stream", "CPU per streamed reply")):
            if sc == key:
                target = ">= 8x aimock req/s"
                o, a = num(r, "ours", sc + ".rps"), num(r, "aimock", sc + ".rps")
            else:
                target = "<= 1/5 of aimock (<= 0.20x)"
                o, a = num(r, "ours", sc + ".cpu_us"), num(r, "aimock", sc + ".cpu_us")
            if na(r, "aimock", sc) or na(r, "ours", sc):
                bar("%s %s" % (label, what), target, "n/a (aimock could not answer)", None)
                continue
            x = None if o is None or a is None or a == 0 else o / a
            if sc == key:
                bar("%s %s" % (label, what), target, "—" if x is None else "%.2fx" % x, None if x is None else x >= 8)
            else:
                bar("%s %s" % (label, what), target,
                    "—" if x is None else "%.3fx (%s vs %s µs)" % (x, fmt(o, 1), fmt(a, 1)), None if x is None else x <= 0.2)
    o, c0 = num(r, "ours", "chat.cpu_us"), num(r, "ours", "chat_chaos0.cpu_us")
    x = None if o is None or c0 is None or o == 0 else c0 / o
    bar("Chaos evaluated but not firing vs chat", "CPU/req <= 1.05x of chat's (within noise)",
        "—" if x is None else "%.3fx (%s vs %s µs)" % (x, fmt(c0, 1), fmt(o, 1)),
        None if x is None else x <= 1.05)
    for sc, base, what in (("proxy_chat", "chat", "non-streamed"), ("proxy_stream", "stream", "streamed")):
        po, pa = num(r, "ours", sc + ".p50_us"), num(r, "aimock", sc + ".p50_us")
        do, da = num(r, "ours", base + ".p50_us"), num(r, "aimock", base + ".p50_us")
        co, ca = num(r, "ours", sc + ".cpu_us"), num(r, "aimock", sc + ".cpu_us")
        measured = "ours: +%s µs p50 over direct, %s µs proxy CPU/req; aimock: +%s µs, %s µs" % (
            fmt(None if po is None or do is None else po - do), fmt(co, 1),
            fmt(None if pa is None or da is None else pa - da), fmt(ca, 1))
        x = None if co is None or ca is None or ca == 0 else co / ca
        bar("Record-mode proxy cost, %s" % what, "proxy CPU/req <= 1/5 of aimock's", measured,
            None if x is None else x <= 0.2)
    pairs10k = scale_pairs(r)
    if pairs10k:
        x = median([big / small for small, big in pairs10k])
        bar("10,000 fixtures vs 10 fixtures", "chat CPU µs/req <= 1.10x of the 10-fixture run's",
            "%.3fx (median of %d alternated pairs on two instances; %s vs %s µs, medians)" % (
                x, len(pairs10k), fmt(median([b for _, b in pairs10k]), 1),
                fmt(median([s_ for s_, _ in pairs10k]), 1)),
            x <= 1.10, key=3)
    else:
        c10, c10k = num(r, "ours", "chat.cpu_us"), num(r, "ours", "chat10k.cpu_us")
        o10, o10k = num(r, "ours", "chat.rps"), num(r, "ours", "chat10k.rps")
        x = None if c10 is None or c10k is None or c10 == 0 else c10k / c10
        y = None if o10 is None or o10k is None or o10 == 0 else o10k / o10
        bar("10,000 fixtures vs 10 fixtures", "chat CPU µs/req <= 1.10x of the 10-fixture run's",
            "—" if x is None else "%.3fx (%s vs %s µs; req/s %s of the 10-fixture run's)" % (
                x, fmt(c10k, 1), fmt(c10, 1), "—" if y is None else "%.3fx" % y),
            None if x is None else x <= 1.10, key=3)
    s = num(r, "ours", "startup_ms_median")
    bar("First answer after start", "<= 20 ms", "—" if s is None else "%.1f ms" % s, None if s is None else s <= 20, key=5)
    m = num(r, "ours", "rss_idle_kb")
    bar("Resident memory idle", "< 20 MB", "—" if m is None else "%.1f MB" % (m / 1024), None if m is None else m / 1024 < 20, key=6)
    for key, label in (("ws_responses", "Responses over WebSocket"), ("ws_realtime", "Realtime")):
        o, a = num(r, "ours", key + ".cpu_us"), num(r, "aimock", key + ".cpu_us")
        x = None if o is None or a is None or a == 0 else o / a
        bar("%s CPU per turn" % label, "<= 1/5 of aimock (<= 0.20x)",
            "—" if x is None else "%.3fx (%s vs %s µs)" % (x, fmt(o, 1), fmt(a, 1)), None if x is None else x <= 0.2)
    m = num(r, "ours", "ws_idle.bytes_per_socket")
    bar("Memory per idle socket", "<= 64 KiB", "—" if m is None else "%.1f KiB" % (m / 1024), None if m is None else m <= 65536)
    L.extend(headline[k] for k in sorted(headline))
    L.extend(others)
    L.append("")
    L.append("For reference, aimock on its own with 10,000 fixtures: %s of its 10-fixture req/s." %
             ratio(num(r, "aimock", "chat10k.rps"), num(r, "aimock", "chat.rps")))
    L.append("")
    nas = sorted((k, v) for k, v in r.items() if k[1].endswith(".na"))
    if nas:
        L.append("## Not measured: aimock could not answer")
        L.append("")
        for (s, k), v in nas:
            L.append("- %s, %s: %s" % (s, k[:-len(".na")], v))
        L.append("")
    fails = [v for k, v in r.items() if k[1].endswith(".failed")]
    if fails:
        L.append("## Problems")
        L.append("")
        for (s, k), v in sorted(r.items()):
            if k.endswith(".failed"):
                L.append("- %s, %s: %s" % (s, k[:-len(".failed")], v))
        L.append("")
    text = "\n".join(L)
    with open(out, "w") as f:
        f.write(text)
    print(text)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        cmd_gen(args[0])
    elif cmd == "freeport":
        cmd_freeport()
    elif cmd == "spawn":
        sys.exit(cmd_spawn(args))
    elif cmd == "check":
        sys.exit(cmd_check(args[0], args[1]))
    elif cmd == "capture":
        sys.exit(cmd_capture(args[0], args[1], args[2]))
    elif cmd == "provider-scenarios":
        print(" ".join(PROVIDER_SCENARIOS))
    elif cmd == "report":
        cmd_report(args[0], args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
