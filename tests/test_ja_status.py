"""scripts/ja_status.py: a Japanese page is stale when its English page's prose changes, names
the section that changed, stays current when only code changes, and refuses bad input with
one line and exit status 2. Run on a temporary copy of two real chapters."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("01-introduction.md", "02-data-with-spark.md")


def ja_status(book: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "ja_status.py"),
                           "--book", str(book), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    for edition in ("en", "ja"):
        (tmp_path / edition).mkdir()
        for page in PAGES:
            shutil.copy(ROOT / "book" / edition / page, tmp_path / edition / page)
    marked = ja_status(tmp_path, "--mark", "all")
    assert marked.returncode == 0, marked.stderr
    return tmp_path


def test_the_projects_pages_are_all_current():
    result = ja_status(ROOT / "book")
    assert result.returncode == 0, result.stdout + result.stderr


def test_marking_changes_only_the_front_matter(book: Path):
    for page in PAGES:
        before = (ROOT / "book" / "ja" / page).read_text(encoding="utf-8")
        after = (book / "ja" / page).read_text(encoding="utf-8")
        body = lambda text: text.split("\n---\n", 1)[1]  # noqa: E731
        assert body(after) == body(before)
        assert "translation:\n  source_hash:\n" in after
    result = ja_status(book)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(": current") == 2


def test_changed_english_prose_makes_the_page_stale_naming_the_section(book: Path):
    english = book / "en" / "02-data-with-spark.md"
    text = english.read_text(encoding="utf-8")
    section = text.index("## Islands as numbers")
    paragraph = text.index("\n\n", section) + 2
    english.write_text(text[:paragraph] + "A sentence the translator has not seen. "
                       + text[paragraph:], encoding="utf-8")
    result = ja_status(book)
    assert result.returncode == 1
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines[str(book / "ja" / "01-introduction.md")] == "current"
    assert lines[str(book / "ja" / "02-data-with-spark.md")] == (
        "stale: English changed: '## Islands as numbers'")
    # The translator updates the page and marks it current: the command passes again.
    assert ja_status(book, "--mark", "02-data-with-spark").returncode == 0
    assert ja_status(book).returncode == 0


def test_rewrapping_or_changing_code_keeps_the_page_current(book: Path):
    english = book / "en" / "02-data-with-spark.md"
    text = english.read_text(encoding="utf-8")
    cell = text.index("```{code-cell} ipython3\n", text.index("## Starting Spark"))
    text = text[:cell] + text[cell:].replace("\n", "\n# a changed comment\n", 2)
    text = text.replace("so this chapter is about getting those\nnumbers right",
                        "so this chapter is about getting\nthose numbers right")
    english.write_text(text, encoding="utf-8")
    result = ja_status(book)
    assert result.returncode == 0, result.stdout


def test_a_new_english_section_is_named(book: Path):
    english = book / "en" / "01-introduction.md"
    english.write_text(english.read_text(encoding="utf-8") + "\n## A new section\n\nText.\n",
                       encoding="utf-8")
    result = ja_status(book)
    assert result.returncode == 1
    assert "new in English: '## A new section'" in result.stdout


@pytest.mark.parametrize("damage, message", [
    ("broken", "front matter is not YAML"),
    ("orphan", "no English page"),
    ("unknown", "no such Japanese page to mark"),
])
def test_bad_input_is_one_line_and_exit_2_and_nothing_written(book: Path, damage, message):
    page = book / "ja" / "01-introduction.md"
    args: tuple[str, ...] = ()
    if damage == "broken":
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace("kernelspec:", "kernelspec: [", 1), encoding="utf-8")
        args = ("--mark", "all")
    elif damage == "orphan":
        (book / "en" / "01-introduction.md").unlink()
    else:
        args = ("--mark", "99-nothing")
    before = {path: path.read_bytes() for path in (book / "ja").iterdir()}
    result = ja_status(book, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert str(book / "ja") in result.stderr
    assert {path: path.read_bytes() for path in (book / "ja").iterdir()} == before
