"""Several PenguinNets, one per seed, trained side by side with the lab's recipe.

A claim about training ("standardised inputs leave fewer parameters frozen") needs runs over
several seeds, not one. Trained one after another, each run costs one Python step per batch,
and PenguinNet is so small that the step's overhead, not its arithmetic, is the cost. Stacked
along a first axis (``torch.func.stack_module_state``), the networks' three matrix products
become three batched products (``torch.baddbmm``), so ten networks train in about the time of
one.

Each network still gets exactly the run ``fit_penguin_net`` would give it: its seed's initial
weights, the same unshuffled batches of 20 in the same order, the cross-entropy of its own
outputs, and Adam's element-wise update on its own slice of the stacked tensors (the
networks' losses are added, so no gradient crosses from one network to another).
tests/test_seeds.py checks the result against ``fit_penguin_net``.
"""

from __future__ import annotations

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
    for a batch ``x`` of B rows, S the number of networks."""
    h = x.expand(params["fc1.weight"].shape[0], -1, -1)
    for layer in LAYERS:
        weight, bias = params[f"{layer}.weight"], params[f"{layer}.bias"]
        h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))  # h W^T + b
        if layer != LAYERS[-1]:
            h = torch.relu(h)
    return F.log_softmax(h, dim=2)


def train_seeds(data: Split, seeds: list[int] | range, *, epochs: int = EPOCHS,
                lr: float = LEARNING_RATE, batch_size: int = BATCH_SIZE) -> SeedRuns:
    """Train one PenguinNet per seed on ``data`` with the lab's recipe (unshuffled batches,
    Adam); the same result, network by network, as ``fit_penguin_net`` with that seed."""
    seeds = list(seeds)
    start = []
    for seed in seeds:
        torch.manual_seed(seed)
        start.append(PenguinNet())
    params, _ = stack_module_state(start)  # (S, ...) leaf tensors, copies of the weights
    optimizer = torch.optim.Adam(params.values(), lr=lr, fused=True)
    loader = make_loader(data.x_train, data.y_train, batch_size)
    losses = []
    with torch_threads(1):
        for _ in range(epochs):
            total = torch.zeros(len(seeds))
            for x, y in loader:
                optimizer.zero_grad()
                log_probs = stacked_forward(params, x)             # (S, B, 3)
                picked = log_probs.gather(2, y.expand(len(seeds), -1).unsqueeze(2))
                batch_losses = -picked.squeeze(2).mean(dim=1)      # (S,)
                batch_losses.sum().backward()
                optimizer.step()
                total += batch_losses.detach()
            losses.append((total / len(loader)).numpy())
    end = []
    for i in range(len(seeds)):
        net = PenguinNet()
        net.load_state_dict({name: p[i].detach().clone() for name, p in params.items()})
        end.append(net)
    test_loader = make_loader(data.x_test, data.y_test, batch_size)
    evaluations = [test(net, test_loader) for net in end]
    return SeedRuns(seeds, start, end, np.array(losses),
                    [e.loss for e in evaluations], [e.accuracy for e in evaluations])
