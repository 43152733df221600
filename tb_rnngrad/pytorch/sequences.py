"""Sequence layouts: PackedSequence, time-major and unbatched inputs to and from
one batch-first padded tensor with a mask."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor
from torch.nn.utils import rnn as rnn_utils


@dataclasses.dataclass(frozen=True)
class Padded:
    """A sequence as (batch, timesteps, channels), and how to give it back.

    Attributes:
        data: (batch, timesteps, channels), batch in the caller's order.
        mask: (batch, timesteps) bool, True for real steps; None when every
            step is real (the input was not a PackedSequence).
        packed: The PackedSequence given, or None.
        batch_first: Whether a plain tensor was (batch, timesteps, ...).
        unbatched: Whether a plain tensor had no batch axis.
    """

    data: Tensor
    mask: Tensor | None = None
    packed: rnn_utils.PackedSequence | None = None
    batch_first: bool = True
    unbatched: bool = False

    def like(self, data: Tensor) -> Tensor | rnn_utils.PackedSequence:
        """`data` (batch, timesteps, channels) in the layout this came in."""
        if self.packed is not None:
            return repack(data, self.packed)
        if self.unbatched:
            return data[0]
        return data if self.batch_first else data.transpose(0, 1)


def pad(sequence: Tensor | rnn_utils.PackedSequence, batch_first: bool) -> Padded:
    """The batch-first padded form of an RNN input (or output).

    Args:
        sequence: A PackedSequence, or a tensor (batch, timesteps, channels)
            if `batch_first`, else (timesteps, batch, channels), or an
            unbatched (timesteps, channels) tensor.
        batch_first: The layout of a tensor `sequence`.
    """
    if isinstance(sequence, rnn_utils.PackedSequence):
        data, lengths = rnn_utils.pad_packed_sequence(sequence, batch_first=True)
        steps = torch.arange(data.shape[1], device=lengths.device)
        mask = (steps[None, :] < lengths[:, None]).to(data.device)
        return Padded(data, mask, packed=sequence)
    if sequence.dim() == 2:
        return Padded(sequence[None], unbatched=True)
    data = sequence if batch_first else sequence.transpose(0, 1)
    return Padded(data, batch_first=batch_first)


def repack(data: Tensor, like: rnn_utils.PackedSequence) -> rnn_utils.PackedSequence:
    """Packs batch-first padded `data` with the batch sizes and sample order
    of `like` (so the result lines up with `like` row for row)."""
    batch_sizes = like.batch_sizes
    order = like.sorted_indices
    if order is None:
        order = torch.arange(data.shape[0])
    order = order.to(data.device)
    steps = torch.repeat_interleave(torch.arange(len(batch_sizes)), batch_sizes).to(
        data.device
    )
    rows = torch.cat([order[:size] for size in batch_sizes.tolist()])
    return rnn_utils.PackedSequence(
        data[rows, steps], batch_sizes, like.sorted_indices, like.unsorted_indices
    )


def to_batch_major(tensor: Tensor, batch_first: bool) -> Tensor:
    """A rank-3 tensor as (batch, timesteps, channels); others unchanged."""
    if batch_first or tensor.dim() != 3:
        return tensor
    return tensor.transpose(0, 1)
