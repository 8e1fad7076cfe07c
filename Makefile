# One- or two-line targets that people and CI both call. `make test` is the README test command.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SITE := $(VENV)/lib/python3.11/site-packages
COMPOSE := docker compose
LOCUST_COMPOSE := docker compose -f docker-compose-locust.yaml

.PHONY: install lock test test-unit test-stack stack-file lint up down reset train scale limits loadtest loadtest-ui sweep bench \
  bench-smoke redline find compare-generators equivalence idle

$(VENV)/.installed: requirements-dev.txt requirements-dev.lock */requirements.txt labtools/pyproject.toml \
  tests/pyproject.toml locust/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q uv==0.9.30 && $(VENV)/bin/uv pip install --python $(PY) -q --compile-bytecode \
	  -r requirements-dev.txt -c requirements-dev.lock
	# Bytecode as the api image ships it: its fold-check child runs with -OO (.opt-2.pyc).
	$(PY) -m compileall -q -j 0 -o 2 $(SITE)/numpy $(SITE)/scipy $(SITE)/sklearn $(SITE)/skops fastapi/inference
	touch $@

install: $(VENV)/.installed  ## the test virtualenv with every pinned dependency

IMAGES := fastapi ml-training mlflow locust
LOCK := $(VENV)/bin/uv pip compile -q --python-version 3.11 --no-header --annotation-style line
lock: install  ## after changing a pin: one resolution for the tests, each image's lock a subset of it
	$(LOCK) requirements-dev.txt --no-emit-package labtools --no-emit-package lab-realservers \
	  --no-emit-package lab-loadtest -o requirements-dev.lock  # this repository's own packages: not pins
	for d in $(IMAGES); do $(LOCK) -c requirements-dev.lock $$d/requirements.txt | \
	  sed 's/, -c requirements-dev.lock//; s/  # via -c requirements-dev.lock$$//' > $$d/requirements.lock; done

test: install  ## unit + integration tests against real PostgreSQL, S3, mlflow server, API and Locust
	$(VENV)/bin/pytest

test-unit: install  ## only the tests that start no server
	$(VENV)/bin/pytest -m "not integration"

test-stack: install  ## the real compose stack end to end (needs a Docker engine)
	$(VENV)/bin/pytest tests/stack -p no:cacheprovider -m stack

stack-file: install  ## docker-stack.yaml (Docker Swarm) from docker-compose.yaml; commit it (a test fails when stale)
	$(PY) swarm/stackfile.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports  # capacity/: imports only go down its layers (pyproject.toml [tool.importlinter])

up:  ## the stack: postgres, minio, mlflow, trainer, api, lb
	$(COMPOSE) up -d --build --wait

down:
	$(COMPOSE) down

reset:  ## forget everything: registry, artifacts, results of the running stack
	$(LOCUST_COMPOSE) down -v --remove-orphans; $(COMPOSE) down -v --remove-orphans

train:  ## train again and register a new version (the alias moves only if it is at least as good)
	TRAIN_FORCE=true $(COMPOSE) run --rm trainer

scale:  ## API_REPLICAS=N api replicas, safe under load: adds or removes replicas, never recreates running ones
	@test -n "$(API_REPLICAS)" || { echo "usage: make scale API_REPLICAS=3 [API_CPUS=.. API_MEMORY=..]" >&2; exit 2; }
	$(COMPOSE) up -d --no-deps --no-recreate --no-build --scale api=$(API_REPLICAS) --wait --wait-timeout 300 api

# In place on every running replica (no restart); swap limit twice the memory, as Docker sets it at creation.
limits:  ## new API_CPUS / API_MEMORY (integer + unit) for the running api replicas, safe under load
	@test -n "$(API_CPUS)" -a -n "$(API_MEMORY)" || { echo "usage: make limits API_CPUS=0.5 API_MEMORY=256M" >&2; exit 2; }
	m=$(API_MEMORY); n=$${m%[bBkKmMgG]}; docker update --cpus $(API_CPUS) --memory $$m \
	  --memory-swap $$((n * 2))$${m#"$$n"} $$($(COMPOSE) ps -q api)

loadtest-ui:  ## Locust web UI on :8089 with the default number of workers
	$(LOCUST_COMPOSE) up -d

WRK_COMPOSE := docker compose -f docker-compose-wrk.yaml
loadtest:  ## headless run against the running stack into results/<RUN_ID>/ (GENERATOR=locust|wrk, LOCUST_USERS, ...: README)
ifeq ($(or $(GENERATOR),locust),wrk)
	RUN_ID=$${RUN_ID:-loadtest-$$(date +%Y%m%d-%H%M%S)} $(WRK_COMPOSE) run --rm --build wrk
else
	RUN_ID=$${RUN_ID:-loadtest-$$(date +%Y%m%d-%H%M%S)} LOCUST_HEADLESS=true \
	  $(LOCUST_COMPOSE) up --build --abort-on-container-exit --exit-code-from master
endif

GEN_ARG = $(if $(GENERATOR),--generator $(GENERATOR))
sweep: install  ## the capacity experiment: GRID=capacity/grids/default.toml BACKEND=docker|native GENERATOR=locust|wrk OUT=results/<ts> to resume
	$(PY) -m capacity sweep $(or $(GRID),capacity/grids/default.toml) --backend $(or $(BACKEND),docker) $(GEN_ARG) $(if $(OUT),--out $(OUT))

redline: install  ## the knee of every configuration: GRID=capacity/grids/redline.toml REPEATS=3 BACKEND=docker|native OUT=
	$(PY) -m capacity redline $(or $(GRID),capacity/grids/redline.toml) --repeats $(or $(REPEATS),1) --backend $(or $(BACKEND),docker) $(GEN_ARG) $(if $(OUT),--out $(OUT))

find: install  ## the cheapest deployment for USERS=N users by search (GRID=, GENERATOR=wrk; KNEES=results/<redline> PREDICT=1: from knees)
	$(PY) -m capacity find --users $(or $(USERS),2000) --backend $(or $(BACKEND),docker) $(GEN_ARG) $(if $(GRID),--grid $(GRID)) $(if $(OUT),--out $(OUT)) $(if $(PREDICT),--predict --knees $(KNEES))

bench: install  ## our API against mlflow serve, MLServer, BentoML, the usual handler, the ceiling and via the lb, into results/bench/
	$(PY) -m bench --profile

bench-smoke: install
	$(PY) -m bench --smoke

compare-generators: install  ## wrk beside Locust, 1,000 users, 60 s each, one native API (a measurement: quiet machine)
	$(VENV)/bin/pytest -q -s -p no:cacheprovider tests/measure_wrk_vs_locust.py

EQ_USERS ?= 500,1000,2000
EQ_REPEATS ?= 3
equivalence: install  ## Locust beside wrk on the stack: capacity/grids/equivalence.toml at EQ_USERS=500,1000,2000, EQ_REPEATS=3 runs each (OUT= to resume)
	$(PY) -m capacity equivalence $(or $(GRID),capacity/grids/equivalence.toml) --users $(EQ_USERS) --repeats $(EQ_REPEATS) $(if $(OUT),--out $(OUT))

idle: install  ## an idle api replica's CPU and each health check's, from its cgroup (the stack must be up)
	$(PY) -m bench.idle
