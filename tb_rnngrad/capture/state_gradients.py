"""Turn the gradients of the state probes into d(loss)/d(h_t) entries.

Entry keys: the layer key, `/forward` or `/backward` for a Bidirectional
half, `/stacked_<i>` for the i-th cell of a StackedRNNCells, then one entry per
state of the cell: h_t under the key itself, an LSTM cell's c_t under
`<key>/cell`, any further state j of a custom cell under `<key>/state_<j>`.

At a masked step Keras carries the previous state: h_t = h_{t-1}. Its entry
is the gradient of that carried state (through the later steps, the returned
state, and the layer's output while that repeats h_t), and the real step
before a run of masked steps receives all of it, as in Keras's own backward
pass.
"""

from __future__ import annotations

from typing import Any

import keras

from tb_rnngrad.capture import kerases
from tb_rnngrad.capture.state_plan import StateRecord, root_cell


def leaf_keys(base: str, layer: keras.layers.Layer, count: int) -> list[str]:
    """The key of each of the `count` leaf cells of `layer` (an RNN layer or
    a free cell; their h_t entry)."""
    if isinstance(root_cell(layer), kerases.types("StackedRNNCells")):
        return [f"{base}/stacked_{i}" for i in range(count)]
    return [base]


def _state_suffix(cell: Any, index: int) -> str:
    if index == 0:
        return ""
    if index == 1 and isinstance(cell, kerases.types("LSTMCell")):
        return "/cell"
    return f"/state_{index}"


def entries(base: str, record: StateRecord, gradient: Any) -> dict[str, Any]:
    """`{key: d(loss)/d(state)}`, each (batch, timesteps, units) in input time.

    Args:
        base: The entry key of the layer (or Bidirectional half).
        record: What the instrumented layer call left.
        gradient: The gradient of `record.probes`.
    """
    keys = leaf_keys(base, record.layer, len(record.leaves))
    per_leaf = record.leaf_gradients(gradient)
    out = {}
    for key, leaf, pieces in zip(keys, record.leaves, per_leaf, strict=True):
        for j, total in enumerate(leaf.totals(pieces, record.mask)):
            out[key + _state_suffix(leaf.cell, j)] = total
    return out
