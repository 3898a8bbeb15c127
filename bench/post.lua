-- wrk script for the aimock benchmark (bench/run.sh).
--
-- Sends the same JSON POST body on every request. The body is read once per
-- wrk thread from the file named by the BENCH_BODY_FILE environment variable
-- (see bench/bodies/). Because no request() function is defined, wrk builds
-- the request once and replays it, so the load generator does no per-request
-- Lua work.
--
-- At the end it prints one machine-readable line, starting with "BENCH ",
-- that run.sh parses. Latencies are in microseconds and are measured by wrk
-- from sending the request to receiving the complete response (for SSE, the
-- whole stream up to the last chunk).

local path = os.getenv("BENCH_BODY_FILE")
if path == nil or path == "" then
  error("post.lua: set BENCH_BODY_FILE to the JSON body file")
end
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f max_us=%d\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
