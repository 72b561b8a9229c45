"""Build the English book the way `make book` and CI do, and print how long it took.

    python scripts/build_book.py [--builder html|linkcheck] [--path-output DIR]

jupyter-cache (Jupyter Book's execution cache) hashes a chapter's code cells only. A chapter
that calls labkit gives different results when labkit changes, yet its code cells stay the
same, so the cache would keep serving the old outputs. Before building we therefore hash
everything the chapters' results depend on besides their own code (labkit's source and data,
the pinned requirements) and, when that hash differs from the one stored with the cache, drop
the cached executions of every chapter that uses labkit and mark those chapters outdated for
Sphinx. They are then executed again; other chapters keep their cached runs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"
STAMP_NAME = "labkit-inputs.sha256"
#: Files whose content changes the chapters' results without changing their code cells.
INPUTS = ("labkit/**/*.py", "labkit/dataset/*", "labkit/*.properties", "requirements.txt")


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


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter files listed in _toc.yml (root included), in order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("chapters"))
            walk(entry.get("sections"))
            walk(entry.get("parts"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return [root / f"{name}.md" if not name.endswith((".md", ".ipynb")) else root / name
            for name in names]


def uses_labkit(path: Path) -> bool:
    return path.exists() and "labkit" in path.read_text(encoding="utf-8")


def invalidate_if_stale(root: Path = ROOT, cache_path: Path = CACHE) -> list[Path]:
    """Drop cached runs of labkit chapters when labkit's hash changed; return those chapters."""
    stamp = cache_path / STAMP_NAME
    current = inputs_hash(root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    stale: list[Path] = []
    if previous != current and cache_path.exists():
        from jupyter_cache import get_cache

        stale = [path for path in chapters(root) if uses_labkit(path)]
        cache = get_cache(cache_path)
        stale_uris = {str(path.resolve()) for path in stale}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in stale_uris:
                cache.remove_cache(record.pk)
        # Sphinx re-reads only sources newer than its last build; touch them so it does.
        now = time.time()
        for path in stale:
            os.utime(path, (now, now))
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builder", default="html")
    parser.add_argument("--path-output", default=None)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    stale = invalidate_if_stale()
    if stale:
        names = ", ".join(path.stem for path in stale)
        print(f"labkit changed: executing again {names}", flush=True)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "-W", "-n",
               "--builder", args.builder]
    if args.path_output:
        command += ["--path-output", args.path_output]
    result = subprocess.run(command, cwd=ROOT)
    seconds = time.perf_counter() - start
    status = "built" if result.returncode == 0 else "FAILED"
    print(f"book {status} in {seconds:.1f} s ({args.builder})", flush=True)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
