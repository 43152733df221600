"""`exploding`: per-timestep norms that grow going back in time, or peaks that
grow between logged steps; the hint gives a clipping norm."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.series import GRADIENT_KINDS, STATE_KINDS, Series


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
