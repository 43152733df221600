"""Benchmark: the cost of capturing a recurrence unrolled by hand (issue 22).

Run from the repository root:

    python -m bench.bench_unrolled            # about 4 minutes on 2 idle cores
    python -m bench.bench_unrolled --quick    # a smoke run
    python -m bench.bench_unrolled --json out.json   # also write the figures

Model: the translate demo's seq2seq (`demo.seq2seq`: an nn.GRU encoder and
an attention decoder whose nn.GRU is called once per target step), 64
units, on the reversal of 20 tokens: a 20-step decoder loop, teacher forced,
mean NLL. Torch runs on one thread (see `bench_torch`); the sides of each
comparison run in one process, interleaved (`bench.timing`):

  (a) `capture(kinds=("gradients", "state_gradients"))` of both GRUs on 16
      pairs vs torch's bare forward+backward of the same model on the same
      batch; for reference, "gradients" alone and with
      "weight_contributions" too;
  (b) a training loop of `--train-steps` Adam steps on batches of 64 calling
      `GradientLogger(every_n_steps=100).step(step)` (kinds "gradients",
      "state_gradients", "weight_contributions") vs the same loop without it;
  (k) Keras on TensorFlow (`bench.unrolled_keras`, in a subprocess): an
      attention decoder stepping an LSTMCell 20 times, the cached capture
      of "gradients" and "state_gradients" vs a bare `tf.function`
      forward+backward, target 1.5x;
  (kf) its `model.fit` of `--fit-steps` steps with a `GradientLogger`
      every 100 steps vs without, target 1.03x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

from bench.timing import Recorder, side_by_side
from demo import reversal
from demo.seq2seq import Seq2Seq, nll_loss
from tb_rnngrad import pytorch as tp

SAMPLES, STEPS, SYMBOLS, UNITS = 16, 20, 10, 64
TRAIN_BATCH = 64
STATE_KINDS = ("gradients", "state_gradients")
LOGGED_KINDS = ("gradients", "state_gradients", "weight_contributions")
CAPTURE_TARGET, TRAINING_TARGET = 1.5, 1.03


def make_data(samples: int, seed: int = 0) -> tuple[tuple, torch.Tensor]:
    """((source, target), target) of `samples` reversal pairs: model inputs
    and the loss's targets, as `capture` and the logger take them."""
    pairs = reversal.reversal(samples, STEPS, SYMBOLS, seed)
    source, target = torch.from_numpy(pairs.source), torch.from_numpy(pairs.target)
    return (source, target), target


def capture_sides(model: Seq2Seq) -> dict:
    """(a): the captures and the bare forward+backward, on one batch."""
    inputs, targets = make_data(SAMPLES)

    def bare() -> None:
        model.zero_grad(set_to_none=True)
        nll_loss(model(*inputs), targets).backward()

    def capture(kinds: tuple[str, ...]):
        return lambda: tp.capture(model, nll_loss, inputs, targets, kinds=kinds)

    return {
        "capture_gradients": capture(("gradients",)),
        "capture_states": capture(STATE_KINDS),
        "capture_weights": capture(LOGGED_KINDS),
        "bare": bare,
    }


def training_sides(model: Seq2Seq, log_dir: str, steps: int) -> tuple:
    """(b): `steps` training steps with and without the logger; also the list
    of the logger's own seconds per loop, and the logger to close."""
    (source, target), _ = make_data(TRAIN_BATCH * steps, seed=1)
    batches = list(
        zip(source.split(TRAIN_BATCH), target.split(TRAIN_BATCH), strict=True)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    logger = tp.GradientLogger(
        log_dir, model, nll_loss, make_data(SAMPLES), every_n_steps=100,
        kinds=LOGGED_KINDS,
    )  # fmt: skip
    counter = iter(range(10**9))
    logger_seconds: list[float] = []

    def train(with_logger: bool) -> None:
        spent = 0.0
        for x, y in batches:
            optimizer.zero_grad(set_to_none=True)
            nll_loss(model(x, y), y).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if with_logger:
                start = time.perf_counter()
                logger.step(next(counter))
                spent += time.perf_counter() - start
        if with_logger:
            logger_seconds.append(spent)

    sides = {"with_logger": lambda: train(True), "without": lambda: train(False)}
    return sides, logger_seconds, logger


def torch_rows(args: argparse.Namespace, rec: Recorder) -> list[tuple]:
    """(a) and (b) in PyTorch: rows (label, A, B, target)."""
    torch.manual_seed(0)
    model = Seq2Seq(SYMBOLS + 1, UNITS, STEPS)
    captures = side_by_side(capture_sides(model), args.reps)
    with tempfile.TemporaryDirectory(prefix="bench_unrolled_") as log_dir:
        sides, logger_seconds, logger = training_sides(model, log_dir, args.train_steps)
        training = side_by_side(sides, args.train_reps)
        logger.close()
    loops = training["with_logger"]["ms"]["median"] / 1e3
    training["with_logger"]["logger_share"] = (
        sorted(logger_seconds)[len(logger_seconds) // 2] / loops
    )
    rec["captures"], rec["training"] = captures, training
    bare = captures["bare"]
    return [
        (
            f"(a) {STEPS}-step decoder loop: capture gradients + "
            "state_gradients / bare fwd+bwd",
            captures["capture_states"],
            bare,
            CAPTURE_TARGET,
        ),
        (
            "    capture gradients / bare fwd+bwd",
            captures["capture_gradients"],
            bare,
            None,
        ),
        (
            "    + weight_contributions / bare fwd+bwd",
            captures["capture_weights"],
            bare,
            None,
        ),
        (
            f"(b) {args.train_steps} training steps: logger every 100 / none",
            training["with_logger"],
            training["without"],
            TRAINING_TARGET,
        ),
    ]


# The Keras rows (TensorFlow backend): an attention decoder stepping an
# LSTMCell (`bench.unrolled_keras`), in a subprocess: Keras and TensorFlow
# apart from torch's process.


def keras_rows(args: argparse.Namespace, rec: Recorder) -> list[tuple]:
    """(k) and (kf): the Keras capture and fit rows."""
    with tempfile.TemporaryDirectory(prefix="bench_unrolled_keras_") as tmp:
        path = os.path.join(tmp, "keras.json")
        env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
        command = [sys.executable, "-m", "bench.unrolled_keras", "--json", path]
        command += ["--reps", str(args.keras_reps), "--fit-reps", str(args.fit_reps)]
        command += ["--fit-samples", str(64 * args.fit_steps)]
        subprocess.run(command, env=env, check=True)
        with open(path, encoding="utf-8") as file:
            found = json.load(file)
    rec["keras"] = found
    capture, fit = found["capture"], found["fit"]
    return [
        (
            f"(k) Keras TF, {STEPS}-step LSTMCell loop: capture "
            "gradients + state_gradients / bare",
            capture["capture"],
            capture["bare"],
            CAPTURE_TARGET,
        ),
        (
            f"(kf) Keras fit, {found['fit_steps']} steps: logger every 100 / none",
            fit["with_logger"],
            fit["without"],
            TRAINING_TARGET,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="rounds of (a)")
    parser.add_argument("--train-reps", type=int, default=5, help="rounds of (b)")
    parser.add_argument("--train-steps", type=int, default=100, help="steps per loop")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--keras-reps", type=int, default=25, help="rounds of (k)")
    parser.add_argument("--fit-reps", type=int, default=5, help="rounds of (kf)")
    parser.add_argument("--fit-steps", type=int, default=100, help="steps per fit")
    parser.add_argument("--no-keras", action="store_true", help="skip (k), (kf)")
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.train_reps, args.train_steps = 3, 1, 30
        args.keras_reps, args.fit_reps, args.fit_steps = 3, 1, 10
    torch.set_num_threads(args.threads)
    rec = Recorder(
        "bench_unrolled",
        args.quick,
        {
            "reps": args.reps,
            "train_reps": args.train_reps,
            "train_steps": args.train_steps,
            "samples": SAMPLES,
            "decoder_steps": STEPS,
            "units": UNITS,
            "train_batch": TRAIN_BATCH,
            "keras_reps": args.keras_reps,
            "fit_reps": args.fit_reps,
            "fit_steps": args.fit_steps,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
    )
    rows = torch_rows(args, rec)
    if not args.no_keras:
        rows += keras_rows(args, rec)
    print_table(rows, rec.data["results"]["training"])
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
        f"\nUnrolled recurrence benchmark: seq2seq, {UNITS} units, {STEPS}-step "
        f"decoder loop, {SAMPLES} pairs; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads\n"
    )
    header = f"{'comparison':78} {'A (ms)':>9} {'A/B':>7} {'A/B cpu':>8} {'target':>8}"
    print(header)
    print("-" * len(header))
    for label, side, _, target in rows:
        goal = "" if target is None else f"<= {target}"
        wall = side["ratio"]["median"]
        mark = "" if target is None else ("ok" if wall <= target else "MISS")
        print(
            f"{label:78} {side['ms']['median']:9.1f} {wall:7.3f} "
            f"{side['cpu_ratio']['median']:8.3f} {goal:>8} {mark}"
        )
    print(
        f"\nB: bare fwd+bwd {rows[0][2]['ms']['median']:.1f} ms; training loop "
        f"without the logger {training['without']['ms']['median']:.0f} ms; the "
        f"logger's own share of the loop with it: "
        f"{training['with_logger']['logger_share']:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
