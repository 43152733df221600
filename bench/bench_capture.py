"""Benchmark: the cost of capturing and logging gradients, side by side.

Run from the repository root:

    python -m bench.bench_capture            # about four minutes on 2 cores
    python -m bench.bench_capture --quick    # a smoke run
    python -m bench.bench_capture --json out.json   # also write the figures

Model (demo-sized): input (16 samples, 200 timesteps, 8 features) ->
LSTM(64, return_sequences=True) -> LSTM(64) -> Dense(1), mse, Adam.

Each comparison alternates A and B in ABBA order (A B, B A, A B, ...) after a
warm-up that traces every tf.function, and reports the median wall time of
each, the median of the per-pair ratios A/B, and the same ratio in process CPU
time (steadier when other processes share the cores):

  (a) one GradientLogger capture+write (16 samples, both layers) vs a bare
      tf.function forward+backward (gradients of the weights) on the same batch;
  (b) capture+write vs one training step (`model.train_on_batch`), at the
      demo's training batch size (64) and at the probe batch size (16);
  (c) model.fit with GradientLogger(every_n_steps=100) vs model.fit without it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.timing import Recorder, spread  # noqa: E402
from tb_rnngrad.callback import GradientLogger  # noqa: E402

SAMPLES, TIMESTEPS, FEATURES, UNITS = 16, 200, 8, 64
TRAIN_BATCH = 64


def build_model() -> keras.Model:
    """The demo-sized stacked LSTM."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, FEATURES), name="sequence")
    hidden = keras.layers.LSTM(UNITS, return_sequences=True, name="lstm_1")(inputs)
    hidden = keras.layers.LSTM(UNITS, name="lstm_2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="adam", loss="mse")
    return model


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, TIMESTEPS, FEATURES)).astype("float32")
    return x, rng.standard_normal((samples, 1)).astype("float32")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def alternate(a: Callable[[], object], b: Callable[[], object], reps: int) -> dict:
    """Runs a and b in ABBA order `reps` times each; medians of times and ratios.

    Returns:
        {"a": median wall s, "b": ..., "ratio": median of per-pair wall ratios
        a/b, "cpu_ratio": the same for process CPU time, "spread": medians,
        quartiles and IQRs of a and b (ms) and of both ratios}.
    """
    walls_a, walls_b, ratios, cpu_ratios = [], [], [], []
    for rep in range(reps):
        if rep % 2:
            (wb, cb), (wa, ca) = timed(b), timed(a)
        else:
            (wa, ca), (wb, cb) = timed(a), timed(b)
        walls_a.append(wa)
        walls_b.append(wb)
        ratios.append(wa / wb)
        cpu_ratios.append(ca / cb)
    return {
        "a": statistics.median(walls_a),
        "b": statistics.median(walls_b),
        "ratio": statistics.median(ratios),
        "cpu_ratio": statistics.median(cpu_ratios),
        "spread": {
            "a_ms": spread(walls_a, 1e3),
            "b_ms": spread(walls_b, 1e3),
            "ratio": spread(ratios),
            "cpu_ratio": spread(cpu_ratios),
        },
    }


def bare_forward_backward(model: keras.Model) -> Callable:
    """A plain tf.function: loss and its gradient w.r.t. the weights."""

    @tf.function
    def step(x: tf.Tensor, y: tf.Tensor) -> list:
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
        return tape.gradient(loss, model.trainable_variables)

    return step


def run(model: keras.Model, args: argparse.Namespace, log_dir: str) -> list[tuple]:
    """Runs the three comparisons; returns the table rows."""
    x_probe, y_probe = make_data(SAMPLES)
    x_train, y_train = make_data(TRAIN_BATCH * args.fit_steps, seed=1)
    logger = GradientLogger(log_dir, data=(x_probe, y_probe), every_n_steps=100)
    logger.set_model(model)
    logger.on_train_begin()  # validates, traces the capture, writes step 0

    bare = bare_forward_backward(model)
    x_t, y_t = tf.constant(x_probe), tf.constant(y_probe)
    batch64 = (x_train[:TRAIN_BATCH], y_train[:TRAIN_BATCH])
    step = iter(range(1, 1_000_000))

    def capture_write() -> None:
        logger.log(next(step))

    def bare_fb() -> None:
        [g.numpy() for g in bare(x_t, y_t)]

    def train64() -> None:
        model.train_on_batch(*batch64)

    def train16() -> None:
        model.train_on_batch(x_probe, y_probe)

    for warm in (capture_write, bare_fb, train64, train16):
        warm()
        warm()

    rows = [
        (
            "(a) capture+write / bare fwd+bwd",
            alternate(capture_write, bare_fb, args.reps),
            1.2,
        ),
        (
            f"(b) capture+write / train step (batch {TRAIN_BATCH})",
            alternate(capture_write, train64, args.reps),
            0.5,
        ),
        (
            f"    capture+write / train step (batch {SAMPLES})",
            alternate(capture_write, train16, args.reps),
            None,
        ),
    ]
    logger.on_train_end()

    fit_logger = GradientLogger(log_dir, data=(x_probe, y_probe), every_n_steps=100)
    hook_seconds = instrument(fit_logger)
    shares = []

    def fit_with() -> None:
        hook_seconds.clear()
        start = time.perf_counter()
        model.fit(
            x_train,
            y_train,
            batch_size=TRAIN_BATCH,
            epochs=1,
            verbose=0,
            callbacks=[fit_logger],
        )
        shares.append(sum(hook_seconds) / (time.perf_counter() - start))

    def fit_without() -> None:
        model.fit(x_train, y_train, batch_size=TRAIN_BATCH, epochs=1, verbose=0)

    fit_with()  # warm-up: traces the train function and the logger's capture
    fit_without()
    label = f"(c) fit {args.fit_steps} steps: logger every 100 / none"
    rows.append((label, alternate(fit_with, fit_without, args.fit_reps), 1.03))
    share = statistics.median(shares[1:])  # without the warm-up fit
    rows.append(("    logger's own time inside fit / fit time", {"share": share}, None))
    return rows


def instrument(logger: GradientLogger) -> list[float]:
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


def print_table(rows: list[tuple], args: argparse.Namespace) -> None:
    """Prints one line per comparison, with its target."""
    print(
        f"\nGradient capture benchmark: input ({SAMPLES}, {TIMESTEPS}, {FEATURES}), "
        f"LSTM({UNITS}, seq) -> LSTM({UNITS}) -> Dense(1); "
        f"{args.reps} pairs for (a)/(b), {args.fit_reps} for (c); "
        f"TF {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs\n"
    )
    header = (
        f"{'comparison':52} {'A (ms)':>10} {'B (ms)':>10} {'A/B':>7} "
        f"{'A/B cpu':>8} {'target':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, m, target in rows:
        if "share" in m:
            print(f"{label:52} {'':10} {'':10} {m['share']:7.3f}")
            continue
        goal = f"<= {target}" if target is not None else ""
        mark = "" if target is None else ("ok" if m["ratio"] <= target else "MISS")
        print(
            f"{label:52} {m['a'] * 1e3:10.1f} {m['b'] * 1e3:10.1f} "
            f"{m['ratio']:7.3f} {m['cpu_ratio']:8.3f} {goal:>8} {mark}"
        )
    print(
        "\nA/B: median of per-pair wall-clock ratios (the target applies to it); "
        "A/B cpu: the same for process CPU time, less sensitive to other load."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="pairs for (a), (b)")
    parser.add_argument("--fit-reps", type=int, default=5, help="pairs for (c)")
    parser.add_argument("--fit-steps", type=int, default=100, help="steps per fit")
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.fit_reps, args.fit_steps = 3, 1, 30

    rec = Recorder(
        "bench_capture",
        args.quick,
        {
            "reps": args.reps,
            "fit_reps": args.fit_reps,
            "fit_steps": args.fit_steps,
            "input": [SAMPLES, TIMESTEPS, FEATURES],
            "train_batch": TRAIN_BATCH,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    )
    model = build_model()
    with tempfile.TemporaryDirectory(prefix="bench_capture_") as log_dir:
        rows = run(model, args, log_dir)
    print_table(rows, args)
    if args.json:
        rec["rows"] = [{"label": label.strip(), **m} for label, m, _ in rows]
        for label, m, target in rows:
            if target is not None:
                rec.check(label.strip(), m["ratio"], "<=", target, "x")
        rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
