"""The health rules: findings from a run's series, NumPy only.

Each rule, in the module of its finding's code, takes every `Series` of one
run and the `Thresholds` and returns its findings; `check_run` runs them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from tb_rnngrad.health.dead_units import dead_units
from tb_rnngrad.health.exploding import exploding
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.nonfinite import nonfinite
from tb_rnngrad.health.saturated_gates import saturated_gates
from tb_rnngrad.health.series import Series
from tb_rnngrad.health.vanishing import vanishing


def check_run(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """Every rule's findings for one run, problems first, then by step."""
    found = [
        *vanishing(series, thresholds),
        *exploding(series, thresholds),
        *nonfinite(series),
        *saturated_gates(series, thresholds),
        *dead_units(series, thresholds),
    ]
    order = {"problem": 0, "warning": 1}
    return sorted(found, key=lambda f: (order[f.severity], f.step, f.layer, f.code))
