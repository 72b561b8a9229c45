# The two commands a newcomer needs are `make book` and `make test`; both set everything up first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.labkit-setup

.PHONY: setup test lint book pdf bench bench-cli bench-threads clean lock ja-status

# Then the Spark class archive for this Java and this Spark (labkit/spark_classes.py), written
# once: later sessions start in half the CPU.
setup: $(STAMP)
	@$(PY) -m labkit.spark_classes

$(STAMP): requirements-lock.txt pyproject.toml scripts/build-horovod.sh scripts/check-prereqs.sh \
          scripts/install-actionlint.sh scripts/install-mathjax.sh scripts/install-axe.sh
	@scripts/check-prereqs.sh $(PYTHON)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-lock.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	scripts/build-horovod.sh $(PY)
	scripts/install-actionlint.sh $(VENV)/actionlint
	scripts/install-mathjax.sh $(VENV)/mathjax
	scripts/install-axe.sh $(VENV)/axe-core
	@touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check labkit tests bench

# Tests in TEST_WORKERS processes (pytest-xdist), longest work first, tests that share a
# cluster, a server or the built book kept in one worker (tests/conftest.py); then the ten
# slowest tests. Each worker starts its own Spark session. One worker more than the cores:
# the tests wait on processes they started (on two cores shared with other work, three
# workers took 651 s where two took 762 s; on a quiet machine 642 s against 656 s, with the
# slower run also lacking the thread share of tests/conftest.py).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: lint ja-status
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=10

# Each Japanese page against the English text it translates: current, or stale naming the
# English sections changed since (scripts/ja_status.py). After updating a page:
# `make ja-status MARK=09-input-scale` marks it current (MARK=all: every page).
ja-status: setup
	$(PY) scripts/ja_status.py $(if $(MARK),--mark $(MARK))

book: setup
	@$(PY) scripts/build_book.py

# The whole book as one PDF per edition, _build/pdf/en.pdf and _build/pdf/ja.pdf, printed by
# Chromium from the executed editions (bookbuild/pdf.py): the book is built first, which
# executes nothing when its cache is current, and the PDFs execute nothing at all. Needs
# chromium, chromedriver and fonts-noto-cjk (apt; .ci/run installs them).
pdf: book
	@$(PY) scripts/build_pdf.py

bench: setup
	$(PY) bench/bench_training.py

# How fast a refusal answers: this labkit against the one before its imports were lazy.
bench-cli: setup
	$(PY) bench/bench_cli.py

# Two trainings at once (as two chapters or two test workers run): torch's default thread
# count against each one's share of the cores (bookbuild.execute.share_the_cores).
bench-threads: setup
	$(PY) bench/bench_threads.py

# After editing requirements.txt or binder/requirements.in: resolve the whole set again into
# requirements-lock.txt and binder/requirements.txt (scripts/lock.py; needs uv, which `make
# setup` installs). `make lock UPGRADE=1` takes the newest release of every unpinned package.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PY) -m pip install -q "$$(grep '^uv==' requirements.txt)"
	$(PY) scripts/lock.py $(if $(UPGRADE),--upgrade)

clean:
	rm -rf _build .pytest_cache .ruff_cache
