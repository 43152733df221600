"""State probes of a free cell: one the model calls itself, a step per call.

A cell in a Python loop (`out, states = cell(x_t, states)` in a subclassed
model's `call`) has no RNN loop to instrument. For the capture pass its
`call` is wrapped on the instance; each call is one timestep of the
recurrence it belongs to:

1. at its first call in the pass, the leaf cells (the cell, or those of a
   StackedRNNCells) run once, their result discarded, to learn how each is
   probed (`state_plan.LeafPlan`, as `state_probes` learns it in a loop's
   first step); later calls on inputs and states of the same widths reuse it;
2. they run again with one zero probe (batch, 1, width) split among their
   new states (and, for an LSTM, c_t before the activation, and the bias
   probe of Keras's own cells), by the same leaf wrappers as in a loop.

Each call leaves a `StateRecord` of one timestep; the calls of one chain are
stacked along time afterwards (`unrolled`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import keras
from keras import ops, tree

from tb_rnngrad import versions
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.probes import NewProbe
from tb_rnngrad.capture.state_plan import StateRecord, leaf_cells
from tb_rnngrad.capture.state_probes import (
    Feed,
    activation_wrapper,
    leaf_wrapper,
    split,
    split_recorded,
)

_MISSING = object()


def _known(feed: Feed, inputs: Any, states: Any) -> bool:
    """Whether the plans learned at an earlier call of this pass fit a call
    on these inputs and states (a single cell: same widths)."""
    if len(feed.plans) != 1:
        return False
    plan, flat = feed.plans[0], tree.flatten(states)
    widths = tuple(getattr(s, "shape", (None,))[-1] for s in flat)
    return inputs.shape[-1] == plan.input_width and widths == plan.state_widths


def _learn(feed: Feed, original: Any, inputs: Any, states: Any, kwargs: dict) -> None:
    """Runs the cell once (discarded) to learn each leaf's plan, unless an
    earlier call of this pass learned it."""
    if _known(feed, inputs, states):
        return
    feed.mode, feed.plans, feed.error = "plan", [], None
    try:
        original(inputs, states, **kwargs)
    finally:
        feed.mode = None
    if feed.error is not None:
        raise feed.error


def _probe(new_probe: NewProbe, inputs: Any, width: int) -> Any:
    """A watched zero probe (batch, 1, width) for one call."""
    batch = ops.shape(inputs)[0]
    return new_probe(ops.zeros((batch, 1, width), inputs.dtype))


def _cell_wrapper(
    cell: keras.layers.Layer,
    original: Any,
    new_probe: NewProbe,
    feed: Feed,
    records: list,
) -> Any:
    @functools.wraps(original)
    def call(inputs: Any, states: Any, *args: Any, **kwargs: Any) -> Any:
        if args:  # training passed positionally
            kwargs["training"] = args[0]
        try:
            _learn(feed, original, inputs, states, kwargs)
        except CaptureError as error:  # raised after the pass, unworded
            records.append(error)
            return original(inputs, states, **kwargs)
        widths = [w for plan in feed.plans for w in plan.probe_widths]
        probe = _probe(new_probe, inputs, sum(widths))
        feed.pieces, feed.recorded = split(probe[:, 0], widths), []
        feed.mode = "probe"
        try:
            output, new_states = original(inputs, states, **kwargs)
        finally:
            feed.mode = None
        recorded_inputs = recorded_states = None
        if feed.record:
            recorded = ops.stop_gradient(ops.concatenate(feed.recorded, axis=-1))
            recorded_inputs, recorded_states = split_recorded(
                False, feed.plans, recorded[:, None]
            )
            recorded_inputs[0] = ops.stop_gradient(inputs)[:, None]
        records.append(
            StateRecord(
                layer=cell,
                leaves=tuple(feed.plans),
                probes=probe,
                inputs=recorded_inputs,
                states=recorded_states,
                mask=None,
            )
        )
        return output, new_states

    return call


@contextlib.contextmanager
def attach(
    new_probe: NewProbe, cells: Sequence[keras.layers.Layer], record: bool
) -> Iterator[dict[int, list]]:
    """Instruments free cells for the duration of the block.

    Args:
        new_probe: Makes the probes (`probes.NewProbe`).
        cells: The free cells.
        record: Whether to record each leaf's inputs and incoming states.

    Yields:
        A dict from `id(cell)` to the records of that cell's calls, filled
        while the model runs inside the block: a `StateRecord` of one
        timestep per call, or the CaptureError that says why the call could
        not be probed.
    """
    if cells:
        versions.check(
            "keras",
            "tb-rnngrad's state gradients of free cells wrap their `call` and "
            "`activation`, relying on how Keras's cells call them",
        )
    records: dict[int, list] = {}
    saved: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, wrapper: Any) -> None:
        saved.append((owner, name, vars(owner).get(name, _MISSING)))
        object.__setattr__(owner, name, wrapper)

    try:
        for cell in cells:
            feed = Feed(record, python_loop=True)
            records[id(cell)] = []
            for index, leaf in enumerate(leaf_cells(cell)):
                wrap(leaf, "call", leaf_wrapper(cell, leaf, index, leaf.call, feed))
                if callable(getattr(leaf, "activation", None)):
                    activation = activation_wrapper(index, leaf.activation, feed)
                    wrap(leaf, "activation", activation)
            wrapper = _cell_wrapper(cell, cell.call, new_probe, feed, records[id(cell)])
            wrap(cell, "call", wrapper)
        yield records
    finally:
        for owner, name, own in reversed(saved):
            if own is _MISSING:
                object.__delattr__(owner, name)
            else:
                object.__setattr__(owner, name, own)
