"""`python -m demo`: train the four RNNs on two tasks, then serve TensorBoard."""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from demo import models, serve, tasks  # noqa: E402
from demo.train import TrainConfig, train  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--logdir", default="runs/demo")
    parser.add_argument(
        "--tasks", nargs="+", default=["adding", "copy"], choices=["adding", "copy"]
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(models.MODEL_NAMES),
        choices=models.MODEL_NAMES,
    )
    parser.add_argument(
        "--timesteps",
        type=int,
        default=100,
        help="adding-problem sequence length (default 100, long "
        "enough that SimpleRNN fails)",
    )
    parser.add_argument(
        "--delay",
        type=int,
        default=60,
        help="copy-memory blanks between symbols and recall",
    )
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--every-n-steps", type=int, default=16)
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="train and log only; do not start TensorBoard",
    )
    parser.add_argument("--port", type=int, default=None)
    return parser.parse_args(argv)


def make_task(name: str, args: argparse.Namespace) -> tasks.Task:
    if name == "adding":
        return tasks.adding_problem(args.samples, args.timesteps)
    return tasks.copy_memory(args.samples, args.delay)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = TrainConfig(epochs=args.epochs, every_n_steps=args.every_n_steps)
    start = time.monotonic()
    for task_name in args.tasks:
        task = make_task(task_name, args)
        for model_name in args.models:
            train(task, model_name, args.logdir, config)
    print(
        f"Trained {len(args.tasks) * len(args.models)} runs in "
        f"{time.monotonic() - start:.0f} s; logs in {args.logdir}"
    )
    if args.no_serve:
        return 0
    return serve.serve(args.logdir, args.port)


if __name__ == "__main__":
    raise SystemExit(main())
