# Apollo Space API contract kit. `make` alone prints this help.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8787
PYTEST_ARGS ?=

.PHONY: help setup lint bundle test mutants serve tokens schemathesis certify bench peers-lint clean

help: ## Show every target and what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## Create .venv and install the project with its dev tools (run by every target)

lint: $(STAMP) ## Validate the spec and check every house rule, then ruff the Python
	$(BIN)/apollospace-spec lint
	$(BIN)/ruff check src conformance tests bench

bundle: $(STAMP) ## Write the self-contained build/openapi.json and build/openapi.yaml
	$(BIN)/apollospace-spec bundle --out build

test: $(STAMP) ## The project's own tests: spec, house rules, reference server, kit (the CI gate)
	$(BIN)/apollospace-spec lint
	$(BIN)/python -m pytest -m "not mutants" $(PYTEST_ARGS)

MUTANTS_REFERENCE := tests/mutants/test_catalog.py::test_reference_server_has_no_false_alarm tests/mutants/test_catalog.py::test_same_seed_same_verdict

mutants: $(STAMP) ## Certify every broken variant, code and wire (each caught exactly), Prism's mock (its golden failures) and the reference server over 5 seeds
	@# The two families run side by side (each run mostly waits on its server): their logs are printed in turn.
	@# The reference server's seed runs go with the wire family, the shorter one, so both end at about the same time.
	@mkdir -p build; rc=0; \
	$(BIN)/python -m pytest tests/mutants/test_catalog.py -m mutants -p no:randomly $(MUTANTS_REFERENCE:%=--deselect %) $(PYTEST_ARGS) > build/mutants-code.log 2>&1 & code=$$!; \
	$(BIN)/python -m pytest tests/mutants/test_wire_catalog.py tests/mutants/test_prism.py $(MUTANTS_REFERENCE) -m mutants -p no:randomly $(PYTEST_ARGS) > build/mutants-wire.log 2>&1 & wire=$$!; \
	wait $$code || rc=1; wait $$wire || rc=1; \
	echo "--- code variants (build/mutants-code.log)"; cat build/mutants-code.log; \
	echo "--- wire mutations and Prism (build/mutants-wire.log)"; cat build/mutants-wire.log; \
	exit $$rc

serve: $(STAMP) ## Start the reference server on loopback (SQLite file under .data/)
	$(BIN)/apollospace-refserver serve --host $(HOST) --port $(PORT)

tokens: $(STAMP) ## Print ready-to-paste credentials for the reference server's seed users
	$(BIN)/apollospace-refserver tokens

schemathesis: $(STAMP) bundle ## Plain `schemathesis run` (all checks, positive+negative, stateful, 100 examples) against the reference server
	$(BIN)/python bench/run_schemathesis.py --max-examples 100

certify: $(STAMP) ## Certify the reference server (or URL=... with credentials) and write reports under build/
	$(BIN)/apollospace-conformance certify $(if $(URL),--url $(URL),--embedded) --output build/conformance $(CERTIFY_ARGS)

bench: $(STAMP) bundle ## Benchmarks: server vs Prism with wrk (req/s, p99, CPU/req at 8 and 64 connections), kit quick and standard wall time, kit vs plain schemathesis; installs wrk (apt-get) and Prism (npm) on first use
	$(BIN)/python bench/run_all.py

peers-lint: bundle ## Lint the bundle with Spectral (spectral:oas) and Redocly (recommended); needs npm
	bash bench/peers_lint.sh build/openapi.json

.PHONY: compat release
COMPAT_BASE ?= baseline
compat: $(STAMP) ## Breaking-change gate: the spec against the released baseline (or COMPAT_BASE=ref|file); exit 1 when /v1 breaks; writes build/CHANGELOG.md
	$(BIN)/apollospace-spec compat --base $(COMPAT_BASE) --changelog build/CHANGELOG.md

release: $(STAMP) ## Freeze the spec as spec/releases/v$(VERSION)/ (bundle + changelog) and set info.version; FORCE=1 re-freezes
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=1.1.0 [FORCE=1]"; exit 2; }
	$(BIN)/apollospace-spec release $(VERSION) $(if $(FORCE),--force)

.PHONY: docs docs-golden
docs: $(STAMP) ## Render the API docs into build/docs: Mintlify site (docs.json, MDX), Markdown twins, llms.txt, offline HTML preview (open build/docs/preview/index.html)
	$(BIN)/apollospace-docs build --out build/docs

docs-golden: $(STAMP) ## Refresh the committed golden copies of the docs (tests/docs/golden) after an intended change
	$(BIN)/apollospace-docs golden --golden tests/docs/golden

clean: ## Remove build outputs and local server data (keeps .venv)
	rm -rf build .data .hypothesis
