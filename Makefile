# The README's commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

IMAGE ?= herald
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)

.PHONY: run test demo bench lint typecheck check clean image lock

# The exact versions tested together (requirements.lock), then Herald itself on top of them.
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Herald needs Python 3.11+ as $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)  ## run Herald; with no credentials, the shell workspace on the example plan
	HERALD_PLAN=$${HERALD_PLAN:-examples/release-comms.toml} $(BIN)/herald run

demo: $(STAMP)  ## the scripted shell session, on a throwaway in-memory database
	DATABASE_URL=memory:// HERALD_PLAN=examples/release-comms.toml $(BIN)/herald run < examples/shell-demo.txt

test: $(STAMP)  ## the whole test suite, spread over the CPUs (at most four processes; tests/conftest.py)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check bot adapters storage tests bench
	$(BIN)/ruff format --check bot adapters storage tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

image:  ## the container image (Dockerfile), tagged $(IMAGE):VERSION and $(IMAGE):latest
	docker build --tag $(IMAGE):$(VERSION) --tag $(IMAGE):latest .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench: $(STAMP)  ## the fan-out benchmark: efficiency, 429s, early calls, duplicates, losses
	$(BIN)/python bench/fanout.py

lock:  ## pin every dependency (and the dev tools) anew from pyproject.toml into requirements.lock
	$(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml
	rm -rf .venv-lock
