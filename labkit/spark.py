"""One place that starts (or finds) the Spark session the lab runs on."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Quiet console logging (errors only) for the sessions labkit starts.
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
#: Options for the JVM of a session labkit starts. ``TieredStopAtLevel=1`` keeps the JVM on
#: its quick first-tier compiler: the lab's jobs last seconds, too short for the optimising
#: compiler to pay back the CPU it takes (measured here: start-up 13.7 s -> 10.0 s and the
#: lab's preparation 6.1 s -> 4.7 s on 2 cores).
DRIVER_JAVA_OPTIONS = (f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}",
                       "-XX:TieredStopAtLevel=1")


def get_spark(app_name: str = "labkit", master: str | None = None) -> SparkSession:
    """Return the active SparkSession, or start a small local one.

    On Databricks (or any notebook with a session already running) the existing session is
    reused. Locally we start ``local[2]`` with the web UI off and few shuffle partitions:
    the data is 344 rows, so defaults tuned for big clusters only add start-up time.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master or os.environ.get("LABKIT_SPARK_MASTER", "local[2]"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
        .config("spark.driver.extraJavaOptions", " ".join(DRIVER_JAVA_OPTIONS))
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

    active = SparkSession.getActiveSession()
    if active is not None and not os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        active.stop()
