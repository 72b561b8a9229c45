"""Predicting the species of new penguins from five features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from labkit.constants import FEATURES, ISLANDS, SPECIES
from labkit.errors import InputError
from labkit.training import model_device


class Prediction(NamedTuple):
    index: int
    species: str


def island_index(value: str | int | float) -> int:
    """The island's fixed index: a name (any case) or an index 0..2."""
    if isinstance(value, str):
        names = {name.lower(): i for i, name in enumerate(ISLANDS)}
        if value.strip().lower() in names:
            return names[value.strip().lower()]
        try:
            value = float(value)
        except ValueError:
            raise InputError(
                f"unknown island {value!r}; expected one of {', '.join(ISLANDS)} or 0..2"
            ) from None
    if isinstance(value, bool) or float(value) not in (0.0, 1.0, 2.0):
        raise InputError(f"island index {value!r} is not 0, 1 or 2 ({', '.join(ISLANDS)})")
    return int(value)


def encode_rows(rows: Sequence[Sequence[object]]) -> torch.Tensor:
    """Check rows of ``[island, culmen length, culmen depth, flipper/10, mass/100]`` and turn
    them into a float tensor of shape (n, 5)."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or len(rows) == 0:
        raise InputError("expected a non-empty list of rows, each with 5 features")
    encoded = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != 5:
            raise InputError(
                f"row {number}: expected 5 features ({', '.join(FEATURES)}), got {row!r}"
            )
        values = [float(island_index(row[0]))]
        for name, value in zip(FEATURES[1:], row[1:]):
            try:
                if isinstance(value, bool):
                    raise TypeError
                number_value = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise InputError(f"row {number}: {name} {value!r} is not a number") from None
            if not number_value > 0 or number_value == float("inf"):
                raise InputError(f"row {number}: {name} {value!r} must be a positive number")
            values.append(number_value)
        encoded.append(values)
    return torch.tensor(encoded, dtype=torch.float32)


def predict(model: nn.Module, rows: Sequence[Sequence[object]]) -> list[Prediction]:
    """Most likely species for each row (island as a name or its index)."""
    x = encode_rows(rows).to(model_device(model))
    model.eval()
    with torch.no_grad():
        indexes = model(x).argmax(dim=1).tolist()
    return [Prediction(i, SPECIES[i]) for i in indexes]
