"""Logging cost: tb-rnngrad against what TensorBoard users write today.

    python -m bench.compare_logging [--quick] [--json OUT]

Same model, probe batch and process as `bench.bench_capture` (input 16 x 200 x
8 -> LSTM(64, return_sequences=True) -> LSTM(64) -> Dense(1), mse). Sides, run
interleaved (rotated order each repetition) after a warm-up that traces every
tf.function:

- `tb_rnngrad`: one `GradientLogger.log(step)`: d(loss)/d(output) of both LSTM
  layers on the probe batch, written with `tb_rnngrad.summary.gradients` (full
  tensor, per-timestep profile, reach scalar), then a flush;
- `capture only`: `tb_rnngrad.capture.capture` of the same gradients, no write;
- `histogram loop`: the hand-written alternative: a `tf.function` with a
  `tf.GradientTape` over a Keras model that also returns both layers' outputs,
  `tape.gradient(loss, outputs)`, then `tf.summary.histogram` of each gradient
  and a flush. It logs the same gradients, but as 30-bucket histograms: the time
  axis (and every channel) is gone;
- `histogram in tf.function`: the same, with the histogram ops traced into the
  tf.function (faster than eager summary ops, less common in user code);
- `bare fwd+bwd`: the floor: the same tf.function's gradients, copied to NumPy,
  nothing written.

Also reports bytes written per logged step by the two logging sides.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.bench_capture import (  # noqa: E402
    FEATURES,
    SAMPLES,
    TIMESTEPS,
    UNITS,
    build_model,
    make_data,
)
from bench.timing import Recorder, interleave, ratio, summarize  # noqa: E402
from tb_rnngrad.callback import GradientLogger  # noqa: E402
from tb_rnngrad.capture import capture  # noqa: E402

LAYERS = ("lstm_1", "lstm_2")


def output_gradients(model: keras.Model) -> Callable:
    """tf.function: (x, y) -> [d(loss)/d(output) of each layer in LAYERS].

    What a user writes by hand: a model that also returns the layers' outputs,
    a GradientTape, and `tape.gradient(loss, outputs)`.
    """
    probe = keras.Model(
        model.inputs,
        [model.get_layer(name).output for name in LAYERS] + list(model.outputs),
    )

    @tf.function
    def grads(x: tf.Tensor, y: tf.Tensor) -> list:
        with tf.GradientTape() as tape:
            *outputs, y_pred = probe(x, training=False)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred)
        return tape.gradient(loss, outputs)

    return grads


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run(reps: int, workdir: Path) -> dict:
    """Times the four sides; returns the results document's entries."""
    model = build_model()
    x, y = make_data(SAMPLES)
    x_t, y_t = tf.constant(x), tf.constant(y)
    grads = output_gradients(model)

    ours_dir, hist_dir = workdir / "tb_rnngrad", workdir / "histogram"
    graph_dir = workdir / "histogram_fn"
    logger = GradientLogger(
        str(ours_dir), data=(x, y), layers=list(LAYERS), kinds=("gradients",)
    )
    logger.set_model(model)
    logger.on_train_begin()  # traces the capture, writes step 0
    hist_writer = tf.summary.create_file_writer(str(hist_dir))
    graph_writer = tf.summary.create_file_writer(str(graph_dir))
    steps = {"ours": 0, "hist": 0, "graph": 0}

    @tf.function
    def histogram_graph(x: tf.Tensor, y: tf.Tensor, step: tf.Tensor) -> None:
        with graph_writer.as_default(step=step):
            for name, g in zip(LAYERS, grads(x, y), strict=True):
                tf.summary.histogram(f"gradients/{name}", g)

    def ours() -> None:
        steps["ours"] += 1
        logger.log(steps["ours"])

    def capture_only() -> None:
        capture(model, x, y, layers=list(LAYERS))

    def histogram() -> None:
        values = grads(x_t, y_t)
        with hist_writer.as_default(step=steps["hist"]):
            for name, g in zip(LAYERS, values, strict=True):
                tf.summary.histogram(f"gradients/{name}", g)
        hist_writer.flush()
        steps["hist"] += 1

    def histogram_fn() -> None:
        histogram_graph(x_t, y_t, tf.constant(steps["graph"], tf.int64))
        graph_writer.flush()
        steps["graph"] += 1

    def bare() -> None:
        [g.numpy() for g in grads(x_t, y_t)]

    raw = interleave(
        {
            "tb_rnngrad": ours,
            "capture_only": capture_only,
            "histogram": histogram,
            "histogram_fn": histogram_fn,
            "bare": bare,
        },
        reps,
        warmup=2,
    )
    logger.on_train_end()
    hist_writer.close()
    graph_writer.close()
    out = {"sides": summarize(raw)}
    walls = {name: times["wall"] for name, times in raw.items()}
    cpus = {name: times["cpu"] for name, times in raw.items()}
    out["ratios"] = {
        f"{a}/{b}": {"wall": ratio(walls[a], walls[b]), "cpu": ratio(cpus[a], cpus[b])}
        for a, b in (
            ("tb_rnngrad", "bare"),
            ("tb_rnngrad", "histogram"),
            ("tb_rnngrad", "histogram_fn"),
            ("histogram", "bare"),
            ("histogram_fn", "bare"),
            ("capture_only", "bare"),
        )
    }
    logged_ours = len(logger.logged_steps)
    out["bytes_per_step"] = {
        "tb_rnngrad": dir_bytes(ours_dir) / logged_ours,
        "histogram": dir_bytes(hist_dir) / steps["hist"],
        "histogram_fn": dir_bytes(graph_dir) / steps["graph"],
        "steps": {"tb_rnngrad": logged_ours, "histogram": steps["hist"]},
    }
    out["values_per_step"] = sum(SAMPLES * _per_sample(model, n) for n in LAYERS)
    return out


def _per_sample(model: keras.Model, name: str) -> int:
    shape = model.get_layer(name).output.shape[1:]
    count = 1
    for d in shape:
        count *= int(d)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    reps = args.reps or (5 if args.quick else 15)
    rec = Recorder(
        "compare_logging",
        args.quick,
        {
            "reps": reps,
            "input": [SAMPLES, TIMESTEPS, FEATURES],
            "model": f"LSTM({UNITS}, seq) -> LSTM({UNITS}) -> Dense(1), mse",
            "layers": list(LAYERS),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench_logging_") as workdir:
        for key, value in run(reps, Path(workdir)).items():
            rec[key] = value
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
