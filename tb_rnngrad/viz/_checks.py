"""Input validation shared by the views.

Every error names the view, what was given, what was expected and what to do.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from tb_rnngrad.format.validation import REAL_FLOAT_DTYPES

_RANK_HINTS = {
    2: "(batch, channels): the gradient of a layer with return_sequences=False",
    3: "(batch, timesteps, channels): the gradient of a layer with "
    "return_sequences=True",
}


def real_float_array(
    data: ArrayLike, *, view: str, name: str, rank: int, layout: str | None = None
) -> np.ndarray:
    """Returns `data` as a real floating-point array of the given rank.

    Args:
        data: the array.
        view: name of the calling view, for error messages.
        name: name of the argument, for error messages.
        rank: the expected number of axes.
        layout: what the axes are, for the error of a wrong rank; default the
            gradient layout of that rank.

    Raises:
        TypeError: if the dtype is not a real floating-point type.
        ValueError: if the rank is wrong or an axis is empty.
    """
    array = np.asarray(data)
    if array.dtype.name not in REAL_FLOAT_DTYPES:
        raise TypeError(
            f"{view}: {name} must hold real floating-point values "
            f"({', '.join(REAL_FLOAT_DTYPES)}); got dtype {array.dtype}. Convert "
            f"it with np.asarray({name}, dtype=np.float32)."
        )
    if array.ndim != rank:
        advice = "" if layout else _rank_advice(view, array.ndim)
        raise ValueError(
            f"{view}: {name} must be a {rank}-D array "
            f"{layout or _RANK_HINTS.get(rank, '')}; got shape {array.shape} "
            f"({array.ndim}-D).{advice}"
        )
    if 0 in array.shape:
        raise ValueError(
            f"{view}: {name} has an empty axis (shape {array.shape}); "
            "pass at least one sample, timestep and channel."
        )
    if array.dtype.itemsize < 4:  # float16, bfloat16: drawn as float32
        array = array.astype(np.float32)
    return array


def norm_array(
    data: ArrayLike,
    *,
    view: str,
    name: str,
    rank: int,
    advice: str,
    layout: str | None = None,
) -> np.ndarray:
    """Returns `data` as a real floating-point array of norms (none negative).

    NaN and +-Inf pass (the views colour them); finite negative values do not.

    Args:
        data: the norms.
        view: name of the calling view, for error messages.
        name: name of the argument, for error messages.
        rank: the expected number of axes.
        advice: what to pass instead, for the error of a negative value.
        layout: what the axes are, for the error of a wrong rank.

    Raises:
        TypeError: if the dtype is not a real floating-point type.
        ValueError: if the rank is wrong, an axis is empty or a value negative.
    """
    values = real_float_array(data, view=view, name=name, rank=rank, layout=layout)
    negative = np.isfinite(values) & (values < 0)
    if negative.any():
        index = tuple(int(i) for i in np.argwhere(negative)[0])
        raise ValueError(
            f"{view}: {name} are norms and must be >= 0; got {values[index]:g} at "
            f"index {index}. {advice}"
        )
    return values


def _rank_advice(view: str, ndim: int) -> str:
    if ndim == 2 and view != "scatter0d":
        return " For (batch, channels) data use scatter0d."
    if ndim == 3 and view == "scatter0d":
        return " For (batch, timesteps, channels) data use heatmap or channel_grid."
    if ndim == 1:
        return " Add the batch axis, e.g. data[None, ...]."
    return ""


def index_list(
    indices: int | Sequence[int] | np.ndarray | None,
    size: int,
    *,
    view: str,
    name: str,
    axis: str,
) -> list[int]:
    """Validates a selection of indices along an axis of length `size`.

    Args:
        indices: None (all), one int, or a sequence of ints.
        size: length of the axis.
        view: name of the calling view, for error messages.
        name: name of the argument, for error messages.
        axis: name of the axis ("batch", "channels"), for error messages.

    Returns:
        The selected indices as a list of Python ints, in the order given.

    Raises:
        TypeError: if an index is not an integer.
        ValueError: if an index is out of range or the selection is empty.
    """
    if indices is None:
        return list(range(size))
    items = [indices] if _is_int(indices) else list(np.asarray(indices).ravel())
    if not items:
        raise ValueError(
            f"{view}: {name} is empty; pass at least one index in [0, {size}) "
            "or None for all."
        )
    result = []
    for item in items:
        if not _is_int(item):
            raise TypeError(
                f"{view}: {name} must be integers; got {item!r} "
                f"({type(item).__name__}). Pass e.g. {name}=[0, 1]."
            )
        if not 0 <= int(item) < size:
            raise ValueError(
                f"{view}: {name} index {int(item)} is out of range for data with "
                f"{axis}={size}; use indices in [0, {size})."
            )
        result.append(int(item))
    return result


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value: object, *, view: str, name: str) -> int:
    """Returns `value` as an int after checking it is a positive integer.

    Raises:
        TypeError: if it is not an integer.
        ValueError: if it is not positive.
    """
    if not _is_int(value):
        raise TypeError(
            f"{view}: {name} must be a positive integer; got {value!r} "
            f"({type(value).__name__})."
        )
    if int(value) < 1:
        raise ValueError(f"{view}: {name} must be at least 1; got {value}.")
    return int(value)


def valid_mask(
    mask: ArrayLike | None, batch: int, timesteps: int, *, view: str
) -> np.ndarray:
    """Returns a (batch, timesteps) bool array, True where a timestep is valid.

    Raises:
        TypeError: if the mask is not boolean.
        ValueError: if its shape does not match the data.
    """
    if mask is None:
        return np.ones((batch, timesteps), dtype=bool)
    array = np.asarray(mask)
    if array.dtype != np.bool_:
        raise TypeError(
            f"{view}: mask must be a boolean array (True = valid timestep); got "
            f"dtype {array.dtype}. Convert it with np.asarray(mask, dtype=bool)."
        )
    if array.shape != (batch, timesteps):
        raise ValueError(
            f"{view}: mask must have shape (batch, timesteps) = "
            f"{(batch, timesteps)} to match data; got {array.shape}."
        )
    return array


def direction_units(
    channels: int,
    *,
    bidirectional: bool,
    units: int | None,
    reflect_backward: bool,
    view: str,
) -> int | None:
    """Returns the units per direction of a Bidirectional layer, or None.

    Raises:
        ValueError: if the flags contradict each other or the channel count.
    """
    if reflect_backward and not bidirectional:
        raise ValueError(
            f"{view}: reflect_backward=True needs bidirectional=True (it flips the "
            "backward half of a Bidirectional layer's channels); pass "
            "bidirectional=True, units=U for a Bidirectional(merge_mode='concat') "
            "layer, or drop reflect_backward."
        )
    if not bidirectional:
        if units is not None:
            raise ValueError(
                f"{view}: units={units} is only used with bidirectional=True; "
                "pass bidirectional=True or drop units."
            )
        return None
    if units is None:
        if channels % 2:
            raise ValueError(
                f"{view}: bidirectional=True expects concat channels (forward "
                f"units, then backward units), an even count; got {channels} "
                "channels. Pass units=U if the layer has U units per direction."
            )
        return channels // 2
    units = positive_int(units, view=view, name="units")
    if 2 * units != channels:
        raise ValueError(
            f"{view}: bidirectional=True with units={units} expects "
            f"{2 * units} channels (merge_mode='concat': forward units then "
            f"backward units); got {channels}. Other merge modes (sum, mul, ave) "
            "mix both directions and cannot be split."
        )
    return units
