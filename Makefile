# The two commands a newcomer needs are `make book` and `make test`; both set everything up first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.labkit-setup

.PHONY: setup test lint book bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml scripts/build-horovod.sh scripts/check-prereqs.sh \
          scripts/install-actionlint.sh scripts/install-mathjax.sh
	@scripts/check-prereqs.sh $(PYTHON)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	scripts/build-horovod.sh $(PY)
	scripts/install-actionlint.sh $(VENV)/actionlint
	scripts/install-mathjax.sh $(VENV)/mathjax
	@touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check labkit tests bench

# Tests in TEST_WORKERS processes (pytest-xdist), longest work first, tests that share a
# cluster, a server or the built book kept in one worker (tests/conftest.py); then the ten
# slowest tests. Each worker starts its own Spark session.
TEST_WORKERS ?= 2
test: lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=10

book: setup
	@$(PY) scripts/build_book.py

bench: setup
	$(PY) bench/bench_training.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
