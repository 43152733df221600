"""Preparing (batch, timesteps, channels) data for the sequence views.

Selects samples, applies the mask, reflects the backward half of a Bidirectional
layer and keeps the last `max_timesteps` columns of the displayed time axis.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from tb_rnngrad.viz import _checks


@dataclasses.dataclass(frozen=True)
class SequenceSelection:
    """The data a sequence view shows.

    Attributes:
        values: (selected samples, shown timesteps, channels).
        valid: bool, same shape as values; False where masked.
        timesteps: (shown timesteps,) original timestep indices of the columns.
        samples: the selected sample indices, in order.
        units: units per direction for Bidirectional data, else None.
        reflected: whether the backward half was reflected.
    """

    values: np.ndarray
    valid: np.ndarray
    timesteps: np.ndarray
    samples: list[int]
    units: int | None
    reflected: bool


def select_sequences(
    data: ArrayLike,
    *,
    view: str,
    samples: int | Sequence[int] | None,
    bidirectional: bool,
    units: int | None,
    reflect_backward: bool,
    max_timesteps: int | None,
    mask: ArrayLike | None = None,
) -> SequenceSelection:
    """Validates `data` and the options and returns what the view shows.

    Raises:
        TypeError: if data or mask has the wrong dtype, or an index is not an int.
        ValueError: if a shape, index or option is invalid.
    """
    array = _checks.real_float_array(data, view=view, name="data", rank=3)
    batch, timesteps, channels = array.shape
    chosen = _checks.index_list(samples, batch, view=view, name="samples", axis="batch")
    valid_steps = _checks.valid_mask(mask, batch, timesteps, view=view)
    half = _checks.direction_units(
        channels,
        bidirectional=bidirectional,
        units=units,
        reflect_backward=reflect_backward,
        view=view,
    )
    if max_timesteps is not None:
        _checks.positive_int(max_timesteps, view=view, name="max_timesteps")
    values = array[chosen]
    valid = np.repeat(valid_steps[chosen][:, :, None], channels, axis=2)
    if reflect_backward:
        values = reflect_backward_half(values, half)
        valid = reflect_backward_half(valid, half)
    keep = last_timesteps(max_timesteps, timesteps)
    return SequenceSelection(
        values=values[:, keep],
        valid=valid[:, keep],
        timesteps=np.arange(timesteps)[keep],
        samples=chosen,
        units=half,
        reflected=reflect_backward,
    )


def reflect_backward_half(values: np.ndarray, units: int) -> np.ndarray:
    """Flips the time axis of the backward channels of a Bidirectional output.

    Keras aligns the backward half (channels `units:` of a concat merge) to input
    time; flipping it puts both halves in processing order, so column t shows the
    t-th step each direction processed. The flip covers the whole time axis.

    Args:
        values: array (..., timesteps, channels) with 2 * units channels.
        units: units per direction.

    Returns:
        A new array; the forward channels are unchanged.
    """
    reflected = values.copy()
    reflected[..., units:] = values[..., ::-1, units:]
    return reflected


def last_timesteps(max_timesteps: int | None, timesteps: int) -> slice:
    """Returns the slice of the displayed time axis to keep.

    `max_timesteps` keeps the last `max_timesteps` columns of the displayed axis
    (after any reflection); None keeps all.
    """
    if max_timesteps is None or max_timesteps >= timesteps:
        return slice(0, timesteps)
    return slice(timesteps - max_timesteps, timesteps)


def channel_label(channel: int, units: int | None) -> str:
    """Returns "ch 3", or "fwd 3" / "bwd 3 (ch 7)" for Bidirectional data."""
    if units is None:
        return f"ch {channel}"
    if channel < units:
        return f"fwd {channel}"
    return f"bwd {channel - units} (ch {channel})"
