"""A real Spark standalone cluster on 127.0.0.1 for tests: one master, workers of one core.

Started with the pyspark install's own ``bin/spark-class`` (no separate Spark download),
each daemon in its own process group so that stopping it stops its executors too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

from labkit.spark import jvm_options

SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StandaloneCluster:
    """A running master and its workers; ``url`` is what ``--master`` takes."""

    url: str
    work_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _daemon(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([str(SPARK_CLASS), *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)


def _wait_for(log: Path, text: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{log.name}: exited with {process.returncode}:\n"
                               + log.read_text(errors="replace")[-2000:])
        time.sleep(0.3)
    raise RuntimeError(f"{log.name}: no {text!r} after {START_TIMEOUT:.0f} s:\n"
                       + log.read_text(errors="replace")[-2000:])


def start_cluster(work_dir: Path, workers: int = 2, cores: int = 1) -> StandaloneCluster:
    """Start a master and ``workers`` workers of ``cores`` cores each; wait until all
    workers have registered."""
    work_dir.mkdir(parents=True, exist_ok=True)
    # The daemons run on the JVM options labkit gives its sessions' JVMs (the quick compiler,
    # the class archive): for a test's few seconds of work, they took a third less CPU.
    env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1",
               PYSPARK_PYTHON=sys.executable, SPARK_NO_DAEMONIZE="1",
               SPARK_DAEMON_JAVA_OPTS=" ".join(jvm_options()))
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    cluster = StandaloneCluster(url, work_dir)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        master_log = work_dir / "master.log"
        master = _daemon(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                          "--port", str(port), "--webui-port", str(free_port())],
                         master_log, env)
        cluster.processes.append(master)
        _wait_for(master_log, "I have been elected leader", master, deadline)
        for index in range(workers):
            log = work_dir / f"worker-{index}.log"
            worker = _daemon(["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                              "--cores", str(cores), "--memory", "1g",
                              "--webui-port", str(free_port()),
                              "--work-dir", str(work_dir / f"work-{index}"), url], log, env)
            cluster.processes.append(worker)
        for index, worker in enumerate(cluster.processes[1:]):
            _wait_for(work_dir / f"worker-{index}.log", "Successfully registered with master",
                      worker, deadline)
    except BaseException:
        cluster.stop()
        raise
    return cluster
