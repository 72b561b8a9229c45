"""The developers' cache of what the slow tests install: built once per machine, kept between
runs (``$LABKIT_WHEEL_CACHE``, else ``~/.cache/labkit/wheels``, beside the Horovod wheel that
scripts/build-horovod.sh keeps there).

PySpark is published only as a source archive of about 450 MB. Each uv command that meets it
downloads and unpacks it again wherever the download server's replies cannot be revalidated
(as here), and uv's cache keeps every copy: a test run left 2 to 4 GB behind, and CI ran out
of disk. Tests hand uv the wheel kept here instead, and keep uv's cache in a folder of their
own that the run prunes when it ends (tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cache_root() -> Path:
    """``$LABKIT_WHEEL_CACHE``, else ``labkit/wheels`` in the user's cache folder."""
    return Path(os.environ.get("LABKIT_WHEEL_CACHE")
                or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                / "labkit" / "wheels")


def uv_cache() -> Path:
    """The tests' own uv cache, beside the wheels: pruned at the end of each run."""
    return cache_root().parent / "uv"


def build_once(name: str, build: Callable[[Path], None]) -> Path:
    """``cache_root() / name``, made by ``build(folder)`` the first time: into a staging folder
    renamed when whole, so a failed or concurrent build never leaves half of one behind."""
    target = cache_root() / name
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        build(staging)
        try:
            staging.rename(target)
        except OSError:  # another run finished first
            shutil.rmtree(staging)
    return target


def pinned_pyspark() -> str:
    """PySpark's version in requirements-lock.txt."""
    found = re.search(r"^pyspark==(\S+)", (ROOT / "requirements-lock.txt").read_text(),
                      re.MULTILINE)
    assert found, "requirements-lock.txt pins no pyspark"
    return found.group(1)


def pyspark_wheels() -> Path:
    """A folder holding the wheel of the pinned PySpark, for uv's ``--find-links``. pip builds
    it from the source archive (or takes the one it built when it set up the venv)."""
    version = pinned_pyspark()

    def build(folder: Path) -> None:
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                                 "-w", str(folder), f"pyspark=={version}"],
                                capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, result.stderr[-2000:]

    return build_once(f"pyspark-{version}-wheel", build)
