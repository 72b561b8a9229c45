"""The data's species and island names in the Japanese edition's sentences.

The two editions share their code cells, so a cell that glues a name from the data
(``Adelie``, ``Dream``) glues the same English word for both pages. A Japanese sentence reads
アデリーペンギン and ドリーム島 instead (the course's glossary), so :func:`glue_names` glues the
name twice: as ``name`` for the English page and, in Japanese, as ``name_ja`` for the
Japanese one (``{glue:text}`name_ja```). A list of numbers (seeds, nodes) has the same
problem with its separator: English writes "0, 2, 8", Japanese (JTF style) 「0、2、8」, so
:func:`glue_list` glues it both ways. ``bookbuild/parity.py`` accepts a ``_ja`` name on the
Japanese page only where the English page's cells glue it through one of these functions.
"""

from __future__ import annotations

from collections.abc import Iterable

from labkit.notebook import glue

#: Each species and island of the data as the Japanese edition writes it (book/CONVENTIONS.md).
JAPANESE_NAMES: dict[str, str] = {
    "Adelie": "アデリーペンギン",
    "Gentoo": "ジェンツーペンギン",
    "Chinstrap": "ヒゲペンギン",
    "Biscoe": "ビスコー島",
    "Dream": "ドリーム島",
    "Torgersen": "トージャーセン島",
}
#: What the Japanese variant's glue name ends in.
JA_SUFFIX = "_ja"


def japanese_name(name: str) -> str:
    """The Japanese for one species or island of the data; any other name is refused, so
    that a typo cannot print an English word into a Japanese sentence."""
    try:
        return JAPANESE_NAMES[name]
    except KeyError:
        raise ValueError(f"{name!r} is no species or island of the data "
                         f"(known: {', '.join(JAPANESE_NAMES)})") from None


def glue_names(name: str, value: str | Iterable[str]) -> None:
    """Glue a species or island name, or a list of them, as ``name`` (English, a list
    joined by ", ") and as ``name_ja`` (Japanese, joined by "、")."""
    names = [value] if isinstance(value, str) else [str(item) for item in value]
    japanese = [japanese_name(item) for item in names]  # refuse before gluing anything
    glue(name, ", ".join(names))
    glue(name + JA_SUFFIX, "、".join(japanese))


def glue_list(name: str, items: Iterable[object]) -> None:
    """Glue a list of numbers or identifiers as ``name`` (joined by ", ", for the English
    page) and as ``name_ja`` (joined by "、", as Japanese lists are), so that no English
    comma lands in a Japanese sentence."""
    texts = [str(item) for item in items]
    glue(name, ", ".join(texts))
    glue(name + JA_SUFFIX, "、".join(texts))
