"""The one line that says what a reduced full tensor keeps of what was
captured, e.g. "4 of 16 samples, 512 of 1,024 channels with the largest norm,
timesteps pooled 4:1 by largest |g|, float16". The tab, `tb-rnngrad summary`
and the exports all show this line (the tab gets it from the `tags` route).
"""

from __future__ import annotations

from collections.abc import Sequence


def note(
    captured_shape: Sequence[int],
    shape: Sequence[int],
    timestep_pool: int,
    captured_dtype: str,
    dtype: str,
    matrix: bool = False,
) -> str:
    """What is stored of what was captured; "" for a tensor stored as captured.

    Args:
      captured_shape: Shape as captured (empty: not reduced).
      shape: Shape as stored.
      timestep_pool: Timesteps pooled k:1 (0 or 1: none).
      captured_dtype: dtype as captured.
      dtype: dtype as stored.
      matrix: Whether it is a weight matrix (no samples nor channels).
    """
    if not captured_shape:
        return ""
    parts = []
    if not matrix and shape[0] < captured_shape[0]:
        parts.append(f"{shape[0]:,} of {captured_shape[0]:,} samples")
    if not matrix and shape[-1] < captured_shape[-1]:
        parts.append(
            f"{shape[-1]:,} of {captured_shape[-1]:,} channels with the largest norm"
        )
    if timestep_pool > 1:
        parts.append(f"timesteps pooled {timestep_pool}:1 by largest |g|")
    if dtype != captured_dtype:
        parts.append(dtype)
    return ", ".join(parts) or "stored as captured"
