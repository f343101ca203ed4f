# The two commands of the README: `make book` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader shells out to alembic: the environment's bin/ must come first on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: book test setup sandbox browser pdf release serve benchmark clean

# The stamp is rebuilt whenever pyproject.toml changes, so both commands set up a fresh machine.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

book: setup
	$(BIN)/python -m scripts.build_book

# The browser and PDF tests drive Debian's Chromium, read the PDF with poppler-utils and check
# accessibility with axe-core (from npm, kept in _build/.vendor/); everything else needs only the environment.
browser: setup
	(command -v chromium && command -v pdftotext) >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium poppler-utils)
	$(BIN)/python -m scripts.build_book --axe-core

# The whole book as one PDF, _build/pdf/book.pdf: Chromium prints the book built as a single page.
pdf: setup browser
	$(BIN)/python -m scripts.build_book --pdf

# `course grade` runs submitted code in a bubblewrap sandbox (Debian's bubblewrap; libseccomp for its
# system-call filter); `course check-sandbox` says whether it works on this machine.
sandbox: setup
	command -v bwrap >/dev/null || (apt-get update -qq && apt-get install -y -qq bubblewrap libseccomp2)
	$(BIN)/course check-sandbox

test: setup sandbox browser
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
