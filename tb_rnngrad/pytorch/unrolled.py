"""The entries of a recurrent target from its calls.

A module that ran once over its sequence gives its entries as before. A
module called several times, or a cell called once per step, is a recurrence
unrolled by hand: each chain of calls that continue one another (`chains`)
is one recurrence, its calls stacked along time (`stacking`), keyed by the
target's key when there is one chain and `<key>/call_<i>` when there are
several independent ones (a shared encoder applied to two sequences).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from torch import Tensor, nn

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.pytorch.modules import Entry, Target, entries, is_cell
from tb_rnngrad.pytorch.stacking import Piece, Stacked


class CallsPass(Protocol):
    """What `RnnPass` and `CellPass` both give."""

    key: str
    module: nn.Module
    calls: list
    chains: object

    def piece(self, call: int, layer: int, direction: int, grads) -> Piece: ...
    def timesteps(self, call: int) -> int: ...
    def reached(self, call: int, unused: set[int]) -> bool: ...


def recurrences(
    target: Target, calls_pass: CallsPass, grads: dict[int, Tensor]
) -> list[tuple[Entry, Stacked]]:
    """Every entry of the target, with its calls' pieces stacked."""
    chains = calls_pass.chains.groups()
    found = []
    for number, calls in enumerate(chains):
        key = target.key if len(chains) == 1 else f"{target.key}/call_{number}"
        timesteps = ()
        if is_unrolled(target.module, calls):
            timesteps = tuple(calls_pass.timesteps(call) for call in calls)
        for entry in entries(target, key, timesteps):
            pieces = [
                calls_pass.piece(call, entry.layer, entry.direction, grads)
                for call in calls
            ]
            found.append((entry, Stacked(entry.key, pieces)))
    return found


def is_unrolled(module: nn.Module, calls: Sequence[int]) -> bool:
    """Whether a chain is a recurrence unrolled by hand (its time axis is
    the steps of a loop): a cell's, or one of several calls."""
    return is_cell(module) or len(calls) > 1


def check_reached(rnns: Sequence[tuple[Target, CallsPass]], unused: set[int]) -> None:
    """CaptureError for an unrolled target none of whose calls the loss uses.

    Args:
        rnns: The recurrent targets and their passes.
        unused: Ids of the probes autograd found no gradient for.
    """
    for target, calls_pass in rnns:
        count = len(calls_pass.calls)
        if not is_unrolled(target.module, range(count)):
            continue
        if not any(calls_pass.reached(call, unused) for call in range(count)):
            raise CaptureError(
                f"Module '{target.key}' ({type(target.module).__name__}) was "
                f"called {count} times, but the loss depends on none of its "
                "outputs or states, so it has no gradient on this batch. Check "
                "that the forward pass uses what the module returns (without "
                ".detach()), or leave it out of layers=."
            )


def notes(rnns: Sequence[tuple[Target, CallsPass]]) -> list[str]:
    """One note per target whose calls were stacked along time."""
    found = []
    for target, calls_pass in rnns:
        chains = calls_pass.chains.groups()
        for number, calls in enumerate(chains):
            if not is_unrolled(target.module, calls):
                continue
            key = target.key if len(chains) == 1 else f"{target.key}/call_{number}"
            steps = [calls_pass.timesteps(call) for call in calls]
            found.append(f"'{key}': {describe_calls(steps)}, stacked along time.")
    return found


def describe_calls(steps: Sequence[int]) -> str:
    """How the calls of one recurrence ran, in words, e.g. "a call over 12
    timesteps, then 20 calls of 1 timestep"."""
    runs: list[list[int]] = []
    for n in steps:
        if runs and runs[-1][0] == n:
            runs[-1][1] += 1
        else:
            runs.append([n, 1])
    parts = []
    for n, count in runs:
        unit = "timestep" if n == 1 else "timesteps"
        calls = "a call" if count == 1 else f"{count} calls"
        parts.append(f"{calls} of {n} {unit}")
    total = sum(steps)
    return f"{len(steps)} calls ({', then '.join(parts)}; {total} timesteps)"
