# Two commands do all the set-up: `make up` (the local stack) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: up test install bench clean package

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## Start the whole local stack in the foreground (Ctrl-C stops it).
up: $(STAMP)
	$(PY) -m local_stack.supervisor

## Run the whole test suite.
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: $(STAMP)
	$(PY) bench/cold_start.py
	$(PY) bench/build_queue.py

## Package the Lambda functions as a SAM template, merged with what Chalice cannot declare.
package: $(STAMP)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $${STAGE:-dev} \
		--merge-template infra/chalice-merge.yaml build/package

clean:
	rm -rf $(VENV) .mastra-admin
