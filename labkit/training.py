"""Training and testing PenguinNet: the lab's ``train``/``test`` loop, made fast and correct.

Differences from the lab, each for a reason:
- every batch is moved to the model's device (the lab forgets, which fails on a GPU);
- batches are sliced from tensors instead of being collated row by row, and no worker
  processes are started each epoch (the lab's ``num_workers=1`` starts two per epoch to
  serve a few kilobytes);
- Adam uses its fused kernel, and the loop runs on one thread: every tensor here is so small
  that handing work to other threads costs more than it saves.
The meaning is kept: ``train`` returns the average batch loss, ``test`` the average batch
loss and the accuracy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset
from tqdm import tqdm

from labkit import arguments
from labkit.constants import (
    BATCH_SIZE,
    EPOCHS,
    LEARNING_RATE,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    SEED,
    SPECIES,
)
from labkit.errors import InputError, TrainingError
from labkit.model import PenguinNet
from labkit.prep import Split


class TensorBatches:
    """Mini-batches of (features, labels) sliced straight from two tensors.

    Without shuffling it yields exactly what
    ``DataLoader(TensorDataset(x, y), batch_size)`` yields (with shuffling, another
    random order of the same rows), but takes each batch as one slice of memory instead
    of gathering and stacking rows one by one: for 956 rows of five numbers that
    bookkeeping costs more than the training step itself.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = BATCH_SIZE,
                 shuffle: bool = False,
                 generator: torch.Generator | None = None) -> None:
        batch_size = arguments.whole("batch_size", batch_size, 1, MAX_BATCH_SIZE)
        if len(x) != len(y):
            raise InputError(f"{len(x)} feature rows but {len(y)} labels")
        self.dataset = TensorDataset(x, y)
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.generator = batch_size, shuffle, generator

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y = self.x, self.y
        if self.shuffle:
            order = torch.randperm(len(x), generator=self.generator)
            x, y = x[order], y[order]
        for start in range(0, len(x), self.batch_size):
            yield x[start:start + self.batch_size], y[start:start + self.batch_size]


def make_loader(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
                batch_size: int = BATCH_SIZE, shuffle: bool = False) -> TensorBatches:
    """Batches over numpy arrays or tensors: float32 features, int64 labels (species
    codes 0..2; anything else is an :class:`InputError` here, not an ``IndexError`` in
    the loss)."""
    labels = torch.as_tensor(y, dtype=torch.int64)
    if labels.numel() and not (0 <= int(labels.min()) and int(labels.max()) < len(SPECIES)):
        bad = labels[(labels < 0) | (labels >= len(SPECIES))][0]
        raise InputError(f"y holds the label {int(bad)}; species codes are 0 to "
                         f"{len(SPECIES) - 1}")
    return TensorBatches(torch.as_tensor(x, dtype=torch.float32), labels, batch_size,
                         shuffle)


def model_device(model: nn.Module) -> torch.device:
    """The device the model's parameters live on: batches must go there too."""
    return next(model.parameters()).device


def train(model: nn.Module, data_loader: Iterable, optimizer: torch.optim.Optimizer,
          loss_fn: nn.Module | None = None) -> float:
    """One pass over the training data; returns the average batch loss."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = model_device(model)
    model.train()
    total, batches = 0.0, 0
    for data, target in data_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(data), target)
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


class Evaluation(NamedTuple):
    """What ``test`` measures: average batch loss and the share of correct predictions."""

    loss: float
    accuracy: float
    correct: int
    total: int


def test(model: nn.Module, data_loader: Iterable, loss_fn: nn.Module | None = None
         ) -> Evaluation:
    """Evaluate without updating weights; returns average batch loss and accuracy."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = model_device(model)
    model.eval()
    total_loss, correct, seen, batches = 0.0, 0, 0, 0
    with torch.no_grad():
        for data, target in data_loader:
            data, target = data.to(device), target.to(device)
            out = model(data)
            total_loss += loss_fn(out, target).item()
            correct += (out.argmax(dim=1) == target).sum().item()
            seen += len(target)
            batches += 1
    return Evaluation(total_loss / batches, correct / seen, correct, seen)


@dataclass
class History:
    """Per-epoch results of :func:`fit`."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def epochs(self) -> list[int]:
        return list(range(1, len(self.train_loss) + 1))


def fit(model: nn.Module, train_loader: Iterable, test_loader: Iterable, *,
        epochs: int = EPOCHS, optimizer: torch.optim.Optimizer | None = None,
        lr: float = LEARNING_RATE, loss_fn: nn.Module | None = None,
        progress: bool = True) -> History:
    """Train for ``epochs`` epochs, testing after each one as the lab does.

    ``seconds`` in the returned history times the epoch loop alone (training plus the
    per-epoch test).
    """
    arguments.whole("epochs", epochs, 1, MAX_EPOCHS)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    optimizer = optimizer or adam(model, lr)
    history = History()
    bar = tqdm(range(1, epochs + 1), desc="epochs", unit="epoch", disable=not progress,
               leave=False)
    start = time.perf_counter()
    with torch_threads(1):
        for _epoch in bar:
            history.train_loss.append(train(model, train_loader, optimizer, loss_fn))
            evaluation = test(model, test_loader, loss_fn)
            history.val_loss.append(evaluation.loss)
            history.val_accuracy.append(evaluation.accuracy)
            stop_if_diverged(history, optimizer.param_groups[0]["lr"])
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}",
                            acc=f"{evaluation.accuracy:.3f}")
    history.seconds = time.perf_counter() - start
    return history


def stop_if_diverged(history: History, lr: float) -> None:
    """Raise :class:`TrainingError` once a loss is NaN or infinite: every later step
    would only spread NaN through the weights, and such a model must not be saved."""
    losses = {"training": history.train_loss[-1], "test": history.val_loss[-1]}
    for name, loss in losses.items():
        if not math.isfinite(loss):
            raise TrainingError(
                f"training diverged: the {name} loss became {loss} in epoch "
                f"{len(history.train_loss)} (learning rate {lr:g}); no model was saved")


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run a block with ``count`` intra-op threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def adam(model: nn.Module, lr: float = LEARNING_RATE) -> torch.optim.Adam:
    """Adam as in the lab; the fused kernel updates all six tensors in one call."""
    fused = model_device(model).type in ("cpu", "cuda")
    return torch.optim.Adam(model.parameters(), lr=lr, fused=fused)


class AdamMoments(NamedTuple):
    """Adam's bias-corrected averages for every parameter, flattened into one vector each."""

    m_hat: torch.Tensor
    v_hat: torch.Tensor
    eps: float

    @property
    def step_over_lr(self) -> torch.Tensor:
        """|m_hat| / (sqrt(v_hat) + eps): each parameter's last step in units of the
        learning rate. 1 at the first step; smaller once recent gradients disagree in sign
        or shrink."""
        return self.m_hat.abs() / (self.v_hat.sqrt() + self.eps)


def adam_moments(optimizer: torch.optim.Adam) -> AdamMoments:
    """Read m_hat and v_hat from a PyTorch Adam's state, as its last step used them (the
    state holds m and v and the step count; the hats undo the averages' start at zero).
    Parameters not yet stepped are left out."""
    m_hats, v_hats, eps = [], [], None
    for group in optimizer.param_groups:
        beta1, beta2 = group["betas"]
        eps = group["eps"] if eps is None else eps
        if group["eps"] != eps:
            raise InputError("adam_moments needs one eps for all parameter groups")
        for parameter in group["params"]:
            state = optimizer.state.get(parameter)
            if not state:
                continue
            t = float(state["step"])
            m_hats.append((state["exp_avg"] / (1 - beta1 ** t)).detach().ravel())
            v_hats.append((state["exp_avg_sq"] / (1 - beta2 ** t)).detach().ravel())
    if not m_hats:
        raise InputError("the optimiser has taken no step yet: it has no state to read")
    return AdamMoments(torch.cat(m_hats), torch.cat(v_hats), float(eps))


def fit_penguin_net(data: Split, *, epochs: int = EPOCHS, batch_size: int = BATCH_SIZE,
                    lr: float = LEARNING_RATE, seed: int = SEED, progress: bool = True,
                    device: str | torch.device = "cpu",
                    shuffle: bool = False) -> tuple[PenguinNet, History]:
    """The whole single-process recipe: seed, new PenguinNet, loaders, :func:`fit`.

    The same seed gives the same weights, the same batches and so the same history.
    ``shuffle=True`` reshuffles the training rows every epoch (the lab does not: its
    batches come in the same order every epoch); the order then follows the seed too.
    """
    arguments.whole("epochs", epochs, 1, MAX_EPOCHS)
    arguments.seed(seed, epochs)
    arguments.positive_number("lr", lr)
    torch.manual_seed(seed)
    model = PenguinNet().to(device)
    history = fit(model, make_loader(data.x_train, data.y_train, batch_size, shuffle),
                  make_loader(data.x_test, data.y_test, batch_size),
                  epochs=epochs, lr=lr, progress=progress)
    return model, history
