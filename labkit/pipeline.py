"""The lab's data steps chained: load, transform, collect once, split, measure leakage."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from labkit.data import read_validated, validate_csv
from labkit.prep import Split, SplitMode, collect, leakage, split, transform
from labkit.spark import get_spark


@dataclass(frozen=True)
class Prepared:
    """The prepared penguins (one row each), the split made from them, and its leakage."""

    penguins: pd.DataFrame
    data: Split
    leakage: float


def prepare(path: str | os.PathLike[str] | None = None, mode: SplitMode = "honest",
            spark=None) -> Prepared:
    """Run the data half of the lab on the active (or a new local) Spark session.

    The file is checked before Spark starts, so a bad file fails in milliseconds."""
    report = validate_csv(path)
    spark = spark or get_spark()
    penguins = collect(transform(read_validated(spark, report)))
    data = split(penguins, mode)
    return Prepared(penguins, data, leakage(data))
