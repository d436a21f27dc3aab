# citeqa: `make run` installs, fetches the model, indexes corpus/ and serves on :8000;
# `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run install models models-llm index serve serve-llm browser test test-llm test-fast eval latency clean

run: index
	$(BIN)/citeqa serve

install: $(VENV)/.installed

# uv installs what pip does (the same versions) in 46 s instead of 115 s on a fresh machine.
# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (it is on this machine), a package
# installed without its bytecode is compiled again by every process that imports it (the fuzz
# test's server took 354 s instead of 143). --link-mode=copy: llama-index reads its bundled NLTK
# data through a guard that refuses hard-linked files, and uv hard-links from its cache by
# default. pip is the fallback where uv cannot reach an index.
# torch is installed first and pinned: an unpinned torch resolves to a multi-GB CUDA build
# (/opt/wheels holds the CPU build on machines that provide one; pip finds it by its own config).
UV_INSTALL = $(BIN)/python -m uv pip install --python $(BIN)/python --quiet --compile-bytecode --link-mode=copy
PIP_INSTALL = $(BIN)/python -m pip install --quiet
TORCH_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) uv || true
	$(UV_INSTALL) $(TORCH_LINKS) torch==2.13.0 || $(PIP_INSTALL) torch==2.13.0
	$(UV_INSTALL) -e '.[test]' || $(PIP_INSTALL) -e '.[test]'
	touch $@

models: install
	$(BIN)/citeqa models fetch

# The bundled LLM (1.1 GB) for generative answers offline and for the tests.
models-llm: install
	$(BIN)/citeqa models fetch --llm

index: models
	$(BIN)/citeqa ingest

serve: install
	$(BIN)/citeqa serve

# Generative answers from the bundled model, every sentence verified (see README, "Generative answers").
serve-llm: index models-llm
	$(BIN)/citeqa serve --llm local

# The widget tests drive Debian's Chromium (a browser download by a test tool is not possible offline).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-noto-cjk; }

test: models browser
	$(BIN)/python -m pytest -m "not llm" --durations=15

# Generative answers through the bundled LLM (about 6 minutes more); CI runs these too.
test-llm: models models-llm browser
	$(BIN)/python -m pytest -m llm

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

latency: index
	$(BIN)/python -m evals.latency

clean:
	rm -rf var/ .pytest_cache
