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

# torch is installed first and pinned: an unpinned torch resolves to a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
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
