# The two commands of the README: `make book` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader shells out to alembic: the environment's bin/ must come first on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: book test setup browser release serve benchmark clean

# The stamp is rebuilt whenever pyproject.toml changes, so both commands set up a fresh machine.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

book: setup
	$(BIN)/python -m scripts.build_book

# The browser tests drive Debian's Chromium; everything else needs only the environment.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: setup browser
	$(BIN)/pytest

release: setup
	$(BIN)/course release

serve: book
	$(BIN)/python -m http.server --directory _build/html 8000

benchmark: setup
	$(BIN)/python -m scripts.benchmark_build
	$(BIN)/python -m scripts.benchmark_grading

clean:
	rm -rf _build $(VENV)
