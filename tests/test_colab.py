"""What can be checked of Colab without Colab.

- Every chapter of both editions gets an "Open in Colab" button (site/colab_button.py) whose
  address is the chapter's notebook in ``colab/<language>/`` on the ``notebooks`` branch,
  and the export (scripts/export_notebooks.py) writes exactly those notebooks.
- A Colab notebook is the chapter's own notebook after two cells: a note in the edition's
  language and the set-up cell (scripts/colab_setup.py), which the Databricks notebooks lack.
- In a fresh Python 3.12 environment as Colab has it (PyTorch and a kernel, nothing else:
  no Java on PATH, no JAVA_HOME, no Horovod, no labkit), the set-up cell installs Java (with
  apt-get, as root), labkit from a git commit and labkit's other packages at the course's
  pins; chapters 2 and 11 then run top to bottom, chapter 11 saying in one line that its
  Horovod run needs Binder, Databricks or a local set-up and training with TorchDistributor.

Not tried here: Colab itself, GitHub's copy of the notebooks branch, labkit fetched over
https from GitHub (the test's commit is in a local git repository), packages fetched from
PyPI by the set-up cell (it installs the same pins from a wheelhouse that the test fills
once, because pip's own cache keeps nothing on this machine).
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
import yaml
from wheel_cache import build_once

ROOT = Path(__file__).resolve().parent.parent
EXPORT = [sys.executable, str(ROOT / "scripts" / "export_notebooks.py")]
OWNER, NAME = "penguin-course", "penguins"
#: What the workflow passes (with the real repository and commit).
LABKIT = f"git+https://github.com/{OWNER}/{NAME}@0123456789abcdef0123456789abcdef01234567"


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


export_notebooks = load("export_notebooks", ROOT / "scripts" / "export_notebooks.py")
colab_button = load("colab_button", ROOT / "site" / "colab_button.py")


def editions() -> list[str]:
    return [e for e in ("en", "ja") if export_notebooks.chapters(ROOT / "book" / e)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "notebooks"
    result = subprocess.run(EXPORT + ["--out", str(out), "--colab-labkit", LABKIT],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


# --- the button -------------------------------------------------------------------------------

@pytest.mark.parametrize("edition", editions())
def test_every_chapter_opens_its_colab_notebook_on_the_notebooks_branch(exported, edition):
    pages = sorted(p.stem for p in (ROOT / "book" / edition).glob("*.md"))
    urls = {page: colab_button.colab_url(OWNER, NAME, edition, page) for page in pages}
    chapters = [p.stem for p in export_notebooks.chapters(ROOT / "book" / edition)]
    assert len(chapters) == 11
    for page, url in urls.items():
        if page in chapters:
            assert url == ("https://colab.research.google.com/github/penguin-course/penguins/"
                           f"blob/notebooks/colab/{edition}/{page}.ipynb")
            # the file the button opens is one the export wrote
            assert (exported / url.split("/blob/notebooks/", 1)[1]).is_file(), url
        else:  # the glossary, the notation, the Databricks page: no notebook, no button
            assert url is None, page
    written = sorted(p.stem for p in (exported / "colab" / edition).glob("*.ipynb"))
    assert written == chapters


def small_book(root: Path, language: str) -> Path:
    """A two-page book with the edition's real configuration (as the build writes it):
    a page that is not a chapter, and chapter 11 with one code cell."""
    test_book = load("test_book_for_colab", ROOT / "tests" / "test_book.py")
    build_book = test_book.build_book
    edition = next(e for e in build_book.EDITIONS if e.language == language)
    config = build_book.edition_config(edition, [edition])
    config["execute"]["cache"] = str(root / "_build" / ".jupyter_cache")
    root.mkdir(parents=True)
    (root / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    (root / "intro.md").write_text("# Intro\n\nA small book.\n")
    (root / "11-distributed.md").write_text(
        test_book.NOTEBOOK_HEADER + "# Nine\n\n```{code-cell} ipython3\nx = 6 * 7\n```\n")
    toc = {"format": "jb-book", "root": "intro", "chapters": [{"file": "11-distributed"}]}
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("language", editions())
def test_a_built_chapter_has_the_colab_button(tmp_path, monkeypatch, language):
    """In GitHub Actions (the repository known), a chapter's launch menu holds Binder and
    Colab; a page that is not a chapter has no Colab button."""
    monkeypatch.setenv("GITHUB_REPOSITORY", f"{OWNER}/{NAME}")
    monkeypatch.setenv("GITHUB_REF_NAME", "a-branch")
    monkeypatch.delenv("GITHUB_HEAD_REF", raising=False)
    root = small_book(tmp_path / "book", language)
    result = subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build",
                             str(root), "-W", "-n"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    page = (root / "_build" / "html" / "11-distributed.html").read_text(encoding="utf-8")
    url = ("https://colab.research.google.com/github/penguin-course/penguins/blob/notebooks/"
           f"colab/{language}/11-distributed.ipynb")
    assert page.count(f'href="{url}"') == 1
    label = {"en": "Launch interactive content", "ja": "ノートブックを実行環境で開く"}[language]
    menu = page[page.index(f'aria-label="{label}"'):]
    menu = menu[:menu.index("</ul>")]
    assert "mybinder.org" in menu and url in menu  # one menu: Binder, then Colab
    assert "logo_colab.png" in menu
    # the icon's alt text is one string per language (site/_templates/course-buttons.html):
    # the theme's "Colab" + " " + "ロゴ" read 「Colab ロゴ」 (review-ja10)
    alt = {"en": "Colab logo", "ja": "Colabのロゴ"}[language]
    assert f'alt="{alt}"' in menu
    intro = (root / "_build" / "html" / "intro.html").read_text(encoding="utf-8")
    assert "colab.research.google.com" not in intro


def colab_buttons(repository_url: str, context: dict) -> list:
    """The Colab buttons a chapter page gets when the build's repository is ``repository_url``."""
    class App:
        class config:
            language = "en"
            html_theme_options = {"repository_url": repository_url}

    context["header_buttons"] = []
    colab_button.add_colab_button(App, "11-distributed", "page.html", context, None)
    return [button for group in context["header_buttons"] for button in group["buttons"]]


def test_no_colab_button_without_a_github_repository():
    # Jupyter Book puts its own repository in the page context when the build knows none
    # (what CI and a local `make book` build): that is no reason for a button.
    jupyter_book_default = {"github_url": "https://github.com", "github_user": "executablebooks",
                            "github_repo": "jupyter-book"}
    for url in ("", "https://github.example.org/o/r", "https://github.com/o",
                "https://github.com/o/r/tree/main"):
        assert colab_buttons(url, dict(jupyter_book_default)) == [], url
    [button] = colab_buttons(f"https://github.com/{OWNER}/{NAME}.git", dict(jupyter_book_default))
    assert f"/github/{OWNER}/{NAME}/blob/notebooks/colab/en/11-distributed.ipynb" in button["url"]


# --- the export -------------------------------------------------------------------------------

@pytest.mark.parametrize("edition", editions())
def test_a_colab_notebook_is_the_chapter_after_a_note_and_the_setup_cell(exported, edition):
    setup = export_notebooks.colab_setup_cell(LABKIT)
    for chapter in export_notebooks.chapters(ROOT / "book" / edition):
        name = f"{chapter.stem}.ipynb"
        colab = nbformat.read(exported / "colab" / edition / name, as_version=4)
        databricks = nbformat.read(exported / edition / name, as_version=4)
        nbformat.validate(colab)
        note, cell, *rest = colab.cells
        assert (note.cell_type, note.source) == ("markdown", export_notebooks.COLAB_NOTE[edition])
        assert (cell.cell_type, cell.source) == ("code", setup)
        assert [(c.cell_type, c.source, c.metadata.get("tags")) for c in rest] == \
               [(c.cell_type, c.source, c.metadata.get("tags")) for c in databricks.cells]
        assert not any(c.source.startswith("# @title Set up this notebook on Colab")
                       for c in databricks.cells), "a Databricks notebook has Colab's set-up"
    # the note is in the edition's language
    assert ("ランタイム" in export_notebooks.COLAB_NOTE[edition]) == (edition == "ja")


def test_the_setup_cell_installs_labkit_from_the_commit_and_the_course_pins():
    setup = export_notebooks.colab_setup_cell(LABKIT)
    compile(setup, "setup cell", "exec")
    assert f"LABKIT = {LABKIT!r}\n" in setup
    namespace: dict = {}
    packages_block = re.search(r"^PACKAGES: .*?^\}$", setup, re.MULTILINE | re.DOTALL)[0]
    exec(packages_block, namespace)
    packages = namespace["PACKAGES"]
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text()
            .splitlines()]
    assert set(packages) == {"torch", "pyspark", "pandas", "pyarrow", "numpy", "scikit-learn",
                             "matplotlib", "tqdm"}
    for _, pin in packages.values():
        assert pin in pins, pin  # the course's own pin, as requirements.txt writes it
    # pyproject.toml's ranges; torch's upper bound is Horovod's, which Colab does not build
    assert packages["torch"][0] == ">=2.3"
    assert packages["pyspark"] == (">=3.5,<5", "pyspark[sql]==4.3.0")
    assert "Horovod is not built on Colab" in setup


def test_without_a_labkit_requirement_no_colab_notebooks_are_written(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(EXPORT + ["--out", str(out), "--editions", "en"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "en"]


def test_a_bad_labkit_requirement_is_refused_in_one_line(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(EXPORT + ["--out", str(out), "--colab-labkit", "labkit'; rm -rf /"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("export_notebooks: error: --colab-labkit")
    assert not out.exists()


def test_workflow_gives_the_colab_notebooks_the_commit_they_were_made_from():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = "\n".join(step.get("run", "") for step in workflow["jobs"]["notebooks"]["steps"])
    assert ('--colab-labkit "git+${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}@${GITHUB_SHA}"'
            in steps)


# --- a Colab-like session ---------------------------------------------------------------------

def python312() -> str | None:
    """Colab's Python: LABKIT_PYTHON312, python3.12 on PATH, or pyenv's; the first that
    runs and is 3.12 (pyenv's shim on PATH may not be)."""
    pyenv = sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.12*" / "bin" /
                                 "python3.12")), reverse=True)
    for candidate in [os.environ.get("LABKIT_PYTHON312"), shutil.which("python3.12"), *pyenv]:
        if candidate and subprocess.run(
                [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                capture_output=True).returncode == 0:
            return candidate
    return None


def pins() -> dict[str, str]:
    return {re.split(r"[=\[]", line)[0].lower(): line for line in
            (ROOT / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")}


def run(command: list[str], **options) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **options)
    assert result.returncode == 0, " ".join(command) + "\n" + result.stderr[-3000:]
    return result


CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.fixture(scope="module")
def colab_image() -> dict[str, Path]:
    """What a Colab session starts with, built once per machine into the developers' cache:
    ``base``, Python 3.12's packages Colab has (PyTorch, ipykernel); ``wheelhouse``, wheels
    of the pins the set-up cell installs (and setuptools, to build labkit), so that runs after
    the first download nothing."""
    python = python312()
    if python is None:
        pytest.skip("no Python 3.12 (Colab's) here: set LABKIT_PYTHON312")
    found = pins()
    wanted = [found[n] for n in export_notebooks.colab_packages() if n != "torch"]
    wanted += [found["setuptools"], found["wheel"]]
    torch = found["torch"]
    key = hashlib.sha256("\n".join([python, torch, found["ipykernel"], *wanted]).encode())

    def build(staging: Path) -> None:
        started = time.perf_counter()
        extra, cpu_torch = [], torch
        if reachable(CPU_INDEX):  # the CPU build, as in CI; else PyPI's (CUDA)
            extra, cpu_torch = ["--extra-index-url", CPU_INDEX], torch + "+cpu"
        run([python, "-m", "pip", "install", "-q", "--target", str(staging / "base"), *extra,
             cpu_torch, found["ipykernel"]], timeout=3600)
        based = time.perf_counter()
        run([python, "-m", "pip", "wheel", "-q", "-w", str(staging / "wheelhouse"), *wanted],
            timeout=3600)
        print(f"colab image: torch and ipykernel {based - started:.0f} s, wheelhouse "
              f"{time.perf_counter() - based:.0f} s")

    image = build_once(f"colab-cp312-{key.hexdigest()[:12]}", build)
    return {"python": Path(python), "base": image / "base", "wheelhouse": image / "wheelhouse"}


def reachable(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except OSError:
        return False


def path_without_java(folder: Path) -> str:
    """A folder of links to every program on PATH except Java's (and the developers' venv)."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory) or Path(directory).resolve() == Path(sys.prefix) / "bin":
            continue
        for entry in os.scandir(directory):
            real = os.path.realpath(entry.path)
            if (entry.name.startswith("java") or "/jvm/" in real or "/.venv/" in real
                    or (folder / entry.name).exists()):
                continue
            if os.path.isfile(real) and os.access(real, os.X_OK):
                (folder / entry.name).symlink_to(real)
    assert shutil.which("java", path=str(folder)) is None
    return str(folder)


def labkit_commit(folder: Path) -> str:
    """labkit as the working tree has it, committed to a git repository of its own: the
    set-up cell installs it with pip from ``git+file://...@COMMIT``, as from GitHub."""
    folder.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, folder / name)
    shutil.copytree(ROOT / "labkit", folder / "labkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    run(git + ["init", "-q"])
    run(git + ["add", "-A"])
    run(git + ["commit", "-q", "-m", "labkit"])
    commit = run(git + ["rev-parse", "HEAD"]).stdout.strip()
    return f"git+file://{folder}@{commit}"


#: Run last in each notebook: where labkit, Java and Horovod came from.
CHECK = """\
import importlib.util, json, os, sys
import labkit, torch
print(json.dumps({"labkit": labkit.__file__, "prefix": sys.prefix,
                  "java_home": os.environ.get("JAVA_HOME"), "torch": torch.__version__,
                  "horovod": importlib.util.find_spec("horovod") is not None,
                  "runs": list(runs.index) if "runs" in globals() else None}))
"""


@pytest.mark.slow
def test_chapters_2_and_9_run_in_a_colab_like_session(colab_image, tmp_path, monkeypatch):
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("the set-up cell installs Java with apt-get as root, as Colab runs")
    from nbclient import NotebookClient

    started = time.perf_counter()
    fresh = tmp_path / "colab"
    run([str(colab_image["python"]), "-m", "venv", str(fresh)])
    site = next((fresh / "lib").glob("python3.12/site-packages"))
    (site / "colab-image.pth").write_text(f"{colab_image['base']}\n")  # Colab's own packages
    out = tmp_path / "notebooks"
    run(EXPORT + ["--out", str(out), "--editions", "en",
                  "--colab-labkit", labkit_commit(tmp_path / "repo")])
    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(fresh / "bin" / "python"), "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"], "display_name": "Colab-like", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JAVA_HOME", "SPARK_HOME")
           and not key.startswith(("PYSPARK_", "LABKIT_", "PIP_"))}
    env.update(PATH=f"{fresh / 'bin'}{os.pathsep}{path_without_java(tmp_path / 'bin')}",
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(colab_image["wheelhouse"]))
    prepared = time.perf_counter()
    seconds, outputs = {}, {}
    for chapter in ("02-data-with-spark", "11-distributed"):
        folder = out / "colab" / "en"
        notebook = nbformat.read(folder / f"{chapter}.ipynb", as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(CHECK))
        client = NotebookClient(notebook, timeout=900, kernel_name="colab",
                                resources={"metadata": {"path": str(folder)}})
        begun = time.perf_counter()
        client.execute(env=env)  # raises on the first cell that fails
        seconds[chapter] = time.perf_counter() - begun
        outputs[chapter] = notebook
        nbformat.write(notebook, tmp_path / f"{chapter}.ipynb")  # for a closer look

    def took(cell) -> float:
        timing = cell.metadata.execution
        return (datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
                ).total_seconds()

    print(f"colab session: environment {prepared - started:.0f} s, " + ", ".join(
        f"{name} {value:.0f} s (set-up cell {took(outputs[name].cells[1]):.0f} s)"
        for name, value in seconds.items()))

    def printed(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    for notebook in outputs.values():
        setup = printed(notebook.cells[1])
        check = json.loads(printed(notebook.cells[-1]))
        assert Path(check["labkit"]).is_relative_to(site), check  # pip-installed, not ours
        assert check["java_home"].startswith("/usr/lib/jvm/java-17-"), check
        assert check["torch"].startswith(pins()["torch"].split("==")[1]), check
        assert check["horovod"] is False
        assert setup.splitlines()[-1] == ("Horovod is not built on Colab: chapter 11's Horovod "
                                          "runs need Binder, Databricks or a local set-up")
        assert "(openjdk-17-jre-headless, installed with apt-get)" in setup, setup
    first = printed(outputs["02-data-with-spark"].cells[1])
    assert "installed: pyspark[sql]==4.3.0, pandas==" in first, first  # Colab lacked them
    assert "Colab has the other packages labkit needs" in printed(
        outputs["11-distributed"].cells[1])  # installed by chapter 2's session
    chapter9 = outputs["11-distributed"]
    horovod = [printed(c) for c in chapter9.cells
               if c.cell_type == "code" and "HorovodRunner(np=2" in c.source]
    assert len(horovod) == 1 and horovod[0].count("\n") == 1, horovod
    assert horovod[0].startswith("Horovod is not installed here")
    assert "need Binder, Databricks Runtime ML 15.4 LTS or a local set-up" in horovod[0]
    assert json.loads(printed(chapter9.cells[-1]))["runs"] == ["single",
                                                               "torch_distributor_np2"]
