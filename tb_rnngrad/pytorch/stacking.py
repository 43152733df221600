"""One entry of a recurrence from its calls: each call's part (`Piece`), and
the parts of a chain of calls stacked along time (`stack`).

A module that runs once over a sequence gives one piece per entry. A
recurrence unrolled by hand (`chains`) gives one per call, and its entry is
the calls' pieces concatenated along the time axis in call order, so that
every kind keeps the (batch, timesteps, channels) layout; the per-timestep
weight terms (`timestep_terms`) then come from the stacked trace and
gradients as from one call.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.pytorch.bptt import Gradients, Trace


@dataclasses.dataclass
class Piece:
    """One call's part of an entry, batch-first.

    Attributes:
        output: The call's output, (batch, timesteps, channels).
        output_gradient: Gives d(loss)/d(output), same shape.
        mask: (batch, timesteps) bool, True for real steps, or None.
        through_time: Gives the call's `Trace` and `Gradients` (state kinds
            only; None otherwise).
        state_shape: The shape of the state the call returned, per sample
            (for the check that a chain's calls fit together).
    """

    output: Tensor
    output_gradient: Callable[[], Tensor]
    mask: Tensor | None
    through_time: Callable[[], tuple[Trace, Gradients]] | None
    state_shape: tuple[int, ...]


class Stacked:
    """The pieces of one chain, concatenated along time (lazily, per kind)."""

    def __init__(self, key: str, pieces: Sequence[Piece]) -> None:
        _check_fits(key, pieces)
        self.pieces = list(pieces)
        self.call_timesteps = tuple(p.output.shape[1] for p in pieces)

    @functools.cached_property
    def output(self) -> Tensor:
        return _cat([p.output for p in self.pieces])

    @functools.cached_property
    def output_gradient(self) -> Tensor:
        return _cat([p.output_gradient() for p in self.pieces])

    @functools.cached_property
    def mask(self) -> Tensor | None:
        return _masks([(p.mask, p.output) for p in self.pieces])

    @functools.cached_property
    def through_time(self) -> tuple[Trace, Gradients]:
        found = [p.through_time() for p in self.pieces]
        if len(found) == 1:
            return found[0]
        traces = [trace for trace, _ in found]
        grads = [g for _, g in found]
        trace = Trace(
            inputs=_cat([t.inputs for t in traces]),
            previous=_cat([t.previous for t in traces]),
            unprojected=_cat_optional([t.unprojected for t in traces]),
            mask=_masks([(t.mask, t.inputs) for t in traces]),
        )

        def gates() -> tuple[Tensor, Tensor]:
            return (
                _cat([g.input_gates for g in grads]),
                _cat([g.recurrent_gates for g in grads]),
            )

        stacked = Gradients(
            _cat([g.state for g in grads]),
            _cat_optional([g.cell for g in grads]),
            grads[0].h0,
            grads[0].c0,
            gates,
        )
        return trace, stacked


def _check_fits(key: str, pieces: Sequence[Piece]) -> None:
    """CaptureError unless every call of a chain has the first one's batch
    size and state shape."""
    first = pieces[0]
    for n, piece in enumerate(pieces[1:], start=1):
        if (
            piece.output.shape[0] != first.output.shape[0]
            or piece.state_shape != first.state_shape
        ):
            raise CaptureError(
                f"Recurrent module '{key}' was called in one recurrence (each "
                "call continuing the state of the one before) with different "
                f"shapes: call 0 has batch {first.output.shape[0]} and state "
                f"{first.state_shape}, call {n} batch {piece.output.shape[0]} "
                f"and state {piece.state_shape}. Its calls are stacked along "
                "time, so they must share the batch and state shape: capture "
                "on a probe batch whose size does not change between calls."
            )


def _cat(tensors: Sequence[Tensor]) -> Tensor:
    return tensors[0] if len(tensors) == 1 else torch.cat(list(tensors), dim=1)


def _cat_optional(tensors: Sequence[Tensor | None]) -> Tensor | None:
    return None if any(t is None for t in tensors) else _cat(tensors)


def _masks(pairs: Sequence[tuple[Tensor | None, Tensor]]) -> Tensor | None:
    """The calls' masks concatenated (all True for a call without one), or
    None when no call has one."""
    if all(mask is None for mask, _ in pairs):
        return None
    return _cat(
        [
            mask
            if mask is not None
            else torch.ones(like.shape[:2], dtype=torch.bool, device=like.device)
            for mask, like in pairs
        ]
    )
