"""A hostile prepared-data cache: whatever is in its place, ``prepare`` gives the rows
preparation produces, never what the cache file claims. A tampered, truncated, foreign or
non-regular file is ignored (Spark prepares the rows again); a FIFO or folder in its place
is left as it is; a cache folder that cannot be used is refused before Spark starts."""

from __future__ import annotations

import io
import os
import random
import stat
import threading

import numpy as np
import pandas as pd
import pytest
from hostile_support import assert_one_line_error, run_in_process

from labkit.data import packaged_csv_path, validate_csv
from labkit.errors import InputError
from labkit.pipeline import cache_file, expected_rows, prepare


def spark_jobs(spark) -> int:
    return len(spark.sparkContext.statusTracker().getJobIdsForGroup(None))


@pytest.fixture
def fresh(spark, tmp_path, monkeypatch):
    """The packaged rows as Spark prepares them, with the cache in a folder of this test."""
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    return prepare(spark=spark)


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def shifted_labels(frame):
    frame = frame.copy()
    frame["Species"] = ((frame["Species"] + 1) % 3).astype(np.int32)
    return parquet(frame)


def changed_value(frame):
    frame = frame.copy()
    frame.loc[7, "CulmenLength"] = np.float32(frame.loc[7, "CulmenLength"] + 0.5)
    return parquet(frame)


def one_bit(frame):
    frame = frame.copy()
    values = frame["MassScaled"].to_numpy().copy()
    values[0] = np.nextafter(values[0], np.float32(100))
    frame["MassScaled"] = values
    return parquet(frame)


def other_csv_rows(frame):
    """A valid cache file of another CSV (the first 100 penguins), planted by name."""
    return parquet(frame.iloc[:100].reset_index(drop=True))


TAMPERED = {
    "labels shifted": shifted_labels,
    "half the rows dropped": lambda f: parquet(f.iloc[: len(f) // 2]),
    "rows duplicated": lambda f: parquet(pd.concat([f, f], ignore_index=True)),
    "rows reordered": lambda f: parquet(f.iloc[::-1].reset_index(drop=True)),
    "one value changed": changed_value,
    "one float32 step": one_bit,
    "labels as int64": lambda f: parquet(f.astype({"Species": np.int64})),
    "features as float64": lambda f: parquet(f.astype({"CulmenDepth": np.float64})),
    "a column added": lambda f: parquet(f.assign(Extra=1)),
    "a column dropped": lambda f: parquet(f.drop(columns=["IslandIdx"])),
    "columns renamed": lambda f: parquet(f.rename(columns={"Species": "Label"})),
    "another CSV's rows": other_csv_rows,
    "no rows": lambda f: parquet(f.iloc[:0]),
    "truncated": lambda f: parquet(f)[:-200],
    "empty": lambda f: b"",
    "random bytes": lambda f: random.Random(1).randbytes(5000),
    "a CSV instead": lambda f: f.to_csv(index=False).encode(),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_cache_is_ignored_and_prepared_again(spark, fresh, case):
    cache = cache_file(packaged_csv_path())
    cache.write_bytes(TAMPERED[case](fresh.penguins))
    jobs = spark_jobs(spark)
    again = prepare()
    assert spark_jobs(spark) > jobs  # Spark prepared the rows again
    pd.testing.assert_frame_equal(again.penguins, fresh.penguins, check_exact=True)
    assert again.data.y_train.tolist() == fresh.data.y_train.tolist()
    assert pd.read_parquet(cache).equals(fresh.penguins)  # and the cache was repaired


def test_the_untouched_cache_is_used_and_equals_the_recomputed_rows(spark, fresh):
    pd.testing.assert_frame_equal(expected_rows(validate_csv()), fresh.penguins,
                                  check_exact=True)
    jobs = spark_jobs(spark)
    assert prepare().penguins.equals(fresh.penguins)
    assert spark_jobs(spark) == jobs


def test_a_fifo_in_the_caches_place_is_neither_opened_nor_replaced(spark, fresh):
    cache = cache_file(packaged_csv_path())
    cache.unlink()
    os.mkfifo(cache)
    opened = threading.Event()

    def writer() -> None:  # would unblock a reader that opened the FIFO
        try:
            fd = os.open(cache, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # no reader: nobody opened it
        opened.set()
        os.close(fd)

    again = prepare()
    threading.Thread(target=writer).start()
    assert not opened.wait(0.5)
    assert again.penguins.equals(fresh.penguins)
    assert stat.S_ISFIFO(os.stat(cache).st_mode)


@pytest.mark.parametrize("kind", ["folder", "symlink to a folder", "broken symlink"])
def test_other_things_in_the_caches_place_are_ignored(spark, fresh, tmp_path, kind):
    cache = cache_file(packaged_csv_path())
    cache.unlink()
    if kind == "folder":
        cache.mkdir()
    elif kind == "symlink to a folder":
        cache.symlink_to(tmp_path)
    else:
        cache.symlink_to(tmp_path / "nowhere.parquet")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert prepare().penguins.equals(fresh.penguins)
    assert cache.is_symlink() == (kind != "folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written through


def test_a_cache_folder_that_is_a_file_is_refused_before_spark(capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a user's file")
    monkeypatch.setenv("LABKIT_CACHE", str(blocker))
    monkeypatch.setattr("labkit.pipeline.get_spark", lambda: pytest.fail("Spark started"))
    outcome = run_in_process(capsys, "prep")
    assert_one_line_error(outcome, f"the cache folder {blocker / 'prepared'} cannot be used "
                                   "(Not a directory); set LABKIT_CACHE")
    assert blocker.read_text() == "a user's file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_cache_folder_is_refused_before_spark(capsys, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("LABKIT_CACHE", str(locked))
    monkeypatch.setattr("labkit.pipeline.get_spark", lambda: pytest.fail("Spark started"))
    assert_one_line_error(run_in_process(capsys, "prep"), "(Permission denied)")


def test_tilde_in_labkit_cache_is_the_home_folder(tmp_path, monkeypatch):
    from labkit.pipeline import cache_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LABKIT_CACHE", "~/labkit-cache")
    assert cache_dir() == tmp_path / "labkit-cache" / "prepared"


@pytest.mark.parametrize("home", ["", "relative/home", "/"])
def test_no_usable_home_is_refused(capsys, monkeypatch, home):
    from labkit.pipeline import cache_dir

    monkeypatch.delenv("LABKIT_CACHE", raising=False)
    monkeypatch.setenv("HOME", home)
    with pytest.raises(InputError, match=r"^HOME is .* so labkit has no folder for its "
                                         r"cache; set HOME, or LABKIT_CACHE"):
        cache_dir()
    assert_one_line_error(run_in_process(capsys, "prep"), "so labkit has no folder")
