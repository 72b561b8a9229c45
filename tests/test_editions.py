"""The English and Japanese editions agree: same pages, byte-identical code cells, the same glued
names, figures, exercises, labels and cross-references, and no English prose on a Japanese page.

These read the MyST sources only (no build). While ``book/ja/`` holds no chapter yet (issue 10),
the comparisons skip and say so; the small editions in ``tmp_path`` show that every check can
fail, and that the build refuses a Japanese chapter whose glue names differ.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"


def load(name: str):
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build_book = load("build_book")  # puts the repository on sys.path, for bookbuild
from bookbuild import parity  # noqa: E402

ENGLISH_TOC = ROOT / "_toc.yml"
JAPANESE_TOC = ROOT / "book" / "ja" / "_toc.yml"
ENGLISH = {path.name: path for path in build_book.chapters(ROOT, ENGLISH_TOC)}
JAPANESE = sorted((ROOT / "book" / "ja").glob("*.md"))
NO_JAPANESE = "book/ja has no chapter yet (issue 10): nothing to compare"
JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


# --- the tables of contents ------------------------------------------------------------------

def toc_pages(path: Path, edition: str) -> list[str]:
    return [page.relative_to(ROOT / "book" / edition).as_posix()
            for page in build_book.chapters(ROOT, path)]


def captions(path: Path) -> list[str]:
    return [part["caption"] for part in yaml.safe_load(path.read_text())["parts"]]


def test_the_japanese_toc_lists_the_english_pages_in_order():
    assert toc_pages(JAPANESE_TOC, "ja") == toc_pages(ENGLISH_TOC, "en")
    assert len(captions(JAPANESE_TOC)) == len(captions(ENGLISH_TOC))


def test_the_japanese_part_captions_are_japanese():
    for caption in captions(JAPANESE_TOC):
        assert JAPANESE_SCRIPT.search(caption), f"book/ja/_toc.yml: caption {caption!r}"


def test_the_japanese_configuration_overrides_language_title_and_search():
    overrides = yaml.safe_load((ROOT / "book" / "ja" / "_config-overrides.yml").read_text())
    options = overrides["sphinx"]["config"]
    assert options["language"] == "ja"
    assert JAPANESE_SCRIPT.search(overrides["title"])
    assert JAPANESE_SCRIPT.search(options["html_theme_options"]["search_bar_text"])
    assert "sphinx_tsegsearch" in overrides["sphinx"]["extra_extensions"]
    # Sphinx 7.4 fails with "Splitter module can't be imported" when this is set.
    assert "html_search_options" not in options


# --- the chapters of both editions -----------------------------------------------------------

def test_both_editions_have_the_same_files():
    if not JAPANESE:
        pytest.skip(NO_JAPANESE)
    assert sorted(path.name for path in JAPANESE) == sorted(ENGLISH)


@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_a_japanese_chapter_matches_its_english_one(name):
    japanese = ROOT / "book" / "ja" / name
    if not japanese.is_file():
        pytest.skip(NO_JAPANESE if not JAPANESE else f"book/ja/{name} is not written yet")
    assert parity.differences(ENGLISH[name], japanese) == []


@pytest.mark.parametrize("path", JAPANESE, ids=lambda path: path.name)
def test_no_japanese_sentence_is_broken_across_lines(path):
    """A hard line break inside a Japanese paragraph shows as a space mid-sentence."""
    assert parity.broken_lines(path) == []


def test_a_line_break_inside_a_japanese_sentence_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# 見出し\n\nこの講座のもとになった演習は\nDatabricks向けに書かれたもので、\n"
                    "どの章も実行できます。\n\n- 項目の文が\n  続きます。\n\n"
                    "```{glossary}\n用語（term）\n  定義の文が\n  続きます。\n```\n\n"
                    "```python\nx = 1  # コードの\n# 行です\n```\n\n"
                    "数式$x$\nです。English text\nwraps freely.\n", encoding="utf-8")
    assert [line.split(": ")[0] for line in parity.broken_lines(page)] == [
        f"{page.as_posix()}:3", f"{page.as_posix()}:4", f"{page.as_posix()}:7",
        f"{page.as_posix()}:12", f"{page.as_posix()}:21"]


@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_a_japanese_chapter_has_no_english_sentence(name):
    japanese = ROOT / "book" / "ja" / name
    if not japanese.is_file():
        pytest.skip(NO_JAPANESE if not JAPANESE else f"book/ja/{name} is not written yet")
    assert parity.english_sentences(japanese) == []


# --- every check can fail: two tiny editions -------------------------------------------------

HEADER = "---\nkernelspec:\n  name: python3\n---\n"
ENGLISH_PAGE = HEADER + """(ch-loss)=
# The loss

The mean loss is {glue:text}`loss:.3f`, see {numref}`fig-loss` and {doc}`03-forward-pass`.

```{code-cell} ipython3
:tags: [hide-input]

glue("loss", 0.25)  # English comment stays
```

:::{glue:figure} fig_loss
:name: fig-loss
:alt: A falling curve.

The loss per epoch.
:::

**Exercise 1.** Why?

:::{admonition} Solution
:class: dropdown solution

Because {glue:text}`loss`.
:::
"""
JAPANESE_PAGE = HEADER + """(ch-loss)=
# 損失

平均損失は {glue:text}`loss:.3f` です。{numref}`fig-loss` と {doc}`03-forward-pass` を参照。

```{code-cell} ipython3
:tags: [hide-input]

glue("loss", 0.25)  # English comment stays
```

:::{glue:figure} fig_loss
:name: fig-loss
:alt: 下がっていく曲線。

エポックごとの損失。
:::

**練習問題1**：なぜでしょうか。

:::{admonition} 解答
:class: dropdown solution

{glue:text}`loss` だからです。
:::
"""


def pair(tmp_path: Path, japanese: str) -> tuple[Path, Path]:
    (tmp_path / "en").mkdir(exist_ok=True)
    (tmp_path / "ja").mkdir(exist_ok=True)
    english_path, japanese_path = tmp_path / "en" / "04-loss.md", tmp_path / "ja" / "04-loss.md"
    english_path.write_text(ENGLISH_PAGE, encoding="utf-8")
    japanese_path.write_text(japanese, encoding="utf-8")
    return english_path, japanese_path


def test_a_faithful_translation_passes(tmp_path):
    english, japanese = pair(tmp_path, JAPANESE_PAGE)
    assert parity.differences(english, japanese) == []
    assert parity.english_sentences(japanese) == []


@pytest.mark.parametrize(
    ("case", "old", "new", "expected"),
    [
        ("code cell", '0.25)  # English', '0.250)  # English', "code cell differs"),
        ("code comment", "# English comment stays", "# 英語のまま", "code cell differs"),
        ("cell options", ":tags: [hide-input]", ":tags: [remove-input]", "code cell differs"),
        ("glue name", "{glue:text}`loss:.3f`", "{glue:text}`mean_loss:.3f`", "glue name"),
        ("figure", ":::{glue:figure} fig_loss", ":::{glue} fig_loss", "figures"),
        ("exercise", ":class: dropdown solution", ":class: dropdown", "exercises"),
        ("label", "(ch-loss)=", "(ch-loss-ja)=", "label 'ch-loss-ja'"),
        ("reference", "{doc}`03-forward-pass`", "{doc}`05-backpropagation`", "{doc}"),
    ],
)
def test_each_difference_is_found(tmp_path, case, old, new, expected):
    assert old in JAPANESE_PAGE, case
    english, japanese = pair(tmp_path, JAPANESE_PAGE.replace(old, new, 1))
    found = parity.differences(english, japanese)
    assert any(expected in line for line in found), f"{case}: {found}"
    assert all(line.startswith(japanese.as_posix()) for line in found)


def test_a_japanese_page_times_itself_with_the_ja_variant_only(tmp_path):
    """A page's reading time is the one number that differs by edition: the Japanese page
    may show ``read_minutes_ja`` where the English shows ``read_minutes``, and no other
    name may stand in for another."""
    timed_english = ENGLISH_PAGE + "About {glue:text}`read_minutes` minutes.\n"
    english, japanese = pair(tmp_path, JAPANESE_PAGE + "約{glue:text}`read_minutes_ja`分。\n")
    english.write_text(timed_english, encoding="utf-8")
    assert parity.differences(english, japanese) == []
    japanese.write_text(JAPANESE_PAGE + "約{glue:text}`loss_ja`分。\n", encoding="utf-8")
    assert any("glue name 'loss_ja'" in line for line in parity.differences(english, japanese))


@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_a_timed_japanese_chapter_shows_its_own_reading_time(name):
    japanese = ROOT / "book" / "ja" / name
    if not japanese.is_file():
        pytest.skip(NO_JAPANESE if not JAPANESE else f"book/ja/{name} is not written yet")
    if "ChapterClock" not in japanese.read_text(encoding="utf-8"):
        pytest.skip(f"{name} has no chapter clock")
    assert "read_minutes_ja" in parity.Chapter.read(japanese).glue_names


def test_a_differing_code_cell_is_reported_at_its_line(tmp_path):
    english, japanese = pair(tmp_path, JAPANESE_PAGE.replace("0.25)", "0.5)"))
    [line] = parity.differences(english, japanese)
    cell_line = JAPANESE_PAGE.splitlines().index("```{code-cell} ipython3") + 1
    assert line.startswith(f"{japanese.as_posix()}:{cell_line}: code cell differs")


def test_a_missing_code_cell_is_counted(tmp_path):
    cell = JAPANESE_PAGE[JAPANESE_PAGE.index("```{code-cell}"):]
    cell = cell[:cell.index("```\n\n:::") + 4]
    english, japanese = pair(tmp_path, JAPANESE_PAGE.replace(cell, ""))
    assert any("0 code cells, the English edition has 1" in line
               for line in parity.differences(english, japanese))


@pytest.mark.parametrize(
    "sentence",
    ["This figure shows the loss.", "The loss falls as the weights move against the gradient",
     ":alt: A curve falling from one to zero.", "| step | the size of the step |"],
)
def test_an_english_sentence_on_a_japanese_page_is_found(tmp_path, sentence):
    alt = ":alt: 下がっていく曲線。"
    page = JAPANESE_PAGE.replace(alt, sentence if sentence.startswith(":alt:")
                                 else alt + "\n\n" + sentence)
    _, japanese = pair(tmp_path, page)
    found = parity.english_sentences(japanese)
    assert len(found) == 1 and found[0].startswith(f"{japanese.as_posix()}:")


@pytest.mark.parametrize(
    "allowed",
    ["Microsoft Learn の演習「Train a deep learning model」に基づきます。",
     "`labkit.fit(model, data, epochs=100)` を呼びます。",
     "$L = -\\log p_{y}$ of the batch",
     "PyTorch と PySpark と Horovod on Spark を使います。",
     "```python\nfor epoch in range(100):  # one pass over the rows\n    pass\n```",
     "出典: https://example.org/the-palmer-penguins-data-set-is-here",
     "| In this chapter / You will learn | この章の内容 / 学ぶこと |"],
)
def test_code_maths_names_and_titles_are_not_english_prose(tmp_path, allowed):
    _, japanese = pair(tmp_path, JAPANESE_PAGE + "\n" + allowed + "\n")
    assert parity.english_sentences(japanese) == []


def test_the_build_refuses_a_japanese_chapter_whose_glue_names_differ(tmp_path, monkeypatch,
                                                                      capsys):
    english, japanese = pair(tmp_path, JAPANESE_PAGE.replace("{glue:text}`loss`",
                                                             "{glue:text}`accuracy`"))
    tocs = []
    for folder, path in (("en", english), ("ja", japanese)):
        toc = tmp_path / folder / "_toc.yml"
        toc.write_text(yaml.safe_dump({"format": "jb-book",
                                       "root": f"{folder}/{path.stem}"}))
        tocs.append(build_book.Edition(folder, folder, folder, toc))
    problems = build_book.check_parity(tocs, tmp_path)
    assert problems and all("glue name" in line for line in problems)
    monkeypatch.setattr(build_book.book, "editions_present", lambda: tocs)
    monkeypatch.setattr(build_book.book, "check_parity", lambda present: problems)
    assert build_book.main([]) == 1
    output = capsys.readouterr()
    assert "'accuracy' is used here but not in English" in output.err
    assert "book FAILED" in output.out


def test_the_build_refuses_a_chapter_missing_from_the_japanese_edition(tmp_path):
    english, _ = pair(tmp_path, JAPANESE_PAGE)
    editions = []
    for folder in ("en", "ja"):
        toc = tmp_path / folder / "_toc.yml"
        toc.write_text(yaml.safe_dump({"format": "jb-book", "root": f"{folder}/04-loss",
                                       "chapters": [{"file": f"{folder}/05-backpropagation"}]}))
        editions.append(build_book.Edition(folder, folder, folder, toc))
    (tmp_path / "en" / "05-backpropagation.md").write_text(HEADER + "# Backpropagation\n")
    problems = build_book.check_parity(editions, tmp_path)
    assert problems == ["ja/05-backpropagation.md: listed in ja/_toc.yml but missing"]


# --- a figure drawn in both languages (labkit.figures.glue_figures) ---------------------------

def test_the_japanese_page_may_show_the_japanese_variant_of_a_figure(tmp_path):
    english, japanese = pair(tmp_path, JAPANESE_PAGE.replace(
        ":::{glue:figure} fig_loss\n", ":::{glue:figure} fig_loss_ja\n"))
    assert parity.differences(english, japanese) == []
    assert parity.code_and_glue_differences(english, japanese) == []


def test_a_ja_name_is_only_a_figure_variant_and_only_on_the_japanese_page(tmp_path):
    # {glue:text} of a name ending in _ja is no figure variant: a glue name of its own.
    english, japanese = pair(tmp_path, JAPANESE_PAGE.replace(
        "{glue:text}`loss:.3f`", "{glue:text}`loss_ja:.3f`"))
    assert any("glue name 'loss_ja'" in line
               for line in parity.code_and_glue_differences(english, japanese))
    # The English page shows the English variant.
    english.write_text(ENGLISH_PAGE.replace(":::{glue:figure} fig_loss\n",
                                            ":::{glue:figure} fig_loss_ja\n"), encoding="utf-8")
    japanese.write_text(JAPANESE_PAGE, encoding="utf-8")
    assert any("the Japanese variant of a figure" in line
               for line in parity.differences(english, japanese))


# --- a species or island name glued in both languages (labkit.names.glue_names) ---------------

def names_pair(tmp_path: Path, cell: str, japanese_role: str) -> tuple[Path, Path]:
    """A chapter whose one cell is ``cell`` (both editions), the English page showing
    ``{glue:text}`species``` and the Japanese one ``japanese_role``."""
    page = HEADER + "# Names\n\n{text}\n\n```{code-cell} ipython3\n" + cell + "\n```\n"
    english, japanese = pair(tmp_path, page.replace("{text}", japanese_role))
    english.write_text(page.replace("{text}", "It is {glue:text}`species`."), encoding="utf-8")
    return english, japanese


def test_the_japanese_page_may_show_the_japanese_twin_of_a_glued_name(tmp_path):
    english, japanese = names_pair(tmp_path, 'glue_names("species", "Adelie")',
                                   "種は{glue:text}`species_ja`です。")
    assert parity.differences(english, japanese) == []


def test_an_f_string_name_glued_in_both_languages_is_accepted(tmp_path):
    english, japanese = names_pair(
        tmp_path, 'for name in ISLANDS:\n    glue_names(f"spec{name}", "Adelie")',
        "種は{glue:text}`species_ja`です。")
    assert parity.differences(english, japanese) == []


def test_a_list_glued_in_both_languages_is_accepted(tmp_path):
    english, japanese = names_pair(tmp_path, 'glue_list("species", [0, 2, 8])',
                                   "ノード{glue:text}`species_ja`です。")
    assert parity.differences(english, japanese) == []


def test_a_name_glued_once_has_no_japanese_twin(tmp_path):
    # glue(), not glue_names(): the cell glues no species_ja, and the page may not show it.
    english, japanese = names_pair(tmp_path, 'glue("species", "Adelie")',
                                   "種は{glue:text}`species_ja`です。")
    assert any("glue name 'species_ja'" in line
               for line in parity.code_and_glue_differences(english, japanese))


def test_a_japanese_twin_glued_in_another_chapter_is_accepted(tmp_path):
    english, japanese = names_pair(tmp_path, 'glue("other", 1)',
                                   "{glue:text}`03-forward-pass.md::species_ja`")
    english.write_text(english.read_text(encoding="utf-8").replace(
        "{glue:text}`species`", "{glue:text}`03-forward-pass.md::species`"), encoding="utf-8")
    # Not declared there (the chapter is missing): refused.
    assert any("03-forward-pass.md::species_ja" in line
               for line in parity.differences(english, japanese))
    (tmp_path / "en" / "03-forward-pass.md").write_text(
        HEADER + "```{code-cell} ipython3\nglue_names('species', 'Gentoo')\n```\n",
        encoding="utf-8")
    assert parity.differences(english, japanese) == []


# --- glue names a Japanese page leaves out (glue_not_shown) ----------------------------------

ZERO_CELL = """```{code-cell} ipython3
seen = {"Dream": {"Gentoo": 0}}
glue("seen_Dream_Gentoo", seen["Dream"]["Gentoo"])
large = [0, 0]
glue("sweep_large_max", max(large))
ASSERTS
```
"""
ZERO_ENGLISH = ("# Zero\n\nNo Gentoo on Dream ({glue:text}`seen_Dream_Gentoo`), none at large "
                "sizes ({glue:text}`sweep_large_max`).\n\n")
ZERO_JAPANESE = ("# ゼロ\n\nドリーム島にジェンツーペンギンは1羽もいません。"
                 "大きいときも1つもありません。\n\n")
ZERO_ASSERTS = 'assert seen["Dream"]["Gentoo"] == 0\nassert max(large) == 0  # none'
ZERO_LISTING = ("glue_not_shown:\n  seen_Dream_Gentoo: 「1羽もいません」と書く\n"
                "  sweep_large_max: 「1つもありません」と書く\n")


def zero_pair(tmp_path: Path, listing: str = ZERO_LISTING, asserts: str = ZERO_ASSERTS,
              japanese_prose: str = ZERO_JAPANESE) -> tuple[Path, Path]:
    cell = ZERO_CELL.replace("ASSERTS", asserts)
    english, japanese = pair(tmp_path, "---\nkernelspec:\n  name: python3\n" + listing
                             + "---\n" + japanese_prose + cell)
    english.write_text(HEADER + ZERO_ENGLISH + cell, encoding="utf-8")
    return english, japanese


def test_a_listed_name_the_code_asserts_may_be_left_out(tmp_path):
    # seen_Dream_Gentoo by the words of its name, sweep_large_max by its variable (large).
    english, japanese = zero_pair(tmp_path)
    assert parity.differences(english, japanese) == []
    # Without the listing, the omission is refused and stops the build.
    english, japanese = zero_pair(tmp_path, listing="")
    found = parity.code_and_glue_differences(english, japanese)
    assert {line.split("glue name ")[1][:20] for line in found} == {
        "'seen_Dream_Gentoo' ", "'sweep_large_max' is"}


@pytest.mark.parametrize(
    ("case", "change", "expected"),
    [
        ("no reason", {"listing": "glue_not_shown:\n  seen_Dream_Gentoo:\n"
                                  "  sweep_large_max: 「1つもありません」と書く\n"},
         ":5: glue name 'seen_Dream_Gentoo' in glue_not_shown has no reason"),
        ("shown anyway", {"japanese_prose": ZERO_JAPANESE + "{glue:text}`sweep_large_max`\n\n"},
         ":6: glue name 'sweep_large_max' in glue_not_shown is shown on the page all the same"),
        ("not glued", {"listing": ZERO_LISTING + "  seen_Biscoe_Gentoo: 書かない\n"},
         ":7: glue name 'seen_Biscoe_Gentoo' in glue_not_shown is not shown by the English"),
        ("not asserted", {"asserts": 'assert max(large) == 0  # seen Dream Gentoo'},
         ":5: glue name 'seen_Dream_Gentoo' in glue_not_shown is asserted by no assert line"),
        ("variable not asserted", {"asserts": 'assert seen["Dream"]["Gentoo"] == 0\n'
                                              'assert not_large == 0'},
         ":6: glue name 'sweep_large_max' in glue_not_shown is asserted by no assert line"),
        ("not a mapping", {"listing": "glue_not_shown: [seen_Dream_Gentoo, sweep_large_max]\n"},
         ":4: glue_not_shown must map each glue name to the reason"),
    ],
)
def test_each_misuse_of_glue_not_shown_is_found(tmp_path, case, change, expected):
    english, japanese = zero_pair(tmp_path, **change)
    found = parity.differences(english, japanese)
    assert any(line.startswith(japanese.as_posix() + expected) for line in found), \
        f"{case}: {found}"


def test_the_japanese_pages_list_only_names_they_leave_out_for_a_reason():
    # The check above runs on every chapter (test_a_japanese_chapter_matches_its_english_one);
    # here: the listings in use are read at all (a typo in the key would skip them).
    listed = {path.name: parity.not_shown(path)[0] for path in JAPANESE}
    assert sum(map(len, listed.values())) > 0
    assert all(reason for names in listed.values() for reason in names.values())
