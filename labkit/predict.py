"""Predicting the species of new penguins from five features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from labkit.constants import SPECIES
from labkit.errors import InputError
from labkit.features import check_rows, feature_value, island_index
from labkit.training import model_device

__all__ = ["Prediction", "encode_rows", "feature_value", "island_index", "predict"]


class Prediction(NamedTuple):
    index: int
    species: str


def encode_rows(rows: Sequence[Sequence[object]]) -> torch.Tensor:
    """Check rows of ``[island, culmen length, culmen depth, flipper/10, mass/100]``
    (:func:`labkit.features.check_rows`) and turn them into a float tensor of shape (n, 5)."""
    return torch.tensor(check_rows(rows), dtype=torch.float32)


def predict(model: nn.Module, rows: Sequence[Sequence[object]]) -> list[Prediction]:
    """Most likely species for each row (island as a name or its index)."""
    if not isinstance(model, nn.Module):
        raise InputError(f"model must be a PenguinNet, not {type(model).__name__}")
    x = encode_rows(rows).to(model_device(model))
    model.eval()
    with torch.no_grad():
        indexes = model(x).argmax(dim=1).tolist()
    return [Prediction(i, SPECIES[i]) for i in indexes]
