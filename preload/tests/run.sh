#!/usr/bin/env bash
# run.sh RAMPART LIBRARY TEST: run the C test program TEST with LIBRARY in
# LD_PRELOAD against a real `RAMPART serve`, started here with a throwaway
# RAMPART_HOME, tests/policy.yaml, a Unix socket and a free TCP port, and
# stopped at the end. With RAMPART_TEST_ASAN=path/to/libasan.so, that
# runtime is preloaded first (for the AddressSanitizer build).
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 RAMPART LIBRARY TEST" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
rampart=$(realpath "$1")
lib=$(realpath "$2")
test=$(realpath "$3")
if [ ! -x "$rampart" ]; then
  echo "run.sh: $1 is not built (run make in the top folder, or pass RAMPART=...)" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rampart-ctest-XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

asan="${RAMPART_TEST_ASAN:-}"
# Nothing of the caller's Rampart settings.
for v in $(compgen -e | grep -E '^(RAMPART_|LD_PRELOAD$)' || true); do unset "$v"; done
export RAMPART_HOME="$tmp/home" HOME="$tmp/user"
mkdir -p "$RAMPART_HOME/policies" "$HOME" "$tmp/scratch"
cp "$here/policy.yaml" "$RAMPART_HOME/policies/preload-test.yaml"
sock="$tmp/s.sock"

"$rampart" serve --socket "$sock" --port 0 --log-level warn >"$tmp/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  [ -S "$sock" ] && [ -s "$RAMPART_HOME/token" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: rampart serve exited:" >&2
    cat "$tmp/serve.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -S "$sock" ]; then
  echo "run.sh: rampart serve did not listen on $sock within 10 s:" >&2
  cat "$tmp/serve.log" >&2
  exit 1
fi

preload="$lib"
if [ -n "$asan" ]; then
  preload="$asan:$lib"
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1"
fi
status=0
LD_PRELOAD="$preload" RAMPART_URL="unix:$sock" RAMPART_TOKEN="$(cat "$RAMPART_HOME/token")" \
  RAMPART_SESSION=c-test "$test" "$tmp/scratch" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: server log:" >&2
  cat "$tmp/serve.log" >&2
fi
exit "$status"
