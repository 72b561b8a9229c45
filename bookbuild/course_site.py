"""The course's own Sphinx extension: what joins the English and Japanese editions, and what
makes the site work for every reader.

Each edition is a separate Sphinx build (Jupyter Book 1.x builds one language at a time) whose
pages have the same names, so the page ``03-forward-pass`` of one edition is
``../<other>/03-forward-pass.html`` from the other. ``scripts/build_book.py`` writes the
editions' languages, labels and page lists into ``course_editions``; this extension turns
them into a language switch in every page's header, ``<link rel="alternate" hreflang>``
links both ways, and a download of the page's executed notebook.

For readers on a phone, with a keyboard or a screen reader, or printing: figures link to
their full-size image, a formula keeps the punctuation after it on its line, myst-nb's and
docutils' markup that axe-core faults is written accessibly, and pages load only what they
use (a subset of the theme's icons as CSS, MathJax where there is maths). The templates in
``site/_templates`` and ``site/static/course.js`` do the rest.
"""

from __future__ import annotations

import json
import posixpath
import re
from html import escape
from pathlib import Path
from typing import Any

# site/gojuon.py: Sphinx loads this extension (site/course_site.py) with site/ on sys.path.
from docutils import nodes
from gojuon import group_by_row
from sphinx.application import Sphinx
from sphinx.locale import _


def _relative(pagename: str, language: str, target: str) -> str:
    """``target`` of the edition ``language``, as a URL relative to ``pagename``."""
    return "../" * (pagename.count("/") + 1) + f"{language}/{target}.html"


def add_edition_links(app: Sphinx, pagename: str, templatename: str,
                      context: dict[str, Any], doctree: Any) -> None:
    """The language switch (``course_switch`` for the template) and hreflang links."""
    editions = app.config.course_editions
    here = app.config.language
    context["course_switch"] = None
    if here not in editions:
        return
    site_url = app.config.course_site_url.rstrip("/")
    links = []
    for language, edition in editions.items():
        has_page = pagename in edition["pages"]
        if language != here:
            # The same page, or the other edition's first page where it has no such page.
            target = pagename if has_page or pagename in ("search", "genindex") else \
                edition["root"]
            context["course_switch"] = {"href": _relative(pagename, language, target),
                                        "language": language, "label": edition["label"],
                                        "title": edition["switch_title"]}
        if has_page:
            href = (f"{site_url}/{language}/{pagename}.html" if site_url
                    else _relative(pagename, language, pagename))
            links.append(f'<link rel="alternate" hreflang="{language}" href="{escape(href)}" />')
    if len(links) > 1:
        context["metatags"] = context.get("metatags", "") + "\n" + "\n".join(links) + "\n"


def add_notebook_download(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """Offer each chapter's executed notebook for download (``_sources/<page>.ipynb``).

    The theme's download menu lists ``ipynb_source`` when it is set, which the theme itself
    does only when launch buttons are on, and then copies myst-nb's copy of the notebook,
    which has no outputs when they came from the execution cache. So set it for every
    chapter that myst-nb rendered as a notebook; ``scripts/build_book.py`` writes the
    executed notebooks (outputs merged from the cache) once the edition is built."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if app.builder.format == "html" and executed.is_file():
        context["ipynb_source"] = f"{pagename}.ipynb"


#: The download menu's entry for the whole book, in each edition's language.
BOOK_PDF_TEXT = {"en": ("The whole book (PDF)", "Download the whole book as one PDF"),
                 "ja": ("本全体（PDF）", "本全体を1つのPDFでダウンロード")}


def add_book_pdf_download(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """Offer the whole book of this edition as a PDF in every page's download menu (the
    theme's group ``download-buttons``). ``make pdf`` (bookbuild/pdf.py) writes it to
    ``_build/pdf/<language>.pdf``, which the site serves as ``pdf/<language>.pdf``."""
    language = app.config.language or "en"
    if app.builder.name != "html" or language not in BOOK_PDF_TEXT:
        return
    text, tooltip = BOOK_PDF_TEXT[language]
    button = {"type": "link", "text": text, "tooltip": tooltip, "icon": "fas fa-file-pdf",
              "url": "../" * (pagename.count("/") + 1) + f"pdf/{language}.pdf",
              "label": "download-book-pdf-button"}
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append(button)
            return


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """Keep one copy of each inline script. sphinx-thebe adds its settings
    (``const THEBE_JS_URL = ...``) each time Sphinx reads sources, and a second ``const``
    of the same name stops the page's scripts with a SyntaxError."""
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        # An inline script's file name is None or '', depending on who added it.
        key = (getattr(script, "filename", script) or None,
               getattr(script, "attributes", {}).get("body"))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: it is the builder's own list, to which later handlers (MathJax's) still add.
    context["script_files"][:] = unique


#: Japanese terms searched for as one word (the course's glossary).
#: The site's own files (templates, catalogs, the search terms) stay in site/.
SITE_FILES = Path(__file__).resolve().parent.parent / "site"
LOCALE = SITE_FILES / "locale"
SEARCH_TERMS = SITE_FILES / "search-terms-ja.txt"


def read_search_terms(text: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The terms of ``site/search-terms-ja.txt`` and, for a line ``alias = term``, the words a
    learner types for a term the course writes otherwise (the lab's 前方パス for 順伝播)."""
    terms: list[str] = []
    aliases: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        alias, _, term = (part.strip() for part in line.partition("="))
        if term:
            aliases.setdefault(term, []).append(alias)
            terms += [alias, term]
        else:
            terms.append(alias)
    return tuple(dict.fromkeys(terms)), {term: tuple(names) for term, names in aliases.items()}


def use_japanese_search_terms(app: Sphinx) -> None:
    """Make a search for a glossary term find every page that uses it, and only those.

    With ``language: ja`` Sphinx splits the text into words with TinySegmenter, and
    sphinx-tsegsearch splits a typed query in the browser with TinySegmenter too. Two things
    kept them apart. Sphinx's Python port scores one context with the wrong table, so the
    index split words the browser keeps whole (隠れ層: see ``bookbuild/search_ja.py``); here
    the index uses the browser's scoring. And the split depends on the characters around a
    word: 連鎖律 alone is one word, in 連鎖律で it becomes 連鎖 and 律. So each page that
    contains a term of ``site/search-terms-ja.txt`` is also indexed under the term, whole,
    and the query splitter joins the segments that spell a term back into it: 死んだノード is
    one word in both, and does not match every page that mentions a node. A page with a
    term is indexed under its aliases too (a learner of the lab searches 前方パス, 数値微分,
    オーバーシュート where the course writes 順伝播, 有限差分, 行き過ぎ)."""
    if app.builder.name != "html" or app.config.language != "ja":
        return
    from sphinx.search import languages

    from bookbuild.search_ja import BrowserSplitter, query_splitter_js

    base = languages["ja"]
    if isinstance(base, str):  # not imported yet (sphinx-tsegsearch not loaded)
        from sphinx.util import import_object

        base = import_object(base)
    terms, aliases = read_search_terms(SEARCH_TERMS.read_text(encoding="utf-8"))

    class SearchJapaneseWithTerms(base):  # type: ignore[misc, valid-type]
        js_splitter_code = query_splitter_js(base.js_splitter_code, terms)

        def init(self, options: dict[str, str]) -> None:
            self.splitter = BrowserSplitter(options)

        def split(self, input: str) -> list[str]:
            words = super().split(input)
            for term in terms:
                if term in input:
                    words += [term, *super().split(term), *aliases.get(term, ())]
            return words

    app.add_search_language(SearchJapaneseWithTerms)


#: The course's catalog of the Japanese theme strings (``locale_dirs``).
CATALOG_JA = LOCALE / "ja" / "LC_MESSAGES" / "sphinx.po"


def translate_search_messages(app: Sphinx, exception: Exception | None) -> None:
    """Give the search page's messages the course's translations.

    The search page reads its messages from ``_static/translations.js``, which Sphinx copies
    from its own compiled ``sphinx.js``: the catalog in ``locale_dirs`` (compiled to .mo)
    reaches the templates only. Sphinx 7.4's Japanese leaves "Search finished, found ..."
    empty and says "... 十分なカテゴリーが選択されているか ..." when nothing is found (this
    book's search has no categories), so each message that ``site/locale/ja/.../sphinx.po``
    translates is written into ``translations.js`` here."""
    if exception is not None or app.builder.name != "html" or app.config.language != "ja":
        return
    path = Path(app.outdir) / "_static" / "translations.js"
    if not path.is_file():
        return
    from babel.messages.pofile import read_po

    with CATALOG_JA.open("rb") as po:
        catalog = read_po(po)
    # translations.js is ``Documentation.addTranslations(<JSON>);``.
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("(")
    body, _, tail = rest.rpartition(")")
    translations = json.loads(body)
    messages = translations["messages"]
    for message in catalog:
        if message.id in messages and message.string:
            messages[message.id] = message.string
    path.write_text(head + "(" + json.dumps(translations, indent=4, sort_keys=True) + ")" + tail,
                    encoding="utf-8")


def link_figures_to_full_size(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Make each figure's image a link to the image file, so that a reader can open it full
    size (on a phone a figure is shown at a third of its size). Sphinx links only images
    given a size; the chapters' figures are not, and are SVG, sharp at any size."""
    if app.builder.format != "html":
        return
    from sphinx.util.osutil import relative_uri

    imgpath = relative_uri(app.builder.get_target_uri(docname), app.builder.imagedir)
    for image in list(doctree.findall(nodes.image)):
        if not isinstance(image.parent, nodes.figure):
            continue
        candidates = image.get("candidates") or {}
        source = candidates.get("*") or next(iter(candidates.values()), image["uri"])
        if source not in app.env.images:  # a remote image: nothing of the site to link
            continue
        link = nodes.reference("", "", internal=True, classes=["course-full-size"],
                               refuri=posixpath.join(imgpath, app.env.images[source][1]))
        image.replace_self(link)
        link.append(image)


#: What may not begin a line after an inline formula.
CLOSING_PUNCTUATION = ".,;:!?)]}’”。、，．：；）」』"


def keep_punctuation_with_formulas(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Group an inline formula with the punctuation right after it (``$x$.``) in one
    unbreakable span: the browser may break a line after the formula's box, and a full stop
    then began the next line alone."""
    for formula in list(doctree.findall(nodes.math)):
        after = formula.next_node(descend=False, siblings=True)
        if not isinstance(after, nodes.Text) or after.astext()[:1] not in CLOSING_PUNCTUATION:
            continue
        text = after.astext()
        mark = len(text) - len(text.lstrip(CLOSING_PUNCTUATION))
        # The text node's place found by identity: docutils' remove() and replace() look it up
        # by value (Text is a str), and took an earlier, equal "、" of the same paragraph.
        parent = after.parent
        place = next(index for index, child in enumerate(parent.children) if child is after)
        if text[mark:]:
            parent[place] = nodes.Text(text[mark:])
        else:
            del parent[place]
        group = nodes.inline(classes=["course-nowrap"])
        formula.replace_self(group)
        group += [formula, nodes.Text(text[:mark])]


#: A number as Python's ``e`` format writes it (``1.2e-07``), the whole text of a glued value.
E_NOTATION = re.compile(r"(-?)(\d(?:\.\d+)?)e([+-]\d+)")
SUPERSCRIPT_DIGITS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(text: str) -> str:
    """``text`` as a sentence writes it when it is a number in Python's ``e`` format:
    ``1.2e-07`` as ``1.2 × 10⁻⁷``, ``1e-05`` as ``10⁻⁵``, with a minus sign for a hyphen and
    no-break spaces; anything else unchanged. The ``e`` is code's notation, not a reader's."""
    found = E_NOTATION.fullmatch(text.strip())
    if not found:
        return text
    sign, mantissa, exponent = found.groups()
    power = "10" + str(int(exponent)).translate(SUPERSCRIPT_DIGITS)
    minus = "\N{MINUS SIGN}" if sign else ""
    if float(mantissa) == 1:
        return minus + power
    return f"{minus}{mantissa}\N{NO-BREAK SPACE}×\N{NO-BREAK SPACE}{power}"


def typeset_glued_powers(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """A glued number the prose formats with ``e`` (``{glue:text}`eps:.0e```) typeset as a
    power of ten (:func:`power_of_ten`), in both editions; the cells' own outputs keep
    Python's notation, as code prints it."""
    for pasted in doctree.findall(nodes.inline):
        if "pasted-text" in pasted["classes"]:
            text = pasted.astext()
            typeset = power_of_ten(text)
            if typeset != text:
                pasted[:] = [nodes.Text(typeset)]


# --- accessible markup where the theme's or docutils' own fails axe-core ---------------------

def visit_hidden_code(self: Any, node: nodes.Element) -> None:
    """myst-nb's folded code cell (``hide-input``) without the ``aria-label`` it puts on the
    ``<summary>``: "Toggle hidden content" named a control that shows "Show code cell
    source", so the name did not contain the visible label (WCAG 2.5.3). The summary's name
    is now its visible text, which CSS switches between the two prompts."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n'
                     f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n'
                     f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n'
                     "</summary>\n")


def depart_hidden_code(self: Any, node: nodes.Element) -> None:
    self.body.append("</details>\n")


def visit_citation(self: Any, node: nodes.Element) -> None:
    """A bibliography entry as a list item of its ``role="list"``: docutils marks each entry
    ``role="doc-biblioentry"``, a role ARIA 1.2 deprecates, which leaves the list with no
    item (axe: aria-deprecated-role, aria-required-children)."""
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self: Any, node: nodes.Element) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def replace_inaccessible_markup(app: Sphinx) -> None:
    """Once every extension has registered its nodes (myst-nb's among them), write these two
    nodes the accessible way."""
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_code, depart_hidden_code))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))


# --- page weight ------------------------------------------------------------------------------

#: The Font Awesome icons the pages can show: the themes' buttons and navigation, the
#: launch, repository, edit and issue buttons where the site knows its repository.
ICONS = ("angle-left", "angle-right", "arrow-up", "bars", "bitbucket", "circle-half-stroke",
         "code", "download", "expand", "file", "file-lines", "file-pdf", "github", "gitlab",
         "home", "house", "lightbulb", "list", "magnifying-glass", "moon", "outdent", "pencil",
         "pencil-alt", "play", "rocket", "search", "spinner", "sun", "xmark")
#: One icon in the theme's bundle: ``name:[width,height,[aliases],"code","path"]``.
ICON_DEFINITION = re.compile(
    r'[,{]"?([a-z0-9-]+)"?:\[(\d+),(\d+),\[([^\]]*)\],"[0-9a-f]+","(M[^"]+)"\]')


def icon_subset_css(bundle: str) -> str:
    """CSS drawing ``ICONS`` from pydata-sphinx-theme's Font Awesome bundle: each ``<i
    class="fa-... fa-NAME">`` gets its SVG path as a mask coloured with the text colour.

    The theme loads all of Font Awesome as a 1.4 MB script on every page to show about
    twenty icons; this file is a few kilobytes. The bundle holds the brands, regular and
    solid sets in that order; the last definition of a name is the solid one the theme's
    ``fa-solid`` asks for."""
    paths: dict[str, tuple[str, str, str]] = {}
    for name, wide, high, aliases, path in ICON_DEFINITION.findall(bundle):
        for alias in [name, *re.findall(r'"([a-z0-9-]+)"', aliases)]:
            paths[alias] = (wide, high, path)
    rules = [# No Font Awesome web font either (the theme's CSS would fetch 150 kB for it).
             ".fa-solid,.fas,.fa-brands,.fab,.fa-regular,.far{font-family:inherit!important}",
             '.fa-solid::before,.fas::before,.fa-brands::before,.fab::before,'
             '.fa-regular::before,.far::before{content:"";display:inline-block;width:1.25em;'
             'height:1em;vertical-align:-0.125em;background-color:currentColor;'
             "-webkit-mask:var(--course-icon) no-repeat center/contain;"
             "mask:var(--course-icon) no-repeat center/contain}"]
    for name in ICONS:
        if name not in paths:
            raise ValueError(f"the theme's Font Awesome bundle has no icon {name!r}")
        wide, high, path = paths[name]
        svg = (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {wide} {high}'>"
               f"<path d='{path}'/></svg>")
        rules.append(f'.fa-{name}{{--course-icon:url("data:image/svg+xml,{quote_svg(svg)}")}}')
    return "\n".join(rules) + "\n"


def quote_svg(svg: str) -> str:
    return svg.replace("%", "%25").replace("#", "%23").replace("<", "%3C").replace(">", "%3E")


def write_icon_subset(app: Sphinx, exception: Exception | None) -> None:
    """``_static/course-icons.css``, the icons the pages show, in place of the theme's
    Font Awesome script (site/_templates/static/webpack-macros.html no longer loads it)."""
    if exception is not None or app.builder.format != "html":
        return
    import pydata_sphinx_theme

    bundle = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
              / "static" / "scripts" / "fontawesome.js").read_text(encoding="utf-8")
    target = Path(app.outdir) / "_static" / "course-icons.css"
    css = icon_subset_css(bundle)
    if not target.is_file() or target.read_text(encoding="utf-8") != css:
        target.write_text(css, encoding="utf-8")


def index_in_gojuon_order(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """The Japanese general index grouped by 五十音 row (site/gojuon.py), from the readings
    the glossary gives its terms."""
    if pagename == "genindex" and app.config.language == "ja" and "genindexentries" in context:
        context["genindexentries"] = group_by_row(context["genindexentries"])


def name_toggle_buttons(app: Sphinx) -> None:
    """sphinx-togglebutton names every fold's button "Toggle hidden content" in English (its
    script hard-codes it); once its script has added the buttons, give them the name in the
    page's language (site/locale)."""
    if app.builder.format != "html":
        return
    label = json.dumps(_("Toggle hidden content"), ensure_ascii=False)
    app.add_js_file(None, priority=600, body=(
        'document.addEventListener("DOMContentLoaded", function () {'
        ' document.querySelectorAll("button.toggle-button").forEach(function (button) {'
        f' button.setAttribute("aria-label", {label}); }}); }});'))


def add_theme_translations(app: Sphinx) -> None:
    """Japanese for the header buttons' words that sphinx-book-theme's catalog leaves in
    English ("Launch interactive content", "Launch on Binder"; site/locale/*/booktheme.po),
    compiled when the .po is newer and added behind the theme's own catalog."""
    from sphinx.util.i18n import CatalogInfo

    language = app.config.language or "en"
    folder = LOCALE / language / "LC_MESSAGES"
    if not (folder / "booktheme.po").is_file():
        return
    catalog = CatalogInfo(str(folder), "booktheme", "utf-8")
    if catalog.is_outdated():
        catalog.write_mo(language)
    app.add_message_catalog("booktheme", str(LOCALE))


def site_inputs() -> list[Path]:
    """What changes every page's HTML without changing any page's source: the theme's
    translations in site/locale, the Japanese search terms, and the code of the site's own
    Sphinx extensions (this module, the Japanese splitter, site/*.py)."""
    return [*LOCALE.glob("*/LC_MESSAGES/*.po"), SEARCH_TERMS, Path(__file__).resolve(),
            Path(__file__).resolve().with_name("search_ja.py"), *SITE_FILES.glob("*.py")]


def reread_when_translations_change(app: Sphinx, env: Any, added: set[str], changed: set[str],
                                    removed: set[str]) -> list[str]:
    """Every page again when one of :func:`site_inputs` is newer than the last build: Sphinx
    rewrites (and indexes for search) a page only when its source changed, so a corrected
    theme string stayed old on the pages not edited since, and a new search term was
    missing from them. (Templates need no help: Sphinx compares their times itself.)"""
    stamp = Path(app.outdir) / ".buildinfo"
    if stamp.is_file() and any(path.stat().st_mtime > stamp.stat().st_mtime
                               for path in site_inputs()):
        return sorted(env.found_docs)
    return []


def drop_mathjax_without_maths(app: Sphinx, pagename: str, templatename: str,
                               context: dict[str, Any], doctree: Any) -> None:
    """No MathJax (its configuration and its 1 MB of scripts) on a page with no formula."""
    body = context.get("body", "")
    if 'class="math' in body or "\\(" in body or "\\[" in body:
        return
    context["script_files"][:] = [
        script for script in context.get("script_files", [])
        if "mathjax" not in str(getattr(script, "filename", script) or "").lower()
        and "window.MathJax" not in str(getattr(script, "attributes", {}).get("body", ""))]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("course_editions", {}, "html")
    app.add_config_value("course_site_url", "", "html")
    # Before the theme builds its header buttons (priority 501); Sphinx stops calling
    # handlers of this event after the first that returns something, which some do.
    app.connect("html-page-context", add_edition_links, priority=400)
    app.connect("html-page-context", add_notebook_download, priority=400)
    app.connect("html-page-context", drop_repeated_scripts, priority=400)
    # After the theme has made its download menu (priority 501).
    app.connect("html-page-context", add_book_pdf_download, priority=510)
    # After sphinx-tsegsearch has put its Japanese search language in place (priority 500).
    app.connect("builder-inited", use_japanese_search_terms, priority=600)
    app.connect("build-finished", translate_search_messages)
    app.connect("builder-inited", replace_inaccessible_markup)
    app.connect("doctree-resolved", link_figures_to_full_size)
    app.connect("doctree-resolved", keep_punctuation_with_formulas)
    app.connect("doctree-resolved", typeset_glued_powers)
    # After sphinx.ext.mathjax has added its scripts (priority 500).
    app.connect("html-page-context", drop_mathjax_without_maths, priority=700)
    app.connect("build-finished", write_icon_subset)
    app.connect("html-page-context", index_in_gojuon_order)
    app.connect("builder-inited", name_toggle_buttons)
    add_theme_translations(app)
    app.connect("env-get-outdated", reread_when_translations_change)
    app.add_css_file("course-icons.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
