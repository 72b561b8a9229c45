"""Hostile limits: CSVs too small to split, LABKIT_* settings, seeds at the edge of 64
bits, crafted model metadata, wrong Python arguments, Ctrl-C. Each is answered at once in
one short line (a LabkitError from the Python API, naming the argument), never with a
traceback from scikit-learn, Java, Py4J or torch after Spark has run."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from hostile_support import GOOD, HEADER, assert_one_line_error, run_in_process
from sklearn.model_selection import train_test_split
from torch import nn

from labkit import cli
from labkit.constants import SPECIES, TEST_SIZE
from labkit.data import CsvReport, check_splittable
from labkit.distributed import ShardBatches, train_distributed
from labkit.errors import DataError, InputError, ModelFileError
from labkit.model import PenguinNet
from labkit.persistence import FORMAT, FORMAT_VERSION, save_model, tensor_sha256
from labkit.predict import predict
from labkit.prep import Split
from labkit.training import fit_penguin_net, make_loader

ROW = {0: "Torgersen,39.1,18.7,181,3750,0", 1: GOOD, 2: "Dream,46.5,17.9,192,3500,2"}


@pytest.fixture
def no_spark(monkeypatch):
    """Fail the test if anything asks for a Spark session: refusals come first."""
    monkeypatch.setattr("labkit.pipeline.get_spark", lambda: pytest.fail("Spark started"))


def csv_with(tmp_path, species: list[int], empty: int = 0):
    path = tmp_path / "small.csv"
    lines = [ROW[code] for code in species] + ["Biscoe,,,,,1"] * empty
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n")
    return path


SMALL = {
    "one row": ([1], 0, "species 1 (Gentoo) has 1 complete row; the honest split puts "
                        "every species in both the training and the test set"),
    "one per species": ([0, 1, 2], 0, "species 0 (Adelie) has 1 complete row"),
    "a species with one row": ([0] * 20 + [1] * 20 + [2], 0, "species 2 (Chinstrap) has 1"),
    "one good row among many empty": ([2], 200_000, "species 2 (Chinstrap) has 1 complete"),
    "two of each of three species": ([0, 0, 1, 1, 2, 2], 0,
                                     "6 complete rows are too few for the honest split: "
                                     "with 3 species it needs at least 7"),
}


@pytest.mark.parametrize("case", sorted(SMALL))
def test_csvs_too_small_to_split_are_refused_before_spark(capsys, tmp_path, no_spark, case):
    species, empty, fragment = SMALL[case]
    path = csv_with(tmp_path, species, empty)
    assert_one_line_error(run_in_process(capsys, "prep", "--data", str(path)),
                          f"{path}: {fragment}")
    assert_one_line_error(run_in_process(capsys, "train", "--data", str(path), "--out",
                                         str(tmp_path / "m.pt")), f"{path}: {fragment}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.csv"]


def sklearn_splits(labels: list[int]) -> bool:
    """Whether scikit-learn's stratified split, as labkit.prep.split calls it, works."""
    try:
        train_test_split(np.arange(len(labels)), test_size=TEST_SIZE, random_state=0,
                         stratify=np.array(labels))
    except ValueError:
        return False
    return True


def test_the_size_check_agrees_with_scikit_learn_on_every_small_file(tmp_path):
    """Every count of up to 9 penguins per species: refused exactly when the split fails."""
    agreed = 0
    for counts in itertools.product(range(10), repeat=3):
        labels = [code for code, count in enumerate(counts) for _ in range(count)]
        if not labels:
            continue
        records = tuple(("Biscoe", 40.0, 15.0, 200.0, 4000.0, code) for code in labels)
        report = CsvReport(tmp_path / "x.csv", len(records), len(records), records)
        try:
            check_splittable(report, "honest")
            refused = False
        except DataError:
            refused = True
        assert refused == (not sklearn_splits(labels)), counts
        check_splittable(report, "seed")  # four copies split, however few the penguins
        agreed += 1
    assert agreed == 10**3 - 1


def test_a_small_csv_as_a_process_answers_before_the_jvm(tmp_path):
    path = csv_with(tmp_path, [0, 1, 2])
    result = subprocess.run([sys.executable, "-m", "labkit", "prep", "--data", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == (f"labkit: error: {path}: species 0 (Adelie) has 1 complete "
                             "row; the honest split puts every species in both the training "
                             "and the test set, so each needs at least 2 (the seed split "
                             "does not)\n")


def test_cr_only_line_endings_get_advice_for_a_person(capsys, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(f"{HEADER}\r{GOOD}\r{GOOD}\r".encode())
    line = assert_one_line_error(run_in_process(capsys, "prep", "--data", str(path)),
                                 f"{path}:1:{len(HEADER) + 1}: a line ends with a bare "
                                 "carriage return (old Mac line endings)")
    assert "newline=" not in line


SETTINGS = {
    ("LABKIT_SPARK_DRIVER_MEMORY", "abc"): "LABKIT_SPARK_DRIVER_MEMORY='abc' is not a memory "
                                           "size such as 768m or 2g",
    ("LABKIT_SPARK_DRIVER_MEMORY", "2 g"): "is not a memory size",
    ("LABKIT_SPARK_DRIVER_MEMORY", "-1g"): "is not a memory size",
    ("LABKIT_SPARK_DRIVER_MEMORY", "1.5g"): "is not a memory size",
    ("LABKIT_SPARK_DRIVER_MEMORY", "100m"): "LABKIT_SPARK_DRIVER_MEMORY=100m: Spark's driver "
                                            "needs at least 512m",
    ("LABKIT_SPARK_DRIVER_MEMORY", "9999t"): "is more than the",
    ("LABKIT_SPARK_MASTER", "bogus"): "LABKIT_SPARK_MASTER: 'bogus' is not a Spark master URL",
    ("LABKIT_SPARK_MASTER", "local[0]"): "LABKIT_SPARK_MASTER: 'local[0]' runs no tasks",
    ("LABKIT_SPARK_MASTER", "spark://"): "LABKIT_SPARK_MASTER: 'spark://': '' is not HOST:PORT",
    ("LABKIT_SPARK_MASTER", "spark://h:7077/x?y"): "LABKIT_SPARK_MASTER: 'spark://h:7077/x?y'",
    ("LABKIT_SPARK_MASTER", "k8s://https://[::1"): "names no Kubernetes API server",
    ("LABKIT_SPARK_MASTER", "spark://me:hunter2@host:7077"): "spark://me:***@host:7077",
    ("LABKIT_CACHE", "relative/cache"): "LABKIT_CACHE='relative/cache' is not an absolute path",
    ("LABKIT_CACHE", "~no-such-user-here/x"): "LABKIT_CACHE='~no-such-user-here/x': no such "
                                              "user's home folder",
    ("LABKIT_SPARK_MASTR", "local[2]"): "LABKIT_SPARK_MASTR is not a labkit setting; did you "
                                        "mean LABKIT_SPARK_MASTER?",
}


@pytest.mark.parametrize("name, value", sorted(SETTINGS))
@pytest.mark.parametrize("command", ["prep", "train", "train --np -1"])
def test_every_setting_is_checked_with_the_options(capsys, tmp_path, monkeypatch, no_spark,
                                                   name, value, command):
    monkeypatch.setenv(name, value)
    args = command.split() + (["--out", str(tmp_path / "m.pt")] if "train" in command else [])
    line = assert_one_line_error(run_in_process(capsys, *args), SETTINGS[name, value])
    assert "hunter2" not in line
    assert list(tmp_path.iterdir()) == []


def test_a_bad_setting_as_a_process(tmp_path):
    env = {**os.environ, "LABKIT_SPARK_DRIVER_MEMORY": "abc"}
    result = subprocess.run([sys.executable, "-m", "labkit", "prep"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("labkit: error: LABKIT_SPARK_DRIVER_MEMORY='abc' is not a "
                             "memory size such as 768m or 2g\n")


@pytest.mark.parametrize("url", ["spark://me:hunter2@127.0.0.1:{port}",
                                 "k8s://https://me:hunter2@127.0.0.1:{port}"])
def test_a_master_password_is_never_repeated(capsys, tmp_path, url):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = run_in_process(capsys, "train", "--np", "2", "--master", url.format(port=port),
                             "--out", str(tmp_path / "m.pt"))
    line = assert_one_line_error(outcome, "me:***@")
    assert "hunter2" not in line


def test_the_seed_bound_leaves_room_for_every_epoch():
    x, y = np.zeros((40, 5), np.float32), np.arange(40) % 3
    last = ShardBatches(x, y, rank=0, size=2, seed=cli.SEED_MAX)
    last.epoch = cli.MAX_EPOCHS - 1  # seed + epoch == 2**64 - 1
    assert len(list(last)) == 1
    beyond = ShardBatches(x, y, rank=0, size=2, seed=cli.SEED_MAX + 1)
    beyond.epoch = cli.MAX_EPOCHS - 1
    with pytest.raises((RuntimeError, ValueError)):  # what a rank met, 28 s into a run
        list(beyond)


def tiny_split() -> Split:
    x = np.full((12, 5), [1, 40, 15, 20, 40], np.float32)
    y = np.arange(12) % 3
    return Split(x, x[:6], y, y[:6], "honest")


@pytest.mark.parametrize("call, fragment", [
    (lambda: fit_penguin_net(tiny_split(), seed=2**64 - 1, epochs=2, progress=False),
     "seed must be a whole number from 0 to 18446744073709551614 (torch seeds are 64 bits "
     "and each of the 2 epochs adds one), not 18446744073709551615"),
    (lambda: fit_penguin_net(tiny_split(), seed=-1, progress=False), "seed must be"),
    (lambda: fit_penguin_net(tiny_split(), seed=1.5, progress=False), "not 1.5"),
    (lambda: fit_penguin_net(tiny_split(), epochs=0, progress=False),
     "epochs must be a whole number from 1 to 10000, not 0"),
    (lambda: fit_penguin_net(tiny_split(), lr=float("nan"), progress=False),
     "lr must be a number above 0, not nan"),
    (lambda: fit_penguin_net(tiny_split(), batch_size=0, progress=False),
     "batch_size must be a whole number from 1 to 1000000, not 0"),
    (lambda: make_loader(np.zeros((3, 5)), [0, 1, 7]),
     "y holds the label 7; species codes are 0 to 2"),
    (lambda: make_loader(np.zeros((3, 5)), [0, -1, 2]), "y holds the label -1"),
    (lambda: make_loader(np.zeros((3, 5)), [0, 1, 2], batch_size=True), "not True"),
    (lambda: make_loader(np.zeros((3, 5)), [0, 1]), "3 feature rows but 2 labels"),
    (lambda: predict(None, [["Biscoe", 47.5, 15.0, 21.7, 50.8]]),
     "model must be a PenguinNet, not NoneType"),
    (lambda: predict(PenguinNet(), [[10**400, 47.5, 15.0, 21.7, 50.8]]),
     "island index 100000000000000000...0000000000000000000 is not 0, 1 or 2"),
    (lambda: predict(PenguinNet(), [["Biscoe", 10**400, 15.0, 21.7, 50.8]]),
     "row 1: CulmenLength 100000000"),
    (lambda: predict(PenguinNet(), [["x" * 10**6, 47.5, 15.0, 21.7, 50.8]]),
     "unknown island 'xxxxxxxxxxxxxxxxx"),
    (lambda: train_distributed(tiny_split(), 2, seed=2**64), "seed must be a whole number"),
    (lambda: train_distributed(tiny_split(), 2, epochs=10**9), "epochs must be"),
])
def test_wrong_python_arguments_are_labkit_errors_naming_them(call, fragment):
    with pytest.raises(InputError) as raised:
        call()
    message = str(raised.value)
    assert fragment in message, message
    assert len(message) < 300 and message.isprintable()


def test_save_model_refuses_what_load_model_would_refuse(tmp_path):
    good = save_model(PenguinNet(), tmp_path / "good.pt")
    before = good.read_bytes()
    for wrong, fragment in ((nn.Linear(5, 3), "saves a PenguinNet, not Linear"),
                            (None, "saves a PenguinNet, not NoneType"),
                            (PenguinNet(hidden=3), "tensor fc1.weight has shape 3x5")):
        with pytest.raises(ModelFileError, match=fragment):
            save_model(wrong, good)
    assert good.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pt"]


def labkit_file(**fields) -> dict:
    state = {k: v.detach() for k, v in PenguinNet().state_dict().items()}
    saved = {"format": FORMAT, "version": FORMAT_VERSION, "state_dict": state,
             "sha256": {name: tensor_sha256(name, t) for name, t in state.items()}}
    return {**saved, **fields}


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def sparse_state() -> dict:
    state = labkit_file()
    state["state_dict"]["fc1.weight"] = state["state_dict"]["fc1.weight"].to_sparse()
    return state


CRAFTED = {
    "a non-string tensor name": lambda: labkit_file(
        state_dict={**labkit_file()["state_dict"], 7: torch.zeros(1)}),
    "non-string checksum names": lambda: labkit_file(sha256={1: "0" * 64}),
    "checksums that are numbers": lambda: labkit_file(
        sha256={name: 5 for name in labkit_file()["sha256"]}),
    "a sparse tensor": sparse_state,
    "deeply nested metadata": lambda: labkit_file(version=nested(5000)),
    "deeply nested tensor names": lambda: labkit_file(sha256=nested(5000)),
    "a 900 KB version string": lambda: labkit_file(version="9" * 900_000),
    "a 900 KB field name": lambda: {**labkit_file(), "x" * 900_000: 1},
    "a 900 KB tensor name": lambda: labkit_file(
        state_dict={**labkit_file()["state_dict"], "w" * 900_000: torch.zeros(1)}),
    "version True": lambda: labkit_file(version=True),
    "version 1.0": lambda: labkit_file(version=1.0),
    "a list as the state_dict": lambda: labkit_file(state_dict=[1, 2]),
    "a plain dict of numbers": lambda: {"fc1.weight": 1.0},
    "an unknown field": lambda: labkit_file(note="hi"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_model_metadata_is_refused_in_one_short_line(capsys, tmp_path, case):
    path = tmp_path / "crafted.pt"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)  # torch.save recurses into what it saves
    try:
        torch.save(CRAFTED[case](), path)
    finally:
        sys.setrecursionlimit(limit)
    outcome = run_in_process(capsys, "predict", "--model", str(path), "Biscoe", "47.5",
                             "15.0", "21.7", "50.8")
    line = assert_one_line_error(outcome, f"{path}: ")
    assert len(line) < len(str(path)) + 200, line


def start_cold_prep(cache) -> tuple[subprocess.Popen, list[str]]:
    """``labkit prep`` with an empty cache, in its own process group (as a terminal runs
    it); its standard error is collected line by line as it comes."""
    env = {**os.environ, "LABKIT_CACHE": str(cache)}
    process = subprocess.Popen([sys.executable, "-m", "labkit", "prep"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True).start()
    return process, lines


@pytest.mark.parametrize("moment", ["just started", "while importing", "once the JVM runs"])
def test_ctrl_c_during_a_cold_prep_is_one_clean_line(tmp_path, moment):
    process, lines = start_cold_prep(tmp_path / "cache")
    if moment in ("just started", "while importing"):  # labkit's own imports; PySpark's
        time.sleep(0.1 if moment == "just started" else 0.5)
    else:  # the JVM announces itself on standard error; Spark then works for seconds
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole process group
    process.wait(120)
    time.sleep(0.2)
    assert process.returncode == 2, lines
    assert lines[-1] == "labkit: error: interrupted\n", lines
    assert not any("Traceback" in line or "Error" in line for line in lines[:-1]), lines


def test_species_names_in_the_messages_are_the_datasets():
    assert SPECIES == ("Adelie", "Gentoo", "Chinstrap")
