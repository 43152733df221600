"""The adding problem, the demo's long-range dependency task."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Task:
    """Inputs (samples, timesteps, 2) and targets (samples, 1) of one split."""

    name: str
    x: np.ndarray
    y: np.ndarray


def adding_problem(samples: int, timesteps: int, seed: int) -> Task:
    """Hochreiter and Schmidhuber's adding problem (1997).

    Each sequence has two features per timestep: a random value in [0, 1) and a
    marker, 1 at two positions (one in the first half, one in the second) and 0
    elsewhere. The target is the sum of the two marked values. A model that
    cannot carry information back across half the sequence can do no better
    than predict the mean (mse about 0.167, the variance of the sum).
    """
    rng = np.random.default_rng(seed)
    values = rng.random((samples, timesteps), dtype=np.float32)
    markers = np.zeros((samples, timesteps), np.float32)
    half = timesteps // 2
    first = rng.integers(0, half, samples)
    second = rng.integers(half, timesteps, samples)
    rows = np.arange(samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return Task("adding", x, y)


def first_value(samples: int, timesteps: int, seed: int) -> Task:
    """Recall the first value: the adding problem with one marker, at timestep 0.

    The same two features per timestep as `adding_problem` (a random value in
    [0, 1) and a marker), but the only marker is on the first timestep and the
    target is its value, so the answer depends on the earliest timestep alone.
    A model that cannot carry it through the `timesteps - 1` random values
    after it can do no better than predict the mean (mse about 0.083).
    """
    rng = np.random.default_rng(seed)
    values = rng.random((samples, timesteps), dtype=np.float32)
    markers = np.zeros((samples, timesteps), np.float32)
    markers[:, 0] = 1.0
    x = np.stack([values, markers], axis=-1)
    return Task("first_value", x, values[:, :1].copy())
