#!/usr/bin/env bash
# API server load: create, get and list throughput and latency, and watch
# fan-out to 1,000 watchers, against a real `capstan server` (release build)
# on loopback, with the Kubernetes API SLOs as pass/fail.
#
#   Benchmarks/api-load.sh [extra api_load.py flags, e.g. --creates 500 --watchers 200]
#   Benchmarks/api-load.sh --write-cost     # what each kind's write checks cost (schema, CEL)
#
# The server runs with a fresh temporary data directory and `--durability
# normal` unless CAPSTAN_DURABILITY=full. The load generator is
# Benchmarks/api-load/api_load.py (asyncio, raw keep-alive HTTP/1.1); it
# prints a Markdown table. Bounded: a few thousand requests and 50 fan-out
# writes; about a minute on 2 cores. Exit status 1 if an SLO is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CAPSTAN:-}" ]; then
  swift build -c release --product capstan >/dev/null
  CAPSTAN=$(swift build -c release --show-bin-path)/capstan
fi

work=$(mktemp -d /tmp/capstan-api-load-XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
flags=(server --data-dir "$work/data" --listen "127.0.0.1:$port" --durability "${CAPSTAN_DURABILITY:-normal}"
  --log-level warning --max-watches-per-client 2000)
# Once the server speaks TLS by default, plain HTTP on loopback is an explicit flag.
if "$CAPSTAN" server --help 2>&1 | grep -q -- '--insecure-http'; then flags+=(--insecure-http); fi
ulimit -n "$(ulimit -Hn)"
"$CAPSTAN" "${flags[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  grep -q "listening on" "$work/server.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$work/server.log" || { echo "api-load: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

echo "$("$CAPSTAN" version 2>/dev/null | head -1), $(nproc) cores, durability ${CAPSTAN_DURABILITY:-normal}"
# A server with token authentication writes an admin kubeconfig; use its token.
token=()
kubeconfig="$work/data/admin.kubeconfig"
if [ -f "$kubeconfig" ]; then
  token=(--token "$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["users"][0]["user"]["token"])' "$kubeconfig")")
fi
status=0
python3 Benchmarks/api-load/api_load.py "http://127.0.0.1:$port" "${token[@]}" "$@" || status=$?
rss=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$server_pid/status")
echo
echo "server peak RSS: $rss"
exit $status
