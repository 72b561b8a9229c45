"""The lab's data steps chained: load, transform, collect once, split, measure leakage.

Spark's start-up (a JVM, ten seconds or more) dwarfs the work on 344 rows, and every chapter
after the data chapter needs the same prepared rows. So :func:`prepare` keeps the rows Spark
produced in a small cache file, keyed by the CSV's bytes, the code that prepares them and the
PySpark version; any change to one of those makes Spark prepare them again.

A cache file is never trusted as it is: anyone who can write the folder can edit it (shift
the labels, drop rows), and its name is predictable. So what comes out of it must equal,
value for value and type for type, what :func:`labkit.prep.transform` gives for the rows
just checked in the CSV, which :func:`expected_rows` computes in a few lines of numpy.
Anything else (an edited, truncated or foreign file, a FIFO or a folder in its place) is
ignored, and Spark prepares the rows again.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from labkit import constants, data, prep, settings
from labkit.atomic import atomic_write, check_writable
from labkit.constants import FEATURES, ISLANDS, LABEL
from labkit.data import CsvReport, check_splittable, read_validated, validate_csv
from labkit.errors import InputError, LabkitError
from labkit.files import read_regular_file
from labkit.prep import Split, SplitMode, collect, leakage, split, transform
from labkit.spark import get_spark

#: A prepared-rows file is about 4 bytes a value; anything much larger is not one.
MAX_CACHE_BYTES = 64 * 1024 * 1024


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

    The file, the split it must allow and the cache folder are checked before Spark
    starts, so a mistake fails in milliseconds. Given a ``spark`` session, the rows are
    always prepared on it (and the cache refreshed); without one, cached rows are used
    when they are exactly what preparing this file gives, and otherwise the active (or a
    new local) session prepares them.
    """
    report = validate_csv(path)
    check_splittable(report, mode, str(path) if path is not None else None)
    cache = cache_file(report.path)
    penguins = read_cache(cache, report) if spark is None else None
    if penguins is None:
        keep = cache_writable(cache)  # before Spark: a folder problem costs nothing
        penguins = collect(transform(read_validated(spark or get_spark(), report)))
        if keep:
            write_cache(cache, penguins)
    data_split = split(penguins, mode)
    return Prepared(penguins, data_split, leakage(data_split))


def cache_dir() -> Path:
    """``$LABKIT_CACHE`` or ``~/.cache/labkit``, where prepared rows are kept."""
    return settings.cache_root() / "prepared"


def cache_file(csv_path: Path) -> Path:
    """The cache file for this CSV as the current code and PySpark would prepare it."""
    digest = hashlib.sha256(csv_path.read_bytes())
    for module in (constants, data, prep):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(metadata.version("pyspark").encode())
    return cache_dir() / f"penguins-{digest.hexdigest()[:20]}.parquet"


def expected_rows(report: CsvReport) -> pd.DataFrame:
    """What :func:`labkit.prep.transform` makes of the complete rows, computed without
    Spark, with Spark's types and rounding: float32 features (flipper and mass divided
    in double precision, then rounded to float32, as Spark divides) and int32 labels."""
    rows = [record for record in report.records if None not in record]
    columns = list(zip(*rows)) if rows else [()] * 6
    as32 = lambda values: np.asarray(values, dtype=np.float64).astype(np.float32)  # noqa: E731
    frame = pd.DataFrame({
        "IslandIdx": np.asarray([ISLANDS.index(name) for name in columns[0]], np.float32),
        "CulmenLength": as32(columns[1]),
        "CulmenDepth": as32(columns[2]),
        "FlipperScaled": (as32(columns[3]).astype(np.float64) / 10).astype(np.float32),
        "MassScaled": (as32(columns[4]).astype(np.float64) / 100).astype(np.float32),
        LABEL: np.asarray(columns[5], dtype=np.int32),
    })
    assert list(frame.columns) == [*FEATURES, LABEL]
    return frame


def read_cache(cache: Path, report: CsvReport) -> pd.DataFrame | None:
    """The cached rows if they are exactly :func:`expected_rows`; ``None`` if there are
    none, or the file is not a regular file, unreadable, or holds anything else."""
    try:
        raw = read_regular_file(cache, MAX_CACHE_BYTES, str(cache), "cache file",
                                LabkitError)
        cached = pd.read_parquet(io.BytesIO(raw))
    except Exception:  # missing, a FIFO, damaged: pyarrow raises many types
        return None
    expected = expected_rows(report)
    same = (list(cached.columns) == list(expected.columns)
            and list(cached.dtypes) == list(expected.dtypes)
            and cached.index.equals(expected.index) and cached.equals(expected))
    return cached if same else None


def cache_writable(cache: Path) -> bool:
    """Before Spark starts: whether the rows can be kept at ``cache``. A folder that
    cannot take the file (a regular file or a read-only folder in the way) is an
    :class:`InputError` naming the setting; anything but a regular file at the file's
    own place (a symlink, FIFO, folder) is left alone: ``False``, nothing is written."""
    try:
        info = os.lstat(cache)
    except (FileNotFoundError, NotADirectoryError):
        info = None  # check_writable below says what is wrong with the folder
    except OSError:
        return False
    if info is not None and not stat.S_ISREG(info.st_mode):
        return False
    try:
        check_writable(cache)
    except OSError as error:
        raise InputError(f"the cache folder {cache.parent} cannot be used ({error.strerror}); "
                         f"set {settings.CACHE} to a folder you can write") from None
    return True


def write_cache(cache: Path, penguins: pd.DataFrame) -> None:
    """Keep the prepared rows; a failure costs only the next run's Spark start."""
    buffer = io.BytesIO()
    penguins.to_parquet(buffer, index=False)
    try:
        if not os.path.islink(cache):  # never written through a link planted there
            atomic_write(cache, buffer.getvalue())
    except (LabkitError, OSError):
        pass
