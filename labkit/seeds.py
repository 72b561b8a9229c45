"""Several PenguinNets, one per seed, trained side by side with the lab's recipe.

A claim about training ("standardised inputs leave fewer parameters frozen") needs runs over
several seeds, not one. Trained one after another, each run costs one Python step per batch,
and PenguinNet is so small that the step's overhead, not its arithmetic, is the cost. Stacked
along a first axis (``torch.func.stack_module_state``), the networks' three matrix products
become three batched products (``torch.baddbmm``), so ten networks train in about the time of
one. The lab's inputs and the standardised inputs train in the same stack.

Each network still gets exactly the run ``fit_penguin_net`` would give it: its seed's initial
weights, the same unshuffled batches of 20 in the same order, the cross-entropy of its own
outputs, and Adam's element-wise update on its own slice of the stacked tensors (the
networks' losses are added, so no gradient crosses from one network to another).
tests/test_seeds.py checks the result against ``fit_penguin_net``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import stack_module_state

from labkit.constants import BATCH_SIZE, EPOCHS, LEARNING_RATE
from labkit.model import PenguinNet
from labkit.prep import Split
from labkit.training import make_loader, test, torch_threads

#: PenguinNet's layers, input to output.
LAYERS = ("fc1", "fc2", "fc3")


@dataclass
class SeedRuns:
    """The networks of several seeds before and after training, and their losses."""

    seeds: list[int]
    start: list[PenguinNet]   # the initial networks, one per seed
    end: list[PenguinNet]     # the same networks after training
    train_loss: np.ndarray    # (epochs, seeds): each epoch's mean batch loss, as ``train``
    test_loss: list[float]    # after training, as ``test`` computes it (mean batch loss)
    test_accuracy: list[float]

    def unchanged(self, i: int) -> dict[str, torch.Tensor]:
        """For run ``i``, a mask per parameter: True where training left it exactly as it
        started (every gradient it ever got was zero, so Adam never moved it)."""
        before = dict(self.start[i].named_parameters())
        return {name: (p.detach() == before[name].detach())
                for name, p in self.end[i].named_parameters()}

    def n_unchanged(self, i: int) -> int:
        """How many of run ``i``'s parameters never moved."""
        return int(sum(mask.sum() for mask in self.unchanged(i).values()))


def stacked_forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """PenguinNet's forward pass for every stacked network at once: (S, B, 3) log-probabilities
    for a batch ``x`` of B rows, (B, 5) for all S networks or (S, B, 5), one batch each."""
    h = x.expand(params["fc1.weight"].shape[0], -1, -1) if x.dim() == 2 else x
    for layer in LAYERS:
        weight, bias = params[f"{layer}.weight"], params[f"{layer}.bias"]
        h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))  # h W^T + b
        if layer != LAYERS[-1]:
            h = torch.relu(h)
    return F.log_softmax(h, dim=2)


def train_seeds(splits: Mapping[str, Split], seeds: list[int] | range, *,
                epochs: int = EPOCHS, lr: float = LEARNING_RATE,
                batch_size: int = BATCH_SIZE) -> dict[str, SeedRuns]:
    """Train one PenguinNet per seed on each split with the lab's recipe
    (unshuffled batches, Adam): network by network, the result of
    ``fit_penguin_net`` with that seed.

    The splits must hold the same rows in the same order (one split, its inputs
    transformed, such as the lab's and the standardised inputs) and the same number of
    input columns: then all their networks share each batch's labels and the shapes of
    their weights, and train in one stack. The networks get as many inputs as the
    splits have columns (seven for one-hot islands, say).
    """
    seeds, names = list(seeds), list(splits)
    first = splits[names[0]]
    for name in names[1:]:
        if not (np.array_equal(splits[name].y_train, first.y_train)
                and np.array_equal(splits[name].y_test, first.y_test)):
            raise ValueError(f"split {name!r} holds other rows than {names[0]!r}")
        if splits[name].x_train.shape[1] != first.x_train.shape[1]:
            width = splits[name].x_train.shape[1]
            raise ValueError(f"split {name!r} has {width} input columns, "
                             f"{names[0]!r} {first.x_train.shape[1]}")
    n_features = first.x_train.shape[1]
    start = []
    for _name in names:
        for seed in seeds:
            torch.manual_seed(seed)
            start.append(PenguinNet(n_features=n_features))
    params, _ = stack_module_state(start)  # (S, ...) leaf tensors, weight copies
    optimizer = torch.optim.Adam(params.values(), lr=lr, fused=True)
    x = torch.stack([torch.as_tensor(splits[name].x_train, dtype=torch.float32)
                     for name in names for _ in seeds])          # (S, N, 5)
    y = make_loader(first.x_train, first.y_train).y  # int64 labels, checked
    n_nets, n_rows = x.shape[0], x.shape[1]
    n_batches = -(-n_rows // batch_size)
    losses = []
    with torch_threads(1):
        for _ in range(epochs):
            total = torch.zeros(n_nets)
            for begin in range(0, n_rows, batch_size):
                xb, yb = x[:, begin:begin + batch_size], y[begin:begin + batch_size]
                optimizer.zero_grad()
                log_probs = stacked_forward(params, xb)            # (S, B, 3)
                picked = log_probs.gather(2, yb.expand(n_nets, -1).unsqueeze(2))
                batch_losses = -picked.squeeze(2).mean(dim=1)      # (S,)
                batch_losses.sum().backward()
                optimizer.step()
                total += batch_losses.detach()
            losses.append((total / n_batches).numpy())
    losses = np.array(losses)
    runs = {}
    for n, name in enumerate(names):
        span = range(n * len(seeds), (n + 1) * len(seeds))
        end = []
        for i in span:
            net = PenguinNet(n_features=n_features)
            net.load_state_dict({key: p[i].detach().clone()
                                 for key, p in params.items()})
            end.append(net)
        test_loader = make_loader(splits[name].x_test, splits[name].y_test, batch_size)
        evaluations = [test(net, test_loader) for net in end]
        runs[name] = SeedRuns(seeds, [start[i] for i in span], end, losses[:, span],
                              [e.loss for e in evaluations],
                              [e.accuracy for e in evaluations])
    return runs
