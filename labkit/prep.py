"""Preparing the data as the lab does, with its three mistakes fixed.

1. The island index is fixed (sorted names), not whatever order ``collect_set`` returns.
2. ``toPandas()`` is called once; the lab calls it twice and trusts both calls to agree.
3. Oversampling happens *after* the split (``honest``), so no test row is a copy of a
   training row. ``seed`` reproduces the lab's order (oversample, then split) to show the
   damage: most test rows then have an exact copy in the training set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from labkit.constants import (
    FEATURES,
    ISLANDS,
    LABEL,
    OVERSAMPLE_FACTOR,
    SPLIT_MODES,
    TEST_SIZE,
)

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

# pandas and scikit-learn are imported where they are used: a distributed rank, or a Spark
# worker, unpickling a ``Split`` imports this module, and needs neither (seconds of CPU each).

SplitMode = Literal["honest", "seed"]
SPLIT_SEED = 0


def transform(penguins: DataFrame) -> DataFrame:
    """The lab's feature engineering in Spark: island index, scaled flipper and mass,
    float features and an integer label. Row order is kept (no join)."""
    from pyspark.sql import functions as F

    # Sorted names: Biscoe -> 0, Dream -> 1, Torgersen -> 2; -1 for any other name.
    # (when/coalesce works on every Spark the course supports, 3.5 included.)
    island_index = F.coalesce(*[F.when(F.col("Island") == name, F.lit(index))
                                for index, name in enumerate(ISLANDS)], F.lit(-1))
    return penguins.select(
        island_index.cast("float").alias("IslandIdx"),
        F.col("CulmenLength").cast("float"),
        F.col("CulmenDepth").cast("float"),
        (F.col("FlipperLength").cast("float") / 10).cast("float")
        .alias("FlipperScaled"),
        (F.col("BodyMass").cast("float") / 100).cast("float").alias("MassScaled"),
        F.col("Species").cast("int"),
    )


def collect(prepared: DataFrame) -> pd.DataFrame:
    """Bring the prepared rows to the driver, once."""
    return prepared.toPandas()


def oversample(frame: pd.DataFrame, factor: int = OVERSAMPLE_FACTOR) -> pd.DataFrame:
    """Repeat every row ``factor`` times, in the order Spark's ``df.union(df)`` twice gives."""
    import pandas as pd

    return pd.concat([frame] * factor, ignore_index=True)


@dataclass(frozen=True)
class Split:
    """Training and test arrays ready for torch, and how they were made."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    mode: str

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)


def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return frame[list(FEATURES)].to_numpy(np.float32), frame[LABEL].to_numpy(np.int64)


def split(
    frame: pd.DataFrame,
    mode: SplitMode = "honest",
    *,
    factor: int = OVERSAMPLE_FACTOR,
    test_size: float = TEST_SIZE,
    seed: int = SPLIT_SEED,
) -> Split:
    """Split 70/30 with a fixed seed.

    ``honest``: split the distinct penguins (stratified by species), then oversample
    the training part only. ``seed``: oversample everything first, then split, as the
    lab does.
    """
    from sklearn.model_selection import train_test_split

    if mode == "honest":
        train, test = train_test_split(
            frame, test_size=test_size, random_state=seed, stratify=frame[LABEL]
        )
        train = oversample(train.reset_index(drop=True), factor)
        test = test.reset_index(drop=True)
    elif mode == "seed":
        train, test = train_test_split(
            oversample(frame, factor), test_size=test_size, random_state=seed
        )
    else:
        raise ValueError(f"unknown split mode {mode!r}; "
                         f"expected one of {', '.join(SPLIT_MODES)}")
    x_train, y_train = _arrays(train)
    x_test, y_test = _arrays(test)
    return Split(x_train, x_test, y_train, y_test, mode)


def leakage(data: Split) -> float:
    """Share of test rows (features and label) that exactly copy a training row."""
    seen = {
        row.tobytes() + bytes([label])
        for row, label in zip(data.x_train, data.y_train.astype(np.uint8))
    }
    copies = sum(
        row.tobytes() + bytes([label]) in seen
        for row, label in zip(data.x_test, data.y_test.astype(np.uint8))
    )
    return copies / len(data.y_test)


def class_counts(labels: np.ndarray) -> list[int]:
    """How many rows of each species code, 0..2."""
    return np.bincount(labels, minlength=3).tolist()


#: Share of the training penguins held out for validation by :func:`validation_split`.
VALIDATION_SIZE = 0.20


def validation_split(
    frame: pd.DataFrame,
    *,
    validation_size: float = VALIDATION_SIZE,
    factor: int = OVERSAMPLE_FACTOR,
    test_size: float = TEST_SIZE,
    seed: int = SPLIT_SEED,
) -> Split:
    """Hold out validation penguins from the training penguins of the honest split.

    The test penguins are those :func:`split` holds out, and appear in neither part. The
    remaining penguins are split again (stratified by species) *before* oversampling, so
    no validation row is a copy of a training row. The returned ``Split`` has the
    oversampled training rows as ``x_train`` and the validation rows, one per penguin,
    as ``x_test`` (``mode == "validation"``): watching it during training, and choosing
    by it, leaves the test set untouched.
    """
    from sklearn.model_selection import train_test_split

    train, _test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame[LABEL]
    )
    fit_part, validation = train_test_split(
        train, test_size=validation_size, random_state=seed, stratify=train[LABEL]
    )
    x_train, y_train = _arrays(oversample(fit_part.reset_index(drop=True), factor))
    x_val, y_val = _arrays(validation.reset_index(drop=True))
    return Split(x_train, x_val, y_train, y_val, "validation")
