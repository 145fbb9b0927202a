# The two commands of the README: `make demo` and `make test`. Both set everything up first
# (Debian packages the tests need, then a virtual environment in .venv with the project installed).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

JS_DEPS := tests/js/node_modules/.package-lock.json

# pytest-xdist workers of `make test` (each its own Xvfb); the modules sharing costly session
# fixtures stay on one worker (tests/conftest.py). `make test PYTEST_WORKERS=0`: one process.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

.PHONY: setup system-deps demo test test-core lint bench clean

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[napari,dev]'
	touch $(STAMP)

# dcmjs for the test that reads our SRs as OHIF does (versions pinned by the lock file)
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund

demo: setup
	$(VENV)/bin/lesion-tool demo --out demo-output

test: setup $(JS_DEPS)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_PARALLEL)

test-core: $(STAMP) $(JS_DEPS)
	$(PY) -m pytest $(PYTEST_PARALLEL) tests/core

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-output .pytest_cache build *.egg-info tests/js/node_modules
