"""Benchmark: GradientLogger in a `MirroredStrategy` fit (issue 16), side by side.

    python -m bench.bench_distribute            # about 4 minutes on 2 cores
    python -m bench.bench_distribute --quick    # a smoke run

An LSTM(32) -> Dense(1) on input (100, 8) (Adam, mse; half the demo's length,
as a MirroredStrategy step on a shared 2-core machine takes seconds), built and
compiled under a `tf.distribute.MirroredStrategy` over two logical CPU devices,
fits `--fit-steps` steps of global batch 64 (32 per replica):

  (c) with `GradientLogger(every_n_steps=100)` (16 probe samples, kind
      "gradients": a capture at the start and one at step 100) vs without;
  control: the fit without the logger once more, against the first (what the
      comparison reads when nothing differs).

The sides run in one process, interleaved (`bench.timing.interleave`, the order
rotating with each repetition) after a warm-up fit of each; ratios are medians
of the per-repetition ratios, in wall and process CPU time. The logger's hooks
are timed too: their share of the fit with them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile

import keras
import numpy as np

from bench.bench_capture import SAMPLES, TRAIN_BATCH
from bench.fit_sides import fit_once, fit_with_logger
from bench.timing import Recorder, interleave, ratio, spread
from tb_rnngrad.callback import GradientLogger
from testkit.distributed_fit import strategy_for

TARGET = 1.03
TIMESTEPS, FEATURES, UNITS = 100, 8, 32


def build_model() -> keras.Model:
    """LSTM(UNITS) -> Dense(1), seeded; build it under the strategy's scope."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, FEATURES))
    hidden = keras.layers.LSTM(UNITS, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="adam", loss="mse")
    return model


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, TIMESTEPS, FEATURES)).astype("float32")
    return x, rng.standard_normal((samples, 1)).astype("float32")


def fit_sides(model, steps: int, log_dir: str) -> tuple[dict, list[float], list]:
    """{side: fit}, the logger's hook seconds of the last fit, and the shares."""
    x_probe, y_probe = make_data(SAMPLES)
    x_train, y_train = make_data(TRAIN_BATCH * steps, seed=1)
    logger = GradientLogger(log_dir, data=(x_probe, y_probe), kinds=("gradients",))
    with_logger, shares = fit_with_logger(model, x_train, y_train, TRAIN_BATCH, logger)

    def without() -> None:
        fit_once(model, x_train, y_train, TRAIN_BATCH)

    sides = {
        "with_logger": with_logger,
        "without": without,
        "again": without,
    }
    return sides, shares, logger.logged_steps


def side(raw: dict, name: str, reference: str) -> dict:
    a, b = raw[name], raw[reference]
    return {
        "ms": spread(a["wall"], 1e3),
        "cpu_ms": spread(a["cpu"], 1e3),
        "b_ms": spread(b["wall"], 1e3),
        "ratio": ratio(a["wall"], b["wall"]),
        "cpu_ratio": ratio(a["cpu"], b["cpu"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=12, help="rounds of fits")
    parser.add_argument("--fit-steps", type=int, default=100, help="steps per fit")
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.fit_steps = 1, 10
    strategy = strategy_for("mirrored")
    with strategy.scope():
        model = build_model()
    rec = Recorder(
        "bench_distribute",
        args.quick,
        {
            "reps": args.reps,
            "fit_steps": args.fit_steps,
            "strategy": f"MirroredStrategy, {strategy.num_replicas_in_sync} CPUs",
            "train_batch": TRAIN_BATCH,
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench_distribute_") as log_dir:
        sides, shares, logged = fit_sides(model, args.fit_steps, log_dir)
        raw = interleave(sides, args.reps, warmup=1)
    steps = args.fit_steps
    label = f"(c) MirroredStrategy fit {steps} steps: logger every 100 / none"
    rows = [
        (label, side(raw, "with_logger", "without"), TARGET),
        (
            "    control: fit without logger / the same again",
            side(raw, "again", "without"),
            None,
        ),
    ]
    share = statistics.median(shares[1:]) if len(shares) > 1 else shares[0]
    rec["rows"] = [{"label": r[0].strip(), **r[1], "target": r[2]} for r in rows]
    rec["logger_share"] = share
    rec["logged_steps"] = logged[-2:]
    for text, values, target in rows:
        wall, cpu = values["ratio"]["median"], values["cpu_ratio"]["median"]
        print(
            f"{text:64} {values['ms']['median']:9.0f} ms {wall:6.3f}x cpu {cpu:6.3f}x"
        )
        if target is not None:
            rec.check(text.strip(), wall, "<=", target, "x")
    print(f"logger's own share of the fit with it: {share:.4f}")
    if args.json:
        rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
