"""Channel grid view: one line chart per channel, gradient vs timestep."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _checks, _layout, _quantity, colors
from tb_rnngrad.viz._nonfinite import NonFiniteCounts, mark_nonfinite, with_counts
from tb_rnngrad.viz._sequence import SequenceSelection, channel_label, select_sequences

_VIEW = "channel_grid"
_PANEL_SIZE = (3.2, 2.1)
#: Smaller charts, 8 to a row, once there are more than 16.
_SMALL_PANEL_SIZE = (2.4, 1.6)
_SMALL_FROM = 17
MAX_GRID_CHANNELS = 64


def channel_grid(
    data: ArrayLike,
    *,
    samples: int | Sequence[int] | None = None,
    channels: int | Sequence[int] | None = None,
    sharey: bool = True,
    max_timesteps: int | None = None,
    reflect_backward: bool = False,
    bidirectional: bool = False,
    units: int | None = None,
    mask: ArrayLike | None = None,
    title: str | None = None,
    kind: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Draws one small line chart per channel: gradient vs timestep.

    The selected samples are overlaid, each in one colour that is the same in every
    chart (`tb_rnngrad.viz.colors.sample_color` of its position in `samples`); a
    figure legend maps colours to sample indices. NaN and Inf values leave gaps in
    the lines and are marked at the chart's edges (+Inf black triangle at the top,
    -Inf green triangle at the bottom, NaN magenta cross in the middle) and counted
    in the chart title. Charts are 4 to a row, or 8 smaller ones to a row from
    17 channels on (64 channels: 8 x 8).

    Args:
        data: gradients, shape (batch, timesteps, channels), real floating point.
        samples: sample index or indices to overlay; None for all.
        channels: channel index or indices, one chart each; None for all. At most
            MAX_GRID_CHANNELS (64) charts.
        sharey: share the y axis across charts (compare magnitudes between
            channels); False scales each chart to its own data.
        max_timesteps: keep only the last `max_timesteps` timesteps of the
            displayed axis (after any reflection); ticks keep true indices.
        reflect_backward: flip the time axis of the backward channels of a
            Bidirectional layer into processing order. Needs bidirectional=True.
        bidirectional: data is the concat output of a Bidirectional layer
            (forward units, then backward units); charts are labelled fwd/bwd.
        units: units per direction; default channels // 2.
        mask: bool array (batch, timesteps), True where a timestep is valid.
            A sample's masked timesteps are left out of its line and counts;
            timesteps masked in every drawn sample are shaded grey.
        title: figure title, shown literally (no mathtext).
        kind: the series' kind (`SeriesInfo.kind`, e.g. "state_gradients");
            when given, the figure title names the quantity
            (`format.quantities`).

    Returns:
        (figure, axes): the Figure and a 1-D array of Axes, one per channel in the
        order given.

    Raises:
        TypeError: if data has the wrong dtype or an index is not an int.
        ValueError: if a shape, index or kind is invalid, or too many channels
            are selected.
    """
    named = _quantity.of(kind, view=_VIEW)
    selection = select_sequences(
        data,
        view=_VIEW,
        samples=samples,
        mask=mask,
        bidirectional=bidirectional,
        units=units,
        reflect_backward=reflect_backward,
        max_timesteps=max_timesteps,
    )
    chosen = _select_channels(channels, selection.values.shape[2])
    small = len(chosen) >= _SMALL_FROM
    figure, axes = _layout.panel_grid(
        len(chosen),
        max_columns=8 if small else 4,
        panel_size=_SMALL_PANEL_SIZE if small else _PANEL_SIZE,
        sharex=True,
        sharey=sharey,
    )
    for ax, channel in zip(axes, chosen, strict=True):
        _draw_channel(ax, selection, channel)
    _add_legend(figure, axes[0], selection.samples)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.supxlabel(_time_label(selection), **_layout.PLAIN_TEXT)
    figure.supylabel("gradient", **_layout.PLAIN_TEXT)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def _time_label(selection: SequenceSelection) -> str:
    if selection.reflected:
        return "timestep (backward channels reflected: processing order)"
    return "timestep"


def _select_channels(channels: int | Sequence[int] | None, count: int) -> list[int]:
    chosen = _checks.index_list(
        channels, count, view=_VIEW, name="channels", axis="channels"
    )
    if len(chosen) > MAX_GRID_CHANNELS:
        raise ValueError(
            f"{_VIEW}: draws one chart per channel and {len(chosen)} channels are "
            f"selected; at most {MAX_GRID_CHANNELS} fit. Pick some with e.g. "
            "channels=range(16), or use heatmap for all channels at once."
        )
    return chosen


def _draw_channel(ax: Axes, selection: SequenceSelection, channel: int) -> None:
    timesteps = selection.timesteps
    valid = selection.valid[:, :, channel]  # (samples, timesteps)
    values = np.where(valid, selection.values[:, :, channel], 0.0)
    _shade_masked(ax, timesteps, ~valid.any(axis=0))
    for position, row in enumerate(values):
        ax.plot(
            timesteps,
            np.where(np.isfinite(row) & valid[position], row, np.nan),
            color=colors.sample_color(position),
            linewidth=1.2,
            label=f"sample {selection.samples[position]}",
        )
    mark_nonfinite(ax, np.broadcast_to(timesteps, values.shape), values)
    ax.axhline(0.0, color="0.6", linewidth=0.6, zorder=0)
    label = channel_label(channel, selection.units)
    _layout.set_title(ax, with_counts(label, NonFiniteCounts.of(values)), size="small")
    ax.tick_params(labelsize="small")


def _shade_masked(ax: Axes, timesteps: np.ndarray, masked: np.ndarray) -> None:
    """Shades each masked timestep's column (t - 0.5 to t + 0.5) grey."""
    for t in timesteps[masked]:
        ax.axvspan(t - 0.5, t + 0.5, color=colors.MASKED_COLOR, linewidth=0, zorder=0)


def _add_legend(figure: Figure, ax: Axes, samples: list[int]) -> None:
    lines = ax.get_lines()[: len(samples)]
    figure.legend(
        lines,
        [f"sample {s}" for s in samples],
        loc="outside right upper",
        fontsize="small",
    )
