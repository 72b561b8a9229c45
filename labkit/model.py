"""PenguinNet: the lab's network, five inputs to three species."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Nodes in each hidden layer, as in the lab.
HIDDEN = 10


class PenguinNet(nn.Module):
    """Three fully connected layers: 5 -> 10 -> 10 -> 3, ReLU between, log_softmax out.

    The output is a log-probability per species. Weights have the shapes (out, in):
    fc1 10x5, fc2 10x10, fc3 3x10.
    """

    def __init__(self, n_features: int = 5, hidden: int = HIDDEN,
                 n_classes: int = 3) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = torch.relu(self.fc1(x))
        h2 = torch.relu(self.fc2(h1))
        return F.log_softmax(self.fc3(h2), dim=1)
