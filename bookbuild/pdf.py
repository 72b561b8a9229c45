"""``make pdf``: each edition as one PDF, ``_build/pdf/en.pdf`` and ``_build/pdf/ja.pdf``.

    python scripts/build_pdf.py [--edition en|ja]

Each edition is rendered once more by Sphinx as a single page (the ``singlehtml`` builder),
from the same execution cache as the site: nothing is executed, and a chapter without a
cached run stops the PDF with a message to run ``make book`` first. Chromium, the browser
the site's tests already use, then prints that page through the DevTools protocol
(``Page.printToPDF``): bookmarks from the headings (``generateDocumentOutline``), a tagged
PDF, page numbers in the footer, the fonts embedded (Noto CJK for Japanese, which the
browser breaks into lines by the Japanese rules). Before printing, ``pdf.js`` makes every
chapter a first-level heading, adds a title page and a table of contents, unfolds the
exercises' solutions, waits for MathJax, and scales wide formulas and tables to the column;
``pdf.css`` keeps only the article, wraps code and starts each chapter on a new page.

Why the browser rather than LaTeX: measured on this project's machine (README, "The book as
PDF"), Chromium and the CJK fonts are installed already for the site's tests, while Sphinx's
LaTeX route for both languages needs TeX Live (texlive-latex-extra, -lang-japanese, -xetex,
latexmk: 507 MB to download, 1.5 GB installed), and the maths, the figures (SVG, which
LaTeX cannot include without converting) and the page's own markup would be typeset by a
second engine that the site never uses.

The PDFs are written whole or not at all (a temporary file renamed into place), and
``_build/html/pdf`` links to ``_build/pdf`` so that the site's download menu ("the whole
book (PDF)", course_site.py) finds them; the Actions workflow publishes them with the site.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from bookbuild.editions import EDITIONS, Edition, chapters, editions_present
from bookbuild.execute import uncached
from bookbuild.paths import BUILD, CACHE, ROOT, SITE
from bookbuild.render import render, render_fingerprint

PDF_DIR = BUILD / "pdf"
HERE = Path(__file__).resolve().parent
#: What the title page and the table of contents say, in each edition's language.
WORDS = {
    "en": {"edition": "English edition", "contents": "Contents"},
    "ja": {"edition": "日本語版", "contents": "目次"},
}
#: A4, in inches (Page.printToPDF's unit); margins leave room for the page number.
PAPER = {"paperWidth": 8.27, "paperHeight": 11.69, "marginTop": 0.7, "marginBottom": 0.8,
         "marginLeft": 0.75, "marginRight": 0.75}
#: The text column's width in CSS pixels (96 to the inch).
COLUMN_PX = round((PAPER["paperWidth"] - PAPER["marginLeft"] - PAPER["marginRight"]) * 96)
FOOTER = ('<div style="width:100%;text-align:center;font-size:9px;font-family:sans-serif;'
          'color:#444"><span class="pageNumber"></span> / <span class="totalPages"></span>'
          "</div>")


class PdfError(Exception):
    """Why a PDF could not be made, in one line."""


def chromium() -> tuple[str, str]:
    """The browser and its driver, as the site's tests find them."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise PdfError("make pdf needs chromium and chromedriver: apt-get install chromium "
                       "chromium-driver fonts-noto-cjk (.ci/run does, as root)")
    return browser, driver


def single_page(edition: Edition) -> Path:
    """The edition rendered as one HTML page from the execution cache (rendered again only
    when what it reads changed); returns the page."""
    missing = uncached(chapters(ROOT, edition.toc), CACHE)
    if missing:
        names = ", ".join(str(path.relative_to(ROOT)) for path in missing)
        raise PdfError(f"no executed run of {names}: run make book first (make pdf "
                       "executes nothing)")
    outdir = edition.build_dir / "singlehtml"
    stamp = edition.build_dir / "singlehtml.sha256"
    fingerprint = render_fingerprint(edition, "singlehtml")
    if not (outdir.is_dir() and stamp.is_file() and stamp.read_text().strip() == fingerprint):
        stamp.unlink(missing_ok=True)
        if render(edition, "singlehtml") != 0:
            raise PdfError(f"{edition.language}: the single-page build failed (above)")
        stamp.write_text(fingerprint + "\n")
    root = chapters(ROOT, edition.toc)[0].stem
    return outdir / f"{root}.html"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` on a free local port (MathJax loads its parts over HTTP)."""
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def print_page(url: str, language: str, book: dict[str, str], profile: Path) -> tuple[bytes, dict]:
    """Open ``url`` in headless Chromium, prepare it (pdf.js) and print it; returns the PDF
    and what pdf.js reported (chapters, formulas and tables scaled, raw TeX left)."""
    from selenium import webdriver

    browser, driver_path = chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--user-data-dir={profile}", f"--lang={language}",
                 f"--window-size={COLUMN_PX},1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=driver_path))
    try:
        driver.set_page_load_timeout(300)
        driver.set_script_timeout(600)
        # Lay the page out as it is printed (print media, a window as wide as A4's text
        # column), so that pdf.js measures what is too wide for the paper.
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        driver.get(url)
        css = (HERE / "pdf.css").read_text(encoding="utf-8")
        report = driver.execute_async_script((HERE / "pdf.js").read_text(encoding="utf-8"),
                                             css, book)
        if not isinstance(report, dict) or "error" in report:
            raise PdfError(f"{language}: preparing the page for print failed: {report}")
        result = driver.execute_cdp_cmd("Page.printToPDF", {
            **PAPER, "printBackground": True, "preferCSSPageSize": False,
            "displayHeaderFooter": True, "headerTemplate": "<div></div>",
            "footerTemplate": FOOTER, "generateDocumentOutline": True,
            "generateTaggedPDF": True})
        return base64.b64decode(result["data"]), report
    finally:
        driver.quit()


def title_bookmarks(data: bytes, titles: list[str]) -> bytes:
    """The PDF with its bookmarks titled ``titles`` (the printed headings, in order).
    Chromium makes a bookmark per heading but titles it with the heading's text as laid out:
    a heading that wraps loses the space at the break, and one moved to the next page can
    appear twice."""
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    items = []

    def walk(node) -> None:
        while node is not None:
            node = node.get_object()
            items.append(node)
            walk(node.get("/First"))
            node = node.get("/Next")

    outlines = writer.root_object.get("/Outlines")
    walk(outlines.get_object().get("/First") if outlines is not None else None)
    if len(items) != len(titles):
        raise PdfError(f"{len(items)} bookmarks for {len(titles)} headings: the outline does "
                       "not follow the headings")
    for item, title in zip(items, titles):
        item[NameObject("/Title")] = TextStringObject(title)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_pdf(edition: Edition) -> tuple[Path, dict]:
    """``_build/pdf/<language>.pdf`` from the edition's single page; returns it and pdf.js's
    report."""
    import yaml

    page = single_page(edition)
    config = yaml.safe_load((edition.build_dir / "_config.yml").read_text(encoding="utf-8"))
    book = {"title": str(config.get("title", "")), "author": str(config.get("author", "")),
            "root": page.stem, **WORDS[edition.language]}
    server = serve(page.parent)
    try:
        with tempfile.TemporaryDirectory(prefix="course-pdf-") as profile:
            url = f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
            data, report = print_page(url, edition.language, book, Path(profile))
        data = title_bookmarks(data, report["headings"])
    finally:
        server.shutdown()
        server.server_close()
    PDF_DIR.mkdir(parents=True, exist_ok=True)
    target = PDF_DIR / f"{edition.language}.pdf"
    partial = target.with_suffix(".pdf.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target, report


def link_into_site() -> None:
    """``_build/html/pdf`` -> ``_build/pdf``: the download menu's links resolve locally and
    in the published site (the Pages upload follows links)."""
    if not SITE.is_dir():
        return
    link = SITE / "pdf"
    if link.is_symlink() and os.readlink(link) == "../pdf":
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.symlink_to("../pdf", target_is_directory=True)


def main(argv: list[str] | None = None) -> int:
    from bookbuild.book import exclusive_build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", choices=[edition.language for edition in EDITIONS],
                        help="only this edition (default: every edition present)")
    args = parser.parse_args(argv)
    with exclusive_build():
        start = time.perf_counter()
        parts = []
        for edition in editions_present():
            if args.edition not in (None, edition.language):
                continue
            began = time.perf_counter()
            try:
                target, report = build_pdf(edition)
            except PdfError as error:
                print(f"pdf FAILED: {error}", file=sys.stderr, flush=True)
                return 1
            seconds = time.perf_counter() - began
            parts.append(f"{edition.language} {seconds:.1f} s")
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1e6:.1f} MB, "
                  f"{len(report['chapters'])} chapters, {report['figures']} figures, "
                  f"{report['scaled']} wide formulas/tables scaled, {seconds:.1f} s",
                  flush=True)
            (PDF_DIR / f"{edition.language}.json").write_text(json.dumps(report, indent=1,
                                                                         ensure_ascii=False))
        link_into_site()
        print(f"pdf built in {time.perf_counter() - start:.1f} s ({', '.join(parts)})",
              flush=True)
    return 0
