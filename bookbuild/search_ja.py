"""The Japanese search's two halves split words alike: the index (built here, in Python) and
the typed query (split in the browser by sphinx-tsegsearch's TinySegmenter).

Sphinx's Python port of TinySegmenter (``sphinx.search.ja.DefaultSplitter``, Sphinx 7.4)
scores the third previous boundary with the first table (``UQ1__[p3 + c3]`` where
TinySegmenter has ``UQ3__``), so it splits some words otherwise than the browser does: 隠れ層
became 隠れ and 層 in the index and stayed 隠れ層 in the query, and a search for 隠れ層 found
nothing. :class:`BrowserSplitter` is the port with the browser's scoring.

The course's terms (``site/search-terms-ja.txt``) are one word on both sides: the index adds
a page's terms whole, and :data:`QUERY_SPLITTER_JS` joins the segments of a typed query that
together spell a term, so that 死んだノード is looked up as 死んだノード, not as 死ん and ノード
(which every page about a cluster's nodes contains).
"""

from __future__ import annotations

import json

from sphinx.search.ja import DefaultSplitter


class BrowserSplitter(DefaultSplitter):
    """TinySegmenter as the browser runs it (``tiny_segmenter.js``)."""

    def split(self, input: str) -> list[str]:
        if not input:
            return []
        result = []
        seg = ["B3", "B2", "B1", *input, "E1", "E2", "E3"]
        ctype = ["O", "O", "O", *map(self.ctype_, input), "O", "O", "O"]
        word = seg[3]
        p1 = p2 = p3 = "U"
        ts = self.ts_
        for i in range(4, len(seg) - 3):
            w1, w2, w3, w4, w5, w6 = seg[i - 3:i + 3]
            c1, c2, c3, c4, c5, c6 = ctype[i - 3:i + 3]
            score = (self.BIAS__
                     + ts(self.UP1__, p1) + ts(self.UP2__, p2) + ts(self.UP3__, p3)
                     + ts(self.BP1__, p1 + p2) + ts(self.BP2__, p2 + p3)
                     + ts(self.UW1__, w1) + ts(self.UW2__, w2) + ts(self.UW3__, w3)
                     + ts(self.UW4__, w4) + ts(self.UW5__, w5) + ts(self.UW6__, w6)
                     + ts(self.BW1__, w2 + w3) + ts(self.BW2__, w3 + w4)
                     + ts(self.BW3__, w4 + w5)
                     + ts(self.TW1__, w1 + w2 + w3) + ts(self.TW2__, w2 + w3 + w4)
                     + ts(self.TW3__, w3 + w4 + w5) + ts(self.TW4__, w4 + w5 + w6)
                     + ts(self.UC1__, c1) + ts(self.UC2__, c2) + ts(self.UC3__, c3)
                     + ts(self.UC4__, c4) + ts(self.UC5__, c5) + ts(self.UC6__, c6)
                     + ts(self.BC1__, c2 + c3) + ts(self.BC2__, c3 + c4)
                     + ts(self.BC3__, c4 + c5)
                     + ts(self.TC1__, c1 + c2 + c3) + ts(self.TC2__, c2 + c3 + c4)
                     + ts(self.TC3__, c3 + c4 + c5) + ts(self.TC4__, c4 + c5 + c6)
                     + ts(self.UQ1__, p1 + c1) + ts(self.UQ2__, p2 + c2)
                     + ts(self.UQ3__, p3 + c3)  # Sphinx's port: UQ1__ here
                     + ts(self.BQ1__, p2 + c2 + c3) + ts(self.BQ2__, p2 + c3 + c4)
                     + ts(self.BQ3__, p3 + c2 + c3) + ts(self.BQ4__, p3 + c3 + c4)
                     + ts(self.TQ1__, p2 + c1 + c2 + c3) + ts(self.TQ2__, p2 + c2 + c3 + c4)
                     + ts(self.TQ3__, p3 + c1 + c2 + c3) + ts(self.TQ4__, p3 + c2 + c3 + c4))
            p = "O"
            if score > 0:
                result.append(word.strip())
                word = ""
                p = "B"
            p1, p2, p3 = p2, p3, p
            word += seg[i]
        result.append(word.strip())
        return result


#: The query splitter: sphinx-tsegsearch's ``splitChars`` and ``TinySegmenter`` (its scripts
#: define them), with the course's terms kept whole. ``%s`` is the terms, as a JSON list.
QUERY_SPLITTER_JS = """
var courseTerms = new Set(%s);
function splitQuery(query) {
    var segmenter = new TinySegmenter();
    var words = [];
    var lower = query.toLowerCase();
    // A term with a space in it (the lab's 「トレーニング データ」) as typed.
    courseTerms.forEach(function (term) {
        if (/\\s/.test(term) && lower.indexOf(term) !== -1) {
            words.push(term);
            lower = lower.split(term).join(" ");
        }
    });
    var run = "";
    function flush() {
        var parts = run ? segmenter.segment(run) : [];
        for (var i = 0; i < parts.length;) {
            var word = parts[i], end = i + 1, joined = parts[i];
            for (var j = i + 1; j < parts.length; j++) {
                joined += parts[j];
                if (courseTerms.has(joined)) { word = joined; end = j + 1; }
            }
            words.push(word);
            i = end;
        }
        run = "";
    }
    for (var k = 0; k < lower.length; k++) {
        if (splitChars[lower.charCodeAt(k)]) flush();
        else run += lower[k];
    }
    flush();
    return words.filter(function (word) { return word.length > 1; });
}
"""


def query_splitter_js(tsegsearch_code: str, terms: tuple[str, ...]) -> str:
    """sphinx-tsegsearch's splitter code with its ``splitQuery`` replaced by the one above."""
    base = tsegsearch_code.replace("function splitQuery(", "function tsegsearchSplitQuery(")
    listed = json.dumps(sorted({term.lower() for term in terms}), ensure_ascii=False)
    return base + QUERY_SPLITTER_JS % listed
