#!/usr/bin/env bash
# Generates Sources/EtcdAPI from the trimmed etcd v3 protos in scripts/etcd-proto.
# Run by hand after changing a .proto; the output is committed and CI never runs this.
# Uses Debian's protoc (protobuf-compiler) and the two Swift plugins built from
# this package's own dependency graph, so generator and runtime versions match.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --product protoc-gen-swift
swift build --product protoc-gen-grpc-swift-2
bin=$(swift build --show-bin-path)

out=Sources/EtcdAPI/Generated
rm -rf "$out"
mkdir -p "$out"
protoc \
  -I scripts/etcd-proto \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --swift_out="$out" --swift_opt=Visibility=Public \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public \
  mvccpb/kv.proto etcdserverpb/rpc.proto
echo "generated $(find "$out" -name '*.swift' | wc -l) files in $out"
