#!/usr/bin/env bash
# Cluster DNS side by side: CapstanDNS on a node of `capstan server --with-node`
# (release build), answering 100 Services from its informer cache, and unbound
# serving the same 100 A records from a local zone, on this machine, both
# loaded by dnsperf over loopback with the same query file:
#
#   1. throughput: as many queries as 4 clients with 100 outstanding get
#      answered in 10 s (queries/s);
#   2. latency: a steady 2,000 queries/s for 10 s, per-query latency from
#      dnsperf -v (p50, p99, max).
#
# CapstanDNS is asked at its own address (169.254.20.10) and, for the path
# pods take, at the cluster DNS Service address (10.96.0.10, through the
# proxy's DNAT). unbound gets as many threads as the machine has cores,
# CapstanDNS runs on SwiftNIO's event loops (one per core).
#
#   sudo Benchmarks/cluster-dns.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "cluster-dns.sh: run as root (the node's proxy and DNS need it)" >&2; exit 1; }
for tool in dnsperf unbound nft; do command -v "$tool" >/dev/null || { echo "cluster-dns.sh: $tool missing (ops/install-deps.sh)" >&2; exit 1; }; done

if [ -z "${CAPSTAN:-}" ]; then
  swift build -c release --product capstan >/dev/null
  CAPSTAN=$(swift build -c release --show-bin-path)/capstan
fi
work=$(mktemp -d /tmp/capstan-dns-bench-XXXXXX)
server="" unbound=""
cleanup() {
  for pid in $server $unbound; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -d "$work/data" ] && "$CAPSTAN" reset --data-dir "$work/data" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
services=100
cores=$(nproc)

# The server with its node; the proxy and DNS come with it.
"$CAPSTAN" server --data-dir "$work/data" --listen 127.0.0.1:0 --with-node --node-name dns-bench --cni-conf-dir "$work/cni" \
  --durability normal --log-level warning >"$work/server.log" 2>&1 &
server=$!
until [ -s "$work/data/admin.kubeconfig" ] && grep -q "listening on" "$work/server.log"; do
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
export KUBECONFIG=$work/data/admin.kubeconfig
kubectl create namespace bench >/dev/null
for i in $(seq 1 $services); do
  printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  namespace: bench\nspec:\n  ports:\n    - name: http\n      port: 80\n---\n' "$i"
done | kubectl apply -f - >/dev/null
kubectl get services -n bench -o jsonpath='{range .items[*]}{.metadata.name} {.spec.clusterIP}{"\n"}{end}' >"$work/services"
[ "$(wc -l <"$work/services")" -eq $services ] || { echo "cluster-dns.sh: expected $services Services" >&2; exit 1; }
awk '{print $1 ".bench.svc.cluster.local A"}' "$work/services" >"$work/queries"
last=$(tail -1 "$work/services" | awk '{print $1}')
until dnsperf -s 169.254.20.10 -d <(echo "$last.bench.svc.cluster.local A") -n 1 2>/dev/null | grep -q "NOERROR 1"; do
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done

# unbound with the same records.
{
  printf 'server:\n  interface: 127.0.0.1\n  port: 5354\n  do-daemonize: no\n  username: ""\n  chroot: ""\n  pidfile: ""\n'
  printf '  use-syslog: no\n  num-threads: %d\n  access-control: 127.0.0.0/8 allow\n  local-zone: "cluster.local." static\n' "$cores"
  awk '{printf "  local-data: \"%s.bench.svc.cluster.local. 5 IN A %s\"\n", $1, $2}' "$work/services"
} >"$work/unbound.conf"
unbound -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
unbound=$!
until dnsperf -s 127.0.0.1 -p 5354 -d <(echo "$last.bench.svc.cluster.local A") -n 1 2>/dev/null | grep -q "NOERROR 1"; do
  kill -0 "$unbound" 2>/dev/null || { cat "$work/unbound.log" >&2; exit 1; }
  sleep 0.2
done

throughput() { # server port -> queries/s (and the share answered NOERROR)
  dnsperf -s "$1" -p "$2" -d "$work/queries" -l 10 -c 4 -q 100 2>/dev/null |
    awk '/Queries per second/ {qps=$4} /Queries lost/ {lost=$3} END {printf "%.0f queries/s (lost %s)", qps, lost}'
}
latency() { # server port -> p50 / p99 / max in ms at 2,000 queries/s
  dnsperf -s "$1" -p "$2" -d "$work/queries" -l 10 -Q 2000 -v 2>/dev/null | awk '/^> NOERROR/ {print $5 * 1000}' | sort -n |
    awk '{a[NR]=$1} END {if (NR == 0) {print "no answers"; exit} printf "p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d answers)", a[int(NR*0.5)], a[int(NR*0.99)], a[NR], NR}'
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) cores, $(uname -r); $services Services; capstan $("$CAPSTAN" version | head -1)"
for target in "CapstanDNS 169.254.20.10 53" "CapstanDNS-via-Service 10.96.0.10 53" "unbound 127.0.0.1 5354"; do
  set -- $target
  echo "$1: throughput $(throughput "$2" "$3"); latency at 2,000/s $(latency "$2" "$3")"
done
