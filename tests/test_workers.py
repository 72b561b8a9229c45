"""How `make test` runs the tests in several workers (tests/conftest.py, tests/worker_groups.py):
tests of one group share a worker, and the groups name fixtures that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import conftest

TESTS = Path(__file__).resolve().parent

GROUPED = '''
import os, time
from pathlib import Path
import pytest

def record(name):
    time.sleep(0.3)
    folder = Path(__file__).parent / "records"
    (folder / name).write_text(os.environ["PYTEST_XDIST_WORKER"])

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("n", range(4))
def test_grouped(n):
    record(f"grouped-{n}")

@pytest.mark.parametrize("n", range(4))
def test_alone(n):
    record(f"alone-{n}")
'''

CONFTEST = '''
import sys
sys.path.insert(0, {tests!r})
from worker_groups import (pytest_collection_finish, pytest_configure_node,
                           pytest_xdist_make_scheduler)
'''


def test_tests_of_one_group_run_in_one_worker(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "conftest.py").write_text(CONFTEST.format(tests=str(TESTS)))
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup",
                             "-p", "no:cacheprovider", "-q", str(tmp_path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workers = {path.name: path.read_text() for path in (tmp_path / "records").iterdir()}
    assert len(workers) == 8
    assert len({workers[f"grouped-{n}"] for n in range(4)}) == 1, workers
    assert set(workers.values()) == {"gw0", "gw1"}  # the others were spread


def test_each_shared_fixture_is_used_by_its_module():
    for (module, fixture), _group in conftest.SHARED_FIXTURES.items():
        text = (TESTS / f"{module}.py").read_text(encoding="utf-8")
        signature = re.compile(rf"def test_\w+\([^)]*\b{fixture}\b", re.DOTALL)
        assert signature.search(text), f"{module}.py: no test uses the fixture {fixture!r}"
