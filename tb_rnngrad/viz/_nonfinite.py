"""Counting and marking NaN/Inf values in line and scatter views."""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.axes import Axes

from tb_rnngrad.viz import colors


@dataclasses.dataclass(frozen=True)
class NonFiniteCounts:
    """Numbers of NaN, +Inf and -Inf values."""

    nan: int
    posinf: int
    neginf: int

    @classmethod
    def of(cls, values: np.ndarray) -> NonFiniteCounts:
        """Counts the non-finite values in `values`."""
        return cls(
            nan=int(np.isnan(values).sum()),
            posinf=int(np.isposinf(values).sum()),
            neginf=int(np.isneginf(values).sum()),
        )

    @property
    def total(self) -> int:
        """Total number of non-finite values."""
        return self.nan + self.posinf + self.neginf

    def describe(self) -> str:
        """Returns e.g. "2 NaN, 1 +Inf", or "" when all values are finite."""
        parts = [
            f"{count} {name}"
            for count, name in (
                (self.nan, "NaN"),
                (self.posinf, "+Inf"),
                (self.neginf, "-Inf"),
            )
            if count
        ]
        return ", ".join(parts)


def with_counts(label: str, counts: NonFiniteCounts) -> str:
    """Appends the non-finite counts to a panel label, if there are any."""
    description = counts.describe()
    return f"{label} [{description}]" if description else label


def mark_nonfinite(axes: Axes, x: np.ndarray, values: np.ndarray) -> None:
    """Marks non-finite values at the axes' edges, in their own colours.

    +Inf is marked at the top edge, -Inf at the bottom edge, NaN in the middle,
    each as a triangle/cross at its x position (data units).

    Args:
        axes: where to draw.
        x: x positions, same shape as `values`.
        values: the values; finite ones are ignored.
    """
    transform = axes.get_xaxis_transform()  # x in data units, y in axes units
    for select, height, marker, color in (
        (np.isposinf, 1.0, "^", colors.POSINF_COLOR),
        (np.isneginf, 0.0, "v", colors.NEGINF_COLOR),
        (np.isnan, 0.5, "X", colors.NAN_COLOR),
    ):
        where = select(values)
        if where.any():
            axes.plot(
                x[where],
                np.full(int(where.sum()), height),
                linestyle="none",
                marker=marker,
                color=color,
                transform=transform,
                clip_on=False,
                zorder=5,
            )
