# Two commands for a new machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The Postgres tests use this server; without one they skip (and fail under CI=true).
SEGMUX_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export SEGMUX_TEST_DATABASE_URL

.PHONY: run test lint typecheck unit fast fuzz bench bench-hal-members bench-scale bench-workers \
	bench-noisy clean chromium prometheus wrk interop dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# A person at a terminal reads the log: lines for humans unless SEGMUX_LOG_FORMAT says otherwise
# (`segmux serve` itself writes JSON by default, for log collectors).
run: $(VENV)/.installed
	SEGMUX_LOG_FORMAT=$${SEGMUX_LOG_FORMAT:-console} $(BIN)/segmux serve

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy --strict core/ dialects/ gateway/ bench/

# $(call debian_tool,COMMAND,PACKAGE,WHAT NEEDS IT): as root, apt-get install it quietly when
# missing; otherwise say how.
define debian_tool
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $(2) for $(3) (apt-get)"; \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null 2>&1; }; } \
	      || echo "could not install $(2): run apt-get install -y $(2)"; \
	  else echo "$(3) needs $(2): sudo apt-get install -y $(2)"; fi; }
endef

# tests/ui drives Debian's Chromium (without it that test skips, and fails under CI=true).
chromium:
	$(call debian_tool,chromium,chromium,tests/ui)

# tests/gateway/test_metrics_live.py has Debian's Prometheus scrape a live segmux (without it
# that test skips, and fails under CI=true).
prometheus:
	$(call debian_tool,prometheus,prometheus,tests/gateway/test_metrics_live.py)

test: lint typecheck chromium prometheus
	$(BIN)/pytest

# A release's files: a wheel and an sdist in dist/, checked as PyPI checks them (CONTRIBUTING.md,
# "Releasing").
dist: $(VENV)/.test-installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

unit: $(VENV)/.test-installed
	$(BIN)/pytest tests/unit -q

# The inner loop: every test that starts no process and no server (tests/conftest.py marks the
# others `live`), on FAST_WORKERS pytest-xdist workers (each with its own databases; worksteal
# keeps a module on one worker until the other runs dry). Both backends still run; `make test`
# runs everything, serially (the live tests share ports and .cache/). SEGMUX_TEST_QUICK=1 draws a
# tenth of each property test's examples (tests/examples.py; CI=true always draws them all), and
# PYTHONDONTWRITEBYTECODE is cleared so pytest keeps its rewritten test modules between runs.
# Temporary files (every SQLite test store is a file under pytest's tmp_path) go to a RAM disk
# where there is one: the same SQLite, without the disk's fsyncs at each checkpoint and close.
FAST_WORKERS ?= 2
FAST_TMPDIR ?= $(if $(wildcard /dev/shm/.),/dev/shm,$(or $(TMPDIR),/tmp))
fast: $(VENV)/.test-installed
	SEGMUX_TEST_QUICK=1 PYTHONDONTWRITEBYTECODE= TMPDIR=$(FAST_TMPDIR) \
	  $(BIN)/pytest -m "not live" -q -n $(FAST_WORKERS) --dist worksteal

# Hostile input with a large budget: schemathesis over every served spec (positive and negative,
# both backends), the parsers and the JSON decoder under hypothesis, and the hostile-input and
# isolation walks. `make test` runs the same tests with small budgets. Raise FUZZ_EXAMPLES for
# longer runs (about 1 s per 10 examples per operation).
FUZZ_EXAMPLES ?= 300
fuzz: $(VENV)/.test-installed
	SEGMUX_CONTRACT_EXAMPLES=$(FUZZ_EXAMPLES) SEGMUX_FUZZ_EXAMPLES=$$(( $(FUZZ_EXAMPLES) * 10 )) \
	  $(BIN)/pytest tests/contract tests/fuzz tests/security -q -p no:cacheprovider

# Figures go to bench/RESULTS.md (bench.run --write-results regenerates its section), with the
# machine and the commit; never into tests. make bench: the condition language and the
# evaluation engines in process; bench.run: segmux serve on SQLite and PostgreSQL under wrk,
# every scenario paired with the framework floor, then the real unleash-server, BENCH_RUNS (3)
# times, pooled as medians (BENCH_DURATION: s per wrk run; BENCH_WORKERS; JSON in bench/out/);
# then where a per-user request's CPU goes (py-spy: the frontend API, a user every feature is
# off for and one they are all on for, and Confidence's resolve of 50 flags). ~30 minutes on
# 2 cores. BENCH_ARGS="--runs 1" for a quick look. make bench drives the load with Debian's wrk.
BENCH_RUNS ?= 3
BENCH_ARGS ?= --write-results
wrk:
	$(call debian_tool,wrk,wrk,make bench)

bench: $(VENV)/.test-installed wrk
	$(BIN)/python -m bench.expr
	$(BIN)/python -m bench.engine
	BENCH_FROM_MAKE=1 BENCH_RUNS=$(BENCH_RUNS) $(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.frontend_profile
	$(BIN)/python -m bench.frontend_profile --all-on
	$(BIN)/python -m bench.profile --scenario "confidence resolve 50 flags" --segments 100 \
	  --individuals 100
	$(if $(BENCH_NOISY),BENCH_FROM_MAKE=1 $(BIN)/python -m bench.noisy $(NOISY_ARGS))

# Per-query detail of the HAL members page (4 selectivities, statements per request), in process.
bench-hal-members: $(VENV)/.test-installed
	$(BIN)/python -m bench.hal_members --requests 20

# HAL members over 10,000,000 individuals on PostgreSQL with the query plans (SCALE_ARGS, e.g.
# --individuals 1000000); the individuals are kept as a template database after the first run
# (~10 GB at 10^7). Writes its own section of bench/RESULTS.md.
SCALE_ARGS ?= --write-results
bench-scale: $(VENV)/.test-installed
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

# Tenant B's p99 and req/s alone and while tenant A abuses the gateway (backtracking regexes,
# cache-busting spellings, an enormous HAL filter, slow headers), both backends, ~8 minutes;
# writes its own section of bench/RESULTS.md. `make bench BENCH_NOISY=1` runs it after bench.run.
NOISY_ARGS ?= --write-results
bench-noisy: $(VENV)/.test-installed wrk
	BENCH_FROM_MAKE=1 $(BIN)/python -m bench.noisy $(NOISY_ARGS)

# 1 vs 2 `segmux serve` workers, PostgreSQL, 10 connections.
bench-workers: $(VENV)/.test-installed wrk
	$(BIN)/python -m bench.run --compare-workers

# Not part of `make test`: real unleash-server 8.2.0 (npm, into .cache/ on first use) on fresh
# PostgreSQL databases: A -> segmux -> B through `segmux migrate`; B must equal A.
interop: $(VENV)/.test-installed
	$(BIN)/python tests/interop/unleash_roundtrip.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
