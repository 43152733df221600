"""Entries of layers called more than once: chains, keys, and stacking.

A layer or free cell whose calls continue one another (`chains`) is one
recurrence unrolled by hand: each chain is one entry whose per-call results
are stacked along time in call order (a call over k timesteps gives k
columns, a cell call one). Independent chains of one layer are separate
entries, `<key>/call_0`, `<key>/call_1`, ... Inside the traced pass an
entry's values are lists of per-call tensors; `Joiner` joins the NumPy
arrays afterwards, checking that the calls agree on batch size and widths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from keras import ops

from tb_rnngrad.capture.errors import CaptureError


@dataclasses.dataclass(frozen=True)
class Entry:
    """One entry of a captured layer: a chain of its calls.

    Attributes:
        key: The entry key before any `/forward` or `/backward`: the layer
            key, or `<key>/call_<i>` when the layer has several chains.
        calls: Indices of the calls in the chain, in call order.
        stacked: Whether values are per-call lists to stack (a cell, or a
            chain of several calls), rather than one call's tensors.
    """

    key: str
    calls: tuple[int, ...]
    stacked: bool


def entries(key: str, chains: Sequence[Sequence[int]], cell: bool) -> list[Entry]:
    """The entries of a layer with these chains (`chains.group`)."""
    return [
        Entry(
            key=key if len(chains) == 1 else f"{key}/call_{n}",
            calls=tuple(chain),
            stacked=cell or len(chain) > 1,
        )
        for n, chain in enumerate(chains)
    ]


def pick(entry: Entry, per_call: Sequence[Any]) -> Any:
    """The entry's value: a list of its calls' values, or the one value."""
    values = [per_call[i] for i in entry.calls]
    return values if entry.stacked else values[0]


def _mismatch(key: str, what: str, shapes: list[tuple]) -> CaptureError:
    seen = ", ".join(f"call {i}: {s}" for i, s in enumerate(shapes))
    return CaptureError(
        f"The calls of '{key}' continue one another (each starts from the "
        f"state the one before returned), but their {what} differ: {seen}. "
        "The calls of one recurrence must keep one batch size and one state "
        "shape. Keep the batch whole through the loop (mask finished "
        "sequences instead of dropping rows), or start a new recurrence "
        "(pass a fresh initial state) where the shape changes."
    )


def stack(key: str, parts: Sequence[np.ndarray], axis: int, what: str) -> np.ndarray:
    """`parts` joined along `axis`, the other axes checked equal."""
    shapes = [tuple(p.shape) for p in parts]
    rest = {s[:axis] + s[axis + 1 :] for s in shapes}
    if len(rest) > 1:
        raise _mismatch(key, what, shapes)
    return np.concatenate(parts, axis=axis)


def as_steps(part: np.ndarray, steps: int, go_backwards: bool) -> np.ndarray:
    """One call's output as (batch, steps, channels): a last output alone
    (batch, channels) goes at the last step processed, zeros elsewhere."""
    if part.ndim != 2:
        return part
    columns = np.zeros((part.shape[0], max(steps, 1), part.shape[1]), part.dtype)
    columns[:, 0 if go_backwards else -1] = part
    return columns


def stack_outputs(
    key: str, parts: Sequence[np.ndarray], steps: Sequence[int], go_backwards: bool
) -> np.ndarray:
    """Per-call outputs or their gradients, stacked to (batch, time, channels)."""
    columns = [as_steps(p, s, go_backwards) for p, s in zip(parts, steps, strict=True)]
    return stack(key, columns, 1, "outputs (batch, timesteps, channels)")


def stack_masks(
    key: str, parts: Sequence[np.ndarray | None], steps: Sequence[int], batch: int
) -> np.ndarray | None:
    """Per-call masks stacked along time; None if no call has one."""
    if all(p is None for p in parts):
        return None
    filled = [
        np.ones((batch, s), bool) if p is None else np.asarray(p, bool)
        for p, s in zip(parts, steps, strict=True)
    ]
    return stack(key, filled, 1, "masks (batch, timesteps)")


def note(key: str, name: str, steps: Sequence[int]) -> str | None:
    """The remark on a chain that mixes calls over several timesteps with
    others (a sequence run whole, then continued step by step)."""
    if len(steps) < 2 or all(s == 1 for s in steps):
        return None
    return (
        f"Entry '{key}' stacks {len(steps)} calls of '{name}' that continue "
        f"one another along time, in call order, with {list(steps)} timesteps "
        "each (e.g. a whole sequence, then steps continued from its state); "
        "its time axis runs through all of them. A call returning only its "
        "last output fills its other columns of `gradients` and "
        "`activations` with zeros."
    )


class Joiner:
    """A pass's tensors as NumPy arrays, each stacked entry's calls joined.

    Args:
        steps: `{entry key: timesteps of each call}` of the stacked entries.
        backwards: The entry keys of `go_backwards` layers.
        batch: The batch size.
    """

    def __init__(self, steps: dict[str, list[int]], backwards: set[str], batch: int):
        self.steps, self.backwards, self.batch = steps, backwards, batch

    def outputs(self, values: dict) -> dict:
        """Outputs or their gradients: (batch, time, channels) per entry."""
        return _arrays(
            values,
            lambda key, parts: stack_outputs(
                key, parts, self.steps[key], key in self.backwards
            ),
        )

    def masks(self, values: dict) -> dict:
        """Masks: (batch, time) per entry, or None."""
        return _arrays(
            values,
            lambda key, parts: stack_masks(key, parts, self.steps[key], self.batch),
        )

    def along(self, values: dict, axis: int, what: str) -> dict:
        """Any other per-call tensors, joined along `axis`."""
        return _arrays(values, lambda key, parts: stack(key, parts, axis, what))


def _arrays(values: dict, join: Any) -> dict:
    """`values` as NumPy arrays; a list (a stacked entry's calls) joined by
    `join(key, arrays)`."""
    out = {}
    for key, value in values.items():
        if isinstance(value, list):
            parts = [None if v is None else ops.convert_to_numpy(v) for v in value]
            out[key] = join(key, parts)
        else:
            out[key] = None if value is None else ops.convert_to_numpy(value)
    return out
