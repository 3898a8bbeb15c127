#!/usr/bin/env bash
# The action's first step: find the aimock binary and write `bin=<path>` to $GITHUB_OUTPUT.
#   INPUT_BINARY   a binary to use as it is (checked to be executable)
#   INPUT_PACKAGE  npm package (default aimock-rs), or a path or URL of its tarball
#   INPUT_VERSION  its version (default latest; ignored for a tarball)
# The package is installed into a private prefix under $RUNNER_TEMP, not globally.
set -euo pipefail

fail() {
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then echo "::error title=aimock::$*" >&2; fi
  echo "aimock action: error: $*" >&2
  exit 1
}

bin="${INPUT_BINARY:-}"
if [[ -n "$bin" ]]; then
  [[ -f "$bin" && -x "$bin" ]] || fail "binary '$bin' is not an executable file"
else
  command -v npm >/dev/null 2>&1 ||
    fail "npm is not on PATH: set up Node first (actions/setup-node) or pass the 'binary' input"
  package="${INPUT_PACKAGE:-aimock-rs}"
  version="${INPUT_VERSION:-latest}"
  case "$package" in
    # A tarball (path or URL): installed as it is.
    *.tgz | *.tar.gz | /* | ./* | ../* | file:* | http://* | https://*) spec="$package" ;;
    *) spec="$package@$version" ;;
  esac
  prefix="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/aimock-action/npm"
  mkdir -p "$prefix"
  echo "aimock action: npm install $spec (into $prefix)"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$spec" >&2 ||
    fail "npm install $spec failed"
  bin=""
  for name in aimock aimock-rs; do
    if [[ -x "$prefix/node_modules/.bin/$name" ]]; then bin="$prefix/node_modules/.bin/$name"; break; fi
  done
  [[ -n "$bin" ]] || fail "$spec installed no 'aimock' command (looked in $prefix/node_modules/.bin)"
fi

version_line="$("$bin" --version 2>&1)" || fail "'$bin --version' failed: $version_line"
echo "aimock action: using $bin ($version_line)"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "bin=$bin" >>"$GITHUB_OUTPUT"; fi
