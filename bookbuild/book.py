"""Build both editions of the book the way `make book` and CI do, and print how long it took.

    python scripts/build_book.py [--builder html|linkcheck] [--edition en|ja] [--jobs N]

Execute what the cache lacks (``execute``), render each edition present (``render``), join
the site (``siteroot``). One build at a time holds ``_build``'s lock.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bookbuild.editions import (
    EDITIONS,
    ENGLISH,
    Edition,
    chapters,
    check_parity,
    editions_present,
    write_edition_files,
)
from bookbuild.execute import execute_in_parallel, invalidate_if_stale, uncached
from bookbuild.paths import BUILD, CACHE, ROOT
from bookbuild.render import (
    render,
    render_fingerprint,
    touch_pages_if_static_changed,
    write_executed_notebooks,
)
from bookbuild.siteroot import write_site_root

#: Held while a build reads and writes ``_build``.
LOCK_NAME = ".build.lock"


@contextlib.contextmanager
def exclusive_build(build_dir: Path = BUILD) -> Iterator[None]:
    """Hold ``_build``'s lock: one build at a time. Two builds at once (``make book`` beside
    the tests, or the test modules that build the book running in parallel workers) would
    execute the same chapters twice and write the same files at the same time; the second
    waits here instead and then finds the first one's work done (a rebuild with nothing
    changed takes about a second)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another build of {build_dir} to finish", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock, even if the build raised


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builder", default="html", choices=("html", "linkcheck"))
    parser.add_argument("--edition", choices=[edition.language for edition in EDITIONS],
                        help="build only this edition (default: every edition present)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="chapters executed at once (default: one per CPU core)")
    args = parser.parse_args(argv)

    present = editions_present()
    if len(present) < len(EDITIONS):
        print("book/ja has no chapter yet: building the English edition only", flush=True)
    problems = check_parity(present)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"book FAILED: the Japanese edition departs from the English in "
              f"{len(problems)} place(s) (code cells and glue names must match)", flush=True)
        return 1
    with exclusive_build():
        return build(args, present)


def build(args: argparse.Namespace, present: list[Edition]) -> int:
    """Execute what the cache lacks, render the chosen editions, join the site; timed from
    here (after any wait for another build)."""
    start = time.perf_counter()
    stale = invalidate_if_stale(ROOT, CACHE)
    if stale:
        names = ", ".join(sorted({path.stem for path in stale}))
        print(f"labkit changed: executing again {names}", flush=True)
    chosen = [edition for edition in present
              if args.edition in (None, edition.language)]
    if args.builder == "html":
        for edition in chosen:
            touch_pages_if_static_changed(edition.build_dir / "html", ROOT,
                                          chapters(ROOT, edition.toc))
    seconds: dict[str, float] = {}
    pending = uncached(chapters(ROOT, ENGLISH.toc), CACHE)
    if pending and args.jobs > 1:
        jobs = min(args.jobs, len(pending))
        print(f"executing {len(pending)} chapters, {jobs} at a time", flush=True)
        failures = execute_in_parallel(pending, jobs, ROOT, CACHE)
        seconds["execute"] = time.perf_counter() - start
        if failures:
            print("\n\n".join(failures), file=sys.stderr)
            print(f"book FAILED in {time.perf_counter() - start:.1f} s: "
                  f"{len(failures)} chapter(s) raised", flush=True)
            return 1
    for edition in chosen:
        if edition is not ENGLISH:
            # Every run must come from the cache: the Japanese build executes nothing.
            missing = uncached(chapters(ROOT, edition.toc), CACHE)
            if missing:
                print("no English run to reuse for "
                      + ", ".join(str(path.relative_to(ROOT)) for path in missing)
                      + ": build the English edition first", file=sys.stderr, flush=True)
                return 1
        began = time.perf_counter()
        write_edition_files(edition, present)
        stamp = edition.build_dir / f"{args.builder}.sha256"
        fingerprint = render_fingerprint(edition, args.builder)
        if (args.builder == "html" and (edition.build_dir / "html").is_dir() and stamp.is_file()
                and stamp.read_text().strip() == fingerprint):
            print(f"{edition.language}: nothing changed since the last build", flush=True)
            seconds[edition.language] = time.perf_counter() - began
            continue
        stamp.unlink(missing_ok=True)
        code = render(edition, args.builder)
        if code == 0 and args.builder == "html":
            write_executed_notebooks(edition)
            stamp.write_text(fingerprint + "\n")
        seconds[edition.language] = time.perf_counter() - began
        if code != 0:
            print(f"book FAILED in {time.perf_counter() - start:.1f} s ({edition.language}, "
                  f"{args.builder})", flush=True)
            return code
    if args.builder == "html":
        write_site_root(present)
    total = time.perf_counter() - start
    english = total - sum(seconds.get(edition.language, 0.0) for edition in present[1:])
    parts = [f"{name} {value:.1f} s" for name, value in seconds.items()]
    print(f"book built in {total:.1f} s ({args.builder}; " + ", ".join(parts) + ")", flush=True)
    if len(chosen) > 1:
        print(f"English-only build {english:.1f} s; both editions {total:.1f} s "
              f"= {total / english:.2f} x the English-only build", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
