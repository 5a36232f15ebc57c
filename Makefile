# Precedent — the two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
TOOLS ?= $(HOME)/.cache/precedent-tools
# One target dir outside the checkout, so fresh clones (CI) build incrementally.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/precedent-target/leptos
export PATH := $(TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
BIN := $(CARGO_TARGET_DIR)/release/precedent

.PHONY: run test build setup-run setup-test clean-data

## Install what is missing, build the release site, migrate, seed the demo, serve on :3000.
run: setup-run build
	PRECEDENT_SITE_ROOT=$(CURDIR)/target/site $(BIN) serve --demo

## Everything CI runs (Rust unit + integration tests, Playwright in Chromium).
test: setup-test build
	scripts/test.sh

build:
	cargo leptos build --release

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

## Forget the local database and files (the managed cluster must be stopped).
clean-data:
	rm -rf data
