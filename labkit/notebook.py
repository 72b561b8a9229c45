"""What a chapter needs from the notebook it runs in: numbers for its prose, and its clock.

When the book is built, every number the prose quotes comes from the chapter's own cells
through myst-nb's ``glue``: a cell stores a value under a name and the page pastes it where
the prose says ``{glue:text}`name```. Opened elsewhere (Binder, Databricks, a plain Jupyter),
a chapter has no page to paste into, and Databricks does not ship myst-nb. So :func:`glue`
stores the value where myst-nb is there to read it and does nothing otherwise: the chapter's
cells run unchanged everywhere.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from labkit.reading import (  # noqa: F401  (the clock's counting, re-exported)
    CODE_LINES_PER_MINUTE,
    WORDS_PER_MINUTE,
    reading_minutes,
)


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


class ChapterClock:
    """Started in a chapter's first cell; its :meth:`glue` in the last cell gives the
    objectives block at the top of the page ``read_minutes`` and ``run_seconds``.

    ``source`` is the chapter's file name: a chapter runs in its own folder when the book is
    built. Where the file is not beside the notebook (an exported ``.ipynb``), only the run
    time is measured. The Japanese edition is never executed (it shows the English runs), so
    the English run also times the Japanese page, ``../ja/<same name>``, by its characters
    and glues ``read_minutes_ja``, the one glue name a Japanese page may use in place of
    the English one (``scripts/parity.py``).
    """

    def __init__(self, source: str | os.PathLike[str]) -> None:
        self.source = Path(source)
        self.start = time.perf_counter()

    @property
    def japanese_source(self) -> Path:
        return self.source.parent / ".." / "ja" / self.source.name

    def glue(self) -> None:
        glue("run_seconds", time.perf_counter() - self.start)
        if self.source.is_file():
            glue("read_minutes", reading_minutes(self.source.read_text(encoding="utf-8"),
                                                 self.source.parent))
        japanese = self.japanese_source
        if japanese.is_file() and japanese.resolve() != self.source.resolve():
            glue("read_minutes_ja", reading_minutes(japanese.read_text(encoding="utf-8"),
                                                    japanese.parent, japanese=True))
