"""Resolve every package the course installs, once, so that each environment gets the same.

``make lock`` runs this. Two locks, each from the file people edit by hand:

- ``requirements.txt`` (the developers' top-level pins) -> ``requirements-lock.txt``: what
  ``make setup``, GitHub Actions and ``environment.yml`` install, every package pinned.
- ``binder/requirements.in`` (the launch image's top level) -> ``binder/requirements.txt``:
  what repo2docker installs. It is resolved under ``requirements-lock.txt`` as a constraint,
  so a package both have is at the same version in both.

The resolver is uv (``uv pip compile``): it takes seconds, and an existing lock is kept as
its starting point, so adding one package to ``requirements.txt`` adds that package and what
it needs, and leaves every other pin as it was. ``--upgrade`` takes the newest release of
everything not pinned by hand (the weekly drift workflow uses it).

Resolved for Linux x86_64 and any Python 3.11 (``--python-version 3.11``: a package whose
newest release wants 3.11.5 or later is held back). torch is resolved from its CPU build
(``2.13.0+cpu``), whose metadata names no CUDA libraries: uv looks in the folders of
``PIP_FIND_LINKS`` (or pip's own find-links setting) and the indexes of
``PIP_EXTRA_INDEX_URL`` (GitHub Actions sets ``https://download.pytorch.org/whl/cpu``).
Without either, torch would come from PyPI's CUDA build, and the lock is refused in one line.

Usage: python scripts/lock.py [--upgrade]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The index holding torch's CPU builds; repo2docker reads it from binder/requirements.txt.
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: (top-level file, lock it produces, constraint files)
LOCKS = [
    ("requirements.txt", "requirements-lock.txt", []),
    ("binder/requirements.in", "binder/requirements.txt", ["requirements-lock.txt"]),
]
TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"]
#: Lines written above the Binder lock's packages: repo2docker runs ``pip install -r`` on it.
BINDER_PREAMBLE = (
    "# torch's CPU build (2.13.0+cpu) comes from PyTorch's own index; PyPI's Linux wheel is\n"
    "# the CUDA build, gigabytes that an image without a GPU never uses.\n"
    f"--extra-index-url {CPU_INDEX}\n"
)


class LockError(Exception):
    """What stops the lock, in one line."""


def pip_find_links(environ: dict[str, str]) -> str:
    """The folders pip takes wheels from: ``PIP_FIND_LINKS``, else pip's own setting."""
    if "PIP_FIND_LINKS" in environ:
        return environ["PIP_FIND_LINKS"]
    setting = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                             capture_output=True, text=True, env=environ)
    return setting.stdout.strip() if setting.returncode == 0 else ""


def package_sources(environ: dict[str, str]) -> list[str]:
    """uv options for the places pip looks besides PyPI: the folders of ``PIP_FIND_LINKS``
    (or pip's find-links setting) and the indexes of ``PIP_EXTRA_INDEX_URL``."""
    options = []
    for folder in pip_find_links(environ).split():
        options += ["--find-links", folder]
    for index in environ.get("PIP_EXTRA_INDEX_URL", "").split():
        options += ["--extra-index-url", index]
    if environ.get("PIP_INDEX_URL"):
        options += ["--index-url", environ["PIP_INDEX_URL"]]
    # With several sources, take each package's best version from any of them (uv's default
    # takes a package only from the first source that has it; PyTorch's index also carries
    # older copies of numpy, jinja2 and others).
    return options + (["--index-strategy", "unsafe-best-match"] if options else [])


def packages(text: str) -> dict[str, str]:
    """``name -> version`` of a lock's pins."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def compile_lock(source: str, output: str, constraints: list[Path], upgrade: bool,
                 environ: dict[str, str]) -> str:
    """The lock of ``source`` as text; the existing ``output`` is uv's starting point."""
    with tempfile.TemporaryDirectory() as folder:
        draft = Path(folder) / "lock.txt"
        existing = ROOT / output
        if existing.is_file():  # without its index line: uv would query that index too
            draft.write_text("".join(line for line in existing.read_text().splitlines(True)
                                     if not line.startswith("--")))
        command = [sys.executable, "-m", "uv", "pip", "compile", "--quiet", source,
                   "--output-file", str(draft), "--custom-compile-command", "make lock",
                   *TARGET, *package_sources(environ)]
        for constraint in constraints:
            command += ["--constraint", str(constraint)]
        if upgrade:
            command.append("--upgrade")
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                env={**environ, "UV_NO_CONFIG": "1"})
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise LockError(f"{source}: uv could not resolve it (its message is above)")
        text = draft.read_text()
    torch = packages(text).get("torch")
    if torch is not None and not torch.endswith("+cpu"):
        raise LockError(f"{source}: torch resolved to {torch}, PyPI's CUDA build: set "
                        f"PIP_EXTRA_INDEX_URL={CPU_INDEX} (or PIP_FIND_LINKS to a folder "
                        "holding the +cpu wheel) and run make lock again")
    return text


def with_preamble(text: str, preamble: str) -> str:
    """``preamble`` after uv's header comment, before the first package."""
    lines = text.splitlines(True)
    header = 0
    while header < len(lines) and lines[header].startswith("#"):
        header += 1
    return "".join(lines[:header]) + preamble + "".join(lines[header:])


def write(path: Path, text: str) -> None:
    """Replace ``path`` whole: a reader sees the old lock or the new one, never half."""
    draft = path.with_name(f".{path.name}.new")
    draft.write_text(text)
    os.replace(draft, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--upgrade", action="store_true",
                        help="the newest release of every package not pinned by hand")
    options = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as folder:
            locks: dict[str, str] = {}
            resolved: dict[str, Path] = {}  # the new locks, as constraints for the next ones
            for source, output, constraints in LOCKS:
                text = compile_lock(source, output,
                                    [resolved.get(name, ROOT / name) for name in constraints],
                                    options.upgrade, dict(os.environ))
                for name, path in resolved.items():  # uv names the constraint's file
                    text = text.replace(str(path), name)
                resolved[output] = Path(folder) / f"{len(resolved)}.txt"
                resolved[output].write_text(text)
                locks[output] = with_preamble(text, BINDER_PREAMBLE) \
                    if output.startswith("binder/") else text
    except LockError as error:
        print(f"lock: error: {error}", file=sys.stderr)
        return 2
    for output, text in locks.items():  # all resolved: only now is anything replaced
        write(ROOT / output, text)
        print(f"{output}: {len(packages(text))} packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
