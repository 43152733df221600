"""Long-range dependency tasks: the adding problem and copy memory."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Task:
    """A supervised sequence task with its Keras loss."""

    name: str
    x: np.ndarray
    y: np.ndarray
    loss: str
    output_units: int
    output_activation: str | None
    return_sequences: bool


def adding_problem(samples: int, timesteps: int, seed: int = 0) -> Task:
    """Hochreiter and Schmidhuber's adding problem (1997).

    Each sequence has two features per timestep: a random value in [0, 1) and a
    marker, 1 at two positions (one in the first half, one in the second) and 0
    elsewhere. The target is the sum of the two marked values. A model that
    cannot carry information back across half the sequence stays near the
    variance of the sum (mse about 0.167).
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
    return Task("adding", x, y, "mse", 1, None, return_sequences=False)


def copy_memory(
    samples: int, delay: int, symbols: int = 8, length: int = 5, seed: int = 0
) -> Task:
    """The copy-memory task: recall `length` symbols after `delay` blanks.

    Inputs are one-hot over `symbols + 2` classes (symbols, blank, go marker):
    `length` random symbols, then blanks, a go marker `length` steps before the
    end, and blanks. The target is blank everywhere except the last `length`
    steps, which repeat the first symbols.
    """
    rng = np.random.default_rng(seed)
    blank, go = symbols, symbols + 1
    timesteps = 2 * length + delay
    sequence = np.full((samples, timesteps), blank, np.int64)
    target = np.full((samples, timesteps), blank, np.int64)
    remembered = rng.integers(0, symbols, (samples, length))
    sequence[:, :length] = remembered
    sequence[:, -length - 1] = go
    target[:, -length:] = remembered
    x = np.eye(symbols + 2, dtype=np.float32)[sequence]
    return Task(
        "copy",
        x,
        target,
        "sparse_categorical_crossentropy",
        symbols + 2,
        "softmax",
        return_sequences=True,
    )
