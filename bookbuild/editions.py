"""The book's editions: English from ``book/en/`` (``_config.yml`` and ``_toc.yml`` at the
repository root) and Japanese from ``book/ja/`` (the same configuration with
``book/ja/_config-overrides.yml`` on top, and ``book/ja/_toc.yml``).

Jupyter Book 1.x builds one language at a time, so each edition is its own build, from its own
folder, into ``_build/<lang>/``, with a configuration and table of contents generated here.
The Japanese build is refused while a chapter's code cells or glue names differ from the
English (``parity.code_and_glue_differences``); where ``book/ja/`` has no chapter yet, only the
English edition is built.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

from bookbuild import parity
from bookbuild.paths import BUILD, CACHE, ROOT


@dataclass(frozen=True)
class Edition:
    """One language of the book: its source folder, table of contents and settings."""

    language: str
    label: str          # the language's name in itself, for the switch
    switch_title: str   # the switch's tooltip, in that language
    toc: Path
    overrides: Path | None = None

    @property
    def source(self) -> Path:
        return ROOT / "book" / self.language

    @property
    def build_dir(self) -> Path:
        return BUILD / self.language


EDITIONS = (
    Edition("en", "English", "Read this page in English", ROOT / "_toc.yml"),
    Edition("ja", "日本語", "このページを日本語で読む", ROOT / "book" / "ja" / "_toc.yml",
            ROOT / "book" / "ja" / "_config-overrides.yml"),
)
ENGLISH = EDITIONS[0]


def chapters(root: Path = ROOT, toc_file: Path | None = None) -> list[Path]:
    """The chapter files listed in a table of contents (the English ``_toc.yml`` unless
    given; root page included), in order. Entries are relative to the repository root."""
    import yaml

    toc = yaml.safe_load((toc_file or root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("chapters"))
            walk(entry.get("sections"))
            walk(entry.get("parts"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return [root / f"{name}.md" if not name.endswith((".md", ".ipynb")) else root / name
            for name in names]


def uses_labkit(path: Path) -> bool:
    return path.exists() and "labkit" in path.read_text(encoding="utf-8")


def all_chapters(root: Path = ROOT) -> list[Path]:
    """The chapters of every edition that has any (English first)."""
    if root != ROOT:
        return chapters(root)
    return [path for edition in editions_present() for path in chapters(root, edition.toc)]


def editions_present() -> list[Edition]:
    """English always; Japanese once ``book/ja/`` holds a chapter."""
    japanese = [edition for edition in EDITIONS[1:]
                if edition.toc.is_file() and any(edition.source.glob("*.md"))]
    return [ENGLISH, *japanese]


def merge(base: dict, overrides: dict) -> dict:
    """``overrides`` laid over ``base``: tables merge key by key, other values are replaced,
    except ``sphinx.extra_extensions``, which the overrides extend."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        elif key == "extra_extensions" and isinstance(merged.get(key), list):
            merged[key] = merged[key] + [name for name in value if name not in merged[key]]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def repository(config: dict) -> tuple[str, str] | None:
    """(URL, branch) of the repository the site is built from, for the launch, edit and
    issue buttons: in GitHub Actions the repository and branch being built, elsewhere
    ``repository.url`` and ``repository.branch`` of ``_config.yml``; None if neither."""
    if os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or "main"
        return f"{server}/{os.environ['GITHUB_REPOSITORY']}", branch
    settings = config.get("repository") or {}
    url = str(settings.get("url") or "").strip().removesuffix(".git")
    return (url, str(settings.get("branch") or "main")) if url else None


def site_url(config: dict) -> str:
    """Where the site is published, ending in '/': ``html.baseurl`` of ``_config.yml``, or in
    GitHub Actions the repository's GitHub Pages address; '' if unknown."""
    url = str((config.get("html") or {}).get("baseurl") or "").strip()
    if not url and os.environ.get("GITHUB_REPOSITORY"):
        owner, name = os.environ["GITHUB_REPOSITORY"].lower().split("/", 1)
        url = f"https://{owner}.github.io/" + ("" if name == f"{owner}.github.io" else name)
    return url.rstrip("/") + "/" if url else ""


def page_names(edition: Edition) -> list[str]:
    return [path.relative_to(edition.source).with_suffix("").as_posix()
            for path in chapters(ROOT, edition.toc)]


def edition_toc(edition: Edition) -> dict:
    """The edition's table of contents with entries relative to its own folder."""
    import yaml

    toc = yaml.safe_load(edition.toc.read_text(encoding="utf-8"))
    prefix = edition.source.relative_to(ROOT).as_posix() + "/"

    def local(name: str) -> str:
        if not name.startswith(prefix):
            raise SystemExit(f"{edition.toc.relative_to(ROOT)}: {name!r} is not in {prefix}")
        return name[len(prefix):]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                entry["file"] = local(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key))

    toc["root"] = local(toc["root"])
    for key in ("parts", "chapters"):
        walk(toc.get(key))
    return toc


def edition_config(edition: Edition, present: list[Edition]) -> dict:
    """The Jupyter Book configuration of one edition: ``_config.yml``, the edition's
    overrides on top, paths made absolute (each edition is built from its own folder), the
    repository and the site's address filled in, and what the course's extension needs."""
    import yaml

    base = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config = base
    if edition.overrides is not None:
        config = merge(base, yaml.safe_load(edition.overrides.read_text(encoding="utf-8")))

    def absolute(path: str) -> str:
        return str((ROOT / path).resolve())

    config["exclude_patterns"] = ["**/.ipynb_checkpoints"]
    config.setdefault("execute", {})["cache"] = str(CACHE)
    html = config.setdefault("html", {})
    for table, key in ((config, "logo"), (html, "favicon")):
        if table.get(key):
            table[key] = absolute(table[key])
    if config.get("bibtex_bibfiles"):
        files = config["bibtex_bibfiles"]
        config["bibtex_bibfiles"] = [absolute(name) for name in
                                     ([files] if isinstance(files, str) else files)]
    sphinx = config.setdefault("sphinx", {})
    sphinx["local_extensions"] = {name: absolute(path) for name, path in
                                  (sphinx.get("local_extensions") or {}).items()}
    options = sphinx.setdefault("config", {})
    options["html_static_path"] = [absolute(path) for path in options.get("html_static_path", [])]
    from bookbuild.siteroot import stage_mathjax  # (siteroot reads the editions)

    options["html_static_path"].append(str(stage_mathjax()))
    options["mathjax_path"] = "mathjax/tex-mml-chtml.js"
    options["templates_path"] = [absolute(path) for path in options.get("templates_path", [])]
    options["locale_dirs"] = [absolute(path) for path in options.get("locale_dirs", [])]

    found = repository(base)
    if found:
        url, branch = found
        config["repository"] = {"url": url, "branch": branch,
                                "path_to_book": edition.source.relative_to(ROOT).as_posix()}
    else:  # no repository: no launch, edit or issue button rather than broken ones
        config["repository"] = {}
        for key in ("use_issues_button", "use_edit_page_button", "use_repository_button"):
            html[key] = False
        config.setdefault("launch_buttons", {})["binderhub_url"] = ""
    address = site_url(base)
    html["baseurl"] = f"{address}{edition.language}/" if address else ""
    options["course_site_url"] = address
    options["ogp_site_url"] = html["baseurl"]
    options["ogp_site_name"] = options["project"] = config.get("title", "")
    if not address:  # the sitemap lists absolute addresses: none without the site's own
        sphinx["extra_extensions"] = [name for name in sphinx.get("extra_extensions", [])
                                      if name != "sphinx_sitemap"]
        for key in [key for key in options if key.startswith("sitemap_")]:
            del options[key]
    options["course_editions"] = {
        other.language: {"label": other.label, "switch_title": other.switch_title,
                         "root": page_names(other)[0], "pages": page_names(other)}
        for other in present}
    return config


def write_edition_files(edition: Edition, present: list[Edition]) -> tuple[Path, Path]:
    """Write the edition's generated ``_config.yml`` and ``_toc.yml`` (in ``_build/<lang>/``),
    leaving them untouched when nothing changed, so that Sphinx sees the same settings."""
    import yaml

    edition.build_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, content in (("_config.yml", edition_config(edition, present)),
                          ("_toc.yml", edition_toc(edition))):
        path = edition.build_dir / name
        text = ("# Generated by scripts/build_book.py: edit _config.yml, _toc.yml or "
                "book/ja/ instead.\n" + yaml.safe_dump(content, allow_unicode=True,
                                                       sort_keys=False))
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        files.append(path)
    return files[0], files[1]


def check_parity(present: list[Edition], root: Path = ROOT) -> list[str]:
    """Where a translated chapter's code cells or glue names differ from the English: the
    build stops there (the Japanese build would execute code, or lack a glued number)."""
    english = {path.name: path for path in chapters(root, present[0].toc)}
    problems = []
    for edition in present[1:]:
        for path in chapters(root, edition.toc):
            if not path.is_file():
                problems.append(f"{path.relative_to(root)}: listed in "
                                f"{edition.toc.relative_to(root)} but missing")
            elif path.name not in english:
                problems.append(f"{path.relative_to(root)}: no English chapter of that name")
            else:
                problems += parity.code_and_glue_differences(english[path.name], path)
    return problems


def renamed_pages(root: Path = ROOT) -> dict[str, str]:
    """Old page name -> new page name of every renamed chapter (``redirects`` in
    ``_config.yml``, which sphinx-reredirects turns into redirect pages in each edition)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    redirects = ((config.get("sphinx") or {}).get("config") or {}).get("redirects") or {}
    return {old: str(new).removesuffix(".html") for old, new in redirects.items()}
