"""HorovodRunner for any Spark: the Databricks class's meaning, built on open-source Horovod.

``HorovodRunner(np=2).run(main, **kwargs)`` runs ``main(**kwargs)`` in two Horovod
processes and returns what rank 0 returned, as ``sparkdl.HorovodRunner`` does:

- ``np > 0``: ``np`` processes as Spark tasks of the active SparkSession
  (``horovod.spark.run`` with Gloo), on whichever machines Spark gives the tasks;
- ``np < 0``: ``-np`` processes on the driver machine, without Spark (``horovod.run``),
  which is how Databricks suggests testing a training function first.

``driver_log_verbosity="all"`` prints every rank's output, each line prefixed by its rank;
``"log_callback_only"`` (the default, as on Databricks) prints only what the ranks send with
:func:`labkit.rank_output.log_to_driver`. A failing rank's traceback is always printed.
On Databricks, :mod:`labkit.distributed` hands out ``sparkdl.HorovodRunner`` instead.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from labkit.launch import (
    VERBOSITIES,
    DistributedError,
    HorovodMissing,
    require_memory,
    require_task_slots,
    supervise,
)
from labkit.rank_output import RankMain, RankOutputServer, returned


class _Tail:
    """Keeps the last lines Horovod itself forwards from the ranks (not printed)."""

    def __init__(self, keep: int = 200) -> None:
        self.lines: list[str] = []
        self.keep = keep

    def write(self, text: str) -> int:
        self.lines.extend(text.splitlines())
        del self.lines[:-self.keep]
        return len(text)

    def flush(self) -> None:
        pass


@contextmanager
def _quiet_cancelled_spark_thread() -> Iterator[None]:
    """When a rank fails, horovod.spark cancels its own Spark job, and the thread that was
    waiting on that job dies with a Java "job cancelled" traceback. We report the rank's
    failure ourselves, so that second, misleading traceback is not printed."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        thread = args.thread.name if args.thread is not None else ""
        if thread.endswith("(run_spark)") and "SPARK_JOB_CANCELLED" in str(args.exc_value):
            return
        previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def _require_horovod() -> None:
    """Fail in one line where Horovod is not installed (Colab; Databricks Runtime ML 16.0 and
    later ship neither Horovod nor ``sparkdl``; a plain pip install has no Horovod either)."""
    try:
        import horovod.torch  # noqa: F401
    except ImportError as error:
        raise HorovodMissing(
            f"Horovod is not installed here ({error}): its runs need Binder, Databricks "
            "Runtime ML 15.4 LTS or a local set-up (make setup builds it); TorchDistributor "
            "(engine='torch') runs without it"
        ) from None


class HorovodRunner:
    """Run a function in ``np`` Horovod processes; see the module documentation."""

    def __init__(self, np: int, driver_log_verbosity: str = "log_callback_only") -> None:
        if isinstance(np, bool) or not isinstance(np, int) or np == 0:
            raise DistributedError(f"np must be a non-zero whole number, not {np!r}")
        if driver_log_verbosity not in VERBOSITIES:
            raise DistributedError(f"driver_log_verbosity must be one of "
                                   f"{', '.join(VERBOSITIES)}, not {driver_log_verbosity!r}")
        self.num_processor = np
        self.driver_log_verbosity = driver_log_verbosity

    def run(self, main: Callable[..., Any], **kwargs: Any) -> Any:
        """Run ``main(**kwargs)`` on every rank; return rank 0's return value."""
        _require_horovod()  # first: without Horovod, nothing else matters
        require_memory(self.num_processor, "horovod")
        if self.num_processor > 0:
            return self._run_on_spark(main, kwargs)
        return self._run_locally(main, kwargs)

    def _run_on_spark(self, main: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        import horovod.spark
        from horovod.spark.driver import job_id
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            raise DistributedError("HorovodRunner(np>0) needs an active SparkSession; "
                                   "start one first (labkit.spark.get_spark()) or use np<0")
        np = self.num_processor
        require_task_slots(spark, np)
        host = spark.sparkContext.getConf().get("spark.driver.host", "127.0.0.1")
        sc = spark.sparkContext
        tail = _Tail()
        with RankOutputServer(host) as server:
            wrapped = RankMain(main, server.address, server.token, "HOROVOD_RANK", kwargs)

            def launch() -> Any:
                return horovod.spark.run(wrapped, num_proc=np, use_gloo=True,
                                         stdout=tail, stderr=tail, verbose=0)

            def cancel() -> None:
                sc.cancelJobGroup(f"horovod.spark.run.{job_id.JOB_ID}")

            try:
                with _quiet_cancelled_spark_thread():
                    results = supervise(launch, server, self.driver_log_verbosity, cancel,
                                        f"HorovodRunner(np={np})")
            except DistributedError as error:
                if error.rank is None and tail.lines:  # a rank died before it could report
                    sys.stderr.write("".join(f"{line}\n" for line in tail.lines[-40:]))
                raise
        return returned(results[0])

    def _run_locally(self, main: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        import horovod

        np = -self.num_processor
        with RankOutputServer("127.0.0.1") as server:
            wrapped = RankMain(main, server.address, server.token, "HOROVOD_RANK", kwargs)

            def launch() -> Any:
                return horovod.run(wrapped, np=np, hosts=f"localhost:{np}", use_gloo=True,
                                   verbose=0)

            def cancel() -> None:
                pass  # horovod.run stops the other local processes itself

            results = supervise(launch, server, self.driver_log_verbosity, cancel,
                                f"HorovodRunner(np={-np})")
        if not results:
            raise DistributedError(f"HorovodRunner(np={-np}) returned no results")
        return returned(results[0])
