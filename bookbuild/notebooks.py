"""Export the chapters as plain Jupyter notebooks, for Databricks and for Colab.

    python scripts/export_notebooks.py [--out _build/notebooks] [--editions en ja]
                                       [--colab-labkit git+https://github.com/OWNER/NAME@SHA]

Databricks and Colab open ``.ipynb`` files as notebooks, but a MyST ``.md`` only as a file.
This writes, for each edition that exists under ``book/``::

    OUT/README.md
    OUT/en/01-introduction.ipynb ...   the chapters, unexecuted, same code cells as the book
    OUT/en/labkit/                     a copy of labkit, so ``import labkit`` works there
    OUT/ja/...                         the same for the Japanese edition
    OUT/colab/en/01-introduction.ipynb ...   with --colab-labkit: the chapters for Colab
    OUT/colab/ja/...

A Colab notebook is the chapter's notebook with two cells in front: a note in the edition's
language and the set-up cell (``scripts/colab_setup.py``), which installs Java and labkit
(the pip requirement ``--colab-labkit`` names) and what Colab lacks. Colab has a folder of
its own rather than a set-up cell guarded to do nothing elsewhere: Colab opens one file
from GitHub, so it needs labkit installed, not a copy beside the notebook, and a Databricks
notebook keeps exactly the chapter's cells, with nothing in it that is meant for another
service.

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
import copy
import re
import shutil
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ("en", "ja")
#: The set-up cell of the Colab notebooks, with LABKIT and PACKAGES filled in by the export.
COLAB_SETUP = ROOT / "scripts" / "colab_setup.py"
#: Colab keeps its own torch at any version from labkit's lower bound up: the upper bound in
#: pyproject.toml is Horovod's (it builds only with older torch), and Colab has no Horovod.
COLAB_ANY_NEWER = {"torch"}
#: The note above the set-up cell, in each edition's language.
COLAB_NOTE = {
    "en": "**On Colab**, run the next cell first (*Runtime > Run all* does): it installs "
          "Java for Spark, labkit from the course's repository and the packages Colab lacks, "
          "in about a minute. Horovod is not built on Colab: chapter 11's Horovod runs need "
          "Binder, Databricks or a local set-up.",
    "ja": "**Colabでは**、最初に次のセルを実行してください（「ランタイム」>「すべてのセルを実行」"
          "でも実行されます）。SparkのためのJava、講座のリポジトリからlabkit、Colabにない"
          "パッケージを、1分ほどでインストールします。ColabではHorovodをビルドしないため、"
          "第11章のHorovodの学習にはBinder、Databricks、またはローカルの環境が必要です。",
}
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

On Colab: the book's "Open in Colab" button opens a chapter of `colab/en/` or `colab/ja/`.
Their first code cell installs Java, labkit (from the commit these notebooks were made
from) and what Colab lacks; Horovod is not built there.
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


def colab_packages(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """``distribution: (versions labkit works with, the course's pin)`` for each of labkit's
    dependencies, from pyproject.toml's ranges and requirements.txt's pins."""
    import tomllib

    from packaging.requirements import Requirement

    pins = {}
    for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pins[Requirement(line).name.lower()] = line
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    packages = {}
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower()
        supported = [str(s) for s in requirement.specifier
                     if name not in COLAB_ANY_NEWER or s.operator.startswith(">")]
        supported.sort(key=lambda spec: not spec.startswith(">"))  # lower bound first
        packages[name] = (",".join(supported), pins[name])
    return packages


def colab_setup_cell(labkit: str, root: Path = ROOT) -> str:
    """The Colab set-up cell: scripts/colab_setup.py with labkit's requirement and the
    packages filled in."""
    text = COLAB_SETUP.read_text(encoding="utf-8")
    packages = "".join(f"    {name!r}: {value!r},\n"
                       for name, value in colab_packages(root).items())
    filled = {r"^LABKIT = .*$": f"LABKIT = {labkit!r}",
              r"^PACKAGES: .*$": f"PACKAGES: dict[str, tuple[str, str]] = {{\n{packages}}}"}
    for pattern, line in filled.items():
        text, count = re.subn(pattern, lambda _, line=line: line, text, flags=re.MULTILINE)
        assert count == 1, f"{COLAB_SETUP.name}: no single line matches {pattern}"
    return text.rstrip("\n")


def colab_notebook(notebook: nbformat.NotebookNode, edition: str,
                   setup: str) -> nbformat.NotebookNode:
    """The chapter's notebook for Colab: the note and the set-up cell, then its cells."""
    colab = copy.deepcopy(notebook)
    note = nbformat.v4.new_markdown_cell(COLAB_NOTE[edition])
    cell = nbformat.v4.new_code_cell(setup, metadata={"cellView": "form"})
    colab.cells = [note, cell] + colab.cells
    for position, each in enumerate(colab.cells):  # ids unique within the notebook
        each["id"] = f"colab-{position}" if position < 2 else each.get("id", f"c{position}")
    nbformat.validate(colab)
    return colab


def copy_labkit(destination: Path) -> None:
    shutil.copytree(ROOT / "labkit", destination / "labkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def export(out: Path, editions: list[str], book: Path = ROOT / "book",
           colab_labkit: str | None = None) -> list[Path]:
    """Write the export of ``book``'s editions to ``out`` (replacing it whole), with Colab's
    notebooks where ``colab_labkit`` (labkit's pip requirement there) is given; return the
    notebooks written."""
    out = out.resolve()
    setup = colab_setup_cell(colab_labkit) if colab_labkit else None
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
                if setup is not None:
                    colab = staging / "colab" / edition / path.name
                    colab.parent.mkdir(parents=True, exist_ok=True)
                    nbformat.write(colab_notebook(notebook, edition, setup), colab)
                    written.append(out / "colab" / edition / path.name)
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
    parser.add_argument("--colab-labkit", metavar="REQUIREMENT",
                        help="write the Colab notebooks too (OUT/colab/), whose set-up cell "
                             "pip-installs labkit from REQUIREMENT, e.g. "
                             "git+https://github.com/OWNER/NAME@COMMIT")
    args = parser.parse_args(argv)
    if args.colab_labkit is not None and not re.fullmatch(r"[^\s'\"\\]+", args.colab_labkit):
        parser.error(f"--colab-labkit: not a pip requirement without spaces or quotes: "
                     f"{args.colab_labkit!r}")
    try:
        written = export(args.out, args.editions, args.book.resolve(), args.colab_labkit)
    except ExportError as error:
        print(f"export_notebooks: error: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} notebooks written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
