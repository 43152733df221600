"""Benchmark: the weight kinds (issue 14), side by side.

    python -m bench.bench_weights [--quick] [--json OUT]

(a) `model.fit` of 100 steps on the bench_capture model (input (16, 200, 8),
    LSTM(64, seq) -> LSTM(64) -> Dense(1), training batch 64) with
    `GradientLogger(kinds=("gradients", "weights", "weight_gradients"),
    every_n_steps=100)` against the same fit without a logger, and a second
    fit without one as the control (how far apart two identical fits land);
    the three rotated after a warm-up round (bench.timing.interleave), wall
    and process CPU time, target <= 1.03x. The logger's own time inside the
    fit is measured too.
(b) The Weights view of a 256-unit LSTM in headless Chromium (the draw page of
    bench/browser.py): the two 256x1024 matrices, kernel and recurrent kernel
    (input 256), split into their 4 gates with their figures, drawn as one
    heatmap per gate side by side, their colour bars, and the 4 gates'
    histogram stacks of 100 logged steps (30 buckets each, rebinned), up to a
    pixel read-back; target <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.bench_capture import (  # noqa: E402
    SAMPLES,
    TRAIN_BATCH,
    build_model,
    make_data,
    pair,
)
from bench.fit_sides import fit_once, fit_with_logger  # noqa: E402
from bench.timing import Recorder, interleave, spread  # noqa: E402

KINDS = ("gradients", "weights", "weight_gradients")
FIT_LIMIT = 1.03
UNITS, GATES, HISTOGRAM_STEPS = 256, ["i", "f", "c", "o"], 100
DRAW = "Weights view, LSTM(256): kernel + recurrent kernel 256x1024, 4 gates"
DRAW_LIMIT_MS = 50.0


def fit_rows(fit_reps: int, fit_steps: int, log_dir: str) -> dict:
    """(a): the fit with the logger, without, and without again, rotated."""
    from tb_rnngrad.callback import GradientLogger

    model = build_model()
    x_probe, y_probe = make_data(SAMPLES)
    x_train, y_train = make_data(TRAIN_BATCH * fit_steps, seed=1)
    logger = GradientLogger(
        log_dir, data=(x_probe, y_probe), every_n_steps=100, kinds=KINDS
    )
    with_logger, shares = fit_with_logger(model, x_train, y_train, TRAIN_BATCH, logger)

    def without() -> None:
        fit_once(model, x_train, y_train, TRAIN_BATCH)

    raw = interleave(
        {"logger": with_logger, "none": without, "again": without},
        fit_reps,
        warmup=1,
    )
    return {
        "logger": pair(raw["logger"], raw["none"]),
        "control": pair(raw["again"], raw["none"]),
        "logger_share": statistics.median(shares[1:]),
        "fit_steps": fit_steps,
    }


def draw_weights(reps: int) -> dict:
    """(b): ms per build-and-draw of the Weights view."""
    import numpy as np

    from bench.browser import DrawPage

    rng = np.random.default_rng(0)
    with DrawPage() as page:
        for name in ("kernel", "recurrent_kernel"):
            matrix = rng.standard_normal((1, UNITS, 4 * UNITS)).astype("float32")
            page.load(name, matrix)
        names = ["kernel", "recurrent_kernel"]
        raw = interleave(
            {DRAW: lambda: page.draw_weights(names, GATES, HISTOGRAM_STEPS)},
            reps,
            warmup=2,
        )
        version = page.version()
    return {"ms": spread(raw[DRAW]["wall"], 1e3), "chromium": version}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-reps", type=int, default=5, help="rotations for (a)")
    parser.add_argument("--fit-steps", type=int, default=100, help="steps per fit")
    parser.add_argument("--draw-reps", type=int, default=9, help="draws for (b)")
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.fit_reps, args.fit_steps, args.draw_reps = 1, 10, 3
    rec = Recorder(
        "bench_weights",
        args.quick,
        {
            "kinds": list(KINDS),
            "fit_reps": args.fit_reps,
            "fit_steps": args.fit_steps,
            "draw_reps": args.draw_reps,
        },
    )
    rec["draw"] = draw_weights(args.draw_reps)
    with tempfile.TemporaryDirectory(prefix="bench_weights_") as log_dir:
        rec["fit"] = fit_rows(args.fit_reps, args.fit_steps, log_dir)
    fit, label = rec.data["results"]["fit"], f"(a) fit {args.fit_steps} steps"
    target = f"{label}: logger with {' + '.join(KINDS)} every 100 / none"
    rec.check(target, fit["logger"]["ratio"], "<=", FIT_LIMIT, "x")
    rec.check(f"{target}, CPU", fit["logger"]["cpu_ratio"], "<=", FIT_LIMIT, "x")
    draw_ms = rec.data["results"]["draw"]["ms"]["median"]
    rec.check(f"(b) {DRAW}", draw_ms, "<=", DRAW_LIMIT_MS, "ms")
    for c in rec.data["checks"]:
        print(f"{c['target']}: {c['value']:.3f} {c['unit']} {c['op']} {c['limit']}")
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
