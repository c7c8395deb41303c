#!/usr/bin/env bash
# What TLS and token authentication cost the API server, on this machine.
#
# Starts `capstan server` twice on 127.0.0.1 with fresh data directories:
# once with its default HTTPS + bearer token, once with --insecure-http (no
# TLS, no authentication). curl (an independent client) then GETs
# /api/v1/namespaces/default N times against each, on one kept-alive
# connection and with a new connection per request (so a TLS handshake each
# time). Prints p50/p99 in milliseconds and the TLS/plain ratios.
#
# Usage: Benchmarks/apiserver-tls.sh [N] [path-to-capstan]   (default 300, .build/debug/capstan)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
capstan=${2:-.build/debug/capstan}
[ -x "$capstan" ] || swift build --product capstan

work=$(mktemp -d /tmp/capstan-tls-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a server in the background (not in a subshell, so cleanup sees its pid).
start() {  # name, extra flags...
  local name=$1; shift
  local port; port=$(free_port)
  "$capstan" server --data-dir "$work/$name" --listen "127.0.0.1:$port" --durability normal "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "capstan server listening on" "$work/$name.log" 2>/dev/null && break; sleep 0.1; done
}
url_of() { grep -o 'capstan server listening on [^ ]*' "$work/$1.log" | cut -d' ' -f5; }

start tls
start plain --insecure-http
tls_url=$(url_of tls)
plain_url=$(url_of plain)
token=$(sed -n 's/^ *token: *//p' "$work/tls/admin.kubeconfig" | tr -d "\"'")
path=/api/v1/namespaces/default

# Times (seconds) of n transfers in one curl run: one connection, or a new one each.
times() {  # url, keepalive|new, curl flags...
  local url=$1 mode=$2; shift 2
  local urls=() i
  for i in $(seq "$n"); do urls+=(-o /dev/null "$url$path"); done
  local extra=()
  [ "$mode" = new ] && extra=(-H "Connection: close")
  curl -sS -w '%{time_total}\n' "${extra[@]}" "$@" "${urls[@]}"
}

percentiles() { sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000}'; }

times "$tls_url" keepalive --cacert "$work/tls/pki/ca.crt" -H "Authorization: Bearer $token" >/dev/null  # warm-up
read -r tk50 tk99 < <(times "$tls_url" keepalive --cacert "$work/tls/pki/ca.crt" -H "Authorization: Bearer $token" | percentiles)
read -r pk50 pk99 < <(times "$plain_url" keepalive | percentiles)
read -r tn50 tn99 < <(times "$tls_url" new --cacert "$work/tls/pki/ca.crt" -H "Authorization: Bearer $token" | percentiles)
read -r pn50 pn99 < <(times "$plain_url" new | percentiles)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "GET $path, $n requests each, curl $(curl --version | head -1 | cut -d' ' -f2)"
echo
echo "| connection | HTTPS + token p50 / p99 ms | plain HTTP p50 / p99 ms | p50 ratio |"
echo "|---|---|---|---|"
echo "| kept alive | $tk50 / $tk99 | $pk50 / $pk99 | $(ratio "$tk50" "$pk50") |"
echo "| new per request | $tn50 / $tn99 | $pn50 / $pn99 | $(ratio "$tn50" "$pn50") |"
