"""The Japanese index in 五十音 order: glossary terms grouped by the row of their reading.

Sphinx sorts and groups its general index by code point, so 活性化関数 and 確信度 landed in
two groups headed by their kanji, in no order a Japanese reader knows. A glossary term may
carry its reading as its index key (``活性化関数（activation function） : かっせいかかんすう``,
Sphinx's ``term : key`` syntax); Sphinx then sorts by that key but heads each term's group
with the whole key. :func:`group_by_row` regroups the index under the rows あ, か, さ ... わ,
each sorted by reading the way a Japanese dictionary sorts (voiced and small kana and the
long-vowel mark count as their plain kana).
"""

from __future__ import annotations

import unicodedata
from typing import Any

#: The rows of the 五十音 table, each headed by its first kana; ん goes with わ.
ROWS = ("あいうえお", "かきくけこ", "さしすせそ", "たちつてと", "なにぬねの",
        "はひふへほ", "まみむめも", "やゆよ", "らりるれろ", "わをん")
SMALL = str.maketrans("ぁぃぅぇぉっゃゅょゎ", "あいうえおつやゆよわ")


#: The vowel each kana ends in, for the long-vowel mark: シャード sorts as しやあと.
VOWELS = {kana: "あいうえお"[i] for kanas in ROWS[:7] + ROWS[8:9] for i, kana in enumerate(kanas)}
VOWELS.update({"や": "あ", "ゆ": "う", "よ": "お", "わ": "あ", "を": "お"})


def plain(reading: str) -> str:
    """A reading as a dictionary compares it: hiragana, no voicing marks, small kana full
    size, the long-vowel mark read as the vowel before it."""
    hiragana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in reading)
    bare = "".join(c for c in unicodedata.normalize("NFD", hiragana)
                   if c not in "\u3099\u309a").translate(SMALL)
    out = ""
    for c in bare:
        out += VOWELS.get(out[-1:], "") if c == "ー" else c
    return out


def row(reading: str) -> str | None:
    """The 五十音 row (its first kana) of a reading, or None for what is not kana."""
    first = plain(reading)[:1]
    return next((kana[0] for kana in ROWS if first and first in kana), None)


def sort_key(reading: str) -> tuple[str, str]:
    """Plain kana first, then the reading itself (は before ば before ぱ)."""
    return plain(reading), unicodedata.normalize("NFD", reading)


def group_by_row(entries: list[tuple[str, list]]) -> list[tuple[str, list]]:
    """Sphinx's ``genindexentries`` with every group whose heading is a reading merged into
    its 五十音 row; other groups (A, O, symbols) stay first, as Sphinx ordered them."""
    others: list[tuple[str, list]] = []
    rows: dict[str, list[Any]] = {}
    for heading, items in entries:
        kana_row = row(heading)
        if kana_row is None:
            others.append((heading, items))
            continue
        for item in items:
            reading = item[1][2] or heading  # (term, [targets, sub-entries, index key])
            rows.setdefault(kana_row, []).append((sort_key(reading), item))
    ordered = [(kana[0], [item for _, item in sorted(rows[kana[0]], key=lambda x: x[0])])
               for kana in ROWS if kana[0] in rows]
    return others + ordered
