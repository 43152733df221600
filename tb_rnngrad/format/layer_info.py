"""A plain description of a recurrent layer, recorded in summary metadata.

Importing this module does not import TensorFlow or Keras.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """What the plugin records about the layer a tensor belongs to.

    Attributes:
      name: The Keras layer name.
      layer_class: Class of the recurrent layer (the wrapped class for
        Bidirectional, e.g. "GRU").
      units: Units per direction, 0 when unknown.
      bidirectional: Whether the layer is a `Bidirectional` wrapper.
      merge_mode: Bidirectional merge mode ("concat", "sum", "mul", "ave",
        "none"), "" for one-directional layers.
      direction: "forward" or "backward" for one half of a Bidirectional layer
        with merge_mode=None, "" otherwise.
      call_timesteps: For a recurrence unrolled by hand (a module or cell
        called once per step or in chunks), the timesteps each call
        contributed, in call order; empty for one call over the sequence.
    """

    name: str = ""
    layer_class: str = ""
    units: int = 0
    bidirectional: bool = False
    merge_mode: str = ""
    direction: str = ""
    call_timesteps: tuple[int, ...] = ()


_FIELDS = {f.name for f in dataclasses.fields(LayerInfo)}


def describe_layer(layer: Any, part: str | None = None) -> LayerInfo:
    """Describes `layer` for the summary metadata.

    Args:
      layer: None, a `LayerInfo`, a mapping with `LayerInfo` field names, or a
        Keras layer (recurrent, `Bidirectional` or a custom `RNN`).
      part: For one half of a Bidirectional layer with `merge_mode=None`, the
        half: "forward" or "backward" (recorded as `direction`). None keeps
        the direction `layer` gives.

    Returns:
      A `LayerInfo`; empty when `layer` is None.

    Raises:
      TypeError: `layer` is a mapping with unknown keys, or of another type.
      ValueError: `part` is not None, "forward" or "backward".
    """
    if part not in (None, "forward", "backward"):
        raise ValueError(
            f"part must be None (the whole layer), 'forward' or 'backward'; "
            f"got {part!r}."
        )
    info = _layer_info(layer)
    return info if part is None else dataclasses.replace(info, direction=part)


def _layer_info(layer: Any) -> LayerInfo:
    if layer is None:
        return LayerInfo()
    if isinstance(layer, LayerInfo):
        return layer
    if isinstance(layer, Mapping):
        unknown = set(layer) - _FIELDS
        if unknown:
            raise TypeError(
                f"layer mapping has unknown keys {sorted(unknown)}; "
                f"expected some of {sorted(_FIELDS)}"
            )
        return LayerInfo(**layer)
    if hasattr(layer, "name") and hasattr(layer, "call"):
        return _describe_keras_layer(layer)
    raise TypeError(
        "layer must be None, a Keras layer, a LayerInfo or a dict, "
        f"got {type(layer).__name__}"
    )


def _describe_keras_layer(layer: Any) -> LayerInfo:
    forward = getattr(layer, "forward_layer", None)
    if forward is not None:
        merge_mode = getattr(layer, "merge_mode", None)
        return LayerInfo(
            name=layer.name,
            layer_class=type(forward).__name__,
            units=_units(forward),
            bidirectional=True,
            merge_mode="none" if merge_mode is None else str(merge_mode),
        )
    return LayerInfo(
        name=layer.name, layer_class=type(layer).__name__, units=_units(layer)
    )


def _units(layer: Any) -> int:
    units = getattr(layer, "units", None)
    if units is None:
        cell = getattr(layer, "cell", None)
        units = getattr(cell, "units", None)
        if units is None:
            size = getattr(cell, "output_size", None)
            units = size if isinstance(size, int) else None
    return int(units) if isinstance(units, int) else 0
