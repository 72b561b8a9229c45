"""Saving and loading: round trips, damaged files, and a save killed midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from labkit.errors import ModelFileError
from labkit.model import PenguinNet
from labkit.persistence import load_model, save_model


def test_round_trip(tmp_path):
    torch.manual_seed(0)
    model = PenguinNet()
    path = save_model(model, tmp_path / "sub" / "model.pt")
    loaded = load_model(path)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert not loaded.training
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["model.pt"]


def test_a_file_saved_the_labs_way_loads_only_when_asked(tmp_path):
    model = PenguinNet()
    torch.save(model.state_dict(), tmp_path / "lab.pt")
    with pytest.raises(ModelFileError, match=r"lab.pt: a plain state_dict without labkit's "
                                             r"checksums .* verify=False"):
        load_model(tmp_path / "lab.pt")
    loaded = load_model(tmp_path / "lab.pt", verify=False)
    assert torch.equal(loaded.fc1.weight, model.fc1.weight)


def test_missing_truncated_and_mismatched_files(tmp_path):
    with pytest.raises(ModelFileError, match=r"nope.pt: no such model file$"):
        load_model(tmp_path / "nope.pt")
    with pytest.raises(ModelFileError, match="is a directory"):
        load_model(tmp_path)
    good = save_model(PenguinNet(), tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ModelFileError, match="truncated.pt: not a readable model file"):
        load_model(truncated)
    wider = tmp_path / "wider.pt"
    with pytest.raises(ModelFileError, match="wider.pt: not saved: does not fit PenguinNet: "
                                             "tensor fc1.weight has shape 12x5"):
        save_model(PenguinNet(hidden=12), wider)  # load_model would refuse it
    assert not wider.exists()
    torch.save(PenguinNet(hidden=12).state_dict(), wider)
    with pytest.raises(ModelFileError, match="wider.pt: does not fit PenguinNet: tensor "
                                             "fc1.weight has shape 12x5, PenguinNet's is 10x5"):
        load_model(wider, verify=False)
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(ModelFileError, match="holds a Tensor, not a state_dict"):
        load_model(tensor)


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_loading_never_runs_code_from_the_file(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"fc1.weight": Boom()}, evil)
    with pytest.raises(ModelFileError, match="evil.pt: not a readable model file"):
        load_model(evil)


def test_a_save_killed_midway_leaves_the_old_model(tmp_path):
    target = tmp_path / "model.pt"
    torch.manual_seed(0)
    old = PenguinNet()
    save_model(old, target)
    before = target.read_bytes()
    # A real process, killed with SIGKILL while the new file is being written.
    script = textwrap.dedent(f"""
        import os, sys, time
        import torch
        from labkit.model import PenguinNet
        from labkit.persistence import save_model
        real_fsync = os.fsync
        def slow_fsync(fd):
            print("writing", flush=True)
            time.sleep(60)
        os.fsync = slow_fsync
        torch.manual_seed(1)
        save_model(PenguinNet(), {str(target)!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    time.sleep(0.1)
    assert target.read_bytes() == before
    assert torch.equal(load_model(target).fc1.weight, old.fc1.weight)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [f".model.pt.{process.pid}.{leftovers[0].split('.')[-2]}.tmp"]
    save_model(PenguinNet(), target)  # the next write removes what the killed one left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
