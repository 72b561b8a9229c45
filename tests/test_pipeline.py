"""prepare(): Spark's prepared rows are reused, and any change to the data prepares them again."""

from __future__ import annotations

import pandas as pd

from labkit.data import packaged_csv_path
from labkit.pipeline import cache_file, prepare


def spark_jobs(spark) -> int:
    return len(spark.sparkContext.statusTracker().getJobIdsForGroup(None))


def test_rows_prepared_by_spark_are_reused_without_spark(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    fresh = prepare(spark=spark)  # always runs on the given session, and fills the cache
    assert cache_file(packaged_csv_path()).exists()
    jobs = spark_jobs(spark)
    reused = prepare()
    assert spark_jobs(spark) == jobs  # no Spark job ran
    pd.testing.assert_frame_equal(reused.penguins, fresh.penguins)
    assert reused.leakage == fresh.leakage == 0.0
    assert (reused.data.x_train == fresh.data.x_train).all()


def test_a_changed_file_is_prepared_again(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    csv = tmp_path / "penguins.csv"
    lines = packaged_csv_path().read_text().splitlines()
    csv.write_text("\n".join(lines) + "\n")
    first = prepare(csv, spark=spark)
    key = cache_file(csv)
    csv.write_text("\n".join(lines[:101]) + "\n")  # the first 100 penguins only
    assert cache_file(csv) != key
    jobs = spark_jobs(spark)
    second = prepare(csv)
    assert spark_jobs(spark) > jobs
    assert len(second.penguins) < len(first.penguins) == 342
