# Two commands: `make run` starts the whole product, `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint openapi clients dashboard migrate bench bench-checkins \
	bench-nightly bench-roster bench-load bench-wire bench-cluster cluster clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(INSTALLED)

# Console logs unless told otherwise: three processes share the terminal, and people read those
# lines more easily than JSON (which stays the default everywhere else, for log shippers).
run: install  ## API on 127.0.0.1:$${PORT:-8000}, one worker and beat, on SQLite; Ctrl-C stops all
	BACKSTRIDE_LOG_FORMAT=$${BACKSTRIDE_LOG_FORMAT:-console} $(BIN)/backstride up

test: install  ## lint, the architecture's contracts, then the suite (also on PostgreSQL and Redis when BACKSTRIDE_TEST_* are set)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

openapi: install  ## rewrite openapi/openapi.json from the live spec
	$(BIN)/backstride openapi write

# Part of `make test` too. Needs Node 20+ and npm; clients/typescript/node_modules comes from npm ci.
clients: install  ## the TypeScript and Python clients generated from the spec, used by a phone's life; the spec linted
	$(BIN)/pytest tests/processes/test_typescript_client.py tests/processes/test_python_client_flow.py

# The built dashboard is committed (service/api/dashboard/static), so `make run` needs no Node;
# after changing dashboard/ or the spec, rebuild it here. `make test` checks the two agree.
dashboard:  ## rebuild the coach dashboard's assets from dashboard/ (Node 20+, npm)
	cd dashboard && npm ci --no-audit --no-fund && npm run build

migrate: install
	$(BIN)/backstride db upgrade

# About an hour on two cores: each benchmark runs its ratios three times against a baseline
# measured in the same run. Scratch PostgreSQL databases at BACKSTRIDE_BENCH_DATABASE_URL.
bench: install  ## every benchmark; rewrites each one's latest table in bench/RESULTS.md (date, machine, command)
	@command -v wrk >/dev/null || (apt-get install -y wrk || sudo apt-get install -y wrk)
	$(BIN)/python bench/all.py

bench-checkins: install  ## check-in write throughput vs same-run baselines (PostgreSQL, wrk)
	@command -v wrk >/dev/null || (apt-get install -y wrk || sudo apt-get install -y wrk)
	$(BIN)/python bench/checkins.py --seconds 10 --rounds 3

bench-nightly: install  ## the nightly analysis at 10,000 and 100,000 athletes (PostgreSQL)
	$(BIN)/python bench/nightly.py --sizes 10000 100000

bench-roster: install  ## the coach's roster (50 and 500 athletes, 120 days) vs a raw SQL roster
	@command -v wrk >/dev/null || (apt-get install -y wrk || sudo apt-get install -y wrk)
	$(BIN)/python bench/roster.py --seconds 10 --rounds 3

bench-load: install  ## 60 s of PUT /v1/checkins/{id} at 80 % of the measured maximum, RSS sampled
	@command -v wrk >/dev/null || (apt-get install -y wrk || sudo apt-get install -y wrk)
	$(BIN)/python bench/load.py --probe-seconds 10 --seconds 60 --share 0.8

bench-wire: install  ## bytes on the wire: spec, sync page and export, plain and compressed
	$(BIN)/python bench/wire.py --rounds 3

# Needs root and iproute2 (`ip netns`): the hosts are network namespaces on one bridge.
cluster: install  ## API, workers, beat, PostgreSQL, Redis and push fakes on 9 namespaced hosts, until Ctrl-C
	@command -v ip >/dev/null || (apt-get install -y iproute2 || sudo apt-get install -y iproute2)
	PYTHONPATH=$(CURDIR) $(BIN)/python -m tests.cluster

bench-cluster: install  ## the nightly analysis of 100,000 athletes on 1, 2 and 3 worker hosts
	@command -v ip >/dev/null || (apt-get install -y iproute2 || sudo apt-get install -y iproute2)
	PYTHONPATH=$(CURDIR) $(BIN)/python bench/cluster_nightly.py --athletes 100000

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
	rm -rf clients/typescript/node_modules clients/typescript/dist clients/typescript/src/generated
