#!/usr/bin/env bash
# Capstan's manifest loader against PyYAML's CSafeLoader (libyaml) on the same
# generated 10,000-object tree, side by side. Prints objects/s, peak memory
# and Capstan's time as a ratio of PyYAML's (below 1 means Capstan is faster).
#
# usage: Benchmarks/manifest-load-vs-pyyaml.sh [OBJECTS] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
objects=${1:-10000}
runs=${2:-3}
python=${PYTHON:-python3}

"$python" -c 'import yaml; assert yaml.__with_libyaml__, "PyYAML lacks libyaml"' 2>/dev/null \
  || "$python" -m pip install -q PyYAML

tree=$(mktemp -d /tmp/capstan-manifests.XXXXXX)
trap 'rm -rf "$tree"' EXIT
"$python" "$here/scripts/generate-manifests.py" "$tree" "$objects"
bytes=$(find "$tree" -name '*.yaml' -exec cat {} + | wc -c)

echo "building the Capstan driver (release)..." >&2
(cd "$here" && swift build -c release --product manifest-load >&2)
driver="$here/.build/release/manifest-load"

best() {  # runs a command $runs times and keeps the fastest JSON line
  local fastest=""
  for _ in $(seq "$runs"); do
    line=$("$@")
    if [ -z "$fastest" ] || "$python" -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["seconds"] < json.loads(sys.argv[2])["seconds"] else 1)' "$line" "$fastest"; then
      fastest=$line
    fi
  done
  echo "$fastest"
}

capstan_yaml=$(best "$driver" "$tree" --no-validate)
capstan_full=$(best "$driver" "$tree")
pyyaml=$(best "$python" "$here/scripts/pyyaml-load.py" "$tree")

"$python" - "$objects" "$bytes" "$capstan_yaml" "$capstan_full" "$pyyaml" <<'PY'
import json, sys
objects, size = int(sys.argv[1]), int(sys.argv[2])
rows = [("Capstan (YAML only)", json.loads(sys.argv[3])),
        ("Capstan (YAML + validation)", json.loads(sys.argv[4])),
        ("PyYAML CSafeLoader", json.loads(sys.argv[5]))]
print(f"manifest tree: {objects} objects, {size / 1e6:.1f} MB, best of runs")
print(f"{'loader':30} {'seconds':>8} {'objects/s':>10} {'peak RSS':>10}")
for name, r in rows:
    print(f"{name:30} {r['seconds']:8.3f} {r['objectsPerSecond']:10.0f} {r['peakRSSKiB'] / 1024:8.0f} MB")
py = rows[2][1]["seconds"]
print(f"ratio Capstan/PyYAML time: YAML only {rows[0][1]['seconds'] / py:.2f}, with validation {rows[1][1]['seconds'] / py:.2f} (goal <= 1.00)")
PY
