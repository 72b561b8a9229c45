"""A chapter's figure in both editions' languages, drawn from the same data.

The English and Japanese chapters share their code cells byte for byte, so a figure cannot
be drawn once per edition by different code. Instead the one cell draws it twice, once with
English words and once with Japanese, and glues both: ``name`` for the English page and
``name_ja`` for the Japanese one (``{glue:figure} name_ja``). The Japanese drawing uses a
Japanese font that the course installs with its packages (IPAexGothic from the pinned
``matplotlib-fontja``), so that no character is drawn as an empty box ("tofu").

Where no book is being built (Binder's plain notebook, Databricks, Colab) nothing is glued,
and the Japanese variant is not drawn at all.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from labkit.notebook import glue, gluing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The editions' languages; the first one's figure keeps the plain glue name.
LANGUAGES = ("en", "ja")
#: What the Japanese variant's glue name ends in.
JA_SUFFIX = "_ja"
#: The font the Japanese variants are drawn in, and the package that ships it.
JAPANESE_FONT = "IPAexGothic"
FONT_PACKAGE = "matplotlib_fontja"


def japanese_font_file() -> Path:
    """The font file of ``matplotlib-fontja``, found without importing the package (its
    import switches every figure of the session to the Japanese font)."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the Japanese figures need the font package matplotlib-fontja "
            "(pinned in requirements.txt; `make setup` installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"


@contextlib.contextmanager
def japanese_font() -> Iterator[None]:
    """Draw what is inside the ``with`` in the Japanese font (Latin letters and digits
    included, so that a label mixing both is set in one face)."""
    import matplotlib as mpl
    from matplotlib import font_manager

    path = str(japanese_font_file())
    if all(entry.fname != path for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    with mpl.rc_context({"font.family": [JAPANESE_FONT], "axes.unicode_minus": False}):
        yield


def glue_figures(name: str, draw: Callable[[str], Figure]) -> None:
    """Glue ``draw("en")`` as ``name`` and ``draw("ja")``, drawn in the Japanese font, as
    ``name_ja``. ``draw`` makes a new figure from the same data each time, taking its
    titles, labels and legends in the language it is given."""
    import matplotlib.pyplot as plt

    for language in LANGUAGES if gluing() else LANGUAGES[:1]:
        font = japanese_font() if language == "ja" else contextlib.nullcontext()
        with font:  # glued (rendered) inside too: the page's image is drawn at glue time
            figure = draw(language)
            glue(name if language == LANGUAGES[0] else name + JA_SUFFIX, figure)
        plt.close(figure)
