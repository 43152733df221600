"""The loggers' byte budget per logged step: plans each record's reduction
(`tb_rnngrad.format.budget`) and warns once when a step cannot fit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from tb_rnngrad.format import budget, metadata
from tb_rnngrad.records import Record


def check_max_bytes(value: object, error: type[Exception] = ValueError) -> None:
    """Raises `error` unless `value` is None or a positive int."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise error(
            f"max_bytes_per_step must be a positive int (bytes) or None for no "
            f"limit; got {value!r}. The default is {budget.DEFAULT_MAX_BYTES} "
            "(8 MiB)."
        )


class StepBudget:
    """Reduces the records of each logged step to fit `max_bytes`.

    Args:
      max_bytes: Bytes per logged step, all records together; None for no
        limit.
      warn: Called once with a message the first time a step cannot fit.
    """

    def __init__(self, max_bytes: int | None, warn: Callable[[str], None]) -> None:
        self.max_bytes = max_bytes
        self._warn = warn
        self._warned = False

    def apply(self, found: Iterable[Record]) -> list[Record]:
        """The records with their reductions set (none without a limit)."""
        found = list(found)
        if self.max_bytes is None:
            return found
        items = [_item(record) for record in found]
        chosen = budget.plan(items, self.max_bytes)
        if not chosen.fits and not self._warned:
            self._warned = True
            self._warn(_message(items, chosen, self.max_bytes))
        return [
            dataclasses.replace(record, reduction=reduction)
            for record, reduction in zip(found, chosen.reductions, strict=True)
        ]


def _item(record: Record) -> budget.Item:
    if record.kind in metadata.MATRIX_KINDS:
        role = "matrix"
    elif record.kind in metadata.NAMED_AXES_KINDS:
        role = "fixed"
    else:
        role = "sequence"
    return budget.Item(
        name=record.tag,
        shape=tuple(record.data.shape),
        itemsize=record.data.dtype.itemsize,
        has_mask=record.mask is not None,
        role=role,
        gates=len(record.gates),
        text=2 * len(record.tag.encode()) + len(record.description.encode()),
    )


def _message(items: list[budget.Item], chosen: budget.Plan, max_bytes: int) -> str:
    sizes = [
        budget.item_bytes(i, r) for i, r in zip(items, chosen.reductions, strict=True)
    ]
    largest = max(range(len(items)), key=sizes.__getitem__)
    return (
        f"a logged step needs {_mib(chosen.total)} even reduced to the floor "
        f"(at most {budget.SAMPLE_FLOOR} samples, float16, at least "
        f"{budget.TIMESTEP_FLOOR} pooled timesteps, at least "
        f"{budget.CHANNEL_FLOOR} channels), more than max_bytes_per_step="
        f"{max_bytes} ({_mib(max_bytes)}); its largest series, "
        f"'{items[largest].name}', is {_mib(sizes[largest])}. Steps are written "
        "at the floor: raise max_bytes_per_step (None for no limit), or log "
        "fewer layers or kinds"
    )


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
