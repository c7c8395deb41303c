#!/usr/bin/env bash
# Regenerates Sources/CRIAPI from scripts/cri/api.proto, the upstream CRI v1 proto
# (kubernetes cri-api, runtime/v1) with only its `[debug_redact = true]` field options
# stripped, because Debian's protoc 3.21 rejects them.
#
# Run by hand after updating the proto; the output is committed. CI never runs this.
# The protoc plugins are built from the package's own dependency graph (swift-protobuf
# and grpc-swift-protobuf), and Debian's `protoc` does the parsing, so nothing is built
# from C++.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "generate-cri: protoc missing (apt-get install protobuf-compiler)" >&2; exit 1; }

swift build --product protoc-gen-swift
swift build --product protoc-gen-grpc-swift-2
bin=$(swift build --show-bin-path)

out=Sources/CRIAPI
rm -f "$out"/*.swift
protoc -I scripts/cri \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --swift_out="$out" --swift_opt=Visibility=Public \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public \
  api.proto
ls -l "$out"
