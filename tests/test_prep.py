"""The Spark preparation against an independent pandas computation, and the leakage lesson."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labkit.constants import FEATURES, ISLANDS
from labkit.data import load_penguins, packaged_csv_path
from labkit.prep import (
    class_counts,
    leakage,
    oversample,
    split,
    transform,
    validation_split,
)


def pandas_transform() -> pd.DataFrame:
    """The same transform, written independently with pandas only."""
    raw = pd.read_csv(packaged_csv_path()).dropna().reset_index(drop=True)
    return pd.DataFrame({
        "IslandIdx": raw["Island"].map({"Biscoe": 0, "Dream": 1, "Torgersen": 2}),
        "CulmenLength": raw["CulmenLength"],
        "CulmenDepth": raw["CulmenDepth"],
        "FlipperScaled": raw["FlipperLength"] / 10,
        "MassScaled": raw["BodyMass"] / 100,
        "Species": raw["Species"],
    })


def test_spark_preparation_equals_pandas(honest):
    expected = pandas_transform()
    got = honest.penguins
    assert list(got.columns) == [*FEATURES, "Species"]
    assert len(got) == len(expected) == 342
    np.testing.assert_allclose(got[list(FEATURES)].to_numpy(),
                               expected[list(FEATURES)].to_numpy(np.float32), rtol=1e-6)
    assert (got["Species"].to_numpy() == expected["Species"].to_numpy()).all()
    assert got["Species"].dtype == np.int32


def test_island_index_is_fixed_by_sorted_names(spark, tmp_path):
    # Islands appear in the file in reverse order: the index must not depend on it.
    path = tmp_path / "islands.csv"
    path.write_text("Island,CulmenLength,CulmenDepth,FlipperLength,BodyMass,Species\n"
                    "Torgersen,39.1,18.7,181,3750,0\nDream,46.5,17.9,192,3500,2\n"
                    "Biscoe,47.5,15.0,217,5080,1\n")
    rows = transform(load_penguins(spark, path)).collect()
    assert [row["IslandIdx"] for row in rows] == [2.0, 1.0, 0.0]
    assert ISLANDS == ("Biscoe", "Dream", "Torgersen")


def test_two_self_unions_make_four_copies_not_three(spark, honest):
    frame = transform(load_penguins(spark))
    doubled_twice = frame
    for _ in range(1, 3):  # the lab's loop
        doubled_twice = doubled_twice.union(doubled_twice)
    assert doubled_twice.count() == 4 * 342
    pandas_version = oversample(honest.penguins)
    assert len(pandas_version) == 4 * 342
    assert pandas_version.iloc[342:684].reset_index(drop=True).equals(honest.penguins)


def test_honest_split_has_no_leakage(honest):
    data = honest.data
    assert honest.leakage == leakage(data) == 0.0
    assert (data.n_train, data.n_test) == (4 * 239, 103)
    # stratified: each species' share of the test set is within one row of its overall share
    overall = np.bincount(honest.penguins["Species"]) / 342
    assert np.all(np.abs(np.array(class_counts(data.y_test)) - overall * 103) <= 1)


def test_lab_split_leaks_most_test_rows(seeded):
    assert seeded.leakage > 0.9
    assert (seeded.data.n_train, seeded.data.n_test) == (957, 411)


def test_leakage_counts_exact_copies_only(honest):
    data = honest.data
    copy = type(data)(data.x_train, data.x_train[:10].copy(), data.y_train,
                      data.y_train[:10].copy(), "test")
    assert leakage(copy) == 1.0
    changed_label = type(data)(data.x_train, data.x_train[:10].copy(), data.y_train,
                               (data.y_train[:10] + 1) % 3, "test")
    assert leakage(changed_label) == 0.0


def test_unknown_split_mode(honest):
    with pytest.raises(ValueError, match="unknown split mode 'random'"):
        split(honest.penguins, "random")  # type: ignore[arg-type]


def rows_of(x: np.ndarray, y: np.ndarray) -> set[bytes]:
    return {row.tobytes() + bytes([label]) for row, label in zip(x, y.astype(np.uint8))}


def test_validation_penguins_are_training_penguins_held_out_before_oversampling():
    frame = pandas_transform()
    honest = split(frame, "honest")
    held_out = validation_split(frame)
    assert held_out.mode == "validation"
    training_penguins = rows_of(honest.x_train, honest.y_train)
    test_penguins = rows_of(honest.x_test, honest.y_test)
    validation = rows_of(held_out.x_test, held_out.y_test)
    fitting = rows_of(held_out.x_train, held_out.y_train)
    assert len(training_penguins) == 239 and len(validation) == held_out.n_test == 48
    assert validation | fitting == training_penguins
    assert not validation & fitting and not validation & test_penguins
    assert leakage(held_out) == 0.0
    assert held_out.n_train == 4 * (239 - 48)  # only the fitting part is oversampled
    # stratified: each species' share of the validation set is within one row of its share
    shares = np.bincount(honest.y_train) / honest.n_train
    assert np.all(np.abs(np.array(class_counts(held_out.y_test)) - shares * 48) <= 1)
