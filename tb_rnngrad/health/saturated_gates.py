"""The `saturated_gates` rule: sigmoid gates stuck closed or open.

Reads the "gate_activations" series (per timestep and gate, the fraction of
units near 0 and near 1, `format.gate_saturation`). A gate is stuck in a
band at a logged step when at least `saturated_units` of its units are in
that band at `saturated_timesteps` of the timesteps or more; the rule
reports it when that holds at each of the last `saturated_steps` retained
steps, so that one step in passing does not decide it. NumPy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tb_rnngrad.format.gate_saturation import BANDS, NEAR_0, NEAR_1
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.series import GATE_KINDS, Series

_MEMORY_HINT = (
    "Start the {gate_name}'s bias at 1 or more, so that the state is kept at "
    "first, and keep it trainable: Keras LSTM(unit_forget_bias=True), or fill "
    "the gate's block of the bias with 1 (Gers, Schmidhuber and Cummins 2000, "
    "'Learning to forget'; Jozefowicz, Zaremba and Sutskever 2015 make it the "
    "default)."
)
_SLOW_HINT = (
    "A gate this saturated passes almost no gradient (the sigmoid's slope is "
    "under 0.05 there) and learns slowly: normalise the inputs, lower the "
    "learning rate, or look for a large gate bias (Karpathy, Johnson and "
    "Fei-Fei 2015 measure gate saturation the same way)."
)


class Stuck(NamedTuple):
    """What a gate stuck in a band does, and how bad it is."""

    severity: str
    gate_name: str
    effect: str
    hint: str


#: The stuck gates reported, by (gate, band). An LSTM's forget gate and a
#: GRU's update gate near 0 erase the memory at every step (a problem); the
#: other sigmoid gates stuck closed, and a GRU's update gate stuck open, are
#: warnings. Gates near 1 otherwise pass what they gate, which trained
#: networks often do on purpose (a forget gate near 1 remembers), so they
#: are not reported.
STUCK = {
    ("f", "near_0"): Stuck(
        "problem",
        "forget gate",
        "the cell state is erased at every step, so the LSTM keeps no memory "
        "beyond one timestep",
        _MEMORY_HINT,
    ),
    ("z", "near_0"): Stuck(
        "problem",
        "update gate",
        "the state is replaced by the candidate at every step, so the GRU "
        "keeps no memory beyond one timestep",
        _MEMORY_HINT,
    ),
    ("z", "near_1"): Stuck(
        "warning",
        "update gate",
        "the state is copied unchanged, so the GRU ignores its input",
        _SLOW_HINT,
    ),
    ("i", "near_0"): Stuck(
        "warning",
        "input gate",
        "almost nothing new is written to the cell state",
        _SLOW_HINT,
    ),
    ("o", "near_0"): Stuck(
        "warning",
        "output gate",
        "the layer's output and state are close to zero",
        _SLOW_HINT,
    ),
    ("r", "near_0"): Stuck(
        "warning",
        "reset gate",
        "the candidate ignores the previous state",
        _SLOW_HINT,
    ),
}
_BAND_WORDS = {
    "near_0": f"near 0 (below {NEAR_0})",
    "near_1": f"near 1 (above {NEAR_1})",
}


def saturated_gates(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """`saturated_gates`: gates stuck near 0 or 1 (`STUCK`) for most units at
    most timesteps over the last `saturated_steps` retained steps."""
    found = []
    for s in series:
        if s.kind not in GATE_KINDS or not s.tensors:
            continue
        recent = s.tensors[-thresholds.saturated_steps :]
        arrays = [data for _, data in recent]
        if any(a.ndim != 3 or a.shape[0] != len(BANDS) for a in arrays):
            continue
        for (gate, band), stuck in STUCK.items():
            if gate not in s.gates:
                continue
            column, row = s.gates.index(gate), BANDS.index(band)
            fractions = [a[row, :, column] for a in arrays if column < a.shape[2]]
            if len(fractions) != len(arrays):
                continue
            if all(
                _stuck_share(f, thresholds) >= thresholds.saturated_timesteps
                for f in fractions
            ):
                found.append(
                    _finding(s, gate, band, stuck, fractions[-1], recent, thresholds)
                )
    return found


def _stuck_share(fractions: np.ndarray, thresholds: Thresholds) -> float:
    """The share of timesteps at which at least `saturated_units` of the
    units are in the band."""
    return float(np.mean(fractions >= thresholds.saturated_units))


def _finding(
    s: Series,
    gate: str,
    band: str,
    stuck: Stuck,
    latest: np.ndarray,
    recent: Sequence[tuple[int, np.ndarray]],
    thresholds: Thresholds,
) -> Finding:
    step = int(recent[-1][0])
    hit = np.flatnonzero(latest >= thresholds.saturated_units)
    first = int(hit[0])
    share = _stuck_share(latest, thresholds)
    mean_units = float(np.mean(latest[hit]))
    return Finding(
        code="saturated_gates",
        severity=stuck.severity,
        tag=s.tag,
        layer=s.layer,
        step=step,
        message=(
            f"The {stuck.gate_name} {gate} is {_BAND_WORDS[band]} for "
            f"{mean_units:.0%} of units at {share:.0%} of timesteps (from "
            f"timestep {first}) over the last {len(recent)} logged steps: "
            f"{stuck.effect}."
        ),
        hint=stuck.hint.format(gate_name=stuck.gate_name),
        timestep=first,
        gate=gate,
        evidence={
            "view": "heatmap",
            "band": band,
            "units_fraction": round(mean_units, 4),
            "timesteps_fraction": round(share, 4),
            "steps": [int(st) for st, _ in recent],
        },
    )
