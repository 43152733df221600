"""The "weights" and "weight_gradients" kinds: each recurrent cell's kernel,
recurrent kernel and bias, and their gradients from the capture's one
backward pass.

The variables are watched on the capture's tape before the model runs, so
their gradients come from the same `tape.gradient` call as the other kinds,
of the same loss on the same batch. Entries are keyed as the cell's h_t entry
in `state_gradients`: the layer key, `<key>/forward` and `<key>/backward` for
a Bidirectional layer's halves, `<key>/stacked_<i>` for StackedRNNCells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import ops

from tb_rnngrad.capture import kerases, state_gradients, state_plan
from tb_rnngrad.capture.gates import gate_names, weights_of

__all__ = [
    "WEIGHT_KINDS",
    "cells",
    "gate_names",
    "gates",
    "values",
    "variables",
    "weights_of",
]
from tb_rnngrad.capture.layers import LayerRef, class_label, is_recurrent

#: The capture kinds this module serves.
WEIGHT_KINDS = ("weights", "weight_gradients")


def cells(refs: Sequence[LayerRef]) -> tuple[list[tuple[str, Any]], list[str]]:
    """`([(key, leaf cell)], notes)` for the recurrent layers among `refs`.

    A selected layer that is not recurrent has no cell: it is left out with
    a note, as is a cell without kernel, recurrent kernel or bias.
    """
    found, notes = [], []
    for ref in refs:
        if not is_recurrent(ref.layer):
            notes.append(
                f"Layer '{ref.key}' ({class_label(ref.layer)}) is not recurrent: "
                "no weights or weight gradients for it."
            )
            continue
        for part, layer in state_plan.rnn_parts(ref.layer):
            base = ref.key if part is None else f"{ref.key}/{part}"
            leaves = state_plan.leaf_cells(state_plan.root_cell(layer))
            keys = state_gradients.leaf_keys(base, layer, len(leaves))
            for key, cell in zip(keys, leaves, strict=True):
                if weights_of(cell):
                    found.append((key, cell))
                else:
                    notes.append(
                        f"Cell '{getattr(cell, 'name', cell)}' of '{key}' "
                        f"({type(cell).__name__}) has no kernel, recurrent_kernel "
                        "or bias attribute (or is not built yet): no weights "
                        "or weight gradients for it."
                    )
    return found, notes


def variables(found: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    """`{key: {weight name: variable value}}`, to watch and differentiate."""
    return {
        key: {name: kerases.value_of(v) for name, v in weights_of(cell).items()}
        for key, cell in found
    }


def split_rows(per_key: dict[str, dict[str, Any]]) -> dict[str, dict]:
    """Each entry with a two-row bias (GRU, reset_after=True) split into
    "bias" (input row) and "recurrent_bias" (recurrent row)."""
    out = {}
    for key, by_name in per_key.items():
        entry = dict(by_name)
        bias = entry.get("bias")
        if bias is not None and len(bias.shape) == 2 and bias.shape[0] == 2:
            entry.update(bias=bias[0], recurrent_bias=bias[1])
        out[key] = entry
    return out


def values(found: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    """The current value of each weight, as tensors (read when the pass runs)."""
    return split_rows(
        {
            key: {name: ops.copy(v) for name, v in by_name.items()}
            for key, by_name in variables(found).items()
        }
    )


def gates(found: list[tuple[str, Any]]) -> dict[str, tuple[str, ...]]:
    """`{key: gate names}` in Keras's column order."""
    return {key: gate_names(cell) for key, cell in found}
