"""Launch links: a chapter opens in the course's Binder image with the course's current content.

The image is built from the ``binder-env`` branch, which changes only when the environment's
files change (scripts/binder_env.py), so mybinder.org keeps its built image across commits to
the chapters. The link starts that image and asks nbgitpuller (installed in it) to pull the
branch the site was built from into ``CONTENT_FOLDER`` and open the chapter there: the
mybinder.org way of keeping content apart from the environment.

As a Sphinx extension it rewrites the Binder button that sphinx-book-theme puts on each
notebook page (the theme's link would build an image from the content branch itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

if TYPE_CHECKING:  # scripts/binder_env.py imports this module with the standard library alone
    from sphinx.application import Sphinx

#: The branch the image is built from (published by .github/workflows/binder-env.yml).
ENV_BRANCH = "binder-env"
#: Where the content lands in the session, beside the environment's own files; postBuild
#: puts this folder on Python's path, so `import labkit` finds the content's labkit.
CONTENT_FOLDER = "penguin-course"


def git_pull_path(content_repo: str, branch: str, path: str) -> str:
    """The Jupyter server path at which nbgitpuller pulls ``branch`` of ``content_repo`` into
    ``CONTENT_FOLDER`` and then opens ``path`` (relative to the repository) in JupyterLab."""
    query = urlencode({"repo": content_repo, "branch": branch, "targetpath": CONTENT_FOLDER,
                       "urlpath": f"lab/tree/{CONTENT_FOLDER}/{path}"}, quote_via=quote)
    return f"git-pull?{query}"


def binder_url(binderhub: str, repo_url: str, branch: str, path: str,
               env_branch: str = ENV_BRANCH) -> str:
    """The launch link of the file ``path`` of ``repo_url`` at ``branch``: the image of the
    same repository's ``env_branch``, with the content pulled from ``branch``."""
    repo_url = repo_url.rstrip("/").removesuffix(".git")
    parts = urlsplit(repo_url)
    if parts.netloc == "github.com" and parts.path.count("/") == 2:
        spec = f"gh/{parts.path.strip('/')}/{env_branch}"
    else:  # any other git host: BinderHub's generic provider takes the whole URL
        spec = f"git/{quote(repo_url, safe='')}/{env_branch}"
    urlpath = quote(git_pull_path(repo_url, branch, path), safe="")
    return f"{binderhub.rstrip('/')}/v2/{spec}?urlpath={urlpath}"


def use_env_branch(app: Sphinx, pagename: str, templatename: str,
                   context: dict[str, Any], doctree: Any) -> None:
    """Point the page's Binder button at the environment branch, with the page's own file
    (as the theme found it: the ``.md``, or an ``.ipynb`` beside it) pulled as content."""
    options = app.config.html_theme_options
    repo_url, branch = options.get("repository_url"), options.get("repository_branch")
    if not repo_url or not branch:
        return
    binderhub = options.get("launch_buttons", {}).get("binderhub_url", "")
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("text") == "Binder":
                theirs = parse_qs(urlsplit(button["url"]).query)["urlpath"][0]
                path = theirs.split("/tree/", 1)[1]
                button["url"] = binder_url(binderhub, repo_url, branch, path)


def setup(app: Sphinx) -> dict[str, Any]:
    # After sphinx-book-theme's add_launch_buttons (priority 501) has made the buttons.
    app.connect("html-page-context", use_env_branch, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
