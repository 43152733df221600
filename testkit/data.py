"""Test data shared by tests and benchmarks: gradients and event files."""

from __future__ import annotations

import pathlib
from collections.abc import Iterable

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer import event_file_writer


def gradient_like(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random (batch, timesteps, channels) float32 gradients that fade towards
    early timesteps (a decay of e over 40 steps back from the last one)."""
    rng = np.random.default_rng(seed)
    t = np.arange(shape[1])
    decay = np.exp(-(shape[1] - 1 - t) / 40.0)[None, :, None]
    return (rng.standard_normal(shape) * decay).astype(np.float32)


def write_run(
    run_dir: pathlib.Path, records: Iterable[tuple[int, summary_pb2.Summary]]
) -> None:
    """Writes `(step, summary)` records as one event file of run `run_dir`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    writer = event_file_writer.EventFileWriter(str(run_dir))
    for step, summ in records:
        writer.add_event(
            event_pb2.Event(step=step, wall_time=1_700_000_000.0 + step, summary=summ)
        )
    writer.close()
