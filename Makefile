# Thin aliases over `cargo xtask`, with Higress's variables. All logic lives in xtask/.
#   PLUGIN_NAME=request-block make build
#   PLUGIN_NAME=request_block PLUGIN_LANG=cpp make build
PLUGIN_NAME ?= say-hello
# rust | cpp; empty = every language the plug-in has
PLUGIN_LANG ?=

# oci (two-layer wasm variant) | compat (tar+gzip layer; docker-loadable)
IMAGE_FORMAT ?= oci
# REGISTRY (e.g. 127.0.0.1:5000/plugins/), IMG (a whole reference) and PLUGIN_VERSION (the tag) work as in
# Higress's Makefile.
REGISTRY ?=
IMG ?=

XTASK := cargo xtask
LANG_FLAG := $(if $(PLUGIN_LANG),--lang $(PLUGIN_LANG),)
# `make test` runs the whole suite; `make test PLUGIN_NAME=x [PLUGIN_LANG=l]` only that plug-in's tests.
TEST_FLAGS := $(if $(filter file,$(origin PLUGIN_NAME)),,--plugin $(PLUGIN_NAME) $(LANG_FLAG))

.PHONY: help build build-all build-image push manifest list test conformance lint

help: ## list the targets
	@echo "usage: [PLUGIN_NAME=x] [PLUGIN_LANG=rust|cpp] make <target>"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

build: ## build PLUGIN_NAME to out/<plugin>/<lang>/plugin.wasm
	$(XTASK) build $(LANG_FLAG) $(PLUGIN_NAME)

build-all: ## build every plug-in
	$(XTASK) build --all $(LANG_FLAG)

build-image: ## package PLUGIN_NAME as an OCI image under out/<plugin>/<lang>/
	$(XTASK) image $(LANG_FLAG) --format $(IMAGE_FORMAT) $(PLUGIN_NAME)

push: ## push PLUGIN_NAME's image to REGISTRY (or IMG), gated and verified
	$(XTASK) push $(LANG_FLAG) --format $(IMAGE_FORMAT) $(if $(REGISTRY),--registry $(REGISTRY),) $(if $(IMG),--image $(IMG),) $(PLUGIN_NAME)

manifest: ## print a Higress WasmPlugin for PLUGIN_NAME
	$(XTASK) manifest $(LANG_FLAG) $(if $(REGISTRY),--registry $(REGISTRY),) $(if $(IMG),--image $(IMG),) $(PLUGIN_NAME)

list: ## list plug-ins and their languages
	$(XTASK) list

test: ## the whole test suite; with PLUGIN_NAME, that plug-in's unit tests, vectors and lint
	$(XTASK) test $(TEST_FLAGS)

conformance: ## run PLUGIN_NAME's conformance vectors
	$(XTASK) conformance --plugin $(PLUGIN_NAME) $(LANG_FLAG)

lint: ## rustfmt, clippy, clang-format, tidy
	$(XTASK) lint
