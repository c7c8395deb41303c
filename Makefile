# Capstan's two entry points on a fresh Debian machine (run as root):
#   make up    installs what is missing, builds, and runs Capstan
#   make test  installs what is missing, builds, and runs every test
SWIFT ?= swift
CAPSTAN = .build/debug/capstan

.PHONY: deps build up test bench-store clean

deps:
	bash ops/install-deps.sh

build: deps
	$(SWIFT) build

# Until the whole cluster (`capstan up`) exists this runs the most complete
# path there is: validate the starter manifest repository against the default
# policies and print what Capstan understood from it.
up: build
	$(CAPSTAN) validate --policies policies repo-template
	$(CAPSTAN) render repo-template -o yaml

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Capstan's store against a real etcd, same etcd v3 workload, fsync on for both.
bench-store: deps
	Benchmarks/store-vs-etcd.sh

clean:
	rm -rf .build
