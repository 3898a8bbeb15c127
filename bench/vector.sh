#!/usr/bin/env bash
# Vector-database benchmark: upsert COUNT vectors of dimension DIM through Qdrant's REST API, then
# search them (top 10, cosine) under wrk, on our server and on @copilotkit/aimock's vector mock.
#
# Usage:  bench/vector.sh        (after `cargo build --release`; needs wrk, node, python3)
#
# Knobs: COUNT=100000 DIM=1536 BATCH=500 DURATION=10s WARMUP=2s CONNS=8 THREADS=1
#        AIMOCK_VERSION=1.43.0 AIMOCK_DIR=/path (an existing npm install) ONLY=ours|aimock
#        OURS_BIN=/path KEEP_TMP=1
#
# aimock's vector mock stores what is upserted but computes no similarity (a query returns the
# canned results configured for the collection: none here), so its search figures are the cost of
# an answer, not of a search; the report says what each server returned.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
COUNT=${COUNT:-100000}
DIM=${DIM:-1536}
BATCH=${BATCH:-500}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-8}
THREADS=${THREADS:-1}
AIMOCK_VERSION=${AIMOCK_VERSION:-1.43.0}
OURS_BIN=${OURS_BIN:-$ROOT/target/release/aimock}
ONLY=${ONLY:-}
PY=${PYTHON:-python3}
LIB="$BENCH_DIR/vectorlib.py"

log() { printf '[vector-bench] %s\n' "$*" >&2; }
die() { printf '[vector-bench] ERROR: %s\n' "$*" >&2; exit 1; }

command -v wrk >/dev/null || die "wrk is required (see bench/run.sh)"
TMP=$(mktemp -d -t aimock-vbench.XXXXXX)
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

rec meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
rec meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
rec meta loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
rec meta data "$COUNT vectors x $DIM dims (cosine), upserted in batches of $BATCH over one connection"
rec meta load "wrk -t$THREADS -c$CONNS -d$DURATION after a $WARMUP warm-up, POST .../points/search {vector, limit: 10}"

"$PY" "$LIB" bodies "$TMP/bodies" "$DIM"

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # port path
  local i
  for i in $(seq 300); do
    if curl -s -o /dev/null "http://127.0.0.1:$1$2"; then return 0; fi
    sleep 0.1
  done
  return 1
}
rss_mb() { awk '/^VmRSS:/{printf "%.0f", $2/1024}' "/proc/$1/status"; }
ticks() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; read -ra f <<<"$s"; echo $(( f[11] + f[12] )); }

measure() { # name prefix scenario body
  local name=$1 prefix=$2 sc=$3 body=$4 url out line c0 c1 kv
  url="http://127.0.0.1:$PORT$prefix/collections/bench/points/$sc"
  rec "$name" "$sc.result" "$("$PY" "$LIB" check "$PORT" "$prefix/collections/bench/points/$sc" "$body" | cut -c1-120 | tr '|\t' '  ')"
  BENCH_BODY_FILE=$body wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout 30s -s "$BENCH_DIR/post.lua" "$url" >/dev/null 2>&1 || true
  out="$TMP/$name-$sc.txt"
  c0=$(ticks "$PID")
  BENCH_BODY_FILE=$body wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 30s -s "$BENCH_DIR/post.lua" "$url" >"$out" 2>&1 || true
  c1=$(ticks "$PID")
  line=$(grep '^BENCH ' "$out" || true)
  [[ -n $line ]] || { log "$name/$sc: no wrk result: $(head -c 300 "$out")"; return 0; }
  local requests=0 duration_us=1 p50_us=0 p99_us=0 err_status=0
  for kv in ${line#BENCH }; do
    case ${kv%%=*} in requests|duration_us|p50_us|p99_us|err_status) printf -v "${kv%%=*}" '%s' "${kv#*=}" ;; esac
  done
  rec "$name" "$sc.rps" "$(awk -v n="$requests" -v d="$duration_us" 'BEGIN{printf "%.1f", n/(d/1e6)}')"
  rec "$name" "$sc.p50_ms" "$(awk -v x="$p50_us" 'BEGIN{printf "%.2f", x/1000}')"
  rec "$name" "$sc.p99_ms" "$(awk -v x="$p99_us" 'BEGIN{printf "%.2f", x/1000}')"
  rec "$name" "$sc.cpu_ms" "$(awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN{if(n>0)printf "%.2f", t*1000/hz/n}')"
  log "$name/$sc: $requests requests, p50 ${p50_us}us, status errors $err_status"
}

run_one() { # name
  local name=$1 prefix
  PORT=$(freeport)
  local cfg="$TMP/$name.json"
  case $name in
    ours)
      echo '{"vector": {"path": "/vector"}}' >"$cfg"
      "$OURS_BIN" --config "$cfg" -p "$PORT" --host 127.0.0.1 --log-level warn >"$TMP/$name.log" 2>&1 &
      PID=$!
      ;;
    aimock)
      echo "{\"port\": $PORT, \"vector\": {\"path\": \"/vector\", \"collections\": [{\"name\": \"bench\", \"dimension\": $DIM}]}}" >"$cfg"
      node "$AIMOCK_CLI" --config "$cfg" >"$TMP/$name.log" 2>&1 &
      PID=$!
      ;;
  esac
  prefix=/vector
  wait_up "$PORT" /health || die "$name did not start: $(tail -5 "$TMP/$name.log")"
  log "$name: upserting $COUNT x $DIM"
  local up
  up=$("$PY" "$LIB" upsert "$PORT" "$prefix" bench "$COUNT" "$DIM" "$BATCH") || { log "$name upsert failed: $up"; kill "$PID"; PID=""; return 0; }
  read -r secs vps mb <<<"$up"
  rec "$name" upsert_s "$secs"
  rec "$name" upsert_vps "$vps"
  rec meta upsert_mb "$mb MB of JSON"
  rec "$name" rss_loaded_mb "$(rss_mb "$PID")"
  measure "$name" "$prefix" search "$TMP/bodies/search.json"
  [[ $name == ours ]] && measure "$name" "$prefix" query "$TMP/bodies/query.json"
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}

if [[ $ONLY != aimock ]]; then
  [[ -x $OURS_BIN ]] || die "$OURS_BIN missing: cargo build --release first"
  run_one ours
fi
if [[ $ONLY != ours ]]; then
  if [[ -n ${AIMOCK_DIR:-} ]]; then NPM_DIR=$AIMOCK_DIR; else
    NPM_DIR="$TMP/npm"; mkdir -p "$NPM_DIR"
    log "installing @copilotkit/aimock@$AIMOCK_VERSION"
    npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save --loglevel=error "@copilotkit/aimock@$AIMOCK_VERSION" >"$TMP/npm.log" 2>&1 \
      || die "npm install failed: $(tail -5 "$TMP/npm.log")"
  fi
  AIMOCK_CLI="$NPM_DIR/node_modules/@copilotkit/aimock/dist/aimock-cli.js"
  [[ -f $AIMOCK_CLI ]] || die "no aimock-cli.js in $NPM_DIR"
  rec meta aimock "$(node -p 'require(process.argv[1]).version' "$NPM_DIR/node_modules/@copilotkit/aimock/package.json") on node $(node --version)"
  run_one aimock
fi

mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/vector-$(date +%Y%m%d-%H%M%S).md"
"$PY" "$LIB" report "$RESULTS" "$OUT"
log "written $OUT"
