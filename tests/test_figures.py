"""The Japanese variants of the figures (labkit.figures): the font the course installs draws
every Japanese character the edition uses (no "tofu" boxes: matplotlib's "Glyph ... missing
from font" warning is an error here), and one cell glues a figure under two names, each
drawn in its own language, in a real Jupyter kernel as the book's build runs it."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from labkit.figures import JA_SUFFIX, japanese_font, japanese_font_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Kana, kanji and full-width punctuation: what a Japanese caption, label or legend is made of.
JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]")


def japanese_characters() -> str:
    """Every Japanese character of the Japanese edition, the team's glossary included: any of
    them may end up in a figure's labels."""
    text = "".join(path.read_text(encoding="utf-8")
                   for path in sorted((ROOT / "book" / "ja").glob("*.md")))
    text += (ROOT / "book" / "CONVENTIONS.md").read_text(encoding="utf-8")
    return "".join(sorted(set(JAPANESE.findall(text))))


def draw(text: str, fmt: str, tmp_path: Path) -> None:
    """Draw ``text`` as a title, tick labels and a legend, and write the figure."""
    fig, ax = plt.subplots(figsize=(8, 2))
    lines = [text[i:i + 60] for i in range(0, len(text), 60)]
    ax.set_title(lines[0])
    ax.plot([0, 1], [0, -1], label="損失（訓練データ）")
    ax.set_xlabel("エポック")
    ax.legend()
    for i, line in enumerate(lines[1:]):
        fig.text(0, i / max(len(lines), 1), line)
    fig.savefig(tmp_path / f"figure.{fmt}", format=fmt)
    plt.close(fig)


def test_the_font_comes_with_the_course_s_packages():
    assert japanese_font_file().is_file()
    # Finding it did not switch the session's figures to it (the package's import would).
    assert "IPAexGothic" not in matplotlib.rcParams["font.family"]


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_every_japanese_character_of_the_edition_has_a_glyph(fmt, tmp_path):
    characters = japanese_characters()
    assert len(characters) > 500, "the edition's Japanese text was not read"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font")
        with japanese_font():
            draw(characters, fmt, tmp_path)


def test_without_the_font_the_same_text_is_tofu(tmp_path):
    """The check above can fail: in matplotlib's default font the characters are missing."""
    with pytest.warns(UserWarning, match="missing from font"):
        draw("順伝播と損失関数", "png", tmp_path)


CELL = '''
import matplotlib
import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats
set_matplotlib_formats("svg")
from labkit.figures import glue_figures

WORDS = {"en": ("epoch", "loss"), "ja": ("エポック", "損失")}

def draw(language):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [1.0, 0.6, 0.4])
    ax.set_xlabel(WORDS[language][0])
    ax.set_ylabel(WORDS[language][1])
    return fig

glue_figures("fig_loss", draw)
print(matplotlib.rcParams["font.family"])
'''


def test_one_cell_glues_the_figure_in_both_languages():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = notebook.cells[0].outputs
    # myst-nb's glue: display data under papermill's record prefix, named in the metadata.
    glued = {output["metadata"]["scrapbook"]["name"]: {
                 mime.removeprefix("application/papermill.record/"): value
                 for mime, value in output["data"].items()} for output in outputs
             if output.get("output_type") == "display_data"
             and "scrapbook" in output.get("metadata", {})}
    assert sorted(glued) == ["fig_loss", "fig_loss" + JA_SUFFIX]
    assert all("image/svg+xml" in data for data in glued.values()), glued
    english, japanese = glued["fig_loss"]["image/svg+xml"], glued["fig_loss_ja"]["image/svg+xml"]
    assert english != japanese
    # SVG text is drawn as glyph paths, each named after its font and character.
    assert "IPAexGothic" in japanese and "IPAexGothic" not in english
    streams = "".join(output.get("text", "") for output in outputs
                      if output.get("output_type") == "stream")
    assert "missing from font" not in streams, streams
    # The session's own font is left as it was for the cells after it.
    assert "IPAexGothic" not in streams
