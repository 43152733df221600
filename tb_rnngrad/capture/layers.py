"""Find the recurrent layers of a Keras model, through nested models.

A recurrent layer is a `keras.layers.RNN` (LSTM, GRU, SimpleRNN, ConvLSTM, RNN
with any cell including StackedRNNCells), a `keras.layers.Bidirectional`
wrapper, or a free cell: a cell (`LSTMCell`, `GRUCell`, `SimpleRNNCell`, a
custom layer with a `state_size`) that the model calls itself, typically
once per step in a loop of a subclassed model's `call`. A Bidirectional
layer is one entry: its inner forward and backward copies are not listed
separately, nor are the cells of the RNN layers found. `layers=None` means
every recurrent layer; any other layer with a sequence output (batch,
timesteps, channels), such as Conv1D or MultiHeadAttention, is captured when
it is named explicitly.

Layers are found by walking `model.layers` and descending into every nested
`keras.Model` (functional, Sequential or subclassed). A layer inside a plain
custom layer is not found by the walk, but can still be selected by passing
the layer object itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import keras

from tb_rnngrad.capture import kerases
from tb_rnngrad.capture.errors import CaptureError

LayerSelector = str | int | keras.layers.Layer
"""A layer chosen by name, by index in `model.layers`, or by the object."""


@dataclasses.dataclass(frozen=True)
class LayerRef:
    """A layer of a model and the key its results are stored under.

    Attributes:
        layer: The Keras layer.
        key: Unique name in results: the layer name, or `outer/inner` with the
            names of the enclosing nested models when layer names collide.
        path: Names of the nested models that contain the layer, outermost
            first (empty for a top-level layer).
    """

    layer: keras.layers.Layer
    key: str
    path: tuple[str, ...] = ()


def is_rnn(layer: keras.layers.Layer) -> bool:
    """Whether `layer` is an RNN layer or a Bidirectional wrapper."""
    return isinstance(layer, kerases.types("RNN") + kerases.types("Bidirectional"))


def is_cell(layer: keras.layers.Layer) -> bool:
    """Whether `layer` is a recurrent cell (a Layer with a `state_size` that is
    not itself an RNN layer): called on `(inputs, states)`, one step a call."""
    return (
        isinstance(layer, kerases.types("Layer"))
        and not is_rnn(layer)
        and hasattr(layer, "state_size")
    )


def is_recurrent(layer: keras.layers.Layer) -> bool:
    """Whether `layer` is a recurrent layer or cell whose gradients we capture."""
    return is_rnn(layer) or is_cell(layer)


def _owned_cells(layer: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """The cells an RNN or Bidirectional layer runs itself (not free cells)."""
    if isinstance(layer, kerases.types("Bidirectional")):
        yield from _owned_cells(layer.forward_layer)
        yield from _owned_cells(layer.backward_layer)
        return
    cell = getattr(layer, "cell", None)
    if cell is None:
        return
    yield cell
    yield from getattr(cell, "cells", ())


def class_label(layer: keras.layers.Layer) -> str:
    """A short label for messages, e.g. `LSTM` or `Bidirectional(GRU)`."""
    if isinstance(layer, kerases.types("Bidirectional")):
        return f"Bidirectional({type(layer.forward_layer).__name__})"
    return type(layer).__name__


def walk_layers(
    model: keras.layers.Layer, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], keras.layers.Layer]]:
    """Yields `(path, layer)` for every layer of `model`, depth first.

    Nested models are yielded and then descended into; recurrent layers are
    not descended into (a Bidirectional's inner layers are not yielded).
    """
    for layer in getattr(model, "layers", ()):
        yield path, layer
        if isinstance(layer, kerases.types("Model")):
            yield from walk_layers(layer, path + (layer.name,))


def _refs(found: list[tuple[tuple[str, ...], keras.layers.Layer]]) -> list[LayerRef]:
    """Gives each found layer a unique key (its name, or its path if needed)."""
    seen: dict[int, tuple[tuple[str, ...], keras.layers.Layer]] = {}
    for path, layer in found:
        seen.setdefault(id(layer), (path, layer))
    unique = list(seen.values())
    counts: dict[str, int] = {}
    for _, layer in unique:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    refs = []
    for path, layer in unique:
        key = layer.name if counts[layer.name] == 1 else "/".join(path + (layer.name,))
        refs.append(LayerRef(layer=layer, key=key, path=path))
    return refs


def recurrent_layers(model: keras.Model) -> list[LayerRef]:
    """Every recurrent layer of `model`, including inside nested models.

    Args:
        model: A Keras model.

    Returns:
        One `LayerRef` per recurrent layer, in `model.layers` order.
    """
    found = list(walk_layers(model))
    owned = {id(c) for _, layer in found if is_rnn(layer) for c in _owned_cells(layer)}
    return _refs(
        [
            (p, layer)
            for p, layer in found
            if is_rnn(layer) or (is_cell(layer) and id(layer) not in owned)
        ]
    )


def layers_of_type(model: keras.Model, layer_type: type) -> list[LayerRef]:
    """Every layer of `model` (including nested models) that is a `layer_type`."""
    return _refs(
        [(p, layer) for p, layer in walk_layers(model) if isinstance(layer, layer_type)]
    )


def describe_choices(refs: Sequence[LayerRef]) -> str:
    """`'lstm' (LSTM), 'bi' (Bidirectional(GRU))` for error messages."""
    if not refs:
        return (
            "none (the model has no LSTM, GRU, SimpleRNN, RNN, Bidirectional "
            "or recurrent cell)"
        )
    return ", ".join(f"'{r.key}' ({class_label(r.layer)})" for r in refs)


def resolve_layers(
    model: keras.Model,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
) -> list[LayerRef]:
    """Turns a layer selection into the recurrent layers it names.

    Args:
        model: The Keras model.
        layers: None for every recurrent layer; or one selector or a list of
            selectors, each a layer name (or `outer/inner` path), an index into
            `model.layers` (as `model.get_layer(index=...)`), or a layer object.

    Returns:
        The selected layers, without duplicates, in the order given.

    Raises:
        CaptureError: If a selector names no layer or a non-recurrent layer
            whose output is not a sequence, or the model has no recurrent
            layer. The message lists the model's recurrent layers.
    """
    available = recurrent_layers(model)
    if layers is None:
        if not available:
            raise CaptureError(
                f"Model '{model.name}' has no recurrent layer: expected at least "
                "one LSTM, GRU, SimpleRNN, keras.layers.RNN or Bidirectional "
                "layer, or a cell (LSTMCell, GRUCell, SimpleRNNCell) the model "
                "calls itself (nested models are searched too). If the recurrent layer "
                "sits inside a custom layer, pass the layer object in `layers=`."
            )
        return available
    if isinstance(layers, (str, int, *kerases.types("Layer"))):
        layers = [layers]
    if not isinstance(layers, Sequence) or isinstance(layers, (bytes, bytearray)):
        raise CaptureError(
            f"`layers` must be None, a layer name, an index, a layer object or a "
            f"list of these; got {type(layers).__name__}."
        )
    if not layers:
        raise CaptureError(
            "`layers` is empty, so nothing would be captured. Pass None for "
            "every recurrent layer, or the names of the layers you want."
        )
    chosen: dict[int, LayerRef] = {}
    for selector in layers:
        ref = _resolve_one(model, selector, available)
        chosen.setdefault(id(ref.layer), ref)
    return list(chosen.values())


def _resolve_one(
    model: keras.Model, selector: LayerSelector, available: list[LayerRef]
) -> LayerRef:
    choices = describe_choices(available)
    if isinstance(selector, bool) or not isinstance(
        selector, (str, int, *kerases.types("Layer"))
    ):
        raise CaptureError(
            f"A layer selector must be a name, an index or a layer object; got "
            f"{selector!r} ({type(selector).__name__}). Recurrent layers of "
            f"'{model.name}': {choices}."
        )
    if isinstance(selector, str):
        return _by_name(model, selector, available, choices)
    if isinstance(selector, int):
        return _by_index(model, selector, available, choices)
    return _by_object(model, selector, available, choices)


def _by_name(
    model: keras.Model, name: str, available: list[LayerRef], choices: str
) -> LayerRef:
    matches = [r for r in available if name in (r.key, r.layer.name)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise _ambiguous(model, name, matches)
    other = [r for r in _all_refs(model) if name in (r.key, r.layer.name)]
    if len(other) == 1:
        return _sequence_layer(model, other[0], choices)
    if other:
        raise _ambiguous(model, name, other)
    raise CaptureError(
        f"Model '{model.name}' has no layer named '{name}'. Recurrent layers: "
        f"{choices}. Pass one of these names, an index or a layer object."
    )


def _by_index(
    model: keras.Model, index: int, available: list[LayerRef], choices: str
) -> LayerRef:
    top = list(getattr(model, "layers", ()))
    if not -len(top) <= index < len(top):
        raise CaptureError(
            f"Layer index {index} is out of range: model '{model.name}' has "
            f"{len(top)} layers in `model.layers`. Recurrent layers: {choices}."
        )
    return _by_object(model, top[index], available, choices)


def _by_object(
    model: keras.Model,
    layer: keras.layers.Layer,
    available: list[LayerRef],
    choices: str,
) -> LayerRef:
    if not is_recurrent(layer):
        known = [r for r in _all_refs(model) if r.layer is layer]
        ref = known[0] if known else LayerRef(layer=layer, key=layer.name)
        return _sequence_layer(model, ref, choices)
    for ref in available:
        if ref.layer is layer:
            return ref
    # A recurrent layer the walk cannot see (e.g. inside a custom layer): it
    # is accepted, and an error is raised later if the model never calls it.
    return LayerRef(layer=layer, key=layer.name)


def _all_refs(model: keras.Model) -> list[LayerRef]:
    """Every layer of `model`, recurrent or not, with its key."""
    return _refs(list(walk_layers(model)))


def _ambiguous(model: keras.Model, name: str, matches: list[LayerRef]) -> CaptureError:
    keys = ", ".join(f"'{r.key}'" for r in matches)
    return CaptureError(
        f"Layer name '{name}' is ambiguous in model '{model.name}': it "
        f"matches {keys}. Pass one of these paths or the layer object."
    )


def _output_shape(layer: keras.layers.Layer) -> tuple | None:
    """The shape of the layer's (first) output in the model graph, or None if
    it is not known (a subclassed model, or a layer called more than once)."""
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return None
    return tuple(keras.tree.flatten(output)[0].shape)


def _sequence_layer(model: keras.Model, ref: LayerRef, choices: str) -> LayerRef:
    """`ref` if its layer's output is (or may be) a sequence, else an error."""
    shape = _output_shape(ref.layer)
    if shape is None or len(shape) == 3:
        return ref
    raise not_a_sequence(model, ref.layer, shape, choices)


def not_a_sequence(
    model: keras.Model, layer: keras.layers.Layer, shape: tuple, choices: str
) -> CaptureError:
    """The error for a non-recurrent layer whose output is not a sequence."""
    return CaptureError(
        f"Layer '{layer.name}' ({class_label(layer)}) of model '{model.name}' is "
        f"not recurrent, and its output {shape} is not a sequence (batch, "
        "timesteps, channels): gradients are captured for LSTM, GRU, SimpleRNN, "
        "RNN and Bidirectional layers, and for other layers with a sequence "
        f"output when named in `layers=`. Recurrent layers: {choices}."
    )
