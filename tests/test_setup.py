"""The set-up files agree with each other, and the CI entry point runs what the README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from wheel_cache import pyspark_wheels

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import lock as lock_module  # noqa: E402


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*(?:-\s+)?([A-Za-z0-9_.\-]+)(?:\[[a-z,]+\])?==([^\s#]+)\s*", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def lock(path: Path) -> dict[str, str]:
    """``name -> version`` of a lock, names normalised as pip does."""
    return {re.sub(r"[-_.]+", "-", name): version
            for name, version in pins(path.read_text().splitlines()).items()}


def test_the_lock_holds_every_hand_pin_at_its_version():
    """requirements-lock.txt is made from requirements.txt (`make lock`): a pin changed or
    added by hand and not locked again fails here."""
    requirements = lock(ROOT / "requirements.txt")
    locked = lock(ROOT / "requirements-lock.txt")
    stale = {name: (version, locked.get(name)) for name, version in requirements.items()
             if locked.get(name) != version and not (name == "torch"
                                                     and locked.get(name) == version + "+cpu")}
    assert not stale, f"run `make lock`: requirements.txt and its lock differ: {stale}"
    assert requirements["torch"].startswith("2.13")
    assert requirements["pandas"].split(".")[0] == "2"
    assert requirements["pyspark"].split(".")[0] == "4"


def test_the_lock_is_torch_cpu_build_without_cuda_libraries():
    locked = lock(ROOT / "requirements-lock.txt")
    assert locked["torch"].endswith("+cpu")
    assert not [name for name in locked if name.startswith(("nvidia-", "triton"))]
    assert len(locked) > 100  # the whole resolved set, not the top level


def test_make_setup_environment_yml_and_actions_install_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -r requirements-lock.txt" in makefile
    assert re.search(r"^\$\(STAMP\): requirements-lock\.txt", makefile, re.MULTILINE)
    environment = (ROOT / "environment.yml").read_text()
    assert "- -r requirements-lock.txt" in environment and not pins(environment.splitlines())
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        text = workflow.read_text()
        # a workflow installs through `make setup` or from the lock (-r or -c), never by name
        for line in re.findall(r"pip install[^\n]*", text):
            assert re.search(r"-[rc] requirements-lock\.txt", line), (workflow.name, line)


def test_readme_names_the_two_commands_and_ci_runs_make_test():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


LOCK_INPUTS = ["requirements.txt", "requirements-lock.txt", "binder/requirements.in",
               "binder/requirements.txt", "scripts/lock.py"]


def lock_copy(folder: Path) -> Path:
    for name in LOCK_INPUTS:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, folder / name)
    return folder


def make_lock(folder: Path, **environ: str) -> subprocess.CompletedProcess:
    """scripts/lock.py in ``folder``, uv also finding the pinned PySpark's wheel in the
    developers' cache (tests/wheel_cache.py): the lock is the same, without a 450 MB download."""
    env = {**os.environ, **environ}
    env["PIP_FIND_LINKS"] = " ".join(
        [*lock_module.pip_find_links(env).split(), str(pyspark_wheels())])
    return subprocess.run([sys.executable, str(folder / "scripts" / "lock.py")], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_make_lock_again_changes_nothing(tmp_path):
    """The committed locks are what `make lock` makes from the committed inputs (uv asks
    PyPI, so the resolution is real): nothing was edited by hand or left stale."""
    folder = lock_copy(tmp_path)
    result = make_lock(folder)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("requirements-lock.txt", "binder/requirements.txt"):
        assert (folder / name).read_text() == (ROOT / name).read_text(), name


@pytest.mark.slow
def test_make_lock_refuses_in_one_line_and_writes_nothing(tmp_path):
    folder = lock_copy(tmp_path)
    with (folder / "requirements.txt").open("a") as file:
        file.write("tqdm==0.0.0.404\n")  # no such release: pins conflict
    result = make_lock(folder)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "lock: error: requirements.txt: uv could not resolve it")
    # torch from PyPI alone is the CUDA build: refused rather than locked
    folder = lock_copy(tmp_path / "pypi-only")
    result = make_lock(folder, PIP_FIND_LINKS="", PIP_EXTRA_INDEX_URL="")
    assert result.returncode == 2
    assert "torch resolved to 2.13.0, PyPI's CUDA build" in result.stderr.strip().splitlines()[-1]
    for name in ("requirements-lock.txt", "binder/requirements.txt"):
        assert (folder / name).read_text() == (ROOT / name).read_text(), name


def test_a_weekly_workflow_builds_and_tests_with_the_newest_releases():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "drift.yml").read_text())
    assert "schedule" in workflow[True]  # YAML 1.1 reads the key `on` as True
    steps = [step.get("run", "") for step in workflow["jobs"]["newest"]["steps"]]
    upgrade = next(i for i, run in enumerate(steps) if "make lock UPGRADE=1" in run)
    assert any("make test" in run for run in steps[upgrade:])
    assert any("make book" in run for run in steps[upgrade:])
    assert "--upgrade" in (ROOT / "Makefile").read_text().split("\nlock:", 1)[1]
