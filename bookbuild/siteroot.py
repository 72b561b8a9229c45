"""The site around the editions (``_build/html``): the root page that sends a reader to their
language, links to the editions' build folders, a sitemap index; and the parts of MathJax the
pages serve.

    _build/html/index.html       sends the reader to /en/ or /ja/ (the browser's language)
    _build/html/en/ -> _build/en/html/    pages such as en/03-forward-pass.html
    _build/html/ja/ -> _build/ja/html/
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from bookbuild.editions import EDITIONS, Edition, site_url
from bookbuild.paths import BUILD, MATHJAX, ROOT, SITE


def stage_mathjax() -> Path:
    """The parts of MathJax the pages use, in a folder Sphinx copies into ``_static``: the
    TeX-to-HTML component, its fonts and the extensions it loads on demand."""
    staged = BUILD / "mathjax-static"
    target = staged / "mathjax"
    if not (MATHJAX / "tex-mml-chtml.js").is_file():
        raise SystemExit(f"MathJax is missing ({MATHJAX.relative_to(ROOT)}): run make setup, "
                         "which installs it with npm (scripts/install-mathjax.sh)")
    parts = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions",
             "ui", "a11y", "sre")
    for part in parts:
        source, copy_to = MATHJAX / part, target / part
        if source.is_dir() and not copy_to.is_dir():
            shutil.copytree(source, copy_to)
        elif source.is_file() and not copy_to.is_file():
            copy_to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy_to)
    return staged



ROOT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{alternates}
<script>
  // The reader's first language that the site has, English otherwise.
  var editions = {languages};
  var chosen = "en";
  var wanted = navigator.languages || [navigator.language || "en"];
  for (var i = 0; i < wanted.length; i++) {{
    var code = String(wanted[i]).toLowerCase().split("-")[0];
    if (editions.indexOf(code) >= 0) {{ chosen = code; break; }}
  }}
  location.replace(chosen + "/" + location.hash);
</script>
<noscript><meta http-equiv="refresh" content="0; url=en/"></noscript>
</head>
<body>
<ul>
{links}
</ul>
</body>
</html>
"""


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (a page being read meanwhile is never
    seen half-written by a rebuild that changes nothing)."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_site_root(present: list[Edition]) -> None:
    """``_build/html``: the root page that sends a reader to their language, the editions
    (links to their build folders), and a sitemap index when the site's address is known."""
    import yaml

    SITE.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    for edition in EDITIONS:
        link = SITE / edition.language
        target = Path("..") / edition.language / "html"
        if edition in present and link.is_symlink() and Path(os.readlink(link)) == target:
            continue  # as it was: a browser reading the site meanwhile never sees it missing
        if link.is_symlink() or link.exists():
            if not link.is_symlink():
                shutil.rmtree(link)
            else:
                link.unlink()
        if edition in present:
            link.symlink_to(target, target_is_directory=True)
    titles = {edition.language: edition.label for edition in present}
    page = ROOT_PAGE.format(
        title=config.get("title", ""),
        languages=json.dumps(list(titles)),
        alternates="\n".join(f'<link rel="alternate" hreflang="{language}" href="{language}/">'
                             for language in titles),
        links="\n".join(f'<li><a href="{language}/" hreflang="{language}" lang="{language}">'
                        f"{label}</a></li>" for language, label in titles.items()))
    write_if_changed(SITE / "index.html", page)
    write_if_changed(SITE / ".nojekyll", "")
    address = site_url(config)
    sitemap = SITE / "sitemap.xml"
    if address:
        entries = "".join(f"  <sitemap><loc>{address}{language}/sitemap.xml</loc></sitemap>\n"
                          for language in titles)
        write_if_changed(sitemap, '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex '
                         'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                         f"{entries}</sitemapindex>\n")
    elif sitemap.exists():
        sitemap.unlink()

