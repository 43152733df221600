"""Each timestep's term of a recurrent cell's weight gradients, and its norms.

A recurrent layer's weight gradient is a sum over timesteps: timestep t's term
is the vector-Jacobian product of one cell step, taken at the step's input x_t
and incoming states s_{t-1}, with the total gradient of the loss w.r.t. what
the step produced (its new states, and its output when that is not one of
them). The capture pass records x_t and s_{t-1}, and the state probes give
the total gradients, so no step has to be replayed in order:

- Keras's LSTM, GRU (reset_after=True) and SimpleRNN cells: one batched cell
  call over all (timestep, sample) rows gives the pre-activation gradients dz
  (`preactivations`), and a term is x_t^T dz_t (kernel), h_{t-1}^T dz_t
  (recurrent kernel) or the batch sum of dz_t (bias). Its norm per gate is
  taken from the Gram matrices of the factors when the batch is small
  (||A^T B||^2 = <A A^T, B B^T>), without forming the term.
- any other cell: `tf.vectorized_map` evaluates the cell step and its VJP
  for every timestep as batched ops.

Both are exact. Timesteps go in chunks so that at most `_CHUNK_ELEMENTS` term
values are held at once.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

from tb_rnngrad.capture import preactivations
from tb_rnngrad.capture.gates import weights_of

_CHUNK_ELEMENTS = 1 << 23
"""Term values (all weights of a cell, all timesteps of a chunk) held at once."""


def _time_major(tensor: tf.Tensor) -> tf.Tensor:
    return tf.transpose(tensor, [1, 0, *range(2, tensor.shape.rank)])


def _two_row_bias(cell: keras.layers.Layer) -> bool:
    """Whether the bias has an input and a recurrent row (GRU, reset_after)."""
    bias = weights_of(cell).get("bias")
    return bias is not None and len(bias.shape) == 2 and bias.shape[0] == 2


def term_names(cell: keras.layers.Layer) -> list[str]:
    """The entries `timestep_terms` returns for `cell`."""
    names = list(weights_of(cell))
    return names + ["recurrent_bias"] if _two_row_bias(cell) else names


def _vjp_terms(
    cell: keras.layers.Layer, inputs: Any, states: list, cotangents: list
) -> dict[str, tf.Tensor]:
    """Any cell: the VJP of each step, vectorized over time-major inputs."""
    named = weights_of(cell)
    weights = [v.value for v in named.values()]

    def step(elems: tuple) -> list[tf.Tensor]:
        x, step_states, step_cotangents = elems
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(weights)
            output, new_states = cell(x, list(step_states), training=False)
        targets = tf.nest.flatten(new_states)
        if len(step_cotangents) > len(step_states):
            targets.append(output)
        return tape.gradient(
            targets,
            weights,
            output_gradients=list(step_cotangents),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )

    terms = tf.vectorized_map(step, (inputs, states, cotangents))
    terms = dict(zip(named, terms, strict=True))
    if _two_row_bias(cell):
        bias = terms["bias"]
        terms.update(bias=bias[:, 0], recurrent_bias=bias[:, 1])
    return terms


def _product(left: tf.Tensor | None, dz: tf.Tensor) -> tf.Tensor:
    """The terms left[t]^T @ dz[t] (the batch sum of dz[t] without `left`)."""
    if left is None:
        return tf.reduce_sum(dz, axis=1)
    return tf.matmul(left, dz, transpose_a=True)


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
    args = _time_major_args(inputs, states, cotangents)
    if not preactivations.supported(cell):
        return _vjp_terms(cell, *args)
    dtype = _dtype(cell)
    return {
        name: _product(
            None if left is None else tf.cast(left, dtype), tf.cast(dz, dtype)
        )
        for name, (left, dz) in preactivations.factors(cell, *args).items()
    }


def _time_major_args(inputs: tf.Tensor, states: list, cotangents: list) -> tuple:
    return (
        _time_major(inputs),
        [_time_major(s) for s in states],
        [_time_major(c) for c in cotangents],
    )


def gate_norms(term: tf.Tensor, gates: int) -> tf.Tensor:
    """(timesteps, gates): the Frobenius norm of each gate's column block."""
    width = term.shape[-1] // gates
    blocks = tf.reshape(term, [tf.shape(term)[0], -1, gates, width])
    return tf.sqrt(tf.reduce_sum(tf.square(blocks), axis=[1, 3]))


def _product_norms(left: tf.Tensor | None, dz: tf.Tensor, gates: int) -> tf.Tensor:
    """`gate_norms(_product(left, dz), gates)`, from Gram matrices when the
    batch is smaller than the term (then cheaper, and the term is not formed)."""
    batch, columns = dz.shape[1], dz.shape[-1]
    if (
        left is None
        or batch is None
        or batch * (left.shape[-1] + columns) > (left.shape[-1] * columns)
    ):
        return gate_norms(_product(left, dz), gates)
    left_gram = tf.matmul(left, left, transpose_b=True)  # (time, batch, batch)
    blocks = tf.reshape(dz, [tf.shape(dz)[0], batch, gates, columns // gates])
    blocks = tf.transpose(blocks, [0, 2, 1, 3])
    dz_gram = tf.matmul(blocks, blocks, transpose_b=True)  # (time, gate, b, b)
    squares = tf.einsum("tbc,tgbc->tg", left_gram, dz_gram)
    return tf.sqrt(tf.maximum(squares, 0))


def _dtype(cell: keras.layers.Layer) -> tf.DType:
    """The dtype of the terms: that of the weights (float32 under mixed
    precision, where the cell computes in float16)."""
    return tf.as_dtype(next(iter(weights_of(cell).values())).dtype)


def _norms(cell: keras.layers.Layer, gates: int, *args: Any) -> dict[str, tf.Tensor]:
    """Gate norms of each term, for time-major arguments."""
    if not preactivations.supported(cell):
        terms = _vjp_terms(cell, *args)
        return {name: gate_norms(term, gates) for name, term in terms.items()}
    dtype = _dtype(cell)
    norms = {}
    for name, (left, dz) in preactivations.factors(cell, *args).items():
        left = None if left is None else tf.cast(left, dtype)
        norms[name] = _product_norms(left, tf.cast(dz, dtype), gates)
    return norms


def _chunk_length(cell: keras.layers.Layer) -> int:
    """Timesteps per chunk: their terms hold at most `_CHUNK_ELEMENTS` values."""
    size = sum(math.prod(v.shape) for v in weights_of(cell).values())
    return max(1, _CHUNK_ELEMENTS // max(size, 1))


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
    args = _time_major_args(inputs, states, cotangents)
    chunk = _chunk_length(cell)
    if inputs.shape[1] is not None and inputs.shape[1] <= chunk:
        return _norms(cell, gates, *args)
    steps = tf.shape(inputs)[1]
    chunk = tf.minimum(chunk, steps)
    count = (steps + chunk - 1) // chunk

    def chunked(tensor: tf.Tensor) -> tf.Tensor:
        """(steps, ...) -> (count, chunk, ...), zero-padded."""
        rest = [[0, 0]] * (tensor.shape.rank - 1)
        tensor = tf.pad(tensor, [[0, count * chunk - steps], *rest])
        return tf.reshape(tensor, tf.concat([[count, chunk], tf.shape(tensor)[1:]], 0))

    norms = tf.map_fn(
        lambda elems: _norms(cell, gates, *elems),
        tf.nest.map_structure(chunked, args),
        fn_output_signature={
            name: tf.TensorSpec((None, gates), _dtype(cell))
            for name in term_names(cell)
        },
        parallel_iterations=1,
    )
    return {name: tf.reshape(v, [-1, gates])[:steps] for name, v in norms.items()}
