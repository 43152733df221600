"""Band histogram view: distribution of gradient values per band of timesteps."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _checks, _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, with_counts

_VIEW = "band_histogram"
HISTOGRAM_SCALES = ("linear", "log")
_LOG_SPAN = 8.0  # decades shown by scale="log" below the largest magnitude


def band_histogram(
    data: ArrayLike,
    *,
    bands: int = 4,
    bins: int = 50,
    scale: str = "linear",
    title: str | None = None,
    kind: str | None = None,
) -> tuple[Figure, Axes]:
    """Draws a histogram of gradient values for each band of timesteps.

    The time axis is split into `bands` contiguous bands of (nearly) equal length
    (`np.array_split`); each band's values over all samples and channels give one
    step line, coloured from early (dark) to late (yellow) on viridis. Counts are
    fractions of the band's finite values, on a log axis so tails stay visible.
    Bins are shared by all bands. A band whose values pile up at zero while later
    bands spread out is a vanishing gradient.

    Args:
        data: gradients, shape (batch, timesteps, channels), real floating point.
        bands: number of timestep bands, 1 to timesteps.
        bins: number of bins.
        scale: "linear" (bins over the values, symmetric around 0) or "log" (bins
            over log10|g|, 8 decades below the largest magnitude; smaller
            magnitudes and zeros are counted in the legend instead).
        title: figure title, shown literally (no mathtext).
        kind: the series' kind (`SeriesInfo.kind`, e.g. "state_gradients");
            when given, the figure title names the quantity
            (`format.quantities`).

    Returns:
        (figure, axes): the Figure and its single Axes.

    Raises:
        TypeError: if data has the wrong dtype or bands/bins are not ints.
        ValueError: if the shape is wrong, bands/bins are out of range, or
            `scale` or `kind` is unknown.
    """
    named = _quantity.of(kind, view=_VIEW)
    array = _checks.real_float_array(data, view=_VIEW, name="data", rank=3)
    bands = _checks.positive_int(bands, view=_VIEW, name="bands")
    bins = _checks.positive_int(bins, view=_VIEW, name="bins")
    timesteps = array.shape[1]
    if bands > timesteps:
        raise ValueError(
            f"{_VIEW}: bands={bands} is more than the {timesteps} timesteps; pass "
            f"bands <= {timesteps}."
        )
    if scale not in HISTOGRAM_SCALES:
        raise ValueError(
            f"{_VIEW}: scale must be one of {', '.join(map(repr, HISTOGRAM_SCALES))}"
            f"; got {scale!r}."
        )
    figure = _layout.new_figure(7.0, 4.2)
    ax = figure.subplots()
    _draw_bands(ax, array, bands, bins, scale)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, ax


def _draw_bands(ax: Axes, array: np.ndarray, bands: int, bins: int, scale: str) -> None:
    groups = np.array_split(np.arange(array.shape[1]), bands)
    edges = _bin_edges(array, bins, scale)
    for index, steps in enumerate(groups):
        values = array[:, steps, :].ravel()
        label = with_counts(f"t {steps[0]}-{steps[-1]}", NonFiniteCounts.of(values))
        shown, below = _binned_values(values, scale, edges[0])
        if below:
            label += f" ({below} below range)"
        counts, _ = np.histogram(shown, bins=edges)
        fraction = counts / max(np.isfinite(values).sum(), 1)
        color = colors.SEQUENTIAL_CMAP(index / max(bands - 1, 1) * 0.9)
        ax.stairs(fraction, edges, color=color, linewidth=1.4, label=label)
    ax.set_yscale("log")
    xlabel = "log10 |gradient|" if scale == "log" else "gradient"
    _layout.set_labels(ax, xlabel, "fraction of band's values")
    ax.legend(fontsize="small", title="timestep band")


def _bin_edges(array: np.ndarray, bins: int, scale: str) -> np.ndarray:
    top = colors.finite_abs_max(array)
    top = top if top > 0 else 1.0
    if scale == "log":
        high = math.log10(top)
        return np.linspace(high - _LOG_SPAN, high, bins + 1)
    return np.linspace(-top, top, bins + 1)


def _binned_values(
    values: np.ndarray, scale: str, low: float
) -> tuple[np.ndarray, int]:
    """Returns the finite values to bin and, for log scale, how many fell below."""
    finite = values[np.isfinite(values)]
    if scale == "linear":
        return finite, 0
    with np.errstate(divide="ignore"):
        magnitudes = np.log10(np.abs(finite))
    keep = magnitudes >= low
    return magnitudes[keep], int((~keep).sum())
