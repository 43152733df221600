"""Per-timestep saturation of the sigmoid gates of Keras's LSTM and GRU cells.

The "gate_activations" kind: from what the capture pass recorded at every
step (the cell's input x_t and its h_{t-1}, `state_probes`), each gate's
value is recomputed from the cell's weights in one batched product,
g_t = recurrent_activation(x_t W_g + h_{t-1} U_g + b_g) (a GRU with
reset_after=True adds both bias rows; its update and reset gates do not see
the reset), and reduced to the fraction of units near 0 and near 1
(`gate_saturation`) per timestep, over the batch's real samples. Written in
`keras.ops`, so the same figures come out on every backend.
"""

from __future__ import annotations

from typing import Any

from keras import ops

from tb_rnngrad.capture import kerases
from tb_rnngrad.format.gate_saturation import NEAR_0, NEAR_1

#: Per cell type, its sigmoid gates and their column blocks (Keras's order
#: i, f, c, o and z, r, h; the tanh candidates c and h are left out).
_SIGMOID_GATES = (
    ("LSTMCell", (("i", 0), ("f", 1), ("o", 3)), 4),
    ("GRUCell", (("z", 0), ("r", 1)), 3),
)


def _layout(cell: Any) -> tuple[tuple[tuple[str, int], ...], int] | None:
    for cell_type, gates, blocks in _SIGMOID_GATES:
        if isinstance(cell, kerases.types(cell_type)):
            return gates, blocks
    return None


def gate_names(cell: Any) -> tuple[str, ...]:
    """The sigmoid gates of `cell` whose saturation is counted; () for a cell
    without gates (SimpleRNNCell) or a custom cell."""
    found = _layout(cell)
    return () if found is None else tuple(name for name, _ in found[0])


def no_gates_note(key: str, cell: Any) -> str:
    """The note for a recurrent entry that gets no gate activations."""
    return (
        f"Cell '{cell.name}' of '{key}' ({type(cell).__name__}) has no sigmoid "
        "gates that the capture knows (only LSTMCell and GRUCell have), so it "
        "gets no gate activations; its activations and state gradients show "
        "saturation instead."
    )


def fractions(cell: Any, inputs: Any, hidden: Any, mask: Any) -> dict[str, Any]:
    """`{"near_0", "near_1": (timesteps, gates)}` of one LSTM or GRU cell.

    Args:
        cell: A cell for which `gate_names` is not empty.
        inputs: Its input at every step, (batch, timesteps, width).
        hidden: Its h_{t-1} entering every step, (batch, timesteps, units).
        mask: The (batch, timesteps) bool mask, or None.

    Returns:
        Per timestep and gate, the fraction of (real sample, unit) pairs whose
        gate value is below `NEAR_0` (above `NEAR_1`), float32; 0 at a
        timestep where every sample is masked.
    """
    gates, blocks = _layout(cell)

    def weight(name: str) -> Any:
        return ops.cast(kerases.value_of(getattr(cell, name)), "float32")

    pre = ops.matmul(ops.cast(inputs, "float32"), weight("kernel"))
    pre = pre + ops.matmul(ops.cast(hidden, "float32"), weight("recurrent_kernel"))
    if getattr(cell, "use_bias", False) and cell.bias is not None:
        bias = weight("bias")
        pre = pre + (ops.sum(bias, axis=0) if len(bias.shape) == 2 else bias)
    pre = ops.reshape(pre, (*ops.shape(pre)[:2], blocks, cell.units))
    chosen = ops.take(pre, [column for _, column in gates], axis=2)
    values = cell.recurrent_activation(chosen)
    real = (
        ops.ones(ops.shape(values)[:2]) if mask is None else ops.cast(mask, "float32")
    )
    samples = ops.maximum(ops.sum(real, axis=0), 1.0)[:, None]  # (timesteps, 1)

    def fraction(near: Any) -> Any:
        per_sample = ops.mean(ops.cast(near, "float32"), axis=-1)  # (b, t, gates)
        return ops.sum(per_sample * real[..., None], axis=0) / samples

    return {"near_0": fraction(values < NEAR_0), "near_1": fraction(values > NEAR_1)}
