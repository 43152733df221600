"""Per-timestep saturation of the sigmoid gates of nn.LSTM, nn.GRU and their
cells (the "gate_activations" kind).

The state pass already knows every step's input x_t and h_{t-1} (`Trace`),
so each gate's value comes from one product over all timesteps with torch's
math, g_t = sigmoid(W_i x_t + b_i + W_h h_{t-1} + b_h), and is reduced to
the fraction of units near 0 and near 1 (`gate_saturation`) per timestep,
over the batch's real samples. Gates in PyTorch's row order: LSTM i, f, o
(rows 0, 1, 3; the candidate g is tanh), GRU r, z (rows 0, 1; n is tanh).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tb_rnngrad.format.gate_saturation import NEAR_0, NEAR_1
from tb_rnngrad.pytorch.bptt import GATES, Trace, Weights
from tb_rnngrad.pytorch.cell_pass import runs_torch_math
from tb_rnngrad.pytorch.modules import is_cell, mode

#: Per `nn.RNNBase.mode`, the sigmoid gates and their row blocks.
_SIGMOID_GATES = {
    "LSTM": (("i", 0), ("f", 1), ("o", 3)),
    "GRU": (("r", 0), ("z", 1)),
}


def gate_names(module: nn.Module) -> tuple[str, ...]:
    """The sigmoid gates of an nn.LSTM, nn.GRU or their cell; () for nn.RNN,
    nn.RNNCell and a cell that overrides torch's forward (its gates cannot
    be recomputed with torch's math)."""
    if is_cell(module) and not runs_torch_math(module):
        return ()
    return tuple(name for name, _ in _SIGMOID_GATES.get(mode(module), ()))


def no_gates_note(key: str, module: nn.Module) -> str:
    """The note on a recurrent module without gate activations, or ""."""
    if gate_names(module):
        return ""
    if mode(module) in _SIGMOID_GATES:
        why = "overrides forward, so its gates cannot be recomputed with torch's math"
    else:
        why = "has no sigmoid gates (only nn.LSTM, nn.GRU and their cells have)"
    return (
        f"Module '{key}' ({type(module).__name__}) {why}: no gate activations "
        "for it; its activations and state gradients show saturation instead."
    )


@torch.no_grad()
def fractions(mode: str, trace: Trace, weights: Weights) -> dict[str, Tensor]:
    """`{"near_0", "near_1": (timesteps, gates)}` of one layer and direction.

    Args:
        mode: "LSTM" or "GRU".
        trace: Its inputs and h_{t-1} at every step, and its mask.
        weights: Its parameters.

    Returns:
        Per timestep and gate, the fraction of (real sample, unit) pairs whose
        gate value is below `NEAR_0` (above `NEAR_1`), float32; 0 at a
        timestep where every sample is masked.
    """
    rows = [row for _, row in _SIGMOID_GATES[mode]]
    blocks = len(GATES[mode])
    pre = trace.inputs @ weights.weight_ih.t() + trace.previous @ weights.weight_hh.t()
    for bias in (weights.bias_ih, weights.bias_hh):
        if bias is not None:
            pre = pre + bias
    pre = pre.reshape(*pre.shape[:2], blocks, -1)[:, :, rows].float()
    values = torch.sigmoid(pre)
    real = (
        torch.ones(values.shape[:2], device=values.device)
        if trace.mask is None
        else trace.mask.float()
    )
    samples = real.sum(dim=0).clamp(min=1.0)[:, None]

    def fraction(near: Tensor) -> Tensor:
        per_sample = near.float().mean(dim=-1)  # (batch, timesteps, gates)
        return (per_sample * real[..., None]).sum(dim=0) / samples

    return {"near_0": fraction(values < NEAR_0), "near_1": fraction(values > NEAR_1)}
