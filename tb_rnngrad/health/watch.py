"""The loggers' health check: findings after each logged step, a warning for
each new problem, and whether to stop. Never raises: a health check that
fails warns once and switches itself off, so training goes on."""

from __future__ import annotations

import warnings

from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.monitor import HealthMonitor
from tb_rnngrad.result import CaptureResult

#: What a logger does when a problem shows (`on_problem=`).
ON_PROBLEM = (None, "warn", "stop")


def check_on_problem(on_problem: str | None) -> str | None:
    """Validates a logger's `on_problem` argument.

    Raises:
      ValueError: It is not one of `ON_PROBLEM`.
    """
    if on_problem not in ON_PROBLEM:
        raise ValueError(
            f'on_problem must be None, "warn" or "stop"; got {on_problem!r}. '
            'Pass "warn" to be told of vanishing, exploding or non-finite '
            'gradients, "stop" to also stop training.'
        )
    return on_problem


def problem_watch(
    on_problem: str | None, thresholds: Thresholds | None, label: str
) -> ProblemWatch | None:
    """The logger's health check for `on_problem` and `health_thresholds`
    (None without `on_problem`); validates both.

    Raises:
      ValueError: `on_problem` is not one of `ON_PROBLEM`, or `thresholds`
        is neither None nor a `Thresholds`.
    """
    check_on_problem(on_problem)
    if thresholds is not None and not isinstance(thresholds, Thresholds):
        raise ValueError(
            f"health_thresholds must be None (the documented defaults) or a "
            f"tb_rnngrad.health.Thresholds; got {thresholds!r}. Pass e.g. "
            "health_thresholds=tb_rnngrad.health.Thresholds(vanishing_fraction="
            "0.1)."
        )
    return ProblemWatch(label, thresholds) if on_problem else None


class ProblemWatch:
    """Checks each logged capture and reports new problems.

    Args:
      label: Who warns, e.g. "GradientLogger (logs/rnngrad)".
      thresholds: The rules' thresholds; default `Thresholds()`.
      warn: Warn of each new problem (a RuntimeWarning).
    """

    def __init__(
        self, label: str, thresholds: Thresholds | None = None, warn: bool = True
    ) -> None:
        self._label = label
        self._warn = warn
        self._monitor: HealthMonitor | None = HealthMonitor(thresholds)
        self._reported: set[tuple[str, str]] = set()
        self.findings: list[Finding] = []

    def check(self, result: CaptureResult, step: int) -> list[Finding]:
        """Adds the capture of `step`; returns the problems not reported before
        (each (code, layer) once) and warns of them. `findings` holds every
        finding of the run so far."""
        if self._monitor is None:
            return []
        try:
            self.findings = self._monitor.add(result, step)
        except Exception as error:  # a health check never stops training
            self._monitor = None
            warnings.warn(
                f"{self._label}: the health check of step {step} failed "
                f"({type(error).__name__}: {error}); it is off for the rest of "
                "this run, logging goes on.",
                RuntimeWarning,
                3,
            )
            return []
        new = [
            f
            for f in self.findings
            if f.severity == "problem" and (f.code, f.layer) not in self._reported
        ]
        for f in new:
            self._reported.add((f.code, f.layer))
            if not self._warn:
                continue
            warnings.warn(
                f"{self._label}: {f.code} in layer {f.layer} at step {f.step}: "
                f"{f.message} Try: {f.hint}",
                RuntimeWarning,
                3,
            )
        return new


class LoggedStep(list):
    """What `tb_rnngrad.pytorch.GradientLogger.step` returns for a logged step:
    the list of the run's findings so far (empty: healthy), and always true
    (equal to True), as the bool "this call logged" it used to be."""

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return other is True
        return list.__eq__(self, other)

    __hash__ = None  # a list
