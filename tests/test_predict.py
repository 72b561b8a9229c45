"""Predicting new penguins: names or indexes for the island, and clear errors for bad rows."""

from __future__ import annotations

import pytest
import torch

from labkit.errors import InputError
from labkit.predict import encode_rows, island_index, predict


def test_island_names_and_indexes():
    assert [island_index(v) for v in ("Biscoe", "Dream", "Torgersen", 0, 1.0, "2")] == [
        0, 1, 2, 0, 1, 2]


@pytest.mark.parametrize("value", ["dream", " Torgersen", "Biscoe ", "1.0", " 1", "３"])
def test_island_names_are_matched_exactly_as_in_the_csv(value):
    with pytest.raises(InputError, match="unknown island"):
        island_index(value)


def test_the_labs_new_penguin_is_a_gentoo(lab_model):
    (prediction,) = predict(lab_model, [[1, 50.4, 15.3, 20, 50]])
    assert prediction == (1, "Gentoo")
    assert predict(lab_model, [["Dream", 50.4, 15.3, 20, 50]]) == [prediction]


def test_a_real_penguin_of_each_species(lab_model, honest):
    frame = honest.penguins
    rows = [frame[frame.Species == code].iloc[0] for code in (0, 1, 2)]
    features = [row.iloc[:5].tolist() for row in rows]
    assert [p.species for p in predict(lab_model, features)] == ["Adelie", "Gentoo", "Chinstrap"]


@pytest.mark.parametrize("rows, message", [
    ([], "non-empty list of rows"),
    ("Biscoe", "non-empty list of rows"),
    ([[1, 2, 3]], r"row 1: expected 5 features"),
    ([["Biscoe", 47.5, 15.0, 21.7, 50.8], ["Mars", 1, 1, 1, 1]], "unknown island 'Mars'"),
    ([[3, 47.5, 15.0, 21.7, 50.8]], "island index 3 is not 0, 1 or 2"),
    ([["Biscoe", "long", 15.0, 21.7, 50.8]], "CulmenLength 'long' is not a number"),
    ([["Biscoe", 47.5, None, 21.7, 50.8]], "CulmenDepth None is not a number"),
    ([["Biscoe", 47.5, 15.0, -21.7, 50.8]], "FlipperScaled -21.7 must be a positive number"),
    ([["Biscoe", 47.5, 15.0, 21.7, True]], "MassScaled True is not a number"),
    ([["Biscoe", 47.5, 15.0, 217, 50.8]],
     r"FlipperScaled 217 must be a positive number from 8 to 46 \(FlipperLength in mm / 10"),
    ([["Biscoe", 47.5, 15.0, 21.7, 5080]], r"MassScaled 5080 .* from 10 to 130"),
    ([["Biscoe", "5_0", 15.0, 21.7, 50.8]], "CulmenLength '5_0' is not a number"),
    ([["Biscoe", "４７", 15.0, 21.7, 50.8]], "CulmenLength '４７' is not a number"),
    ([["Biscoe", " 47", 15.0, 21.7, 50.8]], "CulmenLength ' 47' is not a number"),
    ([["Biscoe", 1e39, 15.0, 21.7, 50.8]], "CulmenLength 1e.39 must be"),
    ([["Biscoe", float("nan"), 15.0, 21.7, 50.8]], "CulmenLength nan must be"),
])
def test_bad_rows(rows, message):
    with pytest.raises(InputError, match=message):
        encode_rows(rows)


def test_encoding_shape():
    x = encode_rows([["Dream", 50.4, 15.3, 20, 50], [0, "39.1", "18.7", 18.1, "37.5"]])
    assert x.dtype == torch.float32 and x.shape == (2, 5)
    assert x[0, 0].item() == 1.0
    assert x[1].tolist() == torch.tensor([0, 39.1, 18.7, 18.1, 37.5]).tolist()
