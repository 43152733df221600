"""The reduction of each full tensor of a logged step that fits a byte budget.

The plan depends on shapes only, so every logged step of a run is reduced
alike (and its metadata, written with the first step, stays true). Stages run
in this order; each goes down to its floor before the next starts, and takes
the least reduction that fits:

1. samples, down to `SAMPLE_FLOOR`: every statistic is already computed on the
   whole batch, and a few samples show the pattern the views are read for;
2. float16 (scaled per step by a power of two: `reduction.to_float16`),
   weight matrices included: halves everything, keeps 3 significant digits,
   which a colour scale cannot show anyway;
3. timestep pooling by largest |g|, down to `TIMESTEP_FLOOR` pooled
   timesteps (about the width of a heatmap in pixels): NaN, Inf and spikes
   stay visible, each in its group;
4. channels of largest norm, down to `CHANNEL_FLOOR`: the last resort,
   because the channel grid and the heatmap's rows lose their identity (the
   original indices are kept and shown).

Weight matrices keep every row and gate column (float16 is their floor);
weight contributions, (weights, timesteps, gates), are small and kept as is.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from tb_rnngrad.format.reduction import Reduction, effective, stored_shape

#: Default byte budget of one logged step, all layers and kinds together.
DEFAULT_MAX_BYTES = 8 * 2**20
#: Fewest samples the budget reduces a batch to.
SAMPLE_FLOOR = 4
#: Fewest pooled timesteps the budget reduces a sequence to.
TIMESTEP_FLOOR = 200
#: Fewest channels the budget reduces a tensor to.
CHANNEL_FLOOR = 64
#: Bytes an event of one summary value costs besides its text (tag, display
#: name and description, `Item.text`) and its tensor: framing, step, wall
#: time, metadata fields, tensor proto header; measured, rounded up.
_VALUE = 160
_NPY_HEADER = 128
#: A per-gate histogram's tensor: TensorBoard's 30 buckets of 3 float64.
_HISTOGRAM = 30 * 3 * 8


@dataclasses.dataclass(frozen=True)
class Item:
    """What the plan needs to know of one full tensor.

    Attributes:
      name: Its tag (named in the warning).
      shape: Captured shape.
      itemsize: Bytes per captured value.
      has_mask: Whether a mask is stored beside it.
      role: "sequence" for (batch, [timesteps,] channels) data, "matrix" for a
        weight matrix (float16 only), "fixed" for data kept as is.
      gates: Per-gate histograms and scalars written beside a matrix.
      text: Bytes of text each of its summary values repeats (tag twice, the
        description).
    """

    name: str
    shape: tuple[int, ...]
    itemsize: int
    has_mask: bool = False
    role: str = "sequence"
    gates: int = 0
    text: int = 512


@dataclasses.dataclass(frozen=True)
class Plan:
    """A reduction per item, the bytes they cost, and whether they fit."""

    reductions: tuple[Reduction, ...]
    total: int
    fits: bool


def item_bytes(item: Item, reduction: Reduction) -> int:
    """Estimate (from above, within a few hundred bytes) of what `item` costs
    in an event file, reduced."""
    red = effective(reduction, item.shape) if item.role == "sequence" else reduction
    shape = stored_shape(item.shape, red) if item.role == "sequence" else item.shape
    size = 2 if red.float16 else item.itemsize
    value = _VALUE + item.text
    total = value + _NPY_HEADER + math.prod(shape) * size
    if not red.is_identity():
        total += _NPY_HEADER + 8 * (1 + (red.channels or 0))
    if item.role == "matrix":
        return total + item.gates * (4 * value + _HISTOGRAM)
    timesteps = item.shape[1] if len(item.shape) == 3 else 1
    total += value + 3 * 4 * timesteps  # the profile
    if len(item.shape) == 3:
        total += value  # the reach
    if item.has_mask and len(shape) == 3:
        total += _NPY_HEADER + shape[0] * shape[1] + value + 4 * timesteps
    return total


def plan(items: Sequence[Item], max_bytes: int | None) -> Plan:
    """The least reduction, in the module's order, that fits `max_bytes`.

    Args:
      items: The full tensors of one logged step.
      max_bytes: The budget; None for no limit.

    Returns:
      The reductions (at the floor of every stage when even that does not
      fit, with `fits` False).
    """
    state = {"samples": None, "float16": False, "pool": 1, "channels": None}

    def build(**change: object) -> tuple[Reduction, ...]:
        chosen = {**state, **change}
        return tuple(_for_item(item, chosen) for item in items)

    def total(reductions: Sequence[Reduction]) -> int:
        return sum(item_bytes(i, r) for i, r in zip(items, reductions, strict=True))

    def fits(**change: object) -> bool:
        return max_bytes is None or total(build(**change)) <= max_bytes

    sequences = [i for i in items if i.role == "sequence"]
    if not fits() and sequences:
        batch = max(i.shape[0] for i in sequences)
        state["samples"] = _largest(batch, SAMPLE_FLOOR, lambda n: fits(samples=n))
    if not fits():
        state["float16"] = True
    timed = [i for i in sequences if len(i.shape) == 3]
    if not fits() and timed:
        most = max(_max_pool(i.shape[1]) for i in timed)
        state["pool"] = _smallest(1, most, lambda p: fits(pool=p))
    if not fits() and sequences:
        widest = max(i.shape[-1] for i in sequences)
        state["channels"] = _largest(widest, CHANNEL_FLOOR, lambda k: fits(channels=k))
    reductions = build()
    return Plan(reductions, total(reductions), fits())


def _for_item(item: Item, chosen: dict) -> Reduction:
    if item.role == "fixed":
        return Reduction()
    if item.role == "matrix":
        return Reduction(float16=bool(chosen["float16"]))
    samples = chosen["samples"]
    channels = chosen["channels"]
    pool = chosen["pool"]
    if len(item.shape) == 3:
        pool = min(pool, _max_pool(item.shape[1]))
    return effective(
        Reduction(
            samples=None if samples is None else max(samples, SAMPLE_FLOOR),
            pool=pool,
            channels=None if channels is None else max(channels, CHANNEL_FLOOR),
            float16=bool(chosen["float16"]),
        ),
        item.shape,
    )


def _max_pool(timesteps: int) -> int:
    """Largest pooling that keeps at least `TIMESTEP_FLOOR` pooled timesteps."""
    return max(1, timesteps // TIMESTEP_FLOOR)


def _largest(high: int, floor: int, ok: Callable[[int], bool]) -> int:
    """Largest n in [floor, high] with ok(n) (ok grows as n falls); floor if
    none."""
    low = min(floor, high)
    if ok(high):
        return high
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _smallest(low: int, high: int, ok: Callable[[int], bool]) -> int:
    """Smallest n in [low, high] with ok(n) (ok grows with n); high if none."""
    while low < high:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle + 1
    return low
