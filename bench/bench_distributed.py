"""Chapter 11's two distributed runs (HorovodRunner np=2 and TorchDistributor np=2 on a
``local[2]`` session), this labkit against an earlier one, in one run.

Each side runs as a fresh process from a neutral folder (a rank imports labkit from its
working folder first), with ``PYTHONPATH`` naming its labkit; the sides alternate round by
round, so that both meet the same load. For each run: the wall time split as the chapter
splits it (start-up until rank 0's first epoch, rank 0's epoch loop, finishing), and the CPU
seconds of the whole process tree (sampled every 0.2 s, so a process living less than that
is missed). Give the load average with the figures: on a busy two-core machine the wall
times move a lot; the CPU seconds much less.

    python bench/bench_distributed.py [--rounds 2] [--baseline REV]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: main before the rank's function, arguments and result crossed the launchers as bytes.
BASELINE = "a260b5e"


def one_side() -> None:
    """Both runs with the labkit on ``sys.path``; one line per run."""
    import psutil
    import torch

    from labkit.distributed import (
        HorovodRunner,
        run_torch_distributor,
        train_ddp,
        train_hvd,
    )
    from labkit.model import PenguinNet
    from labkit.pipeline import prepare
    from labkit.spark import get_spark, stop_spark

    get_spark("bench-distributed")
    data = prepare(mode="honest").data
    folder = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    me = psutil.Process()

    def cpu_seconds() -> dict[tuple[int, float], float]:
        seen = {}
        for process in [me, *me.children(recursive=True)]:
            try:
                times = process.cpu_times()
                seen[process.pid, process.create_time()] = times.user + times.system
            except psutil.Error:
                pass
        return seen

    for engine in ("horovod", "torch"):
        before, latest, done = cpu_seconds(), {}, threading.Event()

        def sample(latest=latest, done=done) -> None:
            while not done.is_set():
                latest.update(cpu_seconds())
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        torch.manual_seed(0)
        kwargs = {"model": PenguinNet(), "data": data,
                  "model_path": str(folder / f"{engine}.pt")}
        start = time.time()
        if engine == "horovod":
            result = HorovodRunner(np=2).run(train_hvd, **kwargs)
        else:
            result = run_torch_distributor(train_ddp, 2, **kwargs)
        wall = time.time() - start
        done.set()
        sampler.join()
        cpu = sum(value - before.get(key, 0.0) for key, value in latest.items())
        startup, training = result["started_at"] - start, result["history"].seconds
        print(f"{engine:8} wall {wall:6.1f} s  start {startup:5.1f}  train {training:5.1f}  "
              f"finish {wall - startup - training:5.1f}  cpu {cpu:6.1f} s", flush=True)
    stop_spark()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_side()
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as scratch:
        base = Path(scratch) / "baseline"
        base.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "labkit"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        sides = {f"baseline {args.baseline}": base, "this labkit": ROOT}
        for round_ in range(1, args.rounds + 1):
            for name, path in sides.items():
                load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
                print(f"== round {round_}, {name} (load average {load})", flush=True)
                env = {**os.environ, "PYTHONPATH": str(path)}
                subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one"],
                               cwd=scratch, env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
