"""The demo's models in PyTorch: those of `demo.models`, one recurrent layer
returning its last output, then a linear head. Imports torch only (not
`torch.utils.tensorboard`, which imports TensorFlow when it is installed)."""

from __future__ import annotations

import torch
from torch import nn

MODULES = {"simplernn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class Model(nn.Module):
    """One recurrent module ("rnn", batch-first) returning its last output,
    then a linear head ("head")."""

    def __init__(self, model_name: str, features: int, units: int) -> None:
        super().__init__()
        self.rnn = MODULES[model_name](features, units, batch_first=True)
        self.head = nn.Linear(units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])
