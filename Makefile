# Capstan's two entry points on a fresh Debian machine (run as root):
#   make up    installs what is missing, builds, and runs Capstan
#   make test  installs what is missing, builds, and runs every test
SWIFT ?= swift
CAPSTAN = .build/debug/capstan

.PHONY: deps build up test lint format bench-store clean

deps:
	bash ops/install-deps.sh

build: deps
	$(SWIFT) build

# Capstan on this machine: a repository from repo-template/, the API server
# following it, the CRI shim. Ctrl-C stops it; running it again reuses it all.
up: build
	$(CAPSTAN) up --data-dir /var/lib/capstan

test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The tree is formatted by the toolchain's swift-format (.swift-format); any
# difference fails `make test`. Generated code (CRIAPI, EtcdAPI) keeps its own style.
FORMATTED = Package.swift Plugins Tests Benchmarks/Sources $(filter-out Sources/CRIAPI Sources/EtcdAPI,$(wildcard Sources/*))

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMATTED)

format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMATTED)

# Capstan's store against a real etcd, same etcd v3 workload, fsync on for both.
bench-store: deps
	Benchmarks/store-vs-etcd.sh

clean:
	rm -rf .build
