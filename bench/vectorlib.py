#!/usr/bin/env python3
"""Helpers for bench/vector.sh (standard library only).

  vectorlib.py bodies OUTDIR DIM
      Writes OUTDIR/search.json (a Qdrant search body, limit 10) and OUTDIR/query.json (the same
      vector through the universal query API) for wrk.
  vectorlib.py upsert PORT PREFIX COLLECTION COUNT DIM BATCH
      Creates the collection (cosine) and upserts COUNT vectors in batches over one keep-alive
      connection; prints "SECONDS VECTORS_PER_SECOND MB_SENT". The vectors are pseudo-random
      (a fixed LCG), rendered with 4 decimals, the same for every server.
  vectorlib.py check PORT PATH BODYFILE
      Sends the body once and prints the answer's first 200 characters (for the log).
  vectorlib.py report TSV OUT
      Renders the results as markdown.
"""

import http.client
import json
import os
import sys
import time

POOL = 1024


def lcg_vectors(n, dim, seed=12345):
    state = seed
    out = []
    for _ in range(n):
        v = []
        for _ in range(dim):
            state = (state * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
            v.append(((state >> 33) / float(1 << 31)) - 0.5)
        out.append(v)
    return out


def render(v):
    return "[" + ",".join("%.4f" % x for x in v) + "]"


def cmd_bodies(outdir, dim):
    dim = int(dim)
    os.makedirs(outdir, exist_ok=True)
    q = render(lcg_vectors(1, dim, seed=999)[0])
    with open(os.path.join(outdir, "search.json"), "w") as f:
        f.write('{"vector":%s,"limit":10,"with_payload":true}' % q)
    with open(os.path.join(outdir, "query.json"), "w") as f:
        f.write('{"query":%s,"limit":10,"with_payload":true}' % q)
    return 0


def request(conn, method, path, body, tolerate=False):
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status >= 300 and not tolerate:
        raise SystemExit("%s %s -> %d %s" % (method, path, resp.status, data[:300]))
    return data


def cmd_upsert(port, prefix, collection, count, dim, batch):
    port, count, dim, batch = int(port), int(count), int(dim), int(batch)
    # A pool of rendered vectors, each point taking one and a distinct last component, so
    # rendering 100,000 x 1536 numbers does not dominate the measurement.
    pool = [render(v)[1:-1].rsplit(",", 1)[0] for v in lcg_vectors(POOL, dim)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    base = prefix + "/collections/" + collection
    # aimock has no collection create (it creates on upsert): its 404 here is expected.
    request(conn, "PUT", base, json.dumps({"vectors": {"size": dim, "distance": "Cosine"}}), tolerate=True)
    bodies = []
    for start in range(0, count, batch):
        pts = []
        for i in range(start, min(count, start + batch)):
            vec = "[%s,%.6f]" % (pool[i % POOL], (i % 997) / 997.0 - 0.5)
            pts.append('{"id":%d,"vector":%s,"payload":{"n":%d}}' % (i + 1, vec, i))
        bodies.append(('{"points":[' + ",".join(pts) + "]}").encode())
    sent = sum(len(b) for b in bodies)
    t0 = time.perf_counter()
    for b in bodies:
        request(conn, "PUT", base + "/points", b)
    secs = time.perf_counter() - t0
    conn.close()
    print("%.3f %.0f %.1f" % (secs, count / secs, sent / 1e6))
    return 0


def cmd_check(port, path, bodyfile):
    with open(bodyfile, "rb") as f:
        body = f.read()
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    t0 = time.perf_counter()
    data = request(conn, "POST", path, body)
    ms = (time.perf_counter() - t0) * 1000
    print("%.1f ms: %s" % (ms, data[:200].decode("utf-8", "replace")))
    return 0


def cmd_report(tsv, out):
    rows = {}
    meta = {}
    with open(tsv) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            who, key, val = parts
            if who == "meta":
                meta[key] = val
            else:
                rows.setdefault(who, {})[key] = val
    lines = ["# Vector benchmark", ""]
    for k in sorted(meta):
        lines.append("- %s: %s" % (k, meta[k]))
    lines += ["", "| | ours | aimock |", "| --- | --- | --- |"]

    def cell(who, key, unit=""):
        v = rows.get(who, {}).get(key)
        return (v + unit) if v else "n/a"

    for key, label, unit in [
        ("upsert_s", "Upsert time", " s"),
        ("upsert_vps", "Upsert throughput", " vectors/s"),
        ("rss_loaded_mb", "RSS with the vectors stored", " MB"),
        ("search.rps", "Search (top 10), throughput", " req/s"),
        ("search.p50_ms", "Search, p50 latency", " ms"),
        ("search.p99_ms", "Search, p99 latency", " ms"),
        ("search.cpu_ms", "Search, server CPU per request", " ms"),
        ("search.result", "Search, what came back", ""),
        ("query.rps", "Query API (points/query), throughput", " req/s"),
        ("query.p50_ms", "Query API, p50 latency", " ms"),
    ]:
        lines.append("| %s | %s | %s |" % (label, cell("ours", key, unit), cell("aimock", key, unit)))
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"bodies": cmd_bodies, "upsert": cmd_upsert, "check": cmd_check, "report": cmd_report}[cmd]
    return fn(*args)


if __name__ == "__main__":
    sys.exit(main())
