"""Launching distributed ranks safely: count free task slots first, then watch the run.

Both failure modes here used to cost a learner minutes of silence:
- asking for more processes than the cluster has task slots: horovod.spark waits up to
  600 s for tasks that can never start (and Spark's barrier mode, which TorchDistributor
  uses, retries for a similar time), so :func:`require_task_slots` fails at once instead;
- a rank that raises: its traceback lands in an executor log, while the other ranks wait
  for it in an allreduce. :func:`supervise` shows the traceback as soon as the rank sends
  it, gives the launcher a few seconds to wind down, then cancels the Spark job itself.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from labkit.errors import LabkitError
from labkit.machine import memory_bytes
from labkit.rank_output import ERROR, LOG, STDERR, RankMessage, RankOutputServer

#: The two ways labkit trains on several processes.
ENGINES: tuple[str, ...] = ("horovod", "torch")
#: Log verbosities HorovodRunner accepts (Databricks' names).
VERBOSITIES: tuple[str, ...] = ("log_callback_only", "all")
#: After a rank reports an exception, how long the launcher may take to stop by itself.
FAILURE_GRACE_SECONDS = 10.0
#: How long to wait for a standalone cluster's executors to register before counting slots.
EXECUTOR_WAIT_SECONDS = 20.0
#: ... or until no new executor has registered for this long. (3 s was too short on a busy
#: machine: two executors started together registered more than 3 s apart, and a refusal
#: counted 1 slot of a two-slot cluster.)
EXECUTORS_STEADY_SECONDS = 5.0
#: On ``local[N]``, how long to wait for slots that an earlier job's tasks still hold (a
#: failed distributed run's ranks are still being cleaned up when the next run starts).
BUSY_SLOTS_WAIT_SECONDS = 15.0
#: What a rank raises only because another rank failed first (its collective call was cut
#: off): the failure to report is the one that caused it.
CONSEQUENCES = ("HorovodInternalError", "Horovod has been shut down", "DistBackendError",
                "Connection closed by peer", "Connection reset by peer")


class DistributedError(LabkitError):
    """A distributed run could not start, or one of its ranks failed.

    ``rank`` and ``rank_traceback`` are set when a rank raised; the message is one line.
    """

    def __init__(self, message: str, rank: int | None = None,
                 rank_traceback: str | None = None) -> None:
        super().__init__(message)
        self.rank, self.rank_traceback = rank, rank_traceback


class HorovodMissing(DistributedError):
    """Horovod cannot be imported here (Colab, Databricks Runtime ML 16.0 and later, a plain
    pip install): a notebook can catch this one and go on with TorchDistributor."""


def total_task_slots(spark) -> int:
    """How many tasks the session's executors can run at once (cores / spark.task.cpus)."""
    sc = spark.sparkContext
    try:
        jsc = sc._jsc.sc()
        profile = jsc.resourceProfileManager().defaultResourceProfile()
        return int(jsc.maxNumConcurrentTasks(profile))
    except Exception:  # py4j API not reachable (e.g. Spark Connect): Spark's own estimate
        return int(sc.defaultParallelism)


def running_tasks(spark) -> int:
    """Tasks running right now on all executors."""
    try:
        infos = spark.sparkContext._jsc.sc().statusTracker().getExecutorInfos()
        return sum(int(info.numRunningTasks()) for info in infos)
    except Exception:
        return 0


def free_task_slots(spark) -> int:
    """Task slots not busy right now."""
    return max(total_task_slots(spark) - running_tasks(spark), 0)


def require_task_slots(spark, wanted: int, wait: float | None = None) -> int:
    """Fail with :class:`DistributedError` unless ``wanted`` task slots are free.

    On a cluster (not ``local[N]``) executors register a few seconds after the session
    starts, so we wait for them (up to ``wait`` seconds, or until no new one has arrived
    for :data:`EXECUTORS_STEADY_SECONDS`) before deciding.
    """
    local = spark.sparkContext.master.startswith("local")
    if local:  # no executors to wait for; only slots an earlier job's tasks still hold
        busy_only = total_task_slots(spark) >= wanted
        deadline = time.monotonic() + (BUSY_SLOTS_WAIT_SECONDS if busy_only else 0.0)
    else:
        deadline = time.monotonic() + (EXECUTOR_WAIT_SECONDS if wait is None else wait)
    seen, steady_since = -1, time.monotonic()
    while True:
        free = free_task_slots(spark)
        total = total_task_slots(spark)
        if total != seen:
            seen, steady_since = total, time.monotonic()
        # Enough slots; or out of time; or executors have registered and stopped arriving.
        steady = (not local and total > 0
                  and time.monotonic() - steady_since >= EXECUTORS_STEADY_SECONDS)
        if free >= wanted or steady or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    if free < wanted:
        total = total_task_slots(spark)
        raise DistributedError(
            f"np={wanted} needs {wanted} free Spark task slots, but the cluster at "
            f"{spark.sparkContext.master} has {free} free of {total}; ask for at most "
            f"{free} processes, or add executors/cores")
    return free


#: Memory (MiB) a distributed run takes, measured (proportional set size, torch 2.13) in
#: chapter 11's runs: the notebook's side (kernel, Jupyter, Spark's driver with its 512 MiB
#: heap), then each rank with everything started for it. Over Spark a rank brings a Python
#: worker, and TorchDistributor also a torchrun launcher; with np<0 the ranks are plain
#: processes on the driver.
DRIVER_SIDE_MIB = 900
RANK_MIB = {("horovod", "spark"): 700, ("torch", "spark"): 900,
            ("horovod", "local"): 580, ("torch", "local"): 450}


def memory_needed_mib(np: int, engine: str) -> int:
    """About how much memory a run of ``np`` ranks with ``engine`` needs, in MiB."""
    return DRIVER_SIDE_MIB + abs(np) * RANK_MIB[engine, "spark" if np > 0 else "local"]


def require_memory(np: int, engine: str, available: int | None = None) -> None:
    """Fail with :class:`DistributedError`, in one line, before any rank starts, where the
    machine (``available`` bytes; by default :func:`labkit.machine.memory_bytes`, which is
    the container's limit on Binder) is too small for the run: an out-of-memory kill half-way
    through would leave the learner with a dead kernel and no reason."""
    if available is None:
        available = memory_bytes()
    if available is None:
        return
    need = memory_needed_mib(np, engine)
    have = available // 2**20
    if have >= need:
        return
    hint = ""
    if np > 0 and memory_needed_mib(-np, engine) <= have:
        hint = (f"; np={-np} runs the same {np} ranks as processes on the driver, without "
                f"Spark tasks, in about {memory_needed_mib(-np, engine)} MiB")
    raise DistributedError(f"np={np} with {engine} needs about {need} MiB of memory, but this "
                           f"machine allows {have} MiB{hint}")


def show(message: RankMessage, verbosity: str) -> None:
    """Print a rank's message on the driver, if the verbosity asks for it."""
    if message.kind == ERROR:
        text = "".join(f"[{message.rank}]<stderr>:{line}\n"
                       for line in message.text.rstrip("\n").split("\n"))
        sys.stderr.write(text)
        sys.stderr.flush()
    elif verbosity == "all" or message.kind == LOG:
        stream = sys.stderr if message.kind == STDERR else sys.stdout
        stream.write(f"[{message.rank}]<{message.kind}>:{message.text}\n")
        stream.flush()


class _Watcher(threading.Thread):
    """Relays rank output while the launcher runs; cancels the job if a rank failed and
    the launcher has not stopped :data:`FAILURE_GRACE_SECONDS` later."""

    def __init__(self, server: RankOutputServer, verbosity: str,
                 cancel: Callable[[], None]) -> None:
        super().__init__(name="rank-output-watcher", daemon=True)
        self.server, self.verbosity, self.cancel = server, verbosity, cancel
        self.failures: list[RankMessage] = []
        self.cancelled = False
        self._stop_event = threading.Event()

    def _relay(self, timeout: float) -> None:
        for message in self.server.drain(timeout=timeout):
            show(message, self.verbosity)
            if message.kind == ERROR:
                if not self.failures:
                    self._failed_at = time.monotonic()
                self.failures.append(message)

    @property
    def failure(self) -> RankMessage | None:
        """The rank's error that caused the others: the first that is not a consequence of
        another rank's failure (a rank cut off in an allreduce may report first)."""
        causes = [failure for failure in self.failures
                  if not any(mark in failure.text for mark in CONSEQUENCES)]
        return (causes or self.failures or [None])[0]

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._relay(0.1)
            if (self.failure is not None and not self.cancelled
                    and time.monotonic() - self._failed_at > FAILURE_GRACE_SECONDS):
                self.cancelled = True
                self.cancel()

    def finish(self) -> None:
        time.sleep(0.2)  # the ranks' last lines may still be in flight
        self._stop_event.set()
        self.join()
        self._relay(0.0)


def supervise(launch: Callable[[], Any], server: RankOutputServer, verbosity: str,
              cancel: Callable[[], None], what: str) -> Any:
    """Call ``launch()`` (in this thread: Horovod installs signal handlers) while a watcher
    thread relays rank output. If a rank reports an exception and the launcher has not
    stopped :data:`FAILURE_GRACE_SECONDS` later, ``cancel()`` stops the Spark job.
    Raises :class:`DistributedError` naming the failed rank (its traceback is printed).
    """
    watcher = _Watcher(server, verbosity, cancel)
    watcher.start()
    error: BaseException | None = None
    try:
        result = launch()
    except Exception as caught:  # reported below, with the rank's traceback if we have it
        error = caught
    finally:
        watcher.finish()
    failure = watcher.failure
    if failure is not None:
        last = failure.text.rstrip().split("\n")[-1]
        raise DistributedError(f"{what}: rank {failure.rank} failed: {last}",
                               failure.rank, failure.text) from error
    if error is not None:
        first = str(error).strip().split("\n")[0] or type(error).__name__
        raise DistributedError(f"{what} failed: {first}") from error
    return result
