"""What the English and Japanese editions of a chapter must share, read from the MyST sources.

The Japanese edition reuses the English runs (same code cells, so the same jupyter-cache
entries) and the same glued numbers, figures, exercises, labels and cross-references; only
the prose differs. ``differences`` lists, file by file and line by line, where two editions of
a chapter part ways (a Japanese page may leave out a glue name the code asserts, listed with
its reason under ``glue_not_shown``: ``not_shown``, ``asserted``); ``english_sentences``
finds English prose left on a Japanese page.
``scripts/build_book.py`` refuses to build the Japanese edition while code cells or glue names
differ, and ``tests/test_editions.py`` checks all of it in ``make test``.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

#: A code cell, its options (``:tags:``) included: ```{code-cell} ipython3 ... ```.
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n.*?^```[ \t]*$", re.DOTALL | re.MULTILINE)
#: {glue}`name`, {glue:text}`name:.1%`, {glue:text}`other.md::name` and ```{glue:figure} name.
GLUE_ROLE = re.compile(
    r"\{glue(?::(?:any|text|md|math|figure))?\}`((?:[^`:]+::)?[^`:]+)(?::[^`]*)?`")
GLUE_DIRECTIVE = re.compile(
    r"^[`:]{3,}\{glue(?::(?:any|text|md|math|figure))?\}\s+(\S+)", re.MULTILINE)
#: A figure glued in both languages (labkit.figures.glue_figures): the Japanese page shows
#: ``name_ja``, the English page ``name``; both come from the same code cell.
JA_SUFFIX = "_ja"
JA_FIGURE = re.compile(r"^[`:]{3,}\{glue:figure\}\s+(\S+)_ja\s*$", re.MULTILINE)
FIGURE = re.compile(r"^[`:]{3,}\{glue:figure\}", re.MULTILINE)
#: An exercise's folded solution (book/CONVENTIONS.md).
SOLUTION = re.compile(r"^:class:\s*dropdown solution\s*$", re.MULTILINE)
#: ``(label)=`` before a heading and ``:name: label`` of a figure, table or equation.
LABEL = re.compile(r"^\(([^)\s]+)\)=\s*$|^:name:\s*(\S+)\s*$|^:label:\s*(\S+)\s*$",
                   re.MULTILINE)
#: Glue names a Japanese page uses in place of the English one: numbers about the page itself
#: (its reading time, counted by characters), glued by the same English run
#: (``labkit.notebook.ChapterClock``).
JAPANESE_VARIANTS = {"read_minutes_ja": "read_minutes"}
#: A species or island name, or a list, glued in both languages (``labkit.names.glue_names``,
#: ``labkit.names.glue_list``): the Japanese page may show ``name_ja`` where the English shows
#: ``name``, for exactly the names (or f-string patterns, such as ``f"species_on_{name}"``) the
#: English cells glue that way.
NAMES_GLUE = re.compile(r"""\bglue_(?:names|list)\(\s*(f?)(["'])(.+?)\2""")
#: A Japanese page's front matter may list glue names the English page shows and it does not,
#: each with its reason: ``glue_not_shown: {seen_Dream_Gentoo: 「1羽もいません」と書く}``.
NOT_SHOWN_KEY = "glue_not_shown"
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
#: ``glue("name", value)`` or ``glue(f"name_{x}", value)`` on one line of a code cell.
GLUE_CALL = re.compile(r"""\bglue\(\s*(f?)(["'])(.+?)\2\s*,\s*(.+)$""", re.MULTILINE)
#: Calls wrapped around a glued value; the first other word of the value is its variable.
WRAPPERS = frozenset("int float str bool len round abs sum min max".split())
#: {numref}`fig-x`, {ref}`text <label>`, {doc}`05-backpropagation`, {eq}`eq-x`, {cite:p}`key`;
#: the target is what is inside <...> when the role has its own text.
XREF = re.compile(r"\{(numref|ref|doc|eq|cite(?::[a-z]+)?|term|download)\}`([^`]*)`")


@dataclass(frozen=True)
class Chapter:
    """What one edition of a chapter contains besides its prose."""

    path: Path
    code_cells: tuple[tuple[int, str], ...]  # (line, cell text)
    glue_names: frozenset[str]
    figures: int
    exercises: int
    labels: frozenset[str]
    references: Counter

    @classmethod
    def read(cls, path: Path) -> Chapter:
        text = path.read_text(encoding="utf-8")
        cells = tuple((text.count("\n", 0, match.start()) + 1, match.group(0))
                      for match in CODE_CELL.finditer(text))
        prose = CODE_CELL.sub("", text)
        glue = {name.strip() for name in GLUE_ROLE.findall(prose) + GLUE_DIRECTIVE.findall(prose)}
        labels = {next(group for group in match if group) for match in LABEL.findall(prose)}
        references = Counter((role.split(":")[0], _target(body))
                             for role, body in XREF.findall(prose))
        return cls(path, cells, frozenset(glue), len(FIGURE.findall(prose)),
                   len(SOLUTION.findall(prose)), frozenset(labels), references)


def glued_names(path: Path) -> list[re.Pattern[str]]:
    """The names a chapter's code cells glue through ``glue_names`` or ``glue_list``, as
    patterns (an f-string's ``{...}`` matches any part of a name)."""
    cells = "\n".join(match.group(0) for match in
                      CODE_CELL.finditer(path.read_text(encoding="utf-8")))
    return [re.compile(".+".join(map(re.escape, re.split(r"\{[^}]*\}", name)))
                       if fstring else re.escape(name))
            for fstring, _, name in NAMES_GLUE.findall(cells)]


def _name_variant(name: str, english: Path) -> str:
    """``name`` with its ``_ja`` dropped where it is the Japanese twin of a species or
    island name (``glue_names`` in the chapter that glues it); otherwise ``name``."""
    chapter, _, plain = name.rpartition("::")
    base = plain.removesuffix(JA_SUFFIX)
    if base == plain:
        return name
    source = english.parent / chapter if chapter else english
    if source.is_file() and any(pattern.fullmatch(base) for pattern in glued_names(source)):
        return f"{chapter}::{base}" if chapter else base
    return name


def not_shown(path: Path) -> tuple[dict[str, str], list[str]]:
    """The glue names a Japanese page lists under ``glue_not_shown`` in its front matter,
    each with its reason, and a line for front matter that cannot be read that way.

    A Japanese sentence that says 「1羽もいません」 or 「すべてが」 reads badly with the
    number glued beside it, so the page may leave that number out, where the code asserts it
    instead (``asserted``)."""
    text = path.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, []
    try:
        listed = (yaml.safe_load(match.group(1)) or {}).get(NOT_SHOWN_KEY) or {}
    except yaml.YAMLError as error:
        return {}, [f"{path.as_posix()}: front matter is not YAML: {error}".splitlines()[0]]
    if not isinstance(listed, dict):
        line = text.count("\n", 0, text.index(NOT_SHOWN_KEY)) + 1
        return {}, [f"{path.as_posix()}:{line}: {NOT_SHOWN_KEY} must map each glue name to "
                    "the reason the page does not show it"]
    return {str(name): "" if reason is None else str(reason).strip()
            for name, reason in listed.items()}, []


def _words(line: str) -> set[str]:
    """The words of a line of code, split at anything but letters and digits, case ignored."""
    return {word.lower() for word in re.findall(r"[A-Za-z0-9]+", line)}


def asserted(name: str, code: str) -> bool:
    """Whether ``code`` asserts the value glued as ``name``, by a simple rule: one ``assert``
    line (its comment dropped) contains every word of the name (its parts between
    underscores, case ignored, a leading ``n`` for "number of" dropped), or the variable
    glued under the name (the first word of the value in ``glue("name", value)`` other than
    a wrapper such as ``int(``): ``glue("sweep_max", int(large.max()))`` is asserted by
    ``assert large.max() == 0``, ``seen_Dream_Gentoo`` by ``assert seen["Dream"]["Gentoo"]
    == 0``."""
    plain = name.rpartition("::")[2]
    parts = [part.lower() for part in plain.split("_") if part]
    if parts[:1] == ["n"] and len(parts) > 1:
        parts = parts[1:]
    variables = set()
    for fstring, _, glued, value in GLUE_CALL.findall(code):
        pattern = (".+".join(map(re.escape, re.split(r"\{[^}]*\}", glued)))
                   if fstring else re.escape(glued))
        if re.fullmatch(pattern, plain):
            identifiers = [word for word in re.findall(r"[A-Za-z_]\w*", value)
                           if word not in WRAPPERS]
            variables.update(identifiers[:1])
    for line in code.splitlines():
        if not line.strip().startswith("assert "):
            continue
        line = line.split("#")[0]
        if set(parts) <= _words(line) or variables & set(re.findall(r"[A-Za-z_]\w*", line)):
            return True
    return False


def _not_shown_differences(english: Chapter, japanese: Chapter, ja_glue: frozenset[str],
                           listed: dict[str, str]) -> list[str]:
    """One line per name listed under ``glue_not_shown`` that may not be left out: without a
    reason, shown anyway, not shown in English (so not glued for this page), or not asserted by
    the page's code. An unused listing is refused too, so that the lists cannot rot."""
    text = japanese.path.read_text(encoding="utf-8").split("\n")
    code = "\n".join(cell for _, cell in japanese.code_cells)
    found = []
    for name, reason in sorted(listed.items()):
        line = next((number for number, row in enumerate(text, start=1)
                     if row.strip().startswith(f"{name}:")), 1)
        where = f"{japanese.path.as_posix()}:{line}: glue name {name!r} in {NOT_SHOWN_KEY}"
        if not reason:
            found.append(f"{where} has no reason")
        if name in ja_glue:
            found.append(f"{where} is shown on the page all the same")
        elif name not in english.glue_names:
            found.append(f"{where} is not shown by the English page")
        elif not asserted(name, code):
            found.append(f"{where} is asserted by no assert line of the page's code (the "
                         "words of its name, or the variable glued under it)")
    return found


def _target(body: str) -> str:
    """The target of a role: ``text <target>`` or just ``target``."""
    match = re.search(r"<([^>]+)>\s*$", body)
    return (match.group(1) if match else body).strip()


def differences(english: Path, japanese: Path) -> list[str]:
    """One line per way in which the Japanese edition of a chapter departs from the English."""
    en, ja = Chapter.read(english), Chapter.read(japanese)
    where = japanese.as_posix()
    # The Japanese variant of a figure stands for the English one it is drawn beside.
    ja_figures = set(JA_FIGURE.findall(CODE_CELL.sub("", japanese.read_text(encoding="utf-8"))))
    ja = dataclasses.replace(ja, glue_names=frozenset(
        name.removesuffix(JA_SUFFIX) if name.removesuffix(JA_SUFFIX) in ja_figures else name
        for name in ja.glue_names))
    ja_glue = frozenset(JAPANESE_VARIANTS.get(name, _name_variant(name, english))
                        for name in ja.glue_names)
    listed, found = not_shown(japanese)
    found += _not_shown_differences(en, ja, ja_glue, listed)
    ja_glue |= frozenset(listed) & en.glue_names
    for name in sorted(JA_FIGURE.findall(CODE_CELL.sub("", english.read_text(encoding="utf-8")))):
        found.append(f"{english.as_posix()}: shows {name + JA_SUFFIX!r}, the Japanese variant "
                     f"of a figure (the English page shows {name!r})")
    for (en_line, en_cell), (ja_line, ja_cell) in zip(en.code_cells, ja.code_cells):
        if en_cell != ja_cell:
            found.append(f"{where}:{ja_line}: code cell differs from {english.name}:{en_line} "
                         "(code cells must be byte-identical)")
    if len(en.code_cells) != len(ja.code_cells):
        found.append(f"{where}: {len(ja.code_cells)} code cells, the English edition has "
                     f"{len(en.code_cells)}")
    for kind, en_set, ja_set in (("glue name", en.glue_names, ja_glue),
                                 ("label", en.labels, ja.labels)):
        for name in sorted(en_set - ja_set):
            found.append(f"{where}: {kind} {name!r} is used in English but not here")
        for name in sorted(ja_set - en_set):
            found.append(f"{where}: {kind} {name!r} is used here but not in English")
    for kind, en_count, ja_count in (("figures", en.figures, ja.figures),
                                     ("exercises", en.exercises, ja.exercises)):
        if en_count != ja_count:
            found.append(f"{where}: {ja_count} {kind}, the English edition has {en_count}")
    # The same targets, not the same counts: a translation may name a chapter once more or
    # once less (the Japanese glossary, in gojuon order, links its added terms too).
    for role, target in sorted(set(en.references) - set(ja.references)):
        found.append(f"{where}: {{{role}}}`{target}` is referred to in English but not here")
    for role, target in sorted(set(ja.references) - set(en.references)):
        found.append(f"{where}: {{{role}}}`{target}` is referred to here but not in English")
    return found


def code_and_glue_differences(english: Path, japanese: Path) -> list[str]:
    """The differences that break the build: the Japanese edition would execute code of
    its own, or show a number the English run never glued."""
    return [line for line in differences(english, japanese)
            if "code cell" in line or "glue name" in line]


# --- English prose on a Japanese page ---------------------------------------------------------

#: Words that make a run of Latin-script words a sentence rather than a name or identifier.
FUNCTION_WORDS = frozenset(
    "a an the of to is are was were be been and or but in on at for with from by as that "
    "this these those it its we you our your they their which what how why when where can "
    "will would should not no do does has have each every than then there here into".split())
#: Latin-script phrases a Japanese page may contain: names, titles and identifiers that
#: happen to contain one of the words above. Add to it where a page needs one.
ALLOWED_PHRASES = (
    "Train a deep learning model",
    "Palmer Station, Antarctica LTER",
    "Learning representations by back-propagating errors",
    "Adam: A Method for Stochastic Optimization",
    "Accurate, Large Minibatch SGD",
    "Horovod: fast and easy distributed deep learning in TensorFlow",
    "Running the course on Databricks",
)
#: What is not prose: front matter, code, maths, roles, directive options, labels, comments.
NOT_PROSE = [
    re.compile(r"\A---\n.*?\n---\n", re.DOTALL),
    CODE_CELL,
    re.compile(r"^(```+|~~~+)[^\n]*\n.*?^\1[ \t]*$", re.DOTALL | re.MULTILINE),
    re.compile(r"\$\$.*?\$\$", re.DOTALL),
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL),
    re.compile(r"\$[^$\n]+\$"),
    re.compile(r"\{[\w:-]+\}`[^`]*`"),
    re.compile(r"`[^`\n]*`"),
    re.compile(r"^:(?!alt:)[\w-]+:.*$", re.MULTILINE),
    re.compile(r"^[:`]{3,}.*$", re.MULTILINE),
    re.compile(r"^\([^)]*\)=\s*$", re.MULTILINE),
    re.compile(r"<!--.*?-->", re.DOTALL),
    re.compile(r"\]\([^)]*\)"),
    re.compile(r"https?://\S+"),
]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t]*[,;:]?[ \t]+[A-Za-z][A-Za-z'’-]*){3,}")


def english_sentences(path: Path) -> list[str]:
    """``file:line: text`` for each run of four or more English words, one of them a
    function word (the, of, is ...), in the prose of a page; names and identifiers pass."""
    text = path.read_text(encoding="utf-8")
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " " * len(phrase))
    for pattern in NOT_PROSE:
        # Keep line numbers: blank out what is not prose, newlines included as newlines.
        text = pattern.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)
    # A table row that has Japanese in it may give the English term beside it (a glossary).
    text = "\n".join(
        "|".join(cell if JAPANESE.search(cell) else " " * len(cell) for cell in line.split("|"))
        if line.lstrip().startswith("|") and JAPANESE.search(line) else line
        for line in text.split("\n"))
    found = []
    for match in LATIN_RUN.finditer(text):
        words = {word.lower() for word in re.findall(r"[A-Za-z']+", match.group(0))}
        if words & FUNCTION_WORDS:
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.as_posix()}:{line}: English sentence: {match.group(0)!r}")
    return found


# --- hard line breaks inside Japanese sentences -------------------------------------------------

#: Japanese script and full-width punctuation: a line break next to one of these inside a
#: paragraph shows as a space in the page (and in its Open Graph description), in the middle
#: of a sentence. Japanese has no spaces between words, so such a paragraph is one line.
WIDE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff60]")
#: A line that starts a block of its own rather than continuing the paragraph above it.
BLOCK_START = re.compile(r"[ \t]*(?:[-*+][ \t]|\d+\.[ \t]|#|\||:|```|~~~|\$\$|\([^)]*\)=|<)")
#: A fence of code or output (not a glossary or an admonition, whose text is prose).
CODE_FENCE = re.compile(r"^(```+|~~~+)(?![ \t]*\{(?:glossary|admonition|note|tip|warning|important|"
                        r"caution|hint|seealso|figure|glue:figure|table|dropdown)\})[^\n]*\n"
                        r".*?^\1[ \t]*$", re.DOTALL | re.MULTILINE)
LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d+\.)[ \t]")


def broken_lines(path: Path) -> list[str]:
    """``file:line: ...`` for each line break inside a paragraph (or a list item, or a
    glossary definition) next to a Japanese character. A formula on the other side counts
    too: the page keeps the break as a space between the formula and the Japanese text, which
    this book writes without one (a reviewer saw 「$…$ なので」 on chapter 3's page)."""
    text = path.read_text(encoding="utf-8")
    for pattern in (NOT_PROSE[0], CODE_CELL, CODE_FENCE, *NOT_PROSE[3:5]):
        text = pattern.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)
    lines = text.split("\n")
    found = []
    for number, (above, below) in enumerate(zip(lines, lines[1:]), start=1):
        if not above.strip() or not below.strip() or BLOCK_START.match(below):
            continue
        if BLOCK_START.match(above) and not LIST_ITEM.match(above):
            continue  # a heading, a table row, a directive's option: a line of its own
        indent = len(below) - len(below.lstrip())
        if indent > len(above) - len(above.lstrip()) and not LIST_ITEM.match(above):
            continue  # a glossary term's definition, indented under it
        last, first = above.rstrip()[-1], below.lstrip()[0]
        if WIDE.match(last) or WIDE.match(first):
            found.append(f"{path.as_posix()}:{number}: line break inside a Japanese sentence: "
                         f"…{above.rstrip()[-12:]}⏎{below.lstrip()[:12]}…")
    return found
