"""What can be checked of Databricks without a workspace.

- The exported notebooks (scripts/export_notebooks.py, pushed to the ``notebooks`` branch)
  are valid nbformat, keep every code cell of the chapters byte for byte, and carry labkit.
- An exported chapter runs in a fresh kernel set up as a Databricks notebook is: the
  runtime's variable set, a Spark session created before labkit is imported, no myst-nb.
  labkit uses that session and leaves it running.
- Where the runtime has no Horovod (Runtime ML 16.0 and later), HorovodRunner says so in one
  line instead of failing deep inside an import.

Not tried here, for want of a workspace: a Git folder's checkout, a real cluster's session,
executors on other machines, ``sparkdl.HorovodRunner``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from wheel_cache import build_once

ROOT = Path(__file__).resolve().parent.parent
EXPORT = [sys.executable, str(ROOT / "scripts" / "export_notebooks.py")]
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
#: The chapter run as a Databricks notebook: it starts (here: finds) Spark, reads the data
#: and stops (here: must not stop) the session.
CHAPTER = "02-data-with-spark"


def chapters(edition: str) -> list[Path]:
    return sorted(p for p in (ROOT / "book" / edition).glob("*.md")
                  if re.fullmatch(r"\d\d-[\w-]+\.md", p.name))


def code_cells(chapter: Path) -> list[tuple[str, list[str]]]:
    """(source, tags) of each code cell, read from the MyST text with a regex: independent
    of jupytext, which the export uses."""
    cells = []
    for body in CODE_CELL.findall(chapter.read_text(encoding="utf-8")):
        lines = body.split("\n")
        tags: list[str] = []
        while lines and lines[0].startswith(":"):
            option = re.fullmatch(r":tags:\s*\[(.*)\]\s*", lines.pop(0))
            if option:
                tags = [t.strip().strip("'\"") for t in option.group(1).split(",")]
        if lines and lines[0] == "" and body.startswith(":"):
            lines.pop(0)  # the blank line after the options
        cells.append(("\n".join(lines).rstrip("\n"), tags))
    return cells


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "notebooks"
    result = subprocess.run(EXPORT + ["--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def editions() -> list[str]:
    return [e for e in ("en", "ja") if chapters(e)]


@pytest.mark.parametrize("edition", editions())
def test_exported_notebooks_are_valid_and_keep_the_chapters_code_cells(exported, edition):
    for chapter in chapters(edition):
        path = exported / edition / f"{chapter.stem}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        cells = [(cell.source, cell.metadata.get("tags", []))
                 for cell in notebook.cells if cell.cell_type == "code"]
        assert cells == code_cells(chapter), chapter.name
        prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        assert "{literalinclude}" not in prose, chapter.name


def test_labkit_travels_beside_each_edition(exported):
    sources = sorted(p.relative_to(ROOT) for p in (ROOT / "labkit").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    for edition in editions():
        copied = sorted(p.relative_to(exported / edition) for p in
                        (exported / edition / "labkit").rglob("*") if p.is_file())
        assert copied == sources
        assert all((exported / edition / p).read_bytes() == (ROOT / p).read_bytes()
                   for p in sources)
    assert (exported / "README.md").is_file()


def test_a_literalinclude_becomes_the_code_it_shows(exported):
    notebook = nbformat.read(exported / "en" / f"{CHAPTER}.ipynb", as_version=4)
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "```python\n# labkit/data.py\ndef load_penguins(" in prose


def test_a_broken_chapter_stops_the_export_in_one_line(tmp_path):
    book = tmp_path / "book"
    (book / "en").mkdir(parents=True)
    chapter = (ROOT / "book" / "en" / f"{CHAPTER}.md").read_text(encoding="utf-8")
    broken = chapter.replace("../../labkit/data.py", "../../labkit/no_such_module.py", 1)
    (book / "en" / f"{CHAPTER}.md").write_text(broken, encoding="utf-8")
    line = broken[:broken.index("no_such_module")].count("\n") + 1
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("an earlier export")
    result = subprocess.run(EXPORT + ["--out", str(out), "--book", str(book)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert re.fullmatch(rf"export_notebooks: error: \S*{CHAPTER}\.md:{line}: "
                        r"literalinclude of \.\./\.\./labkit/no_such_module\.py: no such "
                        r"file\n", result.stderr), result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["kept.txt"]  # nothing half-written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")] == []


def test_exported_chapters_do_not_need_myst_nb(exported):
    """Databricks does not ship myst-nb: a chapter glues through labkit.notebook.glue
    (book/CONVENTIONS.md), which does nothing there."""
    offenders = []
    for edition in editions():
        for chapter in chapters(edition):
            for number, line in enumerate(chapter.read_text(encoding="utf-8").splitlines(), 1):
                if re.match(r"\s*(from myst_nb import|import myst_nb)", line):
                    offenders.append(f"{chapter.relative_to(ROOT)}:{number}")
    assert not offenders, ("these chapters import myst_nb, which Databricks lacks; use "
                           "`from labkit.notebook import glue`: " + ", ".join(offenders))


#: Run first in the kernel, as Databricks prepares a notebook before its first cell.
DATABRICKS_PREAMBLE = """\
import sys
sys.modules["myst_nb"] = None  # Databricks Runtime ML ships no myst-nb
assert not any(name == "labkit" or name.startswith("labkit.") for name in sys.modules)
from pyspark.sql import SparkSession
cluster_spark = (SparkSession.builder.master("local[2]").appName("databricks-cluster")
                 .config("spark.ui.enabled", "false").getOrCreate())
"""
#: Run last: labkit used the notebook's session and left it running.
DATABRICKS_CHECK = """\
import labkit
from labkit.spark import get_spark
assert spark is cluster_spark, spark
assert get_spark("another", master="local[1]") is cluster_spark
assert cluster_spark.sparkContext._jsc is not None, "the notebook's session was stopped"
print(cluster_spark.range(7).count(), cluster_spark.sparkContext.appName, labkit.__file__)
"""


@pytest.mark.slow
def test_an_exported_chapter_runs_as_a_databricks_notebook(exported):
    from nbclient import NotebookClient

    folder = exported / "en"
    notebook = nbformat.read(folder / f"{CHAPTER}.ipynb", as_version=4)
    notebook.cells = ([nbformat.v4.new_code_cell(DATABRICKS_PREAMBLE)] + notebook.cells
                      + [nbformat.v4.new_code_cell(DATABRICKS_CHECK)])
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env={**os.environ, "DATABRICKS_RUNTIME_VERSION": "15.4"})
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    count, app, labkit_file = printed.split()
    assert (count, app) == ("7", "databricks-cluster")
    assert Path(labkit_file) == folder / "labkit" / "__init__.py"  # the copy beside it


def test_databricks_session_is_used_and_never_stopped(spark, monkeypatch):
    from labkit.spark import get_spark, stop_spark

    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    assert get_spark("ignored", master="local[1]") is spark
    stop_spark()
    assert spark.range(3).count() == 3


def test_horovod_runner_says_in_one_line_that_horovod_is_missing():
    """As on Databricks Runtime ML 16.0 and later (and Colab), where neither Horovod nor
    sparkdl is: HorovodMissing, which chapter 11 catches to go on without the Horovod run."""
    script = (
        "import sys\n"
        "sys.modules.update({'horovod': None, 'horovod.torch': None, 'sparkdl': None})\n"
        "from labkit.distributed import HorovodMissing, HorovodRunner\n"
        "from labkit.launch import DistributedError\n"
        "assert issubclass(HorovodMissing, DistributedError)\n"
        "for np in (2, -2):\n"
        "    try:\n"
        "        HorovodRunner(np=np).run(print)\n"
        "    except HorovodMissing as error:\n"
        "        print(error)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()  # one line each, np=2 (no Spark session) too
    assert first == second
    assert first.startswith("Horovod is not installed here")
    assert "need Binder, Databricks Runtime ML 15.4 LTS or a local set-up" in first
    assert "engine='torch'" in first


#: The oldest PySpark labkit supports: Databricks Runtime 15.4 LTS ML's (README).
OLDEST_PYSPARK = "3.5.0"
#: labkit's Spark tests, and TorchDistributor's two-rank run, which the oldest PySpark runs
#: too (about a minute: the whole suite would take twenty).
SPARK_TESTS = ["tests/test_data.py", "tests/test_prep.py", "tests/test_pipeline.py",
               "tests/test_distributed.py::"
               "test_np2_over_spark_trains_like_one_process_on_the_joined_batches[torch]"]


@pytest.fixture(scope="module")
def oldest_pyspark() -> Path:
    """PySpark OLDEST_PYSPARK installed once (``pip --target``) into the developers' cache,
    beside the Horovod wheel; put first on PYTHONPATH it replaces the pinned PySpark."""
    def install(folder: Path) -> None:
        result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                                 "--target", str(folder), f"pyspark=={OLDEST_PYSPARK}"],
                                capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, result.stderr[-2000:]

    target = build_once(f"pyspark-{OLDEST_PYSPARK}", install)
    assert (target / "pyspark").is_dir()
    return target


@pytest.mark.slow
def test_labkit_spark_tests_pass_with_the_oldest_pyspark(oldest_pyspark):
    env = {**os.environ, "PYTHONPATH": str(oldest_pyspark)}
    version = subprocess.run([sys.executable, "-c", "import pyspark; print(pyspark.__version__)"],
                             env=env, capture_output=True, text=True).stdout.strip()
    assert version == OLDEST_PYSPARK
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *SPARK_TESTS], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:]


def test_workflow_pushes_the_notebooks_branch_from_the_default_branch_only():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    job = workflow["jobs"]["notebooks"]
    assert "github.event_name == 'push'" in job["if"] and "default_branch" in job["if"]
    assert job["needs"] == "build" and job["permissions"] == {"contents": "write"}
    assert workflow["permissions"] == {"contents": "read"}  # only this job may push
    steps = "\n".join(step.get("run", "") for step in job["steps"])
    assert "scripts/export_notebooks.py" in steps and "--force" in steps
    assert "notebooks" in steps.splitlines()[-1]
    for name in ("book.yml", "linkcheck.yml"):
        text = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
        assert text["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
