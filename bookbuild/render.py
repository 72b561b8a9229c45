"""Rendering an edition with Jupyter Book from the execution cache (nothing is executed here),
skipped when nothing it reads has changed, and the executed notebooks the pages offer."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from bookbuild.editions import (
    Edition,
    chapters,
    editions_present,
    renamed_pages,
    write_edition_files,
)
from bookbuild.execute import inputs_hash, read_notebook
from bookbuild.paths import CACHE, ROOT

#: Folders copied into every edition's ``_static`` (the stylesheet, the logo, the favicon).
STATIC_DIRS = ("_static", "site/static")


def touch_pages_if_static_changed(html_dir: Path, root: Path = ROOT,
                                  pages: list[Path] | None = None) -> bool:
    """Sphinx copies ``_static`` only when some page is rebuilt, and each page links its CSS
    with a checksum of the file. So when a file in ``_static`` differs from its copy in the
    site, touch every page's source: the pages are rendered again (from the execution
    cache) and link the new file."""
    def differs(static: Path, path: Path) -> bool:
        copy = html_dir / "_static" / path.relative_to(static)
        return not copy.is_file() or copy.read_bytes() != path.read_bytes()

    changed = [path for static in (root / name for name in STATIC_DIRS) if static.is_dir()
               for path in static.rglob("*") if path.is_file() and differs(static, path)]
    if changed and html_dir.is_dir():
        now = time.time()
        for page in (pages if pages is not None else chapters(root)):
            if page.exists():
                os.utime(page, (now, now))
    return bool(changed)


#: Besides an edition's own generated configuration and the execution cache, what its pages
#: are made from: any change here renders the edition again.
RENDER_INPUTS = ("book/**/*", "_config.yml", "_toc.yml", "_static/**/*", "site/**/*",
                 "bookbuild/course_site.py", "bookbuild/search_ja.py")


def render_fingerprint(edition: Edition, builder: str) -> str:
    """sha256 over everything a render of ``edition`` reads: its sources and the files it
    shows or includes, the configuration, the stylesheet and the site extension, labkit
    (included with literalinclude), and the cached runs. Sphinx itself would find nothing
    to do either, but only after some seconds of starting up."""
    from jupyter_cache import get_cache

    digest = hashlib.sha256(builder.encode() + b"\0" + inputs_hash().encode())
    files = {path for pattern in RENDER_INPUTS for path in ROOT.glob(pattern) if path.is_file()}
    files |= {edition.build_dir / "_config.yml", edition.build_dir / "_toc.yml"}
    for path in sorted(files):
        if "__pycache__" in path.parts or path.suffix == ".mo":
            continue
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    records = sorted((record.pk, record.hashkey)
                     for record in get_cache(CACHE).list_cache_records())
    digest.update(repr(records).encode())
    return digest.hexdigest()


def render(edition: Edition, builder: str) -> int:
    """Build one edition with Jupyter Book (its own configuration machinery, -W -n), from
    the edition's folder into ``_build/<lang>/<builder>``; a separate process per edition."""
    config, toc = write_edition_files(edition, editions_present())
    code = ("import sys; from jupyter_book.sphinx import build_sphinx; "
            "sys.exit(build_sphinx(sys.argv[1], sys.argv[2], noconfig=True, "
            "path_config=sys.argv[3], confoverrides={'external_toc_path': sys.argv[4], "
            "'nitpicky': True, 'latex_individualpages': False}, builder=sys.argv[5], "
            "warningiserror=True))")
    command = [sys.executable, "-c", code, str(edition.source),
               str(edition.build_dir / builder), str(config), str(toc), builder]
    # "-W", "-n": warnings are errors and every reference must resolve, as with
    # `jupyter-book build -W -n`.
    return subprocess.run(command, cwd=ROOT).returncode


def write_executed_notebooks(edition: Edition) -> int:
    """Each chapter's executed notebook, its outputs merged from the execution cache, as
    ``_sources/<page>.ipynb`` of the edition's site (the page's .ipynb download); returns how
    many were written. A Japanese notebook has Japanese prose and the English run's outputs."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(CACHE)
    written = 0
    for path in chapters(ROOT, edition.toc):
        if not path.is_file() or "{code-cell}" not in path.read_text(encoding="utf-8"):
            continue
        _, notebook = cache.merge_match_into_notebook(read_notebook(path))
        target = edition.build_dir / "html" / "_sources" / f"{path.stem}.ipynb"
        text = nbformat.writes(notebook)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written += 1
    # A renamed chapter's old address is a redirect page (sphinx-reredirects); a download
    # cannot redirect, so its old notebook name serves the renamed chapter's notebook.
    sources = edition.build_dir / "html" / "_sources"
    for old, new in renamed_pages().items():
        if (sources / f"{new}.ipynb").is_file():
            text = (sources / f"{new}.ipynb").read_text(encoding="utf-8")
            target = sources / f"{old}.ipynb"
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
    return written

