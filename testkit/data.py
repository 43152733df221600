"""Test data shared by the benchmarks."""

from __future__ import annotations

import numpy as np


def gradient_like(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random (batch, timesteps, channels) float32 gradients that fade towards
    early timesteps (a decay of e over 40 steps back from the last one)."""
    rng = np.random.default_rng(seed)
    t = np.arange(shape[1])
    decay = np.exp(-(shape[1] - 1 - t) / 40.0)[None, :, None]
    return (rng.standard_normal(shape) * decay).astype(np.float32)
