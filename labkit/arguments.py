"""Checking the arguments a Python caller passes, before they are used.

A wrong argument should fail where it is given, as an :class:`labkit.errors.InputError`
that names it (``batch_size must be a whole number from 1 to 1000000, not 0``), rather
than as an ``AttributeError`` or ``OverflowError`` from deep inside torch. Plain Python:
the command line uses the same rules without importing torch.
"""

from __future__ import annotations

import numbers
import reprlib

from labkit.errors import InputError

#: torch seeds its generators with 64 bits; each epoch adds one to the seed
#: (``DistributedSampler.set_epoch``), so ``seed + epochs - 1`` must fit as well.
SEED_LIMIT = 2**64 - 1

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlong = 40, 40, 40


def shown(value: object) -> str:
    """``repr(value)``, cut short: an error line stays one short line."""
    return _short.repr(value)


def whole(name: str, value: object, low: int, high: int) -> int:
    """``value`` if it is a whole number (not a bool) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
            low <= value <= high):
        raise InputError(f"{name} must be a whole number from {low} to {high}, "
                         f"not {shown(value)}")
    return int(value)


def positive_number(name: str, value: object) -> float:
    """``value`` if it is a finite number above zero (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            0 < value < float("inf")):
        raise InputError(f"{name} must be a number above 0, not {shown(value)}")
    return float(value)


def seed(value: object, epochs: int) -> int:
    """A seed torch can use for every epoch: ``seed + epochs - 1`` fits in 64 bits."""
    highest = SEED_LIMIT - max(epochs - 1, 0)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
            0 <= value <= highest):
        raise InputError(f"seed must be a whole number from 0 to {highest} (torch seeds "
                         f"are 64 bits and each of the {epochs} epochs adds one), not "
                         f"{shown(value)}")
    return int(value)
