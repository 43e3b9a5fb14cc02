# ringwire: build, test, run and benchmark. Every target installs what it needs first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE ?= node
PEERS ?= 32
WORKERS ?= 2

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## install dependencies from the lockfile (npm ci)

# Everything the build reads: dist/ is rebuilt only when one of these is newer than its last build
# (tsc takes 10-15 s here even with nothing to do, and every target below builds first).
BUILD_INPUTS := $(shell find src workers test bench \( -name '*.ts' -o -path 'src/host/ui/*' \) -type f) tsconfig.json scripts/post-build.mjs

dist/.built: node_modules/.package-lock.json $(BUILD_INPUTS)
	npx tsc -p tsconfig.json
	$(NODE) scripts/post-build.mjs
	@touch $@

build: install dist/.built ## compile TypeScript into dist/ (dist/cli.js is the entry point); skipped when dist/ is up to date

test: build ## run the whole test suite (node:test; installs Debian's chromium for the browser test when missing)
	@bash scripts/ensure-chromium.sh
	$(NODE) --test --test-concurrency=2 --test-timeout=120000 dist/test/

run: build ## start the main job: a local cluster with its registry (PEERS=32 WORKERS=2)
	$(NODE) dist/cli.js cluster --peers $(PEERS) --workers $(WORKERS)

DENSITY_PEERS ?= 64 256 1024

BENCH_PEERS ?= 16,64,256,1024
BENCH_REPEATS ?= 3

bench: build ## chord bench get/lookup at c=1,64 on 16..1024 peers + wire baseline + micro; bench/results/latest.json + SVGs
	$(NODE) dist/bench/suite.js --peers $(BENCH_PEERS) --workers $(WORKERS) --repeats $(BENCH_REPEATS) $(BENCH_ARGS)

bench-quick: build ## the same on 16 and 256 peers, one 1 s run each; writes latest-quick.json (+ -quick SVGs)
	$(NODE) dist/bench/suite.js --quick --workers $(WORKERS) --tag=-quick

bench-messages: build ## messages per operation by type, counted by the peers (MESSAGES_ARGS="--no-route-cache --iterative")
	$(NODE) dist/bench/messages.js $(MESSAGES_ARGS)

bench-hotpath: build ## CPU per operation above the wire, one thread, no sockets (HOTPATH_ARGS="--op lookup --cache on")
	$(NODE) dist/bench/hotpath.js $(HOTPATH_ARGS)

bench-floor: build ## what node alone spends per small message over loopback TCP, one thread (FLOOR_ARGS="--concurrency 64")
	$(NODE) dist/bench/wire/floor.js $(FLOOR_ARGS)

bench-ab: build ## alternating A/B runs of this build against another commit: REF=<commit> (AB_ARGS="--rounds 5 --peers 256")
	$(NODE) dist/bench/ab.js --ref $(REF) $(AB_ARGS)

bench-density: build ## density: RSS per peer and time to a consistent ring (DENSITY_PEERS="64 256 1024")
	@for n in $(DENSITY_PEERS); do $(NODE) dist/bench/density.js --peers $$n --workers $(WORKERS) 2>/dev/null; done

profile: build ## 256-peer cluster under chord bench load with --cpu-prof; top 10 functions by self time
	$(NODE) dist/bench/profile.js --peers 256 --workers $(WORKERS) $(PROFILE_ARGS)

bench-micro: build ## micro benchmarks (tinybench): SHA-1, ring arithmetic, codec
	$(NODE) dist/bench/micro/main.js

screenshot: build ## the README's picture: ring view of a 64-peer cluster in headless Chromium -> docs/ring-view.png
	$(NODE) dist/bench/ring-view.js --peers 64 --out docs/ring-view.png

CHURN_FLAGS ?= --peers 64 --rate 1 --duration 60

bench-churn: build ## churn: 64 peers, 1 crash/leave/join per second for 60 s under client load (CHURN_FLAGS=...)
	$(NODE) dist/bench/churn.js $(CHURN_FLAGS) 2>/dev/null

bench-hostile: build ## peer RSS before/peak/after rounds of hostile input against a live chord node (Linux /proc)
	$(NODE) dist/bench/hostile.js --rounds 3 --flood 100000

clean: ## remove build output
	rm -rf dist

FIGURES ?= path,failure,churn,load

sim-figures: build ## Chord paper figures by simulation -> docs/EVALUATION.md + docs/sim/*.svg (FIGURES=path,load QUICK=1)
	$(NODE) dist/bench/sim-figures.js --only $(FIGURES) $(if $(QUICK),--quick,)

SEEDS ?= 2000
FROM ?= 1

sim-search: build ## randomized correctness search on rings of 2..12 peers (SEEDS=2000 FROM=1)
	$(NODE) dist/bench/sim-search.js --seeds $(SEEDS) --from $(FROM)

sim-bench: build ## simulator speed and memory: 16,384 peers, 10^5 lookups (events/s, peak RSS)
	$(NODE) dist/cli.js sim --peers 16384 --lookups 100000 --progress

.PHONY: help install build test run bench bench-quick bench-messages bench-hotpath bench-ab bench-density bench-micro profile bench-churn bench-hostile screenshot clean sim-figures sim-search sim-bench
