"""One place that starts (or finds) the Spark session the lab runs on.

Three places run the lab, and each gets the session it needs:

- on Databricks the notebook already has ``spark``, which belongs to the cluster: we use it
  as it is and never stop it;
- in any other notebook or script with a session running, that session is used;
- otherwise we start a small ``local[2]`` session whose driver memory follows the machine
  (a Binder session has 2 GB for everything) or ``LABKIT_SPARK_DRIVER_MEMORY``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from labkit import settings, spark_classes
from labkit.machine import memory_bytes

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Quiet console logging (errors only) for the sessions labkit starts.
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
#: Options for every JVM of a session labkit starts. ``TieredStopAtLevel=1`` keeps the JVM
#: on its quick first-tier compiler: the lab's jobs last seconds, too short for the
#: optimising compiler to pay back the CPU it takes (measured here: start-up 13.7 s -> 10.0 s
#: and the lab's preparation 6.1 s -> 4.7 s on 2 cores).
JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1",)
#: The driver's quiet logging (an executor on another machine would have no such file).
DRIVER_LOGGING = f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}"
#: Setting that overrides the driver memory labkit picks (a JVM size: ``768m``, ``2g``).
DRIVER_MEMORY_SETTING = "LABKIT_SPARK_DRIVER_MEMORY"
#: The driver gets a quarter of the machine's memory, between these bounds (MiB). Spark
#: refuses a heap under 450 MiB; above 1 GiB (Spark's default) the lab's 344 rows gain
#: nothing, while the kernel, torch and the distributed ranks need the rest.
DRIVER_MEMORY_MIN_MIB, DRIVER_MEMORY_MAX_MIB = 512, 1024

_MIB = 1024 * 1024


def on_databricks() -> bool:
    """True in a Databricks notebook or job (the runtime sets this variable)."""
    return bool(os.environ.get("DATABRICKS_RUNTIME_VERSION"))


def driver_memory() -> str:
    """The ``spark.driver.memory`` of a session labkit starts: ``LABKIT_SPARK_DRIVER_MEMORY``
    if set (checked: :func:`labkit.settings.driver_memory`), else a quarter of
    :func:`labkit.machine.memory_bytes` within the bounds."""
    setting = settings.driver_memory()
    if setting:
        return setting
    total = memory_bytes()
    if total is None:
        return f"{DRIVER_MEMORY_MAX_MIB}m"
    quarter = total // 4 // _MIB
    return f"{min(max(quarter, DRIVER_MEMORY_MIN_MIB), DRIVER_MEMORY_MAX_MIB)}m"


def jvm_options() -> tuple[str, ...]:
    """Options for a JVM of a session labkit starts, or of a Spark daemon started beside it:
    :data:`JAVA_OPTIONS`, and the class archive where `make setup` wrote one
    (:mod:`labkit.spark_classes`: the session's start takes half the CPU)."""
    return (*JAVA_OPTIONS, *spark_classes.java_options())


def get_spark(app_name: str = "labkit", master: str | None = None) -> SparkSession:
    """Return the active SparkSession, or start a small local one.

    On Databricks the notebook's own session is returned whatever ``master`` says. Elsewhere
    a running session is reused unless ``master`` asks for a new one; otherwise we start
    ``local[2]`` (two task threads, whatever the number of cores) with the web UI off and few
    shuffle partitions: the data is 344 rows, so defaults tuned for big clusters only add
    start-up time.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if on_databricks():
        # The notebook's ``spark`` (getOrCreate finds it where it is not the thread's
        # active session, e.g. with Spark Connect).
        return active if active is not None else SparkSession.builder.getOrCreate()
    if active is not None and master is None:
        return active
    return start_session(app_name, master or settings.spark_master() or "local[2]")


def start_session(app_name: str, master: str, java_options: tuple[str, ...] = ()
                  ) -> SparkSession:
    """Start the session :func:`get_spark` describes, its driver given ``java_options``
    too."""
    from pyspark.sql import SparkSession

    memory = driver_memory()  # a bad LABKIT_* setting fails here, before the JVM starts
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
        .config("spark.driver.extraJavaOptions",
                " ".join((DRIVER_LOGGING, *jvm_options(), *java_options)))
        .config("spark.executor.extraJavaOptions", " ".join(jvm_options()))
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stop_spark() -> None:
    """Stop the session labkit started, at the end of a chapter or script.

    Does nothing when no session is running, and nothing on Databricks, where the notebook's
    session belongs to the cluster and must outlive the notebook.
    """
    from pyspark.sql import SparkSession

    if on_databricks():
        return
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
