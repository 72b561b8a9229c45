"""Is each Japanese page still a translation of its English page? Current or stale, by section.

    python scripts/ja_status.py [--book book] [--mark NAME|all]

Each page in book/ja/ records, in its front matter, which English text it translates: a short
hash of the prose of every section of book/en/<same name>.md (code cells excluded: they are
byte-identical between the editions and the build already refuses a difference there)::

    translation:
      source_hash:
        '# The data, prepared with Spark': 3f9c0a1b2d4e
        '## Starting Spark': 8a7b6c5d4e3f

Without ``--mark`` the command lists every Japanese page as ``current`` or ``stale``, naming
the English sections whose prose changed (or appeared, or went) since the page was marked, and
exits 1 when any page is stale. A translator who has brought a page up to date marks it
current: ``--mark 09-input-scale`` (``make ja-status MARK=09-input-scale``) writes the English
page's present hashes into the Japanese page's front matter and changes nothing else.
Bad input (no English page, unreadable front matter, an unknown page to mark) is one line
naming the file, and exit status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bookbuild.parity import CODE_CELL  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FRONT_MATTER = re.compile(r"\A---\n(.*?\n)---\n", re.DOTALL)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
#: The block this command owns in a Japanese page's front matter: the key and its indented lines.
TRANSLATION_BLOCK = re.compile(r"^translation:[^\n]*\n(?:[ \t]+[^\n]*\n|\n)*", re.MULTILINE)


class BadInput(Exception):
    """One line naming the file (and line) that cannot be read as the command expects."""


def section_hashes(english: str) -> dict[str, str]:
    """``{heading: hash}`` of an English page's prose, section by section. The text before the
    first heading counts as a section named ``(top)``; whitespace-only changes (rewrapping a
    paragraph) do not count as changes."""
    body = FRONT_MATTER.sub("", english, count=1)
    prose = CODE_CELL.sub("", body)
    sections: dict[str, str] = {}
    starts = list(HEADING.finditer(prose))
    pieces = [("(top)", prose[: starts[0].start()] if starts else prose)]
    for match, following in zip(starts, starts[1:] + [None]):
        end = following.start() if following else len(prose)
        name = f"{match.group(1)} {match.group(2)}"
        pieces.append((name, prose[match.end():end]))
    for name, text in pieces:
        words = " ".join(text.split())
        if name == "(top)" and not words:
            continue
        key, n = name, 2
        while key in sections:  # two sections with the same heading: keep both
            key, n = f"{name} ({n})", n + 1
        sections[key] = hashlib.sha256(words.encode("utf-8")).hexdigest()[:12]
    return sections


def recorded_hashes(japanese: Path) -> dict[str, str] | None:
    """The hashes a Japanese page was marked with, or None when it was never marked."""
    text = japanese.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        return None  # a page without front matter (the glossary, say) was never marked
    try:
        header = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{mark.line + 2}:{mark.column + 1}" if mark else "1:1"
        raise BadInput(f"{japanese}:{where}: front matter is not YAML "
                       f"({getattr(error, 'problem', None) or error})") from None
    translation = header.get("translation") if isinstance(header, dict) else None
    if translation is None:
        return None
    hashes = translation.get("source_hash") if isinstance(translation, dict) else None
    if not isinstance(hashes, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in hashes.items()):
        line = text[: match.start(1) + (match.group(1).find("translation:") + 1)].count("\n") + 1
        raise BadInput(f"{japanese}:{line}:1: 'translation' must hold 'source_hash', "
                       "a mapping of English section headings to hashes")
    return hashes


@dataclass
class Status:
    page: Path
    changed: list[str]
    added: list[str]
    removed: list[str]
    marked: bool = True

    @property
    def current(self) -> bool:
        return self.marked and not (self.changed or self.added or self.removed)

    def line(self) -> str:
        if not self.marked:
            return f"{self.page}: stale: never marked (check it against the English, then mark it)"
        if self.current:
            return f"{self.page}: current"
        parts = [f"{label}: " + ", ".join(repr(name) for name in names)
                 for label, names in (("English changed", self.changed),
                                      ("new in English", self.added),
                                      ("gone from English", self.removed)) if names]
        return f"{self.page}: stale: " + "; ".join(parts)


def pairs(book: Path) -> list[tuple[Path, Path]]:
    """(English, Japanese) for every Japanese page; a Japanese page with no English one is bad
    input."""
    found = []
    for japanese in sorted((book / "ja").glob("*.md")):
        english = book / "en" / japanese.name
        if not english.is_file():
            raise BadInput(f"{japanese}:1:1: no English page {english} to translate")
        found.append((english, japanese))
    return found


def untranslated(book: Path) -> list[Path]:
    return [english for english in sorted((book / "en").glob("*.md"))
            if not (book / "ja" / english.name).exists()]


def status(english: Path, japanese: Path) -> Status:
    now = section_hashes(english.read_text(encoding="utf-8"))
    then = recorded_hashes(japanese)
    if then is None:
        return Status(japanese, [], [], [], marked=False)
    return Status(japanese,
                  changed=[name for name in now if name in then and now[name] != then[name]],
                  added=[name for name in now if name not in then],
                  removed=[name for name in then if name not in now])


def marked_text(english: Path, japanese: Path) -> str:
    """The Japanese page with its ``translation`` block replaced by the English page's present
    hashes; the rest of the page byte for byte as it was."""
    text = japanese.read_text(encoding="utf-8")
    recorded_hashes(japanese)  # refuses a page whose front matter cannot be read
    match = FRONT_MATTER.match(text)
    header = TRANSLATION_BLOCK.sub("", match.group(1)) if match else ""
    block = yaml.safe_dump({"translation": {"source_hash": section_hashes(
        english.read_text(encoding="utf-8"))}}, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{header}{block}---\n" + text[match.end() if match else 0:]


def write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=Path(os.path.relpath(ROOT / "book")),
                        help="the folder holding en/ and ja/ (default: book)")
    parser.add_argument("--mark", metavar="NAME",
                        help="mark book/ja/NAME.md current ('all': every page)")
    args = parser.parse_args(argv)
    try:
        if not (args.book / "ja").is_dir():
            raise BadInput(f"{args.book / 'ja'}: no such folder")
        found = pairs(args.book)
        if args.mark:
            names = [japanese.stem for _, japanese in found]
            wanted = names if args.mark == "all" else [args.mark.removesuffix(".md")]
            unknown = [name for name in wanted if name not in names]
            if unknown:
                raise BadInput(f"{args.book / 'ja' / (unknown[0] + '.md')}: no such Japanese page "
                               f"to mark (pages: {', '.join(names)})")
            # Read everything first, then write: a bad page leaves every page as it was.
            texts = {japanese: marked_text(english, japanese)
                     for english, japanese in found if japanese.stem in wanted}
            for japanese, text in texts.items():
                write_atomically(japanese, text)
                print(f"{japanese}: marked current")
            return 0
        statuses = [status(english, japanese) for english, japanese in found]
    except BadInput as error:
        print(f"ja_status: {error}", file=sys.stderr)
        return 2
    for each in statuses:
        print(each.line())
    for english in untranslated(args.book):
        print(f"{english}: no Japanese page yet (the Japanese edition leaves it out)")
    stale = [each for each in statuses if not each.current]
    if stale:
        print(f"{len(stale)} of {len(statuses)} Japanese pages are stale: update each against "
              "its English page, then `make ja-status MARK=<name>`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
