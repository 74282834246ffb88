# zulip.server: one entry point for the lab, the tests and the demo.
# Every target bootstraps what it needs (venv, Docker engine, images,
# release fixtures) and is quick when that is already done.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Scenarios run by `make test`, in order (one at a time: 2 cores). `lab`
# (systemd in the lab's containers, Debian 12 and 13) runs on demand:
# every scenario below boots the same containers.
SCENARIOS ?= upgrade split
S ?= lab
B ?= install
ENV := source lab/env.sh &&

.PHONY: help venv images fixtures lint unit build scenario test demo bench

help:
	@echo "make test      everything CI checks (lint, unit, build, scenarios: $(SCENARIOS))"
	@echo "make demo      bring up the lab and install a Zulip cluster into it"
	@echo "make lint | unit | build | scenario S=<name> | bench B=<name> | images | fixtures"

venv:
	@bash lab/venv.sh

# Debian 13 (trixie) only for the lab scenario: make test's scenarios are
# all bookworm, and a first debootstrap costs about a minute.
IMAGES ?= bookworm trixie
test: IMAGES = bookworm

images:
	@bash lab/images.sh $(IMAGES)

fixtures:
	@bash tests/release/build.sh

lint: venv
	@$(ENV) yamllint --strict . && ansible-lint --offline --profile production

unit: venv fixtures
	@$(ENV) pytest -q -p no:cacheprovider tests/unit tests/release tests/preflight tests/fleet tests/topology

build: venv
	@$(ENV) bash lab/build-check.sh

scenario: venv images fixtures
	@bash lab/scenario.sh $(S)

test: venv images fixtures
	@set -e; start=$$(date +%s); $(MAKE) --no-print-directory lint; \
	$(MAKE) --no-print-directory unit; \
	$(MAKE) --no-print-directory build; \
	echo "make test: lint, unit and build passed in $$(( $$(date +%s) - start )) s"; \
	for s in $(SCENARIOS); do bash lab/scenario.sh $$s; done; \
	echo "make test: all checks passed in $$(( $$(date +%s) - start )) s"

demo: venv images fixtures
	@bash lab/demo.sh

bench: venv images fixtures
	@$(ENV) bash bench/run.sh $(B)
