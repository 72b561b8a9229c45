"""The Spark class archive (labkit/spark_classes.py): written by `make setup`, mapped by every
JVM of a session labkit starts, named for one Java and one Spark, harmless where unusable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from labkit import spark_classes
from labkit.spark import JAVA_OPTIONS, jvm_options


def mapped_files(pid: int) -> set[str]:
    """The files a process has mapped into its memory (Linux's /proc)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def java_version(options: tuple[str, ...], classpath: str) -> subprocess.CompletedProcess:
    """``java -version`` with the given options and class path."""
    return subprocess.run([str(spark_classes.java_program()), *options, "-cp", classpath,
                           "-version"], capture_output=True, text=True, timeout=60)


def test_make_setup_wrote_the_archive_and_the_session_maps_it(spark):
    path = spark_classes.archive_path()
    assert path is not None and path.is_file(), f"no archive at {path}: run make setup"
    assert f"-XX:SharedArchiveFile={path}" in jvm_options()
    driver = spark.sparkContext._gateway.proc.pid
    assert str(path) in mapped_files(driver)  # mapped: the JVM accepted it


def test_the_archive_fits_the_class_path_spark_s_launcher_gives(spark):
    """-Xshare:on makes a JVM that cannot use the archive refuse to start."""
    classpath = spark.sparkContext._jvm.java.lang.System.getProperty("java.class.path")
    result = java_version(("-Xshare:on", *spark_classes.java_options()), classpath)
    assert result.returncode == 0, result.stderr


def test_an_archive_the_jvm_cannot_use_is_left_out_quietly(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    path = spark_classes.archive_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an archive" * 1000)
    options = spark_classes.java_options()
    assert options[0] == f"-XX:SharedArchiveFile={path}"
    result = java_version(options, f"{spark_classes.spark_home() / 'jars'}/*")
    assert result.returncode == 0, result.stderr
    assert "archive" not in (result.stdout + result.stderr).lower()


def test_without_an_archive_no_option_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    assert spark_classes.java_options() == ()
    assert jvm_options() == JAVA_OPTIONS


def test_another_spark_gets_an_archive_of_its_own(tmp_path, monkeypatch):
    here = spark_classes.archive_path()
    (tmp_path / "jars").mkdir()
    monkeypatch.setenv("SPARK_HOME", str(tmp_path))
    other = spark_classes.archive_path()
    assert other is not None and other.parent == here.parent and other != here


def test_a_written_archive_is_not_written_again():
    result = subprocess.run([sys.executable, "-m", "labkit.spark_classes"],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_only_the_archives_of_a_java_or_spark_gone_or_reinstalled_are_removed(tmp_path):
    current = spark_classes.archive_path()
    kept = tmp_path / current.name
    kept.write_bytes(b"archive")
    kept.with_suffix(".for").write_text(current.with_suffix(".for").read_text())
    gone = tmp_path / "0123456789abcdef.jsa"
    gone.write_bytes(b"archive")
    gone.with_suffix(".for").write_text(f"{tmp_path / 'no-java'}\n{tmp_path / 'no-jars'}\n")
    reinstalled = tmp_path / "fedcba9876543210.jsa"  # this Java and Spark, as they were
    reinstalled.write_bytes(b"archive")
    reinstalled.with_suffix(".for").write_text(current.with_suffix(".for").read_text())
    unknown = tmp_path / "00000000000000ff.jsa"  # no record of what it was written for
    unknown.write_bytes(b"archive")
    spark_classes.remove_stale(tmp_path)
    assert {path.name for path in tmp_path.iterdir()} == {kept.name,
                                                          kept.with_suffix(".for").name}
