#!/usr/bin/env bash
# Installs the system and Python packages Capstan builds and tests against.
# Idempotent: asks apt only for what is missing, runs `apt-get update` at most
# once, and skips pip packages that are already importable.
set -euo pipefail

APT_PACKAGES=(
  # build: system libraries Capstan links through pkg-config
  pkg-config libyaml-dev libgit2-dev libsqlite3-dev zlib1g-dev
  # run: git source, containers, pod networking, protocol tools
  git curl ca-certificates sqlite3 e2fsprogs runc containernetworking-plugins iproute2 nftables iptables util-linux
  etcd-server etcd-client protobuf-compiler
  # images and reference peers for tests and benchmarks
  busybox-static umoci skopeo docker-registry containerd
  # independent TLS peers for the API server's certificate tests
  openssl curl
  # system-call traces: files are created with their final mode (GitOps end-to-end tests)
  strace
  # Services and cluster DNS: the upstream resolver of the end-to-end tests, and the peers
  # and load generators of Benchmarks/cluster-dns.sh and Benchmarks/service-proxy.sh
  dnsmasq-base unbound dnsperf wrk
)

# python-module:pip-package pairs for the independent test clients and benchmarks.
PIP_PACKAGES=(
  yaml:PyYAML
  grpc:grpcio
  grpc_tools:grpcio-tools
  kubernetes:kubernetes
  dns:dnspython
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get install needs it)" >&2
  exit 1
fi

missing=()
for package in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian starts some of these as services on install; Capstan's tests start
# their own instances on loopback, so stop the packaged ones if they are running.
for unit in etcd docker-registry containerd unbound; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl stop "$unit" || true
  fi
done

python=${PYTHON:-python3}
pip_missing=()
for pair in "${PIP_PACKAGES[@]}"; do
  module=${pair%%:*}
  package=${pair#*:}
  if ! "$python" -c "import $module" >/dev/null 2>&1; then
    pip_missing+=("$package")
  fi
done
if [ ${#pip_missing[@]} -gt 0 ]; then
  echo "install-deps: pip installing ${pip_missing[*]}"
  "$python" -m pip install -q "${pip_missing[@]}"
fi
