#!/usr/bin/env bash
# Load test (issue #6): 200 concurrent clients asking questions for 60 s
# against a real `eulcat serve` (real model) on 127.0.0.1, with Debian's
# wrk. Prints the statuses (only 200, 429 and 503-with-Retry-After are
# acceptable), p50/p99 latency, the server's peak memory, and checks that the
# server answers normally afterwards. Not a test: CI does not run it.
#
# Usage: bench/load.sh [--eulcat PATH] [--clients N] [--seconds N] [-- serve options…]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
eulcat="${CARGO_TARGET_DIR:-$root/target}/release/eulcat"
clients=200
seconds=60
while [ $# -gt 0 ]; do
  case "$1" in
    --eulcat) eulcat="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "load: install Debian's wrk first (apt-get install wrk)" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$root"
"$eulcat" serve --bind "127.0.0.1:$port" --store "$work/store.sqlite3" --no-watch "$@" \
  > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "load: the server did not start" >&2; tail "$work/serve.log" >&2; exit 1; }
echo "load: $clients clients for $seconds s against 127.0.0.1:$port (serve $*)"
ulimit -n 4096 2>/dev/null || true
wrk -t2 -c"$clients" -d"${seconds}s" --timeout 30s -s "$here/load.lua" "http://127.0.0.1:$port"
echo "server peak memory: $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MB"}')"
sleep 2  # the limiter refills this address's bucket (one request a second)
after=$(curl -s -o /dev/null -w '%{http_code} in %{time_total} s' -X POST "http://127.0.0.1:$port/api/chat" \
  -H 'Content-Type: application/json' \
  -d '{"message": "Quand ouvre l'"'"'exposition Destination IA ?"}')
echo "afterwards, one question: HTTP $after"
