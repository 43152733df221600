"""`describe_weights(model)`: the gate layout of each recurrent weight."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tb_rnngrad.capture import weights
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.layers import LayerSelector, resolve_layers
from tb_rnngrad.capture.model_check import flavour
from tb_rnngrad.format.weight_layout import WeightTable, weight_rows


def describe_weights(
    model: keras.Model,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
) -> WeightTable:
    """The gate layout of every recurrent weight of `model`.

    One row per layer (Bidirectional: per direction), weight and gate: the
    block of columns the gate occupies, in Keras's order (LSTM i, f, c, o;
    GRU z, r, h; SimpleRNN h; a custom cell "all"). A GRU with
    reset_after=True has its two bias rows as "bias" and "recurrent_bias".

    Args:
        model: A built Keras model (compiling is not needed).
        layers: None for every recurrent layer, or a selection as for
            `tb_rnngrad.capture.capture`.

    Returns:
        A `WeightTable`: a list of `WeightRow`s whose `str()` is an aligned
        table, e.g. `print(tb_rnngrad.describe_weights(model))`.

    Raises:
        CaptureError: If `model` is not a Keras model, has no recurrent
            layer, or is not built (its weights do not exist yet).
    """
    flavour(model)  # a Keras 3 or tf_keras model, else a CaptureError
    if not model.built:
        raise CaptureError(
            f"Model '{model.name}' is not built, so its weights do not exist "
            "yet. Build it first, e.g. model.build(input_shape) or call it on "
            "a batch."
        )
    found, _ = weights.cells(resolve_layers(model, layers))
    table = WeightTable()
    for key, cell in found:
        direction = _direction(key)
        gates = weights.gate_names(cell)
        for name, variable in weights.weights_of(cell).items():
            shape = tuple(variable.shape)
            if name == "bias" and len(shape) == 2 and shape[0] == 2:
                for row in ("bias", "recurrent_bias"):
                    table.extend(weight_rows(key, direction, row, shape[1:], gates))
            else:
                table.extend(weight_rows(key, direction, name, shape, gates))
    return table


def _direction(key: str) -> str:
    for part in key.split("/"):
        if part in ("forward", "backward"):
            return part
    return ""
