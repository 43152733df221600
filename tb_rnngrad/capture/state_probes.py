"""Zero probes inside the recurrence: the trick that exposes d(loss)/d(h_t).

For the capture pass, each instrumented RNN layer's `inner_loop` and its
cells' `call` are wrapped on the instance (as `probes` wraps `layer.call`):

- `inner_loop` appends a zero probe tensor (batch, timesteps, width) to the
  input sequence, so that Keras's loop hands the cell one probe slice per
  timestep, and runs Keras's generic loop (`keras.layers.RNN.inner_loop`,
  never a fused cuDNN kernel) with `return_sequences=True` and
  `unroll=False` for the duration of the call: the last output and the final
  states are the same either way, and the loop then stacks what the cell
  records at every step.
- the root cell's `call` splits the probe slice off its input before calling
  the original cell (whose kernel expects the original width).
- each leaf cell (the cell itself, or every cell of a `StackedRNNCells`) adds
  one probe to each of its new states (h_t; h_t and c_t for an LSTM) before
  they are passed on. A Keras cell's output *is* its new h_t, so the output
  carries the same probe. d(loss)/d(probe at t) is then the total
  d(loss)/d(h_t): through the recurrence, the outputs, the returned states and
  every later layer. A cell whose output is not one of its states gets a
  probe on the output too (needed for its weight terms).
- with `record=True` each leaf also returns its step input and incoming
  states, which the loop stacks over time: the weight terms need them.

Masked steps: Keras keeps the previous state where the mask is False, outside
the cell, so the probe of a masked step has no effect. For those steps the
gradient of the carried state is assembled afterwards
(`state_gradients.carried`) from three more zero probes: on the states
entering each step, on the layer's outputs, and on its final states.

Probes and records are in input-time order (Keras reverses the whole input
sequence for `go_backwards`, probes included, and records are flipped back).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import keras
import tensorflow as tf

from tb_rnngrad.capture.errors import CaptureError

_MISSING = object()
_FUSED_LOOPS = (keras.layers.LSTM.inner_loop, keras.layers.GRU.inner_loop)


@dataclasses.dataclass(frozen=True)
class LeafPlan:
    """How one leaf cell is probed.

    Attributes:
        cell: The leaf cell.
        input_width: Width of its input at one step.
        state_widths: Width of each of its flat states.
        output_state: Index of the state that its output is, or None.
        output_width: Width of its output when that is not a state, else 0.
        activated: `(call, state)` pairs: the cell's `activation` is applied,
            at that call of the step, to that new state (an LSTM's h_t =
            o_t * tanh(c_t)). That state gets a second probe, added before
            the activation, whose gradient includes this path.
    """

    cell: keras.layers.Layer
    input_width: int
    state_widths: tuple[int, ...]
    output_state: int | None
    output_width: int
    activated: tuple[tuple[int, int], ...]

    @property
    def probe_widths(self) -> tuple[int, ...]:
        """Widths of its probes: one per state, the output's if separate,
        then one per activated state."""
        output = (self.output_width,) if self.output_width else ()
        inner = tuple(self.state_widths[j] for _, j in self.activated)
        return self.state_widths + output + inner

    def cotangents(self, pieces: list[tf.Tensor]) -> list[tf.Tensor]:
        """Of the gradients of its probes, those of what the step returns
        (each state, then a separate output): the weight terms' cotangents."""
        return pieces[: len(self.state_widths) + bool(self.output_width)]

    def totals(self, pieces: list[tf.Tensor]) -> list[tf.Tensor]:
        """Of the gradients of its probes, the total d(loss)/d(state) of each
        state: the inner probe's for an activated state."""
        totals = list(pieces[: len(self.state_widths)])
        inner = pieces[len(pieces) - len(self.activated) :] if self.activated else []
        for (_, j), gradient in zip(self.activated, inner, strict=True):
            totals[j] = gradient
        return totals


@dataclasses.dataclass(frozen=True)
class StateRecord:
    """What one call of an instrumented RNN layer (or Bidirectional half) left.

    Attributes:
        layer: The RNN layer.
        leaves: The plan of each leaf cell, in call order.
        probes: The watched zero probes (batch, timesteps, width): each leaf's
            `probe_widths`, then (masked layers only) one probe per flat
            state for the states entering each step.
        inputs: Per leaf, its input at every step (batch, timesteps, width),
            or None without `record`.
        states: Per leaf, its flat states entering every step, each (batch,
            timesteps, units), or None without `record`.
        mask: The bool (batch, timesteps) mask, or None.
        outputs_probe: Masked layers only: the zero probe on the stacked
            outputs (return_sequences=True) or the last output, else None.
        final_probes: Masked layers only: zero probes on the final states.
    """

    layer: keras.layers.RNN
    leaves: tuple[LeafPlan, ...]
    probes: tf.Tensor
    inputs: list[tf.Tensor] | None
    states: list[list[tf.Tensor]] | None
    mask: tf.Tensor | None
    outputs_probe: tf.Tensor | None
    final_probes: list[tf.Tensor] | None

    @property
    def state_count(self) -> int:
        """Number of flat states of the layer's cell."""
        return sum(len(leaf.state_widths) for leaf in self.leaves)

    def targets(self) -> dict[str, Any]:
        """The watched tensors to differentiate the loss with respect to."""
        targets = {"probes": self.probes}
        if self.mask is not None:
            targets["outputs"] = self.outputs_probe
            targets["final"] = self.final_probes
        return targets


def leaf_cells(cell: Any) -> list[Any]:
    """The cells that hold states: `cell`, or those of a StackedRNNCells."""
    if isinstance(cell, keras.layers.StackedRNNCells):
        return [leaf for inner in cell.cells for leaf in leaf_cells(inner)]
    return [cell]


def rnn_parts(layer: keras.layers.Layer) -> list[tuple[str | None, keras.layers.RNN]]:
    """`[(part, rnn_layer)]`: the layer, or a Bidirectional's two halves."""
    if isinstance(layer, keras.layers.Bidirectional):
        return [("forward", layer.forward_layer), ("backward", layer.backward_layer)]
    return [(None, layer)]


class _Feed:
    """Passes one step's probes from the root cell to the leaves, and back
    what the leaves record. Modes: None (pass through), "plan" (learn each
    leaf's plan), "probe" (add probes)."""

    def __init__(self, record: bool) -> None:
        self.record = record
        self.mode: str | None = None
        self.plans: list[LeafPlan] = []
        self.pieces: list[tf.Tensor] = []
        self.recorded: list[tf.Tensor] = []
        self.calls = 0
        self.leaf: int | None = None  # the leaf being called
        self.activations: list[tf.Tensor] = []  # inputs of its activation calls
        self.inner: dict[int, tuple[int, tf.Tensor]] = {}  # call -> (state, probe)
        self.probed: dict[int, tf.Tensor] = {}  # state -> its value with inner probe
        self.error: CaptureError | None = None  # from learning a plan


def _index_of(tensor: Any, candidates: Sequence[Any]) -> int | None:
    for i, candidate in enumerate(candidates):
        if candidate is tensor:
            return i
    return None


def _width(layer: keras.layers.Layer, tensor: Any, what: str, rank: int = 2) -> int:
    """The last dimension of `tensor`; CaptureError unless it has `rank`
    dimensions and that one is known."""
    shape = getattr(tensor, "shape", None)
    if shape is None or len(shape) != rank or shape[-1] is None:
        expected = "(batch, units)" if rank == 2 else "(batch, timesteps, features)"
        raise CaptureError(
            f"Layer '{layer.name}' ({type(layer).__name__}) cannot be probed "
            f"for state gradients: its {what} has shape "
            f"{None if shape is None else tuple(shape)}, and state probes need "
            f"{expected} tensors of known width. Request only 'gradients' or "
            "'activations' for this layer, or leave it out of `layers=`."
        )
    return int(shape[-1])


def _plan(
    layer: keras.layers.RNN,
    cell: Any,
    inputs: Any,
    output: Any,
    flat: list[tf.Tensor],
    activations: list[tf.Tensor],
) -> LeafPlan:
    at = _index_of(output, flat)
    activated = []
    for call, tensor in enumerate(activations):
        state = _index_of(tensor, flat)
        if state is not None:
            activated.append((call, state))
    return LeafPlan(
        cell=cell,
        input_width=_width(layer, inputs, "input"),
        state_widths=tuple(_width(layer, s, "state") for s in flat),
        output_state=at,
        output_width=0 if at is not None else _width(layer, output, "output"),
        activated=tuple(activated),
    )


def _probed_step(
    plan: LeafPlan, feed: _Feed, original: Any, inputs: Any, states: Any, kwargs: dict
) -> tuple[Any, Any]:
    """One step of a leaf cell with its probes added."""
    pieces = [feed.pieces.pop(0) for _ in plan.probe_widths]
    inner = pieces[len(pieces) - len(plan.activated) :] if plan.activated else []
    feed.inner = {
        call: (state, piece)
        for (call, state), piece in zip(plan.activated, inner, strict=True)
    }
    feed.probed = {}
    output, new_states = original(inputs, states, **kwargs)
    flat = tf.nest.flatten(new_states)
    at = _index_of(output, flat)
    flat = [feed.probed.get(j, s) for j, s in enumerate(flat)]
    probed = [
        s + tf.cast(p, s.dtype) for s, p in zip(flat, pieces[: len(flat)], strict=True)
    ]
    if at is not None:
        output = probed[at]
    else:
        output = output + tf.cast(pieces[len(flat)], output.dtype)
    return output, tf.nest.pack_sequence_as(new_states, probed)


def _check_shapes(layer: keras.layers.RNN, sequences: Any, initial_state: Any) -> None:
    """Raises CaptureError unless the loop runs over (batch, timesteps,
    features) with (batch, units) states, the shapes probes are made for."""
    _width(layer, sequences, "input sequence", rank=3)
    for state in tf.nest.flatten(initial_state):
        _width(layer, state, "state")


def _leaf_wrapper(
    layer: keras.layers.RNN, cell: Any, index: int, original: Any, feed: _Feed
) -> Any:
    @functools.wraps(original)
    def call(inputs: Any, states: Any, **kwargs: Any) -> Any:
        if feed.mode is None:
            return original(inputs, states, **kwargs)
        feed.leaf, feed.activations = index, []
        try:
            if feed.mode == "probe":
                if feed.record:
                    recorded = ([inputs] if index else []) + tf.nest.flatten(states)
                    feed.recorded.extend(recorded)
                plan = feed.plans[index]
                return _probed_step(plan, feed, original, inputs, states, kwargs)
            output, new_states = original(inputs, states, **kwargs)
            flat = tf.nest.flatten(new_states)
            try:
                plan = _plan(layer, cell, inputs, output, flat, feed.activations)
                feed.plans.append(plan)
            except CaptureError as error:  # raised by `_learn_plan`, unworded
                feed.error = error
            return output, new_states
        finally:
            feed.leaf = None

    return call


def _activation_wrapper(index: int, original: Any, feed: _Feed) -> Any:
    """Lets the leaf cell `index` add an inner probe to an activation's input."""

    @functools.wraps(original)
    def activation(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        if feed.leaf != index:
            return original(tensor, *args, **kwargs)
        call = len(feed.activations)
        feed.activations.append(tensor)
        if feed.mode == "probe" and call in feed.inner:
            state, piece = feed.inner[call]
            tensor = tensor + tf.cast(piece, tensor.dtype)
            feed.probed[state] = tensor
        return original(tensor, *args, **kwargs)

    return activation


def _root_wrapper(original: Any, feed: _Feed, plan: dict) -> Any:
    @functools.wraps(original)
    def call(inputs: Any, states: Any, **kwargs: Any) -> Any:
        if feed.mode != "probe":
            return original(inputs, states, **kwargs)
        feed.calls += 1
        widths = plan["widths"]
        width = sum(widths)
        x, *pieces = tf.split(inputs, [inputs.shape[-1] - width, *widths], axis=-1)
        if plan["masked"]:
            flat = tf.nest.flatten(states)
            entering = pieces[len(pieces) - len(flat) :]
            pieces = pieces[: len(pieces) - len(flat)]
            flat = [
                s + tf.cast(p, s.dtype) for s, p in zip(flat, entering, strict=True)
            ]
            states = tf.nest.pack_sequence_as(states, flat)
        feed.pieces, feed.recorded = pieces, []
        output, new_states = original(x, states, **kwargs)
        if not feed.record:
            return output, new_states
        recorded = tf.stop_gradient(tf.concat(feed.recorded, axis=-1))
        return (output, recorded), new_states

    return call


@contextlib.contextmanager
def _attributes(layer: keras.layers.Layer, **values: Any) -> Iterator[None]:
    saved = {name: getattr(layer, name) for name in values}
    try:
        for name, value in values.items():
            object.__setattr__(layer, name, value)
        yield
    finally:
        for name, value in saved.items():
            object.__setattr__(layer, name, value)


def _first_mask(mask: Any) -> tf.Tensor | None:
    leaves = [m for m in tf.nest.flatten(mask) if m is not None]
    if not leaves:
        return None
    mask = tf.cast(leaves[0], tf.bool)
    return tf.squeeze(mask, -1) if mask.shape.rank == 3 else mask


def _in_input_time(layer: keras.layers.RNN, tensor: tf.Tensor) -> tf.Tensor:
    return tf.reverse(tensor, [1]) if layer.go_backwards else tensor


def _split_recorded(
    layer: keras.layers.RNN, plans: list[LeafPlan], recorded: tf.Tensor
) -> tuple[list[tf.Tensor | None], list[list[tf.Tensor]]]:
    widths = []
    for i, leaf in enumerate(plans):
        widths += ([leaf.input_width] if i else []) + list(leaf.state_widths)
    parts = tf.split(_in_input_time(layer, recorded), widths, axis=-1)
    inputs, states = [], []
    for i, leaf in enumerate(plans):
        inputs.append(parts.pop(0) if i else None)
        states.append([parts.pop(0) for _ in leaf.state_widths])
    return inputs, states


def _watched_zeros(tape: tf.GradientTape, like: tf.Tensor) -> tf.Tensor:
    zeros = tf.zeros_like(like)
    tape.watch(zeros)
    return zeros


def _learn_plan(
    layer: keras.layers.RNN,
    feed: _Feed,
    sequences: Any,
    initial_state: Any,
    masked: bool,
    training: Any,
) -> list[int]:
    """Runs the cell once on the first step to learn each leaf's plan (the
    run is discarded); returns the probe widths of one step."""
    _width(layer, sequences, "input sequence", rank=3)
    flat_states = tf.nest.flatten(initial_state)
    for state in flat_states:
        _width(layer, state, "state")
    feed.mode, feed.plans, feed.error = "plan", [], None
    try:
        layer.cell(sequences[:, 0], tuple(initial_state), training=training)
    finally:
        feed.mode = None
    if feed.error is not None:
        raise feed.error
    widths = [w for leaf in feed.plans for w in leaf.probe_widths]
    return widths + ([int(s.shape[-1]) for s in flat_states] if masked else [])


def _carried_probes(
    layer: keras.layers.RNN, tape: tf.GradientTape, last: Any, outputs: Any, final: Any
) -> tuple:
    """Adds zero probes to the layer's outputs and final states (masked
    layers). Returns (last, outputs, final, outputs probe, final probes)."""
    if layer.return_sequences:
        outputs_probe = _watched_zeros(tape, outputs)
        outputs = outputs + outputs_probe
    else:
        outputs_probe = _watched_zeros(tape, last)
        last = last + outputs_probe
    flat = tf.nest.flatten(final)
    final_probes = [_watched_zeros(tape, s) for s in flat]
    probed = [s + p for s, p in zip(flat, final_probes, strict=True)]
    final = tf.nest.pack_sequence_as(final, probed)
    return last, outputs, final, outputs_probe, final_probes


def _loop_wrapper(
    layer: keras.layers.RNN,
    tape: tf.GradientTape,
    feed: _Feed,
    plan: dict,
    records: list,
) -> Any:
    """The instrumented `inner_loop`. A layer that cannot be probed runs
    unprobed and leaves a CaptureError in `records`, raised after the
    forward pass (an error raised inside Keras's call would be reworded)."""
    own = layer.inner_loop
    loop = own
    if getattr(own, "__func__", None) in _FUSED_LOOPS:
        loop = functools.partial(keras.layers.RNN.inner_loop, layer)

    def inner_loop(
        sequences: tf.Tensor,
        initial_state: Any,
        mask: Any = None,
        training: Any = False,
    ) -> Any:
        mask = _first_mask(mask)
        try:
            widths = _learn_plan(
                layer, feed, sequences, initial_state, mask is not None, training
            )
        except CaptureError as error:
            records.append(error)
            return own(sequences, initial_state, mask=mask, training=training)
        plan.update(widths=widths, masked=mask is not None)
        shape = tf.concat([tf.shape(sequences)[:2], [sum(widths)]], axis=0)
        probes = tf.zeros(shape, sequences.dtype)
        tape.watch(probes)
        feed.mode, feed.calls = "probe", 0
        try:
            with _attributes(layer, return_sequences=True, unroll=False):
                last, outputs, final = loop(
                    tf.concat([sequences, probes], axis=-1),
                    initial_state,
                    mask=mask,
                    training=training,
                )
        finally:
            feed.mode = None
        if not feed.calls:
            records.append(_not_called(layer))
            return last, outputs, final
        inputs = states = None
        if feed.record:
            (last, _), (outputs, recorded) = last, outputs
            inputs, states = _split_recorded(layer, feed.plans, recorded)
            inputs[0] = sequences
        outputs_probe = final_probes = None
        if mask is not None:
            last, outputs, final, outputs_probe, final_probes = _carried_probes(
                layer, tape, last, outputs, final
            )
        records.append(
            StateRecord(
                layer=layer,
                leaves=tuple(feed.plans),
                probes=probes,
                inputs=inputs,
                states=states,
                mask=mask,
                outputs_probe=outputs_probe,
                final_probes=final_probes,
            )
        )
        return last, outputs, final

    return inner_loop


def _not_called(layer: keras.layers.RNN) -> CaptureError:
    return CaptureError(
        f"Layer '{layer.name}' ({type(layer).__name__}) did not call its cell "
        "in its recurrent loop (a fused kernel?), so its states cannot be "
        "probed. Request only 'gradients' or 'activations' for it, or leave "
        "it out of `layers=`."
    )


def _check_rnn(layer: Any) -> None:
    if not isinstance(layer, keras.layers.RNN):
        raise CaptureError(
            f"Layer '{layer.name}' ({type(layer).__name__}) is not recurrent: "
            "'state_gradients' and 'weight_contributions' exist only for "
            "LSTM, GRU, SimpleRNN, keras.layers.RNN and Bidirectional layers. "
            "Request 'gradients' or 'activations' for it, or leave it out."
        )
    if not isinstance(layer.cell, keras.layers.Layer):
        raise CaptureError(
            f"Layer '{layer.name}': its cell is a {type(layer.cell).__name__}, "
            "not a keras.layers.Layer, so its call cannot be wrapped to probe "
            "its states. Make the cell a keras.layers.Layer subclass."
        )


@contextlib.contextmanager
def attach(
    tape: tf.GradientTape, layers: Sequence[keras.layers.RNN], record: bool
) -> Iterator[dict[int, list[StateRecord]]]:
    """Instruments RNN layers for the duration of the block.

    Args:
        tape: The tape the forward pass runs under; probes are watched by it.
        layers: The RNN layers (Bidirectional halves, not the wrapper).
        record: Whether to record each leaf's inputs and incoming states.

    Yields:
        A dict from `id(layer)` to the records of that layer's calls, filled
        while the model runs inside the block: a `StateRecord` per call, or
        the CaptureError that says why the call could not be probed.

    Raises:
        CaptureError: If a layer is not an RNN, or its cell is not a Layer.
    """
    for layer in layers:
        _check_rnn(layer)
    records: dict[int, list[StateRecord]] = {}
    saved: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, wrapper: Any) -> None:
        saved.append((owner, name, vars(owner).get(name, _MISSING)))
        object.__setattr__(owner, name, wrapper)

    try:
        for layer in layers:
            feed, plan = _Feed(record), {}
            records[id(layer)] = []
            for index, leaf in enumerate(leaf_cells(layer.cell)):
                wrap(leaf, "call", _leaf_wrapper(layer, leaf, index, leaf.call, feed))
                if callable(getattr(leaf, "activation", None)):
                    activation = _activation_wrapper(index, leaf.activation, feed)
                    wrap(leaf, "activation", activation)
            wrap(layer.cell, "call", _root_wrapper(layer.cell.call, feed, plan))
            wrap(
                layer,
                "inner_loop",
                _loop_wrapper(layer, tape, feed, plan, records[id(layer)]),
            )
        yield records
    finally:
        for owner, name, own in reversed(saved):
            if own is _MISSING:
                object.__delattr__(owner, name)
            else:
                object.__setattr__(owner, name, own)
