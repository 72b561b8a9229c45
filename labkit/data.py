"""Loading the penguin CSV: find the file, check every line, then hand the rows to Spark.

Validation happens in plain Python before Spark sees anything, because a learner deserves
``penguins.csv:12:18: CulmenDepth 'abc' is not a number`` rather than a column of nulls
or a Java stack trace three cells later.

There is one definition of a valid row, and it is applied once: :func:`validate_csv`
parses every field into a typed value, and Spark receives exactly those values
(``spark.createDataFrame``); it never parses the file itself. So Spark cannot read a
value differently from the checker (``Biscoe `` with a trailing space, `` 1``, ``5_080``,
full-width digits, a form feed), and executors on a cluster need no access to the file.
The rules: the header names the six columns exactly, in order; an island or a species
code is one of the known values exactly (no spaces, no change of case); a measurement is
an ASCII decimal number inside its plausible range (:data:`labkit.constants.PLAUSIBLE`);
an empty field is a missing value, and the lab drops rows that have one.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from labkit.constants import (
    CSV_COLUMNS,
    ISLANDS,
    MEASUREMENTS,
    PLAUSIBLE,
    SPECIES,
    SPLIT_MODES,
    TEST_SIZE,
    UNITS,
)
from labkit.errors import DataError
from labkit.files import read_regular_file

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The largest CSV labkit reads: about 400,000 rows, a thousand times the packaged data.
MAX_CSV_BYTES = 16 * 1024 * 1024
#: A number as a CSV field may write it: ASCII digits, an optional sign, point and
#: exponent. Python's ``float`` also takes ``5_080``, full-width digits and spaces, which
#: nobody means in a data file.
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
#: The largest finite float32: the network computes in single precision.
FLOAT32_MAX = 3.4028234663852886e38
#: Species codes as the file writes them.
SPECIES_CODES: tuple[str, ...] = ("0", "1", "2")

#: One data row, typed: island, the four measurements, species code; ``None`` if missing.
Record = tuple[str | None, float | None, float | None, float | None, float | None, int | None]

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


@dataclass(frozen=True)
class CsvReport:
    """What validation found: how many data rows, how many are complete, and every row
    as typed values (what Spark receives)."""

    path: Path
    rows: int
    complete_rows: int
    records: tuple[Record, ...] = field(default=(), repr=False)


def _field_columns(line: str, fields: list[str]) -> list[int]:
    """1-based character column where each field starts (exact for unquoted fields)."""
    columns, position = [], 1
    for text in fields:
        columns.append(position)
        quoted = position - 1 < len(line) and line[position - 1] == '"'
        position += len(text) + 1 + (2 + text.count('"') if quoted else 0)
    return columns


def _split_line(line: str, where: str) -> list[str]:
    """The fields of one CSV line; a line Python's csv module cannot parse is an error."""
    try:
        return next(csv.reader([line], strict=True))
    except csv.Error as error:
        raise DataError(f"{where}: not valid CSV ({error})") from None


def _spaces_hint(text: str) -> str:
    return "; remove the spaces around it" if text != text.strip() else ""


def parse_island(text: str, where: str) -> str:
    """An island name, exactly as :data:`ISLANDS` spells it."""
    if text not in ISLANDS:
        raise DataError(f"{where}: unknown island {text!r}; expected one of "
                        f"{', '.join(ISLANDS)}, spelled exactly{_spaces_hint(text)}")
    return text


def parse_species(text: str, where: str) -> int:
    """A species code, exactly ``0``, ``1`` or ``2``."""
    if text not in SPECIES_CODES:
        raise DataError(f"{where}: Species {text!r} is not a species code 0, 1 or 2"
                        f"{_spaces_hint(text)}")
    return int(text)


def parse_measurement(name: str, text: str, where: str) -> float:
    """A measurement: an ASCII decimal number, finite in float32 and plausible."""
    if not NUMBER.fullmatch(text):
        raise DataError(f"{where}: {name} {text!r} is not a number{_spaces_hint(text)}")
    value = float(text)
    if abs(value) > FLOAT32_MAX:
        raise DataError(f"{where}: {name} {text} does not fit in float32 "
                        f"(largest {FLOAT32_MAX:.4g}), the precision the network uses")
    low, high = PLAUSIBLE[name]
    if not low <= value <= high:
        raise DataError(
            f"{where}: {name} {text} is impossible for these penguins; labkit accepts "
            f"{low:g} to {high:g} {UNITS[name]} (about half the smallest and twice the "
            f"largest value in the Palmer data)")
    return value


def parse_row(fields: list[str], columns: list[int], where: str) -> Record:
    """Typed values of one data row; an empty field is a missing value (``None``)."""
    values: list[object] = []
    for name, text, column in zip(CSV_COLUMNS, fields, columns):
        at = f"{where}:{column}"
        if text == "":
            values.append(None)
        elif name == "Island":
            values.append(parse_island(text, at))
        elif name == "Species":
            values.append(parse_species(text, at))
        else:
            values.append(parse_measurement(name, text, at))
    return tuple(values)  # type: ignore[return-value]


def _check_header(line: str, shown: str) -> None:
    header = _split_line(line, f"{shown}:1")
    for name, column in zip(header, _field_columns(line, header)):
        if name not in CSV_COLUMNS:
            raise DataError(
                f"{shown}:1:{column}: unexpected column {name!r}; "
                f"expected the columns {', '.join(CSV_COLUMNS)}{_spaces_hint(name)}"
            )
    for name in CSV_COLUMNS:
        if name not in header:
            raise DataError(f"{shown}:1: missing column {name!r}")
    if header != list(CSV_COLUMNS):
        raise DataError(f"{shown}:1: columns must be in the order {', '.join(CSV_COLUMNS)}")


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(f"{shown}:{line}: the file is not UTF-8 text") from None


def validate_csv(path: str | os.PathLike[str] | None = None) -> CsvReport:
    """Check the CSV line by line, parse every field, and raise :class:`DataError` at the
    first problem.

    Missing values (empty fields) are allowed (the lab drops those rows); anything else
    that is not a plausible measurement, a known island or a species code 0/1/2 is an
    error. Lines end at ``\n`` (or ``\r\n``) only; any other control character is part
    of a field, and so an error.
    """
    local = resolve_local_path(path)
    shown = str(path) if path is not None else str(local)
    raw = read_regular_file(local, MAX_CSV_BYTES, shown, "CSV file", DataError)
    text = _decode(raw, shown)
    if not text.strip():
        raise DataError(f"{shown}: the file is empty")

    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if "\r" in lines[0]:
        raise DataError(f"{shown}:1:{lines[0].index(chr(13)) + 1}: a line ends with a bare "
                        f"carriage return (old Mac line endings); save the file with "
                        f"\\n or \\r\\n line endings")
    _check_header(lines[0], shown)
    records: list[Record] = []
    for number, line in enumerate(lines[1:], start=2):
        if line == "":
            continue
        if "\r" in line:
            raise DataError(f"{shown}:{number}:{line.index(chr(13)) + 1}: a carriage return "
                            f"inside a line; lines end with \\n or \\r\\n")
        fields = _split_line(line, f"{shown}:{number}")
        if len(fields) != len(CSV_COLUMNS):
            raise DataError(
                f"{shown}:{number}: expected {len(CSV_COLUMNS)} fields, found {len(fields)}"
            )
        records.append(parse_row(fields, _field_columns(line, fields), f"{shown}:{number}"))
    rows = len(records)
    complete = sum(None not in record for record in records)
    if rows == 0:
        raise DataError(f"{shown}: no data rows after the header")
    if complete == 0:
        raise DataError(f"{shown}: no usable rows; all {rows} rows have missing values")
    return CsvReport(path=local, rows=rows, complete_rows=complete, records=tuple(records))


def check_splittable(report: CsvReport, mode: str, shown: str | None = None) -> None:
    """Raise :class:`DataError` unless the complete rows can be split as ``mode`` asks,
    before any Spark work: the ``honest`` split is stratified, so every species present
    needs two penguins and both parts at least one penguin of each species."""
    shown = shown or str(report.path)
    if mode not in SPLIT_MODES:
        raise DataError(f"unknown split mode {mode!r}; expected one of "
                        f"{', '.join(SPLIT_MODES)}")
    counts = [0] * len(SPECIES)
    for record in report.records:
        if None not in record:
            counts[record[-1]] += 1  # type: ignore[index]
    total, present = sum(counts), sum(1 for count in counts if count)
    if mode != "honest":
        return  # four copies of even one penguin split into training and test rows
    rare = [(count, code) for code, count in enumerate(counts) if count == 1]
    if rare:
        _, code = rare[0]
        raise DataError(f"{shown}: species {code} ({SPECIES[code]}) has 1 complete row; "
                        f"the honest split puts every species in both the training and "
                        f"the test set, so each needs at least 2 (the seed split does not)")
    n_test = math.ceil(total * TEST_SIZE)  # as scikit-learn's train_test_split counts
    if n_test < present or total - n_test < present:
        need = next(n for n in range(2, 10 * present + 10)
                    if min(math.ceil(n * TEST_SIZE), n - math.ceil(n * TEST_SIZE)) >= present)
        raise DataError(f"{shown}: {total} complete rows are too few for the honest split: "
                        f"with {present} species it needs at least {need}, so that the "
                        f"training and the test set each hold one penguin of every species")


def csv_schema():  # -> pyspark.sql.types.StructType (pyspark imported lazily)
    """Column types for Spark: measurements as doubles, the label as an integer."""
    from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

    fields = [StructField("Island", StringType())]
    fields += [StructField(name, DoubleType()) for name in MEASUREMENTS]
    fields += [StructField("Species", IntegerType())]
    return StructType(fields)


def load_penguins(spark: SparkSession,
                  path: str | os.PathLike[str] | None = None) -> DataFrame:
    """Check every line of the CSV, give Spark the rows it accepted and drop the
    incomplete ones (as the lab does).

    ``path`` may be a local path, a ``file:`` URI or a ``/dbfs/...`` path; ``None``
    reads the copy packaged with labkit. Raises :class:`DataError` for a file that
    cannot be used.
    """
    return read_validated(spark, validate_csv(path))


def load_all_rows(spark: SparkSession,
                  path: str | os.PathLike[str] | None = None) -> DataFrame:
    """Every row the check accepted, the incomplete ones included (with nulls)."""
    return rows_frame(spark, validate_csv(path))


def rows_frame(spark: SparkSession, report: CsvReport) -> DataFrame:
    """A DataFrame of exactly the typed rows :func:`validate_csv` produced, in file
    order. Built on the driver, so executors never need to read the file."""
    return spark.createDataFrame(list(report.records), csv_schema())


def read_validated(spark: SparkSession, report: CsvReport) -> DataFrame:
    """The rows :func:`validate_csv` accepted, without those with missing values."""
    return rows_frame(spark, report).dropna()
