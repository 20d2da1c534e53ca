# `make demo` and `make test` each build .venv/ from nothing, then run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= test,asal,clip,llm,web,ray

.PHONY: demo test install bench clean

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

test: $(STAMP) $(CHROMIUM)
	PMARS=$${PMARS:-$$(bash ../shared/tools/pmars-oracle)} $(PY) -m pytest

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV)
