"""``make pdf``: the whole book as one PDF per edition, read back from the PDF itself.

One build of both PDFs per session (the ``pdfs`` fixture, in the "book" group of
tests/conftest.py, so it runs in the worker that built the book and reuses its execution
cache). The PDFs are read with pypdf (bookmarks, links, pages) and poppler-utils (text as laid
out, fonts). What is checked against the book's sources: every chapter's title as text and as
a first-level bookmark with its sections under it, key terms of each language, every figure's
caption number, every exercise's solution printed, the bibliography, links within the
document, fonts embedded, no raw TeX, no Japanese line beginning with 。、）」, a sane page
count, and the site's download menu offering the PDF of its edition.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bookbuild.editions import chapters, editions_present  # noqa: E402

pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (make setup)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts")


def has_cjk_font() -> bool:
    fonts = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True)
    return fonts.returncode == 0 and bool(fonts.stdout.strip())


pytestmark = [
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason="no Chromium or chromedriver: make pdf prints with them "
                              "(.ci/run installs chromium chromium-driver fonts-noto-cjk)"),
    pytest.mark.skipif(not POPPLER, reason="no pdftotext/pdffonts (apt-get install "
                                           "poppler-utils) to read the PDFs back"),
    pytest.mark.skipif(shutil.which("fc-list") is None or not has_cjk_font(),
                       reason="no Japanese font installed (apt-get install fonts-noto-cjk)"),
]

EDITIONS = {edition.language: edition for edition in editions_present()}
LANGUAGES = list(EDITIONS)
#: Terms each edition must contain as text (the course's vocabulary, book/CONVENTIONS.md).
KEY_TERMS = {
    "en": ["PenguinNet", "backpropagation", "chain rule", "gradient", "cross-entropy",
           "Spark", "Horovod", "learning rate"],
    "ja": ["PenguinNet", "誤差逆伝播法", "連鎖律", "勾配", "交差エントロピー", "学習率",
           "分散学習", "損失"],
}
#: How a figure's caption is numbered in each language (Sphinx's numfig format).
FIGURE_NUMBER = {"en": r"Fig\.\s*(\d+)", "ja": r"図\s*(\d+)"}
SOLUTION_TITLE = {"en": "Solution", "ja": "解答"}
PDF_BUTTON = {"en": "The whole book (PDF)", "ja": "本全体（PDF）"}


@pytest.fixture(scope="session")
def pdfs() -> dict[str, Path]:
    """Build the book as `make book` does (from its cache) and then `make pdf`."""
    for script in ("build_book.py", "build_pdf.py"):
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / script)], cwd=ROOT,
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"{script} failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])
    assert re.search(r"pdf built in [0-9.]+ s", result.stdout), result.stdout[-2000:]
    return {language: ROOT / "_build" / "pdf" / f"{language}.pdf" for language in LANGUAGES}


def text_of(path: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def squeezed(text: str) -> str:
    """Text without white space: a title wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text)


def source_chapters(language: str) -> list[Path]:
    return chapters(ROOT, EDITIONS[language].toc)


def without_code(text: str) -> str:
    return re.sub(r"^(```|~~~).*?^\1[ \t]*$", "", text, flags=re.DOTALL | re.MULTILINE)


def title_of(path: Path) -> str:
    """The chapter's title: its first level-one heading, markup removed."""
    heading = re.search(r"^# (.+)$", without_code(path.read_text(encoding="utf-8")), re.M)
    return re.sub(r"[`*]", "", heading.group(1)).strip()


def sections_of(path: Path) -> list[str]:
    return re.findall(r"^## (.+)$", without_code(path.read_text(encoding="utf-8")), re.M)


def bookmarks(path: Path) -> list[tuple[str, list]]:
    """The outline as (title, children) pairs."""
    reader = pypdf.PdfReader(path)

    def tree(items) -> list[tuple[str, list]]:
        found: list[tuple[str, list]] = []
        for item in items:
            if isinstance(item, list):
                found[-1] = (found[-1][0], tree(item))
            else:
                found.append((item.title, []))
        return found

    return tree(reader.outline)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chapter_title_and_key_term_is_text(pdfs, language):
    # In the content's own order: laid out, a Latin word beside Japanese may come apart.
    text = squeezed(text_of(pdfs[language], "-raw"))
    missing = [title_of(path) for path in source_chapters(language)
               if squeezed(title_of(path)) not in text]
    assert missing == []
    assert [term for term in KEY_TERMS[language] if squeezed(term) not in text] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chapter_is_a_bookmark_with_its_sections_under_it(pdfs, language):
    tree = bookmarks(pdfs[language])
    chapters_ = source_chapters(language)
    assert [squeezed(title) for title, _ in tree] == [squeezed(title_of(p)) for p in chapters_]
    for (title, children), path in zip(tree, chapters_):
        assert len(children) == len(sections_of(path)), (title, [c for c, _ in children])


@pytest.mark.parametrize("language", LANGUAGES)
def test_fonts_are_embedded(pdfs, language):
    lines = subprocess.run(["pdffonts", str(pdfs[language])], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert lines, "no fonts at all"
    # Columns: name type encoding emb sub uni object ID; the name and type may hold spaces.
    embedded = [re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line)
                for line in lines]
    assert all(embedded), lines
    assert [line for line, match in zip(lines, embedded) if match.group(1) != "yes"] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_raw_tex_and_a_sane_page_count(pdfs, language):
    text = text_of(pdfs[language])
    assert [mark for mark in ("$$", "\\frac", "\\begin{", "\\(", "\\mathbf") if mark in text] == []
    pages = len(pypdf.PdfReader(pdfs[language]).pages)
    assert 60 <= pages <= 400, pages


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_figure_is_printed_with_its_caption(pdfs, language):
    """Figures are SVG, drawn as vectors (no image XObject to count): count the captions'
    numbers, Fig. 1 to Fig. N, against the figures in the edition's sources."""
    figures = sum(len(re.findall(r"^[`:]{3,}\{(?:glue:)?figure\}", without_code(
        path.read_text(encoding="utf-8")), re.M)) for path in source_chapters(language))
    numbers = {int(n) for n in re.findall(FIGURE_NUMBER[language], text_of(pdfs[language]))}
    assert figures > 0
    assert numbers == set(range(1, figures + 1))


@pytest.mark.parametrize("language", LANGUAGES)
def test_exercises_are_printed_with_their_solutions_and_the_bibliography(pdfs, language):
    solutions = sum(len(re.findall(r"^:class:\s*dropdown solution\s*$",
                                   path.read_text(encoding="utf-8"), re.M))
                    for path in source_chapters(language))
    text = text_of(pdfs[language])
    assert solutions > 0
    # The admonition's title, after its icon.
    titles = re.findall(rf"^[^\w\n]*{SOLUTION_TITLE[language]}[ \t]*$", text, re.M)
    assert len(titles) >= solutions
    # A solution's own text, folded on the site, is printed (chapter 1's first exercise).
    english_answer = "On a cluster, provisioning the workspace"
    if language == "en":
        assert english_answer in " ".join(text.split())
    bibliography = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    authors = re.findall(r"author\s*=\s*[{\"]([A-Z][a-z]+)", bibliography)
    assert authors and [name for name in authors if name not in text] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_cross_references_and_citations_are_links_within_the_pdf(pdfs, language):
    reader = pypdf.PdfReader(pdfs[language])
    internal = external = 0
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A")
            if "/Dest" in annotation or (action and action.get("/S") == "/GoTo"):
                internal += 1
            elif action and action.get("/S") == "/URI":
                uri = str(action.get("/URI"))
                assert not uri.startswith("http://127.0.0.1"), uri  # a link left to the page
                external += 1
    # Each chapter is cross-referenced and cited many times; the contents link every section.
    assert internal > 150, (internal, external)


def test_japanese_lines_do_not_begin_with_closing_punctuation(pdfs):
    """Kinsoku: no printed line begins with 。、）」 and the like. A word (as poppler splits the
    text) that begins with one must have another word to its left on the same line."""
    if "ja" not in pdfs:
        pytest.skip("book/ja has no chapter yet")
    boxes = text_of(pdfs["ja"], "-bbox")
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" '
                      r'yMax="([\d.]+)">([^<]*)</word>')
    checked, starts = 0, []
    for number, page in enumerate(re.findall(r"<page[^>]*>(.*?)</page>", boxes, re.S), 1):
        words = [(float(x), float(top), float(bottom), text)
                 for x, top, bottom, text in word.findall(page)]
        for x, top, bottom, text in words:
            if text[:1] not in "。、）」』，．":
                continue
            checked += 1
            middle = (top + bottom) / 2
            if not any(other < x - 0.5 and high <= middle <= low
                       for other, high, low, _ in words):
                starts.append(f"page {number}: {text}")
    assert checked > 100  # the check saw the Japanese punctuation it is about
    assert starts == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_offers_the_whole_book_in_its_download_menu(pdfs, language):
    page = ROOT / "_build" / language / "html" / f"{source_chapters(language)[2].stem}.html"
    html = page.read_text(encoding="utf-8")
    link = re.search(r'<a href="([^"]*pdf/' + language + r'\.pdf)"[^>]*>(.*?)</a>', html,
                     re.DOTALL)
    assert link, "no link to the book's PDF in the download menu"
    assert PDF_BUTTON[language] in link.group(2)
    # Served from the site as _build/html/<language>/../pdf/<language>.pdf (a URL: the
    # ".." is taken lexically, not after following the edition's link).
    served = Path(os.path.normpath(ROOT / "_build" / "html" / language / link.group(1)))
    served = served.resolve()
    assert served == pdfs[language].resolve() and served.stat().st_size > 100_000
