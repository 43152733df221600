"""Turn the gradients of the state probes into d(loss)/d(h_t) entries.

Entry keys: the layer key, `/forward` or `/backward` for a Bidirectional
half, `/stacked_<i>` for the i-th cell of a StackedRNNCells, then one entry per
state of the cell: h_t under the key itself, an LSTM cell's c_t under
`<key>/cell`, any further state j of a custom cell under `<key>/state_<j>`.

At a masked step Keras carries the previous state: h_t = h_{t-1}. Its
gradient passes through: it is what reaches the carried state from later
steps (the next real step's cell, or the returned final state), plus the
layer's output at the masked steps while the output is that carried state
(`zero_output_for_mask=False`). The real step before a run of masked steps
receives all of it, as in Keras's own backward pass.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tb_rnngrad.capture.state_probes import StateRecord


def leaf_keys(base: str, layer: keras.layers.RNN, count: int) -> list[str]:
    """The key of each of the `count` leaf cells of `layer` (their h_t entry)."""
    if isinstance(layer.cell, keras.layers.StackedRNNCells):
        return [f"{base}/stacked_{i}" for i in range(count)]
    return [base]


def _state_suffix(cell: Any, index: int) -> str:
    if index == 0:
        return ""
    if index == 1 and isinstance(cell, keras.layers.LSTMCell):
        return "/cell"
    return f"/state_{index}"


def _split(record: StateRecord, probes: tf.Tensor) -> list[tf.Tensor]:
    """The gradient of the probes, split as laid out in `StateRecord.probes`."""
    widths = [w for leaf in record.leaves for w in leaf.probe_widths]
    return tf.split(probes, widths + _entering_widths(record), axis=-1)


def _entering_widths(record: StateRecord) -> list[int]:
    if record.mask is None:
        return []
    return [w for leaf in record.leaves for w in leaf.state_widths]


def leaf_gradients(record: StateRecord, probes: tf.Tensor) -> list[list[tf.Tensor]]:
    """Per leaf: d(loss)/d(each of its probes) (see `LeafPlan.probe_widths`),
    each (batch, timesteps, width) in input time."""
    pieces = _split(record, probes)
    return [[pieces.pop(0) for _ in leaf.probe_widths] for leaf in record.leaves]


def _entering_gradients(record: StateRecord, probes: tf.Tensor) -> list[tf.Tensor]:
    pieces = _split(record, probes)
    return pieces[len(pieces) - len(_entering_widths(record)) :]


def _to_loop(tensor: tf.Tensor, backwards: bool) -> tf.Tensor:
    """(batch, time, ...) in input time -> (time, batch, ...) in loop order."""
    tensor = tf.reverse(tensor, [1]) if backwards else tensor
    return tf.transpose(tensor, [1, 0, *range(2, tensor.shape.rank)])


def _from_loop(tensor: tf.Tensor, backwards: bool) -> tf.Tensor:
    """The inverse of `_to_loop`."""
    tensor = tf.reverse(tensor, [0]) if backwards else tensor
    return tf.transpose(tensor, [1, 0, *range(2, tensor.shape.rank)])


def _carried(
    real: tf.Tensor, entering_next: tf.Tensor, outputs: tf.Tensor, mask: tf.Tensor
) -> tf.Tensor:
    """Loop-order, time-major: d(loss)/d(h_k) with the carried states filled in.

    `entering_next[k]` is the gradient reaching the state entering step k + 1
    (the final state's for the last step); `outputs[k]` that of the output
    at step k when it is the carried state, else zeros.
    """
    direct = entering_next + outputs
    next_masked = tf.concat([tf.logical_not(mask[1:]), tf.zeros_like(mask[:1])], axis=0)
    carry = tf.cast(next_masked, direct.dtype)[..., None]
    carried = tf.scan(
        lambda later, step: step[0] + step[1] * later,
        (direct, carry),
        initializer=tf.zeros_like(direct[0]),
        reverse=True,
    )
    return tf.where(mask[..., None], real, carried)


def _output_gradient(record: StateRecord, output: tf.Tensor, like: tf.Tensor) -> Any:
    """Loop-order, time-major gradient of the layer output at each step."""
    if record.layer.return_sequences:
        return tf.transpose(output, [1, 0, 2])
    zeros = tf.zeros_like(like[:-1])
    return tf.concat([zeros, output[None]], axis=0)


def _fill_masked(
    record: StateRecord, states: list[tf.Tensor], grads: dict
) -> list[tf.Tensor]:
    layer = record.layer
    backwards = layer.go_backwards
    mask = _to_loop(record.mask, backwards)
    entering = _entering_gradients(record, grads["probes"])
    output_at = _output_state(record)
    filled = []
    for index, state in enumerate(states):
        real = _to_loop(state, backwards)
        nxt = tf.cast(_to_loop(entering[index], backwards), real.dtype)
        final = tf.cast(grads["final"][index], real.dtype)[None]
        nxt = tf.concat([nxt[1:], final], axis=0)
        outputs = tf.zeros_like(real)
        if index == output_at and not layer.zero_output_for_mask:
            outputs = tf.cast(
                _output_gradient(record, grads["outputs"], real), real.dtype
            )
        filled.append(_from_loop(_carried(real, nxt, outputs, mask), backwards))
    return filled


def _output_state(record: StateRecord) -> int | None:
    """Flat index of the state that the layer's output is, or None."""
    last = record.leaves[-1]
    if last.output_state is None:
        return None
    return record.state_count - len(last.state_widths) + last.output_state


def entries(base: str, record: StateRecord, grads: dict) -> dict[str, tf.Tensor]:
    """`{key: d(loss)/d(state)}`, each (batch, timesteps, units) in input time.

    Args:
        base: The entry key of the layer (or Bidirectional half).
        record: What the instrumented layer call left.
        grads: The gradients of `record.targets()`.
    """
    per_leaf = leaf_gradients(record, grads["probes"])
    states = [
        total
        for leaf, pieces in zip(record.leaves, per_leaf, strict=True)
        for total in leaf.totals(pieces)
    ]
    if record.mask is not None:
        states = _fill_masked(record, states, grads)
    out = {}
    keys = leaf_keys(base, record.layer, len(record.leaves))
    for prefix, leaf in zip(keys, record.leaves, strict=True):
        for j in range(len(leaf.state_widths)):
            out[prefix + _state_suffix(leaf.cell, j)] = states.pop(0)
    return out
