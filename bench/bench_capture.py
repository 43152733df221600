"""Benchmark: the cost of capturing and logging gradients, side by side.

Run from the repository root:

    python -m bench.bench_capture            # about four minutes on 2 cores
    python -m bench.bench_capture --quick    # a smoke run
    python -m bench.bench_capture --fit-only # (c) alone
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
  (c) model.fit with the default GradientLogger(every_n_steps=100) (kinds
      "gradients" and "state_gradients") vs model.fit without it, and, in
      the same rotation, with a GradientLogger that also logs
      "weight_contributions" (`BPTT_KINDS`, issue 12);
  (d) `capture.capture` with `BPTT_KINDS` vs the bare forward+backward, and
      beside them, in one rotation: each kind alone, `GradientLogger.log` with
      the three kinds (capture + write), and the per-timestep weight-term norms
      alone (the Gram-matrix step of "weight_contributions", on tensors of the
      shapes the capture records), so the table says what costs what.

(c) runs four fits per repetition, rotated: with the default logger, with
one of the three kinds, and twice without (the second, a control, says
how far apart two identical fits land); (d) runs its sides rotated too
(bench.timing).
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

from bench.fit_sides import fit_once, fit_with_logger  # noqa: E402
from bench.keras_model import (  # noqa: E402
    FEATURES,
    SAMPLES,
    TIMESTEPS,
    UNITS,
    build_model,
    make_data,
)
from bench.timing import Recorder, interleave, ratio, spread  # noqa: E402
from tb_rnngrad.callback import GradientLogger  # noqa: E402
from tb_rnngrad.capture import capture  # noqa: E402
from tb_rnngrad.capture.weight_terms import _product_norms  # noqa: E402

TRAIN_BATCH = 64
BPTT_KINDS = ("gradients", "state_gradients", "weight_contributions")
"""The kinds of issue 12's targets: (d) <= 1.5x the bare step, (c) <= 1.03x."""
BPTT_LIMIT = 1.5


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
    a_times, b_times = {"wall": [], "cpu": []}, {"wall": [], "cpu": []}
    for rep in range(reps):
        if rep % 2:
            (wb, cb), (wa, ca) = timed(b), timed(a)
        else:
            (wa, ca), (wb, cb) = timed(a), timed(b)
        for times, wall, cpu in ((a_times, wa, ca), (b_times, wb, cb)):
            times["wall"].append(wall)
            times["cpu"].append(cpu)
    return pair(a_times, b_times)


def pair(a: dict[str, list[float]], b: dict[str, list[float]]) -> dict:
    """Medians and spreads of two sides timed in the same repetitions.

    Args:
        a, b: `{"wall": [seconds per repetition], "cpu": [...]}`, index i of
            each list from repetition i (as `bench.timing.interleave` gives).

    Returns:
        {"a": median wall s, "b": ..., "ratio": median of per-repetition wall
        ratios a/b, "cpu_ratio": the same for process CPU time, "spread":
        medians, quartiles and IQRs of a and b (wall and CPU, ms) and of both
        ratios}.
    """
    ratios, cpu_ratios = ratio(a["wall"], b["wall"]), ratio(a["cpu"], b["cpu"])
    return {
        "a": statistics.median(a["wall"]),
        "b": statistics.median(b["wall"]),
        "ratio": ratios["median"],
        "cpu_ratio": cpu_ratios["median"],
        "spread": {
            "a_ms": spread(a["wall"], 1e3),
            "b_ms": spread(b["wall"], 1e3),
            "a_cpu_ms": spread(a["cpu"], 1e3),
            "b_cpu_ms": spread(b["cpu"], 1e3),
            "ratio": ratios,
            "cpu_ratio": cpu_ratios,
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
    """Runs (a) and (b); returns their table rows."""
    x_probe, y_probe = make_data(SAMPLES)
    x_train, y_train = make_data(TRAIN_BATCH * args.fit_steps, seed=1)
    logger = GradientLogger(
        log_dir, data=(x_probe, y_probe), every_n_steps=100, kinds=("gradients",)
    )
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
    return rows


def fit_rows(model: keras.Model, args: argparse.Namespace, log_dir: str) -> list[tuple]:
    """(c): 100-step fits with each logger and without one, rotated."""
    x_probe, y_probe = make_data(SAMPLES)
    x_train, y_train = make_data(TRAIN_BATCH * args.fit_steps, seed=1)
    loggers = {
        "default": GradientLogger(
            os.path.join(log_dir, "fit_default"), data=(x_probe, y_probe)
        ),
        "bptt": GradientLogger(
            os.path.join(log_dir, "fit_bptt"),
            data=(x_probe, y_probe),
            kinds=BPTT_KINDS,
        ),
    }
    fits, shares = {}, {}
    for name, fit_logger in loggers.items():
        fits[name], shares[name] = fit_with_logger(
            model, x_train, y_train, TRAIN_BATCH, fit_logger
        )

    def fit_without() -> None:
        fit_once(model, x_train, y_train, TRAIN_BATCH)

    # The warm-up round traces the train function and each logger's capture.
    # "again" is the fit without a logger once more: its ratio to "none" is
    # what the comparison reads when nothing differs (its resolution).
    raw = interleave(
        {
            "default": fits["default"],
            "bptt": fits["bptt"],
            "none": fit_without,
            "again": fit_without,
        },
        args.fit_reps,
        warmup=1,
    )
    steps = args.fit_steps
    own = "    logger's own time inside fit / fit time"
    return [
        (
            f"    control: fit {steps} steps without logger / the same again",
            pair(raw["again"], raw["none"]),
            None,
        ),
        (
            f"(c) fit {steps} steps: default logger every 100 / none",
            pair(raw["default"], raw["none"]),
            1.03,
        ),
        (own, {"share": statistics.median(shares["default"][1:])}, None),
        (
            f"(c) fit {steps} steps: logger with {' + '.join(BPTT_KINDS)} "
            "every 100 / none",
            pair(raw["bptt"], raw["none"]),
            1.03,
        ),
        (own, {"share": statistics.median(shares["bptt"][1:])}, None),
    ]


def weight_norms_alone(model: keras.Model) -> Callable[[], object]:
    """The last step of "weight_contributions" alone: per timestep, the norm
    per gate of x_t^T dz_t, h_{t-1}^T dz_t and the batch sum of dz_t for each
    LSTM (the library's `_product_norms`: Gram matrices where the batch is the
    smaller side), on random tensors of the shapes the capture records."""
    rng = np.random.default_rng(2)

    def normal(*shape: int) -> tf.Tensor:
        return tf.constant(rng.standard_normal(shape).astype("float32"))

    factors = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.LSTM):
            cell = layer.cell
            rows, width = cell.kernel.shape[0], cell.bias.shape[0]
            dz = normal(TIMESTEPS, SAMPLES, width)
            factors.append((normal(TIMESTEPS, SAMPLES, rows), dz))
            factors.append((normal(TIMESTEPS, SAMPLES, cell.units), dz))
            factors.append((None, dz))

    @tf.function
    def norms() -> list[tf.Tensor]:
        return [_product_norms(left, dz, 4) for left, dz in factors]

    return lambda: [n.numpy() for n in norms()]


#: (d)'s sides: name -> (label, kinds of `capture.capture`, or None).
BPTT_SIDES = {
    "bare": ("floor: bare fwd+bwd (weight gradients)", None),
    "gradients": ("`capture`, gradients", ("gradients",)),
    "state_gradients": ("`capture`, state_gradients", ("state_gradients",)),
    "weight_contributions": (
        "`capture`, weight_contributions",
        ("weight_contributions",),
    ),
    "all": ("`capture`, the three kinds", BPTT_KINDS),
    "log": ("`GradientLogger.log`, the three kinds (capture + write)", BPTT_KINDS),
    "norms": ("weight-term norms alone (products and Gram matrices)", None),
}


def bptt_sides(model: keras.Model, reps: int, log_dir: str) -> dict:
    """(d): capture with issue 12's kinds, each kind alone and their parts,
    each against the bare forward+backward, all in one rotation."""
    x, y = make_data(SAMPLES)
    bare = bare_forward_backward(model)
    x_t, y_t = tf.constant(x), tf.constant(y)
    logger = GradientLogger(
        os.path.join(log_dir, "bptt"), data=(x, y), kinds=BPTT_KINDS
    )
    logger.set_model(model)
    logger.on_train_begin()
    step = iter(range(1, 1_000_000))
    sides = {
        "bare": lambda: [g.numpy() for g in bare(x_t, y_t)],
        **{
            name: (lambda kinds=kinds: capture(model, x, y, kinds=kinds))
            for name, (_, kinds) in BPTT_SIDES.items()
            if kinds is not None and name != "log"
        },
        "log": lambda: logger.log(next(step)),
        "norms": weight_norms_alone(model),
    }
    raw = interleave(sides, reps, warmup=2)
    logger.on_train_end()
    return {
        "kinds": list(BPTT_KINDS),
        "reps": reps,
        "sides": {
            name: {
                "label": BPTT_SIDES[name][0],
                "ms": spread(raw[name]["wall"], 1e3),
                "cpu_ms": spread(raw[name]["cpu"], 1e3),
            }
            for name in BPTT_SIDES
        },
        "ratios": {
            name: {
                "wall": ratio(raw[name]["wall"], raw["bare"]["wall"]),
                "cpu": ratio(raw[name]["cpu"], raw["bare"]["cpu"]),
            }
            for name in BPTT_SIDES
            if name != "bare"
        },
    }


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


def print_bptt(bptt: dict) -> None:
    """Prints (d): each side's times and its ratios to the bare step."""
    print(
        f"\n(d) capture kinds vs bare fwd+bwd, {bptt['reps']} rotations "
        f"(target: the three kinds <= {BPTT_LIMIT}x)\n"
    )
    header = f"{'side':60} {'wall ms':>9} {'CPU ms':>9} {'/bare':>7} {'/bare cpu':>9}"
    print(header)
    print("-" * len(header))
    for name, side in bptt["sides"].items():
        got = bptt["ratios"].get(name)
        wall = f"{got['wall']['median']:7.3f}" if got else ""
        cpu = f"{got['cpu']['median']:9.3f}" if got else ""
        print(
            f"{side['label']:60} {side['ms']['median']:9.1f} "
            f"{side['cpu_ms']['median']:9.1f} {wall:>7} {cpu:>9}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="pairs for (a), (b)")
    parser.add_argument("--fit-reps", type=int, default=5, help="pairs for (c)")
    parser.add_argument("--fit-steps", type=int, default=100, help="steps per fit")
    parser.add_argument("--bptt-reps", type=int, default=25, help="rotations for (d)")
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--fit-only", action="store_true", help="(c) alone")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.fit_reps, args.fit_steps, args.bptt_reps = 3, 1, 10, 3

    rec = Recorder(
        "bench_capture",
        args.quick,
        {
            "reps": args.reps,
            "fit_reps": args.fit_reps,
            "fit_steps": args.fit_steps,
            "bptt_reps": args.bptt_reps,
            "input": [SAMPLES, TIMESTEPS, FEATURES],
            "train_batch": TRAIN_BATCH,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    )
    model = build_model()
    bptt = None
    with tempfile.TemporaryDirectory(prefix="bench_capture_") as log_dir:
        rows = [] if args.fit_only else run(model, args, log_dir)
        if not args.fit_only:
            bptt = bptt_sides(model, args.bptt_reps, log_dir)
            print_bptt(bptt)
        rows += fit_rows(model, args, log_dir)
    print_table(rows, args)
    if args.json:
        rec["rows"] = [{"label": label.strip(), **m} for label, m, _ in rows]
        if bptt is not None:
            rec["bptt"] = bptt
            label = f"(d) `capture`, kinds {' + '.join(BPTT_KINDS)} / bare fwd+bwd"
            ratios = bptt["ratios"]["all"]
            rec.check(label, ratios["wall"]["median"], "<=", BPTT_LIMIT, "x")
            rec.check(f"{label}, CPU", ratios["cpu"]["median"], "<=", BPTT_LIMIT, "x")
        for label, m, target in rows:
            if target is not None:
                rec.check(label.strip(), m["ratio"], "<=", target, "x")
                if label.startswith("(c)"):  # fits at load: CPU too
                    rec.check(
                        f"{label.strip()}, CPU", m["cpu_ratio"], "<=", target, "x"
                    )
        rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
