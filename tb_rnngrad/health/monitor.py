"""Health findings from `CaptureResult`s, step after step (the loggers).

`HealthMonitor.add(result, step)` keeps what the rules need of each capture
(the small per-timestep profiles, the last few full tensors of the unit
and gate kinds, per-gate NaN/Inf counts) and returns the findings of the run so far,
computed with the same rules as a log directory's (`health.rules`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tb_rnngrad.format import stats, weight_layout
from tb_rnngrad.format.metadata import DEFAULT_REACH_THRESHOLD
from tb_rnngrad.health import rules
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.series import (
    GATE_KINDS,
    UNIT_KINDS,
    WEIGHT_KINDS,
    Series,
    layer_key,
)
from tb_rnngrad.records import Record, records
from tb_rnngrad.result import KINDS, CaptureResult


class HealthMonitor:
    """Accumulates captures of one run and checks them.

    Args:
      thresholds: The rules' thresholds; default `Thresholds()`.
      reach_threshold: Relative threshold of the reach (as logged).
    """

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        reach_threshold: float = DEFAULT_REACH_THRESHOLD,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.reach_threshold = reach_threshold
        self._series: dict[str, Series] = {}

    def add(self, result: CaptureResult, step: int) -> list[Finding]:
        """Adds the capture of `step` and returns the run's findings so far.

        Args:
          result: A capture (Keras or PyTorch).
          step: Its training step, larger than any added before.

        Returns:
          The findings (`health.rules.check_run`), problems first.
        """
        kinds = [k for k in KINDS if result.kind(k)]
        for record in records(result, kinds):
            self._add(record, int(step))
        return rules.check_run(list(self._series.values()), self.thresholds)

    def _add(self, record: Record, step: int) -> None:
        old = self._series.get(record.tag) or Series(
            tag=record.tag,
            kind=record.kind,
            layer=layer_key(record.tag, record.kind),
            reach_threshold=self.reach_threshold,
            has_time=record.data.ndim == 3,
            gates=record.gates,
            backward=record.layer is not None and record.layer.direction == "backward",
        )
        if record.kind in WEIGHT_KINDS:
            counts = _gate_nonfinite(record.data, record.gates)
            self._series[record.tag] = dataclasses.replace(
                old, gate_nonfinite={**old.gate_nonfinite, step: counts}
            )
            return
        if record.kind == "weight_contributions":
            return  # (weights, timesteps, gates): no rule reads it yet
        data = np.asarray(record.data)
        end = None
        if record.mask is not None and data.ndim == 3:
            end = stats.end_profile(data, record.mask)
        ends = old.end_norms
        if end is not None or ends is not None:
            ends = (*(ends or (None,) * len(old.steps)), end)
        tensors = old.tensors
        if record.kind in UNIT_KINDS or not np.isfinite(data).all():
            keep = self.thresholds.dead_steps
            tensors = (*tensors, (step, data))[-keep:]
        if record.kind in GATE_KINDS:
            keep = self.thresholds.saturated_steps
            tensors = (*tensors, (step, data))[-keep:]
        self._series[record.tag] = dataclasses.replace(
            old,
            steps=(*old.steps, step),
            profiles=(*old.profiles, stats.profile(data)),
            end_norms=ends,
            tensors=tensors,
        )


def _gate_nonfinite(data: np.ndarray, gates: Sequence[str]) -> dict[str, float]:
    """NaN/Inf count of each gate block of a weight (its `nonfinite` scalar)."""
    matrix = weight_layout.as_matrix(np.asarray(data))
    if not gates:
        return {"all": float(np.count_nonzero(~np.isfinite(matrix)))}
    blocks = weight_layout.gate_blocks(matrix, gates)
    return {g: float(np.count_nonzero(~np.isfinite(b))) for g, b in blocks.items()}


def check_result(
    result: CaptureResult, step: int = 0, thresholds: Thresholds | None = None
) -> list[Finding]:
    """The findings of one capture on its own (no trend over training).

    Args:
      result: A capture (`tb_rnngrad.capture.capture` or
        `tb_rnngrad.pytorch.capture`).
      step: The step to report the findings at.
      thresholds: The rules' thresholds; default `Thresholds()`.

    Returns:
      The findings, problems first.
    """
    return HealthMonitor(thresholds).add(result, step)
