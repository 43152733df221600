"""One-epoch Keras fits with a GradientLogger and without, to time side by side,
and the logger's own share of each fit (its hooks timed)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def fit_once(
    model, x: np.ndarray, y: np.ndarray, batch_size: int, callbacks: Sequence = ()
) -> None:
    """One quiet epoch of `model.fit`."""
    model.fit(
        x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=list(callbacks)
    )


def fit_with_logger(
    model, x: np.ndarray, y: np.ndarray, batch_size: int, logger
) -> tuple[Callable[[], None], list[float]]:
    """A fit with `logger`, and the list each such fit appends the logger's share
    of its wall time to."""
    hook_seconds = instrument(logger)
    shares: list[float] = []

    def fit() -> None:
        hook_seconds.clear()
        start = time.perf_counter()
        fit_once(model, x, y, batch_size, [logger])
        shares.append(sum(hook_seconds) / (time.perf_counter() - start))

    return fit, shares


def instrument(logger) -> list[float]:
    """Wraps the logger's hooks with timers; returns the list they append to."""
    seconds: list[float] = []
    for name in ("on_train_begin", "on_train_batch_begin", "on_train_end"):
        hook = getattr(logger, name)

        def timed_hook(*args, _hook=hook, **kwargs):
            start = time.perf_counter()
            _hook(*args, **kwargs)
            seconds.append(time.perf_counter() - start)

        setattr(logger, name, timed_hook)
    return seconds
