"""Gate names of recurrent cells and the weights whose columns they split.

Keras stores the gates of a cell side by side in the last axis of each weight,
in a fixed order: LSTM input, forget, cell, output (i, f, c, o); GRU update,
reset, candidate (z, r, h). A SimpleRNN cell has one block ("h"), and so has a
custom cell ("all").
"""

from __future__ import annotations

from typing import Any

import keras

from tb_rnngrad.capture import kerases

_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("LSTMCell", ("i", "f", "c", "o")),
    ("GRUCell", ("z", "r", "h")),
    ("SimpleRNNCell", ("h",)),
)

WEIGHTS = ("kernel", "recurrent_kernel", "bias")
"""The cell attributes whose per-timestep terms are captured."""


def gate_names(cell: Any) -> tuple[str, ...]:
    """The gates of `cell` in the order of its weight columns."""
    for cell_type, names in _TABLE:
        if isinstance(cell, kerases.types(cell_type)):
            return names
    return ("all",)


def weights_of(cell: Any) -> dict[str, keras.Variable]:
    """`{name: variable}` for the kernel, recurrent kernel and bias `cell` has."""
    found = {}
    for name in WEIGHTS:
        variable = getattr(cell, name, None)
        if kerases.is_variable(variable):
            found[name] = variable
    return found
