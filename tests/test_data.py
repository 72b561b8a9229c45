"""Loading penguins.csv: the packaged copy, the paths users type, and every bad file we reject."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from labkit.data import (
    PACKAGED_SHA256,
    csv_schema,
    load_all_rows,
    load_penguins,
    packaged_csv_path,
    resolve_local_path,
    sha256_of,
    validate_csv,
)
from labkit.errors import DataError

HEADER = "Island,CulmenLength,CulmenDepth,FlipperLength,BodyMass,Species"
GOOD = "Biscoe,47.5,15.0,217,5080,1"


def test_packaged_data_is_the_published_file():
    path = packaged_csv_path()
    assert sha256_of(path) == PACKAGED_SHA256
    provenance = (path.parent / "PROVENANCE.md").read_text()
    assert f"sha256: {PACKAGED_SHA256}" in provenance


def test_load_drops_the_two_incomplete_rows(spark):
    raw = pd.read_csv(packaged_csv_path())
    frame = load_penguins(spark)
    assert len(raw) == 344
    assert frame.count() == 342 == len(raw.dropna())
    counts = {row["Species"]: row["count"] for row in frame.groupBy("Species").count().collect()}
    assert counts == raw.dropna()["Species"].value_counts().to_dict()


@pytest.mark.parametrize("form", ["plain", "file-uri", "file-triple-slash"])
def test_local_paths_and_file_uris_load(spark, tmp_path, form):
    path = tmp_path / "few.csv"
    path.write_text(f"{HEADER}\n{GOOD}\nDream,46.5,17.9,192,3500,2\nTorgersen,,,,,0\n")
    given = {"plain": str(path), "file-uri": f"file:{path}",
             "file-triple-slash": path.as_uri()}[form]
    rows = load_penguins(spark, given).collect()
    assert [row["Island"] for row in rows] == ["Biscoe", "Dream"]


def test_dbfs_paths_map_to_the_fuse_mount():
    assert resolve_local_path("/dbfs/deepml_lab/penguins.csv") == Path(
        "/dbfs/deepml_lab/penguins.csv")
    assert resolve_local_path("dbfs:/deepml_lab/penguins.csv") == Path(
        "/dbfs/deepml_lab/penguins.csv")


BAD_FILES = {
    "missing column": (f"{HEADER.replace(',Species', '')}\nBiscoe,47.5,15.0,217,5080\n",
                       r":1: missing column 'Species'$"),
    "renamed column": (HEADER.replace("BodyMass", "Mass") + f"\n{GOOD}\n",
                       r":1:47: unexpected column 'Mass'"),
    "ragged row": (f"{HEADER}\n{GOOD}\nBiscoe,47.5,15.0,217\n",
                   r":3: expected 6 fields, found 4$"),
    "not a number": (f"{HEADER}\n{GOOD}\nBiscoe,47.5,abc,217,5080,1\n",
                     r":3:13: CulmenDepth 'abc' is not a number$"),
    "negative": (f"{HEADER}\nDream,-46.5,17.9,192,3500,2\n",
                 r":2:7: CulmenLength -46.5 is impossible for these penguins; "
                 r"labkit accepts 15 to 120 mm"),
    "zero": (f"{HEADER}\nDream,46.5,17.9,192,0,2\n",
             r":2:21: BodyMass 0 is impossible for these penguins; labkit accepts "
             r"1000 to 13000 g"),
    "infinite": (f"{HEADER}\nDream,46.5,17.9,inf,3500,2\n",
                 r":2:17: FlipperLength 'inf' is not a number$"),
    "species 3": (f"{HEADER}\n{GOOD}\nDream,46.5,17.9,192,3500,3\n",
                  r":3:26: Species '3' is not a species code 0, 1 or 2$"),
    "species name": (f"{HEADER}\nDream,46.5,17.9,192,3500,Adelie\n",
                     r":2:26: Species 'Adelie' is not a species code"),
    "unknown island": (f"{HEADER}\nAtlantis,46.5,17.9,192,3500,2\n",
                       r":2:1: unknown island 'Atlantis'"),
    "empty file": ("", r": the file is empty$"),
    "header only": (f"{HEADER}\n", r": no data rows after the header$"),
    "no usable rows": (f"{HEADER}\nTorgersen,,,,,0\nBiscoe,,,,,1\n",
                       r": no usable rows; all 2 rows have missing values$"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_get_one_clear_line_naming_file_line_and_column(spark, tmp_path, case):
    content, pattern = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError) as raised:
        load_penguins(spark, path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert re.search(pattern, message), message


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\n{GOOD}\n".encode() + "Dr\xe9am,1,1,1,1,1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.csv:3: the file is not UTF-8 text$"):
        validate_csv(path)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(DataError, match=r": is a directory, expected a CSV file$"):
        validate_csv(tmp_path)
    with pytest.raises(DataError, match=r"nope.csv: no such CSV file$"):
        validate_csv(tmp_path / "nope.csv")


def test_validation_counts_rows():
    report = validate_csv()
    assert (report.rows, report.complete_rows) == (344, 342)


def test_spark_gets_the_same_rows_it_would_have_parsed_itself(spark):
    """On the packaged file, the checked rows Spark receives are exactly the rows its own
    CSV reader makes of the file, incomplete ones included: chapter 2's numbers and the
    prepared rows do not change."""
    own = spark.read.csv(packaged_csv_path().resolve().as_uri(), header=True, schema=csv_schema(),
                         mode="FAILFAST").collect()
    given = load_all_rows(spark).collect()
    assert len(given) == 344
    assert given == own
    assert sum(any(value is None for value in row) for row in given) == 2
