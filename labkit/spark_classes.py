"""A class-data archive of what a Spark session loads, so that later sessions start faster.

Most of a Spark session's start is the JVM reading, checking and linking the ten thousand
or so classes it loads from Spark's jars. Java 17 can write the classes one run loaded to
an archive (``-XX:ArchiveClassesAtExit``) and map that archive into later runs
(``-XX:SharedArchiveFile``), which then skip that work. `make setup` writes the archive once
(``python -m labkit.spark_classes``, which starts a session and prepares the lab's data);
every session labkit starts afterwards maps it (:func:`java_options`).

The JVM checks an archive against its own build and against Spark's jars, and starts
without it where they differ (another Java, pyspark reinstalled); the archive's warnings
are turned off, so the worst an unusable archive does is nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from labkit import settings
from labkit.errors import InputError

#: Where the archives are kept, under labkit's cache (:func:`labkit.settings.cache_root`).
FOLDER = "spark-classes"
#: Keep the JVM quiet about an archive it cannot use (or classes it cannot archive).
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def java_program() -> Path | None:
    """The ``java`` Spark will run, as its launcher finds it: ``$JAVA_HOME/bin/java``, else
    the one on ``PATH``; ``None`` where there is none."""
    home = os.environ.get("JAVA_HOME")
    found = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not found or not os.path.isfile(found):
        return None
    return Path(found).resolve()


def spark_home() -> Path:
    """The Spark installation a session starts from (pyspark's own unless ``SPARK_HOME``)."""
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home()).resolve()


def digest(java: Path, jars: Path) -> str:
    """An archive's name: one Java and one folder of Spark's jars, each as installed now (a
    reinstall changes the modification time)."""
    identity = "\n".join([str(java), str(java.stat().st_mtime_ns),
                          str(jars), str(jars.stat().st_mtime_ns)])
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def archive_path() -> Path | None:
    """The archive for this Java and this Spark: its name changes with either, so an
    archive is never mapped into a JVM or over jars it was not written for."""
    java = java_program()
    jars = spark_home() / "jars"
    if java is None or not jars.is_dir():
        return None
    return settings.cache_root() / FOLDER / f"{digest(java, jars)}.jsa"


def java_options() -> tuple[str, ...]:
    """JVM options that map this Spark's archive, where one has been written; none else."""
    try:
        path = archive_path()
    except InputError:  # no cache folder: sessions start without the archive
        return ()
    if path is None or not path.is_file():
        return ()
    return (f"-XX:SharedArchiveFile={path}", *QUIET)


def write_archive() -> Path:
    """Start a session with the archive being recorded, prepare the lab's data on it (the
    classes a chapter loads), stop the JVM and keep what it wrote: whole or not at all."""
    from pyspark import SparkContext

    from labkit.pipeline import prepare
    from labkit.spark import start_session

    path = archive_path()
    if path is None:
        raise RuntimeError("no java program or no Spark jars found")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    spark = start_session("labkit-class-archive", "local[2]",
                          (f"-XX:ArchiveClassesAtExit={partial}", *QUIET))
    try:
        prepare(spark=spark)
    finally:
        spark.stop()
        jvm = SparkContext._gateway.proc  # the JVM leaves (and writes) once its stdin closes
        jvm.stdin.close()
        code = jvm.wait(timeout=300)
    if code != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the JVM exited with {code} without writing {partial.name}")
    path.with_suffix(".for").write_text(f"{java_program()}\n{spark_home() / 'jars'}\n")
    os.replace(partial, path)
    remove_stale(path.parent)
    return path


def remove_stale(folder: Path) -> None:
    """Remove the archives of a Java or a Spark that is gone or was reinstalled since (each
    archive's ``.for`` file names the two); other checkouts' archives stay."""
    for archive in folder.glob("*.jsa"):
        record = archive.with_suffix(".for")
        try:
            java, jars = record.read_text().splitlines()
            current = digest(Path(java), Path(jars))
        except (OSError, ValueError):
            current = None
        if current != archive.stem:
            archive.unlink(missing_ok=True)
            record.unlink(missing_ok=True)


def main() -> int:
    """Write the archive unless this Java and Spark already have one (then say nothing)."""
    try:
        path = archive_path()
        if path is not None and path.is_file():
            return 0
        path = write_archive()
    except Exception as error:  # noqa: BLE001  (one line, whatever went wrong)
        print(f"labkit.spark_classes: error: {error}", file=sys.stderr)
        return 1
    print(f"Spark class archive: {path} ({path.stat().st_size // 2**20} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
