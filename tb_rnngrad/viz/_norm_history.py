"""Norm over training of data without a time axis: one line, not a flow image."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _checks, _layout, _quantity
from tb_rnngrad.viz._flow import check_steps
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, mark_nonfinite, with_counts

_VIEW = "norm_history"
#: What the axes title says instead of a time axis.
NO_TIME_AXIS = "no time axis: (batch, channels) data, one norm per step"


def norm_history(
    norms: ArrayLike,
    steps: ArrayLike,
    *,
    title: str | None = None,
    kind: str | None = None,
) -> tuple[Figure, Axes]:
    """Draws the gradient norm of (batch, channels) data over training.

    Data without a time axis (a layer with return_sequences=False) has one norm
    per logged step, so its flow is a line: x the training step, y the norm (on
    a log axis unless a norm is zero). NaN and Inf norms leave gaps, are marked
    at the axes' edges (see `tb_rnngrad.viz.colors`) and counted in the axes
    title, which says there is no time axis.

    Args:
        norms: shape (n_steps,) or (n_steps, 1) (the `profile` route's "values"
            of a rank-2 tag), non-negative, real floating point.
        steps: shape (n_steps,), integer training steps, strictly increasing.
        title: figure title, shown literally (no mathtext).
        kind: the series' kind; when given, the figure title names the quantity.

    Returns:
        (figure, axes): the Figure and its single Axes.

    Raises:
        TypeError: if an array has the wrong dtype.
        ValueError: if shapes disagree, steps are not increasing, norms are
            negative or `kind` is unknown.
    """
    named = _quantity.of(kind, view=_VIEW, per_sample=False)
    array = np.asarray(norms)
    values = _checks.norm_array(
        array[:, None] if array.ndim == 1 else array,
        view=_VIEW,
        name="norms",
        rank=2,
        layout="(n_steps,) or (n_steps, 1): one norm per step",
        advice="Pass norms, not raw gradients.",
    )
    if values.shape[1] != 1:
        raise ValueError(
            f"{_VIEW}: norms must have one value per step; got shape "
            f"{values.shape}. Data with a time axis has a flow: use viz.flow."
        )
    step_values = check_steps(steps, values.shape[0])
    figure = _layout.new_figure(7.5, 4.0)
    ax = figure.subplots()
    _draw_line(ax, values[:, 0], step_values, named.value)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, ax


def _draw_line(ax: Axes, norms: np.ndarray, steps: np.ndarray, value: str) -> None:
    finite = np.isfinite(norms)
    ax.plot(steps, np.where(finite, norms, np.nan), marker="o", markersize=3)
    mark_nonfinite(ax, steps, norms)
    if finite.any() and np.all(norms[finite] > 0):
        ax.set_yscale("log")
    ax.grid(True, linewidth=0.4)
    _layout.set_labels(ax, "training step", f"{value} norm")
    label = with_counts(NO_TIME_AXIS, NonFiniteCounts.of(norms))
    _layout.set_title(ax, label)
