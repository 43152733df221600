"""One tag of many runs: their reach over training, and the latest reach ranked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tb_rnngrad.format import comparison
from tb_rnngrad.viz import _layout, _quantity
from tb_rnngrad.viz.colors import NAN_COLOR, sample_color

_VIEW = "compare"
#: Runs named in the line chart's legend at most (all are ranked in the bars).
MAX_LEGEND = 12


def compare(
    runs: Mapping[str, Mapping[str, Any]],
    *,
    sort: str = "reach",
    descending: bool | None = None,
    kind: str | None = None,
    title: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Draws the reach of one tag in many runs (a sweep), as the compare view does.

    Left: each run's reach over training (the gradient horizon for the state
    kinds), one line per run in the order given, coloured as the tab colours the
    runs it compares (`colors.sample_color`). Right: each run's latest reach as
    a bar, in the order of `sort` (`tb-rnngrad summary --sort`), labelled with
    max |g| and, in the NaN colour, its NaN/Inf count.

    Args:
        runs: run name -> {"steps": (n,) ints, "reach": (n,) ints, "max_abs":
            float or None, "nonfinite": int, "last_step": int}: the `runs` of
            the `compare` route's answer. A run with an empty "reach" (no time
            axis, or no profile) gets no line and no bar.
        sort: one of "reach", "max_abs", "nonfinite", "last_step", "run".
        descending: largest first; default: the key's own direction.
        kind: the series' kind; names the reach ("horizon" for state kinds) and
            the figure title's quantity.
        title: figure title, shown literally.

    Returns:
        (figure, axes): axes[0] the lines over training, axes[1] the bars.

    Raises:
        ValueError: if `runs` is empty, a run's steps and reach differ in
            length or its steps do not increase, or `sort` or `kind` is unknown.
    """
    named = _quantity.of(kind, view=_VIEW, per_sample=False)
    if sort not in comparison.SORT_KEYS:
        raise ValueError(
            f"{_VIEW}: sort must be one of {', '.join(comparison.SORT_KEYS)}; got "
            f"{sort!r}."
        )
    rows = [_row(run, entry, kind or "") for run, entry in runs.items()]
    if not rows:
        raise ValueError(f"{_VIEW}: runs is empty; pass at least one run.")
    reach_name = "gradient horizon" if named.reach == "horizon" else "reach"
    figure = _layout.new_figure(11.0, max(3.5, 0.6 + 0.22 * len(rows)))
    axes = np.asarray(figure.subplots(1, 2, width_ratios=(3, 2)))
    colours = {row.run: sample_color(i) for i, row in enumerate(rows)}
    _draw_lines(axes[0], rows, colours, reach_name)
    ranked = comparison.sort_rows(rows, sort, descending)
    _draw_bars(axes[1], [r for r in ranked if r.reach], colours, reach_name, sort)
    _layout.set_suptitle(figure, _quantity.title(title, named))
    return figure, axes


def _row(run: str, entry: Mapping[str, Any], kind: str) -> comparison.RunComparison:
    steps = np.asarray(entry.get("steps", ()), dtype=np.int64).ravel()
    reach = np.asarray(entry.get("reach", ()), dtype=np.int64).ravel()
    if len(reach) and len(steps) != len(reach):
        raise ValueError(
            f"{_VIEW}: run {run!r} has {len(steps)} steps but {len(reach)} reach "
            "values; pass one reach per step (the compare route's answer as is)."
        )
    if np.any(np.diff(steps) <= 0):
        raise ValueError(f"{_VIEW}: the steps of run {run!r} must increase.")
    max_abs = entry.get("max_abs")
    return comparison.RunComparison(
        run=str(run),
        tag="",
        kind=kind,
        steps=tuple(int(s) for s in steps),
        reach=tuple(int(v) for v in reach),
        max_abs=None if max_abs is None else float(max_abs),
        max_abs_step=None,
        nonfinite=int(entry.get("nonfinite", 0)),
        last_step=int(entry.get("last_step", steps[-1] if len(steps) else 0)),
    )


def _draw_lines(ax: Axes, rows: list, colours: dict, reach_name: str) -> None:
    for i, row in enumerate(rows):
        if not row.reach:
            continue
        label = row.run if i < MAX_LEGEND else None
        ax.plot(
            row.steps, row.reach, color=colours[row.run], linewidth=1.2, label=label
        )
    ax.grid(True, linewidth=0.4)
    _layout.set_labels(ax, "training step", f"{reach_name} (timesteps back)")
    drawn = sum(1 for r in rows if r.reach)
    _layout.set_title(ax, f"{reach_name} over training, {drawn} runs")
    if drawn and drawn <= MAX_LEGEND:
        legend = ax.legend(fontsize="x-small", loc="best")
        for text in legend.get_texts():
            text.set_parse_math(False)


def _draw_bars(ax: Axes, rows: list, colours: dict, reach_name: str, sort: str) -> None:
    positions = np.arange(len(rows))
    values = [r.latest_reach for r in rows]
    ax.barh(positions, values, color=[colours[r.run] for r in rows])
    ax.set_yticks(positions, [r.run for r in rows], fontsize="x-small")
    for label in ax.get_yticklabels():
        label.set_parse_math(False)
    ax.invert_yaxis()  # the first in the order at the top
    top = max(values, default=0) or 1
    for y, row in zip(positions, rows, strict=True):
        text = "" if row.max_abs is None else f" max |g| {row.max_abs:.3g}"
        ax.text(
            row.latest_reach,
            y,
            text,
            va="center",
            fontsize="xx-small",
            parse_math=False,
        )
        if row.nonfinite:
            ax.text(
                top * 1.02,
                y,
                f"NaN/Inf {row.nonfinite}",
                va="center",
                fontsize="xx-small",
                color=NAN_COLOR,
                parse_math=False,
            )
    ax.set_xlim(0, top * 1.35)
    _layout.set_labels(ax, f"latest {reach_name}", "")
    _layout.set_title(ax, f"by {sort.replace('_', ' ')}")
