"""Hostile options and output paths: every number out of range, every master that cannot
work, every output that cannot be written is refused in one line before any work starts;
writes keep the user's file mode, follow symlinks and leave no temporary files."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time

import pytest
from hostile_support import (
    ANSWER_WITHIN,
    assert_one_line_error,
    run_in_process,
    run_process,
    startup_seconds,
)

from labkit import cli
from labkit.atomic import atomic_write
from labkit.errors import InputError, TrainingError
from labkit.model import PenguinNet
from labkit.persistence import load_model, save_model
from labkit.training import fit, make_loader

SEED_MAX = cli.SEED_MAX  # 2**64 - 1, less room for 10,000 epochs


@pytest.mark.parametrize("args, fragment", [
    (["--seed", "99999999999999999999"],
     f"argument --seed: '99999999999999999999' must be a whole number from 0 to {SEED_MAX} "
     "(torch seeds are 64 bits, and each epoch adds one)"),
    (["--seed", str(SEED_MAX + 1)], f"must be a whole number from 0 to {SEED_MAX}"),
    (["--seed", str(2**64)], "must be a whole number from 0 to"),
    (["--seed", "-1"], "'-1' must be a whole number from 0 to"),
    (["--seed", "1_000"], "argument --seed: '1_000' is not a whole number"),
    (["--seed", "５"], "argument --seed: '５' is not a whole number"),
    (["--seed", " 5"], "argument --seed: ' 5' is not a whole number"),
    (["--seed", "1e3"], "argument --seed: '1e3' is not a whole number"),
    (["--lr", "1e308"], "argument --lr: '1e308' must be a number from 1e-08 to 10"),
    (["--lr", "0"], "argument --lr: '0' must be a number from 1e-08 to 10"),
    (["--lr", "-0.001"], "'-0.001' must be a number from"),
    (["--lr", "nan"], "argument --lr: 'nan' is not a number"),
    (["--lr", "inf"], "argument --lr: 'inf' is not a number"),
    (["--lr", "1_0"], "argument --lr: '1_0' is not a number"),
    (["--lr", "0x1p-3"], "argument --lr: '0x1p-3' is not a number"),
    (["--epochs", "0"], "argument --epochs: '0' must be at least 1 and at most 10000"),
    (["--epochs", "10001"], "'10001' must be at least 1 and at most 10000"),
    (["--epochs", "1e3"], "argument --epochs: '1e3' is not a whole number"),
    (["--epochs", "99999999999999999999999999"], "must be at least 1 and at most 10000"),
    (["--batch-size", "0"], "argument --batch-size: '0' must be at least 1"),
    (["--batch-size", "-20"], "argument --batch-size: '-20' must be at least 1"),
    (["--np", "0"], "argument --np: 0 processes: use N > 0 for Spark tasks"),
    (["--np", "257"], "at most 256"),
    (["--np", "-99999999999999999999"], "at most 256"),
    (["--np", "2", "--master", "spark://"], "argument --master: 'spark://': '' is not "
                                            "HOST:PORT"),
    (["--np", "2", "--master", "spark://host"], "'host' is not HOST:PORT"),
    (["--np", "2", "--master", "spark://host:0"], "with a port from 1 to 65535"),
    (["--np", "2", "--master", "spark://host:99999"], "with a port from 1 to 65535"),
    (["--np", "2", "--master", "local[0]"], "argument --master: 'local[0]' runs no tasks"),
    (["--np", "2", "--master", "local[-1]"], "'local[-1]' is not a Spark master URL"),
    (["--np", "2", "--master", "k8s://"], "'k8s://' names no Kubernetes API server"),
    (["--np", "2", "--master", "mesos://host:5050"], "is not a Spark master URL"),
    (["--np", "2", "--master", ""], "'' is not a Spark master URL"),
])
def test_options_out_of_range_are_refused_in_one_line(capsys, tmp_path, args, fragment):
    outcome = run_in_process(capsys, "train", "--out", str(tmp_path / "m.pt"), *args)
    assert_one_line_error(outcome, fragment)
    assert outcome.seconds < ANSWER_WITHIN
    assert not (tmp_path / "m.pt").exists()


def test_the_widest_accepted_values_parse():
    args = cli.build_parser().parse_args(
        ["train", "--seed", str(SEED_MAX), "--lr", "10", "--epochs", "10000", "--np", "-256",
         "--master", "local[*]"])
    assert (args.seed, args.lr, args.epochs, args.np) == (SEED_MAX, 10.0, 10000, -256)


def test_yarn_without_a_hadoop_configuration(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    assert_one_line_error(run_in_process(capsys, "train", "--np", "2", "--master", "yarn"),
                          "argument --master: 'yarn' needs the cluster's configuration in "
                          "HADOOP_CONF_DIR or YARN_CONF_DIR")


def dead_port() -> int:
    """A loopback port where nothing listens (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_more_local_processes_than_cores(capsys, tmp_path):
    many = (os.cpu_count() or 1) + 1
    outcome = run_in_process(capsys, "train", "--np", f"-{many}", "--out",
                             str(tmp_path / "m.pt"))
    assert_one_line_error(outcome, f"--np -{many} asks for {many} processes on this "
                                   f"machine, which has {many - 1} CPU cores")


@pytest.mark.parametrize("master", ["spark://127.0.0.1:{port}",
                                    "spark://127.0.0.1:{port},127.0.0.1:{port}",
                                    "k8s://https://127.0.0.1:{port}",
                                    "spark://no-such-host.invalid:7077"])
def test_a_master_nobody_answers_at_is_refused_before_spark_starts(capsys, tmp_path, master):
    url = master.format(port=dead_port())
    outcome = run_in_process(capsys, "train", "--np", "2", "--master", url, "--out",
                             str(tmp_path / "m.pt"))
    assert_one_line_error(outcome, f"labkit: error: no Spark master answers at {url} (")
    assert outcome.seconds < ANSWER_WITHIN


def test_a_bad_master_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_SPARK_MASTER", "local[0]")
    assert_one_line_error(run_in_process(capsys, "train", "--np", "2", "--out",
                                         str(tmp_path / "m.pt")), "'local[0]' runs no tasks")


def test_a_dead_master_end_to_end_answers_in_seconds(tmp_path):
    """As a user runs it: a process, a loopback port where no master listens."""
    baseline = startup_seconds()
    url = f"spark://127.0.0.1:{dead_port()}"
    outcome = run_process("train", "--np", "2", "--master", url, "--out",
                          str(tmp_path / "m.pt"), timeout=baseline * 3 + 90)
    assert_one_line_error(outcome, f"no Spark master answers at {url} (127.0.0.1:")
    assert outcome.seconds < baseline * 1.5 + ANSWER_WITHIN
    assert not (tmp_path / "m.pt").exists()


def test_outputs_are_checked_before_the_data_and_before_training(capsys, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # a bad --data too: the output error must come first
    folder = tmp_path / "folder"
    folder.mkdir()
    assert_one_line_error(run_in_process(capsys, "train", "--data", str(fifo), "--out",
                                         str(folder)), f"--out '{folder}' is a directory")
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder")
    model = tmp_path / "model.pt"
    model.write_bytes(b"the previous model")
    assert_one_line_error(run_in_process(capsys, "train", "--data", str(fifo), "--out",
                                         str(model), "--metrics-json",
                                         str(plain / "metrics.json")),
                          f"--metrics-json '{plain / 'metrics.json'}': Not a directory")
    assert model.read_bytes() == b"the previous model"
    assert_one_line_error(run_in_process(capsys, "train", "--out", str(model),
                                         "--metrics-json", str(model)),
                          "--out and --metrics-json name the same file")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "folder", "model.pt", "pipe.csv", "plain.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_one_line_error(run_in_process(capsys, "train", "--out", str(locked / "m.pt")),
                          f"{locked / 'm.pt'}: Permission denied")


def test_writes_keep_the_mode_and_follow_a_symlink(tmp_path):
    real, link = tmp_path / "real.pt", tmp_path / "link.pt"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link.symlink_to(real)
    save_model(PenguinNet(), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    load_model(link)
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = atomic_write(tmp_path / "new.json", b"{}")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.pt", "new.json", "real.pt"]


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead_pid = int(ended.stdout)
    stale = tmp_path / f".m.pt.{dead_pid}.0badc0de.tmp"
    old_style = tmp_path / ".m.pt.k2j_4x9a.tmp"  # no pid: not provably labkit's, kept
    live = tmp_path / f".m.pt.{os.getpid()}.1234abcd.tmp"
    other = tmp_path / f".other.pt.{dead_pid}.0badc0de.tmp"
    for path in (stale, old_style, live, other):
        path.write_bytes(b"half")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old_style, (two_days_ago, two_days_ago))
    save_model(PenguinNet(), tmp_path / "m.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, other.name, old_style.name, "m.pt"])


def test_write_errors_name_the_users_path(capsys, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("")
    with pytest.raises(NotADirectoryError) as raised:
        atomic_write(plain / "x.json", b"{}")
    assert raised.value.filename == str(plain / "x.json")


def test_training_that_diverges_stops_and_saves_nothing(capsys, spark, honest, tmp_path,
                                                        monkeypatch):
    data = honest.data
    with pytest.raises(TrainingError, match=r"^training diverged: the training loss became "
                                            r"nan in epoch 1 \(learning rate 1e\+30\)"):
        fit(PenguinNet(), make_loader(data.x_train, data.y_train),
            make_loader(data.x_test, data.y_test), epochs=3, lr=1e30, progress=False)
    monkeypatch.setattr(cli, "LR_RANGE", (1e-8, 1e300))  # let the option through
    model, metrics = tmp_path / "m.pt", tmp_path / "metrics.json"
    outcome = run_in_process(capsys, "train", "--lr", "1e30", "--epochs", "5", "--out",
                             str(model), "--metrics-json", str(metrics), "--no-progress")
    assert_one_line_error(outcome, "labkit: error: training diverged: the training loss "
                                   "became nan in epoch 1 (learning rate 1e+30); no model "
                                   "was saved")
    assert list(tmp_path.iterdir()) == []


def test_metrics_are_strict_json():
    good = {"test_accuracy": 0.98, "train_loss": [0.5, 0.1]}
    assert json.loads(cli.metrics_text(good)) == good
    with pytest.raises(InputError, match=r"metrics hold NaN or infinite values "
                                         r"\(train_loss\); nothing was written"):
        cli.metrics_text({"test_accuracy": 0.9, "train_loss": [0.5, float("nan")]})


def test_error_lines_are_plain(capsys):
    with pytest.raises(SystemExit):
        cli.fail("\x1b[31mred\x1b[0m text\nsecond line\u2028third\tend")
    line = capsys.readouterr().err
    assert line == "labkit: error: red text\\nsecond line\\u2028third\\tend\n"
