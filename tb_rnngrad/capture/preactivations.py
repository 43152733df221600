"""Pre-activation gradients of Keras's own cells, from a zero probe on the bias.

`LSTMCell` and `SimpleRNNCell`, and `GRUCell` with `reset_after=True`, add
their bias once to pre-activations that are linear in their weights:
z = x W + h U + b (a GRU keeps x W + b_x and h U + b_h apart). Adding a zero
probe per sample to the bias at every step of the capture pass makes
d(loss)/d(probe) the pre-activation gradient dz_t of that step, from the one
backward pass. Each timestep's weight term is then a product of known
factors: x_t^T dz_t for the kernel, h_{t-1}^T dz_t for the recurrent kernel
and the sum over the batch of dz_t for the bias.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import keras
from keras import ops

from tb_rnngrad import versions


def supported(cell: Any) -> bool:
    """Whether `cell` is one of these Keras cells, with a bias, and (LSTM,
    GRU) `implementation=2`, which adds the bias to all gates at once; and
    a Keras in the range whose cells read `bias` as this module expects."""
    if not getattr(cell, "use_bias", False) or cell.bias is None:
        return False
    use = "tb-rnngrad's pre-activation gradients replace Keras cells' `bias`"
    if not versions.usable("keras", use, "weight terms without bias probes"):
        return False
    if type(cell) is keras.layers.SimpleRNNCell:
        return True
    if type(cell) is keras.layers.LSTMCell:
        return cell.implementation == 2
    if type(cell) is keras.layers.GRUCell:
        return cell.implementation == 2 and cell.reset_after
    return False


def probe_width(cell: keras.layers.Layer) -> int:
    """Width of the bias probe of one sample (the bias's size)."""
    return math.prod(cell.bias.shape)


@contextlib.contextmanager
def probed_bias(cell: keras.layers.Layer, probe: Any) -> Iterator[None]:
    """Within the block, the cell's bias is its value plus `probe` (batch,
    `probe_width`): one bias per sample."""
    saved = cell.bias
    bias = ops.cast(saved, cell.compute_dtype)
    probe = ops.cast(probe, bias.dtype)
    if len(bias.shape) == 2:  # GRU: (2, 3 * units), split on axis 0 by the cell
        probe = ops.transpose(ops.reshape(probe, (-1, *bias.shape)), (1, 0, 2))
        per_sample = bias[:, None] + probe
    else:
        per_sample = bias + probe
    object.__setattr__(cell, "bias", per_sample)
    try:
        yield
    finally:
        object.__setattr__(cell, "bias", saved)


def factors(
    cell: keras.layers.Layer, inputs: Any, hidden: Any, dz: Any
) -> dict[str, tuple[Any, Any]]:
    """`{weight: (left factor, dz)}` such that timestep t's term of the
    weight is left[:, t]^T @ dz[:, t] (for a bias: the batch sum of dz[:, t]).

    Args:
        cell: A cell for which `supported` is true.
        inputs: Its input at every step, (batch, timesteps, width).
        hidden: Its h_{t-1} entering every step, (batch, timesteps, units).
        dz: The gradient of its bias probe, (batch, timesteps, probe width).

    Returns:
        The factors, batch-major; the left factor of a bias is None.
    """
    if len(cell.bias.shape) == 2:
        half = dz.shape[-1] // 2
        dz_x, dz_h = dz[..., :half], dz[..., half:]
        return {
            "kernel": (inputs, dz_x),
            "recurrent_kernel": (hidden, dz_h),
            "bias": (None, dz_x),
            "recurrent_bias": (None, dz_h),
        }
    return {
        "kernel": (inputs, dz),
        "recurrent_kernel": (hidden, dz),
        "bias": (None, dz),
    }
