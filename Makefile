# Two commands for everyone:  `make docs` builds the site, `make test` runs every test.
# Each sets itself up: it creates .venv with $(PYTHON) if missing and installs the
# pinned requirements and lsm (editable) once; later runs reuse it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.lsm-ready
KATEX  := node_modules/.package-lock.json
LAB    := $(VENV)/.lsm-lab-ready
PYTEST_ARGS ?=
export NO_MKDOCS_2_WARNING := 1
# torch's CPU exp, log1p, ... go through Intel MKL, which picks its code path by CPU: an AVX-512
# Xeon rounds some results differently from the path the stored outputs were made on, and the
# notebooks assert kernel-level values (ulps, thresholds). MKL's conditional numerical
# reproducibility mode fixes the path, so nbval gives one answer on every x86 machine.
export MKL_CBWR ?= COMPATIBLE
NOTEBOOKS := $(wildcard notebooks/*.ipynb)

.PHONY: help setup test unit site-test docs serve notebooks bench lab clean

help:
	@echo "make test       unit tests + strict nbval over every notebook + the site (built strictly,"
	@echo "                every page checked in headless Chromium) + mkdocs build --strict into site/"
	@echo "make site-test  only the site checks (tests/test_site.py; screenshots at 1280 and 390 px in artifacts/site/)"
	@echo "make docs       build the site from the notebooks' stored outputs into site/"
	@echo "make serve      browse the site on http://127.0.0.1:8000"
	@echo "make notebooks  re-execute every notebook and store its outputs (then nbval holds them)"
	@echo "make bench      time log_softmax on the CPU into $(BENCH_OUT) (BENCH_ARGS='--device cpu cuda' on a GPU)"
	@echo "make lab        JupyterLab for editing notebooks (optional extra)"
	@echo "make clean      remove .venv, node_modules/, site/ and caches"

$(READY): requirements.txt pyproject.toml lab/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "lsm needs Python 3.10 or newer: run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . -e lab
	@touch $@

# The site's math is rendered when it is built, by KaTeX (tools/mkdocs_math.py) on Node.js;
# package-lock.json pins it, and npm installs it into node_modules/.
$(KATEX): package.json package-lock.json
	@command -v npm >/dev/null || { echo "the site build needs Node.js 18 or newer (with npm): https://nodejs.org"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

setup: $(READY) $(KATEX)

# tests/test_site.py builds the site strictly into site/ and loads every page in headless
# Chromium (skipped, with the install command, where there is none; .ci/run installs it). It
# leaves the stamp .site-built-by-tests; where the site tests did not run (PYTEST_ARGS=-k ...), the last line
# builds the published site instead. A warm run of an unchanged tree reuses the last strict build
# (.site-inputs records what it read; LSM_REBUILD_SITE=1 builds anyway).
# PYTHONDONTWRITEBYTECODE is emptied for the run (empty = unset): where it is set, pytest cannot
# cache the assert-rewritten plugin modules (hypothesis: 73 of them), and every worker rewrote
# them again, about 1.6 s each run.
test: $(READY) $(KATEX)
	@rm -f .site-built-by-tests
	PYTHONDONTWRITEBYTECODE= LSM_SITE_DIR=site $(BIN)/python -m pytest $(PYTEST_ARGS)
	@test -f .site-built-by-tests || $(BIN)/python -m mkdocs build --strict --quiet --site-dir site

site-test: $(READY) $(KATEX)
	LSM_SCREENSHOTS=1 $(BIN)/python -m pytest -n0 tests/test_site.py $(PYTEST_ARGS)

unit: $(READY)
	$(BIN)/python -m pytest tests --ignore=tests/test_site.py $(PYTEST_ARGS)

docs: $(READY) $(KATEX)
	$(BIN)/python -m mkdocs build --strict --site-dir site

serve: $(READY) $(KATEX)
	$(BIN)/python -m mkdocs serve --dev-addr 127.0.0.1:8000

notebooks: $(READY)
	$(BIN)/python -m jupyter nbconvert --log-level WARN --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

BENCH_ARGS ?= --device cpu
BENCH_OUT  ?= results/cpu.json
bench: $(READY)
	$(BIN)/python -m lsmlab.bench $(BENCH_ARGS) --out $(BENCH_OUT)

$(LAB): $(READY) requirements-lab.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-lab.txt
	@touch $@

lab: $(LAB)
	$(BIN)/python -m jupyter lab notebooks/

clean:
	rm -rf $(VENV) node_modules site .site-built-by-tests .site-inputs build .pytest_cache .hypothesis .cache/mkdocs-jupyter artifacts/site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
