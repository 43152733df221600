"""Zero probes inside the recurrence: the trick that exposes d(loss)/d(h_t).

For the capture pass, each instrumented RNN layer's `inner_loop` and its
cells' `call` (and `activation`) are wrapped on the instance, as `probes`
wraps `layer.call`:

- `inner_loop` runs Keras's generic loop (`keras.layers.RNN.inner_loop`,
  never a fused cuDNN kernel) with `return_sequences=True` for the call (the
  last output and the final states are the same either way, and the loop
  then stacks what the cell records), with a step function standing in for
  `layer.cell` that calls the cell. The step takes its zero probes, one
  (batch, width) slab per step, a step at a time. On TensorFlow the loop is
  a `tf.while_loop` (`unroll=False`) and the slabs are a list carried as an
  extra state and popped (popping a list, unlike reading a sequence, keeps
  TensorFlow's backward pass linear in timesteps); for a masked layer the
  mask, a step at a time, and the previous output are carried too. On JAX
  and PyTorch the loop is our own `keras.ops.scan` (`lax.scan` on JAX, so
  the pass compiles once per step, not once per timestep) over the time-major
  inputs, probe slabs and mask, carrying the states and the previous output;
  it returns what Keras's loop returns.
- each leaf cell (the cell itself, or each cell of a `StackedRNNCells`) adds a
  probe to each new state (h_t; h_t and c_t for an LSTM) before it is passed
  on. A Keras cell's output *is* its new h_t, so it carries the same probe.
  d(loss)/d(probe at t) is then the total d(loss)/d(h_t): through the
  recurrence, the outputs, the returned states and every later layer. A cell
  whose output is not one of its states gets a probe on the output (its
  weight terms need that gradient), and a state that the cell passes through
  its `activation` within the step (an LSTM's h_t = o_t * tanh(c_t)) gets a
  second probe before it, whose gradient includes that path. With `record`,
  Keras's LSTM, GRU and SimpleRNN cells also get a probe on their bias
  (`preactivations`): its gradient is the pre-activation gradient.
- the step function masks each step itself, as Keras's loop would: a masked step
  keeps the previous states and repeats the previous output (zeros with
  `zero_output_for_mask`). It adds each probe to the carried state as well,
  so a masked step's gradient is that of the state it carries through, and
  of the output while that repeats the carried h_t.
- with `record=True` the step function also returns each leaf's step input and
  incoming states (h_{t-1} only, with a bias probe) beside its output, which
  the loop stacks over time: the weight terms need them.

Probes and records are in input time (for `go_backwards` the probe list is
built in loop order and the records are flipped back).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import keras
from keras import ops, tree

from tb_rnngrad import versions
from tb_rnngrad.capture import preactivations
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.probes import NewProbe
from tb_rnngrad.capture.state_plan import LeafPlan, StateRecord, leaf_cells

_MISSING = object()


class Feed:
    """What the wrappers of one layer share. Modes: None (pass through),
    "plan" (learn each leaf's plan), "probe" (add probes)."""

    def __init__(self, record: bool, python_loop: bool) -> None:
        self.record = record
        self.python_loop = python_loop  # else a tf.while_loop carrying lists
        self.slab: Any = None  # scan: this step's probe slab
        self.step_mask: Any = None  # scan: this step's mask
        self.previous: Any = None  # scan: the previous output
        self.step_record: Any = None  # scan: this step's record
        self.mode: str | None = None
        self.plans: list[LeafPlan] = []
        self.error: CaptureError | None = None  # from learning a plan
        self.masked = False
        self.calls = 0  # root cell calls while probing
        self.pieces: list = []  # this step's probes, leaves pop them
        self.recorded: list = []
        self.leaf: int | None = None  # the leaf being called
        self.activations: list = []  # inputs of its activation calls
        self.inner: dict[int, tuple[int, Any]] = {}  # call -> (state, probe)
        self.probed: dict[int, Any] = {}  # state -> its inner-probed value

    @property
    def extra(self) -> int:
        """How many states the loop carries beyond the cell's own."""
        if self.python_loop:
            return 0
        return 3 if self.masked else 1


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
    flat: list,
    feed: Feed,
) -> LeafPlan:
    at = _index_of(output, flat)
    bias_width = 0
    if feed.record and preactivations.supported(cell):
        bias_width = preactivations.probe_width(cell)
    activated = []
    for call, tensor in enumerate(feed.activations):
        state = _index_of(tensor, flat)
        if state is not None:
            activated.append((call, state))
    return LeafPlan(
        cell=cell,
        input_width=_width(layer, inputs, "cell input"),
        state_widths=tuple(_width(layer, s, "state") for s in flat),
        output_state=at,
        output_width=0 if at is not None else _width(layer, output, "cell output"),
        activated=tuple(activated),
        bias_width=bias_width,
        recorded_states=1 if bias_width else len(flat),
    )


def _probed_step(
    plan: LeafPlan, feed: Feed, original: Any, inputs: Any, states: Any, kwargs: dict
) -> tuple[Any, Any]:
    """One step of a leaf cell with its probes added."""
    pieces = [feed.pieces.pop(0) for _ in plan.probe_widths]
    feed.inner = {
        call: (state, piece)
        for (call, state), piece in zip(plan.activated, plan.inner(pieces), strict=True)
    }
    feed.probed = {}
    if plan.bias_width:
        with preactivations.probed_bias(plan.cell, pieces[-1]):
            output, new_states = original(inputs, states, **kwargs)
    else:
        output, new_states = original(inputs, states, **kwargs)
    flat = tree.flatten(new_states)
    at = _index_of(output, flat)
    flat = [feed.probed.get(j, s) for j, s in enumerate(flat)]
    probed = [
        s + ops.cast(p, s.dtype) for s, p in zip(flat, pieces[: len(flat)], strict=True)
    ]
    if at is not None:
        output = probed[at]
    else:
        output = output + ops.cast(pieces[len(flat)], output.dtype)
    return output, tree.pack_sequence_as(new_states, probed)


def leaf_wrapper(
    layer: keras.layers.RNN, cell: Any, index: int, original: Any, feed: Feed
) -> Any:
    @functools.wraps(original)
    def call(inputs: Any, states: Any, **kwargs: Any) -> Any:
        if feed.mode is None:
            return original(inputs, states, **kwargs)
        feed.leaf, feed.activations = index, []
        try:
            if feed.mode == "probe":
                plan = feed.plans[index]
                if feed.record:
                    entering = tree.flatten(states)[: plan.recorded_states]
                    feed.recorded.extend(([inputs] if index else []) + entering)
                return _probed_step(plan, feed, original, inputs, states, kwargs)
            output, new_states = original(inputs, states, **kwargs)
            flat = tree.flatten(new_states)
            try:
                plan = _plan(layer, cell, inputs, output, flat, feed)
                feed.plans.append(plan)
            except CaptureError as error:  # raised by `_learn_plan`, unworded
                feed.error = error
            return output, new_states
        finally:
            feed.leaf = None

    return call


def activation_wrapper(index: int, original: Any, feed: Feed) -> Any:
    """Lets the leaf cell `index` add an inner probe to an activation's input."""

    @functools.wraps(original)
    def activation(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        if feed.leaf != index:
            return original(tensor, *args, **kwargs)
        call = len(feed.activations)
        feed.activations.append(tensor)
        if feed.mode == "probe" and call in feed.inner:
            state, piece = feed.inner[call]
            tensor = tensor + ops.cast(piece, tensor.dtype)
            feed.probed[state] = tensor
        return original(tensor, *args, **kwargs)

    return activation


def _pop(step_list: Any, dtype: Any, shape: list) -> tuple:
    """(the rest of the list, its last item, of this dtype and static shape)."""
    import tensorflow as tf

    rest, item = tf.raw_ops.TensorListPopBack(
        input_handle=step_list,
        element_shape=tf.constant(-1),
        element_dtype=tf.as_dtype(dtype),
    )
    item.set_shape(shape)
    return rest, item


def _masked(
    feed: Feed,
    mask: Any,
    old: list,
    new: list,
    after: list,
    output: Any,
    previous: Any,
    zero_output: bool,
) -> tuple[list, Any]:
    """One step masked as Keras masks it, probes added to what is carried."""
    keep = mask[:, None]
    states = [
        ops.where(keep, n, o + ops.cast(p, o.dtype))
        for n, o, p in zip(new, old, after, strict=True)
    ]
    if zero_output:
        carried = ops.zeros_like(output)
    else:
        carried = previous
        at = _output_state(feed.plans)
        if at is not None:
            carried = previous + ops.cast(after[at], previous.dtype)
    return states, ops.where(keep, output, carried)


def _output_state(plans: Sequence[LeafPlan]) -> int | None:
    """Flat index of the state that the layer's output (the last leaf's) is."""
    last = plans[-1]
    if last.output_state is None:
        return None
    count = sum(len(p.state_widths) for p in plans)
    return count - len(last.state_widths) + last.output_state


def _after_probes(plans: Sequence[LeafPlan], pieces: list) -> list:
    """Of one step's probes, those added to each flat state as passed on."""
    after, start = [], 0
    for plan in plans:
        after += pieces[start : start + len(plan.state_widths)]
        start += len(plan.probe_widths)
    return after


class _StandIn:
    """Stands in for `layer.cell` during the loop: calling it runs `step`;
    its attributes are the cell's. (It is not a Layer, so Keras passes the
    extra states through without converting them.)"""

    def __init__(self, cell: keras.layers.Layer, step: Any) -> None:
        self._cell, self._step = cell, step

    def __call__(self, inputs: Any, states: Any, **kwargs: Any) -> Any:
        return self._step(inputs, states)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cell, name)


def _root_step(layer: keras.layers.RNN, feed: Feed, training: Any) -> Any:
    """The loop's step: pops this step's probes (and mask), calls the cell,
    masks the step and returns the extra states."""
    cell = layer.cell

    def step(inputs: Any, states: Any) -> Any:
        feed.calls += 1
        states = list(states)
        cut = len(states) - feed.extra
        own, carried = states[:cut], states[cut:]
        widths = [w for plan in feed.plans for w in plan.probe_widths]
        batch = inputs.shape[0]
        extra = []
        if feed.python_loop:
            probe = feed.slab
        else:
            probe_list, probe = _pop(carried[0], inputs.dtype, [batch, sum(widths)])
            extra.append(probe_list)
        pieces = split(probe, widths)
        feed.pieces, feed.recorded = list(pieces), []
        output, new_states = cell(inputs, own, training=training)
        flat = tree.flatten(new_states)
        if feed.masked:
            if feed.python_loop:
                mask, previous = feed.step_mask, feed.previous
            else:
                mask_list, mask = _pop(carried[1], "bool", [batch])
                previous = carried[2]
            flat, output = _masked(
                feed,
                mask,
                tree.flatten(own),
                flat,
                _after_probes(feed.plans, pieces),
                output,
                previous,
                layer.zero_output_for_mask,
            )
            if feed.python_loop:
                feed.previous = output
            else:
                extra += [mask_list, output]
        if feed.record:
            recorded = ops.stop_gradient(ops.concatenate(feed.recorded, axis=-1))
            if feed.python_loop:
                feed.step_record = recorded
            else:
                output = (output, recorded)
        return output, flat + extra

    return step


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


def split(tensor: Any, widths: Sequence[int]) -> list:
    """`tensor` cut along its last axis into pieces of these widths."""
    pieces, start = [], 0
    for width in widths:
        pieces.append(tensor[..., start : start + width])
        start += width
    return pieces


def _first_mask(mask: Any) -> Any:
    leaves = [m for m in tree.flatten(mask) if m is not None]
    if not leaves:
        return None
    mask = ops.cast(leaves[0], "bool")
    return ops.squeeze(mask, -1) if len(mask.shape) == 3 else mask


def _time_first(tensor: Any) -> Any:
    return ops.transpose(tensor, (1, 0, *range(2, len(tensor.shape))))


def _scan(
    layer: keras.layers.RNN,
    feed: Feed,
    step: Any,
    sequences: Any,
    initial_state: list,
    probes: Any,
    mask: Any,
) -> tuple[Any, Any, list, Any]:
    """Keras's loop as a `keras.ops.scan`: (last output, outputs, final
    states, the records (batch, timesteps, width) in loop order or None)."""
    returned = feed.plans[-1].returned_width
    previous = ops.zeros((sequences.shape[0], returned), sequences.dtype)
    xs = {"x": _time_first(sequences), "probe": _time_first(probes)}
    if mask is not None:
        xs["mask"] = ops.transpose(mask, (1, 0))

    def body(carry: tuple, x: dict) -> tuple:
        states, feed.previous = carry
        feed.slab, feed.step_mask = x["probe"], x.get("mask")
        output, flat = step(x["x"], states)
        carry = (tree.pack_sequence_as(states, flat), feed.previous)
        return carry, (output, feed.step_record if feed.record else output)

    (final, _), (outputs, recorded) = ops.scan(
        body, (initial_state, previous), xs, reverse=layer.go_backwards
    )
    if layer.go_backwards:  # Keras returns the outputs in loop order
        outputs, recorded = ops.flip(outputs, axis=0), ops.flip(recorded, axis=0)
    recorded = _time_first(recorded) if feed.record else None
    return outputs[-1], _time_first(outputs), tree.flatten(final), recorded


def _step_list(layer: keras.layers.RNN, tensor: Any) -> Any:
    """A TensorList of the steps of `tensor` (batch, timesteps, ...) whose last
    item is the loop's first step (the first one popped)."""
    import tensorflow as tf

    steps = tf.transpose(tensor, [1, 0, *range(2, tensor.shape.rank)])
    steps = steps if layer.go_backwards else tf.reverse(steps, [0])
    return tf.raw_ops.TensorListFromTensor(tensor=steps, element_shape=tf.constant(-1))


def split_recorded(
    go_backwards: bool, plans: list[LeafPlan], recorded: Any
) -> tuple[list, list[list]]:
    """(per leaf its recorded input, None for the first leaf; per leaf its
    recorded states) from the records (batch, timesteps, width) in loop order."""
    widths = []
    for i, leaf in enumerate(plans):
        entering = leaf.state_widths[: leaf.recorded_states]
        widths += ([leaf.input_width] if i else []) + list(entering)
    if go_backwards:
        recorded = ops.flip(recorded, axis=1)
    parts = split(recorded, widths)
    inputs, states = [], []
    for i, leaf in enumerate(plans):
        inputs.append(parts.pop(0) if i else None)
        states.append([parts.pop(0) for _ in range(leaf.recorded_states)])
    return inputs, states


def _learn_plan(
    layer: keras.layers.RNN,
    feed: Feed,
    sequences: Any,
    initial_state: Any,
    training: Any,
) -> None:
    """Runs the cell once on the first step to learn each leaf's plan (the
    run is discarded)."""
    _width(layer, sequences, "input sequence", rank=3)
    for state in tree.flatten(initial_state):
        _width(layer, state, "state")
    feed.mode, feed.plans, feed.error = "plan", [], None
    try:
        layer.cell(sequences[:, 0], tuple(initial_state), training=training)
    finally:
        feed.mode = None
    if feed.error is not None:
        raise feed.error


def _not_called(layer: keras.layers.RNN) -> CaptureError:
    return CaptureError(
        f"Layer '{layer.name}' ({type(layer).__name__}) did not call its cell "
        "in its recurrent loop (a fused kernel?), so its states cannot be "
        "probed. Request only 'gradients' or 'activations' for it, or leave "
        "it out of `layers=`."
    )


def _zeros(sequences: Any, width: int, python_loop: bool) -> Any:
    """Zeros (batch, timesteps, width) like `sequences` (dynamic sizes on TF)."""
    if python_loop:
        return ops.zeros((*sequences.shape[:2], width), sequences.dtype)
    import tensorflow as tf

    shape = tf.concat([tf.shape(sequences)[:2], [width]], axis=0)
    return tf.zeros(shape, sequences.dtype)


def _loop_wrapper(
    layer: keras.layers.RNN, new_probe: NewProbe, feed: Feed, records: list
) -> Any:
    """The instrumented `inner_loop`. A layer that cannot be probed runs
    unprobed and leaves a CaptureError in `records`, raised after the
    forward pass (an error raised inside Keras's call would be reworded)."""
    own = layer.inner_loop
    loop = own
    fused = (keras.layers.LSTM.inner_loop, keras.layers.GRU.inner_loop)
    if getattr(own, "__func__", None) in fused:
        loop = functools.partial(keras.layers.RNN.inner_loop, layer)

    def inner_loop(
        sequences: Any,
        initial_state: Any,
        mask: Any = None,
        training: Any = False,
    ) -> Any:
        mask = _first_mask(mask)
        try:
            _learn_plan(layer, feed, sequences, initial_state, training)
        except CaptureError as error:
            records.append(error)
            return own(sequences, initial_state, mask=mask, training=training)
        feed.masked = mask is not None
        width = sum(w for plan in feed.plans for w in plan.probe_widths)
        probes = new_probe(_zeros(sequences, width, feed.python_loop))
        feed.mode, feed.calls = "probe", 0
        extra: list = []
        try:
            step = _root_step(layer, feed, training)
            if feed.python_loop:
                last, outputs, final, recorded = _scan(
                    layer, feed, step, sequences, list(initial_state), probes, mask
                )
            else:
                extra = _carried_lists(layer, feed, sequences, probes, mask)
                cell = _StandIn(layer.cell, step)
                with _attributes(layer, return_sequences=True, unroll=False, cell=cell):
                    last, outputs, final = loop(
                        sequences,
                        list(initial_state) + extra,
                        mask=None,
                        training=training,
                    )
        finally:
            feed.mode = None
        final = list(final)[: len(final) - len(extra)]
        if not feed.calls:
            records.append(_not_called(layer))
            return last, outputs, final
        inputs = states = None
        if feed.record:
            if not feed.python_loop:
                (last, _), (outputs, recorded) = last, outputs
            inputs, states = split_recorded(layer.go_backwards, feed.plans, recorded)
            inputs[0] = sequences
        records.append(
            StateRecord(
                layer=layer,
                leaves=tuple(feed.plans),
                probes=probes,
                inputs=inputs,
                states=states,
                mask=mask,
            )
        )
        return last, outputs, final

    return inner_loop


def _carried_lists(
    layer: keras.layers.RNN, feed: Feed, sequences: Any, probes: Any, mask: Any
) -> list:
    """TensorFlow: the states to carry beyond the cell's own (the probe list,
    and the mask list and previous output of a masked layer)."""
    import tensorflow as tf

    extra = [_step_list(layer, probes)]
    if feed.masked:
        previous = [tf.shape(sequences)[0], feed.plans[-1].returned_width]
        extra += [_step_list(layer, mask), tf.zeros(previous, sequences.dtype)]
    return extra


@contextlib.contextmanager
def attach(
    new_probe: NewProbe, layers: Sequence[keras.layers.RNN], record: bool
) -> Iterator[dict[int, list]]:
    """Instruments RNN layers for the duration of the block.

    Args:
        new_probe: Makes the probes (`probes.NewProbe`).
        layers: The RNN layers (Bidirectional halves, not the wrapper).
        record: Whether to record each leaf's inputs and incoming states.

    Yields:
        A dict from `id(layer)` to the records of that layer's calls, filled
        while the model runs inside the block: a `StateRecord` per call, or
        the CaptureError that says why the call could not be probed.
    """
    if layers:
        versions.check(
            "keras",
            "tb-rnngrad's state gradients wrap Keras's undocumented "
            "`RNN.inner_loop` and its cells' `call` and `activation`",
        )
    records: dict[int, list] = {}
    saved: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, wrapper: Any) -> None:
        saved.append((owner, name, vars(owner).get(name, _MISSING)))
        object.__setattr__(owner, name, wrapper)

    try:
        for layer in layers:
            feed = Feed(record, python_loop=keras.backend.backend() != "tensorflow")
            records[id(layer)] = []
            for index, leaf in enumerate(leaf_cells(layer.cell)):
                wrap(leaf, "call", leaf_wrapper(layer, leaf, index, leaf.call, feed))
                if callable(getattr(leaf, "activation", None)):
                    activation = activation_wrapper(index, leaf.activation, feed)
                    wrap(leaf, "activation", activation)
            wrap(
                layer,
                "inner_loop",
                _loop_wrapper(layer, new_probe, feed, records[id(layer)]),
            )
        yield records
    finally:
        for owner, name, own in reversed(saved):
            if own is _MISSING:
                object.__delattr__(owner, name)
            else:
                object.__setattr__(owner, name, own)
