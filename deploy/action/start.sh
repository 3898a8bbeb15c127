#!/usr/bin/env bash
# The action's second step: start aimock in the background, wait until it answers /health, and
# write `url`, `pid` and `log` to $GITHUB_OUTPUT (and AIMOCK_URL to $GITHUB_ENV).
# Inputs come as environment variables (the action.yml step maps them), so this runs anywhere:
#   AIMOCK_BIN (default: aimock on PATH), INPUT_FIXTURES (./fixtures), INPUT_CONFIG, INPUT_PORT
#   (4010), INPUT_HOST (127.0.0.1), INPUT_ARGS, INPUT_WAIT_TIMEOUT (30), INPUT_VALIDATE (true).
# It exits non-zero, with the reason and the server's log, when the server cannot start.
set -euo pipefail

DEFAULT_FIXTURES=./fixtures

fail() {
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then echo "::error title=aimock::$*" >&2; fi
  echo "aimock action: error: $*" >&2
  exit 1
}

bin="${AIMOCK_BIN:-}"
if [[ -z "$bin" ]]; then bin="$(command -v aimock || true)"; fi
[[ -n "$bin" && -x "$bin" ]] || fail "no aimock binary (set AIMOCK_BIN or put aimock on PATH)"

fixtures="${INPUT_FIXTURES-$DEFAULT_FIXTURES}"
config="${INPUT_CONFIG:-}"
port="${INPUT_PORT:-4010}"
host="${INPUT_HOST:-127.0.0.1}"
timeout="${INPUT_WAIT_TIMEOUT:-30}"
validate="${INPUT_VALIDATE:-true}"

if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port > 65535)); then
  fail "port '$port' is not a port number (0-65535)"
fi
port=$((10#$port))
if ! [[ "$timeout" =~ ^[0-9]{1,6}$ ]] || ((10#$timeout == 0)); then
  fail "wait-timeout '$timeout' is not a positive number of seconds"
fi
timeout=$((10#$timeout))
case "$validate" in true | false) ;; *) fail "validate '$validate' is neither true nor false" ;; esac

argv=(--host "$host" --port "$port")
pass_fixtures=false
if [[ -n "$config" ]]; then
  [[ -f "$config" ]] || fail "config file '$config' not found (working directory: $PWD)"
  argv+=(--config "$config")
  # With a config, its llm.fixtures decide unless fixtures was set to something else.
  if [[ -n "$fixtures" && "$fixtures" != "$DEFAULT_FIXTURES" ]]; then pass_fixtures=true; fi
elif [[ -n "$fixtures" ]]; then
  pass_fixtures=true
else
  fail "neither fixtures nor config is set"
fi
if [[ "$pass_fixtures" == true ]]; then
  [[ -e "$fixtures" ]] ||
    fail "fixtures path '$fixtures' not found (working directory: $PWD); set the 'fixtures' input to your fixture file or directory"
  argv+=(--fixtures "$fixtures")
  if [[ "$validate" == true && " ${INPUT_ARGS:-} " != *[[:space:]]--validate-on-load[[:space:]]* ]]; then
    argv+=(--validate-on-load)
  fi
fi
if [[ -n "${INPUT_ARGS:-}" ]]; then
  read -r -d '' -a extra <<<"$INPUT_ARGS" || true
  if ((${#extra[@]} > 0)); then argv+=("${extra[@]}"); fi # (bash < 4.4: an empty "${a[@]}" is unbound)
fi

# The address to probe and to hand out: a wildcard host is reached on loopback.
case "$host" in
  0.0.0.0 | "") probe_host=127.0.0.1 ;;
  :: | "[::]") probe_host="::1" ;;
  *) probe_host="${host#[}"; probe_host="${probe_host%]}" ;;
esac
url_host="$probe_host"
if [[ "$url_host" == *:* ]]; then url_host="[$url_host]"; fi

# Something else on the port would answer /health in our place: refuse to start beside it.
if ((port != 0)) && (: <"/dev/tcp/$probe_host/$port") 2>/dev/null; then
  fail "port $port on $probe_host is already in use; stop what listens there or set the 'port' input"
fi

if command -v curl >/dev/null 2>&1; then
  probe() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
elif command -v wget >/dev/null 2>&1; then
  probe() { wget -q -T 2 -O /dev/null "$1" 2>/dev/null; }
else
  fail "neither curl nor wget is on PATH to probe /health"
fi

dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/aimock-action"
mkdir -p "$dir"
log="$dir/aimock-$port-$$.log"
echo "aimock action: $bin ${argv[*]}"
nohup "$bin" "${argv[@]}" >"$log" 2>&1 </dev/null &
pid=$!

show_log() {
  echo "---- aimock log ($log) ----" >&2
  tail -n 50 "$log" >&2 || true
  echo "----" >&2
}

url=""
deadline=$((SECONDS + timeout))
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    status=0
    wait "$pid" || status=$?
    show_log
    fail "aimock exited with status $status before it answered /health (its log is above)"
  fi
  if [[ -z "$url" ]]; then
    if ((port == 0)); then
      # Port 0: the server says which port it got.
      line="$(grep -o 'listening on http://[^ ]*' "$log" | head -n 1 || true)"
      if [[ -n "$line" ]]; then
        got="${line##*:}"
        url="http://$url_host:$got"
      fi
    else
      url="http://$url_host:$port"
    fi
  fi
  if [[ -n "$url" ]] && probe "$url/health"; then break; fi
  if ((SECONDS >= deadline)); then
    kill "$pid" 2>/dev/null || true
    show_log
    fail "aimock did not answer ${url:-http://$url_host:$port}/health within ${timeout}s"
  fi
  sleep 0.2
done

echo "aimock action: aimock (pid $pid) is ready at $url"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "url=$url"
    echo "pid=$pid"
    echo "log=$log"
  } >>"$GITHUB_OUTPUT"
fi
if [[ -n "${GITHUB_ENV:-}" ]]; then echo "AIMOCK_URL=$url" >>"$GITHUB_ENV"; fi
