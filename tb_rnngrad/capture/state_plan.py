"""What the state probes of one RNN layer are, and what one call of it left.

`LeafPlan` says how one leaf cell is probed and how the gradient of its probes
splits into total state gradients and the cotangents of its weight terms;
`StateRecord` holds what one call of an instrumented layer (or Bidirectional
half) left for the backward pass. `state_probes` makes them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
from keras import ops

from tb_rnngrad.capture import kerases


@dataclasses.dataclass(frozen=True)
class LeafPlan:
    """How one leaf cell is probed.

    Its probes, in this order: one per state (added to the state it passes
    on), one on its output if that is not a state, one per `activated` state
    (added before the activation reads it), and with `bias_width` one on its
    bias (`preactivations`).

    Attributes:
        cell: The leaf cell.
        input_width: Width of its input at one step.
        state_widths: Width of each of its flat states.
        output_state: Index of the state that its output is, or None.
        output_width: Width of its output when that is not a state, else 0.
        activated: `(call, state)` pairs: the cell's `activation` is applied,
            at that call of the step, to that new state (an LSTM's h_t =
            o_t * tanh(c_t)).
        bias_width: Width of the bias probe, or 0: then its weight terms are
            vector-Jacobian products of recorded steps.
        recorded_states: How many of its states entering each step are
            recorded (h_{t-1} only with a bias probe).
    """

    cell: keras.layers.Layer
    input_width: int
    state_widths: tuple[int, ...]
    output_state: int | None
    output_width: int
    activated: tuple[tuple[int, int], ...]
    bias_width: int
    recorded_states: int

    @property
    def probe_widths(self) -> tuple[int, ...]:
        """The width of each of its probes."""
        output = (self.output_width,) if self.output_width else ()
        inner = tuple(self.state_widths[j] for _, j in self.activated)
        bias = (self.bias_width,) if self.bias_width else ()
        return self.state_widths + output + inner + bias

    @property
    def returned_width(self) -> int:
        """Width of its output."""
        if self.output_state is None:
            return self.output_width
        return self.state_widths[self.output_state]

    def cotangents(self, pieces: list[Any], mask: Any | None) -> list[Any]:
        """From the gradients of its probes (batch, timesteps, width): those
        of what each step returns (each state, then a separate output), zero
        at masked steps. The cotangents of the weight terms."""
        returned = pieces[: len(self.state_widths) + bool(self.output_width)]
        return [_where(mask, g, ops.zeros_like(g)) for g in returned]

    def totals(self, pieces: list[Any], mask: Any | None) -> list[Any]:
        """From the gradients of its probes: the total d(loss)/d(state) of each
        state. An activated state's is its inner probe's at real steps (the
        inner probe of a masked step is discarded with the step)."""
        totals = list(pieces[: len(self.state_widths)])
        for (_, j), gradient in zip(self.activated, self.inner(pieces), strict=True):
            totals[j] = _where(mask, gradient, totals[j])
        return totals

    def inner(self, pieces: list) -> list:
        """Of its probes (or their gradients), the inner probes."""
        start = len(self.state_widths) + bool(self.output_width)
        return pieces[start : start + len(self.activated)]

    def bias_gradient(self, pieces: list[Any]) -> Any:
        """From the gradients of its probes: that of the bias probe, the
        pre-activation gradient dz (zero at masked steps, which are discarded)."""
        return pieces[-1]


def _where(mask: Any | None, real: Any, masked: Any) -> Any:
    return real if mask is None else ops.where(mask[..., None], real, masked)


@dataclasses.dataclass(frozen=True)
class StateRecord:
    """What one call of an instrumented RNN layer (or Bidirectional half) left.

    Attributes:
        layer: The RNN layer, or the free cell.
        leaves: The plan of each leaf cell, in call order.
        probes: The watched zero probes (batch, timesteps, width) in input
            time: each leaf's probes, leaf after leaf.
        inputs: Per leaf, its input at every step (batch, timesteps, width),
            or None without recording.
        states: Per leaf, its first `recorded_states` flat states entering
            every step, each (batch, timesteps, units), or None without
            recording.
        mask: The bool (batch, timesteps) mask, or None.
    """

    layer: keras.layers.Layer
    leaves: tuple[LeafPlan, ...]
    probes: Any
    inputs: list[Any] | None
    states: list[list[Any]] | None
    mask: Any | None

    def leaf_gradients(self, gradient: Any) -> list[list[Any]]:
        """`gradient` (of `probes`) split per leaf and per probe."""
        widths = [w for leaf in self.leaves for w in leaf.probe_widths]
        ends = [sum(widths[: i + 1]) for i in range(len(widths))]
        pieces = [gradient[..., e - w : e] for w, e in zip(widths, ends, strict=True)]
        return [[pieces.pop(0) for _ in leaf.probe_widths] for leaf in self.leaves]


def leaf_cells(cell: Any) -> list[Any]:
    """The cells that hold states: `cell`, or those of a StackedRNNCells."""
    if isinstance(cell, kerases.types("StackedRNNCells")):
        return [leaf for inner in cell.cells for leaf in leaf_cells(inner)]
    return [cell]


def rnn_parts(layer: keras.layers.Layer) -> list[tuple[str | None, keras.layers.Layer]]:
    """`[(part, rnn_layer)]`: the layer (an RNN layer or a free cell), or a
    Bidirectional's two halves."""
    if isinstance(layer, kerases.types("Bidirectional")):
        return [("forward", layer.forward_layer), ("backward", layer.backward_layer)]
    return [(None, layer)]


def root_cell(layer: keras.layers.Layer) -> Any:
    """The cell an RNN layer runs, or `layer` itself for a free cell."""
    return layer.cell if isinstance(layer, kerases.types("RNN")) else layer
