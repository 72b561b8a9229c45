"""Checking one penguin's five features, in plain Python (no torch), so that a wrong row
is refused before any library loads: the island as a name or its index 0..2, then the
culmen length and depth, the flipper length / 10 and the body mass / 100, each inside the
plausible range of the measurement it scales (:data:`labkit.constants.PLAUSIBLE`)."""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence

from labkit.arguments import shown
from labkit.constants import FEATURES, ISLANDS, MEASUREMENTS, PLAUSIBLE, UNITS
from labkit.errors import InputError

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
                f"unknown island {shown(value)}; expected one of {', '.join(ISLANDS)} "
                f"(spelled exactly) or 0..2"
            )
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            value not in (0, 1, 2)):  # compared exactly: no float() of a huge number
        raise InputError(f"island index {shown(value)} is not 0, 1 or 2 "
                         f"({', '.join(ISLANDS)})")
    return int(value)


def feature_value(name: str, value: object, number: int) -> float:
    """One numeric feature: a number (or its ASCII text) inside the plausible range of
    the measurement it scales (labkit.constants.PLAUSIBLE)."""
    if isinstance(value, str) and DECIMAL.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"row {number}: {name} {shown(value)} is not a number")
    measurement, scale = SCALED[name]
    low, high = (bound / scale for bound in PLAUSIBLE[measurement])
    if not low <= value <= high:  # False for NaN too
        unit = UNITS[measurement] + (f" / {scale}" if scale > 1 else "")
        raise InputError(f"row {number}: {name} {shown(value)} must be a positive number "
                         f"from {low:g} to {high:g} ({measurement} in {unit})")
    return float(value)


def check_rows(rows: Sequence[Sequence[object]]) -> list[list[float]]:
    """Check rows of ``[island, culmen length, culmen depth, flipper/10, mass/100]``;
    return them as numbers, the island as its index."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or len(rows) == 0:
        raise InputError("expected a non-empty list of rows, each with 5 features")
    checked = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != 5:
            raise InputError(
                f"row {number}: expected 5 features ({', '.join(FEATURES)}), "
                f"got {shown(row)}")
        values = [float(island_index(row[0]))]
        values += [feature_value(name, value, number)
                   for name, value in zip(FEATURES[1:], row[1:])]
        checked.append(values)
    return checked
