"""The gate layout of a recurrent weight, its per-gate figures, and the table
`describe_weights` and `tb-rnngrad summary` print.

Keras stores a cell's gates side by side in the last axis of each weight:
gate g of G occupies the columns [g * width, (g + 1) * width) with
width = columns / G, in Keras's order (LSTM i, f, c, o; GRU z, r, h).
A logged weight is a (rows, columns) matrix; a bias is one row. PyTorch
stacks the gates in rows (`weight_ih_l0` is (gates * hidden, input)): its
weights are logged transposed, so the same split applies, in PyTorch's
order (LSTM i, f, c, o; GRU r, z, n).

Imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

#: What a row of each logged weight is (a bias is one row).
ROW_MEANING = {
    "kernel": "input feature",
    "recurrent_kernel": "unit",
    "bias": "input bias",
    "recurrent_bias": "recurrent bias",
}

#: The per-gate scalars logged beside a weight, in the order `gate_stats`
#: returns them: max |w| over finite values, fraction of exact zeros, count
#: of NaN and Inf values.
GATE_STATS = ("max_abs", "zero_fraction", "nonfinite")


def as_matrix(data: np.ndarray) -> np.ndarray:
    """A weight as logged: (rows, columns); a 1-D bias becomes (1, columns)."""
    return data.reshape(1, -1) if data.ndim == 1 else data


def gate_columns(columns: int, gates: Sequence[str]) -> list[tuple[int, int]]:
    """`[(start, stop)]`: the columns of each gate, in `gates` order.

    Raises:
      ValueError: If `columns` is not a positive multiple of the gate count.
    """
    count = len(gates)
    if count == 0 or columns <= 0 or columns % count:
        raise ValueError(
            f"a weight with {columns} columns cannot be split into the "
            f"{count} equal gate blocks {list(gates)}; pass the gate names of "
            "the cell, one per block of columns in the cell's order."
        )
    width = columns // count
    return [(g * width, (g + 1) * width) for g in range(count)]


def gate_blocks(matrix: np.ndarray, gates: Sequence[str]) -> dict[str, np.ndarray]:
    """`{gate: (rows, width) block}` of a (rows, columns) matrix."""
    spans = gate_columns(matrix.shape[-1], gates)
    return {g: matrix[..., a:b] for g, (a, b) in zip(gates, spans, strict=True)}


def gate_stats(block: np.ndarray) -> np.ndarray:
    """float32 (3,): `GATE_STATS` of one gate's block.

    max |w| is taken over the finite values (0 when there is none), so that
    one NaN does not hide the scale of the rest; NaN and Inf are counted in
    "nonfinite". The TF op computes the same figures with TF ops.
    """
    finite = np.isfinite(block)
    with np.errstate(invalid="ignore", over="ignore"):
        magnitudes = np.abs(np.where(finite, block, 0).astype(np.float64))
    max_abs = magnitudes.max(initial=0.0)
    zeros = np.count_nonzero(block == 0) / block.size
    nonfinite = block.size - np.count_nonzero(finite)
    return np.array([max_abs, zeros, nonfinite], dtype=np.float32)


def finite_values(block: np.ndarray) -> np.ndarray:
    """The finite values of a block, flat: what its histogram shows."""
    return block[np.isfinite(block)]


@dataclasses.dataclass(frozen=True)
class WeightRow:
    """One gate block of one weight of one recurrent layer (or direction).

    Attributes:
      layer: The layer key, e.g. "lstm" or "bi" (stacked cells:
        "<key>/stacked_<i>").
      direction: "forward" or "backward" for a Bidirectional half, else "".
      weight: "kernel", "recurrent_kernel", "bias" or "recurrent_bias".
      gate: The gate name, e.g. "f".
      shape: Shape of the gate's block, e.g. (8, 16) for 16 units.
      columns: `(start, stop)`, the columns of the weight it occupies.
    """

    layer: str
    direction: str
    weight: str
    gate: str
    shape: tuple[int, ...]
    columns: tuple[int, int]


def weight_rows(
    layer: str,
    direction: str,
    weight: str,
    shape: Sequence[int],
    gates: Sequence[str],
) -> list[WeightRow]:
    """The rows of one weight of shape `shape` ((columns,) for a bias)."""
    spans = gate_columns(int(shape[-1]), gates)
    return [
        WeightRow(layer, direction, weight, gate, (*shape[:-1], b - a), (a, b))
        for gate, (a, b) in zip(gates, spans, strict=True)
    ]


_HEADER = ("layer", "direction", "weight", "gate", "shape", "columns")


class WeightTable(list):
    """A list of `WeightRow`s whose `str()` is an aligned text table."""

    def __init__(self, rows: Iterable[WeightRow] = ()) -> None:
        super().__init__(rows)

    def __str__(self) -> str:
        cells = [_HEADER] + [
            (
                r.layer,
                r.direction or "-",
                r.weight,
                r.gate,
                "(" + ", ".join(str(d) for d in r.shape) + ")",
                f"{r.columns[0]}:{r.columns[1]}",
            )
            for r in self
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(_HEADER))]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells
        )
