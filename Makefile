# `make demo` and `make test` each build .venv/ from nothing, then run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= test,lint,asal,clip,learn,llm,web,ray,pandas,notebooks

.PHONY: demo test lint install bench clean notebooks

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch comes from the machine's local wheel; installing it
	# first keeps transformers from pulling a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	# The MARS compiled ahead of time, so one battle starts without numba; where
	# it cannot be built (no C compiler) battles run on the JIT kernel.
	$(PY) -c 'from primordium.corewar.mars_aot import main; main()' || echo "note: no ahead-of-time MARS; battles use numba's JIT"
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

# The tutorials in docs/notebooks/, each run top to bottom in a kernel of .venv's
# python (scripts/run_notebooks.py); a cell that raises fails the target.
notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py docs/notebooks/*.ipynb

bench: $(STAMP)
	for b in benchmarks/*.py; do $(ORACLES) $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV)
