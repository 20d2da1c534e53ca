# `make demo` and `make test` each build .venv/ from nothing, then run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= test,lint,asal,clip,learn,llm,web,ray

.PHONY: demo test lint install bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch comes from the machine's local wheel; installing it
	# first keeps transformers from pulling a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

# The gallery's tests drive Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	$$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -q
	$$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y -q chromium

demo: $(STAMP)
	$(VENV)/bin/primordium quickstart

# The oracles: pMARS for Core War, cubff (its own binary and a per-language
# tape runner) for the soups. tools/cubff-dirs.mk works around the reference
# tree lacking the empty build/ and bin/ folders its Makefile writes into.
ORACLES = PMARS=$${PMARS:-$$(bash ../shared/tools/pmars-oracle)} \
	CUBFF=$${CUBFF:-$$(MAKEFILES=$(CURDIR)/tools/cubff-dirs.mk bash ../shared/tools/cubff-oracle)}

test: $(STAMP) $(CHROMIUM)
	$(ORACLES) $(PY) -m pytest

# The gate: lint and format (ruff, whole tree) and types (mypy: store, exec, web, cli).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	for b in benchmarks/*.py; do $(ORACLES) $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV)
