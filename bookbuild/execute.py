"""Executing the chapters, and the execution cache both editions read (``_build/.jupyter_cache``).

jupyter-cache hashes a chapter's code cells only. A chapter that calls labkit gives different
results when labkit changes, yet its code cells stay the same, so the cache would keep serving
the old outputs. Before building we therefore hash everything the chapters' results depend on
besides their own code (labkit's source and data, and the lock: every version installed, not
only the hand-pinned ones) and, when that hash differs from the one stored with the cache,
drop the cached executions of every chapter that uses labkit and mark those chapters outdated
for Sphinx. They are then executed again; other chapters keep their cached runs.

Executing the chapters is most of a cold build, and Jupyter Book runs them one after another.
Each chapter runs in its own kernel, so before handing over to Jupyter Book we execute every
chapter that has no cached run ourselves, several at a time, the longest first, and store the
runs in the same cache. Jupyter Book then finds every chapter cached and only renders. The
notebooks are read and executed with myst-nb's and jupyter-cache's own functions, with the
settings in ``_config.yml``, so the cached runs are exactly the ones Jupyter Book would have
made.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from bookbuild.editions import all_chapters, uses_labkit
from bookbuild.paths import CACHE, ROOT

STAMP_NAME = "labkit-inputs.sha256"
#: Seconds each chapter took to execute last time, for scheduling the longest first.
TIMINGS_NAME = "execution-seconds.json"
#: Files whose content changes the chapters' results without changing their code cells.
INPUTS = ("labkit/**/*.py", "labkit/dataset/*", "labkit/*.properties", "requirements-lock.txt")
#: MathJax, installed by `make setup` (scripts/install-mathjax.sh) and served from the site.


def input_files(root: Path = ROOT) -> list[Path]:
    files = {path for pattern in INPUTS for path in root.glob(pattern) if path.is_file()}
    return sorted(path for path in files if "__pycache__" not in path.parts)


def inputs_hash(root: Path = ROOT) -> str:
    """sha256 over the relative path and content of every input file."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def invalidate_if_stale(root: Path = ROOT, cache_path: Path = CACHE) -> list[Path]:
    """Drop cached runs of labkit chapters when labkit's hash changed; return those chapters."""
    stamp = cache_path / STAMP_NAME
    current = inputs_hash(root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    stale: list[Path] = []
    if previous != current and cache_path.exists():
        from jupyter_cache import get_cache

        stale = [path for path in all_chapters(root) if uses_labkit(path)]
        cache = get_cache(cache_path)
        stale_uris = {str(path.resolve()) for path in stale}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in stale_uris:
                cache.remove_cache(record.pk)
        # Sphinx re-reads only sources newer than its last build; touch them so it does
        # (in both editions: the Japanese pages show the English runs' outputs).
        now = time.time()
        for path in stale:
            os.utime(path, (now, now))
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return stale



def read_notebook(path: Path):
    """The chapter as myst-nb reads it for Sphinx (same cells, tags and kernelspec, so the
    same jupyter-cache hash)."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    text = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), MdParserConfig(), NbParserConfig(), text)
    return reader.read(text)


def execute_settings(root: Path = ROOT) -> dict[str, Any]:
    """The ``execute`` settings of ``_config.yml`` that a run depends on."""
    import yaml

    execute = yaml.safe_load((root / "_config.yml").read_text())["execute"]
    return {"timeout": execute.get("timeout", 30),
            "allow_errors": execute.get("allow_errors", False)}


def execute_chapter(path: Path, settings: dict[str, Any]) -> tuple[Any, float, str | None]:
    """Run one chapter in a fresh kernel, in its own folder as Jupyter Book does
    (``run_in_temp: false``); returns the executed notebook, seconds and any traceback."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read_notebook(path)
    result = single_nb_execution(notebook, cwd=str(path.parent),
                                 allow_errors=settings["allow_errors"],
                                 timeout=settings["timeout"], meta_override=True)
    error = None if result.err is None else (result.exc_string or repr(result.err))
    return notebook, result.time, error


def uncached(paths: list[Path], cache_path: Path = CACHE) -> list[Path]:
    """The chapters with code cells that have no cached run matching their code."""
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    missing = []
    for path in paths:
        if "{code-cell}" not in path.read_text(encoding="utf-8"):
            continue
        try:
            cache.match_cache_notebook(read_notebook(path))
        except KeyError:
            missing.append(path)
    return missing


#: Calls that start other processes (a JVM, ranks, a training run): a chapter's run time is
#: mostly theirs. Used to guess which chapters are long before they have been timed once.
SLOW_CALLS = ("get_spark(", "prepare(spark", "HorovodRunner(", "run_torch_distributor(",
              "fit_penguin_net(")


def longest_first(paths: list[Path], timings: dict[str, float], root: Path = ROOT) -> list[Path]:
    """Order chapters by their last run time, longest first, so that the longest one starts
    at once instead of finishing last alone; untimed chapters are guessed from the calls
    they make."""
    def expected_seconds(path: Path) -> float:
        name = path.relative_to(root).as_posix()
        if name in timings:
            return timings[name]
        text = path.read_text(encoding="utf-8")
        return 10.0 + 20.0 * sum(text.count(call) for call in SLOW_CALLS)

    return sorted(paths, key=expected_seconds, reverse=True)


def share_the_cores(processes: int, cores: int | None = None) -> None:
    """Give each of ``processes`` busy at once (chapters executed in parallel, test workers)
    its share of the cores as its thread count: ``OMP_NUM_THREADS``, which torch reads at
    import and which every kernel, rank and Python they start inherits. A count the user set
    is kept.

    By default every torch starts one thread per core; with two chapters on two cores, four
    threads then wait on each other at every tiny operation, and a training loop runs many
    times slower than alone (bench/bench_threads.py measures it). The course's tensors are
    far too small for several threads to help, and its results do not depend on the count."""
    share = max(1, (cores or os.cpu_count() or 1) // max(1, processes))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(share))


def execute_in_parallel(paths: list[Path], jobs: int, root: Path = ROOT,
                        cache_path: Path = CACHE) -> list[str]:
    """Execute ``paths`` ``jobs`` at a time, longest first, caching each run that succeeds.

    Returns one message per chapter that failed; their runs are not cached.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(cache_path)
    timings_file = cache_path / TIMINGS_NAME
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    order = longest_first(paths, timings, root)
    settings = execute_settings(root)
    failures = []
    # Separate processes, started fresh: each runs a kernel and waits on it. The kernels
    # inherit this process's environment, so each gets its share of the cores.
    share_the_cores(jobs)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(execute_chapter, path, settings): path for path in order}
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            name = path.relative_to(root).as_posix()
            notebook, seconds, error = future.result()
            if error is not None:
                failures.append(f"{name} raised an error:\n{error}")
                print(f"  {name}: FAILED after {seconds:.1f} s", flush=True)
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            timings[name] = round(seconds, 1)
            print(f"  {name}: executed in {seconds:.1f} s", flush=True)
    timings_file.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
    return failures


