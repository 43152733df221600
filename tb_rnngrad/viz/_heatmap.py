"""Heatmap view: channels x timesteps image per sample."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, with_counts
from tb_rnngrad.viz._sequence import SequenceSelection, select_sequences

_VIEW = "heatmap"
_PANEL_SIZE = (7.0, 2.9)


def heatmap(
    data: ArrayLike,
    *,
    samples: int | Sequence[int] | None = None,
    scale: str = "auto",
    vmin: float | None = None,
    vmax: float | None = None,
    reflect_backward: bool = False,
    bidirectional: bool = False,
    units: int | None = None,
    max_timesteps: int | None = None,
    transpose: bool = False,
    mask: ArrayLike | None = None,
    title: str | None = None,
    kind: str | None = None,
    colorbar: bool = True,
) -> tuple[Figure, np.ndarray]:
    """Draws per-timestep gradients as a channels x timesteps image per sample.

    Colours: diverging blue-white-red centred on zero (positive red, negative blue,
    zero white). NaN is magenta, +Inf black, -Inf green, masked timesteps grey
    (see `tb_rnngrad.viz.colors`). Each panel's title counts the NaN/+Inf/-Inf
    values among its unmasked cells. All panels share one colour scale. Cells
    are drawn with nearest-neighbour resampling: when a panel has more cells than
    pixels an isolated cell may not show, but the title counts are exact (enlarge
    the figure, raise its dpi or use max_timesteps to see every cell).

    Args:
        data: gradients, shape (batch, timesteps, channels), real floating point.
        samples: sample index or indices to draw, one panel each; None for all.
        scale: "auto" (symmetric, ±max|g| of the finite unmasked values shown),
            "fixed" (symmetric, ±vmax), "manual" (vmin to vmax) or "log" (signed
            log magnitude; vmax is the top magnitude, default max|g|, and vmin
            the floor shown white, default vmax * 1e-6).
        vmin: see `scale`.
        vmax: see `scale`.
        reflect_backward: flip the time axis of the backward channels of a
            Bidirectional layer so both halves read in processing order (Keras
            aligns the backward half to input time). Needs bidirectional=True.
        bidirectional: data is the concat output of a Bidirectional layer:
            forward units first, then backward units. A line separates them.
        units: units per direction; default channels // 2.
        max_timesteps: keep only the last `max_timesteps` columns of the
            displayed time axis (after any reflection); ticks keep true indices.
        transpose: draw timesteps on y and channels on x.
        mask: bool array (batch, timesteps), True where a timestep is valid;
            invalid timesteps are drawn grey and left out of the scale and counts.
        title: figure title, shown literally (no mathtext).
        kind: the series' kind (`SeriesInfo.kind`, e.g. "state_gradients");
            when given, the figure title names the quantity
            (`format.quantities`).
        colorbar: add a colour bar.

    Returns:
        (figure, axes): a `matplotlib.figure.Figure` and a 1-D array of the panel
        Axes, one per selected sample in the order given.

    Raises:
        TypeError: if data or mask has the wrong dtype, or an index is not an int.
        ValueError: if a shape, index, scale, vmin/vmax or kind is invalid.
    """
    named = _quantity.of(kind, view=_VIEW)
    panels = select_sequences(
        data,
        view=_VIEW,
        samples=samples,
        mask=mask,
        bidirectional=bidirectional,
        units=units,
        reflect_backward=reflect_backward,
        max_timesteps=max_timesteps,
    )
    scale_ = colors.diverging_scale(
        scale,
        abs_max=colors.finite_abs_max(panels.values, panels.valid),
        vmin=vmin,
        vmax=vmax,
        view=_VIEW,
    )
    count = len(panels.samples)
    figure, axes = _layout.panel_grid(
        count, max_columns=1 if count <= 4 else 2, panel_size=_PANEL_SIZE
    )
    for position, ax in enumerate(axes):
        _draw_panel(ax, panels, position, scale_, transpose=transpose)
    if colorbar:
        _layout.add_colorbar(
            figure,
            axes,
            scale_,
            ticks=scale_.ticks(),
            format=scale_.tick_formatter(),
            shrink=0.9,
        )
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def _draw_panel(
    ax: Axes,
    panels: SequenceSelection,
    position: int,
    scale: colors.ColorScale,
    *,
    transpose: bool,
) -> None:
    values = panels.values[position]
    valid = panels.valid[position]
    first, last = int(panels.timesteps[0]), int(panels.timesteps[-1])
    channels = values.shape[1]
    time_span = (first - 0.5, last + 0.5)
    channel_span = (channels - 0.5, -0.5)  # channel 0 at the top / left
    if transpose:
        image = scale.colorize(values, valid)
        extent = (-0.5, channels - 0.5, time_span[1], time_span[0])
    else:
        image = scale.colorize(values.T, valid.T)
        extent = (*time_span, *channel_span)
    _layout.show_cells(ax, image, extent)
    _decorate(ax, panels, transpose=transpose)
    counts = NonFiniteCounts.of(values[valid])
    _layout.set_title(ax, with_counts(f"sample {panels.samples[position]}", counts))


def _decorate(ax: Axes, panels: SequenceSelection, *, transpose: bool) -> None:
    time_label = "timestep"
    if panels.reflected:
        time_label += " (backward half reflected: processing order)"
    channel_label = "channel"
    if panels.units is not None:
        units = panels.units
        channel_label += f" (fwd 0-{units - 1} | bwd {units}-{2 * units - 1})"
        draw_line = ax.axvline if transpose else ax.axhline
        draw_line(units - 0.5, color="0.25", linewidth=1.0, linestyle="--")
    if transpose:
        _layout.set_labels(ax, channel_label, time_label)
    else:
        _layout.set_labels(ax, time_label, channel_label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
