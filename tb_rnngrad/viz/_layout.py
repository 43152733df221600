"""Figures, plain-text labels, cell images and colour bars shared by the views.

Figures are `matplotlib.figure.Figure` objects with their own Agg canvas: nothing
here touches pyplot's global figure list or the global backend, and no view calls
`show()`. Display a figure in a notebook by leaving it as the cell's value, or save
it with `fig.savefig(...)`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.text import Text

from tb_rnngrad.viz.colors import ColorScale

# Text settings for every string that may come from a user (run or tag names):
# shown literally, never parsed as mathtext or passed to LaTeX.
PLAIN_TEXT = {"parse_math": False, "usetex": False}


def new_figure(width: float, height: float) -> Figure:
    """Returns an empty figure with an Agg canvas and constrained layout."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def grid_shape(count: int, max_columns: int) -> tuple[int, int]:
    """Returns (rows, columns) for `count` panels, at most `max_columns` wide."""
    columns = min(count, max_columns)
    return math.ceil(count / columns), columns


def panel_grid(
    count: int,
    *,
    max_columns: int,
    panel_size: tuple[float, float],
    sharex: bool = False,
    sharey: bool = False,
) -> tuple[Figure, np.ndarray]:
    """Returns a figure and a 1-D array of `count` axes laid out in a grid.

    Grid cells beyond `count` are removed from the figure.
    """
    rows, columns = grid_shape(count, max_columns)
    figure = new_figure(panel_size[0] * columns, panel_size[1] * rows)
    axes = figure.subplots(
        rows, columns, sharex=sharex, sharey=sharey, squeeze=False
    ).ravel()
    for extra in axes[count:]:
        extra.remove()
    return figure, axes[:count]


def set_title(axes: Axes, text: str, *, size: str | None = None) -> Text:
    """Sets an axes title shown literally (no mathtext, no TeX)."""
    return axes.set_title(str(text), fontsize=size, **PLAIN_TEXT)


def set_suptitle(figure: Figure, text: str | None) -> Text | None:
    """Sets the figure title shown literally, if `text` is not None."""
    if text is None:
        return None
    return figure.suptitle(str(text), **PLAIN_TEXT)


def set_labels(axes: Axes, xlabel: str, ylabel: str) -> None:
    """Sets axis labels shown literally."""
    axes.set_xlabel(xlabel, **PLAIN_TEXT)
    axes.set_ylabel(ylabel, **PLAIN_TEXT)


def show_cells(axes: Axes, rgba: np.ndarray, extent: tuple[float, ...]) -> None:
    """Draws an RGBA image of cells over `extent`, without smoothing.

    Args:
        axes: where to draw.
        rgba: (rows, columns, 4) colours; row 0 is drawn at the top.
        extent: (left, right, bottom, top) in data units.
    """
    axes.imshow(
        rgba, extent=extent, origin="upper", aspect="auto", interpolation="nearest"
    )


def add_colorbar(
    figure: Figure, axes: np.ndarray, scale: ColorScale, **options: Any
) -> Colorbar:
    """Adds a colour bar of `scale` beside `axes`, labelled in plain text.

    `options` go to `Figure.colorbar` (e.g. ticks, format, shrink).
    """
    bar = figure.colorbar(scale.mappable(), ax=list(axes), **options)
    bar.set_label(scale.label, **PLAIN_TEXT)
    return bar
