"""What a chapter needs from the notebook it runs in: numbers for its prose, and its clock.

When the book is built, every number the prose quotes comes from the chapter's own cells
through myst-nb's ``glue``: a cell stores a value under a name and the page pastes it where
the prose says ``{glue:text}`name```. Opened elsewhere (Binder, Databricks, a plain Jupyter),
a chapter has no page to paste into, and Databricks does not ship myst-nb. So :func:`glue`
stores the value where myst-nb is there to read it and does nothing otherwise: the chapter's
cells run unchanged everywhere.
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path
from typing import Any

#: Reading speeds for the estimate at the top of each chapter: prose words, lines of code.
WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 15


def gluing() -> bool:
    """Whether :func:`glue` stores anything here: myst-nb is installed and this is not
    Databricks."""
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return False
    import importlib.util

    return importlib.util.find_spec("myst_nb") is not None


def glue(name: str, value: Any, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the page's prose (myst-nb's ``glue``), or do
    nothing where no book is being built from this notebook."""
    if not gluing():
        return
    from myst_nb import glue as myst_nb_glue

    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        # A NumPy or torch scalar: its text is "np.float64(0.44)" since NumPy 2, which the
        # page's {glue:text}`name:.1%` cannot format. Glue the plain Python number instead.
        value = value.item()
    myst_nb_glue(name, value, display=display)


def reading_minutes(source: str) -> int:
    """Minutes to read a MyST chapter: its prose at ``WORDS_PER_MINUTE``, the code it shows
    unfolded at ``CODE_LINES_PER_MINUTE``, rounded up to a multiple of five."""
    body = re.sub(r"\A---\n.*?\n---\n", "", source, flags=re.DOTALL)  # the jupytext header
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", body, flags=re.DOTALL | re.M)
    # Code a reader sees unfolded; hidden or removed cells (figures, glue) are not read.
    code = [cell for cell in cells
            if not re.search(r"^:tags:.*\b(hide|remove)-(input|cell)\b", cell, re.M)]
    prose = re.sub(r"^```\{code-cell\}.*?^```", "", body, flags=re.DOTALL | re.M)
    prose = re.sub(r"^:[\w-]+:.*$", "", prose, flags=re.M)  # directive options
    words = len(re.findall(r"\w+", prose))
    code_lines = sum(1 for cell in code for line in cell.splitlines()
                     if line.strip() and not line.startswith(":"))
    minutes = words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE
    return max(5, 5 * math.ceil(minutes / 5))


class ChapterClock:
    """Started in a chapter's first cell; its :meth:`glue` in the last cell gives the
    objectives block at the top of the page ``read_minutes`` and ``run_seconds``.

    ``source`` is the chapter's file name: a chapter runs in its own folder when the book is
    built. Where the file is not beside the notebook (an exported ``.ipynb``), only the run
    time is measured.
    """

    def __init__(self, source: str | os.PathLike[str]) -> None:
        self.source = Path(source)
        self.start = time.perf_counter()

    def glue(self) -> None:
        glue("run_seconds", time.perf_counter() - self.start)
        if self.source.is_file():
            glue("read_minutes", reading_minutes(self.source.read_text(encoding="utf-8")))
