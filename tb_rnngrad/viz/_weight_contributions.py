"""Weight-contribution view: one timesteps x gates image per weight."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _checks, _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, with_counts
from tb_rnngrad.viz._sequence import last_timesteps

_VIEW = "weight_contributions"
_LAYOUT = (
    "(weights, timesteps, gates): one (timesteps, gates) array per weight, e.g. "
    "np.stack(list(result.weight_contributions[key].values()))"
)
_WIDTH = 7.0
_HEIGHT_PER_GATE = 0.32
_HEIGHT_EXTRA = 1.2


def weight_contributions(
    data: ArrayLike,
    weights: Sequence[str],
    gates: Sequence[str],
    *,
    scale: str = "linear",
    max_timesteps: int | None = None,
    title: str | None = None,
    colorbar: bool = True,
    kind: str = "weight_contributions",
) -> tuple[Figure, np.ndarray]:
    """Draws each timestep's share of the weight update, gate by gate.

    One panel per weight (kernel, recurrent kernel, bias, ...): x is the
    timestep, y the gate (gate names as tick labels, the first gate at the top),
    colour the norm of timestep t's term of that weight's batch gradient on the
    sequential map (viridis); all panels share one scale. Dark columns on the
    left mean early timesteps no longer shape the weights. NaN is magenta, +Inf
    black (see `tb_rnngrad.viz.colors`), counted in each panel's title. The
    figure title names the quantity, "weight update by timestep".

    Args:
        data: shape (weights, timesteps, gates), non-negative norms, real
            floating point (the "weight_contributions" kind).
        weights: names of axis 0, e.g. ["kernel", "recurrent_kernel", "bias"]
            (`SeriesInfo.weights`, or the keys of
            `result.weight_contributions[key]`).
        gates: names of axis 2 in Keras's column order, e.g. ["i", "f", "c",
            "o"] (`SeriesInfo.gates`, or `result.gates[key]`).
        scale: "linear" (0 to the largest value) or "log" (LogNorm from the
            smallest positive value to the largest, 1 to 12 decades as in the
            flow view; zeros get the lowest colour).
        max_timesteps: keep only the last `max_timesteps` timesteps; ticks keep
            true indices.
        title: figure title, shown literally (no mathtext), above the
            quantity's name.
        colorbar: add a colour bar.
        kind: the kind of `data`: "weight_contributions", or
            "gate_activations" (bands near_0, near_1 as `weights`: the fraction
            of units of each gate near 0 and near 1), which the title then
            names.

    Returns:
        (figure, axes): the Figure and a 1-D array of the panel Axes, one per
        weight in the order of `weights`.

    Raises:
        TypeError: if data has the wrong dtype.
        ValueError: if data is not 3-D or has a negative value, the names do
            not match its axes, or `scale` or `max_timesteps` is invalid.
    """
    values = _checks.norm_array(
        data,
        view=_VIEW,
        name="data",
        rank=3,
        layout=_LAYOUT,
        advice="Pass the norms of each timestep's weight-gradient terms.",
    )
    weight_names = _axis_names(weights, values.shape[0], "weights", 0)
    gate_names = _axis_names(gates, values.shape[2], "gates", 2)
    if max_timesteps is not None:
        _checks.positive_int(max_timesteps, view=_VIEW, name="max_timesteps")
    keep = last_timesteps(max_timesteps, values.shape[1])
    timesteps = np.arange(values.shape[1])[keep]
    values = values[:, keep]
    scale_ = colors.norm_scale(
        scale, values=values, view=_VIEW, value=_quantity.WEIGHTS.value
    )
    figure, axes = _layout.panel_grid(
        len(weight_names),
        max_columns=1,
        panel_size=(_WIDTH, _HEIGHT_PER_GATE * len(gate_names) + _HEIGHT_EXTRA),
        sharex=True,
    )
    for ax, name, panel in zip(axes, weight_names, values, strict=True):
        _draw_panel(ax, panel, timesteps, gate_names, scale_)
        _layout.set_title(ax, with_counts(name, NonFiniteCounts.of(panel)))
    axes[-1].set_xlabel("timestep", **_layout.PLAIN_TEXT)
    if colorbar:
        _layout.add_colorbar(figure, axes, scale_, shrink=0.9)
    named = _quantity.of(kind, view=_VIEW, per_sample=False)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def _axis_names(names: Sequence[str], size: int, what: str, axis: int) -> list[str]:
    listed = [names] if isinstance(names, str) else list(names)
    if len(listed) != size or not all(isinstance(n, str) for n in listed):
        raise ValueError(
            f"{_VIEW}: {what} must be {size} strings, one name per entry of axis "
            f"{axis} of data; got {listed!r}. Pass SeriesInfo.{what} of the "
            "series (or the weight names and result.gates[key] of a capture)."
        )
    return listed


def _draw_panel(
    ax: Axes,
    panel: np.ndarray,
    timesteps: np.ndarray,
    gates: list[str],
    scale: colors.ColorScale,
) -> None:
    """Draws one weight's (timesteps, gates) norms, gate 0 at the top."""
    extent = (timesteps[0] - 0.5, timesteps[-1] + 0.5, len(gates) - 0.5, -0.5)
    _layout.show_cells(ax, scale.colorize(panel.T), extent)
    ax.set_yticks(range(len(gates)), gates, **_layout.PLAIN_TEXT)
    ax.set_ylabel("gate", **_layout.PLAIN_TEXT)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
