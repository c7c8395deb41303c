#!/usr/bin/env bash
# Service traffic through the node's proxy, on `capstan up` (release build)
# with the template's web app (busybox httpd) at one replica:
#
#   1. wrk (2 threads, 16 connections, 10 s) straight to the pod's address and
#      through the Service's ClusterIP: requests/s and latency percentiles, so
#      the difference is what the DNAT costs;
#   2. how long after a new pod turns Ready its address is in the nftables
#      map and in cluster DNS (Benchmarks/scripts/endpoint-propagation.py,
#      10 scale-ups of the Deployment).
#
#   sudo Benchmarks/service-proxy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "service-proxy.sh: run as root (runc, nftables)" >&2; exit 1; }
for tool in wrk nft kubectl; do command -v "$tool" >/dev/null || { echo "service-proxy.sh: $tool missing (ops/install-deps.sh)" >&2; exit 1; }; done

if [ -z "${CAPSTAN:-}" ]; then
  swift build -c release --product capstan >/dev/null
  CAPSTAN=$(swift build -c release --show-bin-path)/capstan
fi
work=$(mktemp -d /tmp/capstan-proxy-bench-XXXXXX)
up=""
cleanup() {
  if [ -n "$up" ]; then kill -INT "$up" 2>/dev/null || true; wait "$up" 2>/dev/null || true; fi
  [ -d "$work/data" ] && "$CAPSTAN" reset --data-dir "$work/data" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CAPSTAN" up --data-dir "$work/data" --listen "127.0.0.1:$port" --cni-conf-dir "$work/cni" --sync-interval 1 --log-level warning \
  >"$work/up.log" 2>&1 &
up=$!
until grep -q "Capstan is up." "$work/up.log"; do
  kill -0 "$up" 2>/dev/null || { cat "$work/up.log" >&2; exit 1; }
  sleep 0.2
done
export KUBECONFIG=$work/data/admin.kubeconfig
kubectl wait -n demo --for=condition=Available deployment/web --timeout=180s >/dev/null
kubectl create service clusterip web-headless -n demo --clusterip=None --tcp=80:8080 >/dev/null
kubectl set selector service web-headless -n demo app.kubernetes.io/name=web >/dev/null
pod_ip=$(kubectl get pods -n demo -l app.kubernetes.io/name=web -o jsonpath='{.items[0].status.podIP}')
cluster_ip=$(kubectl get service web -n demo -o jsonpath='{.spec.clusterIP}')
until curl -sf -m 2 "http://$cluster_ip/" >/dev/null; do sleep 0.2; done

run_wrk() { # url -> "N requests/s, latency p50 … p99 …"
  wrk -t2 -c16 -d10s --latency "$1" 2>&1 |
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx|Socket errors/ {errors=errors $0 ";"}
         END {printf "%s requests/s, latency p50 %s, p99 %s%s", rps, p50, p99, errors ? " (" errors ")" : ""}'
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) cores, $(uname -r); capstan $("$CAPSTAN" version | head -1)"
echo "pod IP    $pod_ip:8080: $(run_wrk "http://$pod_ip:8080/")"
echo "ClusterIP $cluster_ip:80: $(run_wrk "http://$cluster_ip/")"
python3 Benchmarks/scripts/endpoint-propagation.py "$KUBECONFIG" 10
