# make synth: set up and synthesize the default app (no AWS credentials, no Docker).
# make test:  set up and run every test and check (what CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CDK := npx --no-install cdk
CDK_FLAGS := --no-notices --no-version-reporting -q

# jsii prints an end-of-life banner on Node 20; the CLI must not phone home in a pipeline.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export NO_MKDOCS_2_WARNING := 1

.PHONY: help setup setup-dev setup-checkov synth synth-variants test lint typecheck cfn-lint \
	checkov pytest workflows docs docs-serve bench clean

help:
	@echo "make synth   set up, then synthesize the default app into cdk.out/"
	@echo "make test    set up, then run pytest, cfn-lint, checkov, ruff, mypy --strict, the"
	@echo "             workflow lint and the strict docs build"
	@echo "make docs    build the docs site into build/site (mkdocs build --strict)"
	@echo "make bench   run the benchmarks and write benchmarks/RESULTS.md"
	@echo "             (BENCH_ARGS=--fresh-clone also times make test on a fresh clone)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt "setuptools==80.9.0" "wheel==0.45.1"
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins boto3 1.35 (the project needs 1.44): it gets a venv of its own.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt
	touch $@

setup: $(VENV)/.runtime node_modules/.installed
setup-dev: setup $(VENV)/.dev
setup-checkov: $(CHECKOV_VENV)/.installed

synth: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDK) synth $(CDK_FLAGS)
	@echo "synthesized: $$(ls cdk.out/*.template.json)"

pytest: setup-dev setup-checkov
	$(BIN)/python -m pytest

# The default app and a fully configured variant, as CloudFormation would receive them.
synth-variants: setup-dev
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDK) synth $(CDK_FLAGS)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDK) synth $(CDK_FLAGS) -o cdk.out.configured \
		-c sourceBucketName=my-trail-archive -c sourcePrefix=AWSLogs/111122223333/CloudTrail/ \
		-c eventDataStoreArn=arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1234 \
		-c startEventTime=2024-01-01T00:00:00Z -c endEventTime=2025-01-01T00:00:00Z \
		-c waitForCompletion=true -c completionTimeoutMinutes=45 -c retryToken=1 \
		-c reservedConcurrency=3 -c vpcId=vpc-0123456789abcdef0 \
		-c subnetIds=subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb \
		-c securityGroupIds=sg-0123456789abcdef0 \
		-c logEncryptionKeyArn=arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab

cfn-lint: synth-variants
	$(BIN)/cfn-lint cdk.out/*.template.json cdk.out.configured/*.template.json

# Fails on any failed check. The construct skips checks only with a reason (see README,
# "Security scanners"); --skip-download keeps checkov offline (no guideline or policy fetch).
checkov: synth-variants setup-checkov
	$(CHECKOV) --framework cloudformation --skip-download --compact --quiet \
		-f cdk.out/*.template.json -f cdk.out.configured/*.template.json

# zizmor offline on every workflow (and the example one); actionlint too where its installer
# can reach GitHub (CI).
workflows: setup-dev
	$(BIN)/zizmor --offline .github/workflows examples/github_actions
	@if [ "$${CI_ACTIONLINT:-}" = 1 ]; then \
		$(BIN)/pip install -q -r requirements-actionlint.txt && \
		$(BIN)/actionlint .github/workflows/*.yml examples/github_actions/*.yml; \
	else \
		echo "actionlint: runs in CI (CI_ACTIONLINT=1; its installer downloads from GitHub)"; \
	fi

# Fails on any warning: a broken link, a page missing from the nav, a docstring it cannot read.
docs: setup-dev
	$(BIN)/mkdocs build --strict --site-dir build/site

docs-serve: setup-dev
	$(BIN)/mkdocs serve

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup-dev
	$(BIN)/mypy

test: pytest cfn-lint checkov lint typecheck workflows docs
	@echo "make test: all checks passed"

bench: setup-dev
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf cdk.out cdk.out.configured .mypy_cache .ruff_cache .pytest_cache build dist
