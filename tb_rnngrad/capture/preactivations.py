"""Pre-activation gradients of Keras's own cells, read off a bias per row.

`LSTMCell` and `SimpleRNNCell`, and `GRUCell` with `reset_after=True`, add
their bias once to pre-activations that are linear in their weights:
z = x W + h U + b (a GRU keeps x W + b_x and h U + b_h apart). Run on all
(timestep, sample) rows at once with the bias swapped for one copy per row,
the cell's own code gives d(loss)/d(z) per row as the gradient w.r.t. that
copy. Each timestep's weight term is then a product of known factors:
x_t^T dz_t for the kernel, h_{t-1}^T dz_t for the recurrent kernel and the
sum over the batch of dz_t for the bias.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import keras
import tensorflow as tf


def supported(cell: Any) -> bool:
    """Whether `cell` is one of these Keras cells, with a bias, and (LSTM,
    GRU) `implementation=2`, which adds the bias to all gates at once."""
    if not getattr(cell, "use_bias", False) or cell.bias is None:
        return False
    if type(cell) is keras.layers.SimpleRNNCell:
        return True
    if type(cell) is keras.layers.LSTMCell:
        return cell.implementation == 2
    if type(cell) is keras.layers.GRUCell:
        return cell.implementation == 2 and cell.reset_after
    return False


@contextlib.contextmanager
def _bias(cell: keras.layers.Layer, value: tf.Tensor) -> Iterator[None]:
    saved = cell.bias
    object.__setattr__(cell, "bias", value)
    try:
        yield
    finally:
        object.__setattr__(cell, "bias", saved)


def _rows(tensor: tf.Tensor) -> tf.Tensor:
    """(timesteps, batch, width) -> (timesteps * batch, width)."""
    return tf.reshape(tensor, [-1, tensor.shape[-1]])


def factors(
    cell: keras.layers.Layer,
    inputs: tf.Tensor,
    states: list[tf.Tensor],
    cotangents: list[tf.Tensor],
) -> dict[str, tuple[tf.Tensor | None, tf.Tensor]]:
    """`{weight: (left factor, dz)}` such that timestep t's term of the
    weight is left[t]^T @ dz[t] (a bias: the sum of dz[t] over the batch).

    Args:
        cell: A cell for which `supported` is true.
        inputs: Its input at every step, time-major (timesteps, batch, width).
        states: Its states entering every step, time-major.
        cotangents: d(loss)/d(each new state), time-major.

    Returns:
        (timesteps, batch, ...) factors; the left factor of a bias is None.
    """
    steps, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
    bias = tf.cast(cell.bias, cell.compute_dtype)
    two_rows = len(bias.shape) == 2  # GRU: (2, 3 * units), split on axis 0
    if two_rows:
        per_row = tf.broadcast_to(bias[:, None], [2, steps * batch, bias.shape[-1]])
    else:
        per_row = tf.broadcast_to(bias, [steps * batch, bias.shape[-1]])
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(per_row)
        with _bias(cell, per_row):
            _, new_states = cell(
                _rows(inputs), [_rows(s) for s in states], training=False
            )
    dz = tape.gradient(
        tf.nest.flatten(new_states),
        per_row,
        output_gradients=[_rows(c) for c in cotangents],
    )

    def timed(rows: tf.Tensor) -> tf.Tensor:
        return tf.reshape(rows, [steps, batch, rows.shape[-1]])

    hidden = states[0]
    if two_rows:
        dz_x, dz_h = timed(dz[0]), timed(dz[1])
        return {
            "kernel": (inputs, dz_x),
            "recurrent_kernel": (hidden, dz_h),
            "bias": (None, dz_x),
            "recurrent_bias": (None, dz_h),
        }
    dz = timed(dz)
    return {
        "kernel": (inputs, dz),
        "recurrent_kernel": (hidden, dz),
        "bias": (None, dz),
    }
