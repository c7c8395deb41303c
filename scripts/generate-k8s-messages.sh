#!/usr/bin/env bash
# Generates Sources/CapstanProtobuf/Generated/GeneratedMessageTable.swift, the table of Kubernetes'
# protobuf messages the transcoder reads, from the generated.proto files in scripts/k8s-proto
# (Kubernetes 1.32, see its README). Run by hand after changing a .proto; the output is
# committed and CI never runs this. Needs Debian's protoc and Python's protobuf package
# (`pip install protobuf`).
set -euo pipefail
cd "$(dirname "$0")/.."

descriptors=$(mktemp)
trap 'rm -f "$descriptors"' EXIT
# shellcheck disable=SC2046  # one argument per .proto, none holds a space
protoc -I scripts/k8s-proto --include_imports --descriptor_set_out="$descriptors" \
  $(cd scripts/k8s-proto && find k8s.io -name generated.proto | sort)
out=Sources/CapstanProtobuf/Generated/GeneratedMessageTable.swift
mkdir -p "$(dirname "$out")"
python3 scripts/k8s_messages.py "$descriptors" >"$out"
echo "wrote $(grep -c '^message ' "$out") messages to $out"
