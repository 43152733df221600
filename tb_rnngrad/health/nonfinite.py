"""`nonfinite`: the first logged step with a NaN or Inf, and where it is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from tb_rnngrad.health.findings import Finding
from tb_rnngrad.health.series import GRADIENT_KINDS, Series

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
