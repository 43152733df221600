"""`python -m demo --sweep`: a hyperparameter sweep whose runs learn or fail.

Tiny models (one recurrent layer, then a Dense head: `demo.models`) recall the
first value of a sequence (`demo.tasks.first_value`), over cell type x units x
learning rate x sequence length: 3 x 2 x 2 x 2 = 24 runs of 384 steps, about
2 minutes on 2 cores. At 10 steps every run learns; at 30 steps the runs that
learn are ones whose state gradient still reaches the first timestep (both
GRUs at learning rate 0.01 and one SimpleRNN; no LSTM in this budget). Each
run logs the layer's output gradient, its state gradient (the gradient
horizon) and the input gradient; the sweep ends with a table per sequence
length of each run's held-out loss, baseline, verdict and latest horizon, the
runs that keep gradient alive first (as `tb-rnngrad summary LOGDIR --sort
reach` and the tab's compare view rank them).
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import time

from demo import outcome, tasks
from demo.config import MODEL_NAMES, TrainConfig
from demo.train import train
from tb_rnngrad.server.compare import Comparer
from tb_rnngrad.server.logdir import LogdirReader

#: What the sweep's runs log (tags "gradients/rnn", "state_gradients/rnn",
#: "input_gradients/sequence").
KINDS = ("gradients", "state_gradients", "input_gradients")
#: The tag whose reach is the gradient horizon.
HORIZON_TAG = "state_gradients/rnn"


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """The grid and how long each run trains (measured: see docs/tab.md)."""

    cells: tuple[str, ...] = MODEL_NAMES
    units: tuple[int, ...] = (8, 32)
    learning_rates: tuple[float, ...] = (1e-2, 3e-3)
    timesteps: tuple[int, ...] = (10, 30)
    samples: int = 4096
    epochs: int = 3
    batch_size: int = 32
    every_n_steps: int = 8
    seed: int = 0
    run_eagerly: bool = False


def run_name(cell: str, units: int, learning_rate: float, timesteps: int) -> str:
    """E.g. "lstm-u32-lr0.01-t30"."""
    return f"{cell}-u{units}-lr{learning_rate:g}-t{timesteps}"


def run_sweep(logdir: str, config: SweepConfig) -> list[outcome.Outcome]:
    """Trains every run of the grid into `<logdir>/<run_name>`.

    Returns:
      Each run's held-out loss against the baseline of predicting the mean.
    """
    outcomes = []
    for timesteps in config.timesteps:
        train_set = tasks.first_value(config.samples, timesteps, config.seed)
        heldout = tasks.first_value(256, timesteps, config.seed + 1)
        baseline = outcome.baseline(train_set.y, heldout.y)
        grid = itertools.product(config.cells, config.units, config.learning_rates)
        for cell, units, learning_rate in grid:
            run = run_name(cell, units, learning_rate, timesteps)
            training = TrainConfig(
                epochs=config.epochs,
                batch_size=config.batch_size,
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


def horizons(logdir: str) -> dict[str, int | None]:
    """Each run's latest gradient horizon, read back from its logs.

    The reach of `HORIZON_TAG` at the last logged step, as the compare view
    and `tb-rnngrad summary --sort reach` show it; keyed by the sweep's run
    name (without the logger's "/rnngrad" subdirectory).
    """
    source = LogdirReader(logdir)
    compared = Comparer(source.reader).compare(
        source.ctx, source.experiment_id, HORIZON_TAG
    )
    return {
        run.rsplit("/", 1)[0]: getattr(row, "latest_reach", None)
        for run, row in compared.items()
    }


def ranked(
    outcomes: list[outcome.Outcome], horizon: dict[str, int | None]
) -> list[outcome.Outcome]:
    """Longest horizon first, then lowest loss relative to the baseline."""
    return sorted(
        outcomes,
        key=lambda o: (-(horizon.get(o.run) or 0), o.final_loss / o.baseline),
    )


def story(
    outcomes: list[outcome.Outcome], horizon: dict[str, int | None], timesteps: int
) -> str:
    """How many runs of one sequence length learned, and the median horizon of
    those that did and of the others."""

    def median(runs: list[outcome.Outcome]) -> str:
        values = [horizon.get(o.run) or 0 for o in runs]
        return f"{statistics.median(values):g}" if values else "-"

    learned = [o for o in outcomes if o.verdict == "learned"]
    rest = [o for o in outcomes if o.verdict != "learned"]
    return (
        f"{timesteps} steps: {len(learned)} of {len(outcomes)} runs learned; "
        f"median horizon {median(learned)} for those, {median(rest)} for the "
        f"others (the first timestep is {timesteps - 1} steps back)."
    )


def of_length(outcomes: list[outcome.Outcome], timesteps: int) -> list[outcome.Outcome]:
    """The runs on sequences of `timesteps` steps."""
    return [o for o in outcomes if o.run.endswith(f"-t{timesteps}")]


def main(logdir: str, config: SweepConfig) -> None:
    """Runs the sweep and prints each run's outcome and horizon, ranked."""
    wall = time.monotonic()
    outcomes = run_sweep(logdir, config)
    path = outcome.write(logdir, outcomes)
    print(f"\nTrained {len(outcomes)} runs in {time.monotonic() - wall:.0f} s.")
    horizon = horizons(logdir)
    print("Horizon: how many steps back the state gradient still reaches.")
    for timesteps in sorted(config.timesteps, reverse=True):
        runs = of_length(outcomes, timesteps)
        print(f"\n{story(runs, horizon, timesteps)}")
        print(outcome.table(ranked(runs, horizon), ("horizon", horizon)))
    print(f"\nLogs in {logdir}, outcome in {path}")
    print(f"Compare them: tb-rnngrad summary {logdir} --sort reach")
