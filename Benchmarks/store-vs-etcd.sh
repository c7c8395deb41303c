#!/usr/bin/env bash
# Capstan's store against a real etcd, side by side, on this machine.
#
# Starts etcd (Debian's etcd-server 3.4) and `capstan store serve` on
# 127.0.0.1 with fresh temporary data directories, fsync on for both (etcd
# always fsyncs; Capstan's default durability is `full`), and runs the same
# etcd v3 API workload against each with one driver (Sources/store-vs-etcd):
# sequential puts, concurrent puts (16 and 64 clients), range over 10k keys,
# watch fan-out (100 watchers x 10k events) and txn compare-and-swap
# contention. Prints ops/s, p50/p99 and the ratios as a Markdown table.
#
# Usage: Benchmarks/store-vs-etcd.sh   (from a clean clone; builds in release)
set -euo pipefail
cd "$(dirname "$0")"

swift build -c release --product capstan
swift build -c release --product store-vs-etcd
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d /tmp/capstan-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits (at most 30 s) until file $1 contains text $2.
wait_for() {
  for _ in $(seq 300); do
    if grep -q "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "store-vs-etcd: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  exit 1
}

etcd_port=$(free_port)
peer_port=$(free_port)
capstan_port=$(free_port)

etcd --name bench --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "bench=http://127.0.0.1:$peer_port" --logger zap --log-outputs stderr \
  >"$work/etcd.log" 2>&1 &
pids+=($!)

"$bin/capstan" store serve --data-dir "$work/capstan" --listen "127.0.0.1:$capstan_port" \
  --durability full --auto-compaction-retention 0 --log-level warning \
  >"$work/capstan.log" 2>&1 &
pids+=($!)

wait_for "$work/etcd.log" "serving client traffic"
wait_for "$work/capstan.log" "listening on"

echo "etcd $(etcd --version | head -1 | awk '{print $3}') on 127.0.0.1:$etcd_port, capstan store on 127.0.0.1:$capstan_port; $(nproc) cores"
"$bin/store-vs-etcd" --etcd "127.0.0.1:$etcd_port" --capstan "127.0.0.1:$capstan_port"
