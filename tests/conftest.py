"""Shared fixtures: one real local Spark session for the whole run, and the prepared data.

`make test` runs the tests in pytest-xdist workers, one more than the cores (``-n 3 --dist
loadgroup`` on two cores), each a process with its own Spark session. Two rules keep that
as honest as a serial run and make it fast:

- tests that share something expensive a module starts (a fresh Binder environment, a
  standalone cluster, a kernel, the exported notebooks, the built book) run in one worker, so
  that it is started once: ``pytest_collection_modifyitems`` gives them one ``xdist_group``;
  so do the browser tests of one page, which read one load of it per width;
- the workers take the longest work first (the cold book build, then what starts processes),
  and the many short tests last, where they fill the gaps; the browser tests come at the very
  end, when the site they read has long been built.

A serial ``pytest`` runs the same tests in their usual order. pytest-xdist's own
``loadgroup`` ignores groups under pytest 9; tests/worker_groups.py makes them work.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bookbuild.execute import share_the_cores  # noqa: E402

# Each worker, and every kernel, rank and Python it starts, gets its share of the cores as its
# torch thread count, before anything imports torch (see ``share_the_cores``). Set by xdist
# in each worker before this file is read; a serial run keeps torch's default.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    share_the_cores(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))

# uv's cache for the tests' own uv commands (the Binder environment, `make lock`): a folder of
# their own, pruned when the run ends, since uv keeps every copy of what it downloads again.
from wheel_cache import uv_cache  # noqa: E402

if "UV_CACHE_DIR" not in os.environ:
    os.environ["UV_CACHE_DIR"] = str(uv_cache())

# The hooks that make --dist loadgroup honour the groups (pytest finds them here by name).
from worker_groups import (  # noqa: F401
    group_of,
    pytest_collection_finish,
    pytest_configure_node,
    pytest_xdist_make_scheduler,
)

from labkit.pipeline import Prepared, prepare
from labkit.spark import get_spark

#: (test module, module-scoped fixture) -> the xdist group of every test that uses it. Each
#: fixture starts something that takes seconds to minutes; in another worker it would be
#: started again. The built book is one group across modules: its first build is the cold one
#: (minutes), and the worker running it should not leave the other one waiting for it.
SHARED_FIXTURES = {
    ("test_book", "built_book"): "book",
    ("test_apparatus", "built_book"): "book",
    ("test_pdf", "pdfs"): "book",  # make pdf reads the built book's execution cache
    ("test_binder", "binder_env"): "binder-env",
    ("test_binder", "jupyterlab"): "binder-env",
    ("test_databricks", "exported"): "databricks-export",
    ("test_databricks", "oldest_pyspark"): "oldest-pyspark",
    ("test_distributed", "standalone"): "standalone-cluster",
    ("test_notebook", "executed"): "notebook-kernel",
}
#: Run after everything else: they read the site the "book" group builds.
LAST_MODULES = ("test_site",)


#: A fixture whose tests of one page share that page's loads (tests/test_site.py's ``visit``):
#: the tests of one page go to one worker, which loads the page once per width for all.
PAGE_VISITS = ("test_site", "visit")


def shared_group(item: pytest.Item) -> str | None:
    module = item.module.__name__ if item.module else ""
    for name in item.fixturenames:
        group = SHARED_FIXTURES.get((module, name))
        if group:
            return group
    params = getattr(getattr(item, "callspec", None), "params", {})
    if (module, "visit") == PAGE_VISITS and "visit" in item.fixturenames and "name" in params:
        return f"page-{params.get('language', 'en')}-{params['name']}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = {}
    for item in items:
        group = shared_group(item)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
        groups[item] = group_of(item)
    if not hasattr(config, "workerinput"):
        return  # not an xdist worker: a serial run keeps the modules' own order

    slow_groups = {group for item, group in groups.items()
                   if group and item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> int:
        if groups[item] == "book":
            return 0
        if item.module.__name__ in LAST_MODULES:
            return 3
        if item.get_closest_marker("slow") or groups[item] in slow_groups:
            return 1
        return 2

    items.sort(key=rank)  # stable: each rank keeps the collection order


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Prune the tests' uv cache once, in the controlling process, after every worker ended:
    uv keeps superseded downloads until told to drop them (tests/wheel_cache.py)."""
    if hasattr(session.config, "workerinput") or importlib.util.find_spec("uv") is None:
        return
    if os.environ.get("UV_CACHE_DIR") != str(uv_cache()):
        return  # the user's own uv cache: theirs to prune
    result = subprocess.run([sys.executable, "-m", "uv", "cache", "prune", "--quiet"],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(f"uv cache prune failed: {result.stderr.strip()}", file=sys.stderr)


@pytest.fixture(scope="session")
def spark():
    """A real ``local[2]`` SparkSession (two task slots, enough for np=2 Horovod runs)."""
    session = get_spark("labkit-tests", master="local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def honest(spark) -> Prepared:
    """The packaged data prepared the honest way (split, then oversample)."""
    return prepare(mode="honest", spark=spark)


@pytest.fixture(scope="session")
def seeded(spark) -> Prepared:
    """The packaged data prepared the lab's way (oversample, then split)."""
    return prepare(mode="seed", spark=spark)


@pytest.fixture(scope="session")
def lab_model(honest):
    """PenguinNet trained with the lab's defaults on the honest split (about 3 seconds)."""
    from labkit.training import fit_penguin_net

    model, _ = fit_penguin_net(honest.data, progress=False)
    return model
