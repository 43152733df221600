"""Each timestep's term of a recurrent cell's weight gradients, and its norms.

A recurrent layer's weight gradient is a sum over timesteps: timestep t's term
is the vector-Jacobian product of one cell step, taken at the step's input x_t
and incoming states s_{t-1}, with the total gradient of the loss w.r.t. what
the step produced (its new states, and its output when that is not one of
them). The capture pass records x_t and s_{t-1}, and the state probes give
the total gradients, so no step has to be replayed in order: `tf.vectorized_map`
evaluates the cell step and its VJP for every timestep as batched ops (for a
kernel, the batched matmul x_t^T dz_t), exactly, for any cell. Timesteps go
in chunks so that at most `_CHUNK_ELEMENTS` term values are held at once.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

from tb_rnngrad.capture.gates import weights_of

_CHUNK_ELEMENTS = 1 << 23
"""Term values (all weights of a cell, all timesteps of a chunk) held at once."""


def _time_major(tensor: tf.Tensor) -> tf.Tensor:
    return tf.transpose(tensor, [1, 0, *range(2, tensor.shape.rank)])


def _step_terms(
    cell: keras.layers.Layer, weights: list[tf.Variable], state_count: int
) -> Any:
    """One timestep's VJP: (x, states, cotangents) -> weight terms."""

    def terms(step: tuple) -> list[tf.Tensor]:
        inputs, states, cotangents = step
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(weights)
            output, new_states = cell(inputs, list(states), training=False)
        targets = tf.nest.flatten(new_states)
        if len(cotangents) > state_count:
            targets.append(output)
        return tape.gradient(
            targets,
            weights,
            output_gradients=list(cotangents),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )

    return terms


def _two_row_bias(cell: keras.layers.Layer) -> bool:
    """Whether the bias has an input and a recurrent row (GRU, reset_after)."""
    bias = weights_of(cell).get("bias")
    return bias is not None and len(bias.shape) == 2 and bias.shape[0] == 2


def term_names(cell: keras.layers.Layer) -> list[str]:
    """The entries `timestep_terms` returns for `cell`."""
    names = list(weights_of(cell))
    return names + ["recurrent_bias"] if _two_row_bias(cell) else names


def timestep_terms(
    cell: keras.layers.Layer,
    inputs: tf.Tensor,
    states: list[tf.Tensor],
    cotangents: list[tf.Tensor],
) -> dict[str, tf.Tensor]:
    """Timestep t's term of each weight gradient of one cell, for every t.

    Args:
        cell: A leaf cell with a `kernel`, `recurrent_kernel` and/or `bias`.
        inputs: Its input at every step, (batch, timesteps, width).
        states: Its flat states entering every step, each (batch, timesteps,
            units).
        cotangents: d(loss)/d(each new state) at every step, then
            d(loss)/d(output) if the output is not one of the states.

    Returns:
        `{name: (timesteps, *weight.shape)}` for "kernel", "recurrent_kernel"
        and "bias" (those the cell has); a bias with two rows is split into
        "bias" and "recurrent_bias". Summed over timesteps, a term is the
        weight's gradient.
    """
    named = weights_of(cell)
    weights = [v.value for v in named.values()]
    step = _step_terms(cell, weights, len(states))
    elems = (
        _time_major(inputs),
        [_time_major(s) for s in states],
        [_time_major(c) for c in cotangents],
    )
    terms = dict(zip(named, tf.vectorized_map(step, elems), strict=True))
    if _two_row_bias(cell):
        bias = terms["bias"]
        terms.update(bias=bias[:, 0], recurrent_bias=bias[:, 1])
    return terms


def gate_norms(term: tf.Tensor, gates: int) -> tf.Tensor:
    """(timesteps, gates): the Frobenius norm of each gate's column block."""
    blocks = tf.reshape(term, [tf.shape(term)[0], -1, gates, term.shape[-1] // gates])
    return tf.sqrt(tf.reduce_sum(tf.square(blocks), axis=[1, 3]))


def _chunk_length(cell: keras.layers.Layer) -> int:
    """Timesteps per chunk: their terms hold at most `_CHUNK_ELEMENTS` values."""
    size = sum(math.prod(v.shape) for v in weights_of(cell).values())
    return max(1, _CHUNK_ELEMENTS // max(size, 1))


def _norms(cell: keras.layers.Layer, gates: int, *args: Any) -> dict[str, tf.Tensor]:
    terms = timestep_terms(cell, *args)
    return {name: gate_norms(term, gates) for name, term in terms.items()}


def contributions(
    cell: keras.layers.Layer,
    gates: int,
    inputs: tf.Tensor,
    states: list[tf.Tensor],
    cotangents: list[tf.Tensor],
) -> dict[str, tf.Tensor]:
    """`{name: (timesteps, gates)}`: the norm of each timestep's term per gate.

    Arguments as for `timestep_terms`, plus the number of gates. Long
    sequences go in chunks of timesteps, one chunk's terms held at a time.
    """
    chunk = _chunk_length(cell)
    if inputs.shape[1] is not None and inputs.shape[1] <= chunk:
        return _norms(cell, gates, inputs, states, cotangents)
    steps = tf.shape(inputs)[1]
    chunk = tf.minimum(chunk, steps)
    count = (steps + chunk - 1) // chunk

    def chunked(tensor: tf.Tensor) -> tf.Tensor:
        """(batch, steps, ...) -> (count, batch, chunk, ...), zero-padded."""
        rest = [[0, 0]] * (tensor.shape.rank - 2)
        tensor = tf.pad(tensor, [[0, 0], [0, count * chunk - steps], *rest])
        shape = tf.shape(tensor)
        tensor = tf.reshape(
            tensor, tf.concat([shape[:1], [count, chunk], shape[2:]], 0)
        )
        return tf.transpose(tensor, [1, 0, 2, *range(3, tensor.shape.rank)])

    dtype = next(iter(weights_of(cell).values())).dtype
    norms = tf.map_fn(
        lambda elems: _norms(cell, gates, *elems),
        (
            chunked(inputs),
            [chunked(s) for s in states],
            [chunked(c) for c in cotangents],
        ),
        fn_output_signature={
            name: tf.TensorSpec((None, gates), dtype) for name in term_names(cell)
        },
        parallel_iterations=1,
    )
    return {name: tf.reshape(v, [-1, gates])[:steps] for name, v in norms.items()}
