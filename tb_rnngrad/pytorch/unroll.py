"""One layer and direction of nn.RNN, nn.LSTM or nn.GRU, unrolled step by step.

The fused kernels expose no per-timestep terms, so the capture re-runs a
recurrent layer as this explicit loop over timesteps with the module's own
parameters and the same math as torch (PyTorch's gate order, both bias
vectors, LSTM projections), plus zero probes:

- `state[:, t]` is added to h_t and `cell[:, t]` to c_t before they are used
  (by the output, the next step and, for c_t, h_t itself), so d(loss)/d(probe)
  is the total d(loss)/d(h_t) (d(loss)/d(c_t)) through every path;
- `input_gates` is added to W_ih x_t + b_ih and `recurrent_gates[:, t]` to
  W_hh h_{t-1} + b_hh, so their gradients are each step's gate
  pre-activation gradients, from which `weight_terms` builds each
  timestep's term of the weight gradients.

The probes are zero, so values are those of the module's own forward pass.
Every sequence is batch-first and in input time, also for the backward
direction. A step whose `mask` is False (padding of a PackedSequence) carries
the state unchanged and outputs zeros, as torch's packed kernels do.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor
from torch.nn import functional

#: Gate names per `nn.RNNBase.mode`, in PyTorch's row order of the weights.
#: LSTM's cell candidate, which PyTorch calls "g", is named "c" as in Keras.
GATES = {
    "LSTM": ("i", "f", "c", "o"),
    "GRU": ("r", "z", "n"),
    "RNN_TANH": ("h",),
    "RNN_RELU": ("h",),
}


@dataclasses.dataclass(frozen=True)
class Weights:
    """The parameters of one layer and direction (PyTorch's names, no suffix)."""

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None = None
    bias_hh: Tensor | None = None
    weight_hr: Tensor | None = None


@dataclasses.dataclass(frozen=True)
class Probes:
    """Zero tensors that require grad, added into the unrolled computation."""

    state: Tensor  # (batch, timesteps, h channels), onto h_t
    cell: Tensor | None  # (batch, timesteps, hidden), onto c_t (LSTM)
    input_gates: Tensor  # (batch, timesteps, gates * hidden)
    recurrent_gates: Tensor  # (batch, timesteps, gates * hidden)

    def tensors(self) -> list[Tensor]:
        """The probes whose gradients the capture asks for."""
        found = [self.state, self.cell, self.input_gates, self.recurrent_gates]
        return [probe for probe in found if probe is not None]


@dataclasses.dataclass(frozen=True)
class Trace:
    """What one unrolled direction computed, in input time.

    Attributes:
        output: The direction's output sequence h_t (zero at masked steps).
        h_n, c_n: The final states (c_n None but for an LSTM).
        inputs: The layer's input x_t, (batch, timesteps, input channels).
        previous: h_{t-1} as step t used it, (batch, timesteps, h channels).
        unprojected: For an LSTM with proj_size, o_t * tanh(c_t) before the
            projection, else None.
        mask: (batch, timesteps) bool, True for real steps, or None.
        probes: The zero probes added into the computation.
    """

    output: Tensor
    h_n: Tensor
    c_n: Tensor | None
    inputs: Tensor
    previous: Tensor
    unprojected: Tensor | None
    mask: Tensor | None
    probes: Probes


def unroll(
    mode: str,
    weights: Weights,
    inputs: Tensor,
    h0: Tensor,
    c0: Tensor | None = None,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> Trace:
    """Runs one direction of one recurrent layer step by step, with probes.

    Args:
        mode: `nn.RNNBase.mode`: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
        weights: The direction's parameters.
        inputs: (batch, timesteps, input channels), batch-first.
        h0: Initial hidden state (batch, h channels).
        c0: Initial cell state (batch, hidden) for an LSTM.
        mask: (batch, timesteps) bool, True for real steps, or None.
        reverse: Process timesteps from last to first (backward direction).

    Returns:
        The `Trace`, every sequence in input time.
    """
    batch, steps, _ = inputs.shape
    gate_width = weights.weight_hh.shape[0]
    zeros = dict(dtype=inputs.dtype, device=inputs.device, requires_grad=True)
    probes = Probes(
        state=torch.zeros(batch, steps, h0.shape[-1], **zeros),
        cell=None if c0 is None else torch.zeros(batch, steps, c0.shape[-1], **zeros),
        input_gates=torch.zeros(batch, steps, gate_width, **zeros),
        recurrent_gates=torch.zeros(batch, steps, gate_width, **zeros),
    )
    input_gates = functional.linear(inputs, weights.weight_ih, weights.bias_ih)
    input_gates = input_gates + probes.input_gates
    h, c = h0, c0
    outputs, previous, unprojected = [None] * steps, [None] * steps, [None] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        keep = None if mask is None else mask[:, t, None]
        recurrent = functional.linear(h, weights.weight_hh, weights.bias_hh)
        recurrent = recurrent + probes.recurrent_gates[:, t]
        previous[t] = h
        if mode == "LSTM":
            h_new, c, unprojected[t] = _lstm_step(
                input_gates[:, t], recurrent, c, keep, probes.cell[:, t], weights
            )
        elif mode == "GRU":
            h_new = _gru_step(input_gates[:, t], recurrent, h)
        else:
            h_new = _rnn_step(input_gates[:, t], recurrent, mode)
        h = _where(keep, h_new, h) + probes.state[:, t]
        outputs[t] = h if keep is None else h * keep
    return Trace(
        output=torch.stack(outputs, 1),
        h_n=h,
        c_n=c,
        inputs=inputs,
        previous=torch.stack(previous, 1),
        unprojected=None if unprojected[0] is None else torch.stack(unprojected, 1),
        mask=mask,
        probes=probes,
    )


def _where(keep: Tensor | None, new: Tensor, old: Tensor) -> Tensor:
    return new if keep is None else torch.where(keep, new, old)


def _lstm_step(
    input_gates: Tensor,
    recurrent: Tensor,
    c: Tensor,
    keep: Tensor | None,
    cell_probe: Tensor,
    weights: Weights,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """(h_t before the state probe, c_t with its probe, o_t * tanh(c_t) when
    projected)."""
    i, f, g, o = (input_gates + recurrent).chunk(4, -1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    c = _where(keep, c_new, c) + cell_probe
    h = torch.sigmoid(o) * torch.tanh(c)
    if weights.weight_hr is None:
        return h, c, None
    return functional.linear(h, weights.weight_hr), c, h


def _gru_step(input_gates: Tensor, recurrent: Tensor, h: Tensor) -> Tensor:
    i_r, i_z, i_n = input_gates.chunk(3, -1)
    h_r, h_z, h_n = recurrent.chunk(3, -1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def _rnn_step(input_gates: Tensor, recurrent: Tensor, mode: str) -> Tensor:
    total = input_gates + recurrent
    return torch.tanh(total) if mode == "RNN_TANH" else torch.relu(total)
