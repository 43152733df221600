"""`dead_units`: channels whose gradient is exactly zero everywhere over the
last logged steps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.series import UNIT_KINDS, Series

_DEAD_HINT = (
    "Units whose gradient is exactly zero no longer learn, e.g. ReLU units "
    "stuck below zero (Lu et al. 2019, 'Dying ReLU'): lower the learning rate, "
    "start biases at zero or above, or use a leaky activation."
)


def dead_units(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """`dead_units`: channels whose gradient is exactly zero at every
    timestep and sample of each of the last `dead_steps` retained tensors.

    A tensor that is zero everywhere is an output no path uses (see the
    capture's notes), not dead units, and is left out.
    """
    found = []
    for s in series:
        if s.kind not in UNIT_KINDS or not s.tensors:
            continue
        recent = s.tensors[-thresholds.dead_steps :]
        dead, channels = dead_channels([d for _, d in recent])
        if dead.size:
            found.append(_dead_finding(s, dead, channels, [st for st, _ in recent]))
    return found


def dead_channels(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """(indices of the channels exactly zero in every array, channel count).

    No indices when every channel is zero (an output no path uses, not dead
    units), or when the arrays are not (..., channels) arrays of one channel
    count.
    """
    arrays = [a for a in arrays if a.ndim >= 2]
    if not arrays or len({a.shape[-1] for a in arrays}) != 1:
        return np.zeros(0, int), 0
    alive = np.zeros(arrays[0].shape[-1], bool)
    for data in arrays:
        with np.errstate(invalid="ignore"):
            alive |= (data.reshape(-1, data.shape[-1]) != 0).any(axis=0)
    dead = np.flatnonzero(~alive)
    if dead.size == alive.size:
        return np.zeros(0, int), alive.size
    return dead, alive.size


def _dead_finding(s: Series, dead: np.ndarray, channels: int, steps: list) -> Finding:
    shown = ", ".join(str(c) for c in dead[:8]) + (", ..." if dead.size > 8 else "")
    return Finding(
        code="dead_units",
        severity="warning",
        tag=s.tag,
        layer=s.layer,
        step=steps[-1],
        message=(
            f"{dead.size} of {channels} channels have a gradient of exactly zero "
            f"at every timestep over the last {len(steps)} logged steps "
            f"(channels {shown})."
        ),
        hint=_DEAD_HINT,
        evidence={
            "view": "grid",
            "channels": [int(c) for c in dead],
            "of": channels,
            "steps": [int(st) for st in steps],
        },
    )
