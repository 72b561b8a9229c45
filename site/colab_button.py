"""An "Open in Colab" button on every chapter, opening the chapter's Colab notebook.

sphinx-book-theme's own Colab button (``launch_buttons.colab_url``, left empty in
``_config.yml``) would open the page's source on the branch being built: a MyST ``.md``,
which Colab opens only as a text file, and without the set-up cell Colab needs (Java,
labkit). The notebooks Colab runs are on the generated ``notebooks`` branch, in
``colab/<language>/<chapter>.ipynb``: ``scripts/export_notebooks.py`` writes them and the
book workflow pushes them after a build of the default branch. So the button of a page built
from any branch opens the default branch's chapter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.locale import get_translation

COLAB = "https://colab.research.google.com"
#: Where the book workflow publishes the notebooks, and their folder there.
NOTEBOOKS_BRANCH = "notebooks"
COLAB_FOLDER = "colab"
#: A chapter: the pages scripts/export_notebooks.py exports (``02-data-with-spark``).
CHAPTER = re.compile(r"\d\d-[\w-]+")

_ = get_translation("booktheme")  # the theme's own words: "Launch on" is translated there


def colab_url(owner: str, name: str, language: str, pagename: str) -> str | None:
    """Colab's address of a chapter's notebook on the GitHub repository ``owner/name``;
    None for a page that is not a chapter."""
    if not CHAPTER.fullmatch(pagename):
        return None
    return (f"{COLAB}/github/{owner}/{name}/blob/{NOTEBOOKS_BRANCH}/"
            f"{COLAB_FOLDER}/{language}/{pagename}.ipynb")


def github_repository(repo_url: str) -> tuple[str, str] | None:
    """(owner, name) of a github.com repository address; None for any other address."""
    parts = urlsplit(repo_url.strip().rstrip("/").removesuffix(".git"))
    path = parts.path.strip("/").split("/")
    if parts.scheme != "https" or parts.netloc != "github.com" or len(path) != 2 or "" in path:
        return None
    return path[0], path[1]


def add_colab_button(app: Sphinx, pagename: str, templatename: str,
                     context: dict[str, Any], doctree: Any) -> None:
    """Add the button to the page's launch menu (made by the theme), or make the menu. Only
    for a repository on github.com, and only one the build was given (``repository_url``,
    as site/launch.py reads it): Jupyter Book fills the page context's ``github_user`` with
    its own repository when none is known, and a button there would open another project."""
    found = github_repository(app.config.html_theme_options.get("repository_url") or "")
    if found is None:
        return
    owner, name = found
    url = colab_url(owner, name, app.config.language or "en", pagename)
    if url is None or "header_buttons" not in context:
        return
    button = {"type": "link", "text": "Colab", "tooltip": _("Launch on") + " Colab",
              "icon": "_static/images/logo_colab.png", "url": url, "label": "colab-button"}
    for group in context["header_buttons"]:
        if group.get("label") == "launch-buttons":
            group["buttons"].append(button)
            return
    context["header_buttons"].append({"type": "group", "label": "launch-buttons",
                                      "tooltip": _("Launch interactive content"),
                                      "icon": "fas fa-rocket", "buttons": [button]})


def setup(app: Sphinx) -> dict[str, Any]:
    # After the theme's launch menu (priority 501), before the page is rendered.
    app.connect("html-page-context", add_colab_button, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
