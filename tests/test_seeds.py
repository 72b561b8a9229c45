"""Training several seeds side by side gives each network the run fit_penguin_net gives it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from labkit.model import PenguinNet
from labkit.prep import split
from labkit.scaling import standardise
from labkit.seeds import stacked_forward, train_seeds
from labkit.training import fit, fit_penguin_net, make_loader


def test_stacked_forward_is_penguinnet_for_each_network():
    nets = []
    for seed in (3, 4):
        torch.manual_seed(seed)
        nets.append(PenguinNet())
    params = {name: torch.stack([dict(n.named_parameters())[name].detach() for n in nets])
              for name, _ in nets[0].named_parameters()}
    x = torch.randn(7, 5) * 30
    with torch.no_grad():
        out = stacked_forward(params, x)
        for i, net in enumerate(nets):
            assert torch.allclose(out[i], net(x), atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_each_network_trains_as_fit_penguin_net_trains_it(honest, seed):
    runs = train_seeds({"lab": honest.data}, [seed, 7], epochs=5)["lab"]
    model, history = fit_penguin_net(honest.data, seed=seed, epochs=5, progress=False)
    for mine, theirs in zip(runs.end[0].parameters(), model.parameters()):
        assert torch.allclose(mine, theirs, atol=1e-5)
    assert runs.train_loss[:, 0] == pytest.approx(history.train_loss, rel=1e-4)
    assert runs.test_loss[0] == pytest.approx(history.val_loss[-1], rel=1e-4)
    assert runs.test_accuracy[0] == history.val_accuracy[-1]
    # the same parameters never moved
    torch.manual_seed(seed)
    start = PenguinNet()
    frozen = sum(int((p == q).sum()) for p, q in zip(model.parameters(), start.parameters()))
    assert runs.n_unchanged(0) == frozen


def test_runs_are_independent_of_their_neighbours(honest):
    scaled, _ = standardise(honest.data)
    alone = train_seeds({"lab": honest.data}, [2], epochs=3)["lab"]
    alone_scaled = train_seeds({"std": scaled}, [2], epochs=3)["std"]
    together = train_seeds({"lab": honest.data, "std": scaled}, [5, 2, 9], epochs=3)
    for a, b in zip(alone.end[0].parameters(), together["lab"].end[1].parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    for a, b in zip(alone_scaled.end[0].parameters(), together["std"].end[1].parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert together["lab"].train_loss.shape == (3, 3)
    assert not np.allclose(together["lab"].train_loss[:, 0], together["lab"].train_loss[:, 1])
    assert together["std"].test_loss[1] == pytest.approx(alone_scaled.test_loss[0], rel=1e-5)


def test_splits_with_other_rows_are_refused(honest):
    other = split(honest.penguins, factor=1)
    with pytest.raises(ValueError, match="other rows"):
        train_seeds({"lab": honest.data, "once": other}, [0], epochs=1)


def test_unchanged_marks_exactly_the_parameters_that_kept_their_start(honest):
    runs = train_seeds({"lab": honest.data}, [0], epochs=2)["lab"]
    masks = runs.unchanged(0)
    assert set(masks) == {name for name, _ in PenguinNet().named_parameters()}
    start, end = dict(runs.start[0].named_parameters()), dict(runs.end[0].named_parameters())
    for name, mask in masks.items():
        assert torch.equal(mask, end[name] == start[name])
    assert 0 < runs.n_unchanged(0) < sum(p.numel() for p in end.values())


def _one_hot_islands(data):
    """The chapter 10 encoding: the island index becomes three 0/1 columns (seven inputs)."""
    def encode(x):
        return np.hstack([np.eye(3, dtype=np.float32)[x[:, 0].astype(int)], x[:, 1:]])
    return replace(data, x_train=encode(data.x_train), x_test=encode(data.x_test))


def test_wider_inputs_train_as_fit_trains_a_wider_net(honest):
    wide = _one_hot_islands(honest.data)
    runs = train_seeds({"one_hot": wide}, [3, 4], epochs=4)["one_hot"]
    assert runs.end[1].fc1.weight.shape == (10, 7)
    torch.manual_seed(4)
    model = PenguinNet(n_features=7)
    history = fit(model, make_loader(wide.x_train, wide.y_train),
                  make_loader(wide.x_test, wide.y_test), epochs=4, progress=False)
    for mine, theirs in zip(runs.end[1].parameters(), model.parameters()):
        assert torch.allclose(mine, theirs, atol=1e-5)
    assert runs.test_accuracy[1] == history.val_accuracy[-1]


def test_splits_of_other_widths_are_refused(honest):
    with pytest.raises(ValueError, match="7 input columns"):
        train_seeds({"lab": honest.data, "one_hot": _one_hot_islands(honest.data)}, [0],
                    epochs=1)
