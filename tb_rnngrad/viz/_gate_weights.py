"""Weight matrices gate by gate: one heatmap per gate at one step, and each
gate's distribution over training as an offset histogram stack (the tab's
Weights view, offline).

The matrix is a recurrent weight as logged by the "weights" and
"weight_gradients" kinds: (rows, columns), a bias as one row, the columns
split into equal gate blocks in Keras's order (`format.weight_layout`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from tb_rnngrad.format import weight_layout
from tb_rnngrad.viz import _checks, _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, with_counts

_MATRIX = "(rows, columns): a weight's values or gradient, its columns the gates"
_SERIES = "(steps, rows, columns): the weight at each step, e.g. np.stack(matrices)"
_SHORT = {"forward": "fwd", "backward": "bwd", "": ""}
#: Bins shared by every step of a gate's histogram stack (as in the tab).
HISTOGRAM_BINS = 40
#: Height of a step's tallest bin, in units of the distance between steps.
_PEAK = 4.0


def weights_heatmap(
    data: ArrayLike,
    gates: Sequence[str],
    *,
    scale: str = "shared",
    kind: str | None = None,
    direction: str = "",
    row_label: str = "row",
    title: str | None = None,
    colorbar: bool = True,
) -> tuple:
    """Draws a weight matrix (or its gradient) as one heatmap per gate.

    Panel g shows the gate's block of columns: y the rows of the matrix
    (input features, units, or the one bias row), x the gate's units, blue
    below 0, white at 0, red above, on a symmetric scale; NaN magenta, +Inf
    black, -Inf green (`tb_rnngrad.viz.colors`), counted in the panel's
    title. Same palette as the tab's Weights view.

    Args:
        data: (rows, columns) real floats; a 1-D bias is drawn as one row.
        gates: gate names in Keras's column order, e.g. ["i", "f", "c", "o"]
            (`result.gates[key]`, `SeriesInfo.gates`).
        scale: "shared" (one scale from the largest finite |w| of the matrix)
            or "gate" (each gate's own largest |w|).
        kind: "weights" or "weight_gradients" (named in the figure title).
        direction: "forward" or "backward" for a Bidirectional half, else "".
        row_label: what a row is, e.g. "input feature" or "unit".
        title: figure title, shown literally.
        colorbar: add a colour bar (shared scale only).

    Returns:
        (figure, axes): axes is a 1-D array with one panel per gate.

    Raises:
        TypeError: if data is not real floating point.
        ValueError: if data is not 1-D or 2-D, its columns do not split into
            the gates, or `scale` or `direction` is unknown.
    """
    view = "weights_heatmap"
    matrix = _matrix(data, view)
    names = _gate_names(gates, view)
    _choice(scale, ("shared", "gate"), "scale", view)
    _choice(direction, tuple(_SHORT), "direction", view)
    named = _quantity.of(kind, view=view, per_sample=False)
    blocks = _blocks(matrix, names, view)
    shared = colors.finite_abs_max(matrix)
    figure, axes = _layout.panel_grid(
        len(names),
        max_columns=min(len(names), 4),
        panel_size=(2.6, 0.6 + min(3.0, 0.12 * matrix.shape[0] + 0.4)),
    )
    value = named.value if kind else "value"
    for ax, (gate, block) in zip(axes, blocks.items(), strict=True):
        top = shared if scale == "shared" else colors.finite_abs_max(block)
        scale_ = _symmetric(top, value)
        rows, width = block.shape
        _layout.show_cells(
            ax, scale_.colorize(block), (-0.5, width - 0.5, rows - 0.5, -0.5)
        )
        label = f"gate {gate}" + (f" ({_SHORT[direction]})" if direction else "")
        if scale == "gate":
            label += f" ±{scale_.norm.vmax:.3g}"
        _layout.set_title(ax, with_counts(label, NonFiniteCounts.of(block)))
        _layout.set_labels(ax, "unit", row_label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if colorbar and scale == "shared":
        _layout.add_colorbar(figure, axes, _symmetric(shared, value), shrink=0.9)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def weights_histogram(
    data: ArrayLike,
    gates: Sequence[str],
    steps: ArrayLike | None = None,
    *,
    bins: int = HISTOGRAM_BINS,
    kind: str | None = None,
    direction: str = "",
    title: str | None = None,
) -> tuple:
    """Draws each gate's distribution over training as an offset histogram stack.

    For each gate, every step's histogram of the gate block's finite values
    (bins shared by all steps of the gate, from its smallest to its largest
    finite value) is drawn as a filled curve, the oldest step at the top and
    the newest in front at the bottom, coloured from dark (old) to light
    (new) on the sequential map, as in TensorBoard's histogram dashboard
    ("offset") and the tab's Weights view. A step's curve sits on the
    baseline y = (steps - 1 - i) and its tallest bin of all steps reaches
    `_PEAK` above its baseline.

    Args:
        data: (steps, rows, columns) real floats: the matrix at each step.
        gates: gate names in Keras's column order.
        steps: the training step of each entry of axis 0 (default 0, 1, ...).
        bins: bins per step.
        kind: "weights" or "weight_gradients" (named in the figure title).
        direction: "forward" or "backward" for a Bidirectional half, else "".
        title: figure title, shown literally.

    Returns:
        (figure, axes): axes is a 1-D array with one panel per gate; each
        panel's collections hold one filled curve per step, oldest first.

    Raises:
        TypeError: if data is not real floating point.
        ValueError: if data is not 3-D, its columns do not split into the
            gates, `steps` does not match axis 0, or `bins` is not positive.
    """
    view = "weights_histogram"
    series = _checks.real_float_array(
        data, view=view, name="data", rank=3, layout=_SERIES
    )
    names = _gate_names(gates, view)
    _checks.positive_int(bins, view=view, name="bins")
    _choice(direction, tuple(_SHORT), "direction", view)
    named = _quantity.of(kind, view=view, per_sample=False)
    at = np.arange(len(series)) if steps is None else np.asarray(steps).ravel()
    if at.shape != (len(series),):
        raise ValueError(
            f"{view}: steps must give one step per entry of axis 0 of data "
            f"({len(series)}); got {at.shape[0]} steps."
        )
    per_gate = {
        g: np.stack([_blocks(m, names, view)[g] for m in series]) for g in names
    }
    figure, axes = _layout.panel_grid(
        len(names), max_columns=min(len(names), 4), panel_size=(3.0, 2.6)
    )
    for ax, (gate, blocks) in zip(axes, per_gate.items(), strict=True):
        counts, edges = gate_histograms(blocks, bins)
        _draw_stack(ax, counts, edges, at)
        label = f"gate {gate}" + (f" ({_SHORT[direction]})" if direction else "")
        _layout.set_title(ax, label)
        ax.set_xlabel("value", **_layout.PLAIN_TEXT)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def gate_histograms(blocks: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts (steps, bins), edges (bins + 1,)): each step's histogram of a
    gate block's finite values on edges shared by all steps."""
    finite = blocks[np.isfinite(blocks)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1, 1)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    counts = np.stack(
        [np.histogram(weight_layout.finite_values(b), bins=edges)[0] for b in blocks]
    )
    return counts, edges


def _draw_stack(ax, counts: np.ndarray, edges: np.ndarray, steps: np.ndarray) -> None:
    n = len(counts)
    centres = (edges[:-1] + edges[1:]) / 2
    peak = counts.max() if counts.size and counts.max() > 0 else 1
    for i, row in enumerate(counts):
        base = n - 1 - i
        colour = colors.SEQUENTIAL_CMAP(i / (n - 1) if n > 1 else 1.0)
        ax.fill_between(
            centres,
            base,
            base + row / peak * _PEAK,
            facecolor=colour,
            edgecolor="white",
            linewidth=0.5,
            zorder=i,
        )
    ticks = sorted({0, n - 1})
    ax.set_yticks([n - 1 - i for i in ticks], [f"step {steps[i]}" for i in ticks])
    ax.set_ylim(-0.2, n - 1 + _PEAK + 0.2)


def _symmetric(abs_max: float, value: str) -> colors.ColorScale:
    """The tab's symmetric scale [-abs_max, abs_max], labelled with `value`."""
    scale = colors.diverging_scale("auto", abs_max=abs_max, vmin=None, vmax=None)
    return dataclasses.replace(scale, label=f"{value} (symmetric scale)")


def _matrix(data: ArrayLike, view: str) -> np.ndarray:
    array = np.asarray(data)
    if array.ndim == 1:
        array = weight_layout.as_matrix(array)
    return _checks.real_float_array(
        array, view=view, name="data", rank=2, layout=_MATRIX
    )


def _gate_names(gates: Sequence[str], view: str) -> list[str]:
    listed = [gates] if isinstance(gates, str) else list(gates)
    if not listed or not all(isinstance(g, str) for g in listed):
        raise ValueError(
            f"{view}: gates must be one or more gate names, e.g. ['i', 'f', 'c', "
            f"'o'] (result.gates[key] or SeriesInfo.gates); got {listed!r}."
        )
    return listed


def _blocks(matrix: np.ndarray, gates: list[str], view: str) -> dict[str, np.ndarray]:
    try:
        return weight_layout.gate_blocks(matrix, gates)
    except ValueError as error:
        raise ValueError(f"{view}: {error}") from None


def _choice(value: str, allowed: tuple[str, ...], name: str, view: str) -> None:
    if value not in allowed:
        raise ValueError(
            f"{view}: {name} must be one of {', '.join(map(repr, allowed))}; "
            f"got {value!r}."
        )
