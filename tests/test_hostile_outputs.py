"""Hostile output paths: labkit never destroys what it did not make.

Every output option (``--out``, ``--metrics-json``) is tried against every kind of target
that must survive: the input CSV (by its name, a symlink, a hard link, through a
``file:`` URI), a FIFO, a character device, a socket, a folder, the log standard output
is appended to. Each ends either refused in one line before any work, or written
*through* (metrics to a stream, a device or a FIFO with a reader), and the target is,
afterwards, what it was (the log with its earlier lines first). Stale-temporary clean-up
is tried against files that only look like labkit's temporaries.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile_support import assert_one_line_error, run_in_process

from labkit.atomic import atomic_write
from labkit.data import packaged_csv_path
from labkit.errors import OutputError
from labkit.model import PenguinNet
from labkit.persistence import save_model
from labkit.pipeline import prepare

OPTIONS = ("--out", "--metrics-json")


@pytest.fixture(scope="module")
def warm_cache(spark, tmp_path_factory):
    """A cache holding the packaged rows as Spark prepared them, so that training in
    these tests starts at once."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("LABKIT_CACHE")
    os.environ["LABKIT_CACHE"] = str(folder)
    prepare(spark=spark)
    yield folder
    if previous is None:
        os.environ.pop("LABKIT_CACHE", None)
    else:
        os.environ["LABKIT_CACHE"] = previous


def snapshot(path: Path) -> tuple[int, bytes | None]:
    """What a target is: its kind and, for a regular file, its bytes."""
    info = os.stat(path)
    kind = stat.S_IFMT(info.st_mode)
    return kind, Path(path).read_bytes() if stat.S_ISREG(info.st_mode) else None


def make_targets(tmp_path: Path) -> dict[str, tuple[list[str], Path, str]]:
    """name: (the --data arguments, the target to pass to an output option, the
    fragment of the one error line)."""
    csv = tmp_path / "d.csv"
    csv.write_bytes(packaged_csv_path().read_bytes())
    (tmp_path / "link.csv").symlink_to(csv)
    os.link(csv, tmp_path / "hard.csv")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    data = ["--data", str(csv)]
    same = "is the file --data reads; writing it would destroy the input"
    return {
        "the input CSV": (data, csv, same),
        "a symlink to the input": (data, tmp_path / "link.csv", same),
        "a hard link to the input": (data, tmp_path / "hard.csv", same),
        "the input named by a file URI": (["--data", csv.as_uri()], csv, same),
        "the input named by file:PATH": (["--data", f"file:{csv}"], csv, same),
        "the input given through a symlink": (["--data", str(tmp_path / "link.csv")], csv,
                                              same),
        "a folder": (data, tmp_path / "folder", "is a directory; name a file"),
    }


@pytest.mark.parametrize("option", OPTIONS)
def test_no_output_option_can_write_over_the_input_or_a_folder(capsys, tmp_path, option):
    targets = make_targets(tmp_path)
    before = {p.name: snapshot(p) for p in tmp_path.iterdir()}
    for data, target, fragment in targets.values():
        other = ["--out", str(tmp_path / "m.pt")] if option == "--metrics-json" else []
        outcome = run_in_process(capsys, "train", *data, *other, option, str(target),
                                 "--epochs", "1", "--no-progress")
        assert_one_line_error(outcome, f"{option} '{target}' {fragment}")
    assert {p.name: snapshot(p) for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("target, kind", [("fifo", "a FIFO (named pipe)"),
                                          ("/dev/null", "a character device"),
                                          ("socket", "a socket")])
def test_the_model_never_replaces_a_fifo_a_device_or_a_socket(capsys, tmp_path, target, kind):
    path = tmp_path / target if not target.startswith("/") else Path(target)
    listener = None
    if target == "fifo":
        os.mkfifo(path)
    elif target == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
    try:
        before = snapshot(path)
        outcome = run_in_process(capsys, "train", "--out", str(path))
        assert_one_line_error(outcome, f"--out '{path}' is {kind}")
        assert snapshot(path) == before
    finally:
        if listener is not None:
            listener.close()


def test_metrics_are_written_through_a_device_and_a_fifo(capsys, tmp_path, warm_cache):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    outcome = run_in_process(capsys, "train", "--epochs", "2", "--no-progress", "--out",
                             str(tmp_path / "m.pt"), "--metrics-json", str(fifo))
    reader.join(30)
    assert outcome.status == 0, outcome.stderr
    assert json.loads(received[0])["epochs"] == 2
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    outcome = run_in_process(capsys, "train", "--epochs", "2", "--no-progress", "--out",
                             str(tmp_path / "m2.pt"), "--metrics-json", "/dev/null")
    assert outcome.status == 0, outcome.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "m.pt", "m2.pt"]


def labkit_appending_to(log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``labkit ARGS >> LOG`` as a shell runs it: standard output opened for appending."""
    with open(log, "a") as stream:
        return subprocess.run([sys.executable, "-m", "labkit", *args], stdout=stream,
                              stderr=subprocess.PIPE, text=True, timeout=300)


def test_a_log_opened_for_appending_survives_every_output_option(tmp_path, warm_cache):
    log, model = tmp_path / "build.log", tmp_path / "m.pt"
    log.write_text("earlier line 1\nearlier line 2\n")
    short = ["train", "--epochs", "2", "--no-progress"]
    for target in (str(log), "/dev/stdout", "/proc/self/fd/1"):
        result = labkit_appending_to(log, *short, "--out", target)
        assert result.returncode == 2, result.stderr
        assert "is where standard output goes" in result.stderr
    for target in ("/dev/stdout", str(log)):
        result = labkit_appending_to(log, *short, "--out", str(model), "--metrics-json",
                                     target)
        assert result.returncode == 0, result.stderr
        assert "model saved to" in result.stderr  # the JSON alone goes to the log
    text = log.read_text()
    assert text.startswith("earlier line 1\nearlier line 2\n{")
    decoder, documents, rest = json.JSONDecoder(), [], text.split("\n", 2)[2]
    while rest.strip():
        document, end = decoder.raw_decode(rest)
        documents.append(document)
        rest = rest[end:].lstrip()
    assert [d["epochs"] for d in documents] == [2, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.log", "m.pt"]


def test_metrics_on_standard_output_are_json_alone(tmp_path, warm_cache):
    result = subprocess.run([sys.executable, "-m", "labkit", "train", "--epochs", "2",
                             "--no-progress", "--out", str(tmp_path / "m.pt"),
                             "--metrics-json", "/dev/stdout"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["epochs"] == 2


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("path, fragment", [
    ("", "is empty; name the file to write"),
    ("newdir/", "ends with '/', so it names a folder"),
])
def test_empty_and_folder_like_paths(capsys, tmp_path, monkeypatch, option, path, fragment):
    monkeypatch.chdir(tmp_path)
    other = ["--out", "m.pt"] if option == "--metrics-json" else []
    outcome = run_in_process(capsys, "train", *other, option, path)
    assert_one_line_error(outcome, fragment)
    assert list(tmp_path.iterdir()) == []


def test_the_python_api_never_replaces_a_non_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null"), Path("/dev/stdout"), Path("/proc/self/fd/1")):
        with pytest.raises(OutputError):
            save_model(PenguinNet(), target)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    link = tmp_path / "out.json"
    link.symlink_to("/dev/stdout")
    with pytest.raises(OutputError, match="leads through /dev or /proc"):
        atomic_write(link, b"{}")


def test_stale_temporary_clean_up_removes_only_what_labkit_made(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = int(ended.stdout)
    stale = tmp_path / f".m.pt.{dead}.0badc0de.tmp"
    lookalikes = [f".m.pt.{dead}.0badc0de.tmp.bak", f".m.pt.{dead}.0badc0de.tmp~",
                  f".m.pt.{dead}.tmp", ".m.pt.k2j_4x9a.tmp", ".m.pt.0badc0de.tmp",
                  f".m.pt.{dead}.0BADC0DE.tmp", f".m.pt.{dead}.0badc0de0.tmp",
                  f".m.pt.{dead}.notes.tmp", f".m.pt.{dead}.0badc0d.tmp", "m.pt.tmp",
                  f".m.pt.{dead}.0badc0de.TMP", f".m.pt.{dead}.abcdef12.tmp.json"]
    for name in [stale.name, *lookalikes]:
        (tmp_path / name).write_text("the user's own notes")
    hard = tmp_path / f".m.pt.{dead}.1badc0de.tmp"  # a hard link to a user's file
    os.link(tmp_path / lookalikes[0], hard)
    (tmp_path / f".m.pt.{dead}.2badc0de.tmp").mkdir()  # a folder
    (tmp_path / f".m.pt.{dead}.3badc0de.tmp").symlink_to(tmp_path / lookalikes[1])
    two_days_ago = time.time() - 2 * 24 * 3600
    for name in lookalikes:
        os.utime(tmp_path / name, (two_days_ago, two_days_ago))
    before = {p.name for p in tmp_path.iterdir()}
    save_model(PenguinNet(), tmp_path / "m.pt")
    assert {p.name for p in tmp_path.iterdir()} == before - {stale.name} | {"m.pt"}
    assert all((tmp_path / name).read_text() == "the user's own notes" for name in lookalikes)
