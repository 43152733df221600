"""Per-timestep profile, end-aligned profile and gradient reach, with NumPy.

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


def end_profile(data: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-lag L2 norm counted from each sample's last valid timestep.

    For masked (e.g. post-padded) sequences the last timestep is padding for
    the shorter samples; this profile lines every sample up at its own last
    valid timestep, so that `reach(end_profile(data, mask), threshold)` counts
    timesteps back from where each sequence really ends.

    Args:
      data: (batch, timesteps, channels).
      mask: (batch, timesteps) bool, True for valid timesteps.

    Returns:
      float32 (timesteps,): entry T-1-k is the L2 norm over the batch and
      channels of each sample's valid timestep k steps before its last valid
      one (accumulated in float64; NaN/Inf when such a slice holds one).
      Masked timesteps count as zero; a sample with no valid timestep adds
      nothing. With every timestep valid it equals `profile(data)[0]`.
    """
    valid = np.asarray(mask, dtype=bool)
    timesteps = data.shape[1]
    with np.errstate(invalid="ignore", over="ignore"):
        squares = np.sum(np.square(data.astype(np.float64)), axis=2)
        squares = np.where(valid, squares, 0.0)
        last = timesteps - 1 - np.argmax(valid[:, ::-1], axis=1)
        source = np.arange(timesteps)[None, :] - (timesteps - 1 - last)[:, None]
        aligned = np.take_along_axis(squares, np.maximum(source, 0), axis=1)
        aligned = np.where(source >= 0, aligned, 0.0)
        return np.sqrt(np.sum(aligned, axis=0)).astype(np.float32)


def reach(norms: np.ndarray, threshold: float) -> int:
    """Gradient reach of a per-timestep norm profile.

    Reach is the largest lag k (in timesteps, counted back from the last
    timestep, which has lag 0) whose norm is at least `threshold` times the
    largest finite norm of the profile. Non-finite norms are ignored; a profile
    with no finite positive norm has reach 0. So a reach of T-1 means the
    earliest timestep still gets at least `threshold` of the peak gradient.

    Args:
      norms: (timesteps,) per-timestep norms, e.g. `profile(data)[0]`, or
        `end_profile(data, mask)` for masked data (lags counted from each
        sample's last valid timestep).
      threshold: Relative threshold in (0, 1].

    Returns:
      The reach as an int in [0, timesteps - 1].
    """
    return int(reach_rows(np.asarray(norms)[np.newaxis], threshold)[0])


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
    if finite.shape[1] == 0:  # no timesteps: no peak, reach 0
        return np.zeros(finite.shape[0], np.int64)
    first = np.argmax(finite >= threshold * peak[:, None], axis=1)
    return np.where(peak > 0, norms.shape[1] - 1 - first, 0).astype(np.int64)
