"""The apparatus of a textbook, in every chapter of every edition (book/CONVENTIONS.md).

Each numbered chapter of the table of contents opens with an objectives block and ends with
its key points; each figure placed with ``{glue:figure}`` has a name (so it gets a number), alt
text and a caption; no executed cell shows an image that is not such a figure; every cited key
is in ``book/references.bib``; and the notation, glossary and references pages are in the
table of contents. The same checks run on ``book/en`` and, once it exists, on ``book/ja``.

The rules are small functions over a chapter's text (or an executed notebook, or a page of
HTML); each has a bad example below that it must reject, so that none of them can pass by
checking nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from test_book import built_book, executed_notebook  # noqa: F401  (a fixture, reused)

from labkit.figures import JA_SUFFIX

ROOT = Path(__file__).resolve().parent.parent
BIBFILE = ROOT / "book" / "references.bib"
EDITIONS = [path for path in (ROOT / "book" / "en", ROOT / "book" / "ja") if path.is_dir()]
REFERENCE_PAGES = ("notation", "glossary", "references")
#: A numbered chapter's file name: ``01-introduction``, ..., ``11-distributed``.
NUMBERED = re.compile(r"\d\d-[\w-]+")


# --- where the pages are ----------------------------------------------------------------------

def toc_names(toc: dict) -> list[str]:
    """The file stems a Jupyter Book toc lists, root first, in order."""
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters"):
        walk(toc.get(key))
    return [Path(name).stem for name in names]


def edition_toc(edition: Path) -> dict:
    """The edition's own toc (``book/ja/_toc.yml``) or, for English and while an edition has
    none yet, the English one at the root."""
    own = edition / "_toc.yml"
    return yaml.safe_load((own if own.is_file() else ROOT / "_toc.yml").read_text())


def edition_pages(edition: Path, numbered_only: bool = False) -> list[Path]:
    """The edition's pages in toc order; an edition being translated lists only the pages
    it has so far."""
    stems = toc_names(edition_toc(edition))
    if numbered_only:
        stems = [stem for stem in stems if NUMBERED.fullmatch(stem)]
    return [edition / f"{stem}.md" for stem in stems if (edition / f"{stem}.md").is_file()]


def cases(numbered_only: bool) -> list:
    return [pytest.param(page, id=f"{page.parent.name}/{page.stem}")
            for edition in EDITIONS for page in edition_pages(edition, numbered_only)]


# --- the rules --------------------------------------------------------------------------------

FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>[\w:-]+)\}[ \t]*(?P<argument>.*)$",
                   re.MULTILINE)


def directives(text: str, kind: str) -> list[dict]:
    """Every ``{kind}`` directive (backtick or colon fence): its argument, options, body
    and the offsets where it starts and ends."""
    found = []
    for match in FENCE.finditer(text):
        if match["kind"] != kind:
            continue
        fence = match["fence"]
        close = re.compile(rf"^{re.escape(fence)}[ \t]*$", re.MULTILINE)
        end = close.search(text, match.end())
        inner = text[match.end() + 1:end.start() if end else len(text)]
        lines = inner.split("\n")
        options = {}
        while lines and (option := re.match(r"^:([\w-]+):[ \t]*(.*)$", lines[0])):
            options[option[1]] = option[2].strip()
            lines.pop(0)
        found.append({"argument": match["argument"].strip(), "options": options,
                      "body": "\n".join(lines).strip(), "start": match.start(),
                      "end": end.end() if end else len(text)})
    return found


def blocks_of_class(text: str, name: str) -> list[dict]:
    return [block for block in directives(text, "admonition")
            if name in block["options"].get("class", "").split()]


def objectives_problems(text: str) -> list[str]:
    """The objectives block exists, once, before the first section."""
    blocks = blocks_of_class(text, "chapter-objectives")
    if len(blocks) != 1:
        return [f"{len(blocks)} objectives blocks (:class: chapter-objectives), expected 1"]
    first_section = re.search(r"^## ", text, re.MULTILINE)
    if first_section and blocks[0]["start"] > first_section.start():
        return ["the objectives block comes after the first section"]
    return []


def without_hidden_cells(text: str) -> str:
    """The text without code cells tagged remove-cell: they show nothing on the page."""
    cell = re.compile(r"^```\{code-cell\}[^\n]*\n:tags: \[[^\]]*remove-cell[^\]]*\]\n.*?^```"
                      r"[ \t]*$", re.MULTILINE | re.DOTALL)
    return cell.sub("", text)


def key_points_problems(text: str) -> list[str]:
    """The key points block exists, once, and nothing the reader sees follows it."""
    blocks = blocks_of_class(text, "key-points")
    if len(blocks) != 1:
        return [f"{len(blocks)} key points blocks (:class: key-points), expected 1"]
    after = without_hidden_cells(text[blocks[0]["end"]:])
    after = re.sub(r"<!--.*?-->", "", after, flags=re.DOTALL).strip()
    if after:
        return [f"the key points are not last: {after[:60]!r} follows them"]
    return []


def figure_problems(text: str) -> list[str]:
    """Every ``{glue:figure}`` has ``:name:`` (its number), alt text that describes it (not a
    file name) and a caption."""
    problems = []
    for figure in directives(text, "glue:figure"):
        label = figure["argument"] or "a glue:figure without a glued name"
        alt = figure["options"].get("alt", "")
        if not figure["options"].get("name"):
            problems.append(f"{label}: no :name:, so it has no number to refer to")
        if not alt:
            problems.append(f"{label}: no :alt: text")
        elif re.fullmatch(r"\S+\.(png|jpe?g|svg|gif)", alt, re.IGNORECASE):
            problems.append(f"{label}: its alt text is a file name ({alt})")
        if not figure["body"]:
            problems.append(f"{label}: no caption")
    return problems


def figure_names(text: str) -> set[str]:
    """The glued names that ``{glue:figure}`` directives place."""
    return {figure["argument"] for figure in directives(text, "glue:figure")}


CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def cited_keys(text: str) -> set[str]:
    return {key.strip() for keys in CITE.findall(text) for key in keys.split(",")}


def bibliography_keys(path: Path = BIBFILE) -> set[str]:
    from pybtex.database import parse_file

    return set(parse_file(str(path)).entries.keys())


def stray_images(notebook: dict, text: str) -> list[str]:
    """Images an executed chapter shows outside a numbered figure: an image output of a
    cell, or a glued image that no ``{glue:figure}`` of the chapter's text places. A figure
    glued in both languages (``name`` and ``name_ja``, labkit.figures.glue_figures) is placed
    when either is: each edition's page shows its own, from the same run."""
    placed = figure_names(text)
    glued_names = {output.get("metadata", {}).get("scrapbook", {}).get("name")
                   for cell in notebook.get("cells", []) for output in cell.get("outputs", [])}
    for name in set(placed):
        english = name.removesuffix(JA_SUFFIX)
        if {english, english + JA_SUFFIX} <= glued_names:
            placed |= {english, english + JA_SUFFIX}
    problems = []
    for number, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            kinds = [kind for kind in output.get("data", {}) if "image/" in kind]
            if not kinds:
                continue
            glued = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if glued is None:
                problems.append(f"cell {number} shows an image ({kinds[0]}) directly; "
                                "glue it and place it with {glue:figure}")
            elif glued not in placed:
                problems.append(f"cell {number} glues the image {glued!r}, which no "
                                "{glue:figure} places")
    return problems


class PageImages(HTMLParser):
    """Collects each ``<img>`` of a page's content (the theme's ``<article>``, not the buttons
    above it): its alt text, whether it sits in a ``<figure>`` and whether that figure has a
    number (``caption-number``)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.figures: list[dict] = []
        self.images: list[dict] = []
        self.in_article = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "article":
            self.in_article += 1
        if tag == "figure":
            self.figures.append({"numbered": False})
        if tag == "img" and self.in_article:
            self.images.append({"src": attributes.get("src", ""),
                                "alt": (attributes.get("alt") or "").strip(),
                                "figure": self.figures[-1] if self.figures else None})
        if "caption-number" in (attributes.get("class") or "").split() and self.figures:
            self.figures[-1]["numbered"] = True
        if tag not in ("img", "br", "hr", "meta", "link", "input", "source"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "article":
            self.in_article -= 1
        if tag == "figure" and self.figures:
            self.figures.pop()
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass


def html_image_problems(html: str) -> list[str]:
    parser = PageImages()
    parser.feed(html)
    problems = []
    for image in parser.images:
        name = Path(image["src"]).name
        if not image["alt"] or image["alt"] == image["src"] or image["alt"].endswith(name):
            problems.append(f"<img {name}>: no alt text that describes it")
        if image["figure"] is None:
            problems.append(f"<img {name}>: not inside a <figure>")
        elif not image["figure"]["numbered"]:
            problems.append(f"<img {name}>: its figure has no number")
    return problems


def toc_problems(toc: dict) -> list[str]:
    names = toc_names(toc)
    return [f"{page} is not in the table of contents" for page in REFERENCE_PAGES
            if page not in names]


# --- the chapters as they are -----------------------------------------------------------------

def test_each_edition_has_the_eleven_numbered_chapters_to_check():
    english = edition_pages(ROOT / "book" / "en", numbered_only=True)
    assert len(english) == 11, [page.stem for page in english]


@pytest.mark.parametrize("chapter", cases(numbered_only=True))
def test_chapter_opens_with_its_objectives(chapter):
    problems = objectives_problems(chapter.read_text(encoding="utf-8"))
    assert not problems, problems


@pytest.mark.parametrize("chapter", cases(numbered_only=True))
def test_chapter_ends_with_its_key_points(chapter):
    problems = key_points_problems(chapter.read_text(encoding="utf-8"))
    assert not problems, problems


@pytest.mark.parametrize("page", cases(numbered_only=False))
def test_every_figure_has_a_name_alt_text_and_a_caption(page):
    problems = figure_problems(page.read_text(encoding="utf-8"))
    assert not problems, problems


@pytest.mark.parametrize("page", cases(numbered_only=False))
def test_every_cited_key_is_in_the_bibliography(page):
    missing = cited_keys(page.read_text(encoding="utf-8")) - bibliography_keys()
    assert not missing, f"not in {BIBFILE.name}: {sorted(missing)}"


def test_every_bibliography_entry_has_author_title_and_year():
    from pybtex.database import parse_file

    for key, entry in parse_file(str(BIBFILE)).entries.items():
        assert entry.persons.get("author"), key
        assert entry.fields.get("title") and entry.fields.get("year"), key


@pytest.mark.parametrize("edition", EDITIONS, ids=lambda path: path.name)
def test_notation_glossary_and_references_are_in_the_toc(edition):
    assert not toc_problems(edition_toc(edition))
    for page in REFERENCE_PAGES:
        assert (edition / f"{page}.md").is_file() or edition.name != "en", page


def test_the_references_page_holds_the_bibliography():
    text = (ROOT / "book" / "en" / "references.md").read_text(encoding="utf-8")
    assert directives(text, "bibliography")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == [BIBFILE.relative_to(ROOT).as_posix()]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", cases(numbered_only=True))
def test_executed_chapter_shows_images_only_as_numbered_figures(built_book, chapter):  # noqa: F811
    assert built_book.returncode == 0, "the book did not build"
    # The Japanese edition reuses the English run of the same file.
    notebook = executed_notebook(ROOT / "book" / "en" / chapter.name)
    assert notebook is not None, f"{chapter.name}: no executed copy in the cache"
    problems = stray_images(notebook, chapter.read_text(encoding="utf-8"))
    assert not problems, problems


def built_page(chapter: Path) -> Path | None:
    """The newest HTML page built from ``chapter`` under _build, if any: the site may be
    laid out as ``html/book/en/NN.html`` (one project) or ``html/en/NN.html`` (one per
    edition)."""
    pattern = f"**/{chapter.parent.name}/{chapter.stem}.html"
    pages = [page for page in (ROOT / "_build").glob(pattern)
             if ".jupyter_cache" not in page.parts and "jupyter_execute" not in page.parts]
    return max(pages, key=lambda page: page.stat().st_mtime, default=None)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", cases(numbered_only=True))
def test_built_page_images_have_alt_text_and_a_numbered_figure(built_book, chapter):  # noqa: F811
    assert built_book.returncode == 0, "the book did not build"
    page = built_page(chapter)
    if page is None:
        pytest.skip(f"no built page for {chapter.relative_to(ROOT)}: "
                    "its edition is not built by make book yet")
    problems = html_image_problems(page.read_text(encoding="utf-8"))
    assert not problems, f"{page}: {problems}"


# --- each rule rejects what it should ---------------------------------------------------------

GOOD_CHAPTER = """# Title

Opening.

:::{admonition} In this chapter
:class: chapter-objectives

**You will learn**
:::

## A section

:::{glue:figure} fig_loss
:name: fig-loss
:alt: Two falling curves.

Loss per epoch.
:::

As {cite:p}`rumelhart1986` showed.

:::{admonition} Key points
:class: key-points

- one point
:::

```{code-cell} ipython3
:tags: [remove-cell]

clock.glue()
```
"""


def test_a_good_chapter_passes_every_rule():
    assert objectives_problems(GOOD_CHAPTER) == []
    assert key_points_problems(GOOD_CHAPTER) == []
    assert figure_problems(GOOD_CHAPTER) == []
    assert cited_keys(GOOD_CHAPTER) <= bibliography_keys()
    assert figure_names(GOOD_CHAPTER) == {"fig_loss"}


def test_a_chapter_without_objectives_or_with_them_late_fails():
    missing = GOOD_CHAPTER.replace(":class: chapter-objectives", ":class: note")
    assert objectives_problems(missing)
    late = GOOD_CHAPTER.replace("Opening.\n", "Opening.\n\n## Early\n")
    assert "after the first section" in objectives_problems(late)[0]


def test_a_chapter_without_key_points_or_with_them_not_last_fails():
    assert key_points_problems(GOOD_CHAPTER.replace(":class: key-points", ":class: tip"))
    shown_cell = GOOD_CHAPTER.replace(":tags: [remove-cell]", ":tags: [hide-input]")
    assert "not last" in key_points_problems(shown_cell)[0]
    prose_after = GOOD_CHAPTER + "\nOne more paragraph.\n"
    assert "not last" in key_points_problems(prose_after)[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [((":name: fig-loss\n", ""), "no :name:"),
     ((":alt: Two falling curves.\n", ""), "no :alt:"),
     (("Two falling curves.", "fig_loss.png"), "file name"),
     (("Loss per epoch.\n", ""), "no caption")],
)
def test_a_figure_without_name_alt_or_caption_fails(change, expected):
    problems = figure_problems(GOOD_CHAPTER.replace(*change))
    assert len(problems) == 1 and expected in problems[0]


def test_a_figure_in_backtick_fences_is_checked_too():
    text = "```{glue:figure} fig_a\n:name: fig-a\n```\n"
    assert figure_problems(text) == ["fig_a: no :alt: text", "fig_a: no caption"]


def test_a_key_missing_from_the_bibliography_is_found():
    text = "See {cite:p}`rumelhart1986,nobody1999` and {cite:t}`kingma2015`."
    assert cited_keys(text) == {"rumelhart1986", "nobody1999", "kingma2015"}
    assert cited_keys(text) - bibliography_keys() == {"nobody1999"}


def image_output(name: str | None) -> dict:
    output = {"output_type": "display_data", "metadata": {},
              "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}
    if name:
        output["data"] = {f"application/papermill.record/{k}": v
                          for k, v in output["data"].items()}
        output["metadata"] = {"scrapbook": {"name": name}}
    return output


def test_an_image_shown_directly_or_glued_but_not_placed_is_found():
    notebook = {"cells": [{"cell_type": "code", "outputs": [image_output("fig_loss")]}]}
    assert stray_images(notebook, GOOD_CHAPTER) == []
    notebook["cells"].append({"cell_type": "code", "outputs": [image_output(None)]})
    notebook["cells"].append({"cell_type": "code", "outputs": [image_output("fig_other")]})
    problems = stray_images(notebook, GOOD_CHAPTER)
    assert len(problems) == 2
    assert "directly" in problems[0] and "fig_other" in problems[1]


def test_a_figure_glued_in_both_languages_is_placed_by_either_edition():
    both = {"cells": [{"cell_type": "code", "outputs": [image_output("fig_loss"),
                                                        image_output("fig_loss_ja")]}]}
    assert stray_images(both, GOOD_CHAPTER) == []                    # the English page
    japanese = GOOD_CHAPTER.replace("{glue:figure} fig_loss", "{glue:figure} fig_loss_ja")
    assert japanese != GOOD_CHAPTER
    assert stray_images(both, japanese) == []                        # the Japanese page
    # A "_ja" image with no English twin glued is no variant: nothing places it.
    lone = {"cells": [{"cell_type": "code", "outputs": [image_output("fig_loss"),
                                                        image_output("fig_other_ja")]}]}
    assert stray_images(lone, GOOD_CHAPTER) == [
        "cell 0 glues the image 'fig_other_ja', which no {glue:figure} places"]


def test_html_images_need_alt_text_and_a_numbered_figure():
    good = ('<article><figure><img alt="Two falling curves." src="../_images/a.png">'
            '<figcaption><p><span class="caption-number">Fig. 1 </span>Loss.</p>'
            '</figcaption></figure></article>')
    assert html_image_problems(good) == []
    assert html_image_problems('<nav><img src="logo.png"></nav>') == []  # outside the article
    # The launch menu above the article (its Colab logo) is the page's chrome, not content.
    chrome = '<main><div><img alt="Colab logo" src="logo_colab.png"></div><article></article>'
    assert html_image_problems(chrome + '</main>') == []
    bare = '<article><p><img alt="" src="../_images/b.png"></p></article>'
    assert {problem.split(": ")[1] for problem in html_image_problems(bare)} == {
        "no alt text that describes it", "not inside a <figure>"}
    unnumbered = '<article><figure><img alt="A map." src="c.png"></figure></article>'
    assert html_image_problems(unnumbered) == ["<img c.png>: its figure has no number"]
    path_as_alt = ('<article><figure><img alt="_build/jupyter_execute/c.png" src="c.png">'
                   '<span class="caption-number">Fig. 2</span></figure></article>')
    assert "no alt text" in html_image_problems(path_as_alt)[0]


def test_a_toc_without_the_reference_pages_fails():
    toc = {"format": "jb-book", "root": "book/en/01-introduction",
           "parts": [{"caption": "x", "chapters": [{"file": "book/en/02-data"}]}]}
    assert len(toc_problems(toc)) == 3
    toc["parts"].append({"caption": "y", "chapters": [
        {"file": f"book/en/{page}"} for page in REFERENCE_PAGES]})
    assert toc_problems(toc) == []
