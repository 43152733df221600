"""Checks that logged data has a shape and dtype the plugin can show."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: The dtypes the plugin logs and draws: real floating types, by name (NumPy
#: lists bfloat16, which TF and JAX hand out, apart from its own floats).
REAL_FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")

_EXPECTED = (
    "a real floating array of shape (batch, timesteps, channels) or (batch, channels)"
)


def check_tensor_spec(shape: tuple[int | None, ...] | None, dtype_name: str) -> None:
    """Validates the shape and dtype of data to be logged.

    Args:
      shape: The shape, with None for dimensions unknown until run time; None
        when even the rank is unknown.
      dtype_name: NumPy/TensorFlow dtype name, e.g. "float32".

    Raises:
      TypeError: The dtype is not a real floating type.
      ValueError: The rank is not 2 or 3, or a dimension is zero.
    """
    _check_floating("data", dtype_name, shape, _EXPECTED)
    if shape is None:
        raise ValueError(
            f"got data of unknown rank; expected {_EXPECTED}. Give it a static "
            "rank, e.g. with tf.ensure_shape."
        )
    if len(shape) not in (2, 3):
        raise ValueError(
            f"got data of shape {_fmt(shape)} (rank {len(shape)}); expected "
            f"{_EXPECTED}. Add or merge axes so that samples come first and "
            "channels last."
        )
    if any(dim == 0 for dim in shape):
        raise ValueError(
            f"got data of shape {_fmt(shape)} with an empty dimension; expected "
            f"{_EXPECTED} with every dimension at least 1."
        )


_MATRIX = "a real floating weight of shape (rows, columns), or (columns,) for a bias"


def check_matrix_spec(shape: tuple[int | None, ...] | None, dtype_name: str) -> None:
    """Validates the shape and dtype of a weight to be logged.

    Args:
      shape: The shape, None for dimensions (or a rank) unknown until run time.
      dtype_name: NumPy/TensorFlow dtype name, e.g. "float32".

    Raises:
      TypeError: The dtype is not a real floating type.
      ValueError: The rank is not 1 or 2, or a dimension is zero.
    """
    _check_floating("a weight", dtype_name, shape, _MATRIX)
    if shape is None or len(shape) not in (1, 2):
        rank = "unknown rank" if shape is None else f"shape {_fmt(shape)}"
        raise ValueError(
            f"got a weight of {rank}; expected {_MATRIX}. Log each weight "
            "of a cell on its own (a GRU's two-row bias as two rows)."
        )
    if any(dim == 0 for dim in shape):
        raise ValueError(
            f"got a weight of shape {_fmt(shape)} with an empty dimension; "
            f"expected {_MATRIX} with every dimension at least 1."
        )


def check_mask_spec(
    shape: tuple[int | None, ...],
    dtype_name: str,
    data_shape: tuple[int | None, ...],
) -> None:
    """Validates a (batch, timesteps) bool mask against rank-3 data.

    Args:
      shape: The mask's shape, with None for dimensions unknown until run time.
      dtype_name: NumPy/TensorFlow dtype name of the mask, e.g. "bool".
      data_shape: The shape of the data the mask belongs to.

    Raises:
      TypeError: The mask is not bool.
      ValueError: The data has no time axis or the shapes disagree.
    """
    if dtype_name != "bool":
        raise TypeError(
            f"got a mask of dtype {dtype_name}; expected bool, True for valid "
            "timesteps. Convert it, e.g. with mask != 0 or tf.cast(mask, tf.bool)."
        )
    if len(data_shape) != 3:
        raise ValueError(
            f"a mask was given for data of shape {_fmt(data_shape)}, which has "
            "no time axis; pass mask=None for (batch, channels) data."
        )
    expected = tuple(data_shape[:2])
    if len(shape) != 2 or any(
        m is not None and d is not None and m != d
        for m, d in zip(shape, expected, strict=True)
    ):
        raise ValueError(
            f"got a mask of shape {_fmt(shape)}; expected (batch, timesteps) "
            f"= {_fmt(expected)} to match the data."
        )


def reject_mapping(data: object) -> None:
    """Raises TypeError if `data` is a dict, such as all of `rnn_gradients`.

    Raises:
      TypeError: Naming the keys and the one-array call to make instead.
    """
    if isinstance(data, Mapping):
        keys = list(data)
        example = f"data[{keys[0]!r}]" if keys else "one array"
        raise TypeError(
            f"got a dict with keys {keys}; log one array per call, e.g. "
            f"{example} (rnn_gradients returns one array per layer)."
        )


def as_checked_array(data: object) -> np.ndarray:
    """Returns `data` as a validated C-ordered NumPy array (no copy if possible).

    Raises:
      TypeError, ValueError: As `check_tensor_spec` and `reject_mapping`.
    """
    reject_mapping(data)
    array = np.asarray(data)
    check_tensor_spec(array.shape, array.dtype.name)
    return np.ascontiguousarray(array)


def as_checked_matrix(data: object) -> np.ndarray:
    """Returns a weight as a validated C-ordered (rows, columns) array; a 1-D
    bias becomes (1, columns).

    Raises:
      TypeError, ValueError: As `check_matrix_spec` and `reject_mapping`.
    """
    reject_mapping(data)
    array = np.asarray(data)
    check_matrix_spec(array.shape, array.dtype.name)
    if array.dtype.name == "bfloat16":
        array = array.astype(np.float32)
    return np.ascontiguousarray(array.reshape(1, -1) if array.ndim == 1 else array)


def as_checked_mask(mask: object, data_shape: tuple[int, ...]) -> np.ndarray | None:
    """Returns `mask` as a validated C-ordered bool array, or None if None.

    Raises:
      TypeError, ValueError: As `check_mask_spec`.
    """
    if mask is None:
        return None
    array = np.asarray(mask)
    check_mask_spec(array.shape, array.dtype.name, data_shape)
    return np.ascontiguousarray(array)


def _fmt(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "(unknown)"
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _check_floating(
    what: str, dtype_name: str, shape: tuple | None, expected: str
) -> None:
    """Raises TypeError unless `dtype_name` is a real floating type."""
    if dtype_name not in REAL_FLOAT_DTYPES:
        raise TypeError(
            f"got {what} of dtype {dtype_name} and shape {_fmt(shape)}; expected "
            f"{expected}. Cast it, e.g. with tf.cast(data, tf.float32)."
        )
