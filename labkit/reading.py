"""How long a chapter takes to read: the estimate at the top of every page.

A learner reads more than prose. The estimate counts what a chapter shows unfolded: its prose,
its display equations, its code cells and the labkit code it quotes with ``{literalinclude}``
(the named object or lines, else the whole file). Hidden and removed cells (figures, glue) are
not read. Japanese prose is counted by characters, since it has no spaces between words.

The speeds are assumptions, stated here so that a reader can weigh them:

- English technical prose at 200 words a minute (the lower end of the 200-300 usually quoted
  for careful reading of non-fiction);
- Japanese technical prose at 400 characters a minute (the lower end of the 400-600 usually
  quoted for adult readers of Japanese);
- code at 15 lines a minute, a line being read, not skimmed;
- half a minute for each line of a display equation (a row of an ``aligned`` block counts as
  a line), the time to read it and match its symbols to the text around it.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

WORDS_PER_MINUTE = 200
JAPANESE_CHARACTERS_PER_MINUTE = 400
CODE_LINES_PER_MINUTE = 15
MINUTES_PER_EQUATION = 0.5

HEADER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
HIDDEN = re.compile(r"^:tags:.*\b(hide|remove)-(input|cell)\b", re.MULTILINE)
LITERALINCLUDE = re.compile(r"^```\{literalinclude\}[ \t]+(\S+)[^\n]*\n(.*?)^```",
                            re.DOTALL | re.MULTILINE)
#: ``$$ ... $$`` and ```{math} ... ``` (or :::{math}) blocks.
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$|^(```|:::)\{math\}[^\n]*\n.*?^\1",
                          re.DOTALL | re.MULTILINE)
OPTION = re.compile(r"^:[\w-]+:.*$", re.MULTILINE)
JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")


def reading_minutes(source: str, folder: Path | str | None = None,
                    japanese: bool = False) -> int:
    """Minutes to read a MyST chapter, rounded up to a multiple of five.

    ``folder`` is where the chapter lives, so that its ``{literalinclude}`` paths can be
    read; without it, quoted files are not counted. ``japanese`` counts the prose by
    characters (and any Latin words in it by words)."""
    body = HEADER.sub("", source)
    cells = CODE_CELL.findall(body)
    code_lines = sum(_lines(cell) for cell in cells if not HIDDEN.search(cell))
    if folder is not None:
        code_lines += sum(len(included_lines(Path(folder) / path, options))
                          for path, options in LITERALINCLUDE.findall(body))
    prose = CODE_CELL.sub("", body)
    prose = LITERALINCLUDE.sub("", prose)
    equations = sum(equation_lines(match.group(0)) for match in DISPLAY_MATH.finditer(prose))
    prose = OPTION.sub("", DISPLAY_MATH.sub("", prose))
    minutes = (prose_minutes(prose, japanese) + equations * MINUTES_PER_EQUATION
               + code_lines / CODE_LINES_PER_MINUTE)
    return max(5, 5 * math.ceil(minutes / 5))


def prose_minutes(prose: str, japanese: bool = False) -> float:
    """Minutes for prose: words, or for Japanese its characters plus any Latin words."""
    if not japanese:
        return len(re.findall(r"\w+", prose)) / WORDS_PER_MINUTE
    characters = len(JAPANESE.findall(prose))
    latin_words = len(re.findall(r"[A-Za-z0-9_]+", JAPANESE.sub(" ", prose)))
    return characters / JAPANESE_CHARACTERS_PER_MINUTE + latin_words / WORDS_PER_MINUTE


def equation_lines(display: str) -> int:
    """Lines of a display equation: its rows separated by ``\\\\`` that hold something."""
    inner = re.sub(r"\$\$|^(```|:::)[^\n]*$|\\(begin|end)\{[^}]*\}", " ", display, flags=re.M)
    rows = re.split(r"\\\\(?![A-Za-z])", inner)
    return max(1, sum(1 for row in rows if row.strip()))


def _lines(cell: str) -> int:
    """Lines of code in a cell: not blank, not a cell option such as ``:tags:``."""
    return sum(1 for line in cell.splitlines() if line.strip() and not line.startswith(":"))


def included_lines(path: Path, options: str) -> list[str]:
    """The non-blank lines a ``{literalinclude}`` shows: its ``:pyobject:``, else its
    ``:lines:``, else the whole file. A missing file or object counts as nothing (the book
    build reports those itself)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    named = dict(re.findall(r"^:([\w-]+):[ \t]*(.*?)[ \t]*$", options, re.MULTILINE))
    if "pyobject" in named:
        span = _object_span(path.read_text(encoding="utf-8"), named["pyobject"])
        lines = lines[span[0] - 1:span[1]] if span else []
    elif "lines" in named:
        wanted = _line_numbers(named["lines"], len(lines))
        lines = [line for number, line in enumerate(lines, 1) if number in wanted]
    return [line for line in lines if line.strip()]


def _object_span(code: str, dotted: str) -> tuple[int, int] | None:
    """First and last line of a function or class (``Class.method`` too), decorators
    included, as Sphinx's ``:pyobject:`` shows it."""
    scope: list[ast.stmt] = ast.parse(code).body
    node = None
    for name in dotted.split("."):
        node = next((item for item in scope
                     if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and item.name == name), None)
        if node is None:
            return None
        scope = node.body
    assert node is not None and node.end_lineno is not None
    first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
    return first, node.end_lineno


def _line_numbers(spec: str, count: int) -> set[int]:
    """Sphinx's ``:lines:`` syntax: ``1,3,5-10,20-`` (1-based, inclusive)."""
    numbers: set[int] = set()
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        start = int(first) if first else 1
        end = (int(last) if last else count) if dash else start
        numbers.update(range(start, end + 1))
    return numbers
