"""Running the ``labkit`` command on hostile input, in-process (fast) or as a process
(for what could hang), and checking that it fails the one way labkit promises."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from labkit.cli import main

#: Anything that is not training must answer within this many seconds.
ANSWER_WITHIN = 15.0
HEADER = "Island,CulmenLength,CulmenDepth,FlipperLength,BodyMass,Species"
GOOD = "Biscoe,47.5,15.0,217,5080,1"


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str
    seconds: float


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """``labkit ARGS`` in this process; ``capsys`` captures what it prints."""
    capsys.readouterr()
    start = time.monotonic()
    try:
        status = main(list(args))
    except SystemExit as exit_info:
        status = exit_info.code if isinstance(exit_info.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(status, captured.out, captured.err, time.monotonic() - start)


def run_process(*args: str, timeout: float = 60) -> Outcome:
    """``python -m labkit ARGS`` as a separate process, killed after ``timeout``."""
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True,
                            text=True, timeout=timeout)
    return Outcome(result.returncode, result.stdout, result.stderr, time.monotonic() - start)


def startup_seconds() -> float:
    """How long ``labkit --help`` takes right now: starting Python and importing the
    command line (not torch, pandas or scikit-learn: labkit imports those only when a
    command needs them), which on a busy machine can still take seconds. A process's
    answer time is measured beyond this baseline."""
    return run_process("--help").seconds


def assert_one_line_error(outcome: Outcome, *fragments: str) -> str:
    """Exit status 2, and stderr is one plain ``labkit: error:`` line holding every
    fragment; returns that line."""
    assert outcome.status == 2, (outcome.status, outcome.stderr[-2000:])
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr[-2000:]
    line = lines[0]
    assert line.startswith("labkit: error: "), line
    assert line.isprintable() and "\x1b" not in line, repr(line)
    assert "Traceback" not in outcome.stderr
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
