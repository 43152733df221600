"""A log directory of many runs (a hyperparameter sweep), written cheaply.

No model is trained: each run's gradients are synthetic, written by the NumPy
`*_pb` twins through the TensorFlow-free `EventWriter`, with a decay length
(so a reach) that depends on the run's settings and on the step. Used by the
sweep tests and the sweep benchmark.
"""

from __future__ import annotations

import itertools
import pathlib
import zlib

import numpy as np
from tensorboard.compat.proto import event_pb2

from tb_rnngrad.events import EventWriter
from tb_rnngrad.summary import pb as summary_pb

#: The sweep's settings; run names are "<cell>-u<units>-lr<lr>-t<timesteps>-s<seed>".
CELLS = ("lstm", "gru", "simplernn")
UNITS = (8, 32)
LEARNING_RATES = ("0.01", "0.001")
#: Tags: (tag, kind of summary); the state gradients have a gradient horizon.
TAGS = (
    ("state/rnn", summary_pb.state_gradients_pb),
    ("gradients/rnn", summary_pb.gradients_pb),
    ("input", summary_pb.input_gradients_pb),
)
#: Runs whose every step holds a NaN and an Inf (cell simplernn, lr 0.01).
EXPLODES = ("simplernn", "0.01")


def run_names(count: int, timesteps: int = 40) -> list[str]:
    """`count` distinct run names: the settings' grid, then again with new seeds."""
    names: list[str] = []
    for seed in itertools.count():
        for cell, units, lr in itertools.product(CELLS, UNITS, LEARNING_RATES):
            if len(names) == count:
                return names
            names.append(f"{cell}-u{units}-lr{lr}-t{timesteps}-s{seed}")
    return names


def settings(run: str) -> dict[str, str]:
    """{"cell", "units", "lr", "timesteps", "seed"} of a run name."""
    cell, units, lr, timesteps, seed = run.split("-")
    return {
        "cell": cell,
        "units": units[1:],
        "lr": lr[2:],
        "timesteps": timesteps[1:],
        "seed": seed[1:],
    }


def gradient(run: str, tag_index: int, step: int, shape: tuple[int, int, int]):
    """The synthetic (batch, timesteps, channels) data of one run, tag and step.

    Gradient decays towards early timesteps over a length set by the cell
    (lstm long, simplernn short), units, seed and step; runs of `EXPLODES`
    hold one NaN and one +Inf.
    """
    s = settings(run)
    base = {"lstm": 4.0, "gru": 2.0, "simplernn": 0.8}[s["cell"]]
    length = base * (1 + int(s["units"]) / 64) * (1 + 0.05 * int(s["seed"]))
    length *= 1 + step / 1000 + tag_index / 4
    rng = np.random.default_rng(zlib.crc32(f"{run}/{tag_index}/{step}".encode()))
    t = np.arange(shape[1])
    decay = np.exp(-(shape[1] - 1 - t) / length)[None, :, None]
    data = (rng.standard_normal(shape) * decay).astype(np.float32)
    if (s["cell"], s["lr"]) == EXPLODES:
        data[0, 0, 0] = np.nan
        data[-1, 1, -1] = np.inf
    return data


def _layer(run: str) -> dict:
    s = settings(run)
    classes = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
    return {"name": "rnn", "layer_class": classes[s["cell"]], "units": int(s["units"])}


def write_sweep(
    logdir: str | pathlib.Path,
    runs: int = 200,
    steps: int = 100,
    shape: tuple[int, int, int] = (2, 40, 4),
    every: int = 10,
    tags: int = len(TAGS),
) -> list[str]:
    """Writes `runs` runs x `tags` tags x `steps` logged steps.

    Args:
      logdir: The log directory (created).
      runs: How many runs.
      steps: Logged steps per run and tag, at 0, every, 2 * every, ...
      shape: (batch, timesteps, channels) of each logged tensor.
      every: Training steps between logged steps.
      tags: How many of `TAGS` (the first ones) to write.

    Returns:
      The run names, sorted.
    """
    names = run_names(runs, shape[1])
    for run in names:
        writer = EventWriter(str(pathlib.Path(logdir) / run))
        for i in range(steps):
            step = i * every
            for index, (tag, write) in enumerate(TAGS[:tags]):
                data = gradient(run, index, step, shape)
                summary = write(tag, data, layer=_layer(run))
                writer.add_event(
                    event_pb2.Event(
                        step=step, wall_time=1_700_000_000.0 + step, summary=summary
                    )
                )
        writer.close()
    return sorted(names)
