"""Saving and loading PenguinNet weights, safely.

``save_model`` writes to a temporary file in the same folder and renames it over the target,
so a crash midway leaves the previous model intact. ``load_model`` uses
``torch.load(weights_only=True)``: a model file cannot run code when it is loaded.
The file holds a plain ``state_dict``, as the lab saves it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch import nn

from labkit.atomic import atomic_write
from labkit.errors import ModelFileError
from labkit.model import PenguinNet


def save_model(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write the model's weights to ``path`` atomically; returns the path."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return atomic_write(path, buffer.getvalue())


def load_model(path: str | os.PathLike[str]) -> PenguinNet:
    """Load weights saved by :func:`save_model` (or the lab) into a new PenguinNet, in
    eval mode.

    Raises :class:`ModelFileError` for a missing, truncated or mismatched file.
    """
    source = Path(path)
    if not source.exists():
        raise ModelFileError(f"{source}: no such model file")
    if source.is_dir():
        raise ModelFileError(f"{source}: is a directory, expected a model file")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a damaged file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelFileError(
            f"{source}: not a readable model file ({reason})") from None
    if not isinstance(state, dict):
        raise ModelFileError(
            f"{source}: holds a {type(state).__name__}, not a state_dict")
    model = PenguinNet()
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise ModelFileError(f"{source}: does not fit PenguinNet ({first})") from None
    return model.eval()
