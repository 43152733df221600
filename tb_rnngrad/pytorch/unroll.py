"""One layer and direction of nn.RNN, nn.LSTM or nn.GRU, unrolled step by step.

The fused kernels expose no per-timestep terms, so the capture re-runs a
recurrent layer as this explicit loop over timesteps with the module's own
parameters and the same math as torch (PyTorch's gate order, both bias
vectors, LSTM projections), plus zero probes:

- `state[:, t]` is added to h_t and `cell[:, t]` to c_t before they are used
  (by the output, the next step and, for c_t, h_t itself), so d(loss)/d(probe)
  is the total d(loss)/d(h_t) (d(loss)/d(c_t)) through every path;
- `input_gates` is added to W_ih x_t + b_ih and, for a GRU,
  `recurrent_gates[:, t]` to W_hh h_{t-1} + b_hh, so their gradients are each
  step's gate pre-activation gradients, from which `timestep_terms` builds
  each timestep's term of the weight gradients. (RNN and LSTM add the two
  before any nonlinearity, so both have the input gates' gradient.)

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
    recurrent_gates: Tensor | None  # the same, GRU only

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
        recurrent_gates=(
            torch.zeros(batch, steps, gate_width, **zeros) if mode == "GRU" else None
        ),
    )
    input_gates = functional.linear(inputs, weights.weight_ih, weights.bias_ih)
    recurrent_bias = weights.bias_hh
    if mode != "GRU" and recurrent_bias is not None:
        # RNN and LSTM add both biases before any nonlinearity: add b_hh once.
        input_gates, recurrent_bias = input_gates + recurrent_bias, None
    recurrent_weight = weights.weight_hh.t()
    # One unbind per sequence, not a slice per step: each slice's backward
    # would build a full-size gradient, O(timesteps^2) work in all.
    input_gates = (input_gates + probes.input_gates).unbind(1)
    state_probes = probes.state.unbind(1)
    cell_probes = None if probes.cell is None else probes.cell.unbind(1)
    gate_probes = None
    if probes.recurrent_gates is not None:
        gate_probes = probes.recurrent_gates.unbind(1)
    masks = [None] * steps if mask is None else mask[..., None].unbind(1)
    h, c = h0, c0
    outputs, previous, unprojected = [None] * steps, [None] * steps, [None] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        keep = masks[t]
        previous[t] = h
        if mode == "GRU":
            recurrent = functional.linear(h, weights.weight_hh, recurrent_bias)
            h_new = _gru_step(input_gates[t], recurrent + gate_probes[t], h)
        else:
            gates = torch.addmm(input_gates[t], h, recurrent_weight)
            if mode == "LSTM":
                h_new, c, unprojected[t] = _lstm_step(
                    gates, c, keep, cell_probes[t], weights
                )
            else:
                h_new = torch.tanh(gates) if mode == "RNN_TANH" else torch.relu(gates)
        h = _where(keep, h_new, h) + state_probes[t]
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
    gates: Tensor,
    c: Tensor,
    keep: Tensor | None,
    cell_probe: Tensor,
    weights: Weights,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """(h_t before the state probe, c_t with its probe, o_t * tanh(c_t) when
    projected)."""
    width = gates.shape[-1] // 4
    sigmoid = torch.sigmoid(gates)  # i, f and o (g's column block unused)
    i, f, o = sigmoid[:, :width], sigmoid[:, width : 2 * width], sigmoid[:, 3 * width :]
    c_new = f * c + i * torch.tanh(gates[:, 2 * width : 3 * width])
    c = _where(keep, c_new, c) + cell_probe
    h = o * torch.tanh(c)
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
