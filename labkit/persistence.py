"""Saving and loading PenguinNet weights, safely.

``save_model`` writes to a temporary file in the same folder and renames it over the
target, so a crash midway leaves the previous model intact. The file holds the
``state_dict`` together with labkit's format version and a sha256 of every tensor (its
name, dtype, shape and bytes), so that a damaged file is refused instead of predicting.

``load_model`` trusts nothing in the file: it reads only a small regular file, checks
the zip archive before anything is unpacked (torch stores its records uncompressed, so
a record larger than the file is a zip bomb), and uses ``torch.load(weights_only=True)``,
which can build tensors but run no code. Then every tensor must match its checksum,
PenguinNet's names, shapes and dtype, and be finite; a refusal names the tensor.

A plain ``state_dict`` saved as the original lab does (``torch.save(model.state_dict(),
path)``) carries no checksum: it is refused unless the caller asks for it explicitly
(``load_model(path, verify=False)``, ``labkit predict --unverified``), and is then still
checked for names, shapes, dtype and finiteness.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
from pathlib import Path

import torch
from torch import nn

from labkit.archive import MAX_RECORDS, check_archive, one_line
from labkit.atomic import atomic_write
from labkit.errors import ModelFileError
from labkit.files import read_regular_file
from labkit.model import PenguinNet

#: What a labkit model file says it is, and the version of that layout.
FORMAT = "labkit.PenguinNet"
FORMAT_VERSION = 1
#: PenguinNet's file is about 3 KB; anything beyond these is not a PenguinNet.
MAX_MODEL_BYTES = 1024 * 1024
#: What a labkit model file holds, and the longest name a tensor may have.
FILE_KEYS = frozenset({"format", "version", "state_dict", "sha256"})
MAX_NAME = 64
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

State = dict[str, torch.Tensor]


def save_model(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write the model's weights, with their checksums, to ``path`` atomically;
    returns the path. Only what :func:`load_model` will read back is written: a
    PenguinNet with PenguinNet's shapes and finite weights; anything else is refused
    and the file at ``path`` is left as it was."""
    if not isinstance(model, PenguinNet):
        raise ModelFileError(f"{path}: not saved; save_model saves a PenguinNet, not "
                             f"{type(model).__name__}")
    state = {name: t.detach().cpu() for name, t in model.state_dict().items()}
    check_fits_penguinnet(state, f"{path}: not saved")
    saved = {"format": FORMAT, "version": FORMAT_VERSION, "state_dict": state,
             "sha256": {name: tensor_sha256(name, t) for name, t in state.items()}}
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    return atomic_write(path, buffer.getvalue())


def load_model(path: str | os.PathLike[str], verify: bool = True) -> PenguinNet:
    """Load weights saved by :func:`save_model` into a new PenguinNet, in eval mode.

    ``verify=False`` also accepts a plain ``state_dict`` without checksums (as the
    lab saves it). Raises :class:`ModelFileError`, naming the file and, where there is
    one, the tensor, for a missing, damaged, unsafe or mismatched file.
    """
    shown = str(path)
    raw = read_regular_file(Path(path), MAX_MODEL_BYTES, shown, "model file",
                            ModelFileError)
    check_archive(raw, shown)
    state = checked_state(unpickle(raw, shown), shown, verify)
    check_fits_penguinnet(state, shown)
    model = PenguinNet()
    model.load_state_dict(state)
    return model.eval()


def tensor_sha256(name: str, tensor: torch.Tensor) -> str:
    """sha256 over a tensor's name, dtype, shape and bytes."""
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    digest = hashlib.sha256(f"{name}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
    digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def safe_sha256(name: str, tensor: torch.Tensor) -> str | None:
    """:func:`tensor_sha256`, or ``None`` for a tensor torch cannot read as bytes."""
    try:
        return tensor_sha256(name, tensor)
    except Exception:
        return None


def refuse_nonfinite(state: State, prefix: str) -> None:
    """Raise :class:`ModelFileError` naming the first tensor with a NaN or infinity."""
    for name, tensor in state.items():
        if tensor.is_floating_point():
            bad = int((~torch.isfinite(tensor)).sum())
            if bad:
                plural = "s" if bad > 1 else ""
                raise ModelFileError(f"{prefix}: tensor {name} holds {bad} NaN or "
                                     f"infinite value{plural}")


def unpickle(raw: bytes, shown: str) -> object:
    """``torch.load(weights_only=True)`` on the bytes already read, as one-line errors
    (never torch's advice to load the file without ``weights_only``)."""
    try:
        return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL ([\w.]+)", str(error))
        what = f"a {found.group(1)} object" if found else "objects other than tensors"
        raise ModelFileError(f"{shown}: not a readable model file (it holds {what}; "
                             f"labkit loads tensors only, never code)") from None
    except Exception as error:  # torch raises several types for a damaged file
        raise ModelFileError(
            f"{shown}: not a readable model file ({one_line(error)})") from None


def checked_state(saved: object, shown: str, verify: bool) -> State:
    """The state_dict inside what was unpickled, after every field is type-checked and
    bounded and the checksums are checked; error lines quote at most a few characters
    of what the file holds."""
    try:
        return _checked_state(saved, shown, verify)
    except RecursionError:
        raise ModelFileError(f"{shown}: not a readable model file (its contents are "
                             f"nested too deeply to be PenguinNet's)") from None


def _checked_state(saved: object, shown: str, verify: bool) -> State:
    if isinstance(saved, dict) and saved.get("format") == FORMAT:
        unknown = [key for key in saved if key not in FILE_KEYS]
        if unknown:
            raise ModelFileError(f"{shown}: a labkit model file with the unknown field "
                                 f"{short(unknown[0])}")
        version = saved.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise ModelFileError(f"{shown}: labkit model format version {short(version)}; "
                                 f"this labkit reads version {FORMAT_VERSION}")
        state, sums = saved.get("state_dict"), saved.get("sha256")
        if not (is_state(state) and isinstance(sums, dict)):
            raise ModelFileError(f"{shown}: a labkit model file without its weights or "
                                 f"checksums")
        if not all(type(k) is str and type(v) is str and SHA256_HEX.fullmatch(v)
                   for k, v in sums.items()):
            raise ModelFileError(f"{shown}: a labkit model file whose checksums are not "
                                 f"sha256 digests")
        for name in sorted(set(state) | set(sums)):
            if name not in state or name not in sums or (
                    sums[name] != safe_sha256(name, state[name])):
                raise ModelFileError(f"{shown}: tensor {tensor_name(name)} does not match its "
                                     f"checksum; the file is damaged")
        return state
    if not is_state(saved):
        raise ModelFileError(
            f"{shown}: holds a {type(saved).__name__}, not a state_dict of PenguinNet's "
            f"tensors")
    if verify:
        raise ModelFileError(
            f"{shown}: a plain state_dict without labkit's checksums (as the original "
            f"lab saves it); to load it unverified, use load_model(path, verify=False) "
            f"or labkit predict --unverified")
    return saved  # type: ignore[return-value]


def short(value: object) -> str:
    """A value from the file, quoted in at most a few dozen characters."""
    from labkit.arguments import shown

    try:
        return shown(value)
    except Exception:  # a crafted object whose repr fails or recurses
        return f"a {type(value).__name__}"


def tensor_name(name: str) -> str:
    """A tensor's name as a message shows it: as it is if short, else quoted and cut."""
    return name if len(name) <= MAX_NAME and name.isprintable() else short(name)


def is_state(value: object) -> bool:
    """A dict of at most :data:`MAX_RECORDS` plain dense CPU tensors keyed by short
    names, as ``state_dict()`` returns (sparse, quantized or nested tensors are not
    PenguinNet's, and torch cannot hash or check them)."""
    return isinstance(value, dict) and len(value) <= MAX_RECORDS and all(
        type(k) is str and len(k) <= MAX_NAME and type(v) is torch.Tensor
        and v.layout == torch.strided and not v.is_quantized and not v.is_nested
        and v.device.type == "cpu"
        for k, v in value.items())


def check_fits_penguinnet(state: State, shown: str) -> None:
    """Refuse weights whose names, shapes or dtype are not PenguinNet's, or that are not
    finite, naming the first tensor that is wrong."""
    expected = PenguinNet().state_dict()
    prefix = f"{shown}: does not fit PenguinNet"
    missing, unexpected = expected.keys() - state.keys(), state.keys() - expected.keys()
    if missing:
        raise ModelFileError(f"{prefix}: tensor {min(missing)} is missing")
    if unexpected:
        raise ModelFileError(f"{prefix}: unexpected tensor {tensor_name(min(unexpected))}")
    for name, want in expected.items():
        got = state[name]
        if got.shape != want.shape:
            raise ModelFileError(f"{prefix}: tensor {name} has shape {shape(got)}, "
                                 f"PenguinNet's is {shape(want)}")
        if got.dtype != want.dtype:
            raise ModelFileError(f"{prefix}: tensor {name} is {got.dtype}, PenguinNet's "
                                 f"weights are {want.dtype}")
    refuse_nonfinite(state, shown)


def shape(tensor: torch.Tensor) -> str:
    return "x".join(map(str, tensor.shape)) or "a scalar"
