"""labkit.names: the data's species and island names in Japanese, glued beside the English."""

import pytest

from labkit import names


def test_every_species_and_island_has_its_japanese_name():
    from labkit.constants import ISLANDS, SPECIES

    assert [names.japanese_name(name) for name in SPECIES] == [
        "アデリーペンギン", "ジェンツーペンギン", "ヒゲペンギン"]
    assert [names.japanese_name(name) for name in ISLANDS] == [
        "ビスコー島", "ドリーム島", "トージャーセン島"]


def test_glue_names_glues_the_english_and_the_japanese(monkeypatch):
    glued = {}
    monkeypatch.setattr(names, "glue", lambda name, value: glued.__setitem__(name, value))
    names.glue_names("order", ["Dream", "Biscoe", "Torgersen"])
    names.glue_names("answer", "Gentoo")
    assert glued == {"order": "Dream, Biscoe, Torgersen",
                     "order_ja": "ドリーム島、ビスコー島、トージャーセン島",
                     "answer": "Gentoo", "answer_ja": "ジェンツーペンギン"}


def test_an_unknown_name_is_refused_before_anything_is_glued(monkeypatch):
    glued = {}
    monkeypatch.setattr(names, "glue", lambda name, value: glued.__setitem__(name, value))
    with pytest.raises(ValueError, match="'Adelei' is no species or island"):
        names.glue_names("answer", ["Adelie", "Adelei"])
    assert glued == {}


def test_glue_list_joins_the_english_with_commas_and_the_japanese_with_touten(monkeypatch):
    glued = {}
    monkeypatch.setattr(names, "glue", lambda name, value: glued.__setitem__(name, value))
    names.glue_list("seeds", [0, 2, 5])
    names.glue_list("one", (7,))
    assert glued == {"seeds": "0, 2, 5", "seeds_ja": "0、2、5", "one": "7", "one_ja": "7"}
