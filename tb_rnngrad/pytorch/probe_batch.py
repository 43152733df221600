"""The first samples of a probe batch `(inputs, targets)`: the logger's
`max_samples`.

The batch size is that of the first tensor or PackedSequence of the inputs
(its batch axis: 0 batch-first, 1 time-major; a PackedSequence's first batch
size). Every tensor of the inputs and targets, nested in tuples, lists and
dicts, is cut along the first axis of that size, its layout's batch axis
tried first (an `h0` of shape (layers, batch, hidden) is cut along axis 1);
a tensor without such an axis passes whole. A PackedSequence keeps its first
sequences.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor
from torch.nn.utils import rnn as rnn_utils

from tb_rnngrad.errors import CaptureError


def first_samples(
    data: tuple[Any, Any], count: int, batch_first: bool
) -> tuple[Any, Any]:
    """The first `count` samples of `(inputs, targets)`; the batch itself if
    it has at most `count` samples.

    Args:
        data: The probe batch, `(inputs, targets)`.
        count: How many samples to keep.
        batch_first: The layout of the inputs' tensors.

    Raises:
        CaptureError: A target is neither a tensor nor a structure of them,
            so it cannot be cut.
    """
    size = batch_size(data[0], batch_first)
    if size is None or size <= count:
        return data
    axis = 0 if batch_first else 1
    return tuple(_cut(part, size, count, axis) for part in data)


def batch_size(inputs: Any, batch_first: bool) -> int | None:
    """The batch size of the first tensor or PackedSequence in `inputs`."""
    for value in _leaves(inputs):
        if isinstance(value, rnn_utils.PackedSequence):
            return int(value.batch_sizes[0])
        if isinstance(value, Tensor) and value.dim() > 0:
            return int(value.shape[0 if batch_first or value.dim() == 1 else 1])
    return None


def _leaves(value: Any):
    if isinstance(value, (Tensor, rnn_utils.PackedSequence)):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _leaves(item)


def _cut(value: Any, size: int, count: int, axis: int) -> Any:
    if isinstance(value, rnn_utils.PackedSequence):
        sequences = rnn_utils.unpack_sequence(value)[:count]
        return rnn_utils.pack_sequence(sequences, enforce_sorted=False)
    if isinstance(value, Tensor):
        axes = [axis, *range(value.dim())]
        for candidate in axes:
            if candidate < value.dim() and value.shape[candidate] == size:
                return value.narrow(candidate, 0, count)
        return value
    if isinstance(value, Mapping):
        return {key: _cut(item, size, count, axis) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        items = [_cut(item, size, count, axis) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    raise CaptureError(
        f"max_samples={count} cannot cut a {type(value).__name__} of the probe "
        f"batch ({size} samples) to its first {count} samples. Pass a probe "
        f"batch of at most {count} samples, or max_samples=None."
    )
