"""0D scatter view: per-channel gradient values of a (batch, channels) tensor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _checks, _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, mark_nonfinite, with_counts

_VIEW = "scatter0d"
_SPREAD = 0.6  # samples at one channel spread over this width, in channel units


def scatter0d(
    data: ArrayLike,
    *,
    samples: int | Sequence[int] | None = None,
    bidirectional: bool = False,
    units: int | None = None,
    title: str | None = None,
    kind: str | None = None,
) -> tuple[Figure, Axes]:
    """Draws per-channel gradient values of a layer without a time axis.

    For layers with return_sequences=False the gradient has shape
    (batch, channels). Each selected sample is drawn as one colour of points
    (`tb_rnngrad.viz.colors.sample_color` of its position in `samples`), offset a
    little sideways around its channel so samples do not hide each other. NaN and
    Inf values are marked at the axes' edges (+Inf black triangle at the top,
    -Inf green at the bottom, NaN magenta cross in the middle) and counted in the
    axes title.

    Args:
        data: gradients, shape (batch, channels), real floating point.
        samples: sample index or indices to draw; None for all.
        bidirectional: data is the concat output of a Bidirectional layer
            (forward units, then backward units); a line separates the halves.
        units: units per direction; default channels // 2.
        title: figure title, shown literally (no mathtext).
        kind: the series' kind (`SeriesInfo.kind`, e.g. "state_gradients");
            when given, the figure title names the quantity
            (`format.quantities`).

    Returns:
        (figure, axes): the Figure and its single Axes.

    Raises:
        TypeError: if data has the wrong dtype or an index is not an int.
        ValueError: if the shape, an index or kind is invalid.
    """
    named = _quantity.of(kind, view=_VIEW)
    array = _checks.real_float_array(data, view=_VIEW, name="data", rank=2)
    batch, channels = array.shape
    chosen = _checks.index_list(
        samples, batch, view=_VIEW, name="samples", axis="batch"
    )
    half = _checks.direction_units(
        channels,
        bidirectional=bidirectional,
        units=units,
        reflect_backward=False,
        view=_VIEW,
    )
    figure = _layout.new_figure(max(5.0, min(14.0, 0.12 * channels + 3.0)), 3.6)
    ax = figure.subplots()
    _draw_points(ax, array[chosen], chosen)
    _decorate(ax, channels, half)
    counts = NonFiniteCounts.of(array[chosen])
    _layout.set_title(ax, with_counts("gradient per channel", counts))
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, ax


def _draw_points(ax: Axes, values: np.ndarray, samples: list[int]) -> None:
    count, channels = values.shape
    offsets = (np.arange(count) - (count - 1) / 2) * (_SPREAD / max(count, 1))
    for position, row in enumerate(values):
        x = np.arange(channels) + offsets[position]
        finite = np.isfinite(row)
        ax.scatter(
            x[finite],
            row[finite],
            s=14,
            color=colors.sample_color(position),
            label=f"sample {samples[position]}",
        )
        mark_nonfinite(ax, x, row)
    if count <= 10:
        ax.legend(fontsize="small", loc="best")


def _decorate(ax: Axes, channels: int, units: int | None) -> None:
    ax.axhline(0.0, color="0.6", linewidth=0.6, zorder=0)
    ax.set_xlim(-0.5 - _SPREAD / 2, channels - 0.5 + _SPREAD / 2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    channel_text = "channel"
    if units is not None:
        ax.axvline(units - 0.5, color="0.25", linewidth=1.0, linestyle="--")
        channel_text += f" (fwd 0-{units - 1} | bwd {units}-{2 * units - 1})"
    _layout.set_labels(ax, channel_text, "gradient")
