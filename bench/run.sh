#!/usr/bin/env bash
# Benchmark our Rust aimock (target/release/aimock) against the original
# TypeScript @copilotkit/aimock, same machine, same load, one server at a time.
#
# Usage:  bench/run.sh
#
# Needs: wrk (installed with apt-get if missing and we are root), node >= 20.15
# with npm, python3 (standard library only), and `cargo build --release` done
# beforehand (it builds our server and the bare hyper server of bench/bare).
# This script never builds anything.
#
# The bare server (bench/bare) is the floor: a minimal hyper server that reads
# the request and answers the exact bytes our server answered to the chat
# request (captured from our server when it starts). It runs the chat
# scenario right after ours, with the same warm-up, duration and CPU
# measurement, so the report can say what our own work costs per request.
#
# Knobs (environment variables):
#   DURATION=10s        length of each measured wrk run (OpenAI scenarios)
#   WARMUP=2s           un-measured wrk run before each measured one (0 = none)
#   PROVIDER_DURATION=8s  PROVIDER_WARMUP=2s   the same for the 8 Anthropic,
#                       Gemini, Bedrock Converse and Ollama scenarios
#   PROVIDERS=1         0 skips those 8 scenarios
#   PROXY=1             0 skips the record-mode proxy and chaos-at-0 scenarios
#   THREADS=1 CONNS=32  wrk -t / -c
#   STARTUP_RUNS=5      extra spawn-to-first-answer samples per server
#   AIMOCK_VERSION=1.43.0   npm version of @copilotkit/aimock to compare with
#   AIMOCK_DIR=/path    reuse an existing `npm install` (dir holding node_modules)
#   OURS_BIN=/path      our binary (default: <repo>/target/release/aimock)
#   ONLY=ours|aimock    run one side only (the bare server runs with ours)
#   BARE=1              0 skips the bare hyper server (the floor, chat only)
#   BARE_BIN=/path      the bare server (default: <repo>/target/release/aimock-bench-bare)
#   PAIRS=5             ours-then-bare chat runs, alternated; the CPU bar takes the median
#                       of the pairs' ratios (a shared VM's noise moves single runs by 20%).
#                       The 10,000-fixture bar runs as many pairs of ours (10 fixtures, then
#                       10,000) on two instances side by side.
#   SERVER_CPUS=1 WRK_CPUS=0   optional taskset CPU lists to pin server / wrk
#   WS=1                0 skips the realtime (WebSocket) scenarios
#   HTTP=1              0 skips every HTTP scenario (only the WebSocket ones run)
#   WS_SOCKETS=32 WS_DURATION=8s  concurrent sockets and length of each WebSocket turns run
#   WS_IDLE=1000        idle sockets held open for the memory-per-idle-socket figure
#   WS_SESSION_TURNS=20 turns per Realtime socket before the loader opens a new one (a Realtime
#                       session keeps its conversation, so an endless one grows without bound)
#   WS_BIN=/path        the WebSocket load generator (default: <repo>/target/release/aimock-bench-ws)
#   KEEP_TMP=1          keep the temp dir (fixtures, server logs, wrk output)
#
# Output: markdown tables on stdout and in bench/results/<timestamp>.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)

AIMOCK_VERSION=${AIMOCK_VERSION:-1.43.0}
OURS_BIN=${OURS_BIN:-$ROOT/target/release/aimock}
BARE_BIN=${BARE_BIN:-$ROOT/target/release/aimock-bench-bare}
BARE=${BARE:-1}
PAIRS=${PAIRS:-5}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
PROVIDER_DURATION=${PROVIDER_DURATION:-8s}
PROVIDER_WARMUP=${PROVIDER_WARMUP:-2s}
PROVIDERS=${PROVIDERS:-1}
PROXY=${PROXY:-1}
THREADS=${THREADS:-1}
CONNS=${CONNS:-32}
STARTUP_RUNS=${STARTUP_RUNS:-5}
START_TIMEOUT=${START_TIMEOUT:-30}
ONLY=${ONLY:-}
WS=${WS:-1}
HTTP=${HTTP:-1}
WS_SOCKETS=${WS_SOCKETS:-32}
WS_DURATION=${WS_DURATION:-8s}
WS_IDLE=${WS_IDLE:-1000}
WS_SESSION_TURNS=${WS_SESSION_TURNS:-20}
WS_BIN=${WS_BIN:-$ROOT/target/release/aimock-bench-ws}
SERVER_CPUS=${SERVER_CPUS:-}
WRK_CPUS=${WRK_CPUS:-}
PY=${PYTHON:-python3}
LIB="$BENCH_DIR/benchlib.py"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

TMP=$(mktemp -d -t aimock-bench.XXXXXX)
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
mkdir -p "$TMP/logs" "$TMP/wrk"
PIDS=()          # servers we started (killed on exit)
SAMPLER_PID=""   # RSS sampler during a load run
FAILED=0

alive() { # pid -> 0 if running (a zombie counts as gone)
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}

stop_pid() {
  local pid=$1 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept temp dir $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'exit 143' TERM

rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
fail() { # server what message
  log "FAIL [$1] $2: $3"
  rec "$1" "$2.failed" "$3"
  FAILED=1
}

# ---------------------------------------------------------------- prerequisites
command -v "$PY" >/dev/null || die "python3 not found (set PYTHON=...)"

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "wrk not found; installing it with apt-get"
    apt-get update -qq >"$TMP/logs/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >>"$TMP/logs/apt.log" 2>&1 \
      || { cat "$TMP/logs/apt.log" >&2; die "apt-get install wrk failed"; }
  fi
  command -v wrk >/dev/null || die "wrk is required: install it (Debian/Ubuntu: sudo apt-get install wrk) and run again"
fi

RUN_OURS=1 RUN_AIMOCK=1
case $ONLY in
  "") ;;
  ours) RUN_AIMOCK=0; rec meta note2 "ONLY=ours: aimock was not measured" ;;
  aimock) RUN_OURS=0; rec meta note2 "ONLY=aimock: our server was not measured" ;;
  *) die "ONLY must be 'ours' or 'aimock'" ;;
esac

if [[ $RUN_OURS == 1 && ! -x $OURS_BIN ]]; then
  log "************************************************************************"
  log "our server $OURS_BIN is missing: run 'cargo build --release' first."
  log "SKIPPING our server; only aimock's figures will be measured."
  log "************************************************************************"
  RUN_OURS=0
  rec meta note1 "our binary $OURS_BIN was missing; our server was skipped"
fi

if [[ $RUN_AIMOCK == 1 ]]; then
  command -v node >/dev/null || die "node (>= 20.15) is required for @copilotkit/aimock"
  if [[ -n ${AIMOCK_DIR:-} ]]; then
    NPM_DIR=$AIMOCK_DIR
  else
    command -v npm >/dev/null || die "npm is required to install @copilotkit/aimock"
    NPM_DIR="$TMP/npm"
    mkdir -p "$NPM_DIR"
    log "installing @copilotkit/aimock@$AIMOCK_VERSION into $NPM_DIR"
    npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save --loglevel=error \
      "@copilotkit/aimock@$AIMOCK_VERSION" >"$TMP/logs/npm.log" 2>&1 \
      || { cat "$TMP/logs/npm.log" >&2; die "npm install @copilotkit/aimock@$AIMOCK_VERSION failed"; }
  fi
  PKG="$NPM_DIR/node_modules/@copilotkit/aimock"
  [[ -f $PKG/package.json ]] || die "no @copilotkit/aimock in $NPM_DIR/node_modules"
  # The flag-driven CLI (-f/-p/--host) is the package's "llmock" bin.
  AIMOCK_CLI=$(node -e 'const p=require(process.argv[1]);const b=p.bin||{};const r=typeof b==="string"?b:b.llmock;if(!r)process.exit(1);console.log(require("path").resolve(require("path").dirname(process.argv[1]),r))' "$PKG/package.json") \
    || die "@copilotkit/aimock package.json has no 'llmock' bin"
  GOT_VERSION=$(node -p 'require(process.argv[1]).version' "$PKG/package.json")
  [[ $GOT_VERSION == "$AIMOCK_VERSION" ]] || log "warning: installed aimock is $GOT_VERSION, not $AIMOCK_VERSION"
  rec meta aimock_version "$GOT_VERSION"
  rec meta node_version "$(node --version)"
  rec meta aimock_cmd "node .../@copilotkit/aimock/${AIMOCK_CLI#"$PKG/"} -f FIXTURES -p PORT --host 127.0.0.1"
fi
[[ $RUN_OURS == 1 || $RUN_AIMOCK == 1 ]] || die "nothing to run"

# The bare server answers what our server answered, so it runs only with ours.
RUN_BARE=0
if [[ $BARE != 1 ]]; then
  rec meta note4 "BARE=0: the bare hyper server (the floor) was not measured"
elif [[ $RUN_OURS == 0 ]]; then
  rec meta note4 "the bare hyper server was not measured: it answers our server's chat reply, and our server did not run"
elif [[ ! -x $BARE_BIN ]]; then
  log "the bare server $BARE_BIN is missing ('cargo build --release' builds it); skipping it"
  rec meta note4 "the bare server $BARE_BIN was missing; the floor was not measured"
else
  RUN_BARE=1
fi

CLK_TCK=$(getconf CLK_TCK)
TIMEFORMAT='%U %S'   # for `time` around wrk: user and system CPU seconds
WRK_PREFIX=()
[[ -n $WRK_CPUS ]] && WRK_PREFIX=(taskset -c "$WRK_CPUS")
SRV_PREFIX=()
[[ -n $SERVER_CPUS ]] && SRV_PREFIX=(taskset -c "$SERVER_CPUS")

rec meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
rec meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
rec meta nproc "$(nproc)"
rec meta loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
rec meta kernel "Linux $(uname -r)"
rec meta wrk_cmd "wrk -t$THREADS -c$CONNS -d$DURATION -s bench/post.lua${WRK_CPUS:+ (wrk on CPUs $WRK_CPUS)}${SERVER_CPUS:+ (server on CPUs $SERVER_CPUS)}"
rec meta warmup "$WARMUP"
if [[ $PROVIDERS == 1 ]]; then
  rec meta provider_load "-d$PROVIDER_DURATION after a $PROVIDER_WARMUP warm-up"
else
  rec meta note3 "PROVIDERS=0: the Anthropic, Gemini, Bedrock and Ollama scenarios were not run"
fi
rec meta threads "$THREADS"
rec meta ours_bin "${OURS_BIN#"$ROOT/"}"
if [[ $RUN_BARE == 1 ]]; then
  rec meta bare_cmd "${BARE_BIN#"$ROOT/"} --body-file BODY --headers-file HEADERS -p PORT --host 127.0.0.1"
fi
if [[ $RUN_OURS == 0 ]]; then
  rec meta ours_info "not measured in this run"
elif [[ -x $OURS_BIN ]]; then
  rec meta ours_info "built $(date -u -r "$OURS_BIN" '+%Y-%m-%d %H:%M UTC'), $(( $(stat -c %s "$OURS_BIN") / 1024 )) KiB"
fi

# ---------------------------------------------------------------- fixtures
FX="$TMP/fixtures"
"$PY" "$LIB" gen "$FX" >&2 || die "fixture generation failed"

# ---------------------------------------------------------------- helpers
cpu_ticks() { # utime+stime (fields 14, 15 of /proc/PID/stat), in clock ticks
  local s f
  s=$(cat "/proc/$1/stat") || return 1
  s=${s##*) }            # drop "pid (comm) " -- comm may contain spaces
  read -ra f <<<"$s"      # f[0] is field 3, so field 14 is f[11]
  echo $(( f[11] + f[12] ))
}

rss_kb() {
  local k v _
  while read -r k v _; do
    if [[ $k == VmRSS: ]]; then echo "$v"; return 0; fi
  done <"/proc/$1/status"
  return 1
}

EXTRA_ARGS=()    # extra server flags for the next start_server
server_cmd() { # name fixtures port -> CMD array
  case $1 in
    ours)   CMD=("${SRV_PREFIX[@]}" "$OURS_BIN" -f "$2" -p "$3" --host 127.0.0.1 ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}) ;;
    aimock) CMD=("${SRV_PREFIX[@]}" node "$AIMOCK_CLI" -f "$2" -p "$3" --host 127.0.0.1 ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}) ;;
    # For the bare server the "fixtures" are the body file it answers.
    bare)   CMD=("${SRV_PREFIX[@]}" "$BARE_BIN" --body-file "$2" --headers-file "$2.headers" -p "$3" --host 127.0.0.1) ;;
  esac
}

# start_server NAME FIXTURES TAG -> sets SRV_PID SRV_PORT SRV_MS; returns 1 on failure
start_server() {
  local name=$1 fixtures=$2 tag=$3 out rc=0
  SRV_PORT=$("$PY" "$LIB" freeport)
  SRV_LOG="$TMP/logs/$name-$tag.log"
  server_cmd "$name" "$fixtures" "$SRV_PORT"
  out=$("$PY" "$LIB" spawn "$SRV_PORT" "$SRV_LOG" "$START_TIMEOUT" -- "${CMD[@]}" 2>"$TMP/logs/spawn.err") || rc=$?
  SRV_PID=${out%% *}
  SRV_MS=${out#* }
  if [[ -n $SRV_PID && $SRV_PID =~ ^[0-9]+$ ]]; then PIDS+=("$SRV_PID"); fi
  if [[ $rc != 0 ]]; then
    SRV_ERR=$(tr '\n' ' ' <"$TMP/logs/spawn.err")
    log "$name did not start ($tag): $SRV_ERR"
    log "--- last lines of $SRV_LOG:"
    tail -n 20 "$SRV_LOG" >&2 || true
    [[ -n $SRV_PID && $SRV_PID =~ ^[0-9]+$ ]] && stop_pid "$SRV_PID"
    return 1
  fi
  if [[ -s $TMP/logs/spawn.err ]]; then log "$(cat "$TMP/logs/spawn.err")"; fi
  return 0
}

sample_rss() { # pid outfile: VmRSS every 200 ms while the pid lives
  while alive "$1"; do rss_kb "$1" >>"$2" 2>/dev/null || true; sleep 0.2; done
}

# run_scenario NAME SCENARIO PID PORT [sample-rss [DURATION [WARMUP]]]
run_scenario() {
  local name=$1 sc=$2 pid=$3 port=$4 sample=${5:-} why
  local dur=${6:-$DURATION} warm=${7:-$WARMUP}
  local body="$FX/bodies/$sc.json" url out c0 c1 line kv
  url="http://127.0.0.1:$port$(cat "$FX/bodies/$sc.path")"
  local key=$sc${REC_SUFFIX:-}
  out="$TMP/wrk/$name-$key.txt"

  if ! why=$("$PY" "$LIB" check "$sc" "$port"); then
    if [[ $name == aimock && -n ${8:-} ]]; then
      # aimock not answering another provider's API the way the real API
      # does is a fact about aimock, not a failure of this run: "n/a".
      log "aimock / $sc: not measured, its answer is not the expected one: $why"
      rec "$name" "$sc.na" "$why"
      return 0
    fi
    fail "$name" "$sc" "wrong answer before load: $why"
    return 0
  fi
  log "$name / $sc: warm-up $warm, then $dur at -t$THREADS -c$CONNS"
  if [[ $warm != 0 && $warm != 0s ]]; then
    BENCH_BODY_FILE=$body "${WRK_PREFIX[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$warm" --timeout 5s \
      -s "$BENCH_DIR/post.lua" "$url" >"$out.warmup" 2>&1 || true
  fi
  alive "$pid" || { fail "$name" "$sc" "server died during warm-up (log: see KEEP_TMP=1)"; return 1; }

  if [[ -n $sample ]]; then
    : >"$TMP/rss-$name.txt"
    sample_rss "$pid" "$TMP/rss-$name.txt" &
    SAMPLER_PID=$!
  fi
  c0=$(cpu_ticks "$pid")
  # bash's `time` gives wrk's own CPU use (user, sys seconds): on a small
  # machine the load generator can be the limit, and the report says so.
  { time BENCH_BODY_FILE=$body "${WRK_PREFIX[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$dur" --timeout 5s \
      -s "$BENCH_DIR/post.lua" "$url" >"$out" 2>&1; } 2>"$out.time" || true
  c1=$(cpu_ticks "$pid" 2>/dev/null) || c1=""
  if [[ -n $SAMPLER_PID ]]; then
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    rec "$name" rss_load_kb "$(sort -n "$TMP/rss-$name.txt" | tail -1)"
  fi
  if [[ -z $c1 ]] || ! alive "$pid"; then
    fail "$name" "$sc" "server died under load"
    return 1
  fi

  line=$(grep '^BENCH ' "$out" || true)
  if [[ -z $line ]]; then
    fail "$name" "$sc" "no result from wrk: $(tr '\n' ' ' <"$out" | cut -c1-300)"
    return 0
  fi
  local requests=0 duration_us=1 err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0 p50_us=0 p90_us=0 p99_us=0
  for kv in ${line#BENCH }; do
    case ${kv%%=*} in
      requests|duration_us|err_connect|err_read|err_write|err_status|err_timeout|p50_us|p90_us|p99_us)
        printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
    esac
  done
  local errors=$(( err_connect + err_read + err_write + err_status + err_timeout ))
  if (( requests == 0 )); then
    fail "$name" "$sc" "wrk completed no request"
    return 0
  fi
  if (( c1 - c0 == 0 && requests >= 1000 )); then
    # Only possible if the pid is not the process doing the work (e.g. a
    # wrapper that forks instead of exec-ing the server).
    fail "$name" "$sc" "server pid $pid used no CPU for $requests requests: is it the real server process (not a wrapper)?"
    return 0
  fi
  local rps cpu_us cores wrk_cores
  wrk_cores=$(awk -v d="$duration_us" 'NF==2{printf "%.2f", ($1+$2)/(d/1e6)}' "$out.time")
  rps=$(awk -v n="$requests" -v d="$duration_us" 'BEGIN{printf "%.1f", n/(d/1e6)}')
  cpu_us=$(awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v n="$requests" 'BEGIN{printf "%.2f", t*1e6/hz/n}')
  cores=$(awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v d="$duration_us" 'BEGIN{printf "%.2f", (t/hz)/(d/1e6)}')
  rec "$name" "$key.requests" "$requests"
  rec "$name" "$key.rps" "$rps"
  rec "$name" "$key.p50_us" "$p50_us"
  rec "$name" "$key.p90_us" "$p90_us"
  rec "$name" "$key.p99_us" "$p99_us"
  rec "$name" "$key.errors" "$errors"
  rec "$name" "$key.cpu_us" "$cpu_us"
  rec "$name" "$key.cores" "$cores"
  rec "$name" "$key.wrk_cores" "$wrk_cores"
  log "$name / $key: $requests req, $rps req/s, p50 $((p50_us))us p99 $((p99_us))us, CPU $cpu_us us/req ($cores cores; wrk $wrk_cores), errors $errors"
  if (( errors > 0 )); then
    log "warning: $name / $sc had $errors errors (connect $err_connect read $err_read write $err_write status $err_status timeout $err_timeout)"
  fi
  return 0
}

# The floor: capture our server's exact answer to the chat request (on the
# server at PORT), start the bare server with it, and run the chat scenario
# against it like against the others. Our server idles meanwhile.
bench_bare() {
  local port=$1 body="$FX/bare-chat-body.json" why
  if ! why=$("$PY" "$LIB" capture chat "$port" "$body"); then
    fail bare chat "could not capture our server's chat answer: $why"
    return 0
  fi
  rec bare body_bytes "$(stat -c %s "$body")"
  log "================ bare (the floor; $(stat -c %s "$body") bytes of our chat answer) ================"
  if ! start_server bare "$body" chat; then
    fail bare chat "the bare server did not start: $SRV_ERR"
    return 0
  fi
  rec bare startup_ms "$SRV_MS"
  run_scenario bare chat "$SRV_PID" "$SRV_PORT" || true
  # More pairs, alternated (ours, then bare), so both sides see the same stretch of the
  # machine each time; the report takes the median of the pairs' ratios.
  local i bare_pid=$SRV_PID bare_port=$SRV_PORT
  for (( i = 2; i <= PAIRS; i++ )); do
    REC_SUFFIX="#$i" run_scenario ours chat "$OURS_PID" "$port" || break
    REC_SUFFIX="#$i" run_scenario bare chat "$bare_pid" "$bare_port" || break
  done
  stop_pid "$bare_pid"
}

bench_server() {
  local name=$1 samples="" i sc
  log "================ $name ================"

  # Start-up: spawn -> first correct chat answer, several times.
  for i in $(seq "$STARTUP_RUNS"); do
    if ! start_server "$name" "$FX/fixtures-small.json" "startup$i"; then
      fail "$name" startup "could not start: $SRV_ERR"
      return 0
    fi
    samples+="${SRV_MS},"
    stop_pid "$SRV_PID"
  done

  # 10 fixtures: the four small-set scenarios.
  if ! start_server "$name" "$FX/fixtures-small.json" small; then
    fail "$name" startup "could not start: $SRV_ERR"
    return 0
  fi
  samples+="$SRV_MS"
  rec "$name" startup_ms_samples "$samples"
  log "$name start-up samples (ms): $samples"
  sleep 1
  rec "$name" rss_idle_kb "$(rss_kb "$SRV_PID")"
  for sc in chat stream embed_hit embed_miss; do
    local sample=""
    [[ $sc == chat ]] && sample=1
    run_scenario "$name" "$sc" "$SRV_PID" "$SRV_PORT" "$sample" || break
    # The floor right after our chat run, so both see the same machine.
    if [[ $sc == chat && $name == ours && $RUN_BARE == 1 ]]; then
      local keep_pid=$SRV_PID keep_port=$SRV_PORT
      OURS_PID=$SRV_PID bench_bare "$SRV_PORT"
      SRV_PID=$keep_pid SRV_PORT=$keep_port
      alive "$SRV_PID" || { fail ours "$sc" "server died while the bare server ran"; break; }
    fi
  done
  # The other providers' native APIs, same server, same two fixtures.
  if [[ $PROVIDERS == 1 ]] && alive "$SRV_PID"; then
    for sc in $("$PY" "$LIB" provider-scenarios); do
      run_scenario "$name" "$sc" "$SRV_PID" "$SRV_PORT" "" "$PROVIDER_DURATION" "$PROVIDER_WARMUP" provider || break
    done
  fi
  # Record mode's cost: a --proxy-only server with no fixtures in front of this one.
  if [[ $PROXY == 1 ]] && alive "$SRV_PID"; then
    local up_pid=$SRV_PID up_port=$SRV_PORT
    mkdir -p "$FX/empty"
    EXTRA_ARGS=(--proxy-only --provider-openai "http://127.0.0.1:$up_port")
    if start_server "$name" "$FX/empty" proxy; then
      for sc in proxy_chat proxy_stream; do
        run_scenario "$name" "$sc" "$SRV_PID" "$SRV_PORT" "" "$PROVIDER_DURATION" "$PROVIDER_WARMUP" || break
      done
      stop_pid "$SRV_PID"
    else
      fail "$name" proxy_chat "the --proxy-only server did not start: $SRV_ERR"
    fi
    EXTRA_ARGS=()
    SRV_PID=$up_pid SRV_PORT=$up_port
  fi
  stop_pid "$SRV_PID"

  # Chaos evaluated on every request, never firing.
  if [[ $PROXY == 1 ]]; then
    EXTRA_ARGS=(--chaos-drop 0 --chaos-malformed 0 --chaos-disconnect 0)
    if start_server "$name" "$FX/fixtures-small.json" chaos0; then
      run_scenario "$name" chat_chaos0 "$SRV_PID" "$SRV_PORT" || true
      stop_pid "$SRV_PID"
    else
      fail "$name" chat_chaos0 "could not start with chaos flags: $SRV_ERR"
    fi
    EXTRA_ARGS=()
  fi

  # 10,000 fixtures, worst-case match.
  if ! start_server "$name" "$FX/fixtures-10k.json" large; then
    fail "$name" chat10k "could not start with 10,000 fixtures: $SRV_ERR"
    return 0
  fi
  rec "$name" startup10k_ms "$SRV_MS"
  sleep 1
  rec "$name" rss_idle10k_kb "$(rss_kb "$SRV_PID")"
  if [[ $name != ours || $PAIRS -le 1 ]]; then
    run_scenario "$name" chat10k "$SRV_PID" "$SRV_PORT" || true
    stop_pid "$SRV_PID"
    return 0
  fi
  # Ours: the 10,000-fixture bar compares two runs, so they run as alternated pairs against a
  # 10-fixture instance started beside this one, like the floor's pairs.
  local large_pid=$SRV_PID large_port=$SRV_PORT small_pid small_port i sfx
  if ! start_server "$name" "$FX/fixtures-small.json" small-ref; then
    run_scenario "$name" chat10k "$large_pid" "$large_port" || true
    stop_pid "$large_pid"
    return 0
  fi
  small_pid=$SRV_PID small_port=$SRV_PORT
  for (( i = 1; i <= PAIRS; i++ )); do
    sfx=""; (( i > 1 )) && sfx="#$i"
    REC_SUFFIX="_ref$sfx" run_scenario "$name" chat "$small_pid" "$small_port" || break
    REC_SUFFIX="$sfx" run_scenario "$name" chat10k "$large_pid" "$large_port" || break
  done
  stop_pid "$small_pid"
  stop_pid "$large_pid"
}

# The realtime APIs: WS_SOCKETS concurrent sockets each running short text turns for
# WS_DURATION (turns/s, server CPU per turn), then WS_IDLE idle sockets held open (memory per
# idle socket), on a fresh server with one fixture.
ws_turns() { # name scenario pid per-socket(0: one socket per run) url until message...
  local name=$1 sc=$2 pid=$3 per=$4 url=$5 until=$6 out c0 c1 line turns=0 secs=1 errors=0 kv
  local -a flags=()
  shift 6
  (( per > 0 )) && flags=("--per-socket=$per")
  out="$TMP/wrk/$name-$sc.txt"
  log "$name / $sc: $WS_SOCKETS sockets for $WS_DURATION"
  "${WRK_PREFIX[@]}" "$WS_BIN" turns "${flags[@]}" "$url" "$WS_SOCKETS" 1 "$until" "$@" >"$out.warmup" 2>&1 || true
  c0=$(cpu_ticks "$pid")
  "${WRK_PREFIX[@]}" "$WS_BIN" turns "${flags[@]}" "$url" "$WS_SOCKETS" "${WS_DURATION%s}" "$until" "$@" >"$out" 2>&1 || true
  c1=$(cpu_ticks "$pid" 2>/dev/null) || { fail "$name" "$sc" "server died under load"; return 1; }
  line=$(grep '^BENCH ' "$out" || true)
  for kv in ${line#BENCH }; do
    case ${kv%%=*} in turns|secs|errors) printf -v "${kv%%=*}" '%s' "${kv#*=}" ;; esac
  done
  if (( turns == 0 )); then
    fail "$name" "$sc" "no turn completed: $(tr '\n' ' ' <"$out" | cut -c1-300)"
    return 0
  fi
  rec "$name" "$sc.turns" "$turns"
  rec "$name" "$sc.tps" "$(awk -v n="$turns" -v d="$secs" 'BEGIN{printf "%.1f", n/d}')"
  rec "$name" "$sc.cpu_us" "$(awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v n="$turns" 'BEGIN{printf "%.2f", t*1e6/hz/n}')"
  rec "$name" "$sc.errors" "$errors"
  log "$name / $sc: $turns turns in ${secs}s, errors $errors"
}

bench_ws() {
  local name=$1 fx="$FX/ws" pid port r0 r1 n line
  [[ -x $WS_BIN ]] || { fail "$name" ws "the load generator $WS_BIN is missing: cargo build --release"; return 0; }
  # The small set (the start-up check asks its chat fixture) and the turns' own fixture.
  mkdir -p "$fx"
  cp "$FX/fixtures-small.json" "$fx/"
  printf '%s\n' '{"fixtures":[{"match":{"userMessage":"realtime bench turn"},"response":{"content":"A short realtime answer."}}]}' >"$fx/ws.json"
  if ! start_server "$name" "$fx" ws; then
    fail "$name" ws "could not start: $SRV_ERR"
    return 0
  fi
  pid=$SRV_PID port=$SRV_PORT
  ws_turns "$name" ws_responses "$pid" 0 "ws://127.0.0.1:$port/v1/responses" response.completed \
    '{"type":"response.create","model":"gpt-4o","input":"realtime bench turn"}' || true
  alive "$pid" && ws_turns "$name" ws_realtime "$pid" "$WS_SESSION_TURNS" "ws://127.0.0.1:$port/v1/realtime?model=gpt-realtime" response.done \
    '{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"realtime bench turn"}]}}' \
    '{"type":"response.create"}' || true
  stop_pid "$pid"
  # Idle sockets, on a fresh server.
  if ! start_server "$name" "$fx" ws-idle; then
    fail "$name" ws_idle "could not start: $SRV_ERR"
    return 0
  fi
  pid=$SRV_PID port=$SRV_PORT
  sleep 1
  r0=$(rss_kb "$pid")
  coproc IDLE { "$WS_BIN" idle "ws://127.0.0.1:$port/v1/responses" "$WS_IDLE" 2>&1; }
  n=0
  if read -r -t 60 line <&"${IDLE[0]}" && [[ $line == READY* ]]; then n=${line#READY }; fi
  sleep 1
  r1=$(rss_kb "$pid")
  exec {IDLE[1]}>&- || true
  wait "$IDLE_PID" 2>/dev/null || true
  stop_pid "$pid"
  if (( n == 0 )); then
    fail "$name" ws_idle "no idle socket opened"
    return 0
  fi
  rec "$name" ws_idle.sockets "$n"
  rec "$name" ws_idle.bytes_per_socket "$(( (r1 - r0) * 1024 / n ))"
  log "$name / ws_idle: $n sockets, RSS $r0 -> $r1 KiB, $(( (r1 - r0) * 1024 / n )) bytes per socket"
}

if [[ $HTTP == 1 ]]; then
  [[ $RUN_OURS == 1 ]] && bench_server ours
  [[ $RUN_AIMOCK == 1 ]] && bench_server aimock
fi
if [[ $WS == 1 ]]; then
  [[ $RUN_OURS == 1 ]] && bench_ws ours
  [[ $RUN_AIMOCK == 1 ]] && bench_ws aimock
fi

mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S).md"
"$PY" "$LIB" report "$RESULTS" "$OUT"
echo
log "written $OUT"
[[ $RUN_OURS == 1 ]] || log "NOTE: our server was not measured (see above)."
if [[ $FAILED == 1 ]]; then
  log "some steps FAILED (see 'Problems' in the report)"
  exit 1
fi
