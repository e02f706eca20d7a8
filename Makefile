# The two commands of the README: `make book` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD := _build
export RAYINT_CLAIMS_DIR := $(abspath $(BUILD)/claims)
export PYTHONHASHSEED := 0

.PHONY: venv book test bench clean browser lint

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV) || { echo "make: python3 cannot create a virtual environment: install Python's venv module (Debian: apt-get install python3-venv) and run make again" >&2; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Executes every notebook (always, --all: outputs never go stale after a library change) and
# builds the static HTML book into _build/html. Any notebook error fails the build.
book: $(STAMP)
	rm -rf $(BUILD)/claims $(BUILD)/.jupyter_cache $(BUILD)/.doctrees
	$(VENV)/bin/jupyter-book build . --all -W -n --keep-going
	@echo "Book: $(abspath $(BUILD)/html/index.html)"

# Debian's chromium drives the browser test of the built book (tools/install-chromium).
browser:
	@bash tools/install-chromium

# ruff (pinned; line length 100) over the library, tests, benchmarks and the notebooks.
lint: $(STAMP)
	$(VENV)/bin/ruff check rayint_lib tests benchmarks book

test: $(STAMP) lint browser book
	RAYINT_REQUIRE_BOOK=1 $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/simulator.py
	$(PY) benchmarks/remedy_rules.py
	$(PY) benchmarks/deep_rl.py
	$(PY) benchmarks/detect.py

clean:
	rm -rf $(BUILD) runs
