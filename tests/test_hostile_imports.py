"""A refusal answers before torch, pandas, scikit-learn or PySpark load: those imports
take seconds (``make bench-cli`` measures the difference), so a mistake in an option, a
path, a setting or the CSV must be found by plain Python first. Checked by what a fresh
interpreter has imported after each refusal, not by a clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from hostile_support import GOOD, HEADER

HEAVY = ("torch", "pandas", "sklearn", "pyspark", "numpy")


def test_refusals_import_no_heavy_library(tmp_path):
    bad, small, csv = tmp_path / "bad.csv", tmp_path / "small.csv", tmp_path / "d.csv"
    bad.write_text(f"{HEADER}\nBiscoe,47.5,abc,217,5080,1\n")
    small.write_text(f"{HEADER}\n{GOOD}\n")
    csv.write_text(f"{HEADER}\n{GOOD}\n{GOOD}\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = [
        ["--help"], ["train", "--epochs", "0"], ["train", "--seed", "-1"],
        ["prep", "--split", "random"], ["prep", "--data", str(tmp_path / "missing.csv")],
        ["prep", "--data", str(fifo)], ["prep", "--data", str(bad)],
        ["prep", "--data", str(small)], ["train", "--data", str(csv), "--out", str(csv)],
        ["train", "--out", str(fifo)], ["train", "--out", ""], ["train", "--out", "x/"],
        ["train", "--metrics-json", str(tmp_path)],
        ["predict", "--model", str(tmp_path / "missing.pt"), "Biscoe", "1", "1", "1", "1"],
        ["predict", "--model", str(bad), "Biscoe", "47.5", "15", "21.7", "50.8"],
    ]
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys
        from labkit.cli import main
        results = []
        for args in {json.dumps(cases)}:
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    status = main(args)
                except SystemExit as exit_info:
                    status = exit_info.code
            heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
            results.append([args, status, err.getvalue(), heavy])
        print(json.dumps(results))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert len(results) == len(cases)
    for args, status, stderr, heavy in results:
        expected = 0 if args == ["--help"] else 2
        assert status == expected, (args, stderr)
        assert expected == 0 or stderr.startswith("labkit: error: "), (args, stderr)
        assert heavy == [], (args, heavy)
