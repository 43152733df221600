"""The health rules: findings from a run's series, NumPy only.

Each rule takes every `Series` of one run and the `Thresholds` and returns
its findings; `check_run` runs them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from tb_rnngrad.format import stats
from tb_rnngrad.health import gate_rules
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.series import (
    GRADIENT_KINDS,
    STATE_KINDS,
    UNIT_KINDS,
    Series,
)

_VANISHING_HINT = (
    "A gated cell (LSTM, GRU) carries gradient further back; for an LSTM keep "
    "the forget-gate bias at 1 (Keras unit_forget_bias=True; Jozefowicz et al. "
    "2015); or shorten the sequences the loss depends on (Bengio, Simard and "
    "Frasconi 1994 show why plain RNNs forget)."
)
_FORWARD_HINT = (
    "The forward pass is already non-finite: check the inputs and the weights "
    "(e.g. numpy.isfinite(x).all()); tf.debugging.enable_check_numerics() or "
    "torch.autograd.detect_anomaly() names the first op that makes it."
)
_BACKWARD_HINT = (
    "The forward pass is finite, the backward is not: check the loss (log of "
    "0, division by zero, NaN targets) and lower the learning rate or clip "
    "gradients; torch.autograd.detect_anomaly() names the op."
)
_UNLOGGED_HINT = (
    "Log kind 'activations' too to see whether the forward pass is finite; "
    "tf.debugging.enable_check_numerics() or torch.autograd.detect_anomaly() "
    "names the first op that makes a NaN or Inf."
)
_DEAD_HINT = (
    "Units whose gradient is exactly zero no longer learn, e.g. ReLU units "
    "stuck below zero (Lu et al. 2019, 'Dying ReLU'): lower the learning rate, "
    "start biases at zero or above, or use a leaky activation."
)


def check_run(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """Every rule's findings for one run, problems first, then by step."""
    found = [
        *vanishing(series, thresholds),
        *exploding(series, thresholds),
        *nonfinite(series),
        *gate_rules.saturated_gates(series, thresholds),
        *dead_units(series, thresholds),
    ]
    order = {"problem": 0, "warning": 1}
    return sorted(found, key=lambda f: (order[f.severity], f.step, f.layer, f.code))


# vanishing


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


# exploding


def exploding(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """`exploding`: growth back in time, or from one logged step to the next.

    Back in time: at the latest step, a state gradient's peak per-timestep
    norm is at least `exploding_factor` times its norm at the last timestep.
    Over training: a gradient's peak per-timestep norm grows by that factor
    between consecutive logged steps (the first such step is reported). One
    finding per layer, the earliest.
    """
    found = {}
    for s in series:
        if s.kind not in GRADIENT_KINDS or not s.profiles:
            continue
        finding = _growth_over_steps(s, thresholds.exploding_factor)
        if s.kind in STATE_KINDS and s.has_time:
            finding = finding or _growth_back_in_time(s, thresholds.exploding_factor)
        current = found.get(s.layer)
        if finding and (current is None or finding.step < current.step):
            found[s.layer] = finding
    return [found[layer] for layer in sorted(found)]


def _peak(norms: np.ndarray) -> float:
    finite = norms[np.isfinite(norms)]
    return float(finite.max()) if finite.size else float("nan")


def _peaks(profiles: Sequence[np.ndarray]) -> list[float]:
    """`_peak` of each profile's norm row, at once when their lengths agree."""
    if len({p.shape for p in profiles}) != 1:
        return [_peak(p[0]) for p in profiles]
    norms = np.stack([p[0] for p in profiles]).astype(np.float64)
    finite = np.isfinite(norms)
    peak = np.where(finite, norms, -np.inf).max(axis=1)
    return [
        float(v) if f else float("nan")
        for v, f in zip(peak, finite.any(1), strict=True)
    ]


def _total_norm(norms: np.ndarray) -> float:
    finite = norms[np.isfinite(norms)].astype(np.float64)
    return float(np.sqrt(np.sum(np.square(finite))))


def _clip_hint(totals: Sequence[float]) -> tuple[str, float | None]:
    usable = [t for t in totals if np.isfinite(t) and t > 0]
    if not usable:
        return "Clip the gradient norm and lower the learning rate.", None
    value = float(np.median(usable))
    return (
        f"Clip the gradient norm near its usual size, e.g. clipnorm={value:.3g} "
        "(Keras optimizers) or torch.nn.utils.clip_grad_norm_(params, "
        f"{value:.3g}): the median norm of this gradient over the logged steps "
        "before it grew (clipping: Pascanu et al. 2013); lower the learning "
        "rate if it keeps growing.",
        value,
    )


def _growth_over_steps(s: Series, factor: float) -> Finding | None:
    peaks = _peaks(s.profiles)
    for i in range(1, len(peaks)):
        before, after = peaks[i - 1], peaks[i]
        if not (before > 0 and np.isfinite(after)) or after < factor * before:
            continue
        hint, clip = _clip_hint([_total_norm(p[0]) for p in s.profiles[:i]])
        timestep = int(
            np.nanargmax(
                np.where(np.isfinite(s.profiles[i][0]), s.profiles[i][0], -1.0)
            )
        )
        return Finding(
            code="exploding",
            severity="problem",
            tag=s.tag,
            layer=s.layer,
            step=s.steps[i],
            message=(
                f"Peak per-timestep gradient norm grew x{after / before:.3g} "
                f"from step {s.steps[i - 1]} ({before:.3g}) to step "
                f"{s.steps[i]} ({after:.3g})."
            ),
            hint=hint,
            timestep=timestep if s.has_time else None,
            evidence={
                "view": "flow",
                "previous_step": s.steps[i - 1],
                "previous_peak": before,
                "peak": after,
                "growth": after / before,
                "factor": factor,
                "clipnorm": clip,
            },
        )
    return None


def _growth_back_in_time(s: Series, factor: float) -> Finding | None:
    norms = np.asarray(s.norms(-1), np.float64)
    last = norms[-1] if norms.size else 0.0
    if not (np.isfinite(last) and last > 0):
        return None
    finite = np.where(np.isfinite(norms), norms, -1.0)
    peak_at = int(np.argmax(finite))
    peak = finite[peak_at]
    if peak < factor * last:
        return None
    hint, clip = _clip_hint([_total_norm(p[0]) for p in s.profiles])
    lag = len(norms) - 1 - peak_at
    return Finding(
        code="exploding",
        severity="problem",
        tag=s.tag,
        layer=s.layer,
        step=s.steps[-1],
        message=(
            f"State gradient norm grows x{peak / last:.3g} going back in time, "
            f"from {last:.3g} at the last timestep to {peak:.3g} {lag} "
            "timesteps earlier."
        ),
        hint=hint,
        timestep=s.input_time(peak_at),
        evidence={
            "view": "heatmap",
            "last_norm": float(last),
            "peak": float(peak),
            "growth": float(peak / last),
            "factor": factor,
            "clipnorm": clip,
        },
    )


# nonfinite


def nonfinite(series: Sequence[Series]) -> list[Finding]:
    """`nonfinite`: per layer, the first logged step with a NaN or Inf, and
    where: kind, timestep, sample (when the full tensor of that step is
    retained), gate (weights); and whether the forward activations were
    already non-finite (when logged)."""
    by_layer = defaultdict(list)
    for s in series:
        by_layer[s.layer].append(s)
    found = []
    for layer, layer_series in sorted(by_layer.items()):
        first = {s.tag: first_nonfinite_step(s) for s in layer_series}
        steps = [step for step in first.values() if step is not None]
        if not steps:
            continue
        step = min(steps)
        hit = [s for s in layer_series if first[s.tag] == step]
        found.append(_nonfinite_finding(layer, step, hit, layer_series))
    return found


def _nonfinite_rows(profiles: Sequence[np.ndarray]) -> np.ndarray:
    """bool (steps,): whether each profile counts a NaN or Inf (a count that is
    itself not finite or not zero counts)."""
    if len({p.shape for p in profiles}) == 1:
        counts = np.stack(profiles)[:, 1:]
        return (~(counts == 0)).any(axis=(1, 2))
    return np.array([bool((~(p[1:] == 0)).any()) for p in profiles])


def first_nonfinite_step(s: Series) -> int | None:
    """The first step of `s` with a NaN or Inf in its profile or gates."""
    if s.profiles:
        bad = _nonfinite_rows(s.profiles)
        if bad.any():
            return s.steps[int(np.argmax(bad))]
    for step in sorted(s.gate_nonfinite):
        if any(v != 0 for v in s.gate_nonfinite[step].values()):
            return step
    return None


def _where(s: Series, step: int, forward: bool) -> tuple[int | None, int | None]:
    """(timestep, sample) of the NaN/Inf of `s` at `step`: the first timestep
    for the forward pass, the last for a gradient (where backpropagation meets
    it first); the sample from the full tensor when retained."""
    timestep = None
    if s.has_time and step in s.steps:
        profile = s.profiles[s.steps.index(step)]
        counts = np.nan_to_num(profile[1] + profile[2], nan=1.0, posinf=1.0)
        where = np.flatnonzero(counts > 0)
        if where.size:
            timestep = int(where[0] if forward else where[-1])
    sample = None
    for tensor_step, data in s.tensors:
        if tensor_step != step or data.ndim < 2:
            continue
        bad = ~np.isfinite(data)
        if timestep is not None and data.ndim == 3:
            bad = bad[:, timestep]
        per_sample = bad.reshape(len(bad), -1).any(axis=1)
        if per_sample.any():
            sample = int(np.flatnonzero(per_sample)[0])
    return timestep, sample


def _nonfinite_finding(
    layer: str, step: int, hit: list[Series], layer_series: list[Series]
) -> Finding:
    forward = [s for s in hit if s.kind == "activations"]
    logged_forward = any(s.kind == "activations" for s in layer_series)
    source = (forward or [s for s in hit if s.kind in GRADIENT_KINDS] or hit)[0]
    timestep, sample = _where(source, step, forward=bool(forward))
    gate = None
    for weight in (s for s in hit if s.kind == "weights"):
        bad = [g for g, v in weight.gate_nonfinite.get(step, {}).items() if v != 0]
        if bad:
            gate = bad[0]
            break
    kinds = sorted({s.kind for s in hit})
    place = [
        f"{name} {value}"
        for name, value in (("timestep", timestep), ("sample", sample), ("gate", gate))
        if value is not None
    ]
    where = f" ({', '.join(place)})" if place else ""
    if forward:
        state, hint = "the forward activations were already non-finite", _FORWARD_HINT
    elif logged_forward:
        state, hint = "the forward activations were finite", _BACKWARD_HINT
    else:
        state, hint = "the activations were not logged", _UNLOGGED_HINT
    return Finding(
        code="nonfinite",
        severity="problem",
        tag=source.tag,
        layer=layer,
        step=step,
        message=(
            f"First NaN/Inf at step {step} in {', '.join(kinds)}{where}; {state}."
        ),
        hint=hint,
        timestep=timestep,
        sample=sample,
        gate=gate,
        evidence={
            "view": "heatmap" if source.has_time else "grid",
            "kinds": kinds,
            "tags": sorted(s.tag for s in hit),
            "forward_nonfinite": bool(forward) if logged_forward else None,
        },
    )


# dead_units


def dead_units(series: Sequence[Series], thresholds: Thresholds) -> list[Finding]:
    """`dead_units`: channels whose gradient is exactly zero at every
    timestep and sample of each of the last `dead_steps` retained tensors.

    A tensor that is zero everywhere is an output no path uses (see the
    capture's notes), not dead units, and is left out.
    """
    found = []
    for s in series:
        if s.kind not in UNIT_KINDS or not s.tensors:
            continue
        recent = s.tensors[-thresholds.dead_steps :]
        dead, channels = dead_channels([d for _, d in recent])
        if dead.size:
            found.append(_dead_finding(s, dead, channels, [st for st, _ in recent]))
    return found


def dead_channels(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """(indices of the channels exactly zero in every array, channel count).

    No indices when every channel is zero (an output no path uses, not dead
    units), or when the arrays are not (..., channels) arrays of one channel
    count.
    """
    arrays = [a for a in arrays if a.ndim >= 2]
    if not arrays or len({a.shape[-1] for a in arrays}) != 1:
        return np.zeros(0, int), 0
    alive = np.zeros(arrays[0].shape[-1], bool)
    for data in arrays:
        with np.errstate(invalid="ignore"):
            alive |= (data.reshape(-1, data.shape[-1]) != 0).any(axis=0)
    dead = np.flatnonzero(~alive)
    if dead.size == alive.size:
        return np.zeros(0, int), alive.size
    return dead, alive.size


def _dead_finding(s: Series, dead: np.ndarray, channels: int, steps: list) -> Finding:
    shown = ", ".join(str(c) for c in dead[:8]) + (", ..." if dead.size > 8 else "")
    return Finding(
        code="dead_units",
        severity="warning",
        tag=s.tag,
        layer=s.layer,
        step=steps[-1],
        message=(
            f"{dead.size} of {channels} channels have a gradient of exactly zero "
            f"at every timestep over the last {len(steps)} logged steps "
            f"(channels {shown})."
        ),
        hint=_DEAD_HINT,
        evidence={
            "view": "grid",
            "channels": [int(c) for c in dead],
            "of": channels,
            "steps": [int(st) for st in steps],
        },
    )
