"""`vanishing`: a state gradient whose horizon covers too little of the
sequence, with its decay per timestep and its trend over training."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from tb_rnngrad.format import stats
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.series import STATE_KINDS, Series

_VANISHING_HINT = (
    "A gated cell (LSTM, GRU) carries gradient further back; for an LSTM keep "
    "the forget-gate bias at 1 (Keras unit_forget_bias=True; Jozefowicz et al. "
    "2015); or shorten the sequences the loss depends on (Bengio, Simard and "
    "Frasconi 1994 show why plain RNNs forget)."
)


def vanishing(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """`vanishing`: a layer's state-gradient horizon covers less than
    `vanishing_fraction` of its lags.

    A layer's horizon is that of its state kind reaching furthest (an LSTM's
    h_t or c_t), each the median reach over the last `recent_steps` steps.
    """
    by_layer = defaultdict(list)
    for s in series:
        if s.kind in STATE_KINDS and s.has_time and s.profiles:
            by_layer[s.layer].append(s)
    found = []
    for layer, candidates in sorted(by_layer.items()):
        horizons = {s.tag: _horizon(s, thresholds.recent_steps) for s in candidates}
        candidates = [s for s in candidates if horizons[s.tag] is not None]
        if not candidates:
            continue
        best = max(candidates, key=lambda s: horizons[s.tag])
        lags = best.profiles[-1].shape[1] - 1
        horizon = horizons[best.tag]
        if lags < 1 or horizon >= thresholds.vanishing_fraction * lags:
            continue
        found.append(_vanishing_finding(layer, best, horizon, lags, thresholds))
    return found


def _finite_steps(s: Series) -> list[int]:
    """Indices of the steps whose norms are all finite (a NaN step has no
    horizon to speak of: `nonfinite` reports it)."""
    return [i for i in range(len(s.profiles)) if np.isfinite(s.norms(i)).all()]


def _reaches(s: Series) -> tuple[list[int], list[int]]:
    """(steps, reach at each) over the steps with finite norms."""
    indices = _finite_steps(s)
    rows = [s.norms(i) for i in indices]
    if rows and len({len(r) for r in rows}) == 1:  # the usual case: at once
        reaches = [int(r) for r in stats.reach_rows(np.stack(rows), s.reach_threshold)]
    else:
        reaches = [stats.reach(r, s.reach_threshold) for r in rows]
    return [s.steps[i] for i in indices], reaches


def _horizon(s: Series, recent: int) -> int | None:
    """Median (the lower middle value) reach over the last `recent` steps
    with finite norms; None when there is none."""
    reaches = _reaches(s)[1][-recent:]
    return int(np.percentile(reaches, 50, method="lower")) if reaches else None


def decay_per_timestep(norms: np.ndarray, horizon: int) -> float | None:
    """exp(slope) of log(norm) against lag over lags 0 to horizon + 1.

    The factor the gradient norm is multiplied by per timestep back in time,
    fitted by least squares where the norms are finite and positive; None
    with fewer than two such lags.
    """
    by_lag = np.asarray(norms, np.float64)[::-1][: horizon + 2]
    lags = np.arange(len(by_lag))
    usable = np.isfinite(by_lag) & (by_lag > 0)
    if usable.sum() < 2:
        return None
    slope = np.polyfit(lags[usable], np.log(by_lag[usable]), 1)[0]
    return float(np.exp(slope))


def horizon_trend(steps: Sequence[int], reaches: Sequence[int], recent: int) -> str:
    """ "falling since step S" (S: the last step the horizon was at its
    earlier peak), "rising" or "steady", comparing the recent median to the
    earlier steps."""
    now = int(np.percentile(reaches[-recent:], 50, method="lower"))
    earlier = list(reaches[:-recent])
    if earlier and max(earlier) > now:
        peak = max(earlier)
        last = max(i for i, r in enumerate(earlier) if r == peak)
        return f"falling since step {steps[last]}"
    if reaches and reaches[0] < now:
        return "rising"
    return "steady"


def _vanishing_finding(
    layer: str, s: Series, horizon: int, lags: int, thresholds: Thresholds
) -> Finding:
    steps, reaches = _reaches(s)
    trend = horizon_trend(steps, reaches, thresholds.recent_steps)
    decay = decay_per_timestep(s.norms(_finite_steps(s)[-1]), horizon)
    shrink = "" if decay is None else f", x{decay:.3g} per timestep back"
    return Finding(
        code="vanishing",
        severity="problem",
        tag=s.tag,
        layer=layer,
        step=steps[-1],
        message=(
            f"Gradient horizon {horizon} of {lags} timesteps (under "
            f"{thresholds.vanishing_fraction:.0%}){shrink}, {trend}."
        ),
        hint=_VANISHING_HINT,
        timestep=s.input_time(lags - horizon),
        evidence={
            "view": "flow",
            "horizon": horizon,
            "lags": lags,
            "fraction": thresholds.vanishing_fraction,
            "reach_threshold": s.reach_threshold,
            "decay_per_timestep": decay,
            "trend": trend,
        },
    )
