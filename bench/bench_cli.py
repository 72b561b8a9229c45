"""How fast ``labkit`` refuses a mistake: this labkit against the labkit before its heavy
imports were made lazy, in one run.

Each case is a command a person gets wrong (a bad option, a missing or unusable path, a
CSV with a bad value, an output over the input), run as a fresh process, as a person runs
it. The two versions alternate, case by case and round by round, so that both meet the
same load on the machine; the report gives each one's median wall time and the ratio.
The cases are refusals both versions make (an output over the input, which the earlier
labkit did not refuse, is left out). Every case must end in exit status 2 with one
``labkit: error:`` line (``--help``: 0).

    python bench/bench_cli.py [--rounds 5] [--baseline REV]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The last commit whose ``labkit`` imported torch, pandas and scikit-learn for every
#: command (issue 15: every refusal waited about 4 s for them).
BASELINE = "c3fb1f5097835a34f8d086b74a78b1cd764ca430"
#: What a person should wait for a refusal, at most.
TARGET_SECONDS = 0.5
HEADER = "Island,CulmenLength,CulmenDepth,FlipperLength,BodyMass,Species"


def extract_baseline(revision: str, into: Path) -> Path:
    """``labkit/`` as it was at ``revision``, unpacked from git into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "labkit"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def cases(folder: Path) -> dict[str, list[str]]:
    """name: the arguments of a mistaken command, with the files it names."""
    bad = folder / "bad.csv"
    bad.write_text(f"{HEADER}\nBiscoe,47.5,abc,217,5080,1\n")
    csv = folder / "d.csv"
    csv.write_text(f"{HEADER}\nBiscoe,47.5,15.0,217,5080,1\n")
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    return {
        "--help": ["--help"],
        "train --epochs 0": ["train", "--epochs", "0"],
        "train --lr fast": ["train", "--lr", "fast"],
        "prep --split random": ["prep", "--split", "random"],
        "prep --data missing.csv": ["prep", "--data", str(folder / "missing.csv")],
        "prep --data FIFO": ["prep", "--data", str(fifo)],
        "prep --data CSV with 'abc'": ["prep", "--data", str(bad)],
        "train --out FOLDER": ["train", "--out", str(folder)],
        "train --metrics-json DATA/x.json": ["train", "--metrics-json",
                                             str(csv / "x.json")],
        "predict --model missing.pt": ["predict", "--model", str(folder / "missing.pt"),
                                       "Biscoe", "47.5", "15.0", "21.7", "50.8"],
        "predict unknown island": ["predict", "--model", str(folder / "missing.pt"),
                                   "Mars", "47.5", "15.0", "21.7", "50.8"],
    }


def run_once(labkit_parent: Path, args: list[str], cwd: Path) -> tuple[float, int, str]:
    env = {**os.environ, "PYTHONPATH": str(labkit_parent)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True,
                            text=True, env=env, cwd=cwd, timeout=300)
    return time.perf_counter() - start, result.returncode, result.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labkit-bench-cli-") as scratch:
        scratch_path = Path(scratch)
        (scratch_path / "before").mkdir()
        before = extract_baseline(options.baseline, scratch_path / "before")
        work = scratch_path / "work"
        work.mkdir()
        versions = {"before": before, "now": ROOT}
        times: dict[tuple[str, str], list[float]] = {}
        table = cases(work)
        for _ in range(options.rounds):
            for name, args in table.items():
                for version, parent in versions.items():
                    seconds, status, stderr = run_once(parent, args, work)
                    expected = 0 if args == ["--help"] else 2
                    if status != expected or (expected and not stderr.startswith(
                            "labkit: error: ")):
                        print(f"{version} {name}: exit {status}: {stderr[-300:]}",
                              file=sys.stderr)
                        return 1
                    times.setdefault((name, version), []).append(seconds)
        shutil.rmtree(work, ignore_errors=True)
    width = max(map(len, table))
    print(f"labkit refusals, median of {options.rounds} runs each (seconds, wall clock, "
          f"a fresh process each); before = {options.baseline}")
    print(f"{'case':<{width}}  {'before':>7}  {'now':>7}  {'ratio':>6}")
    slow = []
    for name in table:
        was = statistics.median(times[name, "before"])
        now = statistics.median(times[name, "now"])
        print(f"{name:<{width}}  {was:7.3f}  {now:7.3f}  {was / now:5.1f}x")
        if now > TARGET_SECONDS:
            slow.append(name)
    every_before = statistics.median(t for (_, v), ts in times.items() if v == "before"
                                     for t in ts)
    every_now = statistics.median(t for (_, v), ts in times.items() if v == "now"
                                  for t in ts)
    print(f"{'all cases':<{width}}  {every_before:7.3f}  {every_now:7.3f}  "
          f"{every_before / every_now:5.1f}x")
    if slow:
        print(f"over {TARGET_SECONDS} s now: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
