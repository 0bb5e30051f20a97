# Two commands do all the set-up: `make up` (the local stack) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: up test test-fast install bench clean package migrate redrive-ingest lock github-replay

# Installs exactly the locked tree (every file checked against its hash); skipped while the locks
# are older than the stamp.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## Start the whole local stack in the foreground (Ctrl-C stops it).
up: $(STAMP)
	$(PY) -m local_stack.supervisor

## Run the whole test suite (every tier: unit, fast, integration, e2e).
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests

## Run the in-process tiers only (unit, fast): no local stack, no sockets; under a minute.
test-fast: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "unit or fast" tests/unit tests/fast

bench: $(STAMP)
	$(PY) bench/cold_start.py
	$(PY) bench/build_queue.py
	$(PY) bench/fanout.py
	$(PY) bench/ingest.py
	$(PY) bench/query.py
	$(PY) bench/deploy.py

## Apply the ClickHouse schema and seed prices (the local stack also does it on start; stop it first:
## only one process may open chDB). With MA_CLICKHOUSE_INTERFACE=http MA_CLICKHOUSE_URL=... it migrates a server.
migrate: $(STAMP)
	MA_CLICKHOUSE_PATH=$${MA_CLICKHOUSE_PATH:-$(CURDIR)/.mastra-admin/clickhouse} $(PY) -m chalicelib.analytics.migrate

## Move dead-lettered ingest messages back to the ingest queue (local stack: moto on MA_MOTO_PORT).
redrive-ingest: $(STAMP)
	MA_AWS_ENDPOINT_URL=$${MA_AWS_ENDPOINT_URL-http://127.0.0.1:$${MA_MOTO_PORT:-4566}} AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	$(PY) -m chalicelib.workers.ingest redrive

## Package the Lambda functions as a SAM template, merged with what Chalice cannot declare.
package: $(STAMP)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $${STAGE:-dev} \
		--merge-template infra/chalice-merge.yaml build/package

## Re-compile the locks after editing requirements*.in or chalicelib/runners/injection/package.json.
## Resolved against the public indexes only: a machine's own pip config (local mirrors, wheel folders,
## whose files need not carry the index's hashes) is ignored. Existing pins are kept: change a pin in the
## .in file, or move a transitive one with `make lock LOCK_ARGS='--upgrade-package NAME'`.
LOCK_ARGS ?=
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--index-url https://pypi.org/simple --no-emit-index-url $(LOCK_ARGS)
lock: $(STAMP)
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in
	npm install --prefix chalicelib/runners/injection --package-lock-only --no-audit --no-fund

clean:
	rm -rf $(VENV) .mastra-admin

## Replay a recorded GitHub delivery against the local stack, signed with the webhook secret:
## make github-replay EVENT=push FILE=tests/fixtures/github/push.json ARGS="--repository me/app --installation 1"
github-replay: $(STAMP)
	$(PY) -m local_stack.github_replay $(or $(EVENT),push) $(or $(FILE),tests/fixtures/github/push.json) $(ARGS)
