"""The translate demo's synthetic task: write a sequence of tokens backwards.

Token 0 is the decoder's start-of-sequence token (`SOS`); the sequences use
tokens 1 to `symbols`. The target at step t is the source token at
`length - 1 - t`, so the first target steps depend on the last source
positions and the last target steps on the first ones: a decoder must reach
back across the whole source to get every step right.
"""

from __future__ import annotations

import dataclasses

import numpy as np

SOS = 0


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Source and target token ids, both (samples, length) int64."""

    source: np.ndarray
    target: np.ndarray

    @property
    def vocabulary(self) -> int:
        """Tokens in use, `SOS` included."""
        return int(max(self.source.max(), self.target.max())) + 1


def reversal(samples: int, length: int, symbols: int, seed: int) -> Pairs:
    """`samples` random sequences of `length` tokens in 1..`symbols`, each
    with its reverse as the target."""
    rng = np.random.default_rng(seed)
    source = rng.integers(1, symbols + 1, (samples, length), dtype=np.int64)
    return Pairs(source, source[:, ::-1].copy())


def chance_accuracy(symbols: int) -> float:
    """Token accuracy of guessing uniformly among the symbols."""
    return 1.0 / symbols


def token_accuracy(predicted: np.ndarray, target: np.ndarray) -> float:
    """Fraction of target positions predicted right."""
    return float(np.mean(predicted == target))


def sequence_accuracy(predicted: np.ndarray, target: np.ndarray) -> float:
    """Fraction of sequences predicted right at every position."""
    return float(np.mean(np.all(predicted == target, axis=1)))
