"""Loading the penguin CSV: find the file, check every line, then let Spark read it.

Validation happens in plain Python before Spark sees the file, because a learner deserves
``penguins.csv:12:18: CulmenDepth 'abc' is not a number`` rather than a column of nulls
or a Java stack trace three cells later.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from labkit.constants import CSV_COLUMNS, ISLANDS, MEASUREMENTS
from labkit.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: sha256 of the packaged penguins.csv (also written in PROVENANCE.md beside it).
PACKAGED_SHA256 = "cd482e6a864dc8796271948c031eeee8987146dfaf4b1a40451fab967b2a334a"


def packaged_csv_path() -> Path:
    """Where the copy of penguins.csv that ships inside labkit lies on disk."""
    return Path(str(resources.files("labkit") / "dataset" / "penguins.csv"))


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, to check that the packaged data is the data we think it is."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def resolve_local_path(path: str | os.PathLike[str] | None) -> Path:
    """Turn what a user may type (a path, a ``file:`` URI, ``/dbfs/...`` or ``dbfs:/...``)
    into a local path Python can open. ``None`` means the packaged copy."""
    if path is None:
        return packaged_csv_path()
    text = os.fspath(path)
    if text.startswith("file://"):
        text = text[len("file://"):]
    elif text.startswith("file:"):
        text = text[len("file:"):]
    elif text.startswith("dbfs:/"):
        text = "/dbfs/" + text[len("dbfs:/"):].lstrip("/")
    return Path(text).expanduser()


def spark_uri(local: Path) -> str:
    """The URI Spark should read for a local path. On Databricks, ``/dbfs/x`` is the FUSE view
    of ``dbfs:/x``, which is what Spark's readers expect there."""
    text = str(local.resolve()) if not str(local).startswith("/dbfs/") else str(local)
    if text.startswith("/dbfs/") and os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return "dbfs:/" + text[len("/dbfs/"):]
    return "file://" + text


@dataclass(frozen=True)
class CsvReport:
    """What validation found: how many data rows, and how many are complete."""

    path: Path
    rows: int
    complete_rows: int


def _field_columns(line: str, fields: list[str]) -> list[int]:
    """1-based character column where each field starts (exact for unquoted fields)."""
    columns, position = [], 1
    for field in fields:
        columns.append(position)
        quoted = position - 1 < len(line) and line[position - 1] == '"'
        position += len(field) + 1 + (2 + field.count('"') if quoted else 0)
    return columns


def validate_csv(path: str | os.PathLike[str] | None = None) -> CsvReport:
    """Check the CSV line by line and raise :class:`DataError` at the first problem.

    Missing values are allowed (the lab drops those rows); anything else that is not a
    positive number, a known island or a species code 0/1/2 is an error.
    """
    local = resolve_local_path(path)
    shown = str(path) if path is not None else str(local)
    if not local.exists():
        raise DataError(f"{shown}: no such file")
    if local.is_dir():
        raise DataError(f"{shown}: is a directory, expected a CSV file")
    try:
        text = local.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = local.read_bytes()[: error.start].count(b"\n") + 1
        raise DataError(f"{shown}:{line}: the file is not UTF-8 text") from None
    except OSError as error:
        raise DataError(f"{shown}: cannot be read ({error.strerror})") from None
    if not text.strip():
        raise DataError(f"{shown}: the file is empty")

    lines = text.splitlines()
    header = next(csv.reader([lines[0]]))
    header_cols = _field_columns(lines[0], header)
    for index, name in enumerate(header):
        if name.strip() not in CSV_COLUMNS:
            col = header_cols[index]
            raise DataError(
                f"{shown}:1:{col}: unexpected column {name!r}; "
                f"expected the columns {', '.join(CSV_COLUMNS)}"
            )
    for name in CSV_COLUMNS:
        if name not in [h.strip() for h in header]:
            raise DataError(f"{shown}:1: missing column {name!r}")
    if [h.strip() for h in header] != list(CSV_COLUMNS):
        raise DataError(f"{shown}:1: columns must be in the order {', '.join(CSV_COLUMNS)}")

    rows = complete = 0
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = next(csv.reader([line]))
        if len(fields) != len(CSV_COLUMNS):
            raise DataError(
                f"{shown}:{number}: expected {len(CSV_COLUMNS)} fields, found {len(fields)}"
            )
        rows += 1
        cols = _field_columns(line, fields)
        values = dict(zip(CSV_COLUMNS, (f.strip() for f in fields)))
        missing = False
        for index, name in enumerate(CSV_COLUMNS):
            value, where = values[name], f"{shown}:{number}:{cols[index]}"
            if value == "":
                missing = True
            elif name == "Island":
                if value not in ISLANDS:
                    raise DataError(
                        f"{where}: unknown island {value!r}; expected one of {', '.join(ISLANDS)}"
                    )
            elif name == "Species":
                if value not in ("0", "1", "2"):
                    raise DataError(
                        f"{where}: Species {value!r} is not a species code 0, 1 or 2"
                    )
            else:
                try:
                    number_value = float(value)
                except ValueError:
                    raise DataError(f"{where}: {name} {value!r} is not a number") from None
                if not math.isfinite(number_value) or number_value <= 0:
                    raise DataError(
                        f"{where}: {name} {value} is impossible; measurements must be positive"
                    )
        complete += not missing
    if rows == 0:
        raise DataError(f"{shown}: no data rows after the header")
    if complete == 0:
        raise DataError(f"{shown}: no usable rows; all {rows} rows have missing values")
    return CsvReport(path=local, rows=rows, complete_rows=complete)


def csv_schema():  # -> pyspark.sql.types.StructType (pyspark imported lazily)
    """Column types for Spark: measurements as doubles, the label as an integer."""
    from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

    fields = [StructField("Island", StringType())]
    fields += [StructField(name, DoubleType()) for name in MEASUREMENTS]
    fields += [StructField("Species", IntegerType())]
    return StructType(fields)


def load_penguins(spark: SparkSession,
                  path: str | os.PathLike[str] | None = None) -> DataFrame:
    """Validate the CSV, read it with Spark and drop the incomplete rows (as the lab
    does).

    ``path`` may be a local path, a ``file:`` URI or a ``/dbfs/...`` path; ``None``
    reads the copy packaged with labkit. Raises :class:`DataError` for a file that
    cannot be used.
    """
    return read_validated(spark, validate_csv(path))


def read_validated(spark: SparkSession, report: CsvReport) -> DataFrame:
    """Read a file that :func:`validate_csv` accepted, with fixed column types, and drop the
    rows with missing values."""
    frame = spark.read.csv(
        spark_uri(report.path), header=True, schema=csv_schema(), mode="FAILFAST"
    )
    return frame.dropna()
