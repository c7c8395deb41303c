#!/usr/bin/env bash
# How long `capstan server` (release build) takes from launch to accepting
# requests: the first start on an empty data directory (CA and serving
# certificate, tokens, Secrets key, service-account key, RBAC bootstrap) and
# a restart on the same directory. Five of each, on loopback; prints the
# times in milliseconds and their median.
#
#   Benchmarks/server-startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CAPSTAN:-}" ]; then
  swift build -c release --product capstan >/dev/null
  CAPSTAN=$(swift build -c release --show-bin-path)/capstan
fi
work=$(mktemp -d /tmp/capstan-startup-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a server on $1, prints the milliseconds until it says it listens, stops it.
start_once() {
  local data=$1 log=$work/server.log start now
  : >"$log"
  start=$(date +%s%N)
  "$CAPSTAN" server --data-dir "$data" --listen 127.0.0.1:0 --durability normal --log-level warning >"$log" 2>&1 &
  pid=$!
  until grep -q "capstan server listening on" "$log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.005
  done
  now=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo $(((now - start) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

echo "$("$CAPSTAN" version 2>/dev/null | head -1), $(nproc) cores"
first=(); again=()
for i in 1 2 3 4 5; do
  first+=("$(start_once "$work/data-$i")")
  again+=("$(start_once "$work/data-$i")")
done
echo "first start (empty data dir): ${first[*]} ms, median $(printf '%s\n' "${first[@]}" | median) ms"
echo "restart (same data dir):      ${again[*]} ms, median $(printf '%s\n' "${again[@]}" | median) ms"
