"""Gradient health: what is wrong in a run, where, and what to try.

Findings (`Finding`) with codes `vanishing`, `exploding`, `nonfinite`,
`saturated_gates` and `dead_units`, from a log directory (`check_logdir`, or
`check` over a data provider's `Reader`) or from captures (`check_result`,
`HealthMonitor`). The thresholds are `Thresholds`, each a documented default.
NumPy and TensorBoard only: importing this does not import TensorFlow or torch.
"""

from tb_rnngrad.health.findings import CODES, SEVERITIES, Finding, Thresholds, worst
from tb_rnngrad.health.logs import Report, check, check_logdir
from tb_rnngrad.health.monitor import HealthMonitor, check_result

__all__ = [
    "CODES",
    "SEVERITIES",
    "Finding",
    "HealthMonitor",
    "Report",
    "Thresholds",
    "check",
    "check_logdir",
    "check_result",
    "worst",
]
