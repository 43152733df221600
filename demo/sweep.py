"""`python -m demo --sweep`: a small hyperparameter sweep to compare in the tab.

Tiny models (one recurrent layer, then a Dense head: `demo.models`) on short
adding problems (`demo.tasks`), over cell type x units x learning rate x
sequence length: 3 x 2 x 2 x 2 = 24 runs, about 1-2 minutes on 2 cores. Each
run logs the layer's output gradient, its state gradient (the gradient
horizon) and the input gradient; the tab's compare view and `tb-rnngrad
summary LOGDIR --sort reach` rank the runs by how far back gradient reaches.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

from demo import outcome, tasks
from demo.config import MODEL_NAMES, TrainConfig
from demo.train import train

#: What the sweep's runs log (tags "gradients/rnn", "state_gradients/rnn",
#: "input_gradients/sequence").
KINDS = ("gradients", "state_gradients", "input_gradients")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """The grid and how long each run trains."""

    cells: tuple[str, ...] = MODEL_NAMES
    units: tuple[int, ...] = (8, 32)
    learning_rates: tuple[float, ...] = (1e-2, 1e-3)
    timesteps: tuple[int, ...] = (20, 50)
    samples: int = 1024
    epochs: int = 2
    every_n_steps: int = 4
    seed: int = 0
    run_eagerly: bool = False


def run_name(cell: str, units: int, learning_rate: float, timesteps: int) -> str:
    """E.g. "lstm-u32-lr0.01-t50"."""
    return f"{cell}-u{units}-lr{learning_rate:g}-t{timesteps}"


def run_sweep(logdir: str, config: SweepConfig) -> list[outcome.Outcome]:
    """Trains every run of the grid into `<logdir>/<run_name>`.

    Returns:
      Each run's held-out loss against the baseline of predicting the mean.
    """
    outcomes = []
    for timesteps in config.timesteps:
        train_set = tasks.adding_problem(config.samples, timesteps, config.seed)
        heldout = tasks.adding_problem(256, timesteps, config.seed + 1)
        baseline = outcome.baseline(train_set.y, heldout.y)
        grid = itertools.product(config.cells, config.units, config.learning_rates)
        for cell, units, learning_rate in grid:
            run = run_name(cell, units, learning_rate, timesteps)
            training = TrainConfig(
                epochs=config.epochs,
                units=units,
                learning_rate=learning_rate,
                every_n_steps=config.every_n_steps,
                seed=config.seed,
            )
            loss = train(
                cell,
                train_set,
                heldout,
                logdir,
                training,
                run=run,
                kinds=KINDS,
                verbose=0,
                run_eagerly=config.run_eagerly,
            )
            outcomes.append(outcome.Outcome(run, loss, baseline))
    return outcomes


def main(logdir: str, config: SweepConfig) -> None:
    """Runs the sweep and prints what it wrote and how to compare the runs."""
    wall = time.monotonic()
    outcomes = run_sweep(logdir, config)
    path = outcome.write(logdir, outcomes)
    print(f"\nTrained {len(outcomes)} runs in {time.monotonic() - wall:.0f} s.")
    print(outcome.table(outcomes))
    print(f"\nLogs in {logdir}, outcome in {path}")
    print(f"Compare them: tb-rnngrad summary {logdir} --sort reach")
