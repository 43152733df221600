"""Zero probes on layer outputs: the trick that exposes d(loss)/d(output).

While the model runs, each chosen layer's `call` is temporarily wrapped so
that it returns `output + probe`, where `probe` is a tensor of zeros that the
backend's gradient function differentiates by (watched on a `tf.GradientTape`,
a `torch` leaf that requires grad, or an argument of the `jax` function).
The forward values are unchanged, and the gradient of the loss with respect
to `probe` is exactly the gradient with respect to the layer's output,
through every path that uses it.

A free cell (one the model calls itself, once per step) returns `(output,
new_states)` whose output is also its first state (Keras's cells return h
twice): the probed output replaces that state too, so d(loss)/d(probe) is
d(loss)/d(h) through every use, as for the same tensor without the probe.

Each record keeps what the call was given as initial state and what it
returned, from which `chains` tells which calls continue one another.

Wrapping `call` on the instance (not on the class) works for layers at any
depth: nested models and Sequential models re-run `layer.__call__`, which
calls `self.call`, so no graph has to be rebuilt. Keras computes the output
mask after `call` returns, so masks propagate as usual. The wrapper is removed
as soon as the forward pass is traced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
from keras import ops, tree

from tb_rnngrad import versions
from tb_rnngrad.capture import kerases
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.layers import LayerRef, is_cell, is_rnn

NewProbe = Callable[[Any], Any]
"""`new_probe(tensor)`: a zero tensor like `tensor` that the pass differentiates by."""

Marker = Callable[[Any, int, Any], Any]
"""`marker(layer, call, tensor)`: a zero like `tensor`, added to each tensor
call `call` of a recurrent layer returns, to trace what derives from it
(`jax_links`)."""

PROBE = "probe"
"""Role: add zero probes to the layer's output(s) and record the input mask."""

MASK = "mask"
"""Role: only record the mask the layer computes (for Masking layers)."""

_MISSING = object()


@dataclasses.dataclass
class Record:
    """What one call of a probed layer produced.

    Attributes:
        probes: The watched zero tensors, one per probed output.
        outputs: The layer outputs the probes were added to.
        mask: The layer's input mask (RNN layers) or the mask it computes
            (Embedding, Masking), as a bool tensor, or None.
        initial: The flat initial states the call was given (empty if none).
        returned: Every flat tensor the call returned, probes added.
        steps: The timesteps the call ran (1 for a cell call), an int or a
            scalar tensor.
    """

    probes: list[Any]
    outputs: list[Any]
    mask: Any
    initial: list[Any] = dataclasses.field(default_factory=list)
    returned: list[Any] = dataclasses.field(default_factory=list)
    steps: Any = 1


def probed_output_count(layer: keras.layers.Layer) -> int:
    """2 for a Bidirectional layer with merge_mode=None (two outputs), else 1."""
    bidirectional = isinstance(layer, kerases.types("Bidirectional"))
    if bidirectional and layer.merge_mode is None:
        return 2
    return 1


def _first_mask(mask: Any) -> Any:
    for leaf in tree.flatten(mask):
        if leaf is not None:
            return ops.cast(leaf, "bool")
    return None


def _computed_mask(layer: keras.layers.Layer, args: tuple, kwargs: dict) -> Any:
    inputs = args[0] if args else kwargs.get("inputs")
    if inputs is None:
        return None
    return layer.compute_mask(inputs, kwargs.get("mask"))


def _add_probes(
    layer: keras.layers.Layer, outputs: Any, new_probe: NewProbe
) -> tuple[Any, list[Any], list[Any]]:
    """Returns (outputs with probes added, probes, the outputs probed)."""
    count = probed_output_count(layer)
    is_sequence = isinstance(outputs, (list, tuple))
    flat = list(outputs) if is_sequence else [outputs]
    if len(flat) < count:
        raise CaptureError(
            f"Layer '{layer.name}' returned {len(flat)} tensor(s); expected at "
            f"least {count}."
        )
    heads = [ops.convert_to_tensor(t) for t in flat[:count]]
    probes = [new_probe(t) for t in heads]
    new = [h + p for h, p in zip(heads, probes, strict=True)] + flat[count:]
    if is_cell(layer) and len(flat) == 2:  # (output, new_states)
        new[1] = tree.map_structure(
            lambda s: new[0] if s is flat[0] or s is heads[0] else s, flat[1]
        )
    if not is_sequence:
        return new[0], probes, heads
    return type(outputs)(new), probes, heads


def _initial(layer: keras.layers.Layer, args: tuple, kwargs: dict) -> list[Any]:
    """The flat initial states of a call: a cell's `states`, an RNN layer's
    `initial_state`."""
    if not (is_cell(layer) or is_rnn(layer)):
        return []
    name = "states" if is_cell(layer) else "initial_state"
    given = args[1] if len(args) > 1 else kwargs.get(name)
    return [t for t in tree.flatten(given) if t is not None]


def _steps(layer: keras.layers.Layer, args: tuple, kwargs: dict) -> Any:
    """The timesteps of a call: 1 for a cell, else its sequence's length."""
    if is_cell(layer):
        return 1
    sequence = args[0] if args else kwargs.get("sequences", kwargs.get("inputs"))
    sequence = tree.flatten(sequence)[0] if sequence is not None else None
    if sequence is None or len(sequence.shape) < 3:
        return 1
    if sequence.shape[1] is not None:
        return int(sequence.shape[1])
    return ops.shape(sequence)[1]


def _wrapper(
    layer: keras.layers.Layer,
    role: str,
    original: Any,
    new_probe: NewProbe,
    records: list[Record],
    marker: Marker | None,
) -> Any:
    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        outputs = original(*args, **kwargs)
        if role == MASK:
            mask = _first_mask(_computed_mask(layer, args, kwargs))
            records.append(Record(probes=[], outputs=[], mask=mask))
            return outputs
        if isinstance(layer, kerases.types("Embedding")):
            mask = _first_mask(_computed_mask(layer, args, kwargs))
        else:
            mask = _first_mask(kwargs.get("mask"))
        outputs, probes, heads = _add_probes(layer, outputs, new_probe)
        if marker is not None and (is_rnn(layer) or is_cell(layer)):
            call = len(records)
            outputs = tree.map_structure(lambda t: t + marker(layer, call, t), outputs)
        records.append(
            Record(
                probes=probes,
                outputs=heads,
                mask=mask,
                initial=_initial(layer, args, kwargs),
                returned=tree.flatten(outputs),
                steps=_steps(layer, args, kwargs),
            )
        )
        return outputs

    return call


@contextlib.contextmanager
def attach(
    new_probe: NewProbe,
    targets: Sequence[tuple[LayerRef, str]],
    marker: Marker | None = None,
) -> Iterator[dict[int, list[Record]]]:
    """Wraps the chosen layers' `call` for the duration of the block.

    Args:
        new_probe: Makes each probe (see `NewProbe`).
        targets: `(layer_ref, role)` pairs, role `PROBE` or `MASK`.
        marker: Adds a marker to what recurrent layers return (see `Marker`).

    Yields:
        A dict from `id(layer)` to the list of records of that layer's calls,
        filled while the model runs inside the block.
    """
    records: dict[int, list[Record]] = {}
    saved: list[tuple[keras.layers.Layer, Any]] = []
    try:
        for ref, role in targets:
            layer = ref.layer
            versions.check(
                "keras" if isinstance(layer, keras.layers.Layer) else "tf_keras",
                "tb-rnngrad's capture wraps layers' `call` on the instance",
            )
            own = vars(layer).get("call", _MISSING)
            saved.append((layer, own))
            records[id(layer)] = []
            wrapped = _wrapper(
                layer, role, layer.call, new_probe, records[id(layer)], marker
            )
            object.__setattr__(layer, "call", wrapped)
        yield records
    finally:
        for layer, own in reversed(saved):
            if own is _MISSING:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own)
