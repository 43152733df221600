"""Per-timestep profile and gradient reach, computed with NumPy.

The TensorFlow op computes the same figures with TF ops (`summary`); tests pin
both to these definitions.
"""

from __future__ import annotations

import numpy as np


def profile(data: np.ndarray) -> np.ndarray:
    """Per-timestep L2 norm and NaN/Inf counts over batch and channels.

    Args:
      data: (batch, timesteps, channels), or (batch, channels) taken as one
        timestep.

    Returns:
      float32 array (3, timesteps): row 0 the L2 norm of each timestep's
      (batch, channels) slice, accumulated in float64 (NaN if any value in it is
      NaN, Inf if any is infinite), row 1 its NaN count, row 2 its Inf count.
    """
    data3 = data[:, None, :] if data.ndim == 2 else data
    # NaN/Inf are data here: no RuntimeWarning for a signalling NaN or overflow.
    with np.errstate(invalid="ignore", over="ignore"):
        wide = data3.astype(np.float64)
        norms = np.sqrt(np.sum(np.square(wide), axis=(0, 2)))
        nans = np.sum(np.isnan(data3), axis=(0, 2))
        infs = np.sum(np.isinf(data3), axis=(0, 2))
        return np.stack([norms, nans, infs]).astype(np.float32)


def reach(norms: np.ndarray, threshold: float) -> int:
    """Gradient reach of a per-timestep norm profile.

    Reach is the largest lag k (in timesteps, counted back from the last
    timestep, which has lag 0) whose norm is at least `threshold` times the
    largest finite norm of the profile. Non-finite norms are ignored; a profile
    with no finite positive norm has reach 0. So a reach of T-1 means the
    earliest timestep still gets at least `threshold` of the peak gradient.

    Args:
      norms: (timesteps,) per-timestep norms, e.g. `profile(data)[0]`.
      threshold: Relative threshold in (0, 1].

    Returns:
      The reach as an int in [0, timesteps - 1].
    """
    finite = np.where(np.isfinite(norms), norms, 0.0)
    peak = finite.max(initial=0.0)
    if peak <= 0:
        return 0
    above = np.nonzero(finite >= threshold * peak)[0]
    return int(len(norms) - 1 - above[0])


def reach_rows(norms: np.ndarray, threshold: float) -> np.ndarray:
    """`reach` of each row of `norms`, at once.

    Args:
      norms: (steps, timesteps) per-timestep norms, one profile per row.
      threshold: Relative threshold in (0, 1].

    Returns:
      int64 array (steps,): `reach(norms[i], threshold)` for each row i.
    """
    finite = np.where(np.isfinite(norms), norms, 0.0)
    peak = finite.max(axis=1, initial=0.0)
    first = np.argmax(finite >= threshold * peak[:, None], axis=1)
    return np.where(peak > 0, norms.shape[1] - 1 - first, 0).astype(np.int64)
