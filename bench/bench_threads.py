"""Two training loops at once, as two chapters (or two test workers) run them: each with
torch's default thread count (one per core) against each with its share of the cores
(``bookbuild.execute.share_the_cores``), in one run.

Each case starts as many fresh processes as there are cores, at the same moment, and each
trains PenguinNet with the lab's settings on as many random rows as the lab has, for a few
epochs, outside ``labkit.training.fit`` (which pins one thread itself), the way a chapter's
own loops do; the report gives the median seconds a process took per epoch and the ratio.
The two cases alternate round by round so that both meet the same load. Both cases must
reach the same weights: the thread count changes the time, not the result.

    python bench/bench_threads.py [--rounds 3] [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: One process: train, then print seconds per epoch and a checksum of the weights.
TRAIN = """
import json, sys, time
import torch
from labkit.model import PenguinNet
from labkit.training import BATCH_SIZE, LEARNING_RATE, adam, make_loader, train
epochs = int(sys.argv[1])
torch.manual_seed(0)
x, y = torch.randn(300, 5), torch.randint(0, 3, (300,))   # the lab's size: only time counts
net = PenguinNet()
optimizer = adam(net, LEARNING_RATE)
loader = make_loader(x, y, BATCH_SIZE)
start = time.perf_counter()
for _ in range(epochs):
    train(net, loader, optimizer)
seconds = (time.perf_counter() - start) / epochs
total = sum(float(p.detach().double().sum()) for p in net.parameters())
print(json.dumps({"seconds": seconds, "threads": torch.get_num_threads(), "sum": total}))
"""


def run_together(processes: int, epochs: int, threads: int | None) -> list[dict]:
    """Start ``processes`` trainings at once; ``threads`` None keeps torch's default."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    started = [subprocess.Popen([sys.executable, "-c", TRAIN, str(epochs)], env=env,
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    results = []
    for process in started:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"bench_threads: a training process failed ({process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    processes = max(2, cores)
    cases = {"default threads": None, "share of the cores": max(1, cores // processes)}
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    sums: dict[str, set[float]] = {name: set() for name in cases}
    for _ in range(args.rounds):
        for name, threads in cases.items():
            for result in run_together(processes, args.epochs, threads):
                seconds[name].append(result["seconds"])
                sums[name].add(round(result["sum"], 9))
    print(f"{processes} trainings at once on {cores} cores, {args.epochs} epochs each, "
          f"{args.rounds} rounds")
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    for name, median in medians.items():
        print(f"  {name:20s} {1000 * median:8.1f} ms per epoch (median)")
    print(f"  default / share = {medians['default threads'] / medians['share of the cores']:.1f} x")
    same = len(sums["default threads"] | sums["share of the cores"]) == 1
    print(f"  same weights in every process and case: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
