"""What a health rule reports (`Finding`) and the thresholds it uses.

Every threshold is a documented default with its source; pass your own
`Thresholds` to change any of them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

#: The codes the rules report (`tb-rnngrad check`, the `health` route).
CODES = ("vanishing", "exploding", "nonfinite", "saturated_gates", "dead_units")
#: Severities, worst first: a "problem" makes `tb-rnngrad check` exit 1.
SEVERITIES = ("problem", "warning")


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The thresholds of the health rules, each a default with its source.

    Attributes:
      vanishing_fraction: `vanishing` when a layer's gradient horizon (the
        reach of its state gradient, `stats.reach`, at the relative threshold
        logged with the series, 1% by default) covers less than this fraction
        of the sequence's lags. Default a quarter (issue 26): the demo's
        SimpleRNN reaches under a tenth of its 100 timesteps, its GRU and LSTM
        over half.
      recent_steps: The horizon is the median over the last this many logged
        steps, so one outlying step (a SimpleRNN swings now and then into an
        exploding step) does not decide it. Default 5.
      exploding_factor: `exploding` when the state gradient's per-timestep
        norm grows going back in time by at least this factor (from the last
        timestep to its peak), or the peak per-timestep norm of a gradient
        grows by it between consecutive logged steps. Default 100, two orders
        of magnitude (issue 26); the growth that gradient clipping exists for
        (Pascanu, Mikolov and Bengio 2013, "On the difficulty of training
        recurrent neural networks").
      dead_steps: `dead_units` when a channel's gradient is exactly zero at
        every timestep and sample of each of the last this many retained
        full tensors. Default 3 (fewer when fewer are retained).
      saturated_units: A gate is stuck near 0 (near 1) at a timestep when at
        least this fraction of its units is (kind "gate_activations", whose
        cut-offs 0.05 and 0.95 are `format.gate_saturation`). Default a half,
        "most units" (issue 26).
      saturated_timesteps: `saturated_gates` when a gate is stuck at least at
        this fraction of the timesteps. Default a half, "most timesteps"
        (issue 26); Karpathy, Johnson and Fei-Fei (2015, "Visualizing and
        understanding recurrent networks") count a gate as saturated by the
        fraction of time it spends near 0 or 1 in the same way.
      saturated_steps: ... at each of the last this many retained
        gate-activation tensors, so one step in passing does not decide it.
        Default 3 (fewer when fewer are retained).
    """

    vanishing_fraction: float = 0.25
    recent_steps: int = 5
    exploding_factor: float = 100.0
    dead_steps: int = 3
    saturated_units: float = 0.5
    saturated_timesteps: float = 0.5
    saturated_steps: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.vanishing_fraction <= 1:
            raise ValueError(
                "vanishing_fraction must be in (0, 1]; got "
                f"{self.vanishing_fraction!r}. Use e.g. 0.25 for a quarter."
            )
        if not self.exploding_factor > 1:
            raise ValueError(
                f"exploding_factor must be > 1; got {self.exploding_factor!r}."
            )
        for name in ("saturated_units", "saturated_timesteps"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(
                    f"{name} must be in (0, 1]; got {value!r}. Use e.g. 0.5 for a half."
                )
        for name in ("recent_steps", "dead_steps", "saturated_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1; got {value!r}.")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing the health rules found wrong in a run.

    Attributes:
      code: One of `CODES`.
      severity: "problem" or "warning".
      tag: The full-tensor tag whose data shows it.
      layer: The layer (or input) key.
      step: The logged step that shows it.
      message: One sentence with the numbers.
      hint: What to try, with its source.
      timestep: Timestep (input time) where it applies, or None.
      sample: Sample of the probe batch where it applies, or None.
      gate: Gate where it applies, or None.
      evidence: The figures behind it, and `view`: the tab view showing them.
    """

    code: str
    severity: str
    tag: str
    layer: str
    step: int
    message: str
    hint: str
    timestep: int | None = None
    sample: int | None = None
    gate: str | None = None
    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The finding as `tb-rnngrad check --json` and the route give it:
        the optional fields only where they apply."""
        body = {
            "code": self.code,
            "severity": self.severity,
            "tag": self.tag,
            "layer": self.layer,
            "step": self.step,
            "message": self.message,
            "hint": self.hint,
        }
        for name in ("timestep", "sample", "gate"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.evidence:
            body["evidence"] = {k: _json_number(v) for k, v in self.evidence.items()}
        return body


def _json_number(value: Any) -> Any:
    """A non-finite float as None: JSON has no NaN or Infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def worst(findings: list[Finding]) -> str:
    """ "problem", "warning" or "healthy": the worst severity of `findings`."""
    severities = {f.severity for f in findings}
    for severity in SEVERITIES:
        if severity in severities:
            return severity
    return "healthy"
