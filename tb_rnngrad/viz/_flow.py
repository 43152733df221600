"""Gradient flow over training: per-timestep norm profiles as an image."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from tb_rnngrad.format.quantities import Quantity
from tb_rnngrad.viz import _checks, _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, with_counts

_VIEW = "flow"
#: Most logged steps labelled on the step axis.
_MAX_STEP_TICKS = 8


def flow(
    profiles: ArrayLike,
    steps: ArrayLike,
    *,
    reach: ArrayLike | None = None,
    title: str | None = None,
    scale: str = "log",
    kind: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Draws how the per-timestep gradient norm changes over training.

    The image has one row per logged training step and one column per timestep,
    oriented as the tab's flow view: x is the timestep (0 on the left), y the
    training step, increasing downward (the first logged step is the top row).
    Rows are placed at their true step values, so uneven logging intervals give
    uneven row heights; the y axis spans exactly the first to the last logged
    step (their rows are half height; one step gets a row of height 1), with
    ticks at logged steps. Colour is the
    gradient norm on a sequential map (viridis); NaN is magenta and +Inf black
    (see `tb_rnngrad.viz.colors`), counted in the image title.

    With `reach`, a second axes beside the image (sharing its step axis) draws the
    gradient reach per step: how many timesteps back from the last one the
    gradient still arrives. For the state kinds it is titled "gradient horizon":
    how far back gradient survives the layer's own recurrence. NaN in `reach`
    leaves a gap.

    Data without a time axis has one norm per step: draw it with `norm_history`.

    Args:
        profiles: shape (n_steps, timesteps), non-negative norms (e.g. the
            `profile` route's "values"), real floating point.
        steps: shape (n_steps,), integer training steps, strictly increasing.
        reach: optional shape (n_steps,), reach in timesteps, non-negative.
        title: figure title, shown literally (no mathtext).
        scale: "log" (LogNorm from the smallest positive value to the largest,
            spanning at least 1 and at most 12 decades, as in the tab; zeros get
            the lowest colour) or "linear" (0 to the largest value).
        kind: the series' kind (`SeriesInfo.kind`, e.g. "state_gradients"); when
            given, the figure title names the quantity (`format.quantities`).

    Returns:
        (figure, axes): the Figure and a 1-D array [image axes] or
        [image axes, reach axes].

    Raises:
        TypeError: if an array has the wrong dtype.
        ValueError: if shapes disagree, steps are not increasing, values are
            negative, or `scale` or `kind` is unknown.
    """
    named = _quantity.of(kind, view=_VIEW, per_sample=False)
    values = _checks.norm_array(
        profiles,
        view=_VIEW,
        name="profiles",
        rank=2,
        layout="(n_steps, timesteps): one per-timestep norm profile per step",
        advice="Pass norms (e.g. np.linalg.norm(g, axis=(0, 2)) per step), not "
        "raw gradients.",
    )
    step_values = check_steps(steps, values.shape[0])
    reach_values = None if reach is None else _check_reach(reach, values.shape[0])
    scale_ = colors.norm_scale(scale, values=values, view=_VIEW, value=named.value)
    figure, axes = _make_axes(with_reach=reach_values is not None)
    _draw_image(axes[0], values, step_values, scale_, named)
    if reach_values is not None:
        _draw_reach(axes[1], reach_values, step_values, values.shape[1], named)
    _layout.add_colorbar(figure, axes, scale_)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def check_steps(steps: ArrayLike, count: int) -> np.ndarray:
    """Returns `count` strictly increasing integer steps as int64, or raises."""
    array = np.asarray(steps)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{_VIEW}: steps must be integers (training steps); got dtype "
            f"{array.dtype}. Convert with np.asarray(steps, dtype=np.int64)."
        )
    if array.shape != (count,):
        raise ValueError(
            f"{_VIEW}: steps must have shape (n_steps,) = ({count},), one per row "
            f"of profiles; got shape {array.shape}."
        )
    if count > 1 and not np.all(np.diff(array) > 0):
        raise ValueError(
            f"{_VIEW}: steps must be strictly increasing; got {array.tolist()[:8]}"
            f"{'...' if count > 8 else ''}. Sort with order = np.argsort(steps) "
            "and pass profiles[order], steps[order], reach[order]."
        )
    return array.astype(np.int64)


def _check_reach(reach: ArrayLike, count: int) -> np.ndarray:
    array = np.asarray(reach)
    if not (
        np.issubdtype(array.dtype, np.floating)
        or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(
            f"{_VIEW}: reach must be real numbers (timesteps); got dtype {array.dtype}."
        )
    if array.shape != (count,):
        raise ValueError(
            f"{_VIEW}: reach must have shape (n_steps,) = ({count},), one per "
            f"step; got shape {array.shape}."
        )
    array = array.astype(np.float64)
    if np.any(array[~np.isnan(array)] < 0) or np.isinf(array).any():
        raise ValueError(
            f"{_VIEW}: reach counts timesteps back from the last one and must be "
            "finite and >= 0 (NaN for unknown); got values outside that range."
        )
    return array


def _make_axes(*, with_reach: bool) -> tuple[Figure, np.ndarray]:
    if not with_reach:
        figure = _layout.new_figure(7.5, 4.5)
        return figure, np.array([figure.subplots()], dtype=object)
    figure = _layout.new_figure(10.0, 4.5)
    axes = figure.subplots(1, 2, sharey=True, width_ratios=(3, 1))
    return figure, axes


def _row_edges(steps: np.ndarray) -> np.ndarray:
    """Returns row boundaries half-way between steps, ending at the first and
    last step (±0.5 for a single step)."""
    centres = steps.astype(np.float64)
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middles = (centres[:-1] + centres[1:]) / 2
    return np.concatenate([centres[:1], middles, centres[-1:]])


def _step_ticks(steps: np.ndarray) -> np.ndarray:
    """Returns every k-th logged step from the first, at most `_MAX_STEP_TICKS`
    (evenly logged steps get evenly spaced ticks)."""
    return steps[:: math.ceil(steps.size / _MAX_STEP_TICKS)]


def _draw_image(
    ax: Axes,
    values: np.ndarray,
    steps: np.ndarray,
    scale: colors.ColorScale,
    named: Quantity,
) -> None:
    timesteps = values.shape[1]
    column_edges = np.arange(timesteps + 1) - 0.5
    row_edges = _row_edges(steps)
    ax.pcolormesh(column_edges, row_edges, scale.colorize(values))
    ax.set_ylim(row_edges[-1], row_edges[0])  # first step on top, as in the tab
    ax.set_yticks(_step_ticks(steps))
    _layout.set_labels(ax, "timestep", "training step")
    counts = NonFiniteCounts.of(values)
    label = f"per-timestep {named.value} norm"
    _layout.set_title(ax, with_counts(label, counts))


def _draw_reach(
    ax: Axes, reach: np.ndarray, steps: np.ndarray, timesteps: int, named: Quantity
) -> None:
    ax.plot(reach, steps, marker="o", markersize=3, color="C3", clip_on=False)
    ax.set_xlim(0, timesteps)
    ax.grid(True, linewidth=0.4)
    ax.set_xlabel("timesteps back from last", **_layout.PLAIN_TEXT)
    _layout.set_title(ax, f"gradient {named.reach}")
