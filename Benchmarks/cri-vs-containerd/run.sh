#!/usr/bin/env bash
# Pod start latency and runtime memory: `capstan cri` against containerd 1.6's CRI plugin.
#
#   sudo Benchmarks/cri-vs-containerd/run.sh [PODS] [CONCURRENCY]     (defaults 20, 10)
#
# Both runtimes get their own temporary root, state, socket and CNI network (bridge +
# host-local + portmap from /usr/lib/cni, ipMasq false), run containers with Debian's runc
# on cgroupfs, and use the same busybox image built from busybox-static. containerd runs
# with SystemdCgroup=false, restrict_oom_score_adj=true and a busybox `sleep` image as its
# sandbox (pause) image. The same Python CRI client (bench.py) times RunPodSandbox →
# container Running for PODS pods one at a time, then CONCURRENCY at a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
PODS=${1:-20}
CONCURRENCY=${2:-10}

[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
bash ops/install-deps.sh >/dev/null
swift build -c release --product capstan >/dev/null
CAPSTAN=$(swift build -c release --show-bin-path)/capstan

BASE=$(mktemp -d /tmp/capstan-bench-XXXXXX)
CAPSTAN_PID=""
CONTAINERD_PID=""
cleanup() {
  set +e
  [ -n "$CAPSTAN_PID" ] && kill "$CAPSTAN_PID" 2>/dev/null && wait "$CAPSTAN_PID" 2>/dev/null
  if [ -n "$CONTAINERD_PID" ]; then
    # Pods were removed by bench.py; stop any shim left behind, then containerd itself.
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $BASE/containerd.sock"); do kill "$pid"; done
    kill "$CONTAINERD_PID" 2>/dev/null && wait "$CONTAINERD_PID" 2>/dev/null
  fi
  for target in $(awk -v base="$BASE" '$5 ~ "^"base {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$target"; done
  ip link del bench-cap0 2>/dev/null
  ip link del bench-ctd0 2>/dev/null
  rm -rf "$BASE"
}
trap cleanup EXIT

write_conflist() { # dir bridge subnet
  mkdir -p "$1"
  cat > "$1/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench-$2", "plugins": [
  {"type": "bridge", "bridge": "$2", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$3"}]], "dataDir": "$BASE/ipam-$2"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
}

# Images: one busybox layout for both runtimes, plus a pause-like image for containerd.
"$CAPSTAN" image build-busybox --root "$BASE/capstan" --oci-layout "$BASE/busybox-layout" localhost/busybox:bench >/dev/null
"$CAPSTAN" image build-busybox --root "$BASE/scratch" --oci-layout "$BASE/pause-layout" \
  localhost/pause:bench --command sleep 2147483647 >/dev/null

# --- capstan cri -------------------------------------------------------------------
write_conflist "$BASE/net.d-capstan" bench-cap0 10.190.1.0/24
"$CAPSTAN" cri --socket "$BASE/capstan.sock" --root "$BASE/capstan" --cni-conf-dir "$BASE/net.d-capstan" \
  --log-level warning > "$BASE/capstan.out" 2> "$BASE/capstan.log" &
CAPSTAN_PID=$!
for _ in $(seq 100); do grep -q listening "$BASE/capstan.out" && break; sleep 0.1; done
python3 Benchmarks/cri-vs-containerd/bench.py --socket "$BASE/capstan.sock" --image localhost/busybox:bench \
  --pods "$PODS" --concurrency "$CONCURRENCY" --log-dir "$BASE/logs-capstan" --label "capstan cri" \
  --process "capstan cri --socket $BASE/capstan.sock" --process "cri-monitor --spare $BASE/capstan" > "$BASE/capstan.json"
kill "$CAPSTAN_PID"; wait "$CAPSTAN_PID" || true; CAPSTAN_PID=""

# --- containerd 1.6 CRI -------------------------------------------------------------
write_conflist "$BASE/net.d-containerd" bench-ctd0 10.190.2.0/24
cat > "$BASE/containerd.toml" <<TOML
version = 2
root = "$BASE/containerd/root"
state = "$BASE/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$BASE/containerd.sock"
[ttrpc]
  address = "$BASE/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:bench"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$BASE/net.d-containerd"
TOML
containerd --config "$BASE/containerd.toml" > "$BASE/containerd.log" 2>&1 &
CONTAINERD_PID=$!
for _ in $(seq 100); do [ -S "$BASE/containerd.sock" ] && break; sleep 0.1; done
for image in busybox pause; do
  tar -C "$BASE/$image-layout" -cf "$BASE/$image.tar" .
  ctr -a "$BASE/containerd.sock" -n k8s.io images import "$BASE/$image.tar" >/dev/null
done
python3 Benchmarks/cri-vs-containerd/bench.py --socket "$BASE/containerd.sock" --image localhost/busybox:bench \
  --pods "$PODS" --concurrency "$CONCURRENCY" --log-dir "$BASE/logs-containerd" --label "containerd 1.6" \
  --process "containerd --config $BASE/containerd.toml" --process "containerd-shim-runc-v2 -namespace k8s.io" \
  > "$BASE/containerd.json"

python3 - "$BASE/capstan.json" "$BASE/containerd.json" "$PODS" "$CONCURRENCY" <<'PY'
import json, sys
capstan, containerd = (json.load(open(p)) for p in sys.argv[1:3])
pods, concurrency = sys.argv[3], sys.argv[4]
print(f"RunPodSandbox -> container Running, {pods} pods of one busybox container (ms)")
print(f"{'runtime':<16}{'seq p50':>9}{'seq p99':>9}{f'x{concurrency} p50':>10}{f'x{concurrency} p99':>10}{'PSS MiB':>12}{'procs':>7}")
for r in (capstan, containerd):
    print(f"{r['label']:<16}{r['sequential']['p50_ms']:>9}{r['sequential']['p99_ms']:>9}"
          f"{r['concurrent']['p50_ms']:>10}{r['concurrent']['p99_ms']:>10}{r['memory_kib_with_pods']/1024:>12.1f}{r['processes']:>7}")
def ratio(key, mode):
    return containerd[mode][key] / capstan[mode][key]
print(f"containerd / capstan: seq p50 {ratio('p50_ms','sequential'):.2f}x, seq p99 {ratio('p99_ms','sequential'):.2f}x, "
      f"x{concurrency} p50 {ratio('p50_ms','concurrent'):.2f}x, x{concurrency} p99 {ratio('p99_ms','concurrent'):.2f}x, "
      f"memory {containerd['memory_kib_with_pods']/capstan['memory_kib_with_pods']:.2f}x "
      f"(memory: PSS of the runtime daemon + per-pod shims/monitors with all {pods} pods running)")
PY
