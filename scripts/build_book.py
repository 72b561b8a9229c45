"""Build both editions of the book the way `make book` and CI do, and print how long it took.

    python scripts/build_book.py [--builder html|linkcheck] [--edition en|ja] [--jobs N]

The site has two editions built from the same executed notebooks: English from `book/en/`
(configured by `_config.yml` and `_toc.yml` at the repository root) and Japanese from `book/ja/`
(the same configuration with `book/ja/_config-overrides.yml` on top, and `book/ja/_toc.yml`).
Jupyter Book 1.x builds one language at a time, so each edition is its own build, from its own
folder, into its own folder, and the site joins them:

    _build/html/index.html       sends the reader to /en/ or /ja/ (the browser's language)
    _build/html/en/ -> _build/en/html/    pages such as en/03-forward-pass.html
    _build/html/ja/ -> _build/ja/html/
    _build/.jupyter_cache        the execution cache both editions read

The Japanese build executes nothing: its code cells are the English ones byte for byte, so
jupyter-cache finds their runs. It is refused while a chapter's code cells or glue names
differ from the English (``parity.code_and_glue_differences``); where `book/ja/` has no
chapter yet, only the English edition is built.

jupyter-cache hashes a chapter's code cells only. A chapter that calls labkit gives different
results when labkit changes, yet its code cells stay the same, so the cache would keep serving
the old outputs. Before building we therefore hash everything the chapters' results depend on
besides their own code (labkit's source and data, and the lock: every version installed, not
only the hand-pinned ones) and, when that hash differs from the one stored with the cache,
drop the cached executions of every chapter that uses labkit and mark those chapters outdated
for Sphinx. They are then executed again; other
chapters keep their cached runs.

Executing the chapters is most of a cold build, and Jupyter Book runs them one after another.
Each chapter runs in its own kernel, so before handing over to Jupyter Book we execute every
chapter that has no cached run ourselves, several at a time (``--jobs``, one per CPU core by
default), the longest first, and store the runs in the same cache. Jupyter Book then finds
every chapter cached and only renders. The notebooks are read and executed with myst-nb's and
jupyter-cache's own functions, with the settings in ``_config.yml``, so the cached runs are
exactly the ones Jupyter Book would have made.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import copy
import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import parity  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
SITE = BUILD / "html"
STAMP_NAME = "labkit-inputs.sha256"
#: Seconds each chapter took to execute last time, for scheduling the longest first.
TIMINGS_NAME = "execution-seconds.json"
#: Files whose content changes the chapters' results without changing their code cells.
INPUTS = ("labkit/**/*.py", "labkit/dataset/*", "labkit/*.properties", "requirements-lock.txt")
#: MathJax, installed by `make setup` (scripts/install-mathjax.sh) and served from the site.
MATHJAX = ROOT / ".venv" / "mathjax" / "node_modules" / "mathjax" / "es5"


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


def input_files(root: Path = ROOT) -> list[Path]:
    files = {path for pattern in INPUTS for path in root.glob(pattern) if path.is_file()}
    return sorted(path for path in files if "__pycache__" not in path.parts)


def inputs_hash(root: Path = ROOT) -> str:
    """sha256 over the relative path and content of every input file."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


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


def invalidate_if_stale(root: Path = ROOT, cache_path: Path = CACHE) -> list[Path]:
    """Drop cached runs of labkit chapters when labkit's hash changed; return those chapters."""
    stamp = cache_path / STAMP_NAME
    current = inputs_hash(root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    stale: list[Path] = []
    if previous != current and cache_path.exists():
        from jupyter_cache import get_cache

        stale = [path for path in all_chapters(root) if uses_labkit(path)]
        cache = get_cache(cache_path)
        stale_uris = {str(path.resolve()) for path in stale}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in stale_uris:
                cache.remove_cache(record.pk)
        # Sphinx re-reads only sources newer than its last build; touch them so it does
        # (in both editions: the Japanese pages show the English runs' outputs).
        now = time.time()
        for path in stale:
            os.utime(path, (now, now))
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return stale


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


def read_notebook(path: Path):
    """The chapter as myst-nb reads it for Sphinx (same cells, tags and kernelspec, so the
    same jupyter-cache hash)."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    text = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), MdParserConfig(), NbParserConfig(), text)
    return reader.read(text)


def execute_settings(root: Path = ROOT) -> dict[str, Any]:
    """The ``execute`` settings of ``_config.yml`` that a run depends on."""
    import yaml

    execute = yaml.safe_load((root / "_config.yml").read_text())["execute"]
    return {"timeout": execute.get("timeout", 30),
            "allow_errors": execute.get("allow_errors", False)}


def execute_chapter(path: Path, settings: dict[str, Any]) -> tuple[Any, float, str | None]:
    """Run one chapter in a fresh kernel, in its own folder as Jupyter Book does
    (``run_in_temp: false``); returns the executed notebook, seconds and any traceback."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read_notebook(path)
    result = single_nb_execution(notebook, cwd=str(path.parent),
                                 allow_errors=settings["allow_errors"],
                                 timeout=settings["timeout"], meta_override=True)
    error = None if result.err is None else (result.exc_string or repr(result.err))
    return notebook, result.time, error


def uncached(paths: list[Path], cache_path: Path = CACHE) -> list[Path]:
    """The chapters with code cells that have no cached run matching their code."""
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    missing = []
    for path in paths:
        if "{code-cell}" not in path.read_text(encoding="utf-8"):
            continue
        try:
            cache.match_cache_notebook(read_notebook(path))
        except KeyError:
            missing.append(path)
    return missing


#: Calls that start other processes (a JVM, ranks, a training run): a chapter's run time is
#: mostly theirs. Used to guess which chapters are long before they have been timed once.
SLOW_CALLS = ("get_spark(", "prepare(spark", "HorovodRunner(", "run_torch_distributor(",
              "fit_penguin_net(")


def longest_first(paths: list[Path], timings: dict[str, float], root: Path = ROOT) -> list[Path]:
    """Order chapters by their last run time, longest first, so that the longest one starts
    at once instead of finishing last alone; untimed chapters are guessed from the calls
    they make."""
    def expected_seconds(path: Path) -> float:
        name = path.relative_to(root).as_posix()
        if name in timings:
            return timings[name]
        text = path.read_text(encoding="utf-8")
        return 10.0 + 20.0 * sum(text.count(call) for call in SLOW_CALLS)

    return sorted(paths, key=expected_seconds, reverse=True)


def execute_in_parallel(paths: list[Path], jobs: int, root: Path = ROOT,
                        cache_path: Path = CACHE) -> list[str]:
    """Execute ``paths`` ``jobs`` at a time, longest first, caching each run that succeeds.

    Returns one message per chapter that failed; their runs are not cached.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(cache_path)
    timings_file = cache_path / TIMINGS_NAME
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    order = longest_first(paths, timings, root)
    settings = execute_settings(root)
    failures = []
    # Separate processes, started fresh: each runs a kernel and waits on it.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(execute_chapter, path, settings): path for path in order}
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            name = path.relative_to(root).as_posix()
            notebook, seconds, error = future.result()
            if error is not None:
                failures.append(f"{name} raised an error:\n{error}")
                print(f"  {name}: FAILED after {seconds:.1f} s", flush=True)
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            timings[name] = round(seconds, 1)
            print(f"  {name}: executed in {seconds:.1f} s", flush=True)
    timings_file.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
    return failures


# --- the editions -----------------------------------------------------------------------------

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


#: Besides an edition's own generated configuration and the execution cache, what its pages
#: are made from: any change here renders the edition again.
RENDER_INPUTS = ("book/**/*", "_config.yml", "_toc.yml", "_static/**/*", "site/**/*")


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
            write_if_changed(sources / f"{old}.ipynb",
                             (sources / f"{new}.ipynb").read_text(encoding="utf-8"))
    return written


def renamed_pages(root: Path = ROOT) -> dict[str, str]:
    """Old page name -> new page name of every renamed chapter (``redirects`` in
    ``_config.yml``, which sphinx-reredirects turns into redirect pages in each edition)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    redirects = ((config.get("sphinx") or {}).get("config") or {}).get("redirects") or {}
    return {old: str(new).removesuffix(".html") for old, new in redirects.items()}


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


#: Held while a build reads and writes ``_build``.
LOCK_NAME = ".build.lock"


@contextlib.contextmanager
def exclusive_build(build_dir: Path = BUILD) -> Iterator[None]:
    """Hold ``_build``'s lock: one build at a time. Two builds at once (``make book`` beside
    the tests, or the test modules that build the book running in parallel workers) would
    execute the same chapters twice and write the same files at the same time; the second
    waits here instead and then finds the first one's work done (a rebuild with nothing
    changed takes about a second)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another build of {build_dir} to finish", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock, even if the build raised


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builder", default="html", choices=("html", "linkcheck"))
    parser.add_argument("--edition", choices=[edition.language for edition in EDITIONS],
                        help="build only this edition (default: every edition present)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="chapters executed at once (default: one per CPU core)")
    args = parser.parse_args(argv)

    present = editions_present()
    if len(present) < len(EDITIONS):
        print("book/ja has no chapter yet: building the English edition only", flush=True)
    problems = check_parity(present)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"book FAILED: the Japanese edition departs from the English in "
              f"{len(problems)} place(s) (code cells and glue names must match)", flush=True)
        return 1
    with exclusive_build():
        return build(args, present)


def build(args: argparse.Namespace, present: list[Edition]) -> int:
    """Execute what the cache lacks, render the chosen editions, join the site; timed from
    here (after any wait for another build)."""
    start = time.perf_counter()
    stale = invalidate_if_stale(ROOT, CACHE)
    if stale:
        names = ", ".join(sorted({path.stem for path in stale}))
        print(f"labkit changed: executing again {names}", flush=True)
    chosen = [edition for edition in present
              if args.edition in (None, edition.language)]
    if args.builder == "html":
        for edition in chosen:
            touch_pages_if_static_changed(edition.build_dir / "html", ROOT,
                                          chapters(ROOT, edition.toc))
    seconds: dict[str, float] = {}
    pending = uncached(chapters(ROOT, ENGLISH.toc), CACHE)
    if pending and args.jobs > 1:
        jobs = min(args.jobs, len(pending))
        print(f"executing {len(pending)} chapters, {jobs} at a time", flush=True)
        failures = execute_in_parallel(pending, jobs, ROOT, CACHE)
        seconds["execute"] = time.perf_counter() - start
        if failures:
            print("\n\n".join(failures), file=sys.stderr)
            print(f"book FAILED in {time.perf_counter() - start:.1f} s: "
                  f"{len(failures)} chapter(s) raised", flush=True)
            return 1
    for edition in chosen:
        if edition is not ENGLISH:
            # Every run must come from the cache: the Japanese build executes nothing.
            missing = uncached(chapters(ROOT, edition.toc), CACHE)
            if missing:
                print("no English run to reuse for "
                      + ", ".join(str(path.relative_to(ROOT)) for path in missing)
                      + ": build the English edition first", file=sys.stderr, flush=True)
                return 1
        began = time.perf_counter()
        write_edition_files(edition, present)
        stamp = edition.build_dir / f"{args.builder}.sha256"
        fingerprint = render_fingerprint(edition, args.builder)
        if (args.builder == "html" and (edition.build_dir / "html").is_dir() and stamp.is_file()
                and stamp.read_text().strip() == fingerprint):
            print(f"{edition.language}: nothing changed since the last build", flush=True)
            seconds[edition.language] = time.perf_counter() - began
            continue
        stamp.unlink(missing_ok=True)
        code = render(edition, args.builder)
        if code == 0 and args.builder == "html":
            write_executed_notebooks(edition)
            stamp.write_text(fingerprint + "\n")
        seconds[edition.language] = time.perf_counter() - began
        if code != 0:
            print(f"book FAILED in {time.perf_counter() - start:.1f} s ({edition.language}, "
                  f"{args.builder})", flush=True)
            return code
    if args.builder == "html":
        write_site_root(present)
    total = time.perf_counter() - start
    english = total - sum(seconds.get(edition.language, 0.0) for edition in present[1:])
    parts = [f"{name} {value:.1f} s" for name, value in seconds.items()]
    print(f"book built in {total:.1f} s ({args.builder}; " + ", ".join(parts) + ")", flush=True)
    if len(chosen) > 1:
        print(f"English-only build {english:.1f} s; both editions {total:.1f} s "
              f"= {total / english:.2f} x the English-only build", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
