"""`python -m demo`: SimpleRNN, GRU and LSTM on the adding problem, then TensorBoard.

Each model is one recurrent layer returning its last output, then a Dense
head. The gated ones (GRU, LSTM) learn to add two values marked in a 100-step
sequence; the SimpleRNN stays at the loss of predicting the mean. The table at
the end shows each run's held-out loss beside that baseline.

`--framework torch` trains the same models (nn.RNN, nn.GRU, nn.LSTM) on the
same data in PyTorch, as runs `adding-<model>-torch`. `--sweep` trains a sweep
of 24 tiny Keras runs instead (`demo/sweep.py`): which of them learn to recall
the first of 10 or 30 steps, beside how far back their gradient reaches.
`--task translate` trains a PyTorch seq2seq with an attention decoder to
reverse a sequence of tokens instead (`demo/translate.py`).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from demo import quiet  # noqa: E402

# Every path of the demo imports TensorFlow (Keras, or torch's SummaryWriter):
# first here, without its start-up lines (demo/quiet.py says why).
quiet.import_tensorflow()

from demo import outcome, serve, tasks  # noqa: E402
from demo.config import MODEL_NAMES, TrainConfig, TranslateConfig  # noqa: E402

TRAIN_SAMPLES = 16000  # 250 steps of 64 per epoch
HELDOUT_SAMPLES = 1024
FRAMEWORKS = ("keras", "torch")
TASKS = ("adding", "translate")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults, translate_defaults = TrainConfig(), TranslateConfig()
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--task",
        default="adding",
        choices=TASKS,
        help="adding: the adding problem (Keras or PyTorch); translate: a "
        "PyTorch seq2seq with attention reversing 12 tokens (default %(default)s)",
    )
    parser.add_argument(
        "--logdir",
        default=None,
        help="where to log (default runs/demo, with --sweep runs/sweep, with "
        "--task translate runs/translate)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(MODEL_NAMES),
        choices=MODEL_NAMES,
        help="models to train (default: all)",
    )
    parser.add_argument(
        "--framework",
        default="keras",
        choices=FRAMEWORKS,
        help="train with Keras or PyTorch (default %(default)s)",
    )
    parser.add_argument(
        "--timesteps",
        type=int,
        default=None,
        help="sequence length (default 100; translate: 12)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"epochs of 250 steps (default {defaults.epochs}; translate: "
        f"{translate_defaults.epochs})",
    )
    parser.add_argument(
        "--every-n-steps",
        type=int,
        default=None,
        help="log gradients every this many steps (default "
        f"{defaults.every_n_steps}; translate: {translate_defaults.every_n_steps})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed of the data and the weights (default %(default)s)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="instead: a sweep of 24 tiny runs (cell x units x learning rate x "
        "sequence length, demo/sweep.py), to compare in the tab",
    )
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="train and log only; do not start TensorBoard",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="TensorBoard's port (default 6006 if free)",
    )
    return parser.parse_args(argv)


def trainer(framework: str):
    """`(run_name, train)` of a framework, imported only when chosen."""
    if framework == "torch":
        try:
            from demo import torch_train
        except ModuleNotFoundError as error:
            if error.name != "torch":
                raise
            raise SystemExit(
                "--framework torch needs PyTorch, which is not installed: "
                "pip install -e '.[demo,torch]' (a CPU-only torch: "
                "pip install torch==2.13.0, or from "
                "https://download.pytorch.org/whl/cpu)."
            ) from error
        return torch_train.torch_run_name, torch_train.train
    from demo import train

    return train.run_name, train.train


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sweep:
        from demo import sweep

        logdir = args.logdir or "runs/sweep"
        sweep.main(logdir, sweep.SweepConfig(seed=args.seed))
        return 0 if args.no_serve else serve.serve(logdir, args.port)
    if args.task == "translate":
        return translate_main(args)
    args.logdir = args.logdir or "runs/demo"
    config = TrainConfig(seed=args.seed, **given(args, "epochs", "every_n_steps"))
    timesteps = args.timesteps or 100
    train_set = tasks.adding_problem(TRAIN_SAMPLES, timesteps, args.seed)
    heldout = tasks.adding_problem(HELDOUT_SAMPLES, timesteps, args.seed + 1)
    baseline = outcome.baseline(train_set.y, heldout.y)
    run_name, train = trainer(args.framework)
    wall, cpu = time.monotonic(), time.process_time()
    outcomes = [
        outcome.Outcome(
            run_name(train_set, name),
            train(name, train_set, heldout, args.logdir, config),
            baseline,
        )
        for name in args.models
    ]
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    path = outcome.write(args.logdir, outcomes)
    print(f"\nTrained {len(outcomes)} runs in {wall:.0f} s (CPU {cpu:.0f} s).")
    print("Baseline: the held-out loss of always predicting the mean target.\n")
    print(outcome.table(outcomes))
    print(f"\nLogs in {args.logdir}, outcome in {path}")
    if args.no_serve:
        return 0
    return serve.serve(args.logdir, args.port)


def given(args: argparse.Namespace, *names: str) -> dict[str, object]:
    """The options among `names` given on the command line (not None)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def translate_config(args: argparse.Namespace) -> TranslateConfig:
    """`TranslateConfig` with the options given (`--timesteps` is the length)."""
    found = given(args, "epochs", "every_n_steps")
    if args.timesteps is not None:
        found["length"] = args.timesteps
    return TranslateConfig(seed=args.seed, **found)


def translate_main(args: argparse.Namespace) -> int:
    """`--task translate`: trains and logs the seq2seq, prints its outcome."""
    try:
        from demo import translate, translate_outcome
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        raise SystemExit(
            "--task translate needs PyTorch: pip install -e '.[demo,torch]'."
        ) from error
    logdir = args.logdir or "runs/translate"
    wall, cpu = time.monotonic(), time.process_time()
    found = translate.train(logdir, translate_config(args))
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    path = translate_outcome.write(logdir, found)
    print(f"\nTrained in {wall:.0f} s (CPU {cpu:.0f} s).")
    print(found.report())
    print(f"\nLogs in {logdir}, outcome in {path}")
    return 0 if args.no_serve else serve.serve(logdir, args.port)


if __name__ == "__main__":
    raise SystemExit(main())
