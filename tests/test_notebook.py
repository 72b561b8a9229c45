"""labkit.notebook: the glue every chapter's numbers go through, and the chapter clock.

The glue is checked where it matters, in a real Jupyter kernel: there it must leave the
record myst-nb reads (a ``scrapbook`` name and the value under myst-nb's mime prefix), and on
Databricks or without myst-nb it must leave nothing and raise nothing.
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from labkit.notebook import (
    CODE_LINES_PER_MINUTE,
    WORDS_PER_MINUTE,
    reading_minutes,
)
from labkit.reading import (
    JAPANESE_CHARACTERS_PER_MINUTE,
    MINUTES_PER_EQUATION,
    equation_lines,
    included_lines,
)

HEADER = "---\njupytext:\n  formats: md:myst\nkernelspec:\n  name: python3\n---\n"


def chapter(words: int, code_lines: int = 0, tags: str = "") -> str:
    prose = " ".join(["word"] * words)
    code = "".join(f"x{i} = {i}\n" for i in range(code_lines))
    options = f":tags: [{tags}]\n" if tags else ""
    return f"{HEADER}# Title\n\n{prose}\n\n```{{code-cell}} ipython3\n{options}{code}```\n"


# --- reading time -----------------------------------------------------------------------------

def test_reading_minutes_counts_prose_and_code_and_rounds_up_to_five():
    # "Title" is a word too.
    assert reading_minutes(chapter(2 * WORDS_PER_MINUTE - 1)) == 5
    assert reading_minutes(chapter(5 * WORDS_PER_MINUTE - 1)) == 5
    assert reading_minutes(chapter(5 * WORDS_PER_MINUTE + 1)) == 10
    assert reading_minutes(chapter(0, 10 * CODE_LINES_PER_MINUTE - 1)) == 10
    assert reading_minutes(chapter(0, 10 * CODE_LINES_PER_MINUTE + 1)) == 15
    assert reading_minutes(chapter(6 * WORDS_PER_MINUTE, 6 * CODE_LINES_PER_MINUTE)) == 15


@pytest.mark.parametrize("tags", ["remove-cell", "hide-input", "hide-cell", "remove-input"])
def test_reading_minutes_skips_code_the_reader_does_not_see_unfolded(tags):
    lines = 30 * CODE_LINES_PER_MINUTE - 1   # "Title" adds a word: just under 30 minutes
    assert reading_minutes(chapter(0, lines, tags)) == 5
    assert reading_minutes(chapter(0, lines, "remove-stderr")) == 30


def test_reading_minutes_ignores_the_header_and_directive_options():
    plain = chapter(990)
    decorated = plain.replace(
        "# Title", "# Title\n\n:::{note}\n:class: dropdown solution\n:name: a-b-c-d-e\n:::")
    assert reading_minutes(plain) == reading_minutes(decorated) == 5
    padded_header = plain.replace("kernelspec:", "a: " + " ".join(["w"] * 500) + "\nkernelspec:")
    assert reading_minutes(padded_header) == 5


def test_reading_minutes_gives_each_display_equation_its_time():
    equations = int(10 / MINUTES_PER_EQUATION) + 1      # just over 10 minutes of them
    dollars = chapter(0) + "\n$$\na = b\n$$\n" * equations
    directives = chapter(0) + "\n```{math}\na = b\n```\n" * equations
    assert reading_minutes(dollars) == reading_minutes(directives) == 15
    assert reading_minutes(chapter(0) + "\n$$\na = b\n$$\n" * (equations - 2)) == 10
    # A derivation's rows are read one by one: an aligned block of n rows counts n times.
    rows = " \\\\\n".join(["a &= b"] * equations)
    aligned = chapter(0) + f"\n$$\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}\n$$\n"
    assert reading_minutes(aligned) == 15
    assert equation_lines(f"$$\n\\begin{{aligned}}\n{rows} \\\\\n\\end{{aligned}}\n$$") == equations
    assert equation_lines("$$\nx \\\\mathrm{d} y\n$$") == 1


def included_chapter(options: str) -> str:
    return chapter(0) + f"\n```{{literalinclude}} ../code.py\n{options}```\n"


def test_reading_minutes_counts_the_code_a_literalinclude_shows(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    big = "".join(f"    x{i} = {i}\n" for i in range(10 * CODE_LINES_PER_MINUTE))
    (tmp_path / "code.py").write_text(
        f"import os\n\n\ndef small():\n    return 1\n\n\n@staticmethod\ndef big():\n{big}"
        "\n\nclass Box:\n    def method(self):\n        return 2\n", encoding="utf-8")
    whole = included_chapter(":language: python\n")
    assert reading_minutes(whole) == 5                  # no folder: nothing to read
    assert reading_minutes(whole, folder) == 15         # the whole file, 10+ minutes
    assert reading_minutes(included_chapter(":pyobject: big\n"), folder) == 15
    assert reading_minutes(included_chapter(":pyobject: small\n"), folder) == 5
    assert included_lines(tmp_path / "code.py", ":pyobject: small\n") == [
        "def small():", "    return 1"]
    assert included_lines(tmp_path / "code.py", ":pyobject: big\n")[:2] == [
        "@staticmethod", "def big():"]
    assert included_lines(tmp_path / "code.py", ":pyobject: Box.method\n") == [
        "    def method(self):", "        return 2"]
    assert included_lines(tmp_path / "code.py", ":lines: 1,4-5\n") == [
        "import os", "def small():", "    return 1"]
    assert included_lines(tmp_path / "code.py", ":pyobject: nothing\n") == []
    assert included_lines(tmp_path / "missing.py", "") == []


def test_reading_minutes_counts_japanese_prose_by_characters():
    def japanese(characters: int) -> str:
        return f"{HEADER}# 題\n\n" + "あ" * characters + "\n"

    # "題" is a character too; spaces between words do not exist to count.
    assert reading_minutes(japanese(10 * JAPANESE_CHARACTERS_PER_MINUTE - 2),
                           japanese=True) == 10
    assert reading_minutes(japanese(10 * JAPANESE_CHARACTERS_PER_MINUTE), japanese=True) == 15
    # Counted as English, the same page is one "word" and takes the minimum.
    assert reading_minutes(japanese(10 * JAPANESE_CHARACTERS_PER_MINUTE)) == 5
    # Latin words inside Japanese prose (names, identifiers) are read as words.
    mixed = japanese(0) + " ".join(["PenguinNet"] * (6 * WORDS_PER_MINUTE)) + "\n"
    assert reading_minutes(mixed, japanese=True) == 10


# --- glue and the clock in a real kernel --------------------------------------------------------

GLUE_PREFIX = "application/papermill.record/"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """One kernel runs the cells below in a folder that holds ``chapter.md``."""
    book = tmp_path_factory.mktemp("book")
    folder, ja = book / "en", book / "ja"
    folder.mkdir()
    ja.mkdir()
    text = chapter(1500, 20)
    (folder / "chapter.md").write_text(text, encoding="utf-8")
    japanese = f"{HEADER}# 題\n\n" + "あ" * 5000 + "\n"
    (ja / "chapter.md").write_text(japanese, encoding="utf-8")
    cells = [
        "from labkit.notebook import ChapterClock, glue",
        "glue('answer', 42)",
        "glue('shown', 7, display=True)",
        "clock = ChapterClock('chapter.md')\nmissing = ChapterClock('no-such-chapter.md')",
        "clock.glue()",
        "missing.glue()",
        "import os\nos.environ['DATABRICKS_RUNTIME_VERSION'] = '15.4'\nglue('databricks', 1)",
        "del os.environ['DATABRICKS_RUNTIME_VERSION']\nimport sys\n"
        "sys.modules['myst_nb'] = None  # as where myst-nb is not installed\n"
        "glue('no_myst_nb', 2)",
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook, text, japanese


def glued(cell) -> dict[str, dict]:
    """name -> mime bundle of every glue record a cell left."""
    return {output["metadata"]["scrapbook"]["name"]: output["data"]
            for output in cell.outputs if "scrapbook" in output.get("metadata", {})}


def test_glue_leaves_the_record_myst_nb_reads(executed):
    notebook, *_ = executed
    assert glued(notebook.cells[1]) == {"answer": {GLUE_PREFIX + "text/plain": "42"}}
    assert glued(notebook.cells[2]) == {"shown": {"text/plain": "7"}}


def test_the_clock_glues_run_seconds_and_read_minutes_for_both_editions(executed):
    notebook, text, japanese = executed
    records = glued(notebook.cells[4])
    assert set(records) == {"run_seconds", "read_minutes", "read_minutes_ja"}
    assert records["read_minutes"][GLUE_PREFIX + "text/plain"] == str(reading_minutes(text))
    assert records["read_minutes_ja"][GLUE_PREFIX + "text/plain"] == str(
        reading_minutes(japanese, japanese=True)) == "15"
    assert 0 < float(records["run_seconds"][GLUE_PREFIX + "text/plain"]) < 120


def test_the_clock_without_its_chapter_file_glues_the_run_time_only(executed):
    notebook, *_ = executed
    assert set(glued(notebook.cells[5])) == {"run_seconds"}


def test_glue_does_nothing_on_databricks_or_without_myst_nb(executed):
    notebook, *_ = executed
    for cell in notebook.cells[6:]:
        assert cell.outputs == [], cell.source
