# SuoOps: `make run` starts the whole stack, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUF := .tools/node_modules/.bin/buf
BUF_VERSION := 1.75.0
STAMP := $(VENV)/.installed

.PHONY: run test lint protos check-protos bench system-deps deps clean

run: deps
	$(BIN)/suoops dev

test: deps
	bash scripts/test.sh

# System libraries: WeasyPrint's Pango, the renderer's fonts, kubectl for the manifest checks.
system-deps:
	@bash scripts/system_deps.sh

deps: system-deps $(STAMP) $(BUF)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e '.[dev]'
	touch $(STAMP)

$(BUF):
	npm install --silent --no-save --no-package-lock --prefix .tools @bufbuild/buf@$(BUF_VERSION)

# Regenerate every *_pb2 module (and its type stubs) from protos/ into gen/.
protos: $(STAMP)
	bash scripts/gen_protos.sh gen

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BUF) lint
	bash scripts/buf_breaking.sh $(BUF)

bench: deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools build *.egg-info
