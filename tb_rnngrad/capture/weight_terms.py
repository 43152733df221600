"""Each timestep's term of a recurrent cell's weight gradients, and its norms.

A recurrent layer's weight gradient is a sum over timesteps: timestep t's term
is the vector-Jacobian product of one cell step, taken at the step's input x_t
and incoming states s_{t-1}, with the total gradient of the loss w.r.t. what
the step produced (its new states, and its output when that is not one of
them). The capture pass records what the terms need, so no step has to be
replayed in order:

- Keras's LSTM, GRU (reset_after=True) and SimpleRNN cells: the bias probe
  gives the pre-activation gradient dz_t (`preactivations`), and a term is
  x_t^T dz_t (kernel), h_{t-1}^T dz_t (recurrent kernel) or the batch sum of
  dz_t (bias). Its norm per gate comes from the Gram matrices of the factors
  when the batch is small (||A^T B||^2 = <A A^T, B B^T>), without forming
  the term.
- any other cell (TensorFlow only): `tf.vectorized_map` evaluates the cell
  step and its VJP at every recorded step, as batched ops.

Both are exact. Timesteps go in chunks so that at most `_CHUNK_ELEMENTS` term
values are held at once. Written in `keras.ops`, so the same terms come out
on every backend (only the VJP of other cells needs TensorFlow).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from tb_rnngrad.capture import preactivations
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.gates import gate_names, weights_of
from tb_rnngrad.capture.state_plan import LeafPlan

_CHUNK_ELEMENTS = 1 << 23
"""Term values (all weights of a cell, all timesteps of a chunk) held at once."""


def _time_major(tensor: Any) -> Any:
    return ops.transpose(tensor, (1, 0, *range(2, len(tensor.shape))))


def _dtype(cell: keras.layers.Layer) -> str:
    """The dtype of the terms: that of the weights (float32 under mixed
    precision, where the cell computes in float16)."""
    variable = next(iter(weights_of(cell).values()))
    return keras.backend.standardize_dtype(variable.dtype)


def _on_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


def _two_row_bias(cell: keras.layers.Layer) -> bool:
    """Whether the bias has an input and a recurrent row (GRU, reset_after)."""
    bias = weights_of(cell).get("bias")
    return bias is not None and len(bias.shape) == 2 and bias.shape[0] == 2


def term_names(cell: keras.layers.Layer) -> list[str]:
    """The weight entries of `cell`: its kernel, recurrent kernel and bias,
    and "recurrent_bias" for the second row of a two-row bias."""
    names = list(weights_of(cell))
    return names + ["recurrent_bias"] if _two_row_bias(cell) else names


def _vjp_terms(
    cell: keras.layers.Layer, inputs: Any, states: list, cotangents: list
) -> dict[str, Any]:
    """Any cell: the VJP of each step, vectorized over time-major arguments."""
    if not _on_tensorflow():
        raise CaptureError(
            f"Cell '{cell.name}' ({type(cell).__name__}): weight contributions "
            "of a cell other than Keras's LSTMCell, GRUCell (reset_after=True) "
            "and SimpleRNNCell with a bias are computed on the TensorFlow "
            f"backend only, not on '{keras.backend.backend()}'. Drop "
            "'weight_contributions' from `kinds` for this layer, or use "
            "KERAS_BACKEND=tensorflow."
        )
    import tensorflow as tf

    named = weights_of(cell)
    weights = [v.value for v in named.values()]

    def step(elems: tuple) -> list:
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


def _product(left: Any, dz: Any) -> Any:
    """The terms left[t]^T @ dz[t] (the batch sum of dz[t] without `left`)."""
    if left is None:
        return ops.sum(dz, axis=1)
    return ops.matmul(ops.swapaxes(left, 1, 2), dz)


def _steps(tensor: Any) -> Any:
    """The size of the leading (time) axis, dynamic on TensorFlow."""
    if tensor.shape[0] is not None:
        return tensor.shape[0]
    return ops.shape(tensor)[0]


def gate_norms(term: Any, gates: int) -> Any:
    """(timesteps, gates): the Frobenius norm of each gate's column block."""
    width = term.shape[-1] // gates
    blocks = ops.reshape(term, (_steps(term), -1, gates, width))
    return ops.sqrt(ops.sum(ops.square(blocks), axis=(1, 3)))


def _product_norms(left: Any, dz: Any, gates: int) -> Any:
    """`gate_norms(_product(left, dz), gates)`, from Gram matrices when the
    batch is smaller than the term (then cheaper, and the term is not formed)."""
    if left is None or dz.shape[1] is None:
        return gate_norms(_product(left, dz), gates)
    batch, rows, columns = dz.shape[1], left.shape[-1], dz.shape[-1]
    if batch * (rows + columns) > rows * columns:
        return gate_norms(_product(left, dz), gates)
    left_gram = ops.matmul(left, ops.swapaxes(left, 1, 2))  # (time, batch, batch)
    blocks = ops.reshape(dz, (_steps(dz), batch, gates, columns // gates))
    blocks = ops.transpose(blocks, (0, 2, 1, 3))
    dz_gram = ops.matmul(blocks, ops.swapaxes(blocks, 2, 3))  # (time, gate, b, b)
    squares = ops.einsum("tbc,tgbc->tg", left_gram, dz_gram)
    return ops.sqrt(ops.maximum(squares, 0))


def _factor_args(
    leaf: LeafPlan, inputs: Any, states: list, pieces: list, mask: Any
) -> tuple:
    """Time-major (inputs, h_{t-1}, dz) of a leaf with a bias probe."""
    dz = leaf.bias_gradient(pieces)
    return _time_major(inputs), _time_major(states[0]), _time_major(dz)


def _vjp_args(
    leaf: LeafPlan, inputs: Any, states: list, pieces: list, mask: Any
) -> tuple:
    """Time-major (inputs, states, cotangents) of a leaf without one."""
    cotangents = leaf.cotangents(pieces, mask)
    return (
        _time_major(inputs),
        [_time_major(s) for s in states],
        [_time_major(c) for c in cotangents],
    )


def _cast(tensor: Any, dtype: str) -> Any:
    return None if tensor is None else ops.cast(tensor, dtype)


def _chunk_terms(leaf: LeafPlan, args: tuple) -> dict[str, Any]:
    cell, dtype = leaf.cell, _dtype(leaf.cell)
    if not leaf.bias_width:
        return _vjp_terms(cell, *args)
    found = preactivations.factors(cell, *args)
    return {
        name: _product(_cast(left, dtype), ops.cast(dz, dtype))
        for name, (left, dz) in found.items()
    }


def _chunk_norms(leaf: LeafPlan, gates: int, args: tuple) -> dict[str, Any]:
    cell, dtype = leaf.cell, _dtype(leaf.cell)
    if not leaf.bias_width:
        terms = _vjp_terms(cell, *args)
        return {name: gate_norms(term, gates) for name, term in terms.items()}
    found = preactivations.factors(cell, *args)
    return {
        name: _product_norms(_cast(left, dtype), ops.cast(dz, dtype), gates)
        for name, (left, dz) in found.items()
    }


def _arguments(leaf: LeafPlan, *record: Any) -> tuple:
    return (_factor_args if leaf.bias_width else _vjp_args)(leaf, *record)


def timestep_terms(
    leaf: LeafPlan,
    inputs: Any,
    states: list,
    pieces: list,
    mask: Any,
) -> dict[str, Any]:
    """Timestep t's term of each weight gradient of one leaf cell, for every t.

    Args:
        leaf: The plan of a leaf cell with a kernel, recurrent kernel or bias.
        inputs: Its input at every step, (batch, timesteps, width).
        states: Its recorded states entering every step (batch, timesteps,
            units).
        pieces: The gradients of its probes, each (batch, timesteps, width).
        mask: The layer's (batch, timesteps) mask, or None.

    Returns:
        `{name: (timesteps, *weight.shape)}` for `term_names(leaf.cell)`, in
        the weights' dtype ("bias" and "recurrent_bias" are the two rows of a
        two-row bias). Summed over timesteps, a term is the weight's gradient.
    """
    return _chunk_terms(leaf, _arguments(leaf, inputs, states, pieces, mask))


def _chunk_length(cell: keras.layers.Layer) -> int:
    """Timesteps per chunk: their terms hold at most `_CHUNK_ELEMENTS` values."""
    size = sum(math.prod(v.shape) for v in weights_of(cell).values())
    return max(1, _CHUNK_ELEMENTS // max(size, 1))


def _in_chunks(
    fn: Callable[[tuple], dict], args: tuple, chunk: int, signature: dict
) -> dict[str, Any]:
    """`fn` over time-major `args` at most `chunk` timesteps at a time, in
    chunks of equal length, its (chunk, ...) results concatenated."""
    if not _on_tensorflow():  # static shapes: a Python loop over the chunks
        steps = keras.tree.flatten(args)[0].shape[0]
        parts = [
            fn(keras.tree.map_structure(lambda t, s=start: t[s : s + chunk], args))
            for start in range(0, steps, chunk)
        ]
        return {
            name: ops.concatenate([p[name] for p in parts], axis=0)
            for name in signature
        }
    import tensorflow as tf

    steps = tf.shape(tf.nest.flatten(args)[0])[0]
    chunk = tf.minimum(chunk, steps)
    count = (steps + chunk - 1) // chunk
    chunk = (steps + count - 1) // count  # equal chunks: fewer than `count` pads

    def chunked(tensor: tf.Tensor) -> tf.Tensor:
        """(steps, ...) -> (count, chunk, ...), zero-padded."""
        rest = [[0, 0]] * (tensor.shape.rank - 1)
        tensor = tf.pad(tensor, [[0, count * chunk - steps], *rest])
        return tf.reshape(tensor, tf.concat([[count, chunk], tf.shape(tensor)[1:]], 0))

    results = tf.map_fn(
        fn,
        tf.nest.map_structure(chunked, args),
        fn_output_signature={
            name: tf.TensorSpec(shape, dtype)
            for name, (shape, dtype) in signature.items()
        },
        parallel_iterations=1,
    )
    return {
        name: tf.reshape(v, tf.concat([[-1], tf.shape(v)[2:]], 0))[:steps]
        for name, v in results.items()
    }


def contributions(
    leaf: LeafPlan,
    inputs: Any,
    states: list,
    pieces: list,
    mask: Any,
) -> dict[str, Any]:
    """`{name: (timesteps, gates)}`: the norm of each timestep's term per gate.

    Arguments as for `timestep_terms`. Long sequences go in chunks of
    timesteps, one chunk's terms held at a time.
    """
    gates = len(gate_names(leaf.cell))
    args = _arguments(leaf, inputs, states, pieces, mask)
    chunk = _chunk_length(leaf.cell)
    if inputs.shape[1] is not None and inputs.shape[1] <= chunk:
        return _chunk_norms(leaf, gates, args)
    signature = {
        name: ((None, gates), _dtype(leaf.cell)) for name in term_names(leaf.cell)
    }
    return _in_chunks(lambda a: _chunk_norms(leaf, gates, a), args, chunk, signature)
