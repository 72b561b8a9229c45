"""The command line, run as a user runs it: a real process, real Spark, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEADER = "Island,CulmenLength,CulmenDepth,FlipperLength,BodyMass,Species"


def labkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("labkit: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_prep_reports_counts_balance_and_leakage():
    result = labkit("prep", "--split", "seed")
    assert result.returncode == 0, result.stderr
    assert "training rows: 957; test rows: 411" in result.stdout
    leak = float(result.stdout.split("leakage: ")[1].split("%")[0])
    assert leak > 90


@pytest.mark.slow
def test_train_saves_a_model_and_metrics_then_predict_uses_it(tmp_path):
    model, metrics = tmp_path / "m.pt", tmp_path / "out" / "metrics.json"
    result = labkit("train", "--epochs", "100", "--out", str(model), "--metrics-json",
                    str(metrics), "--no-progress")
    assert result.returncode == 0, result.stderr
    report = json.loads(metrics.read_text())
    assert report["test_accuracy"] >= 0.97
    assert len(report["train_loss"]) == len(report["val_loss"]) == 100
    assert (report["n_train"], report["n_test"], report["leakage"]) == (956, 103, 0.0)
    assert 0 < report["train_seconds"] < 120
    predicted = labkit("predict", "--model", str(model), "Biscoe", "47.5", "15.0", "21.7", "50.8")
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.strip() == "Gentoo (1)"


@pytest.mark.parametrize("args, fragments", [
    (["train", "--epochs", "0"], ["argument --epochs: '0' must be at least 1"]),
    (["train", "--lr", "fast"], ["'fast' is not a number"]),
    (["prep", "--split", "random"], ["invalid choice: 'random'"]),
    (["fly"], ["invalid choice: 'fly'"]),
    ([], ["the following arguments are required: COMMAND"]),
    (["predict", "--model", "missing.pt", "Biscoe", "1", "1", "1", "1"],
     ["missing.pt: no such model file"]),
])
def test_usage_errors_are_one_line_with_status_2(tmp_path, args, fragments):
    assert_user_error(labkit(*args, cwd=tmp_path), *fragments)


def test_bad_data_fails_before_spark_starts(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nBiscoe,47.5,15.0,217,5080,1\nBiscoe,47.5,abc,217,5080,1\n")
    result = labkit("train", "--data", str(bad), "--out", str(tmp_path / "m.pt"))
    assert_user_error(result, f"{bad}:3:13: CulmenDepth 'abc' is not a number")
    assert not (tmp_path / "m.pt").exists()


def test_predict_rejects_a_bad_row_and_a_damaged_model(tmp_path):
    import torch

    from labkit.model import PenguinNet
    from labkit.persistence import save_model

    model = save_model(PenguinNet(), tmp_path / "m.pt")
    assert_user_error(labkit("predict", "--model", str(model), "Mars", "1", "1", "1", "1"),
                      "unknown island 'Mars'")
    assert_user_error(labkit("predict", "--model", str(model), "Dream", "x", "1", "1", "1"),
                      "CulmenLength 'x' is not a number")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(model.read_bytes()[:100])
    assert_user_error(labkit("predict", "--model", str(damaged), "Dream", "1", "1", "1", "1"),
                      "damaged.pt: not a readable model file")
    assert torch.load(model, weights_only=True)  # the good file is untouched


def test_hostile_inputs_end_to_end(tmp_path):
    """A few hostile inputs as a user meets them, one process each: the learning rate that
    can only diverge, weights changed behind the zip's CRC, an island with a space."""
    import io
    import zipfile

    from labkit.model import PenguinNet
    from labkit.persistence import save_model

    assert_user_error(labkit("train", "--lr", "1e308", "--out", str(tmp_path / "m.pt")),
                      "argument --lr: '1e308' must be a number from 1e-08 to 10")
    good = save_model(PenguinNet(), tmp_path / "good.pt")
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for record in source.infolist():
            data = source.read(record)
            if record.filename.endswith("data/2"):  # fc2.weight
                data = bytes([data[0] ^ 0x80]) + data[1:]
            target.writestr(record.filename, data)
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(rebuilt.getvalue())
    assert_user_error(labkit("predict", "--model", str(damaged), "Biscoe", "47.5", "15.0",
                             "21.7", "50.8"),
                      f"{damaged}: tensor fc2.weight does not match its checksum")
    spaced = tmp_path / "spaced.csv"
    spaced.write_text(f"{HEADER}\nBiscoe ,47.5,15.0,217,5080,1\n")
    assert_user_error(labkit("prep", "--data", str(spaced)),
                      f"{spaced}:2:1: unknown island 'Biscoe '")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.pt", "good.pt", "spaced.csv"]
