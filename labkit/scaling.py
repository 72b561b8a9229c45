"""Input scale: standardised inputs, and what the scale does to a network before training.

The lab feeds PenguinNet its features as they come: an island index near 1, a culmen length
near 44, a body mass (divided by 100) near 42. Chapter 9 measures what that does to a new
network (the size of its sums layer by layer, its dead and always-active units, its first
answers and their loss) against the same network fed standardised inputs,
:math:`(x_j - \\mu_j)/\\sigma_j`.

The comparison is all this module is for. The course's main line keeps the lab's pipeline
unstandardised, so that its numbers are the lab's numbers and a new penguin is typed in the
units the lab uses; a model trained on standardised inputs would need the training rows'
statistics saved with it, and every caller to apply them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.preprocessing import StandardScaler

from labkit.constants import SPECIES
from labkit.model import PenguinNet
from labkit.prep import Split

#: The starting loss of a network that gives each species probability 1/3: ln 3.
UNIFORM_LOSS = math.log(len(SPECIES))


def standardise(data: Split) -> tuple[Split, StandardScaler]:
    """The split with every input standardised with the *training* rows' mean and
    standard deviation, and the fitted scaler (``mean_`` is mu_j, ``scale_`` sigma_j).

    The test rows are scaled with the training statistics too: fitting on them would
    let the test set shape the inputs. The oversampled copies change neither statistic
    (four copies of each row have the same mean and spread; the scaler divides by N,
    not N-1).
    """
    scaler = StandardScaler().fit(data.x_train)

    def scaled(x: np.ndarray) -> np.ndarray:
        return scaler.transform(x).astype(np.float32)

    standardised = dataclasses.replace(
        data, x_train=scaled(data.x_train), x_test=scaled(data.x_test)
    )
    return standardised, scaler


class LayerActivity(NamedTuple):
    """Units of a ReLU layer that are dead or always active over a set of rows."""

    dead: int
    always_active: int


def first_layer_activity(model: PenguinNet, x: np.ndarray) -> LayerActivity:
    """Count layer 1's units that are zero for every row (dead: no gradient reaches
    their weights) and positive for every row (always active: the ReLU never bends)."""
    with torch.no_grad():
        z1 = model.fc1(torch.as_tensor(x, dtype=torch.float32))
    return LayerActivity(dead=int((z1 <= 0).all(dim=0).sum()),
                         always_active=int((z1 > 0).all(dim=0).sum()))


def second_moments(model: PenguinNet, x: np.ndarray) -> list[float]:
    """E[v^2] of the inputs and of each layer's sums z1, z2, z3 (the logits),
    averaged over rows and units: the size a layer passes on, which initialisation
    is designed to keep."""
    with torch.no_grad():
        v = torch.as_tensor(x, dtype=torch.float32)
        sizes = [v.square().mean().item()]
        for layer in (model.fc1, model.fc2, model.fc3):
            v = layer(v)
            sizes.append(v.square().mean().item())
            v = torch.relu(v)
    return sizes


def dead_units(model: PenguinNet, x: np.ndarray) -> tuple[list[int], list[int]]:
    """The units of each hidden layer whose sum is <= 0 for every row of ``x``:
    ReLU passes nothing from them, and no gradient back to their weights and bias."""
    with torch.no_grad():
        z1 = model.fc1(torch.as_tensor(x, dtype=torch.float32))
        z2 = model.fc2(torch.relu(z1))
    return ([int(k) for k in np.flatnonzero((z1 <= 0).all(dim=0).numpy())],
            [int(k) for k in np.flatnonzero((z2 <= 0).all(dim=0).numpy())])


class Untrained(NamedTuple):
    """What a new PenguinNet does on some rows before any training."""

    loss: float          # mean cross-entropy; ln 3 for a net that knows it knows nothing
    dead: int            # layer-1 units zero for every row
    always_active: int   # layer-1 units positive for every row
    answer: str          # the species it answers most often
    answer_share: float  # the share of rows that get that answer
    confidence: float    # the mean of the largest probability, 1/3 to 1


def untrained(x: np.ndarray, y: np.ndarray, seed: int) -> Untrained:
    """Build PenguinNet with ``seed``; measure its answers on ``x`` (labels ``y``)."""
    torch.manual_seed(seed)
    model = PenguinNet()
    with torch.no_grad():
        log_probs = model(torch.as_tensor(x, dtype=torch.float32))
    loss = F.nll_loss(log_probs, torch.as_tensor(y, dtype=torch.int64)).item()
    counts = np.bincount(log_probs.argmax(dim=1).numpy(), minlength=len(SPECIES))
    activity = first_layer_activity(model, x)
    return Untrained(
        loss=loss,
        dead=activity.dead,
        always_active=activity.always_active,
        answer=SPECIES[int(counts.argmax())],
        answer_share=float(counts.max() / counts.sum()),
        confidence=float(log_probs.exp().max(dim=1).values.mean()),
    )
