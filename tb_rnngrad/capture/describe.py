"""Describe a recurrent layer (or one half of one) for summary metadata.

The description is `tb_rnngrad.format.layer_info.describe_layer` as a plain dict, so
the capture, the logger and the summary ops record the same thing:

    {"name": "bi", "layer_class": "GRU", "units": 32, "bidirectional": True,
     "merge_mode": "concat", "direction": ""}

Conventions (those of `tb_rnngrad.format.layer_info.LayerInfo`): `layer_class` is the
recurrent class itself, the wrapped class for a Bidirectional layer (which sets
`bidirectional=True`); `units` are per direction (0 when unknown);
`merge_mode` is "concat", "sum", "mul", "ave" or "none" for Bidirectional
layers and "" otherwise; `direction` is "forward" or "backward" for one half
of a `merge_mode=None` Bidirectional layer and "" otherwise.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from tb_rnngrad.format.layer_info import describe_layer as _layer_info


def describe_layer(
    layer: keras.layers.Layer, part: str | None = None
) -> dict[str, Any]:
    """Describes a recurrent layer, or one half of a Bidirectional layer.

    Args:
        layer: An RNN-family layer or a Bidirectional wrapper.
        part: For a Bidirectional layer with `merge_mode=None`, the half the
            entry holds: "forward" or "backward". None otherwise.

    Returns:
        A dict with keys `name`, `layer_class`, `units`, `bidirectional`,
        `merge_mode` and `direction`, accepted as `layer=` by the summary ops.

    Raises:
        ValueError: If `part` is not None, "forward" or "backward".
    """
    if part not in (None, "forward", "backward"):
        raise ValueError(f"part must be None, 'forward' or 'backward'; got {part!r}.")
    info = _layer_info(layer)
    if part is not None:
        info = dataclasses.replace(info, direction=part)
    return dataclasses.asdict(info)
