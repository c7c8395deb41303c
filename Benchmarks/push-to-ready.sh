#!/usr/bin/env bash
# From `git push` (plus the webhook) to every pod of a new Deployment Ready, on
# a real `capstan up` (runc, CNI, the node agent), for 1, 10 and 50 replicas,
# repeated; prints p50/p99 per size. Needs root. Loopback only; everything it
# starts is stopped by PID and its pods removed with `capstan reset`.
#
#   sudo Benchmarks/push-to-ready.sh [RUNS_1] [RUNS_10] [RUNS_50]   (defaults 10 5 3)
#   CAPSTAN=.build/release/capstan Benchmarks/push-to-ready.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-10} ${2:-5} ${3:-3}"
CAPSTAN=${CAPSTAN:-.build/release/capstan}
if [ ! -x "$CAPSTAN" ]; then
  echo "building $CAPSTAN (swift build -c release --product capstan)" >&2
  swift build -c release --product capstan >&2
fi
[ "$(id -u)" = 0 ] || { echo "push-to-ready.sh runs containers with runc: run it as root" >&2; exit 2; }
WORK=$(mktemp -d /tmp/capstan-push-bench.XXXXXX)
UP_PID=""
cleanup() {
  if [ -n "$UP_PID" ] && kill -0 "$UP_PID" 2>/dev/null; then
    kill -INT "$UP_PID"; wait "$UP_PID" 2>/dev/null || true
  fi
  "$CAPSTAN" reset --data-dir "$WORK/data" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

git init --quiet --bare --initial-branch=main "$WORK/remote.git"
git clone --quiet "$WORK/remote.git" "$WORK/work" 2>/dev/null
cd "$WORK/work"
git checkout --quiet -b main
mkdir -p deploy
cat > capstan.yaml <<YAML
apiVersion: capstan.io/v1alpha1
kind: Repository
paths: [deploy]
syncInterval: 300s   # the webhook, not the poll, starts each sync
YAML
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n' > deploy/namespace.yaml
git add -A && git -c user.name=Bench -c user.email=bench@localhost commit --quiet -m "bench namespace"
git push --quiet origin main
cd - >/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CAPSTAN" up --data-dir "$WORK/data" --repo "$WORK/remote.git" --listen "127.0.0.1:$PORT" --sync-interval 300 \
  --node-name bench-node --cni-conf-dir "$WORK/cni" --log-level warning -- --insecure-http --durability normal > "$WORK/up.log" 2>&1 &
UP_PID=$!

python3 - "http://127.0.0.1:$PORT" "$WORK" "$RUNS" <<'PY'
import json, subprocess, sys, time, urllib.request
url, work, runs = sys.argv[1], sys.argv[2], [int(r) for r in sys.argv[3].split()]

def get(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.load(r)

def wait(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate(): return
        except Exception:
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}; log:\n{open(work + '/up.log').read()[-3000:]}")

secret = None
def push(message, files):
    for path, text in files.items():
        full = f"{work}/work/{path}"
        if text is None:
            subprocess.run(["rm", "-f", full], check=True)
        else:
            open(full, "w").write(text)
    git = ["git", "-C", f"{work}/work", "-c", "user.name=Bench", "-c", "user.email=bench@localhost"]
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "--quiet", "-m", message], check=True)
    subprocess.run(git + ["push", "--quiet", "origin", "main"], check=True)
    request = urllib.request.Request(url + "/hooks/git", data=b'{"ref":"refs/heads/main"}', headers={"X-Capstan-Token": secret}, method="POST")
    urllib.request.urlopen(request, timeout=30).read()

def deployment(name, replicas):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: bench}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: localhost/capstan/busybox:1.35
        imagePullPolicy: Never
        command: ["httpd", "-f", "-p", "8080", "-h", "/"]
        readinessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: 1}}
        livenessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: 10}}
        resources: {{requests: {{cpu: 10m, memory: 8Mi}}, limits: {{cpu: 100m, memory: 16Mi}}}}
"""

wait(lambda: get("/status")["gitops"].get("state") == "Synced", 300, "the first sync")
wait(lambda: any(c["type"] == "Ready" and c["status"] == "True" for c in get("/api/v1/nodes/bench-node")["status"]["conditions"]), 120, "the node")
secret = open(work + "/data/webhook-secret").read().strip()

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

print(f"{'replicas':>8} {'runs':>5} {'p50 s':>8} {'p99 s':>8} {'min s':>8} {'max s':>8}")
results = {}
run = 0
for replicas, count in zip([1, 10, 50], runs):
    times = []
    for _ in range(count):
        run += 1
        name = f"bench-{run}"
        start = time.time()
        push(f"{name}: {replicas} replicas", {f"deploy/{name}.yaml": deployment(name, replicas)})
        def ready():
            status = get(f"/apis/apps/v1/namespaces/bench/deployments/{name}").get("status", {})
            return status.get("readyReplicas", 0) == replicas and status.get("updatedReplicas", 0) == replicas
        wait(ready, 600, f"{name} ready")
        times.append(time.time() - start)
        push(f"remove {name}", {f"deploy/{name}.yaml": None})
        wait(lambda: not get("/api/v1/namespaces/bench/pods")["items"], 600, f"{name}'s pods gone")
    results[replicas] = times
    print(f"{replicas:>8} {count:>5} {percentile(times, 50):>8.2f} {percentile(times, 99):>8.2f} {min(times):>8.2f} {max(times):>8.2f}", flush=True)
PY
