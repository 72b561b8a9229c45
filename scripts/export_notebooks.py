"""Export the chapters as plain Jupyter notebooks, with labkit beside them, for Databricks.

    python scripts/export_notebooks.py [--out _build/notebooks] [--editions en ja]

Databricks opens ``.ipynb`` files of a Git folder as notebooks, but a MyST ``.md`` only as a
file. This writes, for each edition that exists under ``book/``::

    OUT/README.md
    OUT/en/01-introduction.ipynb ...   the chapters, unexecuted, same code cells as the book
    OUT/en/labkit/                     a copy of labkit, so ``import labkit`` works there
    OUT/ja/...                         the same for the Japanese edition

The CI workflow pushes OUT to the generated ``notebooks`` branch; nothing here is committed
to the default branch. The code cells are the chapters' own, byte for byte. In the prose,
a ``{literalinclude}`` of labkit becomes a Python code block holding the included code,
since a notebook cannot include a file.

A chapter that cannot be exported stops the export with one line naming the file and line,
exit status 2; OUT is then left as it was (the new export is built beside it and moved into
place only when complete).
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ("en", "ja")
#: A chapter is a MyST notebook whose name starts with its number: ``02-data-with-spark.md``.
CHAPTER = re.compile(r"\d\d-[\w-]+\.md")
LITERALINCLUDE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{literalinclude\}[ \t]+(?P<path>\S+)[ \t]*\n"
    r"(?P<options>(?::[\w-]+:.*\n)*)(?P=fence)[ \t]*$", re.MULTILINE)

README = """\
# The course's notebooks

Generated from the book's chapters by `scripts/export_notebooks.py` on every push to the
default branch; do not edit here. Each edition's folder holds the chapters as Jupyter
notebooks and a copy of `labkit`, so that `import labkit` works without installing it.

On Databricks: add this repository as a Git folder, check out the `notebooks` branch, attach
a notebook to a cluster running Databricks Runtime ML and run it top to bottom. The book's
page "Running the course on Databricks" gives the cluster settings.
"""


class ExportError(Exception):
    """A chapter that cannot be exported; the message names the file and line."""


def shown(path: Path) -> str:
    """A path as messages show it: relative to the repository where it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def included_code(source: Path, pyobject: str | None) -> str:
    """The text a ``{literalinclude}`` shows: the whole file, or one function or class
    (``:pyobject: name`` or ``Class.method``), as Sphinx's ``pyobject`` option does."""
    text = source.read_text(encoding="utf-8")
    if not pyobject:
        return text
    lines = text.splitlines()
    body: list[ast.stmt] = ast.parse(text).body
    node: ast.AST | None = None
    for name in pyobject.split("."):
        node = next((n for n in body if isinstance(
            n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == name), None)
        if node is None:
            raise KeyError(pyobject)
        body = node.body
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return "\n".join(lines[start - 1:node.end_lineno]) + "\n"


def inline_includes(markdown: str, chapter: Path, first_line: int) -> str:
    """Replace each ``{literalinclude}`` in a markdown cell by a code block of what it shows."""

    def replace(match: re.Match[str]) -> str:
        line = first_line + markdown.count("\n", 0, match.start())
        options = dict(re.findall(r"^:([\w-]+):[ \t]*(.*?)[ \t]*$", match["options"], re.M))
        source = (chapter.parent / match["path"]).resolve()
        where = f"{shown(chapter)}:{line}"
        if not source.is_file():
            raise ExportError(f"{where}: literalinclude of {match['path']}: no such file")
        try:
            code = included_code(source, options.get("pyobject"))
        except KeyError:
            raise ExportError(f"{where}: literalinclude of {match['path']}: no "
                              f"{options['pyobject']!r} in it") from None
        return f"```python\n# {shown(source)}\n{code}```"

    return LITERALINCLUDE.sub(replace, markdown)


def export_chapter(chapter: Path) -> nbformat.NotebookNode:
    """The chapter as a notebook: its cells as jupytext reads them (code cells unchanged),
    the jupytext header dropped, literalincludes inlined."""
    text = chapter.read_text(encoding="utf-8")
    try:
        notebook = jupytext.reads(text, fmt="md:myst")
    except Exception as error:  # jupytext raises several kinds; all mean "cannot read"
        raise ExportError(f"{shown(chapter)}:1: not a MyST notebook ({error})") from None
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        raise ExportError(f"{shown(chapter)}:1: no code cells")
    notebook.metadata.pop("jupytext", None)
    notebook.metadata.setdefault("language_info", {"name": "python"})
    position = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found = text.find(cell.source, position)
            first_line = text.count("\n", 0, found) + 1 if found >= 0 else 1
            position = max(position, found)
            cell.source = inline_includes(cell.source, chapter, first_line)
    nbformat.validate(notebook)
    return notebook


def chapters(edition: Path) -> list[Path]:
    """An edition's chapters, in order."""
    return sorted(p for p in edition.glob("*.md") if CHAPTER.fullmatch(p.name))


def copy_labkit(destination: Path) -> None:
    shutil.copytree(ROOT / "labkit", destination / "labkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def export(out: Path, editions: list[str], book: Path = ROOT / "book") -> list[Path]:
    """Write the export of ``book``'s editions to ``out`` (replacing it whole); return the
    notebooks written."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    written = []
    try:
        for edition in editions:
            source = book / edition
            if not source.is_dir():
                continue
            target = staging / edition
            target.mkdir()
            for chapter in chapters(source):
                notebook = export_chapter(chapter)
                path = target / chapter.with_suffix(".ipynb").name
                nbformat.write(notebook, path)
                written.append(out / edition / path.name)
            copy_labkit(target)
        (staging / "README.md").write_text(README, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="export_notebooks", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "notebooks",
                        help="folder to write (replaced whole; default: _build/notebooks)")
    parser.add_argument("--editions", nargs="+", default=list(EDITIONS), choices=EDITIONS)
    parser.add_argument("--book", type=Path, default=ROOT / "book",
                        help="folder holding the editions (default: book)")
    args = parser.parse_args(argv)
    try:
        written = export(args.out, args.editions, args.book.resolve())
    except ExportError as error:
        print(f"export_notebooks: error: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} notebooks written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
