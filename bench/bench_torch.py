"""Benchmark: the cost of the PyTorch capture and logger (issue 18), side by side.

Run from the repository root:

    python -m bench.bench_torch            # about 3 minutes on 2 cores (--train-reps 3)
    python -m bench.bench_torch --quick    # a smoke run
    python -m bench.bench_torch --json out.json   # also write the figures

Model: input (16 samples, 200 timesteps, 8 features) -> nn.LSTM(8, 64,
num_layers=2, batch_first=True) -> nn.Linear(64, 1) on the last step, mse.

Torch runs on one thread (`--threads`): on a small machine shared with other
jobs, a thread pool as wide as the cores spins while it waits for its cores
and slows every side by large, erratic factors. Every side runs in one
process, interleaved (`bench.timing.interleave`: the
order rotates with each repetition) after a warm-up; ratios are medians of the
per-repetition ratios, in wall time and in process CPU time:

  (a) `capture(kinds=("gradients",))` vs torch's own bare forward+backward
      (`loss.backward()`, gradients of the weights) on the same batch;
  (b) `capture(kinds=("gradients", "state_gradients"))` vs the same; also,
      without a target, with "weight_contributions" too, and
      `GradientLogger.log` (capture + write) of those three kinds: to a
      directory, given a `SummaryWriter` (its own file in the writer's
      `rnngrad` subdirectory, the default), and through the `SummaryWriter`
      (`subdir=""`: TensorBoard's record writer, pure-Python CRC-32C);
  (c) a training loop of `--train-steps` Adam steps on batches of 64 calling
      `GradientLogger(every_n_steps=100).step(step)` (kinds "gradients",
      "state_gradients", "weight_contributions") vs the same loop without it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from bench.timing import Recorder, side_by_side
from tb_rnngrad import pytorch as tp

SAMPLES, TIMESTEPS, FEATURES, UNITS = 16, 200, 8, 64
TRAIN_BATCH = 64
STATE_KINDS = ("gradients", "state_gradients")
LOGGED_KINDS = ("gradients", "state_gradients", "weight_contributions")


class Model(nn.Module):
    """nn.LSTM(64) x 2 -> Linear(1) on the last step."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, num_layers=2, batch_first=True)
        self.head = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def loss_fn(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(prediction, target)


def make_data(samples: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, TIMESTEPS, FEATURES, generator=generator)
    return x, torch.randn(samples, 1, generator=generator)


def capture_sides(model: Model, log_dir: str) -> tuple[dict, list]:
    """(a) and (b): the captures, the logger's log, and bare fwd+bwd; also
    what to close afterwards."""
    x, y = make_data(SAMPLES)
    logger = tp.GradientLogger(log_dir, model, loss_fn, (x, y), kinds=LOGGED_KINDS)
    writer = SummaryWriter(os.path.join(log_dir, "writer"))
    beside, through = (
        tp.GradientLogger(
            writer, model, loss_fn, (x, y), kinds=LOGGED_KINDS, subdir=subdir
        )
        for subdir in ("rnngrad", "")
    )
    step = iter(range(1_000_000))

    def bare() -> None:
        model.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()

    def capture(kinds: tuple[str, ...]):
        return lambda: tp.capture(model, loss_fn, x, y, kinds=kinds)

    sides = {
        "capture_gradients": capture(("gradients",)),
        "capture_states": capture(STATE_KINDS),
        "capture_weights": capture(LOGGED_KINDS),
        "log": lambda: logger.log(next(step)),
        "log_writer": lambda: beside.log(next(step)),
        "log_through_writer": lambda: through.log(next(step)),
        "bare": bare,
    }
    return sides, [logger, beside, through, writer]


def training_sides(model: Model, log_dir: str, steps: int) -> tuple[dict, list]:
    """(c): `steps` training steps with and without the logger."""
    x_train, y_train = make_data(TRAIN_BATCH * steps, seed=1)
    batches = list(
        zip(x_train.split(TRAIN_BATCH), y_train.split(TRAIN_BATCH), strict=True)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    logger = tp.GradientLogger(
        log_dir, model, loss_fn, make_data(SAMPLES), every_n_steps=100,
        kinds=LOGGED_KINDS, subdir="training",
    )  # fmt: skip
    counter = iter(range(10**9))
    logger_seconds: list[float] = []

    def train(with_logger: bool) -> None:
        spent = 0.0
        for x, y in batches:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
            if with_logger:
                start = time.perf_counter()
                logger.step(next(counter))
                spent += time.perf_counter() - start
        if with_logger:
            logger_seconds.append(spent)

    sides = {"with_logger": lambda: train(True), "without": lambda: train(False)}
    return sides, logger_seconds, logger


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="rounds of (a), (b)")
    parser.add_argument("--train-reps", type=int, default=3, help="rounds of (c)")
    parser.add_argument("--train-steps", type=int, default=100, help="steps per loop")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.train_reps, args.train_steps = 3, 1, 30
    torch.set_num_threads(args.threads)

    rec = Recorder(
        "bench_torch",
        args.quick,
        {
            "reps": args.reps,
            "train_reps": args.train_reps,
            "train_steps": args.train_steps,
            "input": [SAMPLES, TIMESTEPS, FEATURES],
            "train_batch": TRAIN_BATCH,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
    )
    torch.manual_seed(0)
    model = Model()
    with tempfile.TemporaryDirectory(prefix="bench_torch_") as log_dir:
        sides, to_close = capture_sides(model, log_dir)
        captures = side_by_side(sides, args.reps)
        for opened in to_close:
            opened.close()
        sides, logger_seconds, logger = training_sides(model, log_dir, args.train_steps)
        training = side_by_side(sides, args.train_reps)
        logger.close()
        loops = training["with_logger"]["ms"]["median"] / 1e3
        training["with_logger"]["logger_share"] = (
            sorted(logger_seconds)[len(logger_seconds) // 2] / loops
        )
    bare, without = captures["bare"], training["without"]
    rows = [  # (label, A, B, target)
        (
            "(a) capture gradients / bare fwd+bwd",
            captures["capture_gradients"],
            bare,
            1.2,
        ),
        (
            "(b) capture gradients + state_gradients / bare fwd+bwd",
            captures["capture_states"],
            bare,
            1.5,
        ),
        (
            "    + weight_contributions / bare fwd+bwd",
            captures["capture_weights"],
            bare,
            None,
        ),
        (
            "    GradientLogger.log, those 3 kinds / bare fwd+bwd",
            captures["log"],
            bare,
            None,
        ),
        (
            "    the same given a SummaryWriter (own file beside) / bare",
            captures["log_writer"],
            bare,
            None,
        ),
        (
            "    the same through the SummaryWriter (subdir='') / bare",
            captures["log_through_writer"],
            bare,
            None,
        ),
        (
            f"(c) {args.train_steps} training steps: logger every 100 / none",
            training["with_logger"],
            without,
            1.03,
        ),
    ]
    print_table(rows, training)
    rec["captures"] = captures
    rec["training"] = training
    rec["rows"] = [
        {
            "label": label.strip(),
            "ms": side["ms"],
            "b_ms": reference["ms"],
            "ratio": side["ratio"],
            "cpu_ratio": side["cpu_ratio"],
            "target": target,
        }
        for label, side, reference, target in rows
    ]
    for label, side, _, target in rows:
        if target is not None:
            rec.check(label.strip(), side["ratio"]["median"], "<=", target, "x")
    if args.json:
        rec.write(args.json)
    return 0


def print_table(rows: list[tuple], training: dict) -> None:
    print(
        f"\nPyTorch capture benchmark: input ({SAMPLES}, {TIMESTEPS}, {FEATURES}), "
        f"nn.LSTM({UNITS}, num_layers=2) -> Linear(1); torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads\n"
    )
    header = f"{'comparison':56} {'A (ms)':>9} {'A/B':>7} {'A/B cpu':>8} {'target':>8}"
    print(header)
    print("-" * len(header))
    for label, side, _, target in rows:
        goal = "" if target is None else f"<= {target}"
        wall = side["ratio"]["median"]
        mark = "" if target is None else ("ok" if wall <= target else "MISS")
        print(
            f"{label:56} {side['ms']['median']:9.1f} {wall:7.3f} "
            f"{side['cpu_ratio']['median']:8.3f} {goal:>8} {mark}"
        )
    print(
        f"\nB: bare fwd+bwd {rows[0][2]['ms']['median']:.1f} ms (CPU "
        f"{rows[0][2]['cpu_ms']['median']:.1f} ms); training loop without the "
        f"logger {training['without']['ms']['median']:.0f} ms; the logger's own "
        f"share of the loop with it: {training['with_logger']['logger_share']:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
