"""Predicting the species of new penguins from five features."""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from labkit.constants import FEATURES, ISLANDS, MEASUREMENTS, PLAUSIBLE, SPECIES, UNITS
from labkit.errors import InputError
from labkit.training import model_device


class Prediction(NamedTuple):
    index: int
    species: str


#: Each numeric feature: the measurement it comes from and what it was divided by
#: (labkit.prep.transform), so that its plausible range is the measurement's, scaled.
SCALED: dict[str, tuple[str, int]] = dict(zip(FEATURES[1:], zip(MEASUREMENTS, (1, 1, 10, 100))))
#: A number written as text: ASCII digits, sign, point, exponent (as in labkit.data).
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def island_index(value: str | int | float) -> int:
    """The island's fixed index: its name, spelled exactly as in ISLANDS, or 0..2."""
    if isinstance(value, str):
        if value in ISLANDS:
            return ISLANDS.index(value)
        if value not in ("0", "1", "2"):
            raise InputError(
                f"unknown island {value!r}; expected one of {', '.join(ISLANDS)} "
                f"(spelled exactly) or 0..2"
            )
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            float(value) not in (0.0, 1.0, 2.0)):
        raise InputError(f"island index {value!r} is not 0, 1 or 2 ({', '.join(ISLANDS)})")
    return int(value)


def feature_value(name: str, value: object, number: int) -> float:
    """One numeric feature: a number (or its ASCII text) inside the plausible range of
    the measurement it scales (labkit.constants.PLAUSIBLE)."""
    if isinstance(value, str) and DECIMAL.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"row {number}: {name} {value!r} is not a number")
    measurement, scale = SCALED[name]
    low, high = (bound / scale for bound in PLAUSIBLE[measurement])
    if not low <= value <= high:  # False for NaN too
        unit = UNITS[measurement] + (f" / {scale}" if scale > 1 else "")
        raise InputError(f"row {number}: {name} {value!r} must be a positive number from "
                         f"{low:g} to {high:g} ({measurement} in {unit})")
    return float(value)


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
        values += [feature_value(name, value, number)
                   for name, value in zip(FEATURES[1:], row[1:])]
        encoded.append(values)
    return torch.tensor(encoded, dtype=torch.float32)


def predict(model: nn.Module, rows: Sequence[Sequence[object]]) -> list[Prediction]:
    """Most likely species for each row (island as a name or its index)."""
    x = encode_rows(rows).to(model_device(model))
    model.eval()
    with torch.no_grad():
        indexes = model(x).argmax(dim=1).tolist()
    return [Prediction(i, SPECIES[i]) for i in indexes]
