"""Predicting new penguins: names or indexes for the island, and clear errors for bad rows."""

from __future__ import annotations

import pytest
import torch

from labkit.errors import InputError
from labkit.predict import encode_rows, island_index, predict


def test_island_names_and_indexes():
    assert [island_index(v) for v in ("Biscoe", "dream", " Torgersen ", 0, 1.0, "2")] == [
        0, 1, 2, 0, 1, 2]


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
])
def test_bad_rows(rows, message):
    with pytest.raises(InputError, match=message):
        encode_rows(rows)


def test_encoding_shape():
    x = encode_rows([["Dream", 50.4, 15.3, 20, 50], [0, 1, 2, 3, 4]])
    assert x.dtype == torch.float32 and x.shape == (2, 5)
    assert x[0, 0].item() == 1.0
