"""The lab's data steps chained: load, transform, collect once, split, measure leakage.

Spark's start-up (a JVM, ten seconds or more) dwarfs the work on 344 rows, and every chapter
after the data chapter needs the same prepared rows. So :func:`prepare` keeps the rows Spark
produced in a small cache file, keyed by the CSV's bytes, the code that prepares them and the
PySpark version; any change to one of those makes Spark prepare them again.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from labkit import constants, data, prep
from labkit.atomic import atomic_write
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
    """Prepare the penguins with Spark (or reuse rows Spark prepared before), then
    split.

    The file is checked before Spark starts, so a bad file fails in milliseconds. Given
    a ``spark`` session, the rows are always prepared on it (and the cache refreshed);
    without one, cached rows are used when the file and the preparing code are
    unchanged, and otherwise the active (or a new local) session prepares them.
    """
    report = validate_csv(path)
    cache = cache_file(report.path)
    penguins = read_cache(cache) if spark is None else None
    if penguins is None:
        penguins = collect(transform(read_validated(spark or get_spark(), report)))
        write_cache(cache, penguins)
    data_split = split(penguins, mode)
    return Prepared(penguins, data_split, leakage(data_split))


def cache_dir() -> Path:
    """``$LABKIT_CACHE`` or ``~/.cache/labkit``, where prepared rows are kept."""
    root = os.environ.get("LABKIT_CACHE") or Path.home() / ".cache" / "labkit"
    return Path(root) / "prepared"


def cache_file(csv_path: Path) -> Path:
    """The cache file for this CSV as the current code and PySpark would prepare it."""
    digest = hashlib.sha256(csv_path.read_bytes())
    for module in (constants, data, prep):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(metadata.version("pyspark").encode())
    return cache_dir() / f"penguins-{digest.hexdigest()[:20]}.parquet"


def read_cache(cache: Path) -> pd.DataFrame | None:
    """The cached rows, or ``None`` if there are none (or the file is unreadable)."""
    try:
        return pd.read_parquet(cache)
    except (OSError, ValueError):
        return None


def write_cache(cache: Path, penguins: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    penguins.to_parquet(buffer, index=False)
    atomic_write(cache, buffer.getvalue())
